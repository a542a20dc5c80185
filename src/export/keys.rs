//! Keys for exported agents: slugs of their names (or codes), never clashing with a key or a
//! file that is already taken.

use std::collections::BTreeSet;

use crate::model::{Key, MAX_KEY_LEN};

/// What a key is made from when an agent has none yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyFrom {
    /// The agent's name, as people know it.
    #[default]
    Name,
    /// The platform's short code for the agent, where it has one.
    Code,
}

/// Used when a name has no ASCII letter or digit at all (`"🤖"`, `"日本語"`).
const FALLBACK: &str = "agent";

/// Room kept for a `-N` suffix, so that a de-duplicated key stays within the limit.
const SUFFIX_ROOM: usize = 5;

/// `text` as a key: ASCII letters and digits lowercased, every other run of characters one dash,
/// no dash at either end, short enough for a suffix.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    slug.truncate(MAX_KEY_LEN - SUFFIX_ROOM);
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        FALLBACK.to_string()
    } else {
        slug.to_string()
    }
}

/// The first of `base`, `base-2`, `base-3`, ... that `free` accepts; it is then taken.
pub fn unique(base: &str, taken: &mut BTreeSet<Key>, free: impl Fn(&Key) -> bool) -> Key {
    let mut n = 1usize;
    loop {
        let text = if n == 1 {
            base.to_string()
        } else {
            format!("{base}-{n}")
        };
        n += 1;
        // `base` comes from `slugify`, so it parses; the fallback keeps this total anyway.
        let Ok(key) = Key::parse(&text) else {
            return unique(FALLBACK, taken, free);
        };
        if !taken.contains(&key) && free(&key) {
            taken.insert(key.clone());
            return key;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_become_lowercase_dashed_slugs() {
        assert_eq!(slugify("Support Bot"), "support-bot");
        assert_eq!(
            slugify("  Billing -- Assistant (v2) "),
            "billing-assistant-v2"
        );
        assert_eq!(slugify("Crème brûlée"), "cr-me-br-l-e");
        assert_eq!(slugify("🤖"), "agent");
        assert_eq!(slugify("AGENT_CODE_01"), "agent-code-01");
    }

    #[test]
    fn taken_keys_get_a_numbered_suffix() {
        let mut taken = BTreeSet::from([Key::parse("bot").unwrap()]);
        assert_eq!(unique("bot", &mut taken, |_| true).as_str(), "bot-2");
        assert_eq!(unique("bot", &mut taken, |_| true).as_str(), "bot-3");
        assert_eq!(
            unique("new", &mut taken, |k| k.as_str() != "new").as_str(),
            "new-2"
        );
    }

    proptest! {
        #[test]
        fn every_slug_is_a_valid_key(text in "\\PC{0,120}") {
            let slug = slugify(&text);
            prop_assert!(Key::parse(&slug).is_ok(), "{slug}");
            let suffixed = format!("{slug}-9999");
            prop_assert!(Key::parse(&suffixed).is_ok(), "{}", suffixed);
        }
    }
}
