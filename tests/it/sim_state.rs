//! The state file: kept across restarts, written atomically, refused (and left alone) when it
//! cannot be used.

use crate::sim_support;

use std::path::{Path, PathBuf};

use agentsync::sim::{SimError, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sim_support::start_with;

fn with_state(path: &Path) -> SimOptions {
    SimOptions {
        state_file: Some(path.to_path_buf()),
        ..SimOptions::loopback()
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the state file is readable"))
        .expect("the state file is JSON")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the directory is readable")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn a_restart_on_the_same_state_file_keeps_agents_drafts_and_versions() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");

    let sim = start_with(with_state(&path)).await;
    let id = sim
        .create_agent(&json!({ "name": "Kept", "tags": ["a"], "extend_properties": { "k": 1 } }))
        .await;
    sim.post(
        &format!("/agents/{id}/flows"),
        &json!({ "graph": { "v": 1 } }),
    )
    .await;
    sim.send(Method::POST, &format!("/agents/{id}/flows/publish"), None)
        .await;
    let before = sim.get(&format!("/agents/{id}")).await.body;
    let versions_before = sim.get(&format!("/agents/{id}/flows")).await.body;
    sim.sim.shutdown().await.expect("the simulator stops");

    let again = start_with(with_state(&path)).await;
    assert_eq!(again.get(&format!("/agents/{id}")).await.body, before);
    assert_eq!(
        again.get(&format!("/agents/{id}/flows")).await.body,
        versions_before
    );
    let second = again.create_agent(&json!({ "name": "Second" })).await;
    let listed = again.get("/agents").await.body;
    assert_eq!(
        listed["data"][0]["id"],
        second.as_str(),
        "creation order survives a restart"
    );
}

#[tokio::test]
async fn a_missing_state_file_means_empty_state_and_is_created_by_the_first_change() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let sim = start_with(with_state(&path)).await;
    assert_eq!(sim.get("/agents").await.body["total_count"], 0);
    assert!(!path.exists(), "reading changes nothing");

    sim.create_agent(&json!({ "name": "A" })).await;
    let saved = read_json(&path);
    assert_eq!(saved["format_version"], 1);
    assert_eq!(saved["platform"], "workfx");
    assert_eq!(
        saved["state"]["agents"].as_object().map(|a| a.len()),
        Some(1)
    );
    assert_eq!(
        entries(dir.path()),
        vec![path.clone()],
        "no temporary file is left behind"
    );
}

#[tokio::test]
async fn a_refused_request_does_not_touch_the_state_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let sim = start_with(with_state(&path)).await;
    sim.create_agent(&json!({ "name": "A" })).await;
    let before = std::fs::read(&path).expect("saved");
    let refused = sim.post("/agents", &json!({ "nom": "B" })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(std::fs::read(&path).expect("still there"), before);
}

async fn refused(path: &Path) -> SimError {
    match agentsync::sim::start(with_state(path)).await {
        Ok(_) => panic!("the simulator must refuse {}", path.display()),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_corrupt_state_file_is_refused_with_its_name_and_left_untouched() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    std::fs::write(&path, "{\"format_version\": 1, \"platform\": \"workf").expect("written");
    let err = refused(&path).await;
    assert!(matches!(err, SimError::StateParse { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("move it aside"), "{message}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("still there"),
        "{\"format_version\": 1, \"platform\": \"workf"
    );
}

#[tokio::test]
async fn a_state_file_of_another_format_version_or_platform_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    for content in [
        json!({ "format_version": 2, "platform": "workfx", "state": {} }),
        json!({ "platform": "workfx", "state": {} }),
        json!({ "format_version": 1, "platform": "agent-workflows", "state": {} }),
        json!({ "format_version": 1, "platform": "workfx", "state": { "agents": [1] } }),
    ] {
        let text = content.to_string();
        std::fs::write(&path, &text).expect("written");
        let err = refused(&path).await;
        assert!(
            matches!(
                err,
                SimError::StateInvalid { .. } | SimError::StateParse { .. }
            ),
            "{content}: {err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("still there"), text);
    }
}

#[tokio::test]
async fn an_unreadable_state_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A directory where the file should be: unreadable as a file, whoever runs the test.
    let path = dir.path().join("state.json");
    std::fs::create_dir(&path).expect("created");
    let err = refused(&path).await;
    assert!(matches!(err, SimError::StateRead { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));
    assert!(path.is_dir(), "left as it was");
}

#[tokio::test]
async fn a_state_file_in_a_missing_directory_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("nowhere").join("state.json");
    let err = refused(&path).await;
    assert!(
        matches!(err, SimError::StateDirectoryMissing { .. }),
        "{err:?}"
    );
}

/// Puts a directory where the state file stands, so that saving it fails whoever runs the
/// test (a file cannot replace a directory).
fn block_saving(path: &Path) {
    std::fs::remove_file(path).expect("the state file was saved");
    std::fs::create_dir(path).expect("a directory in its place");
    std::fs::write(path.join("keep"), "").expect("not empty");
}

#[tokio::test]
async fn a_change_whose_save_fails_is_answered_with_a_server_error_that_shows_no_path() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let sim = start_with(with_state(&path)).await;
    sim.create_agent(&json!({ "name": "A" })).await;
    block_saving(&path);
    let failed = sim.post("/agents", &json!({ "name": "B" })).await;
    // As a platform answers: the cause (and the server's paths) go to the simulator's log.
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(failed.body, json!({ "detail": "Internal Server Error" }));
}

#[tokio::test]
async fn a_failed_flush_is_reported_and_the_next_one_saves_what_it_could_not() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let sim = start_with(SimOptions {
        saving: agentsync::sim::Saving::OnFlush,
        ..with_state(&path)
    })
    .await;
    sim.create_agent(&json!({ "name": "A" })).await;
    sim.sim.flush().await.expect("saved");
    block_saving(&path);
    sim.create_agent(&json!({ "name": "B" })).await;
    let err = sim.sim.flush().await.expect_err("the save fails");
    assert!(matches!(err, SimError::StateWrite { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    std::fs::remove_dir_all(&path).expect("the obstacle removed");
    sim.sim.flush().await.expect("saved now");
    let saved = read_json(&path);
    let names: Vec<&str> = saved["state"]["agents"]
        .as_object()
        .expect("agents")
        .values()
        .filter_map(|agent| agent["agent"]["name"].as_str().or(agent["name"].as_str()))
        .collect();
    assert_eq!(names.len(), 2, "both agents are saved: {saved}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_all_saved() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let sim = start_with(with_state(&path)).await;
    let mut creates = tokio::task::JoinSet::new();
    for n in 0..16 {
        let request = sim
            .client
            .post(sim.api("/agents"))
            .json(&json!({ "name": format!("agent {n}") }));
        creates.spawn(async move {
            let created: Value = request.send().await?.json().await?;
            Ok::<_, reqwest::Error>(created["id"].as_str().unwrap_or_default().to_owned())
        });
    }
    let ids: Vec<String> = creates
        .join_all()
        .await
        .into_iter()
        .map(|id| id.expect("created"))
        .collect();
    let saved = read_json(&path);
    let agents = saved["state"]["agents"].as_object().expect("agents");
    assert_eq!(agents.len(), 16);
    for id in ids {
        assert!(agents.contains_key(&id), "{id} was saved");
    }
}
