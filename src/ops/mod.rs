//! The command workflows: each public function here is what one command does, composed from
//! the layers (config, spec, provider, plan, apply), with no knowledge of clap.

pub mod apply;
pub mod connect;
pub mod error;
pub mod export;
pub mod fingerprint;
pub mod lock;
pub mod observe;
pub mod plan;
pub mod saved;
pub mod status;
pub mod validate;
pub mod workspace;

pub use error::OpsError;
