//! `patrol git` on awkward repositories: shallow clones, submodules, huge and missing blobs,
//! thousands of refs; what it prints (silent stderr off a terminal, short commit ids); and how
//! its findings meet the rest of the tool (configured excludes, baselines, SARIF).

mod support;

use git2::Oid;
use support::findings::brief;
use support::git::{Repo, patrol_git, store_as_pack};
use support::run::{patrol, patrol_cmd, report};
use support::tokens::pat;

const PAT: &str = "azure-devops-pat";

#[test]
fn shallow_clone_says_so_and_scans_what_is_there() {
    let origin = Repo::new();
    origin.write("keys.txt", &format!("{}\n", pat(20)));
    origin.commit_all("key");
    origin.write("README.md", "one\n");
    origin.commit_all("one");
    origin.write("README.md", "two\n");
    origin.commit_all("two");

    let holder = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    origin.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        &url,
        holder.path().join("shallow").to_str().unwrap(),
    ]);
    let clone = holder.path().join("shallow");
    let head = origin.rev("HEAD");
    let run = report(&["git"], &clone);
    assert!(
        run.stderr.contains("shallow clone: history before commit"),
        "{}",
        run.stderr
    );
    // Only the boundary commit is there, so it is where the key entered as far as we can see.
    assert_eq!(run.findings(), vec![brief(PAT, "keys.txt", 1, &head)]);
    assert_eq!(run.summary("commits"), 1);
}

#[test]
fn submodule_entries_are_skipped_and_reported_once() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    let first = repo.commit_all("start");
    let gitlink = format!("160000,{first},vendor/lib");
    repo.git(&["update-index", "--add", "--cacheinfo", &gitlink]);
    repo.git(&["commit", "-q", "-m", "add submodule"]);

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("skipped 1 submodule entry"),
        "{}",
        run.stderr
    );
}

#[test]
fn blobs_over_max_file_size_are_skipped_and_counted() {
    let repo = Repo::new();
    let mut big = format!("pat={}\n", pat(21));
    big.push_str(&"x".repeat(4096));
    repo.write("big.txt", &big);
    repo.commit_all("big");

    let run = patrol_git(&repo, &["--max-file-size", "1K"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.summary("skipped_large"), 1);
    let blob = repo.rev("HEAD:big.txt");
    assert!(run.stderr.contains(&blob), "{}", run.stderr);
    assert!(run.stderr.contains("--max-file-size"), "{}", run.stderr);
}

#[test]
fn a_missing_blob_is_a_warning_with_its_id_and_the_scan_goes_on() {
    let repo = Repo::new();
    repo.write("clean.txt", "nothing here\n");
    repo.write("secret.env", &format!("PAT={}\n", pat(22)));
    let commit = repo.commit_all("two files");
    let blob = repo.rev("HEAD:clean.txt");
    let object = repo
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&object).expect("loose object exists");

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.findings(), vec![brief(PAT, "secret.env", 1, &commit)]);
    assert_eq!(run.summary("unreadable"), 1);
    assert!(
        run.stderr
            .contains(&format!("cannot read blob {blob} (clean.txt)")),
        "{}",
        run.stderr
    );
}

#[test]
fn ten_thousand_refs_are_fine() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    let first = repo.commit_all("a");
    repo.write("b.env", &format!("PAT={}\n", pat(23)));
    let second = repo.commit_all("b");
    let mut refs = String::new();
    for i in 0..10_000 {
        let target = if i % 2 == 0 { &first } else { &second };
        refs.push_str(&format!("create refs/tags/t{i} {target}\n"));
    }
    let mut child = repo
        .command(&["update-ref", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(refs.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    repo.git(&["pack-refs", "--all"]);

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.findings(), vec![brief(PAT, "b.env", 1, &second)]);
    assert_eq!(run.summary("commits"), 2);
}

#[test]
fn off_a_terminal_stderr_is_silent_and_human_output_shows_the_short_commit() {
    let repo = Repo::new();
    repo.write("x.env", &format!("PAT={}\n", pat(24)));
    let commit = repo.commit_all("x");
    let out = patrol(&["git", "--color", "never"], repo.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("x.env:1:5"), "{stdout}");
    assert!(
        stdout.contains(&format!("commit {}", &commit[..10])),
        "{stdout}"
    );
    assert!(stdout.contains("1 commit, 1 unique blob,"), "{stdout}");
    // The secret itself is never printed without --show-secrets.
    assert!(!stdout.contains(&pat(24)), "{stdout}");
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let repo = Repo::new();
    for i in 0..12u64 {
        repo.git(&["checkout", "-q", "-B", &format!("b{}", i % 3)]);
        repo.write(
            &format!("dir{}/f{i}.env", i % 4),
            &format!("PAT={}\n", pat(100 + i)),
        );
        repo.write("shared.txt", &format!("{i}\n"));
        repo.commit_all(&format!("c{i}"));
    }
    let one = patrol_git(&repo, &["--threads", "1"]);
    let four = patrol_git(&repo, &["--threads", "4"]);
    assert_eq!(one.findings().len(), 12);
    assert_eq!(one.findings(), four.findings());
    assert_eq!(one.summary("blobs"), four.summary("blobs"));
}

#[test]
fn configured_excludes_apply_to_history_paths() {
    let repo = Repo::new();
    repo.write(".patrol.toml", "exclude = [\"fixtures/**\"]\n");
    repo.write("fixtures/sample.env", &format!("PAT={}\n", pat(25)));
    repo.write("app.env", &format!("PAT={}\n", pat(26)));
    let commit = repo.commit_all("fixtures and app");
    let run = patrol_git(&repo, &[]);
    assert_eq!(run.findings(), vec![brief(PAT, "app.env", 1, &commit)]);
}

/// Excludes apply before reading: an excluded blob is never read, and a path that is
/// excluded counts as absent, so a secret moved out of an excluded directory is reported where
/// it lands (it used to be attributed to its excluded first path and then dropped: a miss).
#[test]
fn excluded_paths_are_not_read_and_moving_out_of_one_is_news() {
    let repo = Repo::new();
    repo.write(
        ".patrol.toml",
        "exclude = [\"fixtures/\", \"/docs/*.env\"]\n",
    );
    let moved = format!("PAT={}\n", pat(29));
    repo.write("fixtures/sample.env", &moved);
    // One more excluded file, large: its bytes must not be read.
    repo.write("fixtures/big.txt", &"x".repeat(300_000));
    // The same directory (one tree) at two paths: excluded under /docs only.
    let docs = format!("PAT={}\n", pat(30));
    repo.write("docs/a.env", &docs);
    repo.write("old/docs/a.env", &docs);
    let first = repo.commit_all("fixtures and docs");
    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.findings(),
        vec![brief(PAT, "old/docs/a.env", 1, &first)]
    );
    assert!(
        run.summary("bytes_scanned") < 300_000,
        "{}",
        run.summary("bytes_scanned")
    );

    repo.git(&["mv", "fixtures/sample.env", "sample.env"]);
    let moved_out = repo.commit_all("move the sample into the code");
    let run = patrol_git(&repo, &[]);
    assert_eq!(
        run.findings(),
        vec![
            brief(PAT, "old/docs/a.env", 1, &first),
            brief(PAT, "sample.env", 1, &moved_out),
        ]
    );

    // The staged index judges a move the same way.
    repo.git(&["mv", "sample.env", "fixtures/back.env"]);
    repo.commit_all("back into fixtures");
    repo.git(&["mv", "fixtures/back.env", "app.env"]);
    let staged = report(&["staged"], repo.path());
    assert_eq!(staged.code, 1, "{}", staged.stderr);
    assert_eq!(staged.json["findings"][0]["path"], "app.env");
    // And an excluded path is not read there either.
    repo.git(&["reset", "-q", "--hard"]);
    repo.write("fixtures/new.env", &format!("PAT={}\n", pat(31)));
    repo.git(&["add", "fixtures/new.env"]);
    let staged = report(&["staged"], repo.path());
    assert_eq!(staged.code, 0, "{}", staged.stderr);
    assert_eq!(staged.summary("files_scanned"), 0);
}

#[test]
fn history_findings_go_through_baselines_and_sarif_like_file_findings() {
    let repo = Repo::new();
    repo.write("old.env", &format!("PAT={}\n", pat(27)));
    repo.commit_all("old");
    // Outside the work tree, so that `commit_all` does not commit them.
    let outside = tempfile::tempdir().unwrap();
    let report = outside.path().join("report.json");
    let first = patrol_git(&repo, &["--output", report.to_str().unwrap()]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let baseline = outside.path().join("baseline.json");
    let created = patrol_cmd(&["baseline", "create", "--from"], repo.path())
        .arg(&report)
        .arg("--output")
        .arg(&baseline)
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");

    repo.write("new.env", &format!("PAT={}\n", pat(28)));
    let new = repo.commit_all("new");
    let run = patrol_git(&repo, &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(run.findings(), vec![brief(PAT, "new.env", 1, &new)]);

    let sarif = patrol(&["git", "--format", "sarif"], repo.path());
    let doc: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let vcs = &doc["runs"][0]["versionControlProvenance"][0];
    assert_eq!(vcs["revisionId"], new.as_str());
    assert_eq!(vcs["branch"], "main");
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn a_corrupt_pack_is_warned_about_and_the_scan_goes_on() {
    let repo = Repo::new();
    // Incompressible content makes a pack large enough to damage in its middle only.
    let mut rng = patrol::fake::FakeRng::new(77);
    for i in 0..40 {
        let noise: String = (0..2000)
            .map(|_| char::from(b'a' + (rng.next_u64() % 26) as u8))
            .collect();
        repo.write(&format!("noise/{i}.txt"), &format!("{noise}\n"));
    }
    repo.write("b.env", &format!("PAT={}\n", pat(24)));
    repo.commit_all("everything");
    repo.git(&["repack", "-a", "-d", "-q"]);
    let pack_dir = repo.path().join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .expect("a pack file");
    let mut bytes = std::fs::read(&pack).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 200] {
        *b ^= 0x5a;
    }
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, &bytes).unwrap();

    let run = patrol_git(&repo, &[]);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
    assert!(run.summary("unreadable") >= 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    // The damage is in one region: most blobs were still read and scanned.
    assert!(run.summary("blobs") >= 30, "{}", run.json["summary"]);
}

/// Commit a chain of `depth` directories named `a` with `f` (holding `content`) at the
/// bottom, on `main`.
fn commit_deep_tree(repo: &Repo, depth: usize, content: &str, parent: Option<Oid>) -> Oid {
    use git2::ObjectType::{Blob, Commit, Tree};
    let entry = |mode: &str, name: &str, id: Oid| {
        let mut e = format!("{mode} {name}\0").into_bytes();
        e.extend_from_slice(id.as_bytes());
        e
    };
    let mut objects = vec![(Blob, content.as_bytes().to_vec())];
    let mut id = Oid::hash_object(Blob, content.as_bytes()).unwrap();
    let mut name = ("100644", "f");
    for _ in 0..=depth {
        let tree = entry(name.0, name.1, id);
        id = Oid::hash_object(Tree, &tree).unwrap();
        objects.push((Tree, tree));
        name = ("40000", "a");
    }
    let mut commit = format!("tree {id}\n");
    if let Some(p) = parent {
        commit.push_str(&format!("parent {p}\n"));
    }
    commit.push_str("author Ada Tester <ada@example.test> 1700000000 +0000\n");
    commit.push_str("committer Ada Tester <ada@example.test> 1700000000 +0000\n\ndeep\n");
    objects.push((Commit, commit.into_bytes()));
    let ids = store_as_pack(repo, &objects);
    let commit = *ids.last().unwrap();
    repo.git(&["update-ref", "refs/heads/main", &commit.to_string()]);
    commit
}

/// A hostile tree 100,000 directories deep, in two commits (the second changes the file at the
/// bottom, so attribution compares the two chains level by level): every tree walk is
/// iterative, so the scan reports both tokens at their full paths instead of overflowing.
#[test]
fn a_tree_nested_100000_levels_deep_is_scanned_without_overflow() {
    const DEPTH: usize = 100_000;
    let repo = Repo::new();
    let started = std::time::Instant::now();
    let first = commit_deep_tree(&repo, DEPTH, &format!("PAT={}\n", pat(31)), None);
    let second = commit_deep_tree(
        &repo,
        DEPTH,
        &format!("PAT={}\nNEW={}\n", pat(31), pat(32)),
        Some(first),
    );
    eprintln!("built two {DEPTH}-level trees in {:?}", started.elapsed());
    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let path = format!("{}f", "a/".repeat(DEPTH));
    assert_eq!(
        run.findings(),
        vec![
            brief(PAT, &path, 1, &first.to_string()),
            brief(PAT, &path, 2, &second.to_string()),
        ]
    );
    assert_eq!(run.summary("unreadable"), 0, "{}", run.stderr);
}

/// A "git bomb": 40 levels of trees each naming the level below twice (`a` and `b`), a token
/// at the bottom: 80 tree objects, 2^40 paths. Discovery reads each tree once; attribution,
/// which reports paths, stops at its bound and says so, and the token is still reported at
/// the places found, within the deadline (before: attribution walked every path and never
/// finished).
#[test]
fn a_tree_naming_one_subtree_from_countless_places_is_bounded() {
    use git2::ObjectType::{Blob, Commit, Tree};
    const LEVELS: usize = 40;
    let repo = Repo::new();
    let content = format!("PAT={}\n", pat(33));
    let mut objects = vec![(Blob, content.as_bytes().to_vec())];
    let mut id = Oid::hash_object(Blob, content.as_bytes()).unwrap();
    let mut mode = "100644";
    for _ in 0..LEVELS {
        let mut tree = Vec::new();
        for name in ["a", "b"] {
            tree.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            tree.extend_from_slice(id.as_bytes());
        }
        id = Oid::hash_object(Tree, &tree).unwrap();
        objects.push((Tree, tree));
        mode = "40000";
    }
    let commit = format!(
        "tree {id}\nauthor Ada Tester <ada@example.test> 1700000000 +0000\n\
         committer Ada Tester <ada@example.test> 1700000000 +0000\n\nbomb\n"
    );
    objects.push((Commit, commit.into_bytes()));
    let ids = store_as_pack(&repo, &objects);
    repo.git(&[
        "update-ref",
        "refs/heads/main",
        &ids.last().unwrap().to_string(),
    ]);

    let run = patrol_git(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("attribution stopped"), "{}", run.stderr);
    let findings = run.findings();
    assert!(!findings.is_empty());
    assert!(findings.len() <= 1_000, "{} findings", findings.len());
    assert!(
        findings
            .iter()
            .all(|f| f.0 == PAT && f.1.split('/').count() == LEVELS),
        "{:?}",
        &findings[..1]
    );
}

/// A crafted tree entry whose name climbs out of the repository (`a/../../etc/passwd`, one
/// name with slashes, as no checkout would allow) never becomes a SARIF URI outside
/// `%SRCROOT%`.
#[test]
fn a_tree_entry_named_with_dot_dot_stays_under_srcroot_in_sarif() {
    use git2::ObjectType::{Blob, Commit, Tree};
    let repo = Repo::new();
    let content = format!("PAT={}\n", pat(33));
    let blob = Oid::hash_object(Blob, content.as_bytes()).unwrap();
    let mut tree = b"100644 a/../../etc/passwd\0".to_vec();
    tree.extend_from_slice(blob.as_bytes());
    let tree_id = Oid::hash_object(Tree, &tree).unwrap();
    let commit = format!(
        "tree {tree_id}\nauthor A <a@example.test> 1700000000 +0000\n\
         committer A <a@example.test> 1700000000 +0000\n\ncrafted\n"
    );
    let ids = store_as_pack(
        &repo,
        &[
            (Blob, content.into_bytes()),
            (Tree, tree),
            (Commit, commit.into_bytes()),
        ],
    );
    repo.git(&["update-ref", "refs/heads/main", &ids[2].to_string()]);
    let out = patrol(&["git", "--format", "sarif"], repo.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    let loc = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], "a/etc/passwd", "{loc}");
    assert_eq!(loc["uriBaseId"], "%SRCROOT%");
}

/// A repository under investigation cannot configure its own scan: the `.patrol.toml`
/// committed at HEAD of a bare clone (allowing its token, disabling the rule) is named on
/// stderr but applied only with `--head-config`; `--config` and a file beside the bare
/// repository's objects still work.
#[test]
fn a_bare_repository_does_not_configure_its_own_scan_unless_asked() {
    let origin = Repo::new();
    let t = pat(31);
    origin.write("deploy.env", &format!("ADO_PAT={t}\n"));
    origin.write(
        ".patrol.toml",
        &format!("allow_values = [\"{t}\"]\ndisable_rules = [\"azure-devops-pat\"]\n"),
    );
    origin.commit_all("token, allowed by the repository itself");
    let bare = tempfile::tempdir().unwrap();
    let bare_path = bare.path().join("r.git");
    let bare_arg = bare_path.to_str().unwrap();
    origin.git(&["clone", "-q", "--bare", ".", bare_arg]);

    let run = report(&["git", bare_arg], bare.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The token in deploy.env and in the allow list itself.
    assert_eq!(run.findings().len(), 2);
    assert!(
        run.stderr.contains("HEAD:.patrol.toml is not applied"),
        "{}",
        run.stderr
    );

    let asked = report(&["git", bare_arg, "--head-config"], bare.path());
    assert_eq!(asked.code, 0, "{}", asked.stderr);
    assert!(asked.findings().is_empty());

    // The operator's own configuration beside the objects, or given explicitly, applies.
    std::fs::write(
        bare_path.join(".patrol.toml"),
        "exclude = [\"*.env\", \".patrol.toml\"]\n",
    )
    .unwrap();
    let beside = report(&["git", bare_arg], bare.path());
    assert_eq!(beside.code, 0, "{}", beside.stderr);
    std::fs::write(bare.path().join("mine.toml"), "min_confidence = \"low\"\n").unwrap();
    let explicit = report(&["git", bare_arg, "--config", "mine.toml"], bare.path());
    assert_eq!(explicit.code, 1, "{}", explicit.stderr);
    assert!(
        !explicit.stderr.contains("not applied"),
        "{}",
        explicit.stderr
    );

    // A committed configuration naming rule files is refused, not half applied.
    origin.write(".patrol.toml", "rules = [\"more.toml\"]\n");
    origin.commit_all("rules");
    let bare2 = bare.path().join("r2.git");
    origin.git(&["clone", "-q", "--bare", ".", bare2.to_str().unwrap()]);
    let refused = report(
        &["git", bare2.to_str().unwrap(), "--head-config"],
        bare.path(),
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--rules"), "{}", refused.stderr);
}
