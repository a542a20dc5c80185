//! `agentsync.yaml` -> [`Config`]: finding the file, checking it, applying overrides.
//!
//! Precedence, highest first: command-line flags, `AGENTSYNC_*` environment variables, the
//! file. Every source is checked with the same rules and the same messages.
//!
//! A repository that serves several platforms or accounts names them under `targets:`; each
//! target is a mapping of the same settings, and a setting at the top level is the default of
//! every target. Each target resolves to its own [`Config`]. The settings themselves, as data,
//! are in [`settings`].

mod check;
mod error;
pub mod settings;
mod targets;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::provider::ProviderKind;
use crate::text::diagnostic::{Located, SourceFile};
use check::Checker;

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

pub use error::{ConfigError, ConfigProblem};

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

#[cfg(test)]
mod tests {
    use super::check::{Raw, parse_max_prune};
    use super::*;
    use crate::provider::DEFAULT_CONCURRENCY;
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
    fn a_platform_without_drafts_or_archive_refuses_publish_false_and_prune_archive_saying_why() {
        let text = "targets:\n  flat:\n    provider: agents-v1\n    endpoint: embedded\n    publish: false\n    prune: archive\n";
        let (_dir, result) = load_target(text, Overrides::default(), None);
        let found = target_problems(result);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("agentsync.yaml:5:14: setting 'publish' cannot be false: agents-v1 has no drafts, so every update is live the moment it is applied"),
            "{found:#?}"
        );
        assert!(
            found[1].starts_with("agentsync.yaml:6:12: setting 'prune' cannot be 'archive': agents-v1 cannot archive agents"),
            "{found:#?}"
        );
        let fine = "provider: agents-v1\nendpoint: embedded\npublish: true\nprune: delete\n";
        let (_dir, result) = load_target(fine, Overrides::default(), None);
        assert!(result.is_ok(), "{:#?}", target_problems(result));
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
