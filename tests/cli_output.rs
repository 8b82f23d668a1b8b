//! What a person sees (issue 18): the human report pinned on the fixture tree, paths as the
//! user gave the root, colour conventions on a real pseudo-terminal and in pipes, and error
//! messages.

mod support;

use support::fixture::*;
use support::pty::{OnTerminal, run};
use support::run::{patrol, patrol_json};
use support::tokens::pat;

const PIPES: OnTerminal = OnTerminal {
    stdout: false,
    stderr: false,
};
const STDOUT_TTY: OnTerminal = OnTerminal {
    stdout: true,
    stderr: false,
};

/// The fixture tree rendered into `<tmp>/tree`.
fn fixture_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    render_tree(&fixtures().join("tree"), &dir.path().join("tree"));
    dir
}

/// Time and rate change from run to run: replaced by fixed text.
fn stable(text: &str) -> String {
    let timing = regex::Regex::new(r"in \d+\.\d\d s \([^)]*/s\)").unwrap();
    timing.replace_all(text, "in [time] ([rate])").into_owned()
}

fn stdout(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String, String) {
    let out = patrol(args, dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn human_report_of_the_fixture_tree() {
    let dir = fixture_tree();
    let (code, text, err) = stdout(&["scan", "tree", "--color", "never"], dir.path());
    assert_eq!(code, Some(1), "{err}");
    insta::assert_snapshot!("human_fixture_tree", stable(&text));
    // Every finding is one line that starts with a path the user can open from here.
    for line in text.lines().take_while(|l| !l.is_empty()) {
        // A file's name or a link's target is not content to open (and the name is redacted).
        if line.contains("in the file's name") || line.contains("in the target of a symbolic") {
            continue;
        }
        // A member of an archive opens through the archive (`site.tgz!config/x.json`).
        let path = line.split([':', '!']).next().unwrap();
        assert!(
            dir.path().join(path).is_file(),
            "{path} does not open: {line}"
        );
    }
}

#[test]
fn quiet_keeps_only_the_summary() {
    let dir = fixture_tree();
    let (code, text, _) = stdout(&["scan", "tree", "--quiet"], dir.path());
    assert_eq!(code, Some(1));
    insta::assert_snapshot!("human_fixture_tree_quiet", stable(&text));
}

#[test]
fn advice_is_given_once_per_rule() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..5).map(|i| format!("PAT={}\n", pat(300 + i))).collect();
    std::fs::write(dir.path().join("a.env"), text).unwrap();
    let (_, out, _) = stdout(&["scan", "a.env"], dir.path());
    assert_eq!(out.matches("a.env:").count(), 5, "{out}");
    assert_eq!(out.matches("revoke it now").count(), 1, "{out}");
    assert!(out.contains("1 file, "), "{out}");
    assert!(out.contains("; 5 findings"), "{out}");
}

#[test]
fn paths_are_shown_as_the_root_was_given() {
    let dir = fixture_tree();
    let abs = dir.path().join("tree");
    let abs = abs.to_str().unwrap();
    let first_path = |args: &[&str], cwd: &std::path::Path| {
        let (doc, _) = patrol_json(args, cwd);
        doc["findings"][0]["path"].as_str().unwrap().to_string()
    };
    assert_eq!(first_path(&["scan", "tree"], dir.path()), "tree/.env");
    assert_eq!(first_path(&["scan", "tree/"], dir.path()), "tree/.env");
    assert_eq!(first_path(&["scan", "./tree"], dir.path()), "./tree/.env");
    assert_eq!(
        first_path(&["scan", abs], dir.path()),
        format!("{abs}/.env")
    );
    assert_eq!(first_path(&["scan", "."], &dir.path().join("tree")), ".env");
    // JSON Lines and human output say the same; SARIF stays relative to the root.
    let (_, jsonl, _) = stdout(&["scan", abs, "--format", "jsonl"], dir.path());
    assert!(
        jsonl
            .lines()
            .all(|l| l.contains(&format!("\"path\":\"{abs}/"))),
        "{jsonl}"
    );
    let (_, human, _) = stdout(&["scan", abs], dir.path());
    assert!(human.starts_with(&format!("{abs}/.env:")), "{human}");
    let (_, sarif, _) = stdout(&["scan", abs, "--format", "sarif"], dir.path());
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let loc = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], ".env");
    assert_eq!(loc["uriBaseId"], "%SRCROOT%");
}

/// Does the terminal (or the pipe) show colour escapes?
fn coloured(env: &[(&str, &str)], extra: &[&str], on: OnTerminal) -> bool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), format!("PAT={}\n", pat(310))).unwrap();
    let mut args = vec!["scan", "a.env"];
    args.extend(extra);
    let r = run(dir.path(), &args, env, on);
    assert_eq!(r.code, Some(1), "{r:?}");
    let shown = if on.stdout {
        &r.terminal
    } else {
        &r.stdout_pipe
    };
    assert!(shown.contains("a.env") && shown.contains(":1:5"), "{r:?}");
    shown.contains("\x1b[")
}

#[test]
fn colour_follows_no_color_clicolor_term_and_the_flag() {
    let xterm = ("TERM", "xterm-256color");
    // On a terminal.
    assert!(coloured(&[xterm], &[], STDOUT_TTY));
    assert!(coloured(&[xterm, ("NO_COLOR", "")], &[], STDOUT_TTY));
    assert!(!coloured(&[xterm, ("NO_COLOR", "1")], &[], STDOUT_TTY));
    assert!(!coloured(&[("TERM", "dumb")], &[], STDOUT_TTY));
    assert!(!coloured(&[xterm, ("CLICOLOR", "0")], &[], STDOUT_TTY));
    assert!(coloured(
        &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")],
        &[],
        STDOUT_TTY
    ));
    assert!(!coloured(&[xterm], &["--color", "never"], STDOUT_TTY));
    assert!(!coloured(
        &[xterm, ("CLICOLOR_FORCE", "1")],
        &["--color", "never"],
        STDOUT_TTY
    ));
    assert!(coloured(
        &[("NO_COLOR", "1"), ("TERM", "dumb")],
        &["--color", "always"],
        STDOUT_TTY
    ));
    // Into a pipe.
    assert!(!coloured(&[xterm], &[], PIPES));
    assert!(coloured(&[("CLICOLOR_FORCE", "1")], &[], PIPES));
    assert!(!coloured(&[("CLICOLOR_FORCE", "0")], &[], PIPES));
    assert!(!coloured(
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &[],
        PIPES
    ));
    assert!(coloured(
        &[("NO_COLOR", "1")],
        &["--color", "always"],
        PIPES
    ));
    // A report file never gets colour unless asked for.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.env"), format!("PAT={}\n", pat(311))).unwrap();
    let r = run(
        dir.path(),
        &["scan", "a.env", "-o", "r.txt"],
        &[xterm],
        STDOUT_TTY,
    );
    assert_eq!(r.code, Some(1), "{r:?}");
    let file = std::fs::read_to_string(dir.path().join("r.txt")).unwrap();
    assert!(
        file.contains("a.env:1:5") && !file.contains('\x1b'),
        "{file}"
    );
}

#[test]
fn a_missing_path_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = stdout(&["scan", "tree"], dir.path());
    assert_eq!(code, Some(2));
    assert_eq!(out, "");
    assert_eq!(err, "patrol: tree: No such file or directory\n");
}

#[test]
fn errors_name_what_was_given_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["scan", ".", "--config", "nope.toml"],
            &["nope.toml", "give --config an existing file"],
        ),
        (
            &["scan", ".", "--baseline", "nope.json"],
            &["nope.json", "patrol baseline create"],
        ),
        (&["git", "."], &[".: not a git repository", "give the path"]),
        (
            &["scan", ".", "--min-confidence", "sure"],
            &["'sure'", "low, medium, high"],
        ),
        (
            &["fake-token", "--kind", "github"],
            &[
                "'github'",
                "--kind",
                "legacy, legacy-app",
                "github-pat",
                "npm",
            ],
        ),
    ];
    for (args, wanted) in cases {
        let (code, _, err) = stdout(args, dir.path());
        assert_eq!(code, Some(2), "{args:?}: {err}");
        for w in wanted {
            assert!(err.contains(w), "{args:?}: {err:?} lacks {w:?}");
        }
        assert!(!err.contains("os error"), "{args:?}: {err}");
    }
    let (_, help, _) = stdout(&["scan", "--help"], dir.path());
    let at = help.find("--min-confidence").unwrap();
    let part = &help[at..at + 300];
    assert!(
        part.contains("default: medium") && part.contains("low, medium, high"),
        "{part}"
    );
}
