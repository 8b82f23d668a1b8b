//! Git history source: every blob reachable from the repository's refs (or from a `--range`),
//! each read and scanned **once**, then attributed to the commits that introduced it.
//!
//! The phases of [`scan_history_skipping`], in order: (1) list the commits ([`commits`]: all
//! refs, every worktree's HEAD, every stash entry; or `A..B`; or named refs); (2) read trees
//! ([`history`]): in parallel, one `git2::Repository` per worker thread, walk each commit's
//! tree, reading each unique tree once (as `git rev-list --objects` does) and collecting each
//! unique blob the first time any worker meets it; (3) scan blobs: read each collected blob
//! once, in pack order ([`blob`] reads one, skipping it by its header's size), and scan it;
//! (4) only for the blobs that hold findings, compare commits with their parents
//! ([`attribute`], [`introduced`]), descending only into trees that hold such a blob, to find
//! `(blob, path, commit)` introductions; (5) [`provenance`] turns those into findings with
//! commit metadata, and tags and notes add theirs. Paths the configuration excludes are left
//! out while walking, before anything under them is read. Opening a repository and naming it
//! for reports is [`repo`]'s. A history without findings costs one pass
//! over its unique objects. Memory is the sets of tree and blob ids seen, the list of blobs to
//! read, and the findings; blob contents are never held beyond their scan.
//! Not for comparing the index with HEAD (see [`super::staged`], which reads the index file
//! through [`index`]) nor for reporting.

mod attribute;
pub mod blob;
mod commits;
mod head;
mod history;
pub mod index;
pub mod introduced;
pub mod objects;
mod oidmap;
mod packorder;
pub mod provenance;
mod repo;

pub use repo::{
    GitError, open_repository, remote_org, remote_org_of_path, repository_info, repository_info_at,
    tune_libgit2,
};

use crate::detect::Matcher;
use crate::finding::{Finding, Summary};
use crate::scan::{Hit, Location, ScanOptions, findings_at};
use git2::{Oid, Repository};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which commits to scan.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Everything reachable from any ref, HEAD and the stash.
    All,
    /// `A..B`: commits reachable from B and not from A.
    Range(String),
    /// Everything in the object database, reachable or not (`--all-objects`).
    AllObjects,
    /// Everything reachable from these refs or revisions (`HEAD`, `origin/main`, …).
    Refs(Vec<String>),
}

/// Live counters of a history scan; a progress display may read them while it runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// The [`Phase`] the scan is in, as a number.
    pub phase: AtomicU64,
    pub commits_listed: AtomicU64,
    pub commits_done: AtomicU64,
    pub blobs_seen: AtomicU64,
    pub blobs_scanned: AtomicU64,
    pub bytes: AtomicU64,
    /// Findings in the blobs scanned so far (before attribution to commits and paths).
    pub findings: AtomicU64,
    /// Blobs not read because the caller already scanned them (see [`scan_history_skipping`]).
    pub blobs_known: AtomicU64,
    large: AtomicU64,
    binary: AtomicU64,
    unreadable: AtomicU64,
    suppressed: AtomicU64,
    capped: AtomicU64,
    gitlinks: AtomicU64,
    archive_members: AtomicU64,
    archive_limits: AtomicU64,
}

/// The steps of a history scan, in order, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    ListingCommits = 0,
    ReadingTrees = 1,
    ScanningBlobs = 2,
    AttributingFindings = 3,
}

impl Counters {
    fn enter(&self, phase: Phase) {
        self.phase.store(phase as u64, Ordering::Relaxed);
    }

    /// The phase the scan is in now.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::ListingCommits,
            1 => Phase::ReadingTrees,
            2 => Phase::ScanningBlobs,
            _ => Phase::AttributingFindings,
        }
    }
}

/// The outcome of a history scan.
pub struct HistoryScan {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Blobs read and scanned without findings (for a caller's incremental record).
    pub clean_blobs: Vec<Oid>,
}

/// Scan the history of `repo`. `warn` receives one line per unreadable object or skipped blob
/// (never a secret).
pub fn scan_history(
    repo: &Repository,
    selection: &Selection,
    matcher: &Matcher,
    opts: &ScanOptions,
    max_file_size: u64,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<HistoryScan, GitError> {
    scan_history_skipping(
        repo,
        selection,
        matcher,
        opts,
        max_file_size,
        counters,
        warn,
        &|_| false,
    )
}

/// [`scan_history`] that neither reads nor reports the blobs `known` accepts (blobs an earlier
/// run scanned clean with the same rules); they are counted in [`Counters::blobs_known`].
///
/// The phases, in order: [`list`] the commits (and refs to trees or blobs, notes, and with
/// `--all-objects` the objects no ref reaches); [`history::read_trees`] (every unique tree
/// once, collecting every unique blob once); [`history::scan_in_pack_order`] (each blob read
/// and scanned once); [`attribute::records`] (only for blobs with findings: which commits
/// introduced them, at which paths); then [`provenance`] turns those into findings with commit
/// metadata, and tags, notes and commit messages add theirs ([`finish`]).
#[allow(clippy::too_many_arguments)]
pub fn scan_history_skipping(
    repo: &Repository,
    selection: &Selection,
    matcher: &Matcher,
    opts: &ScanOptions,
    max_file_size: u64,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
    known: &(dyn Fn(&Oid) -> bool + Sync),
) -> Result<HistoryScan, GitError> {
    let repo_name = repo.path().display().to_string();
    let (listed, boundary) = list(repo, selection, counters, warn)?;
    let ctx = history::Ctx::new(
        matcher,
        opts,
        max_file_size,
        counters,
        warn,
        known,
        boundary,
    );
    let pool = history::RepoPool::new(repo.path());
    let cannot_open = |e: git2::Error| {
        counters.unreadable.fetch_add(1, Ordering::Relaxed);
        warn(format!("cannot open {repo_name}: {}", e.message()));
    };
    counters.enter(Phase::ReadingTrees);
    let mut blobs = history::read_trees(&pool, &listed.commits, &ctx, &cannot_open);
    // Refs to trees and blobs, after every commit: a blob that some commit holds is reported
    // at that commit, not under the ref.
    let (from_refs, ref_names) = history::ref_roots(&pool, &listed.roots, &ctx, &cannot_open);
    // With --all-objects, the blobs no tree holds, scanned on their own.
    let orphans = history::claim_orphans(&listed.odb, &listed.notes, &ctx, &mut blobs);
    counters.enter(Phase::ScanningBlobs);
    history::scan_in_pack_order(&pool, repo.path(), blobs, &ctx, &cannot_open);
    let ref_findings = history::scan_ref_blobs(&pool, &from_refs, &ref_names, &ctx, &cannot_open);
    warn_gitlinks(counters, warn);

    counters.enter(Phase::AttributingFindings);
    let (mut by_blob, clean_blobs) = history::into_findings(ctx.blobs);
    let mut extra = ctx
        .extra
        .into_inner()
        .expect("no panics while holding the lock");
    extra.extend(orphan_findings(&orphans, &mut by_blob, opts));
    let records = attribution(&pool, &listed.commits, &by_blob, opts, &cannot_open, warn);
    drop(pool);
    let at_head = head::HeadSecrets::collect(repo, &listed.commits, &by_blob, &opts.excludes);
    let mut attributor = provenance::Attributor::new(repo, matcher, opts, max_file_size, by_blob);
    let findings = attributor.attribute(&records, warn);
    let found = Found {
        attributed: findings,
        extra,
        ref_findings,
        clean_blobs,
        unreadable: attributor.unreadable,
        at_head,
    };
    finish(
        repo,
        &listed,
        found,
        matcher,
        opts,
        max_file_size,
        counters,
        warn,
    )
}

/// Attribution records for the blobs with findings (none when there are none), each commit
/// whose comparison reached its bound named in a warning.
fn attribution(
    pool: &history::RepoPool,
    commits: &[Oid],
    by_blob: &std::collections::HashMap<Oid, Vec<Hit>>,
    opts: &ScanOptions,
    cannot_open: &(dyn Fn(git2::Error) + Sync),
    warn: &(dyn Fn(String) + Sync),
) -> Vec<provenance::Record> {
    if by_blob.is_empty() {
        return Vec::new();
    }
    let cut_short = |commit: Oid| {
        warn(format!(
            "commit {commit}: its trees name the same subtrees from so many places that \
             attribution stopped after {} entries or {} places (a 'git bomb'?); secrets it \
             introduced are reported at the places found until then",
            introduced::MAX_ENTRIES,
            introduced::MAX_PLACES
        ))
    };
    let wanted: HashSet<Oid> = by_blob.keys().copied().collect();
    attribute::records(
        pool,
        commits,
        &wanted,
        &opts.excludes,
        cannot_open,
        &cut_short,
    )
}

/// The findings of the blobs no tree holds, named by object id and marked unreachable.
fn orphan_findings(
    orphans: &HashSet<Oid>,
    by_blob: &mut std::collections::HashMap<Oid, Vec<Hit>>,
    opts: &ScanOptions,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for oid in orphans {
        let path = objects::object_path(*oid);
        let at = Location {
            unreachable: true,
            ..Location::file(&path)
        };
        let hits = by_blob.remove(oid).unwrap_or_default();
        out.extend(findings_at(&hits, &at, opts));
    }
    out
}

/// The findings of the scanning phases, before tags and notes join them.
struct Found {
    /// Blobs' findings attributed to commits and paths.
    attributed: Vec<Finding>,
    /// Commit messages', and with `--all-objects` those of blobs no tree holds.
    extra: Vec<Finding>,
    /// Blobs' findings under refs that point at trees or blobs.
    ref_findings: Vec<Finding>,
    clean_blobs: Vec<Oid>,
    /// Objects attribution could not read.
    unreadable: u64,
    /// Which secrets are still at HEAD.
    at_head: Option<head::HeadSecrets>,
}

/// What the listing phase found to scan.
struct Listing {
    commits: Vec<Oid>,
    /// Refs that point at a tree or a blob.
    roots: Vec<commits::RefRoot>,
    /// The whole history (not a range or named refs): tags and notes are scanned too.
    whole: bool,
    notes: objects::NotesHistory,
    /// With `--all-objects`: every object in the database, and the commits no ref reaches.
    odb: objects::OdbObjects,
    unreachable_commits: HashSet<Oid>,
}

/// Phase "listing commits", and what a range's base already holds (not news). Fails closed: refs and HEAD that could not be read are no proof of
/// a clean history.
fn list(
    repo: &Repository,
    selection: &Selection,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<(Listing, commits::Boundary), GitError> {
    if repo.is_shallow() {
        warn(commits::shallow_note(repo));
    }
    counters.enter(Phase::ListingCommits);
    let no_boundary = || commits::Boundary {
        blobs: HashSet::new(),
        trees: HashSet::new(),
    };
    let (mut commits, roots, boundary) = match selection {
        Selection::All | Selection::AllObjects => {
            let tips = commits::all_commits(repo, counters, warn)?;
            (tips.commits, tips.roots, no_boundary())
        }
        Selection::Range(spec) => {
            let (commits, boundary) = commits::range_commits(repo, spec, counters, warn)?;
            (commits, Vec::new(), boundary)
        }
        Selection::Refs(names) => {
            let commits = commits::ref_commits(repo, names, counters, warn)?;
            (commits, Vec::new(), no_boundary())
        }
    };
    if commits.is_empty() && roots.is_empty() && counters.unreadable.load(Ordering::Relaxed) > 0 {
        return Err(nothing_read(repo, counters));
    }
    let whole = matches!(selection, Selection::All | Selection::AllObjects);
    let notes = if whole {
        objects::notes_history(repo)
    } else {
        objects::NotesHistory::default()
    };
    // With --all-objects: the commits no ref reaches join the walk.
    let mut odb = objects::OdbObjects::default();
    let mut unreachable_commits: HashSet<Oid> = HashSet::new();
    if let Selection::AllObjects = selection {
        let (found, unreadable) = objects::odb_objects(repo, warn).map_err(|e| GitError::Repo {
            what: "list the object database",
            repo: repo.path().display().to_string(),
            message: e.message().to_string(),
        })?;
        counters.unreadable.fetch_add(unreadable, Ordering::Relaxed);
        let reachable: HashSet<Oid> = commits.iter().copied().collect();
        for &c in &found.commits {
            if !reachable.contains(&c) && !notes.commits.contains(&c) {
                unreachable_commits.insert(c);
                commits.push(c);
                counters.commits_listed.fetch_add(1, Ordering::Relaxed);
            }
        }
        odb = found;
    }
    let listing = Listing {
        commits,
        roots,
        whole,
        notes,
        odb,
        unreachable_commits,
    };
    // What a range's base already holds (not news).
    Ok((listing, boundary))
}

fn nothing_read(repo: &Repository, counters: &Counters) -> GitError {
    GitError::NothingReadable {
        repo: repo.path().display().to_string(),
        unreadable: counters.unreadable.load(Ordering::Relaxed),
    }
}

fn warn_gitlinks(counters: &Counters, warn: &(dyn Fn(String) + Sync)) {
    let gitlinks = counters.gitlinks.load(Ordering::Relaxed);
    if gitlinks > 0 {
        warn(format!(
            "skipped {gitlinks} submodule entr{}: submodules are not scanned; scan each \
             submodule's repository on its own",
            if gitlinks == 1 { "y" } else { "ies" }
        ));
    }
}

/// The last phase: tags' and notes' findings (whole history only), findings in commits no ref
/// reaches marked, everything in report order, and the summary.
#[allow(clippy::too_many_arguments)]
fn finish(
    repo: &Repository,
    listed: &Listing,
    found: Found,
    matcher: &Matcher,
    opts: &ScanOptions,
    max_file_size: u64,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<HistoryScan, GitError> {
    let Found {
        attributed: mut findings,
        mut extra,
        ref_findings,
        clean_blobs,
        unreadable: attribution_unreadable,
        at_head,
    } = found;
    let mut unreadable_extra = 0;
    if listed.whole {
        let referenced = objects::referenced_tags(repo);
        let mut tags = referenced.clone();
        tags.extend(&listed.odb.tags);
        tags.sort();
        tags.dedup();
        let referenced: HashSet<Oid> = referenced.into_iter().collect();
        let (found, u) = objects::tag_findings(repo, matcher, opts, &tags, &referenced, warn);
        let (notes, v) =
            objects::note_findings(repo, &listed.notes, matcher, opts, max_file_size, warn);
        extra.extend(found);
        extra.extend(notes);
        unreadable_extra = u + v;
    }
    findings.extend(extra);
    findings.extend(ref_findings);
    if !listed.unreachable_commits.is_empty() {
        let ids: HashSet<String> = listed
            .unreachable_commits
            .iter()
            .map(Oid::to_string)
            .collect();
        for f in &mut findings {
            if f.commit.as_ref().is_some_and(|c| ids.contains(&c.id)) {
                f.unreachable = true;
            }
        }
    }
    if let Some(at_head) = &at_head {
        at_head.apply(&mut findings);
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    if load(&counters.blobs_scanned) == 0
        && load(&counters.large) == 0
        && load(&counters.unreadable) > 0
    {
        return Err(nothing_read(repo, counters));
    }
    let summary = Summary {
        files_scanned: load(&counters.blobs_scanned),
        bytes_scanned: load(&counters.bytes),
        skipped_large: load(&counters.large),
        skipped_binary: load(&counters.binary),
        unreadable: load(&counters.unreadable) + attribution_unreadable + unreadable_extra,
        findings: findings.len() as u64,
        suppressed: load(&counters.suppressed),
        archive_members: load(&counters.archive_members),
        archive_limits: load(&counters.archive_limits),
        capped: load(&counters.capped),
        commits: Some(listed.commits.len() as u64),
        blobs: Some(load(&counters.blobs_seen)),
        ..Summary::default()
    };
    Ok(HistoryScan {
        findings,
        summary,
        clean_blobs,
    })
}
