//! Findings in the plain-text variables of pipelines and variable groups. Each definition or
//! group becomes one small text of `NAME=value` lines (the name gives rules their context),
//! scanned like any file; a finding names the pipeline or group and the variable, and links to
//! it. Secret variables never get here (`rest` drops them).

use super::rest::VariableSet;
use crate::detect::Matcher;
use crate::finding::{Finding, Origin};
use crate::scan::{Location, ScanOptions, scan_blob};

/// What kind of variable holder a [`VariableSet`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Pipeline,
    VariableGroup,
}

/// Scan one definition's or group's plain variables. `project_link` is the project's web base
/// (`{base}/{project}`), `repository` the findings' `org/project`.
pub fn scan_variables(
    matcher: &Matcher,
    opts: &ScanOptions,
    holder: Holder,
    set: &VariableSet,
    repository: &str,
    project_link: &str,
) -> (Vec<Finding>, u64) {
    let mut text = String::new();
    let mut names = Vec::new();
    for (name, value) in &set.plain {
        // One variable per line: a value with a newline would shift the lines of the next ones.
        let value = value.replace(['\r', '\n'], " ");
        text.push_str(&format!("{name}={value}\n"));
        names.push(name.as_str());
    }
    let (kind, path, url) = match holder {
        Holder::Pipeline => (
            "pipeline",
            format!(".pipelines/{}/variables", set.name),
            format!("{project_link}/_build?definitionId={}", set.id),
        ),
        Holder::VariableGroup => (
            "variable group",
            format!(".library/{}/variables", set.name),
            format!(
                "{project_link}/_library?itemType=VariableGroups&view=VariableGroupView&variableGroupId={}",
                set.id
            ),
        ),
    };
    let result = scan_blob(matcher, text.as_bytes(), opts);
    let findings = result
        .findings_at(&Location::file(&path), opts)
        .into_iter()
        .map(|mut f| {
            let var = names.get(f.line.saturating_sub(1)).copied().unwrap_or("?");
            f.place = Some(Origin {
                repository: repository.to_string(),
                web_url: Some(url.clone()),
                item: Some(format!(
                    "{kind} '{}' (id {}) variable {var}",
                    set.name, set.id
                )),
                line_hash: Some(f.line_hash.clone()),
            });
            f
        })
        .collect();
    (findings, text.len() as u64)
}
