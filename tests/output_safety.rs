//! What patrol writes about text it did not write itself: control characters from the scanned
//! repository are escaped in human output, and secrets are kept out of commit metadata, paths
//! and remote URLs in every format.

mod gitutil;

use gitutil::{Repo, token};
use std::process::{Command, Stdio};

/// Human output of `patrol ARGS` run in `dir` (stdout, stderr, exit code).
fn human(dir: &std::path::Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .current_dir(dir)
        .args(args)
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
    repo.write(forged, &format!("PAT={}\n", token(901)));
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
