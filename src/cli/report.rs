//! Where output goes: results to stdout, problems to stderr, rendered for a person.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::error::CliError;
use crate::config::ConfigError;
use crate::engine::render::printable;
use crate::ops::OpsError;
use crate::spec::Loaded;
use crate::text::diagnostic::{self, Explain, Located};

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

    /// A block of results on stdout, as given.
    pub fn print(&self, text: &str) {
        print!("{text}");
    }

    /// Output written piece by piece to standard output, buffered. A reader that went away
    /// (`| head`) is not an error.
    pub fn write_with(
        &self,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        match write(&mut out).and_then(|()| out.flush()) {
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            result => result,
        }
    }

    /// Why a command failed: the one place a command's error is printed.
    pub fn cli_error(&self, err: &CliError) {
        match err {
            CliError::Ops(ops) => self.ops_error(ops),
            CliError::Config(config) => self.config_error(config),
            other => self.error(other),
        }
    }

    /// An error from a command that talks to the platform, with the detail it carries.
    pub fn ops_error(&self, err: &OpsError) {
        match err {
            OpsError::Config(config) => self.config_error(config),
            OpsError::InvalidDefinitions(loaded) => self.spec_problems(loaded),
            OpsError::Target { target, error } => match error.as_ref() {
                OpsError::Config(_) | OpsError::InvalidDefinitions(_) => self.ops_error(error),
                inner => eprintln!(
                    "{}",
                    render_error(inner).replacen(
                        "error: ",
                        &format!("error: target '{target}': "),
                        1
                    )
                ),
            },
            other => self.error(other),
        }
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

impl Reporter {
    /// One problem with its snippet, on stderr.
    pub fn problem<E: Explain + 'static>(&self, problem: &Located<E>) {
        eprintln!("{}\n", diagnostic::render(problem, self.color));
    }

    /// A configuration that could not be used: each of its problems, or the one error.
    pub fn config_error(&self, err: &ConfigError) {
        match err {
            ConfigError::Invalid { problems } => {
                for problem in problems {
                    self.problem(problem);
                }
                eprintln!("error: {err}; nothing was done");
            }
            other => {
                self.error(other);
                if let Some(help) = other.help() {
                    eprintln!("  help: {help}");
                }
            }
        }
    }

    /// Every problem found in the definitions, then a count.
    pub fn spec_problems(&self, loaded: &Loaded) {
        for problem in &loaded.problems {
            self.problem(problem);
        }
        let files: BTreeSet<_> = loaded.problems.iter().map(|p| &p.file).collect();
        let n = loaded.problems.len();
        eprintln!(
            "error: {n} problem{} in {} file{}; nothing was done",
            if n == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" },
        );
    }
}

/// `error: <message>` followed by one indented `caused by:` line per source; each message
/// escaped for the terminal, as it may carry the platform's words.
pub fn render_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("error: {}", printable(&err.to_string()));
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(text, "\n  caused by: {}", printable(&cause.to_string()));
        source = cause.source();
    }
    text
}
