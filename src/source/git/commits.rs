//! Which commits a history scan covers: everything reachable from the refs, HEAD and every
//! stash entry, or the commits of an `A..B` range together with the blobs present at its
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

/// Every commit reachable from any ref, HEAD, or any stash entry. A walk of our own (not
/// libgit2's revwalk) so that one missing commit costs a warning, not the rest of the history.
pub(super) fn all_commits(
    repo: &Repository,
    counters: &Counters,
    warn: &(dyn Fn(String) + Sync),
) -> Result<Vec<Oid>, GitError> {
    let repo_err = |what, e: git2::Error| GitError::Repo {
        what,
        repo: repo.path().display().to_string(),
        message: e.message().to_string(),
    };
    let mut tips = Vec::new();
    let mut not_commits = 0u64;
    for r in repo
        .references()
        .map_err(|e| repo_err("list references", e))?
    {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                warn(format!("cannot read a reference: {}", e.message()));
                continue;
            }
        };
        // Notes are scanned as notes on the objects they annotate, not as files.
        if r.name_bytes().starts_with(b"refs/notes/") {
            continue;
        }
        match r.peel(ObjectType::Commit) {
            Ok(obj) => tips.push(obj.id()),
            Err(_) => not_commits += 1,
        }
    }
    if let Ok(head) = repo.head()
        && let Ok(obj) = head.peel(ObjectType::Commit)
    {
        tips.push(obj.id());
    }
    // Older stash entries live only in the reflog of refs/stash.
    if let Ok(log) = repo.reflog("refs/stash") {
        tips.extend(log.iter().map(|e| e.id_new()).filter(|id| !id.is_zero()));
    }
    if not_commits > 0 {
        warn(format!(
            "{not_commits} reference(s) point to a tree or blob rather than a commit; not scanned"
        ));
    }

    let mut seen: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = tips.into_iter().filter(|t| seen.insert(*t)).collect();
    let mut commits = Vec::new();
    while let Some(id) = stack.pop() {
        let commit = match repo.find_commit(id) {
            Ok(c) => c,
            Err(e) => {
                counters.unreadable.fetch_add(1, Ordering::Relaxed);
                warn(format!("cannot read commit {id}: {}", e.message()));
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
    Ok(commits)
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
