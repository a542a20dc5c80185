//! The checker of one target's settings: each setting read from flags, `AGENTSYNC_*`
//! variables, the target's mapping or the top level, in that order, and checked by one rule.

use std::path::Path;

use super::error::{ConfigError, ConfigProblem};
use super::settings::{SETTINGS, TARGETS};
use super::{Config, DEFAULT_STATE_DIR, Endpoint, LoadOptions, MAX_CONCURRENCY, MaxPrune, Prune};
use crate::provider::{DEFAULT_CONCURRENCY, ProviderKind};
use crate::spec::interpolate::is_env_name;
use crate::text::diagnostic::{Located, SourceFile, suggest};
use crate::text::yaml::{self, Node, Span, Value};

/// One setting's value, wherever it came from.
pub(super) enum Raw<'a> {
    File(&'a Node),
    /// A flag or a variable: always text, named for messages.
    Text {
        origin: String,
        text: String,
    },
}

impl Raw<'_> {
    pub(super) fn as_text(&self) -> Result<String, String> {
        match self {
            Raw::File(node) => match &node.value {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("must be a string, found {}", other.type_name())),
            },
            Raw::Text { text, .. } => Ok(text.clone()),
        }
    }

    pub(super) fn as_bool(&self) -> Result<bool, String> {
        match self {
            Raw::File(node) => match node.value {
                Value::Bool(b) => Ok(b),
                ref other => Err(format!(
                    "must be true or false, found {}",
                    other.type_name()
                )),
            },
            Raw::Text { text, .. } => match text.as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(format!("must be true or false, found '{text}'")),
            },
        }
    }
}

pub(super) struct Checker<'a> {
    pub(super) source: &'a SourceFile,
    pub(super) problems: Vec<Located<ConfigProblem>>,
}

/// Where a target's settings come from, besides flags and variables: its own mapping under
/// `targets:` (if any), then the top level.
pub(super) struct Layers<'n> {
    pub(super) name: Option<&'n str>,
    pub(super) own: Option<&'n Node>,
    pub(super) top: &'n Node,
    /// Flags and variables may set per-target settings (one target is in force).
    pub(super) overridable: bool,
    /// Flags and variables apply at all (the target is in force).
    pub(super) selected: bool,
    /// How many targets are in force.
    pub(super) in_force: usize,
}

impl Checker<'_> {
    pub(super) fn unknown_keys(&mut self, entries: &[yaml::Entry], top_level: bool) {
        for entry in entries {
            if !top_level && SETTINGS.iter().any(|s| s.key == entry.key && s.top_level) {
                let problem = ConfigProblem::TopLevelOnly {
                    key: entry.key.clone(),
                };
                self.at(entry.key_span, problem);
                continue;
            }
            let known =
                SETTINGS.iter().any(|s| s.key == entry.key) || (top_level && entry.key == TARGETS);
            if !known {
                let candidates = SETTINGS
                    .iter()
                    .map(|s| s.key)
                    .chain(top_level.then_some(TARGETS));
                let suggestion = suggest(&entry.key, candidates).map(str::to_string);
                let problem = ConfigProblem::UnknownKey {
                    key: entry.key.clone(),
                    suggestion,
                };
                self.at(entry.key_span, problem);
            }
        }
    }

    /// Resolves one target's settings.
    pub(super) fn config(
        &mut self,
        path: &Path,
        root: &Path,
        options: &LoadOptions<'_>,
        layers: &Layers<'_>,
    ) -> Option<Config> {
        let flag = |key: &str| -> Option<String> {
            let o = options.overrides;
            match key {
                "endpoint" => o.endpoint.clone(),
                "definitions" => o.definitions.as_ref().map(|p| p.display().to_string()),
                "concurrency" => o.concurrency.map(|c| c.to_string()),
                "state_dir" => o.state_dir.as_ref().map(|p| p.display().to_string()),
                _ => None,
            }
        };
        // Overrides that would set a per-target setting for several targets at once.
        let mut refused: Vec<(String, &'static str)> = Vec::new();
        let mut raw = |key: &'static str| -> Option<Raw<'_>> {
            let setting = SETTINGS.iter().find(|s| s.key == key)?;
            if layers.selected {
                let overriding = flag(key)
                    .map(|text| (format!("--{}", key.replace('_', "-")), text))
                    .or_else(|| {
                        (options.env)(setting.env).map(|text| (setting.env.to_owned(), text))
                    });
                if let Some((origin, text)) = overriding {
                    if !setting.per_target || layers.overridable {
                        return Some(Raw::Text { origin, text });
                    }
                    refused.push((origin, key));
                }
            }
            layers
                .own
                .filter(|_| !setting.top_level)
                .and_then(|own| own.get(key))
                .or_else(|| layers.top.get(key))
                .filter(|e| !matches!(e.value.value, Value::Null))
                .map(|e| Raw::File(&e.value))
        };

        let provider = self.required(raw("provider"), "provider", |raw| {
            let name = raw.as_text()?;
            ProviderKind::from_name(&name).ok_or_else(|| {
                let names: Vec<_> = ProviderKind::ALL.iter().map(|p| p.name()).collect();
                format!(
                    "names no known platform '{name}'; known: {}",
                    names.join(", ")
                )
            })
        });
        let endpoint = self.required(raw("endpoint"), "endpoint", |raw| {
            parse_endpoint(&raw.as_text()?)
        });
        let tenancy = provider.is_none_or(|p| p.capabilities().tenancy);
        let no_tenancy = |raw: &Raw<'_>| -> Result<String, String> {
            if tenancy {
                non_empty(raw)
            } else {
                Err(format!(
                    "is a workfx setting; {} has no tenants",
                    provider.map_or("this platform", ProviderKind::name)
                ))
            }
        };
        let tenant_id = self.optional(raw("tenant_id"), "tenant_id", no_tenancy);
        let tenant_unit_id = self.optional(raw("tenant_unit_id"), "tenant_unit_id", no_tenancy);
        let token_env = self.optional(raw("token_env"), "token_env", |raw| {
            let name = raw.as_text()?;
            if is_env_name(&name) {
                Ok(name)
            } else {
                Err(format!(
                    "must be the NAME of an environment variable (like WORKFX_TOKEN), not '{}'",
                    if name.len() > 12 { "<a value>" } else { &name }
                ))
            }
        });
        let definitions = self
            .optional(raw("definitions"), "definitions", non_empty)
            .map_or_else(|| root.join("agents"), |d| root.join(d));
        let platform = provider.map_or("this platform", ProviderKind::name);
        let capabilities = provider.map(ProviderKind::capabilities);
        let drafts = capabilities.is_none_or(|c| c.publish);
        let publish = self
            .optional(raw("publish"), "publish", |raw| match raw.as_bool()? {
                false if !drafts => Err(format!(
                    "cannot be false: {platform} has no drafts, so every update is live the \
                     moment it is applied and there is nothing to hold back; remove the setting"
                )),
                publish => Ok(publish),
            })
            .unwrap_or(true);
        let can_delete = capabilities.is_none_or(|c| c.delete);
        let can_archive = capabilities.is_none_or(|c| c.archive);
        let prune = self
            .optional(raw("prune"), "prune", |raw| match parse_prune(raw)? {
                Prune::Delete if !can_delete => Err(format!(
                    "cannot be 'delete': {platform} cannot delete agents; use archive"
                )),
                Prune::Archive if !can_archive => Err(format!(
                    "cannot be 'archive': {platform} cannot archive agents; use delete (permanent) \
                     or false"
                )),
                prune => Ok(prune),
            })
            .unwrap_or_default();
        let max_prune = self
            .optional(raw("max_prune"), "max_prune", parse_max_prune)
            .unwrap_or_default();
        let concurrency = self
            .optional(raw("concurrency"), "concurrency", parse_concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY);
        let state_dir = root.join(
            self.optional(raw("state_dir"), "state_dir", non_empty)
                .unwrap_or_else(|| DEFAULT_STATE_DIR.to_owned()),
        );
        for (origin, key) in refused {
            // Every target in force refuses the same override: it is reported once.
            let reported = self.problems.iter().any(|p| {
                matches!(&p.error, ConfigProblem::OverrideNeedsTarget { origin: o, .. } if *o == origin)
            });
            if !reported {
                let problem = ConfigProblem::OverrideNeedsTarget {
                    origin: origin.clone(),
                    key,
                    count: layers.in_force,
                };
                self.problems.push(Located::file(origin, problem));
            }
        }

        Some(Config {
            target: layers.name.map(str::to_owned),
            path: path.to_path_buf(),
            root: root.to_path_buf(),
            provider: provider?,
            endpoint: endpoint?,
            tenant_id,
            tenant_unit_id,
            token_env,
            definitions,
            publish,
            prune,
            max_prune,
            concurrency,
            state_dir,
        })
    }

    pub(super) fn at(&mut self, span: Span, problem: ConfigProblem) {
        self.problems.push(Located::at(self.source, span, problem));
    }

    pub(super) fn fail_file(mut self, problem: ConfigProblem) -> ConfigError {
        self.problems
            .push(Located::file(&self.source.path, problem));
        self.finish()
    }

    pub(super) fn finish(self) -> ConfigError {
        ConfigError::Invalid {
            problems: self.problems,
        }
    }

    pub(super) fn optional<T>(
        &mut self,
        raw: Option<Raw<'_>>,
        key: &'static str,
        parse: impl Fn(&Raw<'_>) -> Result<T, String>,
    ) -> Option<T> {
        let raw = raw?;
        match parse(&raw) {
            Ok(value) => Some(value),
            Err(message) => {
                let problem = ConfigProblem::Invalid { key, message };
                match raw {
                    Raw::File(node) => self.at(node.span, problem),
                    Raw::Text { origin, .. } => {
                        self.problems.push(Located::file(origin, problem));
                    }
                }
                None
            }
        }
    }

    pub(super) fn required<T>(
        &mut self,
        raw: Option<Raw<'_>>,
        key: &'static str,
        parse: impl Fn(&Raw<'_>) -> Result<T, String>,
    ) -> Option<T> {
        if raw.is_none() {
            self.problems.push(Located::file(
                &self.source.path,
                ConfigProblem::Missing { key },
            ));
            return None;
        }
        self.optional(raw, key, parse)
    }
}

fn non_empty(raw: &Raw<'_>) -> Result<String, String> {
    let text = raw.as_text()?;
    if text.trim().is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(text)
    }
}

fn parse_endpoint(text: &str) -> Result<Endpoint, String> {
    if text == "embedded" {
        return Ok(Endpoint::Embedded);
    }
    let url =
        reqwest::Url::parse(text).map_err(|err| format!("is not a URL or 'embedded': {err}"))?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(Endpoint::Url(url)),
        _ => Err("must be an http or https URL, or 'embedded'".into()),
    }
}

fn parse_prune(raw: &Raw<'_>) -> Result<Prune, String> {
    let text = match raw {
        Raw::File(Node {
            value: Value::Bool(false),
            ..
        }) => return Ok(Prune::Off),
        Raw::File(Node {
            value: Value::Bool(true),
            ..
        }) => return Err("must say how: archive or delete (true is ambiguous)".into()),
        other => other.as_text()?,
    };
    match text.as_str() {
        "false" | "off" => Ok(Prune::Off),
        "archive" => Ok(Prune::Archive),
        "delete" => Ok(Prune::Delete),
        _ => Err(format!("must be false, archive or delete, not '{text}'")),
    }
}

pub(super) fn parse_max_prune(raw: &Raw<'_>) -> Result<MaxPrune, String> {
    let text = match raw {
        Raw::File(Node {
            value: Value::Int(n),
            ..
        }) => n.to_string(),
        other => other.as_text()?,
    };
    let text = text.trim();
    let invalid =
        || format!("must be a count (5) or a share of the managed agents (\"20%\"), not '{text}'");
    match text.strip_suffix('%') {
        Some(percent) => match percent.trim().parse::<u32>() {
            Ok(p) if p <= 100 => Ok(MaxPrune::Percent(p)),
            _ => Err(invalid()),
        },
        None => text
            .parse::<u32>()
            .map(MaxPrune::Count)
            .map_err(|_| invalid()),
    }
}

fn parse_concurrency(raw: &Raw<'_>) -> Result<u32, String> {
    let value = match raw {
        Raw::File(Node {
            value: Value::Int(n),
            ..
        }) => *n,
        Raw::File(node) => {
            return Err(format!(
                "must be a whole number, found {}",
                node.value.type_name()
            ));
        }
        Raw::Text { text, .. } => text
            .parse::<i64>()
            .map_err(|_| format!("must be a whole number, not '{text}'"))?,
    };
    match u32::try_from(value) {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be between 1 and {MAX_CONCURRENCY}, not {value}"
        )),
    }
}
