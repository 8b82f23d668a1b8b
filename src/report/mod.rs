//! Reporters: findings and summary in, text out. They know nothing of where findings came from.

pub mod advice;
pub mod escape;
pub mod human;
pub mod json;
pub mod sarif;

use crate::finding::{Finding, RepositoryInfo, Summary};
use crate::rules::Rule;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
    // SARIF 2.1.0 for GitHub code scanning and Azure DevOps (a `///` here would change --help).
    Sarif,
}

/// Everything a reporter needs.
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
}

/// Render a report in the chosen format.
pub fn render(format: Format, report: &Report) -> String {
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
