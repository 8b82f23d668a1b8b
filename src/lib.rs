//! patrol: a leaked-secret scanner for Azure DevOps PATs and HTTP Basic credentials.
//!
//! Data flows one way: `cmd` → `source` → `scan`/`detect` → `report`; docs/architecture.md
//! maps the modules and their import order. Token formats: docs/formats.md.

pub mod ado;
pub mod archive;
pub mod baseline;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod detect;
pub mod exclude;
pub mod fake;
pub mod finding;
pub mod gitleaks;
pub mod interrupt;
pub mod manual;
pub mod outfile;
pub mod parse_error;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
pub mod term;
pub mod util;
pub mod verify;
