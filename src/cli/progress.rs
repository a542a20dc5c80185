//! The terminal progress bar of `plan` and `apply`: one bar per [`Phase`] ("reading agents",
//! "applying"), drawn on stderr only when stderr is a terminal and `-q` was not given, and
//! cleared when the phase ends so that only results remain.
//!
//! Log lines and the bar share stderr. [`log_writer`] is the writer `main` gives tracing: while
//! a bar is drawn it lifts the bar, writes the line, and draws the bar again below it, so the
//! two never garble each other.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::progress::{Phase, Progress, ProgressSink};

/// Every bar of the process is drawn through this one target, the one that log lines suspend.
static BARS: LazyLock<MultiProgress> =
    LazyLock::new(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));

/// How many bars are drawn now; log lines take the direct path while there are none.
static DRAWN: AtomicUsize = AtomicUsize::new(0);

/// The progress for a command: a terminal bar when stderr is a terminal and output is not
/// quietened, nothing otherwise (pipes, CI logs, `-q`).
pub fn for_terminal(quiet: bool) -> Progress {
    if quiet || !io::stderr().is_terminal() {
        return Progress::silent();
    }
    Progress::to(Arc::new(TerminalBars::default()))
}

/// Draws one bar per running phase.
#[derive(Default)]
struct TerminalBars {
    bars: Mutex<HashMap<PhaseName, ProgressBar>>,
}

/// `Phase` as a map key (the engine's type stays free of `Hash`, which it has no use for).
type PhaseName = &'static str;

fn name(phase: Phase) -> PhaseName {
    match phase {
        Phase::Observe => "reading",
        Phase::Apply => "applying",
    }
}

impl TerminalBars {
    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<PhaseName, ProgressBar>> {
        // A bar map left mid-update by a panic is still a map of bars.
        self.bars.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `  reading [=====>     ] 412/1000 agents read (3s, eta 4s)`
const TEMPLATE: &str = "{prefix:>9} [{bar:32}] {pos}/{len} {msg} ({elapsed}, eta {eta})";

fn style() -> ProgressStyle {
    ProgressStyle::with_template(TEMPLATE)
        .map(|style| style.progress_chars("=> "))
        // The template is fixed text; should it ever fail to parse, the default style will do.
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl ProgressSink for TerminalBars {
    fn start(&self, phase: Phase, total: u64) {
        if total == 0 {
            // Nothing to count (a first apply reads no agent): no bar flashes by.
            return;
        }
        // Styled before it is added, so that its first drawing is already the finished line.
        let bar = BARS.add(
            ProgressBar::new(total)
                .with_style(style())
                .with_prefix(name(phase))
                .with_message(phase.unit()),
        );
        // Redrawn on a timer too, so the elapsed time moves while a slow request is out.
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Some(old) = self.bars().insert(name(phase), bar) {
            clear(&old);
        } else {
            DRAWN.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn set_total(&self, phase: Phase, total: u64) {
        if let Some(bar) = self.bars().get(name(phase)) {
            bar.set_length(total);
        }
    }

    fn step(&self, phase: Phase) {
        if let Some(bar) = self.bars().get(name(phase)) {
            bar.inc(1);
        }
    }

    fn finish(&self, phase: Phase) {
        if let Some(bar) = self.bars().remove(name(phase)) {
            clear(&bar);
            DRAWN.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn clear(bar: &ProgressBar) {
    bar.finish_and_clear();
    BARS.remove(bar);
}

/// What tracing writes log lines to: stderr, around the bars.
pub struct LogWriter;

/// The writer `main` hands to tracing (one call per log line).
pub fn log_writer() -> LogWriter {
    LogWriter
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // tracing formats a whole line, then writes it in one `write_all`: one suspension per line.
        if DRAWN.load(Ordering::SeqCst) == 0 {
            return io::stderr().write(buf);
        }
        BARS.suspend(|| io::stderr().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if DRAWN.load(Ordering::SeqCst) == 0 {
            return io::stderr().write_all(buf);
        }
        BARS.suspend(|| io::stderr().write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_bar_is_drawn_when_quiet() {
        assert_eq!(format!("{:?}", for_terminal(true)), "Progress(silent)");
    }

    #[test]
    fn the_bar_style_template_parses() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }
}
