//! `patrol ado`: scan a whole Azure DevOps organization. Lists projects and repositories,
//! brings each repository's bare mirror up to date and scans its history `--jobs` at a time
//! (skipping blobs the incremental record knows), scans pipeline and variable-group
//! variables, then hands everything to the shared end of every scan (`cmd::pipeline`).
//! A repository that fails is a warning and an entry in the summary; the others go on.
//!
//! Parts: [`select`] (listing and choosing repositories, `--list`), [`repos`] (the cache, the
//! mirrors and scanning each repository and the pipelines).

mod repos;
mod select;

use repos::{OrgRun, Outcome, cache_dir};
pub use select::{Plan, Planned, glob_match};
use select::{plan, print_list};

use crate::ado::mirror;
use crate::ado::record::{Record, rules_hash};
use crate::ado::rest::Rest;
use crate::ado::shard::{self, Shard};
use crate::ado::target::{Target, Token};
use crate::cli::AdoArgs;
use crate::cmd::EXIT_CLEAN;
use crate::cmd::pipeline::{self, Collected, Prepared, Scope, Source, Status};
use crate::finding::{OrgSummary, RepoNote, RepositoryInfo, ScannedRepo, Summary};
use crate::source::git;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;

/// REST requests give up after this long.
const REST_TIMEOUT: Duration = Duration::from_secs(120);

pub fn ado(args: AdoArgs) -> Result<i32> {
    let target = Target::from_env(&args.url)?;
    let token = Token::from_env(args.token_env.as_deref())?;
    if target.overridden {
        eprintln!(
            "note: {} is set: talking to {} instead of Azure DevOps",
            crate::verify::endpoint::BASE_URL_ENV,
            target.origin
        );
    }
    mirror::isolate_libgit2()?;
    git::tune_libgit2();
    let rest = Rest::new(target.clone(), token.clone(), REST_TIMEOUT);
    let shard = shard::pick(args.shard.as_deref(), args.shards, &|n| {
        std::env::var(n).ok()
    })?;
    if let Some(s) = &shard {
        eprintln!("shard {} (0-based) of {}: from {}", s.index, s.count, s.how);
    }
    let plan = plan(&args, &rest, shard.as_ref())?;
    if args.list {
        print_list(&plan, args.common.report.format());
        return Ok(EXIT_CLEAN);
    }
    pipeline::run(&args.common, || {
        Ok(Organization {
            org_dir: cache_dir(args.cache.as_deref(), &target)?,
            args: &args,
            target: &target,
            token: &token,
            plan,
            shard,
        })
    })
}

/// An organization's repositories, pipelines and variable groups as a source.
struct Organization<'a> {
    args: &'a AdoArgs,
    target: &'a Target,
    token: &'a Token,
    plan: Plan,
    shard: Option<Shard>,
    org_dir: PathBuf,
}

impl Source for Organization<'_> {
    type Unscanned = ();

    fn command(&self) -> &'static str {
        "ado"
    }

    fn config_root(&self) -> PathBuf {
        self.org_dir.clone()
    }

    /// Each repository's outcome is a line of its own.
    fn status(&self) -> Option<Status<'_>> {
        None
    }

    fn read(&self) -> Result<()> {
        Ok(())
    }

    fn scan(&self, _: (), prep: &Prepared) -> Result<Collected> {
        scan_organization(self, prep)
    }
}

/// Every repository, then the pipelines and variable groups; findings sorted.
// Long: the organisation scan's steps in order (plan, shard, repositories in parallel with
// progress, pipelines, the organisation summary), sharing the run's counters.
fn scan_organization(source: &Organization, prep: &Prepared) -> Result<Collected> {
    let (args, target, plan, org_dir) = (source.args, source.target, &source.plan, &source.org_dir);
    let shard = &source.shard;
    let hash = rules_hash(&[
        env!("CARGO_PKG_VERSION").as_bytes(),
        serde_json::to_string(&prep.matcher.rules().collect::<Vec<_>>())?.as_bytes(),
        format!(
            "{:?}|{}|{}|{}|{:?}|{:?}",
            prep.opts.min_confidence,
            args.common.settings.max_file_size,
            prep.opts.archives,
            prep.opts.max_member_size,
            prep.opts.allow_values,
            prep.opts
                .allow_regexes
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
        )
        .as_bytes(),
    ]);
    // Each shard keeps its own record, so shards sharing a cache folder never mix them.
    let record_name = match &shard {
        Some(s) => format!("{hash}-shard-{}-of-{}", s.index, s.count),
        None => hash,
    };
    let record = Record::open(org_dir, &record_name)
        .with_context(|| format!("cannot read the record in {}", org_dir.display()))?;

    let run = OrgRun {
        args,
        target,
        token: source.token,
        prep,
        record: &record,
        org_dir,
        shard: shard.as_ref(),
    };
    let results = run.scan_repositories(&plan.repos);
    crate::interrupt::exit_if_interrupted();

    let mut findings = Vec::new();
    let mut summary = Summary {
        commits: Some(0),
        blobs: Some(0),
        ..Summary::default()
    };
    let mut org = OrgSummary {
        organization: target.org.clone(),
        repositories_listed: plan.repos.len() as u64,
        skipped: plan.skipped.clone(),
        shards: shard.iter().map(Shard::label).collect(),
        listing: plan.listing.clone(),
        ..OrgSummary::default()
    };
    let mut repositories: Vec<(String, Option<RepositoryInfo>)> = Vec::new();
    for (planned, outcome) in plan.repos.iter().zip(results) {
        match outcome {
            Outcome::Scanned {
                findings: f,
                summary: s,
                info,
                known,
            } => {
                add_summary(&mut summary, &s);
                org.repositories_scanned += 1;
                org.blobs_known += known;
                findings.extend(f);
                org.repositories.push(ScannedRepo {
                    repository: planned.full_name.clone(),
                    info: info.clone(),
                });
                repositories.push((planned.full_name.clone(), Some(info)));
            }
            Outcome::Failed(reason) => org.failed.push(RepoNote {
                repository: planned.full_name.clone(),
                reason,
            }),
            Outcome::Interrupted => {}
        }
    }
    if !args.no_pipelines {
        run.scan_pipelines(&plan.projects, &mut findings, &mut summary, &mut org);
    }
    crate::interrupt::exit_if_interrupted();
    for f in &mut findings {
        if f.organization.is_none() && f.provider == crate::verify::PROVIDER {
            // A token in the organization's own repositories most likely belongs to it.
            f.organization = Some(target.org.clone());
            f.organization_source = Some(crate::finding::OrgSource::Remote);
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    org.failed.sort();
    // Fail closed: a repository that could not be read is not reported clean.
    let incomplete = !org.failed.is_empty();
    summary.organization = Some(org);
    Ok(Collected {
        findings,
        summary,
        scope: Scope {
            repositories: Some(repositories),
            ..Scope::default()
        },
        incomplete,
    })
}

/// Add one repository's counters to the run's.
pub fn add_summary(total: &mut Summary, s: &Summary) {
    total.files_scanned += s.files_scanned;
    total.bytes_scanned += s.bytes_scanned;
    total.skipped_large += s.skipped_large;
    total.skipped_binary += s.skipped_binary;
    total.skipped_other += s.skipped_other;
    total.unreadable += s.unreadable;
    total.suppressed += s.suppressed;
    total.archive_members += s.archive_members;
    total.archive_limits += s.archive_limits;
    total.commits = Some(total.commits.unwrap_or(0) + s.commits.unwrap_or(0));
    total.blobs = Some(total.blobs.unwrap_or(0) + s.blobs.unwrap_or(0));
}

#[cfg(test)]
mod tests {
    use super::repos::mirror_name;
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("org/*/legacy-*", "org/Proj/legacy-app"));
        assert!(glob_match("*", "a/b/c"));
        assert!(glob_match("o?g/p/r", "ORG/p/r"));
        assert!(!glob_match("org/p/r", "org/p/r2"));
        assert!(!glob_match("org/*/x", "org/p/y"));
        assert_eq!(mirror_name("6B1C-aa"), "6b1c-aa.git");
        assert!(mirror_name("../x").ends_with(".git") && !mirror_name("../x").contains('/'));
    }
}
