//! One SARIF run: the driver, the invocation, `automationDetails` (from the Azure Pipelines
//! build when there is one), the repository's provenance, and the document of a failed scan.

use super::uri::repository_uri;
use super::{SRCROOT, log};
use crate::finding::RepositoryInfo;
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Message, Notification, PropertyBag, ReportingDescriptor,
    Result as SarifResult, Run, RunAutomationDetails, Sarif, Tool, ToolComponent,
    VersionControlDetails,
};
use std::collections::BTreeMap;

pub(super) fn version_control(repo: &RepositoryInfo) -> Option<VersionControlDetails> {
    let uri = repository_uri(&repo.uri)?;
    let mut details = VersionControlDetails::builder()
        .repository_uri(uri)
        .mapped_to(ArtifactLocation::builder().uri_base_id(SRCROOT).build())
        .build();
    details.revision_id = repo.revision.clone();
    details.branch = repo.branch.clone();
    Some(details)
}

/// The project's web page, when the build names one (`homepage` or `repository` in
/// Cargo.toml): SARIF's `driver.informationUri`.
fn information_uri() -> Option<String> {
    [env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")]
        .into_iter()
        .find(|u| !u.is_empty())
        .map(str::to_string)
}

/// One run: the driver with `rules`, the results, and an invocation that says whether the
/// scan completed, with `notices` as `(level, text)` tool notifications. Its
/// `automationDetails.id` is `category/`: GitHub and Azure DevOps tell analyses apart by it.
pub(super) fn run(
    rules: Vec<ReportingDescriptor>,
    results: Vec<SarifResult>,
    successful: bool,
    notices: Vec<(&str, String)>,
    category: &str,
    pipeline: Option<&AzurePipelinesBuild>,
) -> Run {
    let mut driver = ToolComponent::builder()
        .name("patrol")
        .full_name("patrol: leaked Azure DevOps PATs, Azure keys and HTTP Basic credentials")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    driver.information_uri = information_uri();
    let mut invocation = Invocation::builder()
        .execution_successful(successful)
        .build();
    if !notices.is_empty() {
        invocation.tool_execution_notifications = Some(
            notices
                .into_iter()
                .map(|(level, text)| {
                    Notification::builder()
                        .level(json!(level))
                        .message(Message::builder().text(text).build())
                        .build()
                })
                .collect(),
        );
    }
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .invocations(vec![invocation])
        .build();
    run.automation_details = Some(match pipeline {
        Some(p) => p.automation_details(),
        None => RunAutomationDetails::builder()
            .id(format!("{category}/"))
            .build(),
    });
    run
}

/// The Azure Pipelines build a scan runs in, from the variables every job sees
/// (`TF_BUILD=True`, `SYSTEM_COLLECTIONURI`, …). GitHub Advanced Security for Azure DevOps
/// files a SARIF run under `azuredevops/pipeline/build/<org>/<project>/<definition
/// id>/<phase id>/<branch>/<build id>` and the definition's and phase's ids and names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzurePipelinesBuild {
    pub organization: String,
    pub project: String,
    pub definition_id: String,
    pub definition_name: String,
    pub phase_id: String,
    pub phase_name: String,
    pub branch: String,
    pub build_id: String,
}

impl AzurePipelinesBuild {
    /// From pipeline variables (`var` looks one up); `None` outside Azure Pipelines or when
    /// one is missing.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        if !var("TF_BUILD")?.eq_ignore_ascii_case("true") {
            return None;
        }
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let collection = get("SYSTEM_COLLECTIONURI")?;
        Some(AzurePipelinesBuild {
            organization: organization_of(&collection)?,
            project: get("SYSTEM_TEAMPROJECT")?,
            definition_id: get("SYSTEM_DEFINITIONID")?,
            definition_name: get("BUILD_DEFINITIONNAME")?,
            phase_id: get("SYSTEM_PHASEID")?,
            phase_name: get("SYSTEM_PHASENAME")?,
            branch: get("BUILD_SOURCEBRANCH")?,
            build_id: get("BUILD_BUILDID")?,
        })
    }

    fn automation_details(&self) -> RunAutomationDetails {
        const KEY: &str = "azuredevops/pipeline/build/";
        let mut details = RunAutomationDetails::builder()
            .id(format!(
                "{KEY}{}/{}/{}/{}/{}/{}",
                self.organization,
                self.project,
                self.definition_id,
                self.phase_id,
                self.branch,
                self.build_id
            ))
            .build();
        details.properties = Some(
            PropertyBag::builder()
                .additional_properties(BTreeMap::from([
                    (format!("{KEY}buildDefinitionId"), json!(self.definition_id)),
                    (
                        format!("{KEY}buildDefinitionName"),
                        json!(self.definition_name),
                    ),
                    (format!("{KEY}phaseId"), json!(self.phase_id)),
                    (format!("{KEY}phaseName"), json!(self.phase_name)),
                ]))
                .build(),
        );
        details
    }
}

/// The organisation of `https://dev.azure.com/<org>/` or `https://<org>.visualstudio.com/`
/// (an on-premises collection URL gives its last path segment).
fn organization_of(collection_uri: &str) -> Option<String> {
    let rest = collection_uri.split_once("://")?.1;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let org = match host.strip_suffix(".visualstudio.com") {
        Some(org) => org,
        None => path.trim_end_matches('/').rsplit('/').next()?,
    };
    (!org.is_empty()).then(|| org.to_string())
}

/// The document patrol writes when the scan itself fails (exit 2): no results,
/// `executionSuccessful: false` and the error as a tool notification, so a pipeline's upload
/// step shows why instead of failing on a missing file. `error` never holds a secret.
pub fn failure_document(
    error: &str,
    category: &str,
    pipeline: Option<&AzurePipelinesBuild>,
) -> Sarif {
    log(run(
        Vec::new(),
        Vec::new(),
        false,
        vec![("error", error.to_string())],
        category,
        pipeline,
    ))
}

/// [`failure_document`] as text.
pub fn render_failure(
    error: &str,
    category: &str,
    pipeline: Option<&AzurePipelinesBuild>,
) -> String {
    let mut s = serde_json::to_string_pretty(&failure_document(error, category, pipeline))
        .expect("SARIF serialises");
    s.push('\n');
    s
}
