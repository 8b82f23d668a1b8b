//! `patrol ado`: scan a whole Azure DevOps organization. Lists projects and repositories,
//! brings each repository's bare mirror up to date and scans its history `--jobs` at a time
//! (skipping blobs the incremental record knows), scans pipeline and variable-group
//! variables, then hands everything to the shared end of every scan (`cmd::pipeline`).
//! A repository that fails is a warning and an entry in the summary; the others go on.

use crate::ado::mirror::{self, Synced};
use crate::ado::record::{Record, rules_hash};
use crate::ado::rest::{Project, Repository as ApiRepo, Rest, path_segment};
use crate::ado::shard::{self, Shard};
use crate::ado::target::{Target, Token};
use crate::ado::variables::{Holder, scan_variables};
use crate::cli::{AdoArgs, Balance, Forks};
use crate::cmd::EXIT_CLEAN;
use crate::cmd::pipeline::{self, Collected, Prepared, Scope, Source, Status};
use crate::finding::{Finding, OrgSummary, Origin, RepoNote, RepositoryInfo, ScannedRepo, Summary};
use crate::report::Format;
use crate::source::git::{self, Counters, Selection};
use anyhow::{Context, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// REST requests give up after this long.
const REST_TIMEOUT: Duration = Duration::from_secs(120);

/// Characters a file path keeps in a web link's `path=` value.
const LINK_PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// A repository chosen for scanning.
#[derive(Debug, Clone)]
pub struct Planned {
    pub repo: ApiRepo,
    /// `org/project/repo`.
    pub full_name: String,
}

/// What the API listed, after the filters.
pub struct Plan {
    pub projects: Vec<Project>,
    pub repos: Vec<Planned>,
    pub skipped: Vec<RepoNote>,
    /// `--balance size`: the hash of the listing divided ([`shard::listing_hash`]).
    pub listing: Option<String>,
}

/// One repository's outcome.
enum Outcome {
    Scanned {
        findings: Vec<Finding>,
        summary: Box<Summary>,
        info: RepositoryInfo,
        known: u64,
    },
    Failed(String),
    Interrupted,
}

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
    mirror::isolate_libgit2();
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

/// List projects and repositories and apply `--project`, `--exclude`, `--forks`; disabled
/// repositories are skipped with a note.
fn plan(args: &AdoArgs, rest: &Rest, shard: Option<&Shard>) -> Result<Plan> {
    let org = &rest.target().org;
    let mut projects = rest.projects()?;
    let wanted = |name: &str| {
        args.project.is_empty() || args.project.iter().any(|p| p.eq_ignore_ascii_case(name))
    };
    for p in &args.project {
        if !projects.iter().any(|q| q.name.eq_ignore_ascii_case(p)) {
            anyhow::bail!("the organization has no project named {p:?}");
        }
    }
    projects.retain(|p| wanted(&p.name));
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    let mut repos = Vec::new();
    let mut skipped = Vec::new();
    for repo in rest.repositories()? {
        if !wanted(&repo.project.name) {
            continue;
        }
        let full_name = format!("{org}/{}/{}", repo.project.name, repo.name);
        // Skipped repositories are noted by the shard their id hashes to, so that merged
        // shard reports list each once.
        let noted_here = shard.is_none_or(|s| s.holds(&repo.id));
        if args.exclude.iter().any(|g| glob_match(g, &full_name)) {
            continue;
        }
        if args.forks == Forks::Exclude && repo.is_fork == Some(true) {
            if !noted_here {
                continue;
            }
            skipped.push(RepoNote {
                repository: full_name,
                reason: "fork (--forks exclude)".into(),
            });
            continue;
        }
        if repo.is_disabled == Some(true) {
            if !noted_here {
                continue;
            }
            skipped.push(RepoNote {
                repository: full_name,
                reason: "disabled in Azure DevOps (cannot be cloned)".into(),
            });
            continue;
        }
        repos.push(Planned { repo, full_name });
    }
    let mut listing = None;
    if let Some(s) = shard {
        let by_size = (args.balance == Balance::Size).then(|| {
            let items: Vec<(String, Option<u64>)> = repos
                .iter()
                .map(|p: &Planned| (p.repo.id.clone(), p.repo.size))
                .collect();
            listing = Some(shard::listing_hash(&items, s.count));
            shard::by_size(&items, s.count)
        });
        repos.retain(|p| match &by_size {
            Some(map) => map.get(&p.repo.id) == Some(&s.index),
            None => s.holds(&p.repo.id),
        });
    }
    repos.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    skipped.sort();
    Ok(Plan {
        projects,
        repos,
        skipped,
        listing,
    })
}

/// `*` matches any run of characters (`/` included), `?` one character; case-insensitive.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    // Iterative matching with one backtrack point (the last `*`).
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

fn print_list(plan: &Plan, format: Format) {
    if matches!(format, Format::Json | Format::Jsonl) {
        let doc = serde_json::json!({
            "repositories": plan.repos.iter().map(|r| serde_json::json!({
                "repository": r.full_name,
                "id": r.repo.id,
                "size": r.repo.size,
                "fork": r.repo.is_fork.unwrap_or(false),
            })).collect::<Vec<_>>(),
            "skipped": plan.skipped,
            "projects": plan.projects.iter().map(|p| &p.name).collect::<Vec<_>>(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("serialisable")
        );
        return;
    }
    println!("{:<60} {:>14}  NOTE", "REPOSITORY", "SIZE");
    for r in &plan.repos {
        let note = if r.repo.is_fork == Some(true) {
            "fork"
        } else {
            ""
        };
        let size = r.repo.size.map_or("?".to_string(), |s| s.to_string());
        println!("{:<60} {:>14}  {note}", r.full_name, size);
    }
    for s in &plan.skipped {
        println!("{:<60} {:>14}  skipped: {}", s.repository, "", s.reason);
    }
}

/// The organization's folder in the cache, created with mode 0700.
fn cache_dir(cache: Option<&Path>, target: &Target) -> Result<PathBuf> {
    let root = match cache {
        Some(c) => c.to_path_buf(),
        None => default_cache_root()?,
    };
    let host: String = target
        .origin
        .split("://")
        .nth(1)
        .unwrap_or("")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = root.join(host).join(&target.org);
    make_private_dir(&root)?;
    make_private_dir(&dir)?;
    make_private_dir(&dir.join("repos"))?;
    Ok(dir)
}

fn default_cache_root() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("no cache directory: set --cache DIR (neither XDG_CACHE_HOME nor HOME is set)")?;
    Ok(base.join("patrol").join("ado"))
}

/// Create `dir` (and parents) and make it readable by its owner only.
fn make_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        b.mode(0o700);
        b.create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {} to its owner", dir.display()))?;
    }
    #[cfg(not(unix))]
    b.create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(())
}

/// Everything the workers share.
struct OrgRun<'a> {
    args: &'a AdoArgs,
    target: &'a Target,
    token: &'a Token,
    prep: &'a Prepared,
    record: &'a Record,
    org_dir: &'a Path,
    shard: Option<&'a Shard>,
}

impl OrgRun<'_> {
    /// Scan `repos`, `--jobs` at a time; outcomes in the same order.
    fn scan_repositories(&self, repos: &[Planned]) -> Vec<Outcome> {
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Outcome>>> = repos.iter().map(|_| Mutex::new(None)).collect();
        let workers = (self.args.jobs as usize).min(repos.len()).max(1);
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        if crate::interrupt::interrupted() {
                            return;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(p) = repos.get(i) else { return };
                        let started = Instant::now();
                        let outcome = self.scan_one(p);
                        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                        if !self.args.common.report.quiet {
                            eprintln!(
                                "[{n}/{}] {}: {} ({:.1} s)",
                                repos.len(),
                                p.full_name,
                                describe(&outcome),
                                started.elapsed().as_secs_f64()
                            );
                        }
                        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                    }
                });
            }
        });
        slots
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or(Outcome::Interrupted)
            })
            .collect()
    }

    fn scan_one(&self, p: &Planned) -> Outcome {
        let Some(remote) = p.repo.remote_url.as_deref() else {
            return Outcome::Failed("the API gave no clone URL".into());
        };
        let url = match self.target.clone_url(remote) {
            Ok(u) => u,
            Err(why) => return Outcome::Failed(why.to_string()),
        };
        let dir = self.org_dir.join("repos").join(mirror_name(&p.repo.id));
        let (repo, _synced): (git2::Repository, Synced) =
            match mirror::sync(&dir, &url, self.token, p.repo.default_branch.as_deref()) {
                Ok(r) => r,
                Err(why) => {
                    return if crate::interrupt::interrupted() {
                        Outcome::Interrupted
                    } else {
                        Outcome::Failed(why.to_string())
                    };
                }
            };
        let counters = Counters::default();
        let name = &p.full_name;
        let warn = |m: String| crate::cmd::warn(format!("{name}: {m}"));
        let scanned = git::scan_history_skipping(
            &repo,
            &Selection::All,
            &self.prep.matcher,
            &self.prep.opts,
            self.args.common.settings.max_file_size,
            &counters,
            &warn,
            &|oid| self.record.contains(oid),
        );
        if crate::interrupt::interrupted() {
            return Outcome::Interrupted;
        }
        let mut scanned = match scanned {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        if let Err(e) = self.record.append(&scanned.clean_blobs) {
            crate::cmd::warn(format!(
                "{name}: cannot update the record of scanned blobs: {e}"
            ));
        }
        let link_base = format!(
            "{}/{}/_git/{}",
            self.target.base,
            path_segment(&p.repo.project.name),
            path_segment(&p.repo.name)
        );
        for f in &mut scanned.findings {
            // The link shows the introducing commit: a finding moved to its place at HEAD
            // links to where that commit introduced it (the secret spans as many characters).
            let (path, line, column, end_line, end_column) =
                match f.at_head.as_ref().and_then(|h| h.introduced.as_ref()) {
                    Some(i) => (
                        i.path.as_str(),
                        i.line,
                        i.column,
                        i.line + (f.end_line - f.line),
                        match f.end_line == f.line {
                            true => i.column + (f.end_column - f.column),
                            false => f.end_column,
                        },
                    ),
                    None => (f.path.as_str(), f.line, f.column, f.end_line, f.end_column),
                };
            let web_url = f.commit.as_ref().map(|c| {
                format!(
                    "{link_base}?path=/{}&version=GC{}&line={}&lineEnd={}&lineStartColumn={}&lineEndColumn={}&lineStyle=plain&_a=contents",
                    utf8_percent_encode(path, LINK_PATH_KEEP),
                    c.id,
                    line,
                    end_line,
                    column,
                    end_column
                )
            });
            f.place = Some(Origin {
                repository: name.clone(),
                web_url,
                item: None,
                line_hash: Some(f.line_hash.clone()),
            });
        }
        let info = crate::source::git::repository_info_at(&repo, url);
        Outcome::Scanned {
            findings: scanned.findings,
            summary: Box::new(scanned.summary),
            info,
            known: counters.blobs_known.load(Ordering::Relaxed),
        }
    }

    /// Plain variables of every selected project's pipelines and variable groups.
    fn scan_pipelines(
        &self,
        projects: &[Project],
        findings: &mut Vec<Finding>,
        summary: &mut Summary,
        org: &mut OrgSummary,
    ) {
        let rest = Rest::new(self.target.clone(), self.token.clone(), REST_TIMEOUT);
        let mut groups_seen = HashSet::new();
        for project in projects {
            if crate::interrupt::interrupted() {
                return;
            }
            let repository = format!("{}/{}", self.target.org, project.name);
            let link = format!("{}/{}", self.target.base, path_segment(&project.name));
            let mut scan = |holder, sets: Vec<crate::ado::rest::VariableSet>| {
                let mut n = 0;
                for set in sets {
                    let (f, bytes) = scan_variables(
                        &self.prep.matcher,
                        &self.prep.opts,
                        holder,
                        &set,
                        &repository,
                        &link,
                    );
                    summary.bytes_scanned += bytes;
                    findings.extend(f);
                    n += 1;
                }
                n
            };
            // A project's pipelines belong to the shard of its id; a variable group (which
            // several projects may share) to the shard of its own id, under the first project
            // (by name) that lists it, as in an unsharded run.
            let mine = |key: &str| self.shard.is_none_or(|s| s.holds(key));
            if mine(&project.id) {
                match rest.pipeline_variables(&project.id) {
                    Ok(sets) => org.pipelines_scanned += scan(Holder::Pipeline, sets),
                    Err(e) => org.failed.push(RepoNote {
                        repository: format!("{repository} (pipelines)"),
                        reason: e.to_string(),
                    }),
                }
            }
            match rest.variable_groups(&project.id) {
                Ok(sets) => {
                    let sets = sets
                        .into_iter()
                        .filter(|g| groups_seen.insert(g.id) && mine(&g.id.to_string()))
                        .collect();
                    org.variable_groups_scanned += scan(Holder::VariableGroup, sets)
                }
                Err(e) => org.failed.push(RepoNote {
                    repository: format!("{repository} (variable groups)"),
                    reason: e.to_string(),
                }),
            }
        }
    }
}

/// The mirror's folder name: the repository id when it is a plain GUID, else its hash.
fn mirror_name(id: &str) -> String {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        format!("{}.git", id.to_ascii_lowercase())
    } else {
        format!("{}.git", crate::ado::record::rules_hash(&[id.as_bytes()]))
    }
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Scanned {
            findings,
            summary,
            known,
            ..
        } => format!(
            "{} blobs read, {} already scanned, {} finding{}",
            summary.files_scanned,
            known,
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        ),
        Outcome::Failed(why) => format!("FAILED: {why}"),
        Outcome::Interrupted => "interrupted".into(),
    }
}

#[cfg(test)]
mod tests {
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
