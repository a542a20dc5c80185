//! The fast path for a JSON include (`graph_file: flows/x.json`): read in one pass into the
//! compact text its content is made of, never into a tree.
//!
//! Editors export large graphs as JSON, and the YAML parser, which keeps a position for every
//! value, reads them several times slower. The YAML path stays the reference: a file with a
//! `$` in a string (it may hold `${...}`, whose problems are reported at their line), with a
//! key written twice (reported at the second one), with an integer beyond 64 bits (refused
//! there), or whose value is not a mapping (refused there unless its field takes any value),
//! goes through it (read to that tree by `yaml::parse_json`, not by the
//! YAML parser).

use crate::text::json_text::{self, JsonText};

/// What reading a JSON include gave.
#[derive(Debug)]
pub enum JsonInclude {
    /// The file's mapping, as text.
    Text(JsonText),
    /// The file is JSON, but only the YAML path reads it right (see the module's note).
    NeedsYamlPath,
}

/// Parses `text`; a syntax error is serde_json's, with its line and column.
pub fn parse(text: &str) -> Result<JsonInclude, serde_json::Error> {
    let path = classify(text)?;
    // The reference path is the YAML one; serde_json has still checked the syntax.
    if super::reference_readers() {
        return Ok(JsonInclude::NeedsYamlPath);
    }
    Ok(path)
}

/// Which path `text` takes without the switch.
fn classify(text: &str) -> Result<JsonInclude, serde_json::Error> {
    let read = json_text::read(text)?;
    Ok(
        if read.dollar || read.duplicate_key || read.huge_integer || !read.is_object {
            JsonInclude::NeedsYamlPath
        } else {
            JsonInclude::Text(read)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(text: &str) -> bool {
        matches!(classify(text), Ok(JsonInclude::Text(_)))
    }

    #[test]
    fn a_plain_graph_takes_the_fast_path_with_its_members_in_order() {
        let text = r#"{"nodes": [{"id": "n1", "x": 1.5, "on": true, "n": null}], "edges": []}"#;
        let Ok(JsonInclude::Text(read)) = classify(text) else {
            panic!("expected the fast path");
        };
        assert_eq!(
            read.compact,
            r#"{"nodes":[{"id":"n1","x":1.5,"on":true,"n":null}],"edges":[]}"#
        );
        // A `$` in a key is not interpolated on either path.
        assert!(fast(r#"{"$schema": "x"}"#));
    }

    #[test]
    fn what_only_the_yaml_path_reads_right_is_sent_there() {
        for text in [
            r#"{"prompt": "call ${agent:x}"}"#,
            r#"{"prompt": "costs $5"}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"n": [{"k": 1, "k": 1}]}"#,
            r#"{"big": 18446744073709551615}"#,
            r#"[{"id": "n1"}]"#,
        ] {
            assert!(
                matches!(classify(text), Ok(JsonInclude::NeedsYamlPath)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_syntax_error_says_where() {
        let err = classify("{\n  \"a\": 1,\n}").expect_err("a trailing comma");
        assert_eq!((err.line(), err.column()), (3, 1));
        assert!(classify("{} {}").is_err(), "trailing content is refused");
    }
}
