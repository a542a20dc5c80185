//! Shutdown at request granularity: a [`Provider`] wrapper that, once stopped, lets the
//! requests in flight finish and starts no new one.
//!
//! `apply::execute` knows nothing of shutdown; wrapping the provider gives the daemon "finish
//! what is in flight, start nothing new" without changing the engine. A call made after the
//! stop never completes: the loop drops the sync once nothing is in flight, and the next
//! start's reconcile picks up from whatever state the platform is in.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::model::content::Content;
use crate::model::{Document, Key, Lifecycle, Marker};
use crate::provider::{Capabilities, Provider, ProviderKind, RemoteAgent, RemoteContent, Result};

/// Shared between the loop (which stops it) and the provider wrappers of each sync.
#[derive(Debug)]
pub struct Gate {
    stopped: AtomicBool,
    in_flight: watch::Sender<usize>,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            stopped: AtomicBool::new(false),
            in_flight: watch::Sender::new(0),
        }
    }
}

impl Gate {
    /// No new request starts from now on.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Completes once no request is in flight.
    pub async fn drained(&self) {
        let mut in_flight = self.in_flight.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = in_flight.wait_for(|n| *n == 0).await;
    }

    async fn pass<T>(&self, request: impl Future<Output = T>) -> T {
        // Counted before the check, so `stop` then `drained` never misses a request that
        // passed the check.
        self.in_flight.send_modify(|n| *n += 1);
        let _counted = InFlight(self);
        if self.stopped.load(Ordering::SeqCst) {
            drop(_counted);
            return std::future::pending().await;
        }
        request.await
    }
}

struct InFlight<'a>(&'a Gate);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// A provider whose requests pass through a [`Gate`].
pub struct Gated<P> {
    inner: Arc<P>,
    gate: Arc<Gate>,
}

impl<P> Gated<P> {
    pub fn new(inner: Arc<P>, gate: Arc<Gate>) -> Gated<P> {
        Gated { inner, gate }
    }
}

impl<P: Provider> Provider for Gated<P> {
    fn kind(&self) -> ProviderKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn list_agents(&self) -> impl Future<Output = Result<Vec<RemoteAgent>>> + Send {
        self.gate.pass(self.inner.list_agents())
    }

    /// The twin lookup that ends a create: once stopped it finds nothing, at once and without a
    /// request, so that the create in flight finishes (a concurrent run's twin, if any, is
    /// left for the next plan to name) instead of waiting on a request that never starts.
    fn find_agents(
        &self,
        key: &Key,
        name: Option<&str>,
    ) -> impl Future<Output = Result<Vec<RemoteAgent>>> + Send {
        let lookup = self.inner.find_agents(key, name);
        async move {
            if self.gate.stopped.load(Ordering::SeqCst) {
                tracing::debug!("shutting down: the twin lookup after a create is skipped");
                return Ok(Vec::new());
            }
            self.gate.pass(lookup).await
        }
    }

    fn read_content(&self, id: &str) -> impl Future<Output = Result<RemoteContent>> + Send {
        self.gate.pass(self.inner.read_content(id))
    }

    fn create_agent(
        &self,
        marker: &Marker,
        fields: &Document,
    ) -> impl Future<Output = Result<RemoteAgent>> + Send {
        self.gate.pass(self.inner.create_agent(marker, fields))
    }

    fn update_agent(
        &self,
        id: &str,
        marker: &Marker,
        fields: &Document,
    ) -> impl Future<Output = Result<()>> + Send {
        self.gate.pass(self.inner.update_agent(id, marker, fields))
    }

    fn claim_agent(&self, id: &str, marker: &Marker) -> impl Future<Output = Result<()>> + Send {
        self.gate.pass(self.inner.claim_agent(id, marker))
    }

    fn set_lifecycle(
        &self,
        id: &str,
        lifecycle: Lifecycle,
    ) -> impl Future<Output = Result<()>> + Send {
        self.gate.pass(self.inner.set_lifecycle(id, lifecycle))
    }

    fn set_lifecycle_and_marker(
        &self,
        id: &str,
        lifecycle: Lifecycle,
        marker: &Marker,
    ) -> impl Future<Output = Result<()>> + Send {
        self.gate
            .pass(self.inner.set_lifecycle_and_marker(id, lifecycle, marker))
    }

    fn write_draft(&self, id: &str, content: &Content) -> impl Future<Output = Result<()>> + Send {
        self.gate.pass(self.inner.write_draft(id, content))
    }

    fn publish(&self, id: &str) -> impl Future<Output = Result<String>> + Send {
        self.gate.pass(self.inner.publish(id))
    }

    fn delete_agent(&self, id: &str) -> impl Future<Output = Result<()>> + Send {
        self.gate.pass(self.inner.delete_agent(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn after_stop_a_request_in_flight_finishes_and_a_new_one_never_starts() {
        let gate = Arc::new(Gate::default());
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let in_flight = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.pass(async { released.await.is_ok() }).await }
        });
        tokio::task::yield_now().await;
        while *gate.in_flight.borrow() == 0 {
            tokio::task::yield_now().await;
        }
        gate.stop();
        let started = std::sync::atomic::AtomicBool::new(false);
        let new = gate.pass(async { started.store(true, Ordering::SeqCst) });
        tokio::select! {
            biased;
            () = new => panic!("a request started after stop"),
            () = async { let _ = release.send(()); } => {}
        }
        gate.drained().await;
        assert!(in_flight.await.unwrap_or(false));
        assert!(!started.load(Ordering::SeqCst));
    }
}
