//! Names the change adds. A token pasted into a file or directory name is committed like
//! content, and `patrol scan` reads names (origin `file_name`); so does `staged`, for each
//! component of a new path that `HEAD` does not hold at that place (a directory that already
//! exists is not news), each once however many new files it holds.

use super::Arriving;
use crate::detect::Matcher;
use crate::finding::{Finding, Summary};
use crate::scan::{ScanOptions, name_findings};
use git2::Repository;
use std::collections::HashSet;
use std::path::Path;

/// The findings in the names the `arriving` blobs' new paths add to `HEAD` (every name is new
/// before the first commit).
pub fn in_new_names(
    repo: &Repository,
    arriving: &[Arriving],
    matcher: &Matcher,
    opts: &ScanOptions,
    summary: &mut Summary,
) -> Vec<Finding> {
    // A path where HEAD (or a merged parent) had a blob is not new.
    let paths: Vec<&str> = arriving
        .iter()
        .filter(|(_, old_blobs, _)| old_blobs.is_empty())
        .map(|(_, _, path)| path.as_str())
        .collect();
    if paths.is_empty() {
        return Vec::new();
    }
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let head = head.as_ref();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut found = Vec::new();
    for path in paths {
        let ends = path.match_indices('/').map(|(i, _)| i);
        for end in ends.chain(std::iter::once(path.len())) {
            let place = &path[..end];
            if place.is_empty() || !seen.insert(place) {
                continue;
            }
            if head.is_some_and(|t| t.get_path(Path::new(place)).is_ok()) {
                continue;
            }
            let name = place.rsplit('/').next().unwrap_or(place);
            let at = || place.to_string();
            let (hits, suppressed) = name_findings(matcher, name.as_bytes(), "file_name", at, opts);
            summary.suppressed += suppressed;
            found.extend(hits);
        }
    }
    found
}
