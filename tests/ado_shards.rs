//! `patrol ado` sharded N ways against the mock organization of tests/ado.rs, the shard taken
//! from each engine's environment in turn, then `patrol merge`: every repository is scanned by
//! exactly one shard, the merged report equals the unsharded one apart from timings, and a
//! shard that sent no report is visible in the merged summary.

mod adoutil;
mod gitutil;

use adoutil::Org;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Run shard `k` of `n`, its shard given the way `engine` gives it; returns the report path.
fn shard(org: &Org, engine: &str, k: u32, n: u32, format: &str) -> std::process::Child {
    let cache = org.dir.path().join(format!("cache-{engine}-{k}-{n}"));
    let out = report_path(org, engine, k, n, format);
    let mut c = org.command(
        &cache,
        &["--format", format, "-o", out.to_str().unwrap(), "--quiet"],
    );
    for v in [
        "JOB_COMPLETION_INDEX",
        "PATROL_SHARDS",
        "SYSTEM_JOBPOSITIONINPHASE",
        "SYSTEM_TOTALJOBSINPHASE",
    ] {
        c.env_remove(v);
    }
    match engine {
        "k8s" => c
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .env("PATROL_SHARDS", n.to_string()),
        "azp" => c
            .env("SYSTEM_JOBPOSITIONINPHASE", (k + 1).to_string())
            .env("SYSTEM_TOTALJOBSINPHASE", n.to_string()),
        _ => c.arg("--shard").arg(format!("{k}/{n}")),
    };
    c.stderr(std::process::Stdio::piped()).spawn().unwrap()
}

fn report_path(org: &Org, engine: &str, k: u32, n: u32, format: &str) -> PathBuf {
    org.dir.path().join(format!("{engine}-{k}-of-{n}.{format}"))
}

/// `patrol merge` of `inputs` to `format`: exit code, report text and its JSON.
fn merge(inputs: &[PathBuf], format: &str) -> (i32, String, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_patrol"))
        .arg("merge")
        .args(inputs)
        .args(["--format", format])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap(), text, doc)
}

/// A report's text with its timings (`"elapsed_ms": N`) zeroed.
fn without_timings(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once("\"elapsed_ms\": ") {
            Some((head, tail)) => {
                let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
                out.push_str(&format!("{head}\"elapsed_ms\": 0{rest}"));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Byte-for-byte equality of two reports apart from timings, showing the first difference.
fn assert_same_report(merged: &str, unsharded: &str, what: &str) {
    let (a, b) = (without_timings(merged), without_timings(unsharded));
    if a == b {
        return;
    }
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let i = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
    let from = i.saturating_sub(5);
    panic!(
        "{what}: merged report differs from the unsharded one at line {}\n--- merged\n{}\n--- unsharded\n{}",
        i + 1,
        la[from..(i + 5).min(la.len())].join("\n"),
        lb[from..(i + 5).min(lb.len())].join("\n"),
    );
}

fn scanned(path: &Path) -> Vec<String> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["summary"]["organization"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shards_cover_the_organization_once_and_merge_into_one_report() {
    let org = Org::build();
    let whole = org.dir.path().join("whole.json");
    let status = org
        .command(
            &org.dir.path().join("cache-whole"),
            &["--format", "json", "-o", whole.to_str().unwrap()],
        )
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let unsharded = std::fs::read_to_string(&whole).unwrap();
    let all: BTreeSet<String> = scanned(&whole).into_iter().collect();
    assert_eq!(all.len(), 5);

    for (n, engine) in [(1, "k8s"), (3, "azp"), (7, "k8s")] {
        let children: Vec<_> = (0..n).map(|k| shard(&org, engine, k, n, "json")).collect();
        for (k, c) in children.into_iter().enumerate() {
            let out = c.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(matches!(out.status.code(), Some(0..=2)), "{stderr}");
            let said = format!("shard {k} (0-based) of {n}: from ");
            assert!(stderr.contains(&said), "{stderr}");
            let how = if engine == "k8s" {
                "JOB_COMPLETION_INDEX"
            } else {
                "SYSTEM_JOBPOSITIONINPHASE"
            };
            assert!(stderr.contains(how), "{stderr}");
        }
        let reports: Vec<PathBuf> = (0..n)
            .map(|k| report_path(&org, engine, k, n, "json"))
            .collect();
        // Exactly once: the shards' repositories are disjoint and together are all of them.
        let mut seen = BTreeSet::new();
        for r in &reports {
            for name in scanned(r) {
                assert!(seen.insert(name.clone()), "{name} scanned twice (N={n})");
            }
        }
        assert_eq!(seen, all, "N={n}");
        let (code, merged, _) = merge(&reports, "json");
        assert_eq!(code, 1);
        assert_same_report(&merged, &unsharded, &format!("N={n}"));
    }

    // A shard that sent no report (here: it had the wrong token) is visible after the merge.
    let reports: Vec<PathBuf> = (0..3)
        .map(|k| report_path(&org, "azp", k, 3, "json"))
        .collect();
    std::fs::remove_file(&reports[1]).unwrap();
    let (code, _, merged) = merge(&[reports[0].clone(), reports[2].clone()], "json");
    assert_eq!(code, 1);
    let failed = &merged["summary"]["organization"]["failed"];
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["repository"] == "shard 1/3"),
        "{failed}"
    );
    assert_eq!(
        merged["summary"]["organization"]["shards"],
        serde_json::json!(["0/3", "2/3"])
    );
}

#[test]
fn sarif_shards_merge_into_runs_per_repository() {
    let org = Org::build();
    let whole = org.dir.path().join("whole.sarif");
    org.command(
        &org.dir.path().join("cache-whole"),
        &["--format", "sarif", "-o", whole.to_str().unwrap()],
    )
    .status()
    .unwrap();
    let children: Vec<_> = (0..3).map(|k| shard(&org, "flag", k, 3, "sarif")).collect();
    for c in children {
        c.wait_with_output().unwrap();
    }
    let reports: Vec<PathBuf> = (0..3)
        .map(|k| report_path(&org, "flag", k, 3, "sarif"))
        .collect();
    let (code, merged, _) = merge(&reports, "sarif");
    assert_eq!(code, 1);
    assert_same_report(&merged, &std::fs::read_to_string(&whole).unwrap(), "SARIF");
}
