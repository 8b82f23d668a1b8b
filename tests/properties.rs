//! Property tests (issue 8): every generated valid token is found wherever it is embedded and
//! in every encoding patrol supports; no generated lookalike is reported; results do not
//! depend on thread count or file order.
//!
//! Tokens come only from the project's generator (`fake`), seeded by proptest.
//! "Embedded" means surrounded by arbitrary text with a boundary character on each side: a
//! legacy PAT is a maximal run of base32 (`a-z2-7`), so its neighbours are not base32; an
//! identifiable key's neighbours are not alphanumeric.

mod support;

use base64::Engine;
use patrol::detect::Matcher;
use patrol::detect::checksum::LegacyKind;
use patrol::fake::{self, FakeRng};
use patrol::finding::Finding;
use patrol::scan::{Location, ScanOptions, scan_blob};
use proptest::prelude::*;
use std::sync::LazyLock;
use support::tokens::B64;

static MATCHER: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(patrol::rules::builtin_rules()).expect("built-in rules"));

/// Provider signatures of `rules/azure-keys.toml` and Azure DevOps.
const SIGNATURES: [&str; 8] = [
    "AZDO", "AZAC", "AZFR", "AZEG", "AZMR", "AZCS", "ACOG", "msql",
];

#[derive(Debug, Clone)]
struct Token {
    text: String,
    legacy: bool,
}

/// A valid token of any kind: legacy user PAT, legacy application secret, or identifiable
/// key with any known signature.
fn token() -> impl Strategy<Value = Token> {
    (any::<u64>(), 0..SIGNATURES.len() + 2).prop_map(|(seed, kind)| {
        let mut rng = FakeRng::new(seed);
        match kind {
            0 => Token {
                text: fake::legacy_pat(&mut rng, LegacyKind::UserPat),
                legacy: true,
            },
            1 => Token {
                text: fake::legacy_pat(&mut rng, LegacyKind::ApplicationSecret),
                legacy: true,
            },
            k => Token {
                text: fake::identifiable_key(&mut rng, SIGNATURES[k - 2]),
                legacy: false,
            },
        }
    })
}

/// Arbitrary surrounding text (printable ASCII, whitespace, some non-ASCII).
fn filler() -> impl Strategy<Value = String> {
    "[ -~\n\t\ré€😀]{0,120}"
}

/// ASCII-only surrounding text, for UTF-16 without a byte-order mark (which patrol
/// recognises by the NULs of mostly-ASCII text).
fn ascii_filler() -> impl Strategy<Value = String> {
    "[ -~\n\t]{0,120}"
}

/// A character that may stand next to any token: neither base32 nor alphanumeric.
fn boundary() -> impl Strategy<Value = char> {
    prop::sample::select(
        " \n\t\"'=:;,.-_/\\(){}[]<>!#$%&*+|?é€"
            .chars()
            .collect::<Vec<_>>(),
    )
}

/// Surround `t` with `pre` + a boundary character and a boundary character + `post`.
fn embed(pre: &str, b1: char, t: &str, b2: char, post: &str) -> (String, usize) {
    let head = format!("{pre}{b1}");
    (format!("{head}{t}{b2}{post}"), head.len())
}

/// 1-based (line, column) of byte offset `at`, columns in Unicode scalar values.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn scan(bytes: &[u8]) -> Vec<Finding> {
    let opts = ScanOptions::default();
    scan_blob(&MATCHER, bytes, &opts).findings_at(&Location::file("p.txt"), &opts)
}

fn found<'a>(findings: &'a [Finding], secret: &str) -> Option<&'a Finding> {
    findings.iter().find(|f| f.secret.expose() == secret)
}

fn utf16(text: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if bom {
        v.extend(if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
    }
    for u in text.encode_utf16() {
        v.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn token_found_in_plain_text(
        t in token(), pre in filler(), post in filler(), b1 in boundary(), b2 in boundary()
    ) {
        let (text, at) = embed(&pre, b1, &t.text, b2, &post);
        let findings = scan(text.as_bytes());
        let f = found(&findings, &t.text);
        prop_assert!(f.is_some(), "not found in {text:?}: {findings:?}");
        let f = f.unwrap();
        prop_assert_eq!((f.line, f.column), line_col(&text, at));
        prop_assert_eq!(f.end_column, f.column + t.text.len());
        prop_assert_eq!(&f.encoding, &None);
    }

    #[test]
    fn token_found_in_utf16(
        t in token(), pre in ascii_filler(), post in ascii_filler(),
        b1 in boundary().prop_filter("ASCII", char::is_ascii),
        b2 in boundary().prop_filter("ASCII", char::is_ascii),
        le in any::<bool>(), bom in any::<bool>()
    ) {
        let (text, at) = embed(&pre, b1, &t.text, b2, &post);
        let findings = scan(&utf16(&text, le, bom));
        let f = found(&findings, &t.text);
        prop_assert!(f.is_some(), "not found (le={le}, bom={bom}) in {text:?}");
        let f = f.unwrap();
        prop_assert_eq!((f.line, f.column), line_col(&text, at));
        let enc = f.encoding.as_ref().map(ToString::to_string);
        prop_assert_eq!(enc.as_deref(), Some(if le { "utf-16le" } else { "utf-16be" }));
    }

    #[test]
    fn token_found_in_basic_header(
        t in token(), user in "[a-z0-9._-]{0,12}", pre in filler(), post in filler(),
        b2 in boundary().prop_filter("not base64", |c| !"+/=".contains(*c))
    ) {
        let cred = B64.encode(format!("{user}:{}", t.text));
        let head = format!("{pre}\nAuthorization: Basic ");
        let text = format!("{head}{cred}{b2}{post}");
        let findings = scan(text.as_bytes());
        let f = found(&findings, &t.text);
        prop_assert!(f.is_some(), "not found in {text:?}: {findings:?}");
        let f = f.unwrap();
        prop_assert_eq!((f.line, f.column), line_col(&text, head.len()));
        let enc = f.encoding.as_ref().map(ToString::to_string);
        prop_assert_eq!(enc.as_deref(), Some("base64"));
    }

    #[test]
    fn token_found_in_url_userinfo(
        t in token(), user in prop::option::of("[a-z][a-z0-9]{0,10}"), org in "[a-z][a-z0-9-]{0,20}[a-z0-9]".prop_filter("not app/www", |o| o != "app" && o != "www"),
        pre in filler(), b1 in boundary(), post in filler()
    ) {
        let head = match &user {
            Some(u) => format!("{pre}{b1}https://{u}:"),
            None => format!("{pre}{b1}https://"),
        };
        let text = format!("{head}{}@dev.azure.com/{org}/_git/app {post}", t.text);
        let findings = scan(text.as_bytes());
        let f = found(&findings, &t.text);
        prop_assert!(f.is_some(), "not found in {text:?}: {findings:?}");
        let f = f.unwrap();
        prop_assert_eq!((f.line, f.column), line_col(&text, head.len()));
        if t.text.ends_with("AZDO") || t.legacy {
            prop_assert_eq!(f.organization.as_deref(), Some(org.as_str()));
        }
    }

    /// Many tokens among keyword noise: skipping windows already searched must not skip one.
    #[test]
    fn tokens_among_keyword_noise_are_all_found(
        items in prop::collection::vec(
            (token(), "(JQQJ9|JQQJ99|AZDO|Basic |https://|:| |\n){0,60}", boundary()),
            1..12,
        )
    ) {
        let text: String = items
            .iter()
            .map(|(t, noise, b)| format!("{noise}{b}{}{b}", t.text))
            .collect();
        let findings = scan(text.as_bytes());
        for (t, _, _) in &items {
            prop_assert!(found(&findings, &t.text).is_some(), "{} not found in {text:?}", t.text);
        }
    }

    #[test]
    fn broken_tokens_are_not_reported(
        t in token(), pre in filler(), post in filler(), b1 in boundary(), b2 in boundary()
    ) {
        let broken = fake::broken(&t.text);
        let (text, _) = embed(&pre, b1, &broken, b2, &post);
        let findings = scan(text.as_bytes());
        prop_assert!(findings.is_empty(), "reported in {text:?}: {findings:?}");
    }

    #[test]
    fn random_base32_runs_are_not_reported(
        run in "[a-z2-7]{52}", pre in filler(), post in filler(), b1 in boundary(), b2 in boundary()
    ) {
        let (text, _) = embed(&pre, b1, &run, b2, &post);
        prop_assert!(scan(text.as_bytes()).is_empty());
    }

    #[test]
    fn random_identifiable_shapes_are_not_reported(
        body in "[A-Za-z0-9]{52}", year in "[A-C]", month in "[A-L]", reserved in "[A-Za-z0-9]{12}",
        sig in prop::sample::select(SIGNATURES.to_vec()), sum in "[A-Za-z0-9]{4}",
        pre in filler(), post in filler(), b1 in boundary(), b2 in boundary()
    ) {
        let shape = format!("{body}JQQJ99{year}{month}{reserved}AAAS{sig}{sum}");
        let (text, _) = embed(&pre, b1, &shape, b2, &post);
        prop_assert!(scan(text.as_bytes()).is_empty(), "{shape}");
    }
}

/// Scan `dir` with the real binary; findings only (the summary holds timings).
fn findings_json(dir: &std::path::Path, threads: &str) -> serde_json::Value {
    let (doc, out) = support::run::patrol_json(&["scan", ".", "--threads", threads], dir);
    assert_eq!(out.status.code(), Some(1), "{doc}");
    doc["findings"].clone()
}

proptest! {
    // Each case runs the binary three times: few cases.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn results_do_not_depend_on_threads_or_file_order(
        files in prop::collection::vec((token(), filler(), 0..4u8), 1..25),
        order in any::<u64>()
    ) {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let write = |root: &std::path::Path, i: usize| {
            let (t, pre, depth) = &files[i];
            let rel = format!("{}f{i}.txt", "d/".repeat(usize::from(*depth)));
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, format!("{pre}\n{}\n{pre}\n", t.text)).unwrap();
        };
        // Same files, created in two different orders (directory listing order follows).
        let mut idx: Vec<usize> = (0..files.len()).collect();
        let mut rng = FakeRng::new(order);
        for i in (1..idx.len()).rev() {
            idx.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
        }
        for &i in &idx {
            write(a.path(), i);
        }
        for &i in idx.iter().rev() {
            write(b.path(), i);
        }
        let one = findings_json(a.path(), "1");
        prop_assert_eq!(one.as_array().unwrap().len(), files.len());
        prop_assert_eq!(&one, &findings_json(a.path(), "4"));
        prop_assert_eq!(&one, &findings_json(b.path(), "4"));
    }
}
