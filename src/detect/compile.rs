//! Compiling a rule set into a [`Matcher`]: keywords into one literal search (each in the
//! case spellings it is matched in), keywordless rules into run scanners by byte class, and
//! each rule's pattern kept for compiling on its first candidate.

use super::*;

/// The spellings of a keyword that text uses: as written, lower, UPPER and Title case.
///
/// Matching these exactly (rather than ASCII-case-insensitively) lets the literal search use
/// its SIMD prefilter, which is several times faster on source code; mixed spellings such as
/// `bAsIc` are not worth that cost.
pub(super) fn case_variants(keyword: &str) -> Vec<String> {
    let lower = keyword.to_ascii_lowercase();
    let mut title = lower.clone();
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut v = vec![
        keyword.to_string(),
        lower,
        keyword.to_ascii_uppercase(),
        title,
    ];
    v.sort();
    v.dedup();
    v
}

pub(super) struct CompiledRule {
    pub(super) rule: Rule,
    /// The pattern, compiled on the rule's first candidate (a keyword hit or a run of its
    /// length): a run whose text holds none of a rule's keywords never pays for its regex,
    /// which is most of a small scan's start-up (`patrol staged` on a few lines).
    pub(super) pattern: OnceLock<Pattern>,
    /// Marvin32 seeds of a `marvin32-base64` rule.
    pub(super) seeds: Vec<u64>,
}

/// A rule's compiled pattern and what is learnt from it.
pub(super) struct Pattern {
    pub(super) regex: Regex,
    pub(super) secret_group: Option<usize>,
    /// Longest match the pattern can make, in bytes, when bounded (lets keyword hits inside a
    /// window already searched in vain be skipped).
    pub(super) max_len: Option<usize>,
    /// Bytes every match holds (`@` of a URL's `user:password@`): a window lacking one of
    /// them holds no match, which a byte search tells faster than the regex.
    pub(super) required: Vec<u8>,
}

impl Pattern {
    pub(super) fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        let regex = Regex::new(pattern)?;
        let secret_group = regex.capture_names().position(|n| n == Some("secret"));
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .ok();
        let max_len = hir.as_ref().and_then(|h| h.properties().maximum_len());
        let required = hir.as_ref().map(required_bytes).unwrap_or_default();
        Ok(Pattern {
            regex,
            secret_group,
            max_len,
            required,
        })
    }
}

/// The bytes every match of `hir` holds, ascending. Recursive: the parser's nesting limit
/// bounds the depth.
pub(super) fn required_bytes(hir: &regex_syntax::hir::Hir) -> Vec<u8> {
    use regex_syntax::hir::{Class, HirKind};
    let one = |b: u8| vec![b];
    match hir.kind() {
        HirKind::Literal(lit) => {
            let mut v = lit.0.to_vec();
            v.sort_unstable();
            v.dedup();
            v
        }
        HirKind::Class(Class::Bytes(c)) => match c.ranges() {
            [r] if r.start() == r.end() => one(r.start()),
            _ => Vec::new(),
        },
        HirKind::Class(Class::Unicode(c)) => match c.ranges() {
            [r] if r.start() == r.end() && r.start().is_ascii() => one(r.start() as u8),
            _ => Vec::new(),
        },
        HirKind::Repetition(r) if r.min > 0 => required_bytes(&r.sub),
        HirKind::Capture(c) => required_bytes(&c.sub),
        HirKind::Concat(parts) => {
            let mut v: Vec<u8> = parts.iter().flat_map(required_bytes).collect();
            v.sort_unstable();
            v.dedup();
            v
        }
        HirKind::Alternation(alts) => {
            let mut alts = alts.iter().map(required_bytes);
            let first = alts.next().unwrap_or_default();
            alts.fold(first, |acc, v| {
                acc.into_iter().filter(|b| v.contains(b)).collect()
            })
        }
        _ => Vec::new(),
    }
}

impl CompiledRule {
    pub(super) fn pattern(&self) -> &Pattern {
        self.pattern.get_or_init(|| {
            // Every rule's pattern compiled when its file was loaded (`rules::check_rule`,
            // and a test for the built-in ones).
            Pattern::new(&self.rule.pattern).expect("rule patterns are checked when loaded")
        })
    }
}

/// The keywordless rules of one byte class, scanned in one pass whatever their lengths.
pub(super) struct RunScanner {
    pub(super) class: [bool; 256],
    /// Run lengths wanted, ascending, each once.
    pub(super) lengths: Vec<usize>,
    /// `(shortest, longest, glued_flag, rule)`.
    pub(super) rules: Vec<(usize, usize, usize, usize)>,
}

/// Why a rule set did not compile. Rules were checked when loaded, so this is a bug in a check.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    ByteClass(#[from] crate::rules::ByteClassError),
    #[error("{0}")]
    Keywords(aho_corasick::BuildError),
}

impl Matcher {
    /// Compile a rule set. Rules were checked when loaded, so errors here are bugs in a check.
    // Long: one pass over the rules filling the tables the scan reads together (keyword
    // spellings and the rules behind each, run scanners by byte class, how far before a
    // keyword a match may start); splitting it would pass all of them around.
    pub fn new(rules: Vec<Rule>) -> Result<Matcher, CompileError> {
        let mut compiled = Vec::with_capacity(rules.len());
        let mut literals: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut runs: Vec<RunScanner> = Vec::new();
        for (idx, rule) in rules.into_iter().enumerate() {
            let variants: Vec<String> = if rule.exact_keywords {
                rule.keywords.clone()
            } else {
                rule.keywords
                    .iter()
                    .flat_map(|k| case_variants(k))
                    .collect()
            };
            for variant in variants {
                match literals.iter().position(|l| *l == variant) {
                    Some(p) => keyword_rules[p].push(idx),
                    None => {
                        literals.push(variant);
                        keyword_rules.push(vec![idx]);
                    }
                }
            }
            if let Some(run) = &rule.run {
                let class = byte_class(&run.chars)?;
                let longest = run.max_length.unwrap_or(run.length);
                let wanted = (run.length, longest, run.glued_flag, idx);
                let lengths = run.length..=longest.max(run.length + run.glued_flag);
                match runs.iter_mut().find(|r| r.class == class) {
                    Some(r) => {
                        r.rules.push(wanted);
                        r.lengths.extend(lengths);
                        r.lengths.sort_unstable();
                        r.lengths.dedup();
                    }
                    None => runs.push(RunScanner {
                        class,
                        lengths: lengths.collect(),
                        rules: vec![wanted],
                    }),
                }
            }
            let seeds = rule
                .seeds
                .iter()
                .filter_map(|s| checksum::seed_from_name(s))
                .collect();
            compiled.push(CompiledRule {
                rule,
                pattern: OnceLock::new(),
                seeds,
            });
        }
        // The literal search reports one match per position, the first-listed literal's: when
        // one keyword begins another (`JQQJ9`, `JQQJ99`), a hit on either must run the rules of
        // both, or whichever is listed second would never see a hit.
        let snapshot = keyword_rules.clone();
        for (i, short) in literals.iter().enumerate() {
            for (j, long) in literals.iter().enumerate() {
                if i != j && long.starts_with(short.as_str()) {
                    keyword_rules[i].extend(&snapshot[j]);
                    keyword_rules[j].extend(&snapshot[i]);
                }
            }
        }
        for list in &mut keyword_rules {
            list.sort_unstable();
            list.dedup();
        }
        let keywords = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(&literals)
                    .map_err(CompileError::Keywords)?,
            )
        };
        let run_shortest = runs
            .iter()
            .filter_map(|r| r.lengths.first().copied())
            .min()
            .unwrap_or(usize::MAX);
        let mut run_bytes = [false; 256];
        for r in &runs {
            for (b, &inside) in run_bytes.iter_mut().zip(r.class.iter()) {
                *b |= inside;
            }
        }
        let lookbehind = compiled
            .iter()
            .map(|c| c.rule.max_prefix.unwrap_or(LOOKBEHIND))
            .max()
            .unwrap_or(LOOKBEHIND);
        Ok(Matcher {
            rules: compiled,
            keywords,
            keyword_rules,
            runs,
            run_bytes,
            run_shortest,
            lookbehind,
            org: OnceLock::new(),
        })
    }
}
