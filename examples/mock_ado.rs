//! A mock Azure DevOps organization for benchmarks (`benches/ado_org.sh`): serves every bare
//! repository `ROOT/PROJECT/REPO.git` as organization `contoso` on 127.0.0.1 (REST listing plus
//! smart HTTP through `git http-backend`), accepting only the token in `MOCK_ADO_TOKEN`.
//! Prints its base URL (for `PATROL_ADO_BASE_URL`) and serves until killed.
//!
//! usage: MOCK_ADO_TOKEN=… cargo run --release --example mock_ado -- ROOT

#[path = "../tests/support/ado/server.rs"]
mod server;

use serde_json::json;
use std::io::Write;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: mock_ado ROOT"));
    let token = std::env::var("MOCK_ADO_TOKEN").expect("MOCK_ADO_TOKEN is set");
    let mut projects = Vec::new();
    let mut repos = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("ROOT is a folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for (p, dir) in dirs.iter().enumerate() {
        let project = dir.file_name().unwrap().to_string_lossy().into_owned();
        let project_id = format!("20000000-0000-0000-0000-{p:012}");
        projects.push(json!({"id": project_id, "name": project}));
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_suffix(".git")
                    .map(str::to_string)
            })
            .collect();
        names.sort();
        for name in names {
            repos.push((project_id.clone(), project.clone(), name));
        }
    }
    let state = server::State {
        auth: Mutex::new(server::basic(&token)),
        log: Mutex::new(Vec::new()),
        git_root: root,
        projects,
        repos: Mutex::new(Vec::new()),
        definitions: Vec::new(),
        groups: Vec::new(),
        broken_git: Vec::new(),
        redirected_git: Mutex::new(None),
        html_git: Mutex::new(None),
        foreign_base: Mutex::new(String::new()),
        held_repo: Mutex::new(None),
        hold: AtomicBool::new(false),
        // No faults: this measures scanning, not backoff.
        throttled: AtomicBool::new(true),
        failed_once: AtomicBool::new(true),
    };
    let mock = server::Mock::start(state);
    let base = mock.base.clone();
    let listed = repos
        .iter()
        .enumerate()
        .map(|(i, (pid, project, name))| {
            json!({
                "id": format!("30000000-0000-0000-0000-{i:012}"),
                "name": name,
                "project": {"id": pid, "name": project},
                "remoteUrl": format!("{base}/{}/{project}/_git/{name}", server::ORG),
                "defaultBranch": "refs/heads/main",
                "size": dir_size(&mock.state.git_root.join(project).join(format!("{name}.git"))),
            })
        })
        .collect();
    *mock.state.repos.lock().unwrap() = listed;
    println!("{base}");
    std::io::stdout().flush().unwrap();
    // Keep the listener threads alive.
    let _keep = Arc::clone(&mock.state);
    loop {
        std::thread::park();
    }
}

/// Bytes of the files under `dir` (the `size` the API reports).
fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                total += e.metadata().map_or(0, |m| m.len());
            }
        }
    }
    total
}
