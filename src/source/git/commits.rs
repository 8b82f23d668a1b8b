//! Which commits a history scan covers: everything reachable from the refs, every worktree's
//! HEAD and every stash entry (plus refs to trees and blobs), or the commits of an `A..B` range together with the blobs present at its
//! boundary (which the range does not report again).

use super::{Counters, GitError, introduced};
use git2::{ObjectType, Oid, Repository, Sort};
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// The note printed for a shallow clone, naming its boundary.
pub(super) fn shallow_note(repo: &Repository) -> String {
    let boundary = std::fs::read_to_string(repo.path().join("shallow")).unwrap_or_default();
    let ids: Vec<&str> = boundary.split_whitespace().collect();
    let shown = match ids.as_slice() {
        [] => "the shallow boundary".to_string(),
        [one] => format!("commit {}", &one[..one.len().min(12)]),
        [one, ..] => format!(
            "commit {} and {} other boundary commits",
            &one[..one.len().min(12)],
            ids.len() - 1
        ),
    };
    format!(
        "shallow clone: history before {shown} is not available; scanning what is there \
         (run `git fetch --unshallow` for a full scan)"
    )
}

/// A ref that names a tree or a blob rather than a commit: scanned as it is, reported under
/// the ref's name.
#[derive(Debug, Clone)]
pub(super) struct RefRoot {
    pub name: String,
    pub oid: Oid,
    pub kind: ObjectType,
}

/// What a full history scan starts from.
pub(super) struct Tips {
    /// Every commit reachable from a ref, a worktree's HEAD or a stash entry.
    pub commits: Vec<Oid>,
    /// Refs to trees and blobs.
    pub roots: Vec<RefRoot>,
}

/// Every commit reachable from any ref, every worktree's HEAD (as `git rev-list --all`), or
/// any stash entry, and the refs that point at trees or blobs. A walk of our own (not
/// libgit2's revwalk) so that one missing commit costs a warning, not the rest of the history.
/// A ref, HEAD or commit that cannot be read is a warning and an `unreadable` count.
pub(super) fn all_commits(
    repo: &Repository,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<Tips, GitError> {
    let repo_err = |what, e: git2::Error| GitError::Repo {
        what,
        repo: repo.path().display().to_string(),
        message: e.message().to_string(),
    };
    let unreadable = |msg: String| {
        counters.unreadable.fetch_add(1, Ordering::Relaxed);
        warn(msg);
    };
    let mut tips = Vec::new();
    let mut roots = Vec::new();
    for r in repo
        .references()
        .map_err(|e| repo_err("list references", e))?
    {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                unreadable(format!("cannot read a reference: {}", e.message()));
                continue;
            }
        };
        // Notes are scanned as notes on the objects they annotate, not as files.
        if r.name_bytes().starts_with(b"refs/notes/") {
            continue;
        }
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        match r.resolve().and_then(|r| r.peel(ObjectType::Any)) {
            Ok(obj) => match obj.kind() {
                Some(ObjectType::Commit) => tips.push(obj.id()),
                Some(kind @ (ObjectType::Tree | ObjectType::Blob)) => roots.push(RefRoot {
                    name,
                    oid: obj.id(),
                    kind,
                }),
                _ => unreadable(format!(
                    "cannot read reference {name}: not a commit, tree or blob"
                )),
            },
            Err(e) => unreadable(format!("cannot read reference {name}: {}", e.message())),
        }
    }
    for (head, from) in worktree_heads(repo, &unreadable) {
        match head {
            Head::Commit(id) => tips.push(id),
            Head::Ref(name) => match repo.find_reference(&name) {
                Ok(r) => match r.peel(ObjectType::Commit) {
                    Ok(obj) => tips.push(obj.id()),
                    Err(e) => unreadable(format!("cannot read {from}: {}", e.message())),
                },
                // A branch not born yet (no commit on it): nothing to scan.
                Err(e) if e.code() == git2::ErrorCode::NotFound => {}
                Err(e) => unreadable(format!("cannot read {from}: {}", e.message())),
            },
        }
    }
    // Older stash entries live only in the reflog of refs/stash.
    if let Ok(log) = repo.reflog("refs/stash") {
        tips.extend(log.iter().map(|e| e.id_new()).filter(|id| !id.is_zero()));
    }
    if !roots.is_empty() {
        warn(format!(
            "{} reference(s) point to a tree or blob rather than a commit; scanned and reported \
             under the reference's name",
            roots.len()
        ));
    }
    Ok(Tips {
        commits: reachable(repo, tips, counters, warn),
        roots,
    })
}

/// Every commit reachable from the named refs or revisions (`--refs`); a name that does not
/// resolve to a commit is an error, never an empty scan.
pub(super) fn ref_commits(
    repo: &Repository,
    names: &[String],
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<Vec<Oid>, GitError> {
    let tips = names
        .iter()
        .map(|name| {
            repo.revparse_single(name)
                .and_then(|o| o.peel(ObjectType::Commit))
                .map(|c| c.id())
                .map_err(|e| GitError::Ref {
                    name: name.clone(),
                    message: e.message().to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(reachable(repo, tips, counters, warn))
}

/// The commits reachable from `tips`, each once; an unreadable one is warned about and its
/// ancestors are not followed.
fn reachable(
    repo: &Repository,
    tips: Vec<Oid>,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Vec<Oid> {
    let unreadable = |msg: String| {
        counters.unreadable.fetch_add(1, Ordering::Relaxed);
        warn(msg);
    };
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = tips.into_iter().filter(|t| seen.insert(*t)).collect();
    let mut commits = Vec::new();
    while let Some(id) = stack.pop() {
        let commit = match repo.find_commit(id) {
            Ok(c) => c,
            Err(e) => {
                unreadable(format!("cannot read commit {id}: {}", e.message()));
                continue;
            }
        };
        commits.push(id);
        counters.commits_listed.fetch_add(1, Ordering::Relaxed);
        for p in commit.parent_ids() {
            if seen.insert(p) {
                stack.push(p);
            }
        }
    }
    commits
}

/// What a worktree's HEAD names.
enum Head {
    Commit(Oid),
    Ref(String),
}

/// The HEAD of the main worktree and of every linked worktree (each has its own, in the common
/// git directory), with a description for warnings. Unreadable ones are reported to
/// `unreadable` and left out.
fn worktree_heads(repo: &Repository, unreadable: &dyn Fn(String)) -> Vec<(Head, String)> {
    let common = repo.commondir();
    let mut files = vec![(common.join("HEAD"), "HEAD".to_string())];
    if let Ok(names) = repo.worktrees() {
        for name in names.iter().flatten().flatten() {
            files.push((
                common.join("worktrees").join(name).join("HEAD"),
                format!("HEAD of worktree {name}"),
            ));
        }
    }
    let mut heads = Vec::new();
    for (file, what) in files {
        let text = match std::fs::read(&file) {
            Ok(t) => t,
            Err(e) => {
                unreadable(format!("cannot read {what} ({}): {e}", file.display()));
                continue;
            }
        };
        let text = String::from_utf8_lossy(&text);
        let text = text.trim();
        match text.strip_prefix("ref:") {
            Some(name) => heads.push((Head::Ref(name.trim().to_string()), what)),
            None => match Oid::from_str(text) {
                Ok(id) => heads.push((Head::Commit(id), what)),
                Err(_) => unreadable(format!("cannot read {what}: not a commit id or a ref")),
            },
        }
    }
    heads
}

/// What a `--range` leaves out: the blobs (and the trees holding them) that existed at the
/// range's boundary (A and the parents of range commits outside the range).
pub(super) struct Boundary {
    pub blobs: HashSet<Oid>,
    pub trees: HashSet<Oid>,
}

/// Commits of `A..B`, and what existed at the range's boundary, which is not reported again.
pub(super) fn range_commits(
    repo: &Repository,
    spec: &str,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<(Vec<Oid>, Boundary), GitError> {
    let range_err = |message: String| GitError::Range {
        spec: spec.to_string(),
        message,
    };
    if spec.contains("...") {
        return Err(range_err("use A..B (two dots), not A...B".into()));
    }
    let rs = repo
        .revparse(spec)
        .map_err(|e| range_err(e.message().into()))?;
    let (Some(from), Some(to)) = (rs.from(), rs.to()) else {
        return Err(range_err("expected A..B".into()));
    };
    let peel = |o: &git2::Object<'_>| {
        o.peel(ObjectType::Commit)
            .map(|c| c.id())
            .map_err(|e| range_err(e.message().into()))
    };
    let (from, to) = (peel(from)?, peel(to)?);
    let mut walk = repo.revwalk().map_err(|e| range_err(e.message().into()))?;
    walk.set_sorting(Sort::NONE)
        .and_then(|_| walk.push(to))
        .and_then(|_| walk.hide(from))
        .map_err(|e| range_err(e.message().into()))?;
    let mut commits = Vec::new();
    for id in walk {
        match id {
            Ok(id) => {
                commits.push(id);
                counters.commits_listed.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                warn(format!("walk of {spec} stopped early: {}", e.message()));
                break;
            }
        }
    }
    let in_range: HashSet<Oid> = commits.iter().copied().collect();
    let mut boundary = vec![from];
    for id in &commits {
        if let Ok(c) = repo.find_commit(*id) {
            boundary.extend(c.parent_ids().filter(|p| !in_range.contains(p)));
        }
    }
    boundary.sort();
    boundary.dedup();
    let mut seen_trees = HashSet::new();
    let mut excluded = HashSet::new();
    for b in boundary {
        let tree = repo.find_commit(b).map(|c| c.tree_id());
        let result = match tree {
            Ok(t) => introduced::all_blobs(repo, t, &mut seen_trees, &mut excluded),
            Err(_) => Err(b),
        };
        if let Err(oid) = result {
            counters.unreadable.fetch_add(1, Ordering::Relaxed);
            warn(format!(
                "cannot read object {oid} at the boundary of {spec}"
            ));
        }
    }
    Ok((
        commits,
        Boundary {
            blobs: excluded,
            trees: seen_trees,
        },
    ))
}
