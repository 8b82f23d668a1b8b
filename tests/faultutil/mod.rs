//! Helpers for fault and hygiene tests: run the real binary under a deadline (a hang fails
//! the test instead of stalling the suite) and build small trees.
#![allow(dead_code)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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

/// A command for the real binary, run in `cwd`.
pub fn patrol_cmd(args: &[&str], cwd: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_patrol"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Run the binary; kill it and fail the test if it takes longer than `deadline`.
pub fn run_within(args: &[&str], cwd: &Path, deadline: Duration) -> Run {
    let child = patrol_cmd(args, cwd).spawn().expect("start patrol");
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

/// Write `bytes` at `dir/rel`, creating parent directories.
pub fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("has a parent")).expect("create dirs");
    std::fs::write(p, bytes).expect("write file");
}

/// Paths of all findings in a JSON document, sorted.
pub fn finding_paths(doc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_string())
        .collect();
    v.sort();
    v
}

/// Run the real binary as an unprivileged user when the test runs as root (whom permission
/// bits do not stop), through `setpriv` or `runuser`; as is otherwise. `None` (with a note on
/// stderr) when running as root and neither tool works: the caller skips its assertions.
/// The binary is copied to a world-readable temporary directory; `cwd` and what the run
/// reads must be reachable by user 65534 (`nobody`).
pub fn run_unprivileged(args: &[&str], cwd: &Path) -> Option<std::process::Output> {
    if unsafe { libc::geteuid() } != 0 {
        return Some(patrol_cmd(args, cwd).output().expect("run patrol"));
    }
    let bin_dir = tempfile::Builder::new()
        .prefix("patrol-bin-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    let bin = bin_dir.path().join("patrol");
    std::fs::copy(env!("CARGO_BIN_EXE_patrol"), &bin).expect("copy binary");
    chmod_tree(bin_dir.path(), 0o755);
    chmod_tree(&bin, 0o755);
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
pub fn chmod_tree(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
