//! Fuzz the matcher (built-in rules) over arbitrary bytes: no panic, and every match lies
//! inside the buffer, names a rule that exists and carries a non-empty secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::detect::Matcher;
use std::sync::LazyLock;

static MATCHER: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(patrol::rules::builtin_rules()).expect("built-in rules compile"));

fuzz_target!(|data: &[u8]| {
    let m = &*MATCHER;
    let n_rules = m.rules().count();
    let found = m.scan(data);
    let mut last = 0;
    for x in &found {
        assert!(
            x.start <= x.end && x.end <= data.len(),
            "span out of buffer"
        );
        assert!(x.start < x.end, "empty span");
        assert!(!x.secret.is_empty(), "empty secret");
        assert!(x.rule < n_rules && x.origin < n_rules, "unknown rule");
        assert!(x.start >= last, "not ordered by position");
        last = x.start;
    }
});
