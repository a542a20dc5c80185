//! `targets:`: which targets are in force, each one's settings layered over the top level's,
//! and the rules between targets (no shared definitions, the state directory outside them).

use std::path::{Path, PathBuf};

use super::check::{Checker, Layers};
use super::error::{ConfigError, ConfigProblem};
use super::settings::TARGETS;
use super::{Config, DEFAULT_STATE_DIR, LoadOptions};
use crate::text::diagnostic::{Located, suggest};
use crate::text::yaml::{self, Node, Value};

/// Whether `name` can name a target: like an agent key, lowercase letters, digits and dashes.
pub(super) fn is_target_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Checker<'_> {
    pub(super) fn targets(
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
}
