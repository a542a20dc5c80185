//! `agentsync watch`: the sync daemon. A reconcile loop in kube-runtime's shape: one idempotent
//! [`reconcile`](reconcile::reconcile) (load -> observe -> plan -> apply), an error policy that
//! decides when to retry ([`policy::ErrorPolicy`]), and a periodic full sync as the safety net.
//!
//! Syncs run one at a time: at start, after file events under the definitions directory or on
//! the way to it (debounced), every `interval`, on SIGHUP (which also makes new connections),
//! and after a failure once the backoff delay has passed. Each sync reads `agentsync.yaml`
//! again; when that fails after a good read, the sync goes on with the last good configuration
//! and the daemon is unready until a read succeeds. `/healthz`, `/readyz` and `/metrics` are
//! served on `listen`.

pub mod files;
pub mod gate;
pub mod metrics;
pub mod policy;
pub mod reconcile;
pub mod serve;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::time::sleep_until;

use crate::engine::apply::Outcome;
use crate::ops::OpsError;
use crate::ops::workspace::{self, WorkspaceOptions, process_env};
use files::FileWatch;
use metrics::{Limits, Status};
use policy::ErrorPolicy;
use reconcile::{Links, Round, Synced, reconcile};
use serve::Shared;

/// How long a sync may run before the daemon calls it stalled (and unready). Far beyond a
/// healthy sync: its lock wait is bounded (`ops::lock::DEFAULT_TIMEOUT`), and so is each
/// request with its retries (about a minute and a half: `http::HttpSettings`), so a sync still
/// running after ten minutes is stuck or facing a platform too slow to keep up.
pub const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(600);

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub workspace: WorkspaceOptions,
    /// A full sync this often, whatever happened in between.
    pub interval: Duration,
    /// Wait for this much quiet after a file event before syncing.
    pub debounce: Duration,
    /// Where `/healthz`, `/readyz` and `/metrics` are served; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `/readyz` answers 503 once the platform has been unreachable this long.
    pub unready_after: Duration,
    /// `/readyz` answers 503 while a sync has been running this long.
    pub stall_after: Duration,
    /// Take over unmanaged agents whose name matches a new definition.
    pub adopt: bool,
    /// After a shutdown signal, how long a sync in flight may take to finish.
    pub grace: Duration,
}

impl WatchOptions {
    /// The defaults the command line shows, for a workspace.
    pub fn new(workspace: WorkspaceOptions) -> WatchOptions {
        WatchOptions {
            workspace,
            interval: Duration::from_secs(300),
            debounce: Duration::from_millis(200),
            listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            unready_after: Duration::from_secs(60),
            stall_after: DEFAULT_STALL_AFTER,
            adopt: false,
            grace: Duration::from_secs(5),
        }
    }
}

/// What can go wrong in the daemon. Only [`WatchError::Listen`] and [`WatchError::Notify`] at
/// start stop it; everything else fails one sync, which the error policy retries.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot watch the definitions directory")]
    Notify(#[source] notify::Error),
    #[error(transparent)]
    Config(crate::config::ConfigError),
    #[error("the definitions directory {} is missing or cannot be read; nothing is applied or pruned until it is back", dir.display())]
    DefinitionsMissing { dir: PathBuf },
    #[error("cannot connect to the platform")]
    Connect(#[source] OpsError),
    #[error("cannot read the platform's state")]
    Observe(#[source] crate::provider::ProviderError),
    /// The definitions and the platform cannot be planned together (conflicting claims), or
    /// the plan prunes more than `max_prune` allows.
    #[error(transparent)]
    Plan(OpsError),
    #[error("no platform connection")]
    NotConnected,
    #[error("cannot save the embedded simulator's state")]
    Save(#[source] OpsError),
    /// Another agentsync process is applying to the same target, or the lock cannot be made
    /// (the cause says which); the sync is retried later.
    #[error("cannot take the run lock")]
    Lock(#[source] OpsError),
}

impl WatchError {
    /// The platform could not be reached (as opposed to a problem on our side).
    fn unreachable(&self) -> bool {
        matches!(self, WatchError::Observe(_) | WatchError::Connect(_))
    }
}

/// Why a sync runs; a label on the sync metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Start,
    Files,
    Interval,
    Retry,
    Reload,
}

impl Trigger {
    fn name(self) -> &'static str {
        match self {
            Trigger::Start => "start",
            Trigger::Files => "files",
            Trigger::Interval => "interval",
            Trigger::Retry => "retry",
            Trigger::Reload => "reload",
        }
    }
}

/// Runs the daemon until `shutdown` completes, then finishes the sync in flight (for at most
/// `grace`) and returns. Platform failures never end it.
pub async fn run(
    options: WatchOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), WatchError> {
    let shared = Shared {
        status: Arc::new(Mutex::new(Status::default())),
        limits: Limits {
            unready_after: options.unready_after,
            stall_after: options.stall_after,
        },
    };
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| WatchError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| WatchError::Listen {
        addr: options.listen,
        source,
    })?;
    tracing::info!("listening on http://{addr}");
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let app = serve::router(shared.clone());
    let server = tokio::spawn(async move {
        let stopped = async {
            let _ = server_stopped.await;
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %err, "the health server stopped");
        }
    });

    let result = run_loop(&options, &shared, shutdown).await;
    shared.with(|s| s.stopping = true);
    let _ = stop_server.send(());
    // Health probes are short; do not let a slow client hold the exit up.
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    tracing::info!("stopped");
    result
}

async fn run_loop(
    options: &WatchOptions,
    shared: &Shared,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), WatchError> {
    let (mut watch, mut events) = FileWatch::new()?;
    let mut reload = reload_signals();
    let mut link = Links::default();
    let gate = Arc::new(gate::Gate::default());
    // Retry no sooner than a second, no later than the next periodic sync.
    let mut backoff = ErrorPolicy::new(
        Duration::from_secs(1).min(options.interval),
        options.interval.min(Duration::from_secs(300)),
    );
    let mut shutdown = std::pin::pin!(shutdown);
    let mut trigger = Trigger::Start;
    let mut last_good: Option<Vec<crate::config::Config>> = None;
    loop {
        let started = Instant::now();
        shared.with(|s| s.sync_started = Some(started));
        let mut sync = Box::pin(async {
            let configs = configs_in_force(options, shared, &mut last_good)?;
            // Watch before reading: an edit made while the files are read (or the platform is
            // synced) then queues an event and is synced next, rather than waiting for the
            // interval because the directory was not watched yet.
            let dirs: Vec<PathBuf> = configs.iter().map(|c| c.definitions.clone()).collect();
            if let Err(err) = watch.follow(&dirs) {
                tracing::warn!(error = %err, "file events are not watched; relying on the interval");
            }
            Ok(reconcile(
                &options.workspace,
                configs,
                options.adopt,
                &mut link,
                &gate,
                trigger == Trigger::Files,
                &process_env,
            )
            .await)
        });
        let result = tokio::select! {
            result = &mut sync => result,
            () = &mut shutdown => {
                // Start no new request; the ones in flight may finish (the sync is polled
                // meanwhile, since it drives them).
                gate.stop();
                tracing::info!(grace = ?options.grace, "shutting down once the requests in flight finish");
                let finished = tokio::time::timeout(options.grace, async {
                    tokio::select! {
                        _ = &mut sync => {}
                        () = gate.drained() => {}
                    }
                })
                .await;
                if finished.is_err() {
                    tracing::warn!("requests still in flight after the grace period; abandoned (the next sync repairs any half-done agent)");
                }
                drop(sync);
                link.close().await;
                return Ok(());
            }
        };
        drop(sync);
        let failed = record(shared, trigger, started.elapsed(), &result);
        let wait = if failed {
            let delay = backoff.failed();
            tracing::info!(retry_in = ?delay, failures = backoff.failures(), "sync failed; will retry");
            delay
        } else {
            backoff.succeeded();
            options.interval
        };
        let due = tokio::time::Instant::now() + wait;
        trigger = tokio::select! {
            biased;
            () = &mut shutdown => {
                tracing::info!("shutting down");
                link.close().await;
                return Ok(());
            }
            Some(()) = reload.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                link.close().await;
                Trigger::Reload
            }
            Some(()) = events.recv() => {
                quiet(&mut events, options.debounce).await;
                Trigger::Files
            }
            () = sleep_until(due) => if failed { Trigger::Retry } else { Trigger::Interval },
        };
    }
}

/// The targets in force: read from `agentsync.yaml` again, or, when that fails after a good
/// read, the last good ones (the daemon is unready meanwhile: `Status::config_failing`).
fn configs_in_force(
    options: &WatchOptions,
    shared: &Shared,
    last_good: &mut Option<Vec<crate::config::Config>>,
) -> Result<Vec<crate::config::Config>, WatchError> {
    match workspace::configs(&options.workspace, &process_env) {
        Ok(configs) => {
            if shared.with(|s| std::mem::take(&mut s.config_failing)) {
                tracing::info!("the configuration loads again");
            }
            *last_good = Some(configs.clone());
            Ok(configs)
        }
        Err(err) => match last_good {
            Some(configs) => {
                tracing::error!(
                    error = %chain(&err),
                    "the configuration does not load; syncing with the last good one until it does"
                );
                shared.with(|s| {
                    s.config_failing = true;
                    s.metrics.config_failures += 1;
                });
                Ok(configs.clone())
            }
            None => Err(WatchError::Config(err)),
        },
    }
}

/// Waits until no file event has arrived for `debounce` (at most 20 times that in all, so a
/// directory that never stops changing is still synced).
async fn quiet(events: &mut mpsc::UnboundedReceiver<()>, debounce: Duration) {
    let limit = tokio::time::Instant::now() + debounce.saturating_mul(20);
    loop {
        let deadline = (tokio::time::Instant::now() + debounce).min(limit);
        tokio::select! {
            Some(()) = events.recv() => {}
            () = sleep_until(deadline) => return,
        }
        if tokio::time::Instant::now() >= limit {
            return;
        }
    }
}

/// SIGHUP as a channel (never fires where there are no Unix signals).
fn reload_signals() -> mpsc::UnboundedReceiver<()> {
    let (sender, receiver) = mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hangup) => {
                tokio::spawn(async move {
                    while hangup.recv().await.is_some() {
                        if sender.send(()).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(err) => tracing::warn!(error = %err, "SIGHUP cannot be handled"),
        }
    }
    #[cfg(not(unix))]
    drop(sender);
    receiver
}

/// Logs the sync and updates status and metrics; returns whether it failed (and so is retried).
fn record(
    shared: &Shared,
    trigger: Trigger,
    elapsed: Duration,
    result: &Result<Round, WatchError>,
) -> bool {
    match result {
        Ok(round) => record_round(shared, trigger, elapsed, round),
        Err(err) => {
            tracing::error!(trigger = trigger.name(), error = %chain(err), "sync failed");
            shared.with(|status| {
                status.sync_started = None;
                let m = &mut status.metrics;
                *m.syncs.entry((trigger.name(), "error")).or_default() += 1;
                m.observe_duration(elapsed);
            });
            true
        }
    }
}

/// [`record`] for a sync that ran: each target that failed, and what the others did.
fn record_round(shared: &Shared, trigger: Trigger, elapsed: Duration, round: &Round) -> bool {
    let synced = &round.synced;
    let failed_targets = round.failures().count();
    for (target, err) in round.failures() {
        tracing::error!(trigger = trigger.name(), target = %target, error = %chain(err), "sync failed");
    }
    let outcome = if failed_targets > 0 {
        "error"
    } else {
        sync_result(synced)
    };
    let actions = synced.report.as_ref().map_or(0, |r| r.total());
    tracing::info!(
        trigger = trigger.name(),
        result = outcome,
        scope = if synced.incremental {
            "changes"
        } else {
            "full"
        },
        files = synced.files,
        unchanged = synced.unchanged,
        actions,
        broken = synced.broken,
        elapsed_ms = elapsed.as_millis() as u64,
        "sync finished"
    );
    shared.with(|status| {
        status.sync_started = None;
        if round.failures().any(|(_, err)| err.unreachable()) {
            status.unreachable_since.get_or_insert_with(Instant::now);
        } else {
            status.unreachable_since = None;
        }
        status.definitions_missing = round
            .failures()
            .filter_map(|(target, err)| match err {
                WatchError::DefinitionsMissing { dir } => Some((target.to_string(), dir.clone())),
                _ => None,
            })
            .collect();
        let m = &mut status.metrics;
        *m.syncs.entry((trigger.name(), outcome)).or_default() += 1;
        m.target_failing = round
            .targets
            .iter()
            .map(|(target, err)| (target.clone(), err.is_some()))
            .collect();
        for (target, _) in round.failures() {
            *m.target_failures.entry(target.to_string()).or_default() += 1;
        }
        m.definitions_failing = synced.broken as u64;
        m.observe_duration(elapsed);
        for agent in synced.report.iter().flat_map(|r| &r.agents) {
            for action in &agent.actions {
                let label = match action.outcome {
                    Outcome::Done => "done",
                    Outcome::Failed(_) => "failed",
                    Outcome::Skipped(_) => "skipped",
                };
                *m.actions.entry((action.kind.name(), label)).or_default() += 1;
                if trigger == Trigger::Interval && action.outcome == Outcome::Done {
                    *m.drift_repairs.entry(action.kind.name()).or_default() += 1;
                }
            }
        }
        if failed_targets == 0 && synced.succeeded() {
            m.mark_success();
            status.synced_once = true;
        }
    });
    failed_targets > 0 || !synced.succeeded()
}

fn sync_result(synced: &Synced) -> &'static str {
    match (synced.succeeded(), synced.broken) {
        (false, _) => "failed",
        (true, 0) => "success",
        (true, _) => "problems",
    }
}

/// An error and its causes on one line, for the log.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
