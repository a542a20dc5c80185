//! The layering rules, held by reading the crate's own source:
//!
//! - `sim` imports nothing outside `sim` (sharing types with the client would hide contract
//!   bugs);
//! - the pure core (`engine::plan`, `engine::render`, `model::diff`) names no `tokio`,
//!   `reqwest`, file system, process environment or clock;
//! - a platform's API paths are written only in its own folders (`provider/<platform>`,
//!   `sim/<platform>`);
//! - no module cycles: among the children of any module, dependencies point one way. A module
//!   using its parent's items, or its own children, is not a cycle.
//!
//! Test code (`#[cfg(test)]` items and test-only files) is left out: tests may reach across the
//! layers for fixtures. Comments and literals are blanked before paths are read, so a doc link
//! is not a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Modules whose code must stay pure: no I/O, no clock.
const PURE: &[&str] = &["engine::plan", "engine::render", "model::diff"];

/// Names that mean I/O or a clock, refused in [`PURE`] modules.
const IMPURE: &[&str] = &[
    "tokio",
    "reqwest",
    "std::fs",
    "std::env",
    "std::net",
    "std::process",
    "std::thread",
    "SystemTime",
    "Instant",
    "::now(",
];

/// Each platform's folder name and the prefix of its API paths.
const PLATFORM_PATHS: &[(&str, &str)] = &[
    ("workfx", "/admin/api/"),
    ("agent_workflows", "/workflow"),
    ("agents_v1", "/v1/agents"),
];

type ModPath = Vec<String>;

/// One source file: its module path, its code with comments, literals and test items blanked,
/// and its string literals (from non-test code).
struct Module {
    file: String,
    code: String,
    literals: Vec<String>,
}

/// One module's dependency on another, with the file it was found in.
struct Edge {
    from: ModPath,
    to: ModPath,
    file: String,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits source into code (comments dropped, each string literal written `""` and each
/// character literal `' '`, so braces and quotes inside them mean nothing) and the string
/// literals, each with the offset of its `""` in the code.
fn lex(source: &str) -> (String, Vec<(usize, String)>) {
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut literals = Vec::new();
    let mut i = 0;
    let prev_is_ident = |code: &String| code.chars().last().is_some_and(is_ident);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            code.push(' ');
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !prev_is_ident(&code)
            && raw_string_start(&chars, i + usize::from(c == 'b') + 1).is_some()
        {
            let start = i + usize::from(c == 'b') + 1;
            let hashes = raw_string_start(&chars, start).unwrap_or(0);
            i = start + hashes + 1;
            let mut text = String::new();
            while i < chars.len() {
                if chars[i] == '"'
                    && chars[i + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == '#')
                        .count()
                        == hashes
                {
                    i += 1 + hashes;
                    break;
                }
                text.push(chars[i]);
                i += 1;
            }
            literals.push((code.len(), text));
            code.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            let mut text = String::new();
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if let Some(&ch) = chars.get(i) {
                    text.push(ch);
                }
                i += 1;
            }
            i += 1;
            literals.push((code.len(), text));
            code.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal; `'a` without a closing quote is a lifetime, kept as code.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            code.push_str("' '");
        } else {
            code.push(c);
            i += 1;
        }
    }
    (code, literals)
}

/// At `at`, `#`s then `"`: the number of `#`s.
fn raw_string_start(chars: &[char], at: usize) -> Option<usize> {
    let hashes = chars[at.min(chars.len())..]
        .iter()
        .take_while(|&&c| c == '#')
        .count();
    (chars.get(at + hashes) == Some(&'"')).then_some(hashes)
}

/// Removes every `#[cfg(test)]` item from lexed code; returns the names of test-only child
/// modules declared as `#[cfg(test)] mod name;`.
fn strip_tests(code: &mut String) -> Vec<String> {
    let mut test_children = Vec::new();
    while let Some(at) = code.find("#[cfg(test)]") {
        let bytes = code.as_bytes();
        let mut end = at + "#[cfg(test)]".len();
        let mut depth = 0usize;
        while end < bytes.len() {
            match bytes[end] {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end += 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    end += 1;
                    break;
                }
                _ => {}
            }
            end += 1;
        }
        let item = code[at + "#[cfg(test)]".len()..end].trim();
        if let Some(name) = item
            .strip_prefix("mod ")
            .and_then(|rest| rest.strip_suffix(';'))
        {
            test_children.push(name.trim().to_owned());
        }
        code.replace_range(at..end, &" ".repeat(end - at));
    }
    test_children
}

/// Every module of the library, by path, from the files under `src/`.
fn modules() -> BTreeMap<ModPath, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    let mut pending = vec![(Vec::<String>::new(), src.join("lib.rs"))];
    while let Some((path, file)) = pending.pop() {
        let source = std::fs::read_to_string(&file).expect("a source file reads");
        let (mut code, literals) = lex(&source);
        for child in strip_tests(&mut code) {
            let mut child_path = path.clone();
            child_path.push(child);
            test_only.insert(child_path);
        }
        // A literal inside a test item was blanked with it.
        let literals = literals
            .into_iter()
            .filter(|(at, _)| code.get(*at..at + 2) == Some("\"\""))
            .map(|(_, text)| text)
            .collect();
        let dir = if path.is_empty() || file.ends_with("mod.rs") {
            file.parent().expect("a parent").to_path_buf()
        } else {
            file.with_extension("")
        };
        for child in declared_modules(&code) {
            let mut child_path = path.clone();
            child_path.push(child.clone());
            if test_only.contains(&child_path) {
                continue;
            }
            let flat = dir.join(format!("{child}.rs"));
            let nested = dir.join(&child).join("mod.rs");
            let child_file = if flat.exists() { flat } else { nested };
            pending.push((child_path, child_file));
        }
        let shown = file
            .strip_prefix(&src)
            .unwrap_or(&file)
            .display()
            .to_string();
        found.insert(
            path,
            Module {
                file: format!("src/{shown}"),
                code,
                literals,
            },
        );
    }
    found
}

/// The names in `mod name;` declarations (inline `mod name { .. }` blocks are part of the file).
fn declared_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("mod ") {
        if code[..at].chars().last().is_some_and(is_ident) {
            continue;
        }
        let rest = &code[at + 4..];
        let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        if rest[name.len()..].trim_start().starts_with(';') && !name.is_empty() {
            names.push(name);
        }
    }
    names
}

/// Every path the code names: each `use` tree flattened, and each `crate::`, `super::` or
/// `self::` path written inline.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("use ") {
        if code[..at].chars().last().is_some_and(is_ident) {
            continue;
        }
        let Some(len) = code[at..].find(';') else {
            continue;
        };
        let tree: String = code[at + 4..at + len]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        flatten(&tree, Vec::new(), &mut paths);
    }
    for start in ["crate::", "super::", "self::"] {
        for (at, _) in code.match_indices(start) {
            if code[..at]
                .chars()
                .last()
                .is_some_and(|c| is_ident(c) || c == ':')
            {
                continue;
            }
            let path: Vec<String> = code[at..]
                .split("::")
                .map(|segment| {
                    segment
                        .chars()
                        .take_while(|&c| is_ident(c))
                        .collect::<String>()
                })
                .take_while(|segment| !segment.is_empty())
                .collect();
            paths.push(path);
        }
    }
    paths
}

/// `a::{b, c::{d, e}}` -> `a::b`, `a::c::d`, `a::c::e` (`as` renames and `*` end a path).
fn flatten(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Some(open) = tree.find('{') {
        let mut base = prefix.clone();
        base.extend(segments(&tree[..open]));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut depth = 0;
        let mut from = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    flatten(&inner[from..i], base.clone(), out);
                    from = i + 1;
                }
                _ => {}
            }
        }
        flatten(&inner[from..], base, out);
    } else {
        let mut path = prefix;
        path.extend(segments(tree.split("as").next().unwrap_or(tree)));
        if !path.is_empty() {
            out.push(path);
        }
    }
}

fn segments(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split("::")
        .filter(|s| !s.is_empty() && *s != "*" && *s != "self")
        .map(str::to_owned)
}

/// The module a path names from inside `from`, if it is one of the crate's.
fn resolve(from: &ModPath, path: &[String], known: &BTreeMap<ModPath, Module>) -> Option<ModPath> {
    let (mut base, rest) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (from.clone(), &path[1..]),
        Some("super") => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            let mut base = from.clone();
            base.truncate(from.len().saturating_sub(ups));
            (base, &path[ups..])
        }
        Some(first) => {
            let mut child = from.clone();
            child.push(first.to_owned());
            if !known.contains_key(&child) {
                return None;
            }
            (from.clone(), path)
        }
        None => return None,
    };
    let mut target = base.clone();
    for segment in rest {
        base.push(segment.clone());
        if known.contains_key(&base) {
            target = base.clone();
        } else {
            break;
        }
    }
    Some(target)
}

fn edges(known: &BTreeMap<ModPath, Module>) -> Vec<Edge> {
    let mut edges = Vec::new();
    for (from, module) in known {
        for path in named_paths(&module.code) {
            if let Some(to) = resolve(from, &path, known).filter(|to| to != from) {
                edges.push(Edge {
                    from: from.clone(),
                    to,
                    file: module.file.clone(),
                });
            }
        }
    }
    edges
}

fn shown(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

#[test]
fn the_simulator_imports_nothing_outside_the_simulator() {
    let known = modules();
    let crossing: Vec<String> = edges(&known)
        .into_iter()
        .filter(|e| {
            e.from.first().is_some_and(|m| m == "sim") && e.to.first().is_none_or(|m| m != "sim")
        })
        .map(|e| format!("{} ({}) uses {}", shown(&e.from), e.file, shown(&e.to)))
        .collect();
    assert!(
        crossing.is_empty(),
        "sim must not import the client:\n{}",
        crossing.join("\n")
    );
}

#[test]
fn the_pure_core_names_no_io_and_no_clock() {
    let known = modules();
    let mut found = Vec::new();
    for pure in PURE {
        let path: ModPath = pure.split("::").map(str::to_owned).collect();
        let module = known
            .get(&path)
            .unwrap_or_else(|| panic!("{pure} is a module"));
        for name in IMPURE {
            if module.code.contains(name) {
                found.push(format!("{} names `{name}`", module.file));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the pure core does I/O or reads a clock:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_a_platforms_own_folders_write_its_api_paths() {
    let known = modules();
    let mut found = Vec::new();
    for (path, module) in &known {
        for (platform, prefix) in PLATFORM_PATHS {
            let own = matches!(path.as_slice(), [layer, p, ..] if (layer == "provider" || layer == "sim") && p == platform);
            if !own
                && module
                    .literals
                    .iter()
                    .any(|literal| literal.starts_with(prefix))
            {
                found.push(format!(
                    "{} writes an API path of {platform} ({prefix}...)",
                    module.file
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "platform paths outside their folders:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let known = modules();
    // Among siblings: an edge a::x::.. -> a::y::.. is x -> y under a.
    let mut graph: BTreeMap<ModPath, BTreeMap<ModPath, String>> = BTreeMap::new();
    for edge in edges(&known) {
        let common = edge
            .from
            .iter()
            .zip(&edge.to)
            .take_while(|(a, b)| a == b)
            .count();
        if common == edge.from.len() || common == edge.to.len() {
            continue;
        }
        let from = edge.from[..=common].to_vec();
        let to = edge.to[..=common].to_vec();
        let why = format!(
            "{} -> {} ({})",
            shown(&edge.from),
            shown(&edge.to),
            edge.file
        );
        graph.entry(from).or_default().entry(to).or_insert(why);
    }
    let mut cycles = Vec::new();
    let mut reported = BTreeSet::new();
    for start in graph.keys() {
        if reported.contains(start) {
            continue;
        }
        if let Some(cycle) = cycle_through(start, &graph) {
            reported.extend(cycle.iter().map(|(on, _)| on.clone()));
            let steps: Vec<&str> = cycle.iter().map(|(_, why)| why.as_str()).collect();
            cycles.push(steps.join("\n  "));
        }
    }
    assert!(
        cycles.is_empty(),
        "module cycles:\n  {}",
        cycles.join("\n\n  ")
    );
}

/// A path of edges from `start` back to itself, if there is one: each step's module, and the
/// use that made the edge.
fn cycle_through(
    start: &ModPath,
    graph: &BTreeMap<ModPath, BTreeMap<ModPath, String>>,
) -> Option<Vec<(ModPath, String)>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![(start.clone(), Vec::<(ModPath, String)>::new())];
    while let Some((at, trail)) = stack.pop() {
        for (to, why) in graph.get(&at).into_iter().flatten() {
            let mut trail = trail.clone();
            trail.push((to.clone(), why.clone()));
            if to == start {
                return Some(trail);
            }
            if seen.insert(to.clone()) {
                stack.push((to.clone(), trail));
            }
        }
    }
    None
}

#[test]
fn the_reader_sees_through_comments_literals_and_test_code() {
    let (mut code, literals) = lex(
        "use crate::a::{b, c::{d, e as f}};\n// crate::x\nlet s = \"crate::y\"; let r = r#\"/workflow\"#;\nlet c = '{';\n#[cfg(test)]\nmod tests { use crate::z; }\n",
    );
    strip_tests(&mut code);
    let paths: Vec<String> = named_paths(&code).iter().map(|p| p.join("::")).collect();
    assert!(paths.contains(&"crate::a::b".to_owned()), "{paths:?}");
    assert!(paths.contains(&"crate::a::c::d".to_owned()), "{paths:?}");
    assert!(paths.contains(&"crate::a::c::e".to_owned()), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| p.contains('x') || p.contains('y') || p.contains('z')),
        "{paths:?}"
    );
    let literals: Vec<&str> = literals.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(literals, ["crate::y", "/workflow"]);
}

#[test]
fn every_source_file_but_test_code_is_read() {
    let read: BTreeSet<String> = modules().into_values().map(|m| m.file).collect();
    let mut all = BTreeSet::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ lists") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                    .expect("under the crate");
                all.insert(rel.display().to_string());
            }
        }
    }
    let unread: Vec<&String> = all.difference(&read).collect();
    // The binary, and the files only tests compile.
    let expected = [
        "src/arbitrary.rs",
        "src/architecture.rs",
        "src/export/tests.rs",
        "src/main.rs",
    ];
    assert_eq!(
        unread,
        expected.iter().collect::<Vec<_>>(),
        "files the rules do not see"
    );
}
