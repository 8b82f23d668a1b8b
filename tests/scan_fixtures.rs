//! The fixture tree (`fixtures/tree`, tokens rendered from markers at test time) scanned by
//! the real binary: every token found at its exact place, no lookalike reported.

mod support;
use serde_json::Value;
use support::findings::*;
use support::fixture::*;
use support::run::*;
use support::tokens::*;

fn scan_tree() -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    render_tree(&fixtures().join("tree"), dir.path());
    let (doc, out) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    assert_eq!(out.status.code(), Some(1), "findings mean exit 1");
    (dir, doc)
}

#[test]
fn fixture_tree_exact_findings() {
    let (_dir, doc) = scan_tree();
    let got: Vec<(String, u64, String, Option<String>)> = rows(
        &doc["findings"],
        &["path", "line", "rule_id", "organization"],
    );
    let pat = "azure-devops-pat";
    let idp = "azure-devops-pat-identifiable";
    let backup = format!("backup/{}.bak", marker_value("PAT", "95"));
    let expected: Vec<(&str, u64, &str, Option<&str>)> = vec![
        (".env", 1, pat, None),
        (".git-credentials", 1, idp, None),
        (".netrc", 3, pat, None),
        (".npmrc", 4, pat, Some("contoso")),
        ("NuGet.config", 9, pat, Some("contoso")),
        ("api.postman_collection.json", 1, pat, Some("postman-org")),
        ("appsettings.json", 4, idp, Some("settings-org")),
        ("azure-pipelines.yml", 6, pat, Some("contoso-eng")),
        // A token as a file's name, and as a symbolic link's target.
        (&backup, 1, pat, None),
        ("current", 1, pat, None),
        ("deploy/docker-config.json", 3, pat, None),
        ("deploy/docker-config.json", 4, "docker-config-auth", None),
        ("deploy/secret.yaml", 9, pat, Some("k8s-org")),
        ("deploy/wrapped.yaml", 8, pat, None),
        (
            "dist/site.tgz!config/appsettings.json",
            4,
            idp,
            Some("site-org"),
        ),
        ("infra/keys.env", 1, "azure-app-configuration-key", None),
        ("infra/keys.env", 2, "azure-cognitive-services-key", None),
        ("infra/main.tf", 3, idp, Some("terraform-org")),
        ("logs/pipeline.log.gz", 3, pat, Some("logs-org")),
        ("notebook.ipynb", 8, pat, Some("nb-org")),
        ("notebook.ipynb", 12, pat, Some("nb-org")),
        (
            "packages/contoso.1.0.0.nupkg!content/NuGet.config",
            5,
            pat,
            None,
        ),
        ("pip.conf", 2, pat, Some("contoso")),
        ("scripts/curl.sh", 2, pat, Some("acme")),
        ("scripts/curl.sh", 3, "http-basic-auth", None),
        ("scripts/curl.sh", 4, pat, Some("acme")),
        ("scripts/deploy.ps1", 2, pat, Some("contoso-eng")),
        ("scripts/deploy.ps1", 3, pat, Some("contoso-eng")),
        ("scripts/notes.txt", 2, pat, None),
        ("scripts/publish.sh", 2, pat, Some("contoso")),
        ("scripts/publish.sh", 4, pat, Some("contoso")),
        ("src/Program.cs", 8, idp, Some("fabrikam")),
    ];
    let expected: Vec<(String, u64, String, Option<String>)> = expected
        .into_iter()
        .map(|(p, l, r, o)| (p.to_string(), l, r.to_string(), o.map(str::to_string)))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(doc["summary"]["findings"], 32);
}

#[test]
fn fixture_secrets_and_columns_point_at_tokens() {
    let (_dir, doc) = scan_tree();
    let expected_secrets = values(&[
        ("PAT", "1"),
        ("APPPAT", "2"),
        ("PAT", "3"),
        ("IDPAT", "4"),
        ("PAT", "5"),
        ("PAT", "6"),
        ("PAT", "7"),
        ("IDPAT", "9"),
        ("PAT", "10"),
        ("PAT", "11"),
        ("PAT", "12"),
        ("IDPAT", "15"),
        ("PAT", "16"),
        ("IDPAT", "17"),
        ("PAT", "18"),
        ("PAT", "19"),
        ("PAT", "23"),
        ("PAT", "24"),
        ("KEY", "AZAC:21"),
        ("KEY", "ACOG:22"),
        ("PAT", "40"),
        ("PAT", "41"),
        ("IDPAT", "42"),
        ("PAT", "90"),
        ("PAT", "91"),
        ("PAT", "92"),
        ("PAT", "94"),
    ]);
    for f in doc["findings"].as_array().unwrap() {
        let secret = f["secret"].as_str().unwrap();
        let path = f["path"].as_str().unwrap();
        // A file's name or a link's target: the column counts in that text.
        let column = f["column"].as_u64().unwrap() as usize;
        match f["origin"].as_str() {
            Some("file_name") => {
                let name = path.rsplit('/').next().unwrap();
                assert!(name[column - 1..].starts_with(secret), "{f}");
                continue;
            }
            Some("link_target") => {
                let held = std::fs::read_to_string(template_path(&fixtures().join("tree"), path));
                let target = render_text(&held.unwrap());
                assert!(target[column - 1..].starts_with(secret), "{f}");
                continue;
            }
            _ => {}
        }
        // Archive members and gzipped files: the rendered template they were built from.
        let source = template_path(&fixtures().join("tree"), path);
        let text = render_text(&std::fs::read_to_string(source).unwrap());
        let line = text
            .lines()
            .nth(f["line"].as_u64().unwrap() as usize - 1)
            .unwrap();
        let at: String = line
            .chars()
            .skip(f["column"].as_u64().unwrap() as usize - 1)
            .collect();
        let end = f["end_column"].as_u64().unwrap() - f["column"].as_u64().unwrap();
        match f["encoding"].as_str() {
            // UTF-16 files: the template holds the text before it was encoded.
            None | Some("gzip") | Some("utf-16le") => {
                assert!(at.starts_with(secret), "{f}");
                assert_eq!(end as usize, secret.chars().count());
                assert!(
                    expected_secrets.values().any(|v| v == secret),
                    "unexpected secret in {f}"
                );
            }
            Some("base64") if f["rule_id"] != "http-basic-auth" => {
                // Points at the base64 text whose decoding holds the token; a block wrapped
                // in lines goes on on the lines after.
                let mut encoded: String = at.chars().take(end as usize).collect();
                if end == 76 {
                    let after = text.lines().skip(f["line"].as_u64().unwrap() as usize);
                    for more in after.map(str::trim).take_while(|l| !l.contains(' ')) {
                        encoded.push_str(more.trim_end_matches('='));
                    }
                }
                let decoded = base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD_NO_PAD,
                    encoded.trim_end_matches('='),
                )
                .map(|b| String::from_utf8(b).unwrap())
                .unwrap_or_else(|e| panic!("{f}: {e}"));
                assert!(decoded.contains(secret), "{f}");
            }
            Some(_) => assert!(
                ["deploy:Tr0ub4dor&3x", "robot:Hq7vLm2Ks9"].contains(&secret),
                "{f}"
            ),
        }
    }
}

#[test]
fn fingerprint_is_plain_sha256_only_for_checksummed_tokens() {
    use sha2::{Digest, Sha256};
    let (_dir, doc) = scan_tree();
    let checksummed: Vec<String> = patrol::rules::builtin_rules()
        .into_iter()
        .filter(|r| r.validator.is_some())
        .map(|r| r.id)
        .collect();
    for f in doc["findings"].as_array().unwrap() {
        let rule = f["rule_id"].as_str().unwrap();
        let input = format!("{rule}:{}", f["secret"].as_str().unwrap());
        let plain: String = Sha256::digest(input.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let got = f["fingerprint"].as_str().unwrap();
        // Tokens with a checksum: plain SHA-256. Anything else is keyed (see output_safety.rs).
        if checksummed.iter().any(|c| c == rule) {
            assert_eq!(got, plain, "{rule}");
        } else {
            assert_ne!(got, plain, "{rule}");
            assert_eq!(got.len(), 64, "{rule}");
        }
    }
    // The same PAT in plain text and inside base64 has one fingerprint.
    let fps: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["secret"] == pat(3).as_str())
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 1);
}

#[test]
fn default_output_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    render_tree(&fixtures().join("tree"), dir.path());
    let mut secrets: Vec<String> = (1..=22).map(pat).collect();
    secrets.extend((1..=22).map(app_pat));
    secrets.extend((1..=22).map(|n| id_key(n, "AZDO")));
    secrets.extend([pat(40), pat(41), id_key(42, "AZDO")]);
    secrets.extend((90..=96).map(pat));
    secrets.extend([
        id_key(21, "AZAC"),
        id_key(22, "ACOG"),
        "Tr0ub4dor&3x".to_string(),
    ]);
    for format in ["human", "json", "jsonl"] {
        let out = patrol(
            &["scan", ".", "--format", format, "--color", "always"],
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(1));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for s in &secrets {
            assert!(!all.contains(s.as_str()), "{format} output leaks a secret");
            assert!(
                !all.contains(&s[..12]),
                "{format} output shows more than 4 characters"
            );
        }
        assert!(
            all.contains(&format!("{}…", &pat(1)[..4])),
            "{format}: redacted form shown"
        );
    }
    let shown = patrol(&["scan", ".", "--show-secrets"], dir.path());
    assert!(String::from_utf8_lossy(&shown.stdout).contains(&pat(1)));
}

#[test]
fn lookalikes_alone_are_clean() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        render_text(&std::fs::read_to_string(fixtures().join("tree/lookalikes.txt")).unwrap());
    std::fs::write(dir.path().join("lookalikes.txt"), text).unwrap();
    let (doc, out) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    assert_eq!(doc["summary"]["files_scanned"], 1);
    // At low confidence the checksum-failing PAT next to a PAT variable shows up, and only then.
    std::fs::write(
        dir.path().join(".env"),
        format!("AZURE_DEVOPS_PAT={}\n", marker_value("BROKEN", "8")),
    )
    .unwrap();
    let (doc, _) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
    let (doc, _) = patrol_json(&["scan", ".", "--min-confidence", "low"], dir.path());
    assert_eq!(
        triples(&doc),
        vec![(".env".into(), 1, "azure-devops-pat-unchecked".into())]
    );
}

#[test]
fn every_rule_passes_its_examples() {
    let failures = patrol::cmd::check_rules(patrol::rules::builtin_rules()).unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    let out = patrol(&["rules", "check"], &fixtures());
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn rules_check_catches_a_broken_rule() {
    let dir = tempfile::tempdir().unwrap();
    let rule = r#"
[[rules]]
id = "demo-token"
name = "Demo"
description = "demo"
keywords = ["demo_"]
pattern = 'demo_(?P<secret>[0-9a-f]{16})'
severity = "low"
confidence = "high"
examples = ["demo_0123456789abcdef", "demo_short"]
negative_examples = ["demo_fedcba9876543210"]
"#;
    std::fs::write(dir.path().join("demo.toml"), rule).unwrap();
    let out = patrol(&["rules", "check", "--rules", "demo.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("demo-token: example 2 is not found"), "{err}");
    assert!(
        err.contains("demo-token: negative example 1 is reported"),
        "{err}"
    );
    // The custom rule also works in a scan.
    std::fs::write(dir.path().join("a.txt"), "key demo_0123456789abcdef\n").unwrap();
    let (doc, _) = patrol_json(&["scan", "a.txt", "--rules", "demo.toml"], dir.path());
    assert_eq!(
        triples(&doc),
        vec![("a.txt".into(), 1, "demo-token".into())]
    );
}

/// A misspelt provider would quietly turn off what hangs on it (organisation lookup,
/// `--verify`, the SARIF level, the advice): every way a rule file is loaded refuses it,
/// naming the file and the rule.
#[test]
fn a_rule_file_with_an_unknown_provider_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rule = r#"
[[rules]]
id = "demo-token"
name = "Demo"
description = "demo"
provider = "azure-devop"
keywords = ["demo_"]
pattern = 'demo_(?P<secret>[0-9a-f]{16})'
severity = "low"
confidence = "high"
"#;
    std::fs::write(dir.path().join("bad.toml"), rule).unwrap();
    std::fs::write(dir.path().join("other.toml"), "rules = [\"bad.toml\"]\n").unwrap();
    let runs: [&[&str]; 4] = [
        &["rules", "check", "--rules", "bad.toml"],
        &["scan", ".", "--rules", "bad.toml"],
        &["scan", ".", "--config", "other.toml"],
        &["rules", "list", "--config", "other.toml"],
    ];
    for args in runs {
        let out = patrol(args, dir.path());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("rule 1 ('demo-token') in bad.toml: unknown provider 'azure-devop'"),
            "{args:?}: {err}"
        );
        assert!(err.contains("azure-devops, github"), "{args:?}: {err}");
    }
    // `.patrol.toml`'s `rules` too.
    std::fs::rename(
        dir.path().join("other.toml"),
        dir.path().join(".patrol.toml"),
    )
    .unwrap();
    let out = patrol(&["scan", "."], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rule 1 ('demo-token') in "), "{err}");
    assert!(err.contains("bad.toml: unknown provider"), "{err}");
}

#[test]
fn own_repository_scans_clean_through_its_allow_mechanisms() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let (doc, out) = patrol_json(&["scan", "."], root);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert!(
        doc["summary"]["suppressed"].as_u64().unwrap() > 0,
        "the allow list is what keeps it clean"
    );
}
