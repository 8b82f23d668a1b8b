//! Subcommands, one file each, and the pipeline every scanning command runs through
//! (`pipeline`: prepare → source → findings → baseline → verify → report). docs/architecture.md
//! describes the layout.

pub mod ado;
pub mod baseline;
pub mod completions;
pub mod fake_token;
pub mod git;
pub mod install_hook;
pub mod man;
pub mod merge;
pub mod pipeline;
pub mod rules;
pub mod scan;
pub mod staged;

use crate::cli::Command;
use crate::report::{self, redact};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// Exit codes (README.md documents them).
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Run one subcommand; its exit code, or the error that stopped it.
pub fn dispatch(command: Command) -> Result<i32> {
    match command {
        Command::Scan(args) => scan::scan(args),
        Command::Rules(c) => rules::rules(c),
        Command::FakeToken(a) => fake_token::fake_token(a),
        Command::Git(a) => git::git(a),
        Command::Staged(a) => staged::staged(a),
        Command::Baseline(c) => baseline::baseline(c),
        Command::InstallHook(a) => install_hook::install_hook(a),
        Command::Completions(a) => completions::completions(a),
        Command::Man(a) => man::man(a),
        Command::Ado(a) => ado::ado(a),
        Command::Merge(a) => merge::merge(a),
    }
}

/// A panic message can quote whatever the code was looking at, scanned text included: print
/// where it happened, never what.
pub fn hide_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "patrol: internal error{at} (its message is withheld because it may quote scanned \
             content); please report it with the command that triggered it"
        );
    }));
}

/// Say why a command failed, leave the failure SARIF document where `failure_report` (from
/// [`failure_report`]) asks for one, and return the exit code.
pub fn fail(e: &anyhow::Error, failure_report: Option<&(PathBuf, String)>) -> i32 {
    // The message may name a path from the scanned tree: no raw control characters.
    let msg = error_text(e);
    // An error before the rules were loaded (a clone URL given as the repository)
    // is scrubbed with the built-in ones.
    if !redact::watching()
        && let Ok(m) = crate::detect::Matcher::new(crate::rules::builtin_rules())
    {
        redact::watch_text_with(std::sync::Arc::new(m));
    }
    let msg = redact::scrub_text(&msg);
    let msg = report::escape::printable(&msg);
    eprintln!("patrol: {msg}");
    if let Some((path, category)) = failure_report {
        write_failure_sarif(path, category, &msg);
    }
    EXIT_ERROR
}

/// Print a warning on stderr, control characters escaped and secrets the run's rules find
/// redacted: it may name a scanned path, or a URL, that holds a token.
pub fn warn(msg: String) {
    let msg = report::redact::scrub_text(&msg);
    crate::term::eprint_line(&format!("warning: {}", report::escape::printable(&msg)));
}

/// An error and its causes on one line, each said once (a cause that an outer message already
/// quotes is not repeated) and without `(os error N)`.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => crate::util::io_reason(io),
            None => cause.to_string(),
        };
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Where a failed run must still leave a SARIF document: the `--output` of a scanning command
/// run with `--format sarif`, and the category it reports under.
pub fn failure_report(command: &Command) -> Option<(PathBuf, String)> {
    let (common, name) = match command {
        Command::Scan(a) => (&a.common.report, "scan"),
        Command::Git(a) => (&a.common.report, git::command_name(a)),
        Command::Staged(a) => (&a.common.report, "staged"),
        Command::Ado(a) => (&a.common.report, "ado"),
        Command::Merge(a) => (&a.report, "ado"),
        _ => return None,
    };
    if common.format() != report::Format::Sarif {
        return None;
    }
    let path = common.output.clone()?;
    Some((path, pipeline::category(common, name)))
}

/// After an error (exit 2): write the failure SARIF document to `path`, so the pipeline step
/// that uploads it reports the failure. A write that fails too is only warned about.
pub fn write_failure_sarif(path: &Path, category: &str, error: &str) {
    let pipeline = report::sarif::AzurePipelinesBuild::from_env(|k| std::env::var(k).ok());
    let text = report::sarif::render_failure(error, category, pipeline.as_ref());
    if let Err(e) = crate::outfile::write_output(path, text.as_bytes()) {
        let e = anyhow::Error::from(e);
        warn(format!("could not write the failure report either: {e:#}"));
    }
}

pub use rules::check_rules;
