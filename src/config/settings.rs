//! The settings of `agentsync.yaml` as data: the key, the variable, the help line and what each
//! may hold. The checker, its messages and the JSON Schema all read this one table.

use super::MAX_CONCURRENCY;

/// The top-level key that names several targets.
pub const TARGETS: &str = "targets";

/// One setting of `agentsync.yaml`, as the checker, the messages and the JSON Schema know it.
pub struct Setting {
    pub key: &'static str,
    pub env: &'static str,
    pub doc: &'static str,
    /// Names where and as whom a target syncs: with several targets in force, a flag or a
    /// variable cannot set it for all of them.
    pub per_target: bool,
    /// Belongs to the repository, not to a target: refused inside `targets:`.
    pub top_level: bool,
    /// What the setting may hold, for the JSON Schema of `agentsync.yaml`.
    pub value: SettingValue,
}

/// What a setting may hold, as data: the JSON Schema (`agentsync schema config`) is made from
/// it. The checker's parse functions are the authority; a test checks that a value of every
/// shape the schema allows is one they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingValue {
    /// The name of one of [`ProviderKind::ALL`](crate::provider::ProviderKind::ALL).
    Provider,
    /// `embedded`, or an http(s) URL.
    Endpoint,
    /// A non-empty string.
    Text,
    /// The name of an environment variable.
    EnvName,
    Bool,
    /// `false`, `archive` or `delete`.
    Prune,
    /// A count, or a share such as `"20%"`.
    CountOrShare,
    /// A whole number in a range.
    Integer {
        min: u32,
        max: u32,
    },
}

/// Every setting, at the top level and in each target.
pub const SETTINGS: &[Setting] = &[
    Setting {
        key: "provider",
        value: SettingValue::Provider,
        per_target: true,
        top_level: false,
        env: "AGENTSYNC_PROVIDER",
        doc: "the platform: workfx or agent-workflows",
    },
    Setting {
        key: "endpoint",
        value: SettingValue::Endpoint,
        per_target: true,
        top_level: false,
        env: "AGENTSYNC_ENDPOINT",
        doc: "the platform's base URL (http or https), or 'embedded' for the built-in simulator",
    },
    Setting {
        key: "tenant_id",
        value: SettingValue::Text,
        per_target: true,
        top_level: false,
        env: "AGENTSYNC_TENANT_ID",
        doc: "the tenant sent with every request",
    },
    Setting {
        key: "tenant_unit_id",
        value: SettingValue::Text,
        per_target: true,
        top_level: false,
        env: "AGENTSYNC_TENANT_UNIT_ID",
        doc: "the tenant unit sent with every request",
    },
    Setting {
        key: "token_env",
        value: SettingValue::EnvName,
        per_target: true,
        top_level: false,
        env: "AGENTSYNC_TOKEN_ENV",
        doc: "the NAME of the environment variable that holds the API token",
    },
    Setting {
        key: "definitions",
        value: SettingValue::Text,
        per_target: true,
        top_level: false,
        env: "AGENTSYNC_DEFINITIONS",
        doc: "the definitions directory, relative to the configuration file (default: agents)",
    },
    Setting {
        key: "publish",
        value: SettingValue::Bool,
        per_target: false,
        top_level: false,
        env: "AGENTSYNC_PUBLISH",
        doc: "true or false: publish drafts that differ from the live version (default: true)",
    },
    Setting {
        key: "prune",
        value: SettingValue::Prune,
        per_target: false,
        top_level: false,
        env: "AGENTSYNC_PRUNE",
        doc: "false, archive or delete: what happens to managed agents whose file is gone (default: false)",
    },
    Setting {
        key: "max_prune",
        value: SettingValue::CountOrShare,
        per_target: false,
        top_level: false,
        env: "AGENTSYNC_MAX_PRUNE",
        doc: "the most agents one run prunes without --allow-mass-prune: a count (5) or a share (\"20%\") of the managed agents (default: half, at least one)",
    },
    Setting {
        key: "concurrency",
        value: SettingValue::Integer {
            min: 1,
            max: MAX_CONCURRENCY,
        },
        per_target: false,
        top_level: false,
        env: "AGENTSYNC_CONCURRENCY",
        doc: "requests in flight at once, 1 to 256 (default: 8)",
    },
    Setting {
        key: "state_dir",
        value: SettingValue::Text,
        per_target: false,
        top_level: true,
        env: "AGENTSYNC_STATE_DIR",
        doc: "a writable directory for agentsync's run locks and the embedded simulator's state, relative to the configuration file (default: .agentsync); point it at a volume when the checkout is read-only",
    },
];
