//! Git history source: every blob reachable from the repository's refs (or from a `--range`),
//! each read and scanned **once**, then attributed to the commits that introduced it.
//!
//! The pipeline: (1) list commits (`commits`: all refs, HEAD, every stash entry; or `A..B`);
//! (2) in parallel, one `git2::Repository` per worker thread, compare each commit's tree with
//! its parents' ([`introduced`]) and scan each blob the first time any worker meets it; (3) keep
//! `(blob, path, commit)` records only for blobs that hold findings; (4) [`provenance`] turns
//! those into findings with commit metadata. Memory is the set of blob ids seen plus the records
//! of blobs with findings; blob contents are never held beyond their scan.
//! Not for the staged index (see [`super::staged`]) nor for reporting.

mod commits;
pub mod introduced;
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
    #[error("{path} is not a git repository{}", if *.searched { " (nor is any parent directory)" } else { "" })]
    NotARepository { path: String, searched: bool },
    #[error("cannot open the git repository at {path}: {message}")]
    Open { path: String, message: String },
    #[error("bad range '{spec}': {message}")]
    Range { spec: String, message: String },
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
            message: "no such file or directory".into(),
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
    let head = repo.head().ok();
    RepositoryInfo {
        uri: origin.unwrap_or_else(|| local.display().to_string()),
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
}

/// Live counters of a history scan; a progress display may read them while it runs.
#[derive(Debug, Default)]
pub struct Counters {
    pub commits_listed: AtomicU64,
    pub commits_done: AtomicU64,
    pub blobs_seen: AtomicU64,
    pub blobs_scanned: AtomicU64,
    pub bytes: AtomicU64,
    large: AtomicU64,
    binary: AtomicU64,
    unreadable: AtomicU64,
    suppressed: AtomicU64,
    gitlinks: AtomicU64,
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
    /// Might hold findings: keep the record.
    Keep,
    Drop,
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
            Some(BlobState::Pending | BlobState::Findings(_)) => Visit::Keep,
            Some(BlobState::Clean | BlobState::Skipped) => Visit::Drop,
        }
    }

    fn finish(&self, oid: Oid, state: BlobState) {
        Self::lock(&self.shards, oid).insert(oid, state);
    }

    /// Findings of every blob that has some (with placeholder paths).
    fn into_findings(self) -> HashMap<Oid, Vec<Finding>> {
        let mut out = HashMap::new();
        for shard in self.shards {
            for (oid, state) in shard
                .into_inner()
                .expect("no panics while holding the lock")
            {
                if let BlobState::Findings(f) = state {
                    out.insert(oid, f);
                }
            }
        }
        out
    }
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
    counters: &'a Counters,
    warn: &'a (dyn Fn(String) + Sync),
}

/// The outcome of a history scan.
pub struct HistoryScan {
    pub findings: Vec<Finding>,
    pub summary: Summary,
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
    let repo_name = repo.path().display().to_string();
    if repo.is_shallow() {
        warn(commits::shallow_note(repo));
    }
    let (commits, excluded) = match selection {
        Selection::All => (commits::all_commits(repo, counters, warn)?, HashSet::new()),
        Selection::Range(spec) => commits::range_commits(repo, spec, counters, warn)?,
    };

    let ctx = Ctx {
        matcher,
        opts,
        max_file_size,
        table: BlobTable::new(excluded),
        counters,
        warn,
    };
    let pool = RepoPool::new(repo.path());
    let records: Vec<Record> = commits
        .par_iter()
        .with_min_len(8)
        .fold(Vec::new, |mut records, &id| {
            let opened = pool.with(|r| process_commit(r, id, &ctx, &mut records));
            if let Err(e) = opened {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                warn(format!("cannot open {repo_name}: {}", e.message()));
            }
            counters.commits_done.fetch_add(1, Ordering::Relaxed);
            records
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    drop(pool);

    let gitlinks = counters.gitlinks.load(Ordering::Relaxed);
    if gitlinks > 0 {
        warn(format!(
            "skipped {gitlinks} submodule entr{}: submodules are not scanned; scan each \
             submodule's repository on its own",
            if gitlinks == 1 { "y" } else { "ies" }
        ));
    }

    let by_blob = ctx.table.into_findings();
    let mut records: Vec<Record> = records
        .into_iter()
        .filter(|r| by_blob.contains_key(&r.blob))
        .collect();
    records.sort();
    records.dedup();
    let mut attributor = provenance::Attributor::new(repo, matcher, opts, max_file_size, by_blob);
    let findings = attributor.attribute(&records, warn);

    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let summary = Summary {
        files_scanned: load(&counters.blobs_scanned),
        bytes_scanned: load(&counters.bytes),
        skipped_large: load(&counters.large),
        skipped_binary: load(&counters.binary),
        unreadable: load(&counters.unreadable) + attributor.unreadable,
        findings: findings.len() as u64,
        suppressed: load(&counters.suppressed),
        commits: Some(commits.len() as u64),
        blobs: Some(load(&counters.blobs_seen)),
        ..Summary::default()
    };
    Ok(HistoryScan { findings, summary })
}

fn process_commit(repo: &Repository, id: Oid, ctx: &Ctx<'_>, records: &mut Vec<Record>) {
    let unreadable = |msg: String| {
        ctx.counters.unreadable.fetch_add(1, Ordering::Relaxed);
        (ctx.warn)(msg);
    };
    let commit = match repo.find_commit(id) {
        Ok(c) => c,
        Err(e) => return unreadable(format!("cannot read commit {id}: {}", e.message())),
    };
    let tree = match commit.tree() {
        Ok(t) => t,
        Err(e) => {
            return unreadable(format!(
                "cannot read tree {} of commit {id}: {}",
                commit.tree_id(),
                e.message()
            ));
        }
    };
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
    let found = introduced::introduced(repo, &tree, &parents);
    ctx.counters
        .gitlinks
        .fetch_add(found.gitlinks, Ordering::Relaxed);
    for (oid, path) in found.unreadable {
        unreadable(format!("cannot read tree {oid} at {path} in commit {id}"));
    }
    for (blob, path) in found.blobs {
        let keep = match ctx.table.visit(blob) {
            Visit::Claimed => {
                let state = scan_one(repo, blob, &path, ctx);
                let keep = matches!(state, BlobState::Findings(_));
                ctx.table.finish(blob, state);
                keep
            }
            Visit::Keep => true,
            Visit::Drop => false,
        };
        if keep {
            records.push(Record {
                blob,
                path,
                commit: id,
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
    if result.findings.is_empty() {
        BlobState::Clean
    } else {
        BlobState::Findings(result.findings)
    }
}
