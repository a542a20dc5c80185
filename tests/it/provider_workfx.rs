//! The workfx provider over real loopback HTTP against the in-process simulator: listing across
//! pages, the ownership marker, field mapping, drafts and publishing, claims, updates, archive,
//! delete, auth, tenancy and validation errors, with the requests each operation takes.

use crate::fixture;
use crate::fixture::PlatformFixture;

use agentsync::model::content::Content;
use agentsync::model::{Document, Key, Lifecycle};
use agentsync::provider::http::Secret;
use agentsync::provider::workfx::{WorkfxProvider, WorkfxSettings};
use agentsync::provider::{Provider, ProviderError, RemoteAgent};
use agentsync::sim::{
    self, Faults, FlowOrder, ListShape, Readings, RunningSim, SimOptions, UpdateReading,
};
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

/// Both readings of workfx's `PUT`: fields left out kept, or reset to the documented defaults.
const UPDATE_READINGS: [UpdateReading; 2] = [UpdateReading::Merge, UpdateReading::Replace];

async fn start_reading(update: UpdateReading) -> (RunningSim, WorkfxProvider) {
    let sim = start_sim(SimOptions {
        readings: Readings {
            update,
            ..Readings::default()
        },
        ..SimOptions::loopback()
    })
    .await;
    let provider = provider(settings_for(&sim));
    (sim, provider)
}

/// Every updatable field set, archived, with another tool's property beside the marker.
fn full_agent(key: &str) -> Value {
    json!({
        "name": "Tidy", "description": "old", "tags": ["a"], "icon": "🤖", "icon_type": "emoji",
        "icon_background": "#EFF1F5", "is_favorite": true, "status": "ARCHIVED",
        "usage_guide": "ask nicely",
        "extend_properties": { "team": "billing", "agentsync": { "key": key } },
    })
}

/// An agent made by hand with [`full_agent`]'s fields, as the platform lists it.
async fn raw_full_agent(sim: &RunningSim, key: &str) -> String {
    let mut create = full_agent(key);
    let object = create.as_object_mut().expect("an object");
    object.remove("status");
    object.remove("usage_guide");
    let id = raw_create(sim, create).await;
    // Archived and given a usage guide by hand, in a body whole under either reading.
    raw(
        sim,
        reqwest::Method::PUT,
        &format!("/{id}"),
        Some(full_agent(key)),
    )
    .await;
    id
}

/// Asserts that the agent still holds every field of [`full_agent`] but those in `changed`.
async fn assert_kept(sim: &RunningSim, id: &str, changed: Value, reading: UpdateReading) {
    let stored = raw_get(sim, id).await;
    let mut expected = full_agent("tidy");
    expected["tags"] = json!("a");
    for (name, value) in changed.as_object().expect("an object") {
        expected[name] = value.clone();
    }
    for (name, value) in expected.as_object().expect("an object") {
        assert_eq!(&stored[name], value, "{name} under {reading:?}");
    }
}

#[tokio::test]
async fn an_update_sends_the_agent_as_listed_with_the_change_under_either_reading_of_put() {
    for reading in UPDATE_READINGS {
        let (sim, provider) = start_reading(reading).await;
        let id = raw_full_agent(&sim, "tidy").await;
        provider.list_agents().await.expect("listed");
        sim.reset_requests();

        provider
            .update_agent(
                &id,
                &owner("tidy"),
                &doc(json!({ "description": "new", "tags": ["b", "c"] })),
            )
            .await
            .expect("updated");

        // One request: the rest of the agent comes from the list, not from a read.
        assert_eq!(sim.requests().route(&format!("PUT {AGENT}")), 1);
        assert_eq!(sim.requests().total, 1);
        assert_kept(
            &sim,
            &id,
            json!({ "description": "new", "tags": "b,c" }),
            reading,
        )
        .await;
        sim.shutdown().await.expect("the simulator stops");
    }
}

#[tokio::test]
async fn an_update_of_an_agent_not_listed_reads_it_first() {
    let (sim, provider) = start_reading(UpdateReading::Replace).await;
    let id = raw_full_agent(&sim, "tidy").await;
    sim.reset_requests();
    provider
        .update_agent(&id, &owner("tidy"), &doc(json!({ "description": "new" })))
        .await
        .expect("updated");
    assert_eq!(sim.requests().route(&format!("GET {AGENT}")), 1);
    assert_eq!(sim.requests().total, 2);
    assert_kept(
        &sim,
        &id,
        json!({ "description": "new" }),
        UpdateReading::Replace,
    )
    .await;
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn archiving_and_restoring_keep_every_field_and_the_marker_under_either_reading_of_put() {
    for reading in UPDATE_READINGS {
        let (sim, provider) = start_reading(reading).await;
        let id = raw_full_agent(&sim, "tidy").await;
        provider.list_agents().await.expect("listed");
        sim.reset_requests();

        provider
            .set_lifecycle(&id, Lifecycle::Active)
            .await
            .expect("restored");
        assert_kept(&sim, &id, json!({ "status": "ACTIVE" }), reading).await;
        provider
            .update_agent(&id, &owner("tidy"), &doc(json!({ "name": "Renamed" })))
            .await
            .expect("updated");
        provider
            .set_lifecycle(&id, Lifecycle::Archived)
            .await
            .expect("archived");

        // Each write built on the one before it, without reading the agent (the one read is
        // this test's own).
        assert_eq!(sim.requests().writes, 3);
        assert_eq!(sim.requests().total, 4);
        assert_kept(&sim, &id, json!({ "name": "Renamed" }), reading).await;
        let listed = provider.list_agents().await.expect("listed");
        assert_eq!(find(&listed, &id).lifecycle, Lifecycle::Archived);
        assert_eq!(find(&listed, &id).key, Some(key("tidy")));
        sim.shutdown().await.expect("the simulator stops");
    }
}

#[tokio::test]
async fn claiming_keeps_every_field_under_either_reading_of_put() {
    for reading in UPDATE_READINGS {
        let (sim, provider) = start_reading(reading).await;
        let id = raw_full_agent(&sim, "old-key").await;
        sim.reset_requests();
        provider
            .claim_agent(&id, &agentsync::model::Marker::new(key("tidy"), true))
            .await
            .expect("claimed");
        assert_eq!(sim.requests().total, 2);
        assert_kept(
            &sim,
            &id,
            json!({ "extend_properties": { "team": "billing", "agentsync": { "key": "tidy", "protect": true } } }),
            reading,
        )
        .await;
        sim.shutdown().await.expect("the simulator stops");
    }
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
    assert!(capabilities.publish && capabilities.tenancy);
    assert!(capabilities.archive && capabilities.delete);
    sim.shutdown().await.expect("the simulator stops");
}

// ---- answers that cannot be believed ----

/// A simulator holding `n` managed agents, and the provider.
async fn start_with_agents(n: usize) -> (RunningSim, WorkfxProvider) {
    let (sim, provider) = start().await;
    for i in 0..n {
        provider
            .create_agent(
                &owner(&format!("agent-{i}")),
                &doc(json!({ "name": format!("Agent {i}") })),
            )
            .await
            .expect("created");
    }
    sim.reset_requests();
    (sim, provider)
}

fn breaking(sim: &RunningSim, faults: Faults) {
    sim.set_faults(faults).expect("valid faults");
}

/// The message of an answer that could not be believed, naming `endpoint`.
fn broken_answer(err: ProviderError, endpoint: &str) -> String {
    assert!(
        matches!(err, ProviderError::BrokenAnswer { .. }),
        "a broken answer, not {err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(endpoint), "{message}");
    message
}

const AGENT_LIST: &str = "GET /admin/api/v2/agents";

#[tokio::test]
async fn a_list_without_its_paging_fields_is_an_error_not_an_empty_platform() {
    let (sim, provider) = start_with_agents(5).await;
    breaking(
        &sim,
        Faults {
            agent_list: ListShape::NoPagingFields,
            ..Faults::none()
        },
    );
    let err = provider.list_agents().await.expect_err("not believed");
    let message = broken_answer(err, AGENT_LIST);
    assert!(
        message.contains("it has no `total_count`, `total_pages`, `has_next_page`"),
        "{message}"
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_list_announcing_agents_it_does_not_hold_is_an_error_not_an_empty_platform() {
    let (sim, provider) = start_with_agents(5).await;
    breaking(
        &sim,
        Faults {
            agent_list: ListShape::NoItems,
            ..Faults::none()
        },
    );
    let err = provider.list_agents().await.expect_err("not believed");
    let message = broken_answer(err, AGENT_LIST);
    assert!(
        message.contains("it announces 5 items in all, but its pages held 0"),
        "{message}"
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_list_whose_pages_end_before_its_total_is_an_error() {
    let (sim, provider) = start_with_agents(150).await;
    breaking(
        &sim,
        Faults {
            agent_list: ListShape::EndsEarly,
            ..Faults::none()
        },
    );
    let err = provider.list_agents().await.expect_err("not believed");
    let message = broken_answer(err, AGENT_LIST);
    assert!(message.contains("it announces 150 items"), "{message}");
    assert_eq!(sim.requests().total, 1);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn pages_that_always_say_another_follows_are_read_only_as_far_as_the_first_announced() {
    let (sim, provider) = start_with_agents(150).await;
    breaking(
        &sim,
        Faults {
            agent_list: ListShape::Repeats,
            ..Faults::none()
        },
    );
    // Two pages announced, both holding the first hundred: fifty agents were never listed.
    let err = provider.list_agents().await.expect_err("not believed");
    let message = broken_answer(err, AGENT_LIST);
    assert!(
        message.contains("it announces 150 items in all, but its pages held 100"),
        "{message}"
    );
    assert_eq!(sim.requests().total, 2);
    sim.shutdown().await.expect("the simulator stops");

    // One page announced and read: its agents are all there is.
    let (sim, provider) = start_with_agents(5).await;
    breaking(
        &sim,
        Faults {
            agent_list: ListShape::Repeats,
            ..Faults::none()
        },
    );
    assert_eq!(provider.list_agents().await.expect("listed").len(), 5);
    assert_eq!(sim.requests().total, 1);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_huge_total_pages_is_refused_after_the_first_page() {
    let (sim, provider) = start_with_agents(5).await;
    breaking(
        &sim,
        Faults {
            agent_list: ListShape::HugeTotalPages,
            ..Faults::none()
        },
    );
    let err = provider.list_agents().await.expect_err("not believed");
    let message = broken_answer(err, AGENT_LIST);
    assert!(
        message.contains("it announces 5 items on 1000000000 pages"),
        "{message}"
    );
    assert_eq!(sim.requests().total, 1);
    sim.shutdown().await.expect("the simulator stops");
}

/// An agent with versions "1" and "2" published and a draft `{"graph": {"v": 3}}` written
/// since; its id.
async fn agent_with_two_versions_and_a_draft(provider: &WorkfxProvider) -> String {
    let agent = provider
        .create_agent(&owner("versioned"), &doc(json!({ "name": "Versioned" })))
        .await
        .expect("created");
    for v in 1..=3 {
        provider
            .write_draft(
                &agent.id,
                &Content::new(&doc(json!({ "graph": { "v": v } }))),
            )
            .await
            .expect("draft written");
        if v < 3 {
            provider.publish(&agent.id).await.expect("published");
        }
    }
    agent.id
}

#[tokio::test]
async fn a_version_list_without_its_paging_fields_or_ending_before_its_total_is_an_error() {
    for shape in [ListShape::NoPagingFields, ListShape::EndsEarly] {
        let (sim, provider) = start().await;
        let id = agent_with_two_versions_and_a_draft(&provider).await;
        breaking(
            &sim,
            Faults {
                flow_list: shape,
                ..Faults::none()
            },
        );
        let err = provider.read_content(&id).await.expect_err("not believed");
        broken_answer(err, "GET /admin/api/v2/agents/{agent_id}/flows");
        sim.shutdown().await.expect("the simulator stops");
    }
}

async fn start_ordered(flow_order: FlowOrder) -> (RunningSim, WorkfxProvider) {
    let sim = start_sim(SimOptions {
        readings: Readings {
            flow_order,
            ..Readings::default()
        },
        ..SimOptions::loopback()
    })
    .await;
    let provider = provider(settings_for(&sim));
    (sim, provider)
}

#[tokio::test]
async fn the_draft_and_the_live_version_are_found_whatever_the_order_of_the_version_list() {
    // Draft first costs one request; the draft after the versions one more, to read it; out
    // of order, one more to read every page.
    for (order, requests) in [
        (FlowOrder::DraftFirst, 1),
        (FlowOrder::ByCreation, 2),
        (FlowOrder::OldestFirst, 2),
    ] {
        let (sim, provider) = start_ordered(order).await;
        let id = agent_with_two_versions_and_a_draft(&provider).await;
        sim.reset_requests();

        let content = provider.read_content(&id).await.expect("read");

        let graph = |content: Option<Content>| content.map(|c| Value::Object(c.document()));
        assert_eq!(
            graph(content.draft),
            Some(json!({ "graph": { "v": 3 } })),
            "{order:?}"
        );
        assert_eq!(
            graph(content.live),
            Some(json!({ "graph": { "v": 2 } })),
            "{order:?}"
        );
        assert_eq!(content.live_version.as_deref(), Some("2"), "{order:?}");
        assert_eq!(sim.requests().total, requests, "{order:?}");
        sim.shutdown().await.expect("the simulator stops");
    }
}

#[tokio::test]
async fn version_pages_that_always_say_another_follows_are_read_only_as_far_as_announced() {
    let (sim, provider) = start_ordered(FlowOrder::OldestFirst).await;
    let id = agent_with_two_versions_and_a_draft(&provider).await;
    breaking(
        &sim,
        Faults {
            flow_list: ListShape::Repeats,
            ..Faults::none()
        },
    );
    sim.reset_requests();
    let content = provider.read_content(&id).await.expect("read");
    assert_eq!(content.live_version.as_deref(), Some("2"));
    // The first two newest, then the one page of 100 that holds all three.
    assert_eq!(sim.requests().total, 2);
    sim.shutdown().await.expect("the simulator stops");
}

// ---- the marker after create ----

#[tokio::test]
async fn a_create_whose_marker_the_platform_drops_is_an_error_and_no_other_create_is_sent() {
    let (sim, provider) = start().await;
    breaking(
        &sim,
        Faults {
            drop_extend_properties_on_create: true,
            ..Faults::none()
        },
    );
    let err = provider
        .create_agent(&owner("first"), &doc(json!({ "name": "First" })))
        .await
        .expect_err("the marker is gone");
    assert!(matches!(err, ProviderError::Protocol { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("the new agent 'first'"), "{message}");
    assert!(message.contains("delete it on the platform"), "{message}");

    let err = provider
        .create_agent(&owner("second"), &doc(json!({ "name": "Second" })))
        .await
        .expect_err("not sent");
    assert!(err.to_string().contains("not sent"), "{err}");
    assert_eq!(sim.requests().route(&format!("POST {AGENTS}")), 1);
    sim.shutdown().await.expect("the simulator stops");
}

// ---- whole runs ----

use fixture::workfx::{Workfx, count};
use fixture::{Repo, minimal, with_flow};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_against_a_list_that_holds_none_of_the_agents_it_announces_writes_nothing() {
    let repo = Repo::new();
    for key in ["a", "b", "c", "d", "e"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let platform = Workfx::applied(&repo).await;
    breaking(
        &platform.sim,
        Faults {
            agent_list: ListShape::NoItems,
            ..Faults::none()
        },
    );
    let run = platform.run(&repo, &["apply", "--yes"]).await;
    run.expect_code(1);
    run.expect_stderr_contains("cannot be relied on");
    assert_eq!(platform.requests().writes, 0);
    breaking(&platform.sim, Faults::none());
    assert_eq!(platform.agents().await.len(), 5, "no agent made twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_archives_under_a_replacing_put_keep_the_agent_managed_and_archived() {
    let platform = Workfx::start_with(SimOptions {
        readings: Readings {
            update: UpdateReading::Replace,
            ..Readings::default()
        },
        ..SimOptions::loopback()
    })
    .await;
    let repo = Repo::new();
    let definition = |rest: &str| format!("{}description: {rest}\n", minimal("kept"));
    repo.write("agents/kept.yaml", &definition("one\ntags: [x]"));
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();
    repo.write(
        "agents/kept.yaml",
        &definition("two\ntags: [x]\nstatus: archived"),
    );
    platform
        .run(&repo, &["apply", "--yes"])
        .await
        .expect_success();

    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
    let agents = platform.agents().await;
    assert_eq!(agents.len(), 1, "no agent made twice: {agents:?}");
    assert_eq!(agents[0]["status"], "ARCHIVED");
    assert_eq!(agents[0]["description"], "two");
    assert_eq!(agents[0]["tags"], "x");
    assert_eq!(agents[0]["extend_properties"]["agentsync"]["key"], "kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_plan_finds_every_draft_when_versions_are_listed_by_creation() {
    let platform = Workfx::start_with(SimOptions {
        readings: Readings {
            flow_order: FlowOrder::ByCreation,
            ..Readings::default()
        },
        ..SimOptions::loopback()
    })
    .await;
    let repo = Repo::new();
    for round in ["first", "second"] {
        for key in ["x", "y", "z"] {
            repo.write(&format!("agents/{key}.yaml"), &with_flow(key, round));
        }
        platform
            .run(&repo, &["apply", "--yes"])
            .await
            .expect_success();
    }
    platform.reset();
    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();
    // The newest two versions, then the draft they do not hold.
    let requests = platform.requests();
    assert_eq!(count(&requests, "GET", "/agents/{agent_id}/flows"), 3);
    assert_eq!(count(&requests, "GET", "/agents/{agent_id}/flows/draft"), 3);
    assert_eq!(requests.total, 1 + 3 * 2, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_stops_creating_at_the_first_agent_whose_marker_is_dropped() {
    let platform = Workfx::start().await;
    breaking(
        &platform.sim,
        Faults {
            drop_extend_properties_on_create: true,
            ..Faults::none()
        },
    );
    let repo = Repo::new();
    for key in ["a", "b", "c"] {
        repo.write(&format!("agents/{key}.yaml"), &minimal(key));
    }
    let run = platform
        .run(&repo, &["apply", "--yes", "--concurrency", "1"])
        .await;
    run.expect_code(1);
    run.expect_stderr_contains("delete it on the platform");
    assert_eq!(count(&platform.requests(), "POST", "/agents"), 1);
}
