//! YAML text -> a tree of [`Node`]s that remember where they stand in the source.
//!
//! Definitions and the configuration are checked against this tree, not deserialized straight
//! into structs, so that every problem in a file can be reported (not only the first) and each
//! one can point at its line and column.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as ParserSpan};

mod common;
mod json;

pub use json::parse_json;

/// Nesting deeper than this is refused: real definitions stay far below it, and a hostile file
/// must not exhaust the stack of whatever walks the tree later.
pub const MAX_DEPTH: usize = 256;

/// Alias expansion may not grow a document beyond this many nodes ("billion laughs").
pub const MAX_NODES: usize = 2_000_000;

/// Where a node stands: a byte range into the source, and the human position of its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Byte offset of the first character.
    pub offset: usize,
    /// Length in bytes (at least 1 where the source has a character there).
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A mapping entry: the key (always text) keeps its own position, for "unknown field" errors.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// The YAML 1.2 core schema's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
    /// A one-line flow list or mapping that is JSON meaning what the YAML says (no `$` in a
    /// string, no name twice), or a block list of such, as the compact text the definition
    /// loader would write of its tree:
    /// only [`parse_keeping_json`] makes these, and only where it is asked to.
    Json(String),
}

impl Value {
    /// The name of the value's type, as error messages say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            Value::Json(text) if text.starts_with('[') => "a list",
            Value::Json(_) => "a mapping",
        }
    }
}

impl Value {
    /// Writes a null, a boolean or a number as JSON, as the definition loader writes it; `false`
    /// (nothing written) for infinity and NaN, which JSON cannot hold, and for other values.
    pub fn write_json_word(&self, writer: &mut crate::text::json_text::TextWriter) -> bool {
        match self {
            Value::Null => writer.null(),
            Value::Bool(b) => writer.bool(*b),
            Value::Int(i) => writer.number(&(*i).into()),
            Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => writer.number(&n),
                None => return false,
            },
            _ => return false,
        }
        true
    }
}

impl Node {
    /// The entry under `key`, when this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }
}

/// Why a text is not a YAML document this tool can use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum YamlError {
    #[error("invalid YAML: {message}")]
    Syntax { message: String, span: Span },
    #[error("the document is nested deeper than {MAX_DEPTH} levels")]
    TooDeep { span: Span },
    #[error("aliases expand the document beyond {MAX_NODES} values")]
    TooLarge { span: Span },
    #[error("mapping keys must be plain values, not lists or mappings")]
    ComplexKey { span: Span },
    #[error("the key '{key}' appears twice in this mapping (first on line {first_line})")]
    DuplicateKey {
        key: String,
        first_line: usize,
        span: Span,
    },
    #[error("the alias refers to an anchor that is not defined before it")]
    UnknownAlias { span: Span },
    #[error("the tag '{tag}' is not supported; remove it")]
    UnsupportedTag { tag: String, span: Span },
    #[error("a file holds one document, but a second one starts here")]
    MultipleDocuments { span: Span },
    #[error(
        "the text holds the control character U+{code:04X}, which YAML does not allow; remove it, or write it as \\u{code:04x} in a double-quoted string"
    )]
    ControlCharacter { code: u32, span: Span },
    #[error(
        "the integer {text} does not fit in a signed 64-bit integer; quote it to keep it as text, or write it as a float"
    )]
    IntegerTooLarge { text: String, span: Span },
}

impl YamlError {
    pub fn span(&self) -> Span {
        match self {
            YamlError::Syntax { span, .. }
            | YamlError::TooDeep { span }
            | YamlError::TooLarge { span }
            | YamlError::ComplexKey { span }
            | YamlError::DuplicateKey { span, .. }
            | YamlError::UnknownAlias { span }
            | YamlError::UnsupportedTag { span, .. }
            | YamlError::MultipleDocuments { span }
            | YamlError::ControlCharacter { span, .. }
            | YamlError::IntegerTooLarge { span, .. } => *span,
        }
    }
}

/// Parses a text that holds at most one document. `Ok(None)` for a text with no content.
pub fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    parse_keeping_json(source, &[])
}

/// [`parse`], except that below the mappings at `paths` (each a list of keys from the root),
/// a one-line flow collection that is JSON may stand as [`Value::Json`] rather than as a tree:
/// an inline graph is hundreds of such lines, and building a tree of each only to write it
/// out as JSON text again was most of the time a definition took to load.
pub fn parse_keeping_json(source: &str, paths: &[&[&str]]) -> Result<Option<Node>, YamlError> {
    if super::reference_readers() {
        return parse_with_yaml_parser(source);
    }
    match common::parse_common(source, paths) {
        Some(root) => Ok(Some(root)),
        None => parse_with_yaml_parser(source),
    }
}

/// [`parse`] by the YAML parser alone (what the common shape's reader is compared with).
/// The common reader gives up on a text with a control character, so that this one refuses
/// it: saphyr itself reads most of them (all but NUL) as part of a scalar.
fn parse_with_yaml_parser(source: &str) -> Result<Option<Node>, YamlError> {
    if let Some(at) = first_control(source.as_bytes()) {
        return Err(control_character(source, at));
    }
    Builder::new(source).run()
}

/// Whether `byte` is a C0 control character that YAML allows nowhere (all but tab, line feed
/// and carriage return; YAML 1.2, 5.1). DEL and the C1 controls are left as saphyr reads them:
/// JSON allows them in strings, and both readers read them alike.
fn is_control(byte: u8) -> bool {
    const ALLOWED: u32 = (1 << b'\t') | (1 << b'\n') | (1 << b'\r');
    byte < 0x20 && (ALLOWED >> byte) & 1 == 0
}

/// Where the first control character YAML refuses is in `bytes`, if anywhere. A chunk at a time
/// without stopping inside it, which compilers turn into vector instructions.
fn first_control(bytes: &[u8]) -> Option<usize> {
    const CHUNK: usize = 64;
    let mut chunks = bytes.chunks_exact(CHUNK);
    for (index, chunk) in (&mut chunks).enumerate() {
        if chunk
            .iter()
            .fold(false, |any, &byte| any | is_control(byte))
        {
            return chunk
                .iter()
                .position(|&byte| is_control(byte))
                .map(|at| index * CHUNK + at);
        }
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&byte| is_control(byte))
        .map(|at| bytes.len() - rest.len() + at)
}

/// The error for the control character at byte `at` of `source`.
fn control_character(source: &str, at: usize) -> YamlError {
    let before = &source[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    YamlError::ControlCharacter {
        code: u32::from(source.as_bytes()[at]),
        span: Span {
            offset: at,
            len: 1,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        },
    }
}

/// A line, for [`span_on_line`].
struct LineAt {
    /// Byte offset of its first character.
    start: usize,
    /// How many of its first bytes are known to be ASCII (0 when not known).
    ascii: usize,
    /// 1-based.
    number: usize,
}

/// The span from byte `start` to `end` of `text`, on `line`. A zero-width span covers the
/// character at `start`, as the YAML parser's spans of empty values do.
fn span_on_line(text: &str, line: LineAt, start: usize, end: usize) -> Span {
    let before = &text[line.start..start];
    let column = if before.len() <= line.ascii || before.is_ascii() {
        before.len()
    } else {
        before.chars().count()
    };
    let len = if end > start {
        end - start
    } else {
        text[start..].chars().next().map_or(0, char::len_utf8)
    };
    Span {
        offset: start,
        len,
        line: line.number,
        column: column + 1,
    }
}

/// Converts parser positions (characters) to byte offsets, which is what renderers want.
struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
    /// For each line, how many bytes from its start are ASCII: within them a column (counted in
    /// characters) is also a byte count, so most positions are found without scanning the line
    /// (a minified JSON graph is one line of many thousand scalars).
    ascii_prefixes: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        let ascii_prefixes = line_starts
            .iter()
            .map(|start| {
                source.as_bytes()[*start..]
                    .iter()
                    .position(|byte| !byte.is_ascii() || *byte == b'\n')
                    .unwrap_or(source.len() - start)
            })
            .collect();
        LineIndex {
            source,
            line_starts,
            ascii_prefixes,
        }
    }

    /// `line` is 1-based, `col` 0-based in characters.
    fn offset(&self, line: usize, col: usize) -> usize {
        let index = line.saturating_sub(1);
        let start = self
            .line_starts
            .get(index)
            .copied()
            .unwrap_or(self.source.len());
        if self
            .ascii_prefixes
            .get(index)
            .is_some_and(|ascii| col <= *ascii)
        {
            return start + col;
        }
        let rest = &self.source[start..];
        rest.char_indices()
            .nth(col)
            .map_or(self.source.len(), |(i, _)| start + i)
    }

    fn span(&self, span: ParserSpan) -> Span {
        let (line, col) = (span.start.line(), span.start.col());
        let offset = self.offset(line, col);
        let end = self.offset(span.end.line(), span.end.col()).max(offset);
        let len = if end > offset {
            end - offset
        } else {
            // Zero-width (an empty value): point at the character there, if any.
            self.source[offset..]
                .chars()
                .next()
                .map_or(0, char::len_utf8)
        };
        Span {
            offset,
            len,
            line,
            column: col + 1,
        }
    }
}

enum Frame {
    Seq {
        anchor: usize,
        span: Span,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        span: Span,
        entries: Vec<Entry>,
        pending_key: Option<(String, Span)>,
    },
}

struct Builder<'a> {
    lines: LineIndex<'a>,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str) -> Self {
        Builder {
            lines: LineIndex::new(source),
            parser: Parser::new_from_str(source),
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
        }
    }

    fn syntax_error(&self, err: ScanError) -> YamlError {
        let mark = err.marker();
        let offset = self.lines.offset(mark.line(), mark.col());
        let len = self.lines.source[offset..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        YamlError::Syntax {
            message: err.info().to_string(),
            span: Span {
                offset,
                len,
                line: mark.line(),
                column: mark.col() + 1,
            },
        }
    }

    fn run(mut self) -> Result<Option<Node>, YamlError> {
        let mut root: Option<Node> = None;
        let mut documents = 0;
        while let Some(next) = self.parser.next_event() {
            let (event, parser_span) = next.map_err(|e| self.syntax_error(e))?;
            let span = self.lines.span(parser_span);
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(YamlError::MultipleDocuments { span });
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let value = resolve_scalar(&text, style, tag.as_deref(), span)?;
                    self.finish_node(Node { value, span }, anchor, &mut root)?;
                }
                Event::Alias(id) => {
                    let node = self
                        .anchors
                        .get(&id)
                        .cloned()
                        .ok_or(YamlError::UnknownAlias { span })?;
                    self.nodes += count_nodes(&node);
                    if self.nodes > MAX_NODES {
                        return Err(YamlError::TooLarge { span });
                    }
                    self.finish_node(node, 0, &mut root)?;
                }
                Event::SequenceStart(anchor, tag) => {
                    check_collection_tag(tag.as_deref(), "seq", span)?;
                    self.push(Frame::Seq {
                        anchor,
                        span,
                        items: Vec::new(),
                    })?;
                }
                Event::MappingStart(anchor, tag) => {
                    check_collection_tag(tag.as_deref(), "map", span)?;
                    self.push(Frame::Map {
                        anchor,
                        span,
                        entries: Vec::new(),
                        pending_key: None,
                    })?;
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor) = match self.stack.pop() {
                        Some(Frame::Seq {
                            anchor,
                            span: start,
                            items,
                        }) => (
                            Node {
                                value: Value::Seq(items),
                                span: start,
                            },
                            anchor,
                        ),
                        Some(Frame::Map {
                            anchor,
                            span: start,
                            entries,
                            ..
                        }) => (
                            Node {
                                value: Value::Map(entries),
                                span: start,
                            },
                            anchor,
                        ),
                        None => continue,
                    };
                    self.finish_node(node, anchor, &mut root)?;
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(root)
    }

    fn push(&mut self, frame: Frame) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            let span = match &frame {
                Frame::Seq { span, .. } | Frame::Map { span, .. } => *span,
            };
            return Err(YamlError::TooDeep { span });
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Places a complete node into its parent (or makes it the document root).
    fn finish_node(
        &mut self,
        node: Node,
        anchor: usize,
        root: &mut Option<Node>,
    ) -> Result<(), YamlError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(YamlError::TooLarge { span: node.span });
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => *root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                Some((key, key_span)) => entries.push(Entry {
                    key,
                    key_span,
                    value: node,
                }),
                None => {
                    let key = scalar_key(&node)?;
                    if let Some(first) = entries.iter().find(|e| e.key == key) {
                        return Err(YamlError::DuplicateKey {
                            key,
                            first_line: first.key_span.line,
                            span: node.span,
                        });
                    }
                    *pending_key = Some((key, node.span));
                }
            },
        }
        Ok(())
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|e| 1 + count_nodes(&e.value)).sum(),
        _ => 0,
    }
}

fn scalar_key(node: &Node) -> Result<String, YamlError> {
    Ok(match &node.value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) | Value::Json(_) => {
            return Err(YamlError::ComplexKey { span: node.span });
        }
    })
}

fn is_core_tag(tag: &saphyr_parser::Tag) -> bool {
    tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:"
}

fn check_collection_tag(
    tag: Option<&saphyr_parser::Tag>,
    expected: &str,
    span: Span,
) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(tag) if is_core_tag(tag) && tag.suffix == expected => Ok(()),
        Some(tag) => Err(YamlError::UnsupportedTag {
            tag: format!("{}{}", tag.handle, tag.suffix),
            span,
        }),
    }
}

/// Gives a scalar its type by the YAML 1.2 core schema. Quoted and block scalars are strings;
/// `!!str` and friends force a type.
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&saphyr_parser::Tag>,
    span: Span,
) -> Result<Value, YamlError> {
    if let Some(tag) = tag {
        let unsupported = || YamlError::UnsupportedTag {
            tag: format!("{}{}", tag.handle, tag.suffix),
            span,
        };
        if !is_core_tag(tag) {
            return Err(unsupported());
        }
        return match tag.suffix.as_str() {
            "str" => Ok(Value::String(text.to_string())),
            "float" if resolve_plain(text).is_none() => text
                .parse()
                .map(Value::Float)
                .map_err(|_| too_large_integer(text, span)),
            "null" | "bool" | "int" | "float" => {
                match resolve_plain(text).ok_or_else(|| too_large_integer(text, span))? {
                    // `!!int "3"` must hold an integer, and so on.
                    Value::Null if tag.suffix == "null" => Ok(Value::Null),
                    v @ Value::Bool(_) if tag.suffix == "bool" => Ok(v),
                    v @ Value::Int(_) if tag.suffix == "int" => Ok(v),
                    Value::Int(i) if tag.suffix == "float" => Ok(Value::Float(i as f64)),
                    v @ Value::Float(_) if tag.suffix == "float" => Ok(v),
                    _ => Err(YamlError::Syntax {
                        message: format!("'{text}' is not a valid !!{}", tag.suffix),
                        span,
                    }),
                }
            }
            _ => Err(unsupported()),
        };
    }
    match style {
        ScalarStyle::Plain => resolve_plain(text).ok_or_else(|| too_large_integer(text, span)),
        _ => Ok(Value::String(text.to_string())),
    }
}

fn too_large_integer(text: &str, span: Span) -> YamlError {
    YamlError::IntegerTooLarge {
        text: text.to_string(),
        span,
    }
}

/// A plain scalar's value by the core schema; `None` for an integer that does not fit in 64
/// bits, which is refused ([`YamlError::IntegerTooLarge`]) rather than read as a float that is
/// not the number written, or sent as one.
pub(crate) fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Some(Value::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Some(Value::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(Value::Float(f64::NAN)),
        _ => {}
    }
    match parse_int(text) {
        Integer::Fits(int) => return Some(Value::Int(int)),
        Integer::TooLarge => return None,
        Integer::Not => {}
    }
    if looks_like_float(text)
        && let Ok(float) = text.parse::<f64>()
    {
        return Some(Value::Float(float));
    }
    Some(Value::String(text.to_string()))
}

/// What a text is by the core schema's integer forms.
enum Integer {
    Not,
    Fits(i64),
    TooLarge,
}

fn parse_int(text: &str) -> Integer {
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    let (number, radix) = if let Some(hex) = text.strip_prefix("0x") {
        (hex, 16)
    } else if let Some(oct) = text.strip_prefix("0o") {
        (oct, 8)
    } else {
        (text, 10)
    };
    let unsigned = match radix {
        10 => number.strip_prefix(['-', '+']).unwrap_or(number),
        _ => number,
    };
    if !digits(unsigned, radix) {
        return Integer::Not;
    }
    match i64::from_str_radix(number, radix) {
        Ok(int) => Integer::Fits(int),
        Err(_) => Integer::TooLarge,
    }
}

/// The core schema's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn looks_like_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let all_digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() && !frac.is_empty() && all_digits(frac))
                || (!int.is_empty() && all_digits(int) && all_digits(frac))
        }
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(src: &str) -> Value {
        parse(src).unwrap().unwrap().value
    }

    #[test]
    fn plain_scalars_follow_the_core_schema() {
        assert_eq!(value("~"), Value::Null);
        assert_eq!(value("true"), Value::Bool(true));
        assert_eq!(value("42"), Value::Int(42));
        assert_eq!(value("-0x1"), Value::String("-0x1".into()));
        assert_eq!(value("0x1F"), Value::Int(31));
        assert_eq!(value("1.5e3"), Value::Float(1500.0));
        assert_eq!(value("yes"), Value::String("yes".into()));
        assert_eq!(value("'42'"), Value::String("42".into()));
        assert_eq!(value("!!str 42"), Value::String("42".into()));
    }

    /// What each reader makes of `text`: the one `parse` uses, the YAML parser's, and the
    /// common shape's (`None` when it gives up), keeping JSON below `graph`.
    fn every_reader(text: &str) -> [Result<Option<Node>, YamlError>; 3] {
        [
            parse_keeping_json(text, &[&["graph"]]),
            parse_with_yaml_parser(text),
            common::parse_common(text, &[&["graph"]])
                .map_or_else(|| parse_with_yaml_parser(text), |node| Ok(Some(node))),
        ]
    }

    #[test]
    fn a_control_character_is_refused_at_its_place_by_both_readers() {
        for control in ['\u{0}', '\u{1}', '\u{8}', '\u{c}', '\u{1b}', '\u{1f}'] {
            for (text, line, column) in [
                (format!("name: A{control}b\n"), 1, 8),
                (format!("key: a\nname: \"A{control}\"\n"), 2, 9),
                (format!("key: a\n# note {control}\nname: A\n"), 2, 8),
                (format!("k{control}: a\n"), 1, 2),
                (
                    format!("graph:\n  nodes:\n    - {{\"id\": \"{control}\"}}\n"),
                    3,
                    15,
                ),
                (format!("a: &x 1\nb: *x{control}\n"), 2, 6),
            ] {
                assert_eq!(common::parse_common(&text, &[&["graph"]]), None, "{text:?}");
                let code = u32::from(control);
                for read in every_reader(&text) {
                    match read {
                        Err(YamlError::ControlCharacter { code: c, span }) => {
                            assert_eq!(
                                (c, span.line, span.column),
                                (code, line, column),
                                "{text:?}"
                            );
                        }
                        other => panic!("{text:?}: {other:?}"),
                    }
                }
            }
        }
        // Tabs, line breaks, DEL and the C1 controls: read, and alike.
        for text in [
            "a: b\tc\n",
            "a: b\r\n",
            "a: b\u{7f}\n",
            "a: \"\u{85}\u{9b}\"\n",
        ] {
            let [by_parse, by_yaml, _] = every_reader(text);
            assert!(by_parse.is_ok(), "{text:?}");
            assert_eq!(by_parse, by_yaml, "{text:?}");
        }
    }

    #[test]
    fn an_integer_beyond_64_bits_is_refused_by_every_reader() {
        for (text, column) in [
            ("n: 99999999999999999999\n", 4),
            ("n: -9223372036854775809\n", 4),
            ("n: 9223372036854775808\n", 4),
            ("n: 0x10000000000000000\n", 4),
            ("99999999999999999999: x\n", 1),
            ("graph:\n  n: [1, 99999999999999999999]\n", 10),
        ] {
            for read in every_reader(text) {
                assert!(
                    matches!(&read, Err(YamlError::IntegerTooLarge { span, .. }) if span.column == column),
                    "{text:?}: {read:?}"
                );
            }
        }
        let json = parse_json("{\"n\": [1, 18446744073709551616]}");
        assert!(
            matches!(&json, Err(YamlError::IntegerTooLarge { text, .. }) if text == "18446744073709551616"),
            "{json:?}"
        );
        // At the edges, quoted, or asked for as a float: read.
        assert_eq!(value("9223372036854775807"), Value::Int(i64::MAX));
        assert_eq!(value("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(
            value("'99999999999999999999'"),
            Value::String("99999999999999999999".into())
        );
        assert_eq!(value("!!float 99999999999999999999"), Value::Float(1e20));
        assert_eq!(value("1e20"), Value::Float(1e20));
    }

    #[test]
    fn an_empty_text_has_no_document() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn nodes_know_their_line_and_column_in_characters() {
        let root = parse("a: 1\nicon: \"🤖\"\nb:\n  c: x\n").unwrap().unwrap();
        let b = root.get("b").unwrap();
        assert_eq!((b.key_span.line, b.key_span.column), (3, 1));
        let c = b.value.get("c").unwrap();
        assert_eq!((c.value.span.line, c.value.span.column), (4, 6));
        assert_eq!(c.value.span.offset, "a: 1\nicon: \"🤖\"\nb:\n  c: ".len());
    }

    #[test]
    fn a_duplicate_key_is_an_error_naming_the_first_line() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert!(
            matches!(err, YamlError::DuplicateKey { ref key, first_line: 1, .. } if key == "a")
        );
        assert_eq!(err.span().line, 3);
    }

    #[test]
    fn a_second_document_is_an_error() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(matches!(err, YamlError::MultipleDocuments { .. }));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        // The scanner has a limit of its own for flow collections; either refusal will do.
        assert!(parse(&deep).is_err());
        let block: String = (0..300)
            .map(|i| format!("{}a:\n", "  ".repeat(i)))
            .collect();
        let result = parse(&block);
        assert!(
            matches!(result, Err(YamlError::TooDeep { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn aliases_copy_the_anchored_value() {
        let root = parse("a: &x {k: 1}\nb: *x\n").unwrap().unwrap();
        assert_eq!(
            root.get("a").unwrap().value.value,
            root.get("b").unwrap().value.value
        );
    }

    #[test]
    fn exponential_alias_expansion_is_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(matches!(parse(&src), Err(YamlError::TooLarge { .. })));
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(matches!(err, YamlError::Syntax { .. }));
        assert!(err.span().line >= 1);
    }
}
