//! Where output goes: results to stdout, problems to stderr, rendered for a person.

use std::fmt::Write as _;

/// Prints results and problems with one colour policy for the whole invocation.
#[derive(Debug, Clone)]
pub struct Reporter {
    color: bool,
}

impl Reporter {
    pub fn new(color: bool) -> Reporter {
        Reporter { color }
    }

    pub fn color(&self) -> bool {
        self.color
    }

    /// A result line on stdout.
    pub fn out(&self, text: &str) {
        println!("{text}");
    }

    /// An error and the chain of its causes on stderr, in the form `error: what; caused by: why`.
    pub fn error(&self, err: &(dyn std::error::Error + 'static)) {
        eprintln!("{}", render_error(err));
    }
}

/// `error: <message>` followed by one indented `caused by:` line per source.
pub fn render_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, "\n  caused by: {cause}");
        source = cause.source();
    }
    text
}
