//! Human output for a terminal and a log: one line per finding, then the advice once per rule,
//! then one summary line. Each part is its own function so that each can change alone.

use super::plan::{Plans, RevokePlan};
use super::{Report, advice::advice, escape::printable, shown_secret};
use crate::finding::{Access, Finding, Reach, Summary, Verification};
use crate::rules::Severity;
use crate::util::human_bytes;
use std::fmt::Write;

/// Colour escapes, or nothing when colour is off.
struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// One line per organisation a live token reaches, with the probes' findings where run.
fn reach_lines(reach: &Reach) -> Vec<String> {
    reach
        .organizations
        .iter()
        .map(|o| match &o.probes {
            Some(p) => {
                let probes: Vec<String> = p
                    .list()
                    .iter()
                    .map(|(name, access)| {
                        let a = match access {
                            Access::Readable => "readable",
                            Access::Denied => "denied",
                            Access::Unknown => "unknown",
                        };
                        format!("{name} {a}")
                    })
                    .collect();
                format!("reaches {}: {}", o.name, probes.join(", "))
            }
            None => format!("reaches {} (member; not probed)", o.name),
        })
        .collect()
}

pub fn render(r: &Report) -> String {
    let p = Paint(r.color);
    let mut out = String::new();
    if !r.quiet && !r.findings.is_empty() {
        let plans = Plans::new(r.findings);
        for (i, f) in r.findings.iter().enumerate() {
            out.push_str(&finding_line(r, f, &p));
            out.push('\n');
            if plans.first(i) {
                out.push_str(&plan_lines(f, plans.of(i)));
            }
        }
        out.push('\n');
        out.push_str(&advice_section(r.findings, &p));
        out.push('\n');
    }
    out.push_str(&summary_line(r.summary, &p));
    out.push('\n');
    if let Some(o) = &r.summary.organization {
        out.push_str(&organization_lines(o, &p));
    }
    out
}

/// Under the first finding of a secret: where a live token reaches, and what the revoke
/// plan adds to its rule's advice (further organisations, admin calls, commits, audit window).
/// Printed once per secret, not once per occurrence.
fn plan_lines(f: &Finding, plan: &RevokePlan) -> String {
    let mut out = String::new();
    if let Verification::Valid {
        reach: Some(reach), ..
    } = &f.verification
    {
        for line in reach_lines(reach) {
            let _ = writeln!(out, "    {}", printable(&line));
        }
    }
    if plan.organizations.len() > 1 || plan.admin.is_some() {
        for o in &plan.organizations {
            let _ = writeln!(out, "    revoke at {}", o.revoke);
        }
    }
    if let Some(a) = &plan.admin {
        let _ = writeln!(out, "    admin lookup: {}", a.lookup);
        let _ = writeln!(out, "    admin revoke: {}", a.revoke);
    }
    // For a live token the whole plan is here; otherwise the rule's advice below says it.
    if !plan.commits.is_empty() && plan.admin.is_some() {
        let _ = writeln!(out, "    purge from history: {}", plan.commits.join(" "));
    }
    if let Some(from) = plan.audit_from.as_deref().filter(|_| plan.admin.is_some()) {
        let _ = writeln!(out, "    audit log from {}", printable(from));
    }
    out
}

/// `path:line:col  severity  rule  redacted  [verification]`, then what else is known
/// (organisation, encoding, introducing commit).
fn finding_line(r: &Report, f: &Finding, p: &Paint) -> String {
    let sev = match f.severity {
        Severity::Critical | Severity::High => p.wrap("1;31", f.severity.as_str()),
        Severity::Medium | Severity::Low => p.wrap("33", f.severity.as_str()),
    };
    let mut line = format!(
        "{}:{}:{}  {}  {}  {}",
        p.wrap("1", &printable(&located_path(r, f))),
        f.line,
        f.column,
        sev,
        printable(&f.rule_id),
        p.wrap("1", &shown_secret(f, r.show_secrets)),
    );
    match &f.verification {
        Verification::NotChecked => {}
        Verification::Valid { identity, .. } => {
            let who = printable(identity.as_deref().unwrap_or("unknown identity"));
            let tag = format!("[LIVE: valid token of {who}]");
            let _ = write!(line, "  {}", p.wrap("1;31", &tag));
        }
        Verification::Invalid => line.push_str("  [verified: invalid (revoked or expired)]"),
        Verification::Unknown { reason } => {
            let _ = write!(line, "  [verified: unknown ({})]", printable(reason));
        }
    }
    if let Some(org) = &f.organization {
        let _ = write!(line, "  org={}", printable(org));
    }
    if let Some(enc) = &f.encoding {
        let _ = write!(line, "  ({enc})");
    }
    if f.occurrences > 1 {
        let _ = write!(line, "  ({} times in this file)", f.occurrences);
    }
    match &f.at_head {
        Some(h) if h.present => {
            let more = match h.places.len() {
                1 => String::new(),
                n => format!(", {} places", n),
            };
            match &h.introduced {
                Some(i) if i.path != f.path || i.line != f.line => {
                    let _ = write!(
                        line,
                        "  [still at HEAD{more}; introduced at {}:{}]",
                        printable(&i.path),
                        i.line
                    );
                }
                _ => {
                    let _ = write!(line, "  [still at HEAD{more}]");
                }
            }
        }
        Some(_) => line.push_str("  [not at HEAD: in history only]"),
        None => {}
    }
    if let Some(what) = crate::report::origin_text(f) {
        let _ = write!(line, "  [{}]", printable(&what));
    }
    if let Some(c) = &f.commit {
        let short = &c.id[..c.id.len().min(10)];
        let day = c.date.get(..10).unwrap_or(&c.date);
        let _ = write!(
            line,
            "  commit {} {} {}  {}",
            printable(short),
            printable(day),
            printable(&c.author_name),
            printable(&c.summary)
        );
    }
    line
}

/// What to do, once per rule, in the order the rules first appear. When a rule's findings name
/// one organisation its revoke page is filled in; when they name several, they are listed.
fn advice_section(findings: &[Finding], p: &Paint) -> String {
    struct PerRule<'a> {
        first: &'a Finding,
        count: u64,
        orgs: Vec<Option<&'a str>>,
    }
    let mut rules: Vec<PerRule> = Vec::new();
    for f in findings {
        let org = f.organization.as_deref();
        match rules.iter_mut().find(|r| r.first.rule_id == f.rule_id) {
            Some(r) => {
                r.count += 1;
                if !r.orgs.contains(&org) {
                    r.orgs.push(org);
                }
            }
            None => rules.push(PerRule {
                first: f,
                count: 1,
                orgs: vec![org],
            }),
        }
    }
    let mut out = String::new();
    for r in rules {
        let _ = writeln!(
            out,
            "{} ({}, {}):",
            p.wrap("1", &printable(&r.first.rule_id)),
            printable(&r.first.rule_name),
            plural(r.count, "finding", "findings")
        );
        let only_org = match r.orgs.as_slice() {
            [one] => *one,
            _ => None,
        };
        let hint = advice(r.first.provider, only_org).hint;
        let _ = writeln!(out, "  ↳ {}", printable(&hint));
        if only_org.is_none() {
            let named: Vec<&str> = r.orgs.iter().flatten().copied().collect();
            if !named.is_empty() {
                let _ = writeln!(out, "    organizations: {}", printable(&named.join(", ")));
            }
        }
    }
    out
}

/// Files (or commits and blobs), bytes, time, rate, what was skipped, findings, suppressed.
/// The path as shown, after its repository for organization scans (`org/project/repo: path`).
fn located_path(r: &Report, f: &Finding) -> String {
    match &f.place {
        Some(o) => format!("{}: {}", o.repository, r.shown_path(f)),
        None => r.shown_path(f).into_owned(),
    }
}

/// What an organization scan covered, then one line per skipped or failed repository.
fn organization_lines(o: &crate::finding::OrgSummary, p: &Paint) -> String {
    let mut out = format!(
        "{}: {} of {} repositories scanned ({} blobs already scanned clean were not read \
         again), {} pipelines and {} variable groups; {} skipped, {} failed\n",
        printable(&o.organization),
        o.repositories_scanned,
        o.repositories_listed,
        o.blobs_known,
        o.pipelines_scanned,
        o.variable_groups_scanned,
        o.skipped.len(),
        o.failed.len()
    );
    match o.shards.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "  shard {one} of the organization only");
        }
        all => {
            let _ = writeln!(out, "  shards merged: {} (not all of them)", all.join(", "));
        }
    }
    for n in &o.skipped {
        let _ = writeln!(
            out,
            "  skipped {}: {}",
            printable(&n.repository),
            printable(&n.reason)
        );
    }
    for n in &o.failed {
        let _ = writeln!(
            out,
            "  {} {}: {}",
            p.wrap("1;31", "FAILED"),
            printable(&n.repository),
            printable(&n.reason)
        );
    }
    out
}

fn summary_line(s: &Summary, p: &Paint) -> String {
    let mut line = match (s.commits, s.blobs) {
        (Some(c), Some(b)) => format!(
            "{}, {}",
            plural(c, "commit", "commits"),
            plural(b, "unique blob", "unique blobs")
        ),
        _ => plural(s.files_scanned, "file", "files"),
    };
    let secs = s.elapsed_ms as f64 / 1000.0;
    let rate = s.bytes_scanned as f64 / secs.max(0.001);
    let _ = write!(
        line,
        ", {} scanned in {secs:.2} s ({}/s)",
        human_bytes(s.bytes_scanned),
        human_bytes(rate as u64),
    );
    let skipped: Vec<String> = [
        (s.skipped_large, "too large"),
        (s.skipped_binary, "binary"),
        (s.skipped_other, "special"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !skipped.is_empty() {
        let _ = write!(line, "; skipped {}", skipped.join(", "));
    }
    if s.unreadable > 0 {
        let _ = write!(line, "; {} unreadable", s.unreadable);
    }
    if s.archive_members > 0 || s.archive_limits > 0 {
        let _ = write!(line, "; {} archive members", s.archive_members);
        if s.archive_limits > 0 {
            let _ = write!(line, " ({} over archive limits)", s.archive_limits);
        }
    }
    let count = plural(s.findings, "finding", "findings");
    let count = if s.findings > 0 {
        p.wrap("1;31", &count)
    } else {
        p.wrap("32", &count)
    };
    let _ = write!(line, "; {count}");
    if s.suppressed > 0 {
        let _ = write!(line, " ({} suppressed)", s.suppressed);
    }
    if s.capped > 0 {
        let _ = write!(line, "; {} more not reported (capped)", s.capped);
    }
    line
}

/// `1 file`, `2 files`.
fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
