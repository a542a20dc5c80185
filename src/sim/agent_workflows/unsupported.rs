//! The documented endpoints the simulator does not implement (templates, CSV reports, ambient
//! noise uploads): agentsync never calls them, and a realistic stand-in for generated
//! definitions or presigned URLs would be guesswork. They answer `501` rather than `404`, so
//! that a client calling one learns that the path is right and the simulator is the limit.

use axum::{
    extract::MatchedPath,
    http::{Method, StatusCode},
};

use crate::sim::fastapi::ApiError;

pub(crate) async fn not_simulated(method: Method, route: MatchedPath) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        &format!(
            "{method} {} is documented but not simulated: the agentsync simulator serves \
             workflows, drafts, versions and validation only",
            route.as_str()
        ),
    )
}
