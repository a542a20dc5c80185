//! The simulator's one error type, what can stop it from starting or fail while it serves;
//! and how a platform words the error answers the shared layers give on its behalf.

use std::{io, net::SocketAddr, path::PathBuf};

use axum::{http::StatusCode, response::Response};

/// How a platform words an error that the shared layers answer on its behalf (a missing or
/// wrong token, an injected 5xx or 429, an unknown route or method): FastAPI's
/// `{"detail": ...}` for workfx and Agent Workflows, the `{"success": false, "error": ...}`
/// envelope for Agents v1. The layers add their headers (`WWW-Authenticate`, `Retry-After`).
pub(crate) type ErrorAnswer = fn(StatusCode, &str) -> Response;

/// Everything that can go wrong in the simulator layer, with the context a user needs to act.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulator option {option}: {reason}")]
    InvalidOption {
        option: &'static str,
        reason: String,
    },

    #[error("could not listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },

    #[error(
        "could not read the simulator state file {path}; fix its permissions, or pass another --state file"
    )]
    StateRead {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "the simulator state file {path} is not valid JSON simulator state, and was left untouched; \
         move it aside (or delete it) to start with an empty state"
    )]
    StateParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "the simulator state file {path} cannot be used ({reason}), and was left untouched; \
         move it aside (or delete it) to start with an empty state"
    )]
    StateInvalid { path: PathBuf, reason: String },

    #[error(
        "the directory of the simulator state file {path} does not exist; create it, or pass another --state file"
    )]
    StateDirectoryMissing { path: PathBuf },

    #[error("could not save the simulator state to {path}")]
    StateWrite {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("could not encode the simulator state")]
    StateEncode(#[source] serde_json::Error),

    #[error("could not listen for the stop signals (SIGINT, SIGTERM)")]
    Signal(#[source] io::Error),
}
