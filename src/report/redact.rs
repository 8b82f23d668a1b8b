//! Keeping secrets out of the text around findings. A token pasted into a commit message, a
//! file name or a clone URL would otherwise reach every report through the commit summary,
//! the path or the repository's URL; reporters render the scrubbed copy [`scrub`] makes
//! unless `--show-secrets`.

use crate::detect::Matcher;
use crate::finding::{Finding, RepositoryInfo, Secret, Verification};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

/// Secrets shorter than this are not searched for in surrounding text: a three-letter
/// password would mangle every path that happens to contain those letters.
pub const MIN_SCRUBBED_LEN: usize = 4;

/// Replaces every known secret in a text by its redacted form.
pub struct Redactor {
    finder: Option<AhoCorasick>,
    replacements: Vec<String>,
}

impl Redactor {
    /// A redactor for these secrets (duplicates and very short ones are dropped).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a Secret>) -> Self {
        let unique: BTreeSet<&Secret> = secrets
            .into_iter()
            .filter(|s| s.expose().chars().count() >= MIN_SCRUBBED_LEN)
            .collect();
        let patterns: Vec<&str> = unique.iter().map(|s| s.expose()).collect();
        let replacements = unique.iter().map(|s| s.redacted()).collect();
        let finder = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("literal patterns build")
        });
        Redactor {
            finder,
            replacements,
        }
    }

    /// `text` with every known secret replaced.
    pub fn apply<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(finder) = &self.finder else {
            return Cow::Borrowed(text);
        };
        if !finder.is_match(text) {
            return Cow::Borrowed(text);
        }
        Cow::Owned(finder.replace_all(text, &self.replacements))
    }

    fn apply_in_place(&self, text: &mut String) {
        if let Cow::Owned(s) = self.apply(text) {
            *text = s;
        }
    }
}

/// The run's rules, for [`scrub_text`]: set once per process, when the rules are compiled.
static TEXT_MATCHER: OnceLock<Arc<Matcher>> = OnceLock::new();

/// Let [`scrub_text`] look for secrets with `matcher` (the first call wins).
pub fn watch_text_with(matcher: Arc<Matcher>) {
    let _ = TEXT_MATCHER.set(matcher);
}

/// Whether [`scrub_text`] has rules to look with.
pub fn watching() -> bool {
    TEXT_MATCHER.get().is_some()
}

/// `text` with every secret the run's rules find in it redacted: for what patrol writes
/// before (or without) knowing the findings — warnings naming a path or URL while the scan
/// runs, baseline paths — where a token in a file name or a clone URL would otherwise stand
/// raw. Unchanged before the rules are compiled.
pub fn scrub_text(text: &str) -> Cow<'_, str> {
    let Some(matcher) = TEXT_MATCHER.get() else {
        return Cow::Borrowed(text);
    };
    let found = matcher.scan(text.as_bytes());
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for m in found {
        // Byte spans of a match may cut a character: widen them to whole characters.
        let mut start = m.start.max(at);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        // `at` ends the previous replacement, on a character boundary.
        let start = start.max(at);
        let mut end = m.end.min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if end <= start {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&Secret::new(m.secret).redacted());
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// A finding's path as reports and baselines show it: its own secret and any secret the
/// rules find in the path itself redacted.
pub fn shown_path(f: &Finding) -> String {
    let own = Redactor::new([&f.secret]);
    let path = scrub_text(&f.path);
    own.apply(&path).into_owned()
}

/// Copies of `findings` and `repository` in which no secret of any finding appears in a path,
/// commit author, summary, organisation, verification text or repository URL or branch.
pub fn scrub(
    findings: &[Finding],
    repository: Option<&RepositoryInfo>,
) -> (Vec<Finding>, Option<RepositoryInfo>) {
    let r = Redactor::new(findings.iter().map(|f| &f.secret));
    let findings = findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if let Cow::Owned(p) = scrub_text(&f.path) {
                f.path = p;
            }
            r.apply_in_place(&mut f.path);
            if let Some(h) = &mut f.at_head {
                for place in h.places.iter_mut().chain(h.introduced.as_mut()) {
                    if let Cow::Owned(p) = scrub_text(&place.path) {
                        place.path = p;
                    }
                    r.apply_in_place(&mut place.path);
                }
            }
            if let Some(org) = &mut f.organization {
                r.apply_in_place(org);
            }
            if let Some(c) = &mut f.commit {
                for field in [&mut c.author_name, &mut c.author_email, &mut c.summary] {
                    r.apply_in_place(field);
                }
            }
            match &mut f.verification {
                Verification::Valid {
                    identity,
                    organization,
                    ..
                } => {
                    for field in [identity, organization].into_iter().flatten() {
                        r.apply_in_place(field);
                    }
                }
                Verification::Unknown { reason } => r.apply_in_place(reason),
                Verification::NotChecked | Verification::Invalid => {}
            }
            f
        })
        .collect();
    let repository = repository.map(|repo| {
        let mut repo = repo.clone();
        r.apply_in_place(&mut repo.uri);
        for field in [&mut repo.revision, &mut repo.branch].into_iter().flatten() {
            r.apply_in_place(field);
        }
        repo
    });
    (findings, repository)
}
