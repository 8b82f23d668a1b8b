//! What SARIF says about a rule: its `tool.driver.rules` descriptor, GitHub's
//! `security-severity` score, `precision`, and a result's `level`.

use crate::finding::{Finding, Verification};
use crate::report::advice::{advice, help_uri};
use crate::rules::{Confidence, Provider, Rule, Severity};
use serde_json::json;
use serde_sarif::sarif::{
    MultiformatMessageString, PropertyBag, ReportingConfiguration, ReportingDescriptor, ResultLevel,
};
use std::collections::BTreeMap;

/// CWE-798, Use of Hard-coded Credentials: GitHub shows `external/cwe/…` tags as CWE links.
const CWE_TAG: &str = "external/cwe/cwe-798";

/// Score GitHub maps to its severity bands (≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0 medium, else low).
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// A result's score: its rule's, raised to critical when a live check proved the secret works.
pub fn result_security_severity(f: &Finding) -> &'static str {
    if is_valid(f) {
        security_severity(Severity::Critical)
    } else {
        security_severity(f.severity)
    }
}

/// SARIF `precision`: a checksum-validated high-confidence rule is "very-high" (a random
/// string passes the CRC-32 with probability 2^-31).
pub fn precision(confidence: Confidence, checksum_validated: bool) -> &'static str {
    match confidence {
        Confidence::High if checksum_validated => "very-high",
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

fn is_valid(f: &Finding) -> bool {
    matches!(f.verification, Verification::Valid { .. })
}

fn provider_level(provider: Provider) -> ResultLevel {
    if provider == Provider::AzureDevops {
        ResultLevel::Error
    } else {
        ResultLevel::Warning
    }
}

/// `error` for Azure DevOps PATs and for anything verified live as valid, `warning` otherwise.
pub fn level(f: &Finding) -> ResultLevel {
    if is_valid(f) {
        ResultLevel::Error
    } else {
        provider_level(f.provider)
    }
}

/// What the document says about a rule; from its [`Rule`] when known, else from a finding.
pub(super) struct RuleMeta<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    provider: Provider,
    severity: Severity,
    confidence: Confidence,
    checksum_validated: bool,
}

impl<'a> RuleMeta<'a> {
    pub(super) fn new(f: &'a Finding, rules: &'a [Rule]) -> Self {
        match rules.iter().find(|r| r.id == f.rule_id) {
            Some(r) => RuleMeta {
                id: &r.id,
                name: &r.name,
                description: &r.description,
                provider: r.provider,
                severity: r.severity,
                confidence: r.confidence,
                checksum_validated: r.validator.is_some(),
            },
            None => RuleMeta {
                id: &f.rule_id,
                name: &f.rule_name,
                description: &f.rule_name,
                provider: f.provider,
                severity: f.severity,
                confidence: f.confidence,
                checksum_validated: false,
            },
        }
    }

    pub(super) fn descriptor(&self) -> ReportingDescriptor {
        let help = advice(self.provider, None);
        let props = PropertyBag::builder()
            .tags(vec![
                "security".to_string(),
                "secret".to_string(),
                self.provider.as_str().to_string(),
                CWE_TAG.to_string(),
            ])
            .additional_properties(BTreeMap::from([
                (
                    "security-severity".to_string(),
                    json!(security_severity(self.severity)),
                ),
                (
                    "precision".to_string(),
                    json!(precision(self.confidence, self.checksum_validated)),
                ),
                ("severity".to_string(), json!(self.severity.as_str())),
                ("confidence".to_string(), json!(self.confidence.as_str())),
                ("provider".to_string(), json!(self.provider.as_str())),
            ]))
            .build();
        ReportingDescriptor::builder()
            .id(self.id)
            .name(self.name)
            .short_description(MultiformatMessageString::builder().text(self.name).build())
            .full_description(
                MultiformatMessageString::builder()
                    .text(self.description)
                    .build(),
            )
            .help(
                MultiformatMessageString::builder()
                    .text(help.text)
                    .markdown(help.markdown)
                    .build(),
            )
            .default_configuration(
                ReportingConfiguration::builder()
                    .level(json!(provider_level(self.provider)))
                    .build(),
            )
            .help_uri(help_uri(self.provider))
            .properties(props)
            .build()
    }
}
