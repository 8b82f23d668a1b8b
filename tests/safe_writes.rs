//! Every file patrol writes (reports, baselines, the pre-commit hook) is written without
//! following a link planted in the scanned tree, and FIFOs, devices and `/dev/stdout` named
//! on purpose are written in place instead of being replaced.

mod support;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::Output;
use support::git::Repo;
use support::run::patrol;
use support::tokens::pat;

fn ok(out: &Output) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Names in `dir` other than `keep`: temporary files left behind.
fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn links_planted_beside_the_report_and_baseline_are_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.env"), format!("ADO_PAT={}\n", pat(1101))).unwrap();
    let victim = tempfile::tempdir().unwrap();
    let v = victim.path();
    for name in ["report", "baseline", "target"] {
        std::fs::write(v.join(name), "precious\n").unwrap();
    }
    // The names the writers used to use for their temporary files, and the target itself.
    symlink(v.join("report"), d.join(".out.json.patrol-tmp")).unwrap();
    symlink(
        v.join("baseline"),
        d.join(".patrol-baseline.json.patrol-tmp"),
    )
    .unwrap();
    symlink(v.join("target"), d.join("linked.json")).unwrap();

    ok(&patrol(
        &["scan", "a.env", "--format", "json", "-o", "out.json"],
        d,
    ));
    ok(&patrol(
        &["scan", "a.env", "--format", "json", "-o", "linked.json"],
        d,
    ));
    let out = patrol(&["baseline", "create", "a.env"], d);
    assert_eq!(out.status.code(), Some(0));

    for name in ["report", "baseline", "target"] {
        assert_eq!(
            std::fs::read_to_string(v.join(name)).unwrap(),
            "precious\n",
            "{name} was written through a planted link"
        );
    }
    // The link at the target was replaced by the report, not followed.
    let linked = std::fs::symlink_metadata(d.join("linked.json")).unwrap();
    assert!(linked.is_file());
    for name in ["out.json", "linked.json", ".patrol-baseline.json"] {
        let m = std::fs::metadata(d.join(name)).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600, "{name}");
    }
    let text = std::fs::read_to_string(d.join("out.json")).unwrap();
    assert!(text.contains("\"findings\""), "{text}");
    let left = leftovers(
        d,
        &[
            "a.env",
            "out.json",
            "linked.json",
            ".patrol-baseline.json",
            ".out.json.patrol-tmp",
            ".patrol-baseline.json.patrol-tmp",
        ],
    );
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[test]
fn a_fifo_is_written_in_place_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.env"), format!("ADO_PAT={}\n", pat(1102))).unwrap();
    mkfifo(&d.join("pipe"));
    symlink("pipe", d.join("to-pipe")).unwrap();
    for target in ["pipe", "to-pipe"] {
        // Open the read end first, without blocking, so the writer never waits for a reader
        // and the test cannot hang if patrol replaces the FIFO instead of writing into it.
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(d.join("pipe"))
            .unwrap();
        ok(&patrol(
            &["scan", "a.env", "--format", "json", "-o", target],
            d,
        ));
        let mut got = Vec::new();
        let _ = reader.read_to_end(&mut got);
        let got = String::from_utf8_lossy(&got);
        assert!(got.contains("\"findings\""), "-o {target} wrote {got:?}");
        let pipe = std::fs::symlink_metadata(d.join("pipe")).unwrap();
        assert!(pipe.file_type().is_fifo(), "-o {target} replaced the FIFO");
    }
    assert!(
        std::fs::symlink_metadata(d.join("to-pipe"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn character_devices_and_dev_stdout_are_written_in_place() {
    // Through links in a temporary directory, so that a regression replaces the links and
    // never the system's /dev/null or /dev/stdout.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.env"), format!("ADO_PAT={}\n", pat(1103))).unwrap();
    symlink("/dev/null", d.join("null")).unwrap();
    symlink("/dev/stdout", d.join("stdout")).unwrap();

    ok(&patrol(
        &["scan", "a.env", "--format", "json", "-o", "null"],
        d,
    ));
    let null = std::fs::symlink_metadata(d.join("null")).unwrap();
    assert!(
        null.file_type().is_symlink(),
        "the link to /dev/null was replaced"
    );

    let out = patrol(&["scan", "a.env", "--format", "json", "-o", "stdout"], d);
    ok(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "-o <link to /dev/stdout> printed no report ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(doc["summary"]["findings"], 1);
    assert!(
        std::fs::symlink_metadata(d.join("stdout"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let left = leftovers(d, &["a.env", "null", "stdout"]);
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

/// A repository with one commit and a linked worktree `wt` beside it.
fn repo_with_linked_worktree() -> (Repo, tempfile::TempDir, std::path::PathBuf) {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("first");
    let outer = tempfile::tempdir().unwrap();
    let wt = outer.path().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    (repo, outer, wt)
}

fn git_path_hooks(repo: &Repo, wt: &Path) -> std::path::PathBuf {
    let out = repo
        .command(&["rev-parse", "--git-path", "hooks"])
        .current_dir(wt)
        .output()
        .unwrap();
    let p = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if p.is_relative() { wt.join(p) } else { p }
}

#[test]
fn install_hook_in_a_linked_worktree_uses_the_hooks_git_runs() {
    let (repo, _outer, wt) = repo_with_linked_worktree();
    let out = patrol(&["install-hook"], &wt);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hooks = git_path_hooks(&repo, &wt);
    assert!(
        hooks.join("pre-commit").is_file(),
        "no hook in {} (where git looks)",
        hooks.display()
    );
    // And git really runs it: a commit of a token in the linked worktree is blocked.
    std::fs::write(wt.join("config.env"), format!("ADO_PAT={}\n", pat(1104))).unwrap();
    let mut add = repo.command(&["add", "config.env"]);
    assert!(add.current_dir(&wt).status().unwrap().success());
    let blocked = repo
        .command(&["commit", "-q", "-m", "add config"])
        .current_dir(&wt)
        .output()
        .unwrap();
    assert!(!blocked.status.success(), "the hook must block the commit");

    // A relative core.hooksPath is resolved where git runs hooks: the worktree's top level.
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    let out = patrol(&["install-hook"], &wt);
    assert_eq!(out.status.code(), Some(0));
    let hooks = git_path_hooks(&repo, &wt);
    assert!(hooks.ends_with(".githooks"), "{}", hooks.display());
    assert!(hooks.join("pre-commit").is_file(), "{}", hooks.display());
}

#[test]
fn install_hook_never_writes_through_a_dangling_hook_link() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted");
    let hooks = repo.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    symlink(&target, hooks.join("pre-commit")).unwrap();

    let out = patrol(&["install-hook"], repo.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(!target.exists(), "written through the dangling link");

    let out = patrol(&["install-hook", "--force"], repo.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(!target.exists(), "written through the dangling link");
    let hook = std::fs::symlink_metadata(hooks.join("pre-commit")).unwrap();
    assert!(hook.is_file(), "--force replaces the link with the script");
    assert_eq!(hook.permissions().mode() & 0o777, 0o755);
}

#[test]
fn manual_pages_never_write_through_a_planted_link() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("target"), "precious\n").unwrap();
    std::fs::create_dir(d.join("man")).unwrap();
    symlink(victim.path().join("target"), d.join("man/patrol.1")).unwrap();

    let out = patrol(&["man", "--output", "man"], d);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(victim.path().join("target")).unwrap(),
        "precious\n"
    );
    let page = std::fs::symlink_metadata(d.join("man/patrol.1")).unwrap();
    assert!(page.is_file(), "the link was written through, not replaced");
    // Manual pages are for every user of the machine.
    assert_eq!(page.permissions().mode() & 0o777, 0o644);
    assert!(
        std::fs::read_to_string(d.join("man/patrol.1"))
            .unwrap()
            .starts_with(".ie")
    );
    let left = leftovers(&d.join("man"), &[]);
    assert!(
        left.iter().all(|n| n.ends_with(".1")),
        "temporary files left behind: {left:?}"
    );
}

/// A block device named as `-o` is opened and written like a character device, never
/// replaced by a regular file. The node stands for a device number no driver claims, so the
/// write fails (exit 2) without touching a disk; run as user `nobody` in a directory it cannot
/// write, where a replacement would fail differently (no temporary file can be made).
#[test]
fn a_block_device_is_written_in_place_not_replaced() {
    let dir = tempfile::Builder::new()
        .prefix("patrol-blk-")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    let node = d.join("disk");
    let c = std::ffi::CString::new(node.as_os_str().as_encoded_bytes()).unwrap();
    // Major 240 is reserved for local use: no driver answers it.
    if unsafe { libc::mknod(c.as_ptr(), libc::S_IFBLK | 0o666, libc::makedev(240, 0)) } != 0 {
        eprintln!("note: cannot create a block device node (not root); skipped");
        return;
    }
    std::fs::set_permissions(
        node.parent().unwrap(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(d.join("a.env"), format!("ADO_PAT={}\n", pat(1104))).unwrap();
    std::fs::set_permissions(d.join("a.env"), std::fs::Permissions::from_mode(0o644)).unwrap();

    let out = support::run::run_unprivileged(&["scan", "a.env", "-o", "disk"], d)
        .unwrap_or_else(|| patrol(&["scan", "a.env", "-o", "disk"], d));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot open disk"), "{stderr}");
    let meta = std::fs::symlink_metadata(&node).unwrap();
    assert!(
        meta.file_type().is_block_device(),
        "the device was replaced"
    );
    assert_eq!(leftovers(d, &["a.env", "disk"]), Vec::<String>::new());
}

/// `--summary FILE` appends (CI summary files collect several steps), creates a missing file,
/// and refuses a link planted at the path instead of writing through it.
#[test]
fn summary_is_appended_and_never_written_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.env"), format!("ADO_PAT={}\n", pat(1105))).unwrap();
    std::fs::write(d.join("summary.md"), "earlier step\n").unwrap();
    let args = [
        "scan",
        "a.env",
        "--format",
        "sarif",
        "-o",
        "out.sarif",
        "--summary",
        "summary.md",
    ];
    ok(&patrol(&args, d));
    ok(&patrol(&args, d));
    let text = std::fs::read_to_string(d.join("summary.md")).unwrap();
    assert!(text.starts_with("earlier step\n### patrol scan"), "{text}");
    assert_eq!(text.matches("a.env:1:").count(), 2, "{text}");
    assert!(!text.contains(&pat(1105)));

    let victim = tempfile::tempdir().unwrap();
    std::fs::write(victim.path().join("target"), "precious\n").unwrap();
    symlink(victim.path().join("target"), d.join("linked.md")).unwrap();
    let out = patrol(
        &[
            "scan",
            "a.env",
            "--format",
            "json",
            "--summary",
            "linked.md",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(victim.path().join("target")).unwrap(),
        "precious\n"
    );
}
