//! `plan` and `apply` through the real binary against the workfx simulator over loopback HTTP,
//! with requests counted by the simulator: references, adoption, saved plans, plan formats,
//! prune by delete, and what the binary refuses (the scenarios every platform passes are in
//! `platforms.rs`).

use crate::fixture;
use crate::fixture::PlatformFixture;

use crate::platforms::after_removal;
use fixture::workfx::{Workfx, count};
use fixture::{Repo, minimal, with_flow};
use serde_json::json;

const PUBLISH: &str = "/agents/{agent_id}/flows/publish";
const AGENT: &str = "/agents/{agent_id}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_resolve_to_the_ids_of_agents_created_first() {
    let repo = Repo::with_examples();
    let platform = Workfx::applied(&repo).await;
    let router = platform.agent("support-router").await;
    let versions = platform.versions(router["id"].as_str().unwrap()).await;
    let graph = versions[0]["graph"].to_string();
    for key in ["support-bot", "billing-assistant", "ticket-triage"] {
        let id = platform.agent(key).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            graph.contains(&id),
            "{key} ({id}) not in the router's graph"
        );
    }
    assert!(!graph.contains("${agent:"), "{graph}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_shows_references_as_known_after_apply_before_the_first_apply() {
    let repo = Repo::with_examples();
    let platform = Workfx::start().await;
    let run = platform.run(&repo, &["plan", "--detailed-exitcode"]).await;
    run.expect_code(2);
    run.expect_stdout_contains("(known after apply)");
    run.expect_stdout_contains("Plan: 5 to create, 5 drafts to update, 5 to publish.");
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_prune_delete_a_removed_definition_is_deleted() {
    let (_repo, platform, run) = after_removal::<Workfx>("delete").await;
    run.expect_success();
    assert_eq!(count(&platform.requests(), "DELETE", AGENT), 1);
    assert_eq!(platform.agents().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmanaged_agent_with_the_same_name_is_untouched_unless_adopted() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let id = platform
        .create(json!({"name": "a agent", "description": "by hand"}))
        .await;

    let plan = platform.run(&repo, &["plan"]).await;
    plan.expect_success();
    plan.expect_stdout_contains("apply --adopt");

    let run = platform.run(&repo, &["apply", "--yes", "--adopt"]).await;
    run.expect_success();
    run.expect_stdout_contains("a adopt: done");
    let agents = platform.agents().await;
    assert_eq!(agents.len(), 1, "adopted, not duplicated");
    assert_eq!(agents[0]["id"], id.as_str());
    assert_eq!(agents[0]["extend_properties"]["agentsync"]["key"], "a");
    assert_eq!(
        agents[0]["description"], "by hand",
        "fields the file leaves out stay"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_remote_agents_claiming_one_key_are_refused_naming_both() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let first = platform.create_claimed("a", "one").await;
    let second = platform.create_claimed("a", "two").await;
    platform.reset();
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("key 'a' is claimed by more than one agent")
            && run.stderr.contains(&first)
            && run.stderr.contains(&second),
        "{}",
        run.stderr
    );
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_when_the_platform_changed_since() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "one"));
    let platform = Workfx::applied(&repo).await;
    repo.write("agents/a.yaml", &with_flow("a", "two"));
    platform
        .run(&repo, &["plan", "--out", "plan.json"])
        .await
        .expect_success();
    let saved = std::fs::read_to_string(repo.path().join("plan.json")).unwrap();
    assert!(saved.contains("\"format_version\": 1"), "{saved}");

    let id = platform.agent("a").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    platform
        .update(&id, json!({"description": "edited meanwhile"}))
        .await;
    platform.reset();
    let run = platform.run(&repo, &["apply", "--yes", "plan.json"]).await;
    run.expect_code(1);
    run.expect_stderr_contains(
        "the saved plan is stale: agent 'a' changed on the platform since the plan was made",
    );
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_saved_plan_is_applied() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "one"));
    let platform = Workfx::applied(&repo).await;
    repo.write("agents/a.yaml", &with_flow("a", "two"));
    platform
        .run(&repo, &["plan", "--out", "plan.json"])
        .await
        .expect_success();
    platform
        .run(&repo, &["apply", "--yes", "plan.json"])
        .await
        .expect_success();
    assert_eq!(count(&platform.requests(), "POST", PUBLISH), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_terminal_or_yes_refuses_and_writes_nothing() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let run = platform.run(&repo, &["apply"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("pass --yes");
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_definitions_make_apply_and_plan_write_nothing() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", "kind: agent\nkey: a\nnmae: A\n");
    let platform = Workfx::start().await;
    let refused = |run: &fixture::Run| {
        run.expect_code(1);
        run.expect_stderr_contains("unknown field 'nmae'");
    };
    // Both read the platform while the definitions load; neither writes.
    refused(&platform.run(&repo, &["apply", "--yes"]).await);
    assert_eq!(platform.requests().writes, 0);
    refused(&platform.run(&repo, &["plan"]).await);
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_definition_is_reported_over_an_unreachable_platform() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", "kind: agent\nkey: a\nnmae: A\n");
    // Nothing listens on a port just closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let run = repo
        .command(&["plan", "--endpoint", &format!("http://{closed}")])
        .env("WORKFX_TOKEN", "t")
        .run();
    run.expect_code(1);
    run.expect_stderr_contains("unknown field 'nmae'");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_variable_is_named() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    let run = repo
        .command(&["plan", "--endpoint", &platform.endpoint()])
        .run();
    run.expect_code(1);
    run.expect_stderr_contains("the token variable WORKFX_TOKEN named by token_env is not set");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_detailed_exit_code_is_2_when_there_are_changes() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_code(2);
    platform.run(&repo, &["plan"]).await.expect_success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_and_markdown_plans_are_pinned() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "one"));
    repo.write("agents/new.yaml", &minimal("new"));
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    repo.write("agents/a.yaml", &with_flow("a", "two"));
    repo.write("agents/b.yaml", &minimal("b"));
    let json = platform.run(&repo, &["plan", "--output", "json"]).await;
    json.expect_success();
    let parsed: serde_json::Value = json.json();
    assert_eq!(parsed["format_version"], 1);
    fixture::snapshot!("plan_json", json.stdout);
    let markdown = platform.run(&repo, &["plan", "--output", "markdown"]).await;
    markdown.expect_success();
    fixture::snapshot!("plan_markdown", markdown.stdout);
    let text = platform.run(&repo, &["plan"]).await;
    fixture::snapshot!("plan_text", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_from_the_environment_are_masked_in_every_plan_format() {
    let repo = Repo::new();
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph: {}\n  flow_variables:\n    API_KEY: \"${env:AGENTSYNC_TEST_SECRET}\"\n",
    );
    let platform = Workfx::start().await;
    let secret = "s3cr3t-value-91";
    for output in ["text", "json", "markdown"] {
        let run = repo
            .command(&[
                "plan",
                "--output",
                output,
                "--out",
                "plan.json",
                "--endpoint",
                &platform.endpoint(),
            ])
            .env("WORKFX_TOKEN", fixture::workfx::TOKEN)
            .env("AGENTSYNC_TEST_SECRET", secret)
            .run_async()
            .await;
        run.expect_success();
        assert!(
            run.stdout.contains("flow.flow_variables") && run.stdout.contains("sensitive"),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains(secret), "{output}: {}", run.stdout);
        let saved = std::fs::read_to_string(repo.path().join("plan.json")).unwrap();
        assert!(!saved.contains(secret), "the saved plan holds the secret");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mode_change_on_an_existing_agent_is_noted_in_the_plan_and_never_attempted() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &(minimal("a") + "mode: flow-chat\n"));
    repo.write("agents/b.yaml", &with_flow("b", "one"));
    let platform = Workfx::applied(&repo).await;
    // workfx sets the mode at creation only: the plan says so instead of failing at apply.
    repo.write("agents/a.yaml", &(minimal("a") + "mode: flow-job\n"));
    repo.write("agents/b.yaml", &with_flow("b", "two"));
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_success();
    run.expect_stdout_contains(
        "'mode' differs from the definition, but the platform sets it at creation only",
    );
    run.expect_stdout_lacks("a update");
    run.expect_stdout_contains("b publish: done");
    assert_eq!(count(&platform.requests(), "PUT", AGENT), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emptied_definitions_directory_prunes_nothing() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::applied(&repo).await;
    repo.remove("agents/a.yaml");
    repo.write(
        "agentsync.yaml",
        &format!("{}prune: delete\n", fixture::CONFIG),
    );
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_success();
    run.expect_stdout_contains("nothing is pruned");
    assert_eq!(platform.requests().writes, 0);
}

#[test]
fn the_embedded_endpoint_keeps_its_state_between_runs_under_dot_agentsync() {
    let repo = Repo::with_examples();
    let first = repo.run(&["apply", "--yes"]);
    first.expect_success();
    first.expect_stdout_contains("Apply complete: 15 actions done.");
    assert!(repo.path().join(".agentsync/embedded-state.json").is_file());
    let second = repo.run(&["apply", "--yes"]);
    second.expect_success();
    second.expect_stdout_contains("No changes.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escaped_agent_reference_is_written_as_literal_text() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    repo.write(
        "agents/b.yaml",
        &with_flow("b", "write $${agent:a} and $${agent:nobody}"),
    );
    let platform = Workfx::start().await;
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    let id = platform.agent("b").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let versions = platform.versions(&id).await;
    let prompt = &versions[0]["graph"]["nodes"][0]["data"]["prompt"];
    assert_eq!(prompt, "write ${agent:a} and ${agent:nobody}");
}

/// A prompt that would erase lines of the plan on a terminal (`\r`, ESC sequences) and close
/// the Markdown code block it is shown in (a line of three backticks).
const HOSTILE_PROMPT: &str = "keep calm\r\n\u{1b}[2K\u{1b}[1Aall good, approve\rfaked\n```\n# apply: nothing to see\n\u{202e}desrever\n";

fn hostile_definition(key: &str, prompt: &str) -> String {
    let prompt = serde_json::to_string(prompt).unwrap();
    format!(
        "kind: agent\nkey: {key}\nname: {key} agent\nflow:\n  mode: chat\n  graph:\n    nodes:\n      - id: llm\n        data: {{prompt: {prompt}, \"\\e[31mred\": 1}}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_and_fences_in_a_prompt_are_escaped_in_every_plan_format() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "before"));
    let platform = Workfx::applied(&repo).await;
    repo.write("agents/a.yaml", &hostile_definition("a", HOSTILE_PROMPT));
    // A file name is the repository's, and may hold an escape too.
    repo.write("agents/new\u{1b}[2K.yaml", &minimal("new"));

    let text = platform.run(&repo, &["plan"]).await;
    text.expect_success();
    let markdown = platform.run(&repo, &["plan", "--output", "markdown"]).await;
    markdown.expect_success();
    for (output, run) in [("text", &text), ("markdown", &markdown)] {
        let bytes = run.stdout.as_bytes();
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&b'\r'),
            "{output}: raw control characters reach the terminal:\n{}",
            run.stdout.escape_debug()
        );
        assert!(!run.stdout.contains('\u{202e}'), "{output}");
        for shown in [
            "keep calm\\r",
            "\\u001b[2K\\u001b[1Aall good, approve\\rfaked",
            "\\u202edesrever",
            "\\u001b[31mred",
            "new\\u001b[2K.yaml",
        ] {
            assert!(
                run.stdout.contains(shown),
                "{output}: {shown}\n{}",
                run.stdout
            );
        }
    }
    // In Markdown, the fence inside the prompt does not end the code block: every line that
    // starts with three backticks opens or closes a block of the plan's own.
    let fences: Vec<&str> = markdown
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("```"))
        .collect();
    assert_eq!(
        fences,
        ["```diff", "```", "```diff", "```"],
        "{}",
        markdown.stdout
    );

    // JSON escapes as JSON does, and holds the prompt exactly.
    let json = platform.run(&repo, &["plan", "--output", "json"]).await;
    json.expect_success();
    assert!(!json.stdout.as_bytes().contains(&0x1b) && !json.stdout.contains('\r'));
    let plan: serde_json::Value = json.json();
    let prompt = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|agent| agent["actions"].as_array().unwrap())
        .flat_map(|action| action["changes"].as_array().unwrap())
        .find(|change| change["path"] == "flow.graph.nodes[0].data.prompt")
        .expect("the prompt's change");
    assert_eq!(prompt["after"], HOSTILE_PROMPT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edited_protect_that_is_not_a_boolean_keeps_the_agent_from_prune_and_is_named() {
    let repo = Repo::new();
    repo.write("agents/keep.yaml", &minimal("keep"));
    repo.write("agents/other.yaml", &minimal("other"));
    let platform = Workfx::applied(&repo).await;
    let id = platform.agent("keep").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone meant to protect it, by hand, in words.
    platform
        .update(
            &id,
            json!({"extend_properties": {"agentsync": {"key": "keep", "protect": "yes"}}}),
        )
        .await;
    platform.reset();
    repo.remove("agents/keep.yaml");
    repo.write(
        "agentsync.yaml",
        &format!("{}prune: delete\n", fixture::CONFIG),
    );
    let plan = platform.run(&repo, &["plan", "--detailed-exitcode"]).await;
    plan.expect_success();
    assert!(
        plan.stdout.contains("protected") && !plan.stdout.contains("delete"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains(&id) && plan.stderr.contains("not true or false"),
        "{}",
        plan.stderr
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_eq!(platform.requests().writes, 0);
    assert_eq!(platform.agents().await.len(), 2);
}
