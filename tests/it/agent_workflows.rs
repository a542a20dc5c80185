//! The second platform, Agent Workflows, through the real binary against its simulator over
//! loopback HTTP: what is its own (the scenarios every platform passes are in `platforms.rs`):
//! validation before publishing, the draft a publish closes, its configuration and folders,
//! and a repository with one target per platform.

use crate::fixture;
use crate::fixture::PlatformFixture;

use crate::platforms::after_removal;
use fixture::agent_workflows::{self, AgentWorkflows, agent};
use fixture::workfx::{Workfx, count};
use fixture::{Repo, minimal};
use serde_json::{Value, json};

const CREATE: &str = "/workflow/create/definition";
const PUBLISH: &str = "/workflow/{id}/publish";
const VALIDATE: &str = "/workflow/{id}/validate";

fn two_agents() -> Repo {
    AgentWorkflows::repo(&[
        ("lead", agent("lead", "Qualify the lead.")),
        ("support", agent("support", "Help the caller.")),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_apply_validates_each_draft_before_its_publish_closes_it() {
    let repo = two_agents();
    let platform = AgentWorkflows::start().await;
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_success();
    for key in ["lead", "support"] {
        let agent = platform.agent(key).await;
        assert_eq!(agent["published_version"], 1, "{key}");
        assert_eq!(agent["draft_definition"], Value::Null, "{key}");
        assert_eq!(agent["definition"]["nodes"][1]["type"], "agent", "{key}");
    }
    assert_eq!(platform.count("POST", VALIDATE), 2);
    assert_eq!(platform.count("POST", PUBLISH), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_definition_reopens_the_draft_the_last_publish_closed() {
    let repo = two_agents();
    let platform = AgentWorkflows::applied(&repo).await;
    repo.write(
        "agents/lead.yaml",
        &agent("lead", "Qualify the lead, briefly."),
    );

    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    // The draft was closed by the first publish: it is opened again before the write.
    assert_eq!(platform.count("POST", "/workflow/{id}/create-draft"), 1);
    let lead = platform.agent("lead").await;
    assert_eq!(lead["published_version"], 2);
    assert_eq!(
        lead["definition"]["nodes"][1]["data"]["prompt"],
        "Qualify the lead, briefly."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_draft_is_refused_at_publish_with_the_platforms_errors_against_the_definition() {
    let repo = two_agents();
    let platform = AgentWorkflows::applied(&repo).await;
    repo.write("agents/lead.yaml", &agent("lead", ""));

    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    // The agents are created concurrently, so which id is lead's is not fixed.
    let id = platform.agent("lead").await["id"].to_string();
    run.expect_stdout_contains(&format!(
            "lead publish: FAILED: the platform found 1 problem in the draft of agent {id} and refused to publish it: definition.nodes[1].data.prompt: Prompt is required (node 'talk')"
        ));
    assert_eq!(platform.count("POST", VALIDATE), 1);
    assert_eq!(platform.count("POST", PUBLISH), 0);
    let lead = platform.agent("lead").await;
    assert_eq!(
        lead["published_version"], 1,
        "the live version is untouched"
    );
    assert_eq!(lead["draft_definition"]["nodes"][1]["data"]["prompt"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_folder_and_configuration_are_applied_without_a_new_version() {
    let repo = two_agents();
    let platform = AgentWorkflows::applied(&repo).await;
    repo.write(
        "agents/lead.yaml",
        &(agent("lead", "Qualify the lead.").replace("name: lead agent", "name: Leads")
            + "folder: 7\nconfiguration:\n  voice: alloy\n"),
    );

    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    let lead = platform.agent("lead").await;
    assert_eq!(lead["name"], "Leads");
    assert_eq!(lead["folder_id"], 7);
    assert_eq!(
        lead["configuration"],
        json!({"voice": "alloy", "agentsync": {"key": "lead"}})
    );
    assert_eq!(lead["published_version"], 1);
    platform.reset();
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_delete_is_refused_before_any_request_since_the_platform_cannot_delete() {
    let (_repo, platform, run) = after_removal::<AgentWorkflows>("delete").await;
    run.expect_code(1);
    run.expect_stderr_contains(
        "setting 'prune' cannot be 'delete': agent-workflows cannot delete agents",
    );
    assert_eq!(platform.requests().total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmanaged_agent_with_the_same_name_is_adopted_keeping_its_configuration() {
    let repo = AgentWorkflows::repo(&[("lead", agent("lead", "Qualify the lead."))]);
    let platform = AgentWorkflows::start().await;
    let id = platform
        .create(json!({
            "name": "lead agent",
            "definition": {"nodes": [], "edges": []},
            "configuration": {"voice": "echo"},
        }))
        .await;
    platform
        .run(&repo, &["apply", "--yes", "--adopt"])
        .await
        .expect_success();
    let lead = platform.agent("lead").await;
    assert_eq!(lead["id"], id);
    assert_eq!(lead["configuration"]["voice"], "echo");
    assert_eq!(platform.count("POST", CREATE), 1, "only the hand-made one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_may_not_set_the_marker_itself() {
    let repo = AgentWorkflows::repo(&[(
        "lead",
        agent("lead", "x") + "configuration:\n  agentsync: {key: other}\n",
    )]);
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains(
        "field 'configuration.agentsync' is reserved: agentsync keeps its ownership marker there",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_repository_plans_and_applies_a_workfx_target_and_an_agent_workflows_target() {
    let workfx = Workfx::start().await;
    let voice = AgentWorkflows::start().await;
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
    repo.write("agents/voice/lead.yaml", &agent("lead", "Qualify."));
    let env = [
        ("WORKFX_TOKEN", fixture::workfx::TOKEN),
        ("VOICE_TOKEN", agent_workflows::TOKEN),
    ];
    let run = |args: &'static [&'static str]| repo.command(args).envs(env).run_async();

    let plan = run(&["plan"]).await;
    plan.expect_success();
    plan.expect_stdout_contains("== target support (workfx) ==");
    plan.expect_stdout_contains("== target voice (agent-workflows) ==");
    plan.expect_stdout_contains("All targets: Plan: 2 to create, 1 draft to update, 1 to publish.");

    run(&["apply", "--yes"]).await.expect_success();
    assert_eq!(workfx.agent("a").await["name"], "a agent");
    assert_eq!(voice.agent("lead").await["published_version"], 1);

    let only_voice = run(&["plan", "--target", "voice", "--output", "json"]).await;
    only_voice.expect_success();
    let json: Value = only_voice.json();
    assert_eq!(json["targets"][0]["target"], "voice");
    assert_eq!(json["targets"].as_array().map(Vec::len), Some(1));

    workfx.reset();
    voice.reset();
    run(&["plan", "--detailed-exitcode"]).await.expect_success();
    assert_eq!(workfx.requests().writes + voice.requests().writes, 0);
    assert_eq!(count(&workfx.requests(), "GET", "/agents"), 1);
}

#[test]
fn the_embedded_endpoint_serves_agent_workflows_and_keeps_its_state() {
    let repo = AgentWorkflows::repo(&[("lead", agent("lead", "Qualify the lead."))]);
    let first = repo.run(&["apply", "--yes"]);
    first.expect_success();
    first.expect_stdout_contains("lead publish: done");
    let second = repo.run(&["plan", "--detailed-exitcode"]);
    second.expect_success();
    let state = std::fs::read_to_string(repo.path().join(".agentsync/embedded-state.json"))
        .expect("the state file");
    assert!(state.contains("agent-workflows"), "{state}");
}

#[test]
fn a_saved_plan_of_two_targets_is_applied_whole_and_refused_once_stale() {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        "targets:\n  support:\n    provider: workfx\n    endpoint: embedded\n    definitions: agents/support\n  voice:\n    provider: agent-workflows\n    endpoint: embedded\n    definitions: agents/voice\n",
    );
    repo.write("agents/support/a.yaml", &minimal("a"));
    repo.write("agents/voice/lead.yaml", &agent("lead", "Qualify."));

    repo.run(&["plan", "--out", "plan.json"]).expect_success();
    let applied = repo.run(&["apply", "plan.json", "--yes"]);
    applied.expect_success();
    applied.expect_stdout_contains("== target voice (agent-workflows) ==");
    applied.expect_stdout_contains("lead publish: done");
    applied.expect_stdout_contains("a create: done");

    repo.write(
        "agents/voice/lead.yaml",
        &agent("lead", "Qualify, briefly."),
    );
    repo.run(&["plan", "--out", "plan.json"]).expect_success();
    repo.write("agents/voice/lead.yaml", &agent("lead", "Something else."));
    let stale = repo.run(&["apply", "plan.json", "--yes"]);
    stale.expect_code(1);
    stale.expect_stderr_contains("error: target 'voice': the saved plan is stale");
    repo.run(&["apply", "--target", "support", "--yes"])
        .expect_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_agent_failing_does_not_stop_the_others_and_the_exit_code_says_so() {
    let repo = two_agents();
    let platform = AgentWorkflows::applied(&repo).await;
    repo.write("agents/lead.yaml", &agent("lead", ""));
    repo.write("agents/support.yaml", &agent("support", "Help, kindly."));
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stdout_contains("lead publish: FAILED");
    run.expect_stdout_contains("support publish: done");
    run.expect_stdout_contains("Apply incomplete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_voice_agents_are_applied_with_their_trigger_paths_and_folder() {
    let repo = Repo::with_voice_examples();
    let platform = AgentWorkflows::applied(&repo).await;
    let reminder = platform.agent("appointment-reminder").await;
    assert_eq!(reminder["trigger_paths"], json!(["/outbound/reminders"]));
    assert_eq!(platform.agent("lead-qualifier").await["folder_id"], 3);
}

// ---- answers that cannot be believed ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_without_its_workflows_is_an_error_not_an_empty_platform() {
    let repo = two_agents();
    let platform = AgentWorkflows::applied(&repo).await;
    platform
        .sim
        .set_faults(agentsync::sim::Faults {
            agent_list: agentsync::sim::ListShape::NoPagingFields,
            ..agentsync::sim::Faults::none()
        })
        .expect("valid faults");
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("it has no `workflows`");
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_names_an_agent_twice_is_an_error_and_nothing_is_written() {
    let repo = two_agents();
    let platform = AgentWorkflows::applied(&repo).await;
    repo.write("agents/third.yaml", &agent("third", "A third one."));
    platform
        .sim
        .set_faults(agentsync::sim::Faults {
            agent_list: agentsync::sim::ListShape::Repeats,
            ..agentsync::sim::Faults::none()
        })
        .expect("valid faults");
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("GET /workflow/fetch") && run.stderr.contains("twice"),
        "{}",
        run.stderr
    );
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_larger_than_agentsync_reads_is_an_error_and_nothing_is_written() {
    let repo = two_agents();
    let platform = AgentWorkflows::start().await;
    platform
        .sim
        .set_faults(agentsync::sim::Faults {
            oversize_bytes: agentsync::provider::http::MAX_BODY_BYTES as u64,
            ..agentsync::sim::Faults::none()
        })
        .expect("valid faults");
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("larger than 64 MiB");
    assert_eq!(platform.requests().writes, 0);
}
