//! The command workflows: each public function here is what one command does, composed from
//! the layers (config, spec, and later provider, plan, apply), with no knowledge of clap.

pub mod validate;
pub mod workspace;
