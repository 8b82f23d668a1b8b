//! Workflow features: baselines that survive moved lines and renames, stale entries,
//! completions and the man page.

mod common;
use common::*;

fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn baseline_suppresses_moved_secrets_and_reports_new_and_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "src/a.env",
        &format!("ADO_PAT={}\nOTHER={}\n", pat(70), pat(71)),
    );
    let out = patrol(&["baseline", "create", "src"], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(d.join(".patrol-baseline.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["entries"].as_array().unwrap().len(), 2);
    assert!(
        !text.contains(&pat(70)) && !text.contains(&pat(71)),
        "no secret in the baseline"
    );
    // Sorted, stable: creating it again gives the same bytes.
    patrol(&["baseline", "create", "src"], d);
    assert_eq!(
        std::fs::read_to_string(d.join(".patrol-baseline.json")).unwrap(),
        text
    );

    // Lines move and the file is renamed: still suppressed.
    std::fs::remove_file(d.join("src/a.env")).unwrap();
    write(
        d,
        "src/moved/b.env",
        &format!("# moved\n\nOTHER={}\nADO_PAT={}\n", pat(71), pat(70)),
    );
    let (doc, out) = patrol_json(&["scan", "src", "--baseline", ".patrol-baseline.json"], d);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["summary"]["suppressed"], 2);

    // A new secret is reported; a removed one leaves a stale entry.
    write(
        d,
        "src/moved/b.env",
        &format!("OTHER={}\nNEW={}\n", pat(71), pat(72)),
    );
    let (doc, out) = patrol_json(&["scan", "src", "--baseline", ".patrol-baseline.json"], d);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        triples(&doc),
        vec![("src/moved/b.env".into(), 2, "azure-devops-pat".into())]
    );
    let check = patrol(&["baseline", "check", "src"], d);
    assert_eq!(check.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("2 entries, 1 stale; 1 finding not in the baseline"),
        "{stdout}"
    );
    let stale_fp = {
        use sha2::{Digest, Sha256};
        let h = Sha256::digest(format!("azure-devops-pat:{}", pat(70)).as_bytes());
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert!(
        stdout.contains(&format!("stale: azure-devops-pat {stale_fp}")),
        "{stdout}"
    );
}

#[test]
fn baseline_with_paths_and_from_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "t/a.txt", &format!("{}\n", pat(73)));
    let out = patrol(&["scan", "t", "--format", "json", "-o", "report.json"], d);
    assert_eq!(out.status.code(), Some(1));
    let out = patrol(
        &[
            "baseline",
            "create",
            "--from",
            "report.json",
            "--with-paths",
            "-o",
            "b.json",
        ],
        d,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, out) = patrol_json(&["scan", "t", "--baseline", "b.json"], d);
    assert_eq!(out.status.code(), Some(0));
    // The report says `t/a.txt`; the entry is keyed relative to the scanned root, so the
    // baseline holds wherever the scan is run from and however the root is spelt.
    let text = std::fs::read_to_string(d.join("b.json")).unwrap();
    assert!(text.contains("\"path\": \"a.txt\""), "{text}");
    let (_, out) = patrol_json(&["scan", ".", "--baseline", "../b.json"], &d.join("t"));
    assert_eq!(out.status.code(), Some(0));
    let abs = d.join("t");
    let (_, out) = patrol_json(&["scan", abs.to_str().unwrap(), "--baseline", "b.json"], d);
    assert_eq!(out.status.code(), Some(0));
    // Keyed by path: the same secret elsewhere is reported.
    write(d, "t/copy.txt", &format!("{}\n", pat(73)));
    let (doc, out) = patrol_json(&["scan", "t", "--baseline", "b.json"], d);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        triples(&doc),
        vec![("t/copy.txt".into(), 1, "azure-devops-pat".into())]
    );
    // A damaged baseline is an error, not a silent pass.
    write(
        d,
        "bad.json",
        "{\"version\": 1, \"entries\": [{\"rule_id\": 1}]}",
    );
    let out = patrol(&["scan", "t", "--baseline", "bad.json"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.json"));
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    let bash = patrol(&["completions", "bash"], dir.path());
    assert_eq!(bash.status.code(), Some(0));
    let text = String::from_utf8_lossy(&bash.stdout);
    assert!(
        text.contains("patrol") && text.contains("--max-file-size"),
        "bash completions"
    );
    let zsh = patrol(&["completions", "zsh"], dir.path());
    assert!(String::from_utf8_lossy(&zsh.stdout).contains("#compdef patrol"));
    let man = patrol(&["man"], dir.path());
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(
        text.contains(".TH patrol") || text.contains(".TH PATROL"),
        "roff header"
    );
    assert!(text.contains("scan"));
}
