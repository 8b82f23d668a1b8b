//! The terminal: whether to colour output, and the live progress line on stderr. It decides;
//! reporters only paint when told to, and sources only count.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::ffi::OsString;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `--color`: colour escapes on a terminal only, always, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether the report gets colour escapes, following `--color`, then the no-color.org and
/// CLICOLOR conventions:
///
/// 1. `--color always|never` wins over everything.
/// 2. `NO_COLOR` set to anything but the empty string disables colour.
/// 3. `CLICOLOR_FORCE` set and not `0` forces colour, even into a pipe.
/// 4. Otherwise colour only on a terminal whose `TERM` is not `dumb`, unless `CLICOLOR=0`.
///
/// `env` looks a variable up (the process environment in the binary; a map in tests).
pub fn use_color(
    when: ColorChoice,
    to_terminal: bool,
    env: impl Fn(&str) -> Option<OsString>,
) -> bool {
    match when {
        ColorChoice::Always => return true,
        ColorChoice::Never => return false,
        ColorChoice::Auto => {}
    }
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if set("NO_COLOR").is_some() {
        return false;
    }
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    to_terminal
        && env("TERM").is_none_or(|t| t != "dumb")
        && env("CLICOLOR").is_none_or(|v| v != "0")
}

/// Whether a progress line may be drawn: stderr is a terminal, not `--quiet`, and not a CI run
/// (`CI` set, as every CI system does). Never into a pipe or a file.
pub fn progress_wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// The line being drawn, so that a warning can lift it out of the way first.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Print `line` on stderr without tearing a progress line that is being drawn.
pub fn eprint_line(line: &str) {
    let active = ACTIVE.lock().map(|a| a.clone()).unwrap_or(None);
    match active {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Run `work` while a line on stderr shows `status()` (redrawn ten times a second) and the
/// time elapsed; the line is erased when `work` returns. Without a terminal (see
/// [`progress_wanted`]) `work` just runs.
pub fn with_progress<T>(
    wanted: bool,
    status: impl Fn() -> String + Sync,
    work: impl FnOnce() -> T,
) -> T {
    if !wanted {
        return work();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}  [{elapsed}]")
            .expect("a valid template")
            .tick_chars("|/-\\ "),
    );
    bar.set_message(status());
    if let Ok(mut a) = ACTIVE.lock() {
        *a = Some(bar.clone());
    }
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                bar.set_message(status());
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let r = work();
        done.store(true, Ordering::Relaxed);
        r
    });
    if let Ok(mut a) = ACTIVE.lock() {
        *a = None;
    }
    bar.finish_and_clear();
    result
}

/// `12.3 MiB/s` from a byte count and seconds.
pub fn rate(bytes: u64, secs: f64) -> String {
    format!(
        "{}/s",
        crate::util::human_bytes((bytes as f64 / secs.max(0.001)) as u64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(when: ColorChoice, tty: bool, vars: &[(&str, &str)]) -> bool {
        use_color(when, tty, |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn conventions() {
        use ColorChoice::*;
        assert!(decide(Auto, true, &[]));
        assert!(!decide(Auto, false, &[]));
        assert!(decide(Auto, true, &[("NO_COLOR", "")]));
        assert!(!decide(Auto, true, &[("NO_COLOR", "1")]));
        assert!(!decide(Auto, true, &[("TERM", "dumb")]));
        assert!(decide(Auto, true, &[("TERM", "xterm-256color")]));
        assert!(decide(Auto, false, &[("CLICOLOR_FORCE", "1")]));
        assert!(!decide(Auto, false, &[("CLICOLOR_FORCE", "0")]));
        assert!(decide(
            Auto,
            true,
            &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")]
        ));
        assert!(!decide(
            Auto,
            false,
            &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]
        ));
        assert!(!decide(Auto, true, &[("CLICOLOR", "0")]));
        assert!(decide(
            Always,
            false,
            &[("NO_COLOR", "1"), ("TERM", "dumb")]
        ));
        assert!(!decide(Never, true, &[("CLICOLOR_FORCE", "1")]));
    }
}
