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
        // A fixed key: a run's inputs must give the same outcome every time.
        let key =
            patrol::finding::FingerprintKey::from_hex(&"0".repeat(64)).expect("64 hex digits");
        for with_paths in [true, false] {
            if let Ok(b) = patrol::baseline::entries_from_report(text, with_paths, &key) {
                // What `baseline create --from` writes must load again.
                patrol::baseline::Baseline::parse(&b.to_text()).expect("own output parses");
            }
        }
    }
});
