//! Describing why a configuration, rule or baseline file was rejected without quoting it.
//!
//! Such files hold secrets on purpose (allow values, rule examples) or by accident (a token
//! pasted where a list belongs), and the parsers' own messages quote what they reject
//! (`invalid type: string "<token>", expected a sequence`). A [`Rejection`] says where (line),
//! which key (only when it is one of the file's own key names) and what was expected; any
//! quoted text of the input is left out.

/// Where and why a file was rejected; its `Display` is safe to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: Option<usize>,
    pub key: Option<&'static str>,
    pub problem: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(key) = self.key {
            write!(f, "key `{key}`: ")?;
        }
        f.write_str(&self.problem)
    }
}

/// Describe a parser's `message` about `text` at byte `offset`. `keys` are the key names the
/// file may use: the one the error is about is named when it is among them.
pub fn reject(
    text: &str,
    offset: Option<usize>,
    message: &str,
    keys: &[&'static str],
) -> Rejection {
    let offset = offset.map(|o| o.min(text.len()));
    Rejection {
        line: offset.map(|o| line_of(text, o)),
        key: offset.and_then(|o| key_before(text, o, keys)),
        problem: problem(message, keys),
    }
}

/// 1-based line of byte `offset`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The last of `keys` written as a key (`name =`, `"name":`) at or before `offset`.
fn key_before(text: &str, offset: usize, keys: &[&'static str]) -> Option<&'static str> {
    let bytes = text.as_bytes();
    // A parser's position may fall inside a multi-byte character (serde_json counts bytes):
    // back off to the character's start rather than slice through it.
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let mut best: Option<(usize, &'static str)> = None;
    for &k in keys {
        let mut from = 0;
        while let Some(i) = text[from..offset].find(k) {
            let at = from + i;
            from = at + k.len();
            let before = at.checked_sub(1).map(|j| bytes[j]);
            let boundary = before.is_none_or(|b| !(b.is_ascii_alphanumeric() || b == b'_'));
            let rest = text[from..].trim_start_matches(['"', ' ', '\t']);
            if boundary
                && (rest.starts_with('=') || rest.starts_with(':'))
                && best.is_none_or(|(p, _)| at > p)
            {
                best = Some((at, k));
            }
        }
    }
    best.map(|(_, k)| k)
}

/// What went wrong, from a serde or parser message, with the input's text left out.
///
/// serde's messages read `<what was found>, expected <what the type wants>`: the first part
/// quotes the input, the second comes from patrol's own types and is kept.
fn problem(message: &str, keys: &[&'static str]) -> String {
    let first = message.lines().next().unwrap_or_default().trim();
    // The last `, expected`: quoted input may hold the words too, patrol's types do not.
    let (found, expected) = match first.rsplit_once(", expected ") {
        Some((f, e)) => (f, Some(e)),
        None => (first, None),
    };
    let named = |rest: &str| {
        let name = rest.trim().trim_matches('`');
        keys.iter().find(|k| **k == name).copied()
    };
    let serde_shaped = [
        "invalid type: ",
        "unknown field",
        "unknown variant",
        "invalid value",
        "invalid length",
        "missing field",
        "duplicate field",
    ]
    .iter()
    .any(|p| found.starts_with(p));
    let found = if let Some(rest) = found.strip_prefix("invalid type: ") {
        let kind = rest.split([' ', '`', '"']).next().unwrap_or("value");
        format!("wrong type (found {kind})")
    } else if let Some(rest) = found.strip_prefix("unknown field") {
        // A misspelt key is worth naming; anything that could be a credential is not.
        let name = rest.trim().trim_matches('`');
        if !name.is_empty()
            && name.len() <= 24
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        {
            format!("unknown key `{name}`")
        } else {
            "unknown key".to_string()
        }
    } else if found.starts_with("unknown variant") {
        "unknown value".to_string()
    } else if found.starts_with("invalid value") {
        "invalid value".to_string()
    } else if found.starts_with("invalid length") {
        "wrong number of items".to_string()
    } else if let Some(rest) = found.strip_prefix("missing field") {
        match named(rest) {
            Some(k) => format!("missing key `{k}`"),
            None => "missing key".to_string(),
        }
    } else if let Some(rest) = found.strip_prefix("duplicate field") {
        match named(rest) {
            Some(k) => format!("key `{k}` given twice"),
            None => "key given twice".to_string(),
        }
    } else {
        without_quotes(found)
    };
    match expected {
        Some(e) => {
            // serde_json appends the position, which is given separately.
            let e = e.split(" at line ").next().unwrap_or(e);
            // serde's expectations come from patrol's types and are kept as they are.
            let e = if serde_shaped {
                e.to_string()
            } else {
                without_quotes(e)
            };
            format!("{found}, expected {e}")
        }
        None => found,
    }
}

/// `s` with every quoted span longer than 3 characters (`"…"`, `'…'`, `` `…` ``) replaced by
/// `…`: short ones are punctuation the parser expected (`` `]` ``), long ones may be input.
pub fn without_quotes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['"', '\'', '`']) {
        let q = rest[i..].chars().next().expect("found");
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find(q) {
            Some(j) if j <= 3 => {
                out.push_str(&rest[i..i + j + 2]);
                rest = &after[j + 1..];
            }
            Some(j) => {
                out.push(q);
                out.push('…');
                out.push(q);
                rest = &after[j + 1..];
            }
            None => {
                out.push('…');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// What is wrong with a regex, without the regex: the full error quotes the pattern, and an
/// allow pattern or rule pattern can hold (part of) a secret.
pub fn regex_problem(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .last()
            .map_or("syntax error", |l| l.trim_start_matches("error: "))
            .to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["allow_values", "exclude"];

    #[test]
    fn type_errors_keep_line_key_and_expectation_but_not_the_value() {
        let text = "exclude = []\nallow_values = \"s3cr3tValue99\"\n";
        let r = reject(
            text,
            text.find("\"s3"),
            "invalid type: string \"s3cr3tValue99\", expected a sequence",
            KEYS,
        );
        assert_eq!(
            r.to_string(),
            "line 2: key `allow_values`: wrong type (found string), expected a sequence"
        );
    }

    #[test]
    fn unknown_keys_are_named_only_when_they_look_like_keys() {
        let p = |m: &str| problem(m, KEYS);
        assert_eq!(
            p("unknown field `exclud`, expected one of `exclude`"),
            "unknown key `exclud`, expected one of `exclude`"
        );
        assert_eq!(
            p("unknown field `Xy7kq2wQ9`, expected one of `exclude`"),
            "unknown key, expected one of `exclude`"
        );
        assert_eq!(p("missing field `exclude`"), "missing key `exclude`");
        assert_eq!(p("missing field `s3cr3t`"), "missing key");
    }

    #[test]
    fn input_pretending_to_be_an_expectation_is_not_quoted() {
        let m = "invalid value: string \"a, expected s3cr3tValue99\", expected low, medium or high";
        assert_eq!(
            problem(m, KEYS),
            "invalid value, expected low, medium or high"
        );
        assert_eq!(
            without_quotes("bad `]` near \"s3cr3tValue99\" and 's3cr3t"),
            "bad `]` near \"…\" and …"
        );
    }

    #[test]
    fn serde_json_positions_are_dropped_from_the_expectation() {
        let m = "invalid type: string \"x\", expected u32 at line 1 column 20";
        assert_eq!(problem(m, KEYS), "wrong type (found string), expected u32");
    }
}
