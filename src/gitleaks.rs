//! gitleaks JSON reports, read for `patrol baseline create --from`: each gitleaks finding whose
//! secret patrol also detects becomes a baseline entry. Reading only; nothing here scans files.

use crate::baseline::Entry;
use crate::detect::Matcher;
use crate::scan::{Location, ScanOptions, scan_blob};
use serde::Deserialize;
use std::collections::BTreeSet;

/// The fields of a gitleaks finding that a baseline needs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GitleaksFinding {
    #[serde(default)]
    secret: String,
    #[serde(default, rename = "Match")]
    matched: String,
    #[serde(default)]
    file: String,
}

/// Whether `doc` looks like a gitleaks report: a JSON array (empty, or of objects with
/// `RuleID`).
pub fn is_gitleaks_report(doc: &serde_json::Value) -> bool {
    doc.as_array()
        .is_some_and(|a| a.iter().all(|f| f.get("RuleID").is_some()))
}

/// What a gitleaks report gave.
#[derive(Debug, Default)]
pub struct Imported {
    pub entries: BTreeSet<Entry>,
    /// gitleaks findings in which patrol found nothing (redacted, or not a kind patrol knows).
    pub unmatched: usize,
}

/// A JSON document that is not a gitleaks report. serde's message could quote a value of the
/// report, which may be a secret: it is not shown.
#[derive(Debug, thiserror::Error)]
#[error(
    "not a gitleaks JSON report (an array of findings with string fields); write one with \
     --report-format json"
)]
pub struct NotGitleaksReport;

/// Entries for the gitleaks findings in `doc` whose secret patrol detects, looked for in
/// gitleaks' `Match` (the text around the secret) and then in `Secret` alone.
pub fn entries(
    doc: serde_json::Value,
    matcher: &Matcher,
    opts: &ScanOptions,
    with_paths: bool,
) -> Result<Imported, NotGitleaksReport> {
    let findings: Vec<GitleaksFinding> =
        serde_json::from_value(doc).map_err(|_| NotGitleaksReport)?;
    let mut out = Imported::default();
    for g in findings {
        let secret = g.secret.trim();
        let ours = [g.matched.as_str(), g.secret.as_str()]
            .into_iter()
            .filter(|text| !text.is_empty())
            .map(|text| {
                scan_blob(matcher, text.as_bytes(), opts)
                    .findings_at(&Location::file(&g.file), opts)
            })
            .find(|found| found.iter().any(|f| overlaps(f.secret.expose(), secret)))
            .unwrap_or_default();
        if ours.is_empty() {
            out.unmatched += 1;
        }
        for f in ours.iter().filter(|f| overlaps(f.secret.expose(), secret)) {
            out.entries.insert(Entry {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
                path: with_paths.then(|| crate::report::redact::scrub_text(&g.file).into_owned()),
            });
        }
    }
    Ok(out)
}

/// Whether patrol's secret and gitleaks' name the same credential: one holds the other (gitleaks
/// may report a password where patrol reports the token inside it, or the reverse).
fn overlaps(ours: &str, theirs: &str) -> bool {
    !ours.is_empty() && !theirs.is_empty() && (ours.contains(theirs) || theirs.contains(ours))
}
