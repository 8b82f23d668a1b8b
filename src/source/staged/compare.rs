//! HEAD's tree compared with a parsed index file, finding what libgit2's
//! `diff_tree_to_index` finds (with submodules ignored, and no rename or type-change
//! detection) without reading what the cache-tree proves unchanged: a directory whose
//! cache-tree node is valid and names the tree HEAD has there holds the same files in the
//! index, so neither its HEAD trees nor its index entries are looked at.
//!
//! Both sides are sequences sorted by full path, HEAD's produced by an explicit stack of
//! trees; they are merged as libgit2 merges its iterators, and each pair is judged by
//! libgit2's rules (see `matched`). Anything libgit2 would order or judge differently (a tree
//! out of order, a mode git does not write) stops the comparison with [`Fallback`], and the
//! caller asks libgit2.

use super::Collector;
use crate::source::git::index::{CacheTree, Entry, IndexFile, NodeId};
use git2::{Oid, Repository, Tree};
use std::cmp::Ordering;
use std::ops::Range;

/// The comparison cannot promise libgit2's answer: let libgit2 compare.
#[derive(Debug)]
pub(super) struct Fallback;

const TYPE_MASK: u32 = 0o170000;
const TREE: u32 = 0o040000;
const GITLINK: u32 = 0o160000;
const FILE_MODES: [u32; 4] = [0o100644, 0o100755, 0o120000, GITLINK];

fn is_gitlink(mode: u32) -> bool {
    mode & TYPE_MASK == GITLINK
}

/// Compare `head` (none before the first commit) with `index`, telling `changes`.
pub(super) fn compare(
    repo: &Repository,
    head: Option<&Tree>,
    index: &IndexFile,
    changes: &mut Collector,
) -> Result<(), Fallback> {
    let mut walk = HeadWalk {
        repo,
        index,
        stack: Vec::new(),
        dir: Vec::new(),
    };
    if let Some(head) = head {
        let root = index.cache_tree.as_ref().map(|_| CacheTree::ROOT);
        if walk.unchanged(root, head.id(), b"").is_some() {
            return Ok(());
        }
        walk.stack.push(Frame {
            tree: head.clone(),
            next: 0,
            dir_len: 0,
            node: root,
        });
    }
    let entries = index.entries();
    let mut at = 0;
    while let Some(old) = walk.next()? {
        match old {
            Old::Same(range) => {
                while at < range.start {
                    at = added(index, at, changes)?;
                }
                if at != range.start {
                    return Err(Fallback);
                }
                at = range.end;
            }
            Old::File { path, mode, oid } => loop {
                let Some(entry) = entries.get(at) else {
                    changes.deleted(oid, &path);
                    break;
                };
                match index.path(entry).cmp(&path) {
                    Ordering::Less => at = added(index, at, changes)?,
                    Ordering::Equal => {
                        matched(oid, mode, entry, &path, changes)?;
                        at = next_entry(index, at);
                        break;
                    }
                    Ordering::Greater => {
                        changes.deleted(oid, &path);
                        break;
                    }
                }
            },
        }
    }
    while at < entries.len() {
        at = added(index, at, changes)?;
    }
    Ok(())
}

/// The entry after `at`, passing over the other stages of a conflict (libgit2 reports a
/// conflicted path once).
fn next_entry(index: &IndexFile, at: usize) -> usize {
    let entries = index.entries();
    let conflict = |e: &Entry| e.stage() > 0;
    let mut next = at + 1;
    while next < entries.len()
        && conflict(&entries[at])
        && conflict(&entries[next])
        && index.path(&entries[at]) == index.path(&entries[next])
    {
        next += 1;
    }
    next
}

fn oid(entry: &Entry) -> Result<Oid, Fallback> {
    Oid::from_bytes(&entry.oid).map_err(|_| Fallback)
}

/// Entry `at` has no file at its path in HEAD. libgit2 drops an entry marked
/// assume-unchanged here (and only here).
fn added(index: &IndexFile, at: usize, changes: &mut Collector) -> Result<usize, Fallback> {
    let entry = &index.entries()[at];
    let path = index.path(entry);
    if entry.assume_valid() {
        return Ok(next_entry(index, at));
    }
    if entry.stage() > 0 {
        changes.conflicted(path);
    } else {
        changes.arrived(oid(entry)?, is_gitlink(entry.mode), None, path);
    }
    Ok(next_entry(index, at))
}

/// HEAD's file (`head_oid`, `head_mode`) and the index's `entry` share `path`.
fn matched(
    head_oid: Oid,
    head_mode: u32,
    entry: &Entry,
    path: &[u8],
    changes: &mut Collector,
) -> Result<(), Fallback> {
    let new = oid(entry)?;
    if entry.stage() > 0 {
        changes.conflicted(path);
    } else if head_mode & TYPE_MASK != entry.mode & TYPE_MASK {
        // A change of kind is a deletion and an addition, not a modification.
        changes.deleted(head_oid, path);
        if !entry.assume_valid() {
            changes.arrived(new, is_gitlink(entry.mode), None, path);
        }
    } else if head_oid == new && head_mode == entry.mode && !head_oid.is_zero() {
        // unchanged
    } else if is_gitlink(entry.mode) {
        // a submodule moved to another commit: submodules are ignored
    } else {
        changes.deleted(head_oid, path);
        let old_blob = (!is_gitlink(head_mode)).then_some(head_oid);
        changes.arrived(new, false, old_blob, path);
    }
    Ok(())
}

/// What a tree entry sorts as in git's tree order: its name, with a '/' for a tree.
fn tree_order(name: &[u8], mode: i32) -> impl Iterator<Item = u8> + '_ {
    let slash = (mode == TREE as i32).then_some(b'/');
    name.iter().copied().chain(slash)
}

/// One item of HEAD's side, in path order.
enum Old {
    File {
        path: Vec<u8>,
        mode: u32,
        oid: Oid,
    },
    /// A directory the cache-tree proves unchanged, and the index entries under it.
    Same(Range<usize>),
}

/// A tree being read: its next entry, and where its directory's path ends in
/// [`HeadWalk::dir`] (for the parent, to which the walk returns).
struct Frame<'r> {
    tree: Tree<'r>,
    next: usize,
    dir_len: usize,
    node: Option<NodeId>,
}

/// HEAD's files in path order, read tree by tree with an explicit stack.
struct HeadWalk<'a, 'r> {
    repo: &'r Repository,
    index: &'a IndexFile,
    stack: Vec<Frame<'r>>,
    /// The path of the innermost tree being read, with a trailing slash (empty at the top).
    dir: Vec<u8>,
}

impl HeadWalk<'_, '_> {
    /// The index entries under directory `dir` when the cache-tree `node` proves them the
    /// files of HEAD's tree `head`: valid, naming that tree, covering exactly the entries
    /// under `dir`, none of them a conflict or an intent to add.
    fn unchanged(&self, node: Option<NodeId>, head: Oid, dir: &[u8]) -> Option<Range<usize>> {
        let (count, oid) = self.index.cache_tree.as_ref()?.valid(node?)?;
        if oid != head.as_bytes() {
            return None;
        }
        let range = self.index.under(dir);
        (range.len() == count && self.index.all_regular(&range)).then_some(range)
    }

    /// The next entry of the innermost tree (id, name, mode, cache-tree node of the tree),
    /// or `None` when that tree is done (and left).
    #[allow(clippy::type_complexity)]
    fn next_entry(&mut self) -> Result<Option<(Oid, Vec<u8>, u32, Option<NodeId>)>, Fallback> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(None);
        };
        let at = frame.next;
        let Some(entry) = frame.tree.get(at) else {
            self.dir.truncate(frame.dir_len);
            self.stack.pop();
            return Ok(None);
        };
        frame.next += 1;
        let mode = u32::try_from(entry.filemode_raw()).map_err(|_| Fallback)?;
        // libgit2 sorts each tree's entries, a directory as if its name ended in '/';
        // a tree stored in another order would be merged differently here.
        if let Some(previous) = at.checked_sub(1).and_then(|i| frame.tree.get(i)) {
            let previous = tree_order(previous.name_bytes(), previous.filemode_raw());
            if previous.cmp(tree_order(entry.name_bytes(), entry.filemode_raw())) != Ordering::Less
            {
                return Err(Fallback);
            }
        }
        Ok(Some((
            entry.id(),
            entry.name_bytes().to_vec(),
            mode,
            frame.node,
        )))
    }

    fn next(&mut self) -> Result<Option<Old>, Fallback> {
        loop {
            let Some((id, name, mode, node)) = self.next_entry()? else {
                if self.stack.is_empty() {
                    return Ok(None);
                }
                continue;
            };
            let mut path = self.dir.clone();
            path.extend_from_slice(&name);
            if mode & TYPE_MASK == TREE {
                if mode != TREE {
                    return Err(Fallback);
                }
                let child = node.zip(self.index.cache_tree.as_ref());
                let child = child.and_then(|(n, cache)| cache.child(n, &name));
                if let Some(range) = self.unchanged(child, id, &path) {
                    return Ok(Some(Old::Same(range)));
                }
                let tree = self.repo.find_tree(id).map_err(|_| Fallback)?;
                let dir_len = self.dir.len();
                self.dir = path;
                self.dir.push(b'/');
                self.stack.push(Frame {
                    tree,
                    next: 0,
                    dir_len,
                    node: child,
                });
                continue;
            }
            if !FILE_MODES.contains(&mode) {
                return Err(Fallback);
            }
            return Ok(Some(Old::File {
                path,
                mode,
                oid: id,
            }));
        }
    }
}
