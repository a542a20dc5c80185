//! `agentsync watch`: the sync daemon; arguments -> [`WatchOptions`], then [`watch::run`] until
//! SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::duration::positive_duration;
use super::exit::ExitStatus;
use super::{CliResult, GlobalArgs};
use crate::watch::{self, WatchOptions};

/// Keep the platform in step continuously: sync at start, on every change under the
/// definitions directory, and every --interval; serve /healthz, /readyz and /metrics.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Full sync this often (repairs drift made on the platform, retries failures)
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = positive_duration)]
    pub interval: Duration,

    /// Quiet time after a file event before syncing
    #[arg(long, value_name = "DURATION", default_value = "200ms", value_parser = positive_duration)]
    pub debounce: Duration,

    /// Address of /healthz, /readyz and /metrics; port 0 picks a free port (the address used
    /// is logged as `listening on http://ADDR`)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9464")]
    pub listen: SocketAddr,

    /// /readyz answers 503 once the platform has been unreachable this long
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = positive_duration)]
    pub unready_after: Duration,

    /// /readyz answers 503 while a sync has been running this long (a stalled sync)
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = positive_duration)]
    pub stall_after: Duration,

    /// After SIGINT/SIGTERM, how long the sync in flight may take to finish
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = positive_duration)]
    pub grace: Duration,

    /// Take over unmanaged agents whose name matches a new definition
    #[arg(long)]
    pub adopt: bool,
}

pub async fn run(args: WatchArgs, global: &GlobalArgs) -> CliResult {
    let workspace = global.workspace_options()?;
    let options = WatchOptions {
        interval: args.interval,
        debounce: args.debounce,
        listen: args.listen,
        unready_after: args.unready_after,
        stall_after: args.stall_after,
        grace: args.grace,
        adopt: args.adopt,
        ..WatchOptions::new(workspace)
    };
    watch::run(options, shutdown_signal()).await?;
    Ok(ExitStatus::Success)
}

/// Completes on SIGINT or (on Unix) SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
