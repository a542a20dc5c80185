//! `agentsync sim`: serve the embedded platform simulator until SIGINT or SIGTERM.

use std::{net::SocketAddr, path::PathBuf};

use clap::Args;

use super::exit::ExitStatus;
use super::{CliResult, Reporter};
use crate::provider::ProviderKind;
use crate::sim::{self, Faults, Platform, SimOptions};

/// Serve a platform's API on loopback: no account needed, state in memory or in a file,
/// optional faults for testing retries.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port. The address actually used is printed
    /// on stdout as `listening on http://ADDR`.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// Keep the state in this JSON file: loaded at start (a missing file means empty), replaced
    /// atomically after every change. A file that cannot be read is refused, never overwritten.
    #[arg(long = "state", value_name = "FILE")]
    pub state_file: Option<PathBuf>,

    /// Which platform's API to serve.
    #[arg(long, value_enum, default_value_t = ProviderKind::Workfx)]
    pub platform: ProviderKind,

    /// Require `Authorization: Bearer TOKEN` on every platform request (401 otherwise).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "AGENTSYNC_SIM_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// agents-v1 only: also accept this token, as an org member's who is not an admin:
    /// changes to public and commercial agents made with it are refused (403).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "AGENTSYNC_SIM_MEMBER_TOKEN",
        hide_env_values = true
    )]
    pub member_token: Option<String>,

    /// Serve only this tenant: requests with another or no `tenant_id` get 403. workfx only
    /// (refused for agent-workflows, which has no tenancy).
    #[arg(long, value_name = "ID")]
    pub tenant_id: Option<String>,

    /// Serve only this tenant unit: requests with another or no `tenant_unit_id` get 403.
    /// workfx only (refused for agent-workflows).
    #[arg(long, value_name = "ID")]
    pub tenant_unit_id: Option<String>,

    /// The largest `page_size` a list accepts; a larger one is a 422 [default: 100]. workfx
    /// only (refused for agent-workflows, which has no paged lists).
    #[arg(long, value_name = "N")]
    pub max_page_size: Option<u32>,

    /// Seed of the fault generator: the same seed gives a sequential client the same faults.
    #[arg(long, value_name = "N", default_value_t = Faults::DEFAULT_SEED, help_heading = "Faults")]
    pub seed: u64,

    /// Delay every platform answer by N milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Faults")]
    pub latency_ms: u64,

    /// Add a random delay between 0 and N milliseconds on top of --latency-ms.
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Faults")]
    pub jitter_ms: u64,

    /// Share (0 to 1) of requests answered 500 or 503 without being handled: nothing changes.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = share, help_heading = "Faults")]
    pub error_rate: f64,

    /// Share (0 to 1) of requests answered 429 with `Retry-After`, without being handled.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = share, help_heading = "Faults")]
    pub rate_limit_rate: f64,

    /// The `Retry-After` of a 429, in seconds.
    #[arg(long, value_name = "N", default_value_t = Faults::DEFAULT_RETRY_AFTER_SECS, help_heading = "Faults")]
    pub retry_after_secs: u64,

    /// Share (0 to 1) of requests that are handled (a write IS applied and saved), then the
    /// connection is closed without an answer: the client cannot know whether it happened.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = share, help_heading = "Faults")]
    pub drop_rate: f64,

    /// Share (0 to 1) of requests whose connection is closed without an answer BEFORE they are
    /// handled: nothing changes.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = share, help_heading = "Faults")]
    pub drop_before_rate: f64,
}

fn share(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
}

impl SimArgs {
    fn options(self) -> Result<SimOptions, sim::SimError> {
        let platform = self.platform.simulator();
        // Checked here as well as in `SimOptions::validate`, which can only see a value equal
        // to the default: an explicit `--max-page-size 100` must be refused too.
        if platform != Platform::Workfx && self.max_page_size.is_some() {
            return Err(sim::SimError::InvalidOption {
                option: "--max-page-size",
                reason: format!(
                    "{} has no page size to cap; it applies to workfx only",
                    platform.name()
                ),
            });
        }
        Ok(SimOptions {
            listen: self.listen,
            state_file: self.state_file,
            token: self.token,
            member_token: self.member_token,
            tenant_id: self.tenant_id,
            tenant_unit_id: self.tenant_unit_id,
            faults: Faults {
                seed: self.seed,
                latency_ms: self.latency_ms,
                jitter_ms: self.jitter_ms,
                error_rate: self.error_rate,
                rate_limit_rate: self.rate_limit_rate,
                retry_after_secs: self.retry_after_secs,
                drop_rate: self.drop_rate,
                drop_before_rate: self.drop_before_rate,
                ..Faults::none()
            },
            platform,
            max_page_size: self
                .max_page_size
                .unwrap_or(SimOptions::DEFAULT_MAX_PAGE_SIZE),
            ..SimOptions::loopback()
        })
    }
}

pub async fn run(args: SimArgs, reporter: &Reporter) -> CliResult {
    let options = args.options()?;
    if !options.listen.ip().is_loopback() {
        tracing::warn!(addr = %options.listen, "the simulator is listening beyond loopback");
    }
    let ready = |running: &sim::RunningSim| {
        reporter.out(&format!("listening on {}", running.base_url()));
    };
    sim::run_until_signal(options, ready).await?;
    Ok(ExitStatus::Success)
}
