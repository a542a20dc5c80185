//! Problems tied to a place in a file, and their rendering as a snippet pointing at the line.
//!
//! Each layer keeps its own error enum (what went wrong); [`Located`] adds where it went wrong,
//! and implements [`miette::Diagnostic`] so one renderer serves configuration and definitions.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use crate::text::yaml::Span;

/// What a layer's error says beyond its message: a short label for the pointed-at text, and
/// what the user can do about it.
pub trait Explain: std::error::Error {
    /// The text under the caret.
    fn label(&self) -> Option<String> {
        None
    }
    /// What to do about it.
    fn help(&self) -> Option<String> {
        None
    }
}

/// The text of a file, shared by every problem found in it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// An error at a place: a file, and when known a span in it and the agent it concerns.
#[derive(Debug)]
pub struct Located<E> {
    pub file: PathBuf,
    pub source: Option<SourceFile>,
    pub span: Option<Span>,
    pub agent: Option<String>,
    pub error: E,
}

impl<E> Located<E> {
    /// A problem with a file as a whole (it cannot be read, say).
    pub fn file(file: impl Into<PathBuf>, error: E) -> Located<E> {
        Located {
            file: file.into(),
            source: None,
            span: None,
            agent: None,
            error,
        }
    }

    /// A problem at a span of a file whose text is known.
    pub fn at(source: &SourceFile, span: Span, error: E) -> Located<E> {
        Located {
            file: source.path.clone(),
            source: Some(source.clone()),
            span: Some(span),
            agent: None,
            error,
        }
    }

    pub fn with_agent(mut self, agent: Option<&str>) -> Located<E> {
        self.agent = agent.map(str::to_string);
        self
    }

    /// `file:line:column`, or the file alone when there is no span.
    pub fn position(&self) -> String {
        match self.span {
            Some(span) => format!("{}:{}:{}", self.file.display(), span.line, span.column),
            None => self.file.display().to_string(),
        }
    }
}

impl<E: fmt::Display> Located<E> {
    /// Which agent, and what: the message without the position.
    pub fn headline(&self) -> String {
        match &self.agent {
            Some(agent) => format!("agent '{agent}': {}", self.error),
            None => self.error.to_string(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Located<E> {
    /// One line that stands alone in a CI log: where, which agent, what.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position(), self.headline())
    }
}

impl<E: Explain + 'static> std::error::Error for Located<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl<E: Explain + 'static> miette::Diagnostic for Located<E> {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.error
            .help()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| &s.text as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        self.source.as_ref()?;
        let label = LabeledSpan::new(self.error.label(), span.offset, span.len);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Renders a located problem as a snippet of its file with the offending text underlined,
/// or as its one-line form when the file's text is not at hand.
pub fn render<E: Explain + 'static>(problem: &Located<E>, color: bool) -> String {
    let Some(source) = &problem.source else {
        let mut text = format!("error: {problem}");
        if let Some(help) = problem.error.help() {
            text.push_str(&format!("\n  help: {help}"));
        }
        return printable(&text);
    };
    // miette wants the source under a name; render against a named copy so the snippet header
    // shows the path and the line.
    let named = NamedSource::new(display_path(&source.path), printable(&source.text));
    let report = miette::Report::new(Rendered {
        message: printable(&problem.headline()),
        help: problem.error.help(),
        label: problem.error.label(),
        span: problem.span.unwrap_or_default(),
    })
    .with_source_code(named);
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_wrap_lines(false);
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        return format!("error: {problem}");
    }
    format!(
        "error: {}",
        out.trim_start().trim_start_matches("× ").trim_end()
    )
}

fn display_path(path: &Path) -> String {
    printable(&path.display().to_string())
}

/// `text` with each control character (an escape sequence would drive the terminal the problem
/// is shown on) replaced by as many `?` as it has bytes, so that spans into it stay where they
/// were. Line breaks and tabs stay.
fn printable(text: &str) -> String {
    let shown = |c: char| !c.is_control() || matches!(c, '\n' | '\t' | '\r');
    if text.chars().all(shown) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if shown(c) {
                c.to_string()
            } else {
                "?".repeat(c.len_utf8())
            }
        })
        .collect()
}

/// The renderable copy of a problem: miette's report owns its diagnostic.
#[derive(Debug)]
struct Rendered {
    message: String,
    help: Option<String>,
    label: Option<String>,
    span: Span,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new(self.label.clone(), self.span.offset, self.span.len);
        Some(Box::new(std::iter::once(label)))
    }
}

/// The closest of `candidates` to a misspelt `word`, if one is close enough to suggest.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_never_printed_and_the_snippet_points_where_it_did() {
        let text = "name: \u{1b}[31mred\u{9b}\nkey: \u{7f}\n";
        let source = SourceFile::new("a\u{1b}.yaml", text);
        let at = text.find("key").expect("key");
        let problem = Located::at(
            &source,
            Span {
                offset: at,
                len: 3,
                line: 2,
                column: 1,
            },
            TestError("bad \u{1b}]0;title\u{7}".into()),
        );
        let shown = render(&problem, false);
        assert!(
            !shown.chars().any(|c| c.is_control() && c != '\n'),
            "{shown:?}"
        );
        assert!(shown.contains("name: ?[31mred??"), "{shown}");
        assert!(shown.contains("bad ?]0;title?"), "{shown}");
        assert!(shown.contains("a?.yaml:2:1"), "{shown}");
        assert!(shown.contains("key: ?"), "{shown}");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct TestError(String);

    impl Explain for TestError {}

    #[test]
    fn a_close_misspelling_gets_a_suggestion() {
        let fields = ["name", "description", "tags"];
        assert_eq!(suggest("nmae", fields), Some("name"));
        assert_eq!(suggest("descripton", fields), Some("description"));
        assert_eq!(suggest("zzz", fields), None);
    }
}
