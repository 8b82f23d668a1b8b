//! The workflows the docs promise: the installed pre-commit hook blocking a real `git commit`,
//! and the exact scan commands of `docs/azure-pipelines.md` and `docs/github-actions.md` run
//! against a repository with a pull-request branch.

mod gitutil;
use gitutil::{Repo, token};
use std::path::Path;
use std::process::Command;

fn patrol_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("patrol runs")
}

#[test]
fn installed_hook_blocks_a_staged_token_and_passes_a_clean_commit() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let first = repo.commit_all("first");
    let out = patrol_in(repo.path(), &["install-hook"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = repo.path().join(".git/hooks/pre-commit");
    assert!(hook.is_file());
    // Refuses to overwrite without --force.
    let again = patrol_in(repo.path(), &["install-hook"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        patrol_in(repo.path(), &["install-hook", "--force"])
            .status
            .code(),
        Some(0)
    );

    repo.write("config.env", &format!("ADO_PAT={}\n", token(900)));
    repo.git(&["add", "config.env"]);
    let blocked = repo
        .command(&["commit", "-q", "-m", "add config"])
        .output()
        .unwrap();
    assert!(!blocked.status.success(), "the hook must block the commit");
    let said = String::from_utf8_lossy(&blocked.stdout).to_string()
        + &String::from_utf8_lossy(&blocked.stderr);
    assert!(said.contains("config.env:1"), "{said}");
    assert!(!said.contains(&token(900)), "the hook output is redacted");
    assert_eq!(repo.rev("HEAD"), first, "nothing was committed");

    repo.write("config.env", "ADO_PAT=$(ADO_PAT)\n");
    repo.git(&["add", "config.env"]);
    let ok = repo
        .command(&["commit", "-q", "-m", "add config"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_ne!(repo.rev("HEAD"), first);
}

/// The lines between the scan markers in a doc's pipeline, with CI variables replaced.
fn doc_script(doc: &str, vars: &[(&str, String)]) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(doc))
            .unwrap();
    let start = text.find("# --- patrol scan").expect("start marker");
    let end = text.find("# --- end patrol scan ---").expect("end marker");
    let mut script = text[start..end]
        .lines()
        .map(str::trim_start)
        .collect::<Vec<_>>()
        .join("\n");
    for (k, v) in vars {
        script = script.replace(k, v);
    }
    assert!(
        !script.contains("$(Build") && !script.contains("${{"),
        "unreplaced variable:\n{script}"
    );
    format!("set -uo pipefail\n{script}\n")
}

fn run_script(repo: &Repo, script: &str) -> std::process::Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_patrol")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo.path())
        .env("PATH", path)
        .output()
        .unwrap()
}

/// main holds an old token; `feature` adds a new one; `clean` adds nothing secret.
fn pull_request_repo() -> (Repo, String, String, String) {
    let repo = Repo::new();
    repo.write("old.env", &format!("ADO_PAT={}\n", token(901)));
    let base = repo.commit_all("old token, already known");
    repo.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    repo.git(&["checkout", "-q", "-b", "clean"]);
    repo.write("docs.md", "no secrets here\n");
    let clean = repo.commit_all("docs");
    repo.git(&["checkout", "-q", "-b", "feature", &base]);
    repo.write("new.env", &format!("NEW_PAT={}\n", token(902)));
    let feature = repo.commit_all("new token");
    (repo, base, clean, feature)
}

fn sarif_results(path: &Path) -> Vec<serde_json::Value> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["runs"][0]["results"].as_array().unwrap().clone()
}

#[test]
fn azure_pipelines_doc_commands_fail_on_a_new_token_only() {
    let (repo, _base, clean, _feature) = pull_request_repo();
    let staging = tempfile::tempdir().unwrap();
    let vars = vec![
        (
            "$(Build.ArtifactStagingDirectory)",
            staging.path().display().to_string(),
        ),
        ("$(Build.Reason)", "PullRequest".to_string()),
        (
            "$(System.PullRequest.TargetBranch)",
            "refs/heads/main".to_string(),
        ),
    ];
    let script = doc_script("azure-pipelines.md", &vars);
    let out = run_script(&repo, &script);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sarif = staging.path().join("CodeAnalysisLogs/patrol.sarif");
    let results = sarif_results(&sarif);
    assert_eq!(results.len(), 1, "only the pull request's token");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "new.env"
    );
    assert!(
        !std::fs::read_to_string(&sarif)
            .unwrap()
            .contains(&token(902))
    );

    repo.git(&["checkout", "-q", &clean]);
    let out = run_script(&repo, &script);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sarif_results(&sarif).is_empty());
}

#[test]
fn github_actions_doc_commands_fail_on_a_new_token_only() {
    let (repo, base, clean, feature) = pull_request_repo();
    let vars = |head: &str| {
        vec![
            ("${{ github.event_name }}", "pull_request".to_string()),
            ("${{ github.event.pull_request.base.sha }}", base.clone()),
            (
                "${{ github.event.pull_request.head.sha }}",
                head.to_string(),
            ),
            ("${{ github.event.before }}", String::new()),
            ("${{ github.sha }}", head.to_string()),
        ]
    };
    let out = run_script(&repo, &doc_script("github-actions.md", &vars(&feature)));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = sarif_results(&repo.path().join("patrol.sarif"));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "azure-devops-pat");

    std::fs::remove_file(repo.path().join("patrol.sarif")).unwrap();
    repo.git(&["checkout", "-q", &clean]);
    let out = run_script(&repo, &doc_script("github-actions.md", &vars(&clean)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A push whose `before` is gone (force-push) fails loudly instead of passing unscanned.
    let push = vec![
        ("${{ github.event_name }}", "push".to_string()),
        ("${{ github.event.pull_request.base.sha }}", String::new()),
        ("${{ github.event.pull_request.head.sha }}", String::new()),
        ("${{ github.event.before }}", "1".repeat(40)),
        ("${{ github.sha }}", clean.clone()),
    ];
    let out = run_script(&repo, &doc_script("github-actions.md", &push));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
