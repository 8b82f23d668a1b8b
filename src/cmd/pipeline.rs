//! The one order every scanning command (`scan`, `git`, `staged`, `ado`) runs in:
//!
//! 1. **prepare**: `--verify`'s options are checked first (a refused endpoint stops the run
//!    before anything is read), then the source is opened, and configuration, rules, the
//!    matcher and the complete [`ScanOptions`] are built ([`prepare`]);
//! 2. **source**: the command's [`Source`] reads and scans (a terminal shows its progress);
//! 3. **findings**: what the source found, each built once at its place, and a summary of counters;
//! 4. **baseline**: findings the `--baseline` file records are dropped, then the per-run cap;
//! 5. **verify**: with `--verify`, each distinct Azure DevOps token is checked live;
//! 6. **report**: rendered in `--format` and written to `--output` or stdout; the exit code.
//!
//! A command supplies only its [`Source`]; [`run`] does the rest, and [`collect`] stops after
//! step 3 for commands that want findings but no report (the baseline commands).

use super::{EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, warn};
use crate::baseline::Baseline;
use crate::cli::{CommonArgs, FailOn, ReportArgs, ScanSettings, VerifyArgs};
use crate::config::Config;
use crate::detect::Matcher;
use crate::exclude::Excludes;
use crate::finding::{Finding, FingerprintKey, OrgSource, RepositoryInfo, Summary, Verification};
use crate::interrupt;
use crate::outfile;
use crate::report::{self, Report};
use crate::rules::{self, Confidence, Rule};
use crate::scan::{MAX_FINDINGS_PER_FILE, ScanOptions};
use crate::term;
use crate::verify::{self, VerifyOptions};
use anyhow::{Result, bail};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most findings one run reports (after the baseline); the rest are counted in the
/// summary's `capped` and named on stderr.
pub const MAX_FINDINGS_PER_RUN: usize = 10_000;

/// Most worker threads per available core: more only add memory and start-up time (each
/// thread holds its own buffers and git handle).
pub const THREADS_PER_CORE: usize = 4;

/// The progress line of a source: called ten times a second from another thread.
pub type Status<'a> = Box<dyn Fn() -> String + Sync + 'a>;

/// What differs between scanning commands: where findings come from.
pub trait Source {
    /// What the source reads before it needs the rules (the changes the index holds); read
    /// while the rules compile, which a pre-commit hook waits for.
    type Unscanned;
    /// The subcommand, for the default SARIF category (`patrol/<command>`).
    fn command(&self) -> &'static str;
    /// Where `.patrol.toml` is looked for.
    fn config_root(&self) -> PathBuf;
    /// The configuration, and the file it came from (its `rules` entries are relative to it):
    /// `--config`, else `.patrol.toml` in [`Source::config_root`].
    fn load_config(&self, settings: &ScanSettings) -> Result<(Config, Option<PathBuf>)> {
        Ok(Config::load(
            settings.config.as_deref(),
            &self.config_root(),
        )?)
    }
    /// What the command line sets in [`ScanOptions`] beyond the common options.
    fn settings(&self) -> Settings {
        Settings::default()
    }
    /// The progress line while the source works, if it wants one.
    fn status(&self) -> Option<Status<'_>>;
    /// The part of reading that needs no rules.
    fn read(&self) -> Result<Self::Unscanned>;
    /// Scan with the prepared rules; findings sorted by place.
    fn scan(&self, unscanned: Self::Unscanned, prep: &Prepared) -> Result<Collected>;
}

/// Scan options a subcommand sets that [`ScanSettings`] does not hold.
#[derive(Debug, Default, Clone, Copy)]
pub struct Settings {
    /// `patrol scan --scan-binary`.
    pub scan_binary: bool,
    /// The fingerprint key, when the command fixes it (the baseline commands use their file's);
    /// otherwise the `--baseline` file's key or a fresh one.
    pub fingerprint_key: Option<FingerprintKey>,
}

/// What a source found, and what reporters may say about where.
#[derive(Debug, Default)]
pub struct Collected {
    pub findings: Vec<Finding>,
    /// Counters; `findings` is set by the pipeline.
    pub summary: Summary,
    pub scope: Scope,
    /// Something could not be read: a run that finds nothing else ends with an error
    /// instead of reporting clean.
    pub incomplete: bool,
}

/// Where findings come from, for reporters (SARIF's provenance and paths, the organisation of
/// Azure DevOps tokens).
#[derive(Debug, Default)]
pub struct Scope {
    /// Set when every finding comes from this one repository.
    pub repository: Option<RepositoryInfo>,
    /// The scanned directory as given, when paths are relative to it ([`Report::root`]).
    pub root: Option<String>,
    /// The Azure DevOps organisation of the scanned repository's git remotes, if any.
    pub remote_org: Option<String>,
    /// Organization scans: the repositories scanned (`org/project/repo`, provenance), for
    /// SARIF's one run per repository.
    pub repositories: Option<Vec<(String, Option<RepositoryInfo>)>>,
}

/// The rule set, settings and matcher a scan runs with.
pub struct Prepared {
    /// Shared with [`report::redact::scrub_text`], which redacts warnings and paths with it.
    pub matcher: Arc<Matcher>,
    pub opts: ScanOptions,
    pub config: Config,
    /// Worker threads (`--threads`, capped).
    pub threads: usize,
}

impl Prepared {
    /// The rules in effect.
    pub fn rules(&self) -> Vec<Rule> {
        self.matcher.rules().cloned().collect()
    }
}

/// Steps 1 to 6: run a scanning command whose source `open` opens, and return its exit code.
pub fn run<S: Source>(common: &CommonArgs, open: impl FnOnce() -> Result<S>) -> Result<i32> {
    let started = Instant::now();
    // Before reading anything, so that a refused PATROL_ADO_BASE_URL stops the run early.
    let verify_opts = verify_options(&common.verify)?;
    let source = open()?;
    let baseline = common.report.baseline.as_deref();
    let (prep, collected) = collect_with(&common.settings, common.report.quiet, baseline, &source)?;
    let rules = prep.rules();
    finish(
        &common.report,
        collected,
        started,
        verify_opts.as_ref(),
        &rules,
        source.command(),
    )
}

/// Steps 1 to 3 only: every finding the source holds (no baseline applied), and the rules in
/// effect. `quiet`: no progress line.
pub fn collect<S: Source>(
    settings: &ScanSettings,
    quiet: bool,
    source: &S,
) -> Result<(Vec<Finding>, Vec<Rule>)> {
    let (prep, c) = collect_with(settings, quiet, None, source)?;
    Ok((c.findings, prep.rules()))
}

/// Steps 1 to 3, fingerprinting with the key of the `baseline` file (when there is one and the
/// source fixes none).
fn collect_with<S: Source>(
    scan: &ScanSettings,
    quiet: bool,
    baseline: Option<&Path>,
    source: &S,
) -> Result<(Prepared, Collected)> {
    let threads = init_threads(scan.threads);
    let loaded = source.load_config(scan)?;
    let settings = source.settings();
    let status = source.status();
    let wanted = status.is_some() && term::progress_wanted(quiet);
    let status = status.unwrap_or_else(|| Box::new(String::new));
    let (prep, collected) = term::with_progress(wanted, status, || {
        // Compile the rules while the source reads what needs none.
        let (prep, unscanned) = std::thread::scope(|s| {
            let building = s.spawn(|| prepare(scan, baseline, loaded, settings, threads));
            let unscanned = source.read();
            (
                building.join().expect("rule compilation does not panic"),
                unscanned,
            )
        });
        let (prep, unscanned) = (prep?, unscanned?);
        let collected = source.scan(unscanned, &prep)?;
        anyhow::Ok((prep, collected))
    })?;
    Ok((prep, collected))
}

/// `--verify`'s options, `None` without it. Refuses a test override of the endpoints that
/// names no loopback address.
pub fn verify_options(args: &VerifyArgs) -> Result<Option<VerifyOptions>> {
    if !args.verify {
        return Ok(None);
    }
    Ok(Some(VerifyOptions::from_env(
        args.verify_jobs as usize,
        Duration::from_secs(args.verify_timeout),
        Duration::from_secs(args.verify_deadline),
    )?))
}

/// Rules and settings for a scan with the configuration `loaded` (and the file it came from):
/// everything [`ScanOptions`] holds, and the matcher. Fingerprints use the key of the
/// `baseline` file unless `settings` fixes one.
pub fn prepare(
    scan: &ScanSettings,
    baseline: Option<&Path>,
    (config, cfg_path): (Config, Option<PathBuf>),
    settings: Settings,
    threads: usize,
) -> Result<Prepared> {
    let rule_set = rules_in_effect(&config, cfg_path.as_deref(), &scan.rules)?;
    let min_confidence = scan
        .min_confidence
        .or(config.min_confidence)
        .unwrap_or(Confidence::Medium);
    let fingerprint_key = match (settings.fingerprint_key, baseline) {
        (Some(key), _) => Some(key),
        (None, Some(path)) => Baseline::load(path)?.key(),
        (None, None) => None,
    };
    let opts = ScanOptions {
        min_confidence,
        scan_binary: settings.scan_binary,
        allow_values: config.allow_values.clone(),
        allow_regexes: config
            .allow_regexes
            .iter()
            .map(|r| regex::Regex::new(r))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!(crate::parse_error::regex_problem(&e)))?,
        archives: !scan.no_archives,
        max_member_size: scan.max_file_size,
        fingerprint_key: fingerprint_key.unwrap_or_else(FingerprintKey::random),
        excludes: Excludes::new(&config.exclude)?,
    };
    let matcher = Arc::new(Matcher::new(rule_set)?);
    report::redact::watch_text_with(matcher.clone());
    Ok(Prepared {
        matcher,
        opts,
        config,
        threads,
    })
}

/// The built-in rules, plus the configuration's `rules` files (relative to the file at
/// `cfg_path`) and `extra` ones, minus its `disable_rules`.
pub fn rules_in_effect(
    config: &Config,
    cfg_path: Option<&Path>,
    extra: &[PathBuf],
) -> Result<Vec<Rule>> {
    let mut rule_set = rules::builtin_rules();
    let cfg_dir = cfg_path
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let files: Vec<PathBuf> = config
        .rules
        .iter()
        .map(|p| cfg_dir.join(p))
        .chain(extra.iter().cloned())
        .collect();
    for p in &files {
        rules::merge_rules(&mut rule_set, rules::load_rules_path(p)?);
    }
    for (i, id) in config.disable_rules.iter().enumerate() {
        if !rule_set.iter().any(|r| &r.id == id) {
            // Not quoted: whatever was written there may not be a rule id at all.
            let file = cfg_path.map_or("configuration".into(), |p| p.display().to_string());
            bail!(
                "{file}: `disable_rules` entry {} names no rule in effect (see `patrol rules list`)",
                i + 1
            );
        }
    }
    rule_set.retain(|r| !config.disable_rules.contains(&r.id));
    Ok(rule_set)
}

/// Set up the global thread pool for `--threads`, capped at [`THREADS_PER_CORE`] per core
/// (said on stderr when a request is capped).
pub fn init_threads(n: Option<usize>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = cores * THREADS_PER_CORE;
    let n = match n {
        None | Some(0) => cores,
        Some(n) if n > cap => {
            warn(format!(
                "--threads {n} capped to {cap} ({THREADS_PER_CORE} per core, {cores} core{} \
                 available)",
                if cores == 1 { "" } else { "s" }
            ));
            cap
        }
        Some(n) => n,
    };
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
    n
}

/// Steps 4 to 6: drop baselined findings, cap, verify what is left (when asked), then report.
/// `patrol merge` starts here, with findings from reports.
pub fn finish(
    common: &ReportArgs,
    collected: Collected,
    started: Instant,
    verify_opts: Option<&VerifyOptions>,
    rules: &[Rule],
    command: &str,
) -> Result<i32> {
    let Collected {
        mut findings,
        mut summary,
        scope,
        incomplete,
    } = collected;
    let verified = |f: &Finding| f.verification != Verification::NotChecked;
    // Merged reports carry the shards' verification.
    if common.fail_on == FailOn::Valid && verify_opts.is_none() && !findings.iter().any(verified) {
        warn(
            "--fail-on valid without --verify: no finding is verified, so none fails the run"
                .into(),
        );
    }
    if let Some(path) = &common.baseline {
        let baseline = Baseline::load(path)?;
        let before = findings.len();
        findings.retain(|f| !baseline.covers(f));
        summary.suppressed += (before - findings.len()) as u64;
    }
    if let Some(org) = &scope.remote_org {
        apply_remote_org(&mut findings, org);
    }
    if findings.len() > MAX_FINDINGS_PER_RUN {
        // Sources hand findings over sorted: the first ones by path and position are kept.
        summary.capped += (findings.len() - MAX_FINDINGS_PER_RUN) as u64;
        findings.truncate(MAX_FINDINGS_PER_RUN);
    }
    summary.findings = findings.len() as u64;
    if summary.capped > 0 {
        warn(format!(
            "{} more findings not reported: at most {MAX_FINDINGS_PER_FILE} distinct secrets \
             per file and {MAX_FINDINGS_PER_RUN} findings per run are reported",
            summary.capped
        ));
    }
    interrupt::exit_if_interrupted();
    if let Some(v) = verify_opts {
        verify::verify_findings(&mut findings, v, &warn);
    }
    interrupt::exit_if_interrupted();
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    let code = emit(common, &findings, &summary, rules, &scope, command)?;
    // Fail closed: what could not be read is not reported clean.
    Ok(if code == EXIT_CLEAN && incomplete {
        EXIT_ERROR
    } else {
        code
    })
}

/// The scanned repository's remote names the organisation of every Azure DevOps finding whose
/// text gave weaker evidence (a key or a URL on another line) or none.
fn apply_remote_org(findings: &mut [Finding], org: &str) {
    for f in findings.iter_mut() {
        if f.provider == verify::PROVIDER
            && f.organization_source.is_none_or(|s| s > OrgSource::Remote)
        {
            f.organization = Some(org.to_string());
            f.organization_source = Some(OrgSource::Remote);
        }
    }
}

/// The SARIF category a run reports under: `--sarif-category`, else `patrol/<command>`.
pub fn category(common: &ReportArgs, command: &str) -> String {
    common
        .sarif_category
        .clone()
        .unwrap_or_else(|| format!("patrol/{command}"))
}

/// Render and write the report; returns the exit code for the findings.
fn emit(
    common: &ReportArgs,
    findings: &[Finding],
    summary: &Summary,
    rules: &[Rule],
    scope: &Scope,
    command: &str,
) -> Result<i32> {
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let color = term::use_color(common.color.into(), to_terminal, |v| std::env::var_os(v));
    let category = category(common, command);
    let pipeline = report::sarif::AzurePipelinesBuild::from_env(|k| std::env::var(k).ok());
    let r = Report {
        findings,
        summary,
        show_secrets: common.show_secrets,
        color,
        quiet: common.quiet,
        rules,
        repository: scope.repository.as_ref(),
        root: scope.root.as_deref(),
        category: &category,
        pipeline: pipeline.as_ref(),
    };
    let text = match (common.format(), &scope.repositories) {
        (report::Format::Sarif, Some(repos)) => {
            let doc = report::sarif::document_per_repository(&r, repos);
            let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serialises");
            s.push('\n');
            s
        }
        (format, _) => report::render(format, &r),
    };
    if common.format() == report::Format::Sarif
        && let Some(msg) = report::sarif::truncated(findings.len())
    {
        warn(msg);
    }
    if let Some(path) = &common.summary {
        let human = Report {
            color: false,
            quiet: false,
            ..r
        };
        let section = format!(
            "### patrol {command}\n\n```text\n{}```\n\n",
            report::render(report::Format::Human, &human)
        );
        outfile::append_output(path, section.as_bytes())?;
    }
    match &common.output {
        Some(path) => outfile::write_output(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    let failing = match common.fail_on {
        FailOn::Any => !findings.is_empty(),
        FailOn::Valid => findings
            .iter()
            .any(|f| matches!(f.verification, Verification::Valid { .. })),
    };
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_options_are_off_without_the_flag() {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            common: CommonArgs,
        }
        let t = T::parse_from(["t"]);
        assert!(verify_options(&t.common.verify).unwrap().is_none());
        assert_eq!(t.common.verify.verify_jobs, 4);
        assert_eq!(t.common.verify.verify_timeout, 10);
    }
}
