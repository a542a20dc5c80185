//! Injected faults (latency, 5xx, 429 with `Retry-After`, dropped connections), drawn from one
//! seeded generator so that a sequential client meets the same faults on every run; and the
//! answer faults, drawn from nothing (oversized answers here; the platforms' handlers read
//! the others through [`FaultInjector::faults`]).

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};
use futures_util::{StreamExt, stream};
use rand::{RngExt, SeedableRng, rngs::StdRng};

use super::{Faults, error::ErrorAnswer};

/// Marks a response that must not be sent: the server closes the connection instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Serve,
    ServeThenDrop,
    DropBefore,
    Error(StatusCode),
    RateLimited,
}

#[derive(Debug)]
pub(crate) struct FaultInjector {
    draw: Mutex<(Faults, StdRng)>,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> FaultInjector {
        let rng = StdRng::seed_from_u64(faults.seed);
        FaultInjector {
            draw: Mutex::new((faults, rng)),
        }
    }

    pub(crate) fn faults(&self) -> Faults {
        self.lock().0.clone()
    }

    /// Replaces the faults and restarts the generator from their seed.
    pub(crate) fn set(&self, faults: Faults) {
        *self.lock() = (faults.clone(), StdRng::seed_from_u64(faults.seed));
    }

    // The generator holds no invariant that a panic elsewhere could break.
    fn lock(&self) -> std::sync::MutexGuard<'_, (Faults, StdRng)> {
        self.draw.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The delay and the fate of one request. Always the same number of draws per request,
    /// so that a given seed gives the same sequence whatever the outcomes.
    fn draw(&self) -> (Duration, Outcome, u64) {
        let mut guard = self.lock();
        let (faults, rng) = &mut *guard;
        let jitter = rng.random_range(0..=faults.jitter_ms);
        let roll: f64 = rng.random();
        let delay = faults.latency() + Duration::from_millis(jitter);
        let half_errors = faults.error_rate / 2.0;
        let bands = [
            (
                half_errors,
                Outcome::Error(StatusCode::INTERNAL_SERVER_ERROR),
            ),
            (half_errors, Outcome::Error(StatusCode::SERVICE_UNAVAILABLE)),
            (faults.rate_limit_rate, Outcome::RateLimited),
            (faults.drop_before_rate, Outcome::DropBefore),
            (faults.drop_rate, Outcome::ServeThenDrop),
        ];
        let mut upper = 0.0;
        let mut outcome = Outcome::Serve;
        for (rate, candidate) in bands {
            upper += rate;
            if roll < upper {
                outcome = candidate;
                break;
            }
        }
        (delay, outcome, faults.retry_after_secs)
    }
}

/// Middleware in front of the platform routes (inside the request counter); its fault answers
/// are worded by the platform's [`ErrorAnswer`].
pub(crate) async fn inject(
    State((injector, error)): State<(Arc<FaultInjector>, ErrorAnswer)>,
    request: Request,
    next: Next,
) -> Response {
    let (delay, outcome, retry_after) = injector.draw();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let padding = match *request.method() {
        Method::GET => injector.lock().0.oversize_bytes,
        _ => 0,
    };
    match outcome {
        Outcome::Serve if padding > 0 => oversized(next.run(request).await, padding),
        Outcome::Serve => next.run(request).await,
        Outcome::ServeThenDrop => {
            let mut response = next.run(request).await;
            response.extensions_mut().insert(DropConnection);
            response
        }
        Outcome::DropBefore => {
            let mut response = Response::new(Body::empty());
            response.extensions_mut().insert(DropConnection);
            response
        }
        Outcome::Error(status) => {
            let message = status.canonical_reason().unwrap_or("Server Error");
            error(status, message)
        }
        Outcome::RateLimited => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            response
        }
    }
}

/// The pieces an oversized answer is sent in.
const PADDING_CHUNK: usize = 64 * 1024;

/// `response` after `padding` bytes of spaces, streamed (so the simulator never holds them) and
/// without a `Content-Length`, so that a client learns the size only by reading.
fn oversized(response: Response, padding: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunk = Bytes::from(vec![b' '; PADDING_CHUNK]);
    let whole = padding / PADDING_CHUNK as u64;
    let rest = usize::try_from(padding % PADDING_CHUNK as u64).unwrap_or(0);
    let pad = stream::iter((0..whole).map(move |_| Ok::<_, axum::Error>(chunk.clone()))).chain(
        stream::once(async move { Ok::<_, axum::Error>(Bytes::from(vec![b' '; rest])) }),
    );
    Response::from_parts(parts, Body::from_stream(pad.chain(body.into_data_stream())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(faults: Faults, n: usize) -> Vec<Outcome> {
        let injector = FaultInjector::new(faults);
        (0..n).map(|_| injector.draw().1).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let faults = Faults {
            error_rate: 0.3,
            rate_limit_rate: 0.3,
            seed: 7,
            ..Faults::none()
        };
        assert_eq!(outcomes(faults.clone(), 50), outcomes(faults, 50));
    }

    #[test]
    fn no_rates_means_every_request_is_served() {
        assert!(
            outcomes(Faults::none(), 100)
                .iter()
                .all(|o| *o == Outcome::Serve)
        );
    }

    #[test]
    fn each_rate_of_one_always_gives_its_fault() {
        let only = |faults: Faults| outcomes(faults, 20);
        assert!(
            only(Faults {
                rate_limit_rate: 1.0,
                ..Faults::none()
            })
            .iter()
            .all(|o| *o == Outcome::RateLimited)
        );
        assert!(
            only(Faults {
                drop_rate: 1.0,
                ..Faults::none()
            })
            .iter()
            .all(|o| *o == Outcome::ServeThenDrop)
        );
        assert!(
            only(Faults {
                drop_before_rate: 1.0,
                ..Faults::none()
            })
            .iter()
            .all(|o| *o == Outcome::DropBefore)
        );
        assert!(
            only(Faults {
                error_rate: 1.0,
                ..Faults::none()
            })
            .iter()
            .all(|o| matches!(o, Outcome::Error(_)))
        );
    }
}
