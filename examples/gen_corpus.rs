//! Corpus generator for benchmarks (`benches/files.sh`): writes SIZE MiB of source-like text
//! (code, prose, URLs, hashes, base64, minified lines) in files of 4–64 KiB under DIR, with a
//! fake token (valid checksum, authorises nothing) roughly every MiB. Deterministic per seed,
//! so anyone can reproduce the benchmark without the peer scanners or a network.
//!
//! usage: cargo run --release --example gen_corpus -- DIR SIZE_MIB [SEED]

use patrol::detect::checksum::LegacyKind;
use patrol::fake::{self, FakeRng};
use std::io::Write;

const LINES: &[&str] = &[
    "    let mut buffer = Vec::with_capacity(config.max_items);",
    "    if let Some(value) = self.cache.get(&key) { return Ok(value.clone()); }",
    "// See https://docs.example.org/guide/getting-started for the basic setup.",
    "fn parse_header(input: &[u8]) -> Result<Header, ParseError> {",
    "The quick brown fox jumps over the lazy dog; basic authentication is discussed below.",
    "    assert_eq!(checksum, 0x9e3779b97f4a7c15, \"unexpected hash for {}\", name);",
    "import { useState, useEffect } from 'react'; // https://react.dev/reference",
    "  \"dependencies\": { \"serde\": \"1.0\", \"regex\": \"1.10\" },",
    "sha256: 3f2a9c0e5d7b41e8a6c2f09d8e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a",
    "uuid = \"f47ac10b-58cc-4372-a567-0e02b2c3d479\"",
    "    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />",
    "SELECT id, name, created_at FROM users WHERE org_id = $1 ORDER BY created_at DESC;",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_corpus DIR SIZE_MIB [SEED]");
        std::process::exit(2);
    }
    let dir = std::path::PathBuf::from(&args[1]);
    let size: u64 = args[2].parse::<u64>().expect("SIZE_MIB is a number") << 20;
    let seed: u64 = args
        .get(3)
        .map_or(1, |s| s.parse().expect("SEED is a number"));
    let mut rng = FakeRng::new(seed);
    let (mut written, mut file_no, mut tokens) = (0u64, 0u64, 0u64);
    let mut next_token = 1u64 << 20;
    while written < size {
        let sub = dir.join(format!("d{:03}", file_no / 100));
        std::fs::create_dir_all(&sub).expect("create directory");
        let target = 4096 + rng.next_u64() % (60 << 10);
        let mut text = Vec::with_capacity(target as usize + 256);
        while (text.len() as u64) < target {
            match rng.next_u64() % 20 {
                0 => {
                    // base64 and hex blobs of the kind lock files and fixtures hold
                    let n = 40 + rng.next_u64() % 200;
                    let alphabet =
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                    text.extend((0..n).map(|_| alphabet[(rng.next_u64() % 64) as usize]));
                    text.push(b'\n');
                }
                1 if rng.next_u64().is_multiple_of(50) => {
                    // a minified line
                    for _ in 0..200 {
                        text.extend_from_slice(b"var a=function(b){return b*2};");
                    }
                    text.push(b'\n');
                }
                _ => {
                    text.extend_from_slice(
                        LINES[(rng.next_u64() % LINES.len() as u64) as usize].as_bytes(),
                    );
                    text.push(b'\n');
                }
            }
        }
        if written + text.len() as u64 >= next_token {
            let token = fake::legacy_pat(&mut rng, LegacyKind::UserPat);
            text.extend_from_slice(format!("AZURE_DEVOPS_EXT_PAT={token}\n").as_bytes());
            tokens += 1;
            next_token += 1 << 20;
        }
        let path = sub.join(format!("f{file_no}.rs"));
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&text))
            .expect("write file");
        written += text.len() as u64;
        file_no += 1;
    }
    println!(
        "{} files, {} bytes, {} tokens in {}",
        file_no,
        written,
        tokens,
        dir.display()
    );
}
