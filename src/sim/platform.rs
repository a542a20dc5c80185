//! What every simulated platform hands over to the shared application ([`PlatformApi`]), and
//! the handles a running simulator is observed and steered through ([`Control`]). Platform
//! modules, `app` and `admin` all depend on this file, and it on none of them.

use std::sync::Arc;

use axum::Router;

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
