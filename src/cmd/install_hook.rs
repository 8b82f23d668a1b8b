//! `patrol install-hook`: a git pre-commit hook that runs `patrol staged`.

use super::EXIT_CLEAN;
use crate::cli::InstallHookArgs;
use crate::outfile;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

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
