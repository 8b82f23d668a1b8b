//! `patrol man`: the manual pages.

use super::EXIT_CLEAN;
use crate::cli::ManArgs;
use anyhow::{Context, Result};
use std::io::Write;

/// `patrol man`: patrol.1 to stdout, or every page into `--output DIR`.
pub fn man(args: ManArgs) -> Result<i32> {
    let pages = crate::manual::pages().context("cannot render the manual pages")?;
    match args.output {
        None => {
            let top = pages.first().expect("patrol.1 comes first");
            std::io::stdout().write_all(&top.roff)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir).with_context(|| {
                format!(
                    "{}: cannot create the directory (give a writable one)",
                    dir.display()
                )
            })?;
            for page in &pages {
                // Replaced, never written through: a link planted in the directory (a checkout's
                // man/ folder) must not redirect the page.
                let path = dir.join(&page.file_name);
                crate::outfile::replace(&path, &page.roff, Some(0o644))?;
            }
            eprintln!("wrote {} manual pages to {}", pages.len(), dir.display());
        }
    }
    Ok(EXIT_CLEAN)
}
