//! The CPU-only benchmark: load N generated definitions, decode what a no-change observe would
//! receive for them (the agent list and each flow list's first page, as workfx sends them),
//! and compute the plan. No network; the figures are this process's own CPU time and memory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use agentsync::config::Prune;
use agentsync::engine::plan::{self, Observed, ObservedAgent, Settings};
use agentsync::model::{Desired, Key, Marker};
use agentsync::provider::ProviderKind;
use agentsync::provider::workfx::{api, definition::SCHEMA, mapping};
use agentsync::spec;
use serde_json::{Value, json};

use crate::generate::{self, Shape};
use crate::measure;

/// What one run measured.
pub struct CpuReport {
    pub shape: Shape,
    pub definition_bytes: u64,
    /// CPU time of loading, every thread (wall time where there is no figure).
    pub load: Duration,
    pub load_wall: Duration,
    /// This thread's CPU time of decoding and planning (wall time where `/proc` has no figure).
    pub decode: Duration,
    pub plan: Duration,
    /// This thread's CPU time of planning against an empty platform and rendering the plan.
    pub first_plan: Duration,
    pub peak_rss: Option<u64>,
    pub peak_reset: bool,
    pub actions: usize,
    /// Runs made; each figure is the fastest run's.
    pub runs: usize,
    /// CPU time of loading again through the memo, nothing changed (a watch daemon's sync).
    pub reload: Duration,
}

/// A stopwatch on this thread's CPU time, falling back to wall time.
struct Stopwatch {
    cpu: Option<Duration>,
    wall: Instant,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            cpu: measure::thread_cpu(),
            wall: Instant::now(),
        }
    }

    fn elapsed(&self) -> Duration {
        match (self.cpu, measure::thread_cpu()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall.elapsed(),
        }
    }
}

fn directory_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.metadata().ok())
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len())
        .sum()
}

fn id_of(index: usize) -> String {
    format!("00000000-0000-4000-8000-{index:012}")
}

/// The flow list's first page as workfx would send it for an agent applied from `content`:
/// the draft, then version 1, both equal to the definition.
fn flow_page_bytes(content: &agentsync::model::Document, id: &str) -> Vec<u8> {
    let flow = |version: &str| {
        let mut body = mapping::content_body(content);
        if let Value::Object(object) = &mut body {
            object.insert("id".into(), json!(format!("{id}-{version}")));
            object.insert("version".into(), json!(version));
            object.insert("created_by".into(), json!("bench"));
            object.insert("tenant_id".into(), json!("t"));
            object.insert("tenant_unit_id".into(), json!("u"));
        }
        body
    };
    let page = json!({"page_num": 1, "page_size": 2, "total_count": 2, "has_next_page": false,
                      "data": [flow("draft"), flow("1")]});
    serde_json::to_vec(&page).expect("a page serializes")
}

/// Decodes the answers a no-change observe of `desired` would receive, timing only the
/// decoding (making the answers is the platform's work).
fn observe_from_wire(desired: &Desired, decode: &mut Duration) -> Observed {
    let ids: BTreeMap<Key, String> = desired
        .keys()
        .enumerate()
        .map(|(index, key)| (key.clone(), id_of(index)))
        .collect();
    let by_ref: BTreeMap<&Key, &str> = ids.iter().map(|(k, v)| (k, v.as_str())).collect();
    let mut agents = Vec::with_capacity(desired.len());
    for (key, definition) in desired {
        let id = &ids[key];
        let mut wire = mapping::create_body(
            &Marker::new(key.clone(), definition.protect),
            &definition.fields,
        );
        wire["id"] = json!(id);
        wire["status"] = json!("ACTIVE");
        let agent_bytes = serde_json::to_vec(&wire).expect("an agent serializes");
        let content_bytes = definition.content.as_ref().map(|content| {
            let (resolved, _) = plan::resolve_references(content, &definition.references, &by_ref);
            flow_page_bytes(&resolved.document(), id)
        });

        let stopwatch = Stopwatch::start();
        let wire: serde_json::Map<String, Value> =
            serde_json::from_slice(&agent_bytes).expect("an agent decodes");
        let agent = mapping::agent_from_wire(&wire, "the agent list").expect("an agent maps");
        // What the provider keeps of the answer for the run: the base of the agent's updates.
        let base = mapping::update_base(wire);
        let content = content_bytes.map(|bytes| {
            let page: api::FlowPageWire =
                serde_json::from_slice(&bytes).expect("a flow page decodes");
            let page = page
                .checked(false, api::FLOW_LIST, "the flows")
                .expect("a whole flow page");
            mapping::content_from_flows(page.data).expect("a content")
        });
        let mut observed = ObservedAgent { agent, content };
        // What `ops::observe` does as each read comes in.
        observed.share_content(desired);
        *decode += stopwatch.elapsed();
        drop(base);
        agents.push(observed);
    }
    Observed { agents }
}

/// Generates the definitions under `root`, then loads, decodes and plans them `runs` times,
/// keeping each phase's fastest run: the machine's other work only ever adds time.
pub fn run(root: &Path, shape: Shape, runs: usize) -> CpuReport {
    generate::write(root, shape).expect("write the definitions");
    let definitions = root.join("agents");
    let definition_bytes = directory_bytes(&definitions);
    measure::debug_rss("generated");
    let peak_reset = measure::reset_peak_rss();
    measure::debug_rss("reset");
    let mut best = Phases::once(&definitions, root, shape);
    for _ in 1..runs {
        best = best.fastest(Phases::once(&definitions, root, shape));
    }
    let reload = reload(&definitions, root, shape, runs);
    CpuReport {
        shape,
        definition_bytes,
        load: best.load,
        load_wall: best.load_wall,
        decode: best.decode,
        plan: best.plan,
        first_plan: best.first_plan,
        peak_rss: measure::peak_rss(),
        peak_reset,
        actions: best.actions,
        runs,
        reload,
    }
}

/// The fastest of `runs` loads through a memo that already knows every file, as a watch
/// daemon's sync loads after an edit elsewhere (every file read and hashed, none checked).
fn reload(definitions: &Path, root: &Path, shape: Shape, runs: usize) -> Duration {
    let env = |_: &str| None;
    let options = spec::LoadOptions {
        dir: definitions,
        root,
        display_root: root,
        schema: &SCHEMA,
        env: &env,
    };
    let mut memo = spec::LoadMemo::default();
    spec::load_remembering(&options, &mut memo, &mut |_| {});
    (0..runs)
        .map(|_| {
            let start = measure::process_cpu();
            let wall = Instant::now();
            let loaded = spec::load_remembering(&options, &mut memo, &mut |_| {});
            let cpu = start
                .zip(measure::process_cpu())
                .map_or_else(|| wall.elapsed(), |(start, end)| end.saturating_sub(start));
            assert_eq!(loaded.recalled, shape.agents, "every file is recalled");
            cpu
        })
        .min()
        .unwrap_or_default()
}

/// One run's figures.
struct Phases {
    load: Duration,
    load_wall: Duration,
    decode: Duration,
    plan: Duration,
    first_plan: Duration,
    actions: usize,
}

impl Phases {
    fn fastest(self, other: Phases) -> Phases {
        Phases {
            load: self.load.min(other.load),
            load_wall: self.load_wall.min(other.load_wall),
            decode: self.decode.min(other.decode),
            plan: self.plan.min(other.plan),
            first_plan: self.first_plan.min(other.first_plan),
            actions: self.actions,
        }
    }

    fn once(definitions: &Path, root: &Path, shape: Shape) -> Phases {
        let env = |_: &str| None;
        // Loading parses on every core: the process's CPU time, all threads, is its cost.
        let load_wall = Instant::now();
        let load_start = measure::process_cpu();
        let loaded = spec::load(&spec::LoadOptions {
            dir: definitions,
            root,
            display_root: root,
            schema: &SCHEMA,
            env: &env,
        });
        let load = load_start.zip(measure::process_cpu()).map_or_else(
            || load_wall.elapsed(),
            |(start, end)| end.saturating_sub(start),
        );
        let load_wall = load_wall.elapsed();
        measure::debug_rss("loaded");
        assert!(
            loaded.is_valid(),
            "generated definitions load cleanly: {:?}",
            loaded.problems.first().map(ToString::to_string)
        );
        assert_eq!(loaded.desired.len(), shape.agents);

        let mut decode = Duration::ZERO;
        let observed = observe_from_wire(&loaded.desired, &mut decode);
        measure::debug_rss("observed");

        let settings = Settings {
            publish: true,
            prune: Prune::Off,
            adopt: false,
            capabilities: ProviderKind::Workfx.capabilities(),
            schema: &SCHEMA,
        };
        let stopwatch = Stopwatch::start();
        let planned = plan::compute(&loaded.desired, &BTreeSet::new(), &observed, &settings)
            .expect("no conflicts");
        let plan = stopwatch.elapsed();
        measure::debug_rss("planned");
        let actions = planned.changes.iter().map(|c| c.actions.len()).sum();
        drop((planned, observed));

        // The first plan: nothing on the platform yet, every agent to create; shown as text.
        let stopwatch = Stopwatch::start();
        let first = plan::compute(
            &loaded.desired,
            &BTreeSet::new(),
            &Observed { agents: Vec::new() },
            &settings,
        )
        .expect("no conflicts");
        let shown = agentsync::engine::render::text(&first);
        let first_plan = stopwatch.elapsed();
        measure::debug_rss("first plan");
        assert_eq!(
            first.summary().create,
            shape.agents,
            "every agent is created"
        );
        drop((first, shown));
        Phases {
            load,
            load_wall,
            decode,
            plan,
            first_plan,
            actions,
        }
    }
}
