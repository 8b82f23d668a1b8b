//! Reporters: findings and summary in, text out. They know nothing of where findings came from.

pub mod advice;
pub mod escape;
pub mod human;
pub mod json;
pub mod plan;
pub mod redact;
pub mod sarif;

use crate::finding::{Finding, RepositoryInfo, Summary};
use crate::rules::Rule;

/// Output formats (`cli::OutputFormat` is the flag that picks one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    /// SARIF 2.1.0 for GitHub code scanning and Azure DevOps.
    Sarif,
}

/// Everything a reporter needs.
#[derive(Clone, Copy)]
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub summary: &'a Summary,
    pub show_secrets: bool,
    /// Colour escapes (only when writing to a terminal).
    pub color: bool,
    /// Only the summary (human format).
    pub quiet: bool,
    /// Metadata of the rules in effect (SARIF's rule descriptions); a finding whose rule is
    /// missing here is described from the finding alone.
    pub rules: &'a [Rule],
    /// The one repository every finding comes from (git history), if so.
    pub repository: Option<&'a RepositoryInfo>,
    /// The scanned directory as the user gave it, when findings' paths are relative to it
    /// (`patrol scan tree`): human and JSON output put it in front so the path can be opened
    /// from where the user stands; SARIF and baselines keep the relative path.
    pub root: Option<&'a str>,
    /// SARIF category (`runs[].automationDetails.id` is this plus `/`): separate categories
    /// keep, say, a full-history scan and a pull-request range apart in GitHub code scanning.
    pub category: &'a str,
    /// The Azure Pipelines build this runs in, if any: GitHub Advanced Security for Azure
    /// DevOps identifies a SARIF run by it.
    pub pipeline: Option<&'a sarif::AzurePipelinesBuild>,
}

impl Report<'_> {
    /// The finding's path as the user can open it: under [`Report::root`] when there is one.
    pub fn shown_path<'f>(&self, f: &'f Finding) -> std::borrow::Cow<'f, str> {
        self.shown(&f.path)
    }

    /// A path relative to the scanned root, as the user can open it.
    pub fn shown<'f>(&self, path: &'f str) -> std::borrow::Cow<'f, str> {
        match self.root {
            Some(root) => std::borrow::Cow::Owned(join_root(root, path)),
            None => std::borrow::Cow::Borrowed(path),
        }
    }
}

/// `root` + `/` + `path`, without doubling a slash that `root` already ends with.
pub fn join_root(root: &str, path: &str) -> String {
    if root.ends_with('/') {
        format!("{root}{path}")
    } else {
        format!("{root}/{path}")
    }
}

/// Render a report in the chosen format. Unless `--show-secrets`, every secret of the report
/// is first scrubbed from the text around it (paths, commit metadata, repository URL).
pub fn render(format: Format, report: &Report) -> String {
    if report.show_secrets {
        return render_as_given(format, report);
    }
    let (findings, repository) = redact::scrub(report.findings, report.repository);
    let scrubbed = Report {
        findings: &findings,
        repository: repository.as_ref(),
        ..*report
    };
    render_as_given(format, &scrubbed)
}

fn render_as_given(format: Format, report: &Report) -> String {
    match format {
        Format::Human => human::render(report),
        Format::Json => json::render(report),
        Format::Jsonl => json::render_lines(report),
        Format::Sarif => sarif::render(report),
    }
}

/// The secret as the user may see it: redacted unless `--show-secrets`.
pub fn shown_secret(f: &Finding, show: bool) -> String {
    if show {
        f.secret.expose().to_string()
    } else {
        f.secret.redacted()
    }
}

/// How a finding that is not in a file came about, in words (`in the message of commit …`);
/// also says when only unreachable objects hold it.
pub fn origin_text(f: &crate::finding::Finding) -> Option<String> {
    let short = f
        .commit
        .as_ref()
        .map(|c| c.id.chars().take(12).collect::<String>())
        .unwrap_or_default();
    let what = match f.origin {
        Some("commit_message") => Some(format!("in the message of commit {short}")),
        Some("tag_message") => Some(format!("in an annotated tag's message (tagging {short})")),
        Some("note") if short.is_empty() => Some("in a git note".to_string()),
        Some("note") => Some(format!("in a git note on commit {short}")),
        Some("file_name") => Some("in the file's name".to_string()),
        Some("link_target") => Some("in the target of a symbolic link".to_string()),
        _ => None,
    };
    match (what, f.unreachable) {
        (Some(w), true) => Some(format!("{w}; unreachable")),
        (None, true) => Some("unreachable: no ref reaches it".to_string()),
        (w, false) => w,
    }
}
