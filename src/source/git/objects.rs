//! History beyond the files: commit messages, annotated tag messages, git notes, and (for
//! `--all-objects`) the objects in the object database that no ref reaches any more.
//!
//! Text that is not a file still gets a repository-relative path, because SARIF consumers
//! (GitHub code scanning, the Azure DevOps Scans tab) need one for every result: a pseudo path
//! under `.git/`, which git never tracks, so it can never be mistaken for a file of the work
//! tree (see docs/history.md). Not for: blobs of trees (see the parent module).

use super::provenance::commit_info;
use crate::detect::Matcher;
use crate::finding::{CommitInfo, Finding};
use crate::scan::{Location, ScanOptions, scan_blob};
use git2::{ObjectType, Oid, Repository};
use std::collections::{BTreeSet, HashSet};

/// Where a commit's message is reported.
pub fn message_path(commit: Oid) -> String {
    format!(".git/message/{commit}")
}

/// Where an annotated tag's message is reported.
pub fn tag_path(name: &str) -> String {
    format!(".git/tag/{name}")
}

/// Where a note on `object` is reported.
pub fn note_path(object: &str) -> String {
    format!(".git/notes/{object}")
}

/// Where a blob that no commit holds is reported: where git keeps it as a loose object.
pub fn object_path(blob: Oid) -> String {
    let hex = blob.to_string();
    format!(".git/objects/{}/{}", &hex[..2], &hex[2..])
}

/// Scan git text (a message or a note) and name its findings.
pub fn scan_git_text(
    matcher: &Matcher,
    opts: &ScanOptions,
    bytes: &[u8],
    path: &str,
    origin: &'static str,
    commit: Option<&CommitInfo>,
) -> Vec<Finding> {
    let at = Location {
        commit,
        origin: Some(origin),
        ..Location::file(path)
    };
    scan_blob(matcher, bytes, opts).findings_at(&at, opts)
}

/// The findings in a commit's message.
pub fn message_findings(
    matcher: &Matcher,
    opts: &ScanOptions,
    commit: &git2::Commit<'_>,
) -> Vec<Finding> {
    let result = scan_blob(matcher, commit.message_raw_bytes(), opts);
    if result.hits.is_empty() {
        return Vec::new();
    }
    let info = commit_info(commit);
    let path = message_path(commit.id());
    let at = Location {
        commit: Some(&info),
        origin: Some("commit_message"),
        ..Location::file(&path)
    };
    result.findings_at(&at, opts)
}

/// The objects of the object database, by kind (each listed once).
#[derive(Default)]
pub struct OdbObjects {
    pub commits: Vec<Oid>,
    pub blobs: Vec<Oid>,
    pub tags: Vec<Oid>,
}

/// Every object in the object database, loose and packed, reachable or not.
pub fn odb_objects(
    repo: &Repository,
    warn: &(dyn Fn(String) + Sync),
) -> Result<(OdbObjects, u64), git2::Error> {
    let odb = repo.odb()?;
    let mut all: BTreeSet<Oid> = BTreeSet::new();
    odb.foreach(|oid| {
        all.insert(*oid);
        true
    })?;
    let mut out = OdbObjects::default();
    let mut unreadable = 0;
    for oid in all {
        match odb.read_header(oid) {
            Ok((_, ObjectType::Commit)) => out.commits.push(oid),
            Ok((_, ObjectType::Blob)) => out.blobs.push(oid),
            Ok((_, ObjectType::Tag)) => out.tags.push(oid),
            Ok(_) => {}
            Err(e) => {
                unreadable += 1;
                warn(format!("cannot read object {oid}: {}", e.message()));
            }
        }
    }
    Ok((out, unreadable))
}

/// Annotated tag objects that refs point to.
pub fn referenced_tags(repo: &Repository) -> Vec<Oid> {
    let Ok(refs) = repo.references_glob("refs/tags/*") else {
        return Vec::new();
    };
    let mut tags: Vec<Oid> = refs
        .flatten()
        .filter_map(|r| r.target())
        .filter(|&oid| repo.find_tag(oid).is_ok())
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// The findings in annotated tag messages, reported with the commit each tag points to;
/// tags not in `referenced` are unreachable.
pub fn tag_findings(
    repo: &Repository,
    matcher: &Matcher,
    opts: &ScanOptions,
    tags: &[Oid],
    referenced: &HashSet<Oid>,
    warn: &(dyn Fn(String) + Sync),
) -> (Vec<Finding>, u64) {
    let mut out = Vec::new();
    let mut unreadable = 0;
    for &oid in tags {
        let tag = match repo.find_tag(oid) {
            Ok(t) => t,
            Err(e) => {
                unreadable += 1;
                warn(format!("cannot read tag {oid}: {}", e.message()));
                continue;
            }
        };
        let Some(message) = tag.message_bytes() else {
            continue;
        };
        let name = String::from_utf8_lossy(tag.name_bytes()).into_owned();
        let commit = tag
            .target()
            .ok()
            .and_then(|t| t.peel_to_commit().ok())
            .map(|c| commit_info(&c));
        let mut found = scan_git_text(
            matcher,
            opts,
            message,
            &tag_path(&name),
            "tag_message",
            commit.as_ref(),
        );
        for f in &mut found {
            f.unreachable = !referenced.contains(&oid);
        }
        out.extend(found);
    }
    (out, unreadable)
}

/// What the notes refs (`refs/notes/*`) hold, across the notes' own history.
#[derive(Default)]
pub struct NotesHistory {
    /// `(note blob, id of the object it annotates)`.
    pub blobs: BTreeSet<(Oid, String)>,
    /// The notes refs' own commits (bookkeeping, not history of the project's files).
    pub commits: HashSet<Oid>,
}

/// Walk every notes ref and its history.
pub fn notes_history(repo: &Repository) -> NotesHistory {
    let mut out = BTreeSet::new();
    let Ok(refs) = repo.references_glob("refs/notes/*") else {
        return NotesHistory::default();
    };
    let mut seen_commits: HashSet<Oid> = HashSet::new();
    let mut seen_trees: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = refs
        .flatten()
        .filter_map(|r| r.peel(ObjectType::Commit).ok().map(|c| c.id()))
        .collect();
    while let Some(id) = stack.pop() {
        if !seen_commits.insert(id) {
            continue;
        }
        let Ok(commit) = repo.find_commit(id) else {
            continue;
        };
        stack.extend(commit.parent_ids());
        // Notes trees fan out by the annotated id's leading digits (`ab/cdef…`).
        let mut trees = vec![(commit.tree_id(), String::new())];
        while let Some((tree_id, prefix)) = trees.pop() {
            if !seen_trees.insert(tree_id) {
                continue;
            }
            let Ok(tree) = repo.find_tree(tree_id) else {
                continue;
            };
            for entry in tree.iter() {
                let name = format!("{prefix}{}", String::from_utf8_lossy(entry.name_bytes()));
                match entry.kind() {
                    Some(ObjectType::Tree) => trees.push((entry.id(), name)),
                    Some(ObjectType::Blob) => {
                        out.insert((entry.id(), name));
                    }
                    _ => {}
                }
            }
        }
    }
    NotesHistory {
        blobs: out,
        commits: seen_commits,
    }
}

/// The findings in git notes, each reported as a note on the object it annotates (with that
/// commit's metadata when it is a commit).
pub fn note_findings(
    repo: &Repository,
    notes: &NotesHistory,
    matcher: &Matcher,
    opts: &ScanOptions,
    max_file_size: u64,
    warn: &(dyn Fn(String) + Sync),
) -> (Vec<Finding>, u64) {
    let mut out = Vec::new();
    let mut unreadable = 0;
    for (blob, annotated) in &notes.blobs {
        let blob = *blob;
        let content = repo.odb().and_then(|odb| {
            let (size, _) = odb.read_header(blob)?;
            if size as u64 > max_file_size {
                return Ok(None);
            }
            repo.find_blob(blob).map(|b| Some(b.content().to_vec()))
        });
        let bytes = match content {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                unreadable += 1;
                warn(format!(
                    "cannot read note {blob} on {annotated}: {}",
                    e.message()
                ));
                continue;
            }
        };
        let commit = Oid::from_str(annotated)
            .ok()
            .and_then(|id| repo.find_commit(id).ok())
            .map(|c| commit_info(&c));
        out.extend(scan_git_text(
            matcher,
            opts,
            &bytes,
            &note_path(annotated),
            "note",
            commit.as_ref(),
        ));
    }
    (out, unreadable)
}
