//! `patrol staged`: what is staged for the next commit (for a pre-commit hook), only the
//! lines it adds.

use super::git::{open, repository_findings};
use super::pipeline::{self, Collected, Prepared, Source, Status};
use super::warn;
use crate::cli::StagedArgs;
use crate::source::git;
use crate::source::staged::{self, StagedChanges};
use anyhow::{Context, Result};
use git2::Repository;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub fn staged(args: StagedArgs) -> Result<i32> {
    pipeline::run(&args.common, || {
        git::tune_libgit2();
        Ok(Index {
            repo: open_for_commit(args.repo.as_deref())?,
            max_file_size: args.common.settings.max_file_size,
            files: AtomicU64::new(u64::MAX),
        })
    })
}

/// The repository a commit is being made in: `REPO`, else the one `GIT_DIR` (and
/// `GIT_WORK_TREE`) name, as git exports them to hooks (a linked worktree's hook gets its
/// `.git/worktrees/NAME`), else the one containing `.`.
fn open_for_commit(repo: Option<&Path>) -> Result<Repository> {
    let git_dir = std::env::var_os("GIT_DIR").filter(|v| !v.is_empty());
    let (Some(dir), None) = (git_dir, repo) else {
        return open(repo);
    };
    let repo = git::open_repository(Path::new(&dir), false)?;
    if let Some(work_tree) = std::env::var_os("GIT_WORK_TREE").filter(|v| !v.is_empty()) {
        repo.set_workdir(Path::new(&work_tree), false)
            .with_context(|| format!("cannot use GIT_WORK_TREE {}", work_tree.to_string_lossy()))?;
    }
    Ok(repo)
}

/// The index, against HEAD, as a source.
struct Index {
    repo: Repository,
    max_file_size: u64,
    /// Files to scan, once the index has been compared with HEAD.
    files: AtomicU64,
}

impl Source for Index {
    /// The changes the index holds: read while the rules compile.
    type Unscanned = StagedChanges;

    fn command(&self) -> &'static str {
        "staged"
    }

    fn config_root(&self) -> PathBuf {
        super::git::config_root(&self.repo)
    }

    fn status(&self) -> Option<Status<'_>> {
        let files = &self.files;
        Some(Box::new(move || match files.load(Ordering::Relaxed) {
            u64::MAX => "comparing the index with HEAD".to_string(),
            n => format!("scanning {n} staged file{}", if n == 1 { "" } else { "s" }),
        }))
    }

    fn read(&self) -> Result<StagedChanges> {
        let changes = staged::staged_changes(&self.repo, &warn)?;
        self.files.store(changes.len() as u64, Ordering::Relaxed);
        Ok(changes)
    }

    fn scan(&self, changes: StagedChanges, prep: &Prepared) -> Result<Collected> {
        let (findings, summary) = staged::scan_staged(
            &self.repo,
            changes,
            &prep.matcher,
            &prep.opts,
            self.max_file_size,
            &warn,
        )?;
        Ok(repository_findings(&self.repo, findings, summary))
    }
}
