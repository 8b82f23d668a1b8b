//! SARIF: a fixture tree of generated tokens (fixed seed, so its content is the same on every
//! run), scanning it to SARIF, and validation against the SARIF 2.1.0 schema.

use super::run::{Report, patrol_cmd, root};
use super::tokens::b64;
use patrol::detect::checksum::LegacyKind;
use patrol::fake::{FakeRng, identifiable_key, legacy_pat};
use serde_json::Value;
use std::path::Path;
use tempfile::TempDir;

/// Seed of every token in the fixture tree.
pub const SEED: u64 = 20_240_601;

/// A secret planted in the fixture tree, and where its text stands.
#[derive(Debug, Clone)]
pub struct Planted {
    /// Repository-relative path, as SARIF should name it.
    pub path: &'static str,
    /// The raw secret (decoded, as the scanner reports it).
    pub secret: String,
    /// The text in the file that the region must cover (the secret, or its encoding).
    pub text: String,
    pub rule_id: &'static str,
}

/// A password-like string from the generator (base62, so it survives any encoding).
fn password(rng: &mut FakeRng, len: usize) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    (0..len)
        .map(|_| ALNUM[(rng.next_u64() % ALNUM.len() as u64) as usize] as char)
        .collect()
}

/// Write the fixture tree into `dir` and return what it plants, in the order the scanner
/// reports findings (by path, then position).
pub fn write_fixture(dir: &Path) -> Vec<Planted> {
    let mut rng = FakeRng::new(SEED);
    let user_pat = legacy_pat(&mut rng, LegacyKind::UserPat);
    let app_pat = legacy_pat(&mut rng, LegacyKind::ApplicationSecret);
    let ident = identifiable_key(&mut rng, "AZDO");
    let pw = password(&mut rng, 20);

    let basic_pat = b64(&format!(":{app_pat}"));
    let basic_generic = b64(&format!("deploy:{pw}"));
    let files: Vec<(&str, String)> = vec![
        (
            "config/app settings.env",
            format!(
                "# Pipeline for https://dev.azure.com/contoso/web\nLOG_LEVEL=info\nAZURE_DEVOPS_EXT_PAT={user_pat}\n"
            ),
        ),
        (
            "scripts/deploy.sh",
            format!(
                "#!/bin/sh\ncurl -s -H \"Authorization: Basic {basic_pat}\" \\\n  https://dev.azure.com/fabrikam/_apis/projects\ncurl -s -H \"Authorization: Basic {basic_generic}\" https://artifacts.example.org/upload\n"
            ),
        ),
        (
            "src/naïve.py",
            format!("# Ünïcödé before the token counts code points\nnaïve = \"{ident}\"\n"),
        ),
    ];
    for (path, text) in &files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    vec![
        Planted {
            path: "config/app settings.env",
            secret: user_pat.clone(),
            text: user_pat,
            rule_id: "azure-devops-pat",
        },
        Planted {
            path: "scripts/deploy.sh",
            secret: app_pat,
            text: basic_pat,
            rule_id: "azure-devops-pat",
        },
        Planted {
            path: "scripts/deploy.sh",
            secret: format!("deploy:{pw}"),
            text: basic_generic,
            rule_id: "http-basic-auth",
        },
        Planted {
            path: "src/naïve.py",
            secret: ident.clone(),
            text: ident,
            rule_id: "azure-devops-pat-identifiable",
        },
    ]
}

/// A temporary directory holding the fixture tree.
pub fn fixture() -> (TempDir, Vec<Planted>) {
    let dir = tempfile::tempdir().unwrap();
    let planted = write_fixture(dir.path());
    (dir, planted)
}

/// `patrol scan DIR --format sarif ARGS…`
///
/// The run uses an empty baseline with a fixed fingerprint key, so that fingerprints of
/// passwords (keyed, random per run without a baseline) are the same in every document.
pub fn scan_sarif(dir: &Path, args: &[&str]) -> Report {
    // Written once per test process: tests run in parallel and must not see it half-written.
    static BASELINE: std::sync::OnceLock<tempfile::NamedTempFile> = std::sync::OnceLock::new();
    let baseline = BASELINE
        .get_or_init(|| {
            let mut f = tempfile::NamedTempFile::new().expect("temp file");
            let key = "5a".repeat(32);
            std::io::Write::write_all(
                &mut f,
                format!("{{\"version\": 1, \"fingerprint_key\": \"{key}\", \"entries\": []}}")
                    .as_bytes(),
            )
            .expect("write baseline");
            f
        })
        .path();
    let out = patrol_cmd(&["scan"], root())
        .arg(dir)
        .args(["--format", "sarif", "--color", "never"])
        .arg("--baseline")
        .arg(baseline)
        .args(args)
        .output()
        .expect("patrol runs");
    assert!(std::str::from_utf8(&out.stdout).is_ok(), "UTF-8 output");
    Report::from_output(out)
}

const BROKEN_LANGUAGE_PATTERN: &str = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
const MENDED_LANGUAGE_PATTERN: &str = r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#;

/// Panic with every schema violation if `doc` is not valid SARIF 2.1.0.
pub fn assert_schema_valid(doc: &str) {
    let errors = schema_errors(doc);
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

/// Every way `doc` breaks the SARIF 2.1.0 schema (formats such as `uri` included).
pub fn schema_errors(doc: &str) -> Vec<String> {
    let schema_text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sarif-schema-2.1.0.json"
    ))
    .unwrap();
    // The 2.1.0 schema's two `language` patterns have a stray `]` that strict ECMA-262 regex
    // checking rejects when the schema itself is validated; mend them in memory (we never emit
    // `language`) and keep the shipped file as published.
    assert_eq!(schema_text.matches(BROKEN_LANGUAGE_PATTERN).count(), 2);
    let schema_text = schema_text.replace(BROKEN_LANGUAGE_PATTERN, MENDED_LANGUAGE_PATTERN);
    let schema: Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles");
    let instance: Value = serde_json::from_str(doc).expect("SARIF is JSON");
    validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The artifact URI of each result's first location, in the document's order.
pub fn uris(doc: &Value) -> Vec<String> {
    doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .expect("a URI")
                .to_string()
        })
        .collect()
}

/// 1-based (line, column in Unicode scalar values) of the first occurrence of `needle`.
pub fn position(haystack: &str, needle: &str) -> (usize, usize) {
    let at = haystack.find(needle).expect("planted text is in the file");
    let before = &haystack[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The version the document names, replaced so snapshots survive releases.
pub fn without_version(doc: &str) -> String {
    doc.replace(
        &format!("\"semanticVersion\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"semanticVersion\": \"[version]\"",
    )
}
