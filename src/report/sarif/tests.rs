//! Unit tests of the SARIF reporter's pure helpers and document shape (the binary-level tests
//! live in `tests/sarif.rs`).

use super::*;
use crate::detect::checksum::LegacyKind;
use crate::fake::{FakeRng, legacy_pat};
use crate::finding::{CommitInfo, Secret, Summary, Verification, plain_fingerprint};
use crate::rules::{Confidence, Provider, Severity};
use serde_sarif::sarif::ResultLevel;

fn finding(secret: &str, rule_id: &str, provider: Provider, severity: Severity) -> Finding {
    Finding {
        rule_id: rule_id.to_string(),
        rule_name: "Some token".to_string(),
        provider,
        path: "dir with space/é.txt".to_string(),
        member: None,
        line: 3,
        column: 5,
        end_line: 3,
        end_column: 5 + secret.chars().count(),
        secret: Secret::new(secret.to_string()),
        fingerprint: plain_fingerprint(rule_id, secret),
        line_hash: "0123456789abcdef".to_string(),
        confidence: Confidence::High,
        severity,
        organization: None,
        organization_source: None,
        encoding: None,
        commit: None,
        origin: None,
        unreachable: false,
        verification: Verification::NotChecked,
        place: None,
        occurrences: 1,
        at_head: None,
    }
}

fn report<'a>(findings: &'a [Finding], summary: &'a Summary, show: bool) -> Report<'a> {
    Report {
        findings,
        summary,
        show_secrets: show,
        color: false,
        quiet: false,
        rules: &[],
        repository: None,
        root: None,
        category: "patrol/test",
        pipeline: None,
    }
}

fn token(seed: u64) -> String {
    legacy_pat(&mut FakeRng::new(seed), LegacyKind::UserPat)
}

#[test]
fn severity_and_precision_mapping() {
    assert_eq!(security_severity(Severity::Critical), "9.5");
    assert_eq!(security_severity(Severity::High), "8.0");
    assert_eq!(security_severity(Severity::Medium), "5.5");
    assert_eq!(security_severity(Severity::Low), "3.0");
    assert_eq!(precision(Confidence::High, true), "very-high");
    assert_eq!(precision(Confidence::High, false), "high");
    assert_eq!(precision(Confidence::Medium, true), "medium");
    assert_eq!(precision(Confidence::Low, false), "low");
}

#[test]
fn level_is_error_for_ado_and_for_valid_tokens() {
    let t = token(1);
    let ado = finding(
        &t,
        "azure-devops-pat",
        Provider::AzureDevops,
        Severity::Critical,
    );
    assert_eq!(level(&ado), ResultLevel::Error);
    let mut basic = finding(&t, "http-basic-auth", Provider::Generic, Severity::Medium);
    assert_eq!(level(&basic), ResultLevel::Warning);
    assert_eq!(result_security_severity(&basic), "5.5");
    basic.verification = Verification::Valid {
        identity: None,
        organization: None,
        reach: None,
    };
    assert_eq!(level(&basic), ResultLevel::Error);
    assert_eq!(result_security_severity(&basic), "9.5");
    basic.verification = Verification::Invalid;
    assert_eq!(level(&basic), ResultLevel::Warning);
}

#[test]
fn artifact_uris_are_encoded_and_relative() {
    let a = artifact_location("dir with space/é.txt");
    assert_eq!(a.uri.as_deref(), Some("dir%20with%20space/%C3%A9.txt"));
    assert_eq!(a.uri_base_id.as_deref(), Some(SRCROOT));
    let a = artifact_location("./a:b/c#d?.txt");
    assert_eq!(a.uri.as_deref(), Some("a%3Ab/c%23d%3F.txt"));
    let a = artifact_location("/tmp/x y");
    assert_eq!(a.uri.as_deref(), Some("file:///tmp/x%20y"));
    assert_eq!(a.uri_base_id, None);
    let a = artifact_location("C:\\src\\a.txt");
    assert_eq!(a.uri.as_deref(), Some("file:///C:/src/a.txt"));
    // Never outside %SRCROOT%.
    let a = artifact_location("a/../../etc/passwd");
    assert_eq!(a.uri.as_deref(), Some("a/etc/passwd"));
    let a = artifact_location("../.././x//y");
    assert_eq!(a.uri.as_deref(), Some("x/y"));
}

#[test]
fn repository_uris_lose_credentials() {
    let t = token(2);
    let with_pat = format!("https://ci:{t}@dev.azure.com/contoso/app/_git/app");
    assert_eq!(
        repository_uri(&with_pat).as_deref(),
        Some("https://dev.azure.com/contoso/app/_git/app")
    );
    assert_eq!(
        repository_uri("git@github.com:contoso/app.git").as_deref(),
        Some("ssh://github.com/contoso/app.git")
    );
    assert_eq!(
        repository_uri("/srv/repos/my app").as_deref(),
        Some("file:///srv/repos/my%20app")
    );
    assert_eq!(
        repository_uri("https://example.org/r.git?access_token=x#frag").as_deref(),
        Some("https://example.org/r.git")
    );
    for mangled in [
        format!("https:/x:{t}@dev.azure.com/contoso/_git/app"),
        format!("https:x:{t}@dev.azure.com/contoso/_git/app"),
        format!("https:///x:{t}@dev.azure.com/contoso/_git/app"),
    ] {
        assert_eq!(
            repository_uri(&mangled).as_deref(),
            Some("https://dev.azure.com/contoso/_git/app"),
            "{mangled}"
        );
    }
    assert_eq!(repository_uri(&format!("x:{t}@host")), None);
    assert_eq!(
        repository_uri(&format!("x:{t}@host:org/app.git")).as_deref(),
        Some("ssh://host/org/app.git")
    );
    assert_eq!(
        repository_uri("github.com:contoso/app.git").as_deref(),
        Some("ssh://github.com/contoso/app.git")
    );
    assert_eq!(repository_uri("relative/dir"), None);
    assert_eq!(repository_uri(""), None);
}

#[test]
fn line_hash_occurrences_count_per_file() {
    let t = token(3);
    let a = finding(
        &t,
        "azure-devops-pat",
        Provider::AzureDevops,
        Severity::Critical,
    );
    let mut b = a.clone();
    b.column = 70;
    let mut c = a.clone();
    c.path = "other.txt".into();
    let findings = vec![a, b, c];
    let summary = Summary::default();
    let doc = document(&report(&findings, &summary, false));
    let hashes: Vec<_> = doc.runs[0]
        .results
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.partial_fingerprints.as_ref().unwrap()["primaryLocationLineHash"].clone())
        .collect();
    assert_eq!(
        hashes,
        [
            "0123456789abcdef:1",
            "0123456789abcdef:2",
            "0123456789abcdef:1"
        ]
    );
}

#[test]
fn secret_only_with_show_secrets_and_rules_sorted() {
    let t = token(4);
    let mut a = finding(&t, "zz-rule", Provider::Generic, Severity::Low);
    a.commit = Some(CommitInfo {
        id: "a".repeat(40),
        author_name: "A".into(),
        author_email: "a@example.org".into(),
        date: "2024-01-01T00:00:00Z".into(),
        summary: "add config".into(),
    });
    a.organization = Some("contoso".into());
    let b = finding(&t, "aa-rule", Provider::AzureDevops, Severity::Critical);
    let findings = vec![a, b];
    let summary = Summary::default();
    let hidden = render(&report(&findings, &summary, false));
    assert!(!hidden.contains(&t));
    assert!(hidden.contains(&format!("'{}…'", &t[..4])));
    assert!(!hidden.contains("{organization}"), "no placeholder link");
    assert!(hidden.contains("https://aex.dev.azure.com/me"));
    let shown = render(&report(&findings, &summary, true));
    assert!(shown.contains(&t));

    let doc = document(&report(&findings, &summary, false));
    let run = &doc.runs[0];
    let ids: Vec<_> = run
        .tool
        .driver
        .rules
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["aa-rule", "zz-rule"]);
    let results = run.results.as_ref().unwrap();
    assert_eq!(results[0].rule_index, Some(1));
    assert_eq!(results[1].rule_index, Some(0));
    let props = &results[0]
        .properties
        .as_ref()
        .unwrap()
        .additional_properties;
    assert_eq!(props["commit"]["id"], json!("a".repeat(40)));
    assert_eq!(props["organization"], json!("contoso"));
    let text = results[0].message.text.as_deref().unwrap();
    assert!(text.contains("in commit aaaaaaaaaaaa"), "{text}");
}

#[test]
fn organisation_fills_the_token_page() {
    let t = token(5);
    let mut f = finding(
        &t,
        "azure-devops-pat",
        Provider::AzureDevops,
        Severity::Critical,
    );
    f.organization = Some("fabrikam".into());
    let findings = vec![f];
    let summary = Summary::default();
    let out = render(&report(&findings, &summary, false));
    assert!(out.contains("https://dev.azure.com/fabrikam/_usersSettings/tokens"));
}

#[test]
fn truncates_at_the_limit() {
    assert_eq!(truncated(MAX_RESULTS), None);
    assert!(truncated(MAX_RESULTS + 1).unwrap().contains("25000"));
    let t = token(6);
    let f = finding(
        &t,
        "azure-devops-pat",
        Provider::AzureDevops,
        Severity::Critical,
    );
    let findings = vec![f; MAX_RESULTS + 2];
    let summary = Summary::default();
    let doc = document(&report(&findings, &summary, false));
    assert_eq!(doc.runs[0].results.as_ref().unwrap().len(), MAX_RESULTS);
    let inv = &doc.runs[0].invocations.as_ref().unwrap()[0];
    assert!(inv.tool_execution_notifications.is_some());
}

#[test]
fn version_control_provenance_when_a_repository_is_known() {
    let repo = RepositoryInfo {
        uri: "https://user:pw@example.org/r.git".into(),
        revision: Some("b".repeat(40)),
        branch: Some("main".into()),
    };
    let summary = Summary::default();
    let mut r = report(&[], &summary, false);
    r.repository = Some(&repo);
    let doc = document(&r);
    let vcp = &doc.runs[0].version_control_provenance.as_ref().unwrap()[0];
    assert_eq!(vcp.repository_uri, "https://example.org/r.git");
    assert_eq!(vcp.branch.as_deref(), Some("main"));
}

#[test]
fn windows_repository_paths_are_file_uris() {
    assert_eq!(
        repository_uri("C:\\repos\\app").as_deref(),
        Some("file:///C:/repos/app")
    );
}
