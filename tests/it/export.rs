//! `export` through the real binary against the simulator: agents made on the platform by hand
//! come back as definitions that plan only adopts, and that plan nothing once adopted.

use crate::fixture;
use crate::fixture::PlatformFixture;

use fixture::workfx::Workfx;
use fixture::{Repo, with_flow};
use serde_json::{Value, json};

/// A multi-line prompt with unicode, trailing spaces and template syntax of every kind.
const PROMPT: &str = "Tu es l'assistant d'Acme — réponds en français.  \n\nContexte : {{#context#}}\n  - indenté\n\t- tabulé\nyes: no # pas un commentaire\n${not_env} and $${escaped}\n";

/// What the platform holds before the export: agents made by hand, none managed.
async fn hand_made(platform: &Workfx) -> Vec<String> {
    let mut ids = Vec::new();

    // Every agent field, and a flow with a nested graph, a secret and unicode.
    let id = platform
        .create(json!({
            "name": "Support Bot 🎧",
            "description": "Répond aux questions\nsur deux lignes",
            "type": "single-agent",
            "mode": "flow-chat",
            "icon": "🎧",
            "icon_type": "emoji",
            "icon_background": "#E0F2FE",
            "tags": ["support", "yes", "1.0"],
            "is_favorite": true,
        }))
        .await;
    platform
        .write_draft(
            &id,
            json!({
                "mode": "chat",
                "graph": {
                    "nodes": [
                        {"id": "start", "data": {"type": "start", "variables": []}},
                        {"id": "llm", "position": {"x": 1.5, "y": -2}, "data": {
                            "type": "llm",
                            "prompt_template": [{"role": "system", "text": PROMPT}, {"role": "user", "text": "{{#sys.query#}}"}],
                            "model": {"completion_params": {"temperature": 0.2, "max_tokens": 512}},
                            "nested": {"deeper": {"deepest": [[1, [2, {"k": null}]], {}]}},
                        }},
                        {"id": "http", "data": {"headers": [{"name": "Authorization", "value": "Bearer sk-hand-1"}]}},
                    ],
                    "edges": [{"source": "start", "target": "llm"}],
                },
                "features": {"opening_statement": "Bonjour !"},
                "flow_variables": {"API_KEY": "sk-hand-2", "API_BASE": "https://api.example.com"},
                "conversation_variables": {"tier": {"type": "string", "value": "gold"}},
            }),
        )
        .await;
    platform.publish(&id).await;
    ids.push(id);

    // A draft ahead of its live version.
    let id = platform.create(json!({"name": "Draft Ahead"})).await;
    platform
        .write_draft(&id, json!({"mode": "chat", "graph": {"nodes": [1]}}))
        .await;
    platform.publish(&id).await;
    platform
        .write_draft(&id, json!({"mode": "chat", "graph": {"nodes": [2]}}))
        .await;
    ids.push(id);

    // No flow at all.
    ids.push(platform.create(json!({"name": "No Flow"})).await);

    // Archived, with a flow never published.
    let id = platform
        .create(json!({"name": "Old One", "tags": "a, b"}))
        .await;
    platform
        .write_draft(&id, json!({"mode": "job", "graph": {}}))
        .await;
    platform.update(&id, json!({"status": "ARCHIVED"})).await;
    ids.push(id);

    // Two agents with one name, different flows.
    for prompt in ["first", "second"] {
        let id = platform.create(json!({"name": "Twin"})).await;
        platform
            .write_draft(&id, json!({"mode": "chat", "graph": {"p": prompt}}))
            .await;
        platform.publish(&id).await;
        ids.push(id);
    }

    // A graph too large to read inline: it goes to its own file.
    let nodes: Vec<Value> = (0..150)
        .map(|i| json!({"id": format!("n{i}"), "data": {"title": format!("step {i}")}}))
        .collect();
    let id = platform.create(json!({"name": "Big Graph"})).await;
    platform
        .write_draft(&id, json!({"mode": "chat", "graph": {"nodes": nodes}}))
        .await;
    platform.publish(&id).await;
    ids.push(id);
    ids
}

/// The variables export asks for, with the values the platform holds.
const SECRETS: &[(&str, &str)] = &[
    ("SUPPORT_BOT_AUTHORIZATION", "Bearer sk-hand-1"),
    ("SUPPORT_BOT_API_KEY", "sk-hand-2"),
];

fn summary(run: &fixture::Run) -> Value {
    let plan: Value = run.json();
    plan["summary"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_plans_only_adoptions_and_nothing_once_applied() {
    let repo = Repo::new();
    let platform = Workfx::start().await;
    let ids = hand_made(&platform).await;
    platform.reset();

    let export = platform.run(&repo, &["export"]).await;
    export.expect_success();
    for (name, _) in SECRETS {
        export.expect_stdout_contains(name);
    }
    for (_, value) in SECRETS {
        assert!(!export.stdout.contains(value) && !export.stderr.contains(value));
    }
    let files = repo.files();
    for file in [
        "agents/support-bot.yaml",
        "agents/draft-ahead.yaml",
        "agents/no-flow.yaml",
        "agents/old-one.yaml",
        "agents/twin.yaml",
        "agents/twin-2.yaml",
        "agents/big-graph.yaml",
        "agents/big-graph.graph.json",
    ] {
        assert!(
            files.iter().any(|f| f.to_str() == Some(file)),
            "{file}: {files:?}"
        );
    }
    let written: String = files
        .iter()
        .filter(|f| f.starts_with("agents"))
        .map(|f| std::fs::read_to_string(repo.path().join(f)).unwrap())
        .collect();
    for (_, value) in SECRETS {
        assert!(!written.contains(value), "a secret was written");
    }
    assert_eq!(
        platform.requests().writes,
        0,
        "export writes nothing to the platform"
    );

    let env: Vec<(&str, &str)> = SECRETS.to_vec();
    let plan = platform
        .run_with_env(
            &repo,
            &["plan", "--adopt", "--output", "json", "--detailed-exitcode"],
            &env,
        )
        .await;
    plan.expect_code(2);
    let counts = summary(&plan);
    assert_eq!(counts["adopt"], ids.len(), "{}", plan.stdout);
    for kind in [
        "create",
        "update",
        "update_draft",
        "publish",
        "archive",
        "restore",
        "delete",
    ] {
        assert_eq!(counts[kind], 0, "{kind}: {}", plan.stdout);
    }

    platform
        .run_with_env(&repo, &["apply", "--adopt", "--yes"], &env)
        .await
        .expect_success();
    let after = platform
        .run_with_env(&repo, &["plan", "--detailed-exitcode"], &env)
        .await;
    after.expect_success();
    after.expect_stdout_contains("No changes.");
    assert_eq!(
        platform.agents().await.len(),
        ids.len(),
        "no agent was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_never_overwrites_without_force() {
    let repo = Repo::new();
    repo.write("agents/no-flow.yaml", "# mine\n");
    let platform = Workfx::start().await;
    platform.create(json!({"name": "No Flow"})).await;
    platform.create(json!({"name": "Other"})).await;

    // The key is free (the file holds no definition), but the file name is not: a new key.
    let run = platform.run(&repo, &["export", "--only", "No Flow"]).await;
    run.expect_success();
    assert_eq!(
        std::fs::read_to_string(repo.path().join("agents/no-flow.yaml")).unwrap(),
        "# mine\n"
    );
    assert!(repo.path().join("agents/no-flow-2.yaml").exists());

    // Exporting again would replace the file just written: refused, and nothing else written.
    let before = repo.files();
    let run = platform
        .run(&repo, &["export", "--only", "No Flow", "--only", "Other"])
        .await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("agents/no-flow-2.yaml")
            && run.stderr.contains("nothing was written")
            && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.files(), before);

    // With --force, the definition of that agent is written again, over the edited file.
    let path = repo.path().join("agents/no-flow-2.yaml");
    let edited = std::fs::read_to_string(&path).unwrap() + "# edited by hand\n";
    std::fs::write(&path, edited).unwrap();
    platform
        .run(&repo, &["export", "--only", "No Flow", "--force"])
        .await
        .expect_success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("name: No Flow") && !text.contains("# edited"),
        "{text}"
    );
    assert!(!repo.path().join("agents/no-flow-3.yaml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_only_value_is_named_and_nothing_is_written() {
    let repo = Repo::new();
    let platform = Workfx::start().await;
    platform.create(json!({"name": "Known"})).await;
    let before = repo.files();
    let run = platform
        .run(&repo, &["export", "--only", "Known", "--only", "Nobody"])
        .await;
    run.expect_code(1);
    run.expect_stderr_contains("'Nobody'");
    run.expect_stderr_lacks("'Known'");
    assert_eq!(repo.files(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_agents_already_defined_are_skipped_and_listed() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &with_flow("a", "be brief"));
    let platform = Workfx::applied(&repo).await;
    platform.create(json!({"name": "Hand Made"})).await;
    let run = platform.run(&repo, &["export"]).await;
    run.expect_success();
    let id_a = platform.agent("a").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let id = platform
        .agents()
        .await
        .into_iter()
        .find(|a| a["name"] == "Hand Made")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    fixture::snapshot!(run.stdout, redact: [(id_a, "<id-a>"), (id, "<id>")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_writes_elsewhere_and_keys_can_come_from_codes() {
    let repo = Repo::new();
    let platform = Workfx::start().await;
    let id = platform.create(json!({"name": "Hand Made"})).await;
    let code = platform
        .agents()
        .await
        .into_iter()
        .find(|a| a["id"] == id.as_str())
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_lowercase();
    platform
        .run(&repo, &["export", "--dir", "adopted", "--key-from", "code"])
        .await
        .expect_success();
    let file = repo.path().join(format!("adopted/{code}.yaml"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{:?}", repo.files()));
    assert!(
        text.contains(&format!("key: \"{code}\"")) || text.contains(&format!("key: {code}")),
        "{text}"
    );
    assert!(repo.files().iter().all(|f| !f.starts_with("agents/")));
}

/// Two targets, one per platform, both on their embedded simulators.
const TWO_TARGETS: &str = "targets:\n  chat:\n    provider: workfx\n    endpoint: embedded\n    definitions: agents\n  voice:\n    provider: agent-workflows\n    endpoint: embedded\n    definitions: voice\n";

const VOICE: &str = "kind: agent\nkey: caller\nname: Caller\nconfiguration: {voice: alloy}\ndefinition:\n  nodes:\n    - {id: start, type: start}\n    - {id: talk, type: agent, data: {prompt: \"Hello,\\nhow can I help?\"}}\n  edges:\n    - {source: start, target: talk}\n";

#[test]
fn every_target_is_exported_into_its_own_directory_and_plans_nothing() {
    let repo = Repo::bare();
    repo.write("agentsync.yaml", TWO_TARGETS);
    repo.write("agents/helper.yaml", &with_flow("helper", "be brief"));
    repo.write("voice/caller.yaml", VOICE);
    repo.run(&["apply", "--yes"]).expect_success();

    // The repository loses its files; the platforms still hold the agents.
    repo.remove("agents/helper.yaml");
    repo.remove("voice/caller.yaml");
    let run = repo.run(&["export"]);
    run.expect_success();
    assert!(
        run.stdout.contains("== chat (workfx)")
            && run.stdout.contains("== voice (agent-workflows)"),
        "{}",
        run.stdout
    );
    let voice = std::fs::read_to_string(repo.path().join("voice/caller.yaml")).unwrap();
    assert!(
        voice.contains("voice: alloy") && voice.contains("prompt: |-"),
        "{voice}"
    );
    assert!(repo.path().join("agents/helper.yaml").is_file());
    repo.run(&["plan", "--detailed-exitcode"]).expect_success();

    // One target only; --dir needs one target.
    let run = repo.run(&["export", "--dir", "elsewhere"]);
    run.expect_code(1);
    run.expect_stderr_contains("--target");
    repo.run(&[
        "export",
        "--target",
        "voice",
        "--dir",
        "elsewhere",
        "--force",
    ])
    .expect_success();
    assert!(repo.path().join("elsewhere/caller.yaml").is_file());
    assert!(!repo.path().join("elsewhere/helper.yaml").exists());
}

/// A definition that takes its secrets, and one value that is no secret by name, from the
/// environment: whole values, a value inside a longer string, and the same secret twice.
const FROM_ENV: &str = "kind: agent\nkey: vault\nname: Vault\ndescription: \"Calls ${env:QA_BASE}\"\nflow:\n  mode: chat\n  flow_variables:\n    API_KEY: ${env:QA_S1}\n    BASE: ${env:QA_BASE}\n  graph:\n    nodes:\n      - id: http\n        data:\n          headers:\n            - {name: Authorization, value: \"Bearer ${env:QA_S1}\"}\n          note: \"the key is ${env:QA_S1}, keep it\"\n";

const QA_ENV: &[(&str, &str)] = &[
    ("QA_S1", "sk-qa-secret-7f3a91"),
    ("QA_BASE", "https://internal.example.net/api"),
];

#[test]
fn an_export_over_definitions_keeps_their_environment_references() {
    let repo = Repo::new();
    repo.write("agents/vault.yaml", FROM_ENV);
    repo.run_with_env(&["apply", "--yes"], QA_ENV)
        .expect_success();

    let run = repo.run_with_env(&["export", "--force"], QA_ENV);
    run.expect_success();
    let text = std::fs::read_to_string(repo.path().join("agents/vault.yaml")).unwrap();
    for (_, value) in QA_ENV {
        assert!(
            !text.contains(value) && !run.stdout.contains(value) && !run.stderr.contains(value),
            "a value from the environment was written or printed:\n{text}"
        );
    }
    assert!(
        text.contains("API_KEY: ${env:QA_S1}") && text.contains("Bearer ${env:QA_S1}"),
        "{text}"
    );
    assert!(text.contains("${env:QA_BASE}"), "{text}");
    assert!(!text.contains("VAULT_"), "no new variable names: {text}");
    let plan = repo.run_with_env(&["plan", "--detailed-exitcode"], QA_ENV);
    plan.expect_success();
    plan.expect_stdout_contains("No changes.");
}
