//! The request budget of each operation, pinned: the real binary against the simulator, with
//! the requests counted at the simulator, so that an extra read or write fails a test. The
//! numbers are the minimum the workfx API allows (docs/performance.md, "Requests per operation").
//! Also: no more than `concurrency` requests are ever in flight, and progress is counted.

use crate::fixture;
use crate::fixture::PlatformFixture;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use agentsync::config::Overrides;
use agentsync::engine::progress::{Phase, Progress, ProgressSink};
use agentsync::ops::apply::{ApplyOptions, apply};
use agentsync::ops::plan::{PlanOptions, plan};
use agentsync::ops::workspace::WorkspaceOptions;
use agentsync::provider::http::{ApiRequest, HttpClient, HttpSettings};
use fixture::agent_workflows::{self, AgentWorkflows};
use fixture::workfx::{Workfx, count};
use fixture::{Repo, minimal, with_flow};
use serde_json::Value;

const LIST: &str = "/agents";
const FLOWS: &str = "/agents/{agent_id}/flows";
const PUBLISH: &str = "/agents/{agent_id}/flows/publish";

/// The largest page the platform accepts, at which agentsync lists.
const PAGE_SIZE: u64 = 100;

/// A library-level plan of `repo` against `platform`.
fn plan_options(repo: &Repo, platform: &Workfx) -> PlanOptions {
    PlanOptions {
        workspace: WorkspaceOptions {
            config: None,
            cwd: repo.path().to_path_buf(),
            overrides: Overrides {
                endpoint: Some(platform.endpoint()),
                ..Overrides::default()
            },
            target: None,
        },
        ..PlanOptions::default()
    }
}

/// A repository of `n` agents with flows (more than one page of them when `n > 100`).
fn repo_with_flows(n: usize) -> Repo {
    let repo = Repo::new();
    for i in 0..n {
        let key = format!("agent-{i:03}");
        repo.write(
            &format!("agents/{key}.yaml"),
            &with_flow(&key, &format!("prompt {i}")),
        );
    }
    repo
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_apply_makes_one_list_request_and_per_agent_three_writes_and_a_twin_lookup() {
    let agents = 150;
    let repo = repo_with_flows(agents);
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["apply", "--yes", "--concurrency", "16"])
        .await
        .expect_success();
    let requests = platform.requests();
    // The platform is empty: the first list page says so, and nothing else is read but, after
    // each create, the agents of its name (one page), for a twin a concurrent run made.
    assert_eq!(count(&requests, "GET", LIST), 1 + 150, "{requests:?}");
    assert_eq!(count(&requests, "GET", FLOWS), 0, "{requests:?}");
    assert_eq!(count(&requests, "POST", LIST), 150);
    assert_eq!(count(&requests, "POST", FLOWS), 150);
    assert_eq!(count(&requests, "POST", PUBLISH), 150);
    assert_eq!(requests.total, 1 + 4 * agents as u64, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_agent_workflows_each_create_is_followed_by_one_list_and_a_read_of_each_namesake() {
    let agents = 5u64;
    let repo = Repo::new();
    repo.write("agentsync.yaml", agent_workflows::CONFIG);
    for i in 0..agents {
        let key = format!("voice-{i}");
        repo.write(
            &format!("agents/{key}.yaml"),
            &agent_workflows::agent(&key, "Talk."),
        );
    }
    let platform = AgentWorkflows::start().await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    // The list of the observe, then per create: the list, and the one agent of that name.
    assert_eq!(platform.count("GET", "/workflow/fetch"), 1 + agents);
    assert_eq!(platform.count("GET", "/workflow/fetch/{id}"), agents);
    assert_eq!(
        platform.count("POST", "/workflow/create/definition"),
        agents
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_plan_makes_one_request_per_list_page_and_one_read_per_agent() {
    let agents = 150u64;
    let repo = repo_with_flows(agents as usize);
    let platform = Workfx::applied(&repo).await;
    platform
        .run(
            &repo,
            &["plan", "--detailed-exitcode", "--concurrency", "16"],
        )
        .await
        .expect_success();
    let requests = platform.requests();
    assert_eq!(
        count(&requests, "GET", LIST),
        agents.div_ceil(PAGE_SIZE),
        "{requests:?}"
    );
    assert_eq!(count(&requests, "GET", FLOWS), agents, "{requests:?}");
    assert_eq!(requests.writes, 0);
    assert_eq!(
        requests.total,
        agents.div_ceil(PAGE_SIZE) + agents,
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_without_a_flow_cost_no_read_beyond_the_list() {
    let repo = Repo::new();
    for key in ["plain-a", "plain-b", "plain-c"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let platform = Workfx::applied(&repo).await;
    platform.run(&repo, &["plan"]).await.expect_success();
    let requests = platform.requests();
    assert_eq!(requests.total, 1, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_through_a_pipe_draws_no_progress_bar() {
    let repo = repo_with_flows(3);
    let platform = Workfx::applied(&repo).await;
    let run = platform.run(&repo, &["plan"]).await;
    run.expect_success();
    run.expect_stderr_lacks("agents read");
    run.expect_stderr_lacks("\u{1b}");
}

/// Counts every progress call.
#[derive(Default)]
struct Counted {
    started: Mutex<Vec<(Phase, u64)>>,
    totals: Mutex<Vec<(Phase, u64)>>,
    steps: AtomicUsize,
    finished: AtomicUsize,
}

impl ProgressSink for Counted {
    fn start(&self, phase: Phase, total: u64) {
        self.started
            .lock()
            .expect("not poisoned")
            .push((phase, total));
    }
    fn set_total(&self, phase: Phase, total: u64) {
        self.totals
            .lock()
            .expect("not poisoned")
            .push((phase, total));
    }
    fn step(&self, _: Phase) {
        self.steps.fetch_add(1, Ordering::SeqCst);
    }
    fn finish(&self, _: Phase) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

/// Applies `repo`, then plans it again (nothing to do), counting every progress call.
async fn counted_no_change_plan(repo: &Repo) -> Arc<Counted> {
    let platform = Workfx::applied(repo).await;
    let counted = Arc::new(Counted::default());
    let options = PlanOptions {
        progress: Progress::to(counted.clone()),
        ..plan_options(repo, &platform)
    };
    let env = |name: &str| (name == "WORKFX_TOKEN").then(|| fixture::workfx::TOKEN.to_owned());
    let planned = plan(&options, &env).await.expect("the plan runs");
    assert_eq!(planned.len(), 1, "one target");
    for one in planned {
        assert!(one.plan.is_empty());
        one.connection.close().await;
    }
    counted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_reports_one_progress_step_per_agent_read() {
    let counted = counted_no_change_plan(&repo_with_flows(12)).await;
    assert_eq!(
        *counted.started.lock().expect("not poisoned"),
        [(Phase::Observe, 12)]
    );
    assert_eq!(counted.steps.load(Ordering::SeqCst), 12);
    assert_eq!(counted.finished.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_total_becomes_the_number_of_agents_read() {
    // Six agents with flows and four without: only the six have a content to read.
    let repo = repo_with_flows(6);
    for key in ["m1", "m2", "m3", "m4"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let counted = counted_no_change_plan(&repo).await;
    assert_eq!(counted.steps.load(Ordering::SeqCst), 6);
    let started = counted.started.lock().expect("not poisoned").clone();
    let totals = counted.totals.lock().expect("not poisoned").clone();
    // The bar may begin with an estimate; it ends at the count of reads.
    let last = totals.last().or(started.last()).copied();
    assert_eq!(last, Some((Phase::Observe, 6)), "{started:?} {totals:?}");
}

/// A repository of 40 agents applied to a platform, plus a definition checked last that asks
/// for an environment variable whose lookup answers only once the platform has been asked for
/// some agent's content; and that lookup, which records whether it saw such a read. Were the
/// definitions loaded before the first request, it would wait in vain (and say so).
async fn overlap_setup() -> (Repo, Workfx, Arc<AtomicBool>) {
    let repo = repo_with_flows(40);
    let platform = Workfx::applied(&repo).await;
    // Sorted after every `agent-*.yaml`, so checked last.
    repo.write(
        "agents/zz-last.yaml",
        "kind: agent\nkey: zz-last\nname: Last\ndescription: ${env:WAIT_FOR_READS}\n",
    );
    platform.reset();
    (repo, platform, Arc::new(AtomicBool::new(false)))
}

fn overlap_env<'a>(
    platform: &'a Workfx,
    read_before_loaded: &'a AtomicBool,
) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| match name {
        "WORKFX_TOKEN" => Some(fixture::workfx::TOKEN.to_owned()),
        "WAIT_FOR_READS" => {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if count(&platform.requests(), "GET", FLOWS) > 0 {
                    read_before_loaded.store(true, Ordering::SeqCst);
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Some("loaded".to_owned())
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_reads_contents_while_the_definitions_are_still_loading() {
    let (repo, platform, read_before_loaded) = overlap_setup().await;
    let env = overlap_env(&platform, &read_before_loaded);
    let planned = plan(&plan_options(&repo, &platform), &env)
        .await
        .expect("the plan runs");
    assert!(
        read_before_loaded.load(Ordering::SeqCst),
        "no content was read before the last definition was checked"
    );
    let requests = platform.requests();
    // The same requests as loading first would make: one list page, one read per agent.
    assert_eq!(requests.total, 1 + 40, "{requests:?}");
    for one in planned {
        let creates: Vec<_> = one
            .plan
            .changes
            .iter()
            .filter(|c| !c.actions.is_empty())
            .map(|c| c.key.to_string())
            .collect();
        assert_eq!(creates, ["zz-last"], "only the new definition changes");
        one.connection.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_reads_contents_while_the_definitions_are_still_loading() {
    let (repo, platform, read_before_loaded) = overlap_setup().await;
    let env = overlap_env(&platform, &read_before_loaded);
    let options = ApplyOptions {
        plan: plan_options(&repo, &platform),
        ..ApplyOptions::default()
    };
    let applied = apply(&options, &env, |_| Ok(true))
        .await
        .expect("the apply runs");
    assert!(applied.succeeded());
    assert!(
        read_before_loaded.load(Ordering::SeqCst),
        "no content was read before the last definition was checked"
    );
    let requests = platform.requests();
    // One list page, one read per agent, and the new agent's create and twin lookup.
    assert_eq!(requests.total, 1 + 40 + 2, "{requests:?}");
    assert_eq!(requests.writes, 1, "{requests:?}");
}

/// A loopback HTTP/1.1 server that answers `{}` to everything after holding each request for a
/// moment, and records the most requests it ever held at once.
fn counting_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let held = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let most_seen = Arc::clone(&most);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let held = Arc::clone(&held);
            let most = Arc::clone(&most);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                // One request per read is enough for these small GETs; keep-alive loops.
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 {
                        return;
                    }
                    let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Held so that requests overlap if the client lets them; the assertion
                    // does not depend on how long.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    held.fetch_sub(1, Ordering::SeqCst);
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if stream.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, most_seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_more_requests_than_max_in_flight_are_out_at_once() {
    let (url, most) = counting_server();
    let client = HttpClient::new(
        url.parse().expect("a URL"),
        None,
        Vec::new(),
        HttpSettings::with_max_in_flight(2),
    )
    .expect("a client");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let client = client.clone();
        tasks.spawn(async move {
            client
                .send::<Value>(ApiRequest::get("/x", format!("request {i}")))
                .await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("the task ends").expect("answered");
    }
    let most = most.load(Ordering::SeqCst);
    assert!((1..=2).contains(&most), "{most} requests were in flight");
}
