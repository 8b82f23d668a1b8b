//! One SARIF result per finding: its message, location, fingerprints and properties.

use super::rules::{level, result_security_severity};
use super::uri::artifact_location;
use super::{SECRET_HASH_KEY, to_value};
use crate::finding::{Finding, Verification};
use crate::report::plan::RevokePlan;
use serde_json::json;
use serde_sarif::sarif::{
    Location, Message, PhysicalLocation, PropertyBag, Region, Result as SarifResult,
};
use std::collections::BTreeMap;

/// The first line of a result's message: what, which (redacted) and where.
fn headline(f: &Finding) -> String {
    let mut s = format!(
        "{} '{}' at {}:{}:{}",
        f.rule_name,
        f.secret.redacted(),
        f.path,
        f.line,
        f.column
    );
    if let Some(m) = &f.member {
        s.push_str(&format!(" (member {m} of {})", f.file_path()));
    }
    if let Some(what) = crate::report::origin_text(f) {
        s.push_str(&format!(" ({what})"));
    }
    if let Some(c) = &f.commit {
        let short: String = c.id.chars().take(12).collect();
        s.push_str(&format!(" in commit {short}"));
    }
    if let Some(enc) = &f.encoding {
        s.push_str(&format!(" ({enc}-encoded)"));
    }
    match &f.verification {
        Verification::Valid { .. } => s.push_str("; verified live: the token WORKS"),
        Verification::Invalid => s.push_str("; verified live: rejected"),
        _ => {}
    }
    s.push('.');
    s
}

fn result_properties(f: &Finding, show_secrets: bool, plan: Option<&RevokePlan>) -> PropertyBag {
    let mut p = BTreeMap::new();
    p.insert("confidence".into(), json!(f.confidence.as_str()));
    p.insert("severity".into(), json!(f.severity.as_str()));
    p.insert(
        "security-severity".into(),
        json!(result_security_severity(f)),
    );
    p.insert("verification".into(), to_value(&f.verification));
    if let Some(o) = &f.organization {
        p.insert("organization".into(), json!(o));
    }
    if let Some(src) = f.organization_source {
        // How the organisation was known, as JSON says (`patrol merge` reads it back).
        p.insert("organization_source".into(), to_value(&src));
    }
    if let Some(e) = &f.encoding {
        p.insert("encoding".into(), json!(e));
    }
    if let Some(c) = &f.commit {
        p.insert("commit".into(), to_value(c));
    }
    if let Some(o) = f.origin {
        p.insert("origin".into(), json!(o));
    }
    if f.unreachable {
        p.insert("unreachable".into(), json!(true));
    }
    if let Some(m) = &f.member {
        p.insert("archive_path".into(), json!(f.file_path()));
        p.insert("member".into(), json!(m));
        p.insert("member_line".into(), json!(f.line));
        p.insert("member_column".into(), json!(f.column));
    }
    if let Some(o) = &f.place {
        p.insert("repository".into(), json!(o.repository));
        if let Some(url) = &o.web_url {
            p.insert("webUrl".into(), json!(url));
        }
        if let Some(item) = &o.item {
            p.insert("item".into(), json!(item));
        }
    }
    if f.occurrences > 1 {
        p.insert("occurrences".into(), json!(f.occurrences));
    }
    if let Some(h) = &f.at_head {
        p.insert("present_at_head".into(), json!(h.present));
        if h.present {
            p.insert("head_locations".into(), to_value(&h.places));
        }
        if let Some(i) = &h.introduced {
            p.insert("introduced".into(), to_value(i));
        }
    }
    if show_secrets {
        p.insert("secret".into(), json!(f.secret.expose()));
    }
    // What the message and the rule's help cannot say: the admin calls for this owner and
    // every organisation a live token reaches (the steps themselves are in the help).
    if let Some(plan) = plan.filter(|p| p.admin.is_some() || p.organizations.len() > 1) {
        let mut v = to_value(plan);
        if let Some(o) = v.as_object_mut() {
            o.remove("steps");
            o.remove("action");
        }
        p.insert("revoke".into(), v);
    }
    PropertyBag::builder().additional_properties(p).build()
}

/// One result. The message is one line of what and where and one line of action; the full
/// steps live once in the rule's help, and the secret's plan as data in the properties of its
/// first result (`plan_here`).
pub(super) fn result(
    f: &Finding,
    rule_index: usize,
    occurrence: usize,
    show_secrets: bool,
    plan: &RevokePlan,
    plan_here: bool,
) -> SarifResult {
    // Code-scanning viewers open the artifact: for an archive member that is the archive, whose
    // lines are not the member's, so the region is its first line and the member's own position
    // is in the message and properties.
    let region = if f.member.is_some() {
        Region::builder().start_line(1).build()
    } else {
        Region::builder()
            .start_line(f.line as i64)
            .start_column(f.column as i64)
            .end_line(f.end_line as i64)
            .end_column(f.end_column as i64)
            .build()
    };
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact_location(f.file_path()))
                .region(region)
                .build(),
        )
        .build();
    let fingerprints = BTreeMap::from([
        (
            "primaryLocationLineHash".to_string(),
            format!("{}:{occurrence}", f.line_hash),
        ),
        (SECRET_HASH_KEY.to_string(), f.fingerprint.clone()),
    ]);
    SarifResult::builder()
        .rule_id(f.rule_id.as_str())
        .rule_index(rule_index as i64)
        .level(level(f))
        .message(
            Message::builder()
                .text(format!(
                    "{}\nAction: {}. Full steps: the rule's help.",
                    headline(f),
                    plan.action
                ))
                .build(),
        )
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .properties(result_properties(
            f,
            show_secrets,
            plan_here.then_some(plan),
        ))
        .build()
}
