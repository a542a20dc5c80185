//! The workfx provider over real loopback HTTP against the in-process simulator: listing across
//! pages, the ownership marker, field mapping, drafts and publishing, claims, updates, archive,
//! delete, auth, tenancy and validation errors, with the requests each operation takes.

use agentsync::content::Content;
use agentsync::http::Secret;
use agentsync::model::{Document, Key, Lifecycle};
use agentsync::provider::workfx::{WorkfxProvider, WorkfxSettings};
use agentsync::provider::{Provider, ProviderError, RemoteAgent};
use agentsync::sim::{self, RunningSim, SimOptions};
use reqwest::Url;
use serde_json::{Value, json};

const AGENTS: &str = "/admin/api/v2/agents";
const AGENT: &str = "/admin/api/v2/agents/{agent_id}";
const FLOWS: &str = "/admin/api/v2/agents/{agent_id}/flows";

async fn start_sim(options: SimOptions) -> RunningSim {
    sim::start(options).await.expect("the simulator starts")
}

fn settings_for(sim: &RunningSim) -> WorkfxSettings {
    let url = Url::parse(&sim.base_url()).expect("the simulator's URL parses");
    WorkfxSettings::new(url)
}

fn provider(settings: WorkfxSettings) -> WorkfxProvider {
    WorkfxProvider::new(settings).expect("the provider is set up")
}

async fn start() -> (RunningSim, WorkfxProvider) {
    let sim = start_sim(SimOptions::loopback()).await;
    let provider = provider(settings_for(&sim));
    (sim, provider)
}

fn doc(value: Value) -> Document {
    value.as_object().cloned().expect("a JSON object")
}

fn owner(text: &str) -> agentsync::model::Marker {
    agentsync::model::Marker::new(key(text), false)
}

fn key(text: &str) -> Key {
    Key::parse(text).expect("a valid key")
}

/// Raw HTTP beside the provider: to set up what the provider must read, and to check what it
/// wrote, without trusting the code under test.
async fn raw(sim: &RunningSim, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut request =
        reqwest::Client::new().request(method, format!("{}{AGENTS}{path}", sim.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the simulator answers");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("a JSON answer")
}

async fn raw_create(sim: &RunningSim, body: Value) -> String {
    let created = raw(sim, reqwest::Method::POST, "", Some(body)).await;
    created["id"].as_str().expect("an id").to_owned()
}

async fn raw_get(sim: &RunningSim, id: &str) -> Value {
    raw(sim, reqwest::Method::GET, &format!("/{id}"), None).await
}

fn find<'a>(agents: &'a [RemoteAgent], id: &str) -> &'a RemoteAgent {
    agents
        .iter()
        .find(|agent| agent.id == id)
        .expect("the agent is listed")
}

// ---- listing ----

#[tokio::test]
async fn listing_reads_every_agent_exactly_once_across_pages_in_three_requests() {
    let (sim, provider) = start().await;
    for n in 0..230 {
        let fields = doc(json!({ "name": format!("Agent {n}") }));
        provider
            .create_agent(&owner(&format!("agent-{n}")), &fields)
            .await
            .expect("created");
    }
    sim.reset_requests();

    let agents = provider.list_agents().await.expect("listed");

    assert_eq!(agents.len(), 230);
    let mut keys: Vec<String> = agents
        .iter()
        .map(|agent| agent.key.as_ref().expect("managed").to_string())
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 230, "every key once");
    let requests = sim.requests();
    assert_eq!(requests.route(&format!("GET {AGENTS}")), 3);
    assert_eq!(requests.total, 3);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn an_empty_platform_lists_no_agents_in_one_request() {
    let (sim, provider) = start().await;
    assert!(provider.list_agents().await.expect("listed").is_empty());
    assert_eq!(sim.requests().total, 1);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_created_agent_carries_its_key_and_others_are_unmanaged() {
    let (sim, provider) = start().await;
    let created = provider
        .create_agent(
            &owner("support-bot"),
            &doc(json!({ "name": "Support Bot" })),
        )
        .await
        .expect("created");
    assert_eq!(created.key, Some(key("support-bot")));
    assert_eq!(sim.requests().route(&format!("POST {AGENTS}")), 1);
    let plain = raw_create(&sim, json!({ "name": "Hand made" })).await;
    let malformed = raw_create(
        &sim,
        json!({ "name": "Odd", "extend_properties": { "agentsync": { "key": "Not A Key" } } }),
    )
    .await;

    let agents = provider.list_agents().await.expect("listed");

    assert_eq!(find(&agents, &created.id).key, Some(key("support-bot")));
    assert_eq!(find(&agents, &plain).key, None);
    assert_eq!(find(&agents, &malformed).key, None);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn listed_agents_have_definition_fields_only_with_tags_as_a_list() {
    let (sim, provider) = start().await;
    let id = raw_create(
        &sim,
        json!({
            "name": "Support Bot",
            "description": "Answers billing questions",
            "type": "single-agent",
            "mode": "flow-chat",
            "icon": "🤖",
            "icon_type": "emoji",
            "icon_background": "#EFF1F5",
            "tags": ["support", "billing"],
            "is_favorite": true,
        }),
    )
    .await;
    assert_eq!(
        raw_get(&sim, &id).await["tags"],
        json!("support,billing"),
        "the platform answers tags as one string"
    );

    let agents = provider.list_agents().await.expect("listed");

    let agent = find(&agents, &id);
    assert_eq!(agent.lifecycle, Lifecycle::Active);
    assert_eq!(
        Value::Object(agent.fields.clone()),
        json!({
            "name": "Support Bot",
            "description": "Answers billing questions",
            "type": "single-agent",
            "mode": "flow-chat",
            "icon": "🤖",
            "icon_type": "emoji",
            "icon_background": "#EFF1F5",
            "tags": ["support", "billing"],
            "is_favorite": true,
        })
    );
    sim.shutdown().await.expect("the simulator stops");
}

// ---- content ----

#[tokio::test]
async fn drafts_and_live_versions_follow_writes_and_publishes_one_request_per_read() {
    let (sim, provider) = start().await;
    let agent = provider
        .create_agent(&owner("flowing"), &doc(json!({ "name": "Flowing" })))
        .await
        .expect("created");
    let first = doc(json!({
        "mode": "chat",
        "graph": { "nodes": [{ "id": "start" }], "edges": [] },
        "flow_variables": { "API_BASE": "https://example.test" },
    }));
    let second = doc(json!({ "mode": "chat", "graph": { "nodes": [], "edges": [] } }));

    let empty = provider.read_content(&agent.id).await.expect("read");
    assert_eq!(
        (empty.draft, empty.live, empty.live_version),
        (None, None, None)
    );

    provider
        .write_draft(&agent.id, &Content::new(&first))
        .await
        .expect("draft written");
    let drafted = provider.read_content(&agent.id).await.expect("read");
    assert_eq!(drafted.draft.as_ref(), Some(&Content::new(&first)));
    assert_eq!(drafted.live, None);

    assert_eq!(provider.publish(&agent.id).await.expect("published"), "1");
    let published = provider.read_content(&agent.id).await.expect("read");
    assert_eq!(published.draft.as_ref(), Some(&Content::new(&first)));
    assert_eq!(published.live.as_ref(), Some(&Content::new(&first)));
    assert_eq!(published.live_version.as_deref(), Some("1"));

    provider
        .write_draft(&agent.id, &Content::new(&second))
        .await
        .expect("draft written");
    sim.reset_requests();
    let rewritten = provider.read_content(&agent.id).await.expect("read");
    assert_eq!(sim.requests().route(&format!("GET {FLOWS}")), 1);
    assert_eq!(sim.requests().total, 1);
    assert_eq!(rewritten.draft.as_ref(), Some(&Content::new(&second)));
    assert_eq!(
        rewritten.live.as_ref(),
        Some(&Content::new(&first)),
        "live stays until publish"
    );
    assert_eq!(rewritten.live_version.as_deref(), Some("1"));

    assert_eq!(provider.publish(&agent.id).await.expect("published"), "2");
    let republished = provider.read_content(&agent.id).await.expect("read");
    assert_eq!(republished.live.as_ref(), Some(&Content::new(&second)));
    assert_eq!(republished.live_version.as_deref(), Some("2"));
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn publishing_without_a_draft_is_not_found() {
    let (sim, provider) = start().await;
    let agent = provider
        .create_agent(&owner("bare"), &doc(json!({ "name": "Bare" })))
        .await
        .expect("created");
    let err = provider.publish(&agent.id).await.expect_err("no draft");
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("the draft of agent"), "{err}");
    sim.shutdown().await.expect("the simulator stops");
}

// ---- changing agents ----

#[tokio::test]
async fn claiming_an_agent_keeps_its_other_extend_properties_in_two_requests() {
    let (sim, provider) = start().await;
    let id = raw_create(
        &sim,
        json!({ "name": "Legacy", "extend_properties": { "team": "billing" } }),
    )
    .await;
    sim.reset_requests();

    provider
        .claim_agent(&id, &owner("legacy"))
        .await
        .expect("claimed");

    assert_eq!(sim.requests().total, 2);
    assert_eq!(sim.requests().writes, 1);
    assert_eq!(
        raw_get(&sim, &id).await["extend_properties"],
        json!({ "team": "billing", "agentsync": { "key": "legacy" } })
    );
    let agents = provider.list_agents().await.expect("listed");
    assert_eq!(find(&agents, &id).key, Some(key("legacy")));
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn an_update_sends_only_the_given_fields() {
    let (sim, provider) = start().await;
    let agent = provider
        .create_agent(
            &owner("tidy"),
            &doc(json!({ "name": "Tidy", "description": "old", "tags": ["a"] })),
        )
        .await
        .expect("created");
    // Someone renames it by hand; an update of other fields must not undo that.
    raw(
        &sim,
        reqwest::Method::PUT,
        &format!("/{}", agent.id),
        Some(json!({ "name": "Renamed by hand" })),
    )
    .await;
    sim.reset_requests();

    provider
        .update_agent(
            &agent.id,
            &owner("tidy"),
            &doc(json!({ "description": "new", "tags": ["b", "c"] })),
        )
        .await
        .expect("updated");

    assert_eq!(sim.requests().route(&format!("PUT {AGENT}")), 1);
    let stored = raw_get(&sim, &agent.id).await;
    assert_eq!(stored["name"], "Renamed by hand");
    assert_eq!(stored["description"], "new");
    assert_eq!(stored["tags"], "b,c");
    assert_eq!(
        stored["extend_properties"],
        json!({ "agentsync": { "key": "tidy" } })
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn changing_the_mode_of_an_existing_agent_is_refused_and_nothing_is_sent() {
    let (sim, provider) = start().await;
    let agent = provider
        .create_agent(
            &owner("moded"),
            &doc(json!({ "name": "Moded", "mode": "flow-chat" })),
        )
        .await
        .expect("created");
    sim.reset_requests();

    let err = provider
        .update_agent(
            &agent.id,
            &owner("moded"),
            &doc(json!({ "name": "New", "mode": "flow-job" })),
        )
        .await
        .expect_err("refused");

    assert!(matches!(err, ProviderError::Rejected { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("workfx cannot change the mode of an existing agent"),
        "{err}"
    );
    assert_eq!(sim.requests().total, 0);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn archiving_and_restoring_an_agent_shows_in_the_list() {
    let (sim, provider) = start().await;
    let agent = provider
        .create_agent(&owner("sleepy"), &doc(json!({ "name": "Sleepy" })))
        .await
        .expect("created");

    provider
        .set_lifecycle(&agent.id, Lifecycle::Archived)
        .await
        .expect("archived");
    assert_eq!(raw_get(&sim, &agent.id).await["status"], "ARCHIVED");
    let listed = provider.list_agents().await.expect("listed");
    assert_eq!(find(&listed, &agent.id).lifecycle, Lifecycle::Archived);

    provider
        .set_lifecycle(&agent.id, Lifecycle::Active)
        .await
        .expect("restored");
    let listed = provider.list_agents().await.expect("listed");
    assert_eq!(find(&listed, &agent.id).lifecycle, Lifecycle::Active);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_deleted_agent_is_gone_and_deleting_it_again_succeeds() {
    let (sim, provider) = start().await;
    let agent = provider
        .create_agent(&owner("doomed"), &doc(json!({ "name": "Doomed" })))
        .await
        .expect("created");

    provider.delete_agent(&agent.id).await.expect("deleted");

    assert!(provider.list_agents().await.expect("listed").is_empty());
    let err = provider
        .read_content(&agent.id)
        .await
        .expect_err("no agent");
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
    provider
        .delete_agent(&agent.id)
        .await
        .expect("already gone counts as deleted");
    sim.shutdown().await.expect("the simulator stops");
}

// ---- errors, auth, tenancy ----

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_shown() {
    let sim = start_sim(SimOptions {
        token: Some("the-right-token".to_owned()),
        ..SimOptions::loopback()
    })
    .await;
    let wrong = "wrong-token-4f9c2e";
    let provider = provider(WorkfxSettings {
        token: Some(Secret::new(wrong)),
        ..settings_for(&sim)
    });

    let err = provider.list_agents().await.expect_err("refused");

    assert!(
        matches!(err, ProviderError::Unauthorized { status: 401 }),
        "{err:?}"
    );
    for shown in [err.to_string(), format!("{err:?}"), format!("{provider:?}")] {
        assert!(!shown.contains(wrong), "the token leaked: {shown}");
    }
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn the_right_token_and_tenancy_are_sent_with_every_request() {
    let sim = start_sim(SimOptions {
        token: Some("the-right-token".to_owned()),
        tenant_id: Some("tenant-1".to_owned()),
        tenant_unit_id: Some("unit-1".to_owned()),
        ..SimOptions::loopback()
    })
    .await;
    let provider = provider(WorkfxSettings {
        token: Some(Secret::new("the-right-token")),
        tenant_id: Some("tenant-1".to_owned()),
        tenant_unit_id: Some("unit-1".to_owned()),
        ..settings_for(&sim)
    });
    let agent = provider
        .create_agent(&owner("tenanted"), &doc(json!({ "name": "Tenanted" })))
        .await
        .expect("created");
    provider
        .write_draft(&agent.id, &Content::new(&doc(json!({ "graph": {} }))))
        .await
        .expect("draft written");
    assert_eq!(provider.publish(&agent.id).await.expect("published"), "1");
    assert_eq!(provider.list_agents().await.expect("listed").len(), 1);

    let outsider = WorkfxProvider::new(WorkfxSettings {
        token: Some(Secret::new("the-right-token")),
        ..settings_for(&sim)
    })
    .expect("set up");
    let err = outsider.list_agents().await.expect_err("wrong tenant");
    assert!(
        matches!(err, ProviderError::Unauthorized { status: 403 }),
        "{err:?}"
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_validation_error_names_the_field() {
    let (sim, provider) = start().await;
    let err = provider
        .create_agent(
            &owner("nameless"),
            &doc(json!({ "description": "no name" })),
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, ProviderError::Rejected { status: 422, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("body.name: Field required"),
        "{err}"
    );
    assert!(
        err.to_string().contains("the new agent 'nameless'"),
        "{err}"
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn an_unknown_agent_is_not_found() {
    let (sim, provider) = start().await;
    let missing = "00000000-0000-4000-8000-000000000000";
    let err = provider
        .claim_agent(missing, &owner("ghost"))
        .await
        .expect_err("no agent");
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(missing), "{err}");
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn the_capabilities_are_those_of_workfx() {
    let (sim, provider) = start().await;
    let capabilities = provider.capabilities();
    assert!(capabilities.drafts && capabilities.publish && capabilities.versions);
    assert!(capabilities.archive && capabilities.delete);
    assert!(!capabilities.validation);
    sim.shutdown().await.expect("the simulator stops");
}
