//! `patrol completions`: shell completions.

use super::EXIT_CLEAN;
use crate::cli::{Cli, CompletionsArgs};
use anyhow::Result;
use clap::CommandFactory;

pub fn completions(args: CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "patrol", &mut std::io::stdout());
    Ok(EXIT_CLEAN)
}
