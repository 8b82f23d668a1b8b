//! Archives and packages, built for real (by the zip, tar and flate2 crates and by the `tar`
//! command) and scanned by the real binary in `scan`, `git` and `staged`: exact findings with
//! the member in the path, nesting, the decompression-bomb limits and `--no-archives`.

mod support;
use std::io::Write;
use std::process::Command;
use support::fixture::write;
use support::git::{Repo, patrol_git};
use support::run::{Report, patrol_cmd, report};
use support::tokens::pat;

fn nuget_config(token: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<configuration>\n  <packageSourceCredentials>\n    <contoso>\n      \
         <add key=\"ClearTextPassword\" value=\"{token}\" />\n    </contoso>\n  \
         </packageSourceCredentials>\n</configuration>\n"
    )
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn gzip_of(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *bytes).unwrap();
    }
    b.into_inner().unwrap()
}

type Place = (String, String, u64);

/// (path, rule, line) of every finding, sorted.
fn places(run: &Report) -> Vec<Place> {
    let mut v: Vec<Place> = run
        .findings()
        .into_iter()
        .map(|(rule, path, line, _)| (path, rule, line))
        .collect();
    v.sort();
    v
}

fn place(path: &str, rule: &str, line: u64) -> Place {
    (path.into(), rule.into(), line)
}

const PAT: &str = "azure-devops-pat";

#[test]
fn packages_and_archives_are_scanned_with_member_paths() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = nuget_config(&pat(1));
    let log = format!("step 1\nstep 2\nexport AZURE_DEVOPS_EXT_PAT={}\n", pat(2));
    let props = format!("feed.user=ci\nfeed.password={}\n", pat(3));
    write(
        d,
        "packages/contoso.1.0.0.nupkg",
        zip_of(&[
            ("contoso.nuspec", b"<package/>\n"),
            ("content/NuGet.config", config.as_bytes()),
        ]),
    );
    write(d, "logs/build.log.gz", gzip_of(log.as_bytes()));
    write(
        d,
        "lib/tool.jar",
        zip_of(&[
            ("META-INF/MANIFEST.MF", b"x\n"),
            ("app.properties", props.as_bytes()),
        ]),
    );
    write(
        d,
        "dist/site.tgz",
        gzip_of(&tar_of(&[("site/NuGet.config", config.as_bytes())])),
    );
    write(
        d,
        "dist/plain.tar",
        tar_of(&[("etc/build.log", log.as_bytes())]),
    );
    write(
        d,
        "ext/tool.vsix",
        zip_of(&[("extension/NuGet.config", config.as_bytes())]),
    );
    write(
        d,
        "py/tool-1.0-py3-none-any.whl",
        zip_of(&[("tool/build.log", log.as_bytes())]),
    );
    // A nested package: the nupkg inside a zip of release assets.
    let nupkg = zip_of(&[("content/NuGet.config", config.as_bytes())]);
    write(
        d,
        "release.zip",
        zip_of(&[("assets/contoso.nupkg", &nupkg)]),
    );

    let run = report(&["scan", "."], d);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        places(&run),
        vec![
            place("dist/plain.tar!etc/build.log", PAT, 3),
            place("dist/site.tgz!site/NuGet.config", PAT, 5),
            place("ext/tool.vsix!extension/NuGet.config", PAT, 5),
            place("lib/tool.jar!app.properties", PAT, 2),
            place("logs/build.log.gz", PAT, 3),
            place("packages/contoso.1.0.0.nupkg!content/NuGet.config", PAT, 5),
            place("py/tool-1.0-py3-none-any.whl!tool/build.log", PAT, 3),
            place(
                "release.zip!assets/contoso.nupkg!content/NuGet.config",
                PAT,
                5
            ),
        ]
    );
    let f = run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "packages/contoso.1.0.0.nupkg!content/NuGet.config")
        .unwrap();
    assert_eq!(f["archive_path"], "packages/contoso.1.0.0.nupkg");
    assert_eq!(f["member"], "content/NuGet.config");
    assert_eq!(f["column"], 43);
    let gz = run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "logs/build.log.gz")
        .unwrap();
    assert_eq!(gz["encoding"], "gzip");
    assert!(gz.get("archive_path").is_none());
    assert_eq!(run.summary("archive_limits"), 0);
    assert_eq!(run.summary("skipped_binary"), 0);

    let off = report(&["scan", ".", "--no-archives"], d);
    assert_eq!(off.code, 0, "{}", off.stderr);
    assert_eq!(off.summary("archive_members"), 0);
}

#[test]
fn tar_command_archives_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "src/conf/NuGet.config", nuget_config(&pat(4)).as_bytes());
    let made = Command::new("tar")
        .current_dir(d)
        .args(["czf", "bundle.tar.gz", "-C", "src", "conf"])
        .status();
    match made {
        Ok(s) if s.success() => {}
        _ => {
            eprintln!("skipped: the tar command is not available");
            return;
        }
    }
    std::fs::remove_dir_all(d.join("src")).unwrap();
    let run = report(&["scan", "."], d);
    assert_eq!(
        places(&run),
        vec![place("bundle.tar.gz!conf/NuGet.config", PAT, 5)]
    );
}

#[test]
fn zip_bomb_is_cut_off_with_a_warning_and_its_neighbours_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 32 MiB of zeros deflate to about 32 KiB: a ratio of 1,000, under --max-file-size (64 MiB).
    let zeros = vec![0u8; 32 << 20];
    let config = nuget_config(&pat(5));
    let bomb = zip_of(&[
        ("payload/zeros.bin", &zeros),
        ("content/NuGet.config", config.as_bytes()),
    ]);
    drop(zeros);
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    write(d, "bomb.nupkg", &bomb);
    write(
        d,
        "other.txt",
        format!("AZURE_DEVOPS_PAT={}\n", pat(6)).as_bytes(),
    );
    let started = std::time::Instant::now();
    let run = report(&["scan", "."], d);
    let took = started.elapsed();
    assert_eq!(
        places(&run),
        vec![
            place("bomb.nupkg!content/NuGet.config", PAT, 5),
            place("other.txt", PAT, 1),
        ]
    );
    assert_eq!(run.summary("archive_limits"), 1);
    assert!(
        run.stderr
            .contains("bomb.nupkg!payload/zeros.bin: inflates more than 100 times"),
        "{}",
        run.stderr
    );
    // Cut off after about 3 MiB, not 32.
    assert!(took.as_secs() < 30, "{took:?}");
}

#[test]
fn nesting_stops_at_three_levels() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = nuget_config(&pat(7));
    let level3 = zip_of(&[("NuGet.config", config.as_bytes())]);
    let level2 = zip_of(&[("c.zip", &level3)]);
    let level1 = zip_of(&[("b.zip", &level2)]);
    write(d, "three.zip", &level1);
    let level4 = zip_of(&[("a.zip", &level1)]);
    write(d, "four.zip", &level4);
    let run = report(&["scan", "."], d);
    assert_eq!(
        places(&run),
        vec![place("three.zip!b.zip!c.zip!NuGet.config", PAT, 5)]
    );
    assert_eq!(run.summary("archive_limits"), 1);
    assert!(
        run.stderr
            .contains("four.zip!a.zip!b.zip!c.zip: an archive nested more than 3 deep"),
        "{}",
        run.stderr
    );
}

#[test]
fn damaged_archive_is_unreadable_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let mut z = zip_of(&[("NuGet.config", nuget_config(&pat(8)).as_bytes())]);
    z.truncate(z.len() - 30);
    write(dir.path(), "broken.nupkg", &z);
    let run = report(&["scan", "."], dir.path());
    assert_eq!(run.summary("unreadable"), 1);
    assert!(
        run.stderr.contains("broken.nupkg: cannot read"),
        "{}",
        run.stderr
    );
}

#[test]
fn committed_and_staged_packages_are_scanned() {
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit_all("init");
    let nupkg = zip_of(&[("content/NuGet.config", nuget_config(&pat(9)).as_bytes())]);
    write(repo.path(), "packages/contoso.1.0.0.nupkg", &nupkg);
    repo.git(&["add", "-A"]);
    let staged = report(&["staged"], repo.path());
    assert_eq!(
        places(&staged),
        vec![place(
            "packages/contoso.1.0.0.nupkg!content/NuGet.config",
            PAT,
            5
        )]
    );
    let c = repo.commit_all("add package");
    let run = patrol_git(&repo, &[]);
    assert_eq!(
        run.findings(),
        vec![(
            PAT.to_string(),
            "packages/contoso.1.0.0.nupkg!content/NuGet.config".to_string(),
            5,
            Some(c.clone())
        )]
    );
    assert_eq!(
        run.json["findings"][0]["archive_path"],
        "packages/contoso.1.0.0.nupkg"
    );
}

#[test]
fn sarif_points_at_the_archive_and_names_the_member() {
    let dir = tempfile::tempdir().unwrap();
    let nupkg = zip_of(&[("content/NuGet.config", nuget_config(&pat(10)).as_bytes())]);
    write(dir.path(), "pkgs/contoso.nupkg", &nupkg);
    let out = patrol_cmd(&["scan", ".", "--format", "sarif"], dir.path())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &doc["runs"][0]["results"][0];
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "pkgs/contoso.nupkg");
    assert_eq!(loc["region"]["startLine"], 1);
    assert_eq!(result["properties"]["member"], "content/NuGet.config");
    assert_eq!(result["properties"]["archive_path"], "pkgs/contoso.nupkg");
    assert_eq!(result["properties"]["member_line"], 5);
    let text = result["message"]["text"].as_str().unwrap();
    assert!(
        text.contains("member content/NuGet.config of pkgs/contoso.nupkg"),
        "{text}"
    );
}
