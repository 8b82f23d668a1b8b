//! Whether a history finding's secret is still in the scanned `HEAD`, and where: a responder
//! removes a secret that is still in the tree (and revokes it), but only revokes and purges one
//! that lives on in history alone. A finding still at `HEAD` is pointed at its place there, so
//! annotations land on lines that exist, and keeps where it was introduced.
//!
//! Reads `HEAD`'s trees only (no blob contents): the blobs of `HEAD` that hold secrets were
//! already scanned with the rest of the history, and their findings are looked up by blob id.

use super::introduced::PathArena;
use crate::exclude::Excludes;
use crate::finding::{AtHead, Finding, Place};
use crate::scan::{Hit, Location};
use git2::{ObjectType, Oid, Repository};
use std::collections::HashMap;

/// Secrets (rule id, fingerprint) at `HEAD` and the findings that stand for each place there.
pub struct HeadSecrets {
    places: HashMap<(String, String), Vec<Finding>>,
}

impl HeadSecrets {
    /// Walk `HEAD`'s tree for the blobs in `by_blob` (blobs with findings, by id), leaving out
    /// what `excludes` names; `None` when `HEAD` is not a commit among `scanned` (then this
    /// scan cannot say what `HEAD` holds) or a tree of it cannot be read (presence is then
    /// unknown, never guessed).
    pub fn collect(
        repo: &Repository,
        scanned: &[Oid],
        by_blob: &HashMap<Oid, Vec<Hit>>,
        excludes: &Excludes,
    ) -> Option<HeadSecrets> {
        let head = repo.head().ok()?.peel_to_commit().ok()?;
        if !scanned.contains(&head.id()) {
            return None;
        }
        let mut places: HashMap<(String, String), Vec<Finding>> = HashMap::new();
        // Paths as (parent, name) links, built into a string only for the blobs that matter:
        // a hostile tree nested 100,000 deep must cost memory in its depth, not its square.
        let mut paths = PathArena::default();
        let mut pending: Vec<(Oid, usize)> = vec![(head.tree_id(), PathArena::ROOT)];
        // Bounded like attribution (see `introduced::MAX_ENTRIES`): past it, a tree naming
        // the same subtrees from countless places leaves presence unknown.
        let mut entries = 0usize;
        while let Some((tree_id, dir)) = pending.pop() {
            let tree = repo.find_tree(tree_id).ok()?;
            entries += tree.len();
            if entries > super::introduced::MAX_ENTRIES {
                return None;
            }
            for entry in tree.iter() {
                let (kind, name) = (entry.kind(), entry.name_bytes());
                let is_tree = kind == Some(ObjectType::Tree);
                let wanted = match kind {
                    Some(ObjectType::Tree) => true,
                    Some(ObjectType::Blob) => by_blob.contains_key(&entry.id()),
                    _ => false,
                };
                if !wanted
                    || !excludes.is_empty() && excludes.excludes(&paths.file(dir, name), is_tree)
                {
                    continue;
                }
                if is_tree {
                    pending.push((entry.id(), paths.child(dir, name)));
                    continue;
                }
                let path = String::from_utf8_lossy(&paths.file(dir, name)).into_owned();
                for h in &by_blob[&entry.id()] {
                    places
                        .entry((h.rule_id.clone(), h.fingerprint.clone()))
                        .or_default()
                        .push(h.place(&Location::file(&path)));
                }
            }
        }
        for v in places.values_mut() {
            v.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        }
        Some(HeadSecrets { places })
    }

    /// Mark each finding from a commit's tree as present at `HEAD` or not; one still there
    /// stays where it was introduced if that place is still at `HEAD`, else moves to its
    /// first place there, and records where it was introduced.
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut() {
            if f.commit.is_none() || f.origin.is_some() || f.unreachable {
                continue;
            }
            let Some(at_head) = self.places.get(&(f.rule_id.clone(), f.fingerprint.clone())) else {
                f.at_head = Some(AtHead::default());
                continue;
            };
            let introduced = Place::of(f);
            // Where it was introduced, when that place is still there; else the first one.
            let first = at_head
                .iter()
                .find(|p| p.path == f.path && p.line == f.line)
                .unwrap_or(&at_head[0]);
            f.path = first.path.clone();
            f.member = first.member.clone();
            f.line = first.line;
            f.column = first.column;
            f.end_line = first.end_line;
            f.end_column = first.end_column;
            f.line_hash = first.line_hash.clone();
            f.at_head = Some(AtHead {
                present: true,
                places: at_head.iter().map(Place::of).collect(),
                introduced: Some(introduced),
            });
        }
    }
}
