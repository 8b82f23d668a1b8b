//! The Azure DevOps REST calls `patrol ado` makes: GETs to the organization's API with the
//! token in one sensitive header, no redirects, continuation-token paging, `Retry-After` on 429
//! and 503, bounded backoff on other 5xx. Returns plain data (projects, repositories, pipeline
//! and variable-group variables). Not for deciding what to scan: see `cmd::ado`.
//!
//! A secret variable's value is never asked for (no API here returns one) and, should a
//! server send one anyway, it is dropped while parsing.

use super::target::{Target, Token};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use ureq::http::{HeaderValue, header};

/// Attempts per request (the first and the retries).
const ATTEMPTS: u32 = 6;
/// Longest `Retry-After` honoured; a longer one is waited for this long, then retried.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Largest answer read; a list of a large organization's repositories is a few MiB.
const MAX_BODY: u64 = 256 << 20;
const API_VERSION: &str = "api-version=7.1";

/// A REST failure, scrubbed of the token.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error(
        "{url}: HTTP 401: the token was refused (wrong, expired, or lacking the Code (Read), Build (Read) and Variable Groups (Read) scopes)"
    )]
    Unauthorized { url: String },
    #[error("{url}: {message}")]
    Other { url: String, message: String },
}

/// A project.
#[derive(Debug, Clone, Deserialize)]
pub struct Project {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
}

/// A git repository as the API lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repository {
    pub id: String,
    pub name: String,
    pub project: ProjectRef,
    #[serde(default)]
    pub remote_url: Option<String>,
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub is_disabled: Option<bool>,
    #[serde(default)]
    pub is_fork: Option<bool>,
    #[serde(default)]
    pub is_in_maintenance: Option<bool>,
}

/// Plain-text variables of one build definition or variable group, by name.
#[derive(Debug, Clone)]
pub struct VariableSet {
    pub id: u64,
    pub name: String,
    /// Non-secret variables with a value.
    pub plain: BTreeMap<String, String>,
    /// How many secret variables were left out.
    pub secret: usize,
}

/// The REST client for one organization.
pub struct Rest {
    agent: ureq::Agent,
    target: Target,
    token: Token,
    /// Longest wait before a 5xx retry (tests shorten nothing; backoff starts at 0.5 s).
    base_backoff: Duration,
}

impl Rest {
    pub fn new(target: Target, token: Token, timeout: Duration) -> Rest {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(format!("patrol/{}", env!("CARGO_PKG_VERSION")))
            .https_only(!target.overridden)
            .proxy(if target.overridden {
                None
            } else {
                ureq::Proxy::try_from_env()
            })
            .build();
        Rest {
            agent: config.into(),
            target,
            token,
            base_backoff: Duration::from_millis(500),
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Every project (paged).
    pub fn projects(&self) -> Result<Vec<Project>, RestError> {
        self.list(&format!(
            "{}/_apis/projects?$top=100&{API_VERSION}",
            self.target.base
        ))
        .and_then(|v| parse_items(v, "projects"))
    }

    /// Every repository of the organization, hidden ones (project wikis) included.
    pub fn repositories(&self) -> Result<Vec<Repository>, RestError> {
        let url = format!(
            "{}/_apis/git/repositories?includeHidden=true&{API_VERSION}",
            self.target.base
        );
        self.list(&url).and_then(|v| parse_items(v, "repositories"))
    }

    /// Build and YAML pipeline definitions of a project, with their plain variables.
    pub fn pipeline_variables(&self, project_id: &str) -> Result<Vec<VariableSet>, RestError> {
        let url = format!(
            "{}/{}/_apis/build/definitions?includeAllProperties=true&{API_VERSION}",
            self.target.base,
            path_segment(project_id)
        );
        Ok(self.list(&url)?.iter().filter_map(variable_set).collect())
    }

    /// Variable groups of a project, with their plain variables.
    pub fn variable_groups(&self, project_id: &str) -> Result<Vec<VariableSet>, RestError> {
        let url = format!(
            "{}/{}/_apis/distributedtask/variablegroups?{API_VERSION}",
            self.target.base,
            path_segment(project_id)
        );
        Ok(self.list(&url)?.iter().filter_map(variable_set).collect())
    }

    /// GET `url` and every further page its `x-ms-continuationtoken` names; the `value` arrays
    /// joined.
    fn list(&self, url: &str) -> Result<Vec<Value>, RestError> {
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page_url = match &next {
                None => url.to_string(),
                Some(t) => format!(
                    "{url}&continuationToken={}",
                    percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC)
                ),
            };
            let (body, token) = self.get(&page_url)?;
            let doc: Value = serde_json::from_str(&body).map_err(|e| RestError::Other {
                url: page_url.clone(),
                message: format!("the answer is not JSON: {e}"),
            })?;
            match doc.get("value").and_then(Value::as_array) {
                Some(v) => items.extend(v.iter().cloned()),
                None => {
                    return Err(RestError::Other {
                        url: page_url,
                        message: "the answer has no `value` list".into(),
                    });
                }
            }
            match token {
                Some(t) if Some(&t) != next.as_ref() => next = Some(t),
                _ => return Ok(items),
            }
        }
    }

    /// One GET with retries; returns the body and the continuation token.
    fn get(&self, url: &str) -> Result<(String, Option<String>), RestError> {
        let fail = |message: String| RestError::Other {
            url: url.to_string(),
            message: self.token.scrub(&message),
        };
        let mut auth = HeaderValue::from_str(self.token.header())
            .map_err(|_| fail("the token cannot be sent in an HTTP header".into()))?;
        auth.set_sensitive(true);
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if crate::interrupt::interrupted() {
                return Err(fail("interrupted".into()));
            }
            let sent = self
                .agent
                .get(url)
                .header(header::AUTHORIZATION, auth.clone())
                .header("X-TFS-FedAuthRedirect", "Suppress")
                .header(header::ACCEPT, "application/json")
                .call();
            let mut resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = format!("request failed: {e}");
                    std::thread::sleep(self.backoff(attempt));
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let head = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let retry_after = head("retry-after").and_then(|s| s.trim().parse::<u64>().ok());
            match status {
                203 => return Err(fail("HTTP 203: a sign-in page instead of data".into())),
                200..=299 => {
                    let token = head("x-ms-continuationtoken").filter(|t| !t.is_empty());
                    let body = resp
                        .body_mut()
                        .with_config()
                        .limit(MAX_BODY)
                        .read_to_string()
                        .map_err(|e| fail(format!("reading the answer failed: {e}")))?;
                    return Ok((body, token));
                }
                401 => {
                    return Err(RestError::Unauthorized {
                        url: url.to_string(),
                    });
                }
                429 | 503 if retry_after.is_some() => {
                    last = format!("HTTP {status}");
                    let wait = Duration::from_secs(retry_after.unwrap_or(1)).min(MAX_RETRY_AFTER);
                    std::thread::sleep(wait);
                }
                429 | 500..=599 => {
                    last = format!("HTTP {status}");
                    std::thread::sleep(self.backoff(attempt));
                }
                other => return Err(fail(format!("HTTP {other}"))),
            }
        }
        Err(fail(format!("{last}; gave up after {ATTEMPTS} attempts")))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        (self.base_backoff * 2u32.pow(attempt.min(6))).min(Duration::from_secs(30))
    }
}

/// Characters a path segment keeps as they are: RFC 3986 unreserved ones.
const SEGMENT_KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A project id or name as one URL path segment.
pub fn path_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT_KEEP).to_string()
}

fn parse_items<T: for<'de> Deserialize<'de>>(
    items: Vec<Value>,
    what: &str,
) -> Result<Vec<T>, RestError> {
    items
        .into_iter()
        .map(|v| {
            serde_json::from_value(v).map_err(|e| RestError::Other {
                url: what.to_string(),
                message: format!("unexpected {what} entry: {e}"),
            })
        })
        .collect()
}

/// The plain variables of a definition or group; secret ones are counted, their value (if a
/// server sent one) dropped.
fn variable_set(item: &Value) -> Option<VariableSet> {
    let id = item.get("id")?.as_u64()?;
    let name = item.get("name")?.as_str()?.to_string();
    let mut set = VariableSet {
        id,
        name,
        plain: BTreeMap::new(),
        secret: 0,
    };
    if let Some(vars) = item.get("variables").and_then(Value::as_object) {
        for (k, v) in vars {
            if v.get("isSecret").and_then(Value::as_bool) == Some(true) {
                set.secret += 1;
                continue;
            }
            if let Some(value) = v.get("value").and_then(Value::as_str) {
                set.plain.insert(k.clone(), value.to_string());
            }
        }
    }
    Some(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_segments() {
        assert_eq!(
            path_segment("my project/x-1.wiki"),
            "my%20project%2Fx-1.wiki"
        );
    }

    #[test]
    fn secret_variables_are_dropped() {
        let v = json!({"id": 3, "name": "deploy", "variables": {
            "A": {"value": "x"}, "S": {"value": "leaked", "isSecret": true}, "N": {"value": null}
        }});
        let set = variable_set(&v).unwrap();
        assert_eq!(set.plain.len(), 1);
        assert_eq!(set.plain["A"], "x");
        assert_eq!(set.secret, 1);
    }
}
