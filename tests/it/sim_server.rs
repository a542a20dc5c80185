//! The simulator's platform-neutral behaviour over real HTTP: auth, tenancy, faults, request
//! counters, shutdown.

use crate::sim_support;

use agentsync::sim::{Faults, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sim_support::{Sim, start, start_with};
use tokio::time::Instant;

fn named(name: &str) -> Value {
    json!({ "name": name })
}

async fn agent_count(sim: &Sim) -> usize {
    let state = sim.admin(Method::GET, "/_sim/state", None).await.body;
    state["state"]["agents"]
        .as_object()
        .map_or(0, |agents| agents.len())
}

fn with_faults(faults: Faults) -> SimOptions {
    SimOptions {
        faults,
        ..SimOptions::loopback()
    }
}

// ---- auth ----

#[tokio::test]
async fn with_a_token_requests_without_the_bearer_header_are_401_in_fastapi_shape() {
    let sim = start_with(SimOptions {
        token: Some("s3cret".to_owned()),
        ..SimOptions::loopback()
    })
    .await;
    let missing = sim.get("/agents").await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.body, json!({ "detail": "Not authenticated" }));
    assert_eq!(
        missing
            .headers
            .get("www-authenticate")
            .map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );

    let wrong = sim
        .client
        .post(sim.api("/agents"))
        .bearer_auth("guess")
        .json(&named("A"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(agent_count(&sim).await, 0);

    let right = sim
        .client
        .post(sim.api("/agents"))
        .bearer_auth("s3cret")
        .json(&named("A"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(right.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_sim_routes_need_no_token() {
    let sim = start_with(SimOptions {
        token: Some("t".to_owned()),
        ..SimOptions::loopback()
    })
    .await;
    let counts = sim.admin(Method::GET, "/_sim/requests", None).await;
    assert_eq!(counts.status, StatusCode::OK);
}

// ---- tenancy ----

#[tokio::test]
async fn objects_are_recorded_with_their_tenant_and_invisible_to_other_tenants() {
    let sim = start().await;
    let created = sim
        .post("/agents?tenant_id=t1&tenant_unit_id=u1", &named("A"))
        .await
        .body;
    let id = created["id"].as_str().unwrap_or_default();
    assert_eq!(
        (&created["tenant_id"], &created["tenant_unit_id"]),
        (&json!("t1"), &json!("u1"))
    );

    let own = sim
        .get(&format!("/agents/{id}?tenant_id=t1&tenant_unit_id=u1"))
        .await;
    assert_eq!(own.status, StatusCode::OK);
    let other = sim
        .get(&format!("/agents/{id}?tenant_id=t2&tenant_unit_id=u1"))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let none = sim.get("/agents").await.body;
    assert_eq!(none["total_count"], 0);
    let code = created["code"].as_str().unwrap_or_default();
    let by_code = sim
        .get(&format!(
            "/agents/code/{code}?tenant_id=t2&tenant_unit_id=u1"
        ))
        .await;
    assert_eq!(by_code.status, StatusCode::NOT_FOUND);

    let draft = sim
        .post(
            &format!("/agents/{id}/flows?tenant_id=t1&tenant_unit_id=u1"),
            &json!({ "graph": {} }),
        )
        .await
        .body;
    assert_eq!(
        (&draft["tenant_id"], &draft["tenant_unit_id"]),
        (&json!("t1"), &json!("u1"))
    );
}

#[tokio::test]
async fn a_simulator_pinned_to_a_tenant_refuses_other_or_missing_tenants_with_403() {
    let sim = start_with(SimOptions {
        tenant_id: Some("t1".to_owned()),
        tenant_unit_id: Some("u1".to_owned()),
        ..SimOptions::loopback()
    })
    .await;
    let ok = sim
        .post("/agents?tenant_id=t1&tenant_unit_id=u1", &named("A"))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    for query in [
        "",
        "?tenant_id=t1",
        "?tenant_id=t2&tenant_unit_id=u1",
        "?tenant_id=t1&tenant_unit_id=u2",
    ] {
        let refused = sim.get(&format!("/agents{query}")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{query}");
        assert_eq!(
            refused.body,
            json!({ "detail": "Not authorized for this tenant" })
        );
    }
    let refused_write = sim
        .post("/agents?tenant_id=t2&tenant_unit_id=u1", &named("B"))
        .await;
    assert_eq!(refused_write.status, StatusCode::FORBIDDEN);
    assert_eq!(agent_count(&sim).await, 1);
}

// ---- request counters ----

#[tokio::test]
async fn the_request_counters_count_routes_statuses_and_writes_but_not_invocations() {
    let sim = start().await;
    let id = sim.create_agent(&named("A")).await;
    sim.get("/agents").await;
    sim.get(&format!("/agents/{id}")).await;
    sim.post(&format!("/agents/{id}/flows"), &json!({ "graph": {} }))
        .await;
    sim.send(Method::POST, &format!("/agents/{id}/flows/publish"), None)
        .await;
    sim.post(&format!("/agents/{id}/chat"), &json!({})).await;
    sim.post(&format!("/agents/{id}/flows/draft/runs"), &json!({}))
        .await;
    sim.post("/agents", &json!({})).await;

    let counts = sim.admin(Method::GET, "/_sim/requests", None).await.body;
    assert_eq!(
        counts,
        json!({
            "total": 8,
            "writes": 4,
            "dropped": 0,
            "by_route": {
                "GET /admin/api/v2/agents": 1,
                "GET /admin/api/v2/agents/{agent_id}": 1,
                "POST /admin/api/v2/agents": 2,
                "POST /admin/api/v2/agents/{agent_id}/chat": 1,
                "POST /admin/api/v2/agents/{agent_id}/flows": 1,
                "POST /admin/api/v2/agents/{agent_id}/flows/draft/runs": 1,
                "POST /admin/api/v2/agents/{agent_id}/flows/publish": 1,
            },
            "by_status": { "200": 6, "201": 1, "422": 1 },
            "unmatched": {},
        })
    );
    assert_eq!(sim.sim.requests().route("POST /admin/api/v2/agents"), 2);
}

#[tokio::test]
async fn resetting_the_counters_keeps_the_state() {
    let sim = start().await;
    sim.create_agent(&named("A")).await;
    let reset = sim.admin(Method::POST, "/_sim/reset", None).await;
    assert_eq!(reset.status, StatusCode::OK);
    let counts = sim.sim.requests();
    assert_eq!((counts.total, counts.writes), (0, 0));
    assert!(counts.by_route.is_empty());
    assert_eq!(sim.get("/agents").await.body["total_count"], 1);
}

// ---- faults ----

#[tokio::test]
async fn latency_delays_every_answer_by_at_least_the_configured_time() {
    let sim = start_with(with_faults(Faults {
        latency_ms: 150,
        jitter_ms: 20,
        ..Faults::none()
    }))
    .await;
    let started = Instant::now();
    assert_eq!(sim.get("/agents").await.status, StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
}

#[tokio::test]
async fn an_error_rate_of_one_fails_every_request_with_5xx_and_changes_nothing() {
    let sim = start_with(with_faults(Faults {
        error_rate: 1.0,
        ..Faults::none()
    }))
    .await;
    for _ in 0..10 {
        let answer = sim.post("/agents", &named("A")).await;
        assert!(
            [
                StatusCode::INTERNAL_SERVER_ERROR,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(&answer.status),
            "{:?}",
            answer.status
        );
        assert!(answer.body["detail"].is_string());
    }
    assert_eq!(agent_count(&sim).await, 0);
    assert_eq!(sim.sim.requests().writes, 10);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults_in_the_same_order() {
    let faults = Faults {
        error_rate: 0.5,
        seed: 42,
        ..Faults::none()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let sim = start_with(with_faults(faults.clone())).await;
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(sim.get("/agents").await.status.as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|s| *s >= 500),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn rate_limiting_answers_429_with_retry_after_and_changes_nothing() {
    let sim = start_with(with_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 7,
        ..Faults::none()
    }))
    .await;
    let answer = sim.post("/agents", &named("A")).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("7")
    );
    assert_eq!(answer.body, json!({ "detail": "Too Many Requests" }));
    assert_eq!(agent_count(&sim).await, 0);
}

#[tokio::test]
async fn a_drop_before_handling_closes_the_connection_and_changes_nothing() {
    let sim = start_with(with_faults(Faults {
        drop_before_rate: 1.0,
        ..Faults::none()
    }))
    .await;
    let outcome = sim
        .try_send(Method::POST, "/agents", Some(&named("A")))
        .await;
    assert!(outcome.is_err(), "no answer expected: {outcome:?}");
    assert_eq!(agent_count(&sim).await, 0);
    assert_eq!(sim.sim.requests().dropped, 1);
}

#[tokio::test]
async fn a_drop_after_handling_closes_the_connection_but_the_write_happened() {
    let sim = start_with(with_faults(Faults {
        drop_rate: 1.0,
        ..Faults::none()
    }))
    .await;
    let outcome = sim
        .try_send(Method::POST, "/agents", Some(&named("A")))
        .await;
    assert!(outcome.is_err(), "no answer expected: {outcome:?}");
    sim.sim.set_faults(Faults::none()).expect("valid faults");
    let listed = sim.get("/agents").await.body;
    assert_eq!(listed["total_count"], 1);
    assert_eq!(listed["data"][0]["name"], "A");
}

#[tokio::test]
async fn faults_never_apply_to_the_sim_routes_and_can_be_changed_over_http() {
    let sim = start_with(with_faults(Faults {
        error_rate: 1.0,
        ..Faults::none()
    }))
    .await;
    assert_eq!(
        sim.admin(Method::GET, "/_sim/state", None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        sim.admin(Method::GET, "/_sim/requests", None).await.status,
        StatusCode::OK
    );
    let faults = sim.admin(Method::GET, "/_sim/faults", None).await.body;
    assert_eq!(faults["error_rate"], 1.0);

    let cleared = sim
        .admin(
            Method::PUT,
            "/_sim/faults",
            Some(&json!({ "latency_ms": 1 })),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["error_rate"], 0.0);
    assert_eq!(sim.get("/agents").await.status, StatusCode::OK);

    let invalid = sim
        .admin(
            Method::PUT,
            "/_sim/faults",
            Some(&json!({ "error_rate": 0.8, "drop_rate": 0.8 })),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn rates_outside_zero_to_one_or_adding_up_past_one_are_refused_at_start() {
    for faults in [
        Faults {
            error_rate: 1.5,
            ..Faults::none()
        },
        Faults {
            drop_rate: -0.1,
            ..Faults::none()
        },
        Faults {
            error_rate: 0.6,
            rate_limit_rate: 0.6,
            ..Faults::none()
        },
    ] {
        let refused = agentsync::sim::start(with_faults(faults)).await;
        assert!(matches!(
            refused,
            Err(agentsync::sim::SimError::InvalidOption { .. })
        ));
    }
}

// ---- lifecycle ----

#[tokio::test]
async fn shutting_down_stops_listening() {
    let sim = start().await;
    let addr = sim.sim.addr();
    sim.sim.shutdown().await.expect("the simulator stops");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
