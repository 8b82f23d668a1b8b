//! Findings do not depend on how the work is split: the fixture tree and a generated corpus
//! (many files, a file flooded with tokens so that the matcher hands its matches on in many
//! batches, a history with branches) give the same report with one thread and with many.
//! Timing belongs to benches/, not here.

mod support;

use serde_json::Value;
use std::path::Path;
use support::fixture::{fixtures, render_tree};
use support::git::Repo;
use support::run::patrol_json;
use support::tokens::{id_key, pat};

/// The report without what differs from run to run by design: the elapsed time, and the
/// fingerprints of secrets without a checksum (keyed at random when there is no baseline).
fn stable(mut doc: Value) -> Value {
    doc["summary"]
        .as_object_mut()
        .expect("summary")
        .remove("elapsed_ms");
    for f in doc["findings"].as_array_mut().expect("findings") {
        f.as_object_mut().expect("finding").remove("fingerprint");
    }
    doc
}

/// `args` with one thread and with eight: the same report, which must hold findings.
fn same_with_any_thread_count(args: &[&str], cwd: &Path) -> Value {
    let run = |threads: &str| {
        let mut all = args.to_vec();
        all.extend(["--threads", threads, "--show-secrets"]);
        let (doc, out) = patrol_json(&all, cwd);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stable(doc)
    };
    let one = run("1");
    let many = run("8");
    assert_eq!(one, many);
    assert!(!one["findings"].as_array().expect("findings").is_empty());
    one
}

/// Files of source-like text with tokens at varied places, and one file repeating tokens on
/// thousands of lines.
fn generate(dir: &Path) {
    for i in 0..120u64 {
        let mut text = String::new();
        for line in 0..(20 + i % 50) {
            text.push_str(&format!(
                "    let value_{line} = config.get(\"key{line}\");\n"
            ));
            if line % 17 == i % 17 {
                text.push_str(&format!("PAT={}\n", pat(1000 + i * 100 + line)));
            }
            if line % 23 == i % 23 {
                text.push_str(&format!(
                    "key = \"{}\"\n",
                    id_key(2000 + i * 100 + line, "AZDO")
                ));
            }
        }
        let sub = dir.join(format!("d{}", i % 7));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(sub.join(format!("f{i}.rs")), text).expect("write");
    }
    let mut flood = String::new();
    for line in 0..12_000u64 {
        flood.push_str(&format!(
            "{line} INFO using AZURE_DEVOPS_EXT_PAT={} and {}\n",
            pat(line % 40),
            id_key(line % 30, "AZDO")
        ));
    }
    std::fs::write(dir.join("build.log"), flood).expect("write");
}

#[test]
fn the_fixture_tree_gives_the_same_findings_with_one_thread_and_many() {
    let dir = tempfile::tempdir().expect("temp dir");
    render_tree(&fixtures().join("tree"), dir.path());
    same_with_any_thread_count(&["scan", "."], dir.path());
}

#[test]
fn a_generated_corpus_gives_the_same_findings_with_one_thread_and_many() {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(dir.path());
    let doc = same_with_any_thread_count(&["scan", "."], dir.path());
    let log = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["path"] == "build.log")
        .count();
    assert_eq!(log, 70, "each distinct secret of the flooded log once");
}

#[test]
fn a_generated_history_gives_the_same_findings_with_one_thread_and_many() {
    let repo = Repo::new();
    generate(repo.path());
    repo.commit_all("corpus");
    for i in 0..24u64 {
        repo.git(&["checkout", "-q", "-B", &format!("b{}", i % 3)]);
        let n = i * 5 % 120;
        let path = repo.path().join(format!("d{}/f{n}.rs", n % 7));
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str(&format!("PAT={}\n", pat(9000 + i)));
        std::fs::write(&path, text).expect("write");
        repo.git(&["commit", "-q", "-am", &format!("change {i}")]);
    }
    same_with_any_thread_count(&["git", "."], repo.path());
}
