//! Behaviour of `patrol scan` on files built by each test: encodings, positions, exit codes,
//! ignore files, limits, allow mechanisms, configuration.

mod support;
use base64::Engine;
use std::io::Write;
use std::process::Stdio;
use support::findings::*;
use support::fixture::*;
use support::run::*;
use support::tokens::*;

#[test]
fn utf16_le_and_be_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Ado]\r\n\"Pat\"=\"{}\"\r\n",
        pat(40)
    );
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    write(dir.path(), "settings.reg", &le);
    // Big-endian, no byte-order mark.
    let ps = format!("$env:AZURE_DEVOPS_EXT_PAT = '{}'\n", id_key(41, "AZDO"));
    let be: Vec<u8> = ps.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    write(dir.path(), "profile.ps1", &be);
    let (doc, _) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    let f = doc["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2, "{doc}");
    assert_eq!(f[0]["path"], "profile.ps1");
    assert_eq!(f[0]["encoding"], "utf-16be");
    assert_eq!(f[0]["secret"], id_key(41, "AZDO").as_str());
    assert_eq!(
        (f[0]["line"].as_u64(), f[0]["column"].as_u64()),
        (Some(1), Some(30))
    );
    assert_eq!(f[1]["path"], "settings.reg");
    assert_eq!(f[1]["encoding"], "utf-16le");
    assert_eq!(f[1]["secret"], pat(40).as_str());
    assert_eq!(
        (f[1]["line"].as_u64(), f[1]["column"].as_u64()),
        (Some(4), Some(8))
    );
    assert_eq!(doc["summary"]["skipped_binary"], 0);
}

#[test]
fn minified_line_and_json_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let filler = "var a=function(b){return b*2};".repeat(10_000);
    let js = format!("{filler}window.cfg={{pat:\"{}\"}};{filler}\n", pat(42));
    write(dir.path(), "app.min.js", &js);
    let json = format!(
        "{{\"a\":\"line one\\n{}\",\"b\":\"q\\u0027{}\",\"c\":\"\\t{}\"}}\n",
        pat(43),
        pat(44),
        pat(45)
    );
    write(dir.path(), "data.json", &json);
    let (doc, _) = patrol_json(&["scan", ".", "--show-secrets"], dir.path());
    let f = doc["findings"].as_array().unwrap();
    assert_eq!(f.len(), 4, "{doc}");
    assert_eq!(f[0]["path"], "app.min.js");
    assert_eq!(
        f[0]["column"].as_u64().unwrap() as usize,
        filler.len() + "window.cfg={pat:\"".len() + 1
    );
    let cols: Vec<(u64, &str)> = f[1..]
        .iter()
        .map(|x| (x["column"].as_u64().unwrap(), x["secret"].as_str().unwrap()))
        .collect();
    for (col, secret) in cols {
        assert_eq!(&json[col as usize - 1..col as usize - 1 + 52], secret);
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "clean.txt", "nothing to see\n");
    assert_eq!(patrol(&["scan", "."], dir.path()).status.code(), Some(0));
    write(dir.path(), "dirty.txt", format!("token {}\n", pat(46)));
    assert_eq!(patrol(&["scan", "."], dir.path()).status.code(), Some(1));
    let missing = patrol(&["scan", "does-not-exist"], dir.path());
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does-not-exist"));
    assert_eq!(
        patrol(&["scan", "--no-such-flag"], dir.path())
            .status
            .code(),
        Some(2)
    );
    assert_eq!(patrol(&["--help"], dir.path()).status.code(), Some(0));
}

#[test]
fn stdin_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = patrol_cmd(&["scan", "-", "--format", "json"], dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            format!(
                "x\nAuthorization: Basic {}\n",
                B64.encode(format!("me:{}", pat(47)))
            )
            .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        triples(&doc),
        vec![("<stdin>".into(), 2, "azure-devops-pat".into())]
    );
    assert_eq!(doc["findings"][0]["encoding"], "base64");
}

#[test]
fn gitignore_respected_unless_no_ignore() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "build/\n");
    write(dir.path(), "build/out.txt", format!("{}\n", pat(48)));
    write(dir.path(), ".hidden/cfg", format!("{}\n", pat(49)));
    let (doc, _) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(
        triples(&doc),
        vec![(".hidden/cfg".into(), 1, "azure-devops-pat".into())]
    );
    let (doc, _) = patrol_json(&["scan", ".", "--no-ignore"], dir.path());
    assert_eq!(doc["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn large_and_binary_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = format!("{}\n", pat(50)).into_bytes();
    big.resize(3000, b'x');
    write(dir.path(), "big.txt", &big);
    let mut bin = vec![0u8, 1, 2, 3, 0, 0, 7];
    bin.extend(format!(" {} ", pat(51)).as_bytes());
    write(dir.path(), "blob.bin", &bin);
    let out = patrol(
        &["scan", ".", "--max-file-size", "2K", "--format", "json"],
        dir.path(),
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(doc["summary"]["skipped_large"], 1);
    assert_eq!(doc["summary"]["skipped_binary"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped big.txt"));
    let (doc, _) = patrol_json(&["scan", ".", "--scan-binary"], dir.path());
    assert_eq!(
        triples(&doc),
        vec![
            ("big.txt".into(), 1, "azure-devops-pat".into()),
            ("blob.bin".into(), 1, "azure-devops-pat".into())
        ]
    );
    let human = patrol(
        &["scan", ".", "--max-file-size", "2K", "--quiet"],
        dir.path(),
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("1 too large, 1 binary"), "{text}");
}

#[cfg(unix)]
#[test]
fn symlinks_not_followed_unless_asked_and_loops_survive() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", format!("{}\n", pat(52)));
    write(dir.path(), "tree/a.txt", "clean\n");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("tree/out")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("tree"), dir.path().join("tree/loop")).unwrap();
    let (doc, out) = patrol_json(&["scan", "tree"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{doc}");
    let (doc, out) = patrol_json(&["scan", "tree", "--follow-symlinks"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        triples(&doc),
        vec![("tree/out/secret.txt".into(), 1, "azure-devops-pat".into())]
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("loop"),
        "loop reported"
    );
}

#[cfg(unix)]
#[test]
fn fifo_is_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", format!("{}\n", pat(53)));
    let fifo = dir.path().join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    let (doc, out) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(doc["summary"]["skipped_other"], 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("skipped pipe: not a regular file"), "{err}");
}

#[test]
fn inline_allow_markers() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "a = \"{}\" # patrol:allow\nb = \"{}\" // gitleaks:allow\nc = \"{}\" # trufflehog:ignore\nd = \"{}\"\n",
        pat(54),
        pat(55),
        pat(56),
        pat(57)
    );
    write(dir.path(), "x.py", &body);
    let (doc, _) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(
        triples(&doc),
        vec![("x.py".into(), 4, "azure-devops-pat".into())]
    );
    assert_eq!(doc["summary"]["suppressed"], 3);
}

#[test]
fn config_excludes_disables_and_rejects_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fixtures/a.txt", format!("{}\n", pat(58)));
    // A sample URL credential that this test expects to find.
    let url = "https://ci:Zq8vN2mK@build.contoso-ci.net/"; // patrol:allow
    write(dir.path(), "src/b.txt", format!("{url}\n{}\n", pat(59)));
    write(
        dir.path(),
        ".patrol.toml",
        "exclude = [\"fixtures/**\"]\ndisable_rules = [\"url-credentials\"]\n",
    );
    let (doc, _) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(
        triples(&doc),
        vec![("src/b.txt".into(), 2, "azure-devops-pat".into())]
    );
    write(
        dir.path(),
        ".patrol.toml",
        format!("allow_values = [\"{}\"]\n", pat(59)),
    );
    let (doc, _) = patrol_json(&["scan", "."], dir.path());
    assert_eq!(
        triples(&doc),
        vec![
            ("fixtures/a.txt".into(), 1, "azure-devops-pat".into()),
            ("src/b.txt".into(), 1, "url-credentials".into())
        ]
    );
    write(
        dir.path(),
        ".patrol.toml",
        "exclude = []\nexlude = [\"x\"]\n",
    );
    let out = patrol(&["scan", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".patrol.toml") && err.contains("line 2") && err.contains("exlude"),
        "{err}"
    );
}

#[test]
fn same_secret_same_place_reported_once_and_threads_do_not_change_results() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40u64 {
        write(
            dir.path(),
            &format!("d{}/f{i}.txt", i % 5),
            format!(
                "AZURE_DEVOPS_EXT_PAT={}\nurl=https://x:{}@dev.azure.com/org{i}\n",
                pat(60 + i),
                pat(60 + i)
            ),
        );
    }
    let (one, _) = patrol_json(&["scan", ".", "--threads", "1"], dir.path());
    let (many, _) = patrol_json(&["scan", ".", "--threads", "4"], dir.path());
    assert_eq!(one["findings"], many["findings"]);
    // Per file: one finding for the PAT, at the env line, seen twice (the URL password is the
    // same PAT and is not reported as a password too).
    let findings = one["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 40);
    assert!(
        findings
            .iter()
            .all(|f| f["line"] == 1 && f["occurrences"] == 2)
    );
}

#[test]
fn output_file_is_written_whole_and_private() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.txt", format!("{}\n", pat(61)));
    let out = patrol(
        &[
            "scan",
            "a.txt",
            "--format",
            "jsonl",
            "--output",
            "report.jsonl",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 1);
    let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["rule_id"], "azure-devops-pat");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("report.jsonl"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// `-j` far beyond the machine is capped (at 4 per core), and the run says so.
#[test]
fn thread_count_is_capped_and_said() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), format!("PAT={}\n", pat(109))).unwrap();
    let (doc, out) = patrol_json(&["scan", "a.env", "-j", "5000"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(doc["summary"]["findings"], 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        stderr.contains(&format!("--threads 5000 capped to {}", cores * 4)),
        "{stderr}"
    );
}
