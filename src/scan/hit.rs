//! What scanning a blob finds before the blob has a place: a [`Hit`] is a finding without its
//! path, commit or origin. A blob is scanned once however many places hold it (history scans
//! each blob once, then reports it at every path and commit that introduced it); each place
//! then builds its [`Finding`] once, with [`Hit::at`], including the judgement that depends on
//! where the blob sits (a file whose role is testing makes an unproven secret less certain).

use super::is_test_path;
use crate::finding::{CommitInfo, Encodings, Finding, OrgSource, Secret, Verification};
use crate::rules::{Confidence, Provider, Severity};

/// A secret found in a blob, with everything a finding says except where the blob is.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule_id: String,
    pub rule_name: String,
    pub provider: Provider,
    /// The member's path inside an archive (nested archives joined by `!`).
    pub member: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub secret: Secret,
    pub fingerprint: String,
    pub line_hash: String,
    /// The confidence wherever the blob is; see [`Hit::confidence_at`].
    pub confidence: Confidence,
    /// No checksum proves the secret: it is one level less certain in a testing file.
    pub unproven: bool,
    pub severity: Severity,
    pub organization: Option<String>,
    pub organization_source: Option<OrgSource>,
    pub encoding: Option<Encodings>,
    /// How many times the secret occurs in the blob; the hit is the first.
    pub occurrences: u64,
}

/// Where a blob's hits are reported.
#[derive(Debug, Default, Clone, Copy)]
pub struct Location<'a> {
    /// The file (or pseudo-path: `<stdin>`, a ref, an object id) holding the blob.
    pub path: &'a str,
    pub commit: Option<&'a CommitInfo>,
    /// What the text is when not a file's content (`commit_message`, `file_name`, …).
    pub origin: Option<&'static str>,
    /// Only objects no ref reaches hold it.
    pub unreachable: bool,
}

impl<'a> Location<'a> {
    /// A file's content at `path`.
    pub fn file(path: &'a str) -> Self {
        Location {
            path,
            ..Location::default()
        }
    }
}

impl Hit {
    /// The hit's confidence when its blob is at `path`: one level lower for an unproven
    /// secret in a file (or archive member) whose role is testing.
    pub fn confidence_at(&self, path: &str) -> Confidence {
        let testing = is_test_path(path) || self.member.as_deref().is_some_and(is_test_path);
        match (self.unproven && testing, self.confidence) {
            (false, c) => c,
            (true, Confidence::High) => Confidence::Medium,
            (true, _) => Confidence::Low,
        }
    }

    /// The finding this hit makes at `at`, when it is at least `min` confident there.
    pub fn at(&self, at: &Location<'_>, min: Confidence) -> Option<Finding> {
        let confidence = self.confidence_at(at.path);
        (confidence >= min).then(|| self.finding(at, confidence))
    }

    /// The finding at `at` whatever its confidence (where a secret also sits, for a finding
    /// reported elsewhere).
    pub fn place(&self, at: &Location<'_>) -> Finding {
        self.finding(at, self.confidence_at(at.path))
    }

    fn finding(&self, at: &Location<'_>, confidence: Confidence) -> Finding {
        Finding {
            rule_id: self.rule_id.clone(),
            rule_name: self.rule_name.clone(),
            provider: self.provider,
            path: match &self.member {
                Some(m) => format!("{}!{m}", at.path),
                None => at.path.to_string(),
            },
            member: self.member.clone(),
            line: self.line,
            column: self.column,
            end_line: self.end_line,
            end_column: self.end_column,
            secret: self.secret.clone(),
            fingerprint: self.fingerprint.clone(),
            line_hash: self.line_hash.clone(),
            confidence,
            severity: self.severity,
            organization: self.organization.clone(),
            organization_source: self.organization_source,
            encoding: self.encoding.clone(),
            commit: at.commit.cloned(),
            origin: at.origin,
            unreachable: at.unreachable,
            verification: Verification::NotChecked,
            place: None,
            occurrences: self.occurrences,
            at_head: None,
        }
    }
}
