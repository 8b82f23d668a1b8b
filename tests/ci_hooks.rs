//! The workflows the docs promise: the installed pre-commit hook blocking a real `git commit`,
//! and the exact scan commands of `docs/azure-pipelines.md` and `docs/github-actions.md` (taken
//! from their parsed YAML) run against simulated pull requests, a new branch's push and a
//! default-branch push with a baseline made from history.

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

/// The pipeline YAML of a doc (its first ```yaml block), parsed.
fn doc_pipeline(doc: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(doc))
            .unwrap();
    let start = text.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + text[start..].find("```").expect("closed block");
    serde_yaml_ng::from_str(&text[start..end]).expect("the pipeline is valid YAML")
}

/// Every step of a parsed pipeline (`steps`, or each job's `steps`).
fn steps(pipeline: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = pipeline["steps"].as_array().cloned().unwrap_or_default();
    if let Some(jobs) = pipeline["jobs"].as_object() {
        for job in jobs.values() {
            out.extend(job["steps"].as_array().cloned().unwrap_or_default());
        }
    }
    out
}

/// The scan script of a doc's pipeline: the step whose `run` or `bash` holds the scan
/// markers, exactly as the YAML gives it, with CI variables replaced.
fn doc_script(doc: &str, vars: &[(&str, String)]) -> String {
    let pipeline = doc_pipeline(doc);
    let script = steps(&pipeline)
        .iter()
        .find_map(|s| {
            ["run", "bash"]
                .iter()
                .filter_map(|k| s[*k].as_str())
                .find(|t| t.contains("# --- patrol scan"))
                .map(str::to_string)
        })
        .expect("a step runs the scan");
    let mut script = script;
    for (k, v) in vars {
        script = script.replace(k, v);
    }
    assert!(
        !script.contains("$(Build") && !script.contains("$(System") && !script.contains("${{"),
        "unreplaced variable:\n{script}"
    );
    script
}

/// The test file a doc names as its test exists (docs once named one that did not).
#[test]
fn docs_name_test_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["azure-pipelines.md", "github-actions.md"] {
        let text = std::fs::read_to_string(root.join("docs").join(doc)).unwrap();
        for (i, _) in text.match_indices("tests/") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/_.".contains(*c))
                .collect();
            let name = name.trim_end_matches('.');
            assert!(
                root.join(name).exists(),
                "{doc} names {name}, which does not exist"
            );
        }
    }
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
        .env_remove("TF_BUILD")
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

/// Accept today's history (main's old token) as the recipes say: a baseline from a history
/// report, at `.patrol-baseline.json` in the checkout.
fn baseline_main(repo: &Repo) {
    for args in [
        &[
            "git",
            "--refs",
            "main",
            "--format",
            "json",
            "--output",
            ".git/history.json",
        ][..],
        &["baseline", "create", "--from", ".git/history.json"][..],
    ] {
        let out = patrol_in(repo.path(), args);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn sarif_doc(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sarif_uris(path: &Path) -> Vec<String> {
    sarif_doc(path)["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn code(out: &std::process::Output) -> Option<i32> {
    if out.status.code() == Some(2) {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.code()
}

#[test]
fn azure_pipelines_doc_commands_on_pull_requests_and_pushes() {
    let (repo, _base, clean, feature) = pull_request_repo();
    let staging = tempfile::tempdir().unwrap();
    let sarif = staging.path().join("CodeAnalysisLogs/patrol.sarif");
    let vars = |reason: &str| {
        vec![
            (
                "$(Build.ArtifactStagingDirectory)",
                staging.path().display().to_string(),
            ),
            ("$(Build.Reason)", reason.to_string()),
            (
                "$(System.PullRequest.TargetBranch)",
                "refs/heads/main".to_string(),
            ),
        ]
    };
    let pr = doc_script("azure-pipelines.md", &vars("PullRequest"));
    let push = doc_script("azure-pipelines.md", &vars("IndividualCI"));

    // Pull request adding a token: only that token.
    repo.git(&["checkout", "-q", &feature]);
    assert_eq!(code(&run_script(&repo, &pr)), Some(1));
    assert_eq!(sarif_uris(&sarif), ["new.env"]);
    assert!(
        !std::fs::read_to_string(&sarif)
            .unwrap()
            .contains(&token(902))
    );
    // A clean pull request passes although the target branch holds an old token.
    repo.git(&["checkout", "-q", &clean]);
    assert_eq!(code(&run_script(&repo, &pr)), Some(0));
    assert!(sarif_uris(&sarif).is_empty());

    // A new branch's first push: its whole history; main's old token fails it...
    repo.git(&["checkout", "-q", "clean"]);
    assert_eq!(code(&run_script(&repo, &push)), Some(1));
    assert_eq!(sarif_uris(&sarif), ["old.env"]);
    // ...until it is accepted in a baseline made from history; `feature`'s token, on
    // another branch, is not this build's concern.
    baseline_main(&repo);
    assert_eq!(code(&run_script(&repo, &push)), Some(0));
    assert!(sarif_uris(&sarif).is_empty());

    // The default branch's push with the baseline passes, and a run in a pipeline says which.
    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(code(&run_script(&repo, &push)), Some(0));
    // `feature` pushed: its own new token fails it, the baselined one does not.
    repo.git(&["checkout", "-q", "feature"]);
    assert_eq!(code(&run_script(&repo, &push)), Some(1));
    assert_eq!(sarif_uris(&sarif), ["new.env"]);
}

#[test]
fn github_actions_doc_commands_on_pull_requests_and_pushes() {
    let (repo, base, clean, feature) = pull_request_repo();
    let sarif = repo.path().join("patrol.sarif");
    let vars = |event: &str, head: &str| {
        vec![
            ("${{ github.event_name }}", event.to_string()),
            ("${{ github.event.pull_request.base.sha }}", base.clone()),
            (
                "${{ github.event.pull_request.head.sha }}",
                head.to_string(),
            ),
        ]
    };
    let pipeline = doc_pipeline("github-actions.md");
    assert_eq!(pipeline["permissions"]["actions"], "read");
    assert_eq!(pipeline["permissions"]["security-events"], "write");
    assert!(pipeline["on"]["schedule"].is_array());

    repo.git(&["checkout", "-q", &feature]);
    let out = run_script(
        &repo,
        &doc_script("github-actions.md", &vars("pull_request", &feature)),
    );
    assert_eq!(code(&out), Some(1));
    assert_eq!(sarif_uris(&sarif), ["new.env"]);
    assert_eq!(
        sarif_doc(&sarif)["runs"][0]["automationDetails"]["id"],
        "patrol-pr/"
    );

    repo.git(&["checkout", "-q", &clean]);
    let out = run_script(
        &repo,
        &doc_script("github-actions.md", &vars("pull_request", &clean)),
    );
    assert_eq!(code(&out), Some(0));
    assert!(sarif_uris(&sarif).is_empty());

    // A push to the default branch (or the schedule): the whole history HEAD reaches, so the
    // old token stays an open alert, in its own category.
    repo.git(&["checkout", "-q", "main"]);
    let push = doc_script("github-actions.md", &vars("push", ""));
    assert_eq!(code(&run_script(&repo, &push)), Some(1));
    assert_eq!(sarif_uris(&sarif), ["old.env"]);
    assert_eq!(
        sarif_doc(&sarif)["runs"][0]["automationDetails"]["id"],
        "patrol-history/"
    );
    baseline_main(&repo);
    assert_eq!(code(&run_script(&repo, &push)), Some(0));
    assert!(sarif_uris(&sarif).is_empty());

    // A pull request whose base is not in the clone fails (exit 2) and still leaves a SARIF
    // file that says so.
    let mut broken = vars("pull_request", &clean);
    broken[1].1 = "1".repeat(40);
    let out = run_script(&repo, &doc_script("github-actions.md", &broken));
    assert_eq!(out.status.code(), Some(2));
    let doc = sarif_doc(&sarif);
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}
