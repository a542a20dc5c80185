//! The Agents v1 simulator over real HTTP: create per architecture and its required fields,
//! inactive new agents, merging updates, pages, get and delete, the envelope of every error,
//! the admin and member tokens, the state file, faults and the request counters, as
//! `docs/agents-v1-contract.md` describes them.

use crate::sim_support;

use std::time::{Duration, UNIX_EPOCH};

use agentsync::sim::{Clock, Faults, ListShape, Platform, SimError, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sim_support::{Answer, Sim, start_with};

const AGENTS: &str = "/v1/agents";
const ADMIN: &str = "admin-token";
const MEMBER: &str = "member-token";

fn options() -> SimOptions {
    SimOptions {
        platform: Platform::AgentsV1,
        ..SimOptions::loopback()
    }
}

async fn start() -> Sim {
    start_with(options()).await
}

/// A simulator that takes the admin token and the member token.
async fn start_with_roles() -> Sim {
    start_with(SimOptions {
        token: Some(ADMIN.to_owned()),
        member_token: Some(MEMBER.to_owned()),
        ..options()
    })
    .await
}

/// The documented create bodies, one per architecture.
fn pipeline(name: &str) -> Value {
    json!({
        "name": name,
        "agentArchitecture": "pipeline",
        "model": "gpt-4o",
        "stt": "deepgram",
        "tts": "cartesia",
        "voiceId": "some-cartesia-voice-id",
        "systemPrompt": "You are a helpful sales agent for Acme Corp...",
        "language": "en",
        "mode": "private",
        "temperature": 0.7,
    })
}

fn realtime(name: &str) -> Value {
    json!({
        "name": name,
        "agentArchitecture": "realtime",
        "realtimeProvider": "openai",
        "voiceId": "alloy",
        "systemPrompt": "You are a support agent...",
        "language": "en",
        "mode": "public",
    })
}

fn text(name: &str) -> Value {
    json!({
        "name": name,
        "agentArchitecture": "text",
        "model": "gpt-4o-mini",
        "systemPrompt": "You are a helpful support assistant...",
    })
}

fn agent_path(id: &str) -> String {
    format!("{AGENTS}/{id}")
}

/// Creates an agent and answers its id.
async fn create(sim: &Sim, body: &Value) -> String {
    let created = sim.post(AGENTS, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body["data"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// The full agent, as get answers it.
async fn get(sim: &Sim, id: &str) -> Value {
    let answer = sim.get(&agent_path(id)).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["success"], true);
    answer.body["data"].clone()
}

async fn patch(sim: &Sim, id: &str, body: &Value) -> Answer {
    sim.send(Method::PATCH, &agent_path(id), Some(body)).await
}

/// A request with `Authorization: Bearer <token>`.
async fn send_as(
    sim: &Sim,
    token: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut request = sim.client.request(method, sim.api(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status();
    (status, response.json().await.expect("a JSON answer"))
}

/// The `code` of an error answer, checking the envelope around it.
fn code(body: &Value) -> &str {
    assert_eq!(body["success"], false, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{body}"
    );
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The fields named by the `details` of a 400.
fn details(answer: &Answer) -> Vec<String> {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(code(&answer.body), "validation_error");
    answer.body["error"]["details"]
        .as_array()
        .expect("a validation error has details")
        .iter()
        .map(|detail| {
            assert!(detail["message"].is_string(), "{detail}");
            detail["field"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

fn keys(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn ids(listed: &Value) -> Vec<String> {
    listed["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .filter_map(|agent| agent["id"].as_str().map(str::to_owned))
        .collect()
}

async fn total(sim: &Sim) -> u64 {
    sim.get(AGENTS).await.body["pagination"]["total"]
        .as_u64()
        .expect("a total")
}

// ---- create and read ----

#[tokio::test]
async fn an_agent_of_each_architecture_is_created_inactive_and_reads_back_in_full() {
    let created_at = UNIX_EPOCH + Duration::from_secs(1_705_314_600);
    let sim = start_with(SimOptions {
        clock: Clock::stepping(created_at, Duration::from_secs(1)),
        ..options()
    })
    .await;
    let mut sent = pipeline("Sales Bot");
    sent["active"] = json!(true);
    let created = sim.post(AGENTS, &sent).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(keys(&created.body), ["success", "data"]);
    assert_eq!(created.body["success"], true);
    let agent = &created.body["data"];
    assert_eq!(
        keys(agent),
        [
            "id",
            "name",
            "agentArchitecture",
            "model",
            "stt",
            "tts",
            "voiceId",
            "systemPrompt",
            "language",
            "mode",
            "active",
            "temperature",
            "createdAt",
            "updatedAt",
        ]
    );
    assert_eq!(agent["active"], false, "new agents are inactive");
    assert_eq!(agent["temperature"], 0.7);
    assert_eq!(agent["createdAt"], "2024-01-15T10:30:00Z");
    assert_eq!(agent["updatedAt"], agent["createdAt"]);
    let id = agent["id"].as_str().expect("an id");
    let suffix = id.strip_prefix("agent_").expect("ids start with agent_");
    assert!(
        !suffix.is_empty()
            && suffix
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(&get(&sim, id).await, agent);

    let realtime_agent = get(&sim, &create(&sim, &realtime("Low Latency Support")).await).await;
    assert_eq!(realtime_agent["realtimeProvider"], "openai");
    assert_eq!(realtime_agent["mode"], "public");
    assert!(
        realtime_agent.get("model").is_none(),
        "never set, not shown"
    );

    let text_agent = get(&sim, &create(&sim, &text("Support Chatbot")).await).await;
    assert_eq!(text_agent["mode"], "private", "the mode when none is given");
    assert_eq!(text_agent["active"], false);
    assert_ne!(text_agent["id"], realtime_agent["id"]);
}

#[tokio::test]
async fn a_create_without_the_fields_its_architecture_requires_is_a_400_naming_each() {
    let sim = start().await;
    let bare = |architecture: &str| json!({ "name": "A", "agentArchitecture": architecture, "systemPrompt": "p" });
    let cases = [
        (bare("pipeline"), vec!["model", "stt", "tts"]),
        (bare("realtime"), vec!["realtimeProvider"]),
        (bare("text"), vec!["model"]),
        (json!({}), vec!["name", "agentArchitecture", "systemPrompt"]),
        (
            json!({ "agentArchitecture": "text", "model": "m" }),
            vec!["name", "systemPrompt"],
        ),
        (
            json!({ "name": "", "agentArchitecture": "text", "model": "m", "systemPrompt": "p" }),
            vec!["name"],
        ),
    ];
    for (body, expected) in cases {
        let refused = sim.post(AGENTS, &body).await;
        assert_eq!(details(&refused), expected, "{body}");
    }
    let refused = sim.post(AGENTS, &bare("pipeline")).await;
    assert_eq!(
        refused.body["error"]["details"][0],
        json!({ "field": "model", "message": "is required for a pipeline agent" })
    );
    assert_eq!(total(&sim).await, 0, "nothing was created");
}

#[tokio::test]
async fn a_create_with_an_unknown_field_a_wrong_type_or_no_body_is_a_400() {
    let sim = start().await;
    let with = |field: &str, value: Value| {
        let mut body = text("A");
        body[field] = value;
        body
    };
    let cases = [
        (with("id", json!("agent_mine")), "id"),
        (
            with("createdAt", json!("2024-01-01T00:00:00Z")),
            "createdAt",
        ),
        (with("voice", json!("alloy")), "voice"),
        (with("temperature", json!(2.5)), "temperature"),
        (with("temperature", json!("0.5")), "temperature"),
        (with("active", json!("true")), "active"),
        (with("mode", json!("secret")), "mode"),
        (
            with("agentArchitecture", json!("voice")),
            "agentArchitecture",
        ),
        (
            with("enabledFunctions", json!(["web_search", 3])),
            "enabledFunctions",
        ),
        (
            with("enabledCustomFunctions", json!("check_order")),
            "enabledCustomFunctions",
        ),
        (with("language", Value::Null), "language"),
        (with("model", json!(4)), "model"),
    ];
    for (body, field) in cases {
        assert_eq!(details(&sim.post(AGENTS, &body).await), [field], "{body}");
    }
    let no_body = sim.send(Method::POST, AGENTS, None).await;
    assert_eq!(details(&no_body), ["body"]);
    let not_an_object = sim.post(AGENTS, &json!(["A"])).await;
    assert_eq!(details(&not_an_object), ["body"]);
    let not_json = sim.send_raw(Method::POST, AGENTS, "{\"name\": ").await;
    assert_eq!(details(&not_json), ["body"]);
    assert_eq!(total(&sim).await, 0, "nothing was created");

    let mut every_field = pipeline("Full");
    every_field["enabledFunctions"] = json!(["web_search"]);
    every_field["enabledCustomFunctions"] = json!([]);
    every_field["realtimeProvider"] = json!("openai");
    every_field["temperature"] = json!(2);
    let kept = get(&sim, &create(&sim, &every_field).await).await;
    assert_eq!(kept["enabledFunctions"], json!(["web_search"]));
    assert_eq!(kept["enabledCustomFunctions"], json!([]));
    assert_eq!(kept["temperature"], 2);
}

#[tokio::test]
async fn two_agents_may_share_a_name() {
    let sim = start().await;
    let first = create(&sim, &text("Twin")).await;
    let second = create(&sim, &text("Twin")).await;
    assert_ne!(first, second);
    assert_eq!(total(&sim).await, 2);
}

// ---- update ----

#[tokio::test]
async fn an_inactive_agent_becomes_active_with_a_patch_that_sets_updated_at() {
    let created_at = UNIX_EPOCH + Duration::from_secs(1_705_314_600);
    let sim = start_with(SimOptions {
        clock: Clock::stepping(created_at, Duration::from_secs(60)),
        ..options()
    })
    .await;
    let id = create(&sim, &pipeline("Sales Bot")).await;
    let activated = patch(&sim, &id, &json!({ "active": true })).await;
    assert_eq!(activated.status, StatusCode::OK, "{:?}", activated.body);
    assert_eq!(activated.body["success"], true);
    let agent = get(&sim, &id).await;
    assert_eq!(activated.body["data"], agent);
    assert_eq!(agent["active"], true);
    assert_eq!(agent["createdAt"], "2024-01-15T10:30:00Z");
    assert_eq!(agent["updatedAt"], "2024-01-15T10:31:00Z");
    let listed = sim.get(AGENTS).await.body;
    assert_eq!(listed["data"][0]["active"], true);
}

#[tokio::test]
async fn a_patch_changes_the_fields_it_sends_and_keeps_the_others() {
    let sim = start().await;
    let id = create(&sim, &pipeline("Sales Bot")).await;
    let before = get(&sim, &id).await;
    let updated = patch(
        &sim,
        &id,
        &json!({
            "systemPrompt": "Updated instructions...",
            "temperature": 0.5,
            "enabledFunctions": ["web_search"],
        }),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    let after = get(&sim, &id).await;
    assert_eq!(after["systemPrompt"], "Updated instructions...");
    assert_eq!(after["temperature"], 0.5);
    assert_eq!(after["enabledFunctions"], json!(["web_search"]));
    for kept in ["name", "model", "stt", "tts", "voiceId", "language", "mode"] {
        assert_eq!(after[kept], before[kept], "{kept}");
    }
    let same_architecture = patch(&sim, &id, &json!({ "agentArchitecture": "pipeline" })).await;
    assert_eq!(
        same_architecture.status,
        StatusCode::OK,
        "the architecture it has is no change"
    );
}

#[tokio::test]
async fn a_patch_that_changes_the_architecture_or_leaves_a_required_field_blank_changes_nothing() {
    let sim = start().await;
    let id = create(&sim, &pipeline("Sales Bot")).await;
    let before = get(&sim, &id).await;
    let cases = [
        (
            json!({ "agentArchitecture": "realtime", "realtimeProvider": "openai" }),
            vec!["agentArchitecture"],
        ),
        (json!({ "model": "", "name": "Renamed" }), vec!["model"]),
        (json!({ "systemPrompt": " " }), vec!["systemPrompt"]),
        (json!({ "temperature": 3 }), vec!["temperature"]),
        (json!({ "name": null }), vec!["name"]),
        (json!({ "updatedAt": "now" }), vec!["updatedAt"]),
        (json!({}), vec!["body"]),
    ];
    for (body, expected) in cases {
        assert_eq!(details(&patch(&sim, &id, &body).await), expected, "{body}");
    }
    assert_eq!(
        details(&sim.send(Method::PATCH, &agent_path(&id), None).await),
        ["body"]
    );
    assert_eq!(get(&sim, &id).await, before, "not even the name changed");
}

// ---- list ----

#[tokio::test]
async fn the_list_pages_250_agents_in_creation_order_with_total_and_has_next() {
    let sim = start().await;
    let mut created = Vec::new();
    for n in 0..250 {
        // Names repeat: the platform does not make them unique.
        let mut body = text(&format!("agent {}", n % 7));
        body["mode"] = json!(["private", "public", "commercial"][n % 3]);
        created.push(create(&sim, &body).await);
    }

    let mut read = Vec::new();
    let mut has_next = Vec::new();
    for page in 1..=3 {
        let answer = sim.get(&format!("{AGENTS}?page={page}&limit=100")).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        assert_eq!(keys(&answer.body), ["success", "data", "pagination"]);
        let pagination = &answer.body["pagination"];
        assert_eq!(keys(pagination), ["page", "total", "hasNext"]);
        assert_eq!(
            (&pagination["page"], &pagination["total"]),
            (&json!(page), &json!(250))
        );
        has_next.push(pagination["hasNext"] == true);
        read.extend(ids(&answer.body));
    }
    assert_eq!(has_next, [true, true, false]);
    assert_eq!(read, created, "every agent once, oldest first");

    let first = sim.get(AGENTS).await.body;
    assert_eq!(ids(&first), created[..20], "20 by default, from page 1");
    assert_eq!(
        keys(&first["data"][0]),
        [
            "id",
            "name",
            "mode",
            "agentArchitecture",
            "active",
            "createdAt"
        ]
    );
    let last = sim.get(&format!("{AGENTS}?page=13")).await.body;
    assert_eq!(ids(&last), created[240..]);
    assert_eq!(last["pagination"]["hasNext"], false);
    let past = sim.get(&format!("{AGENTS}?page=14")).await.body;
    assert_eq!(ids(&past), Vec::<String>::new());
    assert_eq!(
        past["pagination"],
        json!({ "page": 14, "total": 250, "hasNext": false })
    );
    let one = sim.get(&format!("{AGENTS}?limit=1&page=250")).await.body;
    assert_eq!(ids(&one), created[249..]);

    let public = sim
        .get(&format!("{AGENTS}?mode=public&limit=100"))
        .await
        .body;
    assert_eq!(public["pagination"]["total"], 83);
    let expected: Vec<String> = created.iter().skip(1).step_by(3).cloned().collect();
    assert_eq!(ids(&public), expected);
}

#[tokio::test]
async fn limit_must_be_from_1_to_100_and_page_from_1() {
    let sim = start().await;
    create(&sim, &text("A")).await;
    for limit in ["100", "1"] {
        let answer = sim.get(&format!("{AGENTS}?limit={limit}")).await;
        assert_eq!(answer.status, StatusCode::OK, "limit={limit}");
    }
    let cases = [
        ("limit=0", vec!["limit"]),
        ("limit=101", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("page=0", vec!["page"]),
        ("page=-1&limit=500", vec!["page", "limit"]),
        ("mode=secret", vec!["mode"]),
        ("offset=20", vec!["offset"]),
    ];
    for (query, expected) in cases {
        let answer = sim.get(&format!("{AGENTS}?{query}")).await;
        assert_eq!(details(&answer), expected, "{query}");
    }
}

#[tokio::test]
async fn a_broken_list_answer_is_served_while_its_fault_is_set() {
    let sim = start().await;
    for n in 0..3 {
        create(&sim, &text(&format!("agent {n}"))).await;
    }
    let broken = |agent_list| Faults {
        agent_list,
        ..Faults::none()
    };
    sim.sim
        .set_faults(broken(ListShape::NoPagingFields))
        .expect("valid faults");
    let answer = sim.get(&format!("{AGENTS}?limit=2")).await.body;
    assert_eq!(keys(&answer), ["success", "data"]);
    sim.sim
        .set_faults(broken(ListShape::Repeats))
        .expect("valid faults");
    let first = sim.get(&format!("{AGENTS}?limit=2")).await.body;
    let second = sim.get(&format!("{AGENTS}?limit=2&page=2")).await.body;
    assert_eq!(ids(&second), ids(&first));
    assert_eq!(second["pagination"]["hasNext"], true);
}

// ---- get and delete ----

#[tokio::test]
async fn a_deleted_agent_is_gone_and_every_route_on_it_is_a_404() {
    let sim = start().await;
    let id = create(&sim, &text("Doomed")).await;
    let kept = create(&sim, &text("Kept")).await;
    let deleted = sim.delete(&agent_path(&id)).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        deleted.body,
        json!({ "success": true, "data": { "message": "Agent deleted successfully" } })
    );
    for answer in [
        sim.get(&agent_path(&id)).await,
        patch(&sim, &id, &json!({ "active": true })).await,
        sim.delete(&agent_path(&id)).await,
        sim.get(&agent_path("agent_nonexistent")).await,
        sim.get(&agent_path("not-even-an-id")).await,
    ] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{:?}", answer.body);
        assert_eq!(code(&answer.body), "not_found");
    }
    assert_eq!(ids(&sim.get(AGENTS).await.body), [kept]);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_envelope() {
    let sim = start().await;
    let unknown = sim.get("/v1/agent").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(code(&unknown.body), "not_found");
    let id = create(&sim, &text("A")).await;
    let put = sim.put(&agent_path(&id), &text("B")).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(code(&put.body), "method_not_allowed");
}

// ---- auth ----

#[tokio::test]
async fn with_a_token_a_request_without_it_or_with_a_wrong_one_is_a_401_in_the_envelope() {
    let sim = start_with_roles().await;
    let missing = sim.post(AGENTS, &text("A")).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&missing.body), "unauthorized");
    assert_eq!(
        missing
            .headers
            .get("www-authenticate")
            .and_then(|value| value.to_str().ok()),
        Some("Bearer")
    );
    let (status, body) = send_as(&sim, "guess", Method::GET, AGENTS, None).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, body) = send_as(&sim, ADMIN, Method::GET, AGENTS, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["pagination"]["total"], 0,
        "the refused create made nothing"
    );
}

#[tokio::test]
async fn the_member_token_may_not_change_public_or_commercial_agents_but_may_change_private_ones() {
    let sim = start_with_roles().await;
    let mut ids = Vec::new();
    for mode in ["public", "commercial", "private"] {
        let mut body = text(mode);
        body["mode"] = json!(mode);
        let (status, created) = send_as(&sim, ADMIN, Method::POST, AGENTS, Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        ids.push(created["data"]["id"].as_str().expect("an id").to_owned());
    }
    let [public, commercial, private] = [&ids[0], &ids[1], &ids[2]];
    let rename = json!({ "name": "Renamed" });

    for id in [public, commercial] {
        let path = agent_path(id);
        let (status, body) = send_as(&sim, MEMBER, Method::PATCH, &path, Some(&rename)).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("owners and admins"), "{message}");
        let (status, body) = send_as(&sim, MEMBER, Method::DELETE, &path, None).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
        let (status, body) = send_as(&sim, MEMBER, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "a member may read it");
        assert_ne!(
            body["data"]["name"], "Renamed",
            "the refused update changed nothing"
        );
    }
    let (status, _) = send_as(&sim, MEMBER, Method::GET, AGENTS, None).await;
    assert_eq!(status, StatusCode::OK);

    let private_path = agent_path(private);
    let (status, body) = send_as(&sim, MEMBER, Method::PATCH, &private_path, Some(&rename)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Renamed");
    let (status, _) = send_as(&sim, MEMBER, Method::DELETE, &private_path, None).await;
    assert_eq!(status, StatusCode::OK);

    let public_path = agent_path(public);
    let (status, _) = send_as(&sim, ADMIN, Method::PATCH, &public_path, Some(&rename)).await;
    assert_eq!(status, StatusCode::OK, "an admin may");
    let (status, _) = send_as(&sim, ADMIN, Method::DELETE, &public_path, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_member_token_is_refused_without_a_token_or_for_another_platform() {
    let member = Some(MEMBER.to_owned());
    let cases = [
        SimOptions {
            member_token: member.clone(),
            ..options()
        },
        SimOptions {
            token: member.clone(),
            member_token: member.clone(),
            ..options()
        },
        SimOptions {
            token: Some(ADMIN.to_owned()),
            member_token: Some(String::new()),
            ..options()
        },
        SimOptions {
            token: Some(ADMIN.to_owned()),
            member_token: member.clone(),
            platform: Platform::AgentWorkflows,
            ..SimOptions::loopback()
        },
    ];
    for refused in cases {
        let described = format!("{refused:?}");
        match agentsync::sim::start(refused).await {
            Err(SimError::InvalidOption { option, .. }) => {
                assert_eq!(option, "member_token", "{described}")
            }
            other => panic!("expected an invalid option for {described}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_workfx_only_options_are_refused_for_agents_v1() {
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
                assert!(reason.contains("agents-v1"), "{reason}");
                assert!(reason.contains("workfx only"), "{reason}");
            }
            other => panic!("expected an invalid option, got {other:?}"),
        }
    }
}

// ---- state file, faults, counters ----

#[tokio::test]
async fn the_state_survives_a_restart_and_ids_are_not_reused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let with_state = || SimOptions {
        state_file: Some(path.clone()),
        ..options()
    };

    let sim = start_with(with_state()).await;
    let kept = create(&sim, &pipeline("Kept")).await;
    patch(&sim, &kept, &json!({ "active": true })).await;
    let deleted = create(&sim, &text("Deleted")).await;
    sim.delete(&agent_path(&deleted)).await;
    let before = get(&sim, &kept).await;
    let snapshot = sim.admin(Method::GET, "/_sim/state", None).await.body;
    assert_eq!(snapshot["platform"], "agents-v1");
    sim.sim.shutdown().await.expect("the simulator stops");

    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("saved")).expect("JSON");
    assert_eq!(saved["platform"], "agents-v1");
    assert_eq!(
        saved["state"], snapshot["state"],
        "the snapshot is the state as saved"
    );

    let again = start_with(with_state()).await;
    assert_eq!(get(&again, &kept).await, before);
    let listed = again.get(AGENTS).await.body;
    assert_eq!(ids(&listed), std::slice::from_ref(&kept));
    let next = create(&again, &text("Next")).await;
    assert!(next != kept && next != deleted, "ids are never given twice");
}

#[tokio::test]
async fn a_state_file_of_another_platform_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let workfx = SimOptions {
        state_file: Some(path.clone()),
        ..SimOptions::loopback()
    };
    let sim = start_with(workfx).await;
    sim.create_agent(&json!({ "name": "A" })).await;
    sim.sim.shutdown().await.expect("the simulator stops");
    let before = std::fs::read(&path).expect("saved");

    let refused = agentsync::sim::start(SimOptions {
        state_file: Some(path.clone()),
        ..options()
    })
    .await;
    match refused {
        Err(SimError::StateInvalid { reason, .. }) => {
            assert!(reason.contains("workfx"), "{reason}")
        }
        other => panic!("expected a refused state file, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).expect("still there"), before);
}

#[tokio::test]
async fn injected_errors_and_rate_limits_answer_in_the_envelope_and_change_nothing() {
    let sim = start_with(SimOptions {
        faults: Faults {
            rate_limit_rate: 1.0,
            retry_after_secs: 3,
            ..Faults::none()
        },
        ..options()
    })
    .await;
    let limited = sim.post(AGENTS, &text("A")).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&limited.body), "rate_limited");
    assert_eq!(
        limited
            .headers
            .get("retry-after")
            .and_then(|value| value.to_str().ok()),
        Some("3")
    );

    sim.sim
        .set_faults(Faults {
            error_rate: 1.0,
            seed: 7,
            ..Faults::none()
        })
        .expect("valid faults");
    for _ in 0..10 {
        let failed = sim.post(AGENTS, &text("A")).await;
        let expected = match failed.status {
            StatusCode::INTERNAL_SERVER_ERROR => "internal_error",
            StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
            other => panic!("expected a 500 or 503, got {other}"),
        };
        assert_eq!(code(&failed.body), expected);
    }

    sim.sim.set_faults(Faults::none()).expect("valid faults");
    assert_eq!(total(&sim).await, 0, "no faulted create was applied");
    let counts = sim.sim.requests();
    assert_eq!((counts.writes, counts.status(429)), (11, 1));
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_writes_are_create_update_and_delete() {
    let sim = start().await;
    let id = create(&sim, &text("A")).await;
    sim.post(AGENTS, &json!({})).await;
    sim.get(AGENTS).await;
    get(&sim, &id).await;
    patch(&sim, &id, &json!({ "active": true })).await;
    sim.delete(&agent_path(&id)).await;
    sim.delete(&agent_path(&id)).await;
    sim.get("/v1/agent").await;

    let counts = sim.admin(Method::GET, "/_sim/requests", None).await.body;
    assert_eq!(
        counts,
        json!({
            "total": 8,
            "writes": 5,
            "dropped": 0,
            "by_route": {
                "DELETE /v1/agents/{id}": 2,
                "GET /v1/agents": 1,
                "GET /v1/agents/{id}": 1,
                "PATCH /v1/agents/{id}": 1,
                "POST /v1/agents": 2,
            },
            "by_status": { "200": 4, "201": 1, "400": 1, "404": 2 },
            "unmatched": { "GET /v1/agent": 1 },
        })
    );
}
