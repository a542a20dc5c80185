//! JSON text read in one pass into the text a [`Content`](crate::model::content::Content) is
//! made of (compact), or into the canonical text its digest is taken of, without building a tree.
//!
//! `TextWriter` is the one place that says what canonical means: members sorted by name, `null`
//! members dropped, integral floats below 1e15 written as integers, an object of a kilobyte or
//! more standing as its own digest (`HASHED_ALONE`). It is driven by the JSON
//! reader here, by the definition loader over a YAML tree, and by [`TextWriter::value`] over a
//! `serde_json` tree. Contents are written compact; the canonical text is made from the compact
//! one, and only when a digest is asked for (two equal texts need none to be compared).

use std::io::Write as _;
use std::ops::Range;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use sha2::{Digest as _, Sha256};

/// A JSON value as compact text, and what was seen on the way.
#[derive(Debug, Default)]
pub struct JsonText {
    /// Compact JSON, members in their order, `null`s kept.
    pub compact: String,
    /// Some string value holds a `$` (it may hold a `${...}` to interpolate).
    pub dollar: bool,
    /// Some mapping names a member twice.
    pub duplicate_key: bool,
    /// Some integer is above `i64::MAX`, or some number is a float of an integer's size (it may
    /// have been written as an integer beyond 64 bits, which serde_json reads as a float): the
    /// YAML loader refuses integers beyond 64 bits, so it decides.
    pub huge_integer: bool,
    /// The value is an object (a document).
    pub is_object: bool,
    /// Where each member of the object (`"name":value`) lies in `compact`: two documents whose
    /// members are the same texts in another order say the same, and finding that out this
    /// way needs no canonical text.
    pub members: Vec<Range<usize>>,
}

/// Reads `text`, which must hold exactly one JSON value, into its compact text.
pub fn read(text: &str) -> Result<JsonText, serde_json::Error> {
    let mut writer = TextWriter::with_capacity(text.len());
    // Only text can name a member twice (YAML and `serde_json` trees cannot).
    writer.track_names = true;
    let mut scan = Scan {
        text,
        end: text.len(),
        depth: 0,
        max_depth: SCAN_DEPTH,
        nodes: 0,
        max_nodes: usize::MAX,
        word: json_word,
    };
    let start = scan.skip_space(0);
    if !super::reference_readers()
        && let Some(end) = scan.value(&mut writer, start)
        && scan.skip_space(end) == text.len()
    {
        return Ok(writer.finish());
    }
    // What the scan gives up on, serde_json reads (or reports) from the start.
    writer.clear();
    write_from_text(&mut writer, text, false)?;
    Ok(writer.finish())
}

/// SHA-256 of the canonical text of the JSON value in `text`.
pub fn digest(text: &str) -> Result<[u8; 32], serde_json::Error> {
    Ok(Sha256::digest(canonical(text)?).into())
}

/// The canonical text of the JSON value in `text`.
fn canonical(text: &str) -> Result<Vec<u8>, serde_json::Error> {
    let mut writer = TextWriter {
        out: Vec::with_capacity(text.len()),
        canonical: true,
        track_names: true,
        ..TextWriter::default()
    };
    // Contents nest as deep as the YAML loader allows (`yaml::MAX_DEPTH`), deeper than
    // serde_json's default limit; what is read here is a content's own compact text.
    write_from_text(&mut writer, text, true)?;
    Ok(writer.out)
}

fn write_from_text(
    writer: &mut TextWriter,
    text: &str,
    unlimited_depth: bool,
) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    if unlimited_depth {
        deserializer.disable_recursion_limit();
    }
    ValueSeed { writer }.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// An object whose canonical text reaches this many bytes is hashed on its own, and stands in
/// its parent's canonical text as `#` and its 32-byte SHA-256 (`#` starts no JSON value, so
/// the form stays unambiguous). Its members are then hashed where they lie, in sorted order,
/// rather than copied into that order: a large graph is reordered once, not at every level.
const HASHED_ALONE: usize = 1024;

/// Up to this many members, names written twice are found without sorting them.
const SMALL_OBJECT: usize = 8;

/// Writes one JSON value, piece by piece, as compact or as canonical text: what a reader of
/// JSON text (below) or of a YAML tree (the definition loader) calls as it walks the value.
#[derive(Default)]
pub struct TextWriter {
    out: Vec<u8>,
    /// Canonical text rather than compact.
    canonical: bool,
    /// Note each object's member names (canonical order needs them; compact text only to find
    /// a name written twice).
    track_names: bool,
    /// The members of every object being written, innermost last (when names are tracked).
    members: Vec<Member>,
    /// Reused to reorder the members of each small object.
    scratch: Vec<u8>,
    /// Objects and arrays open.
    depth: usize,
    /// The members of the outermost object, with where the last one starts.
    root_members: Vec<Range<usize>>,
    root_member_open: Option<usize>,
    dollar: bool,
    duplicate_key: bool,
    huge_integer: bool,
}

/// One member of an object being written, as ranges of the text.
struct Member {
    /// The name, escaped: escaping is injective and deterministic, so the escaped names sort
    /// in an order that depends on the names alone, and are equal exactly when they are.
    name: Range<usize>,
    /// `"name":value`.
    text: Range<usize>,
    /// The value is `null`: the same as an absent member, but its name still counts when
    /// looking for names written twice.
    null: bool,
}

/// An object being written: where its text starts, where its members start in
/// `TextWriter::members`, whether a member was written yet, and the member whose value is
/// being written (where its name and its value start).
pub struct ObjectMark {
    start: usize,
    first: usize,
    empty: bool,
    open: Option<(usize, usize)>,
}

/// An array being written: whether an element was written yet.
pub struct ArrayMark {
    empty: bool,
}

impl TextWriter {
    /// A writer of compact text of about `size` bytes, so that it grows once.
    pub fn with_capacity(size: usize) -> TextWriter {
        TextWriter {
            out: Vec::with_capacity(size),
            ..TextWriter::default()
        }
    }

    /// A writer of compact text that notes a member name written twice (which JSON text can
    /// do and a YAML tree cannot), to write one value after another with [`TextWriter::clear`].
    pub fn finding_duplicate_names() -> TextWriter {
        TextWriter {
            track_names: true,
            ..TextWriter::default()
        }
    }

    /// The compact text written so far.
    pub fn compact_so_far(&self) -> &str {
        // Only strings and ASCII punctuation were written.
        std::str::from_utf8(&self.out).unwrap_or_default()
    }

    /// Some object written since the last [`TextWriter::clear`] names a member twice.
    pub fn duplicate_name_seen(&self) -> bool {
        self.duplicate_key
    }

    /// Forgets what was written (keeping the buffers), to write another value.
    pub fn clear(&mut self) {
        self.out.clear();
        self.members.clear();
        self.root_members.clear();
        self.root_member_open = None;
        self.depth = 0;
        self.dollar = false;
        self.duplicate_key = false;
        self.huge_integer = false;
    }

    /// The compact text written, and what was seen on the way.
    pub fn finish(self) -> JsonText {
        debug_assert!(!self.canonical, "canonical text is only ever hashed");
        // Only `serde_json`'s escaping and ASCII punctuation were written.
        let compact = String::from_utf8(self.out).unwrap_or_default();
        JsonText {
            is_object: compact.starts_with('{'),
            compact,
            dollar: self.dollar,
            duplicate_key: self.duplicate_key,
            huge_integer: self.huge_integer,
            members: self.root_members,
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    pub fn null(&mut self) {
        self.put(b"null");
    }

    pub fn bool(&mut self, b: bool) {
        self.put(if b { b"true" } else { b"false" });
    }

    pub fn string(&mut self, text: &str) {
        self.dollar |= text.contains('$');
        self.escaped(text);
    }

    /// A string that JSON text held without an escape, so none is needed to write it.
    pub fn plain_string(&mut self, text: &str) {
        self.dollar |= text.contains('$');
        self.unescaped(text);
    }

    fn escaped(&mut self, text: &str) {
        if needs_escape(text.as_bytes()) {
            // Escaping into a `Vec` cannot fail.
            let _ = serde_json::to_writer(&mut self.out, text);
        } else {
            self.unescaped(text);
        }
    }

    /// What serde_json writes for a string with nothing to escape.
    fn unescaped(&mut self, text: &str) {
        self.out.reserve(text.len() + 2);
        self.out.push(b'"');
        self.out.extend_from_slice(text.as_bytes());
        self.out.push(b'"');
    }

    pub fn number(&mut self, number: &serde_json::Number) {
        self.huge_integer |= match number.as_f64() {
            _ if number.is_u64() => number.as_i64().is_none(),
            Some(f) if number.is_f64() => f.fract() == 0.0 && f.abs() >= 9.2e18,
            _ => false,
        };
        let _ = match number.as_f64() {
            Some(f) if self.canonical && number.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                write!(self.out, "{}", f as i64)
            }
            _ => serde_json::to_writer(&mut self.out, number).map_err(std::io::Error::other),
        };
    }

    /// A whole tree.
    pub fn value(&mut self, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => self.number(n),
            Value::String(text) => self.string(text),
            Value::Array(items) => {
                let mut array = self.begin_array();
                for item in items {
                    self.element(&mut array);
                    self.value(item);
                }
                self.end_array(array);
            }
            Value::Object(members) => {
                let mut object = self.begin_object();
                for (name, value) in members {
                    self.member(&mut object, name);
                    self.value(value);
                }
                self.end_object(object);
            }
        }
    }

    /// A value another writer wrote.
    pub fn text(&mut self, json: &JsonText) {
        debug_assert!(!self.canonical, "canonical text is made from compact text");
        self.put(json.compact.as_bytes());
        self.dollar |= json.dollar;
        self.duplicate_key |= json.duplicate_key;
        self.huge_integer |= json.huge_integer;
    }

    /// A value's compact text as [`TextWriter::compact_so_far`] gave it, from a writer that saw
    /// no `$`, no name written twice and no integer above `i64::MAX`.
    pub fn compact_value(&mut self, compact: &str) {
        debug_assert!(!self.canonical, "canonical text is made from compact text");
        self.put(compact.as_bytes());
    }

    pub fn begin_array(&mut self) -> ArrayMark {
        self.depth += 1;
        self.put(b"[");
        ArrayMark { empty: true }
    }

    /// Before each element.
    pub fn element(&mut self, array: &mut ArrayMark) {
        if !array.empty {
            self.put(b",");
        }
        array.empty = false;
    }

    pub fn end_array(&mut self, _array: ArrayMark) {
        self.depth -= 1;
        self.put(b"]");
    }

    pub fn begin_object(&mut self) -> ObjectMark {
        self.depth += 1;
        let start = self.out.len();
        self.put(b"{");
        ObjectMark {
            start,
            first: self.members.len(),
            empty: true,
            open: None,
        }
    }

    /// Before each member's value.
    pub fn member(&mut self, object: &mut ObjectMark, name: &str) {
        self.member_named(object, |writer| writer.escaped(name));
    }

    /// [`TextWriter::member`] for a name that JSON text held without an escape.
    pub fn plain_member(&mut self, object: &mut ObjectMark, name: &str) {
        self.member_named(object, |writer| writer.unescaped(name));
    }

    fn member_named(&mut self, object: &mut ObjectMark, write_name: impl FnOnce(&mut TextWriter)) {
        self.close_member(object);
        self.close_root_member();
        if !object.empty {
            self.put(b",");
        }
        object.empty = false;
        let from = self.out.len();
        if self.depth == 1 {
            self.root_member_open = Some(from);
        }
        write_name(self);
        self.put(b":");
        if self.track_names {
            object.open = Some((from, self.out.len()));
        }
    }

    fn close_root_member(&mut self) {
        if self.depth == 1
            && let Some(from) = self.root_member_open.take()
        {
            self.root_members.push(from..self.out.len());
        }
    }

    fn close_member(&mut self, object: &mut ObjectMark) {
        if let Some((from, value_at)) = object.open.take() {
            self.members.push(Member {
                name: from..value_at - 1,
                text: from..self.out.len(),
                // Only canonical text drops `null` members.
                null: self.canonical && &self.out[value_at..] == b"null",
            });
        }
    }

    /// Notes a name written twice; in canonical text, also puts the object's members in
    /// canonical order (sorted, `null`s dropped), and hashes one that is large enough on its
    /// own (see `HASHED_ALONE`).
    pub fn end_object(&mut self, mut object: ObjectMark) {
        self.close_member(&mut object);
        self.close_root_member();
        self.depth -= 1;
        self.put(b"}");
        if !self.track_names {
            return;
        }
        let out = &self.out;
        let members = &mut self.members[object.first..];
        let name = |m: &Member| &out[m.name.clone()];
        if !self.canonical && members.len() <= SMALL_OBJECT {
            // Compared pairwise, most pairs by their length and first letter alone (a name
            // is quoted, so has at least two bytes): cheaper than sorting.
            let twice = members.iter().enumerate().any(|(i, a)| {
                members[i + 1..].iter().any(|b| {
                    a.name.len() == b.name.len()
                        && out[a.name.start + 1] == out[b.name.start + 1]
                        && name(a) == name(b)
                })
            });
            self.duplicate_key |= twice;
            self.members.truncate(object.first);
            return;
        }
        let sorted = members.windows(2).all(|w| name(&w[0]) < name(&w[1]));
        if !sorted {
            members.sort_unstable_by(|a, b| name(a).cmp(name(b)));
            if members.windows(2).any(|w| name(&w[0]) == name(&w[1])) {
                self.duplicate_key = true;
            }
        }
        if self.canonical {
            let in_order = sorted && !members.iter().any(|m| m.null);
            self.write_canonical_object(object.start, object.first, in_order);
        }
        self.members.truncate(object.first);
    }

    /// Replaces the object written from `start`, whose members (sorted by name) are those
    /// from `first`, by its canonical form.
    fn write_canonical_object(&mut self, start: usize, first: usize, in_order: bool) {
        let out = &self.out;
        let kept = || {
            self.members[first..]
                .iter()
                .filter(|m| !m.null)
                .map(|m| &out[m.text.clone()])
        };
        let size = if in_order {
            out.len() - start
        } else {
            kept().map(|text| text.len() + 1).sum::<usize>() + 1
        };
        if size >= HASHED_ALONE {
            let mut hasher = Sha256::new();
            if in_order {
                hasher.update(&out[start..]);
            } else {
                hasher.update(b"{");
                for (i, text) in kept().enumerate() {
                    if i > 0 {
                        hasher.update(b",");
                    }
                    hasher.update(text);
                }
                hasher.update(b"}");
            }
            let digest = hasher.finalize();
            self.out.truncate(start);
            self.out.push(b'#');
            self.out.extend_from_slice(&digest);
        } else if !in_order {
            self.scratch.clear();
            self.scratch.push(b'{');
            for (i, text) in kept().enumerate() {
                if i > 0 {
                    self.scratch.push(b',');
                }
                self.scratch.extend_from_slice(text);
            }
            self.scratch.push(b'}');
            self.out.truncate(start);
            self.out.extend_from_slice(&self.scratch);
        }
    }
}

/// Whether JSON must escape some byte of `bytes`: a quote, a backslash or a control character.
fn needs_escape(bytes: &[u8]) -> bool {
    escape_or(bytes, b'"').is_some()
}

/// Where the first byte of `bytes` stands that JSON must escape (a quote, a backslash or a
/// control character) or that is `also`. Eight bytes at a time: strings are most of a graph's
/// text.
pub(crate) fn escape_or(bytes: &[u8], also: u8) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // The high bit of each byte of `word` below `n` (n <= 0x80), by the classic bit trick: a
    // borrow may mark a byte after a marked one, never one before the first.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let equal = |word: u64, b: u8| below(word ^ (ONES * u64::from(b)), 1);
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let found = below(word, 0x20) | equal(word, b'"') | equal(word, b'\\') | equal(word, also);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\' || b == also)
        .map(|i| at + i)
}

/// The text of a JSON string (between its quotes) whose escapes are all JSON's: `None` for any
/// other, and for a `\\u` of half a surrogate pair (which YAML reads otherwise, and which JSON
/// pairs; [`Scan`] leaves such a string to a full reader).
pub(crate) fn unescape(inner: &str) -> Option<String> {
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        text.push(match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hex = chars.as_str().get(..4)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                chars = chars.as_str()[4..].chars();
                char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
            }
            _ => return None,
        });
    }
    Some(text)
}

/// What a word (a value that is neither a string, nor a list, nor a mapping: `true`, `12`, ...)
/// means where the text is scanned, written; `None` when [`Scan`] must give up on it.
pub(crate) type Word = fn(&str, &mut TextWriter) -> Option<()>;

/// Reads one JSON value from text straight into a writer, giving up (`None`) on anything it
/// does not know: a string value holding a `$` (which may be an interpolation), one with an escape
/// JSON does not have, nesting beyond `max_depth`, more than `max_nodes` values, a word its
/// `word` refuses, and anything that is not JSON, which a full reader then reads, or reports.
/// It is several times quicker than serde_json's reader driving the writer, and shared by the
/// JSON reader here and the YAML reader's one-line flows (with their own words), so that each
/// writes what its full reader would.
pub(crate) struct Scan<'t> {
    pub text: &'t str,
    /// Where the scan stops (the end of the line, for a flow in YAML).
    pub end: usize,
    pub depth: usize,
    pub max_depth: usize,
    /// Values (and member names) read, as a YAML tree counts its nodes.
    pub nodes: usize,
    pub max_nodes: usize,
    pub word: Word,
}

impl<'t> Scan<'t> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes()[..self.end].get(at).copied()
    }

    /// Where the first byte after `at` stands that is not JSON's white space.
    pub fn skip_space(&self, mut at: usize) -> usize {
        let bytes = &self.text.as_bytes()[..self.end];
        while let Some(byte) = bytes.get(at) {
            match byte {
                // Indentation, eight spaces at a time: a third of a pretty-printed graph.
                b' ' if bytes.get(at..at + 8) == Some(b"        ") => at += 8,
                b' ' | b'\n' | b'\r' | b'\t' => at += 1,
                _ => break,
            }
        }
        at
    }

    fn counted(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.max_nodes).then_some(())
    }

    /// Writes the value at `at`; where it ends.
    pub fn value(&mut self, writer: &mut TextWriter, at: usize) -> Option<usize> {
        self.counted()?;
        match self.byte(at)? {
            b'{' => self.object(writer, at),
            b'[' => self.array(writer, at),
            b'"' => {
                let (text, end) = self.string(at, false)?;
                match text {
                    Some(text) => writer.string(&text),
                    None => writer.plain_string(&self.text[at + 1..end - 1]),
                }
                Some(end)
            }
            _ => {
                let bytes = &self.text.as_bytes()[..self.end];
                let mut end = at;
                while end < self.end
                    && (bytes[end].is_ascii_alphanumeric()
                        || matches!(bytes[end], b'.' | b'+' | b'-'))
                {
                    end += 1;
                }
                if !matches!(
                    bytes.get(end),
                    None | Some(b' ' | b'\n' | b'\r' | b'\t' | b',' | b']' | b'}')
                ) {
                    return None;
                }
                (self.word)(&self.text[at..end], writer)?;
                Some(end)
            }
        }
    }

    /// The string whose quote is at `at`: its text when it has an escape (`None` when it has
    /// none, and stands as it is between its quotes), and where it ends. A `$` ends the scan in
    /// a value, not in a member's name (names are never interpolated).
    fn string(&self, at: usize, name: bool) -> Option<(Option<String>, usize)> {
        let bytes = &self.text.as_bytes()[..self.end];
        let stop_at = if name { b'"' } else { b'$' };
        let mut from = at + 1;
        let mut escaped = false;
        loop {
            let stop = from + escape_or(&bytes[from..], stop_at)?;
            match bytes[stop] {
                b'"' => {
                    let text = escaped
                        .then(|| unescape(&self.text[at + 1..stop]))
                        .map_or(Some(None), |text| text.map(Some))?;
                    return Some((text, stop + 1));
                }
                b'\\' if stop + 1 < self.end => {
                    escaped = true;
                    from = stop + 2;
                }
                _ => return None,
            }
        }
    }

    fn deeper(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= self.max_depth).then_some(())
    }

    fn object(&mut self, writer: &mut TextWriter, at: usize) -> Option<usize> {
        self.deeper()?;
        let mut object = writer.begin_object();
        let mut next = self.skip_space(at + 1);
        if self.byte(next) == Some(b'}') {
            next += 1;
        } else {
            loop {
                if self.byte(next) != Some(b'"') {
                    return None;
                }
                let (name, end) = self.string(next, true)?;
                self.counted()?;
                let colon = self.skip_space(end);
                if self.byte(colon) != Some(b':') {
                    return None;
                }
                match name {
                    Some(name) => writer.member(&mut object, &name),
                    None => writer.plain_member(&mut object, &self.text[next + 1..end - 1]),
                }
                let end = self.value(writer, self.skip_space(colon + 1))?;
                let end = self.skip_space(end);
                match self.byte(end)? {
                    b',' => next = self.skip_space(end + 1),
                    b'}' => {
                        next = end + 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        writer.end_object(object);
        self.depth -= 1;
        Some(next)
    }

    fn array(&mut self, writer: &mut TextWriter, at: usize) -> Option<usize> {
        self.deeper()?;
        let mut array = writer.begin_array();
        let mut next = self.skip_space(at + 1);
        if self.byte(next) == Some(b']') {
            next += 1;
        } else {
            loop {
                writer.element(&mut array);
                let end = self.value(writer, next)?;
                let end = self.skip_space(end);
                match self.byte(end)? {
                    b',' => next = self.skip_space(end + 1),
                    b']' => {
                        next = end + 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        writer.end_array(array);
        self.depth -= 1;
        Some(next)
    }
}

/// A number, `true`, `false` or `null` in JSON text, as serde_json reads it.
fn json_word(word: &str, writer: &mut TextWriter) -> Option<()> {
    match word {
        "true" => writer.bool(true),
        "false" => writer.bool(false),
        "null" => writer.null(),
        // A position or a count: what serde_json makes of it, without its reader.
        _ if word.len() < 19
            && word.bytes().all(|b| b.is_ascii_digit())
            && (word == "0" || !word.starts_with('0')) =>
        {
            writer.number(&word.parse::<u64>().ok()?.into());
        }
        _ => writer.number(&serde_json::from_str(word).ok()?),
    }
    Some(())
}

/// Nesting the scan reads; deeper text is left to serde_json, whose limit is higher.
const SCAN_DEPTH: usize = 64;

struct ValueSeed<'w> {
    writer: &'w mut TextWriter,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A member's name, borrowed from the text when it has no escape.
enum Name<'de> {
    Borrowed(&'de str),
    Owned(String),
}

struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Name<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Name<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Name<'de>, E> {
        Ok(Name::Borrowed(text))
    }

    fn visit_str<E>(self, text: &str) -> Result<Name<'de>, E> {
        Ok(Name::Owned(text.to_owned()))
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.writer.null();
        Ok(())
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.writer.bool(b);
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.writer.number(&n.into());
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.writer.number(&n.into());
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<(), E> {
        let number = serde_json::Number::from_f64(n)
            .ok_or_else(|| E::custom("infinity and NaN are not JSON"))?;
        self.writer.number(&number);
        Ok(())
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.writer.string(text);
        Ok(())
    }

    /// serde_json lends the string straight from the text only when it held no escape.
    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<(), E> {
        self.writer.plain_string(text);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut array = self.writer.begin_array();
        // The separator is written once an element is known to follow: elements are read
        // straight into the text, so the next one is first peeked at by `next_element_seed`.
        loop {
            let before = self.writer.out.len();
            let was_empty = array.empty;
            self.writer.element(&mut array);
            let seed = ValueSeed {
                writer: &mut *self.writer,
            };
            if seq.next_element_seed(seed)?.is_none() {
                self.writer.out.truncate(before);
                array.empty = was_empty;
                break;
            }
        }
        self.writer.end_array(array);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut object = self.writer.begin_object();
        while let Some(name) = map.next_key_seed(NameSeed)? {
            match &name {
                Name::Borrowed(plain) => self.writer.plain_member(&mut object, plain),
                Name::Owned(unescaped) => self.writer.member(&mut object, unescaped),
            }
            map.next_value_seed(ValueSeed {
                writer: &mut *self.writer,
            })?;
        }
        self.writer.end_object(object);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn canonical(text: &str) -> Vec<u8> {
        super::canonical(text).expect("JSON")
    }

    fn hashed(text: &str) -> Vec<u8> {
        [&b"#"[..], &Sha256::digest(text.as_bytes())].concat()
    }

    #[test]
    fn a_small_object_is_written_sorted_without_its_nulls() {
        assert_eq!(
            canonical(r#"{"b": 1, "a": null, "c": [2.0]}"#),
            br#"{"b":1,"c":[2]}"#
        );
    }

    #[test]
    fn an_object_of_a_kilobyte_or_more_stands_as_the_digest_of_its_canonical_text() {
        let big = "x".repeat(HASHED_ALONE);
        let in_order = format!(r#"{{"s":"{big}","t":1}}"#);
        assert_eq!(canonical(&in_order), hashed(&in_order));
        // Reordered while hashed, as if it had been copied into order first.
        assert_eq!(
            canonical(&format!(r#"{{"t": 1, "u": null, "s": "{big}"}}"#)),
            hashed(&in_order)
        );
        // Inside a small parent, which stays text.
        let parent = canonical(&format!(r#"{{"p": {in_order}}}"#));
        assert_eq!(
            parent,
            [&br#"{"p":"#[..], &hashed(&in_order), b"}"].concat()
        );
    }

    proptest! {
        #[test]
        fn a_name_written_twice_is_found_in_small_and_large_objects(
            names in prop::collection::vec("[ab]{1,3}|\"", 0..14),
        ) {
            let members: Vec<String> = names
                .iter()
                .enumerate()
                .map(|(i, name)| format!("{}:{i}", serde_json::to_string(name).unwrap()))
                .collect();
            let text = format!("{{\"o\":{{{}}}}}", members.join(","));
            let unique: std::collections::BTreeSet<&String> = names.iter().collect();
            prop_assert_eq!(read(&text).unwrap().duplicate_key, unique.len() < names.len());
        }

        /// The scan and serde_json write the same, whatever the text: JSON in any layout,
        /// also with one character put in or taken out.
        #[test]
        fn the_scan_reads_what_serde_json_reads(
            value in crate::arbitrary::json_value(
                "[a-z$\"\\\\]{1,3}",
                "[a-z \u{e9}\"\\\\\n\u{1}/]{0,8}|[a-z$]{0,3}|-?[0-9]{1,3}",
            ),
            pretty in any::<bool>(),
            at in any::<prop::sample::Index>(),
            put in prop::option::of(prop::sample::select(
                &[' ', '\n', '"', '\\', ',', ':', '[', ']', '{', '}', '-', '0', 'e', '.', 'u', 't'][..],
            )),
            change in any::<bool>(),
        ) {
            let mut text = crate::arbitrary::json_text(&value, pretty);
            if change {
                crate::arbitrary::change_one_character(&mut text, at, put);
            }
            let mut writer = TextWriter::with_capacity(text.len());
            writer.track_names = true;
            let by_serde = write_from_text(&mut writer, &text, false).map(|()| writer.finish());
            match (read(&text), by_serde) {
                (Ok(read), Ok(by_serde)) => {
                    prop_assert_eq!(&read.compact, &by_serde.compact);
                    prop_assert_eq!(
                        (read.dollar, read.duplicate_key, read.huge_integer, read.is_object),
                        (by_serde.dollar, by_serde.duplicate_key, by_serde.huge_integer, by_serde.is_object)
                    );
                    prop_assert_eq!(read.members, by_serde.members);
                }
                (Err(read), Err(by_serde)) => prop_assert_eq!(read.to_string(), by_serde.to_string()),
                (read, by_serde) => prop_assert!(false, "{:?} vs {:?}", read, by_serde),
            }
        }

        #[test]
        fn needs_escape_finds_exactly_the_bytes_json_escapes(text in "\\PC{0,40}|[\\x00-\\x7f]{0,40}") {
            let naive = text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
            prop_assert_eq!(needs_escape(text.as_bytes()), naive);
        }

        #[test]
        fn escape_or_finds_the_first_byte_json_escapes_or_the_one_asked_for(
            text in "\\PC{0,40}|[\\x00-\\x7f]{0,40}|[a$]{0,20}",
        ) {
            let naive = text
                .bytes()
                .position(|b| b < 0x20 || b == b'"' || b == b'\\' || b == b'$');
            prop_assert_eq!(escape_or(text.as_bytes(), b'$'), naive);
        }
    }
}
