//! agentsync's benchmark: request counts and wall time against the simulator at a given
//! latency, and the CPU time and peak memory of loading and planning many definitions.
//!
//! ```sh
//! cargo run --release --example bench                 # the tables of docs/performance.md (all of the below)
//! cargo run --release --example bench -- network --agents 1000 --latency-ms 20 --concurrency 16
//! cargo run --release --example bench -- cpu --agents 1000 --nodes 200
//! ```
//!
//! `network` starts the simulator in this process (on its own runtime thread) with the given
//! latency, generates the definitions, and runs the library's own `apply` (the first one:
//! create, draft, publish every agent) and `plan` (nothing to change), then the same plan with
//! `--concurrency 1` for comparison. For each it prints the requests the simulator counted, the
//! wall time, the bound `requests x latency / concurrency`, and the ratio to it.
//!
//! `cpu` generates definitions with large graphs and reports the CPU time of loading them,
//! decoding what observe would receive, and planning, with the peak resident memory (in a
//! process of its own in the full run, so that the network runs do not count). It does all of
//! it `--runs` times over the same files and keeps each phase's fastest run; then it loads
//! again through a watch daemon's load memo, no file changed ("reload").
//!
//! A measurement, not a test: nothing here asserts a speed.

mod cpu;
mod generate;
mod measure;
mod network;

use clap::{Parser, Subcommand};

use generate::{GraphStyle, Shape};

/// The allocator the `agentsync` binary uses, so that the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(about = "agentsync's benchmark")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// First apply and no-change plan against the simulator, with requests and wall time.
    Network {
        #[arg(long, default_value_t = 1000)]
        agents: usize,
        /// Nodes in every agent's graph.
        #[arg(long, default_value_t = 20)]
        nodes: usize,
        /// Added by the simulator before every answer.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: u32,
        /// Skip the serial (`--concurrency 1`) no-change plan.
        #[arg(long)]
        no_serial: bool,
    },
    /// Load, decode and plan, no network: CPU time and peak memory.
    Cpu {
        #[arg(long, default_value_t = 1000)]
        agents: usize,
        #[arg(long, default_value_t = 200)]
        nodes: usize,
        #[arg(long, value_enum, default_value_t = GraphStyle::Inline)]
        graph: GraphStyle,
        /// Load, decode and plan this many times over the same files; each figure is the
        /// fastest run's (the machine's other work only ever adds time).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Print the table's row only (the full run starts one process per row).
        #[arg(long, hide = true)]
        row_only: bool,
    },
}

fn main() {
    let args = Args::parse();
    match args.command {
        Some(Command::Network {
            agents,
            nodes,
            latency_ms,
            concurrency,
            no_serial,
        }) => {
            let options = network::Options {
                shape: Shape {
                    agents,
                    nodes,
                    graph: GraphStyle::Inline,
                },
                latency_ms,
                concurrency,
                serial: !no_serial,
            };
            network::print(&[network::run(&options)]);
        }
        Some(Command::Cpu {
            agents,
            nodes,
            graph,
            runs,
            row_only,
        }) => {
            let shape = Shape {
                agents,
                nodes,
                graph,
            };
            let report = cpu_in_tempdir(shape, runs.max(1));
            if row_only {
                print_cpu_row(&report);
            } else {
                print_cpu(&[report]);
            }
        }
        None => {
            print_machine();
            let runs: Vec<_> = [100, 1000]
                .into_iter()
                .map(|agents| {
                    network::run(&network::Options {
                        shape: Shape {
                            agents,
                            nodes: 20,
                            graph: GraphStyle::Inline,
                        },
                        latency_ms: 20,
                        concurrency: 16,
                        serial: true,
                    })
                })
                .collect();
            network::print(&runs);
            // Each in a process of its own: the peak memory of this one is the network runs'.
            print_cpu_header();
            for graph in ["inline", "file"] {
                let status = std::env::current_exe().and_then(|bench| {
                    std::process::Command::new(bench)
                        .args(["cpu", "--agents", "1000", "--nodes", "200", "--row-only"])
                        .args(["--graph", graph])
                        .status()
                });
                if !status.as_ref().is_ok_and(|s| s.success()) {
                    eprintln!("the CPU benchmark with --graph {graph} failed: {status:?}");
                }
            }
            print_cpu_footer();
        }
    }
}

fn cpu_in_tempdir(shape: Shape, runs: usize) -> cpu::CpuReport {
    let dir = tempfile::tempdir().expect("a temporary directory");
    cpu::run(dir.path(), shape, runs)
}

/// The machine the figures come from, for docs/performance.md.
fn print_machine() {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "machine: {model}, {cores} cores, {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
}

fn print_cpu(reports: &[cpu::CpuReport]) {
    print_cpu_header();
    for r in reports {
        print_cpu_row(r);
    }
    print_cpu_footer();
}

fn print_cpu_header() {
    println!(
        "\n| CPU | agents | nodes | graph | runs | definitions | load ms (wall) | decode ms | plan ms | load + plan ms | load + decode + plan ms | first plan ms | reload ms | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
}

fn print_cpu_row(r: &cpu::CpuReport) {
    println!(
        "| no-change plan | {} | {} | {:?} | {} | {:.1} MiB | {} ({}) | {} | {} | {} | {} | {} | {} | {}{} |",
        r.shape.agents,
        r.shape.nodes,
        r.shape.graph,
        r.runs,
        r.definition_bytes as f64 / (1024.0 * 1024.0),
        measure::ms(Some(r.load)),
        measure::ms(Some(r.load_wall)),
        measure::ms(Some(r.decode)),
        measure::ms(Some(r.plan)),
        measure::ms(Some(r.load + r.plan)),
        measure::ms(Some(r.load + r.decode + r.plan)),
        measure::ms(Some(r.first_plan)),
        measure::ms(Some(r.reload)),
        measure::mib(r.peak_rss),
        if r.peak_reset { "" } else { " (process peak)" },
    );
    assert_eq!(r.actions, 0, "a no-change plan has no actions");
}

fn print_cpu_footer() {
    println!(
        "\nEach figure is the fastest of the runs shown; CPU time: load on all threads (getrusage), decode and plan on the one thread that does them; \
         decode: the agent list and each agent's first flow page as workfx sends them, JSON to agents and contents; \
         first plan: planning every agent's creation (nothing on the platform) and showing it as text; \
         reload: loading again through the memo a watch daemon keeps, no file changed; \
         peak RSS: VmHWM, reset before loading (the full run starts a process per row)."
    );
}
