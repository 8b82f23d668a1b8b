//! History beyond files, built with the git CLI: commit messages, annotated tag messages and
//! notes are scanned and reported with their commit; `--all-objects` finds what a deleted
//! branch left in the object database after its reflog expired.

mod support;
use support::findings::{brief, rows};
use support::git::{Repo, patrol_git};
use support::run::{Report, patrol};
use support::sarif::uris;
use support::tokens::pat;

const PAT: &str = "azure-devops-pat";

fn origins(run: &Report) -> Vec<(String, Option<String>, bool)> {
    let mut v: Vec<_> = rows(&run.json["findings"], &["path", "origin", "unreachable"]);
    v.sort();
    v
}

#[test]
fn messages_tags_and_notes_are_reported_with_their_commit() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let msg = format!("Add feed\n\nUsed token {} to test the feed.\n", pat(1));
    repo.commit_all(&msg);
    let c = repo.rev("HEAD");
    repo.git(&[
        "tag",
        "-a",
        "v1.0",
        "-m",
        &format!("release\n\nfeed pat {}", pat(2)),
    ]);
    repo.git(&[
        "notes",
        "add",
        "-m",
        &format!("deployed with {}", pat(3)),
        "HEAD",
    ]);
    // A lightweight tag has no message of its own.
    repo.git(&["tag", "light"]);

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.findings(),
        vec![
            brief(PAT, &format!(".git/message/{c}"), 3, &c),
            brief(PAT, &format!(".git/notes/{c}"), 1, &c),
            brief(PAT, ".git/tag/v1.0", 3, &c),
        ]
    );
    assert_eq!(
        origins(&run),
        vec![
            (
                format!(".git/message/{c}"),
                Some("commit_message".into()),
                false
            ),
            (format!(".git/notes/{c}"), Some("note".into()), false),
            (".git/tag/v1.0".into(), Some("tag_message".into()), false),
        ]
    );

    // A range scans the messages of its commits (tags and notes belong to full scans).
    let first = repo.rev("HEAD");
    repo.write("b.txt", "b\n");
    let msg2 = format!("second\n\n{}\n", pat(4));
    repo.commit_all(&msg2);
    let c2 = repo.rev("HEAD");
    let range = format!("{first}..HEAD");
    let run = patrol_git(&repo, &["--range", &range]);
    assert_eq!(
        run.findings(),
        vec![brief(PAT, &format!(".git/message/{c2}"), 3, &c2)]
    );

    // SARIF: a repository-relative location that GitHub and the Scans tab accept.
    let out = patrol(&["git", "--format", "sarif"], repo.path());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uris = uris(&doc);
    assert!(uris.contains(&format!(".git/message/{c}")), "{uris:?}");
    assert!(uris.contains(&".git/tag/v1.0".to_string()), "{uris:?}");
}

#[test]
fn all_objects_finds_a_deleted_branch_after_its_reflog_expired() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("init");
    repo.git(&["checkout", "-q", "-b", "experiment"]);
    repo.write(
        "deploy/secret.env",
        &format!("AZURE_DEVOPS_PAT={}\n", pat(5)),
    );
    let lost = repo.commit_all("try deploy");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "experiment"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    // A blob written to the object database that no commit ever held.
    repo.write("loose.txt", &format!("ADO_PAT={}\n", pat(6)));
    let loose = repo.git(&["hash-object", "-w", "loose.txt"]);
    std::fs::remove_file(repo.path().join("loose.txt")).unwrap();

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 0, "reachable history is clean: {}", run.json);

    let run = patrol_git(&repo, &["--all-objects"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let loose_path = format!(".git/objects/{}/{}", &loose[..2], &loose[2..]);
    let mut want = vec![
        brief(PAT, "deploy/secret.env", 1, &lost),
        (PAT.to_string(), loose_path.clone(), 1, None),
    ];
    want.sort();
    assert_eq!(run.findings(), want);
    assert_eq!(
        origins(&run),
        vec![
            (loose_path, None, true),
            ("deploy/secret.env".to_string(), None, true),
        ]
    );
}
