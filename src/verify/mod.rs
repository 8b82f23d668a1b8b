//! Live verification (`--verify`, see the README's "Live verification"): asks Azure DevOps whether each distinct
//! Azure DevOps token found still works, and whose it is, then writes the answer into every
//! finding of that token and raises the severity of live ones to critical.
//!
//! Only findings whose rule's provider is `azure-devops` are checked; findings of other
//! providers (HTTP Basic credentials, other Azure keys) keep `Verification::NotChecked`,
//! because we know of no safe, side-effect-free check for them.
//!
//! Safe by construction: requests are GETs to fixed Azure DevOps HTTPS hosts (`dev.azure.com`,
//! `vssps.dev.azure.com`, `feeds.dev.azure.com`, `app.vssps.visualstudio.com`); ids from answers
//! enter a URL only when GUID-shaped (`reach`); the only value from scanned content that enters a URL is an
//! organisation name, and only after [`endpoint::valid_org`] accepts it; redirects are not
//! followed; the token travels only in the `Authorization` header and never appears in a
//! warning, error or reason. Not for reporting: reporters print `Finding::verification`.

pub mod classify;
pub mod client;
pub mod endpoint;
pub mod reach;

use crate::finding::{Finding, OrgSource, Secret, Verification};
use crate::rules::{Provider, Severity};
use client::Client;
use endpoint::{BASE_URL_ENV, Endpoints, OverrideRefused};
use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Rules with this provider are verified.
pub const PROVIDER: Provider = Provider::AzureDevops;
/// Run-wide request rate limit.
pub const REQUESTS_PER_SECOND: u32 = 10;

/// How verification runs.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Concurrent requests (at least 1).
    pub jobs: usize,
    /// Per-request timeout, connecting to reading the body.
    pub timeout: Duration,
    pub requests_per_second: u32,
    pub endpoints: Endpoints,
    /// The whole verification's budget: tokens still unchecked when it runs out are
    /// `unknown (deadline: …)`.
    pub deadline: Duration,
}

impl VerifyOptions {
    /// Options for the real Azure DevOps endpoints.
    pub fn new(jobs: usize, timeout: Duration, deadline: Duration) -> Self {
        VerifyOptions {
            jobs: jobs.max(1),
            timeout,
            requests_per_second: REQUESTS_PER_SECOND,
            endpoints: Endpoints::azure_devops(),
            deadline,
        }
    }

    /// Options for the real Azure DevOps endpoints, or for the test override [`BASE_URL_ENV`],
    /// which is refused unless it names a loopback address, so that a bad override stops the
    /// run before any request.
    pub fn from_env(
        jobs: usize,
        timeout: Duration,
        deadline: Duration,
    ) -> Result<Self, OverrideRefused> {
        let value = match std::env::var(BASE_URL_ENV) {
            Ok(v) if v.is_empty() => None,
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(OverrideRefused {
                    value: "(not UTF-8)".into(),
                    why: "it is not UTF-8",
                });
            }
        };
        let mut opts = Self::new(jobs, timeout, deadline);
        opts.endpoints = Endpoints::from_override(value.as_deref())?;
        Ok(opts)
    }
}

/// One distinct token to check, and the findings that hold it.
struct Task {
    token: Secret,
    /// The organisation to ask, and how it was found.
    org: Option<(String, OrgSource)>,
    findings: Vec<usize>,
}

/// Verify every `azure-devops` finding: each distinct token once, with at most `opts.jobs`
/// requests in flight. Sets `verification` on those findings and raises the severity of
/// valid ones to critical. `warn` receives messages for stderr, never a secret.
pub fn verify_findings(findings: &mut [Finding], opts: &VerifyOptions, warn: &dyn Fn(String)) {
    if let Some(base) = opts.endpoints.overridden() {
        warn(format!(
            "{BASE_URL_ENV} is set: verification requests go to {base} instead of Azure \
             DevOps (for tests only)"
        ));
    }
    let tasks = tasks(findings);
    if tasks.is_empty() {
        return;
    }
    let client = Client::new(
        opts.endpoints.clone(),
        opts.timeout,
        opts.requests_per_second,
    )
    .with_deadline(opts.deadline);
    let results = run(&tasks, opts.jobs, &client);
    for (task, result) in tasks.iter().zip(results) {
        for &i in &task.findings {
            if let Verification::Valid { organization, .. } = &result {
                findings[i].severity = Severity::Critical;
                // Azure DevOps answered for it: better evidence than any text.
                if let Some(org) = organization {
                    findings[i].organization = Some(org.clone());
                    findings[i].organization_source = Some(OrgSource::Verified);
                }
            }
            findings[i].verification = result.clone();
        }
    }
}

/// Group findings by token. A token seen near several organisations is checked against the
/// name from the best evidence ([`OrgSource`] order), among those the one seen most often
/// (ties: the first seen); names failing `valid_org` are ignored.
fn tasks(findings: &[Finding]) -> Vec<Task> {
    let mut index: HashMap<&Secret, usize> = HashMap::new();
    let mut tasks: Vec<Task> = Vec::new();
    let mut orgs: Vec<Vec<(&str, OrgSource)>> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        if f.provider != PROVIDER {
            continue;
        }
        let t = *index.entry(&f.secret).or_insert_with(|| {
            tasks.push(Task {
                token: f.secret.clone(),
                org: None,
                findings: Vec::new(),
            });
            orgs.push(Vec::new());
            tasks.len() - 1
        });
        tasks[t].findings.push(i);
        if let Some(org) = f.organization.as_deref().filter(|o| endpoint::valid_org(o)) {
            orgs[t].push((org, f.organization_source.unwrap_or(OrgSource::Url)));
        }
    }
    for (task, seen) in tasks.iter_mut().zip(orgs) {
        let Some(best) = seen.iter().map(|s| s.1).min() else {
            continue;
        };
        let names: Vec<&str> = seen.iter().filter(|s| s.1 == best).map(|s| s.0).collect();
        task.org = most_frequent(&names).map(|n| (n.to_string(), best));
    }
    tasks
}

fn most_frequent<'a>(names: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    for (i, &n) in names.iter().enumerate() {
        if names[..i].contains(&n) {
            continue;
        }
        let count = names.iter().filter(|&&m| m == n).count();
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((n, count));
        }
    }
    best.map(|(n, _)| n)
}

/// Check every task on `jobs` worker threads sharing one queue; results in task order.
fn run(tasks: &[Task], jobs: usize, client: &Client) -> Vec<Verification> {
    let next = AtomicUsize::new(0);
    let results: Vec<OnceLock<Verification>> = tasks.iter().map(|_| OnceLock::new()).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, tasks.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(task) = tasks.get(i) else { break };
                    let org = task
                        .org
                        .as_ref()
                        .map(|(name, source)| (name.as_str(), *source));
                    let v = client.check(task.token.expose(), org);
                    let _ = results[i].set(v);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner().unwrap_or_else(|| Verification::Unknown {
                reason: "not checked (internal error)".into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Confidence;

    fn finding(provider: Provider, secret: &str, org: Option<&str>) -> Finding {
        Finding {
            rule_id: "r".into(),
            rule_name: "r".into(),
            provider,
            path: "p".into(),
            member: None,
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            secret: Secret::new(secret.into()),
            fingerprint: String::new(),
            line_hash: String::new(),
            confidence: Confidence::High,
            severity: Severity::High,
            organization: org.map(str::to_string),
            organization_source: org.map(|_| OrgSource::Url),
            encoding: None,
            commit: None,
            origin: None,
            unreachable: false,
            verification: Verification::NotChecked,
            place: None,
            occurrences: 1,
            at_head: None,
        }
    }

    #[test]
    fn one_task_per_token_of_the_provider() {
        let fs = vec![
            finding(PROVIDER, "t1", Some("a")),
            finding(Provider::Generic, "t1", Some("a")),
            finding(PROVIDER, "t2", None),
            finding(PROVIDER, "t1", Some("b")),
            finding(PROVIDER, "t1", Some("b")),
            finding(PROVIDER, "t2", Some("bad/org")),
        ];
        let t = tasks(&fs);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].token.expose(), "t1");
        assert_eq!(t[0].findings, vec![0, 3, 4]);
        assert_eq!(t[0].org, Some(("b".to_string(), OrgSource::Url)));
        assert_eq!(t[1].findings, vec![2, 5]);
        assert_eq!(t[1].org, None, "an invalid name counts as no organisation");
    }

    #[test]
    fn most_frequent_prefers_the_first_on_ties() {
        assert_eq!(most_frequent(&["x", "y", "y", "x"]), Some("x"));
        assert_eq!(most_frequent(&["x", "y", "y"]), Some("y"));
        assert_eq!(most_frequent(&[]), None);
    }
}
