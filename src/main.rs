//! The `agentsync` binary: parse arguments, set up tracing, run, map the outcome to an exit code.

use std::process::ExitCode;

use agentsync::cli::{Cli, LogFormat, LoggingOptions};
use tracing_subscriber::EnvFilter;

/// Loading allocates a value for every scalar of every definition on several threads at once;
/// glibc's allocator spent a third of a cold load's CPU there, much of it waiting on its locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::from_env() {
        Ok(cli) => cli,
        Err(usage) => return ExitCode::from(usage.print().code()),
    };
    init_tracing(&cli.logging());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: could not start the async runtime: {err}");
            return ExitCode::from(agentsync::ExitStatus::Failure.code());
        }
    };
    let status = runtime.block_on(cli.run());
    ExitCode::from(status.code())
}

/// Logs go to stderr so that stdout carries only results (plans, reports, JSON), around the
/// progress bar when one is drawn.
/// `AGENTSYNC_LOG` (an `EnvFilter` directive) overrides the level chosen by `-v`/`-q`.
///
/// notify's own warnings are left out by default: when a watched directory is removed, it and
/// its parent both report it, and notify warns that it cannot unwatch the second time, which
/// says nothing to the user (the daemon logs what it does about the directory itself).
fn init_tracing(options: &LoggingOptions) {
    let filter = EnvFilter::try_from_env("AGENTSYNC_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("{},notify=error", options.level.as_str())));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Lifts the progress bar around each line, when one is drawn.
        .with_writer(agentsync::cli::progress::log_writer)
        .with_target(false);
    match options.format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(options.color).init(),
    }
}
