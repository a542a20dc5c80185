//! What every simulated platform hands over to the shared application ([`PlatformApi`]), and
//! the handles a running simulator is observed and steered through ([`Control`]). Platform
//! modules, `app` and `admin` all depend on this file, and it on none of them.

use std::sync::Arc;

use axum::Router;
use axum::http::Method;

use super::{
    Platform,
    error::ErrorAnswer,
    faults::FaultInjector,
    requests::{RequestLog, WriteClassifier},
    store::StateHandle,
};

/// What a platform module hands over: its routes (with their state), its state for
/// `GET /_sim/state`, which of its routes change state, and how it words errors.
pub(crate) struct PlatformApi {
    pub router: Router,
    pub snapshot: Arc<dyn StateHandle>,
    pub is_write: WriteClassifier,
    pub error: ErrorAnswer,
}

/// The handles through which tests and `/_sim` observe and steer a running simulator.
pub(crate) struct Control {
    pub platform: Platform,
    pub requests: Arc<RequestLog>,
    pub faults: Arc<FaultInjector>,
    pub state: Arc<dyn StateHandle>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

/// Whether `method` on the route `template` is one of `writes`: how each platform tells its
/// requests that can change state (whatever their outcome) from those that cannot.
pub(crate) fn listed_write(writes: &[(Method, &str)], method: &Method, template: &str) -> bool {
    writes
        .iter()
        .any(|(write_method, route)| write_method == method && *route == template)
}
