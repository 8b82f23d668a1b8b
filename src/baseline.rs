//! Baselines: findings a team has accepted (or is still cleaning up), recorded so that later
//! scans report only new ones.
//!
//! Entries are keyed by rule id and secret hash (the finding's fingerprint), optionally plus
//! path — never by line or commit — so they survive moved lines, rebases and squash merges.
//! The file is sorted, has no timestamps and holds no secret, so it merges cleanly.
//!
//! The file also keeps the key of the fingerprints of secrets without a checksum
//! (`fingerprint_key`, see [`crate::finding::fingerprint`]): scans with `--baseline` use it,
//! so those fingerprints stay stable for as long as the baseline file lives. Files written
//! before keyed fingerprints have no key; their entries still match by the plain hash.

use crate::finding::{Finding, FingerprintKey, plain_fingerprint};
use crate::report::redact::shown_path;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const DEFAULT_PATH: &str = ".patrol-baseline.json";
const VERSION: u32 = 1;

/// Why a baseline file, or a report read as one, was refused. No message quotes the file's
/// text: a hostile baseline could hold a secret anywhere.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("an entry has a malformed fingerprint (`fingerprint` is not 64 hex digits)")]
    MalformedFingerprint,
    #[error("{0}")]
    Syntax(crate::parse_error::Rejection),
    #[error("unsupported baseline version {0} (expected {VERSION})")]
    Version(u32),
    #[error("`fingerprint_key` is not 64 hex digits")]
    Key,
    #[error(
        "baseline {}: {} (create it with `patrol baseline create`)",
        path.display(),
        crate::util::io_reason(error)
    )]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid baseline {}: {error}", path.display())]
    Invalid {
        path: PathBuf,
        error: Box<BaselineError>,
    },
    #[error("{0}")]
    ReportJson(serde_json::Error),
    #[error("not a patrol JSON report: no `findings` array")]
    NotReport,
    #[error("finding without `{0}`")]
    MissingField(&'static str),
}

/// One accepted secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule_id: String,
    /// SHA-256 of rule id and secret (the finding's `fingerprint`).
    pub fingerprint: String,
    /// When set, the entry covers the secret only at this path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Entry {
    /// The checks every entry passes, whether loaded from a baseline or taken from a report.
    fn check(&self) -> Result<(), BaselineError> {
        if self.fingerprint.len() != 64 || !self.fingerprint.bytes().all(|c| c.is_ascii_hexdigit())
        {
            // The message names no value: a hostile baseline could hold a secret anywhere.
            return Err(BaselineError::MalformedFingerprint);
        }
        Ok(())
    }

    /// Whether the entry names this finding, whose path reports show as `shown_path` (secrets
    /// redacted, as entries record it). `legacy`: the entry may also hold the plain SHA-256
    /// fingerprint of a secret without checksum (baselines written without a key).
    fn covers(&self, f: &Finding, shown_path: &str, legacy: bool) -> bool {
        self.rule_id == f.rule_id
            && (self.fingerprint == f.fingerprint
                || (legacy && self.fingerprint == plain_fingerprint(&f.rule_id, f.secret.expose())))
            && self
                .path
                .as_deref()
                .is_none_or(|p| p == shown_path || p == f.path)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    /// Hex key of the keyed fingerprints (absent in files written before keys existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_key: Option<String>,
    pub entries: BTreeSet<Entry>,
}

impl Baseline {
    /// A baseline of these findings, whose fingerprints were made under `key`.
    pub fn from_findings<'a>(
        findings: impl IntoIterator<Item = &'a Finding>,
        with_paths: bool,
        key: &FingerprintKey,
    ) -> Self {
        Baseline {
            version: VERSION,
            fingerprint_key: Some(key.to_hex()),
            entries: findings
                .into_iter()
                .map(|f| Entry {
                    rule_id: f.rule_id.clone(),
                    fingerprint: f.fingerprint.clone(),
                    // A token in a file name must not reach the baseline.
                    path: with_paths.then(|| shown_path(f)),
                })
                .collect(),
        }
    }

    /// A baseline of these entries.
    pub fn from_entries(entries: BTreeSet<Entry>) -> Self {
        Baseline {
            version: VERSION,
            fingerprint_key: Some(FingerprintKey::random().to_hex()),
            entries,
        }
    }

    /// The key scans with this baseline fingerprint secrets without a checksum under.
    pub fn key(&self) -> Option<FingerprintKey> {
        self.fingerprint_key
            .as_deref()
            .and_then(FingerprintKey::from_hex)
    }

    pub fn covers(&self, f: &Finding) -> bool {
        let legacy = self.fingerprint_key.is_none();
        let shown = shown_path(f);
        self.entries.iter().any(|e| e.covers(f, &shown, legacy))
    }

    /// Entries that match none of `findings`.
    pub fn stale<'a>(&'a self, findings: &[Finding]) -> Vec<&'a Entry> {
        let legacy = self.fingerprint_key.is_none();
        let shown: Vec<String> = findings.iter().map(shown_path).collect();
        self.entries
            .iter()
            .filter(|e| {
                !findings
                    .iter()
                    .zip(&shown)
                    .any(|(f, s)| e.covers(f, s, legacy))
            })
            .collect()
    }

    /// Parse a baseline file. Errors name the line, the key and what was expected, never the
    /// text found there.
    pub fn parse(text: &str) -> Result<Self, BaselineError> {
        let b: Baseline = serde_json::from_str(text).map_err(|e| {
            let offset = offset_of(text, e.line(), e.column());
            BaselineError::Syntax(crate::parse_error::reject(
                text,
                offset,
                &e.to_string(),
                KEYS,
            ))
        })?;
        if b.version != VERSION {
            return Err(BaselineError::Version(b.version));
        }
        if b.fingerprint_key.is_some() && b.key().is_none() {
            return Err(BaselineError::Key);
        }
        b.entries.iter().try_for_each(Entry::check)?;
        Ok(b)
    }

    pub fn load(path: &Path) -> Result<Self, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|error| BaselineError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&text).map_err(|error| BaselineError::Invalid {
            path: path.to_path_buf(),
            error: Box::new(error),
        })
    }

    /// Stable text: sorted entries, two-space indent, trailing newline.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("serialisable");
        s.push('\n');
        s
    }
}

/// The keys of a baseline file (the names errors may quote).
const KEYS: &[&str] = &[
    "version",
    "fingerprint_key",
    "entries",
    "rule_id",
    "fingerprint",
    "path",
];

/// Byte offset of serde_json's 1-based line and column (`None` for line 0: no position).
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    Some((start + column.saturating_sub(1)).min(text.len()))
}

/// Read a `--format json` report back into (rule_id, fingerprint, path) entries, for a
/// baseline under `key`. Fingerprints of secrets without a checksum in the report match later
/// scans only if the report was made under the same key (`--baseline` of this file).
pub fn entries_from_report(
    text: &str,
    with_paths: bool,
    key: &FingerprintKey,
) -> Result<Baseline, BaselineError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(BaselineError::ReportJson)?;
    let findings = doc["findings"].as_array().ok_or(BaselineError::NotReport)?;
    // Paths in a report start with the scanned directory as given (`root`); entries are keyed
    // relative to it, as `baseline create` without `--from` keys them.
    let root_prefix = doc["root"]
        .as_str()
        .map(|root| crate::report::join_root(root, ""));
    let mut entries = BTreeSet::new();
    for f in findings {
        let field = |k: &'static str| {
            f[k].as_str()
                .map(str::to_string)
                .ok_or(BaselineError::MissingField(k))
        };
        entries.insert(Entry {
            rule_id: field("rule_id")?,
            fingerprint: field("fingerprint")?,
            path: if with_paths {
                let path = field("path")?;
                Some(
                    match root_prefix.as_deref().and_then(|r| path.strip_prefix(r)) {
                        Some(relative) => relative.to_string(),
                        None => path,
                    },
                )
            } else {
                None
            },
        });
    }
    // What `create --from` writes must load again.
    entries.iter().try_for_each(Entry::check)?;
    Ok(Baseline {
        version: VERSION,
        fingerprint_key: Some(key.to_hex()),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `baseline` fuzz target: an error position inside a multi-byte character
    /// panicked while the error message looked for the key before it.
    #[test]
    fn an_error_inside_a_multibyte_character_is_an_error_not_a_panic() {
        assert!(Baseline::parse("\"\u{2e3}").is_err());
    }

    #[test]
    fn rejects_bad_files() {
        assert!(Baseline::parse("{\"version\":2,\"entries\":[]}").is_err());
        assert!(
            Baseline::parse(
                "{\"version\":1,\"entries\":[{\"rule_id\":\"x\",\"fingerprint\":\"zz\"}]}"
            )
            .is_err()
        );
        assert!(Baseline::parse("{\"version\":1,\"entries\":[],\"extra\":1}").is_err());
        let ok = format!(
            "{{\"version\":1,\"entries\":[{{\"rule_id\":\"x\",\"fingerprint\":\"{}\"}}]}}",
            "a".repeat(64)
        );
        assert_eq!(Baseline::parse(&ok).unwrap().entries.len(), 1);
    }
}
