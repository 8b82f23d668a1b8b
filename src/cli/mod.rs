//! Every command-line flag, with its help text. Parsing only: `cmd` runs things.

use crate::fake;
use crate::report::Format;
use crate::rules::Confidence;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

mod ado;
pub use ado::{AdoArgs, Balance, Forks, MergeArgs};

/// find leaked Azure DevOps personal access tokens, Azure keys and HTTP Basic credentials in
/// files and git history
#[derive(Debug, Parser)]
#[command(name = "patrol", version, about, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `patrol --help` and the DESCRIPTION of patrol(1).
const LONG_ABOUT: &str = "patrol finds Azure DevOps personal access tokens (recognised by their \
checksums, so almost never a false alarm), other Azure identifiable keys and hard-coded HTTP Basic \
credentials in files, archives, git history and staged changes, and reports them redacted, with \
advice on how to revoke each one.

Exit codes: 0 no findings, 1 findings, 2 error, 130 interrupted.";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default `.`); `-` reads stdin.
    Scan(ScanArgs),
    /// Inspect the rule set.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Print fake tokens with valid checksums, for tests and for trying a pipeline out.
    FakeToken(FakeTokenArgs),
    /// Scan git history: every blob reachable from any ref, scanned once, reported at the
    /// commit and path that introduced it.
    Git(GitArgs),
    /// Scan what is staged for the next commit (for a pre-commit hook): only added lines.
    Staged(StagedArgs),
    /// Record current findings so that later scans report only new ones.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Install a git pre-commit hook that runs `patrol staged`.
    InstallHook(InstallHookArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print the manual page of patrol (roff), or write one page per subcommand with --output.
    Man(ManArgs),
    /// Scan a whole Azure DevOps organization: every repository's history (wikis included),
    /// pipeline variables and variable groups; re-runs read only what changed.
    Ado(AdoArgs),
    /// Combine reports of `patrol ado` shards (JSON or SARIF) into one, as if one scan had run.
    Merge(MergeArgs),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in effect for a scan of the current directory: the built-in ones, plus
    /// `--rules` and the configuration's `rules` files, minus its `disable_rules`.
    List(RuleSetArgs),
    /// Prove every rule against its own examples and negative examples.
    Check(RuleSetArgs),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Scan (or read a JSON report) and write the baseline file.
    Create(BaselineCreateArgs),
    /// Scan and list baseline entries that no longer match any finding (exit 1 if any).
    Check(BaselineCheckArgs),
}

/// `patrol baseline create`: a scan's options, without the report's (the baseline file is
/// the output).
#[derive(Debug, Args)]
pub struct BaselineCreateArgs {
    /// Key entries by path too (default: rule and secret hash only, so moves and renames
    /// stay suppressed).
    #[arg(long)]
    pub with_paths: bool,
    /// Build the baseline from a JSON report instead of scanning: patrol's (`--format json` of
    /// scan, git or staged) or gitleaks' (`--report-format json`, not redacted).
    #[arg(long, value_name = "REPORT")]
    pub from: Option<PathBuf>,
    /// The baseline file to write (default `.patrol-baseline.json`; an existing one keeps its
    /// fingerprint key).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub scan: BaselineScan,
}

/// `patrol baseline check`.
#[derive(Debug, Args)]
pub struct BaselineCheckArgs {
    /// The baseline file to check (default `.patrol-baseline.json`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    #[command(flatten)]
    pub scan: BaselineScan,
}

/// The scan behind a baseline command: what is read and what it runs with.
#[derive(Debug, Args)]
pub struct BaselineScan {
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub settings: ScanSettings,
    /// No progress line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InstallHookArgs {
    /// Repository to install into (default: the one containing the current directory).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write every page (patrol.1, patrol-scan.1, …) into DIR instead of printing patrol.1.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RuleSetArgs {
    /// Extra rule file or directory of `*.toml` rule files (a rule with an existing id replaces it).
    #[arg(long, value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Configuration file whose `rules` and `disable_rules` apply (default: `.patrol.toml` in the
    /// current directory, if there is one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FakeTokenArgs {
    /// Kind of token: `legacy` (52 chars, user seed), `legacy-app`, `identifiable` (84/88 chars,
    /// any `--signature`), a named Azure key kind (`azure-storage`, `azure-maps`, …),
    /// `github-pat`, `npm`, …; `--list-kinds` prints them all.
    #[arg(long, default_value = "legacy", value_parser = fake_kind_parser(), hide_possible_values = true)]
    pub kind: fake::Kind,
    /// Provider signature for `--kind identifiable` (`AZDO`, `AZAC`, `ACOG`, …).
    #[arg(long, default_value = "AZDO")]
    pub signature: String,
    /// Identifiable keys: the 88-character long form instead of 84 characters.
    #[arg(long)]
    pub long: bool,
    /// Identifiable keys: write the checksum in plain base64 instead of base62 (the reference
    /// accepts both).
    #[arg(long)]
    pub base64_checksum: bool,
    /// Print every kind, with the rule that reports it, and exit.
    #[arg(long)]
    pub list_kinds: bool,
    /// Seed of the generator: the same seed prints the same tokens.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many tokens.
    #[arg(long, short = 'n', default_value_t = 1)]
    pub count: usize,
    /// Print tokens whose checksum is deliberately broken.
    #[arg(long)]
    pub broken: bool,
}

/// Options shared by every scanning command: what the scan runs with, how its report is
/// written, and live verification.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub settings: ScanSettings,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// How a report is written, which findings it leaves out, and what makes the exit code 1
/// (every command that reports findings, `patrol merge` included).
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
    /// Write the report to FILE instead of stdout (a regular file is written whole, then renamed
    /// into place; a FIFO or device such as /dev/stdout is written in place).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also append the human report (findings and summary line, no colour) to FILE as a
    /// Markdown section, whatever `--format` is: one scan gives CI both its SARIF file and a
    /// summary for the log or `$GITHUB_STEP_SUMMARY`.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
    /// Show secrets in full instead of redacted (first 4 characters).
    #[arg(long)]
    pub show_secrets: bool,
    /// Print only the summary line (human format).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Colours: auto (on a terminal), always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    pub color: ColorWhen,
    /// Suppress findings recorded in this baseline file (see `patrol baseline create`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// SARIF category (`runs[].automationDetails.id`), e.g. `patrol-history` and `patrol-pr` for
    /// two uploads that must not replace each other's alerts. Default: `patrol/` and the command
    /// (`scan`, `git`, `git-range`, `staged`, `ado`); `patrol ado` names each repository's run
    /// `NAME/ORG/PROJECT/REPO/`.
    #[arg(long, value_name = "NAME", value_parser = parse_category)]
    pub sarif_category: Option<String>,
    /// Exit 1 on `any` finding, or only when some token was verified `valid` (needs --verify).
    #[arg(long, default_value = "any", value_name = "WHICH")]
    pub fail_on: FailOn,
}

/// What a scan runs with: rules, configuration, limits, threads (every command that reads
/// bytes, the baseline commands included).
#[derive(Debug, Args, Clone)]
pub struct ScanSettings {
    /// Extra rule file or directory of `*.toml` rule files.
    #[arg(long, value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Configuration file (default: `.patrol.toml` in the scanned root, if present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report only findings of at least this confidence [default: medium, or `min_confidence`
    /// in the configuration file].
    #[arg(long, value_name = "LEVEL", value_parser = confidence_parser())]
    pub min_confidence: Option<Confidence>,
    /// Skip files (and git blobs) larger than this: bytes, or with K, M, G (KiB, MiB, GiB).
    #[arg(long, default_value = "64M", value_parser = parse_size, value_name = "SIZE")]
    pub max_file_size: u64,
    /// Do not open archives and packages (zip, nupkg, jar, whl, vsix, tar, tgz, gz); by default
    /// their members are scanned, nested up to 3 deep, within decompression-bomb limits.
    #[arg(long)]
    pub no_archives: bool,
    /// Worker threads (default: all cores; at most 4 per core). Results are the same for any
    /// number.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// `--verify` and its limits.
#[derive(Debug, Args, Clone)]
pub struct VerifyArgs {
    /// Check each distinct Azure DevOps token live against Azure DevOps (GET only, HTTPS only,
    /// each token once; a live one's reach in at most 9 requests). Sends the token only to Azure
    /// DevOps (dev.azure.com, vssps.dev.azure.com, feeds.dev.azure.com, app.vssps.visualstudio.com);
    /// findings of other providers stay `not_checked`.
    #[arg(long)]
    pub verify: bool,
    /// Concurrent verification requests (with --verify).
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=32))]
    pub verify_jobs: u32,
    /// Seconds before one verification request gives up (with --verify).
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=300))]
    pub verify_timeout: u64,
    /// Seconds all verification may take (with --verify); tokens left unchecked then are
    /// reported `unknown (deadline)`.
    #[arg(long, default_value_t = 120, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub verify_deadline: u64,
}

/// `--format`: the values of [`Format`], for clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Jsonl,
    // SARIF 2.1.0 for GitHub code scanning and Azure DevOps (a `///` here would change --help).
    Sarif,
}

impl ReportArgs {
    /// The report format `--format` asks for.
    pub fn format(&self) -> Format {
        match self.format {
            OutputFormat::Human => Format::Human,
            OutputFormat::Json => Format::Json,
            OutputFormat::Jsonl => Format::Jsonl,
            OutputFormat::Sarif => Format::Sarif,
        }
    }
}

/// Which findings make the exit code 1 (`--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Any,
    /// Only findings whose token `--verify` found valid (live).
    Valid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl From<ColorWhen> for crate::term::ColorChoice {
    fn from(w: ColorWhen) -> Self {
        match w {
            ColorWhen::Auto => Self::Auto,
            ColorWhen::Always => Self::Always,
            ColorWhen::Never => Self::Never,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub targets: Targets,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// What `patrol scan` (and the baseline commands) read: files, directories or stdin.
#[derive(Debug, Args)]
pub struct Targets {
    /// Files or directories to scan; `-` reads stdin.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Scan files that .gitignore and .ignore files exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Scan binary files too (default: skip them unless they hold UTF-16 text).
    #[arg(long)]
    pub scan_binary: bool,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repository: a work tree or a bare repository (default: the one containing `.`).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    /// Scan only commits reachable from B and not from A; secrets already present at A are not
    /// reported again (for CI on a pull request or push).
    #[arg(long, value_name = "A..B", conflicts_with = "since")]
    pub range: Option<String>,
    /// Shorthand for `--range REV..HEAD`.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Every object in the object database, also those no ref reaches any more (a deleted
    /// branch, a force-push) until `git gc` prunes them; their findings are marked `unreachable`.
    #[arg(long, conflicts_with_all = ["range", "since"])]
    pub all_objects: bool,
    /// Scan only what these refs (or commits) reach, e.g. `--refs HEAD` so a branch build
    /// judges its own branch and not every `origin/*` the clone fetched. Default: every ref.
    #[arg(long, value_name = "REF", value_delimiter = ',', conflicts_with_all = ["range", "since", "all_objects"])]
    pub refs: Vec<String>,
    /// Apply the `.patrol.toml` committed at HEAD (without it, a bare repository's is noted,
    /// not applied: a repository under investigation must not configure its own scan).
    #[arg(long, conflicts_with = "config")]
    pub head_config: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct StagedArgs {
    /// Repository (default: the one containing `.`).
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--min-confidence`: its values listed in `--help` and in the error for a wrong one.
fn confidence_parser() -> impl clap::builder::TypedValueParser<Value = Confidence> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["low", "medium", "high"])
        .map(|s| s.parse::<Confidence>().expect("one of the possible values"))
}

/// `fake-token --kind`: one of the kinds `fake::KINDS` lists (`--list-kinds` prints them; an
/// error for a wrong one lists them too).
fn fake_kind_parser() -> impl clap::builder::TypedValueParser<Value = fake::Kind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(fake::KINDS.iter().map(|k| k.0))
        .map(|s| fake::Kind::named(&s).expect("one of the possible values"))
}

/// A value clap refused; the text is the one clap shows after the flag's name.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    #[error("'{0}' is not a category: use 1 to 100 printable ASCII characters without spaces")]
    Category(String),
    #[error("'{0}' is not a size like 64M")]
    Size(String),
    #[error("'{0}': unknown unit (use K, M or G)")]
    Unit(String),
    #[error("'{0}' is too large")]
    TooLarge(String),
}

/// A SARIF category: printable ASCII without spaces, at most 100 characters; a trailing `/`
/// is dropped (patrol adds it).
pub fn parse_category(s: &str) -> Result<String, ValueError> {
    let t = s.trim_end_matches('/');
    if t.is_empty() || t.len() > 100 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ValueError::Category(s.to_string()));
    }
    Ok(t.to_string())
}

/// Parse `1234`, `64K`, `64M`, `2G` (binary units; `KiB`/`MB` spellings accepted).
pub fn parse_size(s: &str) -> Result<u64, ValueError> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    let n: u64 = num.parse().map_err(|_| ValueError::Size(s.to_string()))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(ValueError::Unit(s.to_string())),
    };
    n.checked_mul(mult)
        .ok_or_else(|| ValueError::TooLarge(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("10").unwrap(), 10);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert!(parse_size("x").is_err());
        assert!(parse_size("5T").is_err());
    }

    #[test]
    fn fake_token_kind_is_one_of_the_kinds() {
        let kind = |k: &str| {
            Cli::try_parse_from(["patrol", "fake-token", "--kind", k]).map(|c| match c.command {
                Command::FakeToken(a) => a.kind,
                _ => unreachable!("fake-token"),
            })
        };
        for &(name, recipe, _) in fake::KINDS {
            let k = kind(name).unwrap();
            assert_eq!((k.name(), k.recipe()), (name, recipe));
            assert_eq!(k.any_signature(), name == "identifiable");
        }
        let e = kind("legacy ").unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        let default = Cli::try_parse_from(["patrol", "fake-token"]).unwrap();
        assert!(matches!(default.command, Command::FakeToken(a) if a.kind.name() == "legacy"));
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
