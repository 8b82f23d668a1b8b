//! Workflow subcommands: baselines, the pre-commit hook installer, completions and the man page.

use crate::baseline::{self, Baseline};
use crate::cli::{
    BaselineCommand, BaselineCreateArgs, Cli, CompletionsArgs, InstallHookArgs, ManArgs,
};
use crate::cmd::{EXIT_CLEAN, EXIT_FINDINGS, collect_files, prepare, warn};
use crate::finding::FingerprintKey;
use crate::gitleaks;
use crate::outfile;
use anyhow::{Context, Result, bail};
use clap::CommandFactory;
use std::io::Write;
use std::path::PathBuf;

pub fn baseline(cmd: BaselineCommand) -> Result<i32> {
    match cmd {
        BaselineCommand::Create(mut args) => {
            let out = args
                .scan
                .common
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
                    args.scan.common.fingerprint_key = Some(key);
                    let (findings, ..) = collect_files(&args.scan)?;
                    Baseline::from_findings(&findings, args.with_paths, &key)
                }
            };
            outfile::write_output(&out, b.to_text().as_bytes())?;
            eprintln!("wrote {} entries to {}", b.entries.len(), out.display());
            Ok(EXIT_CLEAN)
        }
        BaselineCommand::Check(mut args) => {
            let path = args
                .scan
                .common
                .baseline
                .take()
                .unwrap_or_else(|| PathBuf::from(baseline::DEFAULT_PATH));
            let b = Baseline::load(&path)?;
            args.scan.common.fingerprint_key = b.key();
            let (findings, ..) = collect_files(&args.scan)?;
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
    }
}

/// Baseline entries for the findings of a gitleaks report whose secrets patrol detects, with
/// the rules and settings a scan would use.
fn from_gitleaks(doc: serde_json::Value, args: &BaselineCreateArgs) -> Result<Baseline> {
    let root = args
        .scan
        .paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let prep = prepare(&args.scan.common, &root)?;
    let imported = gitleaks::entries(doc, &prep.matcher, &prep.opts, args.with_paths)
        .map_err(anyhow::Error::msg)?;
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

/// The hook script: runs `patrol staged`, preferring the binary that installed it.
fn hook_script() -> String {
    let exe = std::env::current_exe()
        .ok()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "patrol".to_string());
    let quoted = exe.replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         # Installed by `patrol install-hook`: blocks commits that stage a secret.\n\
         # Skip once with `git commit --no-verify` (and mean it).\n\
         patrol='{quoted}'\n\
         [ -x \"$patrol\" ] || patrol=patrol\n\
         exec \"$patrol\" staged\n"
    )
}

pub fn install_hook(args: InstallHookArgs) -> Result<i32> {
    let repo = git2::Repository::discover(&args.repo)
        .with_context(|| format!("{} is not inside a git repository", args.repo.display()))?;
    let hooks = hooks_dir(&repo);
    std::fs::create_dir_all(&hooks)
        .with_context(|| format!("cannot create {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    // `symlink_metadata`, not `exists`: a dangling link is something in the way too.
    if std::fs::symlink_metadata(&hook).is_ok() && !args.force {
        bail!(
            "{} already exists; pass --force to replace it (or call `patrol staged` from it)",
            hook.display()
        );
    }
    // Replaced, never written through: `--force` swaps a link for the script.
    outfile::replace(&hook, hook_script().as_bytes(), Some(0o755))?;
    eprintln!("installed {}", hook.display());
    Ok(EXIT_CLEAN)
}

/// The directory git runs hooks from, as `git rev-parse --git-path hooks` names it:
/// `core.hooksPath` (relative to the work tree where hooks run, or to the git directory of a
/// bare repository), else `hooks` in the common git directory, which every linked worktree
/// shares (a worktree's private git directory is never searched for hooks).
fn hooks_dir(repo: &git2::Repository) -> PathBuf {
    match repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
    {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or(repo.path()).join(p),
        // A linked worktree runs the hooks of the repository it belongs to.
        None => repo.commondir().join("hooks"),
    }
}

pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "patrol", &mut std::io::stdout());
    Ok(EXIT_CLEAN)
}

/// `patrol man`: patrol.1 to stdout, or every page into `--output DIR`.
pub fn man(args: ManArgs) -> Result<i32> {
    let pages = crate::manual::pages().context("cannot render the manual pages")?;
    match args.output {
        None => {
            let top = pages.first().expect("patrol.1 comes first");
            std::io::stdout().write_all(&top.roff)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| {
                format!(
                    "{}: cannot create the directory (give a writable one)",
                    dir.display()
                )
            })?;
            for page in &pages {
                // Replaced, never written through: a link planted in the directory (a checkout's
                // man/ folder) must not redirect the page.
                let path = dir.join(&page.file_name);
                crate::outfile::replace(&path, &page.roff, Some(0o644))?;
            }
            eprintln!("wrote {} manual pages to {}", pages.len(), dir.display());
        }
    }
    Ok(EXIT_CLEAN)
}
