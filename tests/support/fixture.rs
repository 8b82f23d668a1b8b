//! Fixture trees: templates under fixtures/ whose `@@KIND:N@@` markers stand for fake tokens,
//! rendered into temporary directories (tokens exist only once rendered), and small files.

use super::tokens::{B64, app_pat, id_key, pat};
use base64::Engine;
use patrol::fake;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The value a fixture marker stands for: `@@KIND:N@@` or `@@KEY:SIG:N@@`.
pub fn marker_value(kind: &str, arg: &str) -> String {
    let n = |s: &str| s.parse::<u64>().expect("marker number");
    match kind {
        "PAT" => pat(n(arg)),
        "APPPAT" => app_pat(n(arg)),
        "IDPAT" => id_key(n(arg), "AZDO"),
        "B64PAT" => B64.encode(pat(n(arg))),
        "BASICPAT" => B64.encode(format!(":{}", pat(n(arg)))),
        "BASICUSERPAT" => B64.encode(format!("build:{}", pat(n(arg)))),
        // `echo "ada.tester@contoso.com:$PAT" | base64`: wrapped at 76 columns, the lines after
        // the first indented by 4 spaces (the marker stands indented in a YAML block).
        "B64WRAP" => {
            let text = B64.encode(format!("ada.tester@contoso.com:{}\n", pat(n(arg))));
            let lines: Vec<&str> = text
                .as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect();
            lines.join("\n    ")
        }
        "BROKEN" => fake::broken(&pat(n(arg))),
        "BROKENID" => fake::broken(&id_key(n(arg), "AZDO")),
        "KEY" => {
            let (sig, num) = arg.split_once(':').expect("KEY:SIG:N");
            id_key(n(num), sig)
        }
        other => panic!("unknown marker kind {other}"),
    }
}

/// Replace every `@@…@@` marker in `text`.
pub fn render_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("@@") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let j = after.find("@@").expect("closed marker");
        let body = &after[..j];
        let (kind, arg) = body.split_once(':').expect("KIND:ARG");
        out.push_str(&marker_value(kind, arg));
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Copy a template tree (fixtures/…) into `dest`, rendering markers in every file.
///
/// Archives are built from templates too (tokens exist only once rendered): a directory named
/// `NAME@zip` or `NAME@tgz` becomes the zip or gzipped tar `NAME` of its rendered files, and a
/// file named `NAME@gz` the gzip `NAME` of its rendered text. A file named `NAME@utf16le`
/// becomes its text in UTF-16LE with a BOM, one named `NAME@link` a symbolic link `NAME` to
/// the path it holds; markers in file names are rendered too.
pub fn render_tree(template: &Path, dest: &Path) {
    for entry in files(template) {
        let rel = entry.strip_prefix(template).unwrap();
        let target = dest.join(render_text(&rel.to_string_lossy()));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&entry).unwrap();
        std::fs::write(&target, render_text(&text)).unwrap();
    }
    pack_archives(dest);
}

/// The template path a finding's path comes from: `a.nupkg!b` is `a.nupkg@zip/b` (or `@tgz`),
/// a gzipped file `x.gz` is `x.gz@gz`.
pub fn template_path(template: &Path, path: &str) -> PathBuf {
    if let Some((archive, member)) = path.split_once('!') {
        for kind in ["zip", "tgz"] {
            let p = template.join(format!("{archive}@{kind}")).join(member);
            if p.exists() {
                return p;
            }
        }
    }
    for kind in ["gz", "utf16le", "link"] {
        let p = template.join(format!("{path}@{kind}"));
        if p.exists() {
            return p;
        }
    }
    template.join(path)
}

fn pack_archives(dir: &Path) {
    use std::io::Write;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            pack_archives(&p);
        }
        let Some((base, kind)) = name.rsplit_once('@') else {
            continue;
        };
        let out = p.with_file_name(base);
        match kind {
            "utf16le" => {
                let text = format!("\u{FEFF}{}", std::fs::read_to_string(&p).unwrap());
                let bytes: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
                std::fs::write(&out, bytes).unwrap();
                std::fs::remove_file(&p).unwrap();
            }
            #[cfg(unix)]
            "link" => {
                let to = std::fs::read_to_string(&p).unwrap();
                std::fs::remove_file(&p).unwrap();
                std::os::unix::fs::symlink(to.trim_end(), &out).unwrap();
            }
            "gz" => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&std::fs::read(&p).unwrap()).unwrap();
                std::fs::write(&out, e.finish().unwrap()).unwrap();
                std::fs::remove_file(&p).unwrap();
            }
            "zip" => {
                let mut w = zip::ZipWriter::new(std::fs::File::create(&out).unwrap());
                let opts = zip::write::SimpleFileOptions::default();
                for f in files(&p) {
                    let rel = f
                        .strip_prefix(&p)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    w.start_file(rel, opts).unwrap();
                    w.write_all(&std::fs::read(&f).unwrap()).unwrap();
                }
                w.finish().unwrap();
                std::fs::remove_dir_all(&p).unwrap();
            }
            "tgz" => {
                let gz = flate2::write::GzEncoder::new(
                    std::fs::File::create(&out).unwrap(),
                    flate2::Compression::default(),
                );
                let mut b = tar::Builder::new(gz);
                b.append_dir_all(".", &p).unwrap();
                b.into_inner().unwrap().finish().unwrap();
                std::fs::remove_dir_all(&p).unwrap();
            }
            _ => {}
        }
    }
}

/// Every file under `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("readable directory") {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The fixture templates of the repository.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Write `bytes` at `dir/rel`, creating parent directories.
pub fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("has a parent")).expect("create dirs");
    std::fs::write(p, bytes).expect("write file");
}

/// Map of marker text to value for assertions about where tokens are.
pub fn values(markers: &[(&str, &str)]) -> BTreeMap<String, String> {
    markers
        .iter()
        .map(|(k, a)| (format!("{k}:{a}"), marker_value(k, a)))
        .collect()
}
