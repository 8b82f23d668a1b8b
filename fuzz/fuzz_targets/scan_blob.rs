//! Fuzz blob triage and position bookkeeping (`scan::scan_blob`): text, UTF-16 (BOM or NUL
//! pattern), binary with and without `--scan-binary`. Findings have sane 1-based positions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use patrol::detect::Matcher;
use patrol::rules::Confidence;
use patrol::scan::{ScanOptions, scan_blob};
use std::sync::LazyLock;

static MATCHER: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new(patrol::rules::builtin_rules()).expect("built-in rules compile"));

fuzz_target!(|data: &[u8]| {
    for scan_binary in [false, true] {
        let opts = ScanOptions {
            min_confidence: Confidence::Low,
            scan_binary,
            ..ScanOptions::default()
        };
        let r = scan_blob(&MATCHER, data, &opts);
        assert!(
            !(scan_binary && r.binary_skipped),
            "binary skipped with --scan-binary"
        );
        for f in &r.hits {
            assert!(f.line >= 1 && f.column >= 1, "positions are 1-based");
            assert!(
                f.end_line == f.line && f.end_column > f.column,
                "end after start"
            );
            assert!(!f.secret.expose().is_empty(), "empty secret");
            assert_eq!(f.fingerprint.len(), 64);
        }
    }
});
