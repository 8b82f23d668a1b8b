//! Throwaway git repositories built with the git CLI under a fixed identity and clock, and
//! `patrol git` on them.

use super::run::{Report, report};
use std::path::Path;
use std::process::{Command, Stdio};

/// A repository in a temporary directory, removed on drop.
pub struct Repo {
    pub dir: tempfile::TempDir,
    /// Seconds added to the commit clock, so each commit has its own date.
    tick: std::cell::Cell<u64>,
}

impl Repo {
    /// `git init` with branch `main`.
    pub fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temporary directory"),
            tick: std::cell::Cell::new(0),
        };
        repo.git(&["init", "-q"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `git` command in this repository with isolated configuration.
    pub fn command(&self, args: &[&str]) -> Command {
        // An author zone east of UTC by a non-whole hour exercises date formatting.
        let author_date = format!("{} +0130", 1_700_000_000 + self.tick.get());
        let committer_date = format!("{} +0000", 1_700_000_000 + self.tick.get());
        let mut c = Command::new("git");
        c.current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Ada Tester")
            .env("GIT_AUTHOR_EMAIL", "ada@example.test")
            .env("GIT_AUTHOR_DATE", &author_date)
            .env("GIT_COMMITTER_NAME", "Ada Tester")
            .env("GIT_COMMITTER_EMAIL", "ada@example.test")
            .env("GIT_COMMITTER_DATE", &committer_date)
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
                "-c",
                "user.name=Ada Tester",
                "-c",
                "user.email=ada@example.test",
                "-c",
                "gc.auto=0",
            ])
            .args(args);
        c
    }

    /// Run git; panic with its stderr on failure; return trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path().join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).expect("mkdir");
        }
        std::fs::write(p, content).expect("write file");
    }

    /// Stage everything and commit; returns the new commit id.
    pub fn commit_all(&self, message: &str) -> String {
        self.tick.set(self.tick.get() + 60);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.rev("HEAD")
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", rev])
    }

    /// Feed a `git fast-import` stream (for long histories in one process).
    pub fn fast_import(&self, stream: &str) {
        use std::io::Write;
        let mut child = self
            .command(&["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("git fast-import runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stream.as_bytes())
            .expect("write stream");
        assert!(child.wait().expect("wait").success(), "fast-import failed");
    }
}

/// `patrol git` on `repo` (a path argument, run from the repository), parsed.
pub fn patrol_git(repo: &Repo, extra: &[&str]) -> Report {
    let mut args = vec!["git"];
    args.extend_from_slice(extra);
    report(&args, repo.path())
}

/// Store `objects` (kind and raw content, as `git cat-file` shows them) in `repo` as one
/// pack through `git index-pack`, and return their ids in order. For histories too large to
/// build with a work tree or one loose file per object (a tree nested 100,000 levels deep).
/// Objects are stored uncompressed (zlib's stored blocks); the trailer comes from `sha1sum`.
pub fn store_as_pack(repo: &Repo, objects: &[(git2::ObjectType, Vec<u8>)]) -> Vec<git2::Oid> {
    use std::io::Write;
    let mut pack = b"PACK".to_vec();
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&(objects.len() as u32).to_be_bytes());
    let mut ids = Vec::with_capacity(objects.len());
    for (kind, data) in objects {
        ids.push(git2::Oid::hash_object(*kind, data).expect("hash"));
        let code: u8 = match kind {
            git2::ObjectType::Commit => 1,
            git2::ObjectType::Tree => 2,
            git2::ObjectType::Blob => 3,
            other => panic!("cannot pack a {other:?}"),
        };
        let mut size = data.len();
        let mut byte = (code << 4) | (size & 0x0f) as u8;
        size >>= 4;
        while size > 0 {
            pack.push(byte | 0x80);
            byte = (size & 0x7f) as u8;
            size >>= 7;
        }
        pack.push(byte);
        zlib_stored(data, &mut pack);
    }
    let mut sha = Command::new("sha1sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha1sum runs");
    sha.stdin.take().unwrap().write_all(&pack).unwrap();
    let digest = String::from_utf8(sha.wait_with_output().unwrap().stdout).unwrap();
    let hex = &digest[..40];
    pack.extend((0..20).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()));
    let mut child = repo
        .command(&["index-pack", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("git index-pack runs");
    child.stdin.take().unwrap().write_all(&pack).unwrap();
    assert!(child.wait().unwrap().success(), "git index-pack failed");
    ids
}

/// `data` as a zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&[0x78, 0x01]);
    let mut chunks = data.chunks(0xffff).peekable();
    if data.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
}
