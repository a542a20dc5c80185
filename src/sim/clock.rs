//! Where the simulator's timestamps come from: the system clock, or a reproducible one for tests.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A source of "now" for the platforms' timestamps (`created_time`, `created_at`, ...).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl Clock {
    /// The machine's wall clock.
    pub fn system() -> Clock {
        Clock(Arc::new(SystemTime::now))
    }

    /// Starts at `start` and advances by `step` at every reading: timestamps are distinct,
    /// increasing and the same on every run, so tests can compare them exactly.
    pub fn stepping(start: SystemTime, step: Duration) -> Clock {
        let readings = AtomicU64::new(0);
        Clock(Arc::new(move || {
            let n = readings.fetch_add(1, Ordering::Relaxed);
            let offset = step.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
            start + offset
        }))
    }

    /// Any function of no arguments.
    pub fn from_fn(now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    pub fn now(&self) -> SystemTime {
        (self.0)()
    }

    /// Now, as the platform writes it: RFC 3339, UTC, milliseconds (`2025-07-16T16:58:58.331Z`).
    pub(crate) fn now_rfc3339(&self) -> String {
        rfc3339_millis(self.now())
    }

    /// Now, in whole seconds: RFC 3339, UTC (`2026-05-01T10:00:00Z`), as the Agent Workflows
    /// docs show it.
    pub(crate) fn now_rfc3339_seconds(&self) -> String {
        rfc3339_seconds(self.now())
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

/// Formats without a date-time dependency; instants before 1970 are clamped to the epoch
/// because the platform never shows them.
pub(crate) fn rfc3339_millis(time: SystemTime) -> String {
    let millis = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_millis();
    format!("{}.{millis:03}Z", date_and_seconds(time))
}

/// As [`rfc3339_millis`], without the fraction (truncated, not rounded).
pub(crate) fn rfc3339_seconds(time: SystemTime) -> String {
    format!("{}Z", date_and_seconds(time))
}

/// `YYYY-MM-DDTHH:MM:SS`, UTC.
fn date_and_seconds(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u64) -> String {
        rfc3339_millis(UNIX_EPOCH + Duration::from_millis(millis))
    }

    #[test]
    fn formats_like_the_platform_docs() {
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(1_752_685_138_331), "2025-07-16T16:58:58.331Z");
        assert_eq!(at(1_735_689_599_999), "2024-12-31T23:59:59.999Z");
    }

    #[test]
    fn whole_seconds_drop_the_fraction_as_the_agent_workflows_docs_show() {
        let at = UNIX_EPOCH + Duration::from_millis(1_777_629_600_999);
        assert_eq!(rfc3339_seconds(at), "2026-05-01T10:00:00Z");
    }

    #[test]
    fn a_stepping_clock_advances_by_its_step_at_each_reading() {
        let clock = Clock::stepping(UNIX_EPOCH, Duration::from_millis(5));
        assert_eq!(clock.now_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(clock.now_rfc3339(), "1970-01-01T00:00:00.005Z");
    }
}
