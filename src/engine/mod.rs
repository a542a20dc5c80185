//! The core: [`plan`] (desired x observed -> actions) and [`render`] are pure; [`apply`] executes
//! a plan against a provider, reporting through [`progress`]. When two documents count as equal
//! is the model's ([`crate::model::diff`]), since providers ask it too.

pub mod apply;
pub mod plan;
pub mod progress;
pub mod render;
