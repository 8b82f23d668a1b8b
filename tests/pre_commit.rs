//! `.pre-commit-hooks.yaml` under the real pre-commit framework (skipped with a message when
//! `pre-commit` is not installed; `.ci/run` installs it). The hook repository is a local git
//! repository holding the project's hooks file with only `language: rust` changed to
//! `language: system` and the binary under test first on PATH, so pre-commit builds and fetches
//! nothing: every other field (ids, entries, stages, file passing) is the shipped one.

mod support;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use support::git::Repo;
use support::run::path_with_patrol;
use support::tokens::pat;

const HOOKS_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.pre-commit-hooks.yaml");

fn hooks() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(HOOKS_FILE).unwrap();
    serde_yaml_ng::from_str(&text).expect("the hooks file is YAML")
}

#[test]
fn hooks_file_defines_both_ids_with_a_minimum_version() {
    let hooks = hooks();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["patrol", "patrol-files"]);
    for h in &hooks {
        // `stages: [pre-commit]` spellings need 3.2.0; older versions must refuse clearly.
        assert_eq!(h["minimum_pre_commit_version"], "3.2.0", "{h}");
        assert_eq!(h["language"], "rust", "{h}");
    }
    assert_eq!(hooks[0]["entry"], "patrol staged");
    assert_eq!(hooks[0]["pass_filenames"], false);
    assert!(
        hooks[1]["entry"]
            .as_str()
            .unwrap()
            .starts_with("patrol scan")
    );
    assert_eq!(hooks[1]["pass_filenames"], true);
}

/// `pre-commit --version`, or None (with a message) when it is not installed.
fn pre_commit_available() -> bool {
    match Command::new("pre-commit").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!(
                "SKIPPED: pre-commit is not installed (`pip install pre-commit`; .ci/run does)"
            );
            false
        }
    }
}

/// A git repository holding the hooks file (language `system`), and its commit.
fn hook_repo() -> (Repo, String) {
    let text = std::fs::read_to_string(HOOKS_FILE).unwrap();
    assert_eq!(text.matches("language: rust").count(), 2);
    let repo = Repo::new();
    repo.write(
        ".pre-commit-hooks.yaml",
        &text.replace("language: rust", "language: system"),
    );
    let rev = repo.commit_all("hooks");
    (repo, rev)
}

struct Env {
    home: tempfile::TempDir,
    path: String,
}

impl Env {
    fn new() -> Env {
        Env {
            home: tempfile::tempdir().unwrap(),
            path: path_with_patrol(),
        }
    }

    /// Apply to a command: pre-commit's cache in a temporary directory, patrol on PATH.
    fn apply<'c>(&self, c: &'c mut Command) -> &'c mut Command {
        c.env("PRE_COMMIT_HOME", self.home.path())
            .env("PATH", &self.path)
            .env("PRE_COMMIT_COLOR", "never")
            .stdin(Stdio::null())
    }

    fn pre_commit(&self, repo: &Repo, args: &[&str]) -> Output {
        let mut c = Command::new("pre-commit");
        c.args(args)
            .current_dir(repo.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        self.apply(&mut c).output().expect("pre-commit runs")
    }

    fn git(&self, repo: &Repo, args: &[&str]) -> Output {
        let mut c = repo.command(args);
        self.apply(&mut c).output().expect("git runs")
    }
}

fn said(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn real_pre_commit_runs_both_hook_ids() {
    if !pre_commit_available() {
        return;
    }
    let (hooks_repo, rev) = hook_repo();
    let env = Env::new();

    let repo = Repo::new();
    repo.write(
        ".pre-commit-config.yaml",
        &format!(
            "minimum_pre_commit_version: '3.2.0'\nrepos:\n  - repo: {}\n    rev: {rev}\n    hooks: [{{id: patrol}}, {{id: patrol-files}}]\n",
            hooks_repo.path().display()
        ),
    );
    repo.write("README.md", "hello\n");
    let base = repo.commit_all("config");
    // A token committed past every hook, as on a branch that predates them.
    repo.write("old.env", &format!("ADO_PAT={}\n", pat(31)));
    repo.git(&["add", "old.env"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "old token"]);

    // --all-files: the staged hook has nothing to judge, the files hook finds the token.
    let out = env.pre_commit(&repo, &["run", "patrol", "--all-files"]);
    assert!(out.status.success(), "{}", said(&out));
    let out = env.pre_commit(&repo, &["run", "patrol-files", "--all-files"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(said(&out).contains("old.env:1"), "{}", said(&out));
    assert!(!said(&out).contains(&pat(31)), "redacted: {}", said(&out));
    let out = env.pre_commit(&repo, &["run", "--all-files"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));

    // --from-ref/--to-ref (pre-push, CI): the files the range changed.
    let head = repo.rev("HEAD");
    let out = env.pre_commit(
        &repo,
        &[
            "run",
            "patrol-files",
            "--from-ref",
            &base,
            "--to-ref",
            &head,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(said(&out).contains("old.env:1"), "{}", said(&out));
    let out = env.pre_commit(
        &repo,
        &[
            "run",
            "patrol-files",
            "--from-ref",
            &base,
            "--to-ref",
            &base,
        ],
    );
    assert!(out.status.success(), "{}", said(&out));

    // The git hook pre-commit installs: `git commit -a` with a new token is blocked by both.
    let out = env.pre_commit(&repo, &["install"]);
    assert!(out.status.success(), "{}", said(&out));
    std::fs::remove_file(repo.path().join("old.env")).unwrap();
    repo.git(&["commit", "-q", "-a", "-m", "drop old token", "--no-verify"]);
    let before = repo.rev("HEAD");
    repo.write("README.md", &format!("hello\ntoken {}\n", pat(32)));
    let out = env.git(&repo, &["commit", "-q", "-a", "-m", "readme"]);
    assert!(!out.status.success(), "{}", said(&out));
    let text = said(&out);
    assert!(text.contains("README.md:2"), "{text}");
    assert!(!text.contains(&pat(32)), "{text}");
    assert_eq!(repo.rev("HEAD"), before, "nothing was committed");

    repo.write("README.md", "hello\nno token\n");
    let out = env.git(&repo, &["commit", "-q", "-a", "-m", "readme"]);
    assert!(out.status.success(), "{}", said(&out));
}

/// The commit id README.md offers for `rev:` is in this repository's history and has both hooks.
#[test]
fn readme_rev_is_a_commit_with_both_hooks() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(Path::new(root).join("README.md")).unwrap();
    let at = readme
        .find("use a full commit id, for example")
        .expect("README offers a commit id for rev:");
    let rev = &readme[at..].split('`').nth(1).unwrap();
    assert_eq!(rev.len(), 40, "a full commit id: {rev}");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .expect("git runs")
    };
    if !git(&["rev-parse", "--git-dir"]).status.success() {
        eprintln!("SKIPPED: the source tree is not a git repository");
        return;
    }
    if git(&["rev-parse", "--is-shallow-repository"])
        .stdout
        .starts_with(b"true")
        && !git(&["cat-file", "-e", rev]).status.success()
    {
        eprintln!("SKIPPED: shallow clone without commit {rev}");
        return;
    }
    let ancestor = git(&["merge-base", "--is-ancestor", rev, "HEAD"]);
    assert!(ancestor.status.success(), "{rev} is not in HEAD's history");
    let file = git(&["show", &format!("{rev}:.pre-commit-hooks.yaml")]);
    let hooks: Vec<serde_json::Value> = serde_yaml_ng::from_slice(&file.stdout).unwrap();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["patrol", "patrol-files"]);
}
