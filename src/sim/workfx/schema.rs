//! The request models of the workfx API as the vendor docs describe them: body fields with
//! their types, and the query parameters each route declares.
//!
//! Choices where the docs leave room: `type` is checked against the documented values (legacy
//! ones included); `mode` and the icon fields are free strings (the docs' own examples disagree
//! on mode names); `status` must be `ACTIVE` or `ARCHIVED`; `mode` and `type` are not in the
//! documented update model, so a PUT naming them is refused like any unknown field.

use crate::sim::fastapi::{Field, Kind};

const AGENT_TYPES: &[&str] = &["single-agent", "multi-agent", "flow", "instruction", "tool"];
const STATUSES: &[&str] = &["ACTIVE", "ARCHIVED"];
const OWNER_TYPES: &[&str] = &["agent", "multi-agent", "tool"];

/// `POST /agents`.
pub(crate) const AGENT_CREATE: &[Field] = &[
    Field::optional("icon_type", Kind::Str),
    Field::optional("icon", Kind::Str),
    Field::optional("icon_background", Kind::Str),
    Field::optional("mode", Kind::Str),
    Field::optional("type", Kind::OneOf(AGENT_TYPES)),
    Field::required("name", Kind::Str),
    Field::optional("description", Kind::Str),
    Field::optional("tags", Kind::StrOrStrList),
    Field::defaulted("is_favorite", Kind::Bool),
    Field::defaulted("extend_properties", Kind::Object),
];

/// `PUT /agents/{agent_id}`: every field optional, absent ones unchanged.
pub(crate) const AGENT_UPDATE: &[Field] = &[
    Field::optional("icon_type", Kind::Str),
    Field::optional("icon", Kind::Str),
    Field::optional("icon_background", Kind::Str),
    Field::defaulted("name", Kind::Str),
    Field::optional("description", Kind::Str),
    Field::optional("tags", Kind::StrOrStrList),
    Field::defaulted("is_favorite", Kind::Bool),
    Field::defaulted("status", Kind::OneOf(STATUSES)),
    Field::optional("ab_test_id", Kind::Str),
    Field::defaulted("ab_test_enabled", Kind::Bool),
    Field::defaulted("extend_properties", Kind::Object),
    Field::optional("usage_guide", Kind::Str),
];

/// `POST /agents/{agent_id}/flows` (`FlowDraftVersionCreateRequest`). The server-owned fields
/// are accepted, type-checked and ignored: the server sets them. `owner_type` is documented as
/// an object, but the entity's `FlowOwnerType` is a string enum; the enum is what is accepted.
pub(crate) const FLOW_DRAFT: &[Field] = &[
    Field::optional("created_by", Kind::Str),
    Field::optional("updated_by", Kind::Str),
    Field::optional("created_by_role", Kind::Str),
    Field::optional("updated_by_role", Kind::Str),
    Field::optional("created_time", Kind::Str),
    Field::optional("updated_time", Kind::Str),
    Field::optional("owner_id", Kind::Str),
    Field::optional("owner_type", Kind::OneOf(OWNER_TYPES)),
    Field::optional("mode", Kind::Str),
    Field::optional("version", Kind::Str),
    Field::defaulted("graph", Kind::Object),
    Field::optional("features", Kind::Object),
    Field::optional("flow_variables", Kind::Object),
    Field::optional("conversation_variables", Kind::ObjectOfObjects),
];

/// `POST .../chat`, `.../job`, `.../flows/draft/runs` (`AgentChatInvokeRequest`).
pub(crate) const INVOKE: &[Field] = &[
    Field::optional("query", Kind::Str),
    Field::optional("inputs", Kind::Object),
    Field::defaulted("streaming", Kind::Bool),
    Field::optional("files", Kind::StrList),
    Field::optional("response_type", Kind::Str),
    Field::optional("wfx_context", Kind::Object),
    Field::optional("conversation_id", Kind::Str),
];

/// `POST .../chat/resume`: an invocation plus where to resume.
pub(crate) const RESUME: &[Field] = &[
    Field::optional("query", Kind::Str),
    Field::optional("inputs", Kind::Object),
    Field::defaulted("streaming", Kind::Bool),
    Field::optional("files", Kind::StrList),
    Field::optional("response_type", Kind::Str),
    Field::optional("wfx_context", Kind::Object),
    Field::optional("conversation_id", Kind::Str),
    Field::optional("interrupt_inputs", Kind::Object),
    Field::defaulted("is_interrupted", Kind::Bool),
    Field::optional("flow_run_id", Kind::Str),
];

/// `GET /agents`.
pub(crate) const LIST_AGENTS_QUERY: &[&str] = &[
    "page_num",
    "page_size",
    "is_favorite",
    "tags",
    "mode",
    "name",
    "order_by",
    "exclude_draft",
    "ids",
    "type",
    "tenant_id",
    "tenant_unit_id",
];

pub(crate) const ORDERS: &[&str] = &["recent", "oldest"];

/// `GET /agents/{agent_id}/flows`.
pub(crate) const LIST_FLOWS_QUERY: &[&str] =
    &["page_num", "page_size", "tenant_id", "tenant_unit_id"];
