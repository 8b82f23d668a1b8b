//! The hook `patrol install-hook` writes, driven by real `git commit` in every way git makes a
//! commit: `-a`, `<path>` (`--only`), `--include`, `--amend`, a merge's resolution, a commit
//! while a rebase or cherry-pick has stopped, in a linked worktree and with `core.hooksPath`. git hands the hook
//! a temporary index through `GIT_INDEX_FILE` in most of these; a token must be blocked in each
//! and a clean change must pass. The hook runs the binary under test.

mod support;
use std::path::Path;
use std::process::Stdio;
use support::git::Repo;
use support::run::patrol_cmd;
use support::tokens::pat;

/// `patrol install-hook` run in `dir` (the binary under test writes its own path into the hook).
fn install_hook(dir: &Path) {
    let out = patrol_cmd(&["install-hook"], dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("patrol runs");
    assert!(
        out.status.success(),
        "install-hook: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What one `git` command did: success and everything it printed (the hook's output included).
struct Outcome {
    ok: bool,
    said: String,
}

fn git_in(repo: &Repo, dir: &Path, args: &[&str]) -> Outcome {
    let out = repo
        .command(args)
        .current_dir(dir)
        .env("GIT_EDITOR", "true")
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    Outcome {
        ok: out.status.success(),
        said: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
    }
}

fn git(repo: &Repo, args: &[&str]) -> Outcome {
    git_in(repo, repo.path(), args)
}

/// A repository with one committed file `app.env` and the hook installed.
fn guarded_repo() -> Repo {
    let repo = Repo::new();
    repo.write("app.env", "LOG_LEVEL=info\n");
    repo.write("notes.md", "notes\n");
    repo.commit_all("first");
    install_hook(repo.path());
    repo
}

/// The commit failed, named the file and line, did not show the token, and left HEAD alone.
fn assert_blocked(repo: &Repo, dir: &Path, out: &Outcome, at: &str, seed: u64, head: &str) {
    assert!(!out.ok, "the hook must block this commit:\n{}", out.said);
    assert!(out.said.contains(at), "names {at}:\n{}", out.said);
    assert!(!out.said.contains(&pat(seed)), "redacted:\n{}", out.said);
    let now = git_in(repo, dir, &["rev-parse", "HEAD"]);
    assert_eq!(now.said.trim(), head, "nothing was committed");
}

fn assert_passed(out: &Outcome) {
    assert!(out.ok, "a clean change must pass:\n{}", out.said);
}

#[test]
fn commit_all_is_scanned_from_the_index_git_commits() {
    let repo = guarded_repo();
    let head = repo.rev("HEAD");
    // Not staged: only `git commit -a` puts it in the commit.
    repo.write("app.env", &format!("LOG_LEVEL=info\nADO_PAT={}\n", pat(1)));
    let out = git(&repo, &["commit", "-q", "-a", "-m", "add pat"]);
    assert_blocked(&repo, repo.path(), &out, "app.env:2", 1, &head);

    repo.write("app.env", "LOG_LEVEL=debug\n");
    assert_passed(&git(&repo, &["commit", "-q", "-a", "-m", "debug"]));
}

#[test]
fn commit_of_named_paths_only_and_include_are_scanned() {
    let repo = guarded_repo();
    let head = repo.rev("HEAD");
    repo.write("app.env", &format!("ADO_PAT={}\n", pat(2)));
    let out = git(&repo, &["commit", "-q", "-m", "only", "app.env"]);
    assert_blocked(&repo, repo.path(), &out, "app.env:1", 2, &head);
    let out = git(&repo, &["commit", "-q", "-m", "only", "--only", "app.env"]);
    assert_blocked(&repo, repo.path(), &out, "app.env:1", 2, &head);

    // `--include` adds the path to what is already staged.
    repo.write("notes.md", "more notes\n");
    repo.git(&["add", "notes.md"]);
    let out = git(
        &repo,
        &["commit", "-q", "-m", "incl", "--include", "app.env"],
    );
    assert_blocked(&repo, repo.path(), &out, "app.env:1", 2, &head);

    repo.write("app.env", "ADO_PAT=$(ADO_PAT)\n");
    assert_passed(&git(&repo, &["commit", "-q", "-m", "only", "app.env"]));
    assert_passed(&git(&repo, &["commit", "-q", "-m", "notes"]));
}

#[test]
fn amend_is_scanned() {
    let repo = guarded_repo();
    repo.write("notes.md", "second\n");
    assert_passed(&git(&repo, &["commit", "-q", "-a", "-m", "second"]));
    let head = repo.rev("HEAD");
    repo.write("notes.md", &format!("second\ntoken {}\n", pat(3)));
    let out = git(&repo, &["commit", "-q", "-a", "--amend", "--no-edit"]);
    assert_blocked(&repo, repo.path(), &out, "notes.md:2", 3, &head);
    repo.write("notes.md", "second, reworded\n");
    assert_passed(&git(&repo, &["commit", "-q", "-a", "--amend", "--no-edit"]));
}

/// `main` and `side` both edit `app.env`, so merging needs a resolution; `side` also carries a
/// token in `legacy.env` that was committed past the hook long ago.
fn diverged(repo: &Repo) {
    let base = repo.rev("HEAD");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.write("app.env", "LOG_LEVEL=side\n");
    repo.write("legacy.env", &format!("OLD_PAT={}\n", pat(4)));
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "side"]);
    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(repo.rev("HEAD"), base);
    repo.write("app.env", "LOG_LEVEL=main\n");
    assert_passed(&git(repo, &["commit", "-q", "-a", "-m", "main"]));
}

#[test]
fn merge_resolution_is_scanned_against_every_parent() {
    let repo = guarded_repo();
    diverged(&repo);
    let head = repo.rev("HEAD");
    let merge = git(&repo, &["merge", "-q", "side"]);
    assert!(!merge.ok, "the merge conflicts: {}", merge.said);
    assert!(repo.path().join(".git/MERGE_HEAD").is_file());

    // A token typed into the resolution is new in the merge commit.
    repo.write("app.env", &format!("LOG_LEVEL=both\nADO_PAT={}\n", pat(5)));
    repo.git(&["add", "app.env"]);
    let out = git(&repo, &["commit", "-q", "--no-edit"]);
    assert_blocked(&repo, repo.path(), &out, "app.env:2", 5, &head);

    // `side`'s old token comes in with the merge but is no news: `side` already holds it.
    repo.write("app.env", "LOG_LEVEL=both\n");
    repo.git(&["add", "app.env"]);
    let out = git(&repo, &["commit", "-q", "--no-edit"]);
    assert_passed(&out);
    assert!(!out.said.contains("legacy.env"), "{}", out.said);
}

#[test]
fn commits_made_while_a_rebase_or_cherry_pick_stops_are_scanned() {
    let repo = guarded_repo();
    diverged(&repo);

    // Rebase `side` onto `main`; it stops on the conflict and the user commits the resolution.
    repo.git(&["checkout", "-q", "side"]);
    assert!(!git(&repo, &["rebase", "main"]).ok, "the rebase conflicts");
    assert!(repo.path().join(".git/REBASE_HEAD").is_file());
    let head = repo.rev("HEAD");
    repo.write("app.env", &format!("LOG_LEVEL=both\nADO_PAT={}\n", pat(6)));
    repo.git(&["add", "app.env"]);
    let out = git(&repo, &["commit", "-q", "--no-edit"]);
    assert_blocked(&repo, repo.path(), &out, "app.env:2", 6, &head);
    // The picked commit brings `legacy.env` onto a new base: a new commit adds that token.
    assert!(out.said.contains("legacy.env:1"), "{}", out.said);
    repo.git(&["rm", "-q", "--cached", "legacy.env"]);
    repo.write("app.env", "LOG_LEVEL=both\n");
    repo.git(&["add", "app.env"]);
    assert_passed(&git(&repo, &["commit", "-q", "--no-edit"]));
    std::fs::remove_file(repo.path().join("legacy.env")).unwrap();
    repo.git(&["rebase", "--abort"]);

    // Cherry-pick `side` onto `main`: the same while CHERRY_PICK_HEAD is set.
    repo.git(&["checkout", "-q", "main"]);
    let main = repo.rev("HEAD");
    assert!(
        !git(&repo, &["cherry-pick", "side"]).ok,
        "the pick conflicts"
    );
    assert!(repo.path().join(".git/CHERRY_PICK_HEAD").is_file());
    repo.write("app.env", "LOG_LEVEL=both\n");
    repo.git(&["add", "app.env"]);
    let out = git(&repo, &["commit", "-q", "--no-edit"]);
    assert_blocked(&repo, repo.path(), &out, "legacy.env:1", 4, &main);
    repo.git(&["rm", "-q", "--cached", "legacy.env"]);
    assert_passed(&git(&repo, &["commit", "-q", "--no-edit"]));
}

#[test]
fn linked_worktree_uses_the_shared_hook_and_its_own_index() {
    let repo = Repo::new();
    repo.write("app.env", "LOG_LEVEL=info\n");
    repo.commit_all("first");
    let wt_parent = tempfile::tempdir().unwrap();
    let wt = wt_parent.path().join("wt");
    repo.git(&["worktree", "add", "-q", "-b", "wt", wt.to_str().unwrap()]);
    // Installing from inside the linked worktree writes the hook git actually runs.
    install_hook(&wt);
    assert!(repo.path().join(".git/hooks/pre-commit").is_file());
    assert!(!repo.path().join(".git/worktrees/wt/hooks").exists());

    let head = git_in(&repo, &wt, &["rev-parse", "HEAD"])
        .said
        .trim()
        .to_string();
    std::fs::write(wt.join("app.env"), format!("ADO_PAT={}\n", pat(8))).unwrap();
    let out = git_in(&repo, &wt, &["commit", "-q", "-a", "-m", "wt"]);
    assert_blocked(&repo, &wt, &out, "app.env:1", 8, &head);
    std::fs::write(wt.join("app.env"), "LOG_LEVEL=wt\n").unwrap();
    assert_passed(&git_in(&repo, &wt, &["commit", "-q", "-a", "-m", "wt"]));
}

#[test]
fn core_hooks_path_is_where_the_hook_goes() {
    let repo = Repo::new();
    repo.write("app.env", "LOG_LEVEL=info\n");
    let head = repo.commit_all("first");
    repo.git(&["config", "core.hooksPath", "githooks"]);
    install_hook(repo.path());
    assert!(repo.path().join("githooks/pre-commit").is_file());
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());

    repo.write("app.env", &format!("ADO_PAT={}\n", pat(9)));
    let out = git(&repo, &["commit", "-q", "-m", "path", "app.env"]);
    assert_blocked(&repo, repo.path(), &out, "app.env:1", 9, &head);
}

#[test]
fn a_missing_index_named_by_git_index_file_fails_closed() {
    let repo = guarded_repo();
    let out = patrol_cmd(&["staged"], repo.path())
        .env("GIT_INDEX_FILE", ".git/no-such-index")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("GIT_INDEX_FILE"), "{err}");
}
