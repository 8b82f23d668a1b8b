//! Provenance: turning "this blob holds these findings" into findings at the paths and commits
//! that introduced them, with the commit's author, date and summary. Runs only for blobs that
//! hold findings, so its per-record work (reading parents' versions of the file) stays small.
//!
//! A finding is *carried over*, not introduced, when the version of the same path in a parent
//! holds the same secret on a line with the same content. Such findings are dropped: editing
//! another line of a file that holds an old token does not report the token again. So is a
//! secret on an identical line of a file the same commit removed elsewhere: a file renamed
//! and edited at once is not a new leak. (Staged scanning applies the same rule against HEAD.)

use super::blob::{BlobRead, read_blob};
use crate::detect::Matcher;
use crate::finding::{CommitInfo, Finding};
use crate::scan::{Hit, Location, ScanOptions, scan_blob};
use git2::{Commit, ObjectType, Oid, Repository, Tree};
use std::collections::{HashMap, HashSet};

/// `blob` entered history at `path` in `commit`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Record {
    pub blob: Oid,
    pub path: Vec<u8>,
    pub commit: Oid,
    /// Blobs with findings that the same commit removed from other paths: a file renamed and
    /// edited at once carries its old secrets over from one of these.
    pub moved_from: Vec<Oid>,
}

/// What identifies a secret on a line: the finding's fingerprint (rule and secret) and the
/// hash of its trimmed line.
pub type CarriedKey = (String, String);

pub fn carried_key(h: &Hit) -> CarriedKey {
    (h.fingerprint.clone(), h.line_hash.clone())
}

/// Turn records into findings.
pub struct Attributor<'r> {
    repo: &'r Repository,
    matcher: &'r Matcher,
    opts: &'r ScanOptions,
    max_file_size: u64,
    by_blob: HashMap<Oid, Vec<Hit>>,
    /// Keys of blobs that were not scanned in the main pass (outside a range) or had none.
    keys: HashMap<Oid, HashSet<CarriedKey>>,
    commits: HashMap<Oid, CommitInfo>,
    /// Objects that could not be read here.
    pub unreadable: u64,
}

impl<'r> Attributor<'r> {
    pub fn new(
        repo: &'r Repository,
        matcher: &'r Matcher,
        opts: &'r ScanOptions,
        max_file_size: u64,
        by_blob: HashMap<Oid, Vec<Hit>>,
    ) -> Self {
        Attributor {
            repo,
            matcher,
            opts,
            max_file_size,
            by_blob,
            keys: HashMap::new(),
            commits: HashMap::new(),
            unreadable: 0,
        }
    }

    /// One finding per secret occurrence, path and introducing commit, sorted for output.
    pub fn attribute(
        &mut self,
        records: &[Record],
        warn: &(dyn Fn(String) + Sync),
    ) -> Vec<Finding> {
        let mut out = Vec::new();
        for r in records {
            let commit = match self.repo.find_commit(r.commit) {
                Ok(c) => c,
                Err(e) => {
                    self.unreadable += 1;
                    warn(format!("cannot read commit {}: {}", r.commit, e.message()));
                    continue;
                }
            };
            let mut carried = self.carried_from_parents(&commit, &r.path);
            for &old in &r.moved_from {
                carried.extend(self.keys_of(old).iter().cloned());
            }
            let info = self
                .commits
                .entry(r.commit)
                .or_insert_with(|| commit_info(&commit))
                .clone();
            let path = String::from_utf8_lossy(&r.path);
            let at = Location {
                commit: Some(&info),
                ..Location::file(&path)
            };
            for h in self.by_blob.get(&r.blob).into_iter().flatten() {
                if !carried.contains(&carried_key(h))
                    && let Some(f) = h.at(&at, self.opts.min_confidence)
                {
                    out.push(f);
                }
            }
        }
        out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        out
    }

    /// Keys of the findings that the parents' versions of `path` already held.
    fn carried_from_parents(&mut self, commit: &Commit<'_>, path: &[u8]) -> HashSet<CarriedKey> {
        let mut carried = HashSet::new();
        for parent in commit.parents() {
            let Ok(tree) = parent.tree() else { continue };
            if let Some(blob) = blob_at(self.repo, tree, path) {
                carried.extend(self.keys_of(blob).iter().cloned());
            }
        }
        carried
    }

    /// Keys of a blob's findings, scanning it now if the main pass did not.
    pub fn keys_of(&mut self, oid: Oid) -> &HashSet<CarriedKey> {
        if !self.keys.contains_key(&oid) {
            let keys = match self.by_blob.get(&oid) {
                Some(found) => found.iter().map(carried_key).collect(),
                None => {
                    let found =
                        read_and_scan(self.repo, oid, self.matcher, self.opts, self.max_file_size);
                    if found.is_err() {
                        self.unreadable += 1;
                    }
                    found.unwrap_or_default().iter().map(carried_key).collect()
                }
            };
            self.keys.insert(oid, keys);
        }
        &self.keys[&oid]
    }
}

/// Scan a blob by id. A blob over the size limit yields no hits.
pub fn read_and_scan(
    repo: &Repository,
    oid: Oid,
    matcher: &Matcher,
    opts: &ScanOptions,
    max_file_size: u64,
) -> Result<Vec<Hit>, git2::Error> {
    match read_blob(repo, oid, max_file_size)? {
        BlobRead::Read(blob) => Ok(scan_blob(matcher, blob.content(), opts).hits),
        BlobRead::TooLarge(_) => Ok(Vec::new()),
    }
}

/// The blob at `path` (`/`-separated) under `tree`, looked up one level at a time
/// (libgit2's own lookup by path recurses once per directory level).
fn blob_at<'r>(repo: &'r Repository, mut tree: Tree<'r>, path: &[u8]) -> Option<Oid> {
    let mut names = path.split(|&b| b == b'/').peekable();
    while let Some(name) = names.next() {
        let (id, kind) = {
            let entry = tree.get_name_bytes(name)?;
            (entry.id(), entry.kind())
        };
        if names.peek().is_none() {
            return (kind == Some(ObjectType::Blob)).then_some(id);
        }
        if kind != Some(ObjectType::Tree) {
            return None;
        }
        tree = repo.find_tree(id).ok()?;
    }
    None
}

/// Commit metadata as findings carry it.
pub fn commit_info(c: &Commit<'_>) -> CommitInfo {
    let author = c.author();
    let when = author.when();
    CommitInfo {
        id: c.id().to_string(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: rfc3339(when.seconds(), when.offset_minutes()),
        summary: c
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
    }
}

/// `2024-03-05T14:07:09+01:00`: seconds since the Unix epoch shown in the author's offset.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// public-domain `civil_from_days` algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        // 2009-02-13T23:31:30Z, the well-known 1234567890.
        assert_eq!(rfc3339(1_234_567_890, 0), "2009-02-13T23:31:30+00:00");
        assert_eq!(rfc3339(1_234_567_890, 90), "2009-02-14T01:01:30+01:30");
        assert_eq!(rfc3339(1_234_567_890, -300), "2009-02-13T18:31:30-05:00");
        // Leap day and the turn of a century.
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00+00:00");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59+00:00");
    }
}
