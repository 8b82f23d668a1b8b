//! `--format sarif` end to end: the real binary on a fixture tree of generated tokens. Checks
//! the schema, the pinned document (insta), that no raw secret leaks, byte-identical reruns,
//! levels and scores, and that regions point at the tokens.

mod support;

use patrol::finding::{CommitInfo, RepositoryInfo, Summary};
use patrol::report::{self, Format, Report};
use patrol::rules::builtin_rules;
use patrol::scan::{Location, ScanOptions, scan_blob};
use serde_json::Value;
use support::sarif::{
    Planted, SEED, assert_schema_valid, fixture, position, scan_sarif, schema_errors,
    without_version,
};
use support::tokens::pat;

fn results(doc: &Value) -> &Vec<Value> {
    doc["runs"][0]["results"].as_array().expect("results")
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).expect("SARIF is JSON")
}

fn assert_no_secret(doc: &str, planted: &[Planted]) {
    for p in planted {
        assert!(
            !doc.contains(&p.secret),
            "raw secret of {} at {} in the SARIF",
            p.rule_id,
            p.path
        );
    }
}

#[test]
fn fixture_tree_snapshot() {
    let (dir, planted) = fixture();
    let run = scan_sarif(dir.path(), &[]);
    assert_eq!(run.code, 1, "findings give exit code 1: {}", run.stderr);
    assert_no_secret(&run.stdout, &planted);
    insta::assert_snapshot!("fixture_tree", without_version(&run.stdout));
}

#[test]
fn every_document_is_schema_valid() {
    let (dir, _) = fixture();
    for args in [
        &[][..],
        &["--show-secrets"][..],
        &["--min-confidence", "low"][..],
    ] {
        let run = scan_sarif(dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert_schema_valid(&run.stdout);
    }
    let empty = tempfile::tempdir().unwrap();
    let run = scan_sarif(empty.path(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_schema_valid(&run.stdout);
    assert!(results(&parse(&run.stdout)).is_empty());
}

#[test]
fn schema_check_is_not_vacuous() {
    let (dir, _) = fixture();
    let mut doc = parse(&scan_sarif(dir.path(), &[]).stdout);
    doc["runs"][0]["results"][0]["level"] = Value::from("fatal");
    doc["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = Value::from("not a uri");
    let errors = schema_errors(&doc.to_string());
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn raw_secrets_only_with_show_secrets() {
    let (dir, planted) = fixture();
    let hidden = scan_sarif(dir.path(), &[]);
    assert_no_secret(&hidden.stdout, &planted);
    assert_no_secret(&hidden.stderr, &planted);

    let shown = scan_sarif(dir.path(), &["--show-secrets"]);
    let doc = parse(&shown.stdout);
    for (p, r) in planted.iter().zip(results(&doc)) {
        assert_eq!(r["properties"]["secret"], Value::from(p.secret.as_str()));
        // Even then the message shows it redacted.
        assert!(!r["message"]["text"].as_str().unwrap().contains(&p.secret));
    }
}

#[test]
fn same_input_gives_byte_identical_sarif() {
    let (dir, _) = fixture();
    let first = scan_sarif(dir.path(), &["--threads", "1"]);
    let second = scan_sarif(dir.path(), &["--threads", "2"]);
    assert_eq!(first.stdout, second.stdout);
    // A second copy of the tree elsewhere gives the same document too: URIs are relative.
    let (other, _) = fixture();
    assert_eq!(first.stdout, scan_sarif(other.path(), &[]).stdout);
}

#[test]
fn levels_scores_and_regions() {
    let (dir, planted) = fixture();
    let doc = parse(&scan_sarif(dir.path(), &[]).stdout);
    let run = &doc["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "azure-devops-pat",
            "azure-devops-pat-identifiable",
            "http-basic-auth"
        ]
    );
    let results = results(&doc);
    assert_eq!(results.len(), planted.len());
    for (p, r) in planted.iter().zip(results) {
        assert_eq!(r["ruleId"], p.rule_id);
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], p.rule_id);
        let (level, score) = if p.rule_id == "http-basic-auth" {
            ("warning", "5.5")
        } else {
            ("error", "9.5")
        };
        assert_eq!(r["level"], level, "{}", p.rule_id);
        assert_eq!(rule["properties"]["security-severity"], score);
        assert_eq!(r["properties"]["security-severity"], score);
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&Value::from("security")) && tags.contains(&Value::from("secret")));

        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        let encoded = p.path.replace(' ', "%20").replace('ï', "%C3%AF");
        assert_eq!(uri, encoded);
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let text = std::fs::read_to_string(dir.path().join(p.path)).unwrap();
        let (line, col) = position(&text, &p.text);
        let region = &loc["region"];
        assert_eq!(region["startLine"], line as u64, "{}", p.path);
        assert_eq!(region["endLine"], line as u64);
        assert_eq!(region["startColumn"], col as u64, "{}", p.path);
        let end = col + p.text.chars().count();
        assert_eq!(region["endColumn"], end as u64, "{}", p.path);

        let fp = &r["partialFingerprints"];
        assert!(
            fp["primaryLocationLineHash"]
                .as_str()
                .unwrap()
                .ends_with(":1")
        );
        assert_eq!(fp["patrol/secretHash/v1"].as_str().unwrap().len(), 64);
    }
    // The organisation near a token fills in its token page.
    let msg = results[0]["message"]["text"].as_str().unwrap();
    assert!(
        msg.contains("https://dev.azure.com/contoso/_usersSettings/tokens"),
        "{msg}"
    );
    assert_eq!(results[0]["properties"]["organization"], "contoso");
}

#[test]
fn secret_hash_survives_moved_lines() {
    let (dir, planted) = fixture();
    let before = parse(&scan_sarif(dir.path(), &[]).stdout);
    let path = dir.path().join(planted[0].path);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("\n\n# moved down\n{text}")).unwrap();
    let after = parse(&scan_sarif(dir.path(), &[]).stdout);
    let key = |d: &Value| results(d)[0]["partialFingerprints"]["patrol/secretHash/v1"].clone();
    assert_eq!(key(&before), key(&after));
    let line = |d: &Value| {
        results(d)[0]["locations"][0]["physicalLocation"]["region"]["startLine"].clone()
    };
    assert_ne!(line(&before), line(&after));
}

/// A run reports at most 10,000 findings (`MAX_FINDINGS_PER_RUN`), so the binary no longer
/// reaches GitHub's limit; the SARIF writer still enforces it for library callers.
#[test]
fn more_than_25000_findings_are_truncated_with_a_warning() {
    let token = pat(SEED);
    let matcher = patrol::detect::Matcher::new(builtin_rules()).unwrap();
    let text = format!("{token}\n");
    let opts = ScanOptions::default();
    let one = scan_blob(&matcher, text.as_bytes(), &opts)
        .findings_at(&Location::file("many.txt"), &opts)
        .remove(0);
    let findings: Vec<_> = (1..=25_003)
        .map(|line| {
            let mut f = one.clone();
            f.line = line;
            f.end_line = line;
            f
        })
        .collect();
    let warning = patrol::report::sarif::truncated(findings.len()).expect("over the limit");
    assert!(
        warning.contains("first 25000 of 25003 findings"),
        "{warning}"
    );
    let summary = Summary::default();
    let report = Report {
        findings: &findings,
        summary: &summary,
        show_secrets: false,
        color: false,
        quiet: false,
        rules: &[],
        repository: None,
        root: None,
        category: "patrol/scan",
        pipeline: None,
    };
    let doc = parse(&report::render(Format::Sarif, &report));
    assert_eq!(results(&doc).len(), 25_000);
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["level"], "warning");
}

/// History findings (commit metadata, one repository) through the library, until `patrol git`
/// can drive this through the binary.
#[test]
fn history_findings_snapshot() {
    let token = pat(SEED + 1);
    let text = format!("pat: {token}  # dev.azure.com/contoso\n");
    let rules = builtin_rules();
    let matcher = patrol::detect::Matcher::new(rules.clone()).unwrap();
    let opts = ScanOptions::default();
    let mut findings = scan_blob(&matcher, text.as_bytes(), &opts)
        .findings_at(&Location::file("ci/azure-pipelines.yml"), &opts);
    assert_eq!(findings.len(), 1);
    findings[0].commit = Some(CommitInfo {
        id: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
        author_name: "Dev Eloper".into(),
        author_email: "dev@example.org".into(),
        date: "2024-06-01T12:00:00+00:00".into(),
        summary: "Add pipeline".into(),
    });
    // A clone URL holding the token: the document must not show it.
    let clone_url = format!("https://build:{token}@dev.azure.com/contoso/web/_git/web"); // patrol:allow
    let repo = RepositoryInfo {
        uri: clone_url,
        revision: Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".into()),
        branch: Some("main".into()),
    };
    let summary = Summary::default();
    let report = Report {
        findings: &findings,
        summary: &summary,
        show_secrets: false,
        color: false,
        quiet: false,
        rules: &rules,
        repository: Some(&repo),
        root: None,
        category: "patrol/git",
        pipeline: None,
    };
    let doc = report::render(Format::Sarif, &report);
    assert!(
        !doc.contains(&token),
        "no raw secret, not even from the remote URL"
    );
    assert_schema_valid(&doc);
    insta::assert_snapshot!("history_findings", without_version(&doc));
}
