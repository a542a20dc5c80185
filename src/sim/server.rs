//! Runs a simulator: binds, serves HTTP/1 connections until told to stop, then drains them.
//!
//! The accept loop is ours rather than `axum::serve` for one reason: a dropped-connection fault
//! must close the connection without any answer, which only a service that can fail (and so
//! make hyper abort the connection) can do.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{Router, body::Body};
use hyper::body::Incoming;
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};
use tower::ServiceExt;

use super::{
    Faults, RequestCounts, SimError, SimOptions, app, faults::DropConnection, platform::Control,
};

/// How long a stop waits for requests in flight before it returns anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A simulator serving in a background task. Dropping it stops the server too; prefer
/// [`RunningSim::shutdown`], which waits until it has stopped.
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    control: Arc<Control>,
}

/// Loads the state, binds `options.listen` and serves in a background task.
///
/// The state is loaded before binding, so a bad state file fails the start and nothing listens.
pub async fn start(options: SimOptions) -> Result<RunningSim, SimError> {
    options.validate()?;
    let (app, control) = app::build(&options)?;
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|source| SimError::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: options.listen,
        source,
    })?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(serve(listener, app, stopped));
    tracing::info!(%addr, platform = options.platform.name(), "simulator listening");
    Ok(RunningSim {
        addr,
        stop,
        task,
        control,
    })
}

impl RunningSim {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request counters, as `GET /_sim/requests` answers them.
    pub fn requests(&self) -> RequestCounts {
        self.control.requests.counts()
    }

    /// Zeroes the request counters (not the state).
    pub fn reset_requests(&self) {
        self.control.requests.reset();
    }

    pub fn faults(&self) -> Faults {
        self.control.faults.faults()
    }

    /// Replaces the faults from the next request on, restarting the generator from their seed.
    pub fn set_faults(&self, faults: Faults) -> Result<(), SimError> {
        faults.validate()?;
        self.control.faults.set(faults);
        Ok(())
    }

    /// Saves the state changes not saved yet ([`Saving::OnFlush`](super::Saving::OnFlush)).
    pub async fn flush(&self) -> Result<(), SimError> {
        self.control.state.flush().await
    }

    /// Stops accepting, lets requests in flight finish (up to a few seconds), saves what is
    /// not saved yet, and returns once the server has stopped.
    pub async fn shutdown(self) -> Result<(), SimError> {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            tracing::error!(error = %err, "the simulator's server task failed");
        }
        self.control.state.flush().await
    }
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully. `on_ready` runs once the
/// simulator listens (the CLI prints the address there); the signal handlers are in place by
/// then, so a signal sent as soon as the address is known is not lost.
pub async fn run_until_signal(
    options: SimOptions,
    on_ready: impl FnOnce(&RunningSim),
) -> Result<(), SimError> {
    let mut signals = StopSignals::install()?;
    let sim = start(options).await?;
    on_ready(&sim);
    let signal = signals.recv().await;
    tracing::info!(signal, "stopping the simulator");
    sim.shutdown().await
}

#[cfg(unix)]
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignals {
    fn install() -> Result<StopSignals, SimError> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).map_err(SimError::Signal)?,
            terminate: signal(SignalKind::terminate()).map_err(SimError::Signal)?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn install() -> Result<StopSignals, SimError> {
        Ok(StopSignals)
    }

    async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// The error a request's service returns to make hyper close its connection unanswered.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose (fault injection)")]
struct Dropped;

async fn serve(listener: TcpListener, app: Router, mut stop: watch::Receiver<bool>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            // A stop request, or the RunningSim dropped.
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Small JSON answers must not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), hyper::service::service_fn({
                            let app = app.clone();
                            move |request| handle(app.clone(), request)
                        }));
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(err) = connection.await {
                            tracing::debug!(error = %err, "connection ended with an error");
                        }
                    });
                }
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {DRAIN_TIMEOUT:?}; no longer waiting for them"
        );
    }
}

/// One request through the router; a response marked [`DropConnection`] becomes an error,
/// on which hyper closes the connection without writing anything.
async fn handle(
    app: Router,
    request: hyper::Request<Incoming>,
) -> Result<axum::response::Response, Dropped> {
    let response = match app.oneshot(request.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.extensions().get::<DropConnection>().is_some() {
        Err(Dropped)
    } else {
        Ok(response)
    }
}
