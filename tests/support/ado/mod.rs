//! A mock Azure DevOps organization for `patrol ado` tests: a REST API (projects and
//! repositories with continuation-token paging, a 429 with Retry-After and a transient 500,
//! pipeline definitions and variable groups with plain and secret variables, 401 for a wrong
//! token) and the repositories over real smart HTTP, served by `git http-backend` run as a CGI
//! program behind the same 127.0.0.1 listener. Every request is logged with its
//! `Authorization` header. Tokens come only from the project's fake-token generator.

pub mod server;

use super::git::Repo;
use super::run::{patrol_cmd, root};
use super::tokens::{b64, pat};
use serde_json::{Value, json};
pub use server::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

/// The organization the tests scan, with its working repositories for later pushes.
pub struct Org {
    pub mock: Mock,
    pub dir: tempfile::TempDir,
    pub token: String,
    /// Working clones by repository name (push with [`Org::push`]).
    pub work: Vec<(String, String, Repo)>,
}

pub fn id(n: u32) -> String {
    format!("00000000-0000-0000-0000-{n:012}")
}

fn repo_json(base: &str, n: u32, project: (&str, &str), name: &str, extra: Value) -> Value {
    let mut v = json!({
        "id": id(n),
        "name": name,
        "project": {"id": project.0, "name": project.1},
        "remoteUrl": format!("{}/{ORG}/{}/_git/{}", base.replace("http://", &format!("http://{ORG}@")), project.1, name),
        "webUrl": format!("{base}/{ORG}/{}/_git/{name}", project.1),
        "defaultBranch": "refs/heads/main",
        "size": 1000 * n as u64,
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    v
}

pub const ALPHA: (&str, &str) = ("10000000-0000-0000-0000-00000000000a", "alpha");
pub const BETA: (&str, &str) = ("10000000-0000-0000-0000-00000000000b", "beta");
pub const GAMMA: (&str, &str) = ("10000000-0000-0000-0000-00000000000c", "gamma");

impl Org {
    /// The organization of the `patrol ado` tests (see tests/ado.rs for what it holds).
    pub fn build() -> Org {
        let dir = tempfile::tempdir().unwrap();
        let git_root = dir.path().join("served");
        let org_token = pat(100);
        let mut work = Vec::new();
        let mk = |project: &str, name: &str, files: &[&[(&str, String)]]| {
            let r = Repo::new();
            for commit in files {
                for (path, content) in *commit {
                    if content.is_empty() {
                        let _ = std::fs::remove_file(r.path().join(path));
                    } else {
                        r.write(path, content);
                    }
                }
                r.commit_all("change");
            }
            let bare = git_root.join(project).join(format!("{name}.git"));
            std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
            r.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
            r
        };
        // alpha/app: a PAT added then removed, and one only on a pull-request ref.
        let app = mk(
            "alpha",
            "app",
            &[
                &[
                    ("README.md", "# app\n".into()),
                    ("config.yml", format!("name: app\ntoken: {}\n", pat(1))),
                ],
                &[("config.yml", "name: app\n".into())],
            ],
        );
        app.git(&["checkout", "-q", "-b", "pr"]);
        app.write("pr.txt", &format!("AZURE_DEVOPS_EXT_PAT={}\n", pat(8)));
        app.commit_all("pr");
        let app_bare = git_root.join("alpha/app.git");
        app.git(&[
            "push",
            "-q",
            app_bare.to_str().unwrap(),
            "HEAD:refs/pull/1/merge",
        ]);
        app.git(&["checkout", "-q", "main"]);
        // alpha/app-fork: app's branches plus a commit of its own.
        let fork_bare = git_root.join("alpha/app-fork.git");
        let fork = Repo::new();
        fork.git(&["pull", "-q", app_bare.to_str().unwrap(), "main"]);
        fork.write("notes.txt", &format!("pat {}\n", pat(3)));
        fork.commit_all("notes");
        std::fs::create_dir_all(&fork_bare).unwrap();
        Command::new("git")
            .args(["init", "-q", "--bare"])
            .arg(&fork_bare)
            .status()
            .unwrap();
        fork.git(&[
            "push",
            "-q",
            fork_bare.to_str().unwrap(),
            "HEAD:refs/heads/main",
        ]);
        let wiki = mk(
            "alpha",
            "alpha.wiki",
            &[&[("Home.md", format!("# Home\nuse {} to deploy\n", pat(2)))]],
        );
        let svc = mk(
            "beta",
            "svc",
            &[&[
                ("main.rs", "fn main() {}\n".into()),
                (
                    "deploy.sh",
                    format!(
                        "curl -H 'Authorization: Basic {}' https://example.test\n",
                        b64(&format!(":{}", pat(4)))
                    ),
                ),
            ]],
        );
        let tools = mk("gamma", "tools", &[&[("tool.py", "print('hi')\n".into())]]);
        work.push(("alpha".into(), "app".into(), app));
        work.push(("alpha".into(), "app-fork".into(), fork));
        work.push(("alpha".into(), "alpha.wiki".into(), wiki));
        work.push(("beta".into(), "svc".into(), svc));
        work.push(("gamma".into(), "tools".into(), tools));

        let projects = [ALPHA, BETA, GAMMA]
            .iter()
            .map(|(i, n)| json!({"id": i, "name": n}))
            .collect();
        let state = State {
            auth: Mutex::new(basic(&org_token)),
            log: Mutex::new(Vec::new()),
            git_root,
            projects,
            repos: Mutex::new(Vec::new()),
            definitions: vec![
                (
                    ALPHA.0.into(),
                    json!({"id": 12, "name": "ci", "variables": {
                        "DEPLOY_PAT": {"value": pat(5), "allowOverride": true},
                        "SIGNING_PAT": {"value": pat(6), "isSecret": true},
                        "region": {"value": "westeurope"}
                    }}),
                ),
                (
                    BETA.0.into(),
                    json!({"id": 13, "name": "release", "variables": {}}),
                ),
            ],
            groups: vec![
                (
                    ALPHA.0.into(),
                    json!({"id": 7, "name": "shared", "variables": {
                        "FEED_PAT": {"value": pat(7)},
                        "HIDDEN": {"value": null, "isSecret": true}
                    }}),
                ),
                // Shared with beta: scanned once.
                (
                    BETA.0.into(),
                    json!({"id": 7, "name": "shared", "variables": {
                        "FEED_PAT": {"value": pat(7)}
                    }}),
                ),
            ],
            broken_git: vec!["broken".into()],
            redirected_git: Mutex::new(None),
            html_git: Mutex::new(None),
            foreign_base: Mutex::new(String::new()),
            held_repo: Mutex::new(None),
            hold: AtomicBool::new(false),
            throttled: AtomicBool::new(false),
            failed_once: AtomicBool::new(false),
        };
        let mock = Mock::start(state);
        let base = mock.base.clone();
        let foreign = mock.foreign_base.clone();
        let repos = vec![
            repo_json(&base, 1, ALPHA, "app", json!({})),
            repo_json(&base, 2, ALPHA, "alpha.wiki", json!({})),
            repo_json(&base, 3, ALPHA, "app-fork", json!({"isFork": true})),
            repo_json(&base, 4, ALPHA, "old", json!({"isDisabled": true})),
            repo_json(&base, 5, BETA, "svc", json!({})),
            repo_json(&base, 6, BETA, "broken", json!({})),
            repo_json(
                &base,
                7,
                BETA,
                "elsewhere",
                json!({"remoteUrl": format!("{foreign}/{ORG}/beta/_git/elsewhere")}),
            ),
            repo_json(&base, 8, GAMMA, "tools", json!({})),
        ];
        *mock.state.repos.lock().unwrap() = repos;
        Org {
            mock,
            dir,
            token: org_token,
            work,
        }
    }

    pub fn url(&self) -> String {
        format!("https://dev.azure.com/{ORG}")
    }

    pub fn work(&self, name: &str) -> &Repo {
        &self.work.iter().find(|(_, n, _)| n == name).unwrap().2
    }

    /// Push the working clone's `main` to the served repository.
    pub fn push(&self, name: &str) {
        let (project, _, repo) = self.work.iter().find(|(_, n, _)| n == name).unwrap();
        let bare = self
            .mock
            .state
            .git_root
            .join(project)
            .join(format!("{name}.git"));
        repo.git(&["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"]);
    }

    /// A `patrol ado` command against the mock with the token in AZURE_DEVOPS_EXT_PAT.
    pub fn command(&self, cache: &Path, args: &[&str]) -> Command {
        let mut c = patrol_cmd(&["ado"], root());
        c.arg(self.url())
            .arg("--cache")
            .arg(cache)
            .args(args)
            .env("PATROL_ADO_BASE_URL", &self.mock.base)
            .env("AZURE_DEVOPS_EXT_PAT", &self.token)
            .env_remove("SYSTEM_ACCESSTOKEN")
            .env("HOME", self.dir.path())
            .env_remove("XDG_CACHE_HOME")
            .stdin(Stdio::null());
        c
    }
}
