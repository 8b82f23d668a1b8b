//! Attribution's tree comparison, on repositories built for each case.
use super::*;
use git2::{Index, IndexEntry, IndexTime};

/// A tree of `(path, content)` files; content `@gitlink` makes a submodule entry.
fn tree(repo: &Repository, files: &[(&str, &str)]) -> Oid {
    let mut idx = Index::new().unwrap();
    for (path, content) in files {
        let (mode, id) = if *content == "@gitlink" {
            (
                0o160000,
                Oid::from_str("1234567890123456789012345678901234567890").unwrap(),
            )
        } else {
            (0o100644, repo.blob(content.as_bytes()).unwrap())
        };
        idx.add(&IndexEntry {
            ctime: IndexTime::new(0, 0),
            mtime: IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode,
            uid: 0,
            gid: 0,
            file_size: content.len() as u32,
            id,
            flags: path.len() as u16,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        })
        .unwrap();
    }
    idx.write_tree_to(repo).unwrap()
}

/// Paths introduced by `files` over `parents`, sorted.
fn paths(repo: &Repository, files: &[(&str, &str)], parents: &[&[(&str, &str)]]) -> Vec<String> {
    let t = repo.find_tree(tree(repo, files)).unwrap();
    let ps: Vec<Tree<'_>> = parents
        .iter()
        .map(|p| repo.find_tree(tree(repo, p)).unwrap())
        .collect();
    let mut v: Vec<String> = introduced_within(repo, &t, &ps, &|_| true, &Excludes::default())
        .blobs
        .into_iter()
        .map(|(_, p)| String::from_utf8(p).unwrap())
        .collect();
    v.sort();
    v
}

fn repo() -> (tempfile::TempDir, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_bare(dir.path()).unwrap();
    (dir, repo)
}

#[test]
fn a_root_commit_introduces_its_whole_tree() {
    let (_d, r) = repo();
    let files = [("a.txt", "a"), ("src/deep/b.rs", "b"), ("src/c.rs", "c")];
    assert_eq!(
        paths(&r, &files, &[]),
        ["a.txt", "src/c.rs", "src/deep/b.rs"]
    );
}

#[test]
fn only_changed_paths_are_introduced() {
    let (_d, r) = repo();
    let old = [("a.txt", "a"), ("src/b.rs", "b"), ("src/c.rs", "c")];
    let new = [
        ("a.txt", "a"),
        ("src/b.rs", "b2"),
        ("src/c.rs", "c"),
        ("d.txt", "d"),
    ];
    assert_eq!(paths(&r, &new, &[&old]), ["d.txt", "src/b.rs"]);
}

#[test]
fn moves_introduce_nothing_but_copies_do() {
    let (_d, r) = repo();
    let old = [("conf/x.env", "secret"), ("keep.txt", "k")];
    let renamed = [("settings/y.env", "secret"), ("keep.txt", "k")];
    assert!(paths(&r, &renamed, &[&old]).is_empty());
    let dir_moved = [("config/x.env", "secret"), ("keep.txt", "k")];
    assert!(paths(&r, &dir_moved, &[&old]).is_empty());
    let copied = [
        ("conf/x.env", "secret"),
        ("copy.env", "secret"),
        ("keep.txt", "k"),
    ];
    assert_eq!(paths(&r, &copied, &[&old]), ["copy.env"]);
}

#[test]
fn a_merge_introduces_only_what_no_parent_had() {
    let (_d, r) = repo();
    let left = [("a.txt", "left"), ("b.txt", "b")];
    let right = [("a.txt", "right"), ("b.txt", "b"), ("r.txt", "r")];
    let merged = [("a.txt", "resolved"), ("b.txt", "b"), ("r.txt", "r")];
    assert_eq!(paths(&r, &merged, &[&left, &right]), ["a.txt"]);
    let clean = [("a.txt", "right"), ("b.txt", "b"), ("r.txt", "r")];
    assert!(paths(&r, &clean, &[&left, &right]).is_empty());
}

#[test]
fn submodules_are_not_introduced() {
    let (_d, r) = repo();
    let files = [("vendor/lib", "@gitlink"), ("a.txt", "a")];
    assert_eq!(paths(&r, &files, &[]), ["a.txt"]);
}

#[test]
fn excluded_paths_are_absent_on_both_sides() {
    let (_d, r) = repo();
    let excludes = Excludes::new(&["fixtures/".into(), "*.lock".into()]).unwrap();
    let introduced = |files: &[(&str, &str)], parents: &[&[(&str, &str)]]| {
        let t = r.find_tree(tree(&r, files)).unwrap();
        let ps: Vec<Tree<'_>> = parents
            .iter()
            .map(|p| r.find_tree(tree(&r, p)).unwrap())
            .collect();
        let mut v: Vec<String> = introduced_within(&r, &t, &ps, &|_| true, &excludes)
            .blobs
            .into_iter()
            .map(|(_, p)| String::from_utf8(p).unwrap())
            .collect();
        v.sort();
        v
    };
    let root = [
        ("fixtures/x.env", "secret"),
        ("a.lock", "l"),
        ("src/a.rs", "a"),
    ];
    assert_eq!(introduced(&root, &[]), ["src/a.rs"]);
    // Moved out of an excluded directory: new where it lands (without excludes, a move).
    let moved = [("src/x.env", "secret"), ("a.lock", "l"), ("src/a.rs", "a")];
    assert_eq!(introduced(&moved, &[&root]), ["src/x.env"]);
    assert!(paths(&r, &moved, &[&root]).is_empty());
    // A whole directory moved out of an excluded one.
    let deep = [("fixtures/d/x.env", "secret"), ("src/a.rs", "a")];
    let out = [("d/x.env", "secret"), ("src/a.rs", "a")];
    assert_eq!(introduced(&out, &[&deep]), ["d/x.env"]);
    // Moved into an excluded directory: nothing new anywhere.
    assert!(introduced(&deep, &[&out]).is_empty());
}
