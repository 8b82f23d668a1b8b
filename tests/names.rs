//! File names and symbolic-link targets are text a token can be pasted into: `patrol scan`
//! reads both, reports where (`origin`), never follows a link, and never prints the token in
//! a path without `--show-secrets`.
#![cfg(unix)]

mod support;
use std::os::unix::fs::symlink;
use support::findings::rows;
use support::run::*;
use support::tokens::*;

#[test]
fn tokens_in_file_names_and_link_targets() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(format!("backups/{}", pat(81)))).unwrap();
    std::fs::write(
        root.join(format!("backups/{}/notes.txt", pat(81))),
        "nothing here\n",
    )
    .unwrap();
    std::fs::write(
        root.join(format!("token-{}.txt", id_key(82, "AZDO"))),
        "x\n",
    )
    .unwrap();
    // A link whose target holds a token, pointing outside the tree at a file that holds
    // another: the target text is read, the file it points at never is.
    let far = outside.path().join(format!("cred-{}", pat(83)));
    std::fs::write(&far, format!("pat={}\n", pat(84))).unwrap();
    symlink(&far, root.join("current")).unwrap();
    // A dangling link with a token in its target.
    symlink(format!("../gone/{}", pat(85)), root.join("dangling")).unwrap();
    // A link to a directory outside, with an ordinary name: nothing to report.
    symlink(outside.path(), root.join("elsewhere")).unwrap();

    let (doc, out) = patrol_json(&["scan", ".", "--show-secrets"], root);
    assert_eq!(out.status.code(), Some(1), "{doc}");
    let got: Vec<(String, u64, u64, String, String, String)> = rows(
        &doc["findings"],
        &["path", "line", "column", "rule_id", "origin", "secret"],
    );
    let legacy = "azure-devops-pat".to_string();
    let far_column = far.to_str().unwrap().find(&pat(83)).unwrap() as u64 + 1;
    assert_eq!(
        got,
        vec![
            (
                format!("backups/{}", pat(81)),
                1,
                1,
                legacy.clone(),
                "file_name".into(),
                pat(81)
            ),
            (
                "current".into(),
                1,
                far_column,
                legacy.clone(),
                "link_target".into(),
                pat(83)
            ),
            (
                "dangling".into(),
                1,
                9,
                legacy,
                "link_target".into(),
                pat(85)
            ),
            (
                format!("token-{}.txt", id_key(82, "AZDO")),
                1,
                7,
                "azure-devops-pat-identifiable".into(),
                "file_name".into(),
                id_key(82, "AZDO")
            ),
        ]
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&pat(84)),
        "the link was followed out of the tree"
    );

    // Without --show-secrets no report names a token, in its path or anywhere else; the
    // human report says where the token is.
    for format in ["json", "sarif", "human"] {
        let out = patrol(&["scan", ".", "--format", format], root);
        let text = String::from_utf8_lossy(&out.stdout);
        for secret in [pat(81), pat(83), pat(85), id_key(82, "AZDO")] {
            assert!(!text.contains(&secret), "{format}: {text}");
        }
        if format == "human" {
            assert!(text.contains("in the file's name"), "{text}");
            assert!(text.contains("in the target of a symbolic link"), "{text}");
        }
    }
}

/// `patrol staged` reads the names a change adds, as `scan` reads names: a new file's name and
/// each new directory's, once; a directory `HEAD` already holds is not news, and neither is
/// the unchanged name of a file whose content changes.
#[test]
fn staged_reports_tokens_in_the_names_it_adds() {
    let repo = support::git::Repo::new();
    repo.write(&format!("old/{}/notes.txt", pat(86)), "nothing\n");
    repo.write(&format!("kept-{}.txt", pat(89)), "one\n");
    repo.commit_all("a directory named with a token, already committed");
    repo.write(&format!("old/{}/more.txt", pat(86)), "more\n");
    repo.write(&format!("kept-{}.txt", pat(89)), "one\ntwo\n");
    repo.write(&format!("fresh/{}.txt", id_key(87, "AZDO")), "clean\n");
    repo.write(&format!("keys-{}/a.txt", pat(88)), "a\n");
    repo.write(&format!("keys-{}/b.txt", pat(88)), "b\n");
    repo.git(&["add", "-A"]);

    let (doc, out) = patrol_json(&["staged", "--show-secrets"], repo.path());
    assert_eq!(out.status.code(), Some(1), "{doc}");
    let got: Vec<(String, String, String)> = rows(&doc["findings"], &["path", "origin", "secret"]);
    assert_eq!(
        got,
        vec![
            (
                format!("fresh/{}.txt", id_key(87, "AZDO")),
                "file_name".into(),
                id_key(87, "AZDO")
            ),
            (format!("keys-{}", pat(88)), "file_name".into(), pat(88)),
        ]
    );
}
