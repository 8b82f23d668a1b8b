//! Running the real binary with a pseudo-terminal as stdout and/or stderr, so tests see what a
//! person at a terminal sees (colour, progress) and what a pipe gets instead.

use super::run::patrol_cmd;
use std::fs::File;
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;

/// Which of stdout and stderr are the terminal; the others are pipes.
#[derive(Debug, Clone, Copy)]
pub struct OnTerminal {
    pub stdout: bool,
    pub stderr: bool,
}

/// What a run left: everything the terminal showed, and what went to the pipes.
#[derive(Debug)]
pub struct TerminalRun {
    pub code: Option<i32>,
    pub terminal: String,
    pub stdout_pipe: String,
    pub stderr_pipe: String,
}

/// Open a pseudo-terminal of 24 rows and 100 columns: (controller, terminal side).
fn open_pty() -> (OwnedFd, OwnedFd) {
    let mut controller = -1;
    let mut terminal = -1;
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors it opened, which we then own.
    let rc = unsafe {
        libc::openpty(
            &mut controller,
            &mut terminal,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are open and owned by nobody else.
    unsafe {
        (
            OwnedFd::from_raw_fd(controller),
            OwnedFd::from_raw_fd(terminal),
        )
    }
}

/// Run `patrol ARGS` in `dir` with `env` set (and every colour/CI variable of the test's own
/// environment removed first, so the caller decides them all).
pub fn run(dir: &Path, args: &[&str], env: &[(&str, &str)], on: OnTerminal) -> TerminalRun {
    let (controller, terminal) = open_pty();
    let mut cmd = patrol_cmd(args, dir);
    cmd.stdin(Stdio::null());
    for var in [
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "TERM",
        "CI",
        "GITHUB_ACTIONS",
        "TF_BUILD",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let tty = |on: bool| {
        if on {
            Stdio::from(terminal.try_clone().expect("dup terminal"))
        } else {
            Stdio::piped()
        }
    };
    cmd.stdout(tty(on.stdout)).stderr(tty(on.stderr));
    let mut child = cmd.spawn().expect("run patrol");
    // Only the child holds the terminal side now: reading ends (EIO) when it exits.
    drop(terminal);
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut f = File::from(controller);
        let mut buf = [0u8; 4096];
        loop {
            match f.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
        all
    });
    let mut stdout_pipe = String::new();
    let mut stderr_pipe = String::new();
    let err_thread = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            e.read_to_string(&mut s).expect("read stderr");
            s
        })
    });
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut stdout_pipe).expect("read stdout");
    }
    if let Some(t) = err_thread {
        stderr_pipe = t.join().expect("stderr reader");
    }
    let status = child.wait().expect("wait for patrol");
    let terminal = String::from_utf8_lossy(&reader.join().expect("terminal reader")).into_owned();
    TerminalRun {
        code: status.code(),
        terminal,
        stdout_pipe,
        stderr_pipe,
    }
}
