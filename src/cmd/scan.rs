//! `patrol scan`: files, directory trees, or stdin.

use super::pipeline::{self, Collected, Prepared, Scope, Settings, Source, Status};
use super::warn;
use crate::cli::{ScanArgs, Targets};
use crate::finding::FingerprintKey;
use crate::source::fs::{self as fsrc, WalkOptions};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

pub fn scan(args: ScanArgs) -> Result<i32> {
    pipeline::run(&args.common, || {
        Ok(Files::new(
            &args.targets,
            args.common.settings.max_file_size,
        ))
    })
}

/// The paths of `patrol scan` (or stdin) as a source.
pub struct Files<'a> {
    args: &'a Targets,
    /// `--max-file-size`.
    max_file_size: u64,
    /// Set by the baseline commands: their file's key.
    key: Option<FingerprintKey>,
    counters: fsrc::Counters,
    started: Instant,
}

impl<'a> Files<'a> {
    pub fn new(args: &'a Targets, max_file_size: u64) -> Self {
        Files {
            args,
            max_file_size,
            key: None,
            counters: fsrc::Counters::default(),
            started: Instant::now(),
        }
    }

    /// With a fixed fingerprint key (the baseline commands).
    pub fn with_key(self, key: Option<FingerprintKey>) -> Self {
        Files { key, ..self }
    }

    fn stdin(&self) -> bool {
        self.args.paths.iter().any(|p| p.as_os_str() == "-")
    }
}

impl Source for Files<'_> {
    type Unscanned = ();

    fn command(&self) -> &'static str {
        "scan"
    }

    fn config_root(&self) -> PathBuf {
        self.args
            .paths
            .iter()
            .find(|p| p.is_dir())
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn settings(&self) -> Settings {
        Settings {
            scan_binary: self.args.scan_binary,
            fingerprint_key: self.key,
        }
    }

    fn status(&self) -> Option<Status<'_>> {
        if self.stdin() {
            return None;
        }
        let (counters, started) = (&self.counters, self.started);
        Some(Box::new(move || {
            let files = counters.files.load(Ordering::Relaxed);
            let bytes = counters.bytes.load(Ordering::Relaxed);
            let found = counters.findings.load(Ordering::Relaxed);
            format!(
                "scanning: {files} file{}, {} ({}), {found} finding{}",
                if files == 1 { "" } else { "s" },
                crate::util::human_bytes(bytes),
                crate::term::rate(bytes, started.elapsed().as_secs_f64()),
                if found == 1 { "" } else { "s" },
            )
        }))
    }

    fn read(&self) -> Result<()> {
        Ok(())
    }

    fn scan(&self, _: (), prep: &Prepared) -> Result<Collected> {
        let args = self.args;
        if self.stdin() {
            if args.paths.len() > 1 {
                bail!("`-` (stdin) cannot be combined with other paths");
            }
            let (findings, summary) =
                fsrc::scan_stdin(&prep.matcher, &prep.opts, self.max_file_size, &warn)
                    .context("cannot read stdin")?;
            return Ok(Collected {
                findings,
                summary,
                ..Collected::default()
            });
        }
        let walk = WalkOptions {
            no_ignore: args.no_ignore,
            follow_symlinks: args.follow_symlinks,
            max_file_size: self.max_file_size,
            threads: prep.threads,
            exclude: prep.config.exclude.clone(),
        };
        let (findings, summary) = fsrc::scan_paths(
            &args.paths,
            &prep.matcher,
            &prep.opts,
            &walk,
            &self.counters,
            &|m: String| warn(m),
        )?;
        let scope = Scope {
            root: fsrc::shown_root(&args.paths),
            remote_org: args
                .paths
                .iter()
                .find(|p| p.as_os_str() != "-")
                .and_then(|p| crate::source::git::remote_org_of_path(p)),
            ..Scope::default()
        };
        Ok(Collected {
            findings,
            summary,
            scope,
            incomplete: false,
        })
    }
}
