//! Tokens wrapped in base64 as they really are: Kubernetes Secret data holding identifiable
//! keys (84 and 88 characters), `echo $PAT | base64` output with its trailing newline, and a
//! Basic header made with `echo ":$PAT" | base64` or with an e-mail user name. Exact findings.

mod common;
use common::*;

fn b64(s: &str) -> String {
    base64::Engine::encode(&B64, s)
}

fn long_key(seed: u64) -> String {
    let out = patrol(
        &[
            "fake-token",
            "--kind",
            "identifiable",
            "--long",
            "--seed",
            &seed.to_string(),
        ],
        std::path::Path::new("."),
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn base64_wrapped_tokens_are_found_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let key84 = id_key(31, "AZDO");
    let key88 = long_key(32);
    assert_eq!(key88.len(), 88);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ado\ntype: Opaque\ndata:\n  pat: {}\n  \
         long: {}\n  piped: {}\n",
        b64(&key84),
        b64(&key88),
        b64(&format!("{key84}\n")),
    );
    std::fs::write(dir.path().join("secret.yaml"), secret).unwrap();
    let script = format!(
        "# made with: echo $PAT | base64\nexport ENCODED={}\ncurl -H 'Authorization: Basic {}' \
         https://dev.azure.com/contoso/_apis/projects\ncurl -H 'Authorization: Basic {}' \
         https://dev.azure.com/contoso/_apis/projects\n",
        b64(&format!("{}\n", pat(33))),
        b64(&format!(":{}\n", pat(34))),
        b64(&format!("ada.tester@contoso.com:{}", pat(35))),
    );
    std::fs::write(dir.path().join("call.sh"), script).unwrap();
    // Lookalikes: a broken key wrapped the same way, and base64 of ordinary text.
    std::fs::write(
        dir.path().join("clean.yaml"),
        format!(
            "data:\n  pat: {}\n  note: {}\n",
            b64(&fake_broken_key(31)),
            b64(&"x".repeat(84))
        ),
    )
    .unwrap();

    let (doc, out) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{doc}");
    let idp = "azure-devops-pat-identifiable";
    let legacy = "azure-devops-pat";
    assert_eq!(
        triples(&doc),
        vec![
            ("call.sh".into(), 2, legacy.into()),
            ("call.sh".into(), 3, legacy.into()),
            ("call.sh".into(), 4, legacy.into()),
            ("secret.yaml".into(), 7, idp.into()),
            ("secret.yaml".into(), 8, idp.into()),
        ]
    );
    // `piped` (line 9) wraps the key of line 7 again: one finding per secret per file, seen twice.
    let first = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "secret.yaml" && f["line"] == 7)
        .unwrap();
    assert_eq!(first["occurrences"], 2);
    let secrets: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(
        secrets,
        vec![
            pat(33).as_str(),
            pat(34).as_str(),
            pat(35).as_str(),
            key84.as_str(),
            key88.as_str(),
        ]
    );
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["encoding"], "base64", "{f}");
    }
}

fn fake_broken_key(seed: u64) -> String {
    patrol::detect::fake::broken(&id_key(seed, "AZDO"))
}
