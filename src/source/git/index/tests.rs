//! The index reader against indexes real git writes.

use super::*;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Run git in `dir` with a fixed identity, feeding `stdin`, with `index` as its index file
/// when given: stdout, or an error holding stderr.
pub(crate) fn git_with(
    dir: &Path,
    args: &[&str],
    stdin: &str,
    index: Option<&Path>,
) -> std::io::Result<String> {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.test",
            "-c",
            "gc.auto=0",
        ])
        .args(args)
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(index) = index {
        command.env("GIT_INDEX_FILE", index);
    }
    let mut child = command.spawn().expect("git runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("git ends");
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        false => Err(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
    }
}

/// [`git_with`] on the repository's own index, which must succeed.
pub(crate) fn git_in(dir: &Path, args: &[&str], stdin: &str) -> String {
    git_with(dir, args, stdin, None).unwrap_or_else(|e| panic!("git {args:?}: {e}"))
}

/// A repository with one commit of nested files whose paths share prefixes (what version 4
/// compresses), its index primed with a cache-tree by `read-tree`.
fn committed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git_in(d, &["init", "-q"], "");
    for (path, text) in [
        ("a.txt", "1"),
        ("a/b.txt", "2"),
        ("a/b/c.txt", "3"),
        ("a/b/cd.txt", "4"),
        ("a-b/x", "5"),
        ("z", "6"),
    ] {
        let file = d.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(file, text).expect("write");
    }
    git_in(d, &["add", "-A"], "");
    git_in(d, &["commit", "-q", "-m", "one"], "");
    git_in(d, &["read-tree", "HEAD"], "");
    dir
}

fn read(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(".git/index")).expect("index")
}

/// `git ls-files -s`'s lines, from the parsed index.
fn listing(index: &IndexFile) -> String {
    let hex = |oid: &[u8; 20]| oid.iter().map(|b| format!("{b:02x}")).collect::<String>();
    index
        .entries()
        .iter()
        .map(|e| {
            let path = String::from_utf8_lossy(index.path(e));
            format!("{:o} {} {}\t{path}\n", e.mode, hex(&e.oid), e.stage())
        })
        .collect()
}

#[test]
fn versions_2_3_and_4_read_as_git_lists_them() {
    let dir = committed();
    let d = dir.path();
    for version in ["2", "3", "4"] {
        git_in(d, &["update-index", "--index-version", version], "");
        if version == "3" {
            git_in(d, &["update-index", "--skip-worktree", "a/b.txt"], "");
            // Flags invalidate the cache-tree along the path; writing the tree mends it.
            git_in(d, &["write-tree"], "");
        }
        let data = read(d);
        assert_eq!(data[7], version.as_bytes()[0] - b'0');
        let index = parse(data.clone(), None).expect("parses");
        assert_eq!(
            listing(&index),
            git_in(d, &["ls-files", "-s"], ""),
            "version {version}"
        );
        let tree = index.cache_tree.as_ref().expect("cache-tree");
        let (count, oid) = tree.valid(CacheTree::ROOT).expect("valid root");
        assert_eq!(count, index.entries().len());
        let hex: String = oid.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, git_in(d, &["rev-parse", "HEAD^{tree}"], "").trim());
        let b = tree
            .child(CacheTree::ROOT, b"a")
            .and_then(|a| tree.child(a, b"b"));
        let (count, _) = tree.valid(b.expect("a/b node")).expect("valid a/b");
        assert_eq!(count, 2);
        assert_eq!(index.under(b"a/b"), 3..5);
        assert_eq!(index.under(b"a"), 2..5);
    }
}

#[test]
fn conflicts_and_intent_to_add_are_irregular() {
    let dir = committed();
    let d = dir.path();
    let blob = git_in(d, &["rev-parse", "HEAD:z"], "");
    let blob = blob.trim();
    let lines = format!("0 {blob}\tz\n100644 {blob} 1\tz\n100644 {blob} 3\tz\n");
    git_in(d, &["update-index", "--index-info"], &lines);
    std::fs::write(d.join("new"), "n").expect("write");
    git_in(d, &["add", "-N", "new"], "");
    let index = parse(read(d), None).expect("parses");
    let stages: Vec<u8> = index.entries().iter().map(Entry::stage).collect();
    assert_eq!(stages, [0, 0, 0, 0, 0, 0, 1, 3]);
    assert!(index.entries()[5].intent_to_add());
    assert!(index.all_regular(&(0..5)));
    assert!(!index.all_regular(&(5..6)));
    assert!(!index.all_regular(&(6..7)));
}

#[test]
fn every_truncation_is_malformed_never_a_panic_or_a_shorter_index() {
    let dir = committed();
    let full_data = read(dir.path());
    let full = parse(full_data.clone(), None).expect("parses");
    let mut whole = 0;
    for len in 0..full_data.len() {
        match parse(full_data[..len].to_vec(), None) {
            Err(IndexError::Malformed { .. }) => {}
            // Without a checksum check, cutting off exactly the TREE extension (whose first
            // 20 bytes then pass for the checksum) leaves a complete index without it.
            Ok(index) => {
                assert_eq!(listing(&index), listing(&full), "length {len}");
                assert!(index.cache_tree.is_none());
                whole += 1;
            }
            Err(e) => panic!("length {len}: {e}"),
        }
    }
    assert_eq!(whole, 1);
}

#[test]
fn split_and_sparse_indexes_are_unsupported() {
    let dir = committed();
    let d = dir.path();
    git_in(d, &["update-index", "--split-index"], "");
    let split = parse(read(d), None);
    assert_eq!(
        split.err(),
        Some(IndexError::Unsupported("split index (link extension)"))
    );
    git_in(d, &["update-index", "--no-split-index"], "");
    assert!(parse(read(d), None).is_ok());

    git_in(
        d,
        &["sparse-checkout", "init", "--cone", "--sparse-index"],
        "",
    );
    git_in(d, &["sparse-checkout", "set", "a-b"], "");
    assert!(matches!(
        parse(read(d), None),
        Err(IndexError::Unsupported(_))
    ));
}

#[test]
fn extensions_are_skipped_only_when_optional() {
    let dir = committed();
    let data = read(dir.path());
    let with = |signature: &[u8; 4]| {
        let mut out = data[..data.len() - 20].to_vec();
        out.extend_from_slice(signature);
        out.extend_from_slice(&3u32.to_be_bytes());
        out.extend_from_slice(b"abc");
        out.extend_from_slice(&[0; 20]);
        parse(out.clone(), None)
    };
    assert!(with(b"ZZZZ").is_ok());
    assert_eq!(
        with(b"zzzz").err(),
        Some(IndexError::Unsupported("required extension not understood"))
    );
}

#[test]
fn other_versions_object_formats_and_flags_are_refused() {
    let dir = committed();
    let data = read(dir.path());
    assert!(parse(data.clone(), Some("sha1")).is_ok());
    assert!(matches!(
        parse(data.clone(), Some("sha256")),
        Err(IndexError::Unsupported(_))
    ));
    let mut v5 = data.clone();
    v5[7] = 5;
    assert!(matches!(
        parse(v5.clone(), None),
        Err(IndexError::Unsupported(_))
    ));
    // The first entry's flags, in a version 2 index, claiming extended flags.
    let mut extended = data.clone();
    assert_eq!(extended[7], 2);
    extended[12 + 60] |= 0x40;
    assert!(matches!(
        parse(extended.clone(), None),
        Err(IndexError::Malformed { .. })
    ));
    // Two entries swapped out of order: the first path's first byte made larger.
    let mut unsorted = data;
    unsorted[12 + 62] = b'y';
    assert!(matches!(
        parse(unsorted.clone(), None),
        Err(IndexError::Malformed { .. })
    ));
}
