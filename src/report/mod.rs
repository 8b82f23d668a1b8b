//! Reporters: findings and summary in, text out. They know nothing of where findings came from.

pub mod advice;
pub mod human;
pub mod json;

use crate::finding::{Finding, Summary};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Jsonl,
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
}

/// Render a report in the chosen format.
pub fn render(format: Format, report: &Report) -> String {
    match format {
        Format::Human => human::render(report),
        Format::Json => json::render(report),
        Format::Jsonl => json::render_lines(report),
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
