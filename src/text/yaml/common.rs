//! The common shape of a definition file -> the tree [`super::parse`] gives for it, without the
//! YAML parser, several times faster: block mappings and lists, plain, quoted and one-line
//! flow values (an inline graph is a list of one-line flow mappings), literal and folded block
//! scalars, and comments.
//!
//! Anything else (anchors, aliases, tags, a block scalar with an indentation indicator, a value
//! over several lines, an escape JSON does not have, an empty list item, a duplicate key, ...) is
//! left to the YAML parser: [`parse_common`] gives `None` and [`super::parse`] starts over with
//! it, so that every error and every rarer form reads exactly as before. The tree is the same
//! value for value and position for position (property tests compare both parsers: on what the
//! exporter writes, on documents in every mix of styles, also with one character put in or
//! taken out, on random YAML-shaped lines, and on the repository's own files).
//!
//! Asked to keep JSON below some mappings ([`super::parse_keeping_json`]), it writes each
//! one-line flow there that is JSON, and each block list of nothing but such flows, as the
//! compact text the definition loader would write of its tree ([`Value::Json`]), with
//! [`json_text::Scan`](crate::text::json_text::Scan) and the loader's writer; a flow the tree
//! is needed for (a `$`, a value JSON does not have) is read as a tree, as before.

use super::{Entry, LineAt, MAX_NODES, Node, Span, Value, resolve_plain, scalar_key, span_on_line};
use crate::text::json_text::{Scan, TextWriter, unescape};

/// Deep enough for any definition; deeper documents are left to the YAML parser, which has
/// the limit that is reported.
const MAX_COMMON_DEPTH: usize = 64;

/// The tree of `source` when it has the common shape (a block mapping at its root), else
/// `None`; below the mappings at `keep_json_below`, one-line flow collections that are JSON,
/// and block lists of nothing but those, stand as [`Value::Json`].
pub(super) fn parse_common(source: &str, keep_json_below: &[&[&str]]) -> Option<Node> {
    if memchr::memchr2(b'\t', b'\r', source.as_bytes()).is_some() || source.starts_with('\u{feff}')
    {
        return None;
    }
    let mut parser = Parser {
        text: source,
        lines: content_lines(source)?,
        at: 0,
        depth: 0,
        nodes: 0,
        keep_json_below,
        keys: Vec::new(),
        json: TextWriter::finding_duplicate_names(),
    };
    let first = parser.lines.first()?;
    if first.indent != 0 || parser.is_item(first) {
        return None;
    }
    let root = parser.mapping(0, first.start)?;
    (parser.at == parser.lines.len()).then_some(root)
}

/// A line with content (not blank, not only a comment).
#[derive(Clone, Copy)]
struct Line {
    /// Byte offset of the line's first character.
    start: usize,
    /// Byte offset of its end (its `\n`, or the end of the text).
    end: usize,
    /// 1-based.
    number: usize,
    /// Leading spaces.
    indent: usize,
    /// How many bytes from `start` are ASCII (a column there is a byte count).
    ascii: usize,
}

/// The lines with content; `None` for a text with a document marker or a directive, or with a
/// control character anywhere, a comment included (left to the YAML parser's reader, which
/// refuses it: see [`super::parse`]).
fn content_lines(source: &str) -> Option<Vec<Line>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (index, text) in source.split('\n').enumerate() {
        let end = start + text.len();
        let trimmed = text.trim_start_matches(' ');
        let indent = text.len() - trimmed.len();
        if trimmed.starts_with('#') && has_control(trimmed.as_bytes()) {
            return None;
        }
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            // Document markers and directives.
            if indent == 0
                && (text.starts_with("---") || text.starts_with("...") || text.starts_with('%'))
            {
                return None;
            }
            lines.push(Line {
                start,
                end,
                number: index + 1,
                indent,
                ascii: ascii_prefix(text.as_bytes())?,
            });
        }
        start = end + 1;
    }
    Some(lines)
}

const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// Whether a word of 8 bytes has one below 0x20 (a control: a line holds no `\n`, and a text
/// with a tab or a carriage return is not read here). Exact: the subtraction borrows into a
/// byte's high bit only from a byte below 0x20, and a byte of 0x80 or more is masked out.
fn has_control_byte(word: u64) -> bool {
    const SPACES: u64 = u64::from_le_bytes([0x20; 8]);
    word.wrapping_sub(SPACES) & !word & HIGHS != 0
}

fn word_at(chunk: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(chunk);
    u64::from_le_bytes(word)
}

/// How many of the first bytes of a line are ASCII, or `None` when it holds a control
/// character. Eight bytes at a time: every line of a definition is measured.
fn ascii_prefix(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = word_at(chunk);
        if has_control_byte(word) {
            return None;
        }
        let high = word & HIGHS;
        if high != 0 {
            let ascii = at + high.trailing_zeros() as usize / 8;
            return (!has_control(&bytes[at + 8..])).then_some(ascii);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    if rest.iter().any(|b| *b < 0x20) {
        return None;
    }
    Some(
        at + rest
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len()),
    )
}

/// Whether a line holds a control character (see [`has_control_byte`]).
fn has_control(bytes: &[u8]) -> bool {
    let mut chunks = bytes.chunks_exact(8);
    chunks
        .by_ref()
        .any(|chunk| has_control_byte(word_at(chunk)))
        || chunks.remainder().iter().any(|b| *b < 0x20)
}

/// Bytes that a plain value may not start with (YAML's indicators), here or at all.
fn starts_plain(byte: u8) -> bool {
    !matches!(
        byte,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    )
}

/// A scalar node as a mapping key, as the YAML parser's reader makes it (a string is moved,
/// not copied: keys are half of a graph's scalars).
fn into_key(node: Node) -> Option<String> {
    match node.value {
        Value::String(text) => Some(text),
        _ => scalar_key(&node).ok(),
    }
}

/// Bytes of a key written plain, as definitions write them.
fn key_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'/')
}

struct Parser<'a> {
    text: &'a str,
    lines: Vec<Line>,
    /// The line being read.
    at: usize,
    depth: usize,
    nodes: usize,
    keep_json_below: &'a [&'a [&'a str]],
    /// The keys of the block mappings the line being read is in, outermost first.
    keys: Vec<String>,
    /// Writes one-line JSON flows, one after another.
    json: TextWriter,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn line(&self) -> Option<Line> {
        self.lines.get(self.at).copied()
    }

    fn is_item(&self, line: &Line) -> bool {
        let dash = line.start + line.indent;
        self.bytes().get(dash) == Some(&b'-')
            && matches!(self.bytes().get(dash + 1), Some(b' ' | b'\n') | None)
    }

    fn span(&self, line: &Line, start: usize, end: usize) -> Span {
        let at = LineAt {
            start: line.start,
            ascii: line.ascii,
            number: line.number,
        };
        span_on_line(self.text, at, start, end)
    }

    fn node(&mut self, value: Value, span: Span) -> Option<Node> {
        self.nodes += 1;
        (self.nodes <= MAX_NODES).then_some(Node { value, span })
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_COMMON_DEPTH).then_some(())
    }

    /// The end of a plain key starting at `at` on `line` and the start of its value, when a
    /// `key:` (followed by a space or the line's end) starts there.
    fn key_at(&self, line: &Line, at: usize) -> Option<(usize, usize)> {
        let bytes = self.bytes();
        let mut end = at;
        while end < line.end && key_byte(bytes[end]) {
            end += 1;
        }
        if end == at || bytes[at] == b'-' || bytes.get(end) != Some(&b':') {
            return None;
        }
        let after = end + 1;
        if after < line.end && bytes[after] != b' ' {
            return None;
        }
        Some((end, self.skip_spaces(line, after)))
    }

    /// A block node whose first line (the current one) is indented by `indent`.
    fn block(&mut self, indent: usize) -> Option<Node> {
        let line = self.line()?;
        if self.is_item(&line) {
            self.sequence(indent, false)
        } else {
            self.mapping(indent, line.start + indent)
        }
    }

    /// A block mapping whose keys are indented by `indent`, the first at byte `first` of the
    /// current line (after a list's `- ` when the mapping is a list's item).
    fn mapping(&mut self, indent: usize, first: usize) -> Option<Node> {
        self.deeper()?;
        let line = self.line()?;
        let span = self.span(&line, first, first);
        let mut entries: Vec<Entry> = Vec::new();
        let mut at = first;
        loop {
            let line = self.line()?;
            let (key_end, value_at) = self.key_at(&line, at)?;
            let key_span = self.span(&line, at, key_end);
            let key_node = self.node(resolve_plain(&self.text[at..key_end])?, key_span)?;
            let key = into_key(key_node)?;
            if entries.iter().any(|e| e.key == key) {
                return None;
            }
            self.keys.push(key.clone());
            let value = if value_at == line.end || self.bytes()[value_at] == b'#' {
                // The value is on the lines below, or empty (`null`, placed at the colon).
                self.at += 1;
                match self.line() {
                    Some(next) if next.indent > indent => self.block(next.indent)?,
                    Some(next) if next.indent == indent && self.is_item(&next) => {
                        self.sequence(indent, true)?
                    }
                    _ => {
                        let span = self.span(&line, key_end, key_end);
                        self.node(Value::Null, span)?
                    }
                }
            } else {
                self.value_from(&line, value_at, indent)?
            };
            self.keys.pop();
            entries.push(Entry {
                key,
                key_span,
                value,
            });
            match self.line() {
                Some(next) if next.indent == indent && !self.is_item(&next) => {
                    at = next.start + indent;
                }
                Some(next) if next.indent >= indent => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        self.node(Value::Map(entries), span)
    }

    /// A block list whose `- ` are indented by `indent`, from the current line; `indentless`
    /// when its `- ` stand where the keys of the mapping it is a value of stand (the YAML
    /// parser then places the list where its first item starts, not at its first `-`).
    fn sequence(&mut self, indent: usize, indentless: bool) -> Option<Node> {
        if self.keeps_json()
            && let Some(list) = self.json_sequence(indent, indentless)
        {
            return Some(list);
        }
        self.deeper()?;
        let line = self.line()?;
        let mut span = self.span(&line, line.start + indent, line.start + indent);
        let mut items = Vec::new();
        loop {
            let line = self.line()?;
            let item_at = self.skip_spaces(&line, line.start + indent + 1);
            if item_at == line.end || self.bytes()[item_at] == b'#' {
                return None;
            }
            if indentless && items.is_empty() {
                span = self.span(&line, item_at, item_at);
            }
            let item = if self.key_at(&line, item_at).is_some() {
                self.mapping(item_at - line.start, item_at)?
            } else {
                self.value_from(&line, item_at, indent)?
            };
            items.push(item);
            match self.line() {
                Some(next) if next.indent == indent && self.is_item(&next) => {}
                Some(next) if next.indent > indent => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        self.node(Value::Seq(items), span)
    }

    /// A value that starts at `at` on `line` (inside a block indented by `parent`): a block
    /// scalar, or a value on that line; the lines after it are read on.
    fn value_from(&mut self, line: &Line, at: usize, parent: usize) -> Option<Node> {
        if matches!(self.bytes()[at], b'|' | b'>') {
            return self.block_scalar(line, at, parent);
        }
        let value = self.value_on_line(line, at)?;
        self.at += 1;
        Some(value)
    }

    /// A literal or folded block scalar (`|`, `>`, with `-` or `+`) whose header is at `at` on
    /// `line`, inside a block indented by `parent`; the lines after it are read on.
    fn block_scalar(&mut self, line: &Line, at: usize, parent: usize) -> Option<Node> {
        let text = self.text;
        let folded = text.as_bytes()[at] == b'>';
        let (keep, strip) = match text.as_bytes().get(at + 1) {
            Some(b'+') => (true, false),
            Some(b'-') => (false, true),
            _ => (false, false),
        };
        // An indentation indicator, or anything but a comment, is left to the YAML parser.
        if !self.rest_is_comment(line, at + 1 + usize::from(keep || strip)) {
            return None;
        }
        let mut value = String::new();
        let mut indent = None;
        // The last line of text began with a space beyond the indentation: a folded scalar
        // keeps the line breaks around such a line.
        let mut last_spaced = false;
        // Line breaks not yet written: they belong to the text only if more text follows.
        let mut breaks = 0;
        let mut at_line = line.end + 1;
        // Where the YAML parser's scalar ends: past the indentation of the line that ends it.
        let mut stop = text.len();
        while at_line < text.len() {
            let end = text[at_line..]
                .find('\n')
                .map_or(text.len(), |i| at_line + i);
            let raw = &text[at_line..end];
            let spaces = raw.len() - raw.trim_start_matches(' ').len();
            if spaces == raw.len() {
                // Leading empty lines, and lines of only spaces, are left to the YAML parser.
                if !raw.is_empty() || indent.is_none() {
                    return None;
                }
                breaks += 1;
                at_line = end + 1;
                continue;
            }
            let indent = *indent.get_or_insert(spaces);
            if indent <= parent {
                return None;
            }
            if spaces < indent {
                stop = at_line + spaces;
                break;
            }
            let line_text = &raw[indent..];
            let spaced = line_text.starts_with(' ');
            if folded && breaks > 0 && !spaced && !last_spaced {
                // One break between two lines of text is a space; with empty lines between,
                // only they remain.
                if breaks == 1 {
                    value.push(' ');
                } else {
                    value.extend(std::iter::repeat_n('\n', breaks - 1));
                }
            } else {
                value.extend(std::iter::repeat_n('\n', breaks));
            }
            value.push_str(line_text);
            last_spaced = spaced;
            breaks = 1;
            at_line = end + 1;
        }
        let indent = indent?;
        if keep {
            value.extend(std::iter::repeat_n('\n', breaks));
        } else if !strip && breaks > 0 {
            value.push('\n');
        }
        self.at = self.lines.partition_point(|l| l.start < at_line);
        let first = line.end + 1 + indent;
        let span = Span {
            offset: first,
            len: stop - first,
            line: line.number + 1,
            column: indent + 1,
        };
        self.node(Value::String(value), span)
    }

    /// A value that starts at `at` and ends on `line` (a comment may follow it).
    fn value_on_line(&mut self, line: &Line, at: usize) -> Option<Node> {
        let bytes = self.bytes();
        let (node, end) = match bytes[at] {
            b'"' | b'\'' => {
                let (mut node, end) = self.flow_value(line, at)?;
                // In a block, it runs on over a comment too, to the end of the line.
                node.span.len = line.end - at;
                (node, end)
            }
            b'[' | b'{' => match self.json_flow(line, at) {
                Some(flow) => flow,
                None => self.flow_value(line, at)?,
            },
            byte if starts_plain(byte)
                || (byte == b'-' && bytes[..line.end].get(at + 1).is_some_and(|b| *b != b' ')) =>
            {
                // A plain value runs to a comment or the end of the line.
                let rest = &self.text[at..line.end];
                let text = rest
                    .find(" #")
                    .map_or(rest, |comment| &rest[..comment])
                    .trim_end_matches(' ');
                if text.contains(": ") || text.ends_with(':') {
                    return None;
                }
                let end = at + text.len();
                let span = self.span(line, at, end);
                (self.node(resolve_plain(text)?, span)?, end)
            }
            _ => return None,
        };
        self.rest_is_comment(line, end).then_some(node)
    }

    /// Nothing but spaces, and perhaps a comment, from `at` to the end of `line`.
    fn rest_is_comment(&self, line: &Line, at: usize) -> bool {
        let rest = self.text[at..line.end].trim_start_matches(' ');
        rest.is_empty() || (rest.starts_with('#') && rest.len() < line.end - at)
    }

    /// A value inside a one-line flow collection (or a quoted one in block context) at `at`,
    /// and where it ends.
    fn flow_value(&mut self, line: &Line, at: usize) -> Option<(Node, usize)> {
        let bytes = self.bytes();
        match *bytes.get(at)? {
            b'[' | b'{' => self.flow_collection(line, at),
            b'"' => {
                let mut close = at + 1;
                let mut escaped = false;
                loop {
                    match *bytes[..line.end].get(close)? {
                        b'"' => break,
                        b'\\' => {
                            escaped = true;
                            close += 2;
                        }
                        _ => close += 1,
                    }
                }
                let inner = &self.text[at + 1..close];
                let text = if escaped {
                    unescape(inner)?
                } else {
                    inner.to_owned()
                };
                // The YAML parser's quoted scalar runs on over spaces to the next token.
                let span = self.span(line, at, self.skip_spaces(line, close + 1));
                Some((self.node(Value::String(text), span)?, close + 1))
            }
            b'\'' => {
                let mut end = at + 1;
                loop {
                    match bytes[..line.end].get(end)? {
                        b'\'' if bytes.get(end + 1) == Some(&b'\'') => end += 2,
                        b'\'' => break,
                        _ => end += 1,
                    }
                }
                let inner = self.text[at + 1..end].replace("''", "'");
                let span = self.span(line, at, self.skip_spaces(line, end + 1));
                Some((self.node(Value::String(inner), span)?, end + 1))
            }
            byte if starts_plain(byte)
                || (byte == b'-'
                    && bytes[..line.end]
                        .get(at + 1)
                        .is_some_and(|b| !matches!(b, b' ' | b',' | b']' | b'}'))) =>
            {
                // A plain value in a flow runs to a `,`, a bracket, or a `: `.
                let mut end = at;
                while end < line.end {
                    match bytes[end] {
                        b',' | b'[' | b']' | b'{' | b'}' | b'#' => break,
                        b':' if matches!(bytes.get(end + 1), Some(b' ' | b',' | b']' | b'}')) => {
                            break;
                        }
                        _ => end += 1,
                    }
                }
                let text = self.text[at..end].trim_end_matches(' ');
                // A word in it that starts like a token is one the YAML parser may read as a
                // token (`a -,` is an error to it).
                if text
                    .split(' ')
                    .skip(1)
                    .any(|word| word.bytes().next().is_some_and(|b| !starts_plain(b)))
                {
                    return None;
                }
                let end = at + text.len();
                let span = self.span(line, at, end);
                Some((self.node(resolve_plain(text)?, span)?, end))
            }
            _ => None,
        }
    }

    /// A one-line flow collection at `at`, below the mappings asked for, as [`Value::Json`] when
    /// it is JSON with nothing the tree would be needed for (no `$` in a string that may be an
    /// interpolation, no escape JSON does not have, no name written twice), and where it ends;
    /// `None` leaves it to [`Parser::flow_collection`]. Both write the same text: the value is
    /// written by the writer the definition loader writes a tree with, value by value.
    fn json_flow(&mut self, line: &Line, at: usize) -> Option<(Node, usize)> {
        if !self.keeps_json() {
            return None;
        }
        self.json.clear();
        let mut flow = self.scan(line, self.depth, self.nodes);
        let end = flow.value(&mut self.json, at)?;
        let nodes = flow.nodes;
        if self.json.duplicate_name_seen() {
            return None;
        }
        self.nodes = nodes;
        let value = Value::Json(self.json.compact_so_far().to_owned());
        // The YAML parser's opening bracket runs to where the next token starts.
        let span = self.span(line, at, self.skip_spaces(line, at + 1));
        Some((Node { value, span }, end))
    }

    /// A block list (as [`Parser::sequence`] reads it) whose every item is a one-line flow
    /// collection that [`Parser::json_flow`] would keep, as one [`Value::Json`]: an inline
    /// graph's list of nodes is one text, not a text per node. `None`, with nothing read,
    /// for any other list.
    fn json_sequence(&mut self, indent: usize, indentless: bool) -> Option<Node> {
        let from = self.at;
        let read = self.json_items(indent, indentless);
        if read.is_none() {
            self.at = from;
        }
        read
    }

    fn json_items(&mut self, indent: usize, indentless: bool) -> Option<Node> {
        let line = self.line()?;
        let mut span = self.span(&line, line.start + indent, line.start + indent);
        // The list, then its items, counted as the tree counts them.
        let mut nodes = self.nodes + 1;
        let depth = self.depth + 1;
        if nodes > MAX_NODES || depth > MAX_COMMON_DEPTH {
            return None;
        }
        self.json.clear();
        let mut array = self.json.begin_array();
        let mut first = true;
        loop {
            let line = self.line()?;
            let item_at = self.skip_spaces(&line, line.start + indent + 1);
            if item_at >= line.end || !matches!(self.bytes()[item_at], b'{' | b'[') {
                return None;
            }
            if indentless && first {
                span = self.span(&line, item_at, item_at);
            }
            first = false;
            self.json.element(&mut array);
            let mut flow = self.scan(&line, depth, nodes);
            let end = flow.value(&mut self.json, item_at)?;
            nodes = flow.nodes;
            if !self.rest_is_comment(&line, end) {
                return None;
            }
            self.at += 1;
            match self.line() {
                Some(next) if next.indent == indent && self.is_item(&next) => {}
                Some(next) if next.indent > indent => return None,
                _ => break,
            }
        }
        self.json.end_array(array);
        if self.json.duplicate_name_seen() {
            return None;
        }
        self.nodes = nodes;
        let value = Value::Json(self.json.compact_so_far().to_owned());
        Some(Node { value, span })
    }

    /// Reads JSON on `line`, as the tree would count and nest its values.
    fn scan(&self, line: &Line, depth: usize, nodes: usize) -> Scan<'a> {
        Scan {
            text: self.text,
            end: line.end,
            depth,
            max_depth: MAX_COMMON_DEPTH,
            nodes,
            max_nodes: MAX_NODES,
            word: yaml_word,
        }
    }

    /// Whether the line being read is below the mappings whose JSON flows are kept as text.
    fn keeps_json(&self) -> bool {
        let keys = &self.keys;
        self.keep_json_below.iter().any(|path| {
            keys.len() > path.len() && keys.iter().zip(path.iter()).all(|(key, p)| key == p)
        })
    }

    fn skip_spaces(&self, line: &Line, mut at: usize) -> usize {
        while at < line.end && self.bytes()[at] == b' ' {
            at += 1;
        }
        at
    }

    /// A flow list or mapping opening at `at`, closed on the same line.
    fn flow_collection(&mut self, line: &Line, at: usize) -> Option<(Node, usize)> {
        self.deeper()?;
        let mapping = self.bytes()[at] == b'{';
        let close = if mapping { b'}' } else { b']' };
        let mut next = self.skip_spaces(line, at + 1);
        // The YAML parser's opening bracket runs to where the next token starts.
        let span = self.span(line, at, next);
        let mut entries: Vec<Entry> = Vec::new();
        let mut items = Vec::new();
        if self.bytes().get(next) == Some(&close) {
            next += 1;
        } else {
            loop {
                let (value, end) = self.flow_value(line, next)?;
                let mut end = self.skip_spaces(line, end);
                let colon = self.bytes().get(end) == Some(&b':');
                if mapping {
                    // `"key":value` needs no space after the colon; a plain key does.
                    let quoted = matches!(self.bytes()[next], b'"' | b'\'');
                    if !colon || (!quoted && self.bytes().get(end + 1) != Some(&b' ')) {
                        return None;
                    }
                    let key_span = value.span;
                    let key = into_key(value)?;
                    if entries.iter().any(|e| e.key == key) {
                        return None;
                    }
                    let value_at = self.skip_spaces(line, end + 1);
                    let (member, member_end) = self.flow_value(line, value_at)?;
                    entries.push(Entry {
                        key,
                        key_span,
                        value: member,
                    });
                    end = self.skip_spaces(line, member_end);
                } else if colon {
                    return None;
                } else {
                    items.push(value);
                }
                match self.bytes().get(end) {
                    Some(b',') => next = self.skip_spaces(line, end + 1),
                    Some(&byte) if byte == close => {
                        next = end + 1;
                        break;
                    }
                    _ => return None,
                }
                if next >= line.end || self.bytes()[next] == close {
                    return None;
                }
            }
        }
        self.depth -= 1;
        let value = if mapping {
            Value::Map(entries)
        } else {
            Value::Seq(items)
        };
        Some((self.node(value, span)?, next))
    }
}

/// A number, `true`, `false` or `null` in a JSON flow, as the YAML reads the word.
fn yaml_word(word: &str, writer: &mut TextWriter) -> Option<()> {
    let first = *word.as_bytes().first()?;
    if !(starts_plain(first) || first == b'-') {
        return None;
    }
    resolve_plain(word)?.write_json_word(writer).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Both parsers agree wherever the common one reads a text.
    fn agree(text: &str) -> bool {
        let common = parse_common(text, &[]);
        if let Some(common) = &common {
            assert_eq!(
                Ok(Some(common.clone())),
                super::super::parse_with_yaml_parser(text),
                "{text}"
            );
        }
        common.is_some()
    }

    /// The compact JSON text of a tree, as the definition loader writes it.
    fn compact(node: &Node, writer: &mut TextWriter) {
        match &node.value {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                if !node.value.write_json_word(writer) {
                    writer.null();
                }
            }
            Value::String(text) => writer.string(text),
            Value::Json(text) => writer.compact_value(text),
            Value::Seq(items) => {
                let mut array = writer.begin_array();
                for item in items {
                    writer.element(&mut array);
                    compact(item, writer);
                }
                writer.end_array(array);
            }
            Value::Map(entries) => {
                let mut object = writer.begin_object();
                for entry in entries {
                    writer.member(&mut object, &entry.key);
                    compact(&entry.value, writer);
                }
                writer.end_object(object);
            }
        }
    }

    /// `kept` is `tree` except that some collections strictly below the mappings at `path`
    /// stand as JSON text, which is the text of the tree's collection there, at its position.
    fn same_but_kept_as_json(kept: &Node, tree: &Node, keys: &mut Vec<String>, path: &[&str]) {
        match (&kept.value, &tree.value) {
            (Value::Json(text), _) => {
                assert!(
                    keys.len() > path.len() && keys.iter().zip(path).all(|(key, p)| key == p),
                    "kept as JSON at {keys:?}, outside {path:?}"
                );
                let mut writer = TextWriter::default();
                compact(tree, &mut writer);
                assert_eq!(*text, writer.finish().compact);
                assert_eq!(kept.span, tree.span);
            }
            (Value::Map(kept_entries), Value::Map(entries)) => {
                assert_eq!(kept.span, tree.span);
                assert_eq!(kept_entries.len(), entries.len());
                for (kept_entry, entry) in kept_entries.iter().zip(entries) {
                    assert_eq!(
                        (&kept_entry.key, kept_entry.key_span),
                        (&entry.key, entry.key_span)
                    );
                    keys.push(entry.key.clone());
                    same_but_kept_as_json(&kept_entry.value, &entry.value, keys, path);
                    keys.pop();
                }
            }
            (Value::Seq(kept_items), Value::Seq(items)) => {
                assert_eq!(kept.span, tree.span);
                assert_eq!(kept_items.len(), items.len());
                for (kept_item, item) in kept_items.iter().zip(items) {
                    same_but_kept_as_json(kept_item, item, keys, path);
                }
            }
            _ => assert_eq!(kept, tree),
        }
    }

    /// Keeping JSON flows as text below `path` changes neither whether the common reader reads
    /// `text` nor what it says; how many flows were kept.
    fn keeping_json_agrees(text: &str, path: [&str; 1]) -> usize {
        let tree = parse_common(text, &[]);
        let kept = parse_common(text, &[&path]);
        assert_eq!(kept.is_some(), tree.is_some(), "{text}");
        let (Some(kept), Some(tree)) = (kept, tree) else {
            return 0;
        };
        same_but_kept_as_json(&kept, &tree, &mut Vec::new(), &path);
        fn count(node: &Node) -> usize {
            match &node.value {
                Value::Json(_) => 1,
                Value::Seq(items) => items.iter().map(count).sum(),
                Value::Map(entries) => entries.iter().map(|e| count(&e.value)).sum(),
                _ => 0,
            }
        }
        count(&kept)
    }

    #[test]
    fn json_flows_below_a_graph_are_kept_as_the_text_their_tree_writes() {
        let text = "kind: agent\nflow:\n  features: {\"a\": 1}\n  graph:\n    nodes:\n\
                    \x20     - {\"id\":\"n0\",\"x\":300,\"data\":{\"t\":0.20,\"p\":[1e3, -0, +7, 0x1F, .5, true, null]}}\n\
                    \x20     - { \"id\" : \"n\u{e9}\" , \"e\": {}, \"l\": [] }  # a comment\n\
                    \x20     - {\"id\": \"${agent:b}\"}\n\
                    \x20     - {\"id\": \"esc\\n\"}\n\
                    \x20     - {\"f\": .nan}\n\
                    \x20     - {id: plain}\n\
                    \x20     - [\"a\", [\"b\"]]\n\
                    \x20   edges: [{\"a\": \"b\"}]\n\
                    \x20   more:\n\
                    \x20   - {\"a\": [1]}  # one\n\
                    \x20   - []\n";
        let root = parse_common(text, &[&["flow", "graph"]]).expect("the common shape");
        let flow = &root.get("flow").expect("flow").value;
        let Value::Map(entries) = &flow.get("graph").expect("graph").value.value else {
            panic!("the graph is a tree of its own");
        };
        let Value::Seq(nodes) = &entries[0].value.value else {
            panic!("a list of nodes");
        };
        let kept: Vec<Option<&str>> = nodes
            .iter()
            .map(|node| match &node.value {
                Value::Json(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            kept,
            [
                Some(r#"{"id":"n0","x":300,"data":{"t":0.2,"p":[1000.0,0,7,31,0.5,true,null]}}"#),
                Some("{\"id\":\"n\u{e9}\",\"e\":{},\"l\":[]}"),
                // What the tree is needed for: an interpolation, a value JSON does not have;
                // and what is not JSON. (A name written twice leaves the whole text to the
                // YAML parser, which reports it.)
                None,
                Some(r#"{"id":"esc\n"}"#),
                None,
                None,
                Some(r#"["a",["b"]]"#),
            ]
        );
        assert!(matches!(entries[1].value.value, Value::Json(_)), "edges");
        // A list of nothing but JSON flows is one text.
        assert_eq!(
            entries[2].value.value,
            Value::Json(r#"[{"a":[1]},[]]"#.into())
        );
        assert!(
            matches!(
                flow.get("features").expect("features").value.value,
                Value::Map(_)
            ),
            "only below the graph"
        );
    }

    #[test]
    fn a_definition_of_the_common_shape_reads_as_the_yaml_parser_reads_it() {
        let text = "# An agent.\nkind: agent\nkey: a-1   # its key\nname: 'It''s \u{e9}'\n\
                    description: Answers questions:briefly, http://x\ntags: [bench, group-1, \"q\"]\n\
                    count: 0x1F\nratio: -1.5e3\nflow:\n  mode: chat\n\n  features: {opening_statement: \"Hello \u{1f916} #1\", on: true}\n\
                    \x20 graph:\n    nodes:\n      - {\"id\":\"n0\",\"x\":300,\"data\":{\"t\":0.2,\"p\":[]}}\n\
                    \x20     - {\"id\": \"n1\", \"e\": {}}\n    edges:\n    - a\n    - b: 1\n      c: ~\n      d:\n        - x\n    - 'z'\nlast: null\n";
        assert!(agree(text));
    }

    #[test]
    fn block_scalars_read_as_the_yaml_parser_reads_them() {
        for text in [
            "a: >\n  one\n  two\n\n  three\n    spaced\n  four\n\n\nb: >-\n  x\n  y\nc: >+\n  z\n\n",
            "a:\n- >\n  one\n\n    two\n  three\n",
            "a:\n  b: |-\n    line one\n\n    # two\n      three  \n  c: 1\n",
            "a: |\n  x\n\n\nb: 1\n",
            "a:\nb:   # c\nc:\n  d:\n\n  # e\n  f:\ng:\n- h:\n- i\nj:",
            "a: |+\n  x\n\n\nb: 1\n",
            "a: |  # c\n  x\n",
            "a: |\n  x",
            "a: |+\n  x\n",
            "a:\n- |\n  x\n- y\n",
            "a:\n  - |-\n    \u{e9}\n    z\n# c\nb: |\n  y\n",
            "a: \"x\"  \nb: 'y'  # c\nc: {d: \"x\" , e: [ 'f' ]}\nd:\n- \"x\"  \n",
            "a:\n  b: |\n    x\n  # c\n  d: 1\n",
            "p: \"Line\\none \\u00e9 \\\"q\\\" \\/ \\t\"\nn: [{\"k\": \"\\\\\"}]\n",
        ] {
            assert!(agree(text), "{text:?}");
        }
        for text in [
            "a: |2\n   x\n",
            "a: |\n\n  x\n",
            "a: |\n  x\n   \n",
            "a: >1\n  x\n",
            "a: |\nb: 1\n",
        ] {
            assert!(!agree(text), "{text:?}");
        }
    }

    #[test]
    fn other_forms_are_left_to_the_yaml_parser() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: >2\n   text\n",
            "a: two\n  lines\n",
            "a: \"esc\\e\"\n",
            "a: \"half \\ud83d\"\n",
            "a: 1\na: 2\n",
            "- a\n",
            "---\na: 1\n",
            "a: {b: [1,\n  2]}\n",
            "a: b: c\n",
            "\"q\": 1\n",
            "a:\tb\n",
            "a: {b:1}\n",
            "a: [b: 1]\n",
        ] {
            assert!(!agree(text), "{text}");
        }
    }

    #[test]
    fn the_repository_s_own_yaml_files_read_as_the_yaml_parser_reads_them() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut other = Vec::new();
        for dir in ["agents", "voice-agents", "examples"] {
            for entry in walkdir::WalkDir::new(root.join(dir)) {
                let path = entry.expect("a readable directory").into_path();
                if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    let text = std::fs::read_to_string(&path).expect("a readable file");
                    if !agree(&text) {
                        other.push(path.strip_prefix(root).unwrap_or(&path).to_owned());
                    }
                }
            }
        }
        let text = std::fs::read_to_string(root.join("agentsync.yaml")).expect("the configuration");
        assert!(agree(&text), "the configuration is of the common shape");
        // Every example definition is; a multi-document manifest and a CI file with anchors
        // are not.
        assert!(
            other.iter().all(|path| path.starts_with("examples")),
            "example definitions not of the common shape: {other:?}"
        );
    }

    /// A document with `value` under each of `names`.
    fn document(
        names: &[String],
        value: &serde_json::Value,
    ) -> serde_json::Map<String, serde_json::Value> {
        names
            .iter()
            .map(|name| (name.clone(), value.clone()))
            .collect()
    }

    /// Writes `value` as YAML in the styles `styles` picks, one pick per choice (cycling): not
    /// always the YAML meant (the two parsers are compared, not the emitter), but every form
    /// the common reader knows, mixed.
    struct Styled<'s> {
        styles: &'s [u8],
        next: usize,
        out: String,
    }

    impl Styled<'_> {
        fn pick(&mut self, choices: u8) -> u8 {
            let pick = self.styles[self.next % self.styles.len()] % choices;
            self.next += 1;
            pick
        }

        fn scalar(&mut self, value: &serde_json::Value, flow: bool) -> String {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => return other.to_string(),
            };
            match self.pick(4) {
                // Whatever it holds: the YAML parser may read it otherwise, or refuse it.
                3 if !text.contains('\n') => text,
                0 if crate::text::yaml_emit::plain_safe(&text)
                    && !(flow && text.contains([',', '[', ']', '{', '}'])) =>
                {
                    text
                }
                1 if !text.contains('\n') => format!("'{}'", text.replace('\'', "''")),
                _ => serde_json::to_string(&text).unwrap(),
            }
        }

        fn flow(&mut self, value: &serde_json::Value) -> String {
            match value {
                serde_json::Value::Object(map) => {
                    let members: Vec<String> = map
                        .iter()
                        .map(|(k, v)| {
                            let key = self.scalar(&serde_json::Value::String(k.clone()), true);
                            format!("{key}: {}", self.flow(v))
                        })
                        .collect();
                    let pad = if self.pick(2) == 0 { "" } else { " " };
                    format!("{{{pad}{}{pad}}}", members.join(", "))
                }
                serde_json::Value::Array(items) => {
                    let items: Vec<String> = items.iter().map(|v| self.flow(v)).collect();
                    format!("[{}]", items.join(", "))
                }
                scalar => self.scalar(scalar, true),
            }
        }

        /// `value` after `key:` or `- ` at indentation `indent`.
        fn after(&mut self, value: &serde_json::Value, indent: usize) {
            let pad = " ".repeat(indent);
            match value {
                serde_json::Value::Object(map) if !map.is_empty() && self.pick(2) == 0 => {
                    self.out.push('\n');
                    self.block_map(map, indent + 2);
                }
                serde_json::Value::Array(items) if !items.is_empty() && self.pick(2) == 0 => {
                    self.out.push('\n');
                    let inner = if self.pick(2) == 0 {
                        indent
                    } else {
                        indent + 2
                    };
                    for item in items {
                        self.out.push_str(&format!("{}- ", " ".repeat(inner)));
                        self.after(item, inner + 2);
                    }
                }
                serde_json::Value::String(text) if text.contains('\n') && self.pick(2) == 0 => {
                    let style = ["|", ">"][usize::from(self.pick(2))];
                    let chomp = ["", "-", "+"][usize::from(self.pick(3))];
                    self.out.push_str(&format!("{style}{chomp}\n"));
                    for line in text.split('\n') {
                        self.out.push_str(&format!("{pad}  {line}\n"));
                    }
                }
                serde_json::Value::Null if self.pick(3) == 0 => self.out.push('\n'),
                other => {
                    let text = self.flow(other);
                    let comment = if self.pick(4) == 0 { "  # note" } else { "" };
                    self.out
                        .push_str(format!(" {text}{comment}\n").trim_start());
                    if !self.out.ends_with('\n') {
                        self.out.push('\n');
                    }
                }
            }
        }

        fn block_map(&mut self, map: &serde_json::Map<String, serde_json::Value>, indent: usize) {
            for (key, value) in map {
                self.out.push_str(&format!("{}{key}: ", " ".repeat(indent)));
                self.after(value, indent);
            }
        }
    }

    proptest! {
        /// Documents in every mix of the styles the common reader knows.
        #[test]
        fn any_mix_of_styles_reads_as_the_yaml_parser_reads_it(
            value in crate::arbitrary::json_value(
                "[a-z_]{1,4}|[0-9.e/-]{1,4}|true|null|~",
                "[a-z $:#'\u{e9}\"\\\\\n\t,\\[\\]{}?&*!|>%@`-]{0,12}|-?[0-9]{1,3}|true|null",
            ),
            names in prop::collection::vec("[a-z_]{1,5}|[0-9.e]{1,3}", 1..4),
            styles in prop::collection::vec(any::<u8>(), 1..16),
        ) {
            let root = document(&names, &value);
            let mut styled = Styled { styles: &styles, next: 0, out: String::new() };
            styled.block_map(&root, 0);
            agree(&styled.out);
            keeping_json_agrees(&styled.out, [&names[0]]);
        }
    }

    proptest! {
        /// A document in a mix of styles with one character put in, or one taken out: most
        /// such texts are broken, and the common reader must give up on every one the YAML
        /// parser refuses or reads otherwise.
        #[test]
        fn a_document_with_one_character_changed_reads_as_the_yaml_parser_reads_it(
            value in crate::arbitrary::json_value("[a-z_]{1,4}", "[a-z :#'\"-]{0,8}|-?[0-9]{1,3}"),
            styles in prop::collection::vec(any::<u8>(), 1..16),
            at in any::<prop::sample::Index>(),
            put in prop::option::of(prop::sample::select(
                &[' ', '\n', '-', ':', '#', '"', '\'', '[', ']', '{', '}', ',', '|', '>', '&', '*', '!', '?', 'a', '\u{0}', '\u{1b}', '\u{7f}'][..],
            )),
        ) {
            let mut styled = Styled { styles: &styles, next: 0, out: String::new() };
            styled.block_map(&document(&["k".to_owned(), "l".to_owned()], &value), 0);
            let mut text = styled.out;
            crate::arbitrary::change_one_character(&mut text, at, put);
            agree(&text);
            keeping_json_agrees(&text, ["k"]);
            // A control character is refused, whichever reader would have read the text.
            if text.bytes().any(super::super::is_control) {
                let refused = super::super::parse_keeping_json(&text, &[&["k"]]);
                prop_assert!(
                    matches!(refused, Err(super::super::YamlError::ControlCharacter { .. })),
                    "{:?}: {:?}", text, refused
                );
            }
        }
    }

    proptest! {
        // Most such texts are given up on, hence the many cases.
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Lines of YAML's characters in any order: whatever the common reader accepts, the
        /// YAML parser reads the same (or the common reader must have given up).
        #[test]
        fn any_text_it_reads_is_read_as_the_yaml_parser_reads_it(
            lines in prop::collection::vec(
                prop_oneof![
                    3 => "[a-c]{1,2}:( [a-c0-9 ]{0,4})?",
                    3 => "(  ){0,2}[a-c]{1,2}: [a-c0-9 ]{0,3}[a-c0-9:#{}\\[\\],'\" |+>&*!?%@`\\\\-]{0,3}",
                    2 => "(  ){0,2}- ?[a-c0-9:#{}\\[\\],'\" -]{0,8}",
                    1 => " {0,4}(- )?[a-c]{0,2}:? ?[|>][-+]?( #)?",
                    1 => " {0,6}[a-c0-9#\"\\\\ ]{0,6}",
                    1 => Just(String::new()),
                ],
                1..10,
            )
        ) {
            agree(&(lines.join("\n") + "\n"));
        }
    }

    proptest! {
        /// What the exporter writes, and graphs written as one flow mapping per line.
        #[test]
        fn any_document_reads_as_the_yaml_parser_reads_it(
            value in crate::arbitrary::json_value(
                "[a-z_]{1,4}|[a-z ]{1,3}|[0-9]{1,2}",
                "[a-z $:#'/\u{e9}\u{1f916}\"\\\\\n\t\u{1}\u{8}\u{c}\r-]{0,12}|-?[0-9]{1,3}|true|null|~",
            ),
            names in prop::collection::vec("[a-z_]{1,5}", 1..4),
        ) {
            let root = document(&names, &value);
            let exported = crate::text::yaml_emit::to_string(&serde_json::Value::Object(root.clone()));
            agree(&exported);
            for indent in ["  ", ""] {
                let mut flows = String::from("graph:\n  nodes:\n");
                for name in &names {
                    let node = serde_json::json!({ name: value.clone() }).to_string();
                    // Editors write `{"a":1}`, people `{ "a": 1 }`.
                    let node = if indent.is_empty() {
                        node.replacen('{', "{  ", 1).replace(",\"", ", \"").replace('[', "[ ")
                    } else {
                        node
                    };
                    flows.push_str(&format!("  {indent}- {node}\n"));
                }
                agree(&flows);
                keeping_json_agrees(&flows, ["graph"]);
            }
        }
    }
}
