//! Picking fields out of findings (or any list of JSON objects) for assertions:
//! `let got: Vec<(String, u64)> = rows(&doc["findings"], &["path", "line"]);`
//! The tuple type says how each field reads; a missing or mistyped field fails the test.

use serde_json::Value;

/// How one field of a finding reads: text, a number, text or `null`, a flag (absent is false),
/// or the JSON value itself.
pub trait Field: Sized {
    fn read(v: &Value, key: &str, from: &Value) -> Self;
}

impl Field for String {
    fn read(v: &Value, key: &str, from: &Value) -> String {
        v.as_str()
            .unwrap_or_else(|| panic!("{key} is not text in {from}"))
            .to_string()
    }
}

impl Field for u64 {
    fn read(v: &Value, key: &str, from: &Value) -> u64 {
        v.as_u64()
            .unwrap_or_else(|| panic!("{key} is not a number in {from}"))
    }
}

impl Field for Option<String> {
    fn read(v: &Value, _: &str, _: &Value) -> Option<String> {
        v.as_str().map(str::to_string)
    }
}

impl Field for bool {
    fn read(v: &Value, _: &str, _: &Value) -> bool {
        v.as_bool().unwrap_or(false)
    }
}

impl Field for Value {
    fn read(v: &Value, _: &str, _: &Value) -> Value {
        v.clone()
    }
}

/// A tuple of [`Field`]s read from one object by keys (`a.b` reaches into `{"a": {"b": …}}`).
pub trait Row: Sized {
    fn read(object: &Value, keys: &[&str]) -> Self;
}

fn at<'a>(object: &'a Value, key: &str) -> &'a Value {
    key.split('.').fold(object, |v, k| &v[k])
}

macro_rules! row {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t: Field),+> Row for ($($t,)+) {
            fn read(object: &Value, keys: &[&str]) -> Self {
                assert_eq!(keys.len(), $n, "one key per field");
                ($($t::read(at(object, keys[$i]), keys[$i], object),)+)
            }
        }
    };
}
row!(1; A 0);
row!(2; A 0, B 1);
row!(3; A 0, B 1, C 2);
row!(4; A 0, B 1, C 2, D 3);
row!(5; A 0, B 1, C 2, D 3, E 4);
row!(6; A 0, B 1, C 2, D 3, E 4, F 5);

/// The `keys` of every object in `list` (a JSON array), in its order.
pub fn rows<T: Row>(list: &Value, keys: &[&str]) -> Vec<T> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| T::read(o, keys))
        .collect()
}

/// The text `key` of every object in `list`, in its order, borrowed.
pub fn texts<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|o| {
            o[key]
                .as_str()
                .unwrap_or_else(|| panic!("{key} is not text in {o}"))
        })
        .collect()
}

/// (path, line, rule_id) of every finding, sorted.
pub fn triples(doc: &Value) -> Vec<(String, u64, String)> {
    let mut v: Vec<_> = rows(&doc["findings"], &["path", "line", "rule_id"]);
    v.sort();
    v
}

/// Paths of all findings, sorted.
pub fn finding_paths(doc: &Value) -> Vec<String> {
    let mut v: Vec<(String,)> = rows(&doc["findings"], &["path"]);
    v.sort();
    v.into_iter().map(|(p,)| p).collect()
}

/// What a test asserts about a finding: rule, path, line, commit id (if any).
pub type Brief = (String, String, u64, Option<String>);

pub fn brief(rule: &str, path: &str, line: u64, commit: &str) -> Brief {
    (rule.into(), path.into(), line, Some(commit.into()))
}
