//! `status` through the real binary against the simulator: each agent's line says whether it is
//! in sync, whether its draft is ahead of live, and its live version.

use crate::fixture;
use crate::fixture::PlatformFixture;

use fixture::workfx::Workfx;
use fixture::{Repo, minimal, with_flow};
use serde_json::{Value, json};

fn row<'a>(status: &'a Value, key: &str) -> &'a Value {
    status["targets"][0]["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["key"] == key))
        .unwrap_or_else(|| panic!("no row for {key}: {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_drift_per_agent() {
    let repo = Repo::new();
    repo.write("agents/synced.yaml", &with_flow("synced", "hello"));
    repo.write("agents/ahead.yaml", &with_flow("ahead", "hello"));
    repo.write("agents/changed.yaml", &with_flow("changed", "hello"));
    repo.write(
        "agents/drafted.yaml",
        &(with_flow("drafted", "hello").replace("kind: agent\n", "kind: agent\npublish: false\n")),
    );
    repo.write("agents/gone.yaml", &minimal("gone"));
    let platform = Workfx::applied(&repo).await;

    // On the platform: a draft edited by hand; a definition changed in the repository; a file
    // removed; a definition not applied yet; an agent made by hand.
    let ahead = platform.agent("ahead").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    platform
        .write_draft(&ahead, json!({"mode": "chat", "graph": {"nodes": []}}))
        .await;
    repo.write("agents/changed.yaml", &with_flow("changed", "goodbye"));
    repo.remove("agents/gone.yaml");
    repo.write("agents/new.yaml", &minimal("new"));
    platform.create(json!({"name": "Hand Made"})).await;
    platform.reset();

    let run = platform.run(&repo, &["status", "--output", "json"]).await;
    run.expect_success();
    assert_eq!(platform.requests().writes, 0, "status writes nothing");
    let status: Value = run.json();
    assert_eq!(status["format_version"], 1);

    let synced = row(&status, "synced");
    assert_eq!(synced["sync"], "in-sync");
    assert_eq!(synced["draft"], "same-as-live");
    assert_eq!(synced["live_version"], "1");
    assert_eq!(synced["id"], platform.agent("synced").await["id"]);

    let ahead = row(&status, "ahead");
    assert_eq!(ahead["sync"], "differs");
    assert_eq!(ahead["draft"], "ahead-of-live");
    assert_eq!(ahead["actions"], json!(["update-draft"]));

    let changed = row(&status, "changed");
    assert_eq!(changed["sync"], "differs");
    assert_eq!(changed["draft"], "same-as-live");
    assert_eq!(changed["actions"], json!(["update-draft", "publish"]));

    let drafted = row(&status, "drafted");
    assert_eq!(drafted["sync"], "in-sync");
    assert_eq!(drafted["draft"], "unpublished");
    assert_eq!(drafted["live_version"], Value::Null);

    assert_eq!(row(&status, "gone")["sync"], "not-in-repository");
    let new = row(&status, "new");
    assert_eq!(new["sync"], "not-created");
    assert_eq!(new["id"], Value::Null);
    assert_eq!(status["targets"][0]["unmanaged"], 1);

    let table = platform.run(&repo, &["status"]).await;
    table.expect_success();
    // Ids keep their width under the snapshot filters, so the columns stay as printed.
    fixture::snapshot!(table.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_definition_is_reported_not_fatal() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let platform = Workfx::applied(&repo).await;
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: [not, a, string]\n",
    );
    let run = platform.run(&repo, &["status", "--output", "json"]).await;
    run.expect_success();
    let status: Value = run.json();
    assert_eq!(row(&status, "a")["sync"], "invalid-definition");
}
