//! The one backoff policy, for HTTP retries and the daemon's error policy: delays that double
//! from a base up to a cap, each shortened at random by up to a share of itself (the jitter, so
//! that clients that failed together do not retry in the same instant), and never shorter than
//! the base, so that nothing retries in a busy loop.

use std::time::Duration;

/// Delays that double from `base` up to `cap`, with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    jitter: f64,
}

impl Backoff {
    /// `jitter` is the largest share (0 to 1) a delay may lose at random: 1 is "full jitter"
    /// (any wait between the base and the ceiling), 0 none.
    pub fn new(base: Duration, cap: Duration, jitter: f64) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            jitter: jitter.clamp(0.0, 1.0),
        }
    }

    /// The longest wait after `failures` failures (1 or more): base, 2x, 4x, ... up to the cap.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base.saturating_mul(1u32 << doublings).min(self.cap)
    }

    /// The wait after `failures` failures, drawn at random.
    pub fn delay(&self, failures: u32) -> Duration {
        self.delay_with(failures, rand::random::<f64>())
    }

    /// [`Backoff::delay`] with the random draw given (`unit` in `[0, 1)`).
    pub fn delay_with(&self, failures: u32, unit: f64) -> Duration {
        self.ceiling(failures)
            .mul_f64(1.0 - self.jitter * unit.clamp(0.0, 1.0))
            .max(self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn delays_double_from_the_base_up_to_the_cap() {
        let backoff = Backoff::new(SECOND, 10 * SECOND, 0.2);
        let delays: Vec<u64> = (1..=6)
            .map(|n| backoff.delay_with(n, 0.0).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn jitter_takes_off_at_most_its_share_and_never_goes_below_the_base() {
        let backoff = Backoff::new(SECOND, 10 * SECOND, 0.2);
        assert_eq!(backoff.delay_with(1, 0.99), SECOND);
        assert_eq!(backoff.delay_with(2, 0.5), Duration::from_millis(1800));
        assert_eq!(backoff.delay_with(3, 1.0), Duration::from_millis(3200));
        let full = Backoff::new(SECOND, 10 * SECOND, 1.0);
        assert_eq!(full.delay_with(4, 0.5), 4 * SECOND);
        assert_eq!(full.delay_with(4, 0.99), SECOND);
    }

    #[test]
    fn many_failures_never_overflow_and_stay_within_base_and_cap() {
        let backoff = Backoff::new(SECOND, 300 * SECOND, 1.0);
        for failures in [0, 1, 31, 32, 64, u32::MAX] {
            let delay = backoff.delay(failures);
            assert!(
                delay >= SECOND && delay <= 300 * SECOND,
                "{failures}: {delay:?}"
            );
        }
    }
}
