//! Credentials without a checksum: published samples and JSON/JWT after `Basic` are never
//! reported, test-data conventions and test files lower confidence, and a checksum-valid token
//! keeps its confidence wherever it stands.

mod support;

use base64::Engine;
use patrol::detect::Matcher;
use patrol::fake::{self, FakeRng};
use patrol::rules::{Confidence, builtin_rules};
use patrol::scan::{Location, ScanOptions, scan_blob};
use support::tokens::b64;

fn findings(text: &str, path: &str) -> Vec<(String, Confidence)> {
    let matcher = Matcher::new(builtin_rules()).unwrap();
    let opts = ScanOptions {
        min_confidence: Confidence::Low,
        ..ScanOptions::default()
    };
    scan_blob(&matcher, text.as_bytes(), &opts)
        .findings_at(&Location::file(path), &opts)
        .into_iter()
        .map(|f| (f.rule_id, f.confidence))
        .collect()
}

#[derive(serde::Deserialize)]
struct Samples {
    sample: Vec<Sample>,
}

#[derive(serde::Deserialize)]
struct Sample {
    user: String,
    password: String,
    source: String,
}

const REAL: &str = "deploy:Tr0ub4dor&3x";

#[test]
fn published_samples_are_never_reported_and_a_real_credential_beside_them_is() {
    let file: Samples = toml::from_str(include_str!("../data/published-samples.toml")).unwrap();
    assert!(file.sample.len() >= 8);
    for s in &file.sample {
        assert!(!s.source.is_empty());
        let cred = format!("{}:{}", s.user, s.password);
        let text = format!(
            "Authorization: Basic {}\nAuthorization: Basic {}\n",
            b64(&cred),
            b64(REAL)
        );
        let got = findings(&text, "src/client.py");
        assert_eq!(
            got,
            [("http-basic-auth".to_string(), Confidence::Medium)],
            "{cred}"
        );
        let xml = format!(
            "<add key=\"ClearTextPassword\" value=\"{}\" />\n",
            s.password.replace('&', "&amp;")
        );
        assert!(findings(&xml, "nuget.config").is_empty(), "{cred}");
    }
}

#[test]
fn a_jwt_or_json_after_basic_is_not_a_credential() {
    let header = b64(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64(r#"{"sub":"ci","name":"Build Agent","iat":1516239022}"#);
    for value in [header.trim_end_matches('='), payload.as_str()] {
        let text = format!("Authorization: Basic {value}\n");
        assert!(findings(&text, "src/a.js").is_empty(), "{value}");
    }
    let text = format!("Authorization: Basic {}\n", b64(REAL));
    assert_eq!(findings(&text, "src/a.js").len(), 1);
}

#[test]
fn test_conventions_and_test_files_lower_confidence_but_never_hide_a_token() {
    // Test-data conventions: reported only at low confidence.
    for cred in [
        "hello:world",
        "user:b!&*$",
        "admin:MOCK_PASSWORD_1",
        "ім'я:пароль12",
    ] {
        let text = format!("Authorization: Basic {}\n", b64(cred));
        assert_eq!(
            findings(&text, "src/http.rs"),
            [("http-basic-auth".to_string(), Confidence::Low)],
            "{cred}"
        );
    }
    // Templates are no credential at all.
    for url in [
        "https://ci:{token}@pkgs.contoso-ci.net/",
        "https://ci:%s@pkgs.contoso-ci.net/",
    ] {
        assert!(findings(url, "src/deploy.py").is_empty(), "{url}");
    }
    // The file's role: a plausible password in a test file drops one level.
    let text = format!("Authorization: Basic {}\n", b64(REAL));
    for (path, want) in [
        ("src/client.py", Confidence::Medium),
        ("tests/test_client.py", Confidence::Low),
        ("pkg/client_test.go", Confidence::Low),
        ("web/client.spec.ts", Confidence::Low),
    ] {
        assert_eq!(
            findings(&text, path),
            [("http-basic-auth".to_string(), want)],
            "{path}"
        );
    }
    // A checksum-valid token keeps its confidence in a test file, inside Basic or not.
    let pat = fake::legacy_pat(
        &mut FakeRng::new(5),
        patrol::detect::checksum::LegacyKind::UserPat,
    );
    for text in [
        format!("token = \"{pat}\"\n"),
        format!("Authorization: Basic {}\n", b64(&format!(":{pat}"))),
    ] {
        assert_eq!(
            findings(&text, "tests/test_client.py"),
            [("azure-devops-pat".to_string(), Confidence::High)]
        );
    }
}

#[test]
fn a_key_with_a_constant_payload_is_a_test_vector() {
    let mut rng = FakeRng::new(8);
    let key = fake::base64_key(
        &mut rng,
        32,
        "+ASb",
        patrol::detect::checksum::seed_from_name("Send0000").unwrap(),
        false,
    );
    // Same format, payload of one repeated character: still checksum-valid, reported low.
    let vector = {
        let mut r = FakeRng::new(1);
        let k = fake::base64_key(
            &mut r,
            32,
            "+ASb",
            patrol::detect::checksum::seed_from_name("Send0000").unwrap(),
            false,
        );
        let text = format!("{}{}", "a".repeat(33), &k[33..]);
        // Re-sign the constant-payload text so its checksum holds.
        let mut b = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .unwrap();
        let seed = patrol::detect::checksum::seed_from_name("Send0000").unwrap();
        let sum = patrol::detect::checksum::marvin32(&b[..28], seed).to_le_bytes();
        b[28..].copy_from_slice(&sum);
        base64::engine::general_purpose::STANDARD.encode(&b)
    };
    assert!(vector.starts_with(&"a".repeat(32)));
    assert_eq!(
        findings(&format!("k={key}\n"), "src/a.cs"),
        [("azure-service-bus-key".to_string(), Confidence::High)]
    );
    assert_eq!(
        findings(&format!("k={vector}\n"), "src/a.cs"),
        [("azure-service-bus-key".to_string(), Confidence::Low)]
    );
}
