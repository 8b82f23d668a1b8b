//! The layout docs/architecture.md promises: imports between top-level modules follow the order
//! written there and form no circle; files and functions stay small. The order is read from the
//! document, so the two cannot drift apart.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use support::fixture::files;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Files over [`MAX_FILE_LINES`] not yet split, each with its reason.
const LONG_FILES: &[(&str, &str)] = &[];

/// Functions over [`MAX_FN_LINES`] not yet split (`file`, `fn` name), each with its reason.
const LONG_FNS: &[(&str, &str, &str)] = &[];

const MAX_FILE_LINES: usize = 500;
const MAX_FN_LINES: usize = 80;

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = files(dir);
    out.retain(|p| p.extension().is_some_and(|x| x == "rs"));
    out
}

/// The layers of docs/architecture.md's "Import order", top first.
fn layers() -> Vec<Vec<String>> {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/architecture.md"))
        .expect("docs/architecture.md");
    let section = doc
        .split("## Import order")
        .nth(1)
        .expect("an `## Import order` section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a ```text block listing the layers");
    block
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|m| m.trim().to_string()).collect())
        .collect()
}

/// The top-level module a file of `src/` belongs to (`None` for the crate roots).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// The top-level modules `text` names through `crate::`, outside comments and outside its
/// `#[cfg(test)] mod tests { … }`: the order is the library's, and unit tests of any layer
/// may take tokens from the generator (`fake`), the only place tests get them.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == "#[cfg(test)]" {
            if lines
                .next()
                .is_some_and(|l| l.starts_with("mod ") && l.ends_with('{'))
            {
                lines.by_ref().find(|l| *l == "}");
            }
            continue;
        }
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        for (i, _) in code.match_indices("crate::") {
            if i > 0 && code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue; // `patrol_crate::`, not ours
            }
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Files holding a module's unit tests (`#[cfg(test)] #[path = "…"] mod tests;`).
fn test_files(src: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in rust_files(src) {
        let text = std::fs::read_to_string(&file).expect("readable");
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line != "#[cfg(test)]" {
                continue;
            }
            let target = lines
                .next()
                .and_then(|l| l.strip_prefix("#[path = \""))
                .and_then(|l| l.strip_suffix("\"]"));
            if let (Some(name), Some(dir)) = (target, file.parent()) {
                out.insert(dir.join(name));
            }
        }
    }
    out
}

/// Edges between top-level modules: importer -> (imported -> a file that does it). Unit tests
/// are left out (see [`imports`]).
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(ROOT).join("src");
    let tests = test_files(&src);
    let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).expect("under src").to_path_buf();
        let Some(from) = module_of(&rel) else {
            continue;
        };
        if tests.contains(&file) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let edges = g.entry(from.clone()).or_default();
        for to in imports(&text) {
            if to != from {
                edges
                    .entry(to)
                    .or_insert_with(|| format!("src/{}", rel.display()));
            }
        }
    }
    g
}

#[test]
fn every_module_has_a_place_in_the_import_order() {
    let layers = layers();
    let placed: BTreeSet<&String> = layers.iter().flatten().collect();
    let lib = std::fs::read_to_string(Path::new(ROOT).join("src/lib.rs")).expect("lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .collect();
    assert!(!declared.is_empty());
    let missing: Vec<&&str> = declared
        .iter()
        .filter(|m| !placed.contains(&m.to_string()))
        .collect();
    assert!(
        missing.is_empty(),
        "add these modules to docs/architecture.md's import order: {missing:?}"
    );
}

#[test]
fn imports_follow_the_documented_order() {
    let layers = layers();
    let layer_of = |m: &str| layers.iter().position(|l| l.iter().any(|x| x == m));
    let mut wrong = Vec::new();
    for (from, edges) in graph() {
        let Some(lf) = layer_of(&from) else { continue };
        for (to, file) in edges {
            match layer_of(&to) {
                Some(lt) if lt < lf => wrong.push(format!("{file}: {from} uses {to}")),
                _ => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against docs/architecture.md's order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn top_level_modules_import_no_circle() {
    let g = graph();
    // Depth-first search with an explicit stack; a grey node met again closes a circle.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 on the path, 2 done
    for start in g.keys() {
        if state.contains_key(start.as_str()) {
            continue;
        }
        let mut path: Vec<(&str, Vec<&str>)> = vec![(
            start.as_str(),
            g[start].keys().map(String::as_str).collect(),
        )];
        state.insert(start, 1);
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            let Some(to) = next.pop() else {
                state.insert(node, 2);
                path.pop();
                continue;
            };
            match state.get(to) {
                Some(1) => {
                    let at = path.iter().position(|(n, _)| *n == to).expect("on path");
                    let circle: Vec<&str> = path[at..].iter().map(|(n, _)| *n).collect();
                    panic!("import circle: {} -> {to}", circle.join(" -> "));
                }
                Some(_) => {}
                None => {
                    state.insert(to, 1);
                    let onward = g
                        .get(to)
                        .map(|e| e.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    path.push((to, onward));
                }
            }
        }
    }
}

#[test]
fn the_import_check_sees_a_violation() {
    // The parser itself: an upward `use` and an inline path are both found, comments are not.
    let found =
        imports("use crate::cmd::warn;\n// crate::report in a comment\nx(crate::scan::f());");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["cmd".to_string(), "scan".to_string()]
    );
    // Unit tests are not the library: what they import is not counted, what follows them is.
    let found = imports(
        "use crate::util;\n#[cfg(test)]\nmod tests {\n    use crate::fake;\n}\nuse crate::term;",
    );
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["term".to_string(), "util".to_string()]
    );
}

/// The length of each `fn` in `text` before its tests: (name, first line, lines, reason given).
fn functions(text: &str) -> Vec<(String, usize, usize, bool)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        // The inline unit tests close a file; any other `#[cfg(test)]` item is measured.
        let test_module = lines
            .get(i + 1)
            .is_some_and(|l| l.starts_with("mod ") && l.ends_with('{'));
        if line.starts_with("#[cfg(test)]") && test_module {
            break;
        }
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let after = [
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "fn ",
            "const fn ",
        ]
        .iter()
        .find_map(|p| code.strip_prefix(p));
        let Some(after) = after else { continue };
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{indent}}}");
        let Some(end) = lines[i..].iter().position(|l| *l == close) else {
            continue;
        };
        // A reason is a comment above the function (its doc or a plain comment) saying "Long".
        let reason = lines[..i]
            .iter()
            .rev()
            .take_while(|l| {
                let t = l.trim_start();
                t.starts_with("//") || t.starts_with("#[")
            })
            .any(|l| l.contains("Long:"));
        out.push((name, i + 1, end + 1, reason));
    }
    out
}

#[test]
fn files_and_functions_stay_small() {
    let src = Path::new(ROOT).join("src");
    let mut over = Vec::new();
    // Allow-list entries still needed: an entry for a file or function that is gone or small
    // again is stale and must be removed, so the lists say what is left to split.
    let mut long_files = BTreeSet::new();
    let mut long_fns = BTreeSet::new();
    for file in rust_files(&src) {
        let rel = format!(
            "src/{}",
            file.strip_prefix(&src).expect("under src").display()
        );
        let text = std::fs::read_to_string(&file).expect("readable");
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            long_files.insert(rel.clone());
            if !LONG_FILES.iter().any(|(f, _)| *f == rel) {
                over.push(format!("{rel}: {n} lines (at most {MAX_FILE_LINES})"));
            }
        }
        for (name, at, len, reason) in functions(&text) {
            let allowed = LONG_FNS.iter().any(|(f, n, _)| *f == rel && *n == name);
            if len > MAX_FN_LINES && !reason {
                long_fns.insert((rel.clone(), name.clone()));
                if !allowed {
                    over.push(format!(
                        "{rel}:{at}: fn {name} is {len} lines (at most {MAX_FN_LINES}, or say why above it with `Long:`)"
                    ));
                }
            }
        }
    }
    for (f, _) in LONG_FILES {
        if !long_files.contains(*f) {
            over.push(format!(
                "{f}: listed in LONG_FILES but gone or short now; remove it"
            ));
        }
    }
    for (f, n, _) in LONG_FNS {
        if !long_fns.contains(&(f.to_string(), n.to_string())) {
            over.push(format!(
                "{f}: fn {n} listed in LONG_FNS but gone or short now; remove it"
            ));
        }
    }
    assert!(over.is_empty(), "split these:\n{}", over.join("\n"));
}

#[test]
fn the_size_check_measures_functions() {
    let text = "fn a() {\n    x();\n}\n\n/// Long: a table.\npub fn b() {\n}\n";
    let f = functions(text);
    assert_eq!(f[0], ("a".to_string(), 1, 3, false));
    assert_eq!(f[1], ("b".to_string(), 6, 2, true));
    // A `#[cfg(test)]` item that is not the closing test module hides nothing after it.
    let text = "#[cfg(test)]\nmod tests;\nfn c() {\n}\n#[cfg(test)]\nmod tests {\nfn d() {\n}\n}\n";
    let names: Vec<String> = functions(text).into_iter().map(|f| f.0).collect();
    assert_eq!(names, ["c"]);
}

/// The library's files: `src/` without the command edge (`src/cmd/`, `src/main.rs`).
fn library_files() -> Vec<(String, String)> {
    let src = Path::new(ROOT).join("src");
    rust_files(&src)
        .into_iter()
        .filter_map(|file| {
            let rel = file.strip_prefix(&src).expect("under src").to_path_buf();
            if rel.starts_with("cmd") || rel == Path::new("main.rs") {
                return None;
            }
            let text = std::fs::read_to_string(&file).expect("readable");
            Some((format!("src/{}", rel.display()), text))
        })
        .collect()
}

/// Where `text` gives up a typed error: `anyhow`, or a `String` as the error type.
fn untyped_errors(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.contains("anyhow")
                || (l.contains("Result<") && l.contains(", String>"))
                || l.contains("type Err = String")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn the_library_has_typed_errors_and_anyhow_stays_at_the_command_edge() {
    let mut found = Vec::new();
    for (rel, text) in library_files() {
        for line in untyped_errors(&text) {
            found.push(format!("{rel}:{line}"));
        }
    }
    assert!(
        found.is_empty(),
        "the library returns typed errors (a thiserror type whose Display is the message); \
         anyhow belongs in src/cmd/ and src/main.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_error_check_sees_untyped_errors() {
    let text = "use anyhow::Result;\nfn a() -> Result<u8, String> {}\nfn b() -> Result<u8, E> {}\n\
                impl FromStr for X {\n    type Err = String;\n}\n";
    assert_eq!(untyped_errors(text), vec![1, 2, 5]);
    assert!(
        library_files()
            .iter()
            .all(|(f, _)| !f.starts_with("src/cmd/"))
    );
    assert!(library_files().iter().any(|(f, _)| f == "src/outfile.rs"));
}
