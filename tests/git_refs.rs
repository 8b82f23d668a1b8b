//! `patrol git --refs` (only what the named refs reach, so a branch build judges its own
//! branch) and baselines made from a history scan (`baseline create --from` a `patrol git`
//! JSON report), which then silence history findings on any branch.

mod support;
use support::git::{Repo, patrol_git};
use support::run::{patrol, patrol_cmd};
use support::tokens::pat;

/// `main` is clean; `topic` (as a fetched `origin/topic` would be) holds a token.
fn two_branches() -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("first");
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("topic.env", &format!("ADO_PAT={}\n", pat(51)));
    repo.commit_all("topic token");
    repo.git(&["checkout", "-q", "main"]);
    repo
}

#[test]
fn refs_limit_the_scan_to_what_they_reach() {
    let repo = two_branches();
    let all = patrol_git(&repo, &[]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    assert_eq!(all.findings().len(), 1);

    let head = patrol_git(&repo, &["--refs", "HEAD"]);
    assert_eq!(head.code, 0, "{}", head.stderr);
    assert!(head.findings().is_empty());

    let topic = patrol_git(&repo, &["--refs", "topic"]);
    assert_eq!(topic.code, 1, "{}", topic.stderr);
    assert_eq!(topic.findings()[0].1, "topic.env");
    let both = patrol_git(&repo, &["--refs", "HEAD,topic"]);
    assert_eq!(both.findings().len(), 1);

    let bad = patrol_git(&repo, &["--refs", "no-such-branch"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no-such-branch"), "{}", bad.stderr);
}

#[test]
fn a_baseline_made_from_a_history_report_silences_history_findings() {
    let repo = two_branches();
    let report = repo.path().join("history.json");
    let out = patrol_cmd(&["git", "--format", "json", "--output"], repo.path())
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = patrol(
        &["baseline", "create", "--from", "history.json"],
        repo.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let baseline = std::fs::read_to_string(repo.path().join(".patrol-baseline.json")).unwrap();
    assert!(!baseline.contains(&pat(51)));

    let run = patrol_git(&repo, &["--baseline", ".patrol-baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary("suppressed"), 1);

    // A new token on another branch is still reported.
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("other.env", &format!("ADO_PAT={}\n", pat(52)));
    repo.commit_all("other token");
    let run = patrol_git(&repo, &["--baseline", ".patrol-baseline.json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.findings().len(), 1);
    assert_eq!(run.findings()[0].1, "other.env");
}
