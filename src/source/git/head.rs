//! Whether a history finding's secret is still in the scanned `HEAD`, and where: a responder
//! removes a secret that is still in the tree (and revokes it), but only revokes and purges one
//! that lives on in history alone. A finding still at `HEAD` is pointed at its place there, so
//! annotations land on lines that exist, and keeps where it was introduced.
//!
//! Reads `HEAD`'s trees only (no blob contents): the blobs of `HEAD` that hold secrets were
//! already scanned with the rest of the history, and their findings are looked up by blob id.

use crate::finding::{AtHead, Finding, Place};
use git2::{ObjectType, Oid, Repository};
use std::collections::HashMap;

/// Secrets (rule id, fingerprint) at `HEAD` and the findings that stand for each place there.
pub struct HeadSecrets {
    places: HashMap<(String, String), Vec<Finding>>,
}

impl HeadSecrets {
    /// Walk `HEAD`'s tree for the blobs in `by_blob` (blobs with findings, by id); `None` when
    /// `HEAD` is not a commit among `scanned` (then this scan cannot say what `HEAD` holds) or
    /// a tree of it cannot be read (presence is then unknown, never guessed).
    pub fn collect(
        repo: &Repository,
        scanned: &[Oid],
        by_blob: &HashMap<Oid, Vec<Finding>>,
    ) -> Option<HeadSecrets> {
        let head = repo.head().ok()?.peel_to_commit().ok()?;
        if !scanned.contains(&head.id()) {
            return None;
        }
        let mut places: HashMap<(String, String), Vec<Finding>> = HashMap::new();
        // Paths as (parent, name) links, built into a string only for the blobs that matter:
        // a hostile tree nested 100,000 deep must cost memory in its depth, not its square.
        let mut names: Vec<(Option<usize>, Vec<u8>)> = Vec::new();
        let mut pending: Vec<(Oid, Option<usize>)> = vec![(head.tree_id(), None)];
        while let Some((tree_id, dir)) = pending.pop() {
            let tree = repo.find_tree(tree_id).ok()?;
            for entry in tree.iter() {
                match entry.kind() {
                    Some(ObjectType::Tree) => {
                        names.push((dir, entry.name_bytes().to_vec()));
                        pending.push((entry.id(), Some(names.len() - 1)));
                    }
                    Some(ObjectType::Blob) => {
                        let Some(found) = by_blob.get(&entry.id()) else {
                            continue;
                        };
                        let path = path_of(&names, dir, entry.name_bytes());
                        for f in found {
                            let mut at = f.clone();
                            at.set_file_path(&path);
                            places
                                .entry((f.rule_id.clone(), f.fingerprint.clone()))
                                .or_default()
                                .push(at);
                        }
                    }
                    _ => {}
                }
            }
        }
        for v in places.values_mut() {
            v.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        }
        Some(HeadSecrets { places })
    }

    /// Mark each finding from a commit's tree as present at `HEAD` or not; one still there
    /// moves to its first place at `HEAD` and records where it was introduced.
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
            let first = &at_head[0];
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

fn path_of(names: &[(Option<usize>, Vec<u8>)], mut dir: Option<usize>, name: &[u8]) -> String {
    let mut parts: Vec<&[u8]> = vec![name];
    while let Some(i) = dir {
        parts.push(&names[i].1);
        dir = names[i].0;
    }
    parts.reverse();
    String::from_utf8_lossy(&parts.join(&b'/')).into_owned()
}
