//! Sending one verification request: a GET with Basic auth to a fixed Azure DevOps URL,
//! no redirects, a per-request timeout, a run-wide rate limit and bounded retries on 429.
//! The token goes into one header marked sensitive and nowhere else; every text this module
//! returns is scrubbed of it. Not for deciding what an answer means: see `classify`.

use super::classify::{self, Answer, Outcome};
use super::endpoint::{self, Endpoint, Endpoints};
use crate::finding::{Identity, OrgSource, Verification};
use base64::Engine;
use std::cell::Cell;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use ureq::http::{HeaderValue, header};

/// Retries after HTTP 429 before giving up with `unknown`.
pub const MAX_RETRIES: u32 = 3;
/// The most one token's requests wait in all after 429 answers; a `Retry-After` that would
/// go beyond it is not waited for at all (the token is `unknown`).
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(15);
/// How the reason of a token left unchecked by `--verify-deadline` starts.
pub const DEADLINE: &str = "deadline";
/// Largest answer body read; connectionData and profile answers are a few KiB.
const MAX_BODY: u64 = 1 << 20;

/// A run-wide minimum interval between requests, which 429 answers can stretch for everyone.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimit {
    /// At most `per_second` requests per second (at least one).
    pub fn new(per_second: u32) -> Self {
        RateLimit {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Block until this caller's turn; `false` at once, taking no turn, if that turn would
    /// come after `deadline`.
    pub fn wait(&self, deadline: Option<Instant>) -> bool {
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = (*next).max(now);
            if deadline.is_some_and(|d| slot >= d) {
                return false;
            }
            *next = slot + self.interval;
            slot
        };
        if slot > now {
            std::thread::sleep(slot - now);
        }
        true
    }

    /// No request from anyone before `delay` has passed (the server asked us to back off).
    pub fn pause(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        *next = (*next).max(until);
    }
}

/// Why a request got no answer: the reason of an `unknown` result. ureq's errors name at most
/// the URL, which holds no token.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error("the token cannot be sent in an HTTP header")]
    Header,
    /// Described by [`describe_failure`].
    #[error("{0}")]
    Failed(String),
    #[error("reading the answer failed: {0}")]
    Body(String),
}

/// An HTTP client bound to the verification endpoints.
pub struct Client {
    agent: ureq::Agent,
    endpoints: Endpoints,
    timeout: Duration,
    limit: RateLimit,
    /// When to stop, and the budget it was set from (for messages).
    deadline: Option<(Instant, Duration)>,
}

impl Client {
    pub fn new(endpoints: Endpoints, timeout: Duration, requests_per_second: u32) -> Self {
        let test_override = endpoints.overridden().is_some();
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(format!("patrol/{}", env!("CARGO_PKG_VERSION")))
            // The real endpoints are HTTPS-only; the loopback test override may be plain HTTP
            // and must not go through a proxy taken from the environment.
            .https_only(!test_override)
            .proxy(if test_override {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .build();
        Client {
            agent: config.into(),
            endpoints,
            timeout,
            limit: RateLimit::new(requests_per_second),
            deadline: None,
        }
    }

    /// Give up on every request that would start after `budget` from now: such tokens are
    /// `unknown (deadline: …)`, and no request runs past it.
    pub fn with_deadline(mut self, budget: Duration) -> Self {
        self.deadline = Some((Instant::now() + budget, budget));
        self
    }

    /// Check `token` (see [`Session::check`]) and, when it works, map its reach
    /// (`super::reach`). Every text returned is scrubbed of the token.
    pub fn check(&self, token: &str, org: Option<(&str, OrgSource)>) -> Verification {
        let session = self.session(token);
        let v = match session.check(org) {
            Ok(live) => super::reach::explore(&session, live, org.map(|(name, _)| name)),
            Err(v) => v,
        };
        scrub(v, token, &session.auth)
    }

    /// The requests of one token.
    pub fn session(&self, token: &str) -> Session<'_> {
        Session {
            client: self,
            auth: basic_auth(token),
            sent: Cell::new(0),
        }
    }

    /// Wait for this request's turn; the time it may take, or `unknown` if the deadline comes
    /// first.
    pub(super) fn turn(&self) -> Result<Duration, Verification> {
        let Some((at, budget)) = self.deadline else {
            self.limit.wait(None);
            return Ok(self.timeout);
        };
        if !self.limit.wait(Some(at)) {
            return Err(deadline_passed(budget));
        }
        let left = at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(deadline_passed(budget));
        }
        Ok(self.timeout.min(left))
    }

    fn get(
        &self,
        url: &str,
        auth: &str,
        timeout: Duration,
        want_body: bool,
    ) -> Result<Reply, RequestError> {
        let mut auth_value = HeaderValue::from_str(auth).map_err(|_| RequestError::Header)?;
        // Keeps the value out of any Debug output of the request.
        auth_value.set_sensitive(true);
        let mut resp = self
            .agent
            .get(url)
            .header(header::AUTHORIZATION, auth_value)
            .header("X-TFS-FedAuthRedirect", "Suppress")
            .header(header::ACCEPT, "application/json")
            .config()
            .timeout_global(Some(timeout))
            .build()
            .call()
            .map_err(|e| RequestError::Failed(describe_failure(&e, self.timeout)))?;
        let text = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let status = resp.status().as_u16();
        let content_type = text(header::CONTENT_TYPE);
        let retry_after = text(header::RETRY_AFTER);
        // Only a 2xx answer's body decides anything.
        let body = if want_body && (200..300).contains(&status) {
            resp.body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_string()
                .map_err(|e| RequestError::Body(describe_failure(&e, self.timeout)))?
        } else {
            String::new()
        };
        Ok(Reply {
            status,
            content_type,
            retry_after,
            body,
        })
    }
}

/// Why a request got no answer, for a person: a reason for `unknown`, or why a mirror fetch
/// failed. ureq errors name at most the URL, which holds no token.
pub fn describe_failure(e: &ureq::Error, timeout: Duration) -> String {
    match e {
        ureq::Error::Timeout(_) => format!("timed out after {} s", timeout.as_secs()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            format!("timed out after {} s", timeout.as_secs())
        }
        ureq::Error::Io(io) => format!("connection failed: {io}"),
        ureq::Error::HostNotFound => "DNS lookup failed (host not found)".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        ureq::Error::Tls(m) => format!("TLS error: {m}"),
        ureq::Error::Rustls(r) => format!("TLS error: {r}"),
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => {
            "redirected; redirects are not followed".to_string()
        }
        other => format!("request failed: {other}"),
    }
}

/// A token found to work: whose it is, and the organisation that answered (none when only
/// the organisation-less profile endpoint accepted it).
#[derive(Debug, Clone)]
pub struct Live {
    pub identity: Identity,
    pub organization: Option<String>,
}

/// The requests sent with one token, counted.
pub struct Session<'c> {
    client: &'c Client,
    auth: String,
    sent: Cell<u32>,
}

impl Session<'_> {
    /// Requests sent so far (each retry counts).
    pub fn sent(&self) -> u32 {
        self.sent.get()
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.client.endpoints
    }

    /// Check the token against the organisation's endpoint, or the profile endpoint without
    /// one (or with a name that fails `endpoint::valid_org`, which never enters a URL). When
    /// the organisation was only guessed (see [`OrgSource::guessed`]), a 401 there is
    /// confirmed with the organisation-less profile endpoint: the token may belong to another.
    pub fn check(&self, org: Option<(&str, OrgSource)>) -> Result<Live, Verification> {
        let Some((org, source)) = org.filter(|(o, _)| endpoint::valid_org(o)) else {
            return self.ask(Endpoint::Profile);
        };
        match self.ask(Endpoint::ConnectionData { org }) {
            Err(Verification::Invalid) if source.guessed() => match self.ask(Endpoint::Profile) {
                Err(Verification::Unknown { reason }) if reason.starts_with(DEADLINE) => {
                    Err(Verification::Unknown { reason })
                }
                Err(_) => Err(Verification::Unknown {
                    reason: format!(
                        "rejected by '{org}', an organisation guessed as the one {}, and not \
                         confirmed by the organisation-less endpoint; the token may belong to \
                         another organisation",
                        source.how_found()
                    ),
                }),
                live => live,
            },
            other => other,
        }
    }

    /// One question to a check endpoint.
    fn ask(&self, endpoint: Endpoint) -> Result<Live, Verification> {
        let url = self.client.endpoints.url(endpoint);
        let r = self.get(&url, true)?;
        match classify::classify(
            endpoint,
            &Answer {
                status: r.status,
                content_type: r.content_type.as_deref(),
                retry_after: None,
                body: &r.body,
            },
        ) {
            Outcome::Valid {
                identity,
                organization,
            } => Ok(Live {
                identity,
                organization,
            }),
            Outcome::Done(v) => Err(v),
            Outcome::RetryAfter(_) => Err(Verification::Unknown {
                reason: "rate limited (HTTP 429)".into(),
            }),
        }
    }

    /// GET `url` with the token: the first answer that is not a 429, after retries within
    /// [`MAX_RETRIES`], [`MAX_RETRY_WAIT`] and the deadline; `Err` holds the `unknown` to give.
    /// The body is read only for 2xx answers and when `want_body`.
    pub fn get(&self, url: &str, want_body: bool) -> Result<Reply, Verification> {
        let client = self.client;
        let mut waited = Duration::ZERO;
        for attempt in 0..=MAX_RETRIES {
            let timeout = client.turn()?;
            self.sent.set(self.sent.get() + 1);
            let reply = match client.get(url, &self.auth, timeout, want_body) {
                Ok(r) => r,
                Err(_) if client.deadline.is_some_and(|(at, _)| Instant::now() >= at) => {
                    return Err(deadline_passed(
                        client.deadline.map_or(Duration::ZERO, |d| d.1),
                    ));
                }
                Err(e) => {
                    return Err(Verification::Unknown {
                        reason: e.to_string(),
                    });
                }
            };
            if reply.status != 429 {
                return Ok(reply);
            }
            if attempt == MAX_RETRIES {
                break;
            }
            let delay = classify::retry_after(reply.retry_after.as_deref());
            if waited + delay > MAX_RETRY_WAIT {
                return Err(Verification::Unknown {
                    reason: format!(
                        "rate limited (HTTP 429): Azure DevOps asked to wait {} s, more than \
                         the {} s patrol waits for one token",
                        delay.as_secs(),
                        MAX_RETRY_WAIT.as_secs()
                    ),
                });
            }
            if let Some((at, budget)) = client.deadline
                && Instant::now() + delay >= at
            {
                return Err(deadline_passed(budget));
            }
            waited += delay;
            client.limit.pause(delay);
        }
        Err(Verification::Unknown {
            reason: format!("rate limited (HTTP 429); gave up after {MAX_RETRIES} retries"),
        })
    }
}

/// One HTTP answer.
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Reply {
    /// A 2xx answer with a JSON content type (not a sign-in page).
    pub fn is_json_ok(&self) -> bool {
        let json = self.content_type.as_deref().is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
        (200..300).contains(&self.status)
            && self.status != 203
            && json
            && !self.body.trim_start().starts_with('<')
    }
}

fn deadline_passed(budget: Duration) -> Verification {
    Verification::Unknown {
        reason: format!(
            "{DEADLINE}: the --verify-deadline of {} s passed before this token's check ended",
            budget.as_secs()
        ),
    }
}

/// `Basic base64(":" + token)`: Azure DevOps ignores the user name.
pub fn basic_auth(token: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!(":{token}"));
    format!("Basic {encoded}")
}

/// Belt and braces: no text we hand back may contain the token or its header form.
fn scrub(v: Verification, token: &str, auth: &str) -> Verification {
    let clean = |s: String| {
        let encoded = auth.trim_start_matches("Basic ");
        s.replace(token, "[token]").replace(encoded, "[token]")
    };
    match v {
        Verification::Unknown { reason } => Verification::Unknown {
            reason: clean(reason),
        },
        Verification::Valid {
            identity,
            organization,
            reach,
        } => Verification::Valid {
            identity: identity.map(clean),
            organization: organization.map(clean),
            reach: reach.map(|mut r| {
                let id = &mut r.identity;
                id.display_name = id.display_name.take().map(clean);
                id.email = id.email.take().map(clean);
                id.id = clean(std::mem::take(&mut id.id));
                r
            }),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_has_an_empty_user() {
        assert_eq!(basic_auth("abc"), "Basic OmFiYw==");
    }

    #[test]
    fn scrub_removes_the_token() {
        let auth = basic_auth("sekrit");
        let v = scrub(
            Verification::Unknown {
                reason: format!("echo sekrit and {auth}"),
            },
            "sekrit",
            &auth,
        );
        assert_eq!(
            v,
            Verification::Unknown {
                reason: "echo [token] and Basic [token]".into()
            }
        );
    }

    #[test]
    fn rate_limit_spaces_requests_and_pauses() {
        let limit = RateLimit::new(20);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limit.wait(None));
        }
        assert!(start.elapsed() >= Duration::from_millis(100));
        limit.pause(Duration::from_millis(200));
        assert!(limit.wait(None));
        assert!(start.elapsed() >= Duration::from_millis(300));
        limit.pause(Duration::from_secs(60));
        let before = Instant::now();
        assert!(!limit.wait(Some(Instant::now() + Duration::from_secs(1))));
        assert!(
            before.elapsed() < Duration::from_millis(500),
            "no sleep past the deadline"
        );
    }

    #[test]
    fn connection_errors_are_unknown() {
        // A port that was free a moment ago: the connection is refused.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let endpoints = Endpoints::from_override(Some(&format!("http://127.0.0.1:{port}")));
        let endpoints = endpoints.unwrap();
        let client = Client::new(endpoints, Duration::from_secs(2), 10);
        let v = client.check("sekrit", Some(("contoso", OrgSource::SameLine)));
        match v {
            Verification::Unknown { reason } => {
                assert!(!reason.contains("sekrit"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
