//! Every kind of SARIF document patrol writes — `scan`, `git` with history findings, `git
//! --range`, `staged`, and the failure document of an exit-2 run — against the SARIF 2.1.0
//! schema and, when Microsoft's SARIF multitool is installed, its GitHub (`Gh`) and GitHub
//! Advanced Security for Azure DevOps (`Ado`) ingestion rules. The `Ado` documents are made
//! under the variables an Azure Pipelines job sets. `.ci/run` installs the multitool and
//! names it in `PATROL_SARIF_MULTITOOL`; without it those checks are skipped with a message.

mod support;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::git::Repo;
use support::run::patrol_cmd;
use support::sarif::assert_schema_valid;
use support::tokens::pat;

/// Variables of an Azure Pipelines job, as the agent sets them.
const PIPELINE: &[(&str, &str)] = &[
    ("TF_BUILD", "True"),
    ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/contoso/"),
    ("SYSTEM_TEAMPROJECT", "web"),
    ("SYSTEM_DEFINITIONID", "12"),
    ("BUILD_DEFINITIONNAME", "web-ci"),
    ("SYSTEM_PHASEID", "3a3a2a60-14c7-570b-14a4-fa42ad92f52a"),
    ("SYSTEM_PHASENAME", "Job"),
    ("BUILD_SOURCEBRANCH", "refs/heads/main"),
    ("BUILD_BUILDID", "345"),
];

/// Run patrol in `dir` with `env`, writing SARIF to `out`; returns the exit code.
fn patrol_sarif(dir: &Path, args: &[&str], out: &Path, env: &[(&str, &str)]) -> i32 {
    let mut c = patrol_cmd(args, dir);
    c.args(["--format", "sarif", "--output"])
        .arg(out)
        .env_remove("TF_BUILD");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("patrol runs");
    o.status.code().unwrap_or(-1)
}

/// A repository with a token in history (removed since) and one still at HEAD, plus a staged
/// token; returns it with the first commit.
fn history_repo() -> (Repo, String) {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let first = repo.commit_all("first");
    repo.write("old.env", &format!("ADO_PAT={}\n", pat(41)));
    repo.write("app.env", &format!("ADO_PAT={}\n", pat(42)));
    repo.commit_all("tokens");
    std::fs::remove_file(repo.path().join("old.env")).unwrap();
    repo.commit_all("remove one");
    repo.write("staged.env", &format!("ADO_PAT={}\n", pat(43)));
    repo.git(&["add", "staged.env"]);
    (repo, first)
}

/// Every kind of document, made under `env`: (name, expected exit code, file).
fn documents(dir: &Path, env: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let (repo, first) = history_repo();
    let range = format!("{first}..HEAD");
    let runs: Vec<(&str, Vec<&str>, i32)> = vec![
        ("scan", vec!["scan", "."], 1),
        ("git", vec!["git"], 1),
        ("git-range", vec!["git", "--range", &range], 1),
        ("staged", vec!["staged"], 1),
        ("failure", vec!["git", "--range", "no-such-ref..HEAD"], 2),
    ];
    runs.into_iter()
        .map(|(name, args, code)| {
            let out = dir.join(format!("{name}.sarif"));
            let got = patrol_sarif(repo.path(), &args, &out, env);
            assert_eq!(got, code, "{name}: exit code");
            (
                name,
                std::fs::read_to_string(&out).expect("the SARIF file is written"),
            )
        })
        .collect()
}

#[test]
fn every_document_is_valid_and_says_what_ingestion_needs() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in documents(dir.path(), &[]) {
        assert_schema_valid(&text);
        for seed in 41..=43 {
            assert!(!text.contains(&pat(seed)), "{name}: raw secret");
        }
        let doc: Value = serde_json::from_str(&text).unwrap();
        let run = &doc["runs"][0];
        let category = match name {
            "failure" => "patrol/git-range/".to_string(),
            other => format!("patrol/{other}/"),
        };
        assert_eq!(run["automationDetails"]["id"], category.as_str(), "{name}");
        let driver = &run["tool"]["driver"];
        assert!(driver["fullName"].as_str().unwrap().starts_with("patrol"));
        for rule in driver["rules"].as_array().unwrap() {
            assert!(
                rule["helpUri"].as_str().unwrap().starts_with("https://"),
                "{name}: {rule}"
            );
        }
        let invocation = &run["invocations"][0];
        if name == "failure" {
            assert_eq!(invocation["executionSuccessful"], false);
            let note = &invocation["toolExecutionNotifications"][0];
            assert_eq!(note["level"], "error");
            assert!(
                note["message"]["text"]
                    .as_str()
                    .unwrap()
                    .contains("no-such-ref"),
                "{note}"
            );
            assert_eq!(run["results"].as_array().unwrap().len(), 0);
        } else {
            assert_eq!(invocation["executionSuccessful"], true, "{name}");
            assert!(!run["results"].as_array().unwrap().is_empty(), "{name}");
        }
    }
}

#[test]
fn sarif_category_option_names_the_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = history_repo();
    let out = dir.path().join("x.sarif");
    let code = patrol_sarif(
        repo.path(),
        &["git", "--sarif-category", "patrol-history"],
        &out,
        &[],
    );
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["runs"][0]["automationDetails"]["id"], "patrol-history/");
}

#[test]
fn azure_pipelines_runs_are_identified_as_advanced_security_expects() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in documents(dir.path(), PIPELINE) {
        assert_schema_valid(&text);
        let doc: Value = serde_json::from_str(&text).unwrap();
        let details = &doc["runs"][0]["automationDetails"];
        assert_eq!(
            details["id"],
            "azuredevops/pipeline/build/contoso/web/12/3a3a2a60-14c7-570b-14a4-fa42ad92f52a/refs/heads/main/345",
            "{name}"
        );
        assert_eq!(
            details["properties"]["azuredevops/pipeline/build/buildDefinitionName"],
            "web-ci"
        );
    }
}

/// The multitool's executable: `PATROL_SARIF_MULTITOOL`, the copy `.ci/run` installs under
/// target/, or `sarif-multitool` on PATH.
fn multitool() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PATROL_SARIF_MULTITOOL") {
        return Some(PathBuf::from(p));
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "target/ci-tools/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
    );
    if local.is_file() {
        return Some(local);
    }
    let on_path = Command::new("sarif-multitool").arg("--version").output();
    on_path
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("sarif-multitool"))
}

/// The multitool's findings (level, rule, file and message) for every `*.sarif` file in `dir`
/// under `rule_kind`, in one run (the tool takes seconds to start).
fn multitool_findings(tool: &Path, dir: &Path, rule_kind: &str) -> Vec<String> {
    let log = dir.join(format!("validation-{rule_kind}.json"));
    let out = Command::new(tool)
        .arg("validate")
        .arg(dir.join("*.sarif"))
        .args(["--rule-kind", rule_kind, "--level", "Error;Warning;Note"])
        .args(["--log", "ForceOverwrite", "--output"])
        .arg(&log)
        .output()
        .expect("the multitool runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && log.is_file(),
        "the multitool failed on {}: {said}",
        dir.display()
    );
    assert!(said.contains("5 files scanned"), "{said}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    assert_eq!(
        doc["runs"][0]["invocations"][0]["executionSuccessful"], true,
        "{said}"
    );
    doc["runs"][0]["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["level"] != "note" && r["kind"] != "pass")
                .map(|r| {
                    format!(
                        "{} {} in {}: {}",
                        r["level"],
                        r["ruleId"],
                        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                        r["message"]
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn github_and_azure_devops_ingestion_rules_pass() {
    let Some(tool) = multitool() else {
        eprintln!(
            "SKIPPED: Microsoft's SARIF multitool is not installed \
             (npm install @microsoft/sarif-multitool; .ci/run does and sets PATROL_SARIF_MULTITOOL)"
        );
        return;
    };
    let mut problems = Vec::new();
    for (env, kind) in [(&[][..], "Gh"), (PIPELINE, "Ado")] {
        let dir = tempfile::tempdir().unwrap();
        documents(dir.path(), env);
        problems.extend(multitool_findings(&tool, dir.path(), kind));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
