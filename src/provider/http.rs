//! The one HTTP policy every provider talks through: a pooled client with timeouts and
//! keep-alive, at most [`HttpSettings::max_in_flight`] requests in flight at once (however many
//! tasks send), the bearer token (never printed), default query parameters, retries of idempotent requests with
//! exponential backoff, full jitter and `Retry-After`, request logging without secrets, per-status
//! counters, answers read up to [`MAX_BODY_BYTES`], and the mapping of answers to
//! [`ProviderError`].
//!
//! Retry rules, in one place:
//! - idempotent methods (GET, PUT, DELETE, HEAD, OPTIONS) are retried; a POST only after a 429
//!   (the platform refused it before handling it, so nothing happened), never after an answer
//!   that leaves its outcome unknown, since a second one could create a second object: its caller
//!   re-observes instead;
//! - retried: 429, 500, 502, 503, 504, and failures to connect, send or read (timeouts
//!   included); a 500 is as passing as a 503 on a busy platform, and repeating an idempotent
//!   request cannot do anything twice;
//! - never retried: any other status (400, 401, 403, 404, 409, 422, 501, ...), nor an answer
//!   larger than the limit;
//! - the wait is the crate's one [`Backoff`]: a random wait between the first delay and a
//!   ceiling that doubles per retry (full jitter), and at least what `Retry-After` asks
//!   (seconds or an HTTP date);
//! - attempts stop at [`HttpSettings::max_attempts`], and before a wait that would end past
//!   [`HttpSettings::max_elapsed`] since the first attempt.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::backoff::Backoff;
use crate::provider::ProviderError;

/// Error messages quoted from a platform are cut to this many characters: enough for a list of
/// validation issues, short enough for a terminal.
const MAX_MESSAGE_CHARS: usize = 600;

/// Retries wait anywhere between the first delay and the ceiling: clients that failed together
/// spread out the most.
const FULL_JITTER: f64 = 1.0;

/// The largest answer read (64 MiB): a page of 100 agents, or an agent's two newest flows, is
/// far below it, and an answer of this size, decoded, stays well inside the memory the shipped
/// manifest allows (256 MiB). A larger answer is an error ([`ProviderError::BrokenAnswer`]),
/// found while reading it in chunks (or at once from its `Content-Length`), never held whole.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A credential: its `Debug` and `Display` print `(redacted)`, so it cannot leak through a log
/// line, an error or a `{:?}` of a struct that holds it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// Timeouts and retry limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Establishing a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// One attempt, from sending to the last byte of the answer.
    pub request_timeout: Duration,
    /// Attempts of one request, the first included (1 = no retry).
    pub max_attempts: u32,
    /// No retry starts after this long since the first attempt began.
    pub max_elapsed: Duration,
    /// The ceiling of the first backoff; it doubles with each retry.
    pub initial_backoff: Duration,
    /// The highest ceiling a backoff reaches (`Retry-After` may ask for more).
    pub max_backoff: Duration,
    /// Requests in flight at once, over all tasks that share the client (the configuration's
    /// `concurrency`). A request waiting for a retry holds no place.
    pub max_in_flight: usize,
    /// The largest answer read, in bytes: [`MAX_BODY_BYTES`] unless a test asks for less.
    pub max_body_bytes: usize,
}

impl HttpSettings {
    /// The default policy with `max_in_flight` requests in flight at once (at least one).
    pub fn with_max_in_flight(max_in_flight: usize) -> HttpSettings {
        HttpSettings {
            max_in_flight: max_in_flight.max(1),
            ..HttpSettings::default()
        }
    }
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_attempts: 5,
            max_elapsed: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            // The configuration's default `concurrency`.
            max_in_flight: 8,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// What the client has seen since it was made: answers by status, attempts that got no answer,
/// and retries. Every attempt counts, retried or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpStats {
    pub by_status: BTreeMap<u16, u64>,
    /// Attempts that got no answer: connection refused or dropped, timeouts.
    pub transport_errors: u64,
    pub retries: u64,
}

impl HttpStats {
    /// How many answers had this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Every attempt, answered or not.
    pub fn attempts(&self) -> u64 {
        self.by_status.values().sum::<u64>() + self.transport_errors
    }
}

/// Why an [`HttpClient`] could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the endpoint {url} is not an http or https URL")]
    Endpoint { url: String },
    #[error("the token holds characters an HTTP header cannot carry")]
    Token,
    #[error("could not set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// A request's JSON body: a tree, or text that is JSON already (sent as it is).
#[derive(Debug, Clone, Copy)]
enum Body<'a> {
    Tree(&'a Value),
    Text(&'a str),
}

/// One request to a platform: method, path under the base URL, query, JSON body, and `what`,
/// the words that name it in errors ("agent 1234", "the agent list (page 2)").
#[derive(Debug, Clone)]
pub struct ApiRequest<'a> {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Body<'a>>,
    what: String,
    /// A POST the platform documents as changing nothing (a validation, a dry run), or whose
    /// repetition is refused harmlessly: retried like a GET.
    repeatable: bool,
}

impl<'a> ApiRequest<'a> {
    /// `path` starts with `/` and is already percent-encoded (see [`path_segment`]).
    pub fn new(method: Method, path: impl Into<String>, what: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            what: what.into(),
            repeatable: false,
        }
    }

    /// Marks a POST as safe to send again after an error whose outcome is unknown.
    pub fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    pub fn get(path: impl Into<String>, what: impl Into<String>) -> Self {
        Self::new(Method::GET, path, what)
    }

    pub fn post(path: impl Into<String>, what: impl Into<String>) -> Self {
        Self::new(Method::POST, path, what)
    }

    pub fn put(path: impl Into<String>, what: impl Into<String>) -> Self {
        Self::new(Method::PUT, path, what)
    }

    pub fn delete(path: impl Into<String>, what: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path, what)
    }

    /// A PATCH: not retried after an unknown outcome unless marked [`ApiRequest::repeatable`]
    /// (one that sets fields to values is).
    pub fn patch(path: impl Into<String>, what: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path, what)
    }

    pub fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub fn json(mut self, body: &'a Value) -> Self {
        self.body = Some(Body::Tree(body));
        self
    }

    /// A body that is JSON text already: sent as it is, never parsed.
    pub fn json_text(mut self, body: &'a str) -> Self {
        self.body = Some(Body::Text(body));
        self
    }
}

/// Percent-encodes one path segment (an id from the platform), so that it cannot change the
/// path's shape whatever it holds.
pub fn path_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The HTTP client of one platform account: one pooled connection set (keep-alive), the
/// account's token and default query parameters, and the retry policy. Cheap to clone; clones
/// share the pool and the counters.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    base: Url,
    /// `Bearer <token>`, marked sensitive so that reqwest and hyper never print it.
    authorization: Option<HeaderValue>,
    default_query: Arc<[(String, String)]>,
    settings: HttpSettings,
    stats: Arc<Mutex<HttpStats>>,
    /// One permit per request in flight; never closed.
    in_flight: Arc<Semaphore>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.base.as_str())
            .field("token", &self.authorization.as_ref().map(|_| "(redacted)"))
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Attempt {
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    /// An answer longer than the limit, left unread beyond it.
    TooLarge {
        limit: usize,
    },
    NoAnswer(reqwest::Error),
}

impl HttpClient {
    /// `base` is the platform's root (`https://api.workfx.ai`); request paths are appended to
    /// it. `default_query` is sent with every request (tenancy), before the request's own.
    pub fn new(
        base: Url,
        token: Option<Secret>,
        default_query: Vec<(String, String)>,
        settings: HttpSettings,
    ) -> Result<HttpClient, SetupError> {
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(SetupError::Endpoint {
                url: base.to_string(),
            });
        }
        let authorization = token
            .map(|token| {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                    .map_err(|_| SetupError::Token)?;
                value.set_sensitive(true);
                Ok(value)
            })
            .transpose()?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("agentsync/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.connect_timeout)
            .tcp_keepalive(Duration::from_secs(60))
            // Every connection a full set of requests in flight opened stays open for the next.
            .pool_max_idle_per_host(settings.max_in_flight.max(1))
            // A redirect would turn a POST into a GET and hide a wrong endpoint: say so instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(SetupError::Client)?;
        Ok(HttpClient {
            client,
            base,
            authorization,
            default_query: default_query.into(),
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight.max(1))),
            settings,
            stats: Arc::new(Mutex::new(HttpStats::default())),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// A copy of the counters.
    pub fn stats(&self) -> HttpStats {
        self.lock_stats().clone()
    }

    // Counters hold no invariant a panic elsewhere could break.
    fn lock_stats(&self) -> MutexGuard<'_, HttpStats> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an answer by its status.
    fn count_status(&self, status: StatusCode) {
        *self
            .lock_stats()
            .by_status
            .entry(status.as_u16())
            .or_default() += 1;
    }

    /// Sends a request under the retry policy and decodes its JSON answer (an empty body reads
    /// as `null`).
    pub async fn send<T: DeserializeOwned>(
        &self,
        request: ApiRequest<'_>,
    ) -> Result<T, ProviderError> {
        let url = self.url(&request.path);
        let idempotent = request.repeatable
            || matches!(
                request.method,
                Method::GET | Method::PUT | Method::DELETE | Method::HEAD | Method::OPTIONS
            );
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&request, &url, attempt).await;
            let endpoint = || format!("{} {}", request.method, url.path());
            let (error, retry_after) = match judge(&request.what, endpoint, outcome) {
                Verdict::Done(body) => return decode(&request.what, &body),
                Verdict::Fail(error) => return Err(error),
                Verdict::Retryable { error, retry_after } => (error, retry_after),
            };
            let safe_to_repeat = idempotent || matches!(error, ProviderError::RateLimited { .. });
            if !safe_to_repeat || attempt >= self.settings.max_attempts {
                return Err(error);
            }
            let wait = self.backoff(attempt, retry_after);
            if started.elapsed() + wait > self.settings.max_elapsed {
                tracing::debug!(
                    method = %request.method,
                    path = url.path(),
                    attempt,
                    wait_ms = millis(wait),
                    "not retrying: the wait would end past the time allowed"
                );
                return Err(error);
            }
            tracing::debug!(
                method = %request.method,
                path = url.path(),
                attempt,
                wait_ms = millis(wait),
                error = %error,
                "retrying"
            );
            self.lock_stats().retries += 1;
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    async fn attempt(&self, request: &ApiRequest<'_>, url: &Url, attempt: u32) -> Attempt {
        let mut builder = self
            .client
            .request(request.method.clone(), url.clone())
            .timeout(self.settings.request_timeout)
            .query(&self.default_query[..])
            .query(&request.query);
        if let Some(authorization) = &self.authorization {
            builder = builder.header(AUTHORIZATION, authorization.clone());
        }
        match request.body {
            Some(Body::Tree(body)) => builder = builder.json(body),
            Some(Body::Text(text)) => {
                builder = builder
                    .header(CONTENT_TYPE, "application/json")
                    .body(text.to_owned());
            }
            None => {}
        }
        // Held until the answer is read whole: the connection is busy until then.
        let _permit = self.in_flight.acquire().await.ok();
        let sent = Instant::now();
        let answered = match builder.send().await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                read_limited(response, self.settings.max_body_bytes)
                    .await
                    .map(|body| (status, headers, body))
            }
            Err(err) => Err(err),
        };
        let elapsed_ms = millis(sent.elapsed());
        match answered {
            Ok((status, _, None)) => {
                self.count_status(status);
                tracing::debug!(
                    method = %request.method,
                    path = url.path(),
                    status = status.as_u16(),
                    elapsed_ms,
                    attempt,
                    limit = self.settings.max_body_bytes,
                    "http answer larger than the limit; not read"
                );
                Attempt::TooLarge {
                    limit: self.settings.max_body_bytes,
                }
            }
            Ok((status, headers, Some(body))) => {
                self.count_status(status);
                tracing::debug!(
                    method = %request.method,
                    path = url.path(),
                    status = status.as_u16(),
                    elapsed_ms,
                    attempt,
                    "http request"
                );
                tracing::trace!(bytes = body.len(), "http answer");
                Attempt::Answered {
                    status,
                    headers,
                    body,
                }
            }
            Err(err) => {
                self.lock_stats().transport_errors += 1;
                // The URL carries the tenancy query; the error keeps to the path (logged here).
                let err = err.without_url();
                tracing::debug!(
                    method = %request.method,
                    path = url.path(),
                    elapsed_ms,
                    attempt,
                    error = %err,
                    "http request got no answer"
                );
                Attempt::NoAnswer(err)
            }
        }
    }

    /// Full jitter: a random wait up to a ceiling that doubles per retry ([`Backoff`]); at
    /// least `Retry-After`.
    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let jittered = Backoff::new(
            self.settings.initial_backoff,
            self.settings.max_backoff,
            FULL_JITTER,
        )
        .delay(attempt);
        retry_after.map_or(jittered, |asked| asked.max(jittered))
    }
}

/// The body of `response`, read chunk by chunk; `None` as soon as it is known to be longer
/// than `limit` bytes (from its `Content-Length`, or from what was read), the rest unread.
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

enum Verdict {
    Done(Vec<u8>),
    Fail(ProviderError),
    Retryable {
        error: ProviderError,
        retry_after: Option<Duration>,
    },
}

/// The policy: which outcomes succeed, fail for good, or may be retried. `endpoint` names the
/// request's method and path, for the errors that need it.
fn judge(what: &str, endpoint: impl FnOnce() -> String, outcome: Attempt) -> Verdict {
    let what = what.to_owned();
    let (status, headers, body) = match outcome {
        Attempt::NoAnswer(source) => {
            return Verdict::Retryable {
                error: ProviderError::Transport { what, source },
                retry_after: None,
            };
        }
        Attempt::TooLarge { limit } => {
            return Verdict::Fail(ProviderError::BrokenAnswer {
                endpoint: endpoint(),
                what,
                problem: format!(
                    "it is larger than {}, the most agentsync reads of one answer",
                    size_text(limit)
                ),
            });
        }
        Attempt::Answered {
            status,
            headers,
            body,
        } => (status, headers, body),
    };
    let code = status.as_u16();
    match code {
        200..=299 => Verdict::Done(body),
        401 | 403 => Verdict::Fail(ProviderError::Unauthorized { status: code }),
        404 => Verdict::Fail(ProviderError::NotFound { what }),
        429 => Verdict::Retryable {
            error: ProviderError::RateLimited { what },
            retry_after: retry_after(&headers, SystemTime::now()),
        },
        500 | 502..=504 => Verdict::Retryable {
            error: ProviderError::Server { what, status: code },
            retry_after: retry_after(&headers, SystemTime::now()),
        },
        500..=599 => Verdict::Fail(ProviderError::Server { what, status: code }),
        400..=499 => Verdict::Fail(ProviderError::Rejected {
            what,
            status: code,
            message: render_error_body(&body),
        }),
        300..=399 => {
            let location = headers
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("nowhere given");
            Verdict::Fail(ProviderError::Protocol {
                what,
                message: format!(
                    "a redirect ({code}) to {location}; check the endpoint in the configuration"
                ),
            })
        }
        _ => Verdict::Fail(ProviderError::Protocol {
            what,
            message: format!("the status {code}"),
        }),
    }
}

/// A size in bytes as people say it: `64 MiB`, `1 KiB`, `100 bytes`.
fn size_text(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}

fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ProviderError> {
    let decoded = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_value(Value::Null)
    } else {
        serde_json::from_slice(body)
    };
    decoded.map_err(|err| ProviderError::Protocol {
        what: what.to_owned(),
        message: format!("not the JSON expected ({err})"),
    })
}

/// `Retry-After` as a wait: delay-seconds, or an HTTP date (a date past is no wait).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Not in the RFC, but some servers send fractions; reading them beats ignoring them.
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An error answer made readable: FastAPI's `{"detail": [...]}` as `body.name: Field required`
/// (issues joined with `; `), an envelope's `{"error": {"message", "details": [{"field",
/// "message"}]}}` as `message (field: message; ...)`, a `detail`, `message` or `error` string
/// as is, anything else as its text.
/// Validation issues' `input` is left out: it echoes what was sent, which may be a secret.
pub(crate) fn render_error_body(body: &[u8]) -> String {
    let rendered = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => match object
            .get("detail")
            .or_else(|| object.get("message"))
            .or_else(|| object.get("error"))
        {
            Some(Value::Object(error)) if error.get("message").is_some_and(Value::is_string) => {
                render_envelope_error(error)
            }
            Some(Value::Array(issues)) => issues
                .iter()
                .map(render_issue)
                .collect::<Vec<_>>()
                .join("; "),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => Value::Object(object).to_string(),
        },
        Ok(other) => other.to_string(),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    if rendered.is_empty() {
        return "no reason given".to_owned();
    }
    truncate(rendered)
}

/// `{"code", "message", "details": [{"field", "message"}]}`: the message, then each detail.
fn render_envelope_error(error: &serde_json::Map<String, Value>) -> String {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let details: Vec<String> = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|detail| {
            let text = detail.get("message").and_then(Value::as_str);
            match (detail.get("field").and_then(Value::as_str), text) {
                (Some(field), Some(text)) => format!("{field}: {text}"),
                (None, Some(text)) => text.to_owned(),
                _ => detail.to_string(),
            }
        })
        .collect();
    if details.is_empty() {
        message.to_owned()
    } else {
        format!("{message} ({})", details.join("; "))
    }
}

fn render_issue(issue: &Value) -> String {
    let msg = issue.get("msg").and_then(Value::as_str);
    let loc = issue.get("loc").and_then(Value::as_array).map(|parts| {
        parts
            .iter()
            .map(|part| match part {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    });
    match (loc, msg) {
        (Some(loc), Some(msg)) if !loc.is_empty() => format!("{loc}: {msg}"),
        (_, Some(msg)) => msg.to_owned(),
        _ => issue.to_string(),
    }
}

fn truncate(text: String) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> HttpSettings {
        HttpSettings {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1_000),
            ..HttpSettings::default()
        }
    }

    fn client() -> HttpClient {
        let base = Url::parse("http://127.0.0.1:9").expect("a URL");
        HttpClient::new(base, Some(Secret::new("s3cret")), Vec::new(), settings())
            .expect("a client")
    }

    #[test]
    fn a_secret_prints_as_redacted() {
        let secret = Secret::new("s3cret");
        assert_eq!(format!("{secret}"), "(redacted)");
        assert_eq!(format!("{secret:?}"), "(redacted)");
        assert_eq!(secret.expose(), "s3cret");
    }

    #[test]
    fn a_client_prints_without_its_token() {
        let printed = format!("{:?}", client());
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("(redacted)"), "{printed}");
    }

    #[test]
    fn fastapi_validation_issues_read_as_field_and_message() {
        let body = json!({"detail": [
            {"type": "missing", "loc": ["body", "name"], "msg": "Field required", "input": {}},
            {"type": "string_type", "loc": ["body", "tags", 1], "msg": "Input should be a valid string", "input": "secret-value"},
        ]});
        let rendered = render_error_body(body.to_string().as_bytes());
        assert_eq!(
            rendered,
            "body.name: Field required; body.tags.1: Input should be a valid string"
        );
        assert!(!rendered.contains("secret-value"));
    }

    #[test]
    fn an_envelope_error_reads_as_its_message_and_details() {
        let body = br#"{"success": false, "error": {"code": "validation_error", "message": "Invalid agent", "details": [{"field": "stt", "message": "Required"}]}}"#;
        assert_eq!(render_error_body(body), "Invalid agent (stt: Required)");
        assert_eq!(
            render_error_body(br#"{"success": false, "error": "Agent not found"}"#),
            "Agent not found"
        );
    }

    #[test]
    fn a_detail_string_or_plain_text_is_kept_as_is() {
        assert_eq!(
            render_error_body(br#"{"detail": "Agent not found"}"#),
            "Agent not found"
        );
        assert_eq!(render_error_body(b"bad gateway\n"), "bad gateway");
        assert_eq!(render_error_body(b""), "no reason given");
    }

    #[test]
    fn a_long_message_is_cut() {
        let long = "x".repeat(MAX_MESSAGE_CHARS * 2);
        assert_eq!(
            render_error_body(long.as_bytes()).chars().count(),
            MAX_MESSAGE_CHARS + 3
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&later).expect("a header"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&earlier).expect("a header"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn backoff_stays_under_its_doubling_ceiling_and_honours_retry_after() {
        let client = client();
        for _ in 0..50 {
            assert!(client.backoff(1, None) <= Duration::from_millis(100));
            assert!(client.backoff(3, None) <= Duration::from_millis(400));
            assert!(client.backoff(30, None) <= Duration::from_millis(1_000));
            assert!(client.backoff(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        }
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("a1-b_c.d~"), "a1-b_c.d~");
        assert_eq!(path_segment("../x?y#z"), "..%2Fx%3Fy%23z");
    }

    #[test]
    fn paths_are_appended_to_the_base_path() {
        let base = Url::parse("https://example.test/prefix/").expect("a URL");
        let client = HttpClient::new(base, None, Vec::new(), settings()).expect("a client");
        assert_eq!(
            client.url("/admin/api/v2/agents").as_str(),
            "https://example.test/prefix/admin/api/v2/agents"
        );
    }

    #[test]
    fn only_http_endpoints_are_accepted() {
        let base = Url::parse("mailto:someone@example.test").expect("a URL");
        assert!(matches!(
            HttpClient::new(base, None, Vec::new(), settings()),
            Err(SetupError::Endpoint { .. })
        ));
    }

    #[test]
    fn statuses_map_to_provider_errors() {
        let answer = |code: u16, body: &str| Attempt::Answered {
            status: StatusCode::from_u16(code).expect("a status"),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        };
        let endpoint = || "GET /agents/1".to_owned();
        let fail = |code: u16| match judge("agent 1", endpoint, answer(code, "{}")) {
            Verdict::Fail(error) => error,
            _ => panic!("{code} should fail for good"),
        };
        assert!(matches!(
            fail(401),
            ProviderError::Unauthorized { status: 401 }
        ));
        assert!(matches!(
            fail(403),
            ProviderError::Unauthorized { status: 403 }
        ));
        assert!(matches!(fail(404), ProviderError::NotFound { .. }));
        assert!(matches!(
            fail(409),
            ProviderError::Rejected { status: 409, .. }
        ));
        assert!(matches!(
            fail(501),
            ProviderError::Server { status: 501, .. }
        ));
        assert!(matches!(fail(302), ProviderError::Protocol { .. }));
        for code in [429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    judge("x", endpoint, answer(code, "")),
                    Verdict::Retryable { .. }
                ),
                "{code} is retryable"
            );
        }
        let Verdict::Fail(too_large) = judge("x", endpoint, Attempt::TooLarge { limit: 1024 })
        else {
            panic!("a body over the limit fails for good");
        };
        assert!(
            too_large
                .to_string()
                .contains("GET /agents/1 (x) cannot be relied on: it is larger than 1 KiB"),
            "{too_large}"
        );
    }

    #[test]
    fn an_answer_that_is_not_json_is_a_protocol_error() {
        let decoded = decode::<Value>("agent 1", b"<html>");
        assert!(matches!(decoded, Err(ProviderError::Protocol { .. })));
        assert_eq!(decode::<Value>("agent 1", b"").ok(), Some(Value::Null));
    }
}
