//! The revoke plan of one secret, as data: where its owner revokes it in each organisation it
//! is known to reach, the Token Administration API calls an administrator can paste (with
//! their own credentials: patrol itself never revokes and only ever sends GET), then replace,
//! purge from history (naming the commits that hold it) and check the audit log from the
//! date it was introduced. JSON carries it as is; human output and SARIF render it.
//! Built once per secret from all of its findings. Not for the generic per-rule advice
//! (`advice`).

use super::advice::{ADMIN_DOCS, PROFILE_PAGE, token_page};
use crate::finding::{Finding, Reach, Secret, Verification};
use crate::rules::Provider;
use serde::Serialize;
use std::collections::HashMap;

/// Azure DevOps' application id, the resource of an administrator's Microsoft Entra token.
const ADO_RESOURCE: &str = "499b84ac-1321-427f-aa17-267ca6975798";
const ADMIN_TOKEN_VAR: &str = "ADO_ADMIN_TOKEN";
const TOKEN_ADMIN_VERSION: &str = "api-version=7.1-preview.1";

/// The owner's pages in one organisation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OrgLinks {
    pub name: String,
    /// Where the owner revokes their tokens.
    pub revoke: String,
    /// The organisation's audit log.
    pub audit_log: String,
}

/// What an organisation administrator runs, for the identity the token belongs to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AdminCalls {
    pub organization: String,
    /// How to get the administrator's own credentials into the variable the calls use.
    pub credentials: String,
    /// Read-only: the owner's PATs with their `authorizationId`s.
    pub lookup: String,
    /// The revocation of the one picked from the lookup.
    pub revoke: String,
    pub docs: String,
}

/// The plan for one secret.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RevokePlan {
    /// One line: the first thing to do.
    pub action: String,
    /// Per organisation the token reaches (verified) or was found for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<OrgLinks>,
    /// With no organisation known: where the owner finds their organisations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub find_organizations: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminCalls>,
    /// Commits that introduced the secret (history scans).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// Start of the window to audit: the earliest of those commits' dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_from: Option<String>,
    pub steps: Vec<String>,
}

/// The plans of a report: one per distinct secret, shared by its findings.
pub struct Plans {
    plans: Vec<RevokePlan>,
    /// Per finding: its plan, and whether it is the first finding of that secret.
    of: Vec<(usize, bool)>,
}

impl Plans {
    pub fn new(findings: &[Finding]) -> Self {
        let mut index: HashMap<(Provider, &Secret), usize> = HashMap::new();
        let mut groups: Vec<Vec<&Finding>> = Vec::new();
        let mut of = Vec::with_capacity(findings.len());
        for f in findings {
            let next = groups.len();
            let g = *index.entry((f.provider, &f.secret)).or_insert(next);
            if g == next {
                groups.push(Vec::new());
            }
            of.push((g, groups[g].is_empty()));
            groups[g].push(f);
        }
        Plans {
            plans: groups.iter().map(|g| plan(g)).collect(),
            of,
        }
    }

    /// The plan of the `i`-th finding.
    pub fn of(&self, i: usize) -> &RevokePlan {
        &self.plans[self.of[i].0]
    }

    /// Whether the `i`-th finding is the first of its secret (where human output prints it).
    pub fn first(&self, i: usize) -> bool {
        self.of[i].1
    }
}

fn reach<'a>(group: &[&'a Finding]) -> Option<&'a Reach> {
    group.iter().find_map(|f| match &f.verification {
        Verification::Valid { reach, .. } => reach.as_deref(),
        _ => None,
    })
}

fn links(name: &str) -> OrgLinks {
    OrgLinks {
        name: name.to_string(),
        revoke: token_page(name),
        audit_log: format!("https://dev.azure.com/{name}/_settings/audit"),
    }
}

/// The plan of one secret from all its findings.
// Long: the plan's fields are filled in the order the plan reads; splitting would pass the
// same dozen values between helpers.
fn plan(group: &[&Finding]) -> RevokePlan {
    let first = group[0];
    let mut commits: Vec<&crate::finding::CommitInfo> =
        group.iter().filter_map(|f| f.commit.as_ref()).collect();
    commits.sort_by(|a, b| (&a.date, &a.id).cmp(&(&b.date, &b.id)));
    commits.dedup_by(|a, b| a.id == b.id);
    let audit_from = commits.first().map(|c| c.date.clone());
    let commit_ids: Vec<String> = commits.iter().map(|c| c.id.clone()).collect();
    if first.provider != Provider::AzureDevops {
        let advice = super::advice::advice(first.provider, None);
        return RevokePlan {
            action: advice.hint,
            organizations: Vec::new(),
            find_organizations: None,
            admin: None,
            steps: advice.text.lines().map(str::to_string).collect(),
            commits: commit_ids,
            audit_from,
        };
    }
    let reach = reach(group);
    let orgs: Vec<OrgLinks> = match reach {
        Some(r) if !r.organizations.is_empty() => {
            r.organizations.iter().map(|o| links(&o.name)).collect()
        }
        _ => group
            .iter()
            .filter_map(|f| {
                f.organization
                    .as_deref()
                    .map(|o| (f.organization_source, o))
            })
            .min()
            .map(|(_, o)| vec![links(o)])
            .unwrap_or_default(),
    };
    let admin = reach.and_then(|r| {
        let descriptor = r.identity.descriptor.as_deref()?;
        let org = &r.organizations.first()?.name;
        Some(admin_calls(org, descriptor))
    });
    let action = match orgs.as_slice() {
        [] => format!(
            "revoke it now: its owner finds it under User settings > Personal access tokens of \
             each organisation listed at {PROFILE_PAGE}"
        ),
        [one] => format!("revoke it now at {}", one.revoke),
        [one, rest @ ..] => format!(
            "revoke it now at {} and in {} more organisation{} it reaches",
            one.revoke,
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    };
    let mut steps = Vec::new();
    steps.push(match orgs.as_slice() {
        [] => format!(
            "Revoke it now. Its owner opens {PROFILE_PAGE}, which lists their organisations, and \
             revokes it under User settings > Personal access tokens in each."
        ),
        _ => format!(
            "Revoke it now. Its owner: {}.",
            orgs.iter()
                .map(|o| o.revoke.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    steps.push(match &admin {
        Some(a) => format!(
            "An administrator of {} lists the owner's PATs with `{}` and revokes this one \
             (its authorizationId from that list) with `{}`; {}.",
            a.organization, a.lookup, a.revoke, a.credentials
        ),
        None => format!(
            "An organisation administrator can revoke users' PATs ({ADMIN_DOCS}); there is no \
             revoke-by-value."
        ),
    });
    steps.push(
        "Replace it with a narrowly scoped, short-lived PAT, or better a Microsoft Entra token, \
         a managed identity or the pipeline's System.AccessToken."
            .to_string(),
    );
    steps.push(if commit_ids.is_empty() {
        "Remove it from history (git filter-repo), not only from the latest commit: every clone \
         still holds it."
            .to_string()
    } else {
        format!(
            "Remove it from history (git filter-repo): commit{} {} introduced it, and every clone \
             still holds {}.",
            if commit_ids.len() == 1 { "" } else { "s" },
            commit_ids.join(", "),
            if commit_ids.len() == 1 { "it" } else { "them" }
        )
    });
    let window = match &audit_from {
        Some(d) => format!("from {d} (when it was committed) until it was revoked"),
        None => "between the leak and the revocation".to_string(),
    };
    steps.push(match orgs.as_slice() {
        [] => format!("Check each organisation's audit log for use of the token {window}."),
        _ => format!(
            "Check the audit log for use of the token {window}: {}.",
            orgs.iter()
                .map(|o| o.audit_log.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    RevokePlan {
        action,
        find_organizations: orgs.is_empty().then(|| PROFILE_PAGE.to_string()),
        organizations: orgs,
        admin,
        commits: commit_ids,
        audit_from,
        steps,
    }
}

fn admin_calls(org: &str, descriptor: &str) -> AdminCalls {
    let base = format!("https://vssps.dev.azure.com/{org}/_apis/tokenadmin");
    let auth = format!("-H \"Authorization: Bearer ${ADMIN_TOKEN_VAR}\"");
    AdminCalls {
        organization: org.to_string(),
        credentials: format!(
            "{ADMIN_TOKEN_VAR} holds the administrator's own Microsoft Entra token, e.g. from \
             `az account get-access-token --resource {ADO_RESOURCE} --query accessToken -o tsv`"
        ),
        lookup: format!(
            "curl -sS {auth} \"{base}/personalaccesstokens/{descriptor}?{TOKEN_ADMIN_VERSION}\""
        ),
        revoke: format!(
            "curl -sS -X POST {auth} -H \"Content-Type: application/json\" -d \
             '[{{\"authorizationId\":\"AUTHORIZATION_ID\"}}]' \
             \"{base}/revocations?{TOKEN_ADMIN_VERSION}\""
        ),
        docs: ADMIN_DOCS.to_string(),
    }
}
