//! Reading history: every unique tree once, collecting every unique blob once, then reading
//! and scanning those blobs in pack order. Shared by all workers through [`Ctx`].

use super::blob::{BlobRead, over_limit, read_blob};
use super::oidmap::OidMap;
use super::{Counters, introduced, objects, packorder};
use crate::detect::Matcher;
use crate::finding::Finding;
use crate::scan::{Hit, Location, ScanOptions, findings_at, scan_blob};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;

/// What became of a blob that some worker met.
pub enum BlobState {
    /// Nothing to keep yet or ever: claimed by a worker that has not scanned it (or was
    /// stopped), too large, unreadable, or (with a range) already present before the range.
    Unscanned,
    Clean,
    Findings(Vec<Hit>),
}

/// A blob to read, with the path it was first met at (for warnings).
pub type Found = (Oid, Vec<u8>);

/// Everything a worker needs.
pub struct Ctx<'a> {
    pub matcher: &'a Matcher,
    pub opts: &'a ScanOptions,
    pub max_file_size: u64,
    /// Every blob met, and what became of it.
    pub blobs: OidMap<BlobState>,
    /// Every tree walked: each unique tree is read once per scan, however many commits share it.
    pub trees: OidMap<()>,
    /// With `exclude` globs, every tree walked and where: what is excluded beneath a tree
    /// depends on its path, so a tree met at another path is walked again there.
    trees_at: OidMap<HashSet<Box<[u8]>>>,
    /// Blobs met only at excluded paths so far: not read, and not orphans either.
    excluded: OidMap<()>,
    pub counters: &'a Counters,
    pub warn: &'a (dyn Fn(String) + Sync),
    /// Findings that are not in a tree's blob (commit messages).
    pub extra: Mutex<Vec<Finding>>,
    pub known: &'a (dyn Fn(&Oid) -> bool + Sync),
}

impl<'a> Ctx<'a> {
    /// A context in which the blobs and trees of `boundary` count as met already.
    pub fn new(
        matcher: &'a Matcher,
        opts: &'a ScanOptions,
        max_file_size: u64,
        counters: &'a Counters,
        warn: &'a (dyn Fn(String) + Sync),
        known: &'a (dyn Fn(&Oid) -> bool + Sync),
        boundary: super::commits::Boundary,
    ) -> Self {
        let ctx = Ctx {
            matcher,
            opts,
            max_file_size,
            blobs: OidMap::default(),
            trees: OidMap::default(),
            trees_at: OidMap::default(),
            excluded: OidMap::default(),
            counters,
            warn,
            extra: Mutex::new(Vec::new()),
            known,
        };
        for oid in boundary.blobs {
            ctx.blobs.set(oid, BlobState::Unscanned);
        }
        for oid in boundary.trees {
            ctx.trees.set(oid, ());
        }
        ctx
    }

    /// Whether tree `oid` at `path` is walked for the first time (and now claimed).
    fn first_walk(&self, oid: Oid, path: impl FnOnce() -> Vec<u8>) -> bool {
        if self.opts.excludes.is_empty() {
            return self.trees.claim(oid, ());
        }
        // Trees before a range's base count as walked wherever they sit.
        self.trees.get(oid).is_none() && self.trees_at.claim_at(oid, path().into())
    }
}

/// Phase "reading trees": walk every commit's trees in parallel, each unique tree once, and
/// return every blob met for the first time.
pub fn read_trees(
    pool: &RepoPool,
    commits: &[Oid],
    ctx: &Ctx<'_>,
    cannot_open: &(dyn Fn(git2::Error) + Sync),
) -> Vec<Found> {
    commits
        .par_iter()
        .with_min_len(8)
        .fold(Vec::new, |mut found, &id| {
            if crate::interrupt::interrupted() {
                return found;
            }
            if let Err(e) = pool.with(|r| discover(r, id, ctx, &mut found)) {
                cannot_open(e);
            }
            ctx.counters.commits_done.fetch_add(1, Ordering::Relaxed);
            found
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        })
}

/// Phase "scanning blobs": read and scan `blobs` in pack order, in runs of neighbours per
/// worker, so that deltas meet their bases in the delta cache.
pub fn scan_in_pack_order(
    pool: &RepoPool,
    git_dir: &Path,
    mut blobs: Vec<Found>,
    ctx: &Ctx<'_>,
    cannot_open: &(dyn Fn(git2::Error) + Sync),
) {
    let order = packorder::PackOrder::load(git_dir);
    blobs.sort_by_cached_key(|(oid, _)| order.position(*oid));
    drop(order);
    blobs.par_chunks(64).for_each(|run| {
        if crate::interrupt::interrupted() {
            return;
        }
        let scanned = pool.with(|r| {
            for (oid, path) in run {
                let state = scan_one(r, *oid, path, ctx);
                ctx.blobs.set(*oid, state);
            }
        });
        if let Err(e) = scanned {
            cannot_open(e);
        }
    });
}

/// Hits of every blob that has some, and the ids of the blobs
/// scanned clean.
pub fn into_findings(blobs: OidMap<BlobState>) -> (HashMap<Oid, Vec<Hit>>, Vec<Oid>) {
    let mut out = HashMap::new();
    let mut clean = Vec::new();
    for (oid, state) in blobs.into_entries() {
        match state {
            BlobState::Findings(f) => {
                out.insert(oid, f);
            }
            BlobState::Clean => clean.push(oid),
            BlobState::Unscanned => {}
        }
    }
    (out, clean)
}

/// One `Repository` per worker thread: libgit2 handles are not `Sync`, and one handle each
/// means workers never wait on each other's locks inside libgit2.
pub struct RepoPool {
    git_dir: PathBuf,
    slots: Vec<Mutex<Option<Repository>>>,
}

impl RepoPool {
    pub fn new(git_dir: &Path) -> Self {
        RepoPool {
            git_dir: git_dir.to_path_buf(),
            slots: (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(None))
                .collect(),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&Repository) -> R) -> Result<R, git2::Error> {
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

/// Walk the trees of commit `id` that no worker has walked yet, collecting each blob the first
/// time any worker meets it (with the path it was met at, for warnings).
pub fn discover(repo: &Repository, id: Oid, ctx: &Ctx<'_>, found: &mut Vec<(Oid, Vec<u8>)>) {
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
pub fn discover_tree(
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
    let excludes = &ctx.opts.excludes;
    while let Some((oid, dir)) = stack.pop() {
        if !ctx.first_walk(oid, || paths.path(dir)) {
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
            let kind = entry.kind();
            if !excludes.is_empty()
                && matches!(kind, Some(git2::ObjectType::Tree | git2::ObjectType::Blob))
                && excludes.excludes(
                    &paths.file(dir, entry.name_bytes()),
                    kind == Some(git2::ObjectType::Tree),
                )
            {
                if kind == Some(git2::ObjectType::Blob) {
                    ctx.excluded.set(entry.id(), ());
                }
                continue;
            }
            match kind {
                Some(git2::ObjectType::Tree) => {
                    stack.push((entry.id(), paths.child(dir, entry.name_bytes())))
                }
                Some(git2::ObjectType::Blob) => {
                    let blob = entry.id();
                    if ctx.blobs.claim(blob, BlobState::Unscanned) {
                        if (ctx.known)(&blob) {
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

/// Read and scan one blob, first checking its size in the object header.
pub fn scan_one(repo: &Repository, oid: Oid, path: &[u8], ctx: &Ctx<'_>) -> BlobState {
    let c = ctx.counters;
    c.blobs_seen.fetch_add(1, Ordering::Relaxed);
    let unreadable = |e: git2::Error| {
        c.unreadable.fetch_add(1, Ordering::Relaxed);
        (ctx.warn)(format!(
            "cannot read blob {oid} ({}): {}",
            String::from_utf8_lossy(path),
            e.message()
        ));
        BlobState::Unscanned
    };
    let blob = match read_blob(repo, oid, ctx.max_file_size) {
        Ok(BlobRead::Read(blob)) => blob,
        Ok(BlobRead::TooLarge(size)) => {
            c.large.fetch_add(1, Ordering::Relaxed);
            (ctx.warn)(format!(
                "skipped blob {oid} ({}): {}",
                String::from_utf8_lossy(path),
                over_limit(size, ctx.max_file_size)
            ));
            return BlobState::Unscanned;
        }
        Err(e) => return unreadable(e),
    };
    let bytes = blob.content();
    c.blobs_scanned.fetch_add(1, Ordering::Relaxed);
    c.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let result = scan_blob(ctx.matcher, bytes, ctx.opts);
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
        .fetch_add(result.hits.len() as u64, Ordering::Relaxed);
    c.capped.fetch_add(result.capped, Ordering::Relaxed);
    if result.hits.is_empty() {
        BlobState::Clean
    } else {
        BlobState::Findings(result.hits)
    }
}

/// Refs that point at trees or blobs: the blobs under them no commit holds (claimed after
/// every commit's), and the ref each was met under.
pub fn ref_roots(
    pool: &RepoPool,
    roots: &[super::commits::RefRoot],
    ctx: &Ctx<'_>,
    cannot_open: &(dyn Fn(git2::Error) + Sync),
) -> (Vec<Found>, HashMap<Oid, String>) {
    let mut from_refs = Vec::new();
    let mut names = HashMap::new();
    for root in roots {
        let mut found = Vec::new();
        let walked = pool.with(|r| match root.kind {
            git2::ObjectType::Tree => discover_tree(r, root.oid, &root.name, ctx, &mut found),
            _ => {
                if ctx.blobs.claim(root.oid, BlobState::Unscanned) {
                    found.push((root.oid, Vec::new()));
                }
            }
        });
        if let Err(e) = walked {
            cannot_open(e);
        }
        for (oid, path) in found {
            names.insert(oid, root.name.clone());
            from_refs.push((oid, path));
        }
    }
    (from_refs, names)
}

/// Scan the blobs [`ref_roots`] found; their findings are named `ref:path` as git spells an
/// object inside a tree (a blob's ref alone).
pub fn scan_ref_blobs(
    pool: &RepoPool,
    from_refs: &[Found],
    names: &HashMap<Oid, String>,
    ctx: &Ctx<'_>,
    cannot_open: &(dyn Fn(git2::Error) + Sync),
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let scanned = pool.with(|r| {
        for (oid, path) in from_refs {
            if let BlobState::Findings(found) = scan_one(r, *oid, path, ctx) {
                let name = &names[oid];
                let shown = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{name}:{}", String::from_utf8_lossy(path))
                };
                let at = Location::file(&shown);
                findings.extend(findings_at(&found, &at, ctx.opts));
            }
            ctx.blobs.set(*oid, BlobState::Clean);
        }
    });
    if let Err(e) = scanned {
        cannot_open(e);
    }
    findings
}

/// With `--all-objects`: the blobs in the object database that no tree or note holds, added to
/// `blobs` to be scanned on their own. Returns their ids.
pub fn claim_orphans(
    odb: &objects::OdbObjects,
    notes: &objects::NotesHistory,
    ctx: &Ctx<'_>,
    blobs: &mut Vec<Found>,
) -> HashSet<Oid> {
    let note_blobs: HashSet<Oid> = notes.blobs.iter().map(|(b, _)| *b).collect();
    let mut orphans = HashSet::new();
    for &b in &odb.blobs {
        if !note_blobs.contains(&b)
            && ctx.excluded.get(b).is_none()
            && ctx.blobs.claim(b, BlobState::Unscanned)
        {
            orphans.insert(b);
            blobs.push((b, Vec::new()));
        }
    }
    orphans
}
