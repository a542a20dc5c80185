//! Every reader and writer of definition text: YAML ([`yaml`], saphyr plus a fast reader of the
//! common shape), the one-pass JSON scanner ([`json_text`]), the YAML emitter ([`yaml_emit`]) and
//! the source-pointing diagnostics ([`diagnostic`]).

pub mod diagnostic;
pub mod json_include;
pub mod json_text;
pub mod yaml;
pub mod yaml_emit;
