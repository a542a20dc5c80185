//! The workfx simulator's API over real HTTP: agents, flows, invocations, validation errors,
//! pagination, 404 and 405.

use crate::sim_support;

use std::time::{Duration, UNIX_EPOCH};

use agentsync::sim::{Clock, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sim_support::{Sim, issues, pair, start, start_with};

fn named(name: &str) -> Value {
    json!({ "name": name })
}

async fn names(sim: &Sim, query: &str) -> Vec<String> {
    let listed = sim.get(&format!("/agents{query}")).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    listed.body["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|agent| agent["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

// ---- agents: create and read ----

#[tokio::test]
async fn creating_an_agent_fills_the_server_owned_fields_as_the_docs_show() {
    let start_time = UNIX_EPOCH + Duration::from_millis(1_752_685_138_331);
    let sim = start_with(SimOptions {
        clock: Clock::stepping(start_time, Duration::from_millis(1)),
        ..SimOptions::loopback()
    })
    .await;
    let created = sim
        .post(
            "/agents?tenant_id=t1&tenant_unit_id=u1",
            &json!({
                "name": "Support Bot",
                "description": "Answers billing questions",
                "icon": "🤖",
                "icon_type": "emoji",
                "icon_background": "#EFF1F5",
                "mode": "flow-chat",
                "type": "single-agent",
                "tags": ["support", "billing"],
                "is_favorite": false,
                "extend_properties": { "agentsync": { "key": "support-bot" } },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let agent = &created.body;
    assert!(uuid::Uuid::parse_str(agent["id"].as_str().unwrap_or_default()).is_ok());
    assert!(uuid::Uuid::parse_str(agent["definition_id"].as_str().unwrap_or_default()).is_ok());
    assert!(!agent["code"].as_str().unwrap_or_default().is_empty());
    assert_eq!(agent["status"], "ACTIVE");
    assert_eq!(agent["definition_type"], "flow");
    assert_eq!(agent["tenant_id"], "t1");
    assert_eq!(agent["tenant_unit_id"], "u1");
    assert_eq!(agent["created_time"], "2025-07-16T16:58:58.331Z");
    assert_eq!(agent["updated_time"], agent["created_time"]);
    assert!(agent["created_by"].is_string());
    assert_eq!(
        agent["abilities"],
        json!({ "file_upload": { "enabled": true } })
    );
    assert_eq!(agent["tags"], "support,billing");
    assert_eq!(agent["mode"], "flow-chat");
    assert_eq!(agent["icon"], "🤖");
    for field in [
        "icon_url",
        "usage_guide",
        "ab_test_id",
        "visibility",
        "variables",
    ] {
        assert!(agent.get(field).is_some(), "{field} is in the answer");
    }
}

#[tokio::test]
async fn fields_left_out_on_create_take_the_documented_defaults() {
    let sim = start().await;
    let created = sim.post("/agents", &named("Plain")).await.body;
    assert_eq!(created["description"], "");
    assert_eq!(created["icon_background"], "#FFF");
    assert_eq!(created["mode"], "job");
    assert_eq!(created["type"], "single-agent");
    assert_eq!(created["tags"], "");
    assert_eq!(created["is_favorite"], false);
    assert_eq!(created["extend_properties"], json!({}));
    assert_eq!(created["tenant_id"], "");
}

#[tokio::test]
async fn extend_properties_are_stored_and_returned_verbatim() {
    let sim = start().await;
    let properties = json!({ "agentsync": { "key": "k", "nested": [1, { "z": null, "a": true }] }, "other": "x" });
    let id = sim
        .create_agent(&json!({ "name": "A", "extend_properties": properties }))
        .await;
    assert_eq!(
        sim.get(&format!("/agents/{id}")).await.body["extend_properties"],
        properties
    );
}

#[tokio::test]
async fn tags_are_accepted_as_a_list_or_a_string_and_answered_as_one_comma_separated_string() {
    let sim = start().await;
    let from_list = sim
        .post("/agents", &json!({ "name": "A", "tags": ["a", "b"] }))
        .await;
    let from_string = sim
        .post("/agents", &json!({ "name": "B", "tags": "test_tag" }))
        .await;
    assert_eq!(from_list.body["tags"], "a,b");
    assert_eq!(from_string.body["tags"], "test_tag");
}

#[tokio::test]
async fn every_agent_gets_its_own_code_and_can_be_read_by_it() {
    let sim = start().await;
    let first = sim.post("/agents", &named("A")).await.body;
    let second = sim.post("/agents", &named("B")).await.body;
    assert_ne!(first["code"], second["code"]);
    let code = first["code"].as_str().unwrap_or_default();
    let found = sim.get(&format!("/agents/code/{code}")).await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(found.body, first);
}

#[tokio::test]
async fn an_agent_is_read_back_by_id_as_it_was_created() {
    let sim = start().await;
    let created = sim.post("/agents", &named("A")).await.body;
    let id = created["id"].as_str().unwrap_or_default();
    let read = sim.get(&format!("/agents/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created);
}

#[tokio::test]
async fn an_unknown_agent_id_or_code_is_a_404_agent_not_found() {
    let sim = start().await;
    let missing = uuid::Uuid::new_v4();
    for path in [
        format!("/agents/{missing}"),
        "/agents/code/nope".to_owned(),
        format!("/agents/{missing}/flows"),
        format!("/agents/{missing}/flows/draft"),
    ] {
        let answer = sim.get(&path).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            answer.body,
            json!({ "detail": "Agent not found" }),
            "{path}"
        );
    }
    let put = sim.put(&format!("/agents/{missing}"), &named("x")).await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);
    let delete = sim.delete(&format!("/agents/{missing}")).await;
    assert_eq!(delete.body, json!({ "detail": "Agent not found" }));
}

#[tokio::test]
async fn an_agent_id_that_is_not_a_uuid_is_a_422_on_the_path_parameter() {
    let sim = start().await;
    let answer = sim.get("/agents/not-a-uuid").await;
    assert_eq!(issues(&answer), vec![pair("path.agent_id", "uuid_parsing")]);
    assert_eq!(answer.body["detail"][0]["input"], "not-a-uuid");
}

// ---- agents: validation ----

#[tokio::test]
async fn creating_an_agent_without_a_name_is_a_422_naming_the_field() {
    let sim = start().await;
    let answer = sim
        .post("/agents", &json!({ "description": "no name" }))
        .await;
    assert_eq!(issues(&answer), vec![pair("body.name", "missing")]);
    assert_eq!(answer.body["detail"][0]["msg"], "Field required");
    assert_eq!(sim.get("/agents").await.body["total_count"], 0);
}

#[tokio::test]
async fn fields_of_the_wrong_type_are_each_reported_with_their_location() {
    let sim = start().await;
    let answer = sim
        .post(
            "/agents",
            &json!({ "name": 42, "extend_properties": [], "is_favorite": "yes", "tags": [1], "type": "robot" }),
        )
        .await;
    assert_eq!(
        issues(&answer),
        vec![
            pair("body.type", "enum"),
            pair("body.name", "string_type"),
            pair("body.tags.0", "string_type"),
            pair("body.is_favorite", "bool_type"),
            pair("body.extend_properties", "dict_type"),
        ]
    );
}

#[tokio::test]
async fn unknown_fields_are_refused_as_extra_forbidden_including_a_code_on_create() {
    let sim = start().await;
    let answer = sim
        .post(
            "/agents",
            &json!({ "name": "A", "code": "mine", "colour": "red" }),
        )
        .await;
    assert_eq!(
        issues(&answer),
        vec![
            pair("body.code", "extra_forbidden"),
            pair("body.colour", "extra_forbidden")
        ]
    );
}

#[tokio::test]
async fn malformed_json_is_a_422_json_invalid() {
    let sim = start().await;
    let answer = sim.send_raw(Method::POST, "/agents", "{\"name\": ").await;
    assert_eq!(issues(&answer), vec![pair("body.9", "json_invalid")]);
    assert_eq!(answer.body["detail"][0]["msg"], "JSON decode error");
}

#[tokio::test]
async fn a_missing_body_or_one_that_is_not_an_object_is_a_422_on_the_body() {
    let sim = start().await;
    let empty = sim.send_raw(Method::POST, "/agents", "").await;
    assert_eq!(issues(&empty), vec![pair("body", "missing")]);
    let list = sim.post("/agents", &json!(["name"])).await;
    assert_eq!(issues(&list), vec![pair("body", "model_attributes_type")]);
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_as_extra_forbidden() {
    let sim = start().await;
    let answer = sim.get("/agents?page=2").await;
    assert_eq!(issues(&answer), vec![pair("query.page", "extra_forbidden")]);
}

// ---- agents: update, archive, delete ----

#[tokio::test]
async fn updating_an_agent_changes_only_the_fields_given() {
    let sim = start_with(SimOptions {
        clock: Clock::stepping(UNIX_EPOCH, Duration::from_secs(1)),
        ..SimOptions::loopback()
    })
    .await;
    let id = sim
        .create_agent(&json!({ "name": "A", "description": "d", "tags": ["x"], "extend_properties": { "k": 1 } }))
        .await;
    let updated = sim
        .put(
            &format!("/agents/{id}"),
            &json!({ "description": "new", "tags": "y,z" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    let agent = sim.get(&format!("/agents/{id}")).await.body;
    assert_eq!(agent["name"], "A");
    assert_eq!(agent["description"], "new");
    assert_eq!(agent["tags"], "y,z");
    assert_eq!(agent["extend_properties"], json!({ "k": 1 }));
    assert_eq!(agent["created_time"], "1970-01-01T00:00:00.000Z");
    assert_eq!(agent["updated_time"], "1970-01-01T00:00:01.000Z");
    assert_eq!(updated.body, agent);
}

#[tokio::test]
async fn extend_properties_are_replaced_whole_by_an_update() {
    let sim = start().await;
    let id = sim
        .create_agent(&json!({ "name": "A", "extend_properties": { "a": 1, "b": 2 } }))
        .await;
    sim.put(
        &format!("/agents/{id}"),
        &json!({ "extend_properties": { "a": 3 } }),
    )
    .await;
    let agent = sim.get(&format!("/agents/{id}")).await.body;
    assert_eq!(agent["extend_properties"], json!({ "a": 3 }));
}

#[tokio::test]
async fn putting_a_status_archives_and_restores_and_archived_agents_are_still_listed() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let archived = sim
        .put(&format!("/agents/{id}"), &json!({ "status": "ARCHIVED" }))
        .await;
    assert_eq!(archived.body["status"], "ARCHIVED");
    let listed = sim.get("/agents").await.body;
    assert_eq!(listed["data"][0]["status"], "ARCHIVED");
    let restored = sim
        .put(&format!("/agents/{id}"), &json!({ "status": "ACTIVE" }))
        .await;
    assert_eq!(restored.body["status"], "ACTIVE");
}

#[tokio::test]
async fn an_unknown_status_or_a_field_the_update_model_lacks_is_a_422() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let answer = sim
        .put(
            &format!("/agents/{id}"),
            &json!({ "status": "DELETED", "mode": "flow-chat", "name": null }),
        )
        .await;
    assert_eq!(
        issues(&answer),
        vec![
            pair("body.name", "string_type"),
            pair("body.status", "enum"),
            pair("body.mode", "extra_forbidden"),
        ]
    );
    assert_eq!(
        answer.body["detail"][1]["msg"],
        "Input should be 'ACTIVE' or 'ARCHIVED'"
    );
    assert_eq!(
        sim.get(&format!("/agents/{id}")).await.body["status"],
        "ACTIVE"
    );
}

#[tokio::test]
async fn deleting_an_agent_answers_an_empty_object_and_removes_it_and_its_flows() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    sim.post(&format!("/agents/{id}/flows"), &json!({ "graph": {} }))
        .await;
    let deleted = sim.delete(&format!("/agents/{id}")).await;
    assert_eq!((deleted.status, deleted.body), (StatusCode::OK, json!({})));
    assert_eq!(
        sim.get(&format!("/agents/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.get(&format!("/agents/{id}/flows/draft")).await.status,
        StatusCode::NOT_FOUND
    );
    let state = sim.admin(Method::GET, "/_sim/state", None).await.body;
    assert_eq!(state["state"]["agents"], json!({}));
}

// ---- agents: list ----

#[tokio::test]
async fn an_empty_list_has_no_pages() {
    let sim = start().await;
    let listed = sim.get("/agents").await.body;
    assert_eq!(
        listed,
        json!({ "page_num": 1, "page_size": 20, "total_count": 0, "total_pages": 0, "has_next_page": false, "data": [] })
    );
}

#[tokio::test]
async fn pages_split_the_list_at_exact_multiples_partial_last_pages_and_past_the_end() {
    let sim = start().await;
    for n in 1..=6 {
        sim.create_agent(&named(&format!("a{n}"))).await;
    }
    let page = |query: &'static str| {
        let sim = &sim;
        async move {
            sim.get(&format!("/agents?order_by=oldest&{query}"))
                .await
                .body
        }
    };
    let exact = page("page_size=3&page_num=2").await;
    assert_eq!(
        (
            &exact["total_count"],
            &exact["total_pages"],
            &exact["has_next_page"]
        ),
        (&json!(6), &json!(2), &json!(false))
    );
    assert_eq!(
        names(&sim, "?order_by=oldest&page_size=3&page_num=2").await,
        ["a4", "a5", "a6"]
    );
    let first = page("page_size=4&page_num=1").await;
    assert_eq!(first["has_next_page"], true);
    assert_eq!(
        names(&sim, "?order_by=oldest&page_size=4&page_num=2").await,
        ["a5", "a6"]
    );
    let beyond = page("page_size=4&page_num=3").await;
    assert_eq!(
        (
            &beyond["data"],
            &beyond["total_count"],
            &beyond["has_next_page"],
            &beyond["page_num"]
        ),
        (&json!([]), &json!(6), &json!(false), &json!(3))
    );
}

#[tokio::test]
async fn the_list_is_newest_first_by_default_and_oldest_first_on_request() {
    let sim = start().await;
    for name in ["first", "second", "third"] {
        sim.create_agent(&named(name)).await;
    }
    assert_eq!(names(&sim, "").await, ["third", "second", "first"]);
    assert_eq!(
        names(&sim, "?order_by=recent").await,
        ["third", "second", "first"]
    );
    assert_eq!(
        names(&sim, "?order_by=oldest").await,
        ["first", "second", "third"]
    );
    let bad = sim.get("/agents?order_by=name").await;
    assert_eq!(issues(&bad), vec![pair("query.order_by", "enum")]);
}

#[tokio::test]
async fn the_list_filters_by_name_fragment_tags_mode_type_and_ids() {
    let sim = start().await;
    let support = sim
        .create_agent(
            &json!({ "name": "Support Bot", "tags": ["support", "billing"], "mode": "flow-chat" }),
        )
        .await;
    sim.create_agent(&json!({ "name": "Sales helper", "tags": ["sales"], "mode": "flow-job", "type": "multi-agent" }))
        .await;
    assert_eq!(names(&sim, "?name=BOT").await, ["Support Bot"]);
    assert_eq!(names(&sim, "?tags=billing").await, ["Support Bot"]);
    assert_eq!(
        names(&sim, "?tags=sales,billing&order_by=oldest").await,
        ["Support Bot", "Sales helper"]
    );
    assert_eq!(names(&sim, "?mode=flow-job").await, ["Sales helper"]);
    assert_eq!(names(&sim, "?type=multi-agent").await, ["Sales helper"]);
    assert_eq!(
        names(&sim, &format!("?ids={support}")).await,
        ["Support Bot"]
    );
    assert_eq!(names(&sim, "?is_favorite=true").await, Vec::<String>::new());
    assert_eq!(
        names(&sim, "?exclude_draft=true").await,
        Vec::<String>::new()
    );
    let filtered = sim.get("/agents?name=bot").await.body;
    assert_eq!(filtered["total_count"], 1);
}

#[tokio::test]
async fn bad_pagination_values_are_422s_on_the_query_parameter() {
    let sim = start().await;
    let cases = [
        ("page_num=0", pair("query.page_num", "greater_than_equal")),
        ("page_size=0", pair("query.page_size", "greater_than_equal")),
        ("page_size=101", pair("query.page_size", "less_than_equal")),
        ("page_size=ten", pair("query.page_size", "int_parsing")),
        ("page_num=1.5", pair("query.page_num", "int_parsing")),
    ];
    for (query, expected) in cases {
        let answer = sim.get(&format!("/agents?{query}")).await;
        assert_eq!(issues(&answer), vec![expected], "{query}");
    }
    let accepted = sim.get("/agents?page_size=100").await;
    assert_eq!(accepted.status, StatusCode::OK);
}

#[tokio::test]
async fn the_maximum_page_size_is_configurable() {
    let sim = start_with(SimOptions {
        max_page_size: 5,
        ..SimOptions::loopback()
    })
    .await;
    let answer = sim.get("/agents?page_size=6").await;
    assert_eq!(
        issues(&answer),
        vec![pair("query.page_size", "less_than_equal")]
    );
    assert_eq!(answer.body["detail"][0]["ctx"], json!({ "le": 5 }));
    assert_eq!(sim.get("/agents").await.body["page_size"], 5);
    let flows = sim
        .get(&format!(
            "/agents/{}/flows?page_size=6",
            uuid::Uuid::new_v4()
        ))
        .await;
    assert_eq!(
        issues(&flows),
        vec![pair("query.page_size", "less_than_equal")]
    );
}

// ---- flows ----

#[tokio::test]
async fn a_new_agent_has_no_draft_and_no_versions() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let draft = sim.get(&format!("/agents/{id}/flows/draft")).await;
    assert_eq!(draft.status, StatusCode::NOT_FOUND);
    assert_eq!(draft.body, json!({ "detail": "Draft flow not found" }));
    let versions = sim.get(&format!("/agents/{id}/flows")).await.body;
    assert_eq!(
        versions,
        json!({ "page_num": 1, "page_size": 20, "total_count": 0, "has_next_page": false, "data": [] })
    );
}

#[tokio::test]
async fn writing_the_draft_answers_201_with_the_draft_which_reads_back_equal() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let graph = json!({ "nodes": [{ "id": "start", "data": { "prompt": "hi" } }], "edges": [] });
    let written = sim
        .post(
            &format!("/agents/{id}/flows?tenant_id=&tenant_unit_id="),
            &json!({
                "mode": "chat",
                "graph": graph,
                "features": {},
                "flow_variables": { "API_BASE": "https://x" },
                "conversation_variables": { "topic": { "type": "string" } },
            }),
        )
        .await;
    assert_eq!(written.status, StatusCode::CREATED);
    let draft = &written.body;
    assert_eq!(draft["version"], "draft");
    assert_eq!(draft["owner_id"], id.as_str());
    assert_eq!(draft["owner_type"], "agent");
    assert_eq!(draft["graph"], graph);
    assert_eq!(draft["flow_variables"], json!({ "API_BASE": "https://x" }));
    for field in [
        "id",
        "tenant_id",
        "tenant_unit_id",
        "created_by",
        "created_time",
    ] {
        assert!(draft[field].is_string(), "{field}");
    }
    let read = sim.get(&format!("/agents/{id}/flows/draft")).await;
    assert_eq!(read.body, written.body);
    // The list writes its flows its own way (without copying graphs): the same object,
    // member for member and in the same order.
    let listed = sim.get(&format!("/agents/{id}/flows")).await.body;
    assert_eq!(listed["data"][0], written.body);
    let order = |flow: &serde_json::Value| {
        flow.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
    };
    assert_eq!(order(&listed["data"][0]), order(&written.body));
}

#[tokio::test]
async fn writing_the_draft_again_replaces_it_whole_and_keeps_its_id() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let first = sim
        .post(
            &format!("/agents/{id}/flows"),
            &json!({ "graph": { "v": 1 }, "features": { "f": 1 } }),
        )
        .await
        .body;
    let second = sim
        .post(
            &format!("/agents/{id}/flows"),
            &json!({ "graph": { "v": 2 } }),
        )
        .await
        .body;
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["graph"], json!({ "v": 2 }));
    assert_eq!(second["features"], Value::Null);
    let versions = sim.get(&format!("/agents/{id}/flows")).await.body;
    assert_eq!(versions["total_count"], 1);
}

#[tokio::test]
async fn a_draft_whose_graph_or_variables_have_the_wrong_shape_is_a_422() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let answer = sim
        .post(
            &format!("/agents/{id}/flows"),
            &json!({ "graph": "nodes", "conversation_variables": { "x": 1 }, "nodes": [] }),
        )
        .await;
    assert_eq!(
        issues(&answer),
        vec![
            pair("body.graph", "dict_type"),
            pair("body.conversation_variables.x", "dict_type"),
            pair("body.nodes", "extra_forbidden"),
        ]
    );
    let null_graph = sim
        .post(&format!("/agents/{id}/flows"), &json!({ "graph": null }))
        .await;
    assert_eq!(issues(&null_graph), vec![pair("body.graph", "dict_type")]);
    assert_eq!(
        sim.get(&format!("/agents/{id}/flows/draft")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn publishing_without_a_draft_is_a_404() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let answer = sim
        .post(&format!("/agents/{id}/flows/publish"), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body, json!({ "detail": "Draft flow not found" }));
}

#[tokio::test]
async fn publishing_copies_the_draft_into_numbered_versions_and_the_draft_remains() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let flows = format!("/agents/{id}/flows");
    sim.post(&flows, &json!({ "graph": { "v": 1 } })).await;
    let first = sim
        .send(Method::POST, &format!("{flows}/publish"), None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["version"], "1");
    assert_eq!(first.body["graph"], json!({ "v": 1 }));
    sim.post(&flows, &json!({ "graph": { "v": 2 } })).await;
    let second = sim
        .send(Method::POST, &format!("{flows}/publish"), None)
        .await;
    assert_eq!(second.body["version"], "2");
    assert_ne!(first.body["id"], second.body["id"]);
    let draft = sim.get(&format!("{flows}/draft")).await.body;
    assert_eq!(draft["graph"], json!({ "v": 2 }));

    let listed = sim.get(&flows).await.body;
    let versions: Vec<&Value> = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|flow| &flow["version"])
        .collect();
    assert_eq!(versions, [&json!("draft"), &json!("2"), &json!("1")]);
    assert_eq!(listed["total_count"], 3);
    assert!(
        listed.get("total_pages").is_none(),
        "the flow list documents no total_pages"
    );
}

#[tokio::test]
async fn the_version_list_is_paginated() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let flows = format!("/agents/{id}/flows");
    sim.post(&flows, &json!({ "graph": {} })).await;
    for _ in 0..3 {
        sim.send(Method::POST, &format!("{flows}/publish"), None)
            .await;
    }
    let first = sim.get(&format!("{flows}?page_size=3")).await.body;
    assert_eq!(first["has_next_page"], true);
    assert_eq!(first["data"][2]["version"], "2");
    let last = sim
        .get(&format!("{flows}?page_size=3&page_num=2"))
        .await
        .body;
    assert_eq!(last["has_next_page"], false);
    assert_eq!(last["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(last["data"][0]["version"], "1");
}

// ---- invocations ----

#[tokio::test]
async fn running_the_draft_needs_a_draft_and_echoes_the_request() {
    let sim = start().await;
    let id = sim.create_agent(&named("Echo")).await;
    let runs = format!("/agents/{id}/flows/draft/runs");
    let request = json!({ "query": "hello", "inputs": { "var1": "1", "var2": 2 } });
    assert_eq!(
        sim.post(&runs, &request).await.status,
        StatusCode::NOT_FOUND
    );
    sim.post(&format!("/agents/{id}/flows"), &json!({ "graph": {} }))
        .await;
    let ran = sim.post(&runs, &request).await;
    assert_eq!(ran.status, StatusCode::OK);
    assert_eq!(
        ran.body,
        json!("[sim] draft run by Echo: query=\"hello\" inputs={\"var1\":\"1\",\"var2\":2}")
    );
}

#[tokio::test]
async fn chat_job_and_resume_answer_a_deterministic_string_echoing_the_inputs() {
    let sim = start().await;
    let id = sim.create_agent(&named("Echo")).await;
    let request = json!({ "query": "q", "inputs": { "a": 1 }, "streaming": false, "files": [], "response_type": "wfx", "wfx_context": {}, "conversation_id": "c" });
    let chat = sim.post(&format!("/agents/{id}/chat"), &request).await;
    assert_eq!(
        chat.body,
        json!("[sim] chat by Echo: query=\"q\" inputs={\"a\":1}")
    );
    assert_eq!(
        sim.post(&format!("/agents/{id}/chat"), &request).await.body,
        chat.body
    );
    let job = sim.post(&format!("/agents/{id}/job"), &request).await;
    assert_eq!(
        job.body,
        json!("[sim] job by Echo: query=\"q\" inputs={\"a\":1}")
    );
    let resume = sim
        .post(
            &format!("/agents/{id}/chat/resume"),
            &json!({ "query": "q", "is_interrupted": true, "flow_run_id": "r", "interrupt_inputs": {} }),
        )
        .await;
    assert_eq!(resume.status, StatusCode::OK);
    assert_eq!(
        resume.body,
        json!("[sim] chat/resume by Echo: query=\"q\" inputs={}")
    );
}

#[tokio::test]
async fn invoking_validates_the_body_and_needs_an_existing_agent() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    let wrong = sim
        .post(
            &format!("/agents/{id}/chat"),
            &json!({ "inputs": "x", "flow_run_id": "r" }),
        )
        .await;
    assert_eq!(
        issues(&wrong),
        vec![
            pair("body.inputs", "dict_type"),
            pair("body.flow_run_id", "extra_forbidden")
        ]
    );
    let missing = sim
        .post(&format!("/agents/{}/job", uuid::Uuid::new_v4()), &json!({}))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

// ---- paths and methods ----

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_a_405_with_a_fastapi_body_and_allow_header() {
    let sim = start().await;
    let answer = sim.send(Method::PATCH, "/agents", Some(&json!({}))).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.body, json!({ "detail": "Method Not Allowed" }));
    let allow = answer
        .headers
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let draft = sim
        .send(
            Method::DELETE,
            &format!("/agents/{}/flows/draft", uuid::Uuid::new_v4()),
            None,
        )
        .await;
    assert_eq!(draft.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn an_unknown_path_is_a_404_with_a_fastapi_body() {
    let sim = start().await;
    let answer = sim.get("/agentz").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body, json!({ "detail": "Not Found" }));
    let counts = sim.sim.requests();
    assert_eq!(counts.unmatched.get("GET /admin/api/v2/agentz"), Some(&1));
}
