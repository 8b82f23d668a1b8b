//! `.patrol.toml`: per-repository settings. Unknown keys are errors naming file and line.

use crate::parse_error::reject;
use crate::rules::Confidence;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Globs (gitignore syntax) of paths not to scan.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Rule ids to switch off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Extra rule files or directories, relative to the config file.
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    /// `low`, `medium` (default) or `high`.
    #[serde(default)]
    pub min_confidence: Option<Confidence>,
    /// Exact secret values that are never reported (test fixtures, documented examples).
    #[serde(default)]
    pub allow_values: Vec<String>,
    /// Regexes: a secret matching one is never reported.
    #[serde(default)]
    pub allow_regexes: Vec<String>,
}

/// The keys a configuration file may use (the names errors may quote).
const KEYS: &[&str] = &[
    "exclude",
    "disable_rules",
    "rules",
    "min_confidence",
    "allow_values",
    "allow_regexes",
];

/// What is wrong with a configuration text. Never the value: allow lists hold secrets.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    #[error("{0}")]
    Syntax(crate::parse_error::Rejection),
    #[error("key `exclude`: entry {0} is not a valid gitignore-style glob")]
    Exclude(usize),
    #[error("allow_regexes entry {entry} is not a valid regex: {problem}")]
    AllowRegex { entry: usize, problem: String },
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl Config {
    /// Load `explicit`, or `.patrol.toml` in `root` if it exists, or the defaults.
    pub fn load(
        explicit: Option<&Path>,
        root: &Path,
    ) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = root.join(".patrol.toml");
                if !p.is_file() {
                    return Ok((Config::default(), None));
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            message: match explicit {
                Some(_) => format!(
                    "{} (give --config an existing file, or leave it out to use .patrol.toml)",
                    crate::util::io_reason(&e)
                ),
                None => format!("cannot read: {}", crate::util::io_reason(&e)),
            },
        })?;
        let cfg = Config::parse(&text).map_err(|problem| ConfigError {
            path: path.display().to_string(),
            message: problem.to_string(),
        })?;
        Ok((cfg, Some(path)))
    }

    /// Parse configuration text. Errors name the line, the key and what was expected, never
    /// the value: allow lists hold secrets.
    pub fn parse(text: &str) -> Result<Config, ConfigProblem> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            ConfigProblem::Syntax(reject(text, e.span().map(|s| s.start), e.message(), KEYS))
        })?;
        for (i, g) in cfg.exclude.iter().enumerate() {
            // Both ways patrol uses the globs: walk overrides (`scan`) and gitignore matching
            // of tree paths (`git`, `staged`, `ado`).
            let mut walk = ignore::overrides::OverrideBuilder::new("/");
            if walk.add(&format!("!{g}")).is_err()
                || walk.build().is_err()
                || crate::exclude::Excludes::new(std::slice::from_ref(g)).is_err()
            {
                return Err(ConfigProblem::Exclude(i + 1));
            }
        }
        for (i, r) in cfg.allow_regexes.iter().enumerate() {
            regex::Regex::new(r).map_err(|e| ConfigProblem::AllowRegex {
                entry: i + 1,
                problem: crate::parse_error::regex_problem(&e),
            })?;
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::{Confidence, Config};

    #[test]
    fn unknown_key_names_line() {
        let err = Config::parse("exclude = [\"a\"]\n\nexclud = [\"b\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("unknown key `exclud`"), "{err}");
    }

    #[test]
    fn parses_all_keys() {
        let c = Config::parse(
            "exclude = [\"fixtures/**\"]\ndisable_rules = [\"url-credentials\"]\nmin_confidence = \"low\"\nallow_values = [\"x\"]\nallow_regexes = [\"^test\"]\n",
        )
        .unwrap();
        assert_eq!(c.exclude, vec!["fixtures/**"]);
        assert_eq!(c.min_confidence, Some(Confidence::Low));
        // Read once, as the type the scan uses: a wrong value is refused here, with its line.
        assert_eq!(
            Config::parse("exclude = []\nmin_confidence = \"huge\"")
                .unwrap_err()
                .to_string(),
            "line 2: key `min_confidence`: unknown value, expected one of `low`, `medium`, `high`"
        );
    }
}
