//! The Agent Workflows simulator over real HTTP: workflows, drafts and versions, validation,
//! list filters, status and folders, FastAPI-style errors, auth, the state file and the
//! request counters, as `docs/agent-workflows-contract.md` describes them.

use crate::sim_support;

use std::time::{Duration, UNIX_EPOCH};

use agentsync::sim::{Clock, Faults, Platform, SimError, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sim_support::{Answer, Sim, issues, pair, start_with};

fn options() -> SimOptions {
    SimOptions {
        platform: Platform::AgentWorkflows,
        ..SimOptions::loopback()
    }
}

async fn start() -> Sim {
    start_with(options()).await
}

/// A definition every rule accepts: start -> agent -> transfer, with two trigger paths.
fn valid(prompt: &str) -> Value {
    json!({
        "nodes": [
            { "id": "start", "type": "start", "data": { "trigger_path": "/inbound" } },
            { "id": "greet", "type": "agent", "data": { "prompt": prompt } },
            { "id": "human", "type": "transfer", "data": { "phone_number": "+15550100", "trigger_path": "/escalate" } },
        ],
        "edges": [
            { "id": "e1", "source": "start", "target": "greet" },
            { "id": "e2", "source": "greet", "target": "human" },
        ],
    })
}

/// Creates a workflow and answers its id.
async fn create(sim: &Sim, name: &str, definition: Value) -> u64 {
    let created = sim
        .post(
            "/workflow/create/definition",
            &json!({ "name": name, "definition": definition }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    created.body["id"].as_u64().expect("an integer id")
}

async fn get(sim: &Sim, id: u64) -> Value {
    let answer = sim.get(&format!("/workflow/fetch/{id}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body
}

/// A POST without a body (create-draft, publish, validate, duplicate).
async fn post_empty(sim: &Sim, path: &str) -> Answer {
    sim.send(Method::POST, path, None).await
}

async fn publish(sim: &Sim, id: u64) -> Answer {
    post_empty(sim, &format!("/workflow/{id}/publish")).await
}

async fn create_draft(sim: &Sim, id: u64) -> Answer {
    post_empty(sim, &format!("/workflow/{id}/create-draft")).await
}

fn keys(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn ids(listed: &Value) -> Vec<u64> {
    listed["workflows"]
        .as_array()
        .expect("workflows is a list")
        .iter()
        .filter_map(|workflow| workflow["id"].as_u64())
        .collect()
}

// ---- create and read ----

#[tokio::test]
async fn a_created_workflow_has_its_definition_as_the_open_draft_and_no_live_version() {
    let start_time = UNIX_EPOCH + Duration::from_secs(1_777_629_600);
    let sim = start_with(SimOptions {
        clock: Clock::stepping(start_time, Duration::from_secs(1)),
        ..options()
    })
    .await;
    let created = sim
        .post(
            "/workflow/create/definition",
            &json!({
                "name": "Support Agent",
                "definition": valid("Hello"),
                "configuration": { "agentsync": { "key": "support" }, "voice": { "speed": 1.1 } },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let workflow = &created.body;
    assert_eq!(
        keys(workflow),
        [
            "id",
            "uuid",
            "name",
            "status",
            "folder_id",
            "created_at",
            "updated_at",
            "node_count",
            "definition",
            "draft_definition",
            "published_version",
            "configuration",
            "trigger_paths",
        ]
    );
    assert_eq!(workflow["id"], 1);
    assert!(uuid::Uuid::parse_str(workflow["uuid"].as_str().unwrap_or_default()).is_ok());
    assert_eq!(workflow["name"], "Support Agent");
    assert_eq!(workflow["status"], "active");
    assert_eq!(workflow["folder_id"], Value::Null);
    assert_eq!(workflow["created_at"], "2026-05-01T10:00:00Z");
    assert_eq!(workflow["updated_at"], workflow["created_at"]);
    assert_eq!(workflow["definition"], Value::Null, "nothing is live yet");
    assert_eq!(workflow["published_version"], Value::Null);
    assert_eq!(workflow["draft_definition"], valid("Hello"));
    assert_eq!(workflow["node_count"], 3);
    assert_eq!(workflow["trigger_paths"], json!(["/inbound", "/escalate"]));
    assert_eq!(
        workflow["configuration"],
        json!({ "agentsync": { "key": "support" }, "voice": { "speed": 1.1 } })
    );

    assert_eq!(get(&sim, 1).await, created.body);
    let second = create(&sim, "Second", json!({})).await;
    assert_eq!(second, 2, "ids count up from 1");
    assert_eq!(get(&sim, second).await["configuration"], json!({}));
}

// ---- update ----

#[tokio::test]
async fn an_update_with_a_draft_open_replaces_the_draft_and_sets_name_and_configuration_at_once() {
    let sim = start().await;
    let id = create(&sim, "A", valid("v1")).await;
    sim.put(
        &format!("/workflow/{id}"),
        &json!({ "configuration": { "a": 1, "b": 2 } }),
    )
    .await;
    let updated = sim
        .put(
            &format!("/workflow/{id}"),
            &json!({ "name": "B", "definition": valid("v2"), "configuration": { "a": 3 } }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    let workflow = get(&sim, id).await;
    assert_eq!(updated.body, workflow);
    assert_eq!(workflow["name"], "B");
    assert_eq!(workflow["draft_definition"], valid("v2"));
    assert_eq!(
        workflow["configuration"],
        json!({ "a": 3 }),
        "replaced whole, not merged"
    );
    assert_eq!(workflow["published_version"], Value::Null);
}

#[tokio::test]
async fn an_update_of_the_definition_with_no_draft_open_is_a_409_and_changes_nothing() {
    let sim = start().await;
    let id = create(&sim, "A", valid("v1")).await;
    assert_eq!(publish(&sim, id).await.status, StatusCode::OK);
    let before = get(&sim, id).await;

    let refused = sim
        .put(
            &format!("/workflow/{id}"),
            &json!({ "name": "B", "definition": valid("v2"), "configuration": { "x": 1 } }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body["detail"].is_string(), "{:?}", refused.body);
    assert_eq!(get(&sim, id).await, before, "not even the name changed");

    let renamed = sim
        .put(&format!("/workflow/{id}"), &json!({ "name": "B" }))
        .await;
    assert_eq!(
        renamed.status,
        StatusCode::OK,
        "no draft is needed for a name"
    );
    assert_eq!(renamed.body["name"], "B");
    assert_eq!(renamed.body["draft_definition"], Value::Null);
}

// ---- drafts, publishing, versions ----

#[tokio::test]
async fn a_create_draft_and_publish_cycle_numbers_versions_1_and_2_and_closes_the_draft() {
    let sim = start().await;
    let id = create(&sim, "A", valid("v1")).await;

    let first = publish(&sim, id).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["published_version"], 1);
    assert_eq!(first.body["definition"], valid("v1"));
    assert_eq!(first.body["draft_definition"], Value::Null);
    assert_eq!(first.body, get(&sim, id).await);

    let again = publish(&sim, id).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "no draft to publish");

    let drafted = create_draft(&sim, id).await;
    assert_eq!(drafted.status, StatusCode::OK);
    assert_eq!(drafted.body["draft_definition"], valid("v1"));
    assert_eq!(drafted.body["published_version"], 1);
    let twice = create_draft(&sim, id).await;
    assert_eq!(
        twice.status,
        StatusCode::CONFLICT,
        "a draft is already open"
    );
    assert!(twice.body["detail"].is_string());

    sim.put(
        &format!("/workflow/{id}"),
        &json!({ "definition": valid("v2") }),
    )
    .await;
    assert_eq!(
        get(&sim, id).await["definition"],
        valid("v1"),
        "live is untouched"
    );
    let second = publish(&sim, id).await;
    assert_eq!(second.body["published_version"], 2);
    assert_eq!(second.body["definition"], valid("v2"));
    assert_eq!(second.body["draft_definition"], Value::Null);
}

#[tokio::test]
async fn versions_are_listed_newest_first_with_limit_and_offset() {
    let sim = start().await;
    let id = create(&sim, "A", valid("v1")).await;
    let versions = format!("/workflow/{id}/versions");
    assert_eq!(
        sim.get(&versions).await.body,
        json!({ "versions": [], "total": 0 }),
        "the draft is not a version"
    );
    publish(&sim, id).await;
    for prompt in ["v2", "v3"] {
        create_draft(&sim, id).await;
        sim.put(
            &format!("/workflow/{id}"),
            &json!({ "definition": valid(prompt) }),
        )
        .await;
        publish(&sim, id).await;
    }
    create_draft(&sim, id).await;

    let numbers = |answer: &Answer| -> Vec<u64> {
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body["versions"]
            .as_array()
            .expect("versions is a list")
            .iter()
            .filter_map(|version| version["version"].as_u64())
            .collect()
    };
    let all = sim.get(&versions).await;
    assert_eq!(numbers(&all), [3, 2, 1]);
    assert_eq!(all.body["total"], 3);
    let newest = &all.body["versions"][0];
    assert_eq!(
        keys(newest),
        [
            "version",
            "created_at",
            "author",
            "is_published",
            "definition"
        ]
    );
    assert_eq!(newest["definition"], valid("v3"));
    assert!(newest["author"].is_string());
    let published: Vec<bool> = all.body["versions"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|version| version["is_published"] == true)
        .collect();
    assert_eq!(published, [true, false, false]);

    assert_eq!(
        numbers(&sim.get(&format!("{versions}?limit=2")).await),
        [3, 2]
    );
    let window = sim.get(&format!("{versions}?limit=1&offset=1")).await;
    assert_eq!(numbers(&window), [2]);
    assert_eq!(window.body["total"], 3, "the total counts every version");
    assert_eq!(
        numbers(&sim.get(&format!("{versions}?offset=3")).await),
        Vec::<u64>::new()
    );
    assert_eq!(
        numbers(&sim.get(&format!("{versions}?limit=100&offset=0")).await),
        [3, 2, 1]
    );

    let cases = [
        ("limit=0", pair("query.limit", "greater_than_equal")),
        ("limit=101", pair("query.limit", "less_than_equal")),
        ("limit=ten", pair("query.limit", "int_parsing")),
        ("offset=-1", pair("query.offset", "greater_than_equal")),
        ("page=2", pair("query.page", "extra_forbidden")),
    ];
    for (query, expected) in cases {
        let answer = sim.get(&format!("{versions}?{query}")).await;
        assert_eq!(issues(&answer), vec![expected], "{query}");
    }
}

#[tokio::test]
async fn publishing_an_invalid_draft_is_a_400_with_the_errors_and_changes_nothing() {
    let sim = start().await;
    let id = create(&sim, "A", valid("v1")).await;
    publish(&sim, id).await;
    create_draft(&sim, id).await;
    sim.put(
        &format!("/workflow/{id}"),
        &json!({ "definition": valid("") }),
    )
    .await;
    let before = get(&sim, id).await;

    let refused = publish(&sim, id).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body,
        json!({
            "is_valid": false,
            "errors": [{ "kind": "node", "id": "greet", "field": "data.prompt", "message": "Prompt is required" }],
        })
    );
    let validated = post_empty(&sim, &format!("/workflow/{id}/validate")).await;
    assert_eq!(
        validated.body, refused.body,
        "the same report as validate's"
    );
    assert_eq!(get(&sim, id).await, before);
    assert_eq!(
        sim.get(&format!("/workflow/{id}/versions")).await.body["total"],
        1
    );
}

/// One broken thing per case, and the errors (kind, id, field) it must give.
#[tokio::test]
async fn validation_reports_each_rule_of_the_contract() {
    type Expected = Vec<(&'static str, Option<&'static str>, &'static str)>;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut definition = valid("Hello");
        change(&mut definition);
        definition
    };
    let cases: Vec<(&str, Value, Expected)> = vec![
        ("valid", valid("Hello"), vec![]),
        (
            "no nodes list",
            with(&|d| d["nodes"] = json!("start")),
            // Without nodes there is no start node, and the edges join nothing.
            vec![
                ("workflow", None, "nodes"),
                ("workflow", None, "nodes"),
                ("edge", Some("e1"), "source"),
                ("edge", Some("e1"), "target"),
                ("edge", Some("e2"), "source"),
                ("edge", Some("e2"), "target"),
            ],
        ),
        (
            "no edges list",
            with(&|d| {
                if let Some(object) = d.as_object_mut() {
                    object.remove("edges");
                }
            }),
            vec![("workflow", None, "edges")],
        ),
        (
            "a node without an id",
            with(&|d| d["nodes"][2]["id"] = json!("")),
            vec![("node", None, "id"), ("edge", Some("e2"), "target")],
        ),
        (
            "two nodes with one id",
            with(&|d| d["nodes"][2]["id"] = json!("greet")),
            vec![
                ("node", Some("greet"), "id"),
                ("edge", Some("e2"), "target"),
            ],
        ),
        (
            "an unknown node type",
            with(&|d| d["nodes"][1]["type"] = json!("llm")),
            vec![("node", Some("greet"), "type")],
        ),
        (
            "an agent without a prompt",
            with(&|d| d["nodes"][1]["data"] = json!({})),
            vec![("node", Some("greet"), "data.prompt")],
        ),
        (
            "a transfer without a phone number",
            with(&|d| d["nodes"][2]["data"]["phone_number"] = json!("")),
            vec![("node", Some("human"), "data.phone_number")],
        ),
        (
            "no start node",
            with(&|d| d["nodes"][0]["type"] = json!("end")),
            vec![("workflow", None, "nodes")],
        ),
        (
            "two start nodes",
            with(&|d| d["nodes"][2]["type"] = json!("start")),
            vec![("workflow", None, "nodes")],
        ),
        (
            "an edge from nowhere",
            with(&|d| d["edges"][0]["source"] = json!("ghost")),
            vec![("edge", Some("e1"), "source")],
        ),
        (
            "an edge without an id, to nowhere",
            with(&|d| d["edges"][1] = json!({ "source": "greet", "target": "ghost" })),
            vec![("edge", None, "target")],
        ),
        (
            "a trigger path used twice",
            with(&|d| d["nodes"][2]["data"]["trigger_path"] = json!("/inbound")),
            vec![("trigger", Some("human"), "data.trigger_path")],
        ),
    ];
    let sim = start().await;
    for (case, definition, expected) in cases {
        let id = create(&sim, case, definition).await;
        let answer = post_empty(&sim, &format!("/workflow/{id}/validate")).await;
        assert_eq!(answer.status, StatusCode::OK, "{case}");
        let errors = answer.body["errors"].as_array().expect("errors is a list");
        let found: Vec<(&str, Option<&str>, &str)> = errors
            .iter()
            .map(|error| {
                assert_eq!(keys(error), ["kind", "id", "field", "message"], "{case}");
                assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
                (
                    error["kind"].as_str().unwrap_or_default(),
                    error["id"].as_str(),
                    error["field"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(found, expected, "{case}");
        assert_eq!(answer.body["is_valid"], expected.is_empty(), "{case}");
    }
}

#[tokio::test]
async fn validation_checks_the_live_definition_when_no_draft_is_open_and_changes_nothing() {
    let sim = start().await;
    let id = create(&sim, "A", valid("v1")).await;
    publish(&sim, id).await;
    let before = get(&sim, id).await;
    sim.sim.reset_requests();
    let answer = post_empty(&sim, &format!("/workflow/{id}/validate")).await;
    assert_eq!(answer.body, json!({ "is_valid": true, "errors": [] }));
    assert_eq!(get(&sim, id).await, before);
    assert_eq!(sim.sim.requests().writes, 0);
}

// ---- list, status, folders ----

#[tokio::test]
async fn the_list_filters_by_status_and_refuses_an_unknown_one() {
    let sim = start().await;
    for name in ["a", "b", "c"] {
        create(&sim, name, valid("x")).await;
    }
    sim.put("/workflow/2/status", &json!({ "status": "archived" }))
        .await;

    let active = sim.get("/workflow/fetch").await.body;
    assert_eq!(ids(&active), [1, 3], "active by default, by id");
    assert_eq!(
        keys(&active["workflows"][0]),
        [
            "id",
            "name",
            "uuid",
            "status",
            "folder_id",
            "created_at",
            "updated_at",
            "node_count"
        ],
        "no configuration, no definition"
    );
    assert_eq!(
        ids(&sim.get("/workflow/fetch?status=active").await.body),
        [1, 3]
    );
    assert_eq!(
        ids(&sim.get("/workflow/fetch?status=archived").await.body),
        [2]
    );
    assert_eq!(
        ids(&sim.get("/workflow/fetch?status=all").await.body),
        [1, 2, 3]
    );

    let bad = sim.get("/workflow/fetch?status=deleted").await;
    assert_eq!(issues(&bad), vec![pair("query.status", "enum")]);
    assert_eq!(
        bad.body["detail"][0]["msg"],
        "Input should be 'active', 'archived' or 'all'"
    );
}

#[tokio::test]
async fn a_status_change_archives_and_restores_without_publishing() {
    let sim = start().await;
    let id = create(&sim, "A", valid("x")).await;
    let status = format!("/workflow/{id}/status");
    let archived = sim.put(&status, &json!({ "status": "archived" })).await;
    assert_eq!(archived.status, StatusCode::OK);
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(archived.body["published_version"], Value::Null);
    assert_eq!(archived.body["draft_definition"], valid("x"));
    let restored = sim.put(&status, &json!({ "status": "active" })).await;
    assert_eq!(restored.body["status"], "active");
    assert_eq!(restored.body, get(&sim, id).await);

    let bad = sim.put(&status, &json!({ "status": "published" })).await;
    assert_eq!(issues(&bad), vec![pair("body.status", "enum")]);
    let missing = sim.put(&status, &json!({})).await;
    assert_eq!(issues(&missing), vec![pair("body.status", "missing")]);
}

#[tokio::test]
async fn a_workflow_moves_into_a_folder_and_back_to_uncategorized_with_null() {
    let sim = start().await;
    let id = create(&sim, "A", valid("x")).await;
    let folder = format!("/workflow/{id}/folder");
    let moved = sim.put(&folder, &json!({ "folder_id": 5 })).await;
    assert_eq!(moved.status, StatusCode::OK);
    assert_eq!(moved.body["folder_id"], 5);
    assert_eq!(
        sim.get("/workflow/fetch").await.body["workflows"][0]["folder_id"],
        5
    );
    let back = sim.put(&folder, &json!({ "folder_id": null })).await;
    assert_eq!(back.body["folder_id"], Value::Null);

    for (body, expected) in [
        (
            json!({ "folder_id": 0 }),
            pair("body.folder_id", "greater_than"),
        ),
        (
            json!({ "folder_id": "5" }),
            pair("body.folder_id", "int_type"),
        ),
        (
            json!({ "folder_id": 1.5 }),
            pair("body.folder_id", "int_type"),
        ),
        (json!({}), pair("body.folder_id", "missing")),
    ] {
        let answer = sim.put(&folder, &body).await;
        assert_eq!(issues(&answer), vec![expected], "{body}");
    }
    assert_eq!(get(&sim, id).await["folder_id"], Value::Null);
}

// ---- count, summary, duplicate, the rest ----

#[tokio::test]
async fn count_and_summary_follow_the_statuses() {
    let sim = start().await;
    for name in ["a", "b", "c"] {
        create(&sim, name, valid("x")).await;
    }
    sim.put("/workflow/3/status", &json!({ "status": "archived" }))
        .await;
    assert_eq!(
        sim.get("/workflow/count").await.body,
        json!({ "active": 2, "archived": 1, "total": 3 })
    );
    assert_eq!(
        sim.get("/workflow/summary").await.body,
        json!({ "workflows": [{ "id": 1, "name": "a" }, { "id": 2, "name": "b" }] })
    );
    assert_eq!(
        ids(&sim.get("/workflow/summary?status=all").await.body),
        [1, 2, 3]
    );
}

#[tokio::test]
async fn duplicating_copies_the_definition_and_configuration_under_a_new_id() {
    let sim = start().await;
    let id = create(&sim, "Original", valid("v1")).await;
    sim.put(
        &format!("/workflow/{id}"),
        &json!({ "configuration": { "voice": "calm" } }),
    )
    .await;
    sim.put(
        &format!("/workflow/{id}/folder"),
        &json!({ "folder_id": 9 }),
    )
    .await;
    publish(&sim, id).await;

    let duplicated = post_empty(&sim, &format!("/workflow/{id}/duplicate")).await;
    assert_eq!(duplicated.status, StatusCode::OK);
    assert_eq!(duplicated.body, json!({ "workflow_id": 2 }));
    let copy = get(&sim, 2).await;
    assert_eq!(copy["name"], "Original (copy)");
    assert_eq!(copy["status"], "active");
    assert_eq!(copy["folder_id"], 9);
    assert_eq!(copy["configuration"], json!({ "voice": "calm" }));
    assert_eq!(copy["draft_definition"], valid("v1"));
    assert_eq!(copy["published_version"], Value::Null);
    assert_ne!(copy["uuid"], get(&sim, id).await["uuid"]);
}

#[tokio::test]
async fn the_documented_endpoints_it_does_not_simulate_answer_501_with_a_detail() {
    let sim = start().await;
    for (method, path) in [
        (Method::GET, "/workflow/templates"),
        (Method::POST, "/workflow/create/template"),
        (Method::POST, "/workflow/templates/duplicate"),
        (Method::GET, "/workflow/1/report"),
        (Method::POST, "/workflow/ambient-noise/upload-url"),
    ] {
        let answer = sim.send(method.clone(), path, Some(&json!({}))).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_IMPLEMENTED,
            "{method} {path}"
        );
        let detail = answer.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("not simulated"), "{detail}");
    }
    assert_eq!(sim.sim.requests().writes, 0);
}

// ---- errors ----

#[tokio::test]
async fn an_unknown_id_is_a_404_and_an_id_that_is_not_an_integer_a_422_int_parsing() {
    let sim = start().await;
    let routes = |id: &str| {
        [
            (Method::GET, format!("/workflow/fetch/{id}"), None),
            (
                Method::PUT,
                format!("/workflow/{id}"),
                Some(json!({ "name": "x" })),
            ),
            (
                Method::PUT,
                format!("/workflow/{id}/status"),
                Some(json!({ "status": "active" })),
            ),
            (
                Method::PUT,
                format!("/workflow/{id}/folder"),
                Some(json!({ "folder_id": null })),
            ),
            (Method::POST, format!("/workflow/{id}/duplicate"), None),
            (Method::POST, format!("/workflow/{id}/validate"), None),
            (Method::POST, format!("/workflow/{id}/publish"), None),
            (Method::POST, format!("/workflow/{id}/create-draft"), None),
            (Method::GET, format!("/workflow/{id}/versions"), None),
        ]
    };
    for id in ["7", "0", "-1", "123456789012345678901234567890"] {
        for (method, path, body) in routes(id) {
            let answer = sim.send(method.clone(), &path, body.as_ref()).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(answer.body, json!({ "detail": "Workflow not found" }));
        }
    }
    for (method, path, body) in routes("abc") {
        let answer = sim.send(method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            issues(&answer),
            vec![pair("path.id", "int_parsing")],
            "{method} {path}"
        );
        assert_eq!(answer.body["detail"][0]["input"], "abc");
    }
}

#[tokio::test]
async fn an_unknown_body_field_is_a_422_extra_forbidden_and_nothing_is_created() {
    let sim = start().await;
    let answer = sim
        .post(
            "/workflow/create/definition",
            &json!({ "name": "A", "definition": {}, "folder_id": 3 }),
        )
        .await;
    assert_eq!(
        issues(&answer),
        vec![pair("body.folder_id", "extra_forbidden")]
    );
    let update = sim
        .put("/workflow/1", &json!({ "status": "archived" }))
        .await;
    assert_eq!(
        issues(&update),
        vec![pair("body.status", "extra_forbidden")]
    );
    assert_eq!(sim.get("/workflow/count").await.body["total"], 0);
}

#[tokio::test]
async fn bodies_of_the_wrong_shape_are_422s_naming_each_field() {
    let sim = start().await;
    let create_path = "/workflow/create/definition";
    let wrong = sim
        .post(
            create_path,
            &json!({ "name": "", "definition": [], "configuration": null }),
        )
        .await;
    assert_eq!(
        issues(&wrong),
        vec![
            pair("body.name", "string_too_short"),
            pair("body.definition", "dict_type"),
            pair("body.configuration", "dict_type"),
        ]
    );
    let missing = sim.post(create_path, &json!({})).await;
    assert_eq!(
        issues(&missing),
        vec![
            pair("body.name", "missing"),
            pair("body.definition", "missing")
        ]
    );
    let malformed = sim.send_raw(Method::POST, create_path, "{\"name\": ").await;
    assert_eq!(issues(&malformed), vec![pair("body.9", "json_invalid")]);

    let id = create(&sim, "A", valid("x")).await;
    let empty = sim.put(&format!("/workflow/{id}"), &json!({})).await;
    assert_eq!(issues(&empty), vec![pair("body", "value_error")]);
    let absent = sim
        .send(Method::PUT, &format!("/workflow/{id}"), None)
        .await;
    assert_eq!(issues(&absent), vec![pair("body", "missing")]);
    let nulls = sim
        .put(
            &format!("/workflow/{id}"),
            &json!({ "name": null, "definition": "x" }),
        )
        .await;
    assert_eq!(
        issues(&nulls),
        vec![
            pair("body.name", "string_type"),
            pair("body.definition", "dict_type")
        ]
    );
}

#[tokio::test]
async fn with_a_token_every_route_needs_the_bearer_token() {
    let sim = start_with(SimOptions {
        token: Some("s3cret".to_owned()),
        ..options()
    })
    .await;
    let missing = sim.get("/workflow/fetch").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.body, json!({ "detail": "Not authenticated" }));
    let wrong = sim
        .client
        .post(sim.api("/workflow/create/definition"))
        .bearer_auth("guess")
        .json(&json!({ "name": "A", "definition": {} }))
        .send()
        .await
        .expect("an answer");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = sim
        .client
        .get(sim.api("/workflow/count"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("an answer");
    assert_eq!(right.status(), StatusCode::OK);
    let counted: Value = right.json().await.expect("JSON");
    assert_eq!(counted["total"], 0, "the refused create changed nothing");
}

// ---- state file, counters, faults, options ----

#[tokio::test]
async fn the_state_survives_a_restart_and_ids_are_not_reused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let with_state = || SimOptions {
        state_file: Some(path.clone()),
        ..options()
    };

    let sim = start_with(with_state()).await;
    let first = create(&sim, "A", valid("v1")).await;
    publish(&sim, first).await;
    let second = create(&sim, "B", valid("x")).await;
    sim.put(
        &format!("/workflow/{second}/folder"),
        &json!({ "folder_id": 4 }),
    )
    .await;
    let before = (get(&sim, first).await, get(&sim, second).await);
    let versions_before = sim.get(&format!("/workflow/{first}/versions")).await.body;
    sim.sim.shutdown().await.expect("the simulator stops");

    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("saved")).expect("JSON");
    assert_eq!(saved["platform"], "agent-workflows");

    let again = start_with(with_state()).await;
    assert_eq!(
        (get(&again, first).await, get(&again, second).await),
        before
    );
    assert_eq!(
        again.get(&format!("/workflow/{first}/versions")).await.body,
        versions_before
    );
    assert_eq!(create(&again, "C", valid("x")).await, 3, "ids go on from 3");
}

#[tokio::test]
async fn writes_are_counted_by_route_and_validate_is_not_one() {
    let sim = start().await;
    let id = create(&sim, "A", valid("x")).await;
    sim.get("/workflow/fetch").await;
    sim.get(&format!("/workflow/fetch/{id}")).await;
    post_empty(&sim, &format!("/workflow/{id}/validate")).await;
    sim.put(&format!("/workflow/{id}"), &json!({ "name": "B" }))
        .await;
    publish(&sim, id).await;
    create_draft(&sim, id).await;
    create_draft(&sim, id).await;
    sim.put(
        &format!("/workflow/{id}/status"),
        &json!({ "status": "archived" }),
    )
    .await;
    sim.put(
        &format!("/workflow/{id}/folder"),
        &json!({ "folder_id": 2 }),
    )
    .await;
    post_empty(&sim, &format!("/workflow/{id}/duplicate")).await;
    sim.post("/workflow/create/definition", &json!({})).await;

    let counts = sim.admin(Method::GET, "/_sim/requests", None).await.body;
    assert_eq!(
        counts,
        json!({
            "total": 12,
            "writes": 9,
            "dropped": 0,
            "by_route": {
                "GET /workflow/fetch": 1,
                "GET /workflow/fetch/{id}": 1,
                "POST /workflow/create/definition": 2,
                "POST /workflow/{id}/create-draft": 2,
                "POST /workflow/{id}/duplicate": 1,
                "POST /workflow/{id}/publish": 1,
                "POST /workflow/{id}/validate": 1,
                "PUT /workflow/{id}": 1,
                "PUT /workflow/{id}/folder": 1,
                "PUT /workflow/{id}/status": 1,
            },
            "by_status": { "200": 10, "409": 1, "422": 1 },
            "unmatched": {},
        })
    );
}

#[tokio::test]
async fn faults_apply_to_this_platform_through_the_shared_layer() {
    let sim = start_with(SimOptions {
        faults: Faults {
            rate_limit_rate: 1.0,
            retry_after_secs: 3,
            ..Faults::none()
        },
        ..options()
    })
    .await;
    let answer = sim
        .post(
            "/workflow/create/definition",
            &json!({ "name": "A", "definition": {} }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("3")
    );
    sim.sim.set_faults(Faults::none()).expect("valid faults");
    assert_eq!(sim.get("/workflow/count").await.body["total"], 0);
    assert_eq!(sim.sim.requests().writes, 1);
}

#[tokio::test]
async fn the_workfx_only_options_are_refused_for_agent_workflows() {
    for refused in [
        SimOptions {
            tenant_id: Some("t1".to_owned()),
            ..options()
        },
        SimOptions {
            tenant_unit_id: Some("u1".to_owned()),
            ..options()
        },
        SimOptions {
            max_page_size: 5,
            ..options()
        },
    ] {
        match agentsync::sim::start(refused).await {
            Err(SimError::InvalidOption { reason, .. }) => {
                assert!(reason.contains("workfx only"), "{reason}")
            }
            other => panic!("expected an invalid option, got {other:?}"),
        }
    }
}
