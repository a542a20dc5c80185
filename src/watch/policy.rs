//! The error policy: after a failed sync, when to try again. Exponential backoff, capped, and
//! never sooner than the base delay, so a platform that is down never causes a busy loop; each
//! delay loses up to a fifth at random, so that daemons that failed together (a platform
//! outage) do not all retry in the same instant.

use std::time::Duration;

/// Consecutive failures, and the delays they lead to.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// A sync failed: the delay before the next attempt (base, 2x, 4x, ... up to the cap, less
    /// up to 20% at random).
    pub fn failed(&mut self) -> Duration {
        self.failed_with(rand::random::<f64>())
    }

    /// [`Backoff::failed`] with the random draw given (`unit` in `[0, 1)`).
    pub fn failed_with(&mut self, unit: f64) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(20)).unwrap_or(u32::MAX);
        self.failures = self.failures.saturating_add(1);
        let full = self.base.saturating_mul(factor).min(self.cap);
        full.mul_f64(1.0 - 0.2 * unit.clamp(0.0, 1.0))
            .max(self.base)
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
    fn delays_double_up_to_the_cap_and_reset_on_success() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let delays: Vec<u64> = (0..6).map(|_| backoff.failed_with(0.0).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        backoff.succeeded();
        assert_eq!(backoff.failed_with(0.0), Duration::from_secs(1));
    }

    #[test]
    fn jitter_takes_off_at_most_a_fifth_and_never_goes_below_the_base() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(backoff.failed_with(0.99), Duration::from_secs(1));
        assert_eq!(backoff.failed_with(0.5), Duration::from_millis(1800));
        assert_eq!(backoff.failed_with(1.0), Duration::from_millis(3200));
    }

    #[test]
    fn many_failures_never_overflow() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        for _ in 0..1000 {
            assert!(backoff.failed() <= Duration::from_secs(300));
        }
    }
}
