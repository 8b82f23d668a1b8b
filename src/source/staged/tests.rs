//! The cache-tree comparison against libgit2's diff, on repositories real git builds.

use super::*;
use crate::source::git::index::tests::{git_in, git_with};
use std::collections::BTreeMap;

/// A small deterministic generator (xorshift), so a failing seed can be rerun.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// Names that sort around '/' in every way git orders specially ("a" as a directory sorts
/// after "a-b" and "a.b", as a file before them).
const NAMES: [&str; 6] = ["a", "a.b", "a-b", "ab", "b", "c"];
const MODES: [&str; 2] = ["100644", "100755"];

/// path -> (mode, object id) of stage-0 entries or tree files.
type Files = BTreeMap<String, (String, String)>;

fn random_path(rng: &mut Rng) -> String {
    let depth = 1 + rng.below(3);
    let parts: Vec<&str> = (0..depth).map(|_| NAMES[rng.below(NAMES.len())]).collect();
    parts.join("/")
}

/// Whether `path` can join `files` without a file and a directory sharing a name.
fn fits(files: &Files, path: &str) -> bool {
    files.keys().all(|p| {
        p != path && !p.starts_with(&format!("{path}/")) && !path.starts_with(&format!("{p}/"))
    })
}

/// A random (mode, id): mostly regular files, sometimes a symbolic link or a submodule.
fn random_object(rng: &mut Rng, blobs: &[String]) -> (String, String) {
    let blob = blobs[rng.below(blobs.len())].clone();
    match rng.below(10) {
        0 => ("120000".into(), blob),
        1 => ("160000".into(), format!("{:040x}", rng.below(1 << 30) + 1)),
        _ => (MODES[rng.below(2)].into(), blob),
    }
}

fn index_info(files: &Files) -> String {
    files
        .iter()
        .map(|(p, (m, o))| format!("{m} {o}\t{p}\n"))
        .collect()
}

const ZERO: &str = "0000000000000000000000000000000000000000";

/// Change `files` at random: adds, edits, deletions, mode and kind changes, files becoming
/// directories and directories becoming files.
fn mutate(rng: &mut Rng, files: &mut Files, blobs: &[String]) {
    for _ in 0..1 + rng.below(6) {
        let existing: Vec<String> = files.keys().cloned().collect();
        let some = |rng: &mut Rng| existing.get(rng.below(existing.len().max(1))).cloned();
        match rng.below(7) {
            0 | 1 => {
                let path = random_path(rng);
                if fits(files, &path) {
                    files.insert(path, random_object(rng, blobs));
                }
            }
            2 => {
                if let Some(p) = some(rng) {
                    let blob = blobs[rng.below(blobs.len())].clone();
                    files.entry(p).and_modify(|e| e.1 = blob);
                }
            }
            3 => {
                if let Some(p) = some(rng) {
                    files.remove(&p);
                }
            }
            4 => {
                if let Some(p) = some(rng) {
                    files.insert(p, random_object(rng, blobs));
                }
            }
            5 => {
                if let Some(p) = some(rng) {
                    files.remove(&p);
                    let inner = format!("{p}/{}", NAMES[rng.below(NAMES.len())]);
                    files.insert(inner, random_object(rng, blobs));
                }
            }
            _ => {
                if let Some(dir) =
                    some(rng).and_then(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
                {
                    files.retain(|p, _| !p.starts_with(&format!("{dir}/")));
                    files.insert(dir, random_object(rng, blobs));
                }
            }
        }
    }
}

/// The lines that turn the index holding `from` into one holding `to`, removals first (a
/// file must leave before a directory of its name arrives).
fn changes_between(from: &Files, to: &Files) -> String {
    let gone = from.keys().filter(|p| !to.contains_key(*p));
    let mut lines: String = gone.map(|p| format!("0 {ZERO}\t{p}\n")).collect();
    for (p, (m, o)) in to {
        if from.get(p) != Some(&(m.clone(), o.clone())) {
            lines.push_str(&format!("{m} {o}\t{p}\n"));
        }
    }
    lines
}

/// A tree object holding `files`, written through a scratch index.
fn write_tree(d: &Path, files: &Files) -> String {
    let scratch = d.join(".git/scratch-index");
    let _ = std::fs::remove_file(&scratch);
    git_with(
        d,
        &["update-index", "--index-info"],
        &index_info(files),
        Some(&scratch),
    )
    .expect("scratch index");
    let tree = git_with(d, &["write-tree"], "", Some(&scratch)).expect("write-tree");
    tree.trim().to_string()
}

fn commit(d: &Path, files: &Files) -> String {
    let tree = write_tree(d, files);
    git_in(d, &["commit-tree", &tree, "-m", "c"], "")
        .trim()
        .to_string()
}

/// At random: an entry marked assume-unchanged or skip-worktree, an intent to add, every
/// cache-tree node made valid again, a conflict (stages 1 to 3 for one path).
fn flag_and_conflict(
    d: &Path,
    rng: &mut Rng,
    staged: &Files,
    blobs: &[String],
    notes: &mut String,
) {
    let paths: Vec<String> = staged.keys().cloned().collect();
    if !paths.is_empty() && rng.one_in(3) {
        // Flags libgit2 judges by: it drops an added entry marked assume-unchanged.
        let path = &paths[rng.below(paths.len())];
        let flag = ["--assume-unchanged", "--skip-worktree"][rng.below(2)];
        git_in(d, &["update-index", flag, path], "");
        notes.push_str(&format!("{flag} {path}\n"));
    }
    if rng.one_in(4) {
        std::fs::write(d.join("intent"), "i").expect("write");
        git_in(d, &["add", "-N", "intent"], "");
        notes.push_str("intent to add\n");
    }
    if rng.one_in(3) {
        // Every node valid again, the changed ones naming the new trees.
        let _ = git_with(d, &["write-tree"], "", None);
        notes.push_str("write-tree\n");
    }
    if !paths.is_empty() && rng.one_in(4) {
        let path = &paths[rng.below(paths.len())];
        let mut lines = format!("0 {ZERO}\t{path}\n");
        for stage in 1..=3 {
            if rng.below(3) > 0 {
                let (mode, oid) = random_object(rng, blobs);
                lines.push_str(&format!("{mode} {oid} {stage}\t{path}\n"));
            }
        }
        git_in(d, &["update-index", "--index-info"], &lines);
        notes.push_str(&format!("conflict {lines}"));
    }
}

/// Build one random repository from `seed`; returns what it holds, for failure messages.
fn build(d: &Path, seed: u64) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    git_in(d, &["init", "-q"], "");
    let files: Vec<String> = (0..8).map(|i| format!(".git/content{i}")).collect();
    for (i, file) in files.iter().enumerate() {
        std::fs::write(d.join(file), format!("content {seed} {i}\n")).expect("write");
    }
    let args: Vec<&str> = ["hash-object", "-w"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let blobs: Vec<String> = git_in(d, &args, "").lines().map(str::to_string).collect();
    let mut head = Files::new();
    for _ in 0..3 + rng.below(14) {
        let path = random_path(&mut rng);
        if fits(&head, &path) {
            head.insert(path, random_object(&mut rng, &blobs));
        }
    }
    let unborn = rng.one_in(8);
    if !unborn {
        let id = commit(d, &head);
        git_in(d, &["update-ref", "HEAD", &id], "");
    }
    let mut staged = head.clone();
    mutate(&mut rng, &mut staged, &blobs);
    let fresh = unborn || rng.one_in(4);
    if fresh {
        // Written entry by entry into a new file: an index without a cache-tree.
        git_in(d, &["update-index", "--index-info"], &index_info(&staged));
    } else {
        // `read-tree` primes the cache-tree; each change invalidates it along its path.
        git_in(d, &["read-tree", "HEAD"], "");
        git_in(
            d,
            &["update-index", "--index-info"],
            &changes_between(&head, &staged),
        );
    }
    let mut notes = format!("head {head:?}\nstaged {staged:?}\nfresh {fresh}\n");
    flag_and_conflict(d, &mut rng, &staged, &blobs, &mut notes);
    if !unborn && rng.one_in(3) {
        let mut other = head.clone();
        mutate(&mut rng, &mut other, &blobs);
        for (p, v) in staged.iter().filter(|_| rng.one_in(2)) {
            if fits(&other, p) || other.contains_key(p) {
                other.insert(p.clone(), v.clone());
            }
        }
        let id = commit(d, &other);
        std::fs::write(d.join(".git/MERGE_HEAD"), format!("{id}\n")).expect("MERGE_HEAD");
        notes.push_str(&format!("merge {other:?}\n"));
    }
    let version = ["2", "3", "4"][rng.below(3)];
    git_in(d, &["update-index", "--index-version", version], "");
    notes.push_str(&format!("version {version}\n"));
    notes
}

/// A comparison's result in an order both ways of comparing agree on.
type Normal = (Vec<Arriving>, Vec<(Oid, String)>, Vec<String>, u64);

fn normal(c: Collector) -> Normal {
    let (mut arriving, mut leaving, mut conflicts) = (c.arriving, c.leaving, c.conflicts);
    arriving.sort();
    leaving.sort();
    conflicts.sort();
    (arriving, leaving, conflicts, c.gitlinks)
}

#[test]
fn the_cache_tree_comparison_finds_what_libgit2_finds() {
    for seed in 1..=48u64 {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let notes = build(d, seed);
        let repo = Repository::open(d).expect("open");
        let head = repo.head().ok().map(|h| h.peel_to_tree().expect("tree"));
        let merge_trees = merge_head_trees(&repo).expect("MERGE_HEAD");
        let index = d.join(".git/index");
        let fast = fast_changes(&repo, head.as_ref(), &merge_trees, &index);
        let fast = fast.unwrap_or_else(|| panic!("seed {seed} fell back to libgit2\n{notes}"));
        let slow = libgit2_changes(&repo, head.as_ref(), &merge_trees).expect("libgit2 diff");
        assert_eq!(normal(fast), normal(slow), "seed {seed}\n{notes}");
    }
}

#[test]
fn a_directory_the_cache_tree_proves_unchanged_is_never_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git_in(d, &["init", "-q"], "");
    for path in ["kept/deep/one", "kept/two", "edited"] {
        std::fs::create_dir_all(d.join(path).parent().expect("parent")).expect("mkdir");
        std::fs::write(d.join(path), path).expect("write");
    }
    git_in(d, &["add", "-A"], "");
    git_in(d, &["commit", "-q", "-m", "one"], "");
    let repo = Repository::open(d).expect("open");
    let head = repo.head().and_then(|h| h.peel_to_tree()).expect("tree");
    // Nothing staged: the top node names HEAD's tree.
    let nothing = fast_changes(&repo, Some(&head), &[], &d.join(".git/index"));
    assert_eq!(
        normal(nothing.expect("no fallback")),
        (vec![], vec![], vec![], 0)
    );
    std::fs::write(d.join("edited"), "new text").expect("write");
    git_in(d, &["add", "edited"], "");
    // HEAD's tree for kept/ is gone: only a comparison that skips it can succeed.
    let kept = git_in(d, &["rev-parse", "HEAD:kept"], "");
    let kept = kept.trim();
    std::fs::remove_file(d.join(".git/objects").join(&kept[..2]).join(&kept[2..]))
        .expect("loose tree");
    let fast = fast_changes(&repo, Some(&head), &[], &d.join(".git/index"));
    let (arriving, leaving, conflicts, gitlinks) = normal(fast.expect("no fallback"));
    let paths: Vec<&str> = arriving.iter().map(|a| a.2.as_str()).collect();
    assert_eq!(
        (paths, leaving.len(), conflicts.len(), gitlinks),
        (vec!["edited"], 1, 0, 0)
    );
    assert!(libgit2_changes(&repo, Some(&head), &[]).is_err());
}

#[test]
fn what_the_reader_refuses_is_left_to_libgit2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git_in(d, &["init", "-q"], "");
    std::fs::write(d.join("file"), "text").expect("write");
    git_in(d, &["add", "file"], "");
    git_in(d, &["commit", "-q", "-m", "one"], "");
    let repo = Repository::open(d).expect("open");
    let head = repo.head().and_then(|h| h.peel_to_tree()).expect("tree");
    let index = d.join(".git/index");
    // A split index: libgit2 cannot read it either, and says so rather than pass.
    git_in(d, &["update-index", "--split-index"], "");
    assert!(fast_changes(&repo, Some(&head), &[], &index).is_none());
    assert!(staged_changes(&repo, &|_| {}).is_err());
    // No index file: libgit2 reads an empty index, in which HEAD's file is deleted.
    std::fs::remove_file(&index).expect("remove index");
    assert!(fast_changes(&repo, Some(&head), &[], &index).is_none());
    let changes = staged_changes(&repo, &|_| {}).expect("libgit2 reads no index as empty");
    assert_eq!((changes.arriving.len(), changes.leaving.len()), (0, 1));
}

#[test]
fn a_cache_tree_that_passes_over_a_conflict_is_not_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git_in(d, &["init", "-q"], "");
    std::fs::create_dir(d.join("dir")).expect("mkdir");
    std::fs::write(d.join("dir/file"), "text").expect("write");
    git_in(d, &["add", "-A"], "");
    git_in(d, &["commit", "-q", "-m", "one"], "");
    git_in(d, &["read-tree", "HEAD"], "");
    // The only entry made stage 1 by hand: the cache-tree still calls dir/ unchanged, as no
    // git would write it, and libgit2 sees the conflict.
    let index = d.join(".git/index");
    let mut data = std::fs::read(&index).expect("index");
    data[12 + 60] |= 0x10;
    // libgit2 checks the trailing checksum (git does not), so it is made anew.
    let body = data.len() - 20;
    std::fs::write(&index, &data[..body]).expect("write index");
    let sum = std::process::Command::new("sha1sum").arg(&index).output();
    let sum = sum.expect("sha1sum runs");
    let hex = String::from_utf8_lossy(&sum.stdout);
    for (i, byte) in data[body..].iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    std::fs::write(&index, data).expect("write index");
    let repo = Repository::open(d).expect("open");
    let head = repo.head().and_then(|h| h.peel_to_tree()).expect("tree");
    let fast = normal(fast_changes(&repo, Some(&head), &[], &index).expect("no fallback"));
    assert_eq!(
        fast.2,
        ["dir/file has merge conflicts; resolve and stage it to scan it"]
    );
    let slow = normal(libgit2_changes(&repo, Some(&head), &[]).expect("libgit2 diff"));
    assert_eq!(fast, slow);
}
