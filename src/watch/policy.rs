//! The error policy: after a failed sync, when to try again. The crate's one [`Backoff`]
//! policy, counted in consecutive failures; each delay loses up to a fifth at random, so that
//! daemons that failed together (a platform outage) do not all retry in the same instant.

use std::time::Duration;

use crate::backoff::Backoff;

/// The largest share of a delay that jitter takes off.
const JITTER: f64 = 0.2;

/// Consecutive failures, and the delays they lead to.
#[derive(Debug, Clone)]
pub struct ErrorPolicy {
    backoff: Backoff,
    failures: u32,
}

impl ErrorPolicy {
    /// Delays from `base` (never sooner) up to `cap`.
    pub fn new(base: Duration, cap: Duration) -> ErrorPolicy {
        ErrorPolicy {
            backoff: Backoff::new(base, cap, JITTER),
            failures: 0,
        }
    }

    /// A sync failed: the delay before the next attempt (base, 2x, 4x, ... up to the cap, less
    /// up to a fifth at random, never below the base).
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.backoff.delay(self.failures)
    }

    /// A sync succeeded: the next failure starts from the base delay again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_with_consecutive_failures_and_start_over_after_a_success() {
        let second = Duration::from_secs(1);
        let mut policy = ErrorPolicy::new(second, 10 * second);
        let delays: Vec<Duration> = (0..6).map(|_| policy.failed()).collect();
        assert_eq!(policy.failures(), 6);
        // Each delay is within a fifth of its doubling ceiling.
        for (delay, ceiling) in delays.iter().zip([1, 2, 4, 8, 10, 10]) {
            let ceiling = ceiling * second;
            assert!(*delay <= ceiling && *delay >= (ceiling.mul_f64(0.8)).max(second));
        }
        policy.succeeded();
        assert_eq!(policy.failures(), 0);
        assert_eq!(policy.failed(), second);
    }
}
