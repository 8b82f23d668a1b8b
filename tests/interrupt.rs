//! Ctrl-C (SIGINT) during a scan: the process exits promptly with status 130 and leaves no
//! report file, finished or temporary, behind.
#![cfg(unix)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::fixture::write;
use support::run::*;

const EXIT_INTERRUPTED: i32 = 130;

fn sigint(pid: u32) {
    // SAFETY: sends a signal to our own child process.
    let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "kill -INT {pid}");
}

/// No report and no temporary report in `dir`.
fn assert_no_report(dir: &Path) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("report"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn ctrl_c_stops_a_tree_scan_with_130_and_no_report() {
    let tree = tempfile::tempdir().expect("temp dir");
    let body = "var a=function(b){return b*2};\n".repeat(4096);
    for i in 0..400 {
        write(tree.path(), &format!("d{}/f{i}.js", i % 20), &body);
    }
    let out = tempfile::tempdir().expect("temp dir");
    let report = out.path().join("report.json");
    let args = [
        "scan",
        tree.path().to_str().expect("UTF-8 temp path"),
        "--threads",
        "1",
        "--format",
        "json",
        "--output",
        report.to_str().expect("UTF-8 temp path"),
    ];
    let child = piped_cmd(&args, out.path()).spawn().expect("start patrol");
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    sigint(child.id());
    let r = wait_within(child, Duration::from_secs(30), "interrupted scan");
    assert_eq!(
        r.code(),
        Some(EXIT_INTERRUPTED),
        "{:?} {}",
        r.status,
        r.stderr
    );
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "took {:?} after Ctrl-C",
        signalled.elapsed()
    );
    assert!(r.stderr.contains("interrupted"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_no_report(out.path());
}

/// Blocked on a read that never ends (stdin from a silent writer): the watchdog ends it.
#[test]
fn ctrl_c_ends_a_blocked_scan_after_the_grace_period() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut cmd = piped_cmd(&["scan", "-", "--output", "report.txt"], out.path());
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("start patrol");
    let _stdin = child.stdin.take();
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    sigint(child.id());
    let r = wait_within(child, Duration::from_secs(30), "blocked scan");
    assert_eq!(
        r.code(),
        Some(EXIT_INTERRUPTED),
        "{:?} {}",
        r.status,
        r.stderr
    );
    assert!(signalled.elapsed() < Duration::from_secs(10));
    assert_no_report(out.path());
}

/// A second Ctrl-C does not wait for the grace period.
#[test]
fn second_ctrl_c_exits_at_once() {
    let out = tempfile::tempdir().expect("temp dir");
    let mut cmd = piped_cmd(&["scan", "-"], out.path());
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("start patrol");
    let _stdin = child.stdin.take();
    std::thread::sleep(Duration::from_millis(200));
    let signalled = Instant::now();
    sigint(child.id());
    std::thread::sleep(Duration::from_millis(100));
    sigint(child.id());
    let r = wait_within(child, Duration::from_secs(30), "blocked scan");
    assert_eq!(
        r.code(),
        Some(EXIT_INTERRUPTED),
        "{:?} {}",
        r.status,
        r.stderr
    );
    assert!(
        signalled.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        signalled.elapsed()
    );
}
