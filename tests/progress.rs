//! The progress line (issue 18): drawn on stderr when it is a terminal, for `scan`, `git` (its
//! phases) and `staged`; never in a pipe, a report file, with `--quiet` or under CI. The
//! terminal is a real pseudo-terminal.

mod support;

use support::git::Repo;
use support::pty::{OnTerminal, run};
use support::tokens::pat;

const STDERR_TTY: OnTerminal = OnTerminal {
    stdout: false,
    stderr: true,
};
const BOTH_TTY: OnTerminal = OnTerminal {
    stdout: true,
    stderr: true,
};
const PIPES: OnTerminal = OnTerminal {
    stdout: false,
    stderr: false,
};
const XTERM: (&str, &str) = ("TERM", "xterm");

/// A repository with a secret committed and another one staged.
fn repo() -> Repo {
    let repo = Repo::new();
    for i in 0..20 {
        repo.write(&format!("src/f{i}.txt"), &format!("line {i}\n"));
    }
    repo.write("a.env", &format!("PAT={}\n", pat(401)));
    repo.commit_all("first");
    repo.write("b.env", &format!("PAT={}\n", pat(402)));
    repo.git(&["add", "b.env"]);
    repo
}

#[test]
fn each_scanning_command_draws_a_progress_line_on_a_terminal() {
    let repo = repo();
    let cases: [(&[&str], &str); 3] = [
        (&["scan", "."], "scanning: "),
        (&["git"], "listing commits"),
        (&["staged"], "comparing the index with HEAD"),
    ];
    for (args, shown) in cases {
        let r = run(repo.path(), args, &[XTERM], STDERR_TTY);
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        assert!(r.terminal.contains(shown), "{args:?}: {:?}", r.terminal);
        // The report went to the pipe, untouched by the progress line.
        assert!(r.stdout_pipe.contains(" finding"), "{args:?}: {r:?}");
        assert!(!r.stdout_pipe.contains(shown), "{args:?}: {r:?}");
        assert!(!r.stdout_pipe.contains('\r'), "{args:?}: {r:?}");
    }
    // On a terminal for stdout too, the report is still there after the line is erased.
    let r = run(repo.path(), &["scan", "."], &[XTERM], BOTH_TTY);
    assert!(r.terminal.contains("scanning: "), "{r:?}");
    assert!(r.terminal.contains("critical"), "{r:?}");
}

#[test]
fn no_progress_line_in_pipes_files_quiet_or_ci() {
    let repo = repo();
    let shown = ["scanning", "listing commits", "comparing the index"];
    for args in [&["scan", "."][..], &["git"][..], &["staged"][..]] {
        // Into pipes: stdout and stderr carry no progress text and no carriage return.
        let r = run(repo.path(), args, &[XTERM], PIPES);
        assert_eq!(r.code, Some(1), "{args:?}: {r:?}");
        for s in shown {
            assert!(
                !r.stdout_pipe.contains(s) && !r.stderr_pipe.contains(s),
                "{r:?}"
            );
        }
        assert!(!r.stderr_pipe.contains('\r'), "{args:?}: {r:?}");
        // With --quiet, or under CI, the terminal shows none either.
        let mut quiet = args.to_vec();
        quiet.push("--quiet");
        for (argv, env) in [
            (&quiet[..], &[XTERM][..]),
            (args, &[XTERM, ("CI", "true")][..]),
        ] {
            let r = run(repo.path(), argv, env, STDERR_TTY);
            assert_eq!(r.code, Some(1), "{argv:?}: {r:?}");
            for s in shown {
                assert!(!r.terminal.contains(s), "{argv:?} {env:?}: {r:?}");
            }
        }
        // A report file holds only the report, even while the terminal shows progress.
        let mut to_file = args.to_vec();
        to_file.extend(["-o", "report.txt"]);
        let r = run(repo.path(), &to_file, &[XTERM], STDERR_TTY);
        assert_eq!(r.code, Some(1), "{to_file:?}: {r:?}");
        let report = std::fs::read_to_string(repo.path().join("report.txt")).unwrap();
        assert!(report.contains(" finding"), "{report}");
        for s in shown {
            assert!(!report.contains(s), "{to_file:?}: {report}");
        }
        assert!(
            !report.contains('\r') && !report.contains('\x1b'),
            "{report:?}"
        );
        std::fs::remove_file(repo.path().join("report.txt")).unwrap();
    }
}
