//! Measures watch mode's reaction time: from saving a definition to the platform write.
//!
//! Starts the simulator in-process, runs the real `agentsync watch` (default debounce) on a
//! temporary repository, then edits one file N times and times each edit until the simulator
//! has seen the draft write. Prints the median, p90 and max. A measurement, not a test.
//!
//! ```sh
//! cargo build && cargo run --example watch_latency -- 30
//! ```

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agentsync::sim::{self, SimOptions};

const DRAFT_WRITE: &str = "POST /admin/api/v2/agents/{agent_id}/flows";

fn definition(prompt: usize) -> String {
    format!(
        "kind: agent\nkey: timed\nname: Timed\npublish: false\nflow:\n  mode: chat\n  graph: {{nodes: [{{id: llm, data: {{prompt: \"version {prompt}\"}}}}]}}\n"
    )
}

/// The `agentsync` binary beside this example's own executable (`target/<profile>/`).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the example knows where it runs from");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("examples live in target/<profile>/examples");
    profile_dir.join("agentsync")
}

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let binary = binary();
    assert!(
        binary.is_file(),
        "build the binary first: cargo build (looked for {})",
        binary.display()
    );
    let sim = sim::start(SimOptions::loopback())
        .await
        .expect("the simulator starts");
    let repo = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(
        repo.path().join("agentsync.yaml"),
        "provider: workfx\nendpoint: embedded\n",
    )
    .expect("write the configuration");
    std::fs::create_dir(repo.path().join("agents")).expect("create agents/");
    let file = repo.path().join("agents/timed.yaml");
    std::fs::write(&file, definition(0)).expect("write the definition");

    let _daemon = Daemon(
        Command::new(&binary)
            .args(["watch", "--interval", "1h", "--listen", "127.0.0.1:0", "-q"])
            .args(["--endpoint", &sim.base_url()])
            .current_dir(repo.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start agentsync watch"),
    );
    let writes = || sim.requests().route(DRAFT_WRITE);
    wait_for("the initial sync", Duration::from_secs(30), || {
        writes() >= 1
    });

    let mut latencies = Vec::with_capacity(samples);
    for i in 1..=samples {
        let before = writes();
        let saved = Instant::now();
        std::fs::write(&file, definition(i)).expect("edit the definition");
        wait_for("the draft write", Duration::from_secs(30), || {
            writes() > before
        });
        latencies.push(saved.elapsed());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "watch latency, save -> draft write, {} edits (default debounce 200ms): median {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        latencies.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.9).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
    sim.shutdown().await.expect("the simulator stops");
}
