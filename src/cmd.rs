//! Subcommands: glue between the CLI, sources, the matcher and reporters.

use crate::baseline::Baseline;
use crate::cli::FailOn;
use crate::cli::{Command, CommonArgs, FakeTokenArgs, RuleSetArgs, RulesCommand, ScanArgs};
use crate::config::Config;
use crate::detect::{Matcher, checksum::ChecksumEncoding, fake};
use crate::finding::{Finding, FingerprintKey, OrgSource, RepositoryInfo, Summary, Verification};
use crate::interrupt;
use crate::outfile;
use crate::report::{self, Report};
use crate::rules::{self, Confidence, Rule};
use crate::scan::{MAX_FINDINGS_PER_FILE, ScanOptions};
use crate::source::fs::{self as fsrc, WalkOptions};
use crate::verify::{self, VerifyOptions};
use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The most findings one run reports (after the baseline); the rest are counted in the
/// summary's `capped` and named on stderr.
pub const MAX_FINDINGS_PER_RUN: usize = 10_000;

/// Exit codes (README.md documents them).
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Print a warning on stderr, control characters escaped and secrets the run's rules find
/// redacted: it may name a scanned path, or a URL, that holds a token.
pub fn warn(msg: String) {
    let msg = report::redact::scrub_text(&msg);
    crate::term::eprint_line(&format!("warning: {}", report::escape::printable(&msg)));
}

/// An error and its causes on one line, each said once (a cause that an outer message already
/// quotes is not repeated) and without `(os error N)`.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => fsrc::io_reason(io),
            None => cause.to_string(),
        };
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The rule set, settings and matcher a scan runs with.
pub struct Prepared {
    /// Shared with [`report::redact::scrub_text`], which redacts warnings and paths with it.
    pub matcher: std::sync::Arc<Matcher>,
    pub opts: ScanOptions,
    pub config: Config,
}

/// Load configuration and rules for a scan rooted at `root`.
pub fn prepare(common: &CommonArgs, root: &Path) -> Result<Prepared> {
    let loaded = Config::load(common.config.as_deref(), root)?;
    prepare_with(common, loaded)
}

/// [`prepare`] with a configuration already loaded (and the file it came from, which its
/// `rules` entries are relative to).
pub fn prepare_with(
    common: &CommonArgs,
    (config, cfg_path): (Config, Option<PathBuf>),
) -> Result<Prepared> {
    let mut rule_set = rules::builtin_rules();
    let cfg_dir = cfg_path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let extra: Vec<PathBuf> = config
        .rules
        .iter()
        .map(|p| cfg_dir.join(p))
        .chain(common.rules.iter().cloned())
        .collect();
    for p in &extra {
        rules::merge_rules(&mut rule_set, rules::load_rules_path(p)?);
    }
    for (i, id) in config.disable_rules.iter().enumerate() {
        if !rule_set.iter().any(|r| &r.id == id) {
            // Not quoted: whatever was written there may not be a rule id at all.
            let file = cfg_path
                .as_deref()
                .map_or("configuration".into(), |p| p.display().to_string());
            bail!(
                "{file}: `disable_rules` entry {} names no rule in effect (see `patrol rules list`)",
                i + 1
            );
        }
    }
    rule_set.retain(|r| !config.disable_rules.contains(&r.id));
    let min_confidence = match (common.min_confidence, &config.min_confidence) {
        (Some(c), _) => c,
        (None, Some(c)) => c.parse().map_err(anyhow::Error::msg)?,
        (None, None) => Confidence::Medium,
    };
    let mut opts = ScanOptions {
        min_confidence,
        scan_binary: false,
        allow_values: config.allow_values.clone(),
        allow_regexes: config
            .allow_regexes
            .iter()
            .map(|r| regex::Regex::new(r))
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!(crate::parse_error::regex_problem(&e)))?,
        archives: !common.no_archives,
        max_member_size: common.max_file_size,
        ..ScanOptions::default()
    };
    let matcher = std::sync::Arc::new(Matcher::new(rule_set).map_err(anyhow::Error::msg)?);
    report::redact::watch_text_with(matcher.clone());
    let fingerprint_key = match (common.fingerprint_key, &common.baseline) {
        (Some(key), _) => Some(key),
        (None, Some(path)) => Baseline::load(path)?.key(),
        (None, None) => None,
    };
    opts.fingerprint_key = fingerprint_key.unwrap_or_else(FingerprintKey::random);
    Ok(Prepared {
        matcher,
        opts,
        config,
    })
}

/// Most worker threads per available core: more only add memory and start-up time (each
/// thread holds its own buffers and git handle).
pub const THREADS_PER_CORE: usize = 4;

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

pub fn scan(args: ScanArgs) -> Result<i32> {
    let started = Instant::now();
    // Before scanning, so that a refused PATROL_ADO_BASE_URL stops the run early.
    let verify_opts = VerifyOptions::from_args(&args.common)?;
    let (findings, summary, rules) = collect_files(&args)?;
    let root = fsrc::shown_root(&args.paths);
    let remote_org = args
        .paths
        .iter()
        .find(|p| p.as_os_str() != "-")
        .and_then(|p| crate::source::git::remote_org_of_path(p));
    let ctx = EmitContext {
        rules: &rules,
        repository: None,
        root: root.as_deref(),
        remote_org: remote_org.as_deref(),
        repositories: None,
        command: "scan",
    };
    finish(
        &args.common,
        findings,
        summary,
        started,
        verify_opts.as_ref(),
        &ctx,
    )
}

/// Scan the paths of `patrol scan` (or stdin) and return every finding (before any baseline)
/// and the rules in effect.
pub fn collect_files(args: &ScanArgs) -> Result<(Vec<Finding>, Summary, Vec<Rule>)> {
    let threads = init_threads(args.common.threads);
    let first_dir = args
        .paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let mut prep = prepare(&args.common, &first_dir)?;
    prep.opts.scan_binary = args.scan_binary;
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if stdin {
        if args.paths.len() > 1 {
            bail!("`-` (stdin) cannot be combined with other paths");
        }
        let (f, s) = fsrc::scan_stdin(&prep.matcher, &prep.opts, args.common.max_file_size)
            .context("cannot read stdin")?;
        return Ok((f, s, prep.matcher.rules().cloned().collect()));
    }
    let walk = WalkOptions {
        no_ignore: args.no_ignore,
        follow_symlinks: args.follow_symlinks,
        max_file_size: args.common.max_file_size,
        threads,
        exclude: prep.config.exclude.clone(),
    };
    let warn_fn = |m: String| warn(m);
    let counters = fsrc::Counters::default();
    let started = Instant::now();
    let status = || {
        let files = counters.files.load(Ordering::Relaxed);
        let bytes = counters.bytes.load(Ordering::Relaxed);
        let found = counters.findings.load(Ordering::Relaxed);
        format!(
            "scanning: {files} file{}, {} ({}), {found} finding{}",
            if files == 1 { "" } else { "s" },
            fsrc::human_bytes(bytes),
            crate::term::rate(bytes, started.elapsed().as_secs_f64()),
            if found == 1 { "" } else { "s" },
        )
    };
    let (f, s) = crate::term::with_progress(
        crate::term::progress_wanted(args.common.quiet),
        status,
        || {
            fsrc::scan_paths(
                &args.paths,
                &prep.matcher,
                &prep.opts,
                &walk,
                &counters,
                &warn_fn,
            )
        },
    )?;
    Ok((f, s, prep.matcher.rules().cloned().collect()))
}

/// The common end of every scanning command: drop baselined findings, verify what is left
/// (when asked), then report.
pub fn finish(
    common: &CommonArgs,
    mut findings: Vec<Finding>,
    mut summary: Summary,
    started: Instant,
    verify_opts: Option<&VerifyOptions>,
    ctx: &EmitContext,
) -> Result<i32> {
    if common.fail_on == FailOn::Valid && verify_opts.is_none() {
        warn(
            "--fail-on valid without --verify: no finding is verified, so none fails the run"
                .into(),
        );
    }
    if let Some(path) = &common.baseline {
        let baseline = Baseline::load(path)?;
        let before = findings.len();
        findings.retain(|f| !baseline.covers(f));
        let dropped = (before - findings.len()) as u64;
        summary.suppressed += dropped;
        summary.findings = findings.len() as u64;
    }
    if let Some(org) = ctx.remote_org {
        apply_remote_org(&mut findings, org);
    }
    if findings.len() > MAX_FINDINGS_PER_RUN {
        // Sources hand findings over sorted: the first ones by path and position are kept.
        summary.capped += (findings.len() - MAX_FINDINGS_PER_RUN) as u64;
        findings.truncate(MAX_FINDINGS_PER_RUN);
        summary.findings = findings.len() as u64;
    }
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
    emit(common, &findings, &summary, ctx)
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

/// What reporters may use beyond findings and summary (SARIF's rule metadata and provenance).
#[derive(Debug, Default, Clone, Copy)]
pub struct EmitContext<'a> {
    /// The rules in effect (`Matcher::rules`).
    pub rules: &'a [Rule],
    /// Set when every finding comes from this one repository.
    pub repository: Option<&'a RepositoryInfo>,
    /// The scanned directory as given, when paths are relative to it ([`Report::root`]).
    pub root: Option<&'a str>,
    /// The Azure DevOps organisation of the scanned repository's git remotes, if any.
    pub remote_org: Option<&'a str>,
    /// Organization scans: the repositories scanned (`org/project/repo`, provenance), for
    /// SARIF's one run per repository.
    pub repositories: Option<&'a [(String, Option<RepositoryInfo>)]>,
    /// The command, for the default SARIF category (`patrol/<command>`).
    pub command: &'a str,
}

/// The SARIF category a run reports under: `--sarif-category`, else `patrol/<command>`.
pub fn category(common: &CommonArgs, command: &str) -> String {
    common
        .sarif_category
        .clone()
        .unwrap_or_else(|| format!("patrol/{command}"))
}

/// Render and write the report; returns the exit code for the findings.
pub fn emit(
    common: &CommonArgs,
    findings: &[Finding],
    summary: &Summary,
    ctx: &EmitContext,
) -> Result<i32> {
    let to_terminal = common.output.is_none() && std::io::stdout().is_terminal();
    let color = crate::term::use_color(common.color, to_terminal, |v| std::env::var_os(v));
    let category = category(common, ctx.command);
    let pipeline = report::sarif::AzurePipelinesBuild::from_env(|k| std::env::var(k).ok());
    let r = Report {
        findings,
        summary,
        show_secrets: common.show_secrets,
        color,
        quiet: common.quiet,
        rules: ctx.rules,
        repository: ctx.repository,
        root: ctx.root,
        category: &category,
        pipeline: pipeline.as_ref(),
    };
    let text = match (common.format, ctx.repositories) {
        (report::Format::Sarif, Some(repos)) => {
            let doc = report::sarif::document_per_repository(&r, repos);
            let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serialises");
            s.push('\n');
            s
        }
        (format, _) => report::render(format, &r),
    };
    if common.format == report::Format::Sarif
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
            "### patrol {}\n\n```text\n{}```\n\n",
            ctx.command,
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

/// Where a failed run must still leave a SARIF document: the `--output` of a scanning command
/// run with `--format sarif`, and the category it reports under.
pub fn sarif_output_of(command: &Command) -> Option<(PathBuf, String)> {
    let (common, name) = match command {
        Command::Scan(a) => (&a.common, "scan"),
        Command::Git(a) if a.range.is_some() || a.since.is_some() => (&a.common, "git-range"),
        Command::Git(a) => (&a.common, "git"),
        Command::Staged(a) => (&a.common, "staged"),
        Command::Ado(a) => (&a.common, "ado"),
        Command::Merge(a) => (&a.common, "ado"),
        _ => return None,
    };
    if common.format != report::Format::Sarif {
        return None;
    }
    let path = common.output.clone()?;
    Some((path, category(common, name)))
}

/// After an error (exit 2): write the failure SARIF document to `path`, so the pipeline step
/// that uploads it reports the failure. A write that fails too is only warned about.
pub fn write_failure_sarif(path: &Path, category: &str, error: &str) {
    let pipeline = report::sarif::AzurePipelinesBuild::from_env(|k| std::env::var(k).ok());
    let text = report::sarif::render_failure(error, category, pipeline.as_ref());
    if let Err(e) = outfile::write_output(path, text.as_bytes()) {
        warn(format!("could not write the failure report either: {e:#}"));
    }
}

fn rule_set(args: &RuleSetArgs) -> Result<Vec<Rule>> {
    let mut set = rules::builtin_rules();
    for p in &args.rules {
        rules::merge_rules(&mut set, rules::load_rules_path(p)?);
    }
    Ok(set)
}

pub fn rules_cmd(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::List(args) => {
            let mut out = String::new();
            for r in rule_set(&args)? {
                let how = match (&r.validator, &r.decoder) {
                    (Some(v), _) => {
                        format!("validator {}", serde_json::to_string(v)?.trim_matches('"'))
                    }
                    (None, Some(d)) => {
                        format!("decoder {}", serde_json::to_string(d)?.trim_matches('"'))
                    }
                    _ => "pattern only".to_string(),
                };
                out.push_str(&format!(
                    "{:<34} {:<9} {:<7} {:<28} {}\n",
                    r.id,
                    r.severity.as_str(),
                    r.confidence.as_str(),
                    how,
                    r.name
                ));
            }
            print!("{out}");
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Check(args) => {
            let failures = check_rules(rule_set(&args)?)?;
            for f in &failures {
                eprintln!("FAIL {f}");
            }
            if failures.is_empty() {
                println!("all rules pass their examples");
                Ok(EXIT_CLEAN)
            } else {
                Ok(EXIT_FINDINGS)
            }
        }
    }
}

/// Run every rule against its examples (must find) and negative examples (must not).
/// Returns one message per failure; the messages name the rule and example index, never
/// the example text (which may hold a token).
pub fn check_rules(rule_set: Vec<Rule>) -> Result<Vec<String>> {
    let matcher = std::sync::Arc::new(Matcher::new(rule_set).map_err(anyhow::Error::msg)?);
    report::redact::watch_text_with(matcher.clone());
    let mut failures = Vec::new();
    for (idx, rule) in matcher.rules().enumerate() {
        let from_rule = |text: &str| {
            matcher
                .scan(text.as_bytes())
                .iter()
                .any(|m| m.rule == idx || m.origin == idx)
        };
        if rule.examples.is_empty() {
            failures.push(format!("{}: has no examples", rule.id));
        }
        for (i, ex) in rule.examples.iter().enumerate() {
            if !from_rule(ex) {
                failures.push(format!("{}: example {} is not found", rule.id, i + 1));
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            if from_rule(ex) {
                failures.push(format!(
                    "{}: negative example {} is reported",
                    rule.id,
                    i + 1
                ));
            }
        }
    }
    Ok(failures)
}

pub fn fake_token(args: FakeTokenArgs) -> Result<i32> {
    if args.list_kinds {
        for (name, _, rule) in fake::KINDS {
            println!("{name:<30} {rule}");
        }
        return Ok(EXIT_CLEAN);
    }
    let Some(&(_, recipe, _)) = fake::KINDS.iter().find(|(n, _, _)| *n == args.kind) else {
        bail!(
            "unknown --kind '{}' (--list-kinds prints them all)",
            args.kind
        );
    };
    if args.kind == "identifiable"
        && (args.signature.len() != 4 || !args.signature.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        bail!("--signature takes 4 letters or digits");
    }
    let identifiable = matches!(recipe, fake::Recipe::Identifiable(_));
    if (args.long || args.base64_checksum) && !identifiable {
        bail!("--long and --base64-checksum apply to identifiable (84/88-character) keys only");
    }
    let shape = fake::KeyShape {
        long: args.long,
        encoding: if args.base64_checksum {
            ChecksumEncoding::Base64
        } else {
            ChecksumEncoding::Base62
        },
        kind: b'9',
    };
    let mut rng = fake::FakeRng::new(args.seed);
    for _ in 0..args.count {
        let t = match recipe {
            fake::Recipe::Identifiable(_) if args.kind == "identifiable" => {
                fake::identifiable(&mut rng, &args.signature, shape)
            }
            _ => fake::make(&mut rng, recipe, shape),
        };
        println!("{}", if args.broken { fake::broken(&t) } else { t });
    }
    Ok(EXIT_CLEAN)
}
