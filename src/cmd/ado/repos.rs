//! Running repositories: the cache folder, each repository's mirror and history scan
//! (`--jobs` at a time), and the pipelines' and variable groups' variables.

use super::REST_TIMEOUT;
use super::select::Planned;
use crate::ado::mirror::{self, Synced};
use crate::ado::record::Record;
use crate::ado::rest::{Project, Rest, path_segment};
use crate::ado::shard::Shard;
use crate::ado::target::{Target, Token};
use crate::ado::variables::{Holder, scan_variables};
use crate::cli::AdoArgs;
use crate::cmd::pipeline::Prepared;
use crate::finding::{Finding, OrgSummary, Origin, RepoNote, RepositoryInfo, Summary};
use crate::source::git::{self, Counters, Selection};
use anyhow::{Context, Result};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Characters a file path keeps in a web link's `path=` value.
const LINK_PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// One repository's outcome.
pub(super) enum Outcome {
    Scanned {
        findings: Vec<Finding>,
        summary: Box<Summary>,
        info: RepositoryInfo,
        known: u64,
    },
    Failed(String),
    Interrupted,
}

/// The organization's folder in the cache, created with mode 0700.
pub(super) fn cache_dir(cache: Option<&Path>, target: &Target) -> Result<PathBuf> {
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
pub(super) struct OrgRun<'a> {
    pub(super) args: &'a AdoArgs,
    pub(super) target: &'a Target,
    pub(super) token: &'a Token,
    pub(super) prep: &'a Prepared,
    pub(super) record: &'a Record,
    pub(super) org_dir: &'a Path,
    pub(super) shard: Option<&'a Shard>,
}

impl OrgRun<'_> {
    /// Scan `repos`, `--jobs` at a time; outcomes in the same order.
    pub(super) fn scan_repositories(&self, repos: &[Planned]) -> Vec<Outcome> {
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

    /// Mirror, scan and record one repository.
    // Long: one repository's steps in order (mirror, history scan skipping recorded blobs,
    // record update, links and provenance on its findings), each failure an `Outcome`.
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
    pub(super) fn scan_pipelines(
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
pub(super) fn mirror_name(id: &str) -> String {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        format!("{}.git", id.to_ascii_lowercase())
    } else {
        format!("{}.git", crate::ado::record::rules_hash(&[id.as_bytes()]))
    }
}

pub(super) fn describe(o: &Outcome) -> String {
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
