//! The one grammar of durations on the command line (`--interval`, `--debounce`, `--grace`,
//! `--stall-after`, `--lock-timeout`, ...): `200ms`, `5s`, `5m`, `1h`, or a sum such as
//! `1m30s`. A unit is always written, as Terraform's `-lock-timeout` asks: a bare `5` could mean
//! seconds or milliseconds.
//!
//! A dozen lines do it, so no dependency: `humantime` would also accept forms (`2 weeks`,
//! `1month`) that make no sense for a resync interval or a lock wait.

use std::time::Duration;

/// A duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "`{text}` is not a duration: write a number and a unit (ms, s, m, h), e.g. 200ms, 5s, 5m"
    )]
    Unreadable { text: String },
    #[error("`{text}` is zero: write a duration above zero, e.g. 200ms, 5s, 5m")]
    Zero { text: String },
}

/// Reads a duration; zero (`0s`) is allowed, for a wait that should not wait.
pub fn duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError::Unreadable {
        text: text.to_string(),
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(error());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(error)?;
        if digits == 0 {
            return Err(error());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| error())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(error()),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Reads a duration above zero: a zero interval or debounce would be a busy loop.
pub fn positive_duration(text: &str) -> Result<Duration, DurationError> {
    match duration(text)? {
        zero if zero.is_zero() => Err(DurationError::Zero {
            text: text.to_string(),
        }),
        positive => Ok(positive),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sums_are_read() {
        assert_eq!(duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(positive_duration("1m30s"), Ok(Duration::from_secs(90)));
    }

    #[test]
    fn numbers_without_units_and_unknown_units_are_refused() {
        for bad in ["", "5", "s", "5x", "1.5s", "-1s", "5 s", "1m30"] {
            assert!(duration(bad).is_err(), "{bad}");
            assert!(positive_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zero_is_a_duration_but_not_a_positive_one() {
        assert_eq!(duration("0s"), Ok(Duration::ZERO));
        assert_eq!(duration("0ms"), Ok(Duration::ZERO));
        assert_eq!(
            positive_duration("0s"),
            Err(DurationError::Zero { text: "0s".into() })
        );
    }
}
