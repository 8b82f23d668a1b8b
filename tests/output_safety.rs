//! What patrol writes about text it did not write itself: control characters from the scanned
//! repository are escaped in human output, and secrets are kept out of commit metadata, paths
//! and remote URLs in every format.

mod support;

use std::process::Stdio;
use support::git::Repo;
use support::run::{patrol, patrol_cmd};
use support::tokens::pat;

/// Human output of `patrol ARGS` run in `dir` (stdout, stderr, exit code).
fn human(dir: &std::path::Path, args: &[&str]) -> (String, String, i32) {
    let out = patrol_cmd(args, dir)
        .args(["--format", "human", "--color", "never"])
        .stdin(Stdio::null())
        .output()
        .expect("patrol runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn assert_no_raw_controls(text: &str, what: &str) {
    for (i, line) in text.lines().enumerate() {
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "{what}: line {} holds a raw control character: {line:?}",
            i + 1
        );
    }
}

/// A file name and a commit whose author and summary hold newlines and escape sequences cannot
/// forge a line of patrol's human output (here: a fake clean summary).
#[test]
fn human_output_escapes_control_characters_from_the_repository() {
    let repo = Repo::new();
    let forged = "x\n0 files, 0 B scanned; 0 findings\n\x1b[2J.env";
    repo.write(forged, &format!("PAT={}\n", pat(901)));
    repo.git(&["add", "-A"]);
    repo.command(&["commit", "-q", "-m", "tidy \x1b[31mred\r\x1b[K done"])
        .env("GIT_AUTHOR_NAME", "Eve\x1b]0;title\x07 Mallory")
        .status()
        .expect("git commit");

    let (out, err, code) = human(repo.path(), &["git"]);
    assert_eq!(code, 1, "{err}");
    assert_no_raw_controls(&out, "git stdout");
    assert_no_raw_controls(&err, "git stderr");
    assert!(
        out.contains(r"x\n0 files, 0 B scanned; 0 findings\n\e[2J.env"),
        "{out}"
    );
    assert!(out.contains(r"Eve\e]0;title\u{7} Mallory"), "{out}");
    assert!(out.contains(r"tidy \e[31mred\r\e[K done"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("0 files")), "{out}");

    let (out, err, code) = human(repo.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    assert_no_raw_controls(&out, "scan stdout");
    assert!(out.contains(r"\e[2J.env"), "{out}");
}

/// Fail if `text` holds any 12-character piece of `secret`.
fn assert_no_piece(text: &str, secret: &str, what: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for w in chars.windows(12) {
        let piece: String = w.iter().collect();
        assert!(!text.contains(&piece), "{what}: leaks {piece:?}\n{text}");
    }
}

/// A token that also stands in the commit message, the author fields, the file name and a
/// mangled remote URL is redacted in all of them, in every format.
#[test]
fn secrets_are_redacted_from_commit_metadata_paths_and_remote_urls() {
    let repo = Repo::new();
    let t = pat(902);
    repo.write(&format!("keys/{t}.txt"), &format!("PAT={t}\n"));
    repo.git(&["add", "-A"]);
    repo.command(&[
        "commit",
        "-q",
        "-m",
        &format!("add token {t} for the build"),
    ])
    .env("GIT_AUTHOR_NAME", format!("ci {t}"))
    .env("GIT_AUTHOR_EMAIL", format!("{t}@example.test"))
    .status()
    .expect("git commit");
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("https:/x:{t}@dev.azure.com/contoso/_git/app"),
    ]);
    for format in ["human", "json", "jsonl", "sarif"] {
        let out = patrol_cmd(
            &["git", "--format", format, "--color", "never"],
            repo.path(),
        )
        .stdin(Stdio::null())
        .output()
        .expect("patrol runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {stdout}");
        assert!(
            stdout.contains("for the build"),
            "{format}: summary kept: {stdout}"
        );
        assert_no_piece(&stdout, &t, format);
        assert_no_piece(&String::from_utf8_lossy(&out.stderr), &t, format);
    }
    let out = patrol(&["git", "--format", "json", "--show-secrets"], repo.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("add token {t}")),
        "--show-secrets shows all"
    );
}

/// `patrol ARGS --format json` in `dir`: the parsed report.
fn json_report(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = patrol_cmd(args, dir)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("patrol runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn field(doc: &serde_json::Value, key: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f[key].as_str().expect("string field").to_string())
        .collect()
}

/// A short password is given away neither by its redacted form (at most a quarter, nothing
/// under 8 characters) nor by its fingerprint (keyed with the baseline's key, not a plain hash
/// anyone can test guesses against). PAT fingerprints stay plain SHA-256, and a baseline
/// written with plain password hashes still suppresses them.
#[test]
fn short_passwords_are_not_given_away_by_redaction_or_fingerprint() {
    use patrol::finding::{FingerprintKey, fingerprint, plain_fingerprint};
    let dir = tempfile::tempdir().expect("temp dir");
    let (long, short, t) = ("Summer2024!", "Xy7kq2w", pat(903));
    let url = |pw: &str| format!("https://ci:{pw}@build.contoso-ci.net/"); // patrol:allow
    let text = format!(
        "git clone {}app.git\ncurl {}\nPAT={t}\n",
        url(long),
        url(short)
    );
    std::fs::write(dir.path().join("deploy.sh"), text).expect("write");
    // Low confidence: a 7-character password is below the default as implausible, and what is
    // tested here is how it is shown once reported.
    let doc = json_report(dir.path(), &["scan", ".", "--min-confidence", "low"]);
    assert_eq!(
        field(&doc, "secret"),
        ["Su…", "…", &format!("{}…", &t[..4])]
    );
    let rules = field(&doc, "rule_id");
    let prints = field(&doc, "fingerprint");
    assert_ne!(prints[0], plain_fingerprint(&rules[0], long));
    assert_ne!(prints[1], plain_fingerprint(&rules[1], short));
    assert_eq!(prints[2], plain_fingerprint(&rules[2], &t));
    let again = field(
        &json_report(dir.path(), &["scan", ".", "--min-confidence", "low"]),
        "fingerprint",
    );
    assert_ne!(
        again[0], prints[0],
        "without a baseline each run has its own key"
    );
    assert_eq!(again[2], prints[2]);

    // An empty baseline pins the key: fingerprints are then stable and keyed by it.
    let empty = tempfile::tempdir().expect("temp dir");
    let baseline = dir.path().join("b.json");
    let b = baseline.to_str().expect("UTF-8 path");
    let status = patrol_cmd(&["baseline", "create", ".", "-o", b], empty.path())
        .status()
        .expect("patrol runs");
    assert!(status.success());
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&baseline).expect("baseline")).expect("JSON");
    let key = FingerprintKey::from_hex(file["fingerprint_key"].as_str().expect("key"))
        .expect("64 hex digits");
    let pinned = field(
        &json_report(
            dir.path(),
            &[
                "scan",
                "deploy.sh",
                "--baseline",
                b,
                "--min-confidence",
                "low",
            ],
        ),
        "fingerprint",
    );
    assert_eq!(pinned[0], fingerprint(&rules[0], long, false, &key));
    assert_eq!(
        field(
            &json_report(
                dir.path(),
                &[
                    "scan",
                    "deploy.sh",
                    "--baseline",
                    b,
                    "--min-confidence",
                    "low"
                ]
            ),
            "fingerprint"
        ),
        pinned
    );

    // A baseline from before keyed fingerprints (plain hashes, no key) still matches.
    let legacy = serde_json::json!({
        "version": 1,
        "entries": [
            {"rule_id": rules[0], "fingerprint": plain_fingerprint(&rules[0], long)},
            {"rule_id": rules[1], "fingerprint": plain_fingerprint(&rules[1], short)},
            {"rule_id": rules[2], "fingerprint": plain_fingerprint(&rules[2], &t)},
        ]
    });
    std::fs::write(&baseline, legacy.to_string()).expect("write");
    let doc = json_report(
        dir.path(),
        &[
            "scan",
            "deploy.sh",
            "--baseline",
            b,
            "--min-confidence",
            "low",
        ],
    );
    assert_eq!(doc["summary"]["findings"], 0, "{doc}");
    assert_eq!(doc["summary"]["suppressed"], 3, "{doc}");
}

/// Warnings printed while the scan runs, errors, report paths and `--with-paths` baseline
/// entries never hold a token that stands in a file name or a clone URL, even one that is no
/// finding's secret (the file holding it could not be read, or holds another token).
#[test]
fn warnings_errors_and_baseline_paths_never_hold_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (in_fifo_name, in_file_name, inside, in_url) = (pat(911), pat(912), pat(913), pat(914));
    let fifo = std::ffi::CString::new(
        d.join(format!("pat-{in_fifo_name}.txt"))
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
    std::fs::write(
        d.join(format!("{in_file_name}.env")),
        format!("ADO_PAT={inside}\n"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = patrol_cmd(args, d)
            .stdin(Stdio::null())
            .output()
            .expect("patrol runs");
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = run(&["scan", ".", "--color", "never"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("warning: skipped pat-"), "{text}");
    for t in [&in_fifo_name, &in_file_name, &inside] {
        assert_no_piece(&text, t, "scan");
    }
    let (code, text) = run(&["scan", ".", "--format", "json"]);
    assert_eq!(code, Some(1), "{text}");
    assert_no_piece(&text, &in_file_name, "json report");

    let (code, text) = run(&["baseline", "create", "--with-paths"]);
    assert_eq!(code, Some(0), "{text}");
    let baseline = std::fs::read_to_string(d.join(".patrol-baseline.json")).unwrap();
    assert!(baseline.contains("\"path\""), "{baseline}");
    assert_no_piece(&baseline, &in_file_name, "baseline");
    // The redacted path still names the file: the entry silences its finding.
    let (code, text) = run(&["scan", ".", "--baseline", ".patrol-baseline.json"]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = run(&["baseline", "check"]);
    assert_eq!(code, Some(0), "{text}");

    let url = format!("https://x:{in_url}@dev.azure.com/contoso/_git/app");
    let (code, text) = run(&["git", &url]);
    assert_eq!(code, Some(2), "{text}");
    assert_no_piece(&text, &in_url, "error naming a clone URL");
}
