//! The blast radius of a live token: who it is (identity and subject descriptor), every
//! organisation that identity belongs to (Accounts API), and in the organisation it was found
//! for, which of a fixed set of lists it can read. GET only, through the same [`Session`] as
//! the check (same hosts, rate limit, retries and deadline), at most [`MAX_REQUESTS`] requests
//! per token in all. Values from answers enter a URL only after `endpoint::valid_id`,
//! `valid_org` or `valid_descriptor` accept them. Not for deciding validity: see `client`.

use super::classify::printable;
use super::client::{Live, Reply, Session};
use super::endpoint::{Probe, valid_descriptor, valid_id, valid_org};
use crate::finding::{Access, OrgReach, Probes, Reach, Verification};
use serde_json::Value;

/// Requests per token, check included, without retries after 429: the check (at most 2),
/// accounts, descriptor and five probes.
pub const MAX_REQUESTS: u32 = 9;
/// Organisations kept from the Accounts API's answer.
pub const MAX_ORGS: usize = 100;

/// Map the reach of a token the check found live; `hint` is the organisation found near it.
pub fn explore(session: &Session, live: Live, hint: Option<&str>) -> Verification {
    let Live {
        mut identity,
        organization: answered,
    } = live;
    let mut orgs: Vec<String> = answered.iter().cloned().collect();
    if valid_id(&identity.id) {
        for name in accounts(session, &identity.id) {
            if !orgs.contains(&name) && orgs.len() < MAX_ORGS {
                orgs.push(name);
            }
        }
    }
    // The organisation to probe: the one that answered, else the one found near the token if
    // the identity belongs to it, else the first it belongs to.
    let home = answered
        .clone()
        .or_else(|| {
            hint.filter(|h| orgs.iter().any(|o| o.eq_ignore_ascii_case(h)))
                .map(str::to_string)
        })
        .or_else(|| orgs.first().cloned());
    let mut organizations: Vec<OrgReach> = Vec::new();
    if let Some(home) = home.as_deref().filter(|h| valid_org(h)) {
        if valid_id(&identity.id) {
            identity.descriptor = descriptor(session, home, &identity.id);
        }
        organizations.push(OrgReach {
            name: home.to_string(),
            probes: Some(probes(session, home)),
        });
    }
    for o in orgs {
        if home.as_deref() != Some(o.as_str()) {
            organizations.push(OrgReach {
                name: o,
                probes: None,
            });
        }
    }
    Verification::Valid {
        identity: Some(identity.describe()),
        organization: home,
        reach: Some(Box::new(Reach {
            identity,
            organizations,
            requests: session.sent(),
        })),
    }
}

fn json(reply: &Reply) -> Option<Value> {
    if !reply.is_json_ok() {
        return None;
    }
    serde_json::from_str(&reply.body).ok()
}

/// Names of the organisations the member belongs to; none if the answer is not usable (an
/// organisation-scoped token is refused here).
fn accounts(session: &Session, member: &str) -> Vec<String> {
    let url = session.endpoints().accounts(member);
    let Some(doc) = session.get(&url, true).ok().as_ref().and_then(json) else {
        return Vec::new();
    };
    let list = doc.get("value").unwrap_or(&doc);
    let mut names: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("accountName").and_then(Value::as_str))
        .filter(|n| valid_org(n))
        .map(printable)
        .collect();
    names.dedup();
    names
}

fn descriptor(session: &Session, org: &str, id: &str) -> Option<String> {
    let url = session.endpoints().descriptor(org, id);
    let doc = session.get(&url, true).ok().as_ref().and_then(json)?;
    doc.get("value")
        .and_then(Value::as_str)
        .filter(|d| valid_descriptor(d))
        .map(str::to_string)
}

fn access(reply: &Result<Reply, Verification>) -> Access {
    match reply {
        Ok(r) if r.is_json_ok() => Access::Readable,
        Ok(r) if matches!(r.status, 401 | 403) => Access::Denied,
        _ => Access::Unknown,
    }
}

fn probes(session: &Session, org: &str) -> Probes {
    let e = session.endpoints();
    let probe = |p: Probe, project: Option<&str>| match e.probe(p, org, project) {
        Some(url) => access(&session.get(&url, false)),
        None => Access::Unknown,
    };
    // Projects: read the first project's id, which the project-level probes need.
    let projects_url = e
        .probe(Probe::Projects, org, None)
        .expect("organisation-level");
    let projects = session.get(&projects_url, true);
    let project: Option<String> = projects
        .as_ref()
        .ok()
        .and_then(json)
        .and_then(|d| {
            d.pointer("/value/0/id")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|id| valid_id(id));
    Probes {
        projects: access(&projects),
        git_repositories: probe(Probe::GitRepositories, None),
        builds: probe(Probe::Builds, project.as_deref()),
        packaging_feeds: probe(Probe::PackagingFeeds, None),
        variable_groups: probe(Probe::VariableGroups, project.as_deref()),
    }
}
