//! `patrol git` and `patrol staged`: open the repository, run the git sources with the prepared
//! matcher, show progress on a terminal, and hand findings to the shared end of every scan
//! (`cmd::finish`: baseline, `--verify`, report).

use crate::cli::{CommonArgs, GitArgs, StagedArgs};
use crate::cmd::{EmitContext, Prepared, finish, init_threads, prepare, prepare_with, warn};
use crate::config::Config;
use crate::finding::{Finding, Summary};
use crate::rules::Rule;
use crate::source::fs::human_bytes;
use crate::source::git::{self, Counters, Phase, Selection};
use crate::source::staged;
use crate::term;
use crate::verify::VerifyOptions;
use anyhow::{Context, Result};
use git2::Repository;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Open `REPO`, or the repository containing `.` when none is given.
fn open(repo: Option<&Path>) -> Result<Repository> {
    let (path, search) = match repo {
        Some(p) => (p.to_path_buf(), false),
        None => (PathBuf::from("."), true),
    };
    Ok(git::open_repository(&path, search)?)
}

/// Where `.patrol.toml` is looked for: the work tree, or the git directory of a bare repository.
fn config_root(repo: &Repository) -> PathBuf {
    repo.workdir().unwrap_or(repo.path()).to_path_buf()
}

/// How `patrol git` names the configuration committed at HEAD.
const HEAD_CONFIG: &str = "HEAD:.patrol.toml";

/// The largest committed configuration `--head-config` reads.
const MAX_HEAD_CONFIG: usize = 1 << 20;

/// The configuration of a history scan: `--config`, else `.patrol.toml` in the work tree (a
/// bare repository: in its git directory), or with `--head-config` the one committed at HEAD.
/// The object database is read only when asked: a repository under investigation could
/// otherwise allow or disable the rules that would report its own leak.
fn history_config(
    repo: &Repository,
    args: &GitArgs,
    root: &Path,
) -> Result<(Config, Option<PathBuf>)> {
    if args.head_config {
        let Some(text) = head_config_text(repo)? else {
            anyhow::bail!("--head-config: HEAD has no .patrol.toml");
        };
        let config = Config::parse(&text).map_err(|e| anyhow::anyhow!("{HEAD_CONFIG}: {e}"))?;
        if !config.rules.is_empty() {
            anyhow::bail!(
                "{HEAD_CONFIG}: `rules` names rule files, which --head-config does not read from \
                 the repository; give them with --rules"
            );
        }
        return Ok((config, None));
    }
    if repo.is_bare()
        && args.common.config.is_none()
        && head_config_text(repo).is_ok_and(|t| t.is_some())
    {
        warn(format!(
            "{HEAD_CONFIG} is not applied (a scanned repository does not configure its own \
             scan); give --head-config to apply it"
        ));
    }
    Ok(Config::load(args.common.config.as_deref(), root)?)
}

/// The text of `.patrol.toml` at HEAD, if HEAD is a commit holding one.
fn head_config_text(repo: &Repository) -> Result<Option<String>> {
    let Some(tree) = repo.head().ok().and_then(|h| h.peel_to_tree().ok()) else {
        return Ok(None);
    };
    let Ok(entry) = tree.get_path(Path::new(".patrol.toml")) else {
        return Ok(None);
    };
    let blob = entry
        .to_object(repo)
        .and_then(|o| o.peel_to_blob())
        .map_err(|e| anyhow::anyhow!("{HEAD_CONFIG}: cannot read: {}", e.message()))?;
    if blob.size() > MAX_HEAD_CONFIG {
        anyhow::bail!("{HEAD_CONFIG}: larger than 1 MiB");
    }
    let text = std::str::from_utf8(blob.content())
        .map_err(|_| anyhow::anyhow!("{HEAD_CONFIG}: not UTF-8"))?;
    Ok(Some(text.to_string()))
}

/// Drop findings under the configuration's `exclude` globs.
pub(crate) fn apply_excludes(
    findings: &mut Vec<Finding>,
    globs: &[String],
    root: &Path,
) -> Result<()> {
    if globs.is_empty() {
        return Ok(());
    }
    let mut builder = ignore::gitignore::GitignoreBuilder::new(root);
    for g in globs {
        builder
            .add_line(None, g)
            .with_context(|| format!("bad exclude pattern '{g}'"))?;
    }
    let matcher = builder.build().context("bad exclude patterns")?;
    findings.retain(|f| {
        !matcher
            .matched_path_or_any_parents(Path::new(f.file_path()), false)
            .is_ignore()
    });
    Ok(())
}

pub fn git(args: GitArgs) -> Result<i32> {
    let started = Instant::now();
    // Before scanning, so that a refused verification endpoint stops the run early.
    let verify_opts = VerifyOptions::from_args(&args.common)?;
    git::tune_libgit2();
    init_threads(args.common.threads);
    let repo = open(args.repo.as_deref())?;
    let root = config_root(&repo);
    let prep = prepare_with(&args.common, history_config(&repo, &args, &root)?)?;
    let selection = match (&args.range, &args.since) {
        (Some(r), _) => Selection::Range(r.clone()),
        (None, Some(rev)) => Selection::Range(format!("{rev}..HEAD")),
        (None, None) if args.all_objects => Selection::AllObjects,
        (None, None) if !args.refs.is_empty() => Selection::Refs(args.refs.clone()),
        (None, None) => Selection::All,
    };
    let counters = Counters::default();
    let scanned = term::with_progress(
        term::progress_wanted(args.common.quiet),
        || history_status(&counters, started),
        || {
            git::scan_history(
                &repo,
                &selection,
                &prep.matcher,
                &prep.opts,
                args.common.max_file_size,
                &counters,
                &warn,
            )
        },
    )?;
    let end = RepoEnd {
        repo: &repo,
        root: &root,
        prep: &prep,
        started,
        verify: verify_opts.as_ref(),
        command: if matches!(selection, Selection::Range(_)) {
            "git-range"
        } else {
            "git"
        },
    };
    end.finish(&args.common, scanned.findings, scanned.summary)
}

/// What `git` and `staged` end with: configured excludes, then [`finish`] with the
/// repository's provenance.
struct RepoEnd<'a> {
    repo: &'a Repository,
    root: &'a Path,
    prep: &'a Prepared,
    started: Instant,
    verify: Option<&'a VerifyOptions>,
    /// For the default SARIF category.
    command: &'static str,
}

impl RepoEnd<'_> {
    fn finish(
        &self,
        common: &CommonArgs,
        mut findings: Vec<Finding>,
        mut summary: Summary,
    ) -> Result<i32> {
        apply_excludes(&mut findings, &self.prep.config.exclude, self.root)?;
        summary.findings = findings.len() as u64;
        let rules: Vec<Rule> = self.prep.matcher.rules().cloned().collect();
        let repository = git::repository_info(self.repo);
        let remote_org = git::remote_org(self.repo);
        let ctx = EmitContext {
            rules: &rules,
            repository: Some(&repository),
            root: None,
            remote_org: remote_org.as_deref(),
            repositories: None,
            command: self.command,
        };
        finish(common, findings, summary, self.started, self.verify, &ctx)
    }
}

/// The progress line of a history scan: its phase and counts so far.
fn history_status(c: &Counters, started: Instant) -> String {
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let listed = load(&c.commits_listed);
    match c.phase() {
        Phase::ListingCommits => format!("listing commits: {listed}"),
        Phase::ReadingTrees => format!(
            "reading trees: {}/{listed} commits, {} blobs found",
            load(&c.commits_done),
            load(&c.blobs_seen)
        ),
        Phase::ScanningBlobs => {
            let bytes = load(&c.bytes);
            format!(
                "scanning blobs: {}/{}, {} ({}), {} findings",
                load(&c.blobs_scanned),
                load(&c.blobs_seen),
                human_bytes(bytes),
                term::rate(bytes, started.elapsed().as_secs_f64()),
                load(&c.findings)
            )
        }
        Phase::AttributingFindings => format!(
            "attributing {} findings to commits and paths",
            load(&c.findings)
        ),
    }
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

pub fn staged(args: StagedArgs) -> Result<i32> {
    let started = Instant::now();
    let verify_opts = VerifyOptions::from_args(&args.common)?;
    git::tune_libgit2();
    let repo = open_for_commit(args.repo.as_deref())?;
    let root = config_root(&repo);
    // Files to scan, once the index has been compared with HEAD.
    let staged_files = std::sync::atomic::AtomicU64::new(u64::MAX);
    let status = || match staged_files.load(Ordering::Relaxed) {
        u64::MAX => "comparing the index with HEAD".to_string(),
        n => format!("scanning {n} staged file{}", if n == 1 { "" } else { "s" }),
    };
    let (prep, findings, summary) =
        term::with_progress(term::progress_wanted(args.common.quiet), status, || {
            // A pre-commit hook waits for this: compile the rules while libgit2 reads the index.
            let (prep, changes) = std::thread::scope(|s| {
                let building = s.spawn(|| prepare(&args.common, &root));
                let changes = staged::staged_changes(&repo, &warn);
                (
                    building.join().expect("rule compilation does not panic"),
                    changes,
                )
            });
            let (prep, changes) = (prep?, changes?);
            staged_files.store(changes.len() as u64, Ordering::Relaxed);
            let (findings, summary) = staged::scan_staged(
                &repo,
                changes,
                &prep.matcher,
                &prep.opts,
                args.common.max_file_size,
                &warn,
            )?;
            anyhow::Ok((prep, findings, summary))
        })?;
    let end = RepoEnd {
        repo: &repo,
        root: &root,
        prep: &prep,
        started,
        verify: verify_opts.as_ref(),
        command: "staged",
    };
    end.finish(&args.common, findings, summary)
}
