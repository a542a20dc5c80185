//! Which tenant a request acts for (`tenant_id` / `tenant_unit_id` query parameters), and
//! whether this simulator serves it.
//!
//! Without `--tenant-id` / `--tenant-unit-id`, every tenant is served and each sees only its own
//! objects (an absent parameter is the tenant `""`). With them, a request for another or no
//! tenant is refused with `403 {"detail": "Not authorized for this tenant"}`, as a service that
//! checks the tenant in a dependency would; objects of other tenants stay invisible (404).

use axum::http::StatusCode;

use super::entities::Scope;
use crate::sim::fastapi::{ApiError, Query};

/// The query parameters every workfx route accepts.
pub(crate) const TENANT_PARAMS: [&str; 2] = ["tenant_id", "tenant_unit_id"];

#[derive(Debug, Clone, Default)]
pub(crate) struct Tenancy {
    pub tenant_id: Option<String>,
    pub tenant_unit_id: Option<String>,
}

impl Tenancy {
    pub(crate) fn scope(&self, query: &Query) -> Result<Scope, ApiError> {
        let scope = Scope {
            tenant_id: query.get("tenant_id").unwrap_or_default().to_owned(),
            tenant_unit_id: query.get("tenant_unit_id").unwrap_or_default().to_owned(),
        };
        let allowed = |required: &Option<String>, given: &str| {
            required.as_deref().is_none_or(|required| required == given)
        };
        if allowed(&self.tenant_id, &scope.tenant_id)
            && allowed(&self.tenant_unit_id, &scope.tenant_unit_id)
        {
            Ok(scope)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Not authorized for this tenant",
            ))
        }
    }
}
