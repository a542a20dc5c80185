//! The one HTTP policy over real loopback HTTP against the in-process simulator and its injected
//! faults: what is retried and what is not, `Retry-After`, the caps on attempts and on time,
//! error mapping, counters, and the token kept out of errors and logs.

use crate::fixture;
use crate::fixture::PlatformFixture;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use agentsync::provider::ProviderError;
use agentsync::provider::http::{ApiRequest, HttpClient, HttpSettings, MAX_BODY_BYTES, Secret};
use agentsync::sim::{self, Faults, RunningSim, SimOptions};
use reqwest::Url;
use serde_json::{Value, json};

const AGENTS: &str = "/admin/api/v2/agents";

/// Quick retries, so that tests spend their time only where `Retry-After` says.
fn quick() -> HttpSettings {
    HttpSettings {
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        ..HttpSettings::default()
    }
}

async fn start_sim(options: SimOptions) -> RunningSim {
    sim::start(options).await.expect("the simulator starts")
}

async fn start_with_faults(faults: Faults) -> RunningSim {
    start_sim(SimOptions {
        faults,
        ..SimOptions::loopback()
    })
    .await
}

fn client(sim: &RunningSim, settings: HttpSettings) -> HttpClient {
    client_with(sim, None, Vec::new(), settings)
}

fn client_with(
    sim: &RunningSim,
    token: Option<Secret>,
    query: Vec<(String, String)>,
    settings: HttpSettings,
) -> HttpClient {
    let base = Url::parse(&sim.base_url()).expect("the simulator's URL parses");
    HttpClient::new(base, token, query, settings).expect("the client is set up")
}

fn list() -> ApiRequest<'static> {
    ApiRequest::get(AGENTS, "the agent list")
}

// ---- what is retried ----

#[tokio::test]
async fn a_get_retries_through_rate_limits_and_waits_at_least_retry_after() {
    // Seed 5 at this rate answers 429 first, then 200.
    let sim = start_sim(SimOptions::loopback()).await;
    sim.set_faults(Faults {
        seed: 5,
        rate_limit_rate: 0.5,
        retry_after_secs: 1,
        ..Faults::none()
    })
    .expect("valid faults");
    let client = client(&sim, quick());
    let started = Instant::now();

    let answer: Value = client.send(list()).await.expect("listed in the end");

    let rate_limited = sim.requests().status(429);
    assert!(rate_limited >= 1, "the seed gives at least one 429");
    assert_eq!(sim.requests().status(200), 1);
    assert!(answer["data"].is_array());
    assert!(
        started.elapsed() >= Duration::from_secs(rate_limited),
        "waited {:?} for {rate_limited} Retry-After of 1 s",
        started.elapsed()
    );
    let stats = client.stats();
    assert_eq!(stats.status(429), rate_limited);
    assert_eq!(stats.retries, rate_limited);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_post_is_retried_after_a_rate_limit_but_never_after_a_server_error() {
    // A 429 is refused before it is handled: sending it again cannot do anything twice.
    let sim = start_with_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 0,
        ..Faults::none()
    })
    .await;
    let first = client(&sim, quick());
    let body = json!({ "name": "Once" });
    let err = first
        .send::<Value>(ApiRequest::post(AGENTS, "the new agent").json(&body))
        .await
        .expect_err("rate limited");
    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert_eq!(sim.requests().total, u64::from(quick().max_attempts));
    sim.shutdown().await.expect("the simulator stops");

    // A 503 may come after the work was done: the caller re-observes instead.
    let sim = start_with_faults(Faults {
        error_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let second = client(&sim, quick());
    let err = second
        .send::<Value>(ApiRequest::post(AGENTS, "the new agent").json(&body))
        .await
        .expect_err("server error");
    assert!(err.outcome_unknown(), "{err:?}");
    assert_eq!(sim.requests().total, 1);
    assert_eq!(second.stats().retries, 0);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_post_whose_connection_drops_is_not_retried_and_its_outcome_is_unknown() {
    let sim = start_with_faults(Faults {
        drop_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let client = client(&sim, quick());
    let body = json!({ "name": "Maybe" });

    let err = client
        .send::<Value>(ApiRequest::post(AGENTS, "the new agent").json(&body))
        .await
        .expect_err("no answer");

    assert!(matches!(err, ProviderError::Transport { .. }), "{err:?}");
    assert!(err.outcome_unknown());
    assert_eq!(sim.requests().total, 1);
    assert_eq!(sim.requests().writes, 1);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_validation_error_is_not_retried_even_for_an_idempotent_method() {
    let sim = start_sim(SimOptions::loopback()).await;
    let client = client(&sim, quick());
    let body = json!({ "name": 42 });
    let path = format!("{AGENTS}/00000000-0000-4000-8000-000000000000");

    let err = client
        .send::<Value>(ApiRequest::put(path, "agent 0000").json(&body))
        .await
        .expect_err("rejected");

    let ProviderError::Rejected {
        status, message, ..
    } = &err
    else {
        panic!("a rejection, not {err:?}");
    };
    assert_eq!(*status, 422);
    assert_eq!(message, "body.name: Input should be a valid string");
    assert!(
        err.to_string()
            .contains("rejected agent 0000 (422): body.name: Input should be a valid string"),
        "{err}"
    );
    assert_eq!(sim.requests().total, 1);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn dropped_connections_are_retried_for_a_get_up_to_the_attempt_cap() {
    let sim = start_with_faults(Faults {
        drop_before_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let client = client(
        &sim,
        HttpSettings {
            max_attempts: 3,
            ..quick()
        },
    );

    let err = client.send::<Value>(list()).await.expect_err("no answer");

    assert!(matches!(err, ProviderError::Transport { .. }), "{err:?}");
    assert_eq!(sim.requests().dropped, 3);
    let stats = client.stats();
    assert_eq!((stats.transport_errors, stats.retries), (3, 2));
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried_for_a_get() {
    let sim = start_with_faults(Faults {
        latency_ms: 2_000,
        ..Faults::none()
    })
    .await;
    let client = client(
        &sim,
        HttpSettings {
            request_timeout: Duration::from_millis(100),
            max_attempts: 2,
            ..quick()
        },
    );

    let err = client.send::<Value>(list()).await.expect_err("too slow");

    let ProviderError::Transport { source, .. } = &err else {
        panic!("a transport error, not {err:?}");
    };
    assert!(source.is_timeout(), "{source:?}");
    assert_eq!(client.stats().transport_errors, 2);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_get_answered_500_is_retried_like_a_503() {
    // Every answer is a 500 or a 503.
    let sim = start_with_faults(Faults {
        seed: 3,
        error_rate: 1.0,
        ..Faults::none()
    })
    .await;
    let client = client(
        &sim,
        HttpSettings {
            max_attempts: 4,
            ..quick()
        },
    );

    let err = client
        .send::<Value>(list())
        .await
        .expect_err("never served");

    assert!(matches!(err, ProviderError::Server { .. }), "{err:?}");
    assert!(sim.requests().status(500) >= 1, "{:?}", sim.requests());
    assert_eq!(sim.requests().total, 4);
    assert_eq!(client.stats().retries, 3);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_plan_of_200_agents_succeeds_when_one_request_in_twenty_fails() {
    let repo = fixture::Repo::new();
    for i in 0..200 {
        let key = format!("agent-{i:03}");
        repo.write(
            &format!("agents/{key}.yaml"),
            &fixture::with_flow(&key, &format!("prompt {i}")),
        );
    }
    let platform = fixture::workfx::Workfx::applied(&repo).await;
    platform
        .sim
        .set_faults(Faults {
            seed: 17,
            error_rate: 0.05,
            ..Faults::none()
        })
        .expect("valid faults");

    platform
        .run(&repo, &["plan", "--detailed-exitcode"])
        .await
        .expect_success();

    let requests = platform.requests();
    assert!(requests.status(500) > 0, "{requests:?}");
    assert_eq!(requests.writes, 0);
}

// ---- caps ----

#[tokio::test]
async fn rate_limits_end_as_rate_limited_at_the_attempt_cap() {
    let sim = start_with_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 0,
        ..Faults::none()
    })
    .await;
    let client = client(
        &sim,
        HttpSettings {
            max_attempts: 3,
            ..quick()
        },
    );

    let err = client
        .send::<Value>(list())
        .await
        .expect_err("rate limited");

    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert_eq!(sim.requests().status(429), 3);
    assert_eq!(client.stats().retries, 2);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn retries_stop_before_a_wait_that_would_pass_the_time_allowed() {
    let sim = start_with_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 1,
        ..Faults::none()
    })
    .await;
    let allowed = Duration::from_millis(1_500);
    let client = client(
        &sim,
        HttpSettings {
            max_attempts: 10,
            max_elapsed: allowed,
            ..quick()
        },
    );
    let started = Instant::now();

    let err = client
        .send::<Value>(list())
        .await
        .expect_err("rate limited");

    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert!(started.elapsed() < allowed, "took {:?}", started.elapsed());
    // One wait of a second fits in 1.5 s; a second one would not.
    assert_eq!(sim.requests().total, 2);
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn a_retry_after_longer_than_the_time_allowed_is_not_waited_for() {
    let sim = start_with_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 30,
        ..Faults::none()
    })
    .await;
    let client = client(
        &sim,
        HttpSettings {
            max_elapsed: Duration::from_secs(5),
            ..quick()
        },
    );
    let started = Instant::now();

    let err = client
        .send::<Value>(list())
        .await
        .expect_err("rate limited");

    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(sim.requests().total, 1);
    sim.shutdown().await.expect("the simulator stops");
}

// ---- answers ----

#[tokio::test]
async fn an_answer_larger_than_the_limit_is_an_error_and_is_not_read_to_its_end() {
    let sim = start_with_faults(Faults {
        oversize_bytes: 4 * 1024 * 1024,
        ..Faults::none()
    })
    .await;
    let client = client(
        &sim,
        HttpSettings {
            max_body_bytes: 64 * 1024,
            ..quick()
        },
    );

    let err = client.send::<Value>(list()).await.expect_err("too large");

    let message = err.to_string();
    assert!(matches!(err, ProviderError::BrokenAnswer { .. }), "{err:?}");
    assert!(
        message.contains("GET /admin/api/v2/agents (the agent list) cannot be relied on: it is larger than 64 KiB"),
        "{message}"
    );
    // Not retried: the next answer would be as large.
    assert_eq!(sim.requests().total, 1);
    // The same answer a little smaller than the limit is read as it is, whitespace and all.
    sim.set_faults(Faults {
        oversize_bytes: 60 * 1024,
        ..Faults::none()
    })
    .expect("valid faults");
    let listed: Value = client.send(list()).await.expect("read");
    assert!(listed["data"].is_array());
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn an_answer_of_more_than_64_mib_is_refused_by_default() {
    assert_eq!(HttpSettings::default().max_body_bytes, MAX_BODY_BYTES);
    let sim = start_with_faults(Faults {
        oversize_bytes: MAX_BODY_BYTES as u64,
        ..Faults::none()
    })
    .await;
    let client = client(&sim, quick());
    let err = client.send::<Value>(list()).await.expect_err("too large");
    assert!(
        err.to_string().contains("it is larger than 64 MiB"),
        "{err}"
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let base = Url::parse(&format!("http://127.0.0.1:{port}")).expect("a URL");
    let client = HttpClient::new(
        base,
        None,
        Vec::new(),
        HttpSettings {
            max_attempts: 2,
            ..quick()
        },
    )
    .expect("set up");

    let err = client.send::<Value>(list()).await.expect_err("unreachable");

    assert!(matches!(err, ProviderError::Transport { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "could not reach the platform for the agent list"
    );
    assert_eq!(client.stats().transport_errors, 2);
}

#[tokio::test]
async fn the_default_query_is_sent_with_every_request() {
    let sim = start_sim(SimOptions {
        tenant_id: Some("tenant-1".to_owned()),
        ..SimOptions::loopback()
    })
    .await;
    let tenancy = vec![("tenant_id".to_owned(), "tenant-1".to_owned())];
    let tenant = client_with(&sim, None, tenancy, quick());
    let outsider = client(&sim, quick());

    let listed: Value = tenant.send(list()).await.expect("listed");
    let refused = outsider.send::<Value>(list()).await.expect_err("refused");

    assert_eq!(listed["total_count"], 0);
    assert!(
        matches!(refused, ProviderError::Unauthorized { status: 403 }),
        "{refused:?}"
    );
    sim.shutdown().await.expect("the simulator stops");
}

#[tokio::test]
async fn answers_are_counted_by_status() {
    let sim = start_sim(SimOptions::loopback()).await;
    let client = client(&sim, quick());
    let missing = format!("{AGENTS}/00000000-0000-4000-8000-000000000000");

    let _: Value = client.send(list()).await.expect("listed");
    let _: Value = client.send(list()).await.expect("listed");
    let not_found = client
        .send::<Value>(ApiRequest::get(missing, "agent 0000"))
        .await
        .expect_err("missing");

    assert!(
        matches!(not_found, ProviderError::NotFound { .. }),
        "{not_found:?}"
    );
    let stats = client.stats();
    assert_eq!((stats.status(200), stats.status(404)), (2, 1));
    assert_eq!(stats.attempts(), 3);
    sim.shutdown().await.expect("the simulator stops");
}

// ---- the token stays secret ----

/// Everything the tracing subscriber writes, for assertions.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn the_token_and_the_query_never_appear_in_logs_or_errors() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    // The test runtime has one thread, so the simulator's tasks log here too.
    let _logging = tracing::subscriber::set_default(subscriber);
    let right = "right-token-7d1a";
    let wrong = "wrong-token-93be";
    let sim = start_sim(SimOptions {
        token: Some(right.to_owned()),
        tenant_id: Some("tenant-5c2f".to_owned()),
        faults: Faults {
            seed: 5,
            rate_limit_rate: 0.5,
            retry_after_secs: 0,
            ..Faults::none()
        },
        ..SimOptions::loopback()
    })
    .await;
    let tenancy = vec![("tenant_id".to_owned(), "tenant-5c2f".to_owned())];
    let good = client_with(&sim, Some(Secret::new(right)), tenancy.clone(), quick());
    let bad = client_with(&sim, Some(Secret::new(wrong)), tenancy, quick());

    let _: Value = good.send(list()).await.expect("listed after a retry");
    let err = bad.send::<Value>(list()).await.expect_err("refused");

    assert!(
        matches!(err, ProviderError::Unauthorized { status: 401 }),
        "{err:?}"
    );
    let logs = captured.text();
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains(AGENTS), "{logs}");
    for shown in [
        logs.as_str(),
        &err.to_string(),
        &format!("{err:?}"),
        &format!("{good:?}"),
    ] {
        assert!(!shown.contains(right), "the token leaked: {shown}");
        assert!(!shown.contains(wrong), "the token leaked: {shown}");
        assert!(!shown.contains("tenant-5c2f"), "the query leaked: {shown}");
    }
    sim.shutdown().await.expect("the simulator stops");
}
