//! Splitting an organization among N machines with no coordination (`--shard K/N`): which
//! shard this run is (from the flag or the engine's environment), and which repositories,
//! pipelines and variable groups belong to it. Every shard computes the same assignment from
//! the same listing, so each item lands in exactly one shard whatever order the API returns.
//! Not for merging the shards' reports: see `cmd::merge`.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::num::ParseIntError;

/// Environment variables the shard is taken from.
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
pub const SHARDS_ENV: &str = "PATROL_SHARDS";
pub const AZP_POSITION: &str = "SYSTEM_JOBPOSITIONINPHASE";
pub const AZP_TOTAL: &str = "SYSTEM_TOTALJOBSINPHASE";

/// Why the shard could not be told; a number that did not parse is the source.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("{0:?} is not a shard like 0/4")]
    NotShard(String),
    #[error("{label:?}: bad shard index")]
    Index {
        label: String,
        source: ParseIntError,
    },
    #[error("{label:?}: bad shard count")]
    Count {
        label: String,
        source: ParseIntError,
    },
    #[error("shard {0:?}: the index must be at least 0 and below the count (0-based: 0/4 … 3/4)")]
    OutOfRange(String),
    #[error("{name}={value:?} is not a number")]
    NotNumber {
        name: String,
        value: String,
        source: ParseIntError,
    },
    #[error(
        "{K8S_INDEX} is set but not the number of shards: pass --shards N or set {SHARDS_ENV} \
         (the Job's completions)"
    )]
    NoCount,
    #[error("{K8S_INDEX}={index} is not below the shard count {count}")]
    IndexOver { index: u32, count: u32 },
    #[error("{AZP_POSITION}={pos} is not between 1 and {AZP_TOTAL}={total}")]
    Position { pos: u32, total: u32 },
    #[error("--shards needs {K8S_INDEX} (a Kubernetes Indexed Job) or use --shard K/N")]
    ShardsAlone,
}

type Result<T> = std::result::Result<T, ShardError>;

/// Shard `index` (0-based) of `count`, and how the run knew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    pub how: String,
}

impl Shard {
    /// `K/N`, as reports name shards.
    pub fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }

    /// Whether `key` (a repository, project or group id) hashes into this shard.
    pub fn holds(&self, key: &str) -> bool {
        hash_shard(key, self.count) == self.index
    }
}

/// Parse `K/N` (0 ≤ K < N).
pub fn parse_label(s: &str) -> Result<(u32, u32)> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| ShardError::NotShard(s.to_string()))?;
    let k: u32 = k.trim().parse().map_err(|source| ShardError::Index {
        label: s.to_string(),
        source,
    })?;
    let n: u32 = n.trim().parse().map_err(|source| ShardError::Count {
        label: s.to_string(),
        source,
    })?;
    if n == 0 || k >= n {
        return Err(ShardError::OutOfRange(s.to_string()));
    }
    Ok((k, n))
}

/// The shard from `--shard`, else from a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` with
/// `--shards`/`PATROL_SHARDS`), else from an Azure Pipelines parallel job
/// (`SYSTEM_JOBPOSITIONINPHASE`, 1-based, and `SYSTEM_TOTALJOBSINPHASE`); `None` for an
/// unsharded run. `env` reads the environment (a parameter so tests need not set it).
pub fn pick(
    flag: Option<&str>,
    shards: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
    let num = |name: &str| -> Result<Option<u32>> {
        match env(name).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(v) => match v.trim().parse() {
                Ok(n) => Ok(Some(n)),
                Err(source) => Err(ShardError::NotNumber {
                    name: name.to_string(),
                    value: v,
                    source,
                }),
            },
        }
    };
    if let Some(f) = flag {
        let (index, count) = parse_label(f)?;
        return Ok(Some(Shard {
            index,
            count,
            how: format!("--shard {f}"),
        }));
    }
    if let Some(index) = num(K8S_INDEX)? {
        let (count, from) = match (shards, num(SHARDS_ENV)?) {
            (Some(n), _) => (n, format!("--shards {n}")),
            (None, Some(n)) => (n, format!("{SHARDS_ENV}={n}")),
            (None, None) => return Err(ShardError::NoCount),
        };
        if count == 0 || index >= count {
            return Err(ShardError::IndexOver { index, count });
        }
        return Ok(Some(Shard {
            index,
            count,
            how: format!("Kubernetes Indexed Job: {K8S_INDEX}={index}, {from}"),
        }));
    }
    if let (Some(pos), Some(total)) = (num(AZP_POSITION)?, num(AZP_TOTAL)?) {
        if pos == 0 || pos > total {
            return Err(ShardError::Position { pos, total });
        }
        return Ok(Some(Shard {
            index: pos - 1,
            count: total,
            how: format!("Azure Pipelines parallel job: {AZP_POSITION}={pos}, {AZP_TOTAL}={total}"),
        }));
    }
    if shards.is_some() {
        return Err(ShardError::ShardsAlone);
    }
    Ok(None)
}

/// The shard a key hashes into: SHA-256 of the lower-cased key, first 8 bytes, modulo `count`.
pub fn hash_shard(key: &str, count: u32) -> u32 {
    (key_hash(key) % u64::from(count.max(1))) as u32
}

fn key_hash(key: &str) -> u64 {
    let d = Sha256::digest(key.to_ascii_lowercase().as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// A repository's weight for `--balance size`: its size rounded up to a power of two, at
/// least 1 MiB, so that a day's pushes rarely move it to another shard.
pub fn weight(size: Option<u64>) -> u64 {
    size.unwrap_or(0).max(1 << 20).next_power_of_two()
}

/// `--balance size`: heaviest first (ties by key hash, then key), each to the shard with the
/// least weight so far (ties to the lowest index). Returns key → shard.
pub fn by_size(items: &[(String, Option<u64>)], count: u32) -> HashMap<String, u32> {
    let mut order: Vec<(u64, u64, &str)> = items
        .iter()
        .map(|(k, s)| (weight(*s), key_hash(k), k.as_str()))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(b.2)));
    let mut load = vec![0u64; count.max(1) as usize];
    let mut out = HashMap::new();
    for (w, _, k) in order {
        let (i, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(i, l)| (**l, *i))
            .expect("at least one shard");
        load[i] += w;
        out.insert(k.to_string(), i as u32);
    }
    out
}

/// What `--balance size` divided: the ids and weights, in id order, and the shard count. Shards
/// that agree on it made the same assignment.
pub fn listing_hash(items: &[(String, Option<u64>)], count: u32) -> String {
    let mut sorted: Vec<(String, u64)> = items
        .iter()
        .map(|(k, s)| (k.to_ascii_lowercase(), weight(*s)))
        .collect();
    sorted.sort();
    let mut h = Sha256::new();
    h.update(count.to_le_bytes());
    for (k, w) in sorted {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update(w.to_le_bytes());
    }
    crate::finding::hex(&h.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn shards_come_from_the_flag_or_the_engine() {
        let none = env(&[]);
        assert_eq!(pick(None, None, &none).unwrap(), None);
        let s = pick(Some("2/5"), None, &none).unwrap().unwrap();
        assert_eq!((s.index, s.count), (2, 5));
        let k8s = env(&[(K8S_INDEX, "3"), (SHARDS_ENV, "4")]);
        let s = pick(None, None, &k8s).unwrap().unwrap();
        assert_eq!((s.index, s.count), (3, 4));
        assert!(s.how.contains("Kubernetes"));
        assert_eq!(pick(None, Some(7), &k8s).unwrap().unwrap().count, 7);
        assert!(pick(None, None, &env(&[(K8S_INDEX, "0")])).is_err());
        assert!(pick(None, Some(2), &env(&[(K8S_INDEX, "2")])).is_err());
        let azp = env(&[(AZP_POSITION, "1"), (AZP_TOTAL, "3")]);
        let s = pick(None, None, &azp).unwrap().unwrap();
        assert_eq!((s.index, s.count), (0, 3));
        assert!(s.how.contains("Azure Pipelines"));
        assert!(pick(None, None, &env(&[(AZP_POSITION, "0"), (AZP_TOTAL, "3")])).is_err());
        assert!(pick(None, Some(3), &none).is_err());
        for bad in ["3/3", "1", "a/2", "0/0"] {
            assert!(parse_label(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn size_balancing_spreads_the_heavy_ones() {
        let items: Vec<(String, Option<u64>)> = (0..8)
            .map(|i| (format!("r{i}"), Some(if i < 2 { 1 << 30 } else { 1 << 10 })))
            .collect();
        let a = by_size(&items, 2);
        assert_ne!(
            a["r0"], a["r1"],
            "the two large ones go to different shards"
        );
        let mut rev = items.clone();
        rev.reverse();
        assert_eq!(by_size(&rev, 2), a, "independent of listing order");
        assert_eq!(listing_hash(&rev, 2), listing_hash(&items, 2));
        assert_ne!(listing_hash(&items, 3), listing_hash(&items, 2));
        let mut grown = items.clone();
        grown[5].1 = Some(1 << 29);
        assert_ne!(listing_hash(&grown, 2), listing_hash(&items, 2));
        assert_eq!(weight(Some(3 << 20)), 4 << 20);
        assert_eq!(weight(None), 1 << 20);
    }
}
