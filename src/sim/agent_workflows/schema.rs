//! The request models of the Agent Workflows API as the contract describes them: body fields
//! with their types, and the query parameters each route declares.

use crate::sim::fastapi::{Field, Kind};

/// `status` of `PUT /workflow/{id}/status`.
pub(crate) const STATUSES: &[&str] = &["active", "archived"];

/// `?status=` of the list and the summary.
pub(crate) const STATUS_FILTERS: &[&str] = &["active", "archived", "all"];
pub(crate) const DEFAULT_STATUS_FILTER: &str = "active";

/// `POST /workflow/create/definition` (`CreateWorkflowRequest`).
pub(crate) const CREATE: &[Field] = &[
    Field::required("name", Kind::NonEmptyStr),
    Field::required("definition", Kind::Object),
    Field::defaulted("configuration", Kind::Object),
];

/// `PUT /workflow/{id}` (`UpdateWorkflowRequest`): any of the fields, at least one.
pub(crate) const UPDATE: &[Field] = &[
    Field::defaulted("name", Kind::NonEmptyStr),
    Field::defaulted("definition", Kind::Object),
    Field::defaulted("configuration", Kind::Object),
];

/// `PUT /workflow/{id}/status` (`UpdateWorkflowStatusRequest`).
pub(crate) const STATUS: &[Field] = &[Field::required("status", Kind::OneOf(STATUSES))];

/// `PUT /workflow/{id}/folder` (`MoveWorkflowToFolderRequest`): `null` is Uncategorized, but
/// the field must be there, so that a client that forgets it is told rather than moved.
pub(crate) const FOLDER: &[Field] = &[Field::required_nullable("folder_id", Kind::PositiveInt)];

/// `GET /workflow/fetch` and `GET /workflow/summary`.
pub(crate) const LIST_QUERY: &[&str] = &["status"];

/// `GET /workflow/{id}/versions`.
pub(crate) const VERSIONS_QUERY: &[&str] = &["limit", "offset"];
pub(crate) const DEFAULT_LIMIT: u32 = 20;
pub(crate) const MAX_LIMIT: u32 = 100;

/// Routes that declare no query parameter.
pub(crate) const NO_QUERY: &[&str] = &[];
