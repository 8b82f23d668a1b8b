//! Git history source: every blob reachable from the repository's refs (or from a `--range`),
//! each read and scanned **once**, then attributed to the commits that introduced it.
//!
//! The pipeline: (1) list commits (`commits`: all refs, HEAD, every stash entry; or `A..B`);
//! (2) in parallel, one `git2::Repository` per worker thread, walk each commit's tree, reading
//! each unique tree once (as `git rev-list --objects` does) and scanning each unique blob the
//! first time any worker meets it; (3) only for the blobs that hold findings, compare commits
//! with their parents ([`introduced`]), descending only into directories that hold such a blob,
//! to find `(blob, path, commit)` introductions; (4) [`provenance`] turns those into findings
//! with commit metadata. A history without findings costs one pass over its unique objects.
//! Memory is the sets of tree and blob ids seen plus the findings; blob contents are never held
//! beyond their scan.
//! Not for the staged index (see [`super::staged`]) nor for reporting.

mod commits;
mod head;
pub mod introduced;
pub mod objects;
mod packorder;
pub mod provenance;

use crate::detect::Matcher;
use crate::finding::{Finding, RepositoryInfo, Summary};
use crate::scan::{ScanOptions, scan_blob};
use crate::source::fs::human_bytes;
use git2::{Oid, Repository, RepositoryOpenFlags};
use provenance::Record;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The name findings carry between scanning a blob and being attributed to a path.
const UNATTRIBUTED: &str = "<blob>";

/// A problem that stops a git scan (as opposed to one unreadable object among many).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository{}; give the path of a work tree or a bare repository, or run inside one", if *.searched { " (nor is any parent directory)" } else { "" })]
    NotARepository { path: String, searched: bool },
    #[error("{path}: {message}")]
    Open { path: String, message: String },
    #[error("cannot resolve '{name}' to a commit: {message}")]
    Ref { name: String, message: String },
    #[error("bad range '{spec}': {message}")]
    Range { spec: String, message: String },
    #[error(
        "nothing in {repo} could be read ({unreadable} unreadable references or objects, \
         named above); a history that cannot be read is not reported clean"
    )]
    NothingReadable { repo: String, unreadable: u64 },
    #[error("cannot {what} in {repo}: {message}")]
    Repo {
        what: &'static str,
        repo: String,
        message: String,
    },
}

/// Open the repository at `path` (a work tree, a subdirectory of one when `search` is set, or
/// a bare repository).
pub fn open_repository(path: &Path, search: bool) -> Result<Repository, GitError> {
    let flags = if search {
        RepositoryOpenFlags::empty()
    } else {
        RepositoryOpenFlags::NO_SEARCH
    };
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(GitError::Open {
            path: shown,
            message: "No such file or directory".into(),
        });
    }
    Repository::open_ext(path, flags, std::iter::empty::<&std::ffi::OsStr>()).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            GitError::NotARepository {
                path: shown,
                searched: search,
            }
        } else {
            GitError::Open {
                path: shown,
                message: e.message().to_string(),
            }
        }
    })
}

/// The repository as reports describe it: its `origin` URL (else its absolute path), HEAD's
/// commit and branch. Reporters strip credentials from the URL.
pub fn repository_info(repo: &Repository) -> RepositoryInfo {
    let origin = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(str::to_string));
    let local = repo.workdir().unwrap_or(repo.path());
    let local = std::fs::canonicalize(local).unwrap_or_else(|_| local.to_path_buf());
    repository_info_at(repo, origin.unwrap_or_else(|| local.display().to_string()))
}

/// The repository as reports describe it, under a URL the caller chose: HEAD's commit and branch.
pub fn repository_info_at(repo: &Repository, uri: String) -> RepositoryInfo {
    let head = repo.head().ok();
    RepositoryInfo {
        uri,
        revision: head
            .as_ref()
            .and_then(|h| h.peel_to_commit().ok())
            .map(|c| c.id().to_string()),
        branch: head
            .as_ref()
            .filter(|h| h.is_branch())
            .and_then(|h| h.shorthand().ok().map(str::to_string)),
    }
}

/// The Azure DevOps organisation of the repository's remotes: `origin`'s if it is an Azure
/// DevOps URL, else the first other remote's (by name) that is.
pub fn remote_org(repo: &Repository) -> Option<String> {
    let url_of = |name: &str| {
        repo.find_remote(name)
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string))
    };
    let mut names: Vec<String> = repo
        .remotes()
        .map(|r| r.iter().flatten().flatten().map(str::to_string).collect())
        .unwrap_or_default();
    names.sort_by_key(|n| (n != "origin", n.clone()));
    names
        .iter()
        .filter_map(|n| url_of(n))
        .find_map(|u| crate::detect::org::org_of_remote(&u))
}

/// [`remote_org`] of the repository holding `path`, if any (for `patrol scan`).
pub fn remote_org_of_path(path: &Path) -> Option<String> {
    open_repository(path, true)
        .ok()
        .and_then(|r| remote_org(&r))
}

/// Process-wide libgit2 settings for scanning; call once, before any repository is opened.
///
/// Object ids are not re-verified on every read: that re-hashes each blob with collision-
/// detecting SHA-1, a quarter of a history scan's time, and git itself only does it in `fsck`
/// (zlib's checksum still catches damaged data).
///
/// libgit2's object cache is off: each worker reads trees along a different stretch of history,
/// so the cache rarely hits, and on cargo's history it tripled peak memory (306 → 109 MiB for
/// enumeration) while costing slightly more CPU than re-reading.
pub fn tune_libgit2() {
    git2::opts::strict_hash_verification(false);
    git2::opts::enable_caching(false);
}

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

/// What became of a blob that some worker met.
enum BlobState {
    /// Being scanned by another worker.
    Pending,
    Clean,
    Findings(Vec<Finding>),
    /// Too large, unreadable, or (with a range) already present before the range.
    Skipped,
}

enum Visit {
    /// First sight: the caller scans it.
    Claimed,
    /// Met before (scanned, being scanned or skipped).
    Seen,
}

/// The blobs met so far, sharded so that workers rarely wait for each other.
struct BlobTable {
    shards: Vec<Mutex<HashMap<Oid, BlobState>>>,
}

impl BlobTable {
    fn new(excluded: HashSet<Oid>) -> Self {
        let shards: Vec<Mutex<HashMap<Oid, BlobState>>> =
            (0..64).map(|_| Mutex::new(HashMap::new())).collect();
        for oid in excluded {
            Self::lock(&shards, oid).insert(oid, BlobState::Skipped);
        }
        BlobTable { shards }
    }

    fn lock(
        shards: &[Mutex<HashMap<Oid, BlobState>>],
        oid: Oid,
    ) -> std::sync::MutexGuard<'_, HashMap<Oid, BlobState>> {
        let i = oid.as_bytes()[0] as usize % shards.len();
        shards[i].lock().expect("no panics while holding the lock")
    }

    fn visit(&self, oid: Oid) -> Visit {
        let mut shard = Self::lock(&self.shards, oid);
        match shard.get(&oid) {
            None => {
                shard.insert(oid, BlobState::Pending);
                Visit::Claimed
            }
            Some(_) => Visit::Seen,
        }
    }

    fn finish(&self, oid: Oid, state: BlobState) {
        Self::lock(&self.shards, oid).insert(oid, state);
    }

    /// Findings of every blob that has some (with placeholder paths), and the ids of the
    /// blobs scanned clean.
    fn into_findings(self) -> (HashMap<Oid, Vec<Finding>>, Vec<Oid>) {
        let mut out = HashMap::new();
        let mut clean = Vec::new();
        for shard in self.shards {
            for (oid, state) in shard
                .into_inner()
                .expect("no panics while holding the lock")
            {
                match state {
                    BlobState::Findings(f) => {
                        out.insert(oid, f);
                    }
                    BlobState::Clean => clean.push(oid),
                    _ => {}
                }
            }
        }
        (out, clean)
    }
}

/// Tree ids already walked, sharded like [`BlobTable`]: each unique tree is read once per scan,
/// however many commits share it.
struct OidSet {
    shards: Vec<Mutex<HashSet<Oid>>>,
}

impl OidSet {
    fn new(initial: HashSet<Oid>) -> Self {
        let set = OidSet {
            shards: (0..64).map(|_| Mutex::new(HashSet::new())).collect(),
        };
        for oid in initial {
            set.insert(oid);
        }
        set
    }

    /// True the first time `oid` is inserted.
    fn insert(&self, oid: Oid) -> bool {
        let i = oid.as_bytes()[0] as usize % self.shards.len();
        self.shards[i]
            .lock()
            .expect("no panics while holding the lock")
            .insert(oid)
    }
}

/// Whether a tree holds (at any depth) one of the blobs with findings, remembered per tree so
/// that attribution reads each relevant tree once.
struct TreeMemo<'w> {
    wanted: &'w HashSet<Oid>,
    shards: Vec<Mutex<HashMap<Oid, bool>>>,
}

impl<'w> TreeMemo<'w> {
    fn new(wanted: &'w HashSet<Oid>) -> Self {
        TreeMemo {
            wanted,
            shards: (0..64).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn known(&self, oid: Oid) -> Option<bool> {
        let i = oid.as_bytes()[0] as usize % self.shards.len();
        self.shards[i].lock().expect("no panics").get(&oid).copied()
    }

    fn remember(&self, oid: Oid, found: bool) {
        let i = oid.as_bytes()[0] as usize % self.shards.len();
        self.shards[i].lock().expect("no panics").insert(oid, found);
    }

    /// Whether tree `oid` holds a wanted blob. A post-order walk with an explicit stack, so a
    /// hostile tree nested 100,000 levels deep costs memory, not the thread's stack.
    fn holds(&self, repo: &Repository, oid: Oid) -> bool {
        if let Some(known) = self.known(oid) {
            return known;
        }
        let mut stack = vec![self.open(repo, oid)];
        loop {
            let top = stack.last_mut().expect("popped only when finished");
            let next = if top.found { None } else { top.subtrees.pop() };
            match next {
                Some(sub) => match self.known(sub) {
                    Some(found) => top.found |= found,
                    None => stack.push(self.open(repo, sub)),
                },
                None => {
                    let done = stack.pop().expect("non-empty");
                    self.remember(done.oid, done.found);
                    match stack.last_mut() {
                        Some(parent) => parent.found |= done.found,
                        None => return done.found,
                    }
                }
            }
        }
    }

    /// Read one tree: whether it holds a wanted blob directly, and its subtrees to look into.
    fn open(&self, repo: &Repository, oid: Oid) -> MemoFrame {
        let mut frame = MemoFrame {
            oid,
            found: false,
            subtrees: Vec::new(),
        };
        match repo.find_tree(oid) {
            Ok(tree) => {
                for e in tree.iter() {
                    match e.kind() {
                        Some(git2::ObjectType::Blob) if self.wanted.contains(&e.id()) => {
                            frame.found = true;
                            break;
                        }
                        Some(git2::ObjectType::Tree) => frame.subtrees.push(e.id()),
                        _ => {}
                    }
                }
            }
            // An unreadable tree may hold anything: look inside it (and warn) during attribution.
            Err(_) => frame.found = true,
        }
        frame
    }
}

/// One tree on [`TreeMemo::holds`]'s stack.
struct MemoFrame {
    oid: Oid,
    found: bool,
    /// Subtrees not yet looked into.
    subtrees: Vec<Oid>,
}

/// One `Repository` per worker thread: libgit2 handles are not `Sync`, and one handle each
/// means workers never wait on each other's locks inside libgit2.
struct RepoPool {
    git_dir: PathBuf,
    slots: Vec<Mutex<Option<Repository>>>,
}

impl RepoPool {
    fn new(git_dir: &Path) -> Self {
        RepoPool {
            git_dir: git_dir.to_path_buf(),
            slots: (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(None))
                .collect(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&Repository) -> R) -> Result<R, git2::Error> {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        let mut slot = match self.slots[i].try_lock() {
            Ok(slot) => slot,
            // Held by this same thread further up the stack (a nested rayon job, should the
            // matcher ever use rayon): a private handle instead of a deadlock.
            Err(std::sync::TryLockError::WouldBlock) => {
                return Ok(f(&Repository::open(&self.git_dir)?));
            }
            Err(std::sync::TryLockError::Poisoned(_)) => {
                panic!("a worker panicked while holding its repository")
            }
        };
        if slot.is_none() {
            *slot = Some(Repository::open(&self.git_dir)?);
        }
        Ok(f(slot.as_ref().expect("just opened")))
    }
}

/// Everything a worker needs.
struct Ctx<'a> {
    matcher: &'a Matcher,
    opts: &'a ScanOptions,
    max_file_size: u64,
    table: BlobTable,
    trees: OidSet,
    counters: &'a Counters,
    warn: &'a (dyn Fn(String) + Sync),
    /// Findings that are not in a tree's blob (commit messages).
    extra: Mutex<Vec<Finding>>,
    known: &'a (dyn Fn(&Oid) -> bool + Sync),
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
    if repo.is_shallow() {
        warn(commits::shallow_note(repo));
    }
    counters.enter(Phase::ListingCommits);
    let (mut commits, roots, boundary) = match selection {
        Selection::All | Selection::AllObjects => {
            let tips = commits::all_commits(repo, counters, warn)?;
            let boundary = commits::Boundary {
                blobs: HashSet::new(),
                trees: HashSet::new(),
            };
            (tips.commits, tips.roots, boundary)
        }
        Selection::Range(spec) => {
            let (commits, boundary) = commits::range_commits(repo, spec, counters, warn)?;
            (commits, Vec::new(), boundary)
        }
        Selection::Refs(names) => {
            let commits = commits::ref_commits(repo, names, counters, warn)?;
            let boundary = commits::Boundary {
                blobs: HashSet::new(),
                trees: HashSet::new(),
            };
            (commits, Vec::new(), boundary)
        }
    };
    // Fail closed: refs and HEAD that could not be read are no proof of a clean history.
    let nothing_read = |counters: &Counters| GitError::NothingReadable {
        repo: repo_name.clone(),
        unreadable: counters.unreadable.load(Ordering::Relaxed),
    };
    if commits.is_empty() && roots.is_empty() && counters.unreadable.load(Ordering::Relaxed) > 0 {
        return Err(nothing_read(counters));
    }

    let whole = matches!(selection, Selection::All | Selection::AllObjects);
    let notes = if whole {
        objects::notes_history(repo)
    } else {
        objects::NotesHistory::default()
    };
    // With --all-objects: the commits no ref reaches join the walk, and the blobs no tree
    // holds are scanned on their own.
    let mut odb = objects::OdbObjects::default();
    let mut unreachable_commits: HashSet<Oid> = HashSet::new();
    if let Selection::AllObjects = selection {
        let (found, unreadable) = objects::odb_objects(repo, warn).map_err(|e| GitError::Repo {
            what: "list the object database",
            repo: repo_name.clone(),
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

    let ctx = Ctx {
        matcher,
        opts,
        max_file_size,
        table: BlobTable::new(boundary.blobs),
        trees: OidSet::new(boundary.trees),
        counters,
        warn,
        extra: Mutex::new(Vec::new()),
        known,
    };
    let pool = RepoPool::new(repo.path());
    let cannot_open = |e: git2::Error| {
        counters.unreadable.fetch_add(1, Ordering::Relaxed);
        warn(format!("cannot open {repo_name}: {}", e.message()));
    };
    // (2) Every unique tree once, collecting every unique blob once.
    counters.enter(Phase::ReadingTrees);
    let mut blobs: Vec<(Oid, Vec<u8>)> = commits
        .par_iter()
        .with_min_len(8)
        .fold(Vec::new, |mut found, &id| {
            if crate::interrupt::interrupted() {
                return found;
            }
            if let Err(e) = pool.with(|r| discover(r, id, &ctx, &mut found)) {
                cannot_open(e);
            }
            counters.commits_done.fetch_add(1, Ordering::Relaxed);
            found
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    // Refs to trees and blobs, after every commit: a blob that some commit holds is reported
    // at that commit, not under the ref.
    let mut from_refs: Vec<(Oid, Vec<u8>)> = Vec::new();
    let mut ref_names: HashMap<Oid, String> = HashMap::new();
    for root in &roots {
        let mut found = Vec::new();
        let walked = pool.with(|r| match root.kind {
            git2::ObjectType::Tree => discover_tree(r, root.oid, &root.name, &ctx, &mut found),
            _ => {
                if let Visit::Claimed = ctx.table.visit(root.oid) {
                    found.push((root.oid, Vec::new()));
                }
            }
        });
        if let Err(e) = walked {
            cannot_open(e);
        }
        for (oid, path) in found {
            ref_names.insert(oid, root.name.clone());
            from_refs.push((oid, path));
        }
    }
    let note_blobs: HashSet<Oid> = notes.blobs.iter().map(|(b, _)| *b).collect();
    let mut orphans: HashSet<Oid> = HashSet::new();
    for &b in &odb.blobs {
        if !note_blobs.contains(&b)
            && let Visit::Claimed = ctx.table.visit(b)
        {
            orphans.insert(b);
            blobs.push((b, Vec::new()));
        }
    }
    // (3) Scan them in pack order, in runs of neighbours per worker, so that deltas meet
    // their bases in the delta cache.
    counters.enter(Phase::ScanningBlobs);
    let order = packorder::PackOrder::load(repo.path());
    blobs.sort_by_cached_key(|(oid, _)| order.position(*oid));
    drop(order);
    blobs.par_chunks(64).for_each(|run| {
        if crate::interrupt::interrupted() {
            return;
        }
        let scanned = pool.with(|r| {
            for (oid, path) in run {
                let state = scan_one(r, *oid, path, &ctx);
                ctx.table.finish(*oid, state);
            }
        });
        if let Err(e) = scanned {
            cannot_open(e);
        }
    });
    drop(blobs);
    let mut ref_findings = Vec::new();
    let scanned = pool.with(|r| {
        for (oid, path) in &from_refs {
            let state = scan_one(r, *oid, path, &ctx);
            if let BlobState::Findings(found) = state {
                let name = &ref_names[oid];
                // `ref:path` as git spells an object inside a tree; a blob's ref alone.
                let shown = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{name}:{}", String::from_utf8_lossy(path))
                };
                for mut f in found {
                    f.set_file_path(&shown);
                    ref_findings.push(f);
                }
            }
            ctx.table.finish(*oid, BlobState::Clean);
        }
    });
    if let Err(e) = scanned {
        cannot_open(e);
    }

    let gitlinks = counters.gitlinks.load(Ordering::Relaxed);
    if gitlinks > 0 {
        warn(format!(
            "skipped {gitlinks} submodule entr{}: submodules are not scanned; scan each \
             submodule's repository on its own",
            if gitlinks == 1 { "y" } else { "ies" }
        ));
    }

    // (4) Only for blobs with findings: which commits introduced them, at which paths.
    counters.enter(Phase::AttributingFindings);
    let (mut by_blob, clean_blobs) = ctx.table.into_findings();
    let mut extra = ctx
        .extra
        .into_inner()
        .expect("no panics while holding the lock");
    for oid in &orphans {
        for mut f in by_blob.remove(oid).unwrap_or_default() {
            f.set_file_path(&objects::object_path(*oid));
            f.unreachable = true;
            extra.push(f);
        }
    }
    let mut records: Vec<Record> = if by_blob.is_empty() {
        Vec::new()
    } else {
        let wanted: HashSet<Oid> = by_blob.keys().copied().collect();
        let memo = TreeMemo::new(&wanted);
        commits
            .par_iter()
            .with_min_len(8)
            .fold(Vec::new, |mut records, &id| {
                if let Err(e) = pool.with(|r| attribute_commit(r, id, &memo, &mut records)) {
                    cannot_open(e);
                }
                records
            })
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            })
    };
    drop(pool);
    records.sort();
    records.dedup();
    let at_head = head::HeadSecrets::collect(repo, &commits, &by_blob);
    let mut attributor = provenance::Attributor::new(repo, matcher, opts, max_file_size, by_blob);
    let mut findings = attributor.attribute(&records, warn);
    let mut unreadable_extra = 0;
    if whole {
        let referenced = objects::referenced_tags(repo);
        let mut tags = referenced.clone();
        tags.extend(&odb.tags);
        tags.sort();
        tags.dedup();
        let referenced: HashSet<Oid> = referenced.into_iter().collect();
        let (found, u) = objects::tag_findings(repo, matcher, opts, &tags, &referenced, warn);
        extra.extend(found);
        let (found, v) = objects::note_findings(repo, &notes, matcher, opts, max_file_size, warn);
        extra.extend(found);
        unreadable_extra = u + v;
    }
    findings.extend(extra);
    findings.append(&mut ref_findings);
    if !unreachable_commits.is_empty() {
        let ids: HashSet<String> = unreachable_commits.iter().map(Oid::to_string).collect();
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
    if counters.blobs_scanned.load(Ordering::Relaxed) == 0
        && counters.large.load(Ordering::Relaxed) == 0
        && counters.unreadable.load(Ordering::Relaxed) > 0
    {
        return Err(nothing_read(counters));
    }

    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let summary = Summary {
        files_scanned: load(&counters.blobs_scanned),
        bytes_scanned: load(&counters.bytes),
        skipped_large: load(&counters.large),
        skipped_binary: load(&counters.binary),
        unreadable: load(&counters.unreadable) + attributor.unreadable + unreadable_extra,
        findings: findings.len() as u64,
        suppressed: load(&counters.suppressed),
        archive_members: load(&counters.archive_members),
        archive_limits: load(&counters.archive_limits),
        capped: load(&counters.capped),
        commits: Some(commits.len() as u64),
        blobs: Some(load(&counters.blobs_seen)),
        ..Summary::default()
    };
    Ok(HistoryScan {
        findings,
        summary,
        clean_blobs,
    })
}

/// Walk the trees of commit `id` that no worker has walked yet, collecting each blob the first
/// time any worker meets it (with the path it was met at, for warnings).
fn discover(repo: &Repository, id: Oid, ctx: &Ctx<'_>, found: &mut Vec<(Oid, Vec<u8>)>) {
    match repo.find_commit(id) {
        Ok(c) => {
            let messages = objects::message_findings(ctx.matcher, ctx.opts, &c);
            if !messages.is_empty() {
                ctx.extra
                    .lock()
                    .expect("no panics while holding the lock")
                    .extend(messages);
            }
            discover_tree(repo, c.tree_id(), &format!("commit {id}"), ctx, found)
        }
        Err(e) => {
            ctx.counters.unreadable.fetch_add(1, Ordering::Relaxed);
            (ctx.warn)(format!("cannot read commit {id}: {}", e.message()));
        }
    }
}

/// [`discover`] from a tree; `within` names the commit or ref in warnings.
fn discover_tree(
    repo: &Repository,
    root: Oid,
    within: &str,
    ctx: &Ctx<'_>,
    found: &mut Vec<(Oid, Vec<u8>)>,
) {
    let unreadable = |msg: String| {
        ctx.counters.unreadable.fetch_add(1, Ordering::Relaxed);
        (ctx.warn)(msg);
    };
    let mut paths = introduced::PathArena::default();
    let mut stack: Vec<(Oid, usize)> = vec![(root, introduced::PathArena::ROOT)];
    while let Some((oid, dir)) = stack.pop() {
        if !ctx.trees.insert(oid) {
            continue;
        }
        let tree = match repo.find_tree(oid) {
            Ok(t) => t,
            Err(e) => {
                unreadable(format!(
                    "cannot read tree {oid} at '{}' in {within}: {}",
                    String::from_utf8_lossy(&paths.path(dir)),
                    e.message()
                ));
                continue;
            }
        };
        for entry in tree.iter() {
            match entry.kind() {
                Some(git2::ObjectType::Tree) => {
                    stack.push((entry.id(), paths.child(dir, entry.name_bytes())))
                }
                Some(git2::ObjectType::Blob) => {
                    let blob = entry.id();
                    if let Visit::Claimed = ctx.table.visit(blob) {
                        if (ctx.known)(&blob) {
                            ctx.table.finish(blob, BlobState::Skipped);
                            ctx.counters.blobs_known.fetch_add(1, Ordering::Relaxed);
                        } else {
                            found.push((blob, paths.file(dir, entry.name_bytes())));
                        }
                    }
                }
                Some(git2::ObjectType::Commit) => {
                    ctx.counters.gitlinks.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
    }
}

/// Records of the blobs with findings that commit `id` introduced.
fn attribute_commit(repo: &Repository, id: Oid, memo: &TreeMemo<'_>, records: &mut Vec<Record>) {
    // Unreadable objects were reported while discovering; here they only mean no record.
    let Ok(commit) = repo.find_commit(id) else {
        return;
    };
    let Ok(tree) = commit.tree() else { return };
    let mut parents = Vec::new();
    for pid in commit.parent_ids() {
        // A parent that cannot be read (shallow boundary) leaves the commit compared with the
        // parents that can, or treated as a root.
        if let Ok(t) = repo.find_commit(pid).and_then(|p| p.tree()) {
            if t.id() == tree.id() {
                return;
            }
            parents.push(t);
        }
    }
    if !memo.holds(repo, tree.id()) && !parents.iter().any(|p| memo.holds(repo, p.id())) {
        return;
    }
    let found = introduced::introduced_within(repo, &tree, &parents, &|t| memo.holds(repo, t));
    let moved_from: Vec<Oid> = found
        .removed
        .iter()
        .filter(|b| memo.wanted.contains(b))
        .copied()
        .collect();
    for (blob, path) in found.blobs {
        if memo.wanted.contains(&blob) {
            records.push(Record {
                blob,
                path,
                commit: id,
                moved_from: moved_from.clone(),
            });
        }
    }
}

/// Read and scan one blob, first checking its size in the object header.
fn scan_one(repo: &Repository, oid: Oid, path: &[u8], ctx: &Ctx<'_>) -> BlobState {
    let c = ctx.counters;
    c.blobs_seen.fetch_add(1, Ordering::Relaxed);
    let unreadable = |e: git2::Error| {
        c.unreadable.fetch_add(1, Ordering::Relaxed);
        (ctx.warn)(format!(
            "cannot read blob {oid} ({}): {}",
            String::from_utf8_lossy(path),
            e.message()
        ));
        BlobState::Skipped
    };
    let size = match repo.odb().and_then(|odb| odb.read_header(oid)) {
        Ok((size, _)) => size as u64,
        Err(e) => return unreadable(e),
    };
    if size > ctx.max_file_size {
        c.large.fetch_add(1, Ordering::Relaxed);
        (ctx.warn)(format!(
            "skipped blob {oid} ({}): {} is over --max-file-size {}",
            String::from_utf8_lossy(path),
            human_bytes(size),
            human_bytes(ctx.max_file_size)
        ));
        return BlobState::Skipped;
    }
    let blob = match repo.find_blob(oid) {
        Ok(b) => b,
        Err(e) => return unreadable(e),
    };
    let bytes = blob.content();
    c.blobs_scanned.fetch_add(1, Ordering::Relaxed);
    c.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let result = scan_blob(ctx.matcher, bytes, UNATTRIBUTED, ctx.opts);
    if result.binary_skipped {
        c.binary.fetch_add(1, Ordering::Relaxed);
    }
    c.suppressed.fetch_add(result.suppressed, Ordering::Relaxed);
    let tally = &result.archive;
    for (counter, n) in [
        (&c.archive_members, tally.members),
        (&c.archive_limits, tally.limits),
        (&c.large, tally.large),
        (&c.unreadable, tally.unreadable),
    ] {
        counter.fetch_add(n, Ordering::Relaxed);
    }
    let shown = format!("blob {oid} ({})", String::from_utf8_lossy(path));
    tally.warnings(&shown).for_each(ctx.warn);
    c.findings
        .fetch_add(result.findings.len() as u64, Ordering::Relaxed);
    c.capped.fetch_add(result.capped, Ordering::Relaxed);
    if result.findings.is_empty() {
        BlobState::Clean
    } else {
        BlobState::Findings(result.findings)
    }
}
