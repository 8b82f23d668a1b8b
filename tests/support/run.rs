//! Running the real `patrol` binary: [`patrol_cmd`] is the one place a test starts it; the
//! runners below build on it. [`patrol`] and [`patrol_json`] return the raw output, [`run`] kills
//! a run that outlives a deadline (a hang fails the test instead of stalling the suite), and
//! [`report`] parses a `--format json` document into a [`Report`].

use super::findings::{Brief, rows};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_patrol");

/// The package root: where cargo runs the tests, for runs that do not choose a directory.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `PATH` with the directory of the binary under test first, for scripts and tools (git hooks,
/// pre-commit, CI definitions) that run `patrol` by name.
pub fn path_with_patrol() -> String {
    let bin_dir = Path::new(BIN)
        .parent()
        .expect("the binary is in a directory");
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `patrol ARGS` in `cwd`, without the caller's `RUST_BACKTRACE` (so a report never depends on
/// the developer's shell). Callers add environment and stdio as they need.
pub fn patrol_cmd(args: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(cwd).env_remove("RUST_BACKTRACE");
    c
}

/// [`patrol_cmd`] with stdin empty and stdout and stderr piped, for [`wait_within`].
pub fn piped_cmd(args: &[&str], cwd: &Path) -> Command {
    let mut c = patrol_cmd(args, cwd);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Run `patrol ARGS` in `cwd` to the end (stdin empty) and return what it wrote.
pub fn patrol(args: &[&str], cwd: &Path) -> Output {
    patrol_cmd(args, cwd).output().expect("run patrol")
}

/// Run with `--format json` and parse the document.
pub fn patrol_json(args: &[&str], cwd: &Path) -> (serde_json::Value, Output) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = patrol(&all, cwd);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out)
}

/// A run's exit code, its stdout as text and as the JSON document it holds.
pub struct Report {
    /// The exit code, -1 if a signal ended the run.
    pub code: i32,
    pub stdout: String,
    /// `Null` when stdout is empty; a run that prints anything else than JSON fails the test.
    pub json: serde_json::Value,
    pub stderr: String,
}

impl Report {
    pub fn from_output(out: Output) -> Report {
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let json = if stdout.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"))
        };
        Report {
            code: out.status.code().unwrap_or(-1),
            stdout,
            json,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// (rule, path, line, commit id) of every finding, sorted; none when there is no document.
    pub fn findings(&self) -> Vec<Brief> {
        if self.json["findings"].is_null() {
            return Vec::new();
        }
        let mut v: Vec<Brief> = rows(
            &self.json["findings"],
            &["rule_id", "path", "line", "commit.id"],
        );
        v.sort();
        v
    }

    pub fn summary(&self, key: &str) -> u64 {
        self.json["summary"][key].as_u64().unwrap_or_else(|| {
            panic!("summary has no {key}: {}", self.json["summary"]);
        })
    }
}

/// Run `patrol ARGS --format json --color never` in `cwd` (stdin empty).
pub fn report(args: &[&str], cwd: &Path) -> Report {
    let out = patrol_cmd(args, cwd)
        .args(["--format", "json", "--color", "never"])
        .stdin(Stdio::null())
        .output()
        .expect("patrol runs");
    Report::from_output(out)
}

/// Default deadline for one run of the binary.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// stdout parsed as the `--format json` document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): stdout={} stderr={}",
                String::from_utf8_lossy(&self.stdout),
                self.stderr
            )
        })
    }

    /// Fails if the binary panicked.
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && self.status.code().is_some(),
            "patrol crashed: {:?}\n{}",
            self.status,
            self.stderr
        );
    }
}

/// Run the binary; kill it and fail the test if it takes longer than `deadline`.
pub fn run_within(args: &[&str], cwd: &Path, deadline: Duration) -> Run {
    let child = piped_cmd(args, cwd).spawn().expect("start patrol");
    wait_within(child, deadline, &format!("patrol {}", args.join(" ")))
}

/// [`run_within`] with the default [`DEADLINE`].
pub fn run(args: &[&str], cwd: &Path) -> Run {
    run_within(args, cwd, DEADLINE)
}

/// Collect a spawned child's output (stdout and stderr piped) within `deadline`.
pub fn wait_within(mut child: Child, deadline: Duration, what: &str) -> Run {
    let started = Instant::now();
    let mut out = child.stdout.take().expect("stdout piped");
    let mut err = child.stderr.take().expect("stderr piped");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for patrol") {
            break s;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: no exit within {deadline:?} (hang?)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    Run {
        status,
        stdout: out_t.join().expect("stdout reader"),
        stderr: String::from_utf8_lossy(&err_t.join().expect("stderr reader")).into_owned(),
        elapsed,
    }
}

/// Run the real binary as an unprivileged user when the test runs as root (whom permission
/// bits do not stop), through `setpriv` or `runuser`; as is otherwise. `None` (with a note on
/// stderr) when running as root and neither tool works: the caller skips its assertions.
/// The binary is copied to a world-readable temporary directory; `cwd` and what the run
/// reads must be reachable by user 65534 (`nobody`).
pub fn run_unprivileged(args: &[&str], cwd: &Path) -> Option<Output> {
    if unsafe { libc::geteuid() } != 0 {
        return Some(piped_cmd(args, cwd).output().expect("run patrol"));
    }
    let bin_dir = tempfile::Builder::new()
        .prefix("patrol-bin-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let bin = bin_dir.path().join("patrol");
    std::fs::copy(BIN, &bin).expect("copy binary");
    chmod(bin_dir.path(), 0o755);
    chmod(&bin, 0o755);
    let bin = bin.to_str().expect("UTF-8 temp path");
    let wrappers: [&[&str]; 2] = [
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
        ],
        &["runuser", "-u", "nobody", "--"],
    ];
    for wrapper in wrappers {
        let probe = Command::new(wrapper[0])
            .args(&wrapper[1..])
            .arg("true")
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            continue;
        }
        let out = Command::new(wrapper[0])
            .args(&wrapper[1..])
            .arg(bin)
            .args(args)
            .current_dir(cwd)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .output()
            .expect("run patrol unprivileged");
        return Some(out);
    }
    eprintln!("note: running as root and neither setpriv nor runuser works; skipped");
    None
}

/// Set the permission bits of one path.
pub fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
