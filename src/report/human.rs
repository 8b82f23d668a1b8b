//! Human output: one block per finding, grouped by file, and a closing summary line.

use super::{Report, advice::advice, escape::printable, shown_secret};
use crate::finding::Verification;
use crate::source::fs::human_bytes;
use std::fmt::Write;

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn render(r: &Report) -> String {
    let p = Paint(r.color);
    let mut out = String::new();
    if !r.quiet {
        let mut last_path: Option<&str> = None;
        for f in r.findings {
            if last_path != Some(f.path.as_str()) {
                if last_path.is_some() {
                    out.push('\n');
                }
                let _ = writeln!(out, "{}", p.wrap("1;4", &printable(&f.path)));
                last_path = Some(&f.path);
            }
            let sev = match f.severity.as_str() {
                "critical" | "high" => p.wrap("1;31", f.severity.as_str()),
                _ => p.wrap("33", f.severity.as_str()),
            };
            let _ = write!(
                out,
                "  {}:{}:{}  {}  {} [{}]  {}",
                printable(&f.path),
                f.line,
                f.column,
                sev,
                printable(&f.rule_name),
                printable(&f.rule_id),
                p.wrap("1", &shown_secret(f, r.show_secrets)),
            );
            if let Some(org) = &f.organization {
                let _ = write!(out, "  org={}", printable(org));
            }
            if let Some(enc) = &f.encoding {
                let _ = write!(out, "  ({enc})");
            }
            if let Some(what) = crate::report::origin_text(f) {
                let _ = write!(out, "  [{what}]");
            }
            out.push('\n');
            if let Some(c) = &f.commit {
                let short = &c.id[..c.id.len().min(10)];
                let _ = writeln!(
                    out,
                    "    commit {}  {} <{}>  {}  {}",
                    printable(short),
                    printable(&c.author_name),
                    printable(&c.author_email),
                    printable(&c.date),
                    printable(&c.summary)
                );
            }
            match &f.verification {
                Verification::NotChecked => {}
                Verification::Valid { identity, .. } => {
                    let who = printable(identity.as_deref().unwrap_or("unknown identity"));
                    let _ = writeln!(
                        out,
                        "    {}",
                        p.wrap("1;31", &format!("LIVE: valid token of {who}"))
                    );
                }
                Verification::Invalid => {
                    let _ = writeln!(out, "    verified: invalid (revoked or expired)");
                }
                Verification::Unknown { reason } => {
                    let _ = writeln!(out, "    verified: unknown ({})", printable(reason));
                }
            }
            let _ = writeln!(
                out,
                "    ↳ {}",
                advice(&f.provider, f.organization.as_deref()).hint
            );
        }
        if !r.findings.is_empty() {
            out.push('\n');
        }
    }
    let s = r.summary;
    let mut line = String::new();
    if let (Some(c), Some(b)) = (s.commits, s.blobs) {
        let _ = write!(line, "{c} commits, {b} unique blobs, ");
    } else {
        let _ = write!(line, "{} files, ", s.files_scanned);
    }
    let _ = write!(
        line,
        "{} scanned in {:.2} s; skipped {} too large, {} binary, {} special; {} unreadable; ",
        human_bytes(s.bytes_scanned),
        s.elapsed_ms as f64 / 1000.0,
        s.skipped_large,
        s.skipped_binary,
        s.skipped_other,
        s.unreadable,
    );
    if s.archive_members > 0 || s.archive_limits > 0 {
        let _ = write!(line, "{} archive members", s.archive_members);
        if s.archive_limits > 0 {
            let _ = write!(line, " ({} over archive limits)", s.archive_limits);
        }
        line.push_str("; ");
    }
    let count = format!(
        "{} finding{}",
        s.findings,
        if s.findings == 1 { "" } else { "s" }
    );
    let _ = write!(
        line,
        "{}",
        if s.findings > 0 {
            p.wrap("1;31", &count)
        } else {
            p.wrap("32", &count)
        }
    );
    if s.suppressed > 0 {
        let _ = write!(line, " ({} suppressed)", s.suppressed);
    }
    let _ = writeln!(out, "{line}");
    out
}
