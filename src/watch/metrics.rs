//! What the daemon has done, as counters and gauges, and their Prometheus text rendering
//! (exposition format 0.0.4), and what readiness means. Written by the loop, read by
//! `/metrics`, `/readyz`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;
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
    /// When the sync in flight started; `None` between syncs.
    pub sync_started: Option<Instant>,
    /// `agentsync.yaml` failed to load at the latest read, and the last good configuration is
    /// in use.
    pub config_failing: bool,
    /// Targets whose definitions directory was missing (or unreadable) at their latest sync.
    pub definitions_missing: BTreeMap<String, PathBuf>,
    pub metrics: Metrics,
}

/// The bounds readiness is judged by.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Unready once the platform has been unreachable this long.
    pub unready_after: Duration,
    /// Unready while a sync has been running this long.
    pub stall_after: Duration,
}

/// Why `/readyz` answers 503.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unready {
    Stopping,
    NeverSynced,
    Unreachable,
    Stalled(Duration),
    ConfigFailing,
    DefinitionsMissing { target: String, dir: PathBuf },
}

impl std::fmt::Display for Unready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unready::Stopping => write!(f, "stopping"),
            Unready::NeverSynced => write!(f, "no full sync has succeeded yet"),
            Unready::Unreachable => {
                write!(f, "the platform has been unreachable for too long")
            }
            Unready::Stalled(running) => write!(
                f,
                "the sync in flight has stalled: running for {}s",
                running.as_secs()
            ),
            Unready::ConfigFailing => write!(
                f,
                "the configuration fails to load (see the log); syncing with the last good one"
            ),
            Unready::DefinitionsMissing { target, dir } => write!(
                f,
                "target {target}: the definitions directory {} is missing; nothing is applied or pruned",
                dir.display()
            ),
        }
    }
}

impl Status {
    /// Every reason not to be ready; none: ready.
    pub fn unready(&self, limits: Limits) -> Vec<Unready> {
        let mut reasons = Vec::new();
        if self.stopping {
            reasons.push(Unready::Stopping);
        }
        if !self.synced_once {
            reasons.push(Unready::NeverSynced);
        }
        if self
            .unreachable_since
            .is_some_and(|since| since.elapsed() >= limits.unready_after)
        {
            reasons.push(Unready::Unreachable);
        }
        if let Some(running) = self.running()
            && running >= limits.stall_after
        {
            reasons.push(Unready::Stalled(running));
        }
        if self.config_failing {
            reasons.push(Unready::ConfigFailing);
        }
        for (target, dir) in &self.definitions_missing {
            reasons.push(Unready::DefinitionsMissing {
                target: target.clone(),
                dir: dir.clone(),
            });
        }
        reasons
    }

    pub fn ready(&self, limits: Limits) -> bool {
        self.unready(limits).is_empty()
    }

    /// How long the sync in flight has been running.
    pub fn running(&self) -> Option<Duration> {
        self.sync_started.map(|started| started.elapsed())
    }

    /// The Prometheus text exposition.
    pub fn render(&self, limits: Limits) -> String {
        let mut out = self.metrics.render(self.ready(limits));
        header(
            &mut out,
            "agentsync_sync_running_seconds",
            "gauge",
            "How long the sync in flight has been running (0: none is).",
        );
        let running = self.running().unwrap_or_default().as_secs_f64();
        let _ = writeln!(out, "agentsync_sync_running_seconds {running}");
        header(
            &mut out,
            "agentsync_definitions_missing",
            "gauge",
            "1 while the target's definitions directory is missing or unreadable.",
        );
        for target in self.metrics.target_failing.keys() {
            let missing = u8::from(self.definitions_missing.contains_key(target));
            let _ = writeln!(
                out,
                "agentsync_definitions_missing{{target=\"{}\"}} {missing}",
                label(target)
            );
        }
        header(
            &mut out,
            "agentsync_config_failing",
            "gauge",
            "1 while agentsync.yaml fails to load and the last good configuration is in use.",
        );
        let _ = writeln!(
            out,
            "agentsync_config_failing {}",
            u8::from(self.config_failing)
        );
        out
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
    /// Syncs in which the target failed (it could not be read, reached or locked), by target.
    pub target_failures: BTreeMap<String, u64>,
    /// Whether the target's latest sync failed, for each target in force.
    pub target_failing: BTreeMap<String, bool>,
    /// Times `agentsync.yaml` failed to load while a last good configuration was in use.
    pub config_failures: u64,
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
            "agentsync_target_sync_failures_total",
            "counter",
            "Syncs in which the target failed (definitions missing, platform unreachable, lock held, ...).",
        );
        for (target, n) in &self.target_failures {
            let _ = writeln!(
                out,
                "agentsync_target_sync_failures_total{{target=\"{}\"}} {n}",
                label(target)
            );
        }
        header(
            &mut out,
            "agentsync_target_failing",
            "gauge",
            "1 when the target's latest sync failed.",
        );
        for (target, failing) in &self.target_failing {
            let _ = writeln!(
                out,
                "agentsync_target_failing{{target=\"{}\"}} {}",
                label(target),
                u8::from(*failing)
            );
        }
        header(
            &mut out,
            "agentsync_config_load_failures_total",
            "counter",
            "Reads of agentsync.yaml that failed while the last good configuration was kept.",
        );
        let _ = writeln!(
            out,
            "agentsync_config_load_failures_total {}",
            self.config_failures
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

/// A label value, escaped as the exposition format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
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
        assert!(status.ready(limits(60, 600)));
        status.unreachable_since = Instant::now().checked_sub(Duration::from_secs(61));
        assert!(!status.ready(limits(60, 600)));
        assert!(status.ready(limits(120, 600)));
    }

    fn limits(unready_after: u64, stall_after: u64) -> Limits {
        Limits {
            unready_after: Duration::from_secs(unready_after),
            stall_after: Duration::from_secs(stall_after),
        }
    }

    #[test]
    fn a_stalled_sync_a_failing_configuration_and_a_missing_directory_each_make_it_unready() {
        let ready = || Status {
            synced_once: true,
            ..Status::default()
        };
        let mut status = ready();
        status.sync_started = Instant::now().checked_sub(Duration::from_secs(11));
        assert!(status.ready(limits(60, 20)));
        assert!(matches!(
            status.unready(limits(60, 10))[..],
            [Unready::Stalled(_)]
        ));
        let mut status = ready();
        status.config_failing = true;
        assert_eq!(status.unready(limits(60, 10)), [Unready::ConfigFailing]);
        let mut status = ready();
        status
            .definitions_missing
            .insert("support".into(), PathBuf::from("/repo/agents"));
        let reasons = status.unready(limits(60, 10));
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].to_string().contains("/repo/agents is missing"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
