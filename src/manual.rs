//! Manual pages: one per command and subcommand, from clap's definitions (every option, as
//! `--help` shows it) plus the sections clap does not know: EXIT STATUS, ENVIRONMENT, FILES,
//! EXAMPLES and SEE ALSO. Rendering only: `cmd::man` writes the pages.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;

/// A rendered page: its file name (`patrol-scan.1`) and roff text.
pub struct Page {
    pub file_name: String,
    pub roff: Vec<u8>,
}

/// Every page: `patrol.1`, then one per subcommand at any depth (`patrol-baseline-create.1`).
pub fn pages() -> std::io::Result<Vec<Page>> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut names = Vec::new();
    collect_names(&top, &mut names);
    let mut out = Vec::new();
    let mut stack = vec![top];
    while let Some(cmd) = stack.pop() {
        let mut subs: Vec<clap::Command> = cmd.get_subcommands().cloned().collect();
        subs.reverse();
        out.push(page(&cmd, &names)?);
        stack.extend(subs);
    }
    Ok(out)
}

/// `patrol`, `patrol-scan`, … for SEE ALSO.
fn collect_names(cmd: &clap::Command, names: &mut Vec<String>) {
    let mut stack = vec![cmd];
    while let Some(c) = stack.pop() {
        names.push(display_name(c).to_string());
        let mut subs: Vec<&clap::Command> = c.get_subcommands().collect();
        subs.reverse();
        stack.extend(subs);
    }
}

fn display_name(cmd: &clap::Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

fn page(cmd: &clap::Command, all: &[String]) -> std::io::Result<Page> {
    let man = clap_mangen::Man::new(cmd.clone()).manual("patrol manual");
    let name = display_name(cmd).to_string();
    let mut roff = Vec::new();
    man.render_title(&mut roff)?;
    man.render_name_section(&mut roff)?;
    man.render_synopsis_section(&mut roff)?;
    man.render_description_section(&mut roff)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut roff)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut roff)?;
    }
    let scanning = matches!(
        name.as_str(),
        "patrol"
            | "patrol-scan"
            | "patrol-git"
            | "patrol-staged"
            | "patrol-baseline"
            | "patrol-baseline-create"
            | "patrol-baseline-check"
    );
    section(&mut roff, "EXIT STATUS", &exit_status(&name))?;
    if scanning {
        section(&mut roff, "ENVIRONMENT", &environment())?;
        section(&mut roff, "FILES", &files())?;
    }
    let examples = examples(&name);
    if !examples.is_empty() {
        section(&mut roff, "EXAMPLES", &examples)?;
    }
    let others: Vec<String> = all
        .iter()
        .filter(|n| **n != name)
        .map(|n| format!("{n}(1)"))
        .collect();
    section(&mut roff, "SEE ALSO", &[Para::Text(others.join(", "))])?;
    if cmd.get_version().is_some() {
        man.render_version_section(&mut roff)?;
    }
    Ok(Page {
        file_name: man.get_filename(),
        roff,
    })
}

/// A paragraph of a section.
enum Para {
    /// Plain text.
    Text(String),
    /// A term (set in bold) and what it means, as an indented paragraph.
    Item(String, String),
    /// A command line, set apart as an example.
    Example(String, String),
}

/// Write `.SH TITLE` and its paragraphs, escaping text for roff.
fn section(w: &mut Vec<u8>, title: &str, paras: &[Para]) -> std::io::Result<()> {
    writeln!(w, ".SH \"{title}\"")?;
    for p in paras {
        match p {
            Para::Text(t) => writeln!(w, ".PP\n{}", escape(t))?,
            Para::Item(term, text) => {
                writeln!(w, ".TP\n\\fB{}\\fR\n{}", escape(term), escape(text))?
            }
            Para::Example(what, line) => writeln!(
                w,
                ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE",
                escape(what),
                escape(line)
            )?,
        }
    }
    Ok(())
}

/// Text as roff shows it literally: backslashes and hyphens escaped, no line starting with a
/// control character.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split('\n') {
        if !out.is_empty() {
            out.push('\n');
        }
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line.replace('\\', "\\e").replace('-', "\\-"));
    }
    out
}

fn item(term: &str, text: &str) -> Para {
    Para::Item(term.to_string(), text.to_string())
}

fn exit_status(name: &str) -> Vec<Para> {
    let one = match name {
        "patrol-baseline-check" => {
            "Stale baseline entries: entries that match no finding any more."
        }
        "patrol-rules-check" => "A rule fails one of its examples or negative examples.",
        "patrol" | "patrol-scan" | "patrol-git" | "patrol-staged" => {
            "The scan completed and found at least one secret (with \
             --fail-on valid: at least one verified live)."
        }
        _ => "",
    };
    let mut v = vec![item(
        "0",
        "Success; for a scan: completed with no findings.",
    )];
    if !one.is_empty() {
        v.push(item("1", one));
    }
    v.push(item(
        "2",
        "Error: bad usage, unreadable root path, not a git repository, bad range, invalid \
         configuration, baseline or rule file. The message on stderr names what was given and \
         what to do.",
    ));
    v.push(item(
        "130",
        "Interrupted (Ctrl-C): nothing was reported, and an --output file was neither created \
         nor replaced.",
    ));
    v
}

fn environment() -> Vec<Para> {
    vec![
        item(
            "PATROL_ADO_BASE_URL",
            "For tests: send --verify requests to this loopback address (http://127.0.0.1:PORT) \
             instead of Azure DevOps. Any other host is refused.",
        ),
        item(
            "NO_COLOR",
            "Set to a non-empty value: no colour (an empty value changes nothing).",
        ),
        item(
            "CLICOLOR_FORCE",
            "Set and not 0: colour even when stdout is not a terminal.",
        ),
        item("CLICOLOR", "0: no colour."),
        item("TERM", "dumb: no colour."),
        item(
            "CI",
            "Set (as CI systems do): no progress line, even on a terminal.",
        ),
        item(
            "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY",
            "The proxy --verify requests go through.",
        ),
        Para::Text(
            "--color always or never wins over every variable above; colour is only ever used \
             in human output."
                .to_string(),
        ),
    ]
}

fn files() -> Vec<Para> {
    vec![
        item(
            ".patrol.toml",
            "Configuration in the scanned root (or the repository's work tree), unless --config \
             names another: exclude, disable_rules, rules, min_confidence, allow_values, \
             allow_regexes. Unknown keys are errors.",
        ),
        item(
            ".patrol-baseline.json",
            "The default baseline: accepted findings by rule id and secret hash (and path \
             relative to the scanned root with --with-paths). Written by patrol baseline create, \
             read with --baseline.",
        ),
        item(
            ".git/hooks/pre-commit",
            "Written by patrol install-hook (or core.hooksPath): runs patrol staged.",
        ),
        item(
            "RULES.toml",
            "Extra rule files given with --rules or the configuration's rules key.",
        ),
    ]
}

fn examples(name: &str) -> Vec<Para> {
    let ex = |what: &str, line: &str| Para::Example(what.to_string(), line.to_string());
    match name {
        "patrol" => vec![
            ex("Scan the current directory:", "patrol scan"),
            ex("Scan all of a repository's history:", "patrol git"),
            ex("Block commits that add a secret:", "patrol install-hook"),
        ],
        "patrol-scan" => vec![
            ex(
                "Scan a tree; findings name tree/… paths:",
                "patrol scan tree",
            ),
            ex(
                "Write SARIF for code scanning:",
                "patrol scan . --format sarif -o patrol.sarif",
            ),
            ex("Check found tokens live:", "patrol scan . --verify"),
            ex(
                "Scan what a program prints:",
                "some-command | patrol scan -",
            ),
        ],
        "patrol-git" => vec![
            ex("Every blob reachable from any ref:", "patrol git"),
            ex(
                "Only what a pull request adds:",
                "patrol git --range origin/main..HEAD",
            ),
            ex(
                "Since a tag, as JSON:",
                "patrol git --since v1.2 --format json",
            ),
        ],
        "patrol-staged" => vec![ex(
            "In a pre-commit hook (what patrol install-hook writes):",
            "patrol staged",
        )],
        "patrol-baseline" | "patrol-baseline-create" => vec![
            ex("Accept today's findings:", "patrol baseline create"),
            ex(
                "From a gitleaks report:",
                "gitleaks dir . -f json -r gitleaks.json; patrol baseline create --from gitleaks.json",
            ),
            ex(
                "Then report only new findings:",
                "patrol scan . --baseline .patrol-baseline.json",
            ),
        ],
        "patrol-baseline-check" => vec![ex(
            "List entries that no longer match:",
            "patrol baseline check",
        )],
        "patrol-rules" | "patrol-rules-list" | "patrol-rules-check" => vec![
            ex("The rules in effect:", "patrol rules list"),
            ex(
                "Prove extra rules against their examples:",
                "patrol rules check --rules ci/extra-rules.toml",
            ),
        ],
        "patrol-fake-token" => vec![ex(
            "Three identifiable test tokens:",
            "patrol fake-token --kind identifiable -n 3",
        )],
        "patrol-install-hook" => vec![ex(
            "Install, replacing an existing hook:",
            "patrol install-hook --force",
        )],
        "patrol-completions" => vec![ex(
            "Bash completions:",
            "patrol completions bash > ~/.local/share/bash-completion/completions/patrol",
        )],
        "patrol-man" => vec![ex(
            "Install every page:",
            "patrol man --output ~/.local/share/man/man1",
        )],
        _ => Vec::new(),
    }
}
