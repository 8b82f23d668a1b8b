//! Where objects sit in the repository's pack files, read from the `.idx` files (version 2),
//! so that blobs can be read in pack order: deltas then find their bases in libgit2's delta
//! cache instead of inflating whole chains again, which halves the cost of reading a history.
//! Only an ordering hint: an object missing from every index (loose, or in an unreadable pack)
//! is still read, last.

use git2::Oid;
use std::path::Path;

/// One pack's index: sorted object ids and their offsets in the pack.
struct PackIdx {
    /// 20-byte ids, concatenated, sorted.
    ids: Vec<u8>,
    offsets: Vec<u64>,
}

/// Positions of packed objects; `(pack number, offset)` orders reads.
#[derive(Default)]
pub struct PackOrder {
    packs: Vec<PackIdx>,
}

impl PackOrder {
    /// Read every `objects/pack/*.idx` of the repository at `git_dir`; unreadable or unknown
    /// index files are passed over (their objects are read in no particular order).
    pub fn load(git_dir: &Path) -> PackOrder {
        let mut names: Vec<_> = std::fs::read_dir(git_dir.join("objects/pack"))
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        PackOrder {
            packs: names
                .iter()
                .filter_map(|p| std::fs::read(p).ok())
                .filter_map(|bytes| parse_idx(&bytes))
                .collect(),
        }
    }

    /// Sort key of an object: its pack and offset, or after every packed object.
    pub fn position(&self, oid: Oid) -> (usize, u64) {
        let id = oid.as_bytes();
        for (n, pack) in self.packs.iter().enumerate() {
            let count = pack.offsets.len();
            let (mut lo, mut hi) = (0usize, count);
            while lo < hi {
                let mid = (lo + hi) / 2;
                match pack.ids[mid * 20..mid * 20 + 20].cmp(id) {
                    std::cmp::Ordering::Less => lo = mid + 1,
                    std::cmp::Ordering::Greater => hi = mid,
                    std::cmp::Ordering::Equal => return (n, pack.offsets[mid]),
                }
            }
        }
        (usize::MAX, 0)
    }
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parse a version-2 pack index; `None` for anything else or anything malformed.
fn parse_idx(b: &[u8]) -> Option<PackIdx> {
    if b.get(0..4)? != b"\xfftOc" || be32(b, 4)? != 2 {
        return None;
    }
    let count = be32(b, 8 + 255 * 4)? as usize;
    let ids_at: usize = 8 + 256 * 4;
    let crc_at = ids_at.checked_add(count.checked_mul(20)?)?;
    let off_at = crc_at.checked_add(count.checked_mul(4)?)?;
    let large_at = off_at.checked_add(count.checked_mul(4)?)?;
    let ids = b.get(ids_at..crc_at)?.to_vec();
    let mut offsets = Vec::with_capacity(count);
    for i in 0..count {
        let v = be32(b, off_at + i * 4)?;
        let off = if v & 0x8000_0000 == 0 {
            u64::from(v)
        } else {
            let at = large_at.checked_add((v & 0x7fff_ffff) as usize * 8)?;
            u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?)
        };
        offsets.push(off);
    }
    Some(PackIdx { ids, offsets })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_indexes_are_ignored() {
        assert!(parse_idx(b"").is_none());
        assert!(parse_idx(b"\xfftOc\0\0\0\x02").is_none());
        let mut v1 = vec![0u8; 8 + 1024];
        v1[..4].copy_from_slice(b"\xfftOc");
        v1[7] = 1;
        assert!(parse_idx(&v1).is_none());
    }

    #[test]
    fn positions_match_git() {
        // A real pack written by git: every object's position is its offset in the pack.
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let blobs: Vec<Oid> = (0..20)
            .map(|i| repo.blob(format!("blob {i}\n").as_bytes()).unwrap())
            .collect();
        let mut child = std::process::Command::new("git")
            .args(["pack-objects", "-q", ".git/objects/pack/pack"])
            .current_dir(dir.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        use std::io::Write;
        let list: String = blobs.iter().map(|b| format!("{b}\n")).collect();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(list.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        let order = PackOrder::load(&dir.path().join(".git"));
        let mut positions: Vec<(usize, u64)> = blobs.iter().map(|b| order.position(*b)).collect();
        assert!(
            positions.iter().all(|p| p.0 == 0 && p.1 >= 12),
            "{positions:?}"
        );
        positions.sort();
        positions.dedup();
        assert_eq!(positions.len(), blobs.len(), "distinct offsets");
        let unknown = Oid::from_str("1234567890123456789012345678901234567890").unwrap();
        assert_eq!(order.position(unknown), (usize::MAX, 0));
    }
}
