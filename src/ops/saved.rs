//! Saved plans (`plan --out FILE`, `apply FILE`): the plan as shown, plus a fingerprint of what
//! was observed for every agent it touches, so apply can refuse when the platform moved.
//!
//! A saved plan holds no secrets: changes from `${env:...}` are already masked in the plan, and
//! the platform's state is kept only as digests.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::OpsError;
use super::fingerprint;
use super::plan::Planned;
use crate::engine::plan::{Observed, Plan};
use crate::model::Key;

/// The version of the saved-plan file format (2: one entry per target).
pub const FORMAT_VERSION: u32 = 2;

/// Stands for "no such agent on the platform" in a fingerprint map.
const ABSENT: &str = "absent";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    /// The agentsync version that made the plan, for the reader's information.
    pub agentsync_version: String,
    /// Whether the plan was made with `--adopt`.
    pub adopt: bool,
    /// One entry per target in force, in configuration order.
    pub targets: Vec<SavedTarget>,
}

/// One target's saved plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedTarget {
    /// The target's name; `None` when the configuration names no targets.
    pub target: Option<String>,
    pub plan: Plan,
    /// For every agent the plan changes: the digest of what was observed, or "absent".
    pub observed: BTreeMap<Key, String>,
}

impl SavedPlan {
    pub fn new(planned: &[Planned], adopt: bool) -> SavedPlan {
        SavedPlan {
            format_version: FORMAT_VERSION,
            agentsync_version: env!("CARGO_PKG_VERSION").to_string(),
            adopt,
            targets: planned
                .iter()
                .map(|p| SavedTarget {
                    target: p.workspace.config.target.clone(),
                    plan: p.plan.clone(),
                    observed: fingerprints(&p.plan, &p.observed),
                })
                .collect(),
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), OpsError> {
        let write_error = |source| OpsError::SavedPlanWrite {
            path: path.to_path_buf(),
            source,
        };
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| write_error(std::io::Error::other(e)))?;
        // Write beside the target and rename, so a reader never sees half a plan.
        let tmp = path.with_extension("tmp-agentsync");
        std::fs::write(&tmp, text + "\n").map_err(write_error)?;
        std::fs::rename(&tmp, path).map_err(write_error)
    }

    pub fn read(path: &Path) -> Result<SavedPlan, OpsError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpsError::SavedPlanRead {
            path: path.to_path_buf(),
            source,
        })?;
        let format = |message: String| OpsError::SavedPlanFormat {
            path: path.to_path_buf(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
        let version = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(FORMAT_VERSION)) {
            return Err(format(format!(
                "format_version is {}, expected {FORMAT_VERSION}",
                version.map_or_else(|| "missing".to_string(), |v| v.to_string())
            )));
        }
        serde_json::from_value(value).map_err(|e| format(e.to_string()))
    }

    /// Refuses, naming the agent, when the platform or the definitions changed since the plan
    /// was made: `planned` are the plans made now.
    pub fn check_fresh(&self, planned: &[Planned]) -> Result<(), OpsError> {
        let names = |targets: &mut dyn Iterator<Item = Option<&str>>| -> Vec<String> {
            targets
                .map(|t| t.unwrap_or("(default)").to_owned())
                .collect()
        };
        let then = names(&mut self.targets.iter().map(|t| t.target.as_deref()));
        let now = names(&mut planned.iter().map(|p| p.workspace.config.target.as_deref()));
        if then != now {
            return Err(OpsError::StalePlan {
                reason: format!(
                    "it covers the targets {}, but the targets in force are {}",
                    then.join(", "),
                    now.join(", ")
                ),
            });
        }
        for (saved, fresh) in self.targets.iter().zip(planned) {
            saved
                .check_fresh(&fresh.plan, &fresh.observed)
                .map_err(|err| OpsError::in_target(saved.target.clone(), err))?;
        }
        Ok(())
    }
}

impl SavedTarget {
    fn check_fresh(&self, fresh: &Plan, observed: &Observed) -> Result<(), OpsError> {
        let now = fingerprints(&self.plan, observed);
        for (key, then) in &self.observed {
            if now.get(key) != Some(then) {
                return Err(OpsError::StalePlan {
                    reason: format!(
                        "agent '{key}' changed on the platform since the plan was made"
                    ),
                });
            }
        }
        let changed = |plan: &Plan| -> BTreeMap<Key, String> {
            plan.changes
                .iter()
                .filter(|c| !c.actions.is_empty())
                .map(|c| (c.key.clone(), serde_json::to_string(c).unwrap_or_default()))
                .collect()
        };
        let (then, now) = (changed(&self.plan), changed(fresh));
        if let Some(key) = then
            .keys()
            .chain(now.keys())
            .find(|k| then.get(*k) != now.get(*k))
        {
            return Err(OpsError::StalePlan {
                reason: format!(
                    "what would be done to agent '{key}' is no longer what the plan says (the definitions or the platform changed)"
                ),
            });
        }
        Ok(())
    }
}

fn fingerprints(plan: &Plan, observed: &Observed) -> BTreeMap<Key, String> {
    plan.changes
        .iter()
        .filter(|c| !c.actions.is_empty())
        .map(|change| {
            let found = observed.agents.iter().find(|a| match &change.id {
                Some(id) => &a.agent.id == id,
                None => a.agent.key.as_ref() == Some(&change.key),
            });
            let digest = found.map_or_else(|| ABSENT.to_string(), fingerprint::of_agent);
            (change.key.clone(), digest)
        })
        .collect()
}
