//! JSON (`{"findings": [...], "summary": {...}}`) and JSON Lines (one finding per line).

use super::plan::{Plans, RevokePlan};
use super::{Report, shown_secret};
use crate::finding::{CommitInfo, Encodings, Finding, OrgSource, Origin, Place, Verification};
use serde::Serialize;

/// A finding as JSON shows it; the field set is documented in README.md.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub path: std::borrow::Cow<'a, str>,
    /// For a secret inside an archive: the archive file, and the member's path inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_path: Option<std::borrow::Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<&'a str>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: String,
    pub fingerprint: &'a str,
    pub confidence: &'static str,
    pub severity: &'static str,
    pub organization: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_source: Option<OrgSource>,
    pub encoding: Option<&'a Encodings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<&'a CommitInfo>,
    /// `commit_message`, `tag_message` or `note` for text from git that is not a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
    pub verification: &'a Verification,
    pub revoke: &'a RevokePlan,
    /// Organization scans only: the repository (`org/project/repo`), web link and item.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub place: Option<&'a Origin>,
    pub occurrences: u64,
    /// History findings: whether the secret is still in the scanned `HEAD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub present_at_head: Option<bool>,
    /// Every place of the secret at `HEAD` (the finding points at the first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_locations: Option<&'a [Place]>,
    /// Where the commit introduced the secret, for a finding moved to its place at `HEAD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introduced: Option<&'a Place>,
}

pub fn json_finding<'a>(r: &Report, f: &'a Finding, plan: &'a RevokePlan) -> JsonFinding<'a> {
    let show_secrets = r.show_secrets;
    JsonFinding {
        rule_id: &f.rule_id,
        rule_name: &f.rule_name,
        path: r.shown_path(f),
        archive_path: f.member.is_some().then(|| r.shown(f.file_path())),
        member: f.member.as_deref(),
        line: f.line,
        column: f.column,
        end_line: f.end_line,
        end_column: f.end_column,
        secret: shown_secret(f, show_secrets),
        fingerprint: &f.fingerprint,
        confidence: f.confidence.as_str(),
        severity: f.severity.as_str(),
        organization: f.organization.as_deref(),
        organization_source: f.organization_source,
        encoding: f.encoding.as_ref(),
        commit: f.commit.as_ref(),
        origin: f.origin,
        unreachable: f.unreachable,
        verification: &f.verification,
        revoke: plan,
        place: f.place.as_ref(),
        occurrences: f.occurrences,
        present_at_head: f.at_head.as_ref().map(|h| h.present),
        head_locations: f
            .at_head
            .as_ref()
            .filter(|h| h.present)
            .map(|h| h.places.as_slice()),
        introduced: f.at_head.as_ref().and_then(|h| h.introduced.as_ref()),
    }
}

pub fn render(r: &Report) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        /// The scanned directory as given, which `path` starts with (null when paths are
        /// relative to the current directory): `baseline create --from` takes it off again.
        root: Option<&'a str>,
        findings: Vec<JsonFinding<'a>>,
        summary: &'a crate::finding::Summary,
    }
    let plans = Plans::new(r.findings);
    let doc = Doc {
        root: r.root,
        findings: r
            .findings
            .iter()
            .enumerate()
            .map(|(i, f)| json_finding(r, f, plans.of(i)))
            .collect(),
        summary: r.summary,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("serialisable");
    s.push('\n');
    s
}

pub fn render_lines(r: &Report) -> String {
    let plans = Plans::new(r.findings);
    let mut s = String::new();
    for (i, f) in r.findings.iter().enumerate() {
        let jf = json_finding(r, f, plans.of(i));
        s.push_str(&serde_json::to_string(&jf).expect("serialisable"));
        s.push('\n');
    }
    s
}
