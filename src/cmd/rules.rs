//! `patrol rules list` and `patrol rules check`.

use super::pipeline;
use super::{EXIT_CLEAN, EXIT_FINDINGS};
use crate::cli::{RuleSetArgs, RulesCommand};
use crate::config::Config;
use crate::detect::Matcher;
use crate::rules::Rule;
use anyhow::Result;
use std::path::Path;

/// The rules a scan of the current directory would use: the same configuration lookup and
/// the same assembly as the scanning commands.
fn rule_set(args: &RuleSetArgs) -> Result<Vec<Rule>> {
    let (config, cfg_path) = Config::load(args.config.as_deref(), Path::new("."))?;
    pipeline::rules_in_effect(&config, cfg_path.as_deref(), &args.rules)
}

pub fn rules(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::List(args) => {
            let mut out = String::new();
            for r in rule_set(&args)? {
                let how = match (&r.validator, &r.decoder) {
                    (Some(v), _) => {
                        format!("validator {}", serde_json::to_string(v)?.trim_matches('"'))
                    }
                    (None, Some(d)) => {
                        format!("decoder {}", serde_json::to_string(d)?.trim_matches('"'))
                    }
                    _ => "pattern only".to_string(),
                };
                out.push_str(&format!(
                    "{:<34} {:<9} {:<7} {:<28} {}\n",
                    r.id,
                    r.severity.as_str(),
                    r.confidence.as_str(),
                    how,
                    r.name
                ));
            }
            print!("{out}");
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Check(args) => {
            let failures = check_rules(rule_set(&args)?)?;
            for f in &failures {
                eprintln!("FAIL {f}");
            }
            if failures.is_empty() {
                println!("all rules pass their examples");
                Ok(EXIT_CLEAN)
            } else {
                Ok(EXIT_FINDINGS)
            }
        }
    }
}

/// Run every rule against its examples (must find) and negative examples (must not).
/// Returns one message per failure; the messages name the rule and example index, never
/// the example text (which may hold a token).
pub fn check_rules(rule_set: Vec<Rule>) -> Result<Vec<String>> {
    let matcher = std::sync::Arc::new(Matcher::new(rule_set)?);
    crate::report::redact::watch_text_with(matcher.clone());
    let mut failures = Vec::new();
    for (idx, rule) in matcher.rules().enumerate() {
        let from_rule = |text: &str| {
            matcher
                .scan(text.as_bytes())
                .iter()
                .any(|m| m.rule == idx || m.origin == idx)
        };
        if rule.examples.is_empty() {
            failures.push(format!("{}: has no examples", rule.id));
        }
        for (i, ex) in rule.examples.iter().enumerate() {
            if !from_rule(ex) {
                failures.push(format!("{}: example {} is not found", rule.id, i + 1));
            }
        }
        for (i, ex) in rule.negative_examples.iter().enumerate() {
            if from_rule(ex) {
                failures.push(format!(
                    "{}: negative example {} is reported",
                    rule.id,
                    i + 1
                ));
            }
        }
    }
    Ok(failures)
}
