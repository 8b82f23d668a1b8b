//! Which blobs a commit *introduced*, and at which paths: the tree-level comparison of a
//! commit with its parents that lets history scanning report a secret where it entered, once,
//! instead of once per commit that carries it forward. Reads trees only, never blob contents.
//!
//! A blob is introduced at a path when the commit's entry there differs from the entry at that
//! path in **every** parent (a root commit introduces its whole tree; a merge introduces only
//! what none of its parents had). A blob that the same commit removed or replaced elsewhere is a
//! move, not an introduction: a renamed file keeps being reported at the path where it first
//! entered. Unchanged subtrees are skipped by id, so the cost follows the size of the change,
//! not the size of the tree. A path the configuration excludes is treated as absent on both
//! sides: nothing is introduced there, and a blob that leaves it is not moved but new where it
//! lands.

use crate::exclude::Excludes;
use git2::{ObjectType, Oid, Repository, Tree};
use std::collections::HashSet;

/// Tree entries one comparison looks at, at most. Trees are shared by id, so a hostile
/// repository can name one subtree from many places at many depths (a "git bomb": 40 levels
/// of two entries each make 2^40 paths from 80 trees); paths are what attribution reports, so
/// without a bound such a tree would take forever. Real commits look at far fewer: only the
/// directories that hold a blob with a finding are entered.
pub const MAX_ENTRIES: usize = 1_000_000;
/// `(blob, path)` places one comparison reports, at most.
pub const MAX_PLACES: usize = 1_000;

/// What one commit changed, as far as history scanning cares.
#[derive(Debug, Default)]
pub struct Introduced {
    /// `(blob id, repository-relative path)` pairs the commit introduced.
    pub blobs: Vec<(Oid, Vec<u8>)>,
    /// Blobs that left a path in this commit (deleted, replaced or renamed away), when the
    /// commit introduced anything: a renamed-and-edited file's old version is among them.
    pub removed: Vec<Oid>,
    /// The comparison stopped at [`MAX_ENTRIES`] entries or [`MAX_PLACES`] places: `blobs`
    /// holds the places found until then.
    pub cut_short: bool,
}

/// Scratch state of one comparison.
struct Walk<'r> {
    /// Whether a subtree can hold a blob of interest.
    relevant: &'r dyn Fn(Oid) -> bool,
    excludes: &'r Excludes,
    out: Introduced,
    /// Directories that are new at a path: expanded after the removed side is known.
    added_trees: Vec<(Oid, usize)>,
    paths: PathArena,
    /// Directories that left a path: `(tree id, its path in Walk::paths)`.
    removed_trees: Vec<(Oid, usize)>,
    removed_blobs: HashSet<Oid>,
    /// Tree entries looked at so far.
    entries: usize,
}

impl Walk<'_> {
    /// Count one entry looked at; false once the comparison has used up its bound (see
    /// [`MAX_ENTRIES`], [`MAX_PLACES`]), which it then records.
    fn another(&mut self) -> bool {
        self.entries += 1;
        if self.entries > MAX_ENTRIES || self.out.blobs.len() >= MAX_PLACES {
            self.out.cut_short = true;
        }
        !self.out.cut_short
    }

    /// Whether the entry `name` in directory `dir` is excluded (and so treated as absent).
    fn excluded(&self, dir: usize, name: &[u8], kind: Option<ObjectType>) -> bool {
        !self.excludes.is_empty()
            && matches!(kind, Some(ObjectType::Tree | ObjectType::Blob))
            && self
                .excludes
                .excludes(&self.paths.file(dir, name), kind == Some(ObjectType::Tree))
    }
}

/// Compare `tree` with `parents` (the parents' root trees, first parent first), descending
/// only into subtrees for which `relevant` holds (on either side): when only a few blobs
/// matter, the comparison skips every directory that cannot hold them. Paths `excludes`
/// names are treated as absent.
pub fn introduced_within(
    repo: &Repository,
    tree: &Tree<'_>,
    parents: &[Tree<'_>],
    relevant: &dyn Fn(Oid) -> bool,
    excludes: &Excludes,
) -> Introduced {
    let mut walk = Walk {
        relevant,
        excludes,
        out: Introduced::default(),
        added_trees: Vec::new(),
        paths: PathArena::default(),
        removed_trees: Vec::new(),
        removed_blobs: HashSet::new(),
        entries: 0,
    };
    // Changed subtrees still to compare: a stack, not recursion, so that a hostile tree nested
    // 100,000 levels deep cannot overflow the thread's stack.
    let mut pending = vec![(tree.clone(), parents.to_vec(), PathArena::ROOT)];
    while let Some((tree, parents, prefix)) = pending.pop() {
        if walk.out.cut_short {
            break;
        }
        compare(repo, &tree, &parents, prefix, &mut walk, &mut pending);
    }

    let removed_tree_ids: HashSet<Oid> = walk.removed_trees.iter().map(|t| t.0).collect();
    let added_trees = std::mem::take(&mut walk.added_trees);
    for (oid, dir) in added_trees {
        // A directory moved as is: nothing in it is new.
        if !removed_tree_ids.contains(&oid) && !walk.out.cut_short {
            expand(repo, oid, dir, &mut walk, Side::Added);
        }
    }
    if !walk.out.blobs.is_empty() && !parents.is_empty() {
        for (oid, dir) in std::mem::take(&mut walk.removed_trees) {
            expand(repo, oid, dir, &mut walk, Side::Removed);
        }
        let removed = &walk.removed_blobs;
        walk.out.blobs.retain(|(oid, _)| !removed.contains(oid));
        walk.out.removed = walk.removed_blobs.into_iter().collect();
    }
    walk.out
}

/// `prefix/name` (just `name` at the root).
pub fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + 1 + name.len());
    if !prefix.is_empty() {
        p.extend_from_slice(prefix);
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// A changed subtree, its parents' versions and its path (in [`Walk::paths`]): compared later.
type Pending<'r> = (Tree<'r>, Vec<Tree<'r>>, usize);

/// Compare one level: entries of `tree` against the same names in `parents`, pushing changed
/// subtrees onto `pending`.
/// Directory paths of a tree walk as `(parent, name)` links: a walk stores one name per
/// directory instead of one full path per directory, so a tree nested 100,000 levels deep
/// costs memory and time in proportion to its depth, not to the sum of its path lengths.
/// Full paths are built only for what is reported.
#[derive(Debug, Default)]
pub struct PathArena {
    nodes: Vec<(usize, Vec<u8>)>,
}

impl PathArena {
    /// The node of the root directory (empty path).
    pub const ROOT: usize = usize::MAX;

    /// The directory `name` inside `parent`.
    pub fn child(&mut self, parent: usize, name: &[u8]) -> usize {
        self.nodes.push((parent, name.to_vec()));
        self.nodes.len() - 1
    }

    /// The full path of `node`.
    pub fn path(&self, mut node: usize) -> Vec<u8> {
        let mut names = Vec::new();
        while node != Self::ROOT {
            let (parent, name) = &self.nodes[node];
            names.push(name.as_slice());
            node = *parent;
        }
        names.reverse();
        names.join(&b'/')
    }

    /// `path(dir)/name`.
    pub fn file(&self, dir: usize, name: &[u8]) -> Vec<u8> {
        join(&self.path(dir), name)
    }
}

fn compare<'r>(
    repo: &'r Repository,
    tree: &Tree<'r>,
    parents: &[Tree<'r>],
    dir: usize,
    walk: &mut Walk<'_>,
    pending: &mut Vec<Pending<'r>>,
) {
    for entry in tree.iter() {
        if !walk.another() {
            return;
        }
        let name = entry.name_bytes();
        let oid = entry.id();
        let kind = entry.kind();
        if walk.excluded(dir, name, kind) {
            continue;
        }
        let mut parent_subtrees = Vec::new();
        let mut unchanged = false;
        for p in parents {
            if let Some(pe) = p.get_name_bytes(name) {
                if pe.id() == oid && pe.kind() == kind {
                    unchanged = true;
                    break;
                }
                if pe.kind() == Some(ObjectType::Tree) {
                    parent_subtrees.push(pe.id());
                }
            }
        }
        if unchanged
            || (kind == Some(ObjectType::Tree)
                && !(walk.relevant)(oid)
                && !parent_subtrees.iter().any(|&p| (walk.relevant)(p)))
        {
            continue;
        }
        match kind {
            Some(ObjectType::Tree) if parent_subtrees.is_empty() => {
                let sub = walk.paths.child(dir, name);
                walk.added_trees.push((oid, sub));
            }
            Some(ObjectType::Tree) => {
                // Unreadable trees were counted and named when history was first read; here
                // they only mean nothing to compare.
                let subs = parent_subtrees
                    .into_iter()
                    .filter_map(|pid| repo.find_tree(pid).ok())
                    .collect();
                if let Ok(sub) = repo.find_tree(oid) {
                    let sub_dir = walk.paths.child(dir, name);
                    pending.push((sub, subs, sub_dir));
                }
            }
            Some(ObjectType::Blob) => {
                let path = walk.paths.file(dir, name);
                walk.out.blobs.push((oid, path));
            }
            _ => {}
        }
    }
    note_removed(tree, parents, dir, walk);
}

/// What the parents had in directory `dir` and `tree` no longer has at the same path:
/// candidates for the source of a move.
fn note_removed(tree: &Tree<'_>, parents: &[Tree<'_>], dir: usize, walk: &mut Walk<'_>) {
    for p in parents {
        for pe in p.iter() {
            let same = tree
                .get_name_bytes(pe.name_bytes())
                .is_some_and(|e| e.id() == pe.id());
            if same || walk.excluded(dir, pe.name_bytes(), pe.kind()) {
                continue;
            }
            match pe.kind() {
                Some(ObjectType::Blob) => {
                    walk.removed_blobs.insert(pe.id());
                }
                Some(ObjectType::Tree) => {
                    let still_tree = tree
                        .get_name_bytes(pe.name_bytes())
                        .is_some_and(|e| e.kind() == Some(ObjectType::Tree));
                    // A subtree changed in place is compared entry by entry above.
                    if !still_tree && (walk.relevant)(pe.id()) {
                        let sub = walk.paths.child(dir, pe.name_bytes());
                        walk.removed_trees.push((pe.id(), sub));
                    }
                }
                _ => {}
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Added,
    Removed,
}

/// Every blob under a tree, without recursion (deep trees cannot overflow the stack). On the
/// removed side each tree is expanded once, unless excludes make its path matter.
fn expand(repo: &Repository, root: Oid, root_dir: usize, walk: &mut Walk<'_>, side: Side) {
    let mut stack = vec![(root, root_dir)];
    let mut seen_trees = HashSet::new();
    let paths_matter = !walk.excludes.is_empty();
    while let Some((oid, dir)) = stack.pop() {
        if side == Side::Removed && !paths_matter && !seen_trees.insert(oid) {
            continue;
        }
        // Unreadable trees were counted and named when history was first read.
        let Ok(tree) = repo.find_tree(oid) else {
            continue;
        };
        for entry in tree.iter() {
            if !walk.another() {
                return;
            }
            let (kind, name) = (entry.kind(), entry.name_bytes());
            if kind == Some(ObjectType::Tree) && !(walk.relevant)(entry.id())
                || walk.excluded(dir, name, kind)
            {
                continue;
            }
            match (kind, side) {
                (Some(ObjectType::Tree), Side::Removed) if !paths_matter => {
                    stack.push((entry.id(), PathArena::ROOT))
                }
                (Some(ObjectType::Tree), _) => {
                    let sub = walk.paths.child(dir, name);
                    stack.push((entry.id(), sub));
                }
                (Some(ObjectType::Blob), Side::Added) => {
                    let path = walk.paths.file(dir, name);
                    walk.out.blobs.push((entry.id(), path));
                }
                (Some(ObjectType::Blob), Side::Removed) => {
                    walk.removed_blobs.insert(entry.id());
                }
                _ => {}
            }
        }
    }
}

/// Every blob id under `root` (for excluding what existed before a `--range`), skipping trees
/// already in `seen_trees` so that many similar snapshots cost little more than one.
pub fn all_blobs(
    repo: &Repository,
    root: Oid,
    seen_trees: &mut HashSet<Oid>,
    blobs: &mut HashSet<Oid>,
) -> Result<(), Oid> {
    let mut stack = vec![root];
    while let Some(oid) = stack.pop() {
        if !seen_trees.insert(oid) {
            continue;
        }
        let tree = repo.find_tree(oid).map_err(|_| oid)?;
        for entry in tree.iter() {
            match entry.kind() {
                Some(ObjectType::Tree) => stack.push(entry.id()),
                Some(ObjectType::Blob) => {
                    blobs.insert(entry.id());
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
