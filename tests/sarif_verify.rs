//! `--format sarif --verify` against the mock Azure DevOps on 127.0.0.1: a token verified live
//! as valid is an `error` with security-severity 9.5 and says so; a rejected one says that.

mod support;

use serde_json::Value;
use std::collections::HashMap;
use support::sarif::{SEED, assert_schema_valid};
use support::tokens::pats;
use support::verify::{Behaviour, MockAdo, scan_against};

#[test]
fn verified_tokens_in_sarif() {
    let [good, bad]: [String; 2] = pats(SEED + 2, 2).try_into().unwrap();
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
    let out = scan_against(dir.path(), &mock.base, &["--format", "sarif", "--verify"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains(&good) && !stdout.contains(&bad));
    assert!(!stderr.contains(&good) && !stderr.contains(&bad));
    assert_schema_valid(&stdout);

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
