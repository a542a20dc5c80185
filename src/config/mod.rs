//! `agentsync.yaml` -> [`Config`]: finding the file, checking it, applying overrides.
//!
//! Precedence, highest first: command-line flags, `AGENTSYNC_*` environment variables, the
//! file. Every source is checked with the same rules and the same messages.
//!
//! A repository that serves several platforms or accounts names them under `targets:`; each
//! target is a mapping of the same settings, and a setting at the top level is the default of
//! every target. Each target resolves to its own [`Config`]. The settings themselves, as data,
//! are in [`settings`].

pub mod settings;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::provider::{DEFAULT_CONCURRENCY, ProviderKind};
use crate::spec::interpolate::is_env_name;
use crate::text::diagnostic::{Explain, Located, SourceFile, suggest};
use crate::text::yaml::{self, Node, Span, Value};
use settings::{SETTINGS, TARGETS};

/// The file name searched for from the current directory upward.
pub const FILE_NAME: &str = "agentsync.yaml";

/// The state directory, beside `agentsync.yaml`, unless `state_dir` says otherwise.
pub const DEFAULT_STATE_DIR: &str = ".agentsync";
const MAX_CONCURRENCY: u32 = 256;

/// Where the platform is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The simulator, run in-process; its state lives in the state directory.
    Embedded,
    Url(reqwest::Url),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Embedded => f.write_str("embedded"),
            Endpoint::Url(url) => write!(f, "{url}"),
        }
    }
}

/// What happens to managed agents whose definition file is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prune {
    /// They are listed in the plan, and left alone.
    #[default]
    Off,
    Archive,
    Delete,
}

/// The most agents one run may prune without `--allow-mass-prune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxPrune {
    /// Half of the managed agents (rounded up), at least one.
    #[default]
    Half,
    Count(u32),
    /// A share of the managed agents, in percent (rounded up, at least one).
    Percent(u32),
}

impl MaxPrune {
    /// The limit for a platform holding `managed` agents agentsync manages.
    pub fn limit(self, managed: usize) -> usize {
        let share = |percent: usize| (managed * percent).div_ceil(100);
        match self {
            MaxPrune::Half => share(50).max(1),
            MaxPrune::Count(n) => n as usize,
            MaxPrune::Percent(p) => share(p as usize).max(1),
        }
    }
}

impl std::fmt::Display for MaxPrune {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxPrune::Half => f.write_str("the default: half of the managed agents"),
            MaxPrune::Count(n) => write!(f, "max_prune: {n}"),
            MaxPrune::Percent(p) => write!(f, "max_prune: {p}% of the managed agents"),
        }
    }
}

/// The configuration in force for one target: one platform account and one definitions
/// directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The target's name under `targets:`; `None` when the file has no `targets:`.
    pub target: Option<String>,
    /// The configuration file.
    pub path: PathBuf,
    /// Its directory: relative paths in the configuration start here.
    pub root: PathBuf,
    pub provider: ProviderKind,
    pub endpoint: Endpoint,
    pub tenant_id: Option<String>,
    pub tenant_unit_id: Option<String>,
    /// The NAME of the variable holding the token, never the token.
    pub token_env: Option<String>,
    /// The definitions directory, absolute.
    pub definitions: PathBuf,
    pub publish: bool,
    pub prune: Prune,
    pub max_prune: MaxPrune,
    pub concurrency: u32,
    /// Where agentsync keeps its own files (run locks, the embedded simulator's state),
    /// absolute: `state_dir`, or `.agentsync/` beside the configuration file.
    pub state_dir: PathBuf,
}

/// Values that beat the configuration file: command-line flags, then `AGENTSYNC_*` variables.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub endpoint: Option<String>,
    pub definitions: Option<PathBuf>,
    pub concurrency: Option<u32>,
    pub state_dir: Option<PathBuf>,
}

/// How to find and read the configuration.
pub struct LoadOptions<'a> {
    /// `--config FILE`; otherwise the file is searched from `cwd` upward.
    pub path: Option<&'a Path>,
    pub cwd: &'a Path,
    pub overrides: &'a Overrides,
    /// Reads `AGENTSYNC_*` variables; the process environment in production.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// `--target NAME`: only that target; otherwise every target.
    pub target: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no {FILE_NAME} found in {} or any directory above it", start.display())]
    NotFound { start: PathBuf },
    #[error("cannot read the configuration {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the configuration has {} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    Invalid {
        problems: Vec<Located<ConfigProblem>>,
    },
}

impl ConfigError {
    pub fn help(&self) -> Option<&'static str> {
        match self {
            ConfigError::NotFound { .. } => Some(
                "run agentsync inside a repository that has agentsync.yaml, or pass --config FILE",
            ),
            _ => None,
        }
    }
}

/// One thing wrong in the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    #[error("{0}")]
    Yaml(#[from] yaml::YamlError),
    #[error("the configuration is empty")]
    Empty,
    #[error("the top level is {found}, but the configuration is a mapping of settings")]
    NotAMapping { found: &'static str },
    #[error("unknown setting '{key}'{}", suggestion.as_ref().map(|s| format!(", did you mean '{s}'?")).unwrap_or_default())]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    #[error("missing required setting '{key}'")]
    Missing { key: &'static str },
    #[error("setting '{key}' {message}")]
    Invalid { key: &'static str, message: String },
    #[error("{origin} sets '{key}' for one target, but {count} targets are in force")]
    OverrideNeedsTarget {
        origin: String,
        key: &'static str,
        count: usize,
    },
    #[error("no target is named '{name}'{}", suggestion.as_ref().map(|s| format!(", did you mean '{s}'?")).unwrap_or_default())]
    UnknownTarget {
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("--target {name} was given, but the configuration has no 'targets:'")]
    NoTargets { name: String },
    #[error(
        "target name '{name}' must be lowercase letters, digits and dashes, starting with a letter or digit"
    )]
    BadTargetName { name: String },
    #[error("'targets' {message}")]
    BadTargets { message: String },
    #[error("setting '{key}' belongs to the whole configuration, not to one target")]
    TopLevelOnly { key: String },
    #[error("state_dir {} is inside the definitions of target '{target}'", state_dir.display())]
    StateInDefinitions { state_dir: PathBuf, target: String },
    #[error("targets '{first}' and '{second}' share definitions: {} is inside {}", inner.display(), outer.display())]
    SharedDefinitions {
        first: String,
        second: String,
        inner: PathBuf,
        outer: PathBuf,
    },
}

impl Explain for ConfigProblem {
    fn label(&self) -> Option<String> {
        match self {
            ConfigProblem::UnknownKey { .. } => Some("unknown setting".into()),
            ConfigProblem::Invalid { .. } => Some("invalid value".into()),
            ConfigProblem::BadTargetName { .. } => Some("invalid name".into()),
            ConfigProblem::TopLevelOnly { .. } => Some("top-level setting".into()),
            _ => None,
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            ConfigProblem::UnknownKey { .. } => Some(format!(
                "the settings are: {}, and {TARGETS} at the top level",
                SETTINGS
                    .iter()
                    .map(|s| s.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            ConfigProblem::Missing { key } => SETTINGS
                .iter()
                .find(|s| s.key == *key)
                .map(|s| format!("add '{key}: ...' ({})", s.doc)),
            ConfigProblem::Invalid { key, .. } => SETTINGS
                .iter()
                .find(|s| s.key == *key)
                .map(|s| format!("{key}: {}", s.doc)),
            ConfigProblem::OverrideNeedsTarget { .. } => {
                Some("choose the target it is for with --target NAME".into())
            }
            ConfigProblem::UnknownTarget { known, .. } => {
                Some(format!("the targets are: {}", known.join(", ")))
            }
            ConfigProblem::NoTargets { .. } => Some(
                "leave out --target, or name the targets under 'targets:' in agentsync.yaml"
                    .into(),
            ),
            ConfigProblem::BadTargets { .. } => Some(
                "write 'targets:' as a mapping from target names to settings, e.g. 'targets: {voice: {provider: agent-workflows, endpoint: embedded}}'"
                    .into(),
            ),
            ConfigProblem::SharedDefinitions { .. } => Some(
                "give each target its own 'definitions' directory; one may not contain another"
                    .into(),
            ),
            ConfigProblem::TopLevelOnly { key } => Some(format!(
                "move '{key}' out of 'targets:' to the top level of agentsync.yaml"
            )),
            ConfigProblem::StateInDefinitions { .. } => Some(
                "agentsync writes its locks there on every run, which the watch daemon would take for edits: choose a directory outside every 'definitions'"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// One setting's value, wherever it came from.
enum Raw<'a> {
    File(&'a Node),
    /// A flag or a variable: always text, named for messages.
    Text {
        origin: String,
        text: String,
    },
}

impl Raw<'_> {
    fn as_text(&self) -> Result<String, String> {
        match self {
            Raw::File(node) => match &node.value {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("must be a string, found {}", other.type_name())),
            },
            Raw::Text { text, .. } => Ok(text.clone()),
        }
    }

    fn as_bool(&self) -> Result<bool, String> {
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

impl Config {
    /// Finds, reads and checks the configuration, then applies the overrides: one [`Config`]
    /// per target in force (every target, or the one `--target` names), in file order.
    pub fn load_targets(options: &LoadOptions<'_>) -> Result<Vec<Config>, ConfigError> {
        let path = match options.path {
            Some(path) => options.cwd.join(path),
            None => find(options.cwd).ok_or_else(|| ConfigError::NotFound {
                start: options.cwd.to_path_buf(),
            })?,
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let shown = path
            .strip_prefix(options.cwd)
            .map_or_else(|_| path.clone(), Path::to_path_buf);
        let source = SourceFile::new(shown, text);
        let root = path
            .parent()
            .map_or_else(|| options.cwd.to_path_buf(), Path::to_path_buf);
        Checker {
            source: &source,
            problems: Vec::new(),
        }
        .targets(&path, root, options)
    }

    /// [`Config::load_targets`] for a configuration with one target in force.
    pub fn load(options: &LoadOptions<'_>) -> Result<Config, ConfigError> {
        let mut targets = Config::load_targets(options)?;
        let count = targets.len();
        match targets.pop() {
            Some(config) if count == 1 => Ok(config),
            _ => Err(ConfigError::Invalid {
                problems: vec![Located::file(
                    "--target",
                    ConfigProblem::BadTargets {
                        message: format!("name {count} targets; choose one with --target NAME"),
                    },
                )],
            }),
        }
    }

    /// How the target is named in messages: its name, or the provider when there are no
    /// named targets.
    pub fn label(&self) -> &str {
        self.target.as_deref().unwrap_or(self.provider.name())
    }
}

/// The nearest `agentsync.yaml` in `start` or above.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Whether `name` can name a target: like an agent key, lowercase letters, digits and dashes.
fn is_target_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

struct Checker<'a> {
    source: &'a SourceFile,
    problems: Vec<Located<ConfigProblem>>,
}

/// Where a target's settings come from, besides flags and variables: its own mapping under
/// `targets:` (if any), then the top level.
struct Layers<'n> {
    name: Option<&'n str>,
    own: Option<&'n Node>,
    top: &'n Node,
    /// Flags and variables may set per-target settings (one target is in force).
    overridable: bool,
    /// Flags and variables apply at all (the target is in force).
    selected: bool,
    /// How many targets are in force.
    in_force: usize,
}

impl Checker<'_> {
    fn targets(
        mut self,
        path: &Path,
        root: PathBuf,
        options: &LoadOptions<'_>,
    ) -> Result<Vec<Config>, ConfigError> {
        let tree = match yaml::parse(&self.source.text) {
            Ok(Some(tree)) => tree,
            Ok(None) => return Err(self.fail_file(ConfigProblem::Empty)),
            Err(err) => {
                let span = err.span();
                self.at(span, ConfigProblem::Yaml(err));
                return Err(self.finish());
            }
        };
        let Value::Map(entries) = &tree.value else {
            let found = tree.value.type_name();
            self.at(tree.span, ConfigProblem::NotAMapping { found });
            return Err(self.finish());
        };
        self.unknown_keys(entries, true);

        let Some(targets) = tree
            .get(TARGETS)
            .filter(|e| !matches!(e.value.value, Value::Null))
        else {
            if let Some(name) = options.target {
                let name = name.to_owned();
                self.problems
                    .push(Located::file("--target", ConfigProblem::NoTargets { name }));
                return Err(self.finish());
            }
            let layers = Layers {
                name: None,
                own: None,
                top: &tree,
                overridable: true,
                selected: true,
                in_force: 1,
            };
            let configs: Vec<Config> = self
                .config(path, &root, options, &layers)
                .into_iter()
                .collect();
            self.state_outside_definitions(&configs);
            return match configs.len() {
                1 if self.problems.is_empty() => Ok(configs),
                _ => Err(self.finish()),
            };
        };

        let named: Vec<(&str, &Node)> = match &targets.value.value {
            Value::Map(named) if !named.is_empty() => {
                named.iter().map(|e| (e.key.as_str(), &e.value)).collect()
            }
            Value::Map(_) => {
                let message = "is empty; name at least one target, or remove it".to_owned();
                self.at(targets.value.span, ConfigProblem::BadTargets { message });
                return Err(self.finish());
            }
            other => {
                let message = format!(
                    "must be a mapping of target names, found {}",
                    other.type_name()
                );
                self.at(targets.value.span, ConfigProblem::BadTargets { message });
                return Err(self.finish());
            }
        };
        let names: Vec<String> = named.iter().map(|(n, _)| (*n).to_owned()).collect();
        if let Some(wanted) = options.target
            && !names.iter().any(|n| n == wanted)
        {
            let problem = ConfigProblem::UnknownTarget {
                name: wanted.to_owned(),
                suggestion: suggest(wanted, names.iter().map(String::as_str)).map(str::to_string),
                known: names.clone(),
            };
            self.problems.push(Located::file("--target", problem));
            return Err(self.finish());
        }
        let in_force = if options.target.is_some() {
            1
        } else {
            named.len()
        };
        let mut configs = Vec::new();
        for (name, node) in &named {
            if let Some(entry) = targets.value.get(name)
                && !is_target_name(name)
            {
                let problem = ConfigProblem::BadTargetName {
                    name: (*name).to_owned(),
                };
                self.at(entry.key_span, problem);
            }
            let Value::Map(own) = &node.value else {
                let message = format!(
                    "entry '{name}' must be a mapping of settings, found {}",
                    node.value.type_name()
                );
                self.at(node.span, ConfigProblem::BadTargets { message });
                continue;
            };
            self.unknown_keys(own, false);
            let selected = options.target.is_none_or(|wanted| wanted == *name);
            let layers = Layers {
                name: Some(name),
                own: Some(node),
                top: &tree,
                overridable: selected && in_force == 1,
                selected,
                in_force,
            };
            if let Some(config) = self.config(path, &root, options, &layers) {
                configs.push(config);
            }
        }
        self.shared_definitions(&configs);
        self.state_outside_definitions(&configs);
        if !self.problems.is_empty() {
            return Err(self.finish());
        }
        Ok(configs
            .into_iter()
            .filter(|c| {
                options
                    .target
                    .is_none_or(|wanted| c.target.as_deref() == Some(wanted))
            })
            .collect())
    }

    fn unknown_keys(&mut self, entries: &[yaml::Entry], top_level: bool) {
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

    /// Two targets reading the same files would each claim the other's agents.
    fn shared_definitions(&mut self, configs: &[Config]) {
        for (i, first) in configs.iter().enumerate() {
            for second in &configs[i + 1..] {
                let (inner, outer) = if second.definitions.starts_with(&first.definitions) {
                    (&second.definitions, &first.definitions)
                } else if first.definitions.starts_with(&second.definitions) {
                    (&first.definitions, &second.definitions)
                } else {
                    continue;
                };
                let problem = ConfigProblem::SharedDefinitions {
                    first: first.label().to_owned(),
                    second: second.label().to_owned(),
                    inner: inner
                        .strip_prefix(&first.root)
                        .unwrap_or(inner)
                        .to_path_buf(),
                    outer: outer
                        .strip_prefix(&first.root)
                        .unwrap_or(outer)
                        .to_path_buf(),
                };
                self.problems
                    .push(Located::file(&self.source.path, problem));
            }
        }
    }

    /// A state directory inside a definitions directory would have the watch daemon see
    /// every lock it takes as an edit. (The default, `.agentsync`, is one it ignores.)
    fn state_outside_definitions(&mut self, configs: &[Config]) {
        for config in configs {
            let default = config.root.join(DEFAULT_STATE_DIR);
            if config.state_dir != default && config.state_dir.starts_with(&config.definitions) {
                let problem = ConfigProblem::StateInDefinitions {
                    state_dir: config
                        .state_dir
                        .strip_prefix(&config.root)
                        .unwrap_or(&config.state_dir)
                        .to_path_buf(),
                    target: config.label().to_owned(),
                };
                self.problems
                    .push(Located::file(&self.source.path, problem));
                return;
            }
        }
    }

    /// Resolves one target's settings.
    fn config(
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
        let publish = self
            .optional(raw("publish"), "publish", |raw| raw.as_bool())
            .unwrap_or(true);
        let can_delete = provider.is_none_or(|p| p.capabilities().delete);
        let prune = self
            .optional(raw("prune"), "prune", |raw| match parse_prune(raw)? {
                Prune::Delete if !can_delete => Err(format!(
                    "cannot be 'delete': {} cannot delete agents; use archive",
                    provider.map_or("this platform", ProviderKind::name)
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

    fn at(&mut self, span: Span, problem: ConfigProblem) {
        self.problems.push(Located::at(self.source, span, problem));
    }

    fn fail_file(mut self, problem: ConfigProblem) -> ConfigError {
        self.problems
            .push(Located::file(&self.source.path, problem));
        self.finish()
    }

    fn finish(self) -> ConfigError {
        ConfigError::Invalid {
            problems: self.problems,
        }
    }

    fn optional<T>(
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

    fn required<T>(
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

fn parse_max_prune(raw: &Raw<'_>) -> Result<MaxPrune, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(
        text: &str,
        overrides: Overrides,
        env: &[(&str, &str)],
    ) -> (tempfile::TempDir, Result<Config, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.get(name).cloned();
        let result = Config::load(&LoadOptions {
            path: None,
            cwd: dir.path(),
            overrides: &overrides,
            env: &lookup,
            target: None,
        });
        (dir, result)
    }

    fn problems(result: Result<Config, ConfigError>) -> Vec<String> {
        match result {
            Err(ConfigError::Invalid { problems }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            other => panic!("expected problems, got {other:?}"),
        }
    }

    const MINIMAL: &str = "provider: workfx\nendpoint: embedded\n";

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let (dir, config) = load(MINIMAL, Overrides::default(), &[]);
        let config = config.unwrap();
        assert_eq!(config.endpoint, Endpoint::Embedded);
        assert_eq!(config.definitions, dir.path().join("agents"));
        assert!(config.publish);
        assert_eq!(config.prune, Prune::Off);
        assert_eq!(config.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn flags_beat_environment_which_beats_the_file() {
        let text = format!("{MINIMAL}concurrency: 4\nprune: archive\n");
        let flags = Overrides {
            concurrency: Some(16),
            ..Overrides::default()
        };
        let env = [
            ("AGENTSYNC_CONCURRENCY", "12"),
            ("AGENTSYNC_PRUNE", "delete"),
        ];
        let (_dir, config) = load(&text, flags, &env);
        let config = config.unwrap();
        assert_eq!(config.concurrency, 16);
        assert_eq!(config.prune, Prune::Delete);
    }

    #[test]
    fn an_unknown_setting_is_an_error_with_a_suggestion_and_position() {
        let (_dir, result) = load(
            "provider: workfx\nendpoint: embedded\nconcurency: 4\n",
            Overrides::default(),
            &[],
        );
        assert_eq!(
            problems(result),
            ["agentsync.yaml:3:1: unknown setting 'concurency', did you mean 'concurrency'?"]
        );
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let text = "provider: workfx\nendpoint: ftp://x\nprune: true\nconcurrency: 0\ntoken_env: \"sk-123456789012345\"\n";
        let (_dir, result) = load(text, Overrides::default(), &[]);
        let found = problems(result);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].contains("agentsync.yaml:2:11: setting 'endpoint' must be an http"));
        assert!(
            found
                .iter()
                .any(|p| p.contains("prune") && p.contains("ambiguous"))
        );
        assert!(found.iter().any(|p| p.contains("between 1 and 256, not 0")));
        // A value that looks like a token is never echoed.
        assert!(found.iter().all(|p| !p.contains("sk-1234")));
    }

    #[test]
    fn a_bad_environment_override_names_the_variable() {
        let (_dir, result) = load(
            MINIMAL,
            Overrides::default(),
            &[("AGENTSYNC_PUBLISH", "maybe")],
        );
        assert_eq!(
            problems(result),
            ["AGENTSYNC_PUBLISH: setting 'publish' must be true or false, found 'maybe'"]
        );
    }

    #[test]
    fn the_state_directory_is_dot_agentsync_beside_the_file_unless_a_setting_moves_it() {
        let (dir, config) = load(MINIMAL, Overrides::default(), &[]);
        assert_eq!(config.unwrap().state_dir, dir.path().join(".agentsync"));
        let text = format!("{MINIMAL}state_dir: /var/lib/agentsync\n");
        let (_dir, config) = load(&text, Overrides::default(), &[]);
        assert_eq!(config.unwrap().state_dir, Path::new("/var/lib/agentsync"));
        let (dir, config) = load(
            &text,
            Overrides::default(),
            &[("AGENTSYNC_STATE_DIR", "state")],
        );
        assert_eq!(config.unwrap().state_dir, dir.path().join("state"));
        let flag = Overrides {
            state_dir: Some("/run/agentsync".into()),
            ..Overrides::default()
        };
        let (_dir, config) = load(&text, flag, &[("AGENTSYNC_STATE_DIR", "state")]);
        assert_eq!(config.unwrap().state_dir, Path::new("/run/agentsync"));
    }

    #[test]
    fn the_state_directory_belongs_to_the_whole_file_and_outside_every_definitions_directory() {
        let text = "provider: workfx\nendpoint: embedded\ntargets:\n  a:\n    state_dir: /tmp/a\n";
        let (_dir, result) = load_target(text, Overrides::default(), None);
        assert_eq!(
            target_problems(result),
            [
                "agentsync.yaml:5:5: setting 'state_dir' belongs to the whole configuration, not to one target"
            ]
        );
        let text = format!("{MINIMAL}state_dir: agents/state\n");
        let (_dir, result) = load(&text, Overrides::default(), &[]);
        assert_eq!(
            problems(result),
            ["agentsync.yaml: state_dir agents/state is inside the definitions of target 'workfx'"]
        );
        let text = format!("{MINIMAL}definitions: .\n");
        let (_dir, config) = load(&text, Overrides::default(), &[]);
        assert!(
            config.is_ok(),
            "the default state directory is one watch ignores"
        );
    }

    #[test]
    fn the_file_is_found_from_a_subdirectory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), MINIMAL).unwrap();
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(find(&nested), Some(dir.path().join(FILE_NAME)));
    }

    #[test]
    fn missing_required_settings_are_named() {
        let (_dir, result) = load("publish: false\n", Overrides::default(), &[]);
        let found = problems(result);
        assert!(
            found
                .iter()
                .any(|p| p.contains("missing required setting 'provider'"))
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("missing required setting 'endpoint'"))
        );
    }

    #[test]
    fn max_prune_is_half_of_the_managed_agents_by_default_and_never_below_one() {
        assert_eq!(MaxPrune::Half.limit(4), 2);
        assert_eq!(MaxPrune::Half.limit(5), 3);
        assert_eq!(MaxPrune::Half.limit(0), 1);
        assert_eq!(MaxPrune::Percent(20).limit(10), 2);
        assert_eq!(MaxPrune::Percent(1).limit(3), 1);
        assert_eq!(MaxPrune::Count(0).limit(10), 0);
    }

    #[test]
    fn max_prune_reads_a_count_or_a_percentage_and_refuses_anything_else() {
        let parse = |text: &str| {
            parse_max_prune(&Raw::Text {
                origin: "test".into(),
                text: text.into(),
            })
        };
        assert_eq!(parse("5"), Ok(MaxPrune::Count(5)));
        assert_eq!(parse("20%"), Ok(MaxPrune::Percent(20)));
        assert!(parse("120%").is_err());
        assert!(parse("lots").unwrap_err().contains("'lots'"));
    }

    fn load_target(
        text: &str,
        overrides: Overrides,
        target: Option<&str>,
    ) -> (tempfile::TempDir, Result<Vec<Config>, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), text).unwrap();
        let result = Config::load_targets(&LoadOptions {
            path: None,
            cwd: dir.path(),
            overrides: &overrides,
            env: &|_| None,
            target,
        });
        (dir, result)
    }

    fn target_problems(result: Result<Vec<Config>, ConfigError>) -> Vec<String> {
        match result {
            Err(ConfigError::Invalid { problems }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            other => panic!("expected problems, got {other:?}"),
        }
    }

    const TWO_TARGETS: &str = "\
publish: false
concurrency: 4
targets:
  support:
    provider: workfx
    endpoint: embedded
    definitions: agents/support
  voice:
    provider: agent-workflows
    endpoint: https://voice.example.com/api
    token_env: VOICE_TOKEN
    definitions: agents/voice
    publish: true
";

    #[test]
    fn each_target_takes_the_top_level_settings_unless_it_sets_its_own() {
        let (dir, configs) = load_target(TWO_TARGETS, Overrides::default(), None);
        let configs = configs.unwrap();
        assert_eq!(configs.len(), 2);
        let (support, voice) = (&configs[0], &configs[1]);
        assert_eq!(support.target.as_deref(), Some("support"));
        assert_eq!(support.provider, ProviderKind::Workfx);
        assert!(!support.publish);
        assert_eq!(support.concurrency, 4);
        assert_eq!(support.definitions, dir.path().join("agents/support"));
        assert_eq!(voice.provider, ProviderKind::AgentWorkflows);
        assert!(voice.publish);
        assert_eq!(voice.token_env.as_deref(), Some("VOICE_TOKEN"));
    }

    #[test]
    fn the_target_flag_keeps_one_target_and_an_unknown_name_gets_a_suggestion() {
        let (_dir, configs) = load_target(TWO_TARGETS, Overrides::default(), Some("voice"));
        let configs = configs.unwrap();
        assert_eq!(configs.len(), 1);
        assert_eq!(configs[0].target.as_deref(), Some("voice"));

        let (_dir, result) = load_target(TWO_TARGETS, Overrides::default(), Some("voise"));
        assert_eq!(
            target_problems(result),
            ["--target: no target is named 'voise', did you mean 'voice'?"]
        );
        let (_dir, result) = load_target(MINIMAL, Overrides::default(), Some("voice"));
        assert_eq!(
            target_problems(result),
            ["--target: --target voice was given, but the configuration has no 'targets:'"]
        );
    }

    #[test]
    fn an_endpoint_override_needs_one_target_in_force() {
        let endpoint = || Overrides {
            endpoint: Some("http://127.0.0.1:9".into()),
            concurrency: Some(2),
            ..Overrides::default()
        };
        let (_dir, result) = load_target(TWO_TARGETS, endpoint(), None);
        assert_eq!(
            target_problems(result),
            ["--endpoint: --endpoint sets 'endpoint' for one target, but 2 targets are in force"]
        );
        let (_dir, configs) = load_target(TWO_TARGETS, endpoint(), Some("support"));
        let configs = configs.unwrap();
        assert_eq!(configs[0].endpoint.to_string(), "http://127.0.0.1:9/");
        assert_eq!(configs[0].concurrency, 2);
    }

    #[test]
    fn a_platform_is_refused_what_it_cannot_do_at_the_setting_that_asks_for_it() {
        let text = "targets:\n  voice:\n    provider: agent-workflows\n    endpoint: embedded\n    prune: delete\n    tenant_id: t1\n";
        let (_dir, result) = load_target(text, Overrides::default(), None);
        let found = target_problems(result);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("agentsync.yaml:6:16: setting 'tenant_id' is a workfx setting"),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("agentsync.yaml:5:12: setting 'prune' cannot be 'delete'"),
            "{found:#?}"
        );
    }

    #[test]
    fn targets_may_not_share_a_definitions_directory() {
        let text = "provider: workfx\nendpoint: embedded\ntargets:\n  a: {}\n  b:\n    definitions: agents/b\n";
        let (_dir, result) = load_target(text, Overrides::default(), None);
        assert_eq!(
            target_problems(result),
            ["agentsync.yaml: targets 'a' and 'b' share definitions: agents/b is inside agents"]
        );
    }

    #[test]
    fn a_bad_target_name_and_an_unknown_setting_in_a_target_are_located() {
        let text = "provider: workfx\nendpoint: embedded\ntargets:\n  Voice:\n    definitions: v\n    publsh: true\n";
        let (_dir, result) = load_target(text, Overrides::default(), None);
        let found = target_problems(result);
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("agentsync.yaml:4:3: target name 'Voice'")),
            "{found:#?}"
        );
        assert!(
            found.iter().any(|p| p.starts_with(
                "agentsync.yaml:6:5: unknown setting 'publsh', did you mean 'publish'?"
            )),
            "{found:#?}"
        );
    }
}
