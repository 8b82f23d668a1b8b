//! The `patrol` binary: parse the command line, dispatch, map the outcome to an exit code.

use clap::Parser;
use patrol::cli::Cli;
use patrol::cmd;

fn main() {
    cmd::hide_panic_messages();
    let command = match Cli::try_parse() {
        Ok(c) => c.command,
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
    let failure_report = cmd::failure_report(&command);
    let code = match cmd::dispatch(command) {
        Ok(code) => code,
        Err(e) => cmd::fail(&e, failure_report.as_ref()),
    };
    std::process::exit(code);
}
