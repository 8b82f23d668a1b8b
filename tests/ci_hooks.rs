//! The workflows the docs promise: the installed pre-commit hook blocking a real `git commit`,
//! and the exact scan commands of `docs/azure-pipelines.md` and `docs/github-actions.md` (taken
//! from their parsed YAML) run against simulated pull requests, a new branch's push and a
//! default-branch push with a baseline made from history.

mod support;
use std::path::Path;
use std::process::Command;
use support::git::Repo;
use support::run::{path_with_patrol, patrol};
use support::sarif::uris;
use support::tokens::pat;

#[test]
fn installed_hook_blocks_a_staged_token_and_passes_a_clean_commit() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let first = repo.commit_all("first");
    let out = patrol(&["install-hook"], repo.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = repo.path().join(".git/hooks/pre-commit");
    assert!(hook.is_file());
    // Refuses to overwrite without --force.
    let again = patrol(&["install-hook"], repo.path());
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        patrol(&["install-hook", "--force"], repo.path())
            .status
            .code(),
        Some(0)
    );

    repo.write("config.env", &format!("ADO_PAT={}\n", pat(900)));
    repo.git(&["add", "config.env"]);
    let blocked = repo
        .command(&["commit", "-q", "-m", "add config"])
        .output()
        .unwrap();
    assert!(!blocked.status.success(), "the hook must block the commit");
    let said = String::from_utf8_lossy(&blocked.stdout).to_string()
        + &String::from_utf8_lossy(&blocked.stderr);
    assert!(said.contains("config.env:1"), "{said}");
    assert!(!said.contains(&pat(900)), "the hook output is redacted");
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

/// A YAML file of the repository (`action.yml`, `templates/patrol.yml`), parsed.
fn repo_yaml(rel: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"))
}

/// Every step of a parsed pipeline or action (`steps`, `runs.steps`, each job's `steps`, and
/// the steps of a template's `${{ if … }}` insertions).
fn steps(pipeline: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut out: Vec<serde_json::Value> = Vec::new();
    let mut lists = vec![pipeline["steps"].clone(), pipeline["runs"]["steps"].clone()];
    if let Some(jobs) = pipeline["jobs"].as_object() {
        lists.extend(jobs.values().map(|j| j["steps"].clone()));
    }
    while let Some(list) = lists.pop() {
        for step in list.as_array().cloned().unwrap_or_default() {
            match step.as_object() {
                Some(o) if o.len() == 1 && o.keys().all(|k| k.starts_with("${{ if")) => {
                    lists.extend(o.values().cloned())
                }
                _ => out.push(step),
            }
        }
    }
    out
}

/// The step of `pipeline` that runs `task` (Azure) or `uses` an action starting with it.
fn step_using(pipeline: &serde_json::Value, what: &str) -> serde_json::Value {
    steps(pipeline)
        .into_iter()
        .find(|s| {
            ["task", "uses"]
                .iter()
                .any(|k| s[*k].as_str().is_some_and(|v| v.starts_with(what)))
        })
        .unwrap_or_else(|| panic!("no step uses {what}"))
}

/// The text of the step of `pipeline` whose `run`, `script` or `bash` contains `needle`.
fn step_text(pipeline: &serde_json::Value, needle: &str) -> String {
    steps(pipeline)
        .iter()
        .find_map(|s| {
            ["run", "bash", "script"]
                .iter()
                .filter_map(|k| s[*k].as_str())
                .find(|t| t.contains(needle))
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no step runs {needle}"))
}

/// The scan script of `action.yml` or `templates/patrol.yml`: the step holding the scan
/// markers, exactly as the YAML gives it, with CI variables and inputs replaced.
fn scan_script(file: &str, vars: &[(&str, String)]) -> String {
    let mut script = step_text(&repo_yaml(file), "# --- patrol scan");
    for (k, v) in vars {
        script = script.replace(k, v);
    }
    for unreplaced in ["$(Build", "$(System", "$(Agent", "${{"] {
        assert!(
            !script.contains(unreplaced),
            "unreplaced variable:\n{script}"
        );
    }
    script
}

/// The test file a doc names as its test exists (docs once named one that did not).
#[test]
fn docs_name_test_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in [
        "docs/azure-pipelines.md",
        "docs/github-actions.md",
        "action.yml",
        "templates/patrol.yml",
    ] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
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
    run_script_with(repo, script, &[])
}

fn run_script_with(repo: &Repo, script: &str, env: &[(&str, &Path)]) -> std::process::Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(repo.path())
        .env("PATH", path_with_patrol())
        .env_remove("TF_BUILD")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// main holds an old token; `feature` adds a new one; `clean` adds nothing secret.
fn pull_request_repo() -> (Repo, String, String, String) {
    let repo = Repo::new();
    repo.write("old.env", &format!("ADO_PAT={}\n", pat(901)));
    let base = repo.commit_all("old token, already known");
    repo.git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    repo.git(&["checkout", "-q", "-b", "clean"]);
    repo.write("docs.md", "no secrets here\n");
    let clean = repo.commit_all("docs");
    repo.git(&["checkout", "-q", "-b", "feature", &base]);
    repo.write("new.env", &format!("NEW_PAT={}\n", pat(902)));
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
        let out = patrol(args, repo.path());
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
    uris(&sarif_doc(path))
}

fn code(out: &std::process::Output) -> Option<i32> {
    if out.status.code() == Some(2) {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.code()
}

/// The pipeline of `docs/azure-pipelines.md` runs `templates/patrol.yml`, which installs a
/// pinned revision with `cargo install --locked` behind `Cache@2`, scans once (SARIF and
/// summary) and publishes; its scan script, run as the template gives it, judges pull requests
/// and pushes.
#[test]
fn azure_pipelines_template_on_pull_requests_and_pushes() {
    let doc = doc_pipeline("azure-pipelines.md");
    let use_template = steps(&doc)
        .into_iter()
        .find(|s| s["template"] == "templates/patrol.yml@patrol")
        .expect("the doc's pipeline runs the template");
    for p in ["gitUrl", "rev"] {
        assert!(use_template["parameters"][p].is_string(), "{use_template}");
    }
    assert_eq!(doc["resources"]["repositories"][0]["repository"], "patrol");
    assert!(steps(&doc).iter().any(|s| s["fetchDepth"] == 0));

    let template = repo_yaml("templates/patrol.yml");
    let cache = step_using(&template, "Cache@2");
    assert_eq!(cache["inputs"]["cacheHitVar"], "PATROL_CACHED");
    assert!(
        cache["inputs"]["key"]
            .as_str()
            .unwrap()
            .contains("${{ parameters.rev }}")
    );
    let install = steps(&template)
        .into_iter()
        .find(|s| {
            s["script"]
                .as_str()
                .is_some_and(|t| t.contains("cargo install"))
        })
        .expect("an install step");
    assert!(
        install["script"].as_str().unwrap().contains(
            "cargo install --locked --git \"${{ parameters.gitUrl }}\" --rev \"${{ parameters.rev }}\""
        ),
        "{install}"
    );
    assert_eq!(install["condition"], "ne(variables.PATROL_CACHED, 'true')");
    for task in ["PublishBuildArtifacts@1", "AdvancedSecurity-Publish@1"] {
        assert_eq!(
            step_using(&template, task)["condition"],
            "succeededOrFailed()"
        );
    }

    let (repo, _base, clean, feature) = pull_request_repo();
    let staging = tempfile::tempdir().unwrap();
    let agent_temp = tempfile::tempdir().unwrap();
    let sarif = staging.path().join("CodeAnalysisLogs/patrol.sarif");
    let summary = agent_temp.path().join("patrol-summary.md");
    let vars = |reason: &str| {
        vec![
            (
                "$(Build.ArtifactStagingDirectory)",
                staging.path().display().to_string(),
            ),
            (
                "$(Agent.TempDirectory)",
                agent_temp.path().display().to_string(),
            ),
            ("$(Build.Reason)", reason.to_string()),
            (
                "$(System.PullRequest.TargetBranch)",
                "refs/heads/main".to_string(),
            ),
            (
                "${{ parameters.baseline }}",
                ".patrol-baseline.json".to_string(),
            ),
            ("${{ parameters.args }}", String::new()),
        ]
    };
    let pr = scan_script("templates/patrol.yml", &vars("PullRequest"));
    let push = scan_script("templates/patrol.yml", &vars("IndividualCI"));

    // Pull request adding a token: only that token, in the SARIF file and in the summary the
    // same run wrote (printed to the log and attached to the build).
    repo.git(&["checkout", "-q", &feature]);
    let out = run_script(&repo, &pr);
    assert_eq!(code(&out), Some(1));
    assert_eq!(sarif_uris(&sarif), ["new.env"]);
    assert!(!std::fs::read_to_string(&sarif).unwrap().contains(&pat(902)));
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("new.env:1"), "{log}");
    assert!(log.contains("##vso[task.uploadsummary]"), "{log}");
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("1 finding")
    );
    assert!(!log.contains(&pat(902)));
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

    // The default branch's push with the baseline passes.
    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(code(&run_script(&repo, &push)), Some(0));
    // `feature` pushed: its own new token fails it, the baselined one does not.
    repo.git(&["checkout", "-q", "feature"]);
    assert_eq!(code(&run_script(&repo, &push)), Some(1));
    assert_eq!(sarif_uris(&sarif), ["new.env"]);
}

/// The workflow of `docs/github-actions.md` uses patrol's composite action (`action.yml`),
/// which installs the pinned source with `cargo install --locked` behind `actions/cache`,
/// scans once (SARIF, log and step summary) and uploads; its scan script, run as the action
/// gives it, judges pull requests and pushes.
#[test]
fn github_action_on_pull_requests_and_pushes() {
    let workflow = doc_pipeline("github-actions.md");
    assert_eq!(workflow["permissions"]["actions"], "read");
    assert_eq!(workflow["permissions"]["security-events"], "write");
    assert!(workflow["on"]["schedule"].is_array());
    let uses = steps(&workflow)
        .into_iter()
        .filter_map(|s| s["uses"].as_str().map(str::to_string))
        .find(|u| u.contains("/patrol@"))
        .expect("the workflow uses patrol's action");
    let pin = uses.rsplit('@').next().unwrap();
    assert!(
        pin.len() == 40 && pin.bytes().all(|b| b.is_ascii_hexdigit()),
        "pinned to a full commit id: {uses}"
    );

    let action = repo_yaml("action.yml");
    assert_eq!(action["runs"]["using"], "composite");
    let cache = step_using(&action, "actions/cache@");
    assert_eq!(cache["with"]["key"], "${{ steps.key.outputs.key }}");
    let install = step_text(&action, "cargo install");
    assert!(
        install.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\""),
        "{install}"
    );
    let upload = step_using(&action, "github/codeql-action/upload-sarif@");
    assert!(upload["if"].as_str().unwrap().starts_with("always()"));

    let (repo, base, clean, feature) = pull_request_repo();
    let sarif = repo.path().join("patrol.sarif");
    let runner = tempfile::tempdir().unwrap();
    let step_summary = runner.path().join("step-summary.md");
    let output = runner.path().join("output");
    let env: [(&str, &Path); 3] = [
        ("RUNNER_TEMP", runner.path()),
        ("GITHUB_STEP_SUMMARY", &step_summary),
        ("GITHUB_OUTPUT", &output),
    ];
    let vars = |event: &str, head: &str| {
        vec![
            ("${{ github.event_name }}", event.to_string()),
            ("${{ github.event.pull_request.base.sha }}", base.clone()),
            (
                "${{ github.event.pull_request.head.sha }}",
                head.to_string(),
            ),
            (
                "${{ inputs.baseline }}",
                ".patrol-baseline.json".to_string(),
            ),
            ("${{ inputs.args }}", String::new()),
            ("${{ inputs.sarif-file }}", "patrol.sarif".to_string()),
        ]
    };

    repo.git(&["checkout", "-q", &feature]);
    let out = run_script_with(
        &repo,
        &scan_script("action.yml", &vars("pull_request", &feature)),
        &env,
    );
    assert_eq!(code(&out), Some(1));
    assert_eq!(sarif_uris(&sarif), ["new.env"]);
    assert_eq!(
        sarif_doc(&sarif)["runs"][0]["automationDetails"]["id"],
        "patrol-pr/"
    );
    // The same run wrote the log and the step summary.
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("new.env:1"), "{log}");
    let written = std::fs::read_to_string(&step_summary).unwrap();
    assert!(
        written.contains("new.env:1") && written.contains("```text"),
        "{written}"
    );
    assert!(!written.contains(&pat(902)));
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains("exit-code=1")
    );

    repo.git(&["checkout", "-q", &clean]);
    let out = run_script_with(
        &repo,
        &scan_script("action.yml", &vars("pull_request", &clean)),
        &env,
    );
    assert_eq!(code(&out), Some(0));
    assert!(sarif_uris(&sarif).is_empty());

    // A push to the default branch (or the schedule): the whole history HEAD reaches, so the
    // old token stays an open alert, in its own category.
    repo.git(&["checkout", "-q", "main"]);
    let push = scan_script("action.yml", &vars("push", ""));
    assert_eq!(code(&run_script_with(&repo, &push, &env)), Some(1));
    assert_eq!(sarif_uris(&sarif), ["old.env"]);
    assert_eq!(
        sarif_doc(&sarif)["runs"][0]["automationDetails"]["id"],
        "patrol-history/"
    );
    baseline_main(&repo);
    assert_eq!(code(&run_script_with(&repo, &push, &env)), Some(0));
    assert!(sarif_uris(&sarif).is_empty());

    // A pull request whose base is not in the clone fails (exit 2) and still leaves a SARIF
    // file that says so.
    let mut broken = vars("pull_request", &clean);
    broken[1].1 = "1".repeat(40);
    let out = run_script_with(&repo, &scan_script("action.yml", &broken), &env);
    assert_eq!(out.status.code(), Some(2));
    let doc = sarif_doc(&sarif);
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}
