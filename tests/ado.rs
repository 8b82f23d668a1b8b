//! `patrol ado` against a mock Azure DevOps organization on 127.0.0.1 (tests/support/ado): REST
//! enumeration with paging and faults, clones over real smart HTTP (`git http-backend`),
//! pipeline variables, the incremental record, failures that do not stop the run, Ctrl-C.

mod support;

use serde_json::Value;
use std::path::Path;
use support::ado::{ORG, Org, basic};
use support::findings::rows;
use support::fixture::files;
use support::run::Report;
use support::sarif::assert_schema_valid;
use support::tokens::pat;

fn run(org: &Org, cache: &Path, args: &[&str]) -> Report {
    let out = org
        .command(cache, args)
        .args(["--format", "json", "--color", "never"])
        .output()
        .unwrap();
    Report::from_output(out)
}

/// (repository, path, line, rule) of every finding, sorted.
fn places(doc: &Value) -> Vec<(String, String, u64, String)> {
    let mut v: Vec<_> = rows(&doc["findings"], &["repository", "path", "line", "rule_id"]);
    v.sort();
    v
}

fn finding_places() -> Vec<(String, String, u64, String)> {
    let pat = "azure-devops-pat".to_string();
    let mut v: Vec<_> = [
        ("alpha", ".library/shared/variables", 1),
        ("alpha", ".pipelines/ci/variables", 1),
        ("alpha/alpha.wiki", "Home.md", 2),
        ("alpha/app", "config.yml", 2),
        ("alpha/app", "pr.txt", 1),
        ("alpha/app-fork", "config.yml", 2),
        ("alpha/app-fork", "notes.txt", 1),
        ("beta/svc", "deploy.sh", 1),
    ]
    .iter()
    .map(|(r, p, l)| (format!("{ORG}/{r}"), p.to_string(), *l, pat.clone()))
    .collect();
    v.sort();
    v
}

fn org_summary(doc: &Value) -> &Value {
    &doc["summary"]["organization"]
}

/// Names of the repositories in a summary list (`skipped` or `failed`).
fn names(doc: &Value, list: &str) -> Vec<String> {
    org_summary(doc)[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["repository"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scans_the_whole_organization() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    let out = run(&org, &cache, &["--show-secrets"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(places(&out.json), finding_places(), "{}", out.stderr);
    // Pull-request refs are scanned: pr.txt exists only on refs/pull/1/merge.
    let pr = out.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "pr.txt")
        .unwrap();
    assert_eq!(pr["secret"], pat(8));
    // The web link points at the line at the introducing commit.
    let commit = pr["commit"]["id"].as_str().unwrap();
    assert_eq!(
        pr["web_url"],
        format!(
            "{}/{ORG}/alpha/_git/app?path=/pr.txt&version=GC{commit}&line=1&lineEnd=1&lineStartColumn=22&lineEndColumn=74&lineStyle=plain&_a=contents",
            org.mock.base
        )
    );
    let var = out.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == ".pipelines/ci/variables")
        .unwrap();
    assert_eq!(var["item"], "pipeline 'ci' (id 12) variable DEPLOY_PAT");
    assert_eq!(var["secret"], pat(5));
    // The secret variable's value (which this mock wrongly sends) is never reported, even
    // with --show-secrets; nor is the token.
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(&pat(6)));
        assert!(!text.contains(&org.token));
    }
    assert_eq!(names(&out.json, "skipped"), [format!("{ORG}/alpha/old")]);
    assert_eq!(
        names(&out.json, "failed"),
        [
            format!("{ORG}/beta/broken"),
            format!("{ORG}/beta/elsewhere")
        ]
    );
    let s = org_summary(&out.json);
    assert_eq!(s["repositories_scanned"], 5);
    assert_eq!(s["pipelines_scanned"], 2);
    assert_eq!(
        s["variable_groups_scanned"], 1,
        "a shared group is read once"
    );

    // The token went only to the mock, in the right header, and only to the expected calls.
    assert_eq!(
        org.mock
            .foreign_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let log = org.mock.log();
    let auth = basic(&org.token);
    for seen in &log {
        assert_eq!(seen.auth.as_deref(), Some(auth.as_str()), "{seen:?}");
        let t = &seen.target;
        let api = t.starts_with(&format!("/{ORG}/_apis/projects?$top=100&api-version=7.1"))
            || t.starts_with(&format!(
                "/{ORG}/_apis/git/repositories?includeHidden=true&api-version=7.1"
            ))
            || t.ends_with("/_apis/build/definitions?includeAllProperties=true&api-version=7.1")
            || t.ends_with("/_apis/distributedtask/variablegroups?api-version=7.1");
        let git =
            t.ends_with("/info/refs?service=git-upload-pack") || t.ends_with("/git-upload-pack");
        assert!(api || git, "unexpected request {t}");
    }
    // Paging, the 429 and the transient 500 were all met and got through.
    let count = |needle: &str| log.iter().filter(|s| s.target.contains(needle)).count();
    assert_eq!(
        count("continuationToken=p2"),
        2,
        "page 2 of projects: 500, then retried"
    );
    assert_eq!(count("_apis/git/repositories"), 3, "429, page 1, page 2");
    assert!(count("/_git/broken/") >= 1);

    // The cache is private and holds no token.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let encoded = auth.trim_start_matches("Basic ");
    for f in files(&cache) {
        let bytes = std::fs::read(&f).unwrap();
        for needle in [org.token.as_bytes(), encoded.as_bytes()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds the token",
                f.display()
            );
        }
    }
}

#[test]
fn reruns_read_only_what_changed() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    let first = run(&org, &cache, &[]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert_eq!(first.json["summary"]["files_scanned"], 12);
    // Blobs that held findings are read again (to report them again); each repository finding
    // here is in a blob of its own.
    let finding_blobs = places(&first.json)
        .iter()
        .filter(|p| !p.1.starts_with('.'))
        .count() as u64;
    assert_eq!(finding_blobs, 6);

    let again = run(&org, &cache, &[]);
    assert_eq!(places(&again.json), places(&first.json));
    assert_eq!(again.json["summary"]["files_scanned"], finding_blobs);
    assert_eq!(org_summary(&again.json)["blobs_known"], 12 - finding_blobs);

    // One push to one repository: two new blobs.
    let svc = org.work("svc");
    svc.write("notes/new.txt", "nothing to see\n");
    svc.write("leak.env", &format!("AZURE_DEVOPS_EXT_PAT={}\n", pat(9)));
    svc.commit_all("two new files");
    org.push("svc");
    let new_blobs = svc
        .git(&["diff-tree", "-r", "--no-commit-id", "HEAD"])
        .lines()
        .count() as u64;
    assert_eq!(new_blobs, 2);
    let after = run(&org, &cache, &[]);
    assert_eq!(
        after.json["summary"]["files_scanned"],
        finding_blobs + new_blobs
    );
    let mut expected = finding_places();
    expected.push((
        format!("{ORG}/beta/svc"),
        "leak.env".into(),
        1,
        "azure-devops-pat".into(),
    ));
    expected.sort();
    assert_eq!(places(&after.json), expected);
    assert!(
        after.stderr.contains("beta/svc: 3 blobs read"),
        "{}",
        after.stderr
    );

    // Another rule set (here: a different confidence threshold) starts from nothing.
    let other = run(&org, &cache, &["--min-confidence", "high"]);
    assert_eq!(other.json["summary"]["files_scanned"], 14);
}

/// A repository whose git server answers a redirect fails: the fetch (which carries the
/// token) is not sent on to where the redirect points. One that answers an HTML page (a
/// sign-in page) fails too, as not a git server. The other repositories go on.
#[test]
fn a_redirected_or_html_fetch_fails_and_is_not_followed() {
    let org = Org::build();
    *org.mock.state.redirected_git.lock().unwrap() = Some("svc".into());
    *org.mock.state.html_git.lock().unwrap() = Some("tools".into());
    let cache = org.dir.path().join("cache");
    let out = run(&org, &cache, &[]);
    let failed: Vec<(String, String)> =
        rows(&org_summary(&out.json)["failed"], &["repository", "reason"]);
    let reason = |name: &str| {
        failed
            .iter()
            .find(|(r, _)| r == &format!("{ORG}/{name}"))
            .map(|(_, why)| why.clone())
            .unwrap_or_else(|| panic!("{name} did not fail: {failed:?}"))
    };
    assert!(reason("beta/svc").contains("redirects are not followed"));
    assert!(reason("gamma/tools").contains("not a smart git server"));
    assert_eq!(
        org.mock
            .foreign_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert_eq!(org_summary(&out.json)["repositories_scanned"], 3);
}

#[test]
fn a_wrong_token_is_refused_and_never_shown() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    let wrong = pat(55);
    let out = org
        .command(&cache, &[])
        .env("AZURE_DEVOPS_EXT_PAT", &wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(!stderr.contains(&wrong));
    assert!(out.stdout.is_empty());
    // No token at all: refused before any request, and never taken from the command line.
    let none = org
        .command(&cache, &[])
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no token"));
}

#[test]
fn bearer_tokens_filters_and_list() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    // A System.AccessToken-shaped JWT goes as Bearer, to the API and to git alike.
    let jwt = format!("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ{}.c2ln", &pat(60)[..20]);
    *org.mock.state.auth.lock().unwrap() = format!("Bearer {jwt}");
    let out = org
        .command(
            &cache,
            &[
                "--project",
                "beta",
                "--project",
                "alpha",
                "--exclude",
                "*/app*",
                "--forks",
                "exclude",
                "--no-pipelines",
                "--format",
                "json",
            ],
        )
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .env("SYSTEM_ACCESSTOKEN", &jwt)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let got: Vec<String> = places(&doc)
        .into_iter()
        .map(|p| format!("{}:{}", p.0, p.1))
        .collect();
    assert_eq!(
        got,
        [
            format!("{ORG}/alpha/alpha.wiki:Home.md"),
            format!("{ORG}/beta/svc:deploy.sh")
        ]
    );
    assert!(
        !org.mock
            .log()
            .iter()
            .any(|s| s.target.contains("gamma") || s.target.contains("definitions"))
    );

    // --list prints the plan and clones nothing; --token-env names the variable.
    let before = org.mock.log().len();
    let list = org
        .command(
            &cache,
            &["--list", "--forks", "exclude", "--token-env", "MY_TOKEN"],
        )
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .env("SYSTEM_ACCESSTOKEN", "ignored")
        .env("MY_TOKEN", &jwt)
        .output()
        .unwrap();
    assert_eq!(list.status.code(), Some(0));
    let table = String::from_utf8_lossy(&list.stdout);
    assert!(table.contains("contoso/gamma/tools"), "{table}");
    assert!(table.contains("fork (--forks exclude)"), "{table}");
    assert!(table.contains("disabled"), "{table}");
    assert!(
        !org.mock.log()[before..]
            .iter()
            .any(|s| s.target.contains("_git"))
    );
}

#[test]
fn sarif_has_one_run_per_repository() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    let out = org
        .command(&cache, &["--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_schema_valid(&text);
    assert!(
        !text.contains(&format!("{ORG}@")),
        "no user part in repository URIs"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    let runs: Vec<(String, usize, Option<String>)> = doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["automationDetails"]["id"].as_str().unwrap().to_string(),
                r["results"].as_array().unwrap().len(),
                r["versionControlProvenance"][0]["repositoryUri"]
                    .as_str()
                    .map(str::to_string),
            )
        })
        .collect();
    let base = &org.mock.base;
    let repo = |name: &str, n: usize| {
        let (project, repo) = name.split_once('/').unwrap();
        (
            format!("patrol/ado/{ORG}/{name}/"),
            n,
            Some(format!("{base}/{ORG}/{project}/_git/{repo}")),
        )
    };
    assert_eq!(
        runs,
        [
            (format!("patrol/ado/{ORG}/alpha/"), 2, None),
            repo("alpha/alpha.wiki", 1),
            repo("alpha/app", 2),
            repo("alpha/app-fork", 2),
            repo("beta/svc", 1),
            repo("gamma/tools", 0),
        ]
    );
}

#[test]
fn ctrl_c_then_rerun_gives_the_same_report() {
    let org = Org::build();
    // The uninterrupted report, from a cache of its own.
    let fresh = run(&org, &org.dir.path().join("fresh"), &["--jobs", "1"]);
    assert_eq!(fresh.code, 1, "{}", fresh.stderr);

    // Stop a run while it waits on beta/svc (after the alpha repositories are done).
    let cache = org.dir.path().join("cache");
    *org.mock.state.held_repo.lock().unwrap() = Some("svc".into());
    org.mock
        .state
        .hold
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let child = org
        .command(&cache, &["--jobs", "1", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let before = fresh_log_len(&org);
    while !org.mock.log()[before..]
        .iter()
        .any(|s| s.target.contains("/_git/svc/"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached svc"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: signalling the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let stopped = child.wait_with_output().unwrap();
    org.mock
        .state
        .hold
        .store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(stopped.status.code(), Some(130));
    assert!(stopped.stdout.is_empty(), "no report after Ctrl-C");

    let resumed = run(&org, &cache, &["--jobs", "1"]);
    assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    // The repositories finished before Ctrl-C are not read again in full.
    assert!(
        resumed.json["summary"]["files_scanned"].as_u64()
            < fresh.json["summary"]["files_scanned"].as_u64(),
        "{}",
        resumed.stderr
    );
    let report = |doc: &Value| {
        let mut d = doc.clone();
        for k in ["elapsed_ms", "files_scanned", "bytes_scanned", "blobs"] {
            d["summary"][k] = Value::Null;
        }
        d["summary"]["organization"]["blobs_known"] = Value::Null;
        d
    };
    assert_eq!(report(&resumed.json), report(&fresh.json));
}

fn fresh_log_len(org: &Org) -> usize {
    org.mock.log().len()
}

/// The human summary lists repositories scanned, skipped and failed with their reasons, and
/// the commits, blobs, bytes and time read; every PAT found is attributed to the organization
/// (so `--verify` checks it there).
#[test]
fn the_summary_says_what_was_scanned_skipped_and_failed() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    let json = run(&org, &cache, &[]);
    for f in json.json["findings"].as_array().unwrap() {
        assert_eq!(f["organization"], ORG, "{f}");
        assert_eq!(f["organization_source"], "remote", "{f}");
    }
    let out = org.command(&cache, &["--color", "never"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "commits, ",
        "unique blobs, ",
        " scanned in ",
        "8 findings",
        &format!("{ORG}: 5 of 7 repositories scanned"),
        "blobs already scanned clean were not read again",
        "2 pipelines and 1 variable groups; 1 skipped, 2 failed",
        &format!("skipped {ORG}/alpha/old: disabled in Azure DevOps"),
        &format!("FAILED {ORG}/beta/broken: fetch failed"),
        &format!("FAILED {ORG}/beta/elsewhere: its clone URL is not on"),
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

/// `--verify` inside `patrol ado`: each PAT found is checked against the organization it was
/// found in (here the mock, through the test override). The mock refuses every token but the
/// organization's; a token found in an organization may still belong to another, so each is
/// `unknown`, its reason naming how the organization was known (before: "guessed from the
/// text near the token", which was not how). Each check carries the found token, not the
/// organization's, and nothing reaches another host.
#[test]
fn verify_checks_each_pat_against_its_organization() {
    let org = Org::build();
    let cache = org.dir.path().join("cache");
    let out = run(&org, &cache, &["--verify"]);
    let pats: Vec<&Value> = out.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "azure-devops-pat")
        .collect();
    assert!(!pats.is_empty(), "{}", out.stderr);
    for f in &pats {
        assert_eq!(f["organization_source"], "remote", "{f}");
        assert_eq!(f["verification"]["status"], "unknown", "{f}");
        let reason = f["verification"]["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with(&format!(
                "rejected by '{ORG}', an organisation guessed as the one whose repository \
                 held the token"
            )),
            "{reason}"
        );
    }
    let checks: Vec<_> = org
        .mock
        .log()
        .into_iter()
        .filter(|s| s.target.contains("_apis/connectionData"))
        .collect();
    assert!(!checks.is_empty());
    let org_auth = basic(&org.token);
    for c in &checks {
        assert!(c.target.starts_with(&format!("/{ORG}/")), "{c:?}");
        assert_ne!(c.auth.as_deref(), Some(org_auth.as_str()), "{c:?}");
        assert!(
            c.auth.as_deref().is_some_and(|a| a.starts_with("Basic ")),
            "{c:?}"
        );
    }
    assert_eq!(
        org.mock
            .foreign_hits
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}
