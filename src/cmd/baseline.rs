//! `patrol baseline create` and `patrol baseline check`: record current findings, and find
//! recorded ones that no longer match.

use super::pipeline::{self, Settings};
use super::scan::Files;
use super::{EXIT_CLEAN, EXIT_FINDINGS, warn};
use crate::baseline::{self, Baseline};
use crate::cli::{BaselineCheckArgs, BaselineCommand, BaselineCreateArgs, BaselineScan};
use crate::finding::FingerprintKey;
use crate::gitleaks;
use crate::outfile;
use anyhow::{Context, Result};
use std::path::PathBuf;

pub fn baseline(cmd: BaselineCommand) -> Result<i32> {
    match cmd {
        BaselineCommand::Create(args) => create(args),
        BaselineCommand::Check(args) => check(args),
    }
}

/// `baseline create`: scan, or read a report, and write the baseline file.
fn create(args: BaselineCreateArgs) -> Result<i32> {
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(baseline::DEFAULT_PATH));
    // Recreating a baseline keeps its key, so reports made with it stay comparable.
    let key = match out.exists() {
        true => Baseline::load(&out)?.key(),
        false => None,
    }
    .unwrap_or_else(FingerprintKey::random);
    let b = match &args.from {
        Some(report) => {
            let text = std::fs::read_to_string(report)
                .with_context(|| format!("cannot read report {}", report.display()))?;
            let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{}: not JSON ({e}); give a report of --format json (patrol) or \
                     --report-format json (gitleaks)",
                    report.display()
                )
            })?;
            if gitleaks::is_gitleaks_report(&doc) {
                from_gitleaks(doc, &args)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", report.display()))?
            } else {
                baseline::entries_from_report(&text, args.with_paths, &key)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", report.display()))?
            }
        }
        None => {
            let files = files(&args.scan).with_key(Some(key));
            let (findings, ..) = pipeline::collect(&args.scan.settings, args.scan.quiet, &files)?;
            Baseline::from_findings(&findings, args.with_paths, &key)
        }
    };
    outfile::write_output(&out, b.to_text().as_bytes())?;
    eprintln!("wrote {} entries to {}", b.entries.len(), out.display());
    Ok(EXIT_CLEAN)
}

/// `baseline check`: list the entries no finding matches any more.
fn check(mut args: BaselineCheckArgs) -> Result<i32> {
    let path = args
        .baseline
        .take()
        .unwrap_or_else(|| PathBuf::from(baseline::DEFAULT_PATH));
    let b = Baseline::load(&path)?;
    let files = files(&args.scan).with_key(b.key());
    let (findings, ..) = pipeline::collect(&args.scan.settings, args.scan.quiet, &files)?;
    let stale = b.stale(&findings);
    for e in &stale {
        println!(
            "stale: {} {}{}",
            e.rule_id,
            e.fingerprint,
            e.path
                .as_deref()
                .map(|p| format!(" {}", crate::report::redact::scrub_text(p)))
                .unwrap_or_default()
        );
    }
    let new = findings.iter().filter(|f| !b.covers(f)).count();
    println!(
        "{} entries, {} stale; {} finding{} not in the baseline",
        b.entries.len(),
        stale.len(),
        new,
        if new == 1 { "" } else { "s" }
    );
    Ok(if stale.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

/// Baseline entries for the findings of a gitleaks report whose secrets patrol detects, with
/// the rules and settings a scan would use.
fn from_gitleaks(doc: serde_json::Value, args: &BaselineCreateArgs) -> Result<Baseline> {
    let files = files(&args.scan);
    let threads = pipeline::init_threads(args.scan.settings.threads);
    let prep = pipeline::prepare(
        &args.scan.settings,
        None,
        pipeline::Source::load_config(&files, &args.scan.settings)?,
        Settings::default(),
        threads,
    )?;
    let imported = gitleaks::entries(doc, &prep.matcher, &prep.opts, args.with_paths)?;
    if imported.unmatched > 0 {
        warn(format!(
            "{} gitleaks finding{} left out: patrol detects no secret in {} (a report written \
             with --redact names none)",
            imported.unmatched,
            if imported.unmatched == 1 { "" } else { "s" },
            if imported.unmatched == 1 {
                "it"
            } else {
                "them"
            },
        ));
    }
    Ok(Baseline::from_entries(imported.entries))
}

/// The files a baseline command scans.
fn files(scan: &BaselineScan) -> Files<'_> {
    Files::new(&scan.targets, scan.settings.max_file_size)
}
