//! What a scan reports: a [`Finding`] per secret and place, with provenance, and the
//! [`Summary`] of the run. Pure data: sources fill it in, reporters print it.

use crate::rules::{Confidence, Provider, Severity};
use serde::{Deserialize, Serialize};

mod encoding;
mod secret;
mod verification;
pub use encoding::{Encoding, Encodings};
pub use secret::{FingerprintKey, Secret, fingerprint, hex, plain_fingerprint, shown_chars};
pub use verification::{Access, Identity, OrgReach, Probes, Reach, Verification};

/// The commit that introduced a secret, for findings from git history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct CommitInfo {
    pub id: String,
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339.
    pub date: String,
    pub summary: String,
}

/// The repository a history scan read, for SARIF's `versionControlProvenance`. A source fills
/// it in only when every finding comes from this one repository.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RepositoryInfo {
    /// Remote URL (reporters strip any `user:password@` from it) or the absolute path of a
    /// local repository.
    pub uri: String,
    /// Full id of the commit the scan started from (usually HEAD).
    pub revision: Option<String>,
    /// Branch checked out, e.g. `main`.
    pub branch: Option<String>,
}

/// Where a finding's organisation name came from, best evidence first (the derived order is
/// the order of preference when several are found).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum OrgSource {
    /// Azure DevOps answered for this organisation when `--verify` checked the token.
    Verified,
    /// An Azure DevOps URL on the token's own line: the token is used with that organisation.
    SameLine,
    /// A git remote of the scanned repository.
    Remote,
    /// A key naming the organisation near the token (`AZURE_DEVOPS_ORG=…`, `"organization": …`).
    Key,
    /// An Azure DevOps URL near the token, on another line.
    Url,
}

impl OrgSource {
    /// Whether the name is only inferred from surroundings, so a rejection there does not
    /// prove the token dead (it may belong to another organisation).
    pub fn guessed(self) -> bool {
        !matches!(self, OrgSource::Verified | OrgSource::SameLine)
    }

    /// How the name was found, for a person: it completes "the one …".
    pub fn how_found(self) -> &'static str {
        match self {
            OrgSource::Verified => "that answered for the token",
            OrgSource::SameLine => "in an Azure DevOps URL on the token's line",
            OrgSource::Remote => "whose repository held the token",
            OrgSource::Key => "named near the token",
            OrgSource::Url => "in an Azure DevOps URL near the token",
        }
    }
}

/// A place in a tree: path (with `!member` inside an archive) and 1-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

impl Place {
    pub fn of(f: &Finding) -> Place {
        Place {
            path: f.path.clone(),
            line: f.line,
            column: f.column,
        }
    }
}

/// For a history finding: whether its secret is still in the scanned `HEAD`, every place it
/// stands there, and where it was introduced (the finding itself then points at `HEAD`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtHead {
    pub present: bool,
    pub places: Vec<Place>,
    pub introduced: Option<Place>,
}

/// One secret at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub provider: Provider,
    /// Path relative to the scanned root (or as given), `/`-separated; inside an archive, the
    /// archive's path, `!` and the member's (`pkg.nupkg!content/NuGet.config`).
    pub path: String,
    /// The member's path inside the archive (`content/NuGet.config`; nested archives joined by
    /// `!`), when the secret is in an archive.
    pub member: Option<String>,
    /// 1-based line and column (columns count Unicode scalar values) of the secret's start.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    /// 1-based column just past the secret.
    pub end_column: usize,
    pub secret: Secret,
    pub fingerprint: String,
    /// SHA-256 (hex, first 16) of the whitespace-trimmed line, for SARIF's line hash.
    pub line_hash: String,
    pub confidence: Confidence,
    pub severity: Severity,
    pub organization: Option<String>,
    /// Which evidence named `organization` (set whenever it is).
    pub organization_source: Option<OrgSource>,
    /// How the secret was encoded (`base64`, `url`, `utf-16le`, `gzip+utf-16le`, …), when it
    /// was not in the file's bytes as is.
    pub encoding: Option<Encodings>,
    pub commit: Option<CommitInfo>,
    /// Where the text came from when it is not a file's content: `commit_message`,
    /// `tag_message` or `note` in git; `file_name` or `link_target` (a symbolic link's target,
    /// read, never followed) in a scanned tree.
    pub origin: Option<&'static str>,
    /// Found only in objects that no ref reaches (`patrol git --all-objects`).
    pub unreachable: bool,
    pub verification: Verification,
    /// Where in an organization the finding lives (`patrol ado`); `None` for local scans.
    pub place: Option<Origin>,
    /// How many times the secret occurs in this file (or blob); the finding is the first.
    pub occurrences: u64,
    /// History findings from a commit's tree, when the scan reached `HEAD`: see [`AtHead`].
    pub at_head: Option<AtHead>,
}

/// The place of a finding in an Azure DevOps organization, beyond its path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// `org/project/repo` for a repository, `org/project` for pipeline variables.
    pub repository: String,
    /// A web link to the line at the introducing commit, or to the pipeline or variable group.
    pub web_url: Option<String>,
    /// What the finding is in, when not a file: `pipeline 'NAME' variable VAR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The finding's line hash (SARIF's `primaryLocationLineHash`), so that `patrol merge`
    /// can rebuild SARIF from JSON reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_hash: Option<String>,
}

impl Finding {
    /// The file that holds the secret: the archive's path for a member's finding.
    pub fn file_path(&self) -> &str {
        match &self.member {
            Some(m) => &self.path[..self.path.len() - m.len() - 1],
            None => &self.path,
        }
    }

    /// Order used for every output: path, position, rule.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.place.as_ref().map(|o| &o.repository),
            &self.path,
            self.line,
            self.column,
            &self.rule_id,
            self.commit.as_ref().map(|c| &c.id),
        )
    }
}

/// Counters of one run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    pub skipped_large: u64,
    pub skipped_binary: u64,
    pub skipped_other: u64,
    pub unreadable: u64,
    pub findings: u64,
    pub suppressed: u64,
    /// Members of archives and packages scanned.
    pub archive_members: u64,
    /// Archives (or members) not read to the end because a decompression-bomb limit was hit.
    pub archive_limits: u64,
    /// Findings not reported because of the caps per file and per run (distinct secrets).
    pub capped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blobs: Option<u64>,
    pub elapsed_ms: u64,
    /// What an organization scan (`patrol ado`) covered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrgSummary>,
}

/// Repositories and pipelines of an organization scan: what was scanned, skipped and failed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct OrgSummary {
    /// Organization names, as `patrol merge` may combine several.
    pub organization: String,
    /// Repositories the API listed (after `--project`, `--exclude`, `--forks` and `--shard`).
    pub repositories_listed: u64,
    pub repositories_scanned: u64,
    /// Blobs not read because an earlier run scanned them clean with the same rules.
    pub blobs_known: u64,
    pub pipelines_scanned: u64,
    pub variable_groups_scanned: u64,
    pub skipped: Vec<RepoNote>,
    pub failed: Vec<RepoNote>,
    /// `K/N` when the run scanned one shard; a merged report lists every shard it holds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<String>,
    /// Every repository scanned, by name, with its clone URL and HEAD (SARIF's runs).
    pub repositories: Vec<ScannedRepo>,
    /// `--balance size`: a hash of the listing the shard divided. Shards that saw different
    /// listings may have missed or doubled a repository; `patrol merge` says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing: Option<String>,
}

/// A repository an organization scan read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScannedRepo {
    /// `org/project/repo`.
    pub repository: String,
    #[serde(flatten)]
    pub info: RepositoryInfo,
}

/// A repository (or project's pipelines) and why it was skipped or failed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RepoNote {
    pub repository: String,
    pub reason: String,
}
