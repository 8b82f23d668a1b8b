//! Organization scans (`patrol ado`): which organization and token ([`target`]), the REST
//! calls that list projects, repositories and pipeline variables ([`rest`]), bare mirrors in
//! the cache ([`mirror`]) fetched over the HTTP transport of [`transport`], the record of blobs already scanned ([`record`]), and the findings
//! of pipeline variables ([`variables`]). The command itself is `cmd::ado`; the history engine
//! is `source::git`. docs/ado.md describes the whole flow.

pub mod mirror;
pub mod record;
pub mod rest;
pub mod shard;
pub mod target;
pub mod transport;
pub mod variables;
