//! What a live check (`--verify`) found out about a token: valid (with who and what it
//! reaches), invalid, or unknown and why.

use serde::{Deserialize, Serialize};

/// Who a live token belongs to, as Azure DevOps answered (text made printable).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Identity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// E-mail or account name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub id: String,
    /// Subject descriptor (`aad.…`), which the Token Administration API takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptor: Option<String>,
}

impl Identity {
    /// `Display Name <e-mail> (id …)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.display_name {
            parts.push(n.clone());
        }
        if let Some(e) = &self.email {
            parts.push(format!("<{e}>"));
        }
        parts.push(format!("(id {})", self.id));
        parts.join(" ")
    }
}

/// What one read-only probe of a live token found.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Readable,
    Denied,
    Unknown,
}

/// The read-only probes of one organisation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Probes {
    pub projects: Access,
    pub git_repositories: Access,
    pub builds: Access,
    pub packaging_feeds: Access,
    pub variable_groups: Access,
}

impl Probes {
    /// `(name, access)` in a fixed order, for printing.
    pub fn list(&self) -> [(&'static str, Access); 5] {
        [
            ("projects", self.projects),
            ("git repositories", self.git_repositories),
            ("builds", self.builds),
            ("packaging feeds", self.packaging_feeds),
            ("variable groups", self.variable_groups),
        ]
    }
}

/// One organisation a live token reaches.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgReach {
    pub name: String,
    /// Only for the organisation the token was checked in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probes: Option<Probes>,
}

/// The blast radius of a live token (`verification.reach`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Reach {
    pub identity: Identity,
    /// Every organisation the identity belongs to; the probed one first.
    pub organizations: Vec<OrgReach>,
    /// Requests sent for this token, its check included (all GET).
    pub requests: u32,
}

/// Outcome of a live check (`--verify`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    #[default]
    NotChecked,
    Valid {
        #[serde(skip_serializing_if = "Option::is_none")]
        identity: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        organization: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reach: Option<Box<Reach>>,
    },
    Invalid,
    Unknown {
        reason: String,
    },
}
