//! How a secret was encoded where it was found: the decoding steps between a file's bytes and
//! the text the secret stands in, named as reports give them (`gzip+utf-16le+base64`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One decoding step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// A bare gzip stream (a compressed file, not an archive of members).
    Gzip,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
    /// base64 (of a credential, a password or a token).
    Base64,
    /// Percent-encoding (a password in a URL).
    Url,
}

impl Encoding {
    const ALL: [Encoding; 7] = [
        Encoding::Gzip,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Utf32Le,
        Encoding::Utf32Be,
        Encoding::Base64,
        Encoding::Url,
    ];

    /// The step's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Utf32Le => "utf-32le",
            Encoding::Utf32Be => "utf-32be",
            Encoding::Base64 => "base64",
            Encoding::Url => "url",
        }
    }

    fn named(name: &str) -> Option<Encoding> {
        Encoding::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// The decoding steps of one finding, outermost first; at least one (a finding in text as it
/// stands has none: `Option<Encodings>` is `None`). Shown as the names joined by `+`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Encodings(Vec<Encoding>);

impl Encodings {
    /// The steps `outer` (if any), then `step`.
    pub fn then(outer: Option<&Encodings>, step: Encoding) -> Encodings {
        let mut steps = outer.map_or_else(Vec::new, |o| o.0.clone());
        steps.push(step);
        Encodings(steps)
    }
}

impl From<Encoding> for Encodings {
    fn from(step: Encoding) -> Encodings {
        Encodings(vec![step])
    }
}

impl std::fmt::Display for Encodings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(step.as_str())?;
        }
        Ok(())
    }
}

/// A step name no [`Encoding`] has (not quoted: it comes from a report being read).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown encoding")]
pub struct UnknownEncoding;

impl std::str::FromStr for Encodings {
    type Err = UnknownEncoding;

    /// Read the steps back from a report (`patrol merge`).
    fn from_str(s: &str) -> Result<Encodings, UnknownEncoding> {
        s.split('+')
            .map(|name| Encoding::named(name).ok_or(UnknownEncoding))
            .collect::<Result<Vec<_>, _>>()
            .map(Encodings)
    }
}

impl Serialize for Encodings {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Encodings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_shown_outermost_first_and_read_back() {
        let gz = Encodings::from(Encoding::Gzip);
        let wide = Encodings::then(Some(&gz), Encoding::Utf16Le);
        let all = Encodings::then(Some(&wide), Encoding::Base64);
        assert_eq!(all.to_string(), "gzip+utf-16le+base64");
        assert_eq!(Encodings::then(None, Encoding::Url).to_string(), "url");
        for e in Encoding::ALL {
            let one = Encodings::from(e);
            assert_eq!(one.to_string().parse::<Encodings>(), Ok(one));
        }
        assert_eq!("gzip+utf-16le+base64".parse::<Encodings>(), Ok(all.clone()));
        let json = serde_json::to_string(&all).unwrap();
        assert_eq!(json, "\"gzip+utf-16le+base64\"");
        // `patrol merge` reads reports back.
        assert_eq!(serde_json::from_str::<Encodings>(&json).unwrap(), all);
        assert!(serde_json::from_str::<Encodings>("\"rot13\"").is_err());
        for bad in ["", "gzip+", "base32", "gzip++url", "Base64"] {
            assert!(bad.parse::<Encodings>().is_err(), "{bad}");
        }
    }
}
