//! Fuzz the baseline parsers (`baseline::Baseline::parse`, `baseline::entries_from_report`):
//! errors, never panics; whatever parses writes back out and parses again to the same entries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(b) = patrol::baseline::Baseline::parse(text) {
            let again = patrol::baseline::Baseline::parse(&b.to_text()).expect("own output parses");
            assert_eq!(again.entries, b.entries);
        }
        let _ = patrol::baseline::entries_from_report(text, true);
        let _ = patrol::baseline::entries_from_report(text, false);
    }
});
