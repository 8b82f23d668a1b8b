//! The `patrol` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser;
use patrol::cli::{Cli, Command};
use patrol::report::redact;
use patrol::{cmd, cmd_ado, cmd_git, cmd_merge, cmd_workflow};

fn main() {
    // A panic message can quote whatever the code was looking at, scanned text included:
    // print where it happened, never what.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "patrol: internal error{at} (its message is withheld because it may quote scanned \
             content); please report it with the command that triggered it"
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                cmd::EXIT_ERROR
            } else {
                cmd::EXIT_CLEAN
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    patrol::interrupt::install();
    let sarif_output = cmd::sarif_output_of(&cli.command);
    let result = match cli.command {
        Command::Scan(args) => cmd::scan(args),
        Command::Rules(c) => cmd::rules_cmd(c),
        Command::FakeToken(a) => cmd::fake_token(a),
        Command::Git(a) => cmd_git::git(a),
        Command::Staged(a) => cmd_git::staged(a),
        Command::Baseline(c) => cmd_workflow::baseline(c),
        Command::InstallHook(a) => cmd_workflow::install_hook(a),
        Command::Completions(a) => cmd_workflow::completions(a),
        Command::Man(a) => cmd_workflow::man(a),
        Command::Ado(a) => cmd_ado::ado(a),
        Command::Merge(a) => cmd_merge::merge(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // The message may name a path from the scanned tree: no raw control characters.
            let msg = cmd::error_text(&e);
            // An error before the rules were loaded (a clone URL given as the repository)
            // is scrubbed with the built-in ones.
            if !redact::watching()
                && let Ok(m) = patrol::detect::Matcher::new(patrol::rules::builtin_rules())
            {
                redact::watch_text_with(std::sync::Arc::new(m));
            }
            let msg = redact::scrub_text(&msg);
            let msg = patrol::report::escape::printable(&msg);
            eprintln!("patrol: {msg}");
            if let Some((path, category)) = &sarif_output {
                cmd::write_failure_sarif(path, category, &msg);
            }
            std::process::exit(cmd::EXIT_ERROR);
        }
    }
}
