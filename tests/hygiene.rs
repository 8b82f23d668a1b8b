//! Secret hygiene audit (issue 8): every byte patrol writes — stdout, stderr and report files,
//! in every output format, with the most verbose settings there are, on success, on errors
//! and with `--verify` against a mock — is searched for the raw secrets of a generated tree.
//! No secret, and no 12-character piece of one, may appear without `--show-secrets`.
//!
//! patrol has no logging framework: `RUST_LOG=trace` and `RUST_BACKTRACE=full` are set anyway,
//! so that one added later is audited too. SARIF is audited if the binary accepts it.

mod support;

use base64::Engine;
use patrol::detect::checksum::LegacyKind;
use patrol::fake::{self, FakeRng};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use support::fixture::write;
use support::run::*;
use support::tokens::B64;

const WINDOW: usize = 12;

/// Everything that must never be printed, and the tree that holds it.
struct Secrets {
    forbidden: Vec<String>,
    /// Azure DevOps tokens in the tree (what `--verify` sends).
    ado_tokens: Vec<String>,
}

impl Secrets {
    /// Fail if any 12-character window of any forbidden string occurs in `bytes`.
    fn assert_absent(&self, bytes: &[u8], what: &str) {
        let text = String::from_utf8_lossy(bytes);
        for s in &self.forbidden {
            let chars: Vec<char> = s.chars().collect();
            for w in chars.windows(WINDOW.min(chars.len())) {
                let piece: String = w.iter().collect();
                assert!(
                    !text.contains(&piece),
                    "{what}: leaks {piece:?} (part of a secret of {} characters)",
                    chars.len()
                );
            }
        }
    }

    fn assert_run_clean(&self, r: &Run, what: &str) {
        r.assert_no_panic();
        self.assert_absent(&r.stdout, &format!("{what} (stdout)"));
        self.assert_absent(r.stderr.as_bytes(), &format!("{what} (stderr)"));
    }
}

fn password(rng: &mut FakeRng) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    (0..16)
        .map(|_| CHARS[(rng.next_u64() % CHARS.len() as u64) as usize] as char)
        .collect()
}

/// A tree with every kind of secret patrol reports, in every place it looks.
fn secret_tree(dir: &Path) -> Secrets {
    let mut rng = FakeRng::new(0x5EC2E7);
    let legacy: Vec<String> = (0..4)
        .map(|_| fake::legacy_pat(&mut rng, LegacyKind::UserPat))
        .collect();
    let app = fake::legacy_pat(&mut rng, LegacyKind::ApplicationSecret);
    let keys: Vec<String> = ["AZDO", "AZAC", "ACOG", "msql"]
        .iter()
        .map(|s| fake::identifiable_key(&mut rng, s))
        .collect();
    let broken = fake::broken(&legacy[3]);
    let broken_id = fake::broken(&keys[0]);
    let (pw1, pw2, pw3) = (password(&mut rng), password(&mut rng), password(&mut rng));
    let basic_pat = B64.encode(format!(":{app}"));
    let basic_user = B64.encode(format!("deploy:{pw1}"));
    let npm = B64.encode(&legacy[2]);

    write(
        dir,
        "ci/.env",
        format!(
            "AZURE_DEVOPS_EXT_PAT={}\nADO_PAT={broken}\nAZURE_DEVOPS_PAT={broken_id}\n",
            legacy[0]
        ),
    );
    let key_lines: String = keys.iter().map(|k| format!("key = \"{k}\"\n")).collect();
    write(dir, "keys.toml", key_lines);
    write(
        dir,
        "deploy.sh",
        format!(
            "curl -H 'Authorization: Basic {basic_pat}' https://dev.azure.com/contoso/_apis/projects\n\
             curl -H \"Authorization: Basic {basic_user}\" https://build.contoso-ci.net/\n\
             git clone https://build:{}@dev.azure.com/contoso/app/_git/app\n\
             pip install --index-url https://ci:{pw2}@{pip_host}/simple/ app\n",
            legacy[1],
            pip_host = "pkgs.contoso-ci.net",
        ),
    );
    write(
        dir,
        ".npmrc",
        format!("//pkgs.dev.azure.com/contoso/_packaging/feed/npm/registry/:_password={npm}\n"),
    );
    write(
        dir,
        "NuGet.config",
        format!("<add key=\"ClearTextPassword\" value=\"{pw3}\" />\n"),
    );
    let reg = format!("\"Pat\"=\"{}\"\r\n", legacy[3]);
    let mut le = vec![0xFF, 0xFE];
    le.extend(reg.encode_utf16().flat_map(|u| u.to_le_bytes()));
    write(dir, "settings.reg", le);
    write(
        dir,
        "app.min.js",
        format!("{}cfg={{pat:\"{}\"}};\n", "var a=1;".repeat(2000), keys[0]),
    );

    let mut forbidden: Vec<String> = legacy.clone();
    forbidden.extend(keys.iter().cloned());
    forbidden.extend([app.clone(), broken, broken_id, pw1, pw2, pw3]);
    forbidden.extend([basic_pat, basic_user, npm]);
    let mut ado_tokens = legacy;
    ado_tokens.extend([app, keys[0].clone()]);
    Secrets {
        forbidden,
        ado_tokens,
    }
}

fn verbose(mut c: Command) -> Command {
    c.env("RUST_LOG", "trace").env("RUST_BACKTRACE", "full");
    c
}

fn run_verbose(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Run {
    let mut c = verbose(piped_cmd(args, cwd));
    for (k, v) in env {
        c.env(k, v);
    }
    wait_within(c.spawn().expect("start patrol"), DEADLINE, &args.join(" "))
}

/// Output formats the binary accepts: the three it has always had, and SARIF once it exists.
fn formats(dir: &Path) -> Vec<&'static str> {
    let mut v = vec!["human", "json", "jsonl"];
    let probe = run_verbose(&["scan", "keys.toml", "--format", "sarif", "-q"], dir, &[]);
    if probe.code() == Some(2) && probe.stderr.contains("sarif") {
        eprintln!("note: --format sarif is not accepted by this build; not audited");
    } else {
        v.push("sarif");
    }
    v
}

#[test]
fn nothing_patrol_writes_holds_a_secret() {
    let tree = tempfile::tempdir().expect("temp dir");
    let secrets = secret_tree(tree.path());
    let out = tempfile::tempdir().expect("temp dir");
    let mut audited = 0;
    for format in formats(tree.path()) {
        for confidence in ["medium", "low"] {
            let base = [
                "scan",
                ".",
                "--format",
                format,
                "--min-confidence",
                confidence,
            ];
            let what = format!("--format {format} --min-confidence {confidence}");
            for extra in [&["--color", "always"][..], &["--quiet"][..]] {
                let args: Vec<&str> = base.iter().chain(extra).copied().collect();
                let r = run_verbose(&args, tree.path(), &[]);
                assert_eq!(r.code(), Some(1), "{what}: {}", r.stderr);
                assert!(!r.stdout.is_empty() || extra[0] == "--quiet");
                secrets.assert_run_clean(&r, &what);
                audited += 1;
            }
            let report = out.path().join(format!("report-{format}-{confidence}"));
            let report_arg = report.to_str().expect("UTF-8 temp path");
            let args: Vec<&str> = base
                .iter()
                .copied()
                .chain(["--output", report_arg])
                .collect();
            let r = run_verbose(&args, tree.path(), &[]);
            assert_eq!(r.code(), Some(1), "{what}: {}", r.stderr);
            secrets.assert_run_clean(&r, &what);
            let bytes = std::fs::read(&report).expect("report written");
            assert!(bytes.len() > 100, "{what}: report too short");
            secrets.assert_absent(&bytes, &format!("{what} (report file)"));
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&report)
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{what}: report mode {mode:o}");
            audited += 1;
        }
    }
    assert!(audited >= 18);
    // The audit can see a secret: --show-secrets prints them.
    let r = run_verbose(&["scan", ".", "--show-secrets"], tree.path(), &[]);
    let shown = String::from_utf8_lossy(&r.stdout);
    assert!(
        secrets
            .ado_tokens
            .iter()
            .all(|t| shown.contains(t.as_str()))
    );
}

#[test]
fn stdin_scan_writes_no_secret() {
    let tree = tempfile::tempdir().expect("temp dir");
    let secrets = secret_tree(tree.path());
    let text = std::fs::read(tree.path().join("deploy.sh")).expect("read");
    let mut c = verbose(piped_cmd(&["scan", "-", "--format", "json"], tree.path()));
    c.stdin(std::process::Stdio::piped());
    let mut child = c.spawn().expect("start patrol");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &text).expect("feed");
    let r = wait_within(child, DEADLINE, "scan -");
    assert_eq!(r.code(), Some(1), "{}", r.stderr);
    secrets.assert_run_clean(&r, "scan -");
}

/// `--verify` against a mock that answers every way Azure DevOps can, including error
/// bodies; verification messages and identities must not carry the token.
#[test]
fn verification_writes_no_secret() {
    use support::verify::{Behaviour, MockAdo};
    let tree = tempfile::tempdir().expect("temp dir");
    let secrets = secret_tree(tree.path());
    let kinds = [
        Behaviour::Good,
        Behaviour::Bad,
        Behaviour::ServerError,
        Behaviour::SignInPage,
        Behaviour::Redirect,
        Behaviour::RateLimitedOnce,
    ];
    let behaviours: HashMap<String, Behaviour> = secrets
        .ado_tokens
        .iter()
        .zip(kinds.iter().cycle())
        .map(|(t, b)| (t.clone(), *b))
        .collect();
    let mock = MockAdo::start(behaviours);
    for format in ["human", "json"] {
        let r = run_verbose(
            &["scan", ".", "--verify", "--format", format],
            tree.path(),
            &[("PATROL_ADO_BASE_URL", &mock.base)],
        );
        assert!(matches!(r.code(), Some(1)), "{}", r.stderr);
        secrets.assert_run_clean(&r, &format!("--verify --format {format}"));
    }
    assert!(!mock.requests().is_empty(), "the mock was asked");
}

/// Errors quote what they reject: a rule file or configuration that holds a token (an allow
/// value, a rule example) must not have it echoed by an error about the same line.
#[test]
fn error_messages_write_no_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = FakeRng::new(0xE4404);
    let t = fake::legacy_pat(&mut rng, LegacyKind::UserPat);
    let k = fake::identifiable_key(&mut rng, "AZDO");
    let secrets = Secrets {
        forbidden: vec![t.clone(), k.clone()],
        ado_tokens: vec![],
    };
    write(dir.path(), "a.txt", "nothing here\n");
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "unclosed rule file",
            format!("[[rules]]\nid = \"x\"\nexamples = [\"{t}\"\n"),
            vec!["rules", "check", "--rules", "f.toml"],
        ),
        (
            "rule file with a bad value",
            format!("[[rules]]\nid = \"x\"\nexamples = [\"{t}\", {k}]\n"),
            vec!["scan", ".", "--rules", "f.toml"],
        ),
        (
            "rule whose examples fail",
            format!(
                "[[rules]]\nid = \"x\"\nname = \"x\"\ndescription = \"x\"\npattern = 'zzzz'\n\
                 keywords = [\"zzzz\"]\nseverity = \"low\"\nconfidence = \"low\"\n\
                 examples = [\"{t}\"]\nnegative_examples = [\"zzzz {k}\"]\n"
            ),
            vec!["rules", "check", "--rules", "f.toml"],
        ),
        (
            "unclosed configuration",
            format!("allow_values = [\"{t}\"\n"),
            vec!["scan", ".", "--config", "f.toml"],
        ),
        (
            "configuration with a bad regex",
            format!("allow_regexes = [\"^{t}(\"]\n"),
            vec!["scan", ".", "--config", "f.toml"],
        ),
        (
            "configuration with a bad type",
            format!("allow_values = \"{t}\"\nexclude = [{k}]\n"),
            vec!["scan", ".", "--config", "f.toml"],
        ),
    ];
    for (what, text, args) in cases {
        write(dir.path(), "f.toml", &text);
        let r = run_verbose(&args, dir.path(), &[]);
        assert_ne!(r.code(), Some(0), "{what}: accepted");
        secrets.assert_run_clean(&r, what);
    }
}

/// In-process values that hold secrets print redacted with `{:?}`, so a panic message or a
/// debug print cannot show them.
#[test]
fn debug_formatting_redacts_secrets() {
    use patrol::detect::Matcher;
    use patrol::scan::{Location, ScanOptions, scan_blob};
    let mut rng = FakeRng::new(0xDEB06);
    let t = fake::legacy_pat(&mut rng, LegacyKind::UserPat);
    let k = fake::identifiable_key(&mut rng, "AZDO");
    let secrets = Secrets {
        forbidden: vec![t.clone(), k.clone()],
        ado_tokens: vec![],
    };
    let s = patrol::finding::Secret::new(t.clone());
    secrets.assert_absent(format!("{s:?}").as_bytes(), "Secret");
    let text = format!(
        "a={t}\nb={k}\nAuthorization: Basic {}\n",
        B64.encode(format!(":{t}"))
    );
    let matcher = Matcher::new(patrol::rules::builtin_rules()).expect("rules");
    let opts = ScanOptions::default();
    let r = scan_blob(&matcher, text.as_bytes(), &opts);
    let found = r.findings_at(&Location::file("x"), &opts);
    // The PAT inside the Basic header is the one on the first line: one finding, two places.
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].occurrences, 2);
    secrets.assert_absent(format!("{r:?}").as_bytes(), "BlobResult/Hit");
    secrets.assert_absent(format!("{found:?}").as_bytes(), "Finding");
    let matches = matcher.scan(text.as_bytes());
    assert_eq!(matches.len(), 3);
    secrets.assert_absent(format!("{matches:?}").as_bytes(), "Match");
    for d in [
        patrol::rules::Decoder::Base64Credentials,
        patrol::rules::Decoder::Plain,
    ] {
        let raw = match d {
            patrol::rules::Decoder::Plain => t.clone(),
            _ => B64.encode(format!("u:{t}")),
        };
        let decoded = patrol::detect::decode::decode(d, raw.as_bytes()).expect("decodes");
        secrets.assert_absent(format!("{decoded:?}").as_bytes(), "Decoded");
    }
}

/// The many ways a configuration, rule or baseline file can be malformed around a token: none
/// of the errors may quote it (parse errors name file, line, key and what was expected).
#[test]
fn malformed_files_never_echo_a_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = FakeRng::new(0xBAD5);
    let t = fake::legacy_pat(&mut rng, LegacyKind::UserPat);
    let k = fake::identifiable_key(&mut rng, "AZDO");
    let pw = password(&mut rng);
    let secrets = Secrets {
        forbidden: vec![t.clone(), k.clone(), pw.clone()],
        ado_tokens: vec![],
    };
    write(dir.path(), "a.txt", "nothing here\n");
    let configs = [
        format!("allow_values = \"{t}\"\n"),
        format!("allow_values = [{t}]\n"),
        format!("allow_values = [\"{t}\"\n"),
        format!("allow_values = [\"\"\"{t}\n"),
        format!("allow_values = ['{pw}', 5]\n"),
        format!("allow_values = [\"a\", {{ x = \"{t}\" }}]\n"),
        format!("allow_values = [\"{t}\"]\nallow_values = [\"{k}\"]\n"),
        format!("[allow_values]\n{t} = 1\n"),
        format!("exclude = \"{k}\"\n"),
        format!("exclude = [\"[{t}\"]\n"),
        format!("exclude = [\"a\"] {t}\n"),
        format!("{t} = 1\n"),
        format!("\"{k}\" = \"{pw}\"\n"),
        format!("min_confidence = \"{t}\"\n"),
        format!("min_confidence = {k}\n"),
        format!("min_confidence = \"\"\"{pw}\"\"\"\n"),
        format!("disable_rules = [\"{t}\"]\n"),
        format!("disable_rules = \"{pw}\"\n"),
        format!("allow_regexes = [\"({t}\"]\n"),
        format!("allow_regexes = [\"{pw}[\"]\n"),
        format!("allow_regexes = {t}\n"),
        format!("rules = {{ path = \"{t}\" }}\n"),
    ];
    let rule_head = "[[rules]]\nname = \"x\"\ndescription = \"x\"\nseverity = \"low\"\n\
                     confidence = \"low\"\nkeywords = [\"zzzz\"]\n";
    let rule_files = [
        format!("{rule_head}id = \"{t} x\"\npattern = 'zzzz'\n"),
        format!("{rule_head}id = \"{k}\"\npattern = 'zzzz'\n"),
        format!("{rule_head}id = \"x\"\npattern = '({t}'\n"),
        format!("{rule_head}id = \"x\"\npattern = '{pw}[a-'\n"),
        format!(
            "{rule_head}id = \"x\"\npattern = 'zzzz'\nrun = {{ chars = \"z-a{t}\", length = 5 }}\n"
        ),
        format!("{rule_head}id = \"x\"\npattern = 'zzzz'\nexamples = \"{t}\"\n"),
        format!("{rule_head}id = \"x\"\npattern = 'zzzz'\nexamples = [\"{k}\", 5]\n"),
        format!("[[rules]]\nid = \"x\"\nseverity = \"{t}\"\n"),
        format!("[[rules]]\nid = \"x\"\nvalidator = \"{k}\"\n"),
        format!("[[rules]]\nid = \"x\"\n{t} = 1\n"),
        format!("[[rules]]\nid = \"x\"\nname = \"{t}\n"),
        format!("[[rules]]\nid = \"x\"\ntokens_only = \"{pw}\"\n"),
        format!("[[rules]]\nid = \"x\"\nmax_prefix = \"{t}\"\n"),
        format!("[[rules]]\nexamples = [\"{t}\"]\n"),
        format!("rules = \"{k}\"\n"),
        format!("[[rules]]\nid = \"x\"\nkeywords = [{{ k = \"{t}\" }}]\n"),
    ];
    let fp = "a".repeat(64);
    let baselines = [
        format!("{{\"version\": \"{t}\", \"entries\": []}}"),
        format!(
            "{{\"version\": 1, \"entries\": [{{\"rule_id\": \"{t}\", \"fingerprint\": \"{k}\"}}]}}"
        ),
        format!("{{\"version\": 1, \"entries\": [{{\"rule_id\": 5, \"fingerprint\": \"{t}\"}}]}}"),
        format!("{{\"version\": 1, \"{t}\": 1, \"entries\": []}}"),
        format!("{{\"version\": 1, \"entries\": \"{pw}\"}}"),
        format!("{{\"version\": 1, \"fingerprint_key\": \"{t}\", \"entries\": []}}"),
        format!(
            "{{\"version\": 1, \"entries\": [{{\"rule_id\": \"x\", \"fingerprint\": \"{fp}\", \"{k}\": 1}}]}}"
        ),
        format!(
            "{{\"version\": 1, \"entries\": [{{\"rule_id\": \"x\", \"fingerprint\": \"{fp}\", \"path\": [\"{t}\"]}}]}}"
        ),
        format!("{{\"version\": 1, \"entries\": [{{\"rule_id\": \"{t}\""),
        format!("[\"{k}\"]"),
        format!("{{\"version\": 1, \"entries\": [[\"{t}\"]]}}"),
        format!("{{\"version\": 1, \"entries\": [], \"version\": \"{pw}\"}}"),
        t.clone(),
    ];
    let mut cases: Vec<(String, Vec<&str>)> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        write(dir.path(), &format!("c{i}.toml"), c);
        cases.push((format!("c{i}.toml"), vec!["scan", ".", "--config"]));
    }
    for (i, r) in rule_files.iter().enumerate() {
        write(dir.path(), &format!("r{i}.toml"), r);
        cases.push((format!("r{i}.toml"), vec!["scan", ".", "--rules"]));
        cases.push((format!("r{i}.toml"), vec!["rules", "check", "--rules"]));
    }
    for (i, b) in baselines.iter().enumerate() {
        write(dir.path(), &format!("b{i}.json"), b);
        cases.push((format!("b{i}.json"), vec!["scan", ".", "--baseline"]));
        cases.push((
            format!("b{i}.json"),
            vec!["baseline", "check", ".", "--baseline"],
        ));
    }
    assert!(cases.len() >= 80);
    for (file, mut args) in cases {
        args.push(&file);
        let what = args.join(" ");
        let r = run_verbose(&args, dir.path(), &[]);
        assert_eq!(r.code(), Some(2), "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains(file.as_str()),
            "{what}: names the file: {}",
            r.stderr
        );
        secrets.assert_run_clean(&r, &what);
    }
}

/// History findings: the token also stands in commit messages, author fields, a file name and
/// a mangled remote URL; every format, both confidence levels, stays clean.
#[test]
fn commit_metadata_writes_no_secret() {
    let repo = support::git::Repo::new();
    let mut rng = FakeRng::new(0xC0FF);
    let t = fake::legacy_pat(&mut rng, LegacyKind::UserPat);
    let k = fake::identifiable_key(&mut rng, "AZDO");
    let secrets = Secrets {
        forbidden: vec![t.clone(), k.clone()],
        ado_tokens: vec![],
    };
    repo.write(&format!("cfg/{k}.env"), &format!("PAT={t}\nKEY={k}\n"));
    repo.git(&["add", "-A"]);
    let status = repo
        .command(&["commit", "-q", "-m", &format!("use {t}\n\nbody {k}")])
        .env("GIT_AUTHOR_NAME", format!("bot {k}"))
        .env("GIT_AUTHOR_EMAIL", format!("{t}@ci.example.test"))
        .status()
        .expect("git commit");
    assert!(status.success());
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("x:{t}@dev.azure.com:contoso/app"),
    ]);
    repo.git(&[
        "remote",
        "add",
        "upstream",
        &format!("https:/u:{k}@dev.azure.com/c/_git/a"),
    ]);
    for format in ["human", "json", "jsonl", "sarif"] {
        for confidence in ["medium", "low"] {
            let args = ["git", "--format", format, "--min-confidence", confidence];
            let r = run_verbose(&args, repo.path(), &[]);
            assert_eq!(r.code(), Some(1), "{format}: {}", r.stderr);
            secrets.assert_run_clean(&r, &format!("git --format {format}"));
        }
    }
}
