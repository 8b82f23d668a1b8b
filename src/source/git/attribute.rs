//! Attribution: for the blobs that hold findings only, which commits introduced them and at
//! which paths. Each commit is compared with its parents, descending only into trees that hold
//! such a blob (remembered per tree, so each relevant tree is read once).

use super::history::RepoPool;
use super::introduced;
use super::oidmap::OidMap;
use super::provenance::Record;
use crate::exclude::Excludes;
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::HashSet;

/// The introduction records of the blobs in `wanted`, over every commit in `commits`, at
/// paths `excludes` does not name. `cut_short` hears of each commit whose comparison reached
/// its bound (see [`introduced::MAX_ENTRIES`]).
pub fn records(
    pool: &RepoPool,
    commits: &[Oid],
    wanted: &HashSet<Oid>,
    excludes: &Excludes,
    cannot_open: &(dyn Fn(git2::Error) + Sync),
    cut_short: &(dyn Fn(Oid) + Sync),
) -> Vec<Record> {
    let memo = TreeMemo::new(wanted);
    let mut records = commits
        .par_iter()
        .with_min_len(8)
        .fold(Vec::new, |mut records, &id| {
            match pool.with(|r| attribute_commit(r, id, &memo, excludes, &mut records)) {
                Err(e) => cannot_open(e),
                Ok(true) => cut_short(id),
                Ok(false) => {}
            }
            records
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    records.sort();
    records.dedup();
    records
}

/// Whether a tree holds (at any depth) one of the blobs with findings, remembered per tree so
/// that attribution reads each relevant tree once.
pub struct TreeMemo<'w> {
    pub wanted: &'w HashSet<Oid>,
    known: OidMap<bool>,
}

impl<'w> TreeMemo<'w> {
    pub fn new(wanted: &'w HashSet<Oid>) -> Self {
        TreeMemo {
            wanted,
            known: OidMap::default(),
        }
    }

    fn known(&self, oid: Oid) -> Option<bool> {
        self.known.get(oid)
    }

    fn remember(&self, oid: Oid, found: bool) {
        self.known.set(oid, found);
    }

    /// Whether tree `oid` holds a wanted blob. A post-order walk with an explicit stack, so a
    /// hostile tree nested 100,000 levels deep costs memory, not the thread's stack.
    pub fn holds(&self, repo: &Repository, oid: Oid) -> bool {
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

/// Records of the blobs with findings that commit `id` introduced; true when the comparison
/// was cut short (see [`introduced::MAX_ENTRIES`]).
pub fn attribute_commit(
    repo: &Repository,
    id: Oid,
    memo: &TreeMemo<'_>,
    excludes: &Excludes,
    records: &mut Vec<Record>,
) -> bool {
    // Unreadable objects were reported while discovering; here they only mean no record.
    let Ok(commit) = repo.find_commit(id) else {
        return false;
    };
    let Ok(tree) = commit.tree() else {
        return false;
    };
    let mut parents = Vec::new();
    for pid in commit.parent_ids() {
        // A parent that cannot be read (shallow boundary) leaves the commit compared with the
        // parents that can, or treated as a root.
        if let Ok(t) = repo.find_commit(pid).and_then(|p| p.tree()) {
            if t.id() == tree.id() {
                return false;
            }
            parents.push(t);
        }
    }
    if !memo.holds(repo, tree.id()) && !parents.iter().any(|p| memo.holds(repo, p.id())) {
        return false;
    }
    let relevant = |t| memo.holds(repo, t);
    let found = introduced::introduced_within(repo, &tree, &parents, &relevant, excludes);
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
    found.cut_short
}
