//! `patrol git` fails closed: an object store, ref or HEAD that cannot be read is a warning and
//! an `unreadable` count, and a history of which nothing could be read is an error (exit 2),
//! never "0 findings". And it reads everything `git rev-list --all` reaches, plus refs that
//! name a tree or a blob.

mod support;

use std::path::PathBuf;
use support::git::{Repo, patrol_git};
use support::run::report;
use support::tokens::pat;

fn repo_with_token() -> Repo {
    let repo = Repo::new();
    repo.write("a.env", &format!("PAT={}\n", pat(41)));
    repo.commit_all("first");
    repo.write("b.txt", "more\n");
    repo.commit_all("second");
    repo
}

fn packed(repo: &Repo, ext: &str) -> PathBuf {
    repo.git(&["repack", "-a", "-d", "-q"]);
    std::fs::read_dir(repo.path().join(".git/objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .expect("a pack")
}

#[test]
fn a_deleted_pack_is_an_error_not_a_clean_history() {
    let repo = repo_with_token();
    std::fs::remove_file(packed(&repo, "pack")).unwrap();
    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("could be read"), "{}", run.stderr);
    assert!(run.stderr.contains("refs/heads/main"), "{}", run.stderr);
}

#[test]
fn a_truncated_pack_index_is_an_error_not_a_clean_history() {
    let repo = repo_with_token();
    let idx = packed(&repo, "idx");
    let bytes = std::fs::read(&idx).unwrap();
    let mut perms = std::fs::metadata(&idx).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&idx, perms).unwrap();
    std::fs::write(&idx, &bytes[..bytes.len() / 3]).unwrap();
    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("could be read"), "{}", run.stderr);
}

#[test]
fn unresolvable_refs_and_head_are_warned_about_and_counted() {
    let repo = repo_with_token();
    let missing = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(
        repo.path().join(".git/refs/heads/ghost"),
        format!("{missing}\n"),
    )
    .unwrap();
    let run = patrol_git(&repo, &[]);
    // What could be read is reported; what could not is named and counted.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.findings().len(), 1);
    assert_eq!(run.summary("unreadable"), 1, "{}", run.stderr);
    assert!(run.stderr.contains("refs/heads/ghost"), "{}", run.stderr);

    // A detached HEAD at a commit that is not there.
    std::fs::remove_file(repo.path().join(".git/refs/heads/ghost")).unwrap();
    std::fs::write(repo.path().join(".git/HEAD"), format!("{missing}\n")).unwrap();
    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.summary("unreadable"), 1, "{}", run.stderr);
    assert!(run.stderr.contains(missing), "{}", run.stderr);
}

#[test]
fn refs_to_trees_and_blobs_are_scanned() {
    let repo = repo_with_token();
    repo.write("loose.env", &format!("PAT={}\n", pat(42)));
    let blob = repo.git(&["hash-object", "-w", "loose.env"]);
    repo.git(&["update-ref", "refs/tags/just-a-blob", &blob]);
    let blob2 = {
        repo.write("deep.env", &format!("PAT={}\n", pat(43)));
        repo.git(&["hash-object", "-w", "deep.env"])
    };
    let mut mktree = repo
        .command(&["mktree"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut mktree.stdin.take().unwrap(),
        format!("100644 blob {blob2}\tdeep.env\n").as_bytes(),
    )
    .unwrap();
    let tree = String::from_utf8(mktree.wait_with_output().unwrap().stdout).unwrap();
    repo.git(&["update-ref", "refs/trees/snapshot", tree.trim()]);
    std::fs::remove_file(repo.path().join("loose.env")).unwrap();
    std::fs::remove_file(repo.path().join("deep.env")).unwrap();

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths: Vec<String> = run.findings().into_iter().map(|f| f.1).collect();
    assert_eq!(
        paths,
        vec![
            "a.env",
            "refs/tags/just-a-blob",
            "refs/trees/snapshot:deep.env"
        ]
    );
    assert_eq!(run.summary("unreadable"), 0, "{}", run.stderr);
}

#[test]
fn commits_only_another_worktree_head_reaches_are_scanned() {
    let repo = repo_with_token();
    let outer = tempfile::tempdir().unwrap();
    let wt = outer.path().join("wt");
    repo.git(&["worktree", "add", "-q", "--detach", wt.to_str().unwrap()]);
    std::fs::write(wt.join("c.env"), format!("PAT={}\n", pat(44))).unwrap();
    let in_wt = |args: &[&str]| {
        let out = repo.command(args).current_dir(&wt).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    in_wt(&["add", "c.env"]);
    in_wt(&["commit", "-q", "-m", "detached work"]);
    let detached = in_wt(&["rev-parse", "HEAD"]);
    // git itself counts it as part of --all.
    assert!(repo.git(&["rev-list", "--all"]).contains(&detached));

    for dir in [repo.path().to_path_buf(), wt.clone()] {
        let run = report(&["git"], &dir);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let found: Vec<(String, Option<String>)> =
            run.findings().into_iter().map(|f| (f.1, f.3)).collect();
        assert!(
            found.contains(&("c.env".to_string(), Some(detached.clone()))),
            "from {}: {found:?}",
            dir.display()
        );
    }
}
