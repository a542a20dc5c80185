//! What a simulator is asked to be: address, state file, credentials, tenancy, faults, platform.

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::PathBuf,
    time::Duration,
};

use serde::{Deserialize, Serialize};

use super::{Clock, SimError};

/// Which vendor API the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Platform {
    /// `https://api.workfx.ai`, under `/admin/api/v2`.
    #[default]
    Workfx,
    /// Agent Workflows (voice agents), under `/workflow`.
    AgentWorkflows,
    /// Agents v1 (voice and text agents), under `/v1/agents`.
    AgentsV1,
}

impl Platform {
    /// The name used on the command line and in the state file.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Workfx => "workfx",
            Platform::AgentWorkflows => "agent-workflows",
            Platform::AgentsV1 => "agents-v1",
        }
    }
}

/// Injected misbehaviour, drawn from one generator seeded with `seed`, so that a sequential client
/// sees the same faults on every run. Faults never apply to the `/_sim/*` introspection routes.
///
/// At most one of the rate-driven faults hits a request: one draw in `[0, 1)` is compared with
/// the rates stacked in the order error, rate limit, drop before, drop after. Their sum must
/// therefore not exceed 1.
///
/// The answer faults (`agent_list`, `flow_list`, `oversize_bytes`,
/// `drop_extend_properties_on_create`) are drawn from nothing: while set, every answer they
/// concern is broken the same way, so that a test can show what a client makes of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub seed: u64,
    /// Added before every answer (including fault answers).
    pub latency_ms: u64,
    /// A uniform extra delay in `[0, jitter_ms]` on top of `latency_ms`.
    pub jitter_ms: u64,
    /// Share of requests answered 500 or 503 without being handled (no state change).
    pub error_rate: f64,
    /// Share of requests answered 429 with `Retry-After: retry_after_secs`, without being handled.
    pub rate_limit_rate: f64,
    pub retry_after_secs: u64,
    /// Share of requests that are handled (a write is applied and saved), then the connection is
    /// closed without an answer: the client cannot know whether its write happened.
    pub drop_rate: f64,
    /// Share of requests whose connection is closed without an answer before they are handled.
    pub drop_before_rate: f64,
    /// The shape of the agent list's answers (workfx `GET /agents`; Agent Workflows
    /// `GET /workflow/fetch`, which has no paging fields: there [`ListShape::NoPagingFields`]
    /// leaves out `workflows`, and only it, [`ListShape::NoItems`] and [`ListShape::Repeats`]
    /// apply; Agents v1 `GET /v1/agents`, where [`ListShape::NoPagingFields`] leaves out
    /// `pagination` and every shape but [`ListShape::HugeTotalPages`] applies).
    pub agent_list: ListShape,
    /// The shape of the version list's answers (workfx `GET /agents/{id}/flows`; no
    /// `total_pages` there, so [`ListShape::HugeTotalPages`] answers as documented).
    pub flow_list: ListShape,
    /// When not 0, every answer to a GET is sent after this many bytes of whitespace (still
    /// JSON, as a reader without a size limit finds), in chunks, without a `Content-Length`.
    pub oversize_bytes: u64,
    /// workfx: a create keeps nothing of the `extend_properties` it was sent (where agentsync
    /// keeps its marker), and answers `{}` for them.
    pub drop_extend_properties_on_create: bool,
}

/// How a list answers, as documented or broken in one way that a client must notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListShape {
    #[default]
    Documented,
    /// `{"data": [...]}` alone: no `total_count`, `total_pages`, `has_next_page`, `page_num`,
    /// `page_size`.
    NoPagingFields,
    /// The paging fields as documented, but no items: `{"total_count": 5, ..., "data": []}`.
    NoItems,
    /// Every page says it is the last (`has_next_page: false`, `total_pages: 1`), with the
    /// true `total_count` and items.
    EndsEarly,
    /// Every page holds the first page's items and says `has_next_page: true`, the totals as
    /// they are. (Agent Workflows: every agent is listed twice.)
    Repeats,
    /// `total_pages: 1000000000` with `has_next_page: false`, the rest as documented.
    HugeTotalPages,
}

impl ListShape {
    /// The `total_pages` of [`ListShape::HugeTotalPages`].
    pub const HUGE_TOTAL_PAGES: u64 = 1_000_000_000;
}

impl Faults {
    pub const DEFAULT_SEED: u64 = 1;
    pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

    /// No faults at all.
    pub fn none() -> Faults {
        Faults {
            seed: Faults::DEFAULT_SEED,
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            retry_after_secs: Faults::DEFAULT_RETRY_AFTER_SECS,
            drop_rate: 0.0,
            drop_before_rate: 0.0,
            agent_list: ListShape::Documented,
            flow_list: ListShape::Documented,
            oversize_bytes: 0,
            drop_extend_properties_on_create: false,
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms)
    }

    pub fn validate(&self) -> Result<(), SimError> {
        let rates = [
            ("--error-rate", self.error_rate),
            ("--rate-limit-rate", self.rate_limit_rate),
            ("--drop-rate", self.drop_rate),
            ("--drop-before-rate", self.drop_before_rate),
        ];
        for (option, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SimError::InvalidOption {
                    option,
                    reason: format!("{rate} is not a share between 0 and 1"),
                });
            }
        }
        let sum: f64 = rates.iter().map(|(_, rate)| rate).sum();
        // A little slack, so that 0.7 + 0.3 is not refused for its rounding error.
        if sum > 1.0 + 1e-9 {
            return Err(SimError::InvalidOption {
                option: "--error-rate, --rate-limit-rate, --drop-rate, --drop-before-rate",
                reason: format!(
                    "they add up to {sum}, but at most one fault hits a request, so their sum must be at most 1"
                ),
            });
        }
        Ok(())
    }
}

impl Default for Faults {
    fn default() -> Faults {
        Faults::none()
    }
}

/// Where workfx's docs can be read two ways, the reading the simulator serves (agentsync must be
/// right under both; the tests run it against each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Readings {
    pub update: UpdateReading,
    pub flow_order: FlowOrder,
}

/// What `PUT /agents/{id}` does with the fields its body leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateReading {
    /// They keep their value (a partial update).
    #[default]
    Merge,
    /// They take the update model's documented defaults (`status: ACTIVE`,
    /// `extend_properties: {}`, `is_favorite: false`, `ab_test_enabled: false`, no tags, the
    /// optional strings unset); `name`, which shows no default, is kept.
    Replace,
}

/// The order of `GET /agents/{id}/flows`, "newest first".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowOrder {
    /// The draft first, then the published versions, newest first (`shared/api/README.md`,
    /// assumption 6).
    #[default]
    DraftFirst,
    /// By creation time, newest first: the published versions, then the draft, which was
    /// created before every version published from it.
    ByCreation,
    /// Not a reading but a breach: oldest first (the versions from "1" up, then the draft),
    /// for a client's way of reading every page when the first is out of order.
    OldestFirst,
}

/// When a simulator with a state file saves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Saving {
    /// After every change, before the change is visible: a server others talk to, which may
    /// be stopped at any moment.
    #[default]
    EveryChange,
    /// When flushed ([`RunningSim::flush`](super::RunningSim::flush)) and when shut down: a
    /// simulator inside one agentsync run, which flushes at the end of each apply or sync.
    /// Saving the whole state per change made a large apply quadratic. A run killed before
    /// its flush loses its changes with it, and the next run makes them again.
    OnFlush,
}

/// How to run one simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    /// Loaded at start (missing = empty) and replaced atomically when saved (see `saving`).
    pub state_file: Option<PathBuf>,
    /// When the state file is saved.
    pub saving: Saving,
    /// When set, every platform request needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Agents v1 only, and only beside `token`: a second token, an org member's who is not an
    /// owner or admin. It is accepted as `token` is, except that updating or deleting a
    /// `public` or `commercial` agent with it is refused with 403.
    pub member_token: Option<String>,
    /// When set, requests for another (or no) `tenant_id` are refused with 403 (workfx only).
    pub tenant_id: Option<String>,
    /// When set, requests for another (or no) `tenant_unit_id` are refused with 403 (workfx
    /// only).
    pub tenant_unit_id: Option<String>,
    pub faults: Faults,
    pub platform: Platform,
    /// The largest `page_size` a list accepts; more is a 422 (workfx only: Agent Workflows has
    /// no pages, and the `limit` of its version list and of the Agents v1 list is fixed at 1
    /// to 100 by their contracts).
    pub max_page_size: u32,
    /// workfx only: the reading of the docs served where they can be read two ways.
    pub readings: Readings,
    pub clock: Clock,
}

impl SimOptions {
    pub const DEFAULT_MAX_PAGE_SIZE: u32 = 100;

    /// `127.0.0.1` on a port chosen by the system, in memory, no auth, no tenancy, no faults.
    pub fn loopback() -> SimOptions {
        SimOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            state_file: None,
            saving: Saving::EveryChange,
            token: None,
            member_token: None,
            tenant_id: None,
            tenant_unit_id: None,
            faults: Faults::none(),
            platform: Platform::Workfx,
            max_page_size: SimOptions::DEFAULT_MAX_PAGE_SIZE,
            readings: Readings::default(),
            clock: Clock::system(),
        }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        self.faults.validate()?;
        if self.max_page_size == 0 {
            return Err(SimError::InvalidOption {
                option: "--max-page-size",
                reason: "must be at least 1".to_owned(),
            });
        }
        if self.platform != Platform::Workfx {
            self.refuse_workfx_only_options()?;
        }
        if self.token.as_deref() == Some("") {
            return Err(SimError::InvalidOption {
                option: "--token",
                reason: "must not be empty".to_owned(),
            });
        }
        self.check_member_token()
    }

    /// A member token is refused rather than ignored where it would mean nothing: a test that
    /// expects a member's 403 must not pass against a simulator that lets everyone in.
    fn check_member_token(&self) -> Result<(), SimError> {
        let Some(member_token) = self.member_token.as_deref() else {
            return Ok(());
        };
        let refused = |reason: String| {
            Err(SimError::InvalidOption {
                option: "member_token",
                reason,
            })
        };
        if self.platform != Platform::AgentsV1 {
            return refused(format!(
                "{} has no roles; a member token applies to agents-v1 only",
                self.platform.name()
            ));
        }
        match self.token.as_deref() {
            None => {
                refused("needs a token as well: without one every request is an admin's".to_owned())
            }
            Some(_) if member_token.is_empty() => refused("must not be empty".to_owned()),
            Some(token) if token == member_token => refused(
                "must differ from the token, or a member could not be told from an admin"
                    .to_owned(),
            ),
            Some(_) => Ok(()),
        }
    }

    /// Options that mean something only to workfx are refused rather than ignored: a user who
    /// pins a tenant expects requests for other tenants to fail, and they would not.
    fn refuse_workfx_only_options(&self) -> Result<(), SimError> {
        let platform = self.platform.name();
        if self.tenant_id.is_some() || self.tenant_unit_id.is_some() {
            return Err(SimError::InvalidOption {
                option: "--tenant-id, --tenant-unit-id",
                reason: format!("{platform} has no tenancy; these apply to workfx only"),
            });
        }
        if self.readings != Readings::default() {
            return Err(SimError::InvalidOption {
                option: "readings",
                reason: format!("{platform} is not workfx; the readings apply to workfx only"),
            });
        }
        if self.max_page_size != SimOptions::DEFAULT_MAX_PAGE_SIZE {
            return Err(SimError::InvalidOption {
                option: "--max-page-size",
                reason: format!(
                    "{platform} takes no page size (the `limit` of its lists is 1 to 100, as \
                     its contract fixes it); this applies to workfx only"
                ),
            });
        }
        Ok(())
    }
}
