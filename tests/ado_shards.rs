//! `patrol ado` sharded N ways against the mock organization of tests/ado.rs, the shard taken
//! from each engine's environment in turn, then `patrol merge`: every repository is scanned by
//! exactly one shard, the merged report equals the unsharded one byte for byte apart from
//! timings (first runs and re-runs), and a shard that failed is visible in the merged summary.
//! The Azure Pipelines and Kubernetes definitions in docs/ado-shards/ are parsed and their
//! scripts run as written, the engine's variables set as the engine sets them.

mod support;

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::ado::Org;
use support::findings::rows;
use support::run::{path_with_patrol, patrol_cmd, root};
use support::tokens::pat;

/// Every variable an engine uses to tell a process its shard.
const ENGINE_VARS: [&str; 4] = [
    "JOB_COMPLETION_INDEX",
    "PATROL_SHARDS",
    "SYSTEM_JOBPOSITIONINPHASE",
    "SYSTEM_TOTALJOBSINPHASE",
];

/// Start shard `k` of `n` with its shard given the way `engine` gives it (`k8s`: an Indexed
/// Job's index and PATROL_SHARDS; `azp`: a parallel job's 1-based position and total; else
/// `--shard K/N`), writing `out`.
fn start_shard(org: &Org, cache: &Path, engine: &str, k: u32, n: u32, out: &Path) -> Child {
    let format = if out.extension().is_some_and(|e| e == "sarif") {
        "sarif"
    } else {
        "json"
    };
    let mut c = org.command(
        cache,
        &["--format", format, "-o", out.to_str().unwrap(), "--quiet"],
    );
    for v in ENGINE_VARS {
        c.env_remove(v);
    }
    c.env_remove("TF_BUILD");
    match engine {
        "k8s" => c
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .env("PATROL_SHARDS", n.to_string()),
        "azp" => c
            .env("SYSTEM_JOBPOSITIONINPHASE", (k + 1).to_string())
            .env("SYSTEM_TOTALJOBSINPHASE", n.to_string()),
        _ => c.arg("--shard").arg(format!("{k}/{n}")),
    };
    c.stderr(Stdio::piped()).spawn().unwrap()
}

/// Wait for a shard; checks it said which shard it ran and how it knew. Returns its exit code.
fn finish_shard(child: Child, engine: &str, k: u32, n: u32) -> i32 {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = format!("shard {k} (0-based) of {n}: from ");
    assert!(stderr.contains(&said), "{stderr}");
    let how = match engine {
        "k8s" => format!("Kubernetes Indexed Job: JOB_COMPLETION_INDEX={k}, PATROL_SHARDS={n}"),
        "azp" => format!(
            "Azure Pipelines parallel job: SYSTEM_JOBPOSITIONINPHASE={}, SYSTEM_TOTALJOBSINPHASE={n}",
            k + 1
        ),
        _ => format!("--shard {k}/{n}"),
    };
    assert!(stderr.contains(&how), "{stderr}");
    out.status.code().unwrap()
}

/// An unsharded run writing `out` (JSON or SARIF by extension) with the cache `cache`.
fn unsharded(org: &Org, cache: &str, out: &Path) -> String {
    let format = if out.extension().is_some_and(|e| e == "sarif") {
        "sarif"
    } else {
        "json"
    };
    let status = org
        .command(
            &org.dir.path().join(cache),
            &["--format", format, "-o", out.to_str().unwrap(), "--quiet"],
        )
        .env_remove("TF_BUILD")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    std::fs::read_to_string(out).unwrap()
}

/// `patrol merge` of `inputs` to `format`: exit code, report text and its JSON.
fn merge(inputs: &[PathBuf], format: &str) -> (i32, String, Value) {
    let out = patrol_cmd(&["merge"], root())
        .args(inputs)
        .args(["--format", format])
        .env_remove("TF_BUILD")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let doc = serde_json::from_str(&text).unwrap_or(Value::Null);
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

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The repositories a report says it scanned.
fn scanned(doc: &Value) -> Vec<String> {
    doc["summary"]["organization"]["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["repository"].as_str().unwrap().to_string())
        .collect()
}

/// N = 1, 3 and 7 shards, each N twice: first with the shard from a Kubernetes Indexed Job's
/// variables (a first run), then from an Azure Pipelines parallel job's with the same caches
/// (the next night's run: the same assignment, only the incremental record at work).
#[test]
fn shards_cover_the_organization_once_and_merge_into_one_report() {
    let org = Org::build();
    let dir = org.dir.path();
    let whole = unsharded(&org, "cache-whole", &dir.join("whole.json"));
    let whole_again = unsharded(&org, "cache-whole", &dir.join("whole-again.json"));
    let all: BTreeSet<String> = scanned(&serde_json::from_str(&whole).unwrap())
        .into_iter()
        .collect();
    assert_eq!(all.len(), 5);

    for n in [1u32, 3, 7] {
        for (pass, engine, expected) in [(1, "k8s", &whole), (2, "azp", &whole_again)] {
            let cache = |k: u32| dir.join(format!("cache-{k}-of-{n}"));
            let report = |k: u32| dir.join(format!("{engine}-{k}-of-{n}.json"));
            let children: Vec<Child> = (0..n)
                .map(|k| start_shard(&org, &cache(k), engine, k, n, &report(k)))
                .collect();
            for (k, c) in (0..n).zip(children) {
                let code = finish_shard(c, engine, k, n);
                assert!(matches!(code, 0..=2), "shard {k}/{n}: exit {code}");
            }
            let reports: Vec<PathBuf> = (0..n).map(report).collect();
            // Exactly once: the shards' repositories are disjoint and together are all.
            let mut seen = BTreeSet::new();
            for r in &reports {
                for name in scanned(&read_json(r)) {
                    assert!(seen.insert(name.clone()), "{name} scanned twice (N={n})");
                }
            }
            assert_eq!(seen, all, "N={n}");
            let (code, merged, _) = merge(&reports, "json");
            assert_eq!(code, 1, "exit code as one scan with findings");
            assert_same_report(&merged, expected, &format!("N={n}, pass {pass}"));
        }
    }
}

/// A shard that failed outright (here: a revoked token) leaves either no JSON report or a
/// SARIF failure document; either way the merged summary says so and the exit code fails.
#[test]
fn a_failed_shard_is_visible_after_the_merge() {
    let org = Org::build();
    let dir = org.dir.path();
    let report = |k: u32, ext: &str| dir.join(format!("shard-{k}.{ext}"));
    let children: Vec<Child> = [0, 2]
        .into_iter()
        .map(|k| start_shard(&org, &dir.join("cache"), "flag", k, 3, &report(k, "json")))
        .collect();
    for (k, c) in [0, 2].into_iter().zip(children) {
        assert!(matches!(finish_shard(c, "flag", k, 3), 0..=2));
    }
    for ext in ["json", "sarif"] {
        // The engine hands the token over; here it is one the organization does not accept.
        let out = org
            .command(
                &dir.join("cache"),
                &[
                    "--shard",
                    "1/3",
                    "--format",
                    ext,
                    "-o",
                    report(1, ext).to_str().unwrap(),
                ],
            )
            .env("AZURE_DEVOPS_EXT_PAT", pat(77))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
    }
    assert!(
        !report(1, "json").exists(),
        "no JSON report from a failed run"
    );
    let failure: Value = read_json(&report(1, "sarif"));
    assert_eq!(
        failure["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );

    for with_failure_document in [false, true] {
        let mut inputs = vec![report(0, "json"), report(2, "json")];
        if with_failure_document {
            inputs.push(report(1, "sarif"));
        }
        for format in ["json", "sarif"] {
            let (code, text, doc) = merge(&inputs, format);
            // As one scan with a failed repository: findings make it 1 (else 2).
            assert_eq!(code, 1, "{text}");
            let summary = if format == "json" {
                &doc["summary"]
            } else {
                &doc["properties"]["summary"]
            };
            let org_summary = &summary["organization"];
            let failed: Vec<(String, String)> =
                rows(&org_summary["failed"], &["repository", "reason"]);
            assert!(
                failed
                    .iter()
                    .any(|(r, why)| r == "shard 1/3" && why.contains("no report")),
                "{failed:?}"
            );
            assert_eq!(
                failed.iter().any(|(_, why)| why.contains("HTTP 401")),
                with_failure_document,
                "the failure document's error is kept: {failed:?}"
            );
            assert_eq!(org_summary["shards"], serde_json::json!(["0/3", "2/3"]));
        }
        // The human summary says it too.
        let out = patrol_cmd(&["merge"], root())
            .args(&inputs)
            .args(["--color", "never"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("FAILED shard 1/3: no report"), "{text}");
        assert!(text.contains("shards merged: 0/3, 2/3"), "{text}");
    }
}

/// JSON and SARIF shard reports in any mix merge into SARIF with one run per repository that
/// equals the unsharded SARIF report, and into JSON that equals the unsharded JSON report.
#[test]
fn any_mix_of_json_and_sarif_merges_into_any_format() {
    let org = Org::build();
    let dir = org.dir.path();
    let whole_sarif = unsharded(&org, "cache-whole", &dir.join("whole.sarif"));
    let whole_json = unsharded(&org, "cache-whole-json", &dir.join("whole.json"));
    let ext = |k: u32| if k.is_multiple_of(2) { "sarif" } else { "json" };
    let report = |k: u32| dir.join(format!("shard-{k}.{}", ext(k)));
    let children: Vec<Child> = (0..3)
        .map(|k| {
            start_shard(
                &org,
                &dir.join(format!("cache-{k}")),
                "flag",
                k,
                3,
                &report(k),
            )
        })
        .collect();
    for (k, c) in (0..3).zip(children) {
        assert!(matches!(finish_shard(c, "flag", k, 3), 0..=2));
    }
    let reports: Vec<PathBuf> = (0..3).map(report).collect();
    let (code, merged, _) = merge(&reports, "sarif");
    assert_eq!(code, 1);
    assert_same_report(&merged, &whole_sarif, "SARIF from a JSON+SARIF mix");
    let (code, merged, _) = merge(&reports, "json");
    assert_eq!(code, 1);
    assert_same_report(&merged, &whole_json, "JSON from a JSON+SARIF mix");
    // The same report twice is the same findings once (deduplicated by fingerprint and place).
    let mut twice = reports.clone();
    twice.push(reports[1].clone());
    let (_, _, doc) = merge(&twice, "json");
    assert_eq!(
        doc["findings"],
        serde_json::from_str::<Value>(&whole_json).unwrap()["findings"]
    );
}

/// Every document of a YAML file in docs/.
fn yaml_docs(name: &str) -> (String, Vec<Value>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/ado-shards")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let docs = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap_or_else(|e| panic!("{name} is not YAML: {e}")))
        .collect();
    (text, docs)
}

/// The script among `steps` that holds `marker`, and the step.
fn script_step<'a>(steps: &'a Value, marker: &str) -> (&'a Value, String) {
    steps
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| {
            s["bash"]
                .as_str()
                .filter(|t| t.contains(marker))
                .map(|t| (s, t.to_string()))
        })
        .unwrap_or_else(|| panic!("no step runs {marker}"))
}

/// Replace Azure Pipelines macros `$(name)`; every one left is an error.
fn expand(text: &str, vars: &[(&str, String)]) -> String {
    let mut t = text.to_string();
    for (k, v) in vars {
        t = t.replace(&format!("$({k})"), v);
    }
    assert!(only_shell_substitutions(&t), "a macro is left: {t}");
    t
}

/// Whether every `$(` left in a script is a shell command substitution (`$(date …)`).
fn only_shell_substitutions(t: &str) -> bool {
    t.match_indices("$(")
        .all(|(i, _)| t[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()))
}

/// A shell running `script` as a pipeline agent or a pod would: PATH with patrol, the mock's
/// loopback override, no engine variables but those `env` gives.
fn shell(org: &Org, sh: &str, script: &str, env: &[(String, String)]) -> Command {
    let mut c = Command::new(sh);
    c.arg("-c")
        .arg(script)
        .env("PATH", path_with_patrol())
        .env("PATROL_ADO_BASE_URL", &org.mock.base)
        .env("HOME", org.dir.path())
        .env_remove("XDG_CACHE_HOME")
        .env_remove("AZURE_DEVOPS_EXT_PAT")
        .env_remove("SYSTEM_ACCESSTOKEN")
        .env_remove("TF_BUILD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for v in ENGINE_VARS {
        c.env_remove(v);
    }
    c.envs(env.iter().map(|(k, v)| (k, v)));
    c
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// docs/ado-shards/azure-pipelines.yml as Azure Pipelines runs it: the shard job's script once
/// per position of `strategy: parallel`, each job's published folder downloaded where
/// `download: current` puts artifacts, then the merge job's script; its SARIF equals the
/// unsharded run's.
#[test]
fn the_azure_pipelines_definition_runs_as_written() {
    let org = Org::build();
    let dir = org.dir.path();
    let whole = unsharded(&org, "cache-whole", &dir.join("whole.sarif"));
    let (_, docs) = yaml_docs("azure-pipelines.yml");
    let pipeline = &docs[0];
    let var = |k: &str| pipeline["variables"][k].as_str().unwrap().to_string();
    assert_eq!(var("ORG_URL"), org.url());
    let jobs = pipeline["jobs"].as_array().unwrap();
    let job = |name: &str| jobs.iter().find(|j| j["job"] == name).unwrap();
    let (shard_job, merge_job) = (job("shard"), job("merge"));
    let n = shard_job["strategy"]["parallel"].as_u64().unwrap() as u32;
    assert!(n >= 2);
    assert_eq!(merge_job["dependsOn"], "shard");
    assert_eq!(merge_job["condition"], "succeededOrFailed()");

    // The shard job: the cache task keeps the folder patrol uses as --cache.
    let steps = &shard_job["steps"];
    let cache_task = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["task"] == "Cache@2")
        .unwrap();
    let cache_path = cache_task["inputs"]["path"].as_str().unwrap();
    let (step, script) = script_step(steps, "# --- patrol ado shard ---");
    assert!(
        script.contains(&format!("--cache \"{cache_path}\"")),
        "{script}"
    );
    assert_eq!(step["env"]["AZURE_DEVOPS_EXT_PAT"], "$(PATROL_ADO_PAT)");
    let publish = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s.get("publish").is_some())
        .unwrap();
    assert_eq!(publish["condition"], "succeededOrFailed()");

    let downloads = dir.join("merge-workspace");
    let agents: Vec<(u32, PathBuf, Child)> = (1..=n)
        .map(|pos| {
            let agent = dir.join(format!("agent-{pos}"));
            let macros = [
                ("ORG_URL", var("ORG_URL")),
                (
                    "Build.ArtifactStagingDirectory",
                    agent.join("staging").display().to_string(),
                ),
                (
                    "Pipeline.Workspace",
                    agent.join("work").display().to_string(),
                ),
            ];
            let env = vec![
                // The agent exports these to every step of a parallel job.
                ("SYSTEM_JOBPOSITIONINPHASE".to_string(), pos.to_string()),
                ("SYSTEM_TOTALJOBSINPHASE".to_string(), n.to_string()),
                // The step's `env:` maps the secret variable.
                ("AZURE_DEVOPS_EXT_PAT".to_string(), org.token.clone()),
            ];
            let child = shell(&org, "bash", &expand(&script, &macros), &env)
                .spawn()
                .unwrap();
            (pos, agent, child)
        })
        .collect();
    for (pos, agent, child) in agents {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Findings do not fail a shard job; the mock's broken repositories do (exit 2).
        assert!(matches!(out.status.code(), Some(0 | 2)), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "shard {} (0-based) of {n}: from Azure Pipelines parallel job",
                pos - 1
            )),
            "{stderr}"
        );
        let macros = [
            (
                "Build.ArtifactStagingDirectory",
                agent.join("staging").display().to_string(),
            ),
            ("System.JobPositionInPhase", pos.to_string()),
        ];
        let from = expand(publish["publish"].as_str().unwrap(), &macros);
        let artifact = expand(publish["artifact"].as_str().unwrap(), &macros);
        copy_dir(Path::new(&from), &downloads.join(artifact));
    }

    // The merge job: the download pattern matches what the shards published.
    let steps = &merge_job["steps"];
    let download = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["download"] == "current")
        .unwrap();
    let (prefix, file) = download["patterns"]
        .as_str()
        .unwrap()
        .split_once("*/")
        .unwrap();
    for pos in 1..=n {
        assert!(
            downloads
                .join(format!("{prefix}{pos}"))
                .join(file)
                .is_file()
        );
    }
    let staging = dir.join("merge-staging");
    let (_, script) = script_step(steps, "# --- patrol merge ---");
    let macros = [
        ("Pipeline.Workspace", downloads.display().to_string()),
        (
            "Build.ArtifactStagingDirectory",
            staging.display().to_string(),
        ),
    ];
    let out = shell(&org, "bash", &expand(&script, &macros), &[])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings fail the merge job: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let published = steps
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s.get("publish").is_some())
        .unwrap();
    assert_eq!(published["artifact"], "CodeAnalysisLogs");
    let sarif_dir = expand(published["publish"].as_str().unwrap(), &macros);
    let merged = std::fs::read_to_string(Path::new(&sarif_dir).join("patrol-ado.sarif")).unwrap();
    assert_same_report(&merged, &whole, "Azure Pipelines merge job");
}

/// docs/ado-shards/kubernetes.yaml as Kubernetes runs it: the Indexed Job's script once per
/// index, `parallelism` pods at a time, with the manifest's environment and the token from the
/// Secret, all on one volume; then the merge Job's script. Its SARIF equals the unsharded
/// run's, and the shards' reports are moved aside for the next run.
#[test]
fn the_kubernetes_definition_runs_as_written() {
    let org = Org::build();
    let dir = org.dir.path();
    let whole = unsharded(&org, "cache-whole", &dir.join("whole.sarif"));
    let (text, docs) = yaml_docs("kubernetes.yaml");
    let kind = |k: &str, name: &str| {
        docs.iter()
            .find(|d| d["kind"] == k && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {k} {name}"))
    };
    let claim = kind("PersistentVolumeClaim", "patrol-ado");
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteMany");
    let job = &kind("Job", "patrol-ado-shards")["spec"];
    assert_eq!(job["completionMode"], "Indexed");
    let n = job["completions"].as_u64().unwrap() as u32;
    let m = job["parallelism"].as_u64().unwrap() as usize;
    assert!(m >= 1 && m <= n as usize);
    let pod = &job["template"]["spec"];
    let container = &pod["containers"][0];
    let env_of = |c: &Value| -> Vec<(String, String)> {
        c["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let name = e["name"].as_str().unwrap().to_string();
                match e["value"].as_str() {
                    Some(v) => (name, v.to_string()),
                    None => {
                        // The token, from the Secret the header tells how to create.
                        let r = &e["valueFrom"]["secretKeyRef"];
                        let create = format!(
                            "kubectl create secret generic {} --from-literal={}=",
                            r["name"].as_str().unwrap(),
                            r["key"].as_str().unwrap()
                        );
                        assert!(text.contains(&create), "{create}");
                        (name, org.token.clone())
                    }
                }
            })
            .collect()
    };
    let env = env_of(container);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(
        get("PATROL_SHARDS"),
        n.to_string(),
        "PATROL_SHARDS = completions"
    );
    assert_eq!(get("ORG_URL"), org.url());
    assert!(env.iter().any(|(k, _)| k == "AZURE_DEVOPS_EXT_PAT"));
    let data = dir.join("volume");
    let mount = |pod: &Value, c: &Value| {
        let m = &c["volumeMounts"][0];
        let v = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == m["name"])
            .unwrap();
        assert_eq!(v["persistentVolumeClaim"]["claimName"], "patrol-ado");
        m["mountPath"].as_str().unwrap().to_string()
    };
    let script = |c: &Value, mount_path: &str| {
        assert_eq!(c["command"][0], "/bin/sh");
        assert_eq!(c["command"][1], "-c");
        c["command"][2]
            .as_str()
            .unwrap()
            .replace(mount_path, data.to_str().unwrap())
    };
    let shard_script = script(container, &mount(pod, container));
    assert!(shard_script.contains("# --- patrol ado shard ---"));

    let indexes: Vec<u32> = (0..n).collect();
    for batch in indexes.chunks(m) {
        let pods: Vec<(u32, Child)> = batch
            .iter()
            .map(|&k| {
                let mut env = env.clone();
                // The Job controller sets the index in every pod of an Indexed Job.
                env.push(("JOB_COMPLETION_INDEX".into(), k.to_string()));
                (k, shell(&org, "sh", &shard_script, &env).spawn().unwrap())
            })
            .collect();
        for (k, p) in pods {
            let out = p.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(matches!(out.status.code(), Some(0 | 2)), "{stderr}");
            assert!(
                stderr.contains(&format!(
                    "shard {k} (0-based) of {n}: from Kubernetes Indexed Job: JOB_COMPLETION_INDEX={k}, PATROL_SHARDS={n}"
                )),
                "{stderr}"
            );
        }
    }

    let merge_pod = &kind("Job", "patrol-ado-merge")["spec"]["template"]["spec"];
    let merge_container = &merge_pod["containers"][0];
    let merge_script = script(merge_container, &mount(merge_pod, merge_container));
    assert!(merge_script.contains("# --- patrol merge ---"));
    let out = shell(&org, "sh", &merge_script, &[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = std::fs::read_to_string(data.join("out/patrol-ado.sarif")).unwrap();
    assert_same_report(&merged, &whole, "Kubernetes merge Job");
    let left: Vec<_> = std::fs::read_dir(data.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        left.len() == 1 && left[0].starts_with("merged-"),
        "the shards' reports are moved aside: {left:?}"
    );
}

/// `--sarif-category` names every repository's run (`NAME/ORG/PROJECT/REPO/`); merging SARIF
/// written under it keeps it, and `patrol merge --sarif-category` gives another.
#[test]
fn a_sarif_category_names_every_run_and_survives_the_merge() {
    let org = Org::build();
    let dir = org.dir.path();
    let cat = ["--sarif-category", "nightly-org"];
    let whole = dir.join("whole.sarif");
    let mut args = vec!["--format", "sarif", "-o", whole.to_str().unwrap()];
    args.extend(cat);
    org.command(&dir.join("cache-whole"), &args)
        .env_remove("TF_BUILD")
        .status()
        .unwrap();
    let whole = std::fs::read_to_string(&whole).unwrap();
    let ids = |doc: &Value| -> Vec<String> {
        doc["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["automationDetails"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let got = ids(&serde_json::from_str(&whole).unwrap());
    assert_eq!(got.len(), 6);
    for id in &got {
        assert!(
            id.starts_with("nightly-org/contoso/") && id.ends_with('/'),
            "{id}"
        );
    }
    assert!(got.contains(&"nightly-org/contoso/alpha/app/".to_string()));

    let report = |k: u32| dir.join(format!("shard-{k}.sarif"));
    for k in 0..2 {
        let out = report(k);
        let mut args = vec!["--format", "sarif", "-o", out.to_str().unwrap(), "--quiet"];
        args.extend(cat);
        let shard = format!("{k}/2");
        args.extend(["--shard", shard.as_str()]);
        org.command(&dir.join(format!("cache-{k}")), &args)
            .env_remove("TF_BUILD")
            .status()
            .unwrap();
    }
    let reports = [report(0), report(1)];
    let (_, merged, _) = merge(&reports, "sarif");
    assert_same_report(&merged, &whole, "merged under the shards' category");
    let out = patrol_cmd(&["merge"], root())
        .args(&reports)
        .args(["--format", "sarif", "--sarif-category", "other"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    for id in ids(&doc) {
        assert!(id.starts_with("other/contoso/"), "{id}");
    }
}

/// `--balance size`: the shards still cover the organization once and merge into the
/// unsharded report; shards that saw different listings (a repository grew between their
/// starts) are flagged after the merge, since a repository may then be missing or doubled.
#[test]
fn size_balanced_shards_merge_and_disagreeing_listings_are_flagged() {
    let org = Org::build();
    let dir = org.dir.path();
    let whole = unsharded(&org, "cache-whole", &dir.join("whole.json"));
    let report = |k: u32| dir.join(format!("size-{k}.json"));
    let run_shard = |k: u32| {
        let out = report(k);
        let shard = format!("{k}/2");
        let status = org
            .command(
                &dir.join(format!("cache-{k}")),
                &[
                    "--shard",
                    &shard,
                    "--balance",
                    "size",
                    "--format",
                    "json",
                    "-o",
                    out.to_str().unwrap(),
                    "--quiet",
                ],
            )
            .status()
            .unwrap();
        assert!(matches!(status.code(), Some(0..=2)));
    };
    run_shard(0);
    run_shard(1);
    let (a, b) = (
        scanned(&read_json(&report(0))),
        scanned(&read_json(&report(1))),
    );
    assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
    assert!(a.iter().all(|r| !b.contains(r)), "{a:?} {b:?}");
    let (code, merged, _) = merge(&[report(0), report(1)], "json");
    assert_eq!(code, 1);
    assert_same_report(&merged, &whole, "--balance size");

    // alpha/app grows to 64 MiB after shard 0 listed the organization.
    for r in org.mock.state.repos.lock().unwrap().iter_mut() {
        if r["name"] == "app" {
            r["size"] = serde_json::json!(64u64 << 20);
        }
    }
    run_shard(1);
    let (_, _, doc) = merge(&[report(0), report(1)], "json");
    let failed = doc["summary"]["organization"]["failed"].to_string();
    assert!(failed.contains("saw different listings"), "{failed}");
}
