//! How believable a password without a checksum is as a real credential.
//!
//! A token with a checksum proves itself; a password does not, and most hard-coded `user:pass`
//! pairs in public code are test vectors, documentation samples or templates. This module sorts
//! them in three: not a credential at all (a published sample or a template), weak (reported
//! only at low confidence: short, few character classes, low randomness, made of dictionary
//! words, test-vector conventions), or plausible. docs/false-alarms.md explains each test.

use serde::Deserialize;
use std::sync::LazyLock;

/// What a password is judged to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not a credential: a published sample or an interpolation template.
    NotSecret,
    /// Could be real but looks like test data: one confidence level lower.
    Weak,
    Plausible,
}

#[derive(Deserialize)]
struct SampleFile {
    sample: Vec<Sample>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // `user` and `source` document the entry; only the password is matched.
struct Sample {
    user: String,
    password: String,
    source: String,
}

/// Passwords published as examples (data/published-samples.toml, with the source of each).
static SAMPLES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let file: SampleFile = toml::from_str(include_str!("../../data/published-samples.toml"))
        .expect("the built-in sample list parses");
    file.sample.into_iter().map(|s| s.password).collect()
});

/// Whether `password` is one of the published sample passwords.
pub fn is_published_sample(password: &str) -> bool {
    SAMPLES.iter().any(|s| s == password)
}

/// Interpolation placeholders of common template and format languages: `{token}`, `{{x}}`,
/// `{0}`, `%s`, `%d`, `%(name)s`, `%v`, `:param` at the start.
pub fn is_template(value: &str) -> bool {
    let v = value.as_bytes();
    if let Some(open) = value.find('{')
        && value[open..].contains('}')
    {
        return true;
    }
    let printf = v.windows(2).any(|w| {
        w[0] == b'%'
            && matches!(
                w[1],
                b's' | b'd' | b'v' | b'q' | b'x' | b'u' | b'i' | b'@' | b'('
            )
    });
    printf || value.starts_with(':')
}

/// Fragments that test data is written with: words of the trade, keyboard and counting runs.
const TEST_MARKS: &[&str] = &[
    "test", "mock", "fake", "dummy", "sample", "example", "demo", "passw", "pwd", "secret",
    "hello", "world", "foo", "bar", "baz", "qux", "admin", "user", "guest", "login", "letmein",
    "changeme", "default", "invalid", "wrong", "correct", "valid", "qwerty", "asdf", "1234",
    "abcd", "xyz", "sesame", "empty", "unknown", "private", "public", "local", "proxy",
];

/// Common words (4 letters or more) that a made-up password is assembled from.
const WORDS: &[&str] = &[
    "about",
    "access",
    "account",
    "action",
    "after",
    "again",
    "alpha",
    "apple",
    "auth",
    "back",
    "base",
    "bash",
    "beta",
    "black",
    "blue",
    "book",
    "bravo",
    "build",
    "call",
    "card",
    "case",
    "change",
    "charlie",
    "check",
    "city",
    "client",
    "code",
    "cold",
    "color",
    "come",
    "config",
    "cool",
    "data",
    "delta",
    "deploy",
    "door",
    "down",
    "dragon",
    "easy",
    "echo",
    "else",
    "enter",
    "even",
    "everything",
    "file",
    "find",
    "fire",
    "first",
    "five",
    "flag",
    "four",
    "free",
    "friend",
    "from",
    "game",
    "give",
    "gold",
    "good",
    "great",
    "green",
    "happy",
    "have",
    "here",
    "home",
    "horse",
    "house",
    "into",
    "just",
    "keep",
    "key",
    "kilo",
    "king",
    "know",
    "last",
    "life",
    "like",
    "line",
    "list",
    "live",
    "long",
    "look",
    "love",
    "magic",
    "main",
    "make",
    "many",
    "master",
    "money",
    "monkey",
    "more",
    "most",
    "much",
    "must",
    "name",
    "need",
    "never",
    "next",
    "nice",
    "night",
    "none",
    "nothing",
    "number",
    "okay",
    "only",
    "open",
    "other",
    "over",
    "owner",
    "page",
    "part",
    "pass",
    "people",
    "place",
    "play",
    "please",
    "point",
    "power",
    "project",
    "queen",
    "quick",
    "real",
    "right",
    "root",
    "same",
    "say",
    "server",
    "service",
    "shadow",
    "should",
    "show",
    "side",
    "simple",
    "small",
    "some",
    "space",
    "star",
    "start",
    "still",
    "stuff",
    "sun",
    "super",
    "system",
    "take",
    "tango",
    "team",
    "tell",
    "than",
    "that",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "think",
    "this",
    "three",
    "time",
    "token",
    "tree",
    "true",
    "two",
    "under",
    "value",
    "very",
    "want",
    "water",
    "well",
    "what",
    "when",
    "where",
    "which",
    "white",
    "will",
    "winter",
    "with",
    "word",
    "work",
    "would",
    "year",
    "your",
    "zero",
    "zulu",
];

/// Shannon entropy of the characters of `s`, in bits per character.
pub fn entropy(s: &str) -> f64 {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return 0.0;
    }
    let mut counts = std::collections::HashMap::new();
    for &c in &chars {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = chars.len() as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// How many of lower case, upper case, digits and other characters `s` uses.
fn classes(s: &str) -> usize {
    let has = |f: fn(&char) -> bool| usize::from(s.chars().any(|c| f(&c)));
    has(char::is_ascii_lowercase)
        + has(char::is_ascii_uppercase)
        + has(char::is_ascii_digit)
        + has(|c| !c.is_ascii_alphanumeric())
}

/// Share of the letters of `s` that belong to dictionary words (greedy, longest word first).
fn dictionary_share(s: &str) -> f64 {
    let lower = s.to_ascii_lowercase();
    let b = lower.as_bytes();
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    if letters == 0 {
        return 0.0;
    }
    let mut covered = 0;
    let mut i = 0;
    while i < b.len() {
        let best = WORDS
            .iter()
            .chain(TEST_MARKS)
            .filter(|w| w.len() >= 3 && b[i..].starts_with(w.as_bytes()))
            .map(|w| w.len())
            .max();
        match best {
            Some(n) => {
                covered += b[i..i + n]
                    .iter()
                    .filter(|c| c.is_ascii_alphabetic())
                    .count();
                i += n;
            }
            None => i += 1,
        }
    }
    covered as f64 / letters as f64
}

/// Judge a password (and the user name beside it, when known) that no checksum vouches for.
pub fn judge(user: Option<&str>, password: &str) -> Verdict {
    if is_published_sample(password) || is_template(password) {
        return Verdict::NotSecret;
    }
    let lower = password.to_lowercase();
    let weak = password.chars().count() < 8
        || classes(password) < 2
        || entropy(password) < 2.5
        // Non-ASCII in a password is what encoding tests are made of; real ones avoid it.
        || !password.is_ascii()
        || user.is_some_and(|u| !u.is_ascii())
        || TEST_MARKS.iter().any(|m| lower.contains(m))
        || dictionary_share(password) >= 0.6;
    if weak {
        Verdict::Weak
    } else {
        Verdict::Plausible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_samples_and_templates_are_not_secrets() {
        for p in [
            "open sesame",
            "123£",
            "gX1fBat3bV",
            "1f2d1e2e67df",
            "33f!!lloppa",
        ] {
            assert_eq!(judge(Some("x"), p), Verdict::NotSecret, "{p}");
        }
        for p in [
            "{token}",
            "{{password}}",
            "{0}",
            "%s",
            "pre%dpost",
            "%(pw)s",
            ":password",
        ] {
            assert_eq!(judge(None, p), Verdict::NotSecret, "{p}");
        }
    }

    #[test]
    fn test_data_is_weak() {
        for p in [
            "world",   // short, one class
            "b!&*$",   // short
            "foo(b]c", // short, test word
            "MOCK_PASSWORD",
            "testpassword1",
            "correcthorsebatterystaple",
            "pässwörd99", // non-ASCII
            "aaaaaaaa1",
            "12345678",
        ] {
            assert_ne!(judge(Some("u"), p), Verdict::Plausible, "{p}");
        }
        assert_eq!(judge(Some("ім'я"), "Kq8#vRt2Lm"), Verdict::Weak);
    }

    #[test]
    fn random_looking_passwords_are_plausible() {
        for p in [
            "Tr0ub4dor&3x",
            "Hq7vLm2Ks9",
            "Xk9@q2Lr7w",
            "p9R#t2vQ8zL",
            "aaatwayeaudnhgajbifqydiob4ibceqtcqkucfyydenbwha5dypq",
        ] {
            assert_eq!(judge(Some("deploy"), p), Verdict::Plausible, "{p}");
        }
    }
}
