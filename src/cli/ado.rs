//! The flags of `patrol ado` and `patrol merge` (organization scans and their shards).

use super::{CommonArgs, ReportArgs};
use clap::Args;
use std::path::PathBuf;

/// Forks in `patrol ado`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Forks {
    Include,
    Exclude,
}

/// `patrol ado ORG_URL`. The token comes from the environment only.
#[derive(Debug, Args)]
pub struct AdoArgs {
    /// Organization URL: https://dev.azure.com/ORG, https://ORG.visualstudio.com, or an
    /// on-premises https://server/COLLECTION.
    #[arg(value_name = "ORG_URL")]
    pub url: String,
    /// Read the token from this environment variable (default: AZURE_DEVOPS_EXT_PAT, then
    /// SYSTEM_ACCESSTOKEN). A JWT (System.AccessToken, Entra) is sent as Bearer, a PAT as Basic.
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Scan only this project (by name; repeatable).
    #[arg(long, value_name = "NAME")]
    pub project: Vec<String>,
    /// Leave out repositories matching ORG/PROJECT/REPO (`*` and `?` globs; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Whether forks are scanned.
    #[arg(long, value_enum, default_value = "include")]
    pub forks: Forks,
    /// Print what would be scanned (a table, or JSON with --format json) and stop.
    #[arg(long)]
    pub list: bool,
    /// Where mirrors and the incremental record live (default: the user's cache directory,
    /// e.g. ~/.cache/patrol/ado). Created with mode 0700; holds no token.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Repositories cloned and scanned at a time.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub jobs: u32,
    /// Do not read pipeline definitions and variable groups.
    #[arg(long)]
    pub no_pipelines: bool,
    /// Scan only shard K of N (0-based): the repositories whose id hashes into it. Without it,
    /// the shard comes from JOB_COMPLETION_INDEX (Kubernetes Indexed Job, with --shards or
    /// PATROL_SHARDS) or SYSTEM_JOBPOSITIONINPHASE/SYSTEM_TOTALJOBSINPHASE (Azure Pipelines).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Number of shards, with JOB_COMPLETION_INDEX (default: PATROL_SHARDS).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// How repositories are spread over shards: `hash` of the repository id, or `size`
    /// (heaviest first to the lightest shard; every shard must see the same listing).
    #[arg(long, value_enum, default_value = "hash")]
    pub balance: Balance,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// How `patrol ado --shard` spreads repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Balance {
    Hash,
    Size,
}

/// `patrol merge REPORT...`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Reports written by `patrol ado` (`--format json` or `--format sarif`), any mix.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    /// Rule files the shards ran with (`--rules` of `patrol ado`), for the rules' names and
    /// help in the merged report.
    #[arg(long, value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}
