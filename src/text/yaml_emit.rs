//! JSON values -> YAML text that [`crate::text::yaml::parse`] reads back as the same values.
//!
//! `export` writes definitions with this emitter, so what it writes must load as exactly what
//! the platform holds. The rules, each one a way a scalar could otherwise read back differently:
//!
//! - A string is written plain only when the core schema reads it back as that same string, and
//!   when YAML 1.1 tools (many editors) would too: `yes`, `null`, `1.0`, `0x1F`, `12:30`, `~`,
//!   a leading indicator (`-?:,[]{}#&*!|>'"%@` and the backquote), `: ` or ` #` inside, leading
//!   or trailing blanks, and anything not printable are all double-quoted instead.
//! - A string with line breaks is a `|` literal block with the chomping indicator that keeps
//!   its trailing newlines exactly (`|-` none, `|` one, `|+` more), and an indentation indicator
//!   when its first line starts with a space. Strings whose lines cannot be shown literally
//!   (carriage returns, Unicode line separators, control characters) are double-quoted with
//!   escapes.
//! - Keys follow the string rules (a key `1.0` must be quoted: read plain it is a float).
//! - Numbers are written as `serde_json` writes them (`1.0` stays a float, `30` an integer).
//!
//! Collections are always in block style, indented by two spaces; empty ones are `{}` and `[]`.
//! A property test (below, and in `export`) holds that parse(emit(v)) == v.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::text::yaml;

/// Indentation step of nested collections.
const INDENT: usize = 2;

/// Keys longer than this are written as explicit keys (`? key`): YAML limits implicit keys to
/// 1024 characters.
const MAX_IMPLICIT_KEY: usize = 1000;

/// A whole document whose top level is `root`, after `header` comment lines (each written as
/// `# line`). `comments` puts a trailing comment after the top-level entry of that key, when its
/// value fits on the key's line.
pub fn document(header: &[String], root: &Map<String, Value>, comments: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for line in header {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    if root.is_empty() {
        out.push_str("{}\n");
        return out;
    }
    for (key, value) in root {
        let comment = comments
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, comment)| *comment);
        entry(&mut out, key, value, 0, comment);
    }
    out
}

/// Any value as a document (a scalar or a collection at the top level).
pub fn to_string(value: &Value) -> String {
    match value {
        Value::Object(map) => document(&[], map, &[]),
        Value::Array(items) if !items.is_empty() => {
            let mut out = String::new();
            sequence(&mut out, items, 0);
            out
        }
        // A top-level block scalar would need an indentation of its own; a quoted string is
        // always correct here.
        Value::String(text) => format!("{}\n", inline_string(text)),
        other => format!("{}\n", inline(other).unwrap_or_default()),
    }
}

/// One mapping entry at `indent`, with everything under it.
fn entry(out: &mut String, key: &str, value: &Value, indent: usize, comment: Option<&str>) {
    let pad = " ".repeat(indent);
    if key.chars().count() > MAX_IMPLICIT_KEY {
        let _ = write!(out, "{pad}? {}\n{pad}:", quoted(key));
    } else {
        let _ = write!(out, "{pad}{}:", key_text(key));
    }
    after_indicator(out, value, indent, comment);
}

/// A value after `key:` or `-` (the indicator's column is `indent`): on the same line when it
/// is a scalar or an empty collection, below it otherwise.
fn after_indicator(out: &mut String, value: &Value, indent: usize, comment: Option<&str>) {
    let child = indent + INDENT;
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            mapping(out, map, child);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, child);
        }
        Value::String(text) if literal_block_fits(text) => literal_block(out, text, child),
        other => {
            out.push(' ');
            match other {
                Value::String(text) => out.push_str(&inline_string(text)),
                other => out.push_str(&inline(other).unwrap_or_default()),
            }
            if let Some(comment) = comment {
                out.push_str("  # ");
                out.push_str(comment);
            }
            out.push('\n');
        }
    }
}

fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        entry(out, key, value, indent, None);
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            // A collection inside a sequence starts on the dash's line: written one level
            // deeper, then its first indentation is replaced by the dash.
            Value::Object(map) if !map.is_empty() => {
                let mut nested = String::new();
                mapping(&mut nested, map, indent + INDENT);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&nested[indent + INDENT..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut nested = String::new();
                sequence(&mut nested, inner, indent + INDENT);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&nested[indent + INDENT..]);
            }
            other => {
                out.push_str(&pad);
                out.push('-');
                after_indicator(out, other, indent, None);
            }
        }
    }
}

/// A scalar or an empty collection on one line; `None` for a non-empty collection.
fn inline(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text) => inline_string(text),
        Value::Array(items) if items.is_empty() => "[]".to_string(),
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

fn inline_string(text: &str) -> String {
    if plain_safe(text) {
        text.to_string()
    } else {
        quoted(text)
    }
}

fn key_text(key: &str) -> String {
    inline_string(key)
}

/// Words that YAML 1.1 reads as booleans or null, or that merge keys use: the core schema
/// reads them as strings, but editors and other tools may not.
const YAML11_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF", "<<", "=",
];

/// Characters that may not start a plain scalar (or that make it ambiguous).
const INDICATORS: &[char] = &[
    '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`',
];

/// Whether `text` written plain reads back as the same string, in YAML 1.2 and 1.1 alike.
pub fn plain_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if INDICATORS.contains(&first)
        || first == ' '
        || text.ends_with(' ')
        || text.ends_with(':')
        || text.contains(": ")
        || text.contains(" #")
        || text.starts_with("...")
        || YAML11_WORDS.contains(&text)
        || looks_numeric(text)
        || !text.chars().all(|c| c == ' ' || printable_in_plain(c))
    {
        return false;
    }
    matches!(yaml::resolve_plain(text), Some(yaml::Value::String(ref s)) if s == text)
}

/// Numbers, dates and times as any YAML version might read them: `1_000`, `0b101`, `12:30`,
/// `2024-01-31`, `.5`, `+1`.
fn looks_numeric(text: &str) -> bool {
    let first = text.chars().next().unwrap_or(' ');
    (first.is_ascii_digit() || matches!(first, '+' | '-' | '.'))
        && text
            .chars()
            .all(|c| c.is_ascii_hexdigit() || "xXoO_.:+-eE".contains(c))
}

/// A character that may appear in a plain scalar as itself: visible ASCII, or a visible
/// non-ASCII character (no control, no line or paragraph separator, no byte-order mark, no
/// Unicode blank that a parser might trim).
fn printable_in_plain(c: char) -> bool {
    match c {
        '\u{21}'..='\u{7e}' => true,
        c if c.is_ascii() => false,
        c => printable_non_ascii(c) && !c.is_whitespace(),
    }
}

fn printable_non_ascii(c: char) -> bool {
    !matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    ) && !c.is_control()
}

/// A double-quoted scalar: always correct, on one line, with escapes for what is not printable.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            ' ' => out.push(' '),
            c if c.is_ascii() && !c.is_ascii_graphic() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if !c.is_ascii() && !printable_non_ascii(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a string is best shown as a literal block: it has line breaks, and every character
/// shows as itself in one (tabs included; carriage returns and separators would break lines).
fn literal_block_fits(text: &str) -> bool {
    text.contains('\n')
        && text.lines().any(|line| !line.trim().is_empty())
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || c == ' ' || printable_in_block(c))
}

fn printable_in_block(c: char) -> bool {
    match c {
        '\u{21}'..='\u{7e}' => true,
        c if c.is_ascii() => false,
        c => printable_non_ascii(c) && c != '\u{85}',
    }
}

/// `|`, `|-` or `|+` and the lines, each indented by `indent` (empty lines stay empty).
fn literal_block(out: &mut String, text: &str, indent: usize) {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    let chomping = match trailing {
        0 => "-",
        1 => "",
        _ => "+",
    };
    let lines: Vec<&str> = body.split('\n').collect();
    // Auto-detection takes the indentation from the first line with content; a first line that
    // starts with a space, or a blank line before it, needs the indentation said explicitly.
    let first_content = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let explicit = lines[first_content].starts_with(' ')
        || lines[..first_content].iter().any(|l| !l.is_empty());
    out.push_str(" |");
    if explicit {
        let _ = write!(out, "{INDENT}");
    }
    out.push_str(chomping);
    out.push('\n');
    let pad = " ".repeat(indent);
    for line in &lines {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The tree `yaml::parse` makes, as JSON (the way the definition loader converts it).
    fn read_back(text: &str) -> Value {
        let node = yaml::parse(text)
            .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
            .expect("a document");
        to_json(&node)
    }

    fn to_json(node: &yaml::Node) -> Value {
        match &node.value {
            yaml::Value::Null => Value::Null,
            yaml::Value::Bool(b) => Value::Bool(*b),
            yaml::Value::Int(i) => json!(i),
            yaml::Value::Float(f) => json!(f),
            yaml::Value::String(s) => Value::String(s.clone()),
            yaml::Value::Json(text) => serde_json::from_str(text).expect("JSON text"),
            yaml::Value::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
            yaml::Value::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), to_json(&e.value)))
                    .collect(),
            ),
        }
    }

    fn round_trips(value: &Value) {
        let doc = json!({ "v": value });
        let text = to_string(&doc);
        assert_eq!(read_back(&text), doc, "\n---\n{text}");
    }

    #[test]
    fn ambiguous_words_are_quoted_and_read_back_as_strings() {
        for word in [
            "yes",
            "no",
            "on",
            "off",
            "y",
            "null",
            "Null",
            "~",
            "true",
            "False",
            "1.0",
            "1",
            "-1",
            "0x1F",
            "0o17",
            ".inf",
            "-.inf",
            ".nan",
            "1e3",
            "12:30",
            "2024-01-31",
            "1_000",
            "",
            "<<",
        ] {
            assert!(!plain_safe(word), "{word}");
            round_trips(&json!(word));
        }
    }

    #[test]
    fn indicators_comments_and_colons_are_quoted() {
        for text in [
            "*alias",
            "&anchor",
            "!tag",
            "%dir",
            "@at",
            "`tick",
            "- item",
            "-lead",
            "? q",
            "key: v",
            "a #b",
            "trailing:",
            " lead",
            "trail ",
            "[x]",
            "{x}",
            "'q'",
            "\"q\"",
            "|",
            ">",
            "#",
            "...",
            "---",
        ] {
            assert!(!plain_safe(text), "{text}");
            round_trips(&json!(text));
        }
    }

    #[test]
    fn ordinary_text_and_unicode_stay_plain() {
        for text in [
            "Support Bot",
            "a:b",
            "a#b",
            "🎧",
            "Bienvenue à bord",
            "日本語",
            "x-1",
        ] {
            assert!(plain_safe(text), "{text}");
            round_trips(&json!(text));
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_with_the_right_chomping() {
        let cases = [
            ("one\ntwo", "|-"),
            ("one\ntwo\n", "|"),
            ("one\ntwo\n\n", "|+"),
            ("  indented\nnext", "|2-"),
            ("\n\nafter blank lines", "|-"),
            ("tab\tinside\n\tleading tab", "|-"),
        ];
        for (text, header) in cases {
            let out = to_string(&json!({ "v": text }));
            assert!(
                out.starts_with(&format!("v: {header}\n")),
                "{text:?}:\n{out}"
            );
            round_trips(&json!(text));
            round_trips(&json!([text, {"k": text}]));
        }
    }

    #[test]
    fn strings_a_block_cannot_show_are_escaped() {
        for text in [
            "a\r\nb",
            "line\u{2028}sep",
            "bell\u{7}",
            "nul\0",
            "bom\u{feff}",
            "\n",
            "\n\n",
        ] {
            round_trips(&json!(text));
        }
        assert_eq!(quoted("a\"b\\c\u{7}"), r#""a\"b\\c\x07""#);
    }

    #[test]
    fn keys_that_would_change_type_are_quoted() {
        let doc = json!({"1.0": 1, "null": 2, "yes": 3, "": 4, "a: b": 5, "plain": 6});
        let text = to_string(&doc);
        assert!(text.contains("\"1.0\": 1"), "{text}");
        assert!(text.contains("plain: 6"), "{text}");
        assert_eq!(read_back(&text), doc);
        let long = "k".repeat(1500);
        let doc = json!({ long: "v" });
        assert_eq!(read_back(&to_string(&doc)), doc);
    }

    #[test]
    fn nested_collections_and_empty_ones_keep_their_shape() {
        round_trips(&json!({
            "nodes": [
                {"id": "a", "data": {"prompt": "hi\nthere\n", "list": [[1, 2], [], {}]}},
                [[["deep"]]],
                {},
                [],
                null,
                1.5,
                -0.0,
                false,
            ],
            "empty": {},
        }));
    }

    #[test]
    fn a_header_and_comments_are_written_as_comments() {
        let root = json!({"kind": "agent", "publish": false});
        let text = document(
            &["yaml-language-server: $schema=x.json".into()],
            root.as_object().unwrap(),
            &[("publish", "the draft is ahead of the live version")],
        );
        assert_eq!(
            text,
            "# yaml-language-server: $schema=x.json\nkind: agent\npublish: false  # the draft is ahead of the live version\n"
        );
        assert_eq!(read_back(&text), root);
    }

    /// Any JSON value without floats that YAML cannot keep apart (integers stay integers).
    pub(crate) fn any_json() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "\\PC{0,12}",
            "[ -~\\n\\t]{0,24}",
            prop::sample::select(vec![
                "yes",
                "null",
                "1.0",
                "~",
                "*x",
                "a: b",
                "b #c",
                "\n",
                " x\ny ",
                "- z",
                "\u{2028}",
                "\r\n",
                "é\n\n",
                "0x10",
                "12:30",
                "${env:X}",
                "{{#sys.query#}}",
                "---",
            ])
            .prop_map(str::to_string),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
            text.clone().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((text.clone(), inner), 0..5)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back_as_the_same_value(value in any_json()) {
            let doc = json!({ "v": value });
            let text = to_string(&doc);
            prop_assert_eq!(read_back(&text), doc, "\n---\n{}", text);
        }

        #[test]
        fn any_string_reads_back_unchanged(text in "\\PC*|[\\s\\S]{0,40}") {
            let doc = json!({ "k": text.clone(), text.clone(): [text.clone()] });
            let written = to_string(&doc);
            prop_assert_eq!(read_back(&written), doc, "\n---\n{}", written);
        }
    }
}
