//! Reliability and safety through the real binary against the simulator over loopback HTTP:
//! lost answers to non-idempotent writes, mass-prune guards, the run lock, secrets in logs,
//! crashes part-way through an apply, and partial failures.

use crate::fixture;
use crate::fixture::PlatformFixture;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agentsync::sim::Faults;
use fixture::agent_workflows::{self, AgentWorkflows};
use fixture::workfx::{TOKEN, Workfx};
use fixture::{Repo, Run, minimal, with_flow};
use serde_json::Value;

fn referencing(key: &str, target: &str) -> String {
    format!(
        "kind: agent\nkey: {key}\nname: {key} agent\nflow:\n  mode: chat\n  graph:\n    nodes:\n      - id: call\n        data: {{agent_id: \"${{agent:{target}}}\"}}\n"
    )
}

/// Waits for a condition, failing the test when it does not hold by the deadline.
pub(crate) async fn eventually(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The managed agents on the platform, by key, with how many agents carry each key.
async fn agents_by_key(platform: &Workfx) -> BTreeMap<String, Vec<Value>> {
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for agent in platform.agents().await {
        if let Some(key) = agent["extend_properties"]["agentsync"]["key"].as_str() {
            by_key.entry(key.to_string()).or_default().push(agent);
        }
    }
    by_key
}

/// The version names of an agent's flows, draft first, newest first.
async fn version_names(platform: &Workfx, id: &str) -> Vec<String> {
    platform
        .versions(id)
        .await
        .iter()
        .filter_map(|v| v["version"].as_str().map(str::to_string))
        .collect()
}

/// Checks each key has exactly one agent, and each agent exactly the given versions.
async fn assert_one_agent_per_key(platform: &Workfx, keys: &[&str], versions: &[&str]) {
    let by_key = agents_by_key(platform).await;
    assert_eq!(
        by_key.keys().map(String::as_str).collect::<Vec<_>>(),
        keys,
        "the managed agents"
    );
    for (key, agents) in &by_key {
        assert_eq!(agents.len(), 1, "agents with key {key}: {agents:?}");
        let id = agents[0]["id"].as_str().expect("an id");
        assert_eq!(
            version_names(platform, id).await,
            versions,
            "versions of {key}"
        );
    }
}

/// Runs apply until it succeeds (at most `runs` times); the last run.
/// Runs apply one request at a time (so the seeded faults hit the same requests every time)
/// until it succeeds, at most `runs` times; every run's log at info level, and the last run.
async fn apply_until_done(platform: &Workfx, repo: &Repo, runs: usize) -> (String, Run) {
    let args = ["apply", "--yes", "-v", "--concurrency", "1"];
    let mut last = platform.run(repo, &args).await;
    let mut log = last.stderr.clone();
    for _ in 1..runs {
        if last.code == Some(0) {
            break;
        }
        last = platform.run(repo, &args).await;
        log.push_str(&last.stderr);
    }
    (log, last)
}

const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_to_creates_and_publishes_never_duplicate_an_agent_or_a_version() {
    let repo = Repo::new();
    for key in KEYS {
        repo.write(&format!("agents/{key}.yaml"), &with_flow(key, "one"));
    }
    let platform = Workfx::start().await;
    platform
        .sim
        .set_faults(Faults {
            seed: 42,
            drop_rate: 0.3,
            ..Faults::none()
        })
        .expect("valid faults");
    let (log, run) = apply_until_done(&platform, &repo, 3).await;
    eprintln!("{log}");
    run.expect_success();
    let dropped = platform.requests().dropped;
    platform.sim.set_faults(Faults::none()).expect("no faults");
    assert!(
        dropped > 0,
        "no request was dropped: the test proves nothing"
    );
    assert_one_agent_per_key(&platform, &KEYS, &["draft", "1"]).await;

    for key in KEYS {
        repo.write(&format!("agents/{key}.yaml"), &with_flow(key, "two"));
    }
    platform
        .sim
        .set_faults(Faults {
            seed: 7,
            drop_rate: 0.3,
            ..Faults::none()
        })
        .expect("valid faults");
    let (log, run) = apply_until_done(&platform, &repo, 3).await;
    run.expect_success();
    platform.sim.set_faults(Faults::none()).expect("no faults");
    assert!(log.contains("the publish had happened"), "{log}");
    assert_one_agent_per_key(&platform, &KEYS, &["draft", "2", "1"]).await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_referencing_an_agent_whose_create_failed_are_skipped_and_a_rerun_finishes() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "one"));
    repo.write("agents/b.yaml", &referencing("b", "a"));
    // The list is answered slowly; once it is received, every later request fails, so the
    // first write (a's create) fails. The counter sees a request a moment before its fault is
    // drawn, and a loaded machine can be slow to react: when the faults hit another request
    // than the create, the scenario starts over on a fresh platform.
    let mut attempt = 0;
    let (platform, run) = loop {
        attempt += 1;
        let platform = Workfx::start().await;
        let run = fail_after_the_first_request(&platform, &repo).await;
        if run.stdout.contains("a create: FAILED") || attempt == 3 {
            break (platform, run);
        }
    };
    platform.sim.set_faults(Faults::none()).expect("no faults");
    run.expect_code(1);
    run.expect_stdout_contains("a create: FAILED");
    run.expect_stdout_contains("b create: skipped: it references a, which failed");
    assert!(agents_by_key(&platform).await.is_empty());

    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_one_agent_per_key(&platform, &["a", "b"], &["draft", "1"]).await;
}

/// Runs apply with every request after the first failing.
async fn fail_after_the_first_request(platform: &Workfx, repo: &Repo) -> Run {
    platform
        .sim
        .set_faults(Faults {
            latency_ms: 1000,
            ..Faults::none()
        })
        .expect("valid faults");
    let apply = platform.run(repo, &["apply", "--yes"]);
    tokio::pin!(apply);
    let requests = || platform.requests().total;
    tokio::select! {
        run = &mut apply => panic!("apply ended before the faults were set: {run:?}"),
        () = eventually("the agent list request", Duration::from_secs(10), || requests() >= 1) => {}
    }
    platform
        .sim
        .set_faults(Faults {
            error_rate: 1.0,
            ..Faults::none()
        })
        .expect("valid faults");
    apply.await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_the_output_even_at_trace_level() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "one"));
    let platform = Workfx::start().await;
    for args in [["plan", "-vvv"], ["apply", "-vvv"]] {
        let mut args = args.to_vec();
        if args[0] == "apply" {
            args.push("--yes");
        }
        let run = platform.run(&repo, &args).await;
        run.expect_success();
        assert!(run.stderr.contains("TRACE") || run.stderr.contains("DEBUG"));
        run.expect_stdout_lacks(TOKEN);
        run.expect_stderr_lacks(TOKEN);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_named_plainly_with_no_retries_and_nothing_written() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let run = repo
        .command(&["apply", "--yes", "--endpoint", &platform.endpoint()])
        .env("WORKFX_TOKEN", "a-wrong-token")
        .run_async()
        .await;
    run.expect_code(1);
    run.expect_stderr_contains("the platform refused the token (401)");
    let requests = platform.requests();
    assert_eq!(requests.total, 1, "{requests:?}");
    assert_eq!(requests.writes, 0);
}

/// Four managed agents, applied, with `prune: delete` and the given extra settings.
async fn four_agents_pruning(repo: &Repo, settings: &str) -> Workfx {
    repo.write(
        "agentsync.yaml",
        &format!("{}prune: delete\n{settings}", fixture::CONFIG),
    );
    for key in ["a", "b", "c", "d"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    Workfx::applied(repo).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_more_than_half_of_the_managed_agents_is_refused_without_the_flag() {
    let repo = Repo::new();
    let platform = four_agents_pruning(&repo, "").await;
    for key in ["a", "b", "c"] {
        repo.remove(&format!("agents/{key}.yaml"));
    }
    for command in ["plan", "apply"] {
        let run = platform
            .run(
                &repo,
                &[command, "--yes"][..if command == "plan" { 1 } else { 2 }],
            )
            .await;
        run.expect_code(1);
        assert!(
            run.stderr.contains("would prune 3 of 4 managed agents")
                && run.stderr.contains("limit of 2")
                && run.stderr.contains("--allow-mass-prune"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(platform.requests().writes, 0);

    platform
        .run(&repo, &["apply", "--yes", "--allow-mass-prune"])
        .await
        .expect_success();
    assert_eq!(
        agents_by_key(&platform).await.keys().collect::<Vec<_>>(),
        ["d"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_prune_as_a_share_or_a_count_sets_the_limit() {
    let repo = Repo::new();
    let platform = four_agents_pruning(&repo, "max_prune: \"75%\"\n").await;
    for key in ["a", "b", "c"] {
        repo.remove(&format!("agents/{key}.yaml"));
    }
    platform.run(&repo, &["plan"]).await.expect_success();

    repo.write(
        "agentsync.yaml",
        &format!("{}prune: delete\nmax_prune: 1\n", fixture::CONFIG),
    );
    let run = platform.run(&repo, &["plan"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("limit of 1 (max_prune: 1)");
    repo.write("agents/a.yaml", &minimal("a"));
    repo.write("agents/b.yaml", &minimal("b"));
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_eq!(
        agents_by_key(&platform).await.keys().collect::<Vec<_>>(),
        ["a", "b", "d"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_waits_for_the_lock_and_then_fails_naming_the_holder() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_code(2);
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    repo.write("agents/b.yaml", &minimal("b"));
    platform.reset();

    let held = platform.hold_lock(&repo).await;
    let run = platform
        .run(&repo, &["apply", "--yes", "--lock-timeout", "300ms"])
        .await;
    run.expect_code(1);
    run.expect_stderr_contains(&format!(
        "another agentsync process (pid {})",
        std::process::id()
    ));
    run.expect_stderr_contains("--lock-timeout");
    assert_eq!(platform.requests().total, 0, "it touched the platform");

    drop(held);
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_eq!(
        agents_by_key(&platform).await.keys().collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_definition_is_reported_at_once_while_another_run_holds_the_lock() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", "kind: agent\nkey: a\nnmae: A\n");
    let platform = Workfx::start().await;
    let _held = platform.hold_lock(&repo).await;
    // Waiting for the lock would end in a lock error, not in this one.
    let run = platform
        .run(&repo, &["apply", "--yes", "--lock-timeout", "2s"])
        .await;
    run.expect_code(1);
    run.expect_stderr_contains("unknown field 'nmae'");
    run.expect_stderr_lacks("another agentsync process");
    assert_eq!(platform.requests().total, 0, "it touched the platform");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_no_lock_can_be_written_a_broken_definition_is_still_what_apply_reports() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", "kind: agent\nkey: a\nnmae: A\n");
    // A file where the lock's directory would go: no lock file can be made.
    repo.write(".agentsync", "not a directory\n");
    let platform = Workfx::start().await;
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("unknown field 'nmae'");
    assert_eq!(platform.requests().total, 0, "it touched the platform");

    // With the definition fixed, the lock's own error is what stops it.
    repo.write("agents/a.yaml", &minimal("a"));
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("lock");
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_file_left_by_a_process_that_died_does_not_block_and_is_reported() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    std::fs::write(platform.lock_file(&repo), "999999999\n").expect("leave a stale lock");
    repo.write("agents/b.yaml", &minimal("b"));
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_success();
    run.expect_stderr_contains("(process 999999999) ended without releasing its lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_file_left_empty_or_garbled_does_not_hold_up_an_apply() {
    let repo = Repo::new();
    let platform = Workfx::start().await;
    let lock = platform.lock_file(&repo);
    std::fs::create_dir_all(lock.parent().expect("a parent")).expect("the state directory");
    for (key, content) in [("a", ""), ("b", "pid?\u{0}\n")] {
        std::fs::write(&lock, content).expect("leave a lock file");
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
        platform
            .run(&repo, &["apply", "--yes", "--lock-timeout", "300ms"])
            .await
            .expect_success();
    }
    assert_eq!(
        agents_by_key(&platform).await.keys().collect::<Vec<_>>(),
        ["a", "b"]
    );
}

/// Makes a checkout read-only, as a read-only volume or `ProtectSystem=strict` does, until
/// dropped. Root writes through permissions: [`ReadOnly::run`] then runs the binary as
/// `nobody`, from a copy that `nobody` can reach (the build's own directory may sit in a
/// directory only root may enter, as a fresh clone under `mktemp -d` does).
struct ReadOnly<'a> {
    repo: &'a Repo,
    binary: Option<(tempfile::TempDir, std::path::PathBuf)>,
}

impl<'a> ReadOnly<'a> {
    fn checkout(repo: &'a Repo) -> ReadOnly<'a> {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(repo.path(), std::fs::Permissions::from_mode(0o555))
            .expect("make the checkout read-only");
        let binary = ReadOnly::root().then(|| {
            let dir = ReadOnly::reachable_dir();
            let copy = dir.path().join("agentsync");
            std::fs::copy(env!("CARGO_BIN_EXE_agentsync"), &copy).expect("copy the binary");
            std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
                .expect("executable by anyone");
            (dir, copy)
        });
        ReadOnly { repo, binary }
    }

    /// A directory anyone may enter, under one anyone may enter.
    fn reachable_dir() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir_in("/tmp").expect("a temporary directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("reachable by anyone");
        dir
    }

    fn root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    /// A writable directory for the binary, outside the checkout.
    fn volume() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir_in("/tmp").expect("a temporary directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("writable by anyone");
        dir
    }

    async fn run(&self, platform: &Workfx, args: &[&str], env: &[(&str, &str)]) -> Run {
        use std::os::unix::process::CommandExt as _;
        let endpoint = platform.endpoint();
        let mut full = args.to_vec();
        full.extend(["--endpoint", &endpoint]);
        let mut command = self
            .repo
            .command(&full)
            .env("WORKFX_TOKEN", TOKEN)
            .envs(env.iter().copied());
        if let Some((_, binary)) = &self.binary {
            command = command.program(binary);
            command.std_mut().uid(65534).gid(65534);
        }
        command.run_async().await
    }
}

impl Drop for ReadOnly<'_> {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(self.repo.path(), std::fs::Permissions::from_mode(0o755));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_checkout_names_the_state_dir_setting_and_applies_once_it_points_at_a_volume() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let checkout = ReadOnly::checkout(&repo);

    let run = checkout.run(&platform, &["apply", "--yes"], &[]).await;
    run.expect_code(1);
    run.expect_stderr_contains("is not writable");
    run.expect_stderr_contains("state_dir");
    run.expect_stderr_contains("AGENTSYNC_STATE_DIR");
    run.expect_stderr_lacks("another");
    assert_eq!(platform.requests().total, 0, "it touched the platform");

    let volume = ReadOnly::volume();
    let state = volume.path().to_str().expect("a UTF-8 path");
    checkout
        .run(
            &platform,
            &["apply", "--yes"],
            &[("AGENTSYNC_STATE_DIR", state)],
        )
        .await
        .expect_success();
    assert_eq!(
        agents_by_key(&platform).await.keys().collect::<Vec<_>>(),
        ["a"]
    );
    let locks: Vec<_> = std::fs::read_dir(volume.path())
        .expect("read the volume")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        locks.iter().any(|name| name.ends_with(".lock")),
        "{locks:?}"
    );
    // The flag says the same.
    repo.write("agents/b.yaml", &minimal("b"));
    checkout
        .run(&platform, &["apply", "--yes", "--state-dir", state], &[])
        .await
        .expect_success();
    assert!(!repo.path().join(".agentsync").exists());
}

/// `agentsync sim` as a process on loopback; killed when dropped.
struct SimProcess {
    child: std::process::Child,
    base: String,
}

impl SimProcess {
    fn start() -> SimProcess {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_agentsync"))
            .args(["sim", "--listen", "127.0.0.1:0"])
            .env_remove("AGENTSYNC_SIM_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the simulator starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let line = receive
            .recv_timeout(Duration::from_secs(20))
            .expect("the simulator prints its address");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        SimProcess { child, base }
    }

    async fn requests(&self) -> u64 {
        let counts: Value = reqwest::get(format!("{}/_sim/requests", self.base))
            .await
            .expect("the simulator answers")
            .json()
            .await
            .expect("JSON counts");
        counts["total"].as_u64().expect("a total")
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_or_blank_token_is_refused_naming_its_variable_before_any_request() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let sim = SimProcess::start();
    for token in ["", "  \t"] {
        for args in [vec!["plan"], vec!["apply", "--yes"]] {
            let run = repo
                .command(&[args, vec!["--endpoint", &sim.base]].concat())
                .env("WORKFX_TOKEN", token)
                .run_async()
                .await;
            run.expect_code(1);
            run.expect_stderr_contains(
                "the token variable WORKFX_TOKEN named by token_env is empty",
            );
        }
    }
    assert_eq!(sim.requests().await, 0, "a request reached the platform");

    // The embedded simulator needs no token: an empty one does not stop it.
    let run = repo.run_with_env(&["apply", "--yes"], &[("WORKFX_TOKEN", "")]);
    run.expect_success();
}

const EXAMPLE_KEYS: [&str; 5] = [
    "billing-assistant",
    "onboarding-guide",
    "support-bot",
    "support-router",
    "ticket-triage",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_at_any_point_is_finished_by_the_next_one_without_duplicates() {
    // The examples take 15 writes (5 creates, 5 drafts, 5 publishes), references included.
    for writes in [1, 2, 4, 6, 8, 10, 12, 14] {
        let repo = Repo::with_examples();
        let platform = Workfx::start().await;
        platform
            .sim
            .set_faults(Faults {
                latency_ms: 20,
                ..Faults::none()
            })
            .expect("valid faults");
        let mut command = repo
            .command(&["apply", "--yes", "--endpoint", &platform.endpoint()])
            .env("WORKFX_TOKEN", TOKEN)
            .into_std();
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().expect("apply starts");
        eventually(&format!("{writes} writes"), Duration::from_secs(30), || {
            platform.requests().writes >= writes
        })
        .await;
        let finished = child.try_wait().expect("apply's status");
        assert!(
            finished.is_none(),
            "apply ended before {writes} writes were seen: {finished:?}"
        );
        child.kill().expect("apply is killed");
        child.wait().expect("the killed apply is reaped");
        platform.sim.set_faults(Faults::none()).expect("no faults");

        let rerun = platform.run(&repo, &["apply", "--yes"]).await;
        rerun.expect_success();
        assert_one_agent_per_key(&platform, &EXAMPLE_KEYS, &["draft", "1"]).await;
        platform
            .run(&repo, &["plan", "--detailed-exitcode"])
            .await
            .expect_success();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_started_together_make_each_agent_once() {
    let repo = Repo::with_examples();
    let platform = Workfx::start().await;
    platform
        .sim
        .set_faults(Faults {
            latency_ms: 20,
            ..Faults::none()
        })
        .expect("valid faults");
    let (first, second) = tokio::join!(
        platform.run(&repo, &["apply", "--yes"]),
        platform.run(&repo, &["apply", "--yes"])
    );
    platform.sim.set_faults(Faults::none()).expect("no faults");
    first.expect_success();
    second.expect_success();
    assert_one_agent_per_key(&platform, &EXAMPLE_KEYS, &["draft", "1"]).await;
}

/// Two clones of one repository, each with its own `.agentsync/` (so no shared run lock),
/// holding the same `keys`.
fn two_clones(keys: &[String], definition: impl Fn(&str) -> String, config: &str) -> [Repo; 2] {
    [Repo::new(), Repo::new()].map(|repo| {
        repo.write("agentsync.yaml", config);
        for key in keys {
            repo.write(&format!("agents/{key}.yaml"), &definition(key));
        }
        repo
    })
}

/// The keys whose marker claims them, with how many agents claim each; an archived twin that
/// names its winner (`duplicate_of`) claims no key.
fn claims(markers: impl Iterator<Item = Value>) -> BTreeMap<String, usize> {
    let mut claims = BTreeMap::new();
    for marker in markers {
        if let (Some(key), None) = (marker["key"].as_str(), marker.get("duplicate_of")) {
            *claims.entry(key.to_string()).or_default() += 1;
        }
    }
    claims
}

const RACING_KEYS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_twin_that_names_its_winner_claims_no_key_and_the_plan_goes_on() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::applied(&repo).await;
    let winner = platform.agent("a").await["id"].clone();
    platform
        .create(serde_json::json!({
            "name": "a agent",
            "extend_properties": {"agentsync": {"key": "a", "duplicate_of": winner}},
        }))
        .await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clones_applied_at_once_end_with_one_agent_per_key() {
    let keys: Vec<String> = (0..RACING_KEYS).map(|i| format!("agent-{i}")).collect();
    let [first, second] = two_clones(&keys, |key| with_flow(key, "one"), fixture::CONFIG);
    let platform = Workfx::start().await;
    // Every request takes a while, so the two runs' creates overlap.
    platform
        .sim
        .set_faults(Faults {
            latency_ms: 20,
            ..Faults::none()
        })
        .expect("valid faults");
    let (a, b) = tokio::join!(
        platform.run(&first, &["apply", "--yes"]),
        platform.run(&second, &["apply", "--yes"])
    );
    platform.sim.set_faults(Faults::none()).expect("no faults");
    a.expect_success();
    b.expect_success();
    let agents = platform.agents().await;
    let claimed = claims(
        agents
            .iter()
            .map(|agent| agent["extend_properties"]["agentsync"].clone()),
    );
    let once: BTreeMap<String, usize> = keys.iter().map(|k| (k.clone(), 1)).collect();
    assert_eq!(claimed, once, "{agents:#?}");
    assert_eq!(agents.len(), RACING_KEYS, "the losing twins are deleted");
    assert!(
        platform
            .requests()
            .route("DELETE /admin/api/v2/agents/{agent_id}")
            > 0,
        "no twin was made: the runs did not race, and the test proves nothing"
    );
    for repo in [&first, &second] {
        platform
            .run(repo, &["plan", "--detailed-exitcode"])
            .await
            .expect_success();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clones_applied_at_once_on_agent_workflows_end_with_one_agent_per_key() {
    let keys: Vec<String> = (0..RACING_KEYS).map(|i| format!("voice-{i}")).collect();
    let [first, second] = two_clones(
        &keys,
        |key| agent_workflows::agent(key, "Talk."),
        agent_workflows::CONFIG,
    );
    let platform = AgentWorkflows::start().await;
    platform
        .sim
        .set_faults(Faults {
            latency_ms: 20,
            ..Faults::none()
        })
        .expect("valid faults");
    let (a, b) = tokio::join!(
        platform.run(&first, &["apply", "--yes"]),
        platform.run(&second, &["apply", "--yes"])
    );
    platform.sim.set_faults(Faults::none()).expect("no faults");
    a.expect_success();
    b.expect_success();
    let agents = platform.agents().await;
    let claimed = claims(
        agents
            .iter()
            .map(|agent| agent["configuration"]["agentsync"].clone()),
    );
    let once: BTreeMap<String, usize> = keys.iter().map(|k| (k.clone(), 1)).collect();
    assert_eq!(claimed, once, "{agents:#?}");
    for agent in &agents {
        // A twin that lost is archived; every agent that claims a key is live.
        let marker = &agent["configuration"]["agentsync"];
        let expected = if marker.get("duplicate_of").is_some() {
            "archived"
        } else {
            "active"
        };
        assert_eq!(agent["status"], expected, "{agent:#}");
    }
    assert!(
        agents.len() > RACING_KEYS,
        "no twin was made: the runs did not race, and the test proves nothing"
    );
    for repo in [&first, &second] {
        platform
            .run(repo, &["plan", "--detailed-exitcode"])
            .await
            .expect_success();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_in_one_run_through_rate_limits_waiting_as_retry_after_asks() {
    let repo = Repo::new();
    for key in ["a", "b", "c"] {
        repo.write(&format!("agents/{key}.yaml"), &with_flow(key, "one"));
    }
    let platform = Workfx::start().await;
    platform
        .sim
        .set_faults(Faults {
            seed: 11,
            rate_limit_rate: 0.3,
            retry_after_secs: 1,
            ..Faults::none()
        })
        .expect("valid faults");
    let run = platform
        .run(&repo, &["apply", "--yes", "-vv", "--concurrency", "1"])
        .await;
    run.expect_success();
    let limited = platform.requests().status(429);
    platform.sim.set_faults(Faults::none()).expect("no faults");
    assert!(limited > 0, "no 429 was answered: the test proves nothing");
    let retries = run.stderr.matches("retrying").count() as u64;
    assert_eq!(retries, limited, "{}", run.stderr);
    let waits: Vec<u64> = run
        .stderr
        .lines()
        .filter(|l| l.contains("retrying"))
        .filter_map(|l| l.split("wait_ms=").nth(1))
        .filter_map(|w| w.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(waits.len() as u64, limited, "{}", run.stderr);
    assert!(waits.iter().all(|w| *w >= 1000), "{waits:?}");
    assert_one_agent_per_key(&platform, &["a", "b", "c"], &["draft", "1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_through_server_errors_without_duplicates() {
    let repo = Repo::new();
    for key in KEYS {
        repo.write(&format!("agents/{key}.yaml"), &with_flow(key, "one"));
    }
    let platform = Workfx::start().await;
    platform
        .sim
        .set_faults(Faults {
            seed: 9,
            error_rate: 0.2,
            ..Faults::none()
        })
        .expect("valid faults");
    let (log, run) = apply_until_done(&platform, &repo, 6).await;
    let failed = platform.requests().status(503) + platform.requests().status(500);
    platform.sim.set_faults(Faults::none()).expect("no faults");
    run.expect_success();
    assert!(
        failed > 0,
        "no 5xx was answered: the test proves nothing\n{log}"
    );
    assert_one_agent_per_key(&platform, &KEYS, &["draft", "1"]).await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_a_symlinked_definition_nor_one_another_includes_is_pruned_as_gone() {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        &format!("{}prune: delete\nmax_prune: 100%\n", fixture::CONFIG),
    );
    for key in ["a", "b", "c"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let platform = Workfx::applied(&repo).await;

    // `b` moves to a shared directory and is linked back; `a` includes `c` as its graph.
    std::fs::create_dir_all(repo.path().join("shared")).unwrap();
    std::fs::rename(
        repo.path().join("agents/b.yaml"),
        repo.path().join("shared/b.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../shared/b.yaml", repo.path().join("agents/b.yaml")).unwrap();
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_eq!(platform.requests().writes, 0, "the link is the same agent");
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: a agent\nflow:\n  graph_file: c.yaml\n",
    );
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("flow.graph_file 'agents/c.yaml' is a definition of its own");
    assert_eq!(platform.requests().writes, 0);
    assert_eq!(
        agents_by_key(&platform).await.keys().collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}
