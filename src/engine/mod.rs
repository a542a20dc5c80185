//! The core: [`plan`] (desired x observed -> actions), [`diff`] and [`render`] are pure; [`apply`]
//! executes a plan against a provider, reporting through [`progress`].

pub mod apply;
pub mod diff;
pub mod plan;
pub mod progress;
pub mod render;
