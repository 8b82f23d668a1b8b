//! Which repositories `patrol ado` scans: the listing, `--project`, `--exclude`, `--forks`,
//! disabled repositories, the shard, and `--list`.

use crate::ado::rest::{Project, Repository as ApiRepo, Rest};
use crate::ado::shard::{self, Shard};
use crate::cli::{AdoArgs, Balance, Forks};
use crate::finding::RepoNote;
use crate::report::Format;
use anyhow::Result;

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

/// List projects and repositories and apply `--project`, `--exclude`, `--forks`; disabled
/// repositories are skipped with a note.
pub(super) fn plan(args: &AdoArgs, rest: &Rest, shard: Option<&Shard>) -> Result<Plan> {
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

pub(super) fn print_list(plan: &Plan, format: Format) {
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
