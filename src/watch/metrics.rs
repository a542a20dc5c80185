//! What the daemon has done, as counters and gauges, and their Prometheus text rendering
//! (exposition format 0.0.4). Written by the loop, read by `/metrics`, `/readyz`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Upper bounds (seconds) of the sync duration histogram's buckets.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The daemon's state as the HTTP endpoints see it.
#[derive(Debug, Default)]
pub struct Status {
    /// A full sync has succeeded at least once.
    pub synced_once: bool,
    /// Since when the platform has been unreachable (cleared by any successful observe).
    pub unreachable_since: Option<Instant>,
    /// The loop is shutting down.
    pub stopping: bool,
    pub metrics: Metrics,
}

impl Status {
    /// Ready: synced once, and the platform not unreachable for longer than `unready_after`.
    pub fn ready(&self, unready_after: Duration) -> bool {
        self.synced_once
            && !self.stopping
            && self
                .unreachable_since
                .is_none_or(|since| since.elapsed() < unready_after)
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    /// (trigger, result) -> count.
    pub syncs: BTreeMap<(&'static str, &'static str), u64>,
    /// (action kind, result) -> count.
    pub actions: BTreeMap<(&'static str, &'static str), u64>,
    /// Actions done by a periodic sync with no file change behind it, by kind.
    pub drift_repairs: BTreeMap<&'static str, u64>,
    /// Definition files that failed to load in the latest sync.
    pub definitions_failing: u64,
    pub duration_buckets: [u64; BUCKETS.len()],
    pub duration_sum: f64,
    pub duration_count: u64,
    /// Unix seconds of the latest sync that completed without failure.
    pub last_success: Option<f64>,
}

impl Metrics {
    pub fn observe_duration(&mut self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        for (bucket, bound) in self.duration_buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        self.duration_sum += seconds;
        self.duration_count += 1;
    }

    pub fn mark_success(&mut self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        self.last_success = Some(now.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self, ready: bool) -> String {
        let mut out = String::new();
        header(
            &mut out,
            "agentsync_syncs_total",
            "counter",
            "Syncs by trigger and result.",
        );
        for ((trigger, result), n) in &self.syncs {
            let _ = writeln!(
                out,
                "agentsync_syncs_total{{trigger=\"{trigger}\",result=\"{result}\"}} {n}"
            );
        }
        header(
            &mut out,
            "agentsync_actions_total",
            "counter",
            "Actions by kind and result.",
        );
        for ((kind, result), n) in &self.actions {
            let _ = writeln!(
                out,
                "agentsync_actions_total{{kind=\"{kind}\",result=\"{result}\"}} {n}"
            );
        }
        header(
            &mut out,
            "agentsync_drift_repairs_total",
            "counter",
            "Actions done by a periodic sync with no file change: drift on the platform repaired.",
        );
        let total: u64 = self.drift_repairs.values().sum();
        let _ = writeln!(out, "agentsync_drift_repairs_total {total}");
        header(
            &mut out,
            "agentsync_definitions_failing",
            "gauge",
            "Definition files that failed to load in the latest sync.",
        );
        let _ = writeln!(
            out,
            "agentsync_definitions_failing {}",
            self.definitions_failing
        );
        header(
            &mut out,
            "agentsync_sync_duration_seconds",
            "histogram",
            "Duration of syncs.",
        );
        for (n, bound) in self.duration_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "agentsync_sync_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "agentsync_sync_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            self.duration_count
        );
        let _ = writeln!(
            out,
            "agentsync_sync_duration_seconds_sum {}",
            self.duration_sum
        );
        let _ = writeln!(
            out,
            "agentsync_sync_duration_seconds_count {}",
            self.duration_count
        );
        header(
            &mut out,
            "agentsync_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the latest sync that completed without failure (0: none yet).",
        );
        let _ = writeln!(
            out,
            "agentsync_last_success_timestamp_seconds {}",
            self.last_success.unwrap_or(0.0)
        );
        header(
            &mut out,
            "agentsync_ready",
            "gauge",
            "1 when /readyz answers 200.",
        );
        let _ = writeln!(out, "agentsync_ready {}", u8::from(ready));
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counters_carry_labels() {
        let mut metrics = Metrics::default();
        metrics.observe_duration(Duration::from_millis(80));
        metrics.observe_duration(Duration::from_secs(3));
        *metrics.syncs.entry(("start", "success")).or_default() += 1;
        let text = metrics.render(true);
        assert!(text.contains("agentsync_sync_duration_seconds_bucket{le=\"0.05\"} 0\n"));
        assert!(text.contains("agentsync_sync_duration_seconds_bucket{le=\"0.1\"} 1\n"));
        assert!(text.contains("agentsync_sync_duration_seconds_bucket{le=\"5\"} 2\n"));
        assert!(text.contains("agentsync_sync_duration_seconds_count 2\n"));
        assert!(text.contains("agentsync_syncs_total{trigger=\"start\",result=\"success\"} 1\n"));
    }

    #[test]
    fn readiness_is_lost_after_the_platform_is_unreachable_for_too_long() {
        let mut status = Status {
            synced_once: true,
            ..Status::default()
        };
        assert!(status.ready(Duration::from_secs(60)));
        status.unreachable_since = Instant::now().checked_sub(Duration::from_secs(61));
        assert!(!status.ready(Duration::from_secs(60)));
        assert!(status.ready(Duration::from_secs(120)));
    }
}
