//! Rule definitions: the data that says what a secret looks like.
//!
//! Rules are TOML (see `rules/*.toml`, embedded at build time, and `--rules FILE|DIR`). This
//! module parses and checks them; it does not match anything (that is `detect`).

use serde::{Deserialize, Serialize};
use std::path::Path;

mod provider;
pub use provider::Provider;

/// Rule files compiled into the binary.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] = &[
    (
        "rules/azure-devops.toml",
        include_str!("../rules/azure-devops.toml"),
    ),
    (
        "rules/azure-keys.toml",
        include_str!("../rules/azure-keys.toml"),
    ),
    (
        "rules/azure-base64-keys.toml",
        include_str!("../rules/azure-base64-keys.toml"),
    ),
    (
        "rules/github-npm.toml",
        include_str!("../rules/github-npm.toml"),
    ),
    (
        "rules/http-basic.toml",
        include_str!("../rules/http-basic.toml"),
    ),
    (
        "rules/base64-wrapped.toml",
        include_str!("../rules/base64-wrapped.toml"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// A confidence name that is none of `low`, `medium`, `high`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown confidence '{0}' (low, medium, high)")]
pub struct UnknownConfidence(pub String);

impl std::str::FromStr for Confidence {
    type Err = UnknownConfidence;
    fn from_str(s: &str) -> Result<Self, UnknownConfidence> {
        match s {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(UnknownConfidence(s.to_string())),
        }
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// Checksum or shape check applied to the `secret` capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Validator {
    /// 52-character legacy Azure DevOps PAT with embedded CRC-32 (docs/formats.md).
    Crc32AdoLegacy,
    /// Microsoft identifiable key of 84/88 characters (`JQQJ99` … signature … checksum) with a
    /// Marvin32 checksum in base62 or base64 text (docs/formats.md).
    Marvin32Cask,
    /// Older Microsoft identifiable key: base64 whose last 4 decoded bytes are the Marvin32
    /// checksum of the rest under one of the rule's `seeds` (docs/formats.md).
    Marvin32Base64,
    /// GitHub / npm token ending in the base62 CRC-32 of its random part (docs/formats.md).
    Crc32Base62,
}

/// How the `secret` capture is turned into the text that is checked for embedded tokens and,
/// failing that, judged as a credential of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decoder {
    /// base64 of `user:password` (HTTP Basic, npm `_auth`).
    Base64Credentials,
    /// base64 of a password (npm `_password`).
    Base64,
    /// A percent-encoded URL password.
    UrlUserinfo,
    /// The capture as it stands (NuGet `ClearTextPassword`).
    Plain,
    /// base64 broken into lines of the capture's width (the output of `base64` without `-w0`,
    /// MIME and PEM bodies): the capture is the first line, the following lines of the same
    /// width (and a shorter last one) are joined to it. Only tokens inside are reported.
    Base64Wrapped,
}

/// Keywordless candidate search: maximal runs of one byte class of an exact length.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunPrefilter {
    /// Byte class in bracket-expression syntax without the brackets, e.g. `a-z2-7`.
    pub chars: String,
    pub length: usize,
    /// With `max_length`, runs of any length from `length` to `max_length` are candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Also accept a run up to this many letters longer when a `-` precedes it and its last
    /// `length` characters are the token: a token glued to a command-line flag (`-p<token>`).
    /// Only for rules with a validator, whose checksum keeps this from widening what is found.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub glued_flag: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One rule, as written in a rule file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Who issues the secret (default `generic`): see [`Provider`].
    #[serde(default)]
    pub provider: Provider,
    /// Regular expression (bytes, Rust `regex` syntax); the `secret` group (or the whole
    /// match) is the secret.
    pub pattern: String,
    /// Literals one of which every match contains; matched as written and in lower, UPPER
    /// and Title case.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Match `keywords` exactly as written only (for case-exact signatures such as `+ASt` or
    /// `JQQJ99`): fewer literals keep the literal search on its fast path.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact_keywords: bool,
    /// How many bytes before its keyword a match can start (default 256). Exact values keep
    /// the regex from re-reading text before every keyword hit.
    #[serde(default)]
    pub max_prefix: Option<usize>,
    /// For keywordless rules: where candidates can be.
    #[serde(default)]
    pub run: Option<RunPrefilter>,
    #[serde(default)]
    pub validator: Option<Validator>,
    /// For `marvin32-base64`: the Marvin32 seeds of the key kind, each as its 8-character name
    /// (`Send0000`); a key is genuine if its checksum holds under any of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<String>,
    #[serde(default)]
    pub decoder: Option<Decoder>,
    /// With a decoder: report only tokens found inside, never the decoded value itself
    /// (for rules that look at any base64 text, not at a credential field).
    #[serde(default)]
    pub tokens_only: bool,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Text in which the rule must find something.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Text in which the rule must find nothing.
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rules: Vec<Rule>,
}

/// The keys of a rule file (the names errors may quote).
const KEYS: &[&str] = &[
    "rules",
    "id",
    "name",
    "description",
    "provider",
    "pattern",
    "keywords",
    "max_prefix",
    "run",
    "chars",
    "length",
    "max_length",
    "glued_flag",
    "validator",
    "decoder",
    "tokens_only",
    "severity",
    "confidence",
    "examples",
    "negative_examples",
];

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    // `error`, not `source`: see `SourceError::Root`.
    #[error("cannot read rule file {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("invalid rule file {path}: {message}")]
    Parse { path: String, message: String },
    /// `rule` names the rule by its place in the file (and its id when that is a plain id).
    #[error("{rule} in {path}: {message}")]
    Invalid {
        path: String,
        rule: String,
        message: String,
    },
}

/// Parse one rule file's text; `origin` names it in errors.
pub fn parse_rules(origin: &str, text: &str) -> Result<Vec<Rule>, RuleError> {
    parse_checked(origin, text, true)
}

/// [`parse_rules`]; `compile`: whether to compile each pattern to check it. The built-in
/// rules are not: a test does it once, and compiling every pattern was most of the start-up
/// of a small scan (the matcher compiles a pattern only on the rule's first candidate).
fn parse_checked(origin: &str, text: &str, compile: bool) -> Result<Vec<Rule>, RuleError> {
    // Not the error's Display: it quotes the offending line, and rule examples hold tokens.
    let file: RuleFile = toml::from_str(text).map_err(|e| {
        unknown_provider(origin, text).unwrap_or_else(|| RuleError::Parse {
            path: origin.to_string(),
            message: crate::parse_error::reject(text, e.span().map(|s| s.start), e.message(), KEYS)
                .to_string(),
        })
    })?;
    for (i, rule) in file.rules.iter().enumerate() {
        check_rule(origin, i, rule, compile)?;
    }
    Ok(file.rules)
}

/// The longest rule id an error message quotes: a longer "id" may be a pasted token.
const QUOTED_ID_MAX: usize = 40;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// How errors name the rule at `index` of a file: by its place, and by its id when that is a
/// plain id (anything else may be a pasted token).
fn rule_label(index: usize, id: &str) -> String {
    if valid_id(id) && id.len() <= QUOTED_ID_MAX {
        format!("rule {} ('{id}')", index + 1)
    } else {
        format!("rule {}", index + 1)
    }
}

/// The rule's id and provider, read on their own when a rule file is rejected.
#[derive(Deserialize)]
struct ProviderOf {
    #[serde(default)]
    id: String,
    #[serde(default)]
    provider: Option<String>,
}

#[derive(Deserialize)]
struct ProvidersOf {
    #[serde(default)]
    rules: Vec<ProviderOf>,
}

/// When a rule file is rejected: the error naming the first rule whose provider is not one
/// [`Provider`] knows, if that is what is wrong. The parser alone would name only the line.
fn unknown_provider(origin: &str, text: &str) -> Option<RuleError> {
    let file: ProvidersOf = toml::from_str(text).ok()?;
    let (index, rule) = file.rules.iter().enumerate().find(|(_, r)| {
        r.provider
            .as_deref()
            .is_some_and(|p| Provider::from_rule_file(p).is_none())
    })?;
    let name = rule.provider.as_deref().unwrap_or_default();
    // Quoted only when it looks like a name: a token pasted here must not be printed.
    let shown = if valid_id(name) && name.len() <= QUOTED_ID_MAX {
        format!(" '{name}'")
    } else {
        String::new()
    };
    Some(RuleError::Invalid {
        path: origin.to_string(),
        rule: rule_label(index, &rule.id),
        message: format!(
            "unknown provider{shown}; expected one of {}",
            Provider::accepted()
        ),
    })
}

fn check_rule(origin: &str, index: usize, rule: &Rule, compile: bool) -> Result<(), RuleError> {
    let invalid = |message: String| RuleError::Invalid {
        path: origin.to_string(),
        rule: rule_label(index, &rule.id),
        message,
    };
    if !valid_id(&rule.id) {
        return Err(invalid(
            "id must be lowercase letters, digits and '-'".into(),
        ));
    }
    if rule.keywords.is_empty() && rule.run.is_none() {
        return Err(invalid(
            "needs `keywords` or `run`: every rule must have a prefilter".into(),
        ));
    }
    if (rule.validator == Some(Validator::Marvin32Base64)) == rule.seeds.is_empty() {
        return Err(invalid(
            "seeds go with validator = \"marvin32-base64\", and it needs at least one".into(),
        ));
    }
    if let Some(bad) = rule.seeds.iter().find(|s| seed_from_name(s).is_none()) {
        return Err(invalid(format!("seed '{bad}' is not 8 ASCII characters")));
    }
    if rule.max_prefix.is_some_and(|m| m > 4096) {
        return Err(invalid("max_prefix is at most 4096".into()));
    }
    if rule.keywords.iter().any(|k| k.len() < 3) {
        return Err(invalid("keywords must be at least 3 bytes long".into()));
    }
    if compile && let Err(e) = regex::bytes::Regex::new(&rule.pattern) {
        return Err(invalid(format!(
            "bad pattern: {}",
            crate::parse_error::regex_problem(&e)
        )));
    }
    if rule.decoder == Some(Decoder::Base64Wrapped) && rule.run.is_none() {
        return Err(invalid(
            "decoder = \"base64-wrapped\" starts from a run: it needs `run`".into(),
        ));
    }
    if let Some(run) = &rule.run {
        byte_class(&run.chars)
            .map_err(|_| invalid("run.chars is not a byte class such as `a-z2-7`".into()))?;
        if run.length == 0 {
            return Err(invalid("run.length must be positive".into()));
        }
        if run.max_length.is_some_and(|m| m < run.length || m > 4096) {
            return Err(invalid(
                "run.max_length must lie between run.length and 4096".into(),
            ));
        }
        if rule.decoder == Some(Decoder::Base64Wrapped) && !rule.tokens_only {
            return Err(invalid(
                "decoder = \"base64-wrapped\" reports only tokens: it needs tokens_only = true"
                    .into(),
            ));
        }
        if run.glued_flag > 0 && rule.validator.is_none() {
            return Err(invalid(
                "run.glued_flag needs a validator: only a checksum may widen a run".into(),
            ));
        }
    }
    Ok(())
}

/// The built-in rules.
pub fn builtin_rules() -> Vec<Rule> {
    BUILTIN_RULE_FILES
        .iter()
        .flat_map(|(name, text)| {
            parse_checked(name, text, false).expect("built-in rules are valid")
        })
        .collect()
}

/// Load rules from a file, or from every `*.toml` file in a directory (sorted by name).
pub fn load_rules_path(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let io = |error| RuleError::Io {
        path: path.display().to_string(),
        error,
    };
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if p.extension().is_some_and(|e| e == "toml") {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut rules = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|error| RuleError::Io {
            path: f.display().to_string(),
            error,
        })?;
        rules.extend(parse_rules(&f.display().to_string(), &text)?);
    }
    Ok(rules)
}

/// Merge extra rules into a set: a rule with an existing id replaces it.
pub fn merge_rules(base: &mut Vec<Rule>, extra: Vec<Rule>) {
    for rule in extra {
        if let Some(slot) = base.iter_mut().find(|r| r.id == rule.id) {
            *slot = rule;
        } else {
            base.push(rule);
        }
    }
}

/// A `run.chars` that is not a byte class.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ByteClassError {
    #[error("bad range in byte class '{0}'")]
    BadRange(String),
    #[error("empty byte class '{0}'")]
    Empty(String),
}

/// Parse a bracket-expression body such as `a-z2-7` into a byte-class table.
pub fn byte_class(spec: &str) -> Result<[bool; 256], ByteClassError> {
    let b = spec.as_bytes();
    let mut table = [false; 256];
    let mut i = 0;
    while i < b.len() {
        if i + 2 < b.len() && b[i + 1] == b'-' {
            if b[i] > b[i + 2] {
                return Err(ByteClassError::BadRange(spec.to_string()));
            }
            for c in b[i]..=b[i + 2] {
                table[c as usize] = true;
            }
            i += 3;
        } else {
            table[b[i] as usize] = true;
            i += 1;
        }
    }
    if table.iter().all(|&x| !x) {
        return Err(ByteClassError::Empty(spec.to_string()));
    }
    Ok(table)
}

/// A Marvin32 seed written as its 8-character name (`Default0`, `Send0000`, `AbAcct00`): the
/// name's ASCII bytes read as one big-endian 64-bit number. `None` unless 8 ASCII characters.
pub fn seed_from_name(name: &str) -> Option<u64> {
    let b: [u8; 8] = name.as_bytes().try_into().ok()?;
    b.is_ascii().then(|| u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_in_rules_pass_the_whole_check_patterns_included() {
        // `builtin_rules` leaves the patterns to the matcher, which compiles each on first use.
        for (name, text) in super::BUILTIN_RULE_FILES {
            super::parse_rules(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
