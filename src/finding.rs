//! What a scan reports: a [`Finding`] per secret and place, with provenance, and the
//! [`Summary`] of the run. Pure data: sources fill it in, reporters print it.

use crate::rules::{Confidence, Provider, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod encoding;
pub use encoding::{Encoding, Encodings};

/// A secret value. Its `Debug` and `Display` never show it: use [`Secret::expose`] on purpose.
/// The flag marks a value that is already a redacted form (read back from a report by
/// `patrol merge`), which is shown as it is.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Secret(String, bool);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(s, false)
    }

    /// A secret known only by the redacted form a report showed (`abcd…`).
    pub fn redacted_form(shown: String) -> Self {
        Secret(shown, true)
    }

    /// Whether `shown` is what [`Secret::redacted`] makes: at most 4 characters and `…`.
    pub fn looks_redacted(shown: &str) -> bool {
        shown.ends_with('…') && shown.chars().count() <= 5
    }

    /// The raw secret. Call only where the user asked for it (`--show-secrets`) or to verify it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret's first [`shown_chars`] characters and an ellipsis (`…` alone for a secret
    /// under 8 characters).
    pub fn redacted(&self) -> String {
        if self.1 {
            return self.0.clone();
        }
        let head: String = self
            .0
            .chars()
            .take(shown_chars(self.0.chars().count()))
            .collect();
        format!("{head}…")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

/// How many leading characters of a secret of `len` characters a redacted form shows: a
/// quarter, at most 4, and none under 8 characters. Never more than half, so that a short
/// password is not given away by its own redaction; a 52-character PAT still shows 4.
pub fn shown_chars(len: usize) -> usize {
    if len < 8 { 0 } else { (len / 4).min(4) }
}

/// The key of the fingerprints of secrets that carry no checksum (passwords, generic
/// credentials). It lives in the baseline file (`fingerprint_key`); a run without a baseline
/// draws a fresh one, so such fingerprints are then stable only within that run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FingerprintKey([u8; 32]);

impl FingerprintKey {
    /// A new key from the operating system's random source.
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k).expect("the operating system provides random bytes");
        FingerprintKey(k)
    }

    /// A key from its 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let mut k = [0u8; 32];
        for (i, b) in k.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(FingerprintKey(k))
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

// A debug print of options must not reveal the key.
impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(…)")
    }
}

impl Default for FingerprintKey {
    fn default() -> Self {
        FingerprintKey::random()
    }
}

/// Names a secret without revealing it (hex, 64 digits).
///
/// A token with a checksum (`checksummed`) is too long and random to guess, so its fingerprint
/// is a plain SHA-256 of `rule_id:secret`, the same everywhere and in every run. Any other
/// secret may be a short password that a plain hash would give away to a few guesses, so its
/// fingerprint is HMAC-SHA256 under `key`: without the key, nothing can be tried against it.
pub fn fingerprint(rule_id: &str, secret: &str, checksummed: bool, key: &FingerprintKey) -> String {
    if checksummed {
        plain_fingerprint(rule_id, secret)
    } else {
        hex(&hmac_sha256(
            &key.0,
            &[rule_id.as_bytes(), b":", secret.as_bytes()],
        ))
    }
}

/// SHA-256 (hex) of `rule_id:secret`: the fingerprint of checksummed tokens, and of every
/// secret in baselines written before fingerprints were keyed.
pub fn plain_fingerprint(rule_id: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update(b":");
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`; the key fits one block as is.
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, b) in key.iter().enumerate() {
        ipad[i] ^= b;
        opad[i] ^= b;
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

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
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: key "Jefe" (zero-padded, which HMAC does anyway).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex(&hmac_sha256(&key, &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn redaction_never_shows_more_than_a_quarter() {
        for len in 0..100 {
            let s = Secret::new("x".repeat(len));
            let shown = s.redacted().chars().count() - 1;
            assert!(shown <= 4 && shown * 2 <= len, "{len}: {shown}");
            assert_eq!(shown == 0, len < 8, "{len}");
        }
        assert_eq!(Secret::new("Summer2024!".into()).redacted(), "Su…");
        assert_eq!(Secret::new("hunter2".into()).redacted(), "…");
    }

    #[test]
    fn password_fingerprints_are_keyed_and_token_fingerprints_are_not() {
        let (a, b) = (FingerprintKey::random(), FingerprintKey::random());
        let pw = "Summer2024!";
        assert_eq!(fingerprint("r", pw, true, &a), plain_fingerprint("r", pw));
        assert_ne!(fingerprint("r", pw, false, &a), plain_fingerprint("r", pw));
        assert_ne!(
            fingerprint("r", pw, false, &a),
            fingerprint("r", pw, false, &b)
        );
        assert_eq!(
            fingerprint("r", pw, false, &a),
            fingerprint("r", pw, false, &a)
        );
        assert_eq!(FingerprintKey::from_hex(&a.to_hex()), Some(a));
        assert_eq!(format!("{a:?}"), "FingerprintKey(…)");
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
