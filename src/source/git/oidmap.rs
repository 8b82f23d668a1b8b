//! One concurrent map from object id to a value, for the sets and tables a history scan's
//! workers share (blobs met, trees walked, trees known to hold a blob with findings). Sharded
//! by the id's first byte so that workers rarely wait for each other.

use git2::Oid;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

const SHARDS: usize = 64;

pub struct OidMap<V> {
    shards: Vec<Mutex<HashMap<Oid, V>>>,
}

impl<V> Default for OidMap<V> {
    fn default() -> Self {
        OidMap {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

impl<V> OidMap<V> {
    fn shard(&self, oid: Oid) -> MutexGuard<'_, HashMap<Oid, V>> {
        self.shards[oid.as_bytes()[0] as usize % SHARDS]
            .lock()
            .expect("no panics while holding the lock")
    }

    /// Insert `value` under `oid` unless `oid` is there already; true when inserted (the
    /// caller is the first to meet `oid`).
    pub fn claim(&self, oid: Oid, value: V) -> bool {
        let mut shard = self.shard(oid);
        if shard.contains_key(&oid) {
            return false;
        }
        shard.insert(oid, value);
        true
    }

    /// Set the value under `oid`, whatever was there.
    pub fn set(&self, oid: Oid, value: V) {
        self.shard(oid).insert(oid, value);
    }

    /// Every entry, in no particular order.
    pub fn into_entries(self) -> impl Iterator<Item = (Oid, V)> {
        self.shards.into_iter().flat_map(|s| {
            s.into_inner()
                .expect("no panics while holding the lock")
                .into_iter()
        })
    }
}

impl OidMap<HashSet<Box<[u8]>>> {
    /// Insert `(oid, key)` unless it is there already; true when inserted.
    pub fn claim_at(&self, oid: Oid, key: Box<[u8]>) -> bool {
        self.shard(oid).entry(oid).or_default().insert(key)
    }
}

impl<V: Copy> OidMap<V> {
    pub fn get(&self, oid: Oid) -> Option<V> {
        self.shard(oid).get(&oid).copied()
    }
}
