//! Fuzz the rule loader (`rules::parse_rules`). A rule set the loader accepts must compile
//! into a matcher (the matcher trusts the loader's checks) and scan its own examples.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::detect::Matcher;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = patrol::rules::parse_rules("fuzz.toml", text) else {
        return;
    };
    let examples: Vec<String> = rules
        .iter()
        .flat_map(|r| r.examples.iter().chain(&r.negative_examples).cloned())
        .collect();
    let matcher = Matcher::new(rules).expect("accepted rules compile");
    for ex in examples {
        for m in matcher.scan(ex.as_bytes()) {
            assert!(m.start <= m.end && m.end <= ex.len());
        }
    }
});
