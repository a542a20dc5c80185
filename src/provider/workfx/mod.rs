//! The workfx platform: its definition format, and (with the reconciler) its API client.

pub mod definition;
