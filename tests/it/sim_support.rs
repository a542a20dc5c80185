//! Shared by the simulator's integration tests: start a simulator in-process on an ephemeral
//! loopback port, and talk to it with reqwest over real HTTP.

use agentsync::sim::{self, Platform, RunningSim, SimOptions};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const API: &str = "/admin/api/v2";

pub struct Sim {
    pub sim: RunningSim,
    pub client: reqwest::Client,
    /// Where the platform's API starts: `/admin/api/v2` for workfx, the root for Agent
    /// Workflows and Agents v1.
    pub prefix: &'static str,
}

/// The answer to one request: status, headers, and the body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub async fn start() -> Sim {
    start_with(SimOptions::loopback()).await
}

pub async fn start_with(options: SimOptions) -> Sim {
    let prefix = match options.platform {
        Platform::Workfx => API,
        Platform::AgentWorkflows | Platform::AgentsV1 => "",
    };
    let sim = sim::start(options).await.expect("the simulator starts");
    Sim {
        sim,
        client: reqwest::Client::new(),
        prefix,
    }
}

impl Sim {
    /// `path` under the platform's API prefix, e.g. `/agents?page_size=5` for workfx.
    pub fn api(&self, path: &str) -> String {
        format!("{}{}{path}", self.sim.base_url(), self.prefix)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        self.try_send(method, path, body)
            .await
            .expect("the simulator answers")
    }

    pub async fn try_send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut request = self.client.request(method, self.api(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request.send().await?).await
    }

    /// A body sent as is, for malformed JSON.
    pub async fn send_raw(&self, method: Method, path: &str, body: &str) -> Answer {
        let response = self
            .client
            .request(method, self.api(path))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("the simulator answers");
        answer(response).await.expect("a complete answer")
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates an agent and answers its id.
    pub async fn create_agent(&self, body: &Value) -> String {
        let created = self.post("/agents", body).await;
        assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
        created.body["id"].as_str().expect("an id").to_owned()
    }

    /// A `/_sim/...` route, outside the platform API.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        answer(request.send().await.expect("the simulator answers"))
            .await
            .expect("a complete answer")
    }
}

async fn answer(response: reqwest::Response) -> Result<Answer, reqwest::Error> {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("the simulator answers JSON")
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The `detail` list of a 422, as `(loc joined with '.', type)` pairs, for compact assertions.
pub fn issues(answer: &Answer) -> Vec<(String, String)> {
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        answer.body
    );
    answer.body["detail"]
        .as_array()
        .expect("detail is a list")
        .iter()
        .map(|issue| {
            let loc: Vec<String> = issue["loc"]
                .as_array()
                .expect("loc is a list")
                .iter()
                .map(|part| match part {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect();
            assert!(issue["msg"].is_string(), "every issue has a msg: {issue}");
            (
                loc.join("."),
                issue["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

pub fn pair(loc: &str, kind: &str) -> (String, String) {
    (loc.to_owned(), kind.to_owned())
}
