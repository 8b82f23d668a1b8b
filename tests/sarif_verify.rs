//! `--format sarif --verify` against the mock Azure DevOps on 127.0.0.1: a token verified live
//! as valid is an `error` with security-severity 9.5 and says so; a rejected one says that.

mod sarifutil;
#[allow(dead_code)]
mod verifyutil;

use patrol::detect::checksum::LegacyKind;
use patrol::detect::fake::{FakeRng, legacy_pat};
use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;
use verifyutil::{Behaviour, MockAdo};

#[test]
fn verified_tokens_in_sarif() {
    let mut rng = FakeRng::new(sarifutil::SEED + 2);
    let good = legacy_pat(&mut rng, LegacyKind::UserPat);
    let bad = legacy_pat(&mut rng, LegacyKind::UserPat);
    let mock = MockAdo::start(HashMap::from([
        (good.clone(), Behaviour::Good),
        (bad.clone(), Behaviour::Bad),
    ]));
    let dir = tempfile::tempdir().unwrap();
    for (name, token) in [("a_good.env", &good), ("b_bad.env", &bad)] {
        // The organisation on the token's own line: a rejection there is final.
        let text = format!("AZURE_DEVOPS_EXT_PAT={token} # https://dev.azure.com/contoso/app\n");
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("scan")
        .arg(dir.path())
        .args(["--format", "sarif", "--verify"])
        .env("PATROL_ADO_BASE_URL", &mock.base)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains(&good) && !stdout.contains(&bad));
    assert!(!stderr.contains(&good) && !stderr.contains(&bad));
    sarifutil::assert_schema_valid(&stdout);

    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let (valid, invalid) = (&results[0], &results[1]);
    assert_eq!(valid["properties"]["verification"]["status"], "valid");
    assert_eq!(valid["level"], "error");
    assert_eq!(valid["properties"]["security-severity"], "9.5");
    let text = valid["message"]["text"].as_str().unwrap();
    assert!(text.contains("verified live: the token WORKS"), "{text}");
    assert_eq!(invalid["properties"]["verification"]["status"], "invalid");
    let text = invalid["message"]["text"].as_str().unwrap();
    assert!(text.contains("verified live: rejected"), "{text}");
}
