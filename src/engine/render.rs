//! Plans as people and programs read them: text for a terminal, JSON for scripts, Markdown for
//! a pull-request comment. Pure: a plan in, a string out.
//!
//! A configuration with `targets:` has one plan per target; [`Targets`] renders them together,
//! each under its target's name. Without `targets:`, the output is the single plan's.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::plan::{ActionKind, AgentPlan, Note, Plan, Summary};
use crate::model::diff::{ChangeKind, FieldChange, ShownValue};

/// Strings longer than this, or with a line break, are shown as a line diff.
const LONG_STRING: usize = 60;
/// Lists and mappings longer than this (as compact JSON) are summarized.
const LONG_VALUE: usize = 80;

/// `text` as it may reach a terminal: every character that a terminal would act on rather than
/// show, or that would hide or reorder what is shown, written as the escape JSON writes for it
/// (`\r`, `\u001b`), as single values already are. Those are the control characters (C0,
/// DEL, C1; line breaks too, so that a value cannot make a line of its own), the bidirectional
/// controls and the invisible format characters. Everything a definition or the platform
/// holds (values, names, paths, ids, messages) goes through here on its way to the terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !hidden(c) {
            out.push(c);
            continue;
        }
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// A text of several lines, each line [`printable`]: only `\n` is left to break lines.
fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a terminal would act on `c` rather than show it, or would show nothing for it.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Arabic letter mark, Mongolian vowel separator.
            '\u{61c}' | '\u{180e}'
            // The zero-width space, left-to-right and right-to-left marks (not the joiners,
            // which emoji sequences and several scripts need).
            | '\u{200b}' | '\u{200e}' | '\u{200f}'
            // Line and paragraph separators, bidirectional embeddings and overrides.
            | '\u{2028}'..='\u{202e}'
            // Invisible operators, bidirectional isolates, deprecated format characters.
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
            // Tag characters.
            | '\u{e0000}'..='\u{e007f}'
        )
}

/// The one-line summary: `Plan: 2 to create, 1 to update, ...`, or `No changes.`
pub fn summary_line(summary: &Summary) -> String {
    let parts: Vec<String> = [
        (summary.create, "to create"),
        (summary.adopt, "to adopt"),
        (summary.restore, "to restore"),
        (summary.update, "to update"),
        (
            summary.update_draft,
            if summary.update_draft == 1 {
                "draft to update"
            } else {
                "drafts to update"
            },
        ),
        (summary.publish, "to publish"),
        (summary.archive, "to archive"),
        (summary.delete, "to delete"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "No changes. The platform matches the definitions.".into()
    } else {
        format!("Plan: {}.", parts.join(", "))
    }
}

fn symbol(agent: &AgentPlan) -> char {
    let has = |kind| agent.actions.iter().any(|a| a.kind == kind);
    if has(ActionKind::Create) {
        '+'
    } else if has(ActionKind::Delete) || has(ActionKind::Archive) {
        '-'
    } else {
        '~'
    }
}

fn action_names(agent: &AgentPlan) -> String {
    agent
        .actions
        .iter()
        .map(|a| a.kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan for a terminal.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    for agent in plan.changes.iter().filter(|c| !c.actions.is_empty()) {
        let _ = write!(
            out,
            "{} {}  ({})",
            symbol(agent),
            agent.key,
            action_names(agent)
        );
        if let Some(file) = &agent.file {
            let _ = write!(out, "  {}", printable(&file.display().to_string()));
        }
        out.push('\n');
        let mut shown: Option<&[FieldChange]> = None;
        for action in &agent.actions {
            let _ = writeln!(
                out,
                "    {}: {}",
                action.kind.name(),
                printable(&action.reason)
            );
            if action.changes.is_empty() {
                continue;
            }
            // A publish after a draft update carries the same changes: say so, once.
            if action.kind == ActionKind::Publish && shown == Some(action.changes.as_slice()) {
                let _ = writeln!(out, "      (the changes above go live)");
                continue;
            }
            for change in &action.changes {
                change_lines(&mut out, change, "      ");
            }
            shown = Some(&action.changes);
        }
        out.push('\n');
    }
    if !plan.notes.is_empty() {
        out.push_str("Notes:\n");
        for note in &plan.notes {
            let _ = writeln!(out, "  {}", note_line(note));
        }
        out.push('\n');
    }
    out.push_str(&summary_line(&plan.summary()));
    out.push('\n');
    out
}

fn note_line(note: &Note) -> String {
    let mut line = String::new();
    if let Some(key) = &note.key {
        let _ = write!(line, "{key}");
    }
    if let Some(id) = &note.id {
        let _ = write!(line, " ({})", printable(id));
    }
    if !line.is_empty() {
        line.push_str(": ");
    }
    line.push_str(&printable(&note.message));
    line
}

fn change_lines(out: &mut String, change: &FieldChange, indent: &str) {
    let sign = match change.kind {
        ChangeKind::Add => '+',
        ChangeKind::Remove => '-',
        ChangeKind::Modify => '~',
    };
    let path = change.path.to_string();
    let path = printable(&path);
    if change.sensitive {
        let _ = writeln!(out, "{indent}{sign} {path}: (sensitive)");
        return;
    }
    let strings = change
        .before
        .as_ref()
        .and_then(ShownValue::as_string)
        .zip(change.after.as_ref().and_then(ShownValue::as_string));
    if let Some((before, after)) = strings
        && (is_long(&before) || is_long(&after))
    {
        let _ = writeln!(out, "{indent}{sign} {path}:");
        // Escaped before the diff: only `\n` breaks lines, and no line holds a control.
        let (before, after) = (printable_lines(&before), printable_lines(&after));
        for line in unified(&before, &after).lines() {
            let _ = writeln!(out, "{indent}    {line}");
        }
        return;
    }
    let value = |v: &Option<ShownValue>| v.as_ref().map_or_else(|| "(none)".into(), short);
    let text = match change.kind {
        ChangeKind::Add => value(&change.after),
        ChangeKind::Remove => value(&change.before),
        ChangeKind::Modify => format!("{} -> {}", value(&change.before), value(&change.after)),
    };
    let _ = writeln!(out, "{indent}{sign} {path}: {text}");
}

fn is_long(text: &str) -> bool {
    text.len() > LONG_STRING || text.contains('\n')
}

/// A unified line diff of two texts, without file headers.
fn unified(before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(2)
        .to_string()
}

/// A value on one line: JSON (which escapes every C0 control; [`printable`] the rest),
/// shortened when long.
fn short(value: &ShownValue) -> String {
    let text = value.text();
    if text.chars().count() <= LONG_VALUE {
        return printable(text).into_owned();
    }
    match (text.as_bytes().first(), value.members(), value.as_string()) {
        (Some(b'['), Some(items), _) => format!("[...] ({items} items)"),
        (Some(b'{'), Some(fields), _) => format!("{{...}} ({fields} fields)"),
        (_, _, Some(s)) => {
            let head: String = s.chars().take(LONG_STRING).collect();
            let head = serde_json::to_string(&head).unwrap_or_default();
            format!("{}... ({} characters)", printable(&head), s.chars().count())
        }
        _ => printable(text).into_owned(),
    }
}

#[derive(Serialize)]
struct JsonPlan<'a> {
    format_version: u32,
    summary: Summary,
    changes: Vec<&'a AgentPlan>,
    notes: &'a [Note],
}

impl JsonPlan<'_> {
    fn of(plan: &Plan) -> JsonPlan<'_> {
        JsonPlan {
            format_version: plan.format_version,
            summary: plan.summary(),
            changes: plan
                .changes
                .iter()
                .filter(|c| !c.actions.is_empty())
                .collect(),
            notes: &plan.notes,
        }
    }
}

/// Pretty JSON and a newline.
fn write_pretty(out: &mut dyn std::io::Write, doc: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// The plan's JSON form: `format_version`, a summary, changes and notes.
pub fn json(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing plain data to memory cannot fail; and serde_json writes UTF-8.
    let _ = write_pretty(&mut out, &JsonPlan::of(plan));
    String::from_utf8(out).unwrap_or_default()
}

/// The plan as a pull-request comment: a summary table and a collapsible block per agent.
pub fn markdown(plan: &Plan) -> String {
    let mut out = String::from("### agentsync plan\n\n");
    markdown_body(&mut out, plan);
    out
}

fn markdown_body(out: &mut String, plan: &Plan) {
    let _ = writeln!(out, "**{}**\n", summary_line(&plan.summary()));
    let changed: Vec<&AgentPlan> = plan
        .changes
        .iter()
        .filter(|c| !c.actions.is_empty())
        .collect();
    if !changed.is_empty() {
        out.push_str("| | agent | actions | file |\n|---|---|---|---|\n");
        for agent in &changed {
            let file = agent.file.as_ref().map_or_else(
                || "(removed)".to_string(),
                |f| inline_code(&f.display().to_string()),
            );
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                symbol(agent),
                agent.key,
                action_names(agent),
                file
            );
        }
        out.push('\n');
        for agent in &changed {
            let _ = writeln!(
                out,
                "<details><summary><code>{}</code>: {}</summary>\n\n```diff",
                agent.key,
                action_names(agent)
            );
            let mut block = String::new();
            let mut shown: Option<&[FieldChange]> = None;
            for action in &agent.actions {
                let _ = writeln!(
                    block,
                    "# {}: {}",
                    action.kind.name(),
                    printable(&action.reason)
                );
                if action.kind == ActionKind::Publish && shown == Some(action.changes.as_slice()) {
                    let _ = writeln!(block, "#   (the changes above go live)");
                    continue;
                }
                for change in &action.changes {
                    change_lines(&mut block, change, "");
                }
                shown = Some(&action.changes);
            }
            // A fence inside a value must not end the block early.
            out.push_str(&block.replace("```", "`\u{200b}``"));
            out.push_str("```\n\n</details>\n\n");
        }
    }
    if !plan.notes.is_empty() {
        out.push_str("**Notes**\n\n");
        for note in &plan.notes {
            let _ = writeln!(out, "- {}", markdown_text(&note_line(note)));
        }
    }
}

/// `text` ([`printable`]) as a Markdown code span that nothing in it can end, and that a table
/// cell holds (`|` escaped, as GitHub's tables want even inside code).
fn inline_code(text: &str) -> String {
    let text = printable(text).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text that Markdown shows as it is: the punctuation that could open a link, a code span,
/// emphasis, an HTML tag or a table cell is escaped.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One target's plan, as shown beside the others.
#[derive(Debug, Clone, Copy)]
pub struct TargetPlan<'a> {
    /// The target's name; `None` when the configuration names no targets.
    pub target: Option<&'a str>,
    /// The platform's name.
    pub provider: &'a str,
    pub plan: &'a Plan,
}

/// The plans of every target in force, rendered together.
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a>(pub &'a [TargetPlan<'a>]);

impl Targets<'_> {
    /// The single plan when the configuration names no targets.
    fn single(&self) -> Option<&Plan> {
        match self.0 {
            [only] if only.target.is_none() => Some(only.plan),
            _ => None,
        }
    }

    fn heading(target: &TargetPlan<'_>) -> String {
        format!(
            "{} ({})",
            target.target.unwrap_or(target.provider),
            target.provider
        )
    }

    /// Each target's plan under a `== name (provider) ==` line.
    pub fn text(&self) -> String {
        if let Some(plan) = self.single() {
            return text(plan);
        }
        let mut out = String::new();
        for (i, target) in self.0.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "== target {} ==\n", printable(&Self::heading(target)));
            out.push_str(&text(target.plan));
        }
        if self.0.len() > 1 {
            let _ = writeln!(out, "\nAll targets: {}", summary_line(&self.summary()));
        }
        out
    }

    /// `{"format_version", "summary", "targets": [{"target", "provider", ...plan}]}`; a single
    /// plan keeps its own form.
    pub fn json(&self) -> String {
        let mut out = Vec::new();
        // Writing to a `Vec` fails only if serializing does, which plain data cannot.
        let _ = self.write_json(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// [`Targets::json`], written as it is made: a first plan of a large repository shows every
    /// new content whole, and its JSON need not be held as one string as well.
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if let Some(plan) = self.single() {
            return write_pretty(out, &JsonPlan::of(plan));
        }
        #[derive(Serialize)]
        struct JsonTarget<'a> {
            target: Option<&'a str>,
            provider: &'a str,
            #[serde(flatten)]
            plan: JsonPlan<'a>,
        }
        #[derive(Serialize)]
        struct JsonTargets<'a> {
            format_version: u32,
            summary: Summary,
            targets: Vec<JsonTarget<'a>>,
        }
        let targets: Vec<JsonTarget<'_>> = self
            .0
            .iter()
            .map(|t| JsonTarget {
                target: t.target,
                provider: t.provider,
                plan: JsonPlan::of(t.plan),
            })
            .collect();
        write_pretty(
            out,
            &JsonTargets {
                format_version: crate::engine::plan::FORMAT_VERSION,
                summary: self.summary(),
                targets,
            },
        )
    }

    /// One section per target under a common heading.
    pub fn markdown(&self) -> String {
        if let Some(plan) = self.single() {
            return markdown(plan);
        }
        let mut out = String::from("### agentsync plan\n\n");
        let _ = writeln!(out, "**{}**\n", summary_line(&self.summary()));
        for target in self.0 {
            let _ = writeln!(out, "#### Target {}\n", inline_code(&Self::heading(target)));
            markdown_body(&mut out, target.plan);
        }
        out
    }

    /// The counts of every target together.
    pub fn summary(&self) -> Summary {
        self.0
            .iter()
            .map(|t| t.plan.summary())
            .fold(Summary::default(), |total, one| total.plus(&one))
    }

    /// Whether no target has anything to do.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|t| t.plan.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::engine::plan::Action;
    use crate::model::diff::ChangeKind;
    use crate::model::{FieldPath, Key};

    #[test]
    fn control_and_invisible_characters_are_written_as_json_escapes() {
        assert_eq!(
            printable("plain, é, 🎧, a\u{200d}b"),
            "plain, é, 🎧, a\u{200d}b"
        );
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\rb\u{1b}[2K\tc\nd\u{7f}\u{9b}\u{202e}\u{e0041}"),
            "a\\rb\\u001b[2K\\tc\\nd\\u007f\\u009b\\u202e\\u{e0041}"
        );
        // The same escape as a single value's JSON.
        assert_eq!(
            printable("\u{1b}"),
            serde_json::to_string("\u{1b}").unwrap().trim_matches('"')
        );
    }

    fn plan(reason: &str, before: &str, after: &str, note: &str) -> Plan {
        let change = FieldChange {
            path: FieldPath::root().field("flow").field("x\u{1b}y"),
            kind: ChangeKind::Modify,
            before: Some(ShownValue::new(&serde_json::json!(before))),
            after: Some(ShownValue::new(&serde_json::json!(after))),
            sensitive: false,
        };
        Plan {
            format_version: crate::engine::plan::FORMAT_VERSION,
            changes: vec![AgentPlan {
                key: Key::parse("a").unwrap(),
                id: Some("id-1".into()),
                file: Some(PathBuf::from("agents/a|`b`.yaml")),
                actions: vec![Action {
                    kind: ActionKind::UpdateDraft,
                    reason: reason.into(),
                    changes: vec![change],
                }],
                depends_on: Vec::new(),
            }],
            notes: vec![Note {
                key: Some(Key::parse("a").unwrap()),
                id: Some("id\u{1b}[2K".into()),
                message: note.into(),
            }],
        }
    }

    #[test]
    fn no_raw_control_character_reaches_a_text_or_markdown_plan() {
        let plan = plan(
            "live version 1\u{1b}[1A",
            "one\ntwo\n",
            "one\r\n\u{1b}[2Ktwo\rthree\n```\n",
            "an agent named \"</details>*x*\" \u{1b}[2K",
        );
        for out in [text(&plan), markdown(&plan)] {
            assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out:?}");
            assert!(out.contains("+\\u001b[2Ktwo\\rthree"), "{out}");
            assert!(out.contains("flow.x\\u001by"), "{out}");
            assert!(out.contains("live version 1\\u001b[1A"), "{out}");
        }
        let md = markdown(&plan);
        // The table cell and the code span hold the file name whole.
        assert!(md.contains("| ``agents/a\\|`b`.yaml`` |"), "{md}");
        // A note cannot close the details block or start emphasis.
        assert!(md.contains("\\</details\\>\\*x\\*"), "{md}");
        assert_eq!(
            md.lines().filter(|l| l.starts_with("```")).count(),
            2,
            "{md}"
        );
        // JSON holds the values exactly.
        let json: serde_json::Value = serde_json::from_str(&json(&plan)).unwrap();
        assert_eq!(
            json["changes"][0]["actions"][0]["changes"][0]["after"],
            "one\r\n\u{1b}[2Ktwo\rthree\n```\n"
        );
    }

    #[test]
    fn a_long_new_string_shows_its_head_escaped() {
        let long = format!("\u{1b}[2K{}", "x".repeat(100));
        let shown = short(&ShownValue::new(&serde_json::json!(long)));
        assert!(shown.starts_with("\"\\u001b[2Kxxx"), "{shown}");
        assert!(shown.ends_with("... (104 characters)"), "{shown}");
    }
}
