//! `patrol git`: open the repository and scan its history with the prepared matcher; the
//! pipeline does the rest (baseline, `--verify`, report).

use super::pipeline::{self, Collected, Prepared, Scope, Source, Status};
use super::warn;
use crate::cli::{GitArgs, ScanSettings};
use crate::config::Config;
use crate::finding::Finding;
use crate::source::git::{self, Counters, Phase, Selection};
use crate::term;
use crate::util::human_bytes;
use anyhow::Result;
use git2::Repository;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

pub fn git(args: GitArgs) -> Result<i32> {
    pipeline::run(&args.common, || {
        git::tune_libgit2();
        let repo = open(args.repo.as_deref())?;
        Ok(History {
            selection: selection(&args),
            command: command_name(&args),
            repo,
            head_config: args.head_config,
            max_file_size: args.common.settings.max_file_size,
            counters: Counters::default(),
            started: Instant::now(),
        })
    })
}

/// The subcommand as the default SARIF category names it: `git-range` for a range.
pub fn command_name(args: &GitArgs) -> &'static str {
    if args.range.is_some() || args.since.is_some() {
        "git-range"
    } else {
        "git"
    }
}

fn selection(args: &GitArgs) -> Selection {
    match (&args.range, &args.since) {
        (Some(r), _) => Selection::Range(r.clone()),
        (None, Some(rev)) => Selection::Range(format!("{rev}..HEAD")),
        (None, None) if args.all_objects => Selection::AllObjects,
        (None, None) if !args.refs.is_empty() => Selection::Refs(args.refs.clone()),
        (None, None) => Selection::All,
    }
}

/// A repository's history as a source.
struct History {
    repo: Repository,
    selection: Selection,
    command: &'static str,
    /// `--head-config`: the configuration committed at HEAD.
    head_config: bool,
    max_file_size: u64,
    counters: Counters,
    started: Instant,
}

impl Source for History {
    type Unscanned = ();

    fn command(&self) -> &'static str {
        self.command
    }

    fn config_root(&self) -> PathBuf {
        config_root(&self.repo)
    }

    fn load_config(&self, settings: &ScanSettings) -> Result<(Config, Option<PathBuf>)> {
        history_config(
            &self.repo,
            self.head_config,
            settings.config.as_deref(),
            &self.config_root(),
        )
    }

    fn status(&self) -> Option<Status<'_>> {
        let (counters, started) = (&self.counters, self.started);
        Some(Box::new(move || history_status(counters, started)))
    }

    fn read(&self) -> Result<()> {
        Ok(())
    }

    fn scan(&self, _: (), prep: &Prepared) -> Result<Collected> {
        let scanned = git::scan_history(
            &self.repo,
            &self.selection,
            &prep.matcher,
            &prep.opts,
            self.max_file_size,
            &self.counters,
            &warn,
        )?;
        Ok(repository_findings(
            &self.repo,
            scanned.findings,
            scanned.summary,
        ))
    }
}

/// What `git` and `staged` end with: the repository's provenance. (Configured excludes were
/// applied before reading.)
pub(super) fn repository_findings(
    repo: &Repository,
    findings: Vec<Finding>,
    summary: crate::finding::Summary,
) -> Collected {
    let scope = Scope {
        repository: Some(git::repository_info(repo)),
        remote_org: git::remote_org(repo),
        ..Scope::default()
    };
    Collected {
        findings,
        summary,
        scope,
        incomplete: false,
    }
}

/// Open `REPO`, or the repository containing `.` when none is given.
pub(super) fn open(repo: Option<&Path>) -> Result<Repository> {
    let (path, search) = match repo {
        Some(p) => (p.to_path_buf(), false),
        None => (PathBuf::from("."), true),
    };
    Ok(git::open_repository(&path, search)?)
}

/// Where `.patrol.toml` is looked for: the work tree, or the git directory of a bare repository.
pub(super) fn config_root(repo: &Repository) -> PathBuf {
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
    head_config: bool,
    config: Option<&Path>,
    root: &Path,
) -> Result<(Config, Option<PathBuf>)> {
    if head_config {
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
    if repo.is_bare() && config.is_none() && head_config_text(repo).is_ok_and(|t| t.is_some()) {
        warn(format!(
            "{HEAD_CONFIG} is not applied (a scanned repository does not configure its own \
             scan); give --head-config to apply it"
        ));
    }
    Ok(Config::load(config, root)?)
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
