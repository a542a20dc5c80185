//! agentsync keeps AI agents on hosted platforms in step with definitions kept in a git repository.
//!
//! The library face: load definitions ([`spec`]), read configuration ([`config`]), and the command
//! workflows in [`ops`]. `ARCHITECTURE.md` maps the modules and the rules between them.

#[cfg(test)]
mod arbitrary;
#[cfg(test)]
mod architecture;
pub mod cli;
pub mod config;
pub mod engine;
pub mod export;
pub mod json_schema;
pub mod model;
pub mod ops;
pub mod provider;
pub mod sim;
pub mod spec;
pub mod text;
pub mod watch;

pub use cli::exit::ExitStatus;
