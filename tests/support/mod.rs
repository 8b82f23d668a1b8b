//! The one test helper of the integration tests, included by each test file with `mod support;`.
//! One module a topic, and one way to do each thing:
//! - [`tokens`]: fake tokens from the project's own generator (the only kind a test may hold);
//! - [`fixture`]: template trees with `@@…@@` markers, rendered into temporary directories;
//! - [`run`]: running the real `patrol` binary (the only place that names it), under a deadline
//!   or not, parsed or raw;
//! - [`findings`]: picking fields out of findings for assertions;
//! - [`git`]: throwaway repositories built with the git CLI;
//! - [`sarif`]: the SARIF fixture and schema validation;
//! - [`verify`]: a mock Azure DevOps answering `--verify` requests;
//! - [`ado`]: a mock Azure DevOps organization for `patrol ado` (REST and smart HTTP);
//! - [`pty`]: running the binary on a pseudo-terminal.
//!
//! Every test binary compiles all of it and uses a part, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod ado;
pub mod findings;
pub mod fixture;
pub mod git;
pub mod pty;
pub mod run;
pub mod sarif;
pub mod tokens;
pub mod verify;
