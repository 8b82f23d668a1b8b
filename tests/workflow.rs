//! Workflow features: baselines that survive moved lines and renames, stale entries,
//! completions and the man page.

mod support;
use std::process::Command;
use support::findings::*;
use support::fixture::*;
use support::run::*;
use support::tokens::*;

#[test]
fn baseline_suppresses_moved_secrets_and_reports_new_and_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "src/a.env",
        format!("ADO_PAT={}\nOTHER={}\n", pat(70), pat(71)),
    );
    let out = patrol(&["baseline", "create", "src"], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(d.join(".patrol-baseline.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["entries"].as_array().unwrap().len(), 2);
    assert!(
        !text.contains(&pat(70)) && !text.contains(&pat(71)),
        "no secret in the baseline"
    );
    // Sorted, stable: creating it again gives the same bytes.
    patrol(&["baseline", "create", "src"], d);
    assert_eq!(
        std::fs::read_to_string(d.join(".patrol-baseline.json")).unwrap(),
        text
    );

    // Lines move and the file is renamed: still suppressed.
    std::fs::remove_file(d.join("src/a.env")).unwrap();
    write(
        d,
        "src/moved/b.env",
        format!("# moved\n\nOTHER={}\nADO_PAT={}\n", pat(71), pat(70)),
    );
    let (doc, out) = patrol_json(&["scan", "src", "--baseline", ".patrol-baseline.json"], d);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["summary"]["suppressed"], 2);

    // A new secret is reported; a removed one leaves a stale entry.
    write(
        d,
        "src/moved/b.env",
        format!("OTHER={}\nNEW={}\n", pat(71), pat(72)),
    );
    let (doc, out) = patrol_json(&["scan", "src", "--baseline", ".patrol-baseline.json"], d);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        triples(&doc),
        vec![("src/moved/b.env".into(), 2, "azure-devops-pat".into())]
    );
    let check = patrol(&["baseline", "check", "src"], d);
    assert_eq!(check.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("2 entries, 1 stale; 1 finding not in the baseline"),
        "{stdout}"
    );
    let stale_fp = {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(format!("azure-devops-pat:{}", pat(70)).as_bytes());
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert!(
        stdout.contains(&format!("stale: azure-devops-pat {stale_fp}")),
        "{stdout}"
    );
}

#[test]
fn baseline_with_paths_and_from_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t/a.txt", format!("{}\n", pat(73)));
    let out = patrol(&["scan", "t", "--format", "json", "-o", "report.json"], d);
    assert_eq!(out.status.code(), Some(1));
    let out = patrol(
        &[
            "baseline",
            "create",
            "--from",
            "report.json",
            "--with-paths",
            "-o",
            "b.json",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, out) = patrol_json(&["scan", "t", "--baseline", "b.json"], d);
    assert_eq!(out.status.code(), Some(0));
    // The report says `t/a.txt`; the entry is keyed relative to the scanned root, so the
    // baseline holds wherever the scan is run from and however the root is spelt.
    let text = std::fs::read_to_string(d.join("b.json")).unwrap();
    assert!(text.contains("\"path\": \"a.txt\""), "{text}");
    let (_, out) = patrol_json(&["scan", ".", "--baseline", "../b.json"], &d.join("t"));
    assert_eq!(out.status.code(), Some(0));
    let abs = d.join("t");
    let (_, out) = patrol_json(&["scan", abs.to_str().unwrap(), "--baseline", "b.json"], d);
    assert_eq!(out.status.code(), Some(0));
    // Keyed by path: the same secret elsewhere is reported.
    write(d, "t/copy.txt", format!("{}\n", pat(73)));
    let (doc, out) = patrol_json(&["scan", "t", "--baseline", "b.json"], d);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        triples(&doc),
        vec![("t/copy.txt".into(), 1, "azure-devops-pat".into())]
    );
    // A damaged baseline is an error, not a silent pass.
    write(
        d,
        "bad.json",
        "{\"version\": 1, \"entries\": [{\"rule_id\": 1}]}",
    );
    let out = patrol(&["scan", "t", "--baseline", "bad.json"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let bash = patrol(&["completions", "bash"], dir.path());
    assert_eq!(bash.status.code(), Some(0));
    let text = String::from_utf8_lossy(&bash.stdout);
    assert!(
        text.contains("patrol") && text.contains("--max-file-size"),
        "bash completions"
    );
    let zsh = patrol(&["completions", "zsh"], dir.path());
    assert!(String::from_utf8_lossy(&zsh.stdout).contains("#compdef patrol"));
    let man = patrol(&["man"], dir.path());
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(
        text.contains(".TH patrol") || text.contains(".TH PATROL"),
        "roff header"
    );
    assert!(text.contains("scan"));
}

/// The long options `patrol ARGS --help` lists (`--format`, …), `--help` and `--version` aside.
fn help_options(args: &[&str], dir: &std::path::Path) -> Vec<String> {
    let mut all = args.to_vec();
    all.push("--help");
    let out = patrol(&all, dir);
    assert_eq!(out.status.code(), Some(0), "{all:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut opts: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix('-')
                .filter(|r| !r.starts_with('-'))
                .map_or(l, |r| r.split_once(", ").map_or(r, |(_, rest)| rest));
            l.strip_prefix("--")
                .map(|r| format!("--{}", r.split([' ', '=', '<']).next().unwrap()))
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect();
    opts.dedup();
    opts
}

#[test]
fn man_output_writes_a_full_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = patrol(&["man", "--output", "man1"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pages: &[(&str, &[&str])] = &[
        ("patrol", &[]),
        ("patrol-scan", &["scan"]),
        ("patrol-git", &["git"]),
        ("patrol-staged", &["staged"]),
        ("patrol-baseline", &["baseline"]),
        ("patrol-baseline-create", &["baseline", "create"]),
        ("patrol-baseline-check", &["baseline", "check"]),
        ("patrol-rules", &["rules"]),
        ("patrol-rules-list", &["rules", "list"]),
        ("patrol-rules-check", &["rules", "check"]),
        ("patrol-fake-token", &["fake-token"]),
        ("patrol-install-hook", &["install-hook"]),
        ("patrol-completions", &["completions"]),
        ("patrol-man", &["man"]),
        ("patrol-ado", &["ado"]),
        ("patrol-merge", &["merge"]),
    ];
    let written = std::fs::read_dir(dir.path().join("man1")).unwrap().count();
    assert_eq!(written, pages.len(), "one page per command and subcommand");
    let man_available = Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !man_available {
        eprintln!("skipped rendering with man -l: man is not installed (.ci/run installs man-db)");
    }
    for (name, args) in pages {
        let file = dir.path().join("man1").join(format!("{name}.1"));
        let roff = std::fs::read_to_string(&file).unwrap();
        // The page as a reader sees it: rendered by man when there is one, else the roff.
        let text = if man_available {
            let out = Command::new("man")
                .arg("-l")
                .arg(&file)
                .env("MANWIDTH", "200")
                .env("LC_ALL", "C")
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .output()
                .unwrap();
            assert!(out.status.success(), "man -l {name}.1 fails");
            let err = String::from_utf8_lossy(&out.stderr);
            // In the C locale troff cannot draw `…`; any other warning is a broken page.
            let broken = err
                .lines()
                .find(|l| l.contains("warning") && !l.contains("special character"));
            assert!(broken.is_none(), "man -l {name}.1: {err}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        } else {
            roff.replace("\\-", "-")
        };
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "SEE ALSO"] {
            assert!(text.contains(section), "{name}: no {section}:\n{text}");
        }
        for option in help_options(args, dir.path()) {
            assert!(text.contains(&option), "{name}: {option} missing:\n{text}");
        }
        if ["patrol-scan", "patrol-git", "patrol-staged"].contains(name) {
            for must in [
                "ENVIRONMENT",
                "PATROL_ADO_BASE_URL",
                "NO_COLOR",
                "CLICOLOR_FORCE",
                "FILES",
                ".patrol.toml",
                ".patrol-baseline.json",
                "EXAMPLES",
                "130",
            ] {
                assert!(text.contains(must), "{name}: no {must}:\n{text}");
            }
        }
    }
    let top = std::fs::read_to_string(dir.path().join("man1/patrol.1")).unwrap();
    assert!(top.contains("patrol \\- find leaked"), "{top}");
    assert_eq!(top.matches("find leaked").count(), 1, "{top}");
    assert!(!top.contains("patrol: "), "NAME says patrol once: {top}");
}

#[test]
fn baseline_from_a_gitleaks_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (known, other) = (pat(74), pat(75));
    write(d, "src/a.env", format!("ADO_PAT={known}\n"));
    // A gitleaks report (its JSON field names) with: a PAT patrol detects, a password patrol
    // does not, and a finding from a report written with --redact.
    let report = serde_json::json!([
        {
            "RuleID": "generic-api-key", "Description": "Generic API Key",
            "StartLine": 1, "EndLine": 1, "StartColumn": 1, "EndColumn": 60,
            "Match": format!("ADO_PAT={known}"), "Secret": known,
            "File": "src/a.env", "Commit": "", "Entropy": 4.5,
            "Author": "", "Email": "", "Date": "", "Message": "", "Tags": [],
            "Fingerprint": "src/a.env:generic-api-key:1"
        },
        {
            "RuleID": "generic-password", "Match": "password = \"correct-horse\"",
            "Secret": "correct-horse", "File": "conf.ini", "StartLine": 3
        },
        {"RuleID": "generic-api-key", "Match": "REDACTED", "Secret": "REDACTED", "File": "b.env"}
    ]);
    write(d, "gitleaks.json", report.to_string());
    let out = patrol(&["baseline", "create", "--from", "gitleaks.json"], d);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 gitleaks findings left out"), "{stderr}");
    assert!(
        !stderr.contains("correct-horse"),
        "no secret of the report in messages"
    );
    let text = std::fs::read_to_string(d.join(".patrol-baseline.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["entries"].as_array().unwrap().len(), 1, "{text}");
    assert_eq!(doc["entries"][0]["rule_id"], "azure-devops-pat");
    assert!(!text.contains(&known), "no secret in the baseline");

    // The baseline suppresses the secret gitleaks had reported, and nothing else.
    let (doc, out) = patrol_json(&["scan", "src", "--baseline", ".patrol-baseline.json"], d);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["summary"]["suppressed"], 1);
    write(d, "src/b.env", format!("OTHER={other}\n"));
    let (doc, out) = patrol_json(&["scan", "src", "--baseline", ".patrol-baseline.json"], d);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        triples(&doc),
        vec![("src/b.env".into(), 1, "azure-devops-pat".into())]
    );

    // Not a report at all: an error that says what to give, without quoting the file.
    write(d, "bad.json", format!("[\"{known}\"]"));
    let out = patrol(
        &["baseline", "create", "--from", "bad.json", "-o", "x.json"],
        d,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.json") && !stderr.contains(&known),
        "{stderr}"
    );
}

/// `baseline create --from` checks entries as loading does: it never writes a baseline that
/// `--baseline` would then refuse.
#[test]
fn baseline_from_a_report_with_a_malformed_fingerprint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "report.json",
        r#"{"findings":[{"rule_id":"azure-devops-pat","fingerprint":"zz","path":"a"}],"summary":{}}"#,
    );
    let out = patrol(
        &[
            "baseline",
            "create",
            "--from",
            "report.json",
            "-o",
            "b.json",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("malformed fingerprint"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!d.join("b.json").exists());
}

/// An error names its cause once (not `… (os error 2): … (os error 2)`).
#[test]
fn errors_do_not_repeat_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["scan", "missing-path"][..],
        &["scan", ".", "--rules", "missing-rules.toml"][..],
    ] {
        let out = patrol(args, dir.path());
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let cause = stderr.matches("No such file or directory").count();
        assert_eq!(cause, 1, "{args:?}: {stderr}");
        assert!(
            stderr.matches("os error 2").count() <= 1,
            "{args:?}: {stderr}"
        );
    }
}

/// `rules list` shows the rules a scan of the current directory uses: `.patrol.toml`'s
/// `disable_rules` and `rules` apply to it as to `patrol scan`, and `--config` names another file.
#[test]
fn rules_list_shows_the_rules_in_effect() {
    let dir = tempfile::tempdir().unwrap();
    let ids = |args: &[&str]| -> Vec<String> {
        let out = patrol(args, dir.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let builtin = ids(&["rules", "list"]);
    assert!(builtin.iter().any(|id| id == "url-credentials"));

    std::fs::write(
        dir.path().join(".patrol.toml"),
        "disable_rules = [\"url-credentials\"]\nrules = [\"extra.toml\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("extra.toml"),
        "[[rules]]\nid = \"team-key\"\nname = \"Team key\"\ndescription = \"A team key.\"\nkeywords = [\"teamkey_\"]\nseverity = \"low\"\nconfidence = \"low\"\n\
         pattern = 'teamkey_[a-z0-9]{20}'\nexamples = [\"teamkey_abcdefghij0123456789\"]\n",
    )
    .unwrap();
    let configured = ids(&["rules", "list"]);
    assert!(!configured.iter().any(|id| id == "url-credentials"));
    assert!(configured.iter().any(|id| id == "team-key"));
    assert_eq!(configured.len(), builtin.len());

    std::fs::write(dir.path().join("other.toml"), "disable_rules = []\n").unwrap();
    let other = ids(&["rules", "list", "--config", "other.toml"]);
    assert_eq!(other, builtin);
}

/// Commands accept only the options they honour: the baseline commands write no report and
/// verify nothing, `patrol merge` scans nothing and re-verifies nothing. Such an option used to
/// be accepted and silently ignored (`baseline create --format sarif` wrote a baseline).
#[test]
fn options_a_command_would_ignore_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "src/a.env", format!("ADO_PAT={}\n", pat(76)));
    let refused: &[&[&str]] = &[
        &["baseline", "create", "--format", "sarif"],
        &["baseline", "create", "--verify"],
        &["baseline", "create", "--fail-on", "valid"],
        &["baseline", "create", "--show-secrets"],
        &["baseline", "check", "--format", "json"],
        &["baseline", "check", "--verify"],
        &["baseline", "check", "--summary", "s.md"],
        &["merge", "r.json", "--verify"],
        &["merge", "r.json", "--config", "c.toml"],
        &["merge", "r.json", "--max-file-size", "1M"],
        &["merge", "r.json", "--no-archives"],
    ];
    for args in refused {
        let out = patrol(args, d);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("unexpected argument"), "{args:?}: {err}");
    }
    assert!(!d.join(".patrol-baseline.json").exists());
    // What they do honour still works.
    let out = patrol(
        &[
            "baseline",
            "create",
            "src",
            "-q",
            "--min-confidence",
            "high",
            "-o",
            "b.json",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = patrol(
        &[
            "baseline",
            "check",
            "src",
            "--baseline",
            "b.json",
            "-j",
            "1",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = patrol(&["scan", "src", "--format", "json", "-o", "r.json"], d);
    assert_eq!(out.status.code(), Some(1));
    let out = patrol(
        &[
            "merge",
            "r.json",
            "--baseline",
            "b.json",
            "--format",
            "sarif",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
