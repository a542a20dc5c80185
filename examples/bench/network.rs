//! The network benchmark: the simulator with a fixed latency, and the library's own `apply` and
//! `plan` against it, with the requests the simulator counted and the wall time.
//!
//! The bound of a run is `requests x latency / concurrency`: the time the requests take when
//! `concurrency` of them are always in flight. Parts of a run are serial by nature and are
//! reported beside it: the first page of the agent list comes before anything else (it tells
//! how many pages there are and which agents exist), and an agent that references others
//! (`${agent:KEY}`) starts only after they are done.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use agentsync::config::Overrides;
use agentsync::ops::apply::{ApplyOptions, apply};
use agentsync::ops::plan::{PlanOptions, plan};
use agentsync::ops::workspace::WorkspaceOptions;
use agentsync::sim::{self, Faults, RequestCounts, RunningSim, SimOptions};

use crate::generate::{self, Shape};
use crate::measure;

/// The workfx list's page size (the largest the platform accepts).
const PAGE_SIZE: usize = 100;

pub struct Options {
    pub shape: Shape,
    pub latency_ms: u64,
    pub concurrency: u32,
    /// Also run the no-change plan with concurrency 1, for comparison.
    pub serial: bool,
}

/// One measured run.
pub struct Measured {
    pub scenario: &'static str,
    pub agents: usize,
    pub concurrency: u32,
    pub latency: Duration,
    pub requests: RequestCounts,
    pub wall: Duration,
    /// From the start to the first answer, less one latency: loading the definitions and
    /// connecting, before any request.
    pub before_requests: Duration,
    /// From the last answer to the end: planning (or reporting) after the last request.
    pub after_requests: Duration,
    pub cpu: CpuSplit,
    /// What is serial by nature in this run, in words.
    pub serial_parts: String,
}

impl Measured {
    /// `requests x latency / concurrency`.
    pub fn bound(&self) -> Duration {
        self.latency
            .mul_f64(self.requests.total as f64 / f64::from(self.concurrency))
    }

    pub fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.bound().as_secs_f64()
    }

    /// The time requests were out: the wall time less what came before the first and after
    /// the last.
    pub fn network(&self) -> Duration {
        self.wall
            .saturating_sub(self.before_requests)
            .saturating_sub(self.after_requests)
    }
}

/// What timing one run gave.
struct Timed<R> {
    result: R,
    wall: Duration,
    before_requests: Duration,
    after_requests: Duration,
    cpu: CpuSplit,
}

/// CPU time of a run, on the simulator's threads and on everything else (the client).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSplit {
    pub simulator: Option<Duration>,
    pub client: Option<Duration>,
}

fn cpu_now() -> (Option<Duration>, Option<Duration>) {
    (
        measure::process_cpu(),
        measure::threads_cpu(SIMULATOR_THREAD),
    )
}

fn cpu_since(start: (Option<Duration>, Option<Duration>)) -> CpuSplit {
    let (process, simulator) = cpu_now();
    let simulator = simulator
        .zip(start.1)
        .map(|(end, start)| end.saturating_sub(start));
    let process = process
        .zip(start.0)
        .map(|(end, start)| end.saturating_sub(start));
    CpuSplit {
        simulator,
        client: process
            .zip(simulator)
            .map(|(process, simulator)| process.saturating_sub(simulator)),
    }
}

/// The simulator's runtime threads are named so, to tell their CPU time from the client's.
const SIMULATOR_THREAD: &str = "simulator";

/// Runs `run`, watching the simulator's request count from a thread of its own to tell when
/// the first and the last answers came.
fn timed<R>(sim: &RunningSim, latency: Duration, run: impl FnOnce() -> R) -> Timed<R> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let (mut first, mut last, mut seen) = (None, None, 0);
            while !stop.load(Ordering::SeqCst) {
                let total = sim.requests().total;
                if total != seen {
                    let now = Instant::now();
                    first.get_or_insert(now);
                    last = Some(now);
                    seen = total;
                }
                // A measuring loop, not synchronization: 1 ms is the resolution reported.
                std::thread::sleep(Duration::from_millis(1));
            }
            (first, last)
        });
        let cpu_start = cpu_now();
        let started = Instant::now();
        let result = run();
        let ended = Instant::now();
        let cpu = cpu_since(cpu_start);
        stop.store(true, Ordering::SeqCst);
        let (first, last) = watcher.join().unwrap_or((None, None));
        Timed {
            result,
            wall: ended - started,
            before_requests: first.map_or(Duration::ZERO, |first| {
                first
                    .saturating_duration_since(started)
                    .saturating_sub(latency)
            }),
            after_requests: last
                .map_or(Duration::ZERO, |last| ended.saturating_duration_since(last)),
            cpu,
        }
    })
}

/// The simulator on a runtime of its own, as a separate server would be: the client's runtime
/// never runs the simulator's tasks.
struct Simulator {
    sim: Option<RunningSim>,
    runtime: tokio::runtime::Runtime,
}

impl Simulator {
    fn start(latency_ms: u64) -> Simulator {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(SIMULATOR_THREAD)
            .enable_all()
            .build()
            .expect("the simulator's runtime starts");
        let options = SimOptions {
            faults: Faults {
                latency_ms,
                ..Faults::none()
            },
            ..SimOptions::loopback()
        };
        let sim = runtime
            .block_on(sim::start(options))
            .expect("the simulator starts");
        Simulator {
            sim: Some(sim),
            runtime,
        }
    }

    fn sim(&self) -> &RunningSim {
        self.sim.as_ref().expect("running until dropped")
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            // In memory: there is no state file to save, so nothing to fail.
            let _ = self.runtime.block_on(sim.shutdown());
        }
    }
}

fn workspace(root: &Path, concurrency: u32) -> WorkspaceOptions {
    WorkspaceOptions {
        config: None,
        cwd: root.to_path_buf(),
        overrides: Overrides {
            concurrency: Some(concurrency),
            ..Overrides::default()
        },
        target: None,
    }
}

/// Nothing from the developer's shell (`AGENTSYNC_*`) reaches the runs.
fn no_env(_: &str) -> Option<String> {
    None
}

pub fn run(options: &Options) -> Vec<Measured> {
    let simulator = Simulator::start(options.latency_ms);
    let sim = simulator.sim();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    std::fs::write(
        root.join("agentsync.yaml"),
        format!(
            "provider: workfx\nendpoint: {}\nconcurrency: {}\n",
            sim.base_url(),
            options.concurrency
        ),
    )
    .expect("write the configuration");
    generate::write(root, options.shape).expect("write the definitions");

    let client = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the client's runtime starts");
    let agents = options.shape.agents;
    let latency = Duration::from_millis(options.latency_ms);
    let pages = agents.div_ceil(PAGE_SIZE).max(1);
    let routers = generate::routers(agents);
    let mut runs = Vec::new();

    sim.reset_requests();
    let timing = timed(sim, latency, || {
        client.block_on(apply(
            &ApplyOptions {
                plan: PlanOptions {
                    workspace: workspace(root, options.concurrency),
                    ..PlanOptions::default()
                },
                ..ApplyOptions::default()
            },
            &no_env,
            |_| Ok(true),
        ))
    });
    let applied = timing.result.expect("the first apply runs");
    assert!(
        applied.targets.iter().all(|t| t.report.is_some()),
        "the first apply has work"
    );
    assert!(applied.succeeded(), "the first apply succeeds");
    runs.push(Measured {
        scenario: "first apply",
        agents,
        concurrency: options.concurrency,
        latency,
        requests: sim.requests(),
        wall: timing.wall,
        before_requests: timing.before_requests,
        after_requests: timing.after_requests,
        cpu: timing.cpu,
        serial_parts: format!(
            "1 list request before any write; {routers} routers each start after the 3 agents they reference"
        ),
    });

    let mut no_change = |concurrency: u32, scenario: &'static str| {
        sim.reset_requests();
        let timing = timed(sim, latency, || {
            let planned = client.block_on(plan(
                &PlanOptions {
                    workspace: workspace(root, concurrency),
                    ..PlanOptions::default()
                },
                &no_env,
            ));
            // Closing is part of the run: the embedded case stops a simulator here.
            planned.map(|planned| {
                let mut empty = true;
                for one in planned {
                    empty &= one.plan.is_empty();
                    client.block_on(one.connection.close());
                }
                empty
            })
        });
        let empty = timing.result.expect("the plan runs");
        assert!(empty, "nothing to change after the apply");
        runs.push(Measured {
            scenario,
            agents,
            concurrency,
            latency,
            requests: sim.requests(),
            wall: timing.wall,
            before_requests: timing.before_requests,
            after_requests: timing.after_requests,
            cpu: timing.cpu,
            serial_parts: format!(
                "the first of {pages} list pages before the others and before the reads"
            ),
        });
    };
    no_change(options.concurrency, "no-change plan");
    if options.serial {
        no_change(1, "no-change plan, serial");
    }
    drop(client);
    drop(simulator);
    runs
}

pub fn print(runs: &[Vec<Measured>]) {
    println!(
        "\n| scenario | agents | concurrency | latency | requests (list + reads + writes) | wall ms | bound ms | wall / bound | before the first request ms | requests out ms | after the last ms | requests out / bound | CPU ms: client, simulator | serial by nature |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for measured in runs.iter().flatten() {
        let requests = &measured.requests;
        let list = requests.route("GET /admin/api/v2/agents");
        let reads = requests.total - list - requests.writes;
        println!(
            "| {} | {} | {} | {} ms | {} ({list} + {reads} + {}) | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.0} | {:.2} | {}, {} | {} |",
            measured.scenario,
            measured.agents,
            measured.concurrency,
            measured.latency.as_millis(),
            requests.total,
            requests.writes,
            measured.wall.as_secs_f64() * 1e3,
            measured.bound().as_secs_f64() * 1e3,
            measured.ratio(),
            measured.before_requests.as_secs_f64() * 1e3,
            measured.network().as_secs_f64() * 1e3,
            measured.after_requests.as_secs_f64() * 1e3,
            measured.network().as_secs_f64() / measured.bound().as_secs_f64(),
            measure::ms(measured.cpu.client),
            measure::ms(measured.cpu.simulator),
            measured.serial_parts,
        );
    }
    for run in runs {
        let concurrent = run.iter().find(|m| m.scenario == "no-change plan");
        let serial = run.iter().find(|m| m.scenario == "no-change plan, serial");
        if let (Some(concurrent), Some(serial)) = (concurrent, serial) {
            println!(
                "\n{} agents: the no-change plan at concurrency {} is {:.1}x faster than at concurrency 1",
                concurrent.agents,
                concurrent.concurrency,
                serial.wall.as_secs_f64() / concurrent.wall.as_secs_f64()
            );
        }
    }
}
