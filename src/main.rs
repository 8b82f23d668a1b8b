//! The `patrol` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser;
use patrol::cli::{Cli, Command};
use patrol::{cmd, cmd_git, cmd_workflow};

fn main() {
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
    let result = match cli.command {
        Command::Scan(args) => cmd::scan(args),
        Command::Rules(c) => cmd::rules_cmd(c),
        Command::FakeToken(a) => cmd::fake_token(a),
        Command::Git(a) => cmd_git::git(a),
        Command::Staged(a) => cmd_git::staged(a),
        Command::Baseline(c) => cmd_workflow::baseline(c),
        Command::InstallHook(a) => cmd_workflow::install_hook(a),
        Command::Completions(a) => cmd_workflow::completions(a),
        Command::Man => cmd_workflow::man(),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(cmd::EXIT_ERROR);
        }
    }
}
