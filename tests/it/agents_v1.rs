//! Agents v1 through the real binary: what only a platform without markers and without drafts
//! must do (identity through the inventory, unique names, live writes), beyond the shared
//! scenarios (`platforms.rs`).

use serde_json::json;

use crate::fixture::agents_v1::{AgentsV1, INVENTORY, agent};
use crate::fixture::{PlatformFixture, Repo};

const AGENT: &str = "/v1/agents/{id}";

/// `a` and `b` applied, counters zeroed.
async fn applied() -> (Repo, AgentsV1) {
    let repo = AgentsV1::repo(&[("a", agent("a", "one")), ("b", agent("b", "one"))]);
    let platform = AgentsV1::applied(&repo).await;
    (repo, platform)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inventory_records_every_agent_and_is_never_shown_as_one() {
    let (repo, platform) = applied().await;
    let inventory = platform.inventory().await;
    assert_eq!(inventory["agentsync_inventory"], 1);
    let mut keys: Vec<&String> = inventory["agents"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["a", "b"]);
    assert!(inventory.get("pending").is_none(), "{inventory}");
    let holder = platform.inventory_agent().await.unwrap();
    assert_eq!(
        (holder["active"].clone(), holder["mode"].clone()),
        (json!(false), json!("private"))
    );
    let status = platform.run(&repo, &["status"]).await;
    status.expect_success().expect_stdout_lacks(INVENTORY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_plan_reads_the_list_and_each_agent_and_writes_nothing() {
    let (repo, platform) = applied().await;
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
    let requests = platform.requests();
    assert_eq!(platform.count("GET", "/v1/agents"), 1, "{requests:?}");
    // The list carries no prompts: each agent is read, the inventory's holder with them.
    assert_eq!(platform.count("GET", AGENT), 3, "{requests:?}");
    assert_eq!(requests.writes, 0, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_updates_the_agent_in_place() {
    let (repo, platform) = applied().await;
    let before = platform.agent("a").await["id"].clone();
    repo.write(
        "agents/a.yaml",
        &agent("a", "one").replace("name: a agent", "name: Renamed"),
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("a update: done");
    let after = platform.agent("a").await;
    assert_eq!(
        (after["id"].clone(), after["name"].clone()),
        (before, json!("Renamed"))
    );
    assert_eq!(platform.count("POST", "/v1/agents"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_with_one_managed_name_are_refused_naming_both_and_nothing_is_written() {
    let (repo, platform) = applied().await;
    let own = platform.agent("a").await["id"].as_str().unwrap().to_owned();
    let other = platform
        .create(json!({"name": "a agent", "agentArchitecture": "text", "model": "m", "systemPrompt": "x"}))
        .await;
    platform.reset();
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_code(1)
        .expect_stderr_contains(&format!(
            "2 agents on the platform are named \"a agent\" ({own}, {other})"
        ));
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_of_the_same_name_made_by_hand_is_untouched_unless_adopted() {
    let platform = AgentsV1::start().await;
    let id = platform
        .create(json!({"name": "a agent", "agentArchitecture": "text", "model": "m", "systemPrompt": "by hand"}))
        .await;
    let repo = AgentsV1::repo(&[("a", agent("a", "one"))]);
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_code(1)
        .expect_stderr_contains(&format!(
            "an agent named \"a agent\" ({id}) is on the platform, and agentsync does not manage it"
        ));
    assert_eq!(platform.requests().writes, 1, "only the test's own create");
    platform
        .run(&repo, &["apply", "--yes", "--adopt"])
        .await
        .expect_success();
    let adopted = platform.agent("a").await;
    assert_eq!(
        (adopted["id"].as_str(), adopted["systemPrompt"].as_str()),
        (Some(id.as_str()), Some("one"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_inventory_is_refused_with_no_writes_and_adopt_takes_the_agents_back() {
    let (repo, platform) = applied().await;
    let holder = platform.inventory_agent().await.unwrap();
    platform.delete(holder["id"].as_str().unwrap()).await;
    platform.reset();
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1)
        .expect_stderr_contains("agentsync does not manage it");
    assert_eq!(platform.requests().writes, 0);
    platform
        .run(&repo, &["apply", "--yes", "--adopt"])
        .await
        .expect_success();
    assert_eq!(platform.managed().await.len(), 2);
    assert_eq!(
        platform.count("POST", "/v1/agents"),
        1,
        "the inventory, and no agent again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_inventory_is_refused_with_no_writes() {
    for document in [
        "not json",
        r#"{"agents": {}}"#,
        r#"{"agentsync_inventory": 1, "agents": {"a": {}}}"#,
    ] {
        let (repo, platform) = applied().await;
        let holder = platform.inventory_agent().await.unwrap();
        let id = holder["id"].as_str().unwrap().to_owned();
        platform.patch(&id, json!({"systemPrompt": document})).await;
        platform.reset();
        platform
            .run(&repo, &["apply", "--yes"])
            .await
            .expect_code(1)
            .expect_stderr_contains(&format!(
                "the inventory agentsync keeps on the platform in agent {id} cannot be relied on"
            ));
        assert_eq!(platform.requests().writes, 0, "{document}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_announced_by_a_killed_run_is_taken_back_without_a_duplicate() {
    let (repo, platform) = applied().await;
    // What a run killed between its create and its record leaves: the announcement, and the
    // agent it made.
    let made = platform
        .create(json!({"name": "c agent", "agentArchitecture": "text", "model": "gpt-4o-mini", "systemPrompt": "one", "active": true}))
        .await;
    platform.patch(&made, json!({"active": true})).await;
    let mut document = platform.inventory().await;
    document["pending"] = json!({"c": "c agent"});
    let holder = platform.inventory_agent().await.unwrap();
    platform
        .patch(
            holder["id"].as_str().unwrap(),
            json!({"systemPrompt": document.to_string()}),
        )
        .await;
    repo.write("agents/c.yaml", &agent("c", "one"));
    platform.reset();
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    assert_eq!(platform.count("POST", "/v1/agents"), 0, "no duplicate");
    let inventory = platform.inventory().await;
    assert_eq!(inventory["agents"]["c"]["id"], made.as_str());
    assert!(inventory.get("pending").is_none(), "{inventory}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_platform_cannot_do_is_refused_at_plan_saying_why() {
    let repo = AgentsV1::repo(&[
        ("a", agent("a", "one") + "status: archived\n"),
        ("b", agent("b", "one") + "publish: false\n"),
    ]);
    let platform = AgentsV1::start().await;
    let run = platform.run(&repo, &["plan"]).await;
    run.expect_code(1)
        .expect_stderr_contains(
            "agent 'a': status: archived cannot be honoured: this platform cannot archive agents",
        )
        .expect_stderr_contains(
            "agent 'b': publish: false cannot be honoured: this platform has no drafts",
        );
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_architecture_is_shown_as_impossible_and_never_sent() {
    let (repo, platform) = applied().await;
    repo.write(
        "agents/a.yaml",
        &agent("a", "one").replace(
            "agentArchitecture: text",
            "agentArchitecture: realtime\nrealtimeProvider: openai",
        ),
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("'agentArchitecture' differs from the definition, but the platform sets it at creation only");
    assert_eq!(platform.agent("a").await["agentArchitecture"], "text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_into_a_fresh_checkout_plans_no_changes() {
    let platform = AgentsV1::applied(&AgentsV1::examples()).await;
    let fresh = AgentsV1::repo(&[]);
    platform
        .run(&fresh, &["export"])
        .await
        .expect_success()
        .expect_stdout_contains("Exported 3 agents");
    platform
        .run(&fresh, &["plan", "--detailed-exitcode"])
        .await
        .expect_success()
        .expect_stdout_contains("No changes.");
    assert_eq!(platform.requests().writes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_s_change_to_a_public_agent_is_refused_saying_who_may_and_what_to_do() {
    let member = "member-token-51";
    let platform = AgentsV1::start_with_member(member).await;
    let repo = AgentsV1::repo(&[("a", agent("a", "one") + "mode: public\n")]);
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    repo.write("agents/a.yaml", &(agent("a", "two") + "mode: public\n"));
    let endpoint = platform.endpoint();
    let run = repo
        .command(&["apply", "--yes", "--endpoint", &endpoint])
        .env("AGENTS_TOKEN", member)
        .run_async()
        .await;
    run.expect_code(1)
        .expect_stdout_contains(
            "only org owners and admins may change or delete public and commercial agents",
        )
        .expect_stdout_lacks(member);
    assert_eq!(platform.agent("a").await["systemPrompt"], "one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_declared_in_previous_names_takes_the_agent_of_its_old_name_and_updates_it_in_place()
 {
    let (repo, platform) = applied().await;
    let id = platform.agent("a").await["id"].clone();
    // The inventory is gone, and the definition was renamed meanwhile: only the old name
    // says which agent is its.
    let holder = platform.inventory_agent().await.unwrap();
    platform.delete(holder["id"].as_str().unwrap()).await;
    let renamed =
        agent("a", "one").replace("name: a agent", "name: Alpha\nprevious_names: [a agent]");
    repo.write("agents/a.yaml", &renamed);
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_code(1)
        .expect_stderr_contains(&format!(
            "an agent named \"a agent\" ({})",
            id.as_str().unwrap()
        ));
    platform.reset();
    platform
        .run(&repo, &["apply", "--yes", "--adopt"])
        .await
        .expect_success();
    let adopted = platform.agent("a").await;
    assert_eq!(
        (adopted["id"].clone(), adopted["name"].clone()),
        (id, json!("Alpha"))
    );
    assert_eq!(
        platform.count("POST", "/v1/agents"),
        1,
        "the inventory only: no agent made anew"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_at_any_point_is_finished_by_the_next_one_with_no_duplicate_and_no_orphan()
{
    use agentsync::sim::Faults;
    use std::time::Duration;
    // The examples take 13 writes: the inventory's holder, then per agent an announcement, a
    // create, its activation and a record.
    for writes in [1, 2, 3, 4, 5, 7, 9, 11, 12] {
        let repo = AgentsV1::examples();
        let platform = AgentsV1::start().await;
        platform
            .sim
            .set_faults(Faults {
                latency_ms: 20,
                ..Faults::none()
            })
            .expect("valid faults");
        let endpoint = platform.endpoint();
        let mut command = repo
            .command(&["apply", "--yes", "--endpoint", &endpoint])
            .env("AGENTS_TOKEN", crate::fixture::agents_v1::TOKEN)
            .into_std();
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().expect("apply starts");
        crate::safety::eventually(&format!("{writes} writes"), Duration::from_secs(30), || {
            platform.requests().writes >= writes
        })
        .await;
        assert!(
            child.try_wait().expect("apply's status").is_none(),
            "apply ended before {writes} writes"
        );
        child.kill().expect("apply is killed");
        child.wait().expect("the killed apply is reaped");
        platform.sim.set_faults(Faults::none()).expect("no faults");

        platform
            .run(&repo, &["apply", "--yes"])
            .await
            .expect_success();
        let agents = platform.agents().await;
        let inventory = platform.inventory().await;
        let recorded: Vec<&str> = inventory["agents"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(|entry| entry["id"].as_str())
            .collect();
        for agent in agents.iter().filter(|a| a["name"] != INVENTORY) {
            let id = agent["id"].as_str().unwrap();
            assert!(
                recorded.contains(&id),
                "after {writes} writes: {id} is an orphan: {inventory}"
            );
        }
        assert_eq!(
            agents.len(),
            4,
            "after {writes} writes: three agents and the holder: {agents:#?}"
        );
        platform
            .run(&repo, &["plan", "--detailed-exitcode"])
            .await
            .expect_success();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_false_stops_an_agent_answering_and_true_brings_it_back_one_write_each() {
    let (repo, platform) = applied().await;
    for (active, then) in [("false", false), ("true", true)] {
        repo.write(
            "agents/a.yaml",
            &agent("a", "one").replace("active: true", &format!("active: {active}")),
        );
        platform.reset();
        platform
            .run(&repo, &["apply", "--yes"])
            .await
            .expect_success()
            .expect_stdout_contains("a update: done");
        assert_eq!(platform.agent("a").await["active"], then);
        assert_eq!(platform.requests().writes, 1, "active: {active}");
    }
    assert_eq!(platform.agent("b").await["active"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_architecture_s_fields_are_checked_offline_at_the_value_that_needs_them() {
    let repo = AgentsV1::repo(&[(
        "a",
        "kind: agent\nkey: a\nname: A\nagentArchitecture: pipeline\nmodel: gpt-4o\nsystemPrompt: hi\n"
            .to_owned(),
    )]);
    let run = repo.run(&["validate"]);
    run.expect_code(1)
        .expect_stderr_contains("missing field 'stt', which agentArchitecture 'pipeline' requires")
        .expect_stderr_contains("missing field 'tts', which agentArchitecture 'pipeline' requires")
        .expect_stderr_contains("agents/a.yaml:4:");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_applied_as_planned_and_refused_once_the_platform_moved() {
    let (repo, platform) = applied().await;
    repo.write("agents/a.yaml", &agent("a", "two"));
    platform
        .run(&repo, &["plan", "--out", "plan.json"])
        .await
        .expect_success();
    platform
        .run(&repo, &["apply", "plan.json", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("a update: done");
    repo.write("agents/a.yaml", &agent("a", "three"));
    platform
        .run(&repo, &["plan", "--out", "plan.json"])
        .await
        .expect_success();
    let id = platform.agent("a").await["id"].as_str().unwrap().to_owned();
    platform.patch(&id, json!({"systemPrompt": "moved"})).await;
    platform
        .run(&repo, &["apply", "plan.json", "--yes"])
        .await
        .expect_code(1)
        .expect_stderr_contains("stale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_deletes_only_what_the_inventory_records() {
    let (repo, platform) = applied().await;
    let stranger = platform
        .create(json!({"name": "someone else's", "agentArchitecture": "text", "model": "m", "systemPrompt": "x"}))
        .await;
    repo.remove("agents/b.yaml");
    repo.write(
        "agentsync.yaml",
        &format!("{}prune: delete\n", AgentsV1::CONFIG),
    );
    platform.reset();
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success()
        .expect_stdout_contains("b delete: done");
    assert_eq!(platform.count("DELETE", AGENT), 1);
    let names: Vec<String> = platform
        .agents()
        .await
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains(&"someone else's".to_owned()),
        "{names:?} ({stranger} kept)"
    );
    assert!(!names.contains(&"b agent".to_owned()), "{names:?}");
    assert!(platform.inventory().await["agents"].get("b").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clones_applied_at_once_end_with_one_agent_per_key_and_every_agent_recorded() {
    use agentsync::sim::Faults;
    let keys: Vec<String> = (0..6).map(|i| format!("racer-{i}")).collect();
    // Each clone has its own `.agentsync/`, so no run lock keeps them apart.
    let clones = [Repo::new(), Repo::new()].map(|repo| {
        repo.write("agentsync.yaml", AgentsV1::CONFIG);
        for key in &keys {
            repo.write(&format!("agents/{key}.yaml"), &agent(key, "one"));
        }
        repo
    });
    let platform = AgentsV1::start().await;
    // The inventory exists already (an earlier apply made it), as it does but on a first run.
    let seed = AgentsV1::repo(&[("seed", agent("seed", "one"))]);
    platform
        .run(&seed, &["apply", "--yes"])
        .await
        .expect_success();
    for clone in &clones {
        clone.write("agents/seed.yaml", &agent("seed", "one"));
    }
    platform
        .sim
        .set_faults(Faults {
            latency_ms: 20,
            ..Faults::none()
        })
        .expect("valid faults");
    let (a, b) = tokio::join!(
        platform.run(&clones[0], &["apply", "--yes"]),
        platform.run(&clones[1], &["apply", "--yes"])
    );
    platform.sim.set_faults(Faults::none()).expect("no faults");
    a.expect_success();
    b.expect_success();
    let agents = platform.agents().await;
    for key in &keys {
        let named = agents
            .iter()
            .filter(|a| a["name"] == format!("{key} agent"))
            .count();
        assert_eq!(named, 1, "{key}: {agents:#?}");
    }
    assert!(
        platform.count("DELETE", AGENT) > 0,
        "no twin was made: the runs did not race"
    );
    // A record lost to the other run's write is a refusal naming the agent, never a
    // duplicate; `--adopt` records it again. Then both clones plan nothing.
    platform
        .run(&clones[0], &["apply", "--yes", "--adopt"])
        .await
        .expect_success();
    for clone in &clones {
        platform
            .run(clone, &["plan", "--detailed-exitcode"])
            .await
            .expect_success();
    }
    assert_eq!(platform.managed().await.len(), keys.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_followed_page_by_page_and_a_list_that_cannot_be_believed_stops_the_run() {
    use agentsync::sim::{Faults, ListShape};
    let (repo, platform) = applied().await;
    for i in 0..150 {
        platform
            .create(json!({"name": format!("other {i}"), "agentArchitecture": "text", "model": "m", "systemPrompt": "x"}))
            .await;
    }
    platform.reset();
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
    // 153 agents (the holder among them): two pages of 100.
    assert_eq!(platform.count("GET", "/v1/agents"), 2);
    for shape in [
        ListShape::NoPagingFields,
        ListShape::NoItems,
        ListShape::EndsEarly,
        ListShape::Repeats,
    ] {
        platform
            .sim
            .set_faults(Faults {
                agent_list: shape,
                ..Faults::none()
            })
            .expect("valid faults");
        platform.reset();
        platform
            .run(&repo, &["apply", "--yes"])
            .await
            .expect_code(1)
            .expect_stderr_contains("cannot be relied on");
        assert_eq!(platform.requests().writes, 0, "{shape:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_plan_format_and_the_schema_speak_for_the_platform() {
    let (repo, platform) = applied().await;
    repo.write("agents/a.yaml", &agent("a", "two"));
    let json = platform.run(&repo, &["plan", "--output", "json"]).await;
    let plan = json.expect_success().json();
    let change = &plan["changes"][0];
    assert_eq!(
        (change["key"].clone(), change["actions"][0]["kind"].clone()),
        (json!("a"), json!("update"))
    );
    assert!(
        plan.to_string().contains("live the moment it is applied"),
        "{plan}"
    );
    platform
        .run(&repo, &["plan", "--output", "markdown"])
        .await
        .expect_success()
        .expect_stdout_contains("live the moment it is applied")
        .expect_stdout_contains("systemPrompt");
    let schema = repo.run(&["schema", "--provider", "agents-v1"]);
    let schema = schema.expect_success().json();
    assert_eq!(
        schema["properties"]["agentArchitecture"]["enum"],
        json!(["pipeline", "realtime", "text"])
    );
    assert!(
        schema["allOf"].to_string().contains("realtimeProvider"),
        "{schema}"
    );
}
