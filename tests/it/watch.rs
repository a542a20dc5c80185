//! `agentsync watch`: the real daemon process against the simulator over loopback. Every wait
//! polls a condition with a deadline; nothing sleeps for synchronization.

use crate::fixture;
use crate::fixture::PlatformFixture;

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fixture::workfx::{TOKEN, Workfx, count};
use fixture::{Repo, minimal, with_flow};
use serde_json::json;

const DEADLINE: Duration = Duration::from_secs(15);

/// Polls `condition` until it holds; fails the test with `what` at the deadline.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while !condition().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running `agentsync watch`, killed when dropped.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
    /// The log was read to its end (the daemon closed its stderr).
    log_closed: Arc<AtomicBool>,
    base: String,
    client: reqwest::Client,
}

impl Daemon {
    async fn start(platform: &Workfx, repo: &Repo, extra: &[&str]) -> Daemon {
        let endpoint = platform.endpoint();
        let mut args = vec!["watch", "--listen", "127.0.0.1:0", "--endpoint", &endpoint];
        args.extend_from_slice(extra);
        Daemon::spawn(repo, &args).await
    }

    async fn spawn(repo: &Repo, args: &[&str]) -> Daemon {
        let mut command = repo
            .command(args)
            .env("WORKFX_TOKEN", TOKEN)
            .env("VOICE_TOKEN", fixture::agent_workflows::TOKEN)
            .env("AGENTS_TOKEN", fixture::agents_v1::TOKEN)
            .into_std();
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("agentsync watch starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&log);
        let log_closed = Arc::new(AtomicBool::new(false));
        let closed = Arc::clone(&log_closed);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
            closed.store(true, Ordering::SeqCst);
        });
        let mut daemon = Daemon {
            child,
            log,
            log_closed,
            base: String::new(),
            client: reqwest::Client::new(),
        };
        wait_until("the daemon says where it listens", || {
            let found = daemon.listening();
            async move { found.is_some() }
        })
        .await;
        daemon.base = daemon.listening().unwrap_or_default();
        daemon
    }

    fn listening(&self) -> Option<String> {
        let log = self.log();
        let start = log.find("listening on http://")? + "listening on ".len();
        let end = log[start..].find(char::is_whitespace)? + start;
        Some(log[start..end].to_string())
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits for a sync triggered by file events to finish with definitions that failed to load.
    async fn synced_with_problems(&self) {
        wait_until(
            "a sync after the file event has finished with problems",
            || {
                let done = self
                    .log()
                    .contains("sync finished trigger=\"files\" result=\"problems\"");
                async move { done }
            },
        )
        .await;
    }

    fn signal(&self, name: &str) {
        let sent = std::process::Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the daemon to exit and for its log to be read to the end; its exit code.
    async fn exited(&mut self) -> Option<i32> {
        let mut code = None;
        wait_until("the daemon exits", || {
            if let Ok(Some(status)) = self.child.try_wait() {
                code = Some(status.code());
            }
            let exited = code.is_some();
            async move { exited }
        })
        .await;
        wait_until("the daemon's log is read to its end", || {
            let closed = self.log_closed.load(Ordering::SeqCst);
            async move { closed }
        })
        .await;
        code.flatten()
    }

    /// The status and body of `GET path` on the daemon's HTTP face.
    async fn get(&self, path: &str) -> (u16, String) {
        match self.client.get(format!("{}{path}", self.base)).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(_) => (0, String::new()),
        }
    }

    async fn ready(&self) -> bool {
        self.get("/readyz").await.0 == 200
    }

    /// The value of one metric line (`name{labels}` as written), 0 when absent.
    async fn metric(&self, series: &str) -> f64 {
        let (_, text) = self.get("/metrics").await;
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn named(key: &str, name: &str) -> String {
    format!("kind: agent\nkey: {key}\nname: {name}\n")
}

async fn name_of(platform: &Workfx, key: &str) -> Option<String> {
    platform
        .agents()
        .await
        .into_iter()
        .find(|a| a["extend_properties"]["agentsync"]["key"] == key)
        .and_then(|a| a["name"].as_str().map(str::to_string))
}

async fn has_name(platform: &Workfx, key: &str, name: &str) -> bool {
    name_of(platform, key).await.as_deref() == Some(name)
}

/// A repository with agents `a` and `b`, and a daemon that has converged on it.
async fn converged(config_extra: &str, extra: &[&str]) -> (Repo, Workfx, Daemon) {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        &format!("{}{config_extra}", fixture::CONFIG),
    );
    repo.write("agents/a.yaml", &minimal("a"));
    repo.write("agents/b.yaml", &minimal("b"));
    let platform = Workfx::start().await;
    let daemon = Daemon::start(&platform, &repo, extra).await;
    wait_until("the first sync is done", || daemon.ready()).await;
    (repo, platform, daemon)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_converges_at_start_and_serves_health_readiness_and_metrics() {
    let (_repo, platform, daemon) = converged("", &[]).await;
    assert_eq!(platform.agents().await.len(), 2);
    assert_eq!(daemon.get("/healthz").await.0, 200);
    assert_eq!(daemon.get("/readyz").await.0, 200);
    let (status, metrics) = daemon.get("/metrics").await;
    assert_eq!(status, 200);
    for series in [
        "agentsync_syncs_total{trigger=\"start\",result=\"success\"} 1",
        "agentsync_actions_total{kind=\"create\",result=\"done\"} 2",
        "agentsync_definitions_failing 0",
        "agentsync_sync_duration_seconds_count 1",
        "agentsync_drift_repairs_total 0",
    ] {
        assert!(metrics.contains(series), "{series} in\n{metrics}");
    }
    assert!(
        daemon
            .metric("agentsync_last_success_timestamp_seconds")
            .await
            > 1.0e9
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_file_is_applied_without_touching_the_others() {
    let (repo, platform, daemon) = converged("", &[]).await;
    platform.reset();
    repo.write("agents/a.yaml", &named("a", "Renamed"));
    wait_until("the new name is on the platform", || {
        has_name(&platform, "a", "Renamed")
    })
    .await;
    // The daemon logs the outcome once the answer is in, after the platform shows it.
    wait_until("the update is logged as done", || {
        let done = daemon
            .log()
            .contains("agent=a action=\"update\" outcome=\"done\"");
        async move { done }
    })
    .await;
    assert_eq!(platform.requests().writes, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_event_reads_and_writes_only_the_changed_agent() {
    let repo = Repo::new();
    let keys = ["a", "b", "c", "d", "e", "f"];
    for key in keys {
        repo.write(&format!("agents/{key}.yaml"), &with_flow(key, "hello"));
    }
    let platform = Workfx::start().await;
    let daemon = Daemon::start(&platform, &repo, &[]).await;
    wait_until("the first sync is done", || daemon.ready()).await;
    platform.reset();

    repo.write("agents/c.yaml", &with_flow("c", "changed"));
    // Only the edited file is checked again; the line says so.
    wait_until("the change is synced", || {
        let done = daemon
            .log()
            .contains("scope=\"changes\" files=6 unchanged=5");
        async move { done }
    })
    .await;
    let requests = platform.requests();
    let flows = "/agents/{agent_id}/flows";
    assert_eq!(count(&requests, "GET", flows), 1, "one content read");
    assert_eq!(count(&requests, "GET", "/agents"), 1, "one list page");
    assert_eq!(requests.writes, 2, "the draft and its publication");

    // Touching a file without changing it costs nothing.
    platform.reset();
    repo.write("agents/a.yaml", &with_flow("a", "hello"));
    wait_until("the no-op is noticed", || {
        let done = daemon.log().matches("scope=\"changes\"").count() == 2;
        async move { done }
    })
    .await;
    let total = platform.requests();
    assert_eq!(total.total, 0, "no request at all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_flow_still_resolves_the_ids_of_unchanged_agents_it_references() {
    let repo = Repo::with_examples();
    let platform = Workfx::start().await;
    let daemon = Daemon::start(&platform, &repo, &[]).await;
    wait_until("the first sync is done", || daemon.ready()).await;
    let file = "agents/router/support-router.yaml";
    let text = std::fs::read_to_string(repo.path().join(file)).unwrap();
    let edited = text.replace("How-to and product questions", "Product questions");
    assert_ne!(edited, text);
    repo.write(file, &edited);
    wait_until("the change is synced", || {
        let done = daemon.log().contains("scope=\"changes\"");
        async move { done }
    })
    .await;
    let log = daemon.log();
    assert!(
        log.contains("agent=support-router action=\"publish\" outcome=\"done\""),
        "{log}"
    );
    assert!(!log.contains("apply failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_saved_by_rename_and_a_new_file_are_both_applied() {
    let (repo, platform, _daemon) = converged("", &[]).await;
    // How editors save: write a temporary file, then rename it over the original.
    repo.write("agents/.a.yaml.tmp", &named("a", "Saved by rename"));
    std::fs::rename(
        repo.path().join("agents/.a.yaml.tmp"),
        repo.path().join("agents/a.yaml"),
    )
    .unwrap();
    repo.write("agents/sub/c.yaml", &minimal("c"));
    wait_until("both changes are on the platform", || async {
        has_name(&platform, "a", "Saved by rename").await && name_of(&platform, "c").await.is_some()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_leaves_its_agent_untouched_even_with_prune_and_its_fix_is_applied() {
    let (repo, platform, mut daemon) = converged("prune: delete\n", &[]).await;
    repo.write(
        "agents/b.yaml",
        "kind: agent\nkey: b\nname: Broken\nnmae: typo\n",
    );
    repo.write("agents/a.yaml", &named("a", "Still applied"));
    daemon.synced_with_problems().await;
    assert!(has_name(&platform, "a", "Still applied").await);
    assert!(
        daemon.log().contains("agents/b.yaml:4:1"),
        "the problem is logged with its position:\n{}",
        daemon.log()
    );
    assert!(has_name(&platform, "b", "b agent").await, "b is untouched");
    assert!(daemon.alive());
    assert_eq!(daemon.metric("agentsync_definitions_failing").await, 1.0);

    repo.write("agents/b.yaml", &named("b", "Fixed"));
    wait_until("the fix is applied", || has_name(&platform, "b", "Fixed")).await;
    wait_until("no definition is failing", || async {
        daemon.metric("agentsync_definitions_failing").await == 0.0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_whose_key_cannot_be_read_suspends_prune_for_the_sync() {
    let (repo, platform, daemon) = converged("prune: delete\n", &[]).await;
    repo.write("agents/b.yaml", "kind: agent\nkey: [unclosed\n");
    daemon.synced_with_problems().await;
    assert!(
        daemon.log().contains("prune is suspended"),
        "{}",
        daemon.log()
    );
    assert!(
        name_of(&platform, "b").await.is_some(),
        "b is not pruned: {}",
        daemon.log()
    );

    // Once the directory is readable again, a file that is really gone is pruned.
    repo.remove("agents/b.yaml");
    wait_until("b is pruned", || async {
        name_of(&platform, "b").await.is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_made_on_the_platform_is_repaired_at_the_next_interval() {
    let (_repo, platform, daemon) = converged("", &["--interval", "1s"]).await;
    let id = platform.agent("a").await["id"]
        .as_str()
        .expect("an id")
        .to_string();
    platform
        .update(&id, json!({"name": "Changed by hand"}))
        .await;
    assert!(has_name(&platform, "a", "Changed by hand").await);
    wait_until("the drift is repaired", || {
        has_name(&platform, "a", "a agent")
    })
    .await;
    wait_until("the repair is counted", || async {
        daemon.metric("agentsync_drift_repairs_total").await >= 1.0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_platform_keeps_the_daemon_alive_healthy_and_unready() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    // A port nothing listens on: the listener is bound, read, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut daemon = Daemon::spawn(
        &repo,
        &["watch", "--listen", "127.0.0.1:0", "--endpoint", &endpoint],
    )
    .await;
    wait_until("a failed sync is retried", || async {
        daemon
            .metric("agentsync_syncs_total{trigger=\"retry\",result=\"error\"}")
            .await
            >= 1.0
    })
    .await;
    assert!(daemon.alive());
    assert_eq!(daemon.get("/healthz").await.0, 200);
    assert_eq!(daemon.get("/readyz").await.0, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_with_exit_code_zero() {
    let (_repo, _platform, mut daemon) = converged("", &[]).await;
    daemon.signal("TERM");
    let code = daemon.exited().await;
    assert_eq!(code, Some(0), "{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_configuration() {
    let (repo, platform, daemon) = converged("", &[]).await;
    repo.write("elsewhere/c.yaml", &minimal("c"));
    repo.write(
        "agentsync.yaml",
        &format!("{}definitions: elsewhere\n", fixture::CONFIG),
    );
    daemon.signal("HUP");
    wait_until(
        "the definitions named by the new configuration are applied",
        || async { name_of(&platform, "c").await.is_some() },
    )
    .await;
    // The new directory is watched from now on.
    repo.write("elsewhere/c.yaml", &named("c", "Watched"));
    wait_until("an edit there is applied", || {
        has_name(&platform, "c", "Watched")
    })
    .await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_published_by_swapping_a_symlink_is_applied() {
    use std::os::unix::fs::symlink;
    // How git-sync publishes a commit: a new worktree, then `repo` renamed over to point at it.
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        &format!("{}definitions: repo/agents\n", fixture::CONFIG),
    );
    repo.write("worktrees/one/agents/a.yaml", &minimal("a"));
    symlink("worktrees/one", repo.path().join("repo")).unwrap();
    let platform = Workfx::start().await;
    let daemon = Daemon::start(&platform, &repo, &[]).await;
    wait_until("the first sync is done", || daemon.ready()).await;

    repo.write("worktrees/two/agents/a.yaml", &named("a", "Next commit"));
    symlink("worktrees/two", repo.path().join("repo.next")).unwrap();
    std::fs::rename(repo.path().join("repo.next"), repo.path().join("repo")).unwrap();
    wait_until("the new checkout is applied", || {
        has_name(&platform, "a", "Next commit")
    })
    .await;
}

/// `agentsync sim` as its own process, for faults the in-process fixture does not set.
struct SlowSim(Child, String);

impl SlowSim {
    fn start(repo: &Repo, latency_ms: &str) -> SlowSim {
        let mut child = repo
            .command(&["sim", "--listen", "127.0.0.1:0", "--latency-ms", latency_ms])
            .into_std()
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("agentsync sim starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .expect("the simulator says where it listens");
        let url = first.trim().trim_start_matches("listening on ").to_string();
        SlowSim(child, url)
    }
}

impl Drop for SlowSim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_and_starts_no_new_one() {
    let repo = Repo::new();
    for key in ["a", "b", "c", "d", "e"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let sim = SlowSim::start(&repo, "800");
    let mut daemon = Daemon::spawn(
        &repo,
        &[
            "watch",
            "--listen",
            "127.0.0.1:0",
            "--endpoint",
            &sim.1,
            "--concurrency",
            "1",
        ],
    )
    .await;
    wait_until("the first agent is created", || {
        let created = daemon.log().contains("applied");
        async move { created }
    })
    .await;
    daemon.signal("TERM");
    let code = daemon.exited().await;
    let log = daemon.log();
    assert_eq!(code, Some(0), "{log}");
    let (before, after) = log
        .split_once("shutting down")
        .expect("the shutdown is logged");
    let applied = |text: &str| text.matches("applied agent=").count();
    assert_eq!(applied(after), 1, "the create in flight finishes:\n{log}");
    assert!(
        applied(before) + applied(after) < 5,
        "no new create starts:\n{log}"
    );
    assert!(!log.contains("abandoned"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_duration_is_refused_with_the_accepted_forms() {
    let repo = Repo::new();
    let run = repo.run(&["watch", "--interval", "5"]);
    run.expect_code(1);
    run.expect_stderr_contains("200ms, 5s, 5m");
}

#[test]
fn every_duration_flag_reads_the_same_grammar() {
    let repo = Repo::new();
    // The same text means the same everywhere: a unit is always written...
    let bare = repo.run(&["apply", "--yes", "--lock-timeout", "5"]);
    bare.expect_code(1);
    bare.expect_stderr_contains("200ms, 5s, 5m");
    // ...and a sum is read by the lock timeout as by the watch flags.
    repo.run(&["apply", "--yes", "--lock-timeout", "1m30s"])
        .expect_success();
    // Zero is a wait that does not wait, but never an interval.
    repo.run(&["apply", "--yes", "--lock-timeout", "0s"])
        .expect_success();
    let zero = repo.run(&["watch", "--interval", "0s"]);
    zero.expect_code(1);
    zero.expect_stderr_contains("is zero");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_file_is_pruned_when_pruning_is_on() {
    let (repo, platform, _daemon) = converged("prune: archive\n", &[]).await;
    repo.remove("agents/b.yaml");
    wait_until("b is archived", || async {
        platform.agent("b").await["status"] == "ARCHIVED"
    })
    .await;
    assert_eq!(platform.agent("a").await["status"], "ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_would_prune_more_than_max_prune_prunes_nothing_and_says_why() {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        &format!("{}prune: archive\nmax_prune: 1\n", fixture::CONFIG),
    );
    for key in ["a", "b", "c"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_code(0);
    // Two of three gone at once, as a bad merge would leave the directory.
    repo.remove("agents/a.yaml");
    repo.remove("agents/b.yaml");
    let daemon = Daemon::start(&platform, &repo, &[]).await;
    wait_until("the sync is refused", || {
        let refused = daemon.log().contains("would prune 2 of 3 managed agents");
        async move { refused }
    })
    .await;
    assert!(
        !daemon.ready().await,
        "a refused sync leaves the daemon unready"
    );
    for key in ["a", "b", "c"] {
        assert_eq!(platform.agent(key).await["status"], "ACTIVE", "{key}");
    }
    // Within the limit again, the sync goes on and prunes what is really gone.
    repo.write("agents/a.yaml", &minimal("a"));
    wait_until("b is archived", || async {
        platform.agent("b").await["status"] == "ARCHIVED"
    })
    .await;
    assert_eq!(platform.agent("a").await["status"], "ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_file_is_left_alone_when_pruning_is_off() {
    let (repo, platform, _daemon) = converged("", &[]).await;
    platform.reset();
    repo.remove("agents/b.yaml");
    // An edit after the removal: once it is applied, the removal has been seen too.
    repo.write("agents/a.yaml", &named("a", "Seen"));
    wait_until("the edit is applied", || has_name(&platform, "a", "Seen")).await;
    assert_eq!(platform.agent("b").await["status"], "ACTIVE");
    assert_eq!(platform.requests().writes, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_waits_while_an_apply_holds_the_lock() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let held = platform.hold_lock(&repo).await;
    let daemon = Daemon::start(&platform, &repo, &[]).await;
    wait_until("the daemon reports the held lock", || async {
        daemon
            .log()
            .contains("cannot take the run lock: another agentsync process")
    })
    .await;
    assert_eq!(platform.requests().writes, 0);
    drop(held);
    wait_until("the daemon syncs once the lock is free", || daemon.ready()).await;
    assert_eq!(platform.agents().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_made_while_the_first_sync_runs_is_synced_without_waiting_for_the_interval() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &named("a", "Before"));
    let platform = Workfx::start().await;
    // The first sync reads the files, then waits for the lock: the edit lands after the read.
    let held = platform.hold_lock(&repo).await;
    let daemon = Daemon::start(&platform, &repo, &[]).await;
    wait_until("the first sync has read the files and waits", || async {
        daemon
            .log()
            .contains("another agentsync process is applying")
    })
    .await;
    repo.write("agents/a.yaml", &named("a", "After"));
    drop(held);
    // The interval is five minutes: only a file event can bring the edit within the deadline.
    wait_until("the edit is on the platform", || {
        has_name(&platform, "a", "After")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_syncs_every_target_and_follows_each_definitions_directory() {
    let workfx = Workfx::start().await;
    let voice = fixture::agent_workflows::AgentWorkflows::start().await;
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        &format!(
            "targets:\n  support:\n    provider: workfx\n    endpoint: {}\n    token_env: WORKFX_TOKEN\n    definitions: agents/support\n  voice:\n    provider: agent-workflows\n    endpoint: {}\n    token_env: VOICE_TOKEN\n    definitions: agents/voice\n",
            workfx.endpoint(),
            voice.endpoint()
        ),
    );
    repo.write("agents/support/a.yaml", &minimal("a"));
    repo.write(
        "agents/voice/lead.yaml",
        &fixture::agent_workflows::agent("lead", "Qualify."),
    );
    let _daemon = Daemon::spawn(&repo, &["watch", "--listen", "127.0.0.1:0"]).await;
    let published = |version: u64| {
        let voice = &voice;
        move || async move {
            voice.agents().await.iter().any(|a| {
                a["configuration"]["agentsync"]["key"] == "lead"
                    && a["published_version"] == version
            })
        }
    };
    wait_until("the voice agent is published", published(1)).await;
    wait_until("the workfx agent exists", || async {
        name_of(&workfx, "a").await.is_some()
    })
    .await;

    repo.write(
        "agents/voice/lead.yaml",
        &fixture::agent_workflows::agent("lead", "Qualify, briefly."),
    );
    wait_until("the changed voice agent is published again", published(2)).await;
    assert_eq!(count(&workfx.requests(), "POST", "/agents"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_that_does_not_answer_holds_up_no_other_target() {
    // Connections are accepted (by the kernel, into the backlog) and never answered: each
    // request waits for its timeout (30 s, twice the deadline below).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let silent_url = format!("http://{}", silent.local_addr().expect("an address"));
    let live = Workfx::start().await;
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        &format!(
            "targets:\n  a-silent:\n    provider: workfx\n    endpoint: {silent_url}\n    token_env: WORKFX_TOKEN\n    definitions: agents/silent\n  b-live:\n    provider: workfx\n    endpoint: {}\n    token_env: WORKFX_TOKEN\n    definitions: agents/live\n",
            live.endpoint()
        ),
    );
    repo.write("agents/silent/s.yaml", &minimal("s"));
    repo.write("agents/live/a.yaml", &minimal("a"));
    let daemon = Daemon::spawn(&repo, &["watch", "--listen", "127.0.0.1:0"]).await;
    wait_until("the live target's agent exists", || async {
        name_of(&live, "a").await.is_some()
    })
    .await;
    // Its lines say which target they are about.
    wait_until("the live target's create is logged with its target", || {
        let log = daemon.log();
        let logged = log
            .lines()
            .any(|line| line.contains("name=b-live") && line.contains("agent=a"));
        async move { logged }
    })
    .await;
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_on_one_platform_take_turns_instead_of_waiting_for_each_other_s_lock() {
    let platform = Workfx::start().await;
    let repo = Repo::new();
    let target = |name: &str| {
        format!(
            "  {name}:\n    provider: workfx\n    endpoint: {}\n    token_env: WORKFX_TOKEN\n    definitions: agents/{name}\n",
            platform.endpoint()
        )
    };
    repo.write(
        "agentsync.yaml",
        &format!("targets:\n{}{}", target("support"), target("sales")),
    );
    repo.write("agents/support/a.yaml", &minimal("a"));
    repo.write("agents/sales/b.yaml", &minimal("b"));
    let daemon = Daemon::spawn(&repo, &["watch", "--listen", "127.0.0.1:0"]).await;
    wait_until("the first sync is done", || daemon.ready()).await;
    assert!(name_of(&platform, "a").await.is_some());
    assert!(name_of(&platform, "b").await.is_some());
    let log = daemon.log();
    assert!(!log.contains("another agentsync process"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_platform_is_saved_after_each_sync_while_the_daemon_runs() {
    let repo = Repo::new();
    repo.write("agentsync.yaml", fixture::CONFIG);
    repo.write("agents/a.yaml", &minimal("a"));
    let daemon = Daemon::spawn(&repo, &["watch", "--listen", "127.0.0.1:0"]).await;
    wait_until("the first sync is done", || daemon.ready()).await;
    let state = repo.path().join(".agentsync/embedded-state.json");
    let saved = |key: &'static str| {
        let text = std::fs::read_to_string(&state).unwrap_or_default();
        async move { text.contains(&format!("\"key\": \"{key}\"")) }
    };
    assert!(
        saved("a").await,
        "the first sync's agent is in the state file"
    );
    repo.write("agents/b.yaml", &minimal("b"));
    wait_until("the second agent is saved", || saved("b")).await;
}

impl Daemon {
    /// How many times the daemon has set a watch on a definitions directory.
    fn watches_set(&self) -> usize {
        self.log().matches("watching definitions").count()
    }

    /// Waits until a definitions directory has been watched again since `before` watches.
    async fn watched_again(&self, before: usize) {
        wait_until("the new definitions directory is watched", || {
            let again = self.watches_set() > before;
            async move { again }
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definitions_directory_removed_and_made_again_is_watched_again() {
    // An hour's interval: only a file event can bring the edit within the deadline.
    let (repo, platform, daemon) = converged("", &["--interval", "1h"]).await;
    let before = daemon.watches_set();
    std::fs::remove_dir_all(repo.path().join("agents")).unwrap();
    repo.write("agents/a.yaml", &minimal("a"));
    repo.write("agents/b.yaml", &minimal("b"));
    daemon.watched_again(before).await;
    repo.write("agents/a.yaml", &named("a", "In the new directory"));
    wait_until("the edit in the new directory is on the platform", || {
        has_name(&platform, "a", "In the new directory")
    })
    .await;
    // The directory and its parent both report the removal; notify's warning that it cannot
    // unwatch the second time says nothing to the user.
    let log = daemon.log();
    assert!(!log.contains("WatchNotFound"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definitions_directory_swapped_by_rename_is_applied_and_watched() {
    let (repo, platform, daemon) = converged("", &["--interval", "1h"]).await;
    let before = daemon.watches_set();
    // How a checkout may publish a revision: the old directory aside, the new one in its place.
    repo.write("agents.new/a.yaml", &named("a", "Swapped in"));
    repo.write("agents.new/b.yaml", &minimal("b"));
    std::fs::rename(repo.path().join("agents"), repo.path().join("agents.old")).unwrap();
    std::fs::rename(repo.path().join("agents.new"), repo.path().join("agents")).unwrap();
    wait_until("the swapped-in directory is applied", || {
        has_name(&platform, "a", "Swapped in")
    })
    .await;
    daemon.watched_again(before).await;
    repo.write("agents/b.yaml", &named("b", "Edited after the swap"));
    wait_until(
        "an edit in the swapped-in directory is on the platform",
        || has_name(&platform, "b", "Edited after the swap"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_definitions_directory_fails_the_sync_prunes_nothing_and_readiness_returns_with_it()
 {
    let (repo, platform, daemon) = converged("prune: delete\n", &["--interval", "1h"]).await;
    std::fs::remove_dir_all(repo.path().join("agents")).unwrap();
    wait_until("the daemon is unready", || async {
        let (status, body) = daemon.get("/readyz").await;
        status == 503 && body.contains("definitions directory")
    })
    .await;
    for series in [
        "agentsync_target_sync_failures_total{target=\"default\"}",
        "agentsync_target_failing{target=\"default\"}",
        "agentsync_definitions_missing{target=\"default\"}",
        "agentsync_syncs_total{trigger=\"files\",result=\"error\"}",
    ] {
        assert!(daemon.metric(series).await >= 1.0, "{series}");
    }
    let log = daemon.log();
    assert!(log.contains("is missing or cannot be read"), "{log}");
    assert!(
        !log.contains("result=\"success\" scope=\"changes\""),
        "{log}"
    );
    assert_eq!(platform.agents().await.len(), 2, "nothing is pruned");

    repo.write("agents/a.yaml", &minimal("a"));
    repo.write("agents/b.yaml", &minimal("b"));
    wait_until("the daemon is ready again", || daemon.ready()).await;
    assert_eq!(
        daemon
            .metric("agentsync_definitions_missing{target=\"default\"}")
            .await,
        0.0
    );
    assert_eq!(platform.agents().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_with_a_broken_configuration_is_unready_and_keeps_syncing_with_the_last_good_one() {
    let (repo, platform, daemon) = converged("", &["--interval", "1h"]).await;
    repo.write("agentsync.yaml", "provider: [unclosed\n");
    daemon.signal("HUP");
    wait_until("the daemon is unready", || async {
        let (status, body) = daemon.get("/readyz").await;
        status == 503 && body.contains("configuration")
    })
    .await;
    assert_eq!(daemon.metric("agentsync_config_failing").await, 1.0);
    repo.write("agents/a.yaml", &named("a", "Applied meanwhile"));
    wait_until(
        "an edit is applied with the last good configuration",
        || has_name(&platform, "a", "Applied meanwhile"),
    )
    .await;
    assert!(!daemon.ready().await);

    repo.write("agentsync.yaml", fixture::CONFIG);
    daemon.signal("HUP");
    wait_until("the daemon is ready again", || daemon.ready()).await;
    assert_eq!(daemon.metric("agentsync_config_failing").await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_running_longer_than_the_stall_bound_makes_the_daemon_unready_while_it_lasts() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let sim = SlowSim::start(&repo, "400");
    let daemon = Daemon::spawn(
        &repo,
        &[
            "watch",
            "--listen",
            "127.0.0.1:0",
            "--endpoint",
            &sim.1,
            "--concurrency",
            "1",
            "--stall-after",
            "1s",
        ],
    )
    .await;
    wait_until("the first sync is done", || daemon.ready()).await;
    // Five creates one after the other, each 400 ms at least: well past the bound.
    for key in ["b", "c", "d", "e", "f"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    wait_until("the daemon is unready while the sync runs", || async {
        let (status, body) = daemon.get("/readyz").await;
        status == 503 && body.contains("stalled")
    })
    .await;
    assert!(daemon.metric("agentsync_sync_running_seconds").await >= 1.0);
    wait_until("the daemon is ready once the sync is done", || {
        daemon.ready()
    })
    .await;
    assert!(daemon.log().contains("applied agent=f"), "{}", daemon.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_keeps_a_platform_without_markers_or_drafts_in_step() {
    use crate::fixture::PlatformFixture;
    use crate::fixture::agents_v1::{AgentsV1, agent};
    let repo = AgentsV1::repo(&[("a", agent("a", "one")), ("b", agent("b", "one"))]);
    let platform = AgentsV1::start().await;
    let endpoint = platform.endpoint();
    let daemon = Daemon::spawn(
        &repo,
        &["watch", "--listen", "127.0.0.1:0", "--endpoint", &endpoint],
    )
    .await;
    wait_until("the first sync is done", || daemon.ready()).await;
    assert_eq!(platform.managed().await.len(), 2);
    repo.write("agents/a.yaml", &agent("a", "two"));
    wait_until("the edit is live", || async {
        platform.agent("a").await["systemPrompt"] == "two"
    })
    .await;
    // Drift made on the dashboard is repaired by the interval's full sync or the next edit.
    let id = platform.agent("b").await["id"].as_str().unwrap().to_owned();
    platform
        .patch(&id, serde_json::json!({"systemPrompt": "changed by hand"}))
        .await;
    repo.write("agents/b.yaml", &agent("b", "three"));
    wait_until("b is as defined", || async {
        platform.agent("b").await["systemPrompt"] == "three"
    })
    .await;
    assert_eq!(platform.managed().await.len(), 2, "no agent made twice");
}
