//! Terminal-safe text: control characters in text that comes from a scanned repository (file
//! names, commit authors and summaries) are shown as escapes, so that a crafted name cannot
//! start a new line, move the cursor or recolour the screen and forge patrol's own output.

use std::borrow::Cow;

/// `s` with every control character (C0, DEL, C1) and every bidirectional-override character
/// written as a visible escape: `\n`, `\r`, `\t`, `\e`, `\u{202e}`, … A backslash stays as is.
///
/// ```
/// use patrol::report::escape::printable;
/// assert_eq!(printable("a\nb\x1b[2J"), r"a\nb\e[2J");
/// assert_eq!(printable("plain/path.rs"), "plain/path.rs");
/// ```
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '\x1b' => out.push_str(r"\e"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn escapes_every_control_character() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            let shown = printable(&s);
            assert!(!shown.chars().any(char::is_control), "{:x}", c as u32);
            assert!(shown.starts_with('a') && shown.ends_with('b'));
        }
        assert_eq!(printable("x\u{202e}y"), r"x\u{202e}y");
        assert_eq!(printable("ünïcode ok"), "ünïcode ok");
    }
}
