//! The terminal: whether to colour output. It decides; reporters only paint when told to.

use crate::cli::ColorWhen;
use std::ffi::OsString;

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
    when: ColorWhen,
    to_terminal: bool,
    env: impl Fn(&str) -> Option<OsString>,
) -> bool {
    match when {
        ColorWhen::Always => return true,
        ColorWhen::Never => return false,
        ColorWhen::Auto => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(when: ColorWhen, tty: bool, vars: &[(&str, &str)]) -> bool {
        use_color(when, tty, |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn conventions() {
        use ColorWhen::*;
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
