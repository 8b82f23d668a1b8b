//! `patrol merge REPORT...`: combine the reports of `patrol ado` shards (JSON or SARIF, any
//! mix of what patrol wrote) into one report in any format, as if one scan had run: findings
//! deduplicated by repository, place, rule, fingerprint and commit; summaries added; SARIF runs
//! kept per repository; shards that sent no report listed as failed.
//!
//! A report holds secrets only as it was written: redacted unless the shards ran with
//! `--show-secrets`.

use crate::cli::MergeArgs;
use crate::cmd::pipeline::{self, Collected, Scope};
use crate::finding::{
    AtHead, CommitInfo, Finding, OrgSource, OrgSummary, Origin, RepoNote, RepositoryInfo,
    ScannedRepo, Secret, Summary, Verification,
};
use crate::rules::{self, Provider, Rule};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

pub fn merge(mut args: MergeArgs) -> Result<i32> {
    let started = Instant::now();
    let mut rule_set = rules::builtin_rules();
    for p in &args.rules {
        rules::merge_rules(&mut rule_set, rules::load_rules_path(p)?);
    }
    let mut merged = Merged::default();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON or SARIF report", path.display()))?;
        let added = if doc.get("runs").is_some() {
            merged.add_sarif(&doc, &rule_set, path)
        } else if doc.get("findings").is_some() {
            merged.add_json(&doc, &rule_set)
        } else {
            bail!(
                "{} is neither a patrol JSON report nor SARIF",
                path.display()
            );
        };
        added.with_context(|| format!("cannot read the report {}", path.display()))?;
    }
    if args.report.sarif_category.is_none() {
        // SARIF written under --sarif-category keeps it when merged again as SARIF.
        args.report.sarif_category = merged.category();
    }
    let (findings, summary, repositories) = merged.finish();
    let incomplete = summary
        .organization
        .as_ref()
        .is_some_and(|o| !o.failed.is_empty());
    let scope = Scope {
        repositories: summary.organization.as_ref().map(|_| repositories),
        ..Scope::default()
    };
    let collected = Collected {
        findings,
        summary,
        scope,
        incomplete,
    };
    // The shards ran `patrol ado`: the merged report is that command's report.
    pipeline::finish(&args.report, collected, started, None, &rule_set, "ado")
}

/// A repository for SARIF's runs: `org/project/repo` and its provenance.
type RunRepo = (String, Option<RepositoryInfo>);

#[derive(Default)]
struct Merged {
    findings: BTreeMap<String, Finding>,
    summary: Summary,
    org: Option<OrgSummary>,
    scanned: BTreeMap<String, Option<RepositoryInfo>>,
    shards: BTreeSet<String>,
    /// `automationDetails.id` of every SARIF run read, to find the category they were written
    /// under.
    run_ids: BTreeSet<String>,
    /// The listings `--balance size` shards divided.
    listings: BTreeSet<String>,
    /// Reports of scans that failed outright (SARIF failure documents).
    failures: Vec<RepoNote>,
}

fn provider(rule_id: &str, rules: &[Rule]) -> Provider {
    rules
        .iter()
        .find(|r| r.id == rule_id)
        .map_or(Provider::Unknown, |r| r.provider)
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn num(v: &Value, key: &str) -> usize {
    v.get(key).and_then(Value::as_u64).unwrap_or(0) as usize
}

/// The git origin of a finding that is not in a file, as reports name it.
fn git_origin(v: &Value) -> Option<&'static str> {
    match v.get("origin").and_then(Value::as_str)? {
        "commit_message" => Some("commit_message"),
        "tag_message" => Some("tag_message"),
        "note" => Some("note"),
        _ => None,
    }
}

/// Whether a history finding's secret is still at HEAD, and where, as a report (a JSON
/// finding or a SARIF result's properties) says.
fn at_head(v: &Value) -> Option<AtHead> {
    let present = v.get("present_at_head")?.as_bool()?;
    Some(AtHead {
        present,
        places: parsed(v.get("head_locations")).unwrap_or_default(),
        introduced: parsed(v.get("introduced")),
    })
}

/// A secret as a report showed it: in full (`--show-secrets`) or redacted.
fn secret(shown: String) -> Secret {
    if Secret::looks_redacted(&shown) {
        Secret::redacted_form(shown)
    } else {
        Secret::new(shown)
    }
}

fn parsed<T: serde::de::DeserializeOwned>(v: Option<&Value>) -> Option<T> {
    v.filter(|x| !x.is_null())
        .and_then(|x| serde_json::from_value(x.clone()).ok())
}

impl Merged {
    fn add_finding(&mut self, f: Finding) {
        let key = format!(
            "{:?}|{}|{}|{}|{}|{}|{:?}",
            f.place.as_ref().map(|o| &o.repository),
            f.path,
            f.line,
            f.column,
            f.rule_id,
            f.fingerprint,
            f.commit.as_ref().map(|c| &c.id)
        );
        self.findings.entry(key).or_insert(f);
    }

    fn add_summary(&mut self, s: Summary) {
        let t = &mut self.summary;
        crate::cmd::ado::add_summary(t, &s);
        if let Some(o) = s.organization {
            for r in &o.repositories {
                self.scanned
                    .insert(r.repository.clone(), Some(r.info.clone()));
            }
            for label in &o.shards {
                if !self.shards.insert(label.clone()) {
                    self.failures.push(RepoNote {
                        repository: format!("shard {label}"),
                        reason: "more than one report of this shard was merged: its counts are \
                                 added more than once"
                            .into(),
                    });
                }
            }
            self.listings.extend(o.listing.iter().cloned());
            let m = self.org.get_or_insert_with(OrgSummary::default);
            if m.organization.is_empty() {
                m.organization = o.organization.clone();
            } else if !m.organization.split(", ").any(|x| x == o.organization) {
                m.organization = format!("{}, {}", m.organization, o.organization);
            }
            m.repositories_listed += o.repositories_listed;
            m.repositories_scanned += o.repositories_scanned;
            m.blobs_known += o.blobs_known;
            m.pipelines_scanned += o.pipelines_scanned;
            m.variable_groups_scanned += o.variable_groups_scanned;
            m.skipped.extend(o.skipped);
            m.failed.extend(o.failed);
        }
    }

    fn add_json(&mut self, doc: &Value, rules: &[Rule]) -> Result<()> {
        for f in doc["findings"]
            .as_array()
            .context("`findings` is not a list")?
        {
            let rule_id = text(f, "rule_id").context("a finding has no rule_id")?;
            let origin = text(f, "repository").map(|repository| Origin {
                repository,
                web_url: text(f, "web_url"),
                item: text(f, "item"),
                line_hash: text(f, "line_hash"),
            });
            self.add_finding(Finding {
                provider: provider(&rule_id, rules),
                rule_name: text(f, "rule_name").unwrap_or_default(),
                path: text(f, "path").unwrap_or_default(),
                member: text(f, "member"),
                line: num(f, "line"),
                column: num(f, "column"),
                end_line: num(f, "end_line"),
                end_column: num(f, "end_column"),
                secret: secret(text(f, "secret").unwrap_or_default()),
                fingerprint: text(f, "fingerprint").unwrap_or_default(),
                line_hash: origin
                    .as_ref()
                    .and_then(|o| o.line_hash.clone())
                    .unwrap_or_default(),
                confidence: parsed(f.get("confidence")).context("bad confidence")?,
                severity: parsed(f.get("severity")).context("bad severity")?,
                organization: text(f, "organization"),
                organization_source: parsed::<OrgSource>(f.get("organization_source")),
                encoding: parsed(f.get("encoding")),
                commit: parsed::<CommitInfo>(f.get("commit")),
                verification: parsed::<Verification>(f.get("verification")).unwrap_or_default(),
                place: origin,
                origin: git_origin(f),
                unreachable: f.get("unreachable").and_then(Value::as_bool) == Some(true),
                occurrences: f.get("occurrences").and_then(Value::as_u64).unwrap_or(1),
                at_head: at_head(f),
                rule_id,
            });
        }
        let summary: Summary = parsed(doc.get("summary")).context("bad `summary`")?;
        self.add_summary(summary);
        Ok(())
    }

    /// Findings and summaries of a SARIF report patrol wrote, one run per repository.
    // Long: reads each part of a SARIF result back into a finding (rule, place, region,
    // fingerprints, provenance, verification) in the order the writer puts them.
    fn add_sarif(&mut self, doc: &Value, rules: &[Rule], source: &Path) -> Result<()> {
        for run in doc["runs"].as_array().context("`runs` is not a list")? {
            let names: Vec<String> = run["tool"]["driver"]["rules"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .map(|d| text(d, "name").unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default();
            if let Some(id) = run["automationDetails"]["id"].as_str() {
                self.run_ids.insert(id.to_string());
            }
            // A shard that failed outright writes a run that says so, and why.
            if run["invocations"][0]["executionSuccessful"] == Value::Bool(false) {
                let why: Vec<String> = run["invocations"][0]["toolExecutionNotifications"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| text(&n["message"], "text"))
                    .collect();
                self.failures.push(RepoNote {
                    repository: format!("report {}", source.display()),
                    reason: format!("the scan that wrote it failed: {}", why.join("; ")),
                });
            }
            for r in run["results"].as_array().into_iter().flatten() {
                let rule_id = text(r, "ruleId").context("a result has no ruleId")?;
                let p = &r["properties"];
                let loc = &r["locations"][0]["physicalLocation"];
                let uri = text(&loc["artifactLocation"], "uri").unwrap_or_default();
                let file = percent_encoding::percent_decode_str(&uri)
                    .decode_utf8_lossy()
                    .into_owned();
                let member = text(p, "member");
                let path = match &member {
                    Some(m) => format!("{}!{m}", text(p, "archive_path").unwrap_or(file)),
                    None => file,
                };
                let region = &loc["region"];
                let (line, column) = match &member {
                    Some(_) => (num(p, "member_line"), num(p, "member_column")),
                    None => (num(region, "startLine"), num(region, "startColumn")),
                };
                let line_hash = text(&r["partialFingerprints"], "primaryLocationLineHash")
                    .and_then(|h| h.split(':').next().map(str::to_string))
                    .unwrap_or_default();
                // The secret as the report showed it: in full with --show-secrets, else the
                // redacted form the message quotes after the rule's name.
                let index = r["ruleIndex"].as_u64().unwrap_or(0) as usize;
                let rule_name = names.get(index).cloned().unwrap_or_default();
                let message = text(&r["message"], "text").unwrap_or_default();
                let shown = text(p, "secret").unwrap_or_else(|| {
                    message
                        .strip_prefix(&format!("{rule_name} '"))
                        .and_then(|m| m.find('…').map(|end| m[..end + '…'.len_utf8()].to_string()))
                        .unwrap_or_else(|| "…".to_string())
                });
                self.add_finding(Finding {
                    provider: provider(&rule_id, rules),
                    rule_name,
                    path,
                    member,
                    line,
                    column,
                    end_line: num(region, "endLine") - num(region, "startLine") + line,
                    end_column: num(region, "endColumn") - num(region, "startColumn") + column,
                    secret: secret(shown),
                    fingerprint: text(
                        &r["partialFingerprints"],
                        crate::report::sarif::SECRET_HASH_KEY,
                    )
                    .unwrap_or_default(),
                    origin: git_origin(p),
                    unreachable: p.get("unreachable").and_then(Value::as_bool) == Some(true),
                    occurrences: p.get("occurrences").and_then(Value::as_u64).unwrap_or(1),
                    at_head: at_head(p),
                    place: text(p, "repository").map(|repository| Origin {
                        repository,
                        web_url: text(p, "webUrl"),
                        item: text(p, "item"),
                        line_hash: Some(line_hash.clone()),
                    }),
                    line_hash,
                    confidence: parsed(p.get("confidence")).context("bad confidence")?,
                    severity: parsed(p.get("severity")).context("bad severity")?,
                    organization: text(p, "organization"),
                    organization_source: parsed::<OrgSource>(p.get("organization_source")),
                    encoding: parsed(p.get("encoding")),
                    commit: parsed::<CommitInfo>(p.get("commit")),
                    verification: parsed::<Verification>(p.get("verification")).unwrap_or_default(),
                    rule_id,
                });
            }
        }
        if let Some(s) = parsed::<Summary>(doc["properties"].get("summary")) {
            self.add_summary(s);
        }
        Ok(())
    }

    /// The category the SARIF runs read were written under (`<category>/<repository>/`), when
    /// they all agree.
    fn category(&self) -> Option<String> {
        let names: BTreeSet<&str> = self
            .scanned
            .keys()
            .map(String::as_str)
            .chain(
                self.findings
                    .values()
                    .filter_map(|f| f.place.as_ref().map(|o| o.repository.as_str())),
            )
            .collect();
        let found: BTreeSet<&str> = self
            .run_ids
            .iter()
            .filter_map(|id| {
                names
                    .iter()
                    .find_map(|n| id.strip_suffix(&format!("/{n}/")))
                    .filter(|c| !c.is_empty())
            })
            .collect();
        match found.len() {
            1 => found.into_iter().next().map(str::to_string),
            _ => None,
        }
    }

    /// Findings sorted as every report sorts them, the summary with shards accounted for,
    /// and the repositories for SARIF's runs.
    fn finish(self) -> (Vec<Finding>, Summary, Vec<RunRepo>) {
        let mut findings: Vec<Finding> = self.findings.into_values().collect();
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut summary = self.summary;
        let org = match (self.org, self.failures.is_empty()) {
            (None, false) => Some(OrgSummary::default()),
            (org, _) => org,
        };
        if let Some(mut org) = org {
            org.failed.extend(self.failures);
            if self.listings.len() > 1 {
                org.failed.push(RepoNote {
                    repository: "shards".into(),
                    reason: "the shards balanced by size saw different listings (a repository \
                             was created, deleted or resized between their starts): \
                             repositories may be missing or doubled; run them again together"
                        .into(),
                });
            }
            org.skipped.sort();
            org.skipped.dedup();
            let (notes, complete) = missing_shards(&self.shards);
            org.failed.extend(notes);
            org.failed.sort();
            org.failed.dedup();
            // A complete set of shards is one whole scan: say nothing of shards then.
            org.shards = if complete {
                Vec::new()
            } else {
                self.shards.iter().cloned().collect()
            };
            org.repositories = self
                .scanned
                .iter()
                .filter_map(|(n, i)| {
                    i.clone().map(|info| ScannedRepo {
                        repository: n.clone(),
                        info,
                    })
                })
                .collect();
            summary.organization = Some(org);
        }
        (findings, summary, self.scanned.into_iter().collect())
    }
}

/// Failure notes for shards of `K/N` labels that sent no report, and whether every shard did.
fn missing_shards(labels: &BTreeSet<String>) -> (Vec<RepoNote>, bool) {
    let mut counts: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for l in labels {
        if let Ok((k, n)) = crate::ado::shard::parse_label(l) {
            counts.entry(n).or_default().insert(k);
        }
    }
    let mut notes = Vec::new();
    if counts.len() > 1 {
        notes.push(RepoNote {
            repository: "shards".into(),
            reason: format!(
                "reports of different shard counts were merged ({}); repositories may be missing or doubled",
                labels.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    for (n, present) in &counts {
        for k in 0..*n {
            if !present.contains(&k) {
                notes.push(RepoNote {
                    repository: format!("shard {k}/{n}"),
                    reason: "no report from this shard: its repositories were not scanned".into(),
                });
            }
        }
    }
    let complete = notes.is_empty();
    (notes, complete)
}
