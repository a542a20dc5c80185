//! agentsync keeps AI agents on hosted platforms in step with definitions kept in a git repository.
//!
//! The library face: load definitions ([`spec`]), read configuration ([`config`]), and the command
//! workflows in [`ops`]. `ARCHITECTURE.md` maps the modules and the rules between them.
//!
//! The layers, from the outside in: [`cli`] parses flags and prints; [`ops`] and [`watch`] compose
//! the commands and the daemon; [`engine`] plans, renders and applies; [`export`] writes what a
//! platform holds as definition files; [`spec`] and [`config`] read the repository, through
//! [`text`]; [`provider`] speaks to each platform over HTTP; [`model`] is the provider-neutral
//! vocabulary they share; [`json_schema`] makes the editors' schemas from the same tables. [`sim`]
//! stands in for the platforms and shares nothing with the rest.
//! A test (`src/architecture.rs`) reads the crate's `use` lines and holds the rules between them.

#[cfg(test)]
mod arbitrary;
#[cfg(test)]
mod architecture;
pub mod backoff;
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
