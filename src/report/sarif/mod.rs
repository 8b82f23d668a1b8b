//! SARIF 2.1.0 (`--format sarif`) for GitHub code scanning, the Azure DevOps Scans tab and
//! editors' SARIF viewers, built with the `serde-sarif` types (the README's SARIF section).
//!
//! One run. `tool.driver.rules` lists each rule that produced a result, sorted by id, with the
//! full revoke steps as its help, once; each result carries one line of action for its own
//! secret (`plan`).
//! The document is deterministic (no timestamps; rules by id, results in finding order) and
//! holds no raw secret unless `--show-secrets`. Not for: deciding what is a finding, or
//! writing the file (`cmd::emit` does both the writing and the truncation warning).
//!
//! Parts: [`rules`] (rule descriptors, scores, levels), [`results`] (one result per finding),
//! [`run`] (the run, its provenance and the failure document), [`uri`] (artifact and
//! repository URIs).

mod results;
mod rules;
mod run;
mod uri;

use results::result;
use rules::RuleMeta;
pub use rules::{level, precision, result_security_severity, security_severity};
pub use run::{AzurePipelinesBuild, failure_document, render_failure};
use run::{run, version_control};
pub use uri::{artifact_location, repository_uri};

use super::Report;
use super::plan::Plans;
use crate::finding::{Finding, RepositoryInfo};
use serde_json::{Value, json};
use serde_sarif::sarif::{PropertyBag, ReportingDescriptor, Result as SarifResult, Run, Sarif};
use std::collections::{BTreeMap, HashMap};

/// `$schema` of the document (the URI GitHub documents).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// GitHub code scanning rejects runs with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// Our `partialFingerprints` key: SHA-256 of rule id and secret, the same wherever it moves.
pub const SECRET_HASH_KEY: &str = "patrol/secretHash/v1";
/// The base our repository-relative URIs are relative to (the checkout's root).
pub const SRCROOT: &str = "%SRCROOT%";

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("plain data serialises")
}

/// The SARIF log for a report. Holds the first [`MAX_RESULTS`] findings; the caller warns when
/// there were more (see [`truncated`]).
pub fn document(r: &Report) -> Sarif {
    let kept = &r.findings[..r.findings.len().min(MAX_RESULTS)];
    let mut metas: BTreeMap<&str, RuleMeta> = BTreeMap::new();
    for f in kept {
        metas
            .entry(f.rule_id.as_str())
            .or_insert_with(|| RuleMeta::new(f, r.rules));
    }
    let index: HashMap<&str, usize> = metas.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    // GitHub's convention: `<hash>:<n>` for the n-th result with that line hash in a file.
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    let plans = Plans::new(kept);
    let results: Vec<SarifResult> = kept
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let n = seen.entry((&f.path, &f.line_hash)).or_insert(0);
            *n += 1;
            let rule = index[f.rule_id.as_str()];
            result(f, rule, *n, r.show_secrets, plans.of(i), plans.first(i))
        })
        .collect();

    let rules: Vec<ReportingDescriptor> = metas.values().map(RuleMeta::descriptor).collect();
    let notices: Vec<(&str, String)> = truncated(r.findings.len())
        .map(|msg| ("warning", msg))
        .into_iter()
        .collect();
    let mut run = run(rules, results, true, notices, r.category, r.pipeline);
    run.version_control_provenance = r.repository.and_then(version_control).map(|v| vec![v]);
    log(run)
}

fn log(run: Run) -> Sarif {
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// Organization scans: one run per repository so that code-scanning tools can split the log.
/// `repositories` names each scanned repository (`org/project/repo`) with its provenance
/// (`None` for a project's pipeline variables); a finding goes to the run of its
/// `origin.repository`, and a repository with findings but not listed gets a run too. Runs are
/// sorted by repository; each carries `automationDetails.id` = `<category>/<repository>/`
/// (`patrol/ado/…` unless `--sarif-category` names another; never the Azure Pipelines build's
/// identity, which names the pipeline's own repository, not the scanned ones).
pub fn document_per_repository(
    r: &Report,
    repositories: &[(String, Option<RepositoryInfo>)],
) -> Sarif {
    let mut names: BTreeMap<&str, Option<&RepositoryInfo>> = repositories
        .iter()
        .map(|(n, i)| (n.as_str(), i.as_ref()))
        .collect();
    for f in r.findings {
        if let Some(o) = &f.place {
            names.entry(o.repository.as_str()).or_insert(None);
        }
    }
    let mut runs = Vec::new();
    for (name, info) in names {
        let findings: Vec<Finding> = r
            .findings
            .iter()
            .filter(|f| f.place.as_ref().is_some_and(|o| o.repository == name))
            .cloned()
            .collect();
        let part = Report {
            findings: &findings,
            summary: r.summary,
            show_secrets: r.show_secrets,
            color: false,
            quiet: false,
            rules: r.rules,
            repository: info,
            root: r.root,
            category: r.category,
            pipeline: r.pipeline,
        };
        for mut run in document(&part).runs {
            run.automation_details = Some(
                serde_sarif::sarif::RunAutomationDetails::builder()
                    .id(format!("{}/{name}/", r.category))
                    .build(),
            );
            runs.push(run);
        }
    }
    let mut log = Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(runs)
        .build();
    // The run's summary, so that `patrol merge` can add up SARIF reports too.
    log.properties = Some(
        PropertyBag::builder()
            .additional_properties(BTreeMap::from([(
                "summary".to_string(),
                to_value(r.summary),
            )]))
            .build(),
    );
    log
}

/// The warning to give when `total` findings exceed what one run may hold.
pub fn truncated(total: usize) -> Option<String> {
    (total > MAX_RESULTS).then(|| {
        format!(
            "SARIF output holds the first {MAX_RESULTS} of {total} findings (GitHub code scanning accepts at most {MAX_RESULTS} results per run); use --format json for all of them"
        )
    })
}

/// Pretty-printed SARIF with a final newline.
pub fn render(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&document(r)).expect("SARIF serialises");
    s.push('\n');
    s
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
