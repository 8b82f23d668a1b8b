//! SARIF 2.1.0 (`--format sarif`) for GitHub code scanning, the Azure DevOps Scans tab and
//! editors' SARIF viewers, built with the `serde-sarif` types (the README's SARIF section).
//!
//! One run. `tool.driver.rules` lists each rule that produced a result, sorted by id, with the
//! full revoke steps as its help, once; each result carries one line of action for its own
//! secret (`plan`).
//! The document is deterministic (no timestamps; rules by id, results in finding order) and
//! holds no raw secret unless `--show-secrets`. Not for: deciding what is a finding, or
//! writing the file (`cmd::emit` does both the writing and the truncation warning).

use super::plan::{Plans, RevokePlan};
use super::{
    Report,
    advice::{advice, help_uri},
};
use crate::finding::{Finding, RepositoryInfo, Verification};
use crate::rules::{Confidence, Provider, Rule, Severity};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Tool, ToolComponent,
    VersionControlDetails,
};
use std::collections::{BTreeMap, HashMap};

/// `$schema` of the document (the URI GitHub documents).
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// GitHub code scanning rejects runs with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// Our `partialFingerprints` key: SHA-256 of rule id and secret, the same wherever it moves.
pub const SECRET_HASH_KEY: &str = "patrol/secretHash/v1";
/// The base our repository-relative URIs are relative to (the checkout's root).
pub const SRCROOT: &str = "%SRCROOT%";
/// CWE-798, Use of Hard-coded Credentials: GitHub shows `external/cwe/…` tags as CWE links.
const CWE_TAG: &str = "external/cwe/cwe-798";

/// Score GitHub maps to its severity bands (≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0 medium, else low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// A result's score: its rule's, raised to critical when a live check proved the secret works.
pub fn result_security_severity(f: &Finding) -> &'static str {
    if is_valid(f) {
        security_severity(Severity::Critical)
    } else {
        security_severity(f.severity)
    }
}

/// SARIF `precision`: a checksum-validated high-confidence rule is "very-high" (a random
/// string passes the CRC-32 with probability 2^-31).
pub fn precision(confidence: Confidence, checksum_validated: bool) -> &'static str {
    match confidence {
        Confidence::High if checksum_validated => "very-high",
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

fn is_valid(f: &Finding) -> bool {
    matches!(f.verification, Verification::Valid { .. })
}

fn provider_level(provider: Provider) -> ResultLevel {
    if provider == Provider::AzureDevops {
        ResultLevel::Error
    } else {
        ResultLevel::Warning
    }
}

/// `error` for Azure DevOps PATs and for anything verified live as valid, `warning` otherwise.
pub fn level(f: &Finding) -> ResultLevel {
    if is_valid(f) {
        ResultLevel::Error
    } else {
        provider_level(f.provider)
    }
}

/// Characters left as they are in a URI path: RFC 3986 unreserved characters and `/`.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// `C:/…` or `C:\…`: a Windows absolute path.
fn is_drive_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'/' | b'\\')
}

/// `artifactLocation` for a finding's path: repository-relative (against `%SRCROOT%`) when the
/// path is relative, a `file://` URI when it is absolute (a file named on the command line).
pub fn artifact_location(path: &str) -> ArtifactLocation {
    let path = path.replace('\\', "/");
    let is_drive = is_drive_path(&path);
    if path.starts_with('/') || is_drive {
        let abs = if is_drive { format!("/{path}") } else { path };
        let uri = format!("file://{}", utf8_percent_encode(&abs, PATH_KEEP));
        // The drive letter's colon may stay: `file:///C:/x`.
        let uri = uri.replacen("%3A", ":", usize::from(is_drive));
        return ArtifactLocation::builder().uri(uri).build();
    }
    // Only names that stay under %SRCROOT%: `..`, `.` and empty components are dropped (a
    // crafted tree entry such as `a/../../etc/passwd` must not point a viewer outside).
    let rel: Vec<&str> = path
        .split('/')
        .filter(|c| !matches!(*c, "" | "." | ".."))
        .collect();
    ArtifactLocation::builder()
        .uri(utf8_percent_encode(&rel.join("/"), PATH_KEEP).to_string())
        .uri_base_id(SRCROOT)
        .build()
}

/// The repository URI as SARIF may show it: an absolute URI with any `user:password@`, query
/// and fragment removed (a clone URL can hold a PAT), scp-style `git@host:path` as `ssh://`, a
/// local path as `file://`. `None` if it cannot be made into one.
///
/// Malformed remotes lose their credentials too: `https:/x:<token>@host/p` (one slash) is read
/// as `https://host/p`, and in `x:<token>@host` everything up to the `@` is dropped.
pub fn repository_uri(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.starts_with('/') || is_drive_path(raw) {
        return artifact_location(raw).uri;
    }
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    // A query or fragment can carry a token too (`?access_token=…`): drop them first.
    let raw = raw.split(['?', '#']).next().unwrap_or_default();
    if let Some((scheme, rest)) = raw.split_once(':')
        && is_scheme(scheme)
        && (rest.starts_with("//") || KNOWN_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()))
    {
        // Credentials end at the last `@`, wherever a malformed URL put the slashes.
        let rest = rest.trim_start_matches('/');
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if host.is_empty() && !scheme.eq_ignore_ascii_case("file") {
            return None;
        }
        return Some(format!("{scheme}://{host}{path}"));
    }
    // scp-like syntax: [user@]host:path. Whatever precedes the last `@` before the first `/` is
    // a user name, or credentials of a mangled URL: dropped.
    let head_end = raw.find('/').unwrap_or(raw.len());
    let raw = match raw[..head_end].rfind('@') {
        Some(at) => &raw[at + 1..],
        None => raw,
    };
    let (host, path) = raw.split_once(':')?;
    if host.is_empty() || host.contains('/') || path.is_empty() {
        return None;
    }
    let path = path.trim_start_matches('/');
    Some(format!("ssh://{host}/{path}"))
}

/// Schemes of git remotes, recognised even when the `//` after them is missing or mangled.
const KNOWN_SCHEMES: &[&str] = &[
    "http", "https", "ssh", "git", "file", "ftp", "ftps", "git+ssh", "ssh+git",
];

fn is_scheme(s: &str) -> bool {
    s.len() > 1
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// What the document says about a rule; from its [`Rule`] when known, else from a finding.
struct RuleMeta<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    provider: Provider,
    severity: Severity,
    confidence: Confidence,
    checksum_validated: bool,
}

impl<'a> RuleMeta<'a> {
    fn new(f: &'a Finding, rules: &'a [Rule]) -> Self {
        match rules.iter().find(|r| r.id == f.rule_id) {
            Some(r) => RuleMeta {
                id: &r.id,
                name: &r.name,
                description: &r.description,
                provider: r.provider,
                severity: r.severity,
                confidence: r.confidence,
                checksum_validated: r.validator.is_some(),
            },
            None => RuleMeta {
                id: &f.rule_id,
                name: &f.rule_name,
                description: &f.rule_name,
                provider: f.provider,
                severity: f.severity,
                confidence: f.confidence,
                checksum_validated: false,
            },
        }
    }

    fn descriptor(&self) -> ReportingDescriptor {
        let help = advice(self.provider, None);
        let props = PropertyBag::builder()
            .tags(vec![
                "security".to_string(),
                "secret".to_string(),
                self.provider.as_str().to_string(),
                CWE_TAG.to_string(),
            ])
            .additional_properties(BTreeMap::from([
                (
                    "security-severity".to_string(),
                    json!(security_severity(self.severity)),
                ),
                (
                    "precision".to_string(),
                    json!(precision(self.confidence, self.checksum_validated)),
                ),
                ("severity".to_string(), json!(self.severity.as_str())),
                ("confidence".to_string(), json!(self.confidence.as_str())),
                ("provider".to_string(), json!(self.provider.as_str())),
            ]))
            .build();
        ReportingDescriptor::builder()
            .id(self.id)
            .name(self.name)
            .short_description(MultiformatMessageString::builder().text(self.name).build())
            .full_description(
                MultiformatMessageString::builder()
                    .text(self.description)
                    .build(),
            )
            .help(
                MultiformatMessageString::builder()
                    .text(help.text)
                    .markdown(help.markdown)
                    .build(),
            )
            .default_configuration(
                ReportingConfiguration::builder()
                    .level(json!(provider_level(self.provider)))
                    .build(),
            )
            .help_uri(help_uri(self.provider))
            .properties(props)
            .build()
    }
}

/// The first line of a result's message: what, which (redacted) and where.
fn headline(f: &Finding) -> String {
    let mut s = format!(
        "{} '{}' at {}:{}:{}",
        f.rule_name,
        f.secret.redacted(),
        f.path,
        f.line,
        f.column
    );
    if let Some(m) = &f.member {
        s.push_str(&format!(" (member {m} of {})", f.file_path()));
    }
    if let Some(what) = super::origin_text(f) {
        s.push_str(&format!(" ({what})"));
    }
    if let Some(c) = &f.commit {
        let short: String = c.id.chars().take(12).collect();
        s.push_str(&format!(" in commit {short}"));
    }
    if let Some(enc) = &f.encoding {
        s.push_str(&format!(" ({enc}-encoded)"));
    }
    match &f.verification {
        Verification::Valid { .. } => s.push_str("; verified live: the token WORKS"),
        Verification::Invalid => s.push_str("; verified live: rejected"),
        _ => {}
    }
    s.push('.');
    s
}

fn result_properties(f: &Finding, show_secrets: bool, plan: Option<&RevokePlan>) -> PropertyBag {
    let mut p = BTreeMap::new();
    p.insert("confidence".into(), json!(f.confidence.as_str()));
    p.insert("severity".into(), json!(f.severity.as_str()));
    p.insert(
        "security-severity".into(),
        json!(result_security_severity(f)),
    );
    p.insert("verification".into(), to_value(&f.verification));
    if let Some(o) = &f.organization {
        p.insert("organization".into(), json!(o));
    }
    if let Some(src) = f.organization_source {
        // How the organisation was known, as JSON says (`patrol merge` reads it back).
        p.insert("organization_source".into(), to_value(&src));
    }
    if let Some(e) = &f.encoding {
        p.insert("encoding".into(), json!(e));
    }
    if let Some(c) = &f.commit {
        p.insert("commit".into(), to_value(c));
    }
    if let Some(o) = f.origin {
        p.insert("origin".into(), json!(o));
    }
    if f.unreachable {
        p.insert("unreachable".into(), json!(true));
    }
    if let Some(m) = &f.member {
        p.insert("archive_path".into(), json!(f.file_path()));
        p.insert("member".into(), json!(m));
        p.insert("member_line".into(), json!(f.line));
        p.insert("member_column".into(), json!(f.column));
    }
    if let Some(o) = &f.place {
        p.insert("repository".into(), json!(o.repository));
        if let Some(url) = &o.web_url {
            p.insert("webUrl".into(), json!(url));
        }
        if let Some(item) = &o.item {
            p.insert("item".into(), json!(item));
        }
    }
    if f.occurrences > 1 {
        p.insert("occurrences".into(), json!(f.occurrences));
    }
    if let Some(h) = &f.at_head {
        p.insert("present_at_head".into(), json!(h.present));
        if h.present {
            p.insert("head_locations".into(), to_value(&h.places));
        }
        if let Some(i) = &h.introduced {
            p.insert("introduced".into(), to_value(i));
        }
    }
    if show_secrets {
        p.insert("secret".into(), json!(f.secret.expose()));
    }
    // What the message and the rule's help cannot say: the admin calls for this owner and
    // every organisation a live token reaches (the steps themselves are in the help).
    if let Some(plan) = plan.filter(|p| p.admin.is_some() || p.organizations.len() > 1) {
        let mut v = to_value(plan);
        if let Some(o) = v.as_object_mut() {
            o.remove("steps");
            o.remove("action");
        }
        p.insert("revoke".into(), v);
    }
    PropertyBag::builder().additional_properties(p).build()
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("plain data serialises")
}

/// One result. The message is one line of what and where and one line of action; the full
/// steps live once in the rule's help, and the secret's plan as data in the properties of its
/// first result (`plan_here`).
fn result(
    f: &Finding,
    rule_index: usize,
    occurrence: usize,
    show_secrets: bool,
    plan: &RevokePlan,
    plan_here: bool,
) -> SarifResult {
    // Code-scanning viewers open the artifact: for an archive member that is the archive, whose
    // lines are not the member's, so the region is its first line and the member's own position
    // is in the message and properties.
    let region = if f.member.is_some() {
        Region::builder().start_line(1).build()
    } else {
        Region::builder()
            .start_line(f.line as i64)
            .start_column(f.column as i64)
            .end_line(f.end_line as i64)
            .end_column(f.end_column as i64)
            .build()
    };
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location(f.file_path()))
                .region(region)
                .build(),
        )
        .build();
    let fingerprints = BTreeMap::from([
        (
            "primaryLocationLineHash".to_string(),
            format!("{}:{occurrence}", f.line_hash),
        ),
        (SECRET_HASH_KEY.to_string(), f.fingerprint.clone()),
    ]);
    SarifResult::builder()
        .rule_id(f.rule_id.as_str())
        .rule_index(rule_index as i64)
        .level(level(f))
        .message(
            Message::builder()
                .text(format!(
                    "{}\nAction: {}. Full steps: the rule's help.",
                    headline(f),
                    plan.action
                ))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(result_properties(
            f,
            show_secrets,
            plan_here.then_some(plan),
        ))
        .build()
}

fn version_control(repo: &RepositoryInfo) -> Option<VersionControlDetails> {
    let uri = repository_uri(&repo.uri)?;
    let mut details = VersionControlDetails::builder()
        .repository_uri(uri)
        .mapped_to(ArtifactLocation::builder().uri_base_id(SRCROOT).build())
        .build();
    details.revision_id = repo.revision.clone();
    details.branch = repo.branch.clone();
    Some(details)
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
fn run(
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
#[path = "sarif_tests.rs"]
mod tests;
