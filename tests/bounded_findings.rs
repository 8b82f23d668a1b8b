//! Findings stay bounded whatever a file holds: a secret is reported once per file with an
//! occurrence count, distinct secrets are capped per file and per run (with a note), and
//! keyword-dense text is still searched correctly. Timing is measured by
//! benches/findings_flood.sh, not here.

mod support;

use support::fixture::write;
use support::run::run;
use support::tokens::{b64, pats};

#[test]
fn a_repeated_secret_is_one_finding_with_a_count_and_its_first_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let t = &pats(11, 1)[0];
    let mut text = String::from("header\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "{i} INFO using AZURE_DEVOPS_EXT_PAT={t} for the feed\n"
        ));
    }
    write(dir.path(), "build.log", &text);
    let r = run(&["scan", ".", "--format", "json"], dir.path());
    assert_eq!(r.code(), Some(1), "{}", r.stderr);
    let doc = r.json();
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{}", doc["summary"]);
    assert_eq!(findings[0]["occurrences"], 20_000);
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(doc["summary"]["findings"], 1);
    assert_eq!(doc["summary"]["capped"], 0);

    let r = run(&["scan", ".", "--color", "never"], dir.path());
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.contains("(20000 times in this file)"), "{out}");
}

#[test]
fn distinct_secrets_are_capped_per_file_with_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text: String = pats(12, 150).iter().map(|t| format!("PAT={t}\n")).collect();
    write(dir.path(), "many.env", &text);
    let r = run(&["scan", ".", "--format", "json"], dir.path());
    assert_eq!(r.code(), Some(1), "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"].as_array().expect("findings").len(), 100);
    assert_eq!(doc["summary"]["capped"], 50);
    assert!(
        r.stderr.contains("50 more findings not reported"),
        "{}",
        r.stderr
    );
    // The first ones by position are kept.
    assert_eq!(doc["findings"][99]["line"], 100);
    let r = run(&["scan", ".", "--color", "never"], dir.path());
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(out.contains("50 more not reported (capped)"), "{out}");
}

#[test]
fn findings_are_capped_per_run_with_a_note() {
    let dir = tempfile::tempdir().expect("temp dir");
    let all = pats(13, 10_050);
    for (i, chunk) in all.chunks(100).enumerate() {
        let text: String = chunk.iter().map(|t| format!("PAT={t}\n")).collect();
        write(dir.path(), &format!("f{i:03}.env"), &text);
    }
    let r = run(&["scan", ".", "--format", "json"], dir.path());
    assert_eq!(r.code(), Some(1), "{}", r.stderr);
    let doc = r.json();
    assert_eq!(doc["findings"].as_array().expect("findings").len(), 10_000);
    assert_eq!(doc["summary"]["findings"], 10_000);
    assert_eq!(doc["summary"]["capped"], 50);
    assert!(
        r.stderr.contains("50 more findings not reported"),
        "{}",
        r.stderr
    );
    assert_eq!(doc["findings"][9_999]["path"], "f099.env");
}

/// Text made of one keyword over and over is read in segments, not a window per keyword hit;
/// a credential inside or after such a stretch is still found, once.
#[test]
fn keyword_dense_text_still_yields_its_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cred = b64("deploy:Tr0ub4dor&3xQ");
    let dense = "_auth=".repeat(50_000);
    write(
        dir.path(),
        ".npmrc",
        format!("{dense}_auth={cred}\n{dense}\n_auth={cred} {dense}_auth={cred}\n"),
    );
    let r = run(&["scan", ".", "--format", "json"], dir.path());
    assert_eq!(r.code(), Some(1), "{}", r.stderr);
    let doc = r.json();
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{doc}");
    assert_eq!(findings[0]["rule_id"], "npmrc-auth");
    assert_eq!(findings[0]["line"], 1);
    assert_eq!(findings[0]["column"], 300_001 + 6);
    assert_eq!(findings[0]["occurrences"], 3);
}
