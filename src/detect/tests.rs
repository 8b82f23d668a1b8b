//! The matcher's unit tests.

use super::*;

fn runs(hay: &str, len: usize) -> Vec<(usize, usize)> {
    let class = byte_class("a-z2-7").unwrap();
    let mut v = Vec::new();
    for_each_run(hay.as_bytes(), &class, len, |a, b| v.push((a, b)));
    v
}

#[test]
fn a_keyword_that_begins_another_does_not_hide_its_rules() {
    let rule = |id: &str, keyword: &str, pattern: &str| -> Rule {
        toml::from_str(&format!(
            "id = '{id}'\nname = 'n'\ndescription = 'd'\nkeywords = ['{keyword}']\n\
             pattern = '{pattern}'\nseverity = 'low'\nconfidence = 'low'\n"
        ))
        .unwrap()
    };
    for order in [false, true] {
        let mut rules = vec![
            rule("short", "KEY", "KEY=(?P<secret>[a-z]+)"),
            rule("long", "KEYS", "KEYS:(?P<secret>[0-9]+)"),
        ];
        if order {
            rules.reverse();
        }
        let m = Matcher::new(rules).unwrap();
        let ids: Vec<&str> = m
            .scan(b"KEY=qwzrtk KEYS:9183746")
            .iter()
            .map(|x| m.rule(x.rule).id.as_str())
            .collect();
        assert_eq!(ids, ["short", "long"], "order {order}");
    }
}

#[test]
fn the_keyword_search_stays_within_the_simd_literal_limit() {
    let m = Matcher::new(crate::rules::builtin_rules()).unwrap();
    let n = m.keywords.as_ref().map_or(0, |k| k.patterns_len());
    assert!(
        n <= 64,
        "the built-in rules make {n} keyword spellings: the literal search's SIMD prefilter \
         (Teddy) takes at most 64 literals and beyond that falls back to a search several \
         times slower on source code; use `exact_keywords` or fewer keywords"
    );
}

#[test]
fn a_rule_pattern_is_compiled_only_for_its_first_candidate() {
    let m = Matcher::new(crate::rules::builtin_rules()).unwrap();
    fn compiled(m: &Matcher) -> Vec<&str> {
        m.rules
            .iter()
            .filter(|r| r.pattern.get().is_some())
            .map(|r| r.rule.id.as_str())
            .collect()
    }
    assert!(
        m.scan(b"fn main() {\n    println!(\"hello\");\n}\n")
            .is_empty()
    );
    assert_eq!(compiled(&m), Vec::<&str>::new());
    let (ri, keyword) = m
        .rules
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.rule.keywords.first().map(|k| (i, k.clone())))
        .expect("a rule with keywords");
    m.scan(format!("let x = 1; // {keyword}\n").as_bytes());
    let now = compiled(&m);
    assert!(now.contains(&m.rules[ri].rule.id.as_str()), "{now:?}");
    assert!(now.len() < m.rules.len() / 2, "{now:?}");
}

#[test]
fn matches_handed_on_in_batches_are_those_of_one_pass() {
    use crate::detect::checksum::LegacyKind;
    use crate::fake::{FakeRng, crc32_token, identifiable_key, legacy_pat};
    let m = Matcher::new(crate::rules::builtin_rules()).unwrap();
    let mut rng = FakeRng::new(19);
    let mut hay = String::new();
    for i in 0..1500 {
        let legacy = legacy_pat(&mut rng, LegacyKind::UserPat);
        let key = identifiable_key(&mut rng, "AZDO");
        let gh = crc32_token(&mut rng, "ghp_");
        match i % 5 {
            0 => hay.push_str(&format!("pat = \"{legacy}\"\n")),
            1 => hay.push_str(&format!(
                "{key} {legacy} {gh} https://dev.azure.com/org{i}\n"
            )),
            2 => hay.push_str(&format!("url = https://user:{legacy}@dev.azure.com/x\n")),
            3 => hay.push_str(&format!("{legacy}{legacy}\\u0027{gh};{key}")),
            _ => hay.push_str(&format!("AZURE_DEVOPS_EXT_PAT={legacy}\nsame {legacy}\n")),
        }
    }
    let whole = m.scan_batched_vec(hay.as_bytes(), usize::MAX);
    assert!(whole.len() > 2000, "{}", whole.len());
    for batch in [1, 7, 100] {
        assert!(
            m.scan_batched_vec(hay.as_bytes(), batch) == whole,
            "batch {batch}"
        );
    }
}

#[test]
fn runs_exact_length_only() {
    assert_eq!(runs("xx abcd yy", 4), vec![(3, 7)]);
    assert_eq!(runs("abcd", 4), vec![(0, 4)]);
    assert_eq!(runs("abcde", 4), vec![]);
    assert_eq!(runs("abc", 4), vec![]);
    assert_eq!(runs("ab-abcd-abcdef-abcd", 4), vec![(3, 7), (15, 19)]);
}

#[test]
fn runs_after_escapes() {
    assert_eq!(runs(r"x\nabcd", 4), vec![(3, 7)]);
    assert_eq!(runs(r"x\u0027abcd", 4), vec![(7, 11)]);
    assert_eq!(runs("x%3dabcd", 4), vec![(4, 8)]);
    assert_eq!(runs("xqabcd", 4), vec![]);
}

#[test]
fn runs_of_several_lengths_in_one_pass() {
    let class = byte_class("a-z2-7").unwrap();
    let mut v = Vec::new();
    for_each_run_of(b"abcd-abcdef-abc-ab", &class, &[3, 6], |a, b| {
        v.push((a, b))
    });
    assert_eq!(v, vec![(5, 11), (12, 15)]);
    let mut v = Vec::new();
    for_each_run_of(br"x\nabcdef", &class, &[4, 6], |a, b| v.push((a, b)));
    assert_eq!(v, vec![(3, 9)]);
}

#[test]
fn runs_every_offset() {
    // Slide a run through all alignments relative to the sampling stride.
    for pad in 0..12 {
        let s = format!("{}{}{}", "A".repeat(pad), "abcdefg", "A".repeat(3));
        assert_eq!(runs(&s, 7), vec![(pad, pad + 7)], "pad {pad}");
    }
}

/// Looking for each class's runs only inside the long runs of the classes' union finds exactly
/// what a pass of its own over the whole text finds (escape sequences included).
#[test]
fn runs_found_inside_the_union_are_every_classs_runs() {
    let lower = byte_class("a-z2-7").unwrap();
    let b64 = byte_class("A-Za-z0-9+/").unwrap();
    let mut union = [false; 256];
    for (u, (&x, &y)) in union.iter_mut().zip(lower.iter().zip(b64.iter())) {
        *u = x || y;
    }
    let classes: [(&[bool; 256], &[usize]); 2] = [(&lower, &[5, 6, 7]), (&b64, &[8, 12])];
    let alphabet = b"ab2zA9+/-\\n%3d \n";
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3000 {
        let len = (seed % 64) as usize;
        let hay: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                alphabet[(seed % alphabet.len() as u64) as usize]
            })
            .collect();
        for (class, lengths) in classes {
            let mut alone = Vec::new();
            for_each_run_in(&hay, 0..hay.len(), class, lengths, |a, b| {
                alone.push((a, b))
            });
            let mut inside = Vec::new();
            for_each_long_run(&hay, 0..hay.len(), &union, 5, |a, b| {
                for_each_run_in(&hay, a..b, class, lengths, |s, e| inside.push((s, e)));
            });
            assert_eq!(alone, inside, "{:?}", String::from_utf8_lossy(&hay));
        }
    }
}

/// What every match must hold is read from the pattern: `@` and `:` of a URL's credentials,
/// only what all alternatives share, nothing under an optional part.
#[test]
fn required_bytes_are_what_every_match_holds() {
    let required = |p: &str| {
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(p)
            .unwrap();
        compile::required_bytes(&hir)
    };
    assert_eq!(
        required(
            r"(?i)https?:(?://|\\/\\/)(?P<u>[^\s/@:]*):(?P<secret>[^\s/@]+)@(?P<host>[a-z.]+)"
        ),
        b"/:@".to_vec()
    );
    assert_eq!(required(r"(?:ab|cb)x"), b"bx".to_vec());
    assert_eq!(required(r"a?b*c{0,3}"), Vec::<u8>::new());
    assert_eq!(required(r"(?i)basic[ \t]+(?-i:x)"), b"x".to_vec());
    assert_eq!(required(r"(?i)x"), Vec::<u8>::new());
    assert_eq!(required(r"(?:^|[^A-Z])K=\d+"), b"=K".to_vec());
    // Every built-in rule's examples still match: a byte wrongly required would lose them
    // (rules::tests check the examples through the whole matcher).
}

/// A keyword inside (or overlapping) another keyword's hit still runs its rules: a custom
/// rule keyed on `TOKEN` finds `AZURE_DEVOPS_TOKEN=…`, whose longer keyword the literal search
/// reports at that place (before: the custom rule never saw it).
#[test]
fn a_keyword_inside_another_does_not_hide_its_rules() {
    let rule = |id: &str, keyword: &str, pattern: &str| -> Rule {
        toml::from_str(&format!(
            "id = '{id}'\nname = 'n'\ndescription = 'd'\nkeywords = ['{keyword}']\n\
             exact_keywords = true\npattern = '{pattern}'\nseverity = 'low'\nconfidence = 'low'\n"
        ))
        .unwrap()
    };
    for order in [false, true] {
        let mut rules = vec![
            rule(
                "long",
                "AZURE_DEVOPS_TOKEN",
                "AZURE_DEVOPS_TOKEN:(?P<secret>[0-9]+)",
            ),
            rule("inner", "TOKEN", "TOKEN=(?P<secret>[a-z]+)"),
            rule(
                "overlap",
                "_DEVOPS_TOKEN_SUFFIX",
                "_DEVOPS_TOKEN_SUFFIX=(?P<secret>[a-z]+)",
            ),
        ];
        if order {
            rules.reverse();
        }
        let m = Matcher::new(rules).unwrap();
        let ids = |text: &[u8]| -> Vec<String> {
            m.scan(text)
                .iter()
                .map(|x| m.rule(x.rule).id.clone())
                .collect()
        };
        assert_eq!(
            ids(b"AZURE_DEVOPS_TOKEN=qwzrtkpl"),
            ["inner"],
            "order {order}"
        );
        assert_eq!(
            ids(b"AZURE_DEVOPS_TOKEN:9183746"),
            ["long"],
            "order {order}"
        );
        // `AZURE_DEVOPS_TOKEN` and `_DEVOPS_TOKEN_SUFFIX` overlap; the second starts inside
        // the first's hit.
        assert_eq!(
            ids(b"AZURE_DEVOPS_TOKEN_SUFFIX=qwzrtkpl"),
            ["overlap"],
            "order {order}"
        );
    }
}
