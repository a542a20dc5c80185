//! Every reader and writer of definition text: YAML ([`yaml`], saphyr plus a fast reader of the
//! common shape), the one-pass JSON scanner ([`json_text`]), the JSON include fast path
//! ([`json_include`]), the YAML emitter ([`yaml_emit`]) and the source-pointing diagnostics
//! ([`diagnostic`]).
//!
//! Every hand-written fast path here gives what its reference (saphyr for YAML, serde_json for
//! JSON) gives, which property tests hold. [`reference_readers`] turns them all off, so that a
//! user who suspects one of them can compare.

use std::sync::OnceLock;

pub mod diagnostic;
pub mod json_include;
pub mod json_text;
pub mod yaml;
pub mod yaml_emit;

/// The variable that forces the reference readers: `AGENTSYNC_REFERENCE_READERS=1`.
pub const REFERENCE_READERS_VAR: &str = "AGENTSYNC_REFERENCE_READERS";

/// Whether every reader takes its reference path (saphyr, serde_json) and no fast path: set by
/// [`REFERENCE_READERS_VAR`] to anything but empty or `0`, read once per process. Slower, and
/// otherwise the same: a difference it makes is a bug in a fast path.
pub fn reference_readers() -> bool {
    static FORCED: OnceLock<bool> = OnceLock::new();
    *FORCED.get_or_init(|| forces(std::env::var_os(REFERENCE_READERS_VAR).as_deref()))
}

/// Whether a value of [`REFERENCE_READERS_VAR`] turns the fast paths off.
fn forces(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty() && value != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switch_is_on_for_any_value_but_empty_or_zero() {
        let forced = |value: Option<&str>| forces(value.map(std::ffi::OsStr::new));
        assert!(forced(Some("1")) && forced(Some("yes")));
        assert!(!forced(None) && !forced(Some("")) && !forced(Some("0")));
    }
}
