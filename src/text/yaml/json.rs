//! JSON text -> the tree of [`Node`]s that [`super::parse`] gives for it, without the YAML
//! parser: a JSON file read through the YAML path (a graph file with `${...}` to interpolate)
//! is typically a large one, and the YAML parser reads it some twenty times slower.
//!
//! The tree is the same value for value and position for position (a property test compares
//! both parsers), so problems found in it read the same either way. The text is expected to be
//! JSON already checked by `serde_json`; anything else is still refused with a position.

use super::{
    Entry, LineAt, MAX_DEPTH, MAX_NODES, Node, Span, Value, YamlError, resolve_plain, span_on_line,
};

/// Parses a JSON text as [`super::parse`] would. `Ok(None)` for a text of only whitespace.
pub fn parse_json(source: &str) -> Result<Option<Node>, YamlError> {
    if crate::text::reference_readers() {
        return super::parse(source);
    }
    read(source)
}

/// The fast reader itself (what [`parse_json`] is without the switch).
fn read(source: &str) -> Result<Option<Node>, YamlError> {
    let mut reader = Reader {
        text: source,
        bytes: source.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
        depth: 0,
        nodes: 0,
    };
    reader.skip_whitespace();
    if reader.at == reader.bytes.len() {
        return Ok(None);
    }
    let root = reader.value()?;
    reader.skip_whitespace();
    if reader.at < reader.bytes.len() {
        return Err(reader.syntax("a file holds one JSON value, but more follows it"));
    }
    Ok(Some(root))
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    /// The line `at` is on (1-based), and where it starts: JSON has line breaks only between
    /// tokens, so no token spans two lines.
    line: usize,
    line_start: usize,
    depth: usize,
    nodes: usize,
}

impl Reader<'_> {
    fn skip_whitespace(&mut self) {
        while let Some(&byte) = self.bytes.get(self.at) {
            match byte {
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                _ => break,
            }
        }
    }

    /// The span of the token from `start` to `self.at`, on the current line.
    fn span(&self, start: usize) -> Span {
        let line = LineAt {
            start: self.line_start,
            ascii: 0,
            number: self.line,
        };
        span_on_line(self.text, line, start, self.at)
    }

    fn syntax(&self, message: &str) -> YamlError {
        YamlError::Syntax {
            message: message.to_owned(),
            span: self.span(self.at),
        }
    }

    fn counted(&mut self, node: Node) -> Result<Node, YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError::TooLarge { span: node.span });
        }
        Ok(node)
    }

    fn value(&mut self) -> Result<Node, YamlError> {
        let start = self.at;
        match self.bytes.get(start) {
            Some(b'{') => self.collection(start, b'}', true),
            Some(b'[') => self.collection(start, b']', false),
            Some(b'"') => {
                let text = self.string()?;
                let node = Node {
                    value: Value::String(text),
                    span: self.span(start),
                };
                self.counted(node)
            }
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
                {
                    self.at += 1;
                }
                let word = &self.text[start..self.at];
                if !matches!(word, "true" | "false" | "null") && !is_json_number(word) {
                    self.at = start;
                    return Err(self.syntax("expected a JSON value"));
                }
                let span = self.span(start);
                let Some(value) = resolve_plain(word) else {
                    let text = word.to_owned();
                    return Err(YamlError::IntegerTooLarge { text, span });
                };
                let node = Node { value, span };
                self.counted(node)
            }
            _ => Err(self.syntax("expected a JSON value")),
        }
    }

    /// A mapping (`object`) or a list, from its opening bracket at `start`.
    fn collection(&mut self, start: usize, close: u8, object: bool) -> Result<Node, YamlError> {
        self.at += 1;
        let span = self.span(start);
        if self.depth >= MAX_DEPTH {
            return Err(YamlError::TooDeep { span });
        }
        self.depth += 1;
        let mut entries: Vec<Entry> = Vec::new();
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.bytes.get(self.at) == Some(&close) {
            self.at += 1;
        } else {
            loop {
                if object {
                    let entry = self.entry(&entries)?;
                    entries.push(entry);
                } else {
                    items.push(self.value()?);
                }
                self.skip_whitespace();
                match self.bytes.get(self.at) {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_whitespace();
                    }
                    Some(&byte) if byte == close => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.syntax("expected a comma or the end of the collection")),
                }
            }
        }
        self.depth -= 1;
        let value = if object {
            Value::Map(entries)
        } else {
            Value::Seq(items)
        };
        self.counted(Node { value, span })
    }

    /// One `"name": value` of an object whose entries so far are `entries`.
    fn entry(&mut self, entries: &[Entry]) -> Result<Entry, YamlError> {
        let start = self.at;
        if self.bytes.get(start) != Some(&b'"') {
            return Err(self.syntax("expected a member name in quotes"));
        }
        let key = self.string()?;
        let key_span = self.span(start);
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError::TooLarge { span: key_span });
        }
        if let Some(first) = entries.iter().find(|e| e.key == key) {
            return Err(YamlError::DuplicateKey {
                key,
                first_line: first.key_span.line,
                span: key_span,
            });
        }
        self.skip_whitespace();
        if self.bytes.get(self.at) != Some(&b':') {
            return Err(self.syntax("expected a colon after the member name"));
        }
        self.at += 1;
        self.skip_whitespace();
        let value = self.value()?;
        Ok(Entry {
            key,
            key_span,
            value,
        })
    }

    /// A string from its opening quote at `self.at`, unescaped; `self.at` ends after it.
    fn string(&mut self) -> Result<String, YamlError> {
        let start = self.at;
        let mut escaped = false;
        let mut at = start + 1;
        loop {
            match self.bytes.get(at) {
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    at += 2;
                }
                Some(b'\n') | None => {
                    return Err(self.syntax("a string is not closed on its line"));
                }
                Some(_) => at += 1,
            }
        }
        self.at = at + 1;
        let quoted = &self.text[start..self.at];
        if !escaped {
            return Ok(quoted[1..quoted.len() - 1].to_owned());
        }
        serde_json::from_str(quoted).map_err(|err| YamlError::Syntax {
            message: err.to_string(),
            span: self.span(start),
        })
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
fn is_json_number(word: &str) -> bool {
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = word.strip_prefix('-').unwrap_or(word);
    let int = digits(rest);
    if int == 0 || (int > 1 && rest.starts_with('0')) {
        return false;
    }
    let mut rest = &rest[int..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = digits(fraction);
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        let n = digits(exponent);
        if n == 0 {
            return false;
        }
        rest = &exponent[n..];
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_json_file_reads_as_the_yaml_parser_reads_it() {
        let text = "{\n  \"nodes\": [\n    {\"id\": \"n1\", \"x\": 1.5, \"n\": -0, \"big\": 18446744073709551616,\n     \"on\": true, \"off\": null, \"é\": \"\\u00e9\\n\\\"\"}\n  ],\n  \"edges\": [], \"e\": {}\n}\n";
        assert_eq!(read(text), super::super::parse_with_yaml_parser(text));
        assert_eq!(read(" \n"), Ok(None));
    }

    #[test]
    fn a_name_written_twice_is_the_error_the_yaml_parser_gives() {
        let text = "{\"a\": 1,\n \"b\": {\"c\": 2,\n  \"c\": 3}}";
        let json = read(text).unwrap_err();
        assert_eq!(
            json,
            super::super::parse_with_yaml_parser(text).unwrap_err()
        );
        assert!(matches!(
            json,
            YamlError::DuplicateKey { first_line: 2, .. }
        ));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(read(&deep), Err(YamlError::TooDeep { .. })));
        let deepest = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(read(&deepest).is_ok());
    }

    #[test]
    fn what_is_not_json_is_refused_with_a_position() {
        for text in [
            "{\"a\" 1}",
            "[1,]",
            "[01]",
            "{\"a\": tru}",
            "[1] 2",
            "\"open",
        ] {
            let err = read(text).expect_err(text);
            assert!(matches!(err, YamlError::Syntax { .. }), "{text}: {err:?}");
        }
    }

    proptest! {
        #[test]
        fn any_json_text_reads_as_the_yaml_parser_reads_it(
            value in crate::arbitrary::json_value(
                "[a-z\u{e9}\"]{0,4}",
                "[a-z $\u{e9}\u{1f916}\"\\\\\n\t\u{1}]{0,12}",
            ),
            pretty in any::<bool>(),
        ) {
            let text = crate::arbitrary::json_text(&value, pretty);
            prop_assert_eq!(read(&text), super::super::parse_with_yaml_parser(&text));
        }
    }
}
