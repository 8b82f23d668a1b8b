//! Staged source, for pre-commit hooks: the blobs the next commit will hold (the index, not the
//! work tree) that differ from HEAD, with only the secrets the change adds. Compares the index
//! with HEAD's tree by object id, so the cost follows the staged change, and never looks at the
//! work tree or untracked files. The names of new files and directories are read too
//! ([`names`]).
//!
//! "The index" is the one git is about to commit: `git commit -a`, `git commit <path>`,
//! `--only`, `--include`, `--amend` and `--interactive` hand the hook a temporary index in
//! `GIT_INDEX_FILE` (see githooks(5)), which [`index_path`] names and [`commit_index`] opens.
//! During a merge the next commit has every `MERGE_HEAD` as a parent too, so a blob or line
//! that one of them already holds at the same path is not news (as `patrol git` judges a
//! merge commit).

use crate::detect::Matcher;
use crate::exclude::Excludes;
use crate::finding::{Finding, Summary};
use crate::scan::{Location, ScanOptions, scan_blob};
use crate::source::git::GitError;
use crate::source::git::blob::{BlobRead, over_limit, read_blob};
use crate::source::git::index;
use crate::source::git::provenance::{CarriedKey, carried_key, read_and_scan};
use git2::{Delta, DiffOptions, ErrorCode, FileMode, Index, Oid, Repository, Tree};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

mod compare;
mod names;
#[cfg(test)]
mod tests;

/// The environment variable through which git names the index a commit is made from.
pub const INDEX_ENV: &str = "GIT_INDEX_FILE";

/// The index file the next commit is made from: `GIT_INDEX_FILE` when git set it (relative
/// paths are relative to the top of the work tree, as git runs hooks there), else the
/// repository's own index.
pub fn index_path(repo: &Repository, from_env: Option<&std::ffi::OsStr>) -> PathBuf {
    match from_env.filter(|v| !v.is_empty()).map(PathBuf::from) {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or(repo.path()).join(p),
        None => repo.path().join("index"),
    }
}

/// Open the index the next commit is made from (see [`index_path`]). A missing or unreadable
/// index named by `GIT_INDEX_FILE` is an error, never an empty index that would pass.
pub fn commit_index(repo: &Repository) -> Result<Index, GitError> {
    let from_env = std::env::var_os(INDEX_ENV);
    if from_env.as_deref().is_none_or(|v| v.is_empty()) {
        return repo.index().map_err(|e| GitError::Repo {
            what: "read the index",
            repo: repo.path().display().to_string(),
            message: e.message().to_string(),
        });
    }
    let path = index_path(repo, from_env.as_deref());
    let err = |message: String| GitError::Repo {
        what: "read the index named by GIT_INDEX_FILE",
        repo: path.display().to_string(),
        message,
    };
    if !path.is_file() {
        return Err(err("no such file".into()));
    }
    Index::open(&path).map_err(|e| err(e.message().to_string()))
}

/// The trees of the other parents of the next commit: each `MERGE_HEAD` during a merge.
fn merge_head_trees<'r>(repo: &'r Repository) -> Result<Vec<Tree<'r>>, GitError> {
    let err = |what, message: String| GitError::Repo {
        what,
        repo: repo.path().display().to_string(),
        message,
    };
    let text = match std::fs::read_to_string(repo.path().join("MERGE_HEAD")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(err("read MERGE_HEAD", e.to_string())),
    };
    let ids = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Oid::from_str(l.trim()).map_err(|e| err("read MERGE_HEAD", e.message().into())))
        .collect::<Result<Vec<_>, _>>()?;
    ids.into_iter()
        .map(|id| {
            repo.find_commit(id)
                .and_then(|c| c.tree())
                .map_err(|e| err("read a MERGE_HEAD commit", e.message().into()))
        })
        .collect()
}

/// The blob at `path` in `tree`, if there is one.
fn blob_at(tree: &Tree, path: &Path) -> Option<Oid> {
    tree.get_path(path)
        .ok()
        .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
        .map(|e| e.id())
}

/// `(new blob, the parents' blobs at the same path, path)`; no parent blob means the path is
/// new (or a rename target).
type Arriving = (Oid, Vec<Oid>, String);

/// What the index changes relative to HEAD: the blobs to scan, found without any rule.
pub struct StagedChanges {
    arriving: Vec<Arriving>,
    /// Blobs that leave a path in this change, and the path: one reappearing elsewhere is a
    /// move (unless it left an excluded path).
    leaving: Vec<(Oid, String)>,
}

impl StagedChanges {
    /// How many staged files will be scanned.
    pub fn len(&self) -> usize {
        self.arriving.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arriving.is_empty()
    }

    /// The changes outside what `excludes` names: blobs arriving there are not read, and a
    /// blob leaving there is no move's source.
    fn without(self, excludes: &Excludes) -> (Vec<Arriving>, HashSet<Oid>) {
        let mut arriving = self.arriving;
        arriving.retain(|(_, _, path)| !excludes.excludes_file(path));
        let leaving = self
            .leaving
            .into_iter()
            .filter(|(_, path)| !excludes.excludes_file(path))
            .map(|(oid, _)| oid)
            .collect();
        (arriving, leaving)
    }
}

/// Compare the index of `repo` with HEAD. Needs no matcher, so a caller can build one meanwhile.
///
/// The index file is read directly ([`index::parse`]) and compared with HEAD skipping every
/// directory its cache-tree proves unchanged ([`compare`]); an index that reader does not
/// handle exactly is compared by libgit2 instead, with the same result, only slower.
pub fn staged_changes(repo: &Repository, warn: &dyn Fn(String)) -> Result<StagedChanges, GitError> {
    let repo_err = |what, e: git2::Error| GitError::Repo {
        what,
        repo: repo.path().display().to_string(),
        message: e.message().to_string(),
    };
    // An unborn HEAD (before the first commit) makes everything staged new.
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree().map_err(|e| repo_err("read HEAD", e))?),
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
        Err(e) => return Err(repo_err("read HEAD", e)),
    };
    let merge_trees = merge_head_trees(repo)?;
    let index_file = index_path(repo, std::env::var_os(INDEX_ENV).as_deref());
    let changes = match fast_changes(repo, head_tree.as_ref(), &merge_trees, &index_file) {
        Some(changes) => changes,
        None => libgit2_changes(repo, head_tree.as_ref(), &merge_trees)?,
    };
    Ok(changes.finish(warn))
}

/// The changes found by reading the index file at `path` and skipping what its cache-tree
/// proves unchanged, or `None` when libgit2 must compare instead: the file is missing or
/// unreadable (libgit2 then reports that, or reads the empty index a new repository has),
/// or it is one [`index::parse`] does not handle.
fn fast_changes<'a, 'r>(
    repo: &'r Repository,
    head: Option<&Tree<'r>>,
    merge_trees: &'a [Tree<'r>],
    path: &Path,
) -> Option<Collector<'a, 'r>> {
    let file = std::fs::File::open(path).ok()?;
    // Sized once from the file's length: growing the buffer while reading copies it again.
    let len = file.metadata().ok()?.len().min(index::MAX_INDEX_BYTES + 1);
    let mut data = Vec::with_capacity(usize::try_from(len).ok()? + 1);
    file.take(index::MAX_INDEX_BYTES + 1)
        .read_to_end(&mut data)
        .ok()?;
    let format = repo
        .config()
        .ok()
        .and_then(|c| c.get_string("extensions.objectformat").ok());
    let parsed = index::parse(data, format.as_deref()).ok()?;
    let mut changes = Collector::new(merge_trees);
    compare::compare(repo, head, &parsed, &mut changes).ok()?;
    Some(changes)
}

/// The changes as libgit2's diff of HEAD's tree with the index finds them.
fn libgit2_changes<'a, 'r>(
    repo: &'r Repository,
    head: Option<&Tree<'r>>,
    merge_trees: &'a [Tree<'r>],
) -> Result<Collector<'a, 'r>, GitError> {
    let index = commit_index(repo)?;
    let mut diff_opts = DiffOptions::new();
    diff_opts.skip_binary_check(true).ignore_submodules(true);
    let diff = repo
        .diff_tree_to_index(head, Some(&index), Some(&mut diff_opts))
        .map_err(|e| GitError::Repo {
            what: "compare the index with HEAD",
            repo: repo.path().display().to_string(),
            message: e.message().to_string(),
        })?;
    let mut changes = Collector::new(merge_trees);
    for delta in diff.deltas() {
        let (old, new) = (delta.old_file(), delta.new_file());
        let old_path = old.path_bytes().unwrap_or_default();
        let new_path = new.path_bytes().unwrap_or_default();
        let new_gitlink = new.mode() == FileMode::Commit;
        match delta.status() {
            Delta::Deleted => changes.deleted(old.id(), old_path),
            Delta::Modified => {
                changes.deleted(old.id(), old_path);
                let old_blob = (old.mode() != FileMode::Commit).then(|| old.id());
                changes.arrived(new.id(), new_gitlink, old_blob, new_path);
            }
            Delta::Added | Delta::Typechange | Delta::Copied | Delta::Renamed => {
                changes.arrived(new.id(), new_gitlink, None, new_path)
            }
            Delta::Conflicted => changes.conflicted(new_path),
            _ => {}
        }
    }
    Ok(changes)
}

/// The changes between HEAD and the index as they are found, whichever way they are found,
/// turned into [`StagedChanges`]: warnings wait for [`Collector::finish`], so a comparison
/// abandoned half-way for libgit2's warns nothing twice.
struct Collector<'a, 'r> {
    merge_trees: &'a [Tree<'r>],
    arriving: Vec<Arriving>,
    leaving: Vec<(Oid, String)>,
    conflicts: Vec<String>,
    gitlinks: u64,
}

impl<'a, 'r> Collector<'a, 'r> {
    fn new(merge_trees: &'a [Tree<'r>]) -> Self {
        Collector {
            merge_trees,
            arriving: Vec::new(),
            leaving: Vec::new(),
            conflicts: Vec::new(),
            gitlinks: 0,
        }
    }

    /// HEAD's blob `oid` leaves `path` (deleted, or replaced by another blob).
    fn deleted(&mut self, oid: Oid, path: &[u8]) {
        self.leaving
            .push((oid, String::from_utf8_lossy(path).into_owned()));
    }

    /// Object `oid` arrives at `path`, where HEAD held `old_blob` (if a blob).
    fn arrived(&mut self, oid: Oid, gitlink: bool, old_blob: Option<Oid>, path: &[u8]) {
        if gitlink {
            self.gitlinks += 1;
            return;
        }
        let mut old_blobs: Vec<Oid> = old_blob.into_iter().collect();
        if let Some(p) = path_of(path) {
            old_blobs.extend(self.merge_trees.iter().filter_map(|t| blob_at(t, p)));
        }
        // A mode change alone adds no content, and neither does taking a merged side's file.
        if old_blobs.contains(&oid) {
            return;
        }
        let path = String::from_utf8_lossy(path).into_owned();
        self.arriving.push((oid, old_blobs, path));
    }

    fn conflicted(&mut self, path: &[u8]) {
        self.conflicts.push(format!(
            "{} has merge conflicts; resolve and stage it to scan it",
            String::from_utf8_lossy(path)
        ));
    }

    fn finish(self, warn: &dyn Fn(String)) -> StagedChanges {
        self.conflicts.into_iter().for_each(warn);
        let gitlinks = self.gitlinks;
        if gitlinks > 0 {
            warn(format!(
                "skipped {gitlinks} staged submodule entr{}: submodules are not scanned",
                if gitlinks == 1 { "y" } else { "ies" }
            ));
        }
        StagedChanges {
            arriving: self.arriving,
            leaving: self.leaving,
        }
    }
}

/// A path of the index as a filesystem path, as libgit2 makes one (on Windows only UTF-8
/// converts).
fn path_of(bytes: &[u8]) -> Option<&Path> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes).ok().map(Path::new)
    }
}

/// Scan the blobs of `changes`, keeping only the secrets the change adds. `warn` receives one
/// line per skipped or unreadable blob. Paths the configuration excludes are not read, and a
/// blob leaving one is not a move.
pub fn scan_staged(
    repo: &Repository,
    changes: StagedChanges,
    matcher: &Matcher,
    opts: &ScanOptions,
    max_file_size: u64,
    warn: &dyn Fn(String),
) -> Result<(Vec<Finding>, Summary), GitError> {
    let (arriving, leaving) = changes.without(&opts.excludes);
    let mut old_keys: HashMap<Oid, Vec<CarriedKey>> = HashMap::new();
    let mut summary = Summary::default();
    let mut findings = names::in_new_names(repo, &arriving, matcher, opts, &mut summary);
    for (oid, old_blobs, path) in arriving {
        if old_blobs.is_empty() && leaving.contains(&oid) {
            continue;
        }
        let blob = match read_blob(repo, oid, max_file_size) {
            Ok(BlobRead::Read(blob)) => blob,
            Ok(BlobRead::TooLarge(size)) => {
                summary.skipped_large += 1;
                warn(format!(
                    "skipped {path}: {}",
                    over_limit(size, max_file_size)
                ));
                continue;
            }
            Err(e) => {
                summary.unreadable += 1;
                warn(format!("cannot read blob {oid} ({path}): {}", e.message()));
                continue;
            }
        };
        summary.files_scanned += 1;
        summary.bytes_scanned += blob.content().len() as u64;
        let result = scan_blob(matcher, blob.content(), opts);
        result.add_to(&mut summary);
        result.archive.warnings(&path).for_each(warn);
        if result.hits.is_empty() {
            continue;
        }
        // Keep only secrets on lines the change adds: what HEAD's version already held on
        // an identical line is not news, and neither is what a file deleted in the same
        // change held (a file renamed and edited at once).
        let olds: Vec<Oid> = if old_blobs.is_empty() {
            leaving.iter().copied().collect()
        } else {
            old_blobs
        };
        let mut carried: HashSet<CarriedKey> = HashSet::new();
        for old in olds {
            // Each old blob is read once, however many staged files it is compared with.
            let keys = old_keys.entry(old).or_insert_with(|| {
                match read_and_scan(repo, old, matcher, opts, max_file_size) {
                    Ok(f) => f.iter().map(carried_key).collect(),
                    Err(e) => {
                        summary.unreadable += 1;
                        warn(format!(
                            "cannot read blob {old} (before {path}): {}",
                            e.message()
                        ));
                        Vec::new()
                    }
                }
            });
            carried.extend(keys.iter().cloned());
        }
        let at = Location::file(&path);
        findings.extend(
            result
                .hits
                .iter()
                .filter(|h| !carried.contains(&carried_key(h)))
                .filter_map(|h| h.at(&at, opts.min_confidence)),
        );
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok((findings, summary))
}
