//! How long-running work tells how far it has got: "read 120 of 1000 agents", "done 300 of 3000
//! actions". The engine reports counts through [`Progress`]; what is shown, and where, is the
//! caller's choice (`cli` draws a terminal bar; tests and the daemon pass [`Progress::silent`]).
//!
//! Provider-neutral and free of any terminal code, so that the engine never prints.

use std::fmt;
use std::sync::Arc;

/// The stages of a run whose steps are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading agents' content from the platform (after the agent list).
    Observe,
    /// Carrying out the plan's actions.
    Apply,
}

impl Phase {
    /// What the steps of this phase are, for a person.
    pub fn unit(self) -> &'static str {
        match self {
            Phase::Observe => "agents read",
            Phase::Apply => "actions done",
        }
    }
}

/// Receives the counts. Called from many tasks at once, so implementations must be cheap and
/// must not block for long.
pub trait ProgressSink: Send + Sync {
    /// A phase begins with `total` steps.
    fn start(&self, phase: Phase, total: u64);
    /// The phase turns out to have `total` steps (it began with an estimate).
    fn set_total(&self, phase: Phase, total: u64);
    /// One more step of the phase is over, whatever its outcome.
    fn step(&self, phase: Phase);
    /// The phase is over (every step, or an early stop).
    fn finish(&self, phase: Phase);
}

/// A cheap, cloneable handle the engine reports through; the default one reports nowhere.
#[derive(Clone, Default)]
pub struct Progress {
    sink: Option<Arc<dyn ProgressSink>>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.sink.is_some() {
            "Progress(reporting)"
        } else {
            "Progress(silent)"
        })
    }
}

impl Progress {
    /// Reports nowhere.
    pub fn silent() -> Progress {
        Progress::default()
    }

    pub fn to(sink: Arc<dyn ProgressSink>) -> Progress {
        Progress { sink: Some(sink) }
    }

    pub fn start(&self, phase: Phase, total: usize) {
        if let Some(sink) = &self.sink {
            sink.start(phase, u64::try_from(total).unwrap_or(u64::MAX));
        }
    }

    pub fn set_total(&self, phase: Phase, total: usize) {
        if let Some(sink) = &self.sink {
            sink.set_total(phase, u64::try_from(total).unwrap_or(u64::MAX));
        }
    }

    pub fn step(&self, phase: Phase) {
        if let Some(sink) = &self.sink {
            sink.step(phase);
        }
    }

    pub fn finish(&self, phase: Phase) {
        if let Some(sink) = &self.sink {
            sink.finish(phase);
        }
    }

    /// Starts `phase` and finishes it when the returned guard is dropped, so that an early
    /// return or an error never leaves a bar standing.
    pub fn phase(&self, phase: Phase, total: usize) -> PhaseGuard {
        self.start(phase, total);
        PhaseGuard {
            progress: self.clone(),
            phase,
        }
    }
}

/// Finishes its phase when dropped.
#[must_use = "the phase finishes when this is dropped"]
pub struct PhaseGuard {
    progress: Progress,
    phase: Phase,
}

impl Drop for PhaseGuard {
    fn drop(&mut self) {
        self.progress.finish(self.phase);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records every call, for tests of the engine's reporting.
    #[derive(Default)]
    pub(crate) struct Recorder {
        pub events: Mutex<Vec<String>>,
    }

    impl ProgressSink for Recorder {
        fn start(&self, phase: Phase, total: u64) {
            self.push(format!("start {phase:?} {total}"));
        }
        fn set_total(&self, phase: Phase, total: u64) {
            self.push(format!("total {phase:?} {total}"));
        }
        fn step(&self, phase: Phase) {
            self.push(format!("step {phase:?}"));
        }
        fn finish(&self, phase: Phase) {
            self.push(format!("finish {phase:?}"));
        }
    }

    impl Recorder {
        fn push(&self, event: String) {
            self.events
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(event);
        }
    }

    #[test]
    fn a_phase_is_finished_when_its_guard_is_dropped() {
        let recorder = Arc::new(Recorder::default());
        let progress = Progress::to(recorder.clone());
        {
            let _guard = progress.phase(Phase::Apply, 2);
            progress.step(Phase::Apply);
        }
        let events = recorder.events.lock().expect("not poisoned").clone();
        assert_eq!(events, ["start Apply 2", "step Apply", "finish Apply"]);
    }

    #[test]
    fn silent_progress_reports_nothing_and_costs_nothing() {
        let progress = Progress::silent();
        let _guard = progress.phase(Phase::Observe, 10);
        progress.step(Phase::Observe);
        assert_eq!(format!("{progress:?}"), "Progress(silent)");
    }
}
