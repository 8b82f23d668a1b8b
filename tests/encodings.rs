//! Tokens wrapped in base64 as they really are: Kubernetes Secret data holding identifiable
//! keys (84 and 88 characters), `echo $PAT | base64` output with its trailing newline, and a
//! Basic header made with `echo ":$PAT" | base64` or with an e-mail user name. Exact findings.

mod support;
use support::findings::*;
use support::run::*;
use support::tokens::*;

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
    let secrets: Vec<&str> = texts(&doc["findings"], "secret");
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
    patrol::fake::broken(&id_key(seed, "AZDO"))
}

/// `base64` output as the command writes it without `-w0`: lines of 76 characters.
fn wrapped(bytes: &[u8], width: usize, indent: &str) -> String {
    let text = base64::Engine::encode(&B64, bytes);
    let lines: Vec<String> = text
        .as_bytes()
        .chunks(width)
        .map(|c| format!("{indent}{}", std::str::from_utf8(c).unwrap()))
        .collect();
    lines.join("\n")
}

#[test]
fn base64_wrapped_in_lines_and_user_token_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let key84 = id_key(61, "AZDO");
    let key88 = long_key(62);
    // `echo $KEY | base64`: 85 bytes, two lines (76 + 40).
    let piped = wrapped(format!("{key84}\n").as_bytes(), 76, "");
    // A Basic header wrapped by `base64`, the rest of the value on the next line.
    let header = wrapped(
        format!("ada.tester@contoso.com:{}", pat(63)).as_bytes(),
        76,
        "",
    );
    let header = header.replacen('\n', "\n    ", 1);
    // A YAML block holding `user:key` wrapped, indented, with CRLF line ends.
    let block = wrapped(format!("build:{key88}\n").as_bytes(), 76, "    ").replace('\n', "\r\n");
    // A whole config file base64-encoded and wrapped: the token is in its fifth line.
    let config = format!(
        "[feed]\nurl = https://pkgs.dev.azure.com/contoso/_packaging/feed/nuget/v3/index.json\n\
         user = build\n# {}\npassword = {}\n",
        "-".repeat(150),
        pat(64)
    );
    let encoded_config = wrapped(config.as_bytes(), 76, "  ");
    // PEM-style, 64 columns.
    let pem = wrapped(format!("token={}\n", id_key(65, "AZDO")).as_bytes(), 64, "");
    std::fs::write(
        dir.path().join("wrapped.txt"),
        format!(
            "# echo $KEY | base64\n{piped}\nAuthorization: Basic {header}\ndata:\n  auth: |\r\n{block}\r\n\
             config: |\n{encoded_config}\n-----BEGIN CONFIG-----\n{pem}\n-----END CONFIG-----\n"
        ),
    )
    .unwrap();
    // `user:key` base64-encoded on one line, not after `Basic`.
    std::fs::write(
        dir.path().join("docker.json"),
        format!(
            "{{\"credentials\": \"{}\"}}\n",
            b64(&format!("ada.tester@contoso.com:{}", id_key(66, "AZDO")))
        ),
    )
    .unwrap();
    // Lookalikes: a broken key wrapped the same way; random bytes wrapped like a certificate.
    let mut rng = patrol::fake::FakeRng::new(67);
    let noise: Vec<u8> = (0..900).map(|_| rng.next_u64() as u8).collect();
    std::fs::write(
        dir.path().join("clean.txt"),
        format!(
            "{}\n-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n{}\n",
            wrapped(format!("{}\n", fake_broken_key(68)).as_bytes(), 76, ""),
            wrapped(&noise, 64, ""),
            b64(&format!("ada.tester@contoso.com:{}", fake_broken_key(69))),
        ),
    )
    .unwrap();

    let (doc, out) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{doc}");
    let idp = "azure-devops-pat-identifiable";
    let legacy = "azure-devops-pat";
    // Lines of wrapped.txt: the comment, 2 of `piped`, 2 of the header, `data:`, `auth: |`,
    // 2 of the block, `config: |`, then the config's lines, the PEM header and the PEM body.
    let config_first = 11;
    let config_token = config_first + config.find(&pat(64)).unwrap() / 3 * 4 / 76;
    let pem_first = config_first + encoded_config.lines().count() + 1;
    let got: Vec<(String, u64, String, String)> =
        rows(&doc["findings"], &["path", "line", "rule_id", "secret"]);
    let want = vec![
        (
            "docker.json".to_string(),
            1,
            idp.to_string(),
            id_key(66, "AZDO"),
        ),
        ("wrapped.txt".to_string(), 2, idp.to_string(), key84.clone()),
        ("wrapped.txt".to_string(), 4, legacy.to_string(), pat(63)),
        ("wrapped.txt".to_string(), 8, idp.to_string(), key88.clone()),
        (
            "wrapped.txt".to_string(),
            config_token as u64,
            legacy.to_string(),
            pat(64),
        ),
        (
            "wrapped.txt".to_string(),
            pem_first as u64,
            idp.to_string(),
            id_key(65, "AZDO"),
        ),
    ];
    assert_eq!(got, want, "{doc}");
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["encoding"], "base64", "{f}");
        assert_eq!(f["occurrences"], 1, "{f}");
    }
}

/// Text in a wide encoding with a token in it.
fn wide(text: &str, encoding: &str) -> Vec<u8> {
    let units: Vec<u8> = match encoding {
        "utf-16le" => text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
        "utf-16be" => text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect(),
        "utf-32le" => text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect(),
        "utf-32be" => text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect(),
        other => panic!("{other}"),
    };
    units
}

#[test]
fn utf16_without_nul_or_bom_and_utf32_are_read_as_text() {
    let dir = tempfile::tempdir().unwrap();
    // Cyrillic letters and U+2028 separators: no byte of the first 8 KiB is NUL.
    let cyrillic: String = "ПарольдлясборкиТокендоступа\u{2028}".repeat(160);
    let bom_no_nul = format!("\u{FEFF}{cyrillic}\nтокен = {}\n", pat(71));
    let bytes = wide(&bom_no_nul, "utf-16le");
    assert!(!bytes[..8192].contains(&0));
    std::fs::write(dir.path().join("bom.txt"), bytes).unwrap();
    // Mostly Cyrillic with spaces and line breaks, no BOM, both byte orders.
    let prose = "Пароль для сборки и токен доступа к ленте пакетов\r\n".repeat(30);
    for (name, enc, seed) in [("le.txt", "utf-16le", 72), ("be.txt", "utf-16be", 73)] {
        let text = format!("{prose}токен = {}\r\n", pat(seed));
        std::fs::write(dir.path().join(name), wide(&text, enc)).unwrap();
    }
    for (name, enc, seed) in [("w32le.txt", "utf-32le", 74), ("w32be.txt", "utf-32be", 75)] {
        let text = format!("\u{FEFF}ключ: {}\nкраёв\n", id_key(seed, "AZDO"));
        std::fs::write(dir.path().join(name), wide(&text, enc)).unwrap();
    }
    let (doc, out) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{doc}");
    let got: Vec<(String, u64, String, String, String)> = rows(
        &doc["findings"],
        &["path", "line", "rule_id", "secret", "encoding"],
    );
    let legacy = "azure-devops-pat".to_string();
    let idp = "azure-devops-pat-identifiable".to_string();
    assert_eq!(
        got,
        vec![
            (
                "be.txt".into(),
                31,
                legacy.clone(),
                pat(73),
                "utf-16be".into()
            ),
            (
                "bom.txt".into(),
                2,
                legacy.clone(),
                pat(71),
                "utf-16le".into()
            ),
            (
                "le.txt".into(),
                31,
                legacy.clone(),
                pat(72),
                "utf-16le".into()
            ),
            (
                "w32be.txt".into(),
                1,
                idp.clone(),
                id_key(75, "AZDO"),
                "utf-32be".into()
            ),
            (
                "w32le.txt".into(),
                1,
                idp,
                id_key(74, "AZDO"),
                "utf-32le".into()
            ),
        ]
    );
    // Each file read once, as text: nothing is skipped as binary, nothing found twice.
    assert_eq!(doc["summary"]["skipped_binary"], 0, "{doc}");
    for f in doc["findings"].as_array().unwrap() {
        assert_eq!(f["occurrences"], 1, "{f}");
    }
}

/// Every decoding step between a file's bytes and the token is named, outermost first and
/// joined by `+`, in JSON, SARIF and human output alike.
#[test]
fn stacked_encodings_are_named_outermost_first() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let header = |seed| {
        format!(
            "curl -H 'Authorization: Basic {}'\n",
            b64(&format!(":{}", pat(seed)))
        )
    };
    let wide = |text: String| -> Vec<u8> {
        let units = text.encode_utf16().flat_map(u16::to_le_bytes);
        [0xFF, 0xFE].into_iter().chain(units).collect()
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&wide(header(81))).unwrap();
    std::fs::write(dir.path().join("trace.log.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(dir.path().join("trace.txt"), wide(header(82))).unwrap();
    let (doc, _) = patrol_json(&["scan", "."], dir.path());
    let got: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["encoding"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("trace.log.gz", "gzip+utf-16le+base64"),
            ("trace.txt", "utf-16le+base64")
        ]
    );
    let human = String::from_utf8(patrol(&["scan", "."], dir.path()).stdout).unwrap();
    assert!(human.contains("  (gzip+utf-16le+base64)"), "{human}");
    let sarif =
        String::from_utf8(patrol(&["scan", ".", "--format", "sarif"], dir.path()).stdout).unwrap();
    assert!(sarif.contains("(gzip+utf-16le+base64-encoded)"), "{sarif}");
    assert!(
        sarif.contains("\"encoding\": \"gzip+utf-16le+base64\""),
        "{sarif}"
    );
}
