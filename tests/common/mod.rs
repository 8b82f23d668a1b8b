//! Shared test helpers: fake tokens, fixture rendering and running the real binary.
#![allow(dead_code)]

use base64::Engine;
use patrol::detect::checksum::LegacyKind;
use patrol::detect::fake::{self, FakeRng};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A legacy user PAT from the project's generator, one per seed.
pub fn pat(seed: u64) -> String {
    fake::legacy_pat(&mut FakeRng::new(seed), LegacyKind::UserPat)
}

pub fn app_pat(seed: u64) -> String {
    fake::legacy_pat(&mut FakeRng::new(seed), LegacyKind::ApplicationSecret)
}

pub fn id_key(seed: u64, signature: &str) -> String {
    fake::identifiable_key(&mut FakeRng::new(seed), signature)
}

/// The value a fixture marker stands for: `@@KIND:N@@` or `@@KEY:SIG:N@@`.
pub fn marker_value(kind: &str, arg: &str) -> String {
    let n = |s: &str| s.parse::<u64>().expect("marker number");
    match kind {
        "PAT" => pat(n(arg)),
        "APPPAT" => app_pat(n(arg)),
        "IDPAT" => id_key(n(arg), "AZDO"),
        "B64PAT" => B64.encode(pat(n(arg))),
        "BASICPAT" => B64.encode(format!(":{}", pat(n(arg)))),
        "BASICUSERPAT" => B64.encode(format!("build:{}", pat(n(arg)))),
        "BROKEN" => fake::broken(&pat(n(arg))),
        "BROKENID" => fake::broken(&id_key(n(arg), "AZDO")),
        "KEY" => {
            let (sig, num) = arg.split_once(':').expect("KEY:SIG:N");
            id_key(n(num), sig)
        }
        other => panic!("unknown marker kind {other}"),
    }
}

/// Replace every `@@…@@` marker in `text`.
pub fn render_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("@@") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let j = after.find("@@").expect("closed marker");
        let body = &after[..j];
        let (kind, arg) = body.split_once(':').expect("KIND:ARG");
        out.push_str(&marker_value(kind, arg));
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Copy a template tree (fixtures/…) into `dest`, rendering markers in every file.
pub fn render_tree(template: &Path, dest: &Path) {
    for entry in walk(template) {
        let rel = entry.strip_prefix(template).unwrap();
        let target = dest.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&entry).unwrap();
        std::fs::write(&target, render_text(&text)).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Run the real binary.
pub fn patrol(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_patrol"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run patrol")
}

/// Run with `--format json` and parse the document.
pub fn patrol_json(args: &[&str], cwd: &Path) -> (serde_json::Value, Output) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = patrol(&all, cwd);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): stdout={} stderr={}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out)
}

/// (path, line, rule_id) of every finding, sorted.
pub fn triples(doc: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Map of marker text to value for assertions about where tokens are.
pub fn values(markers: &[(&str, &str)]) -> BTreeMap<String, String> {
    markers
        .iter()
        .map(|(k, a)| (format!("{k}:{a}"), marker_value(k, a)))
        .collect()
}
