//! Git's index file, read directly: the entries a commit would be made from (path, mode,
//! object id, stage and the flags that change how they compare) and the cache-tree (the TREE
//! extension), which names the tree each unchanged directory would be written as.
//!
//! `patrol staged` runs in every pre-commit hook, and libgit2 reads an index by hashing the
//! whole file, inserting every entry into a map and validating every path: in a large
//! repository that costs more than the scan. This reader does only what a comparison with
//! HEAD needs, so the staged source can skip directories the cache-tree proves unchanged.
//!
//! It reads versions 2, 3 and 4 of a SHA-1 repository's index. Everything else (a split
//! index, a sparse index, another object format, an unknown version or extension that git
//! requires to be understood, any length that does not fit the file) is an [`IndexError`],
//! so the caller falls back to libgit2 instead of trusting a partial reading. The trailing
//! checksum is not verified, as git does not verify it when reading either.
//! Not for writing an index, nor for the work tree's stat data (ignored).

use std::ops::Range;
use thiserror::Error;

/// Why an index file was not read: the caller reads it another way.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IndexError {
    /// A valid index this reader does not handle exactly.
    #[error("unsupported index: {0}")]
    Unsupported(&'static str),
    /// Data that does not fit the format (truncated, out of order, impossible lengths).
    #[error("malformed index at byte {at}: {what}")]
    Malformed { what: &'static str, at: usize },
}

/// The largest index file read; a bigger one is left to libgit2 (an index of a million
/// files is about 100 MB).
pub const MAX_INDEX_BYTES: u64 = 1 << 30;

/// The most bytes version 4's compressed paths are rebuilt into: each entry may repeat most
/// of the previous path, so a small file could otherwise ask for a huge buffer.
const MAX_REBUILT_PATHS: usize = 1 << 28;

const OID_LEN: usize = 20;
/// The fixed part of an entry: stat data (40 bytes), object id, flags.
const ENTRY_FIXED: usize = 40 + OID_LEN + 2;
const FLAG_ASSUME_VALID: u16 = 0x8000;
const FLAG_EXTENDED: u16 = 0x4000;
const FLAG_STAGE: u16 = 0x3000;
const NAME_MASK: u16 = 0x0fff;
const EXT_SKIP_WORKTREE: u16 = 0x4000;
const EXT_INTENT_TO_ADD: u16 = 0x2000;
/// The modes git writes for a file, an executable, a symbolic link and a submodule; a
/// directory (a sparse index) or anything else is left to libgit2.
const FILE_MODES: [u32; 4] = [0o100644, 0o100755, 0o120000, 0o160000];

/// One index entry: what a comparison with a tree needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Where the path is in [`IndexFile::paths`].
    path: (u32, u32),
    pub mode: u32,
    pub oid: [u8; OID_LEN],
    flags: u16,
    extended: u16,
}

impl Entry {
    /// 0 for a merged entry, 1 to 3 for the sides of a conflict.
    pub fn stage(&self) -> u8 {
        ((self.flags & FLAG_STAGE) >> 12) as u8
    }

    /// `git update-index --assume-unchanged`.
    pub fn assume_valid(&self) -> bool {
        self.flags & FLAG_ASSUME_VALID != 0
    }

    /// `git add -N`: in the index, but in no tree written from it.
    pub fn intent_to_add(&self) -> bool {
        self.extended & EXT_INTENT_TO_ADD != 0
    }
}

/// A parsed index: entries in index order (by path bytes, then stage) and the cache-tree.
#[derive(Debug)]
pub struct IndexFile {
    /// The bytes entries' paths are in: the file itself, but for version 4, which compresses
    /// paths, the paths rebuilt end to end.
    paths: Vec<u8>,
    entries: Vec<Entry>,
    /// Positions of entries no tree holds as they are (a conflict or an intent to add).
    irregular: Vec<usize>,
    pub cache_tree: Option<CacheTree>,
}

impl IndexFile {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn path(&self, entry: &Entry) -> &[u8] {
        let (start, len) = (entry.path.0 as usize, entry.path.1 as usize);
        &self.paths[start..start + len]
    }

    /// The positions of the entries under directory `dir` (a path without a trailing
    /// slash; empty for the top), which are contiguous as entries are sorted by path.
    pub fn under(&self, dir: &[u8]) -> Range<usize> {
        if dir.is_empty() {
            return 0..self.entries.len();
        }
        let mut prefix = dir.to_vec();
        prefix.push(b'/');
        let start = self
            .entries
            .partition_point(|e| self.path(e) < prefix.as_slice());
        let end =
            start + self.entries[start..].partition_point(|e| self.path(e).starts_with(&prefix));
        start..end
    }

    /// Whether every entry in `range` is merged and meant for the next tree.
    pub fn all_regular(&self, range: &Range<usize>) -> bool {
        let first = self.irregular.partition_point(|&i| i < range.start);
        self.irregular.get(first).is_none_or(|&i| i >= range.end)
    }
}

/// A bounded reader over the file's bytes; every read checks its length.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn malformed(&self, what: &'static str) -> IndexError {
        IndexError::Malformed { what, at: self.pos }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], IndexError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or_else(|| self.malformed(what))?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, IndexError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, IndexError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Bytes up to the next NUL, which is consumed.
    fn until_nul(&mut self, what: &'static str) -> Result<&'a [u8], IndexError> {
        let rest = &self.data[self.pos..];
        let len = rest.iter().position(|&b| b == 0);
        let len = len.ok_or_else(|| self.malformed(what))?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    /// Version 4's count of bytes to drop from the previous path: git's variable-length
    /// integer, where each continuation adds one before shifting.
    fn varint(&mut self) -> Result<usize, IndexError> {
        let mut byte = self.take(1, "path prefix length")?[0];
        let mut value = usize::from(byte & 0x7f);
        while byte & 0x80 != 0 {
            byte = self.take(1, "path prefix length")?[0];
            value = value
                .checked_add(1)
                .and_then(|v| v.checked_mul(128))
                .and_then(|v| v.checked_add(usize::from(byte & 0x7f)))
                .ok_or_else(|| self.malformed("path prefix length overflows"))?;
        }
        Ok(value)
    }
}

/// Parse the index file `data` of a repository whose object format is `object_format` (the
/// value of `extensions.objectFormat`; `None` means SHA-1).
pub fn parse(data: Vec<u8>, object_format: Option<&str>) -> Result<IndexFile, IndexError> {
    if object_format.is_some_and(|f| !f.eq_ignore_ascii_case("sha1")) {
        return Err(IndexError::Unsupported("object format other than SHA-1"));
    }
    if data.len() as u64 > MAX_INDEX_BYTES {
        return Err(IndexError::Unsupported("index file too large"));
    }
    // The trailing checksum is not part of any structure.
    let body_len = data
        .len()
        .checked_sub(OID_LEN)
        .ok_or(IndexError::Malformed {
            what: "no checksum",
            at: data.len(),
        })?;
    let mut r = Reader {
        data: &data[..body_len],
        pos: 0,
    };
    if r.take(4, "signature")? != b"DIRC" {
        return Err(r.malformed("not an index file"));
    }
    let version = r.u32("version")?;
    if !(2..=4).contains(&version) {
        return Err(IndexError::Unsupported(
            "index version other than 2, 3 or 4",
        ));
    }
    let count = r.u32("entry count")? as usize;
    // Every entry takes at least its fixed part and a path byte, so a count the file cannot
    // hold is refused before anything is allocated for it.
    if count > body_len / (ENTRY_FIXED + 1) {
        return Err(r.malformed("more entries than the file holds"));
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(count);
    let mut irregular = Vec::new();
    let mut rebuilt = Vec::new();
    for _ in 0..count {
        let entry = read_entry(&mut r, version, &mut rebuilt, entries.last())?;
        if entry.stage() != 0 || entry.intent_to_add() {
            irregular.push(entries.len());
        }
        entries.push(entry);
    }
    let mut cache_tree = None;
    while r.pos < body_len {
        let signature = r.take(4, "extension signature")?;
        let size = r.u32("extension size")? as usize;
        let body = r.take(size, "extension data")?;
        match signature {
            b"TREE" => cache_tree = Some(CacheTree::parse(body, r.pos - size)?),
            b"link" => return Err(IndexError::Unsupported("split index (link extension)")),
            b"sdir" => return Err(IndexError::Unsupported("sparse index (sdir extension)")),
            // Lower-case extensions must be understood to read the index correctly.
            [b'A'..=b'Z', ..] => {}
            _ => return Err(IndexError::Unsupported("required extension not understood")),
        }
    }
    Ok(IndexFile {
        paths: if version == 4 { rebuilt } else { data },
        entries,
        irregular,
        cache_tree,
    })
}

/// Read the entry at `r`, checking it sorts after `previous`. Version 4 paths are rebuilt
/// into `rebuilt`; earlier versions' are left in the file.
fn read_entry(
    r: &mut Reader,
    version: u32,
    rebuilt: &mut Vec<u8>,
    previous: Option<&Entry>,
) -> Result<Entry, IndexError> {
    let start = r.pos;
    r.take(24, "stat data")?;
    let mode = r.u32("mode")?;
    r.take(12, "stat data")?;
    let oid: [u8; OID_LEN] = r
        .take(OID_LEN, "object id")?
        .try_into()
        .map_err(|_| r.malformed("object id"))?;
    let flags = r.u16("flags")?;
    let extended = if flags & FLAG_EXTENDED != 0 {
        if version < 3 {
            return Err(r.malformed("extended flags in a version 2 index"));
        }
        let ext = r.u16("extended flags")?;
        if ext & !(EXT_SKIP_WORKTREE | EXT_INTENT_TO_ADD) != 0 {
            return Err(IndexError::Unsupported("unknown extended entry flags"));
        }
        ext
    } else {
        0
    };
    if mode == 0o040000 {
        return Err(IndexError::Unsupported("sparse index (directory entry)"));
    }
    if !FILE_MODES.contains(&mode) {
        return Err(IndexError::Unsupported("entry mode git does not write"));
    }
    let (paths, path): (&[u8], Range<usize>) = if version == 4 {
        let drop = r.varint()?;
        let (prev_start, prev_len) = previous.map_or((0, 0), |e| e.path);
        let keep = (prev_len as usize).checked_sub(drop);
        let keep = keep.ok_or_else(|| r.malformed("path prefix longer than the previous path"))?;
        let path_start = rebuilt.len();
        rebuilt.extend_from_within(prev_start as usize..prev_start as usize + keep);
        rebuilt.extend_from_slice(r.until_nul("path")?);
        if rebuilt.len() > MAX_REBUILT_PATHS {
            return Err(IndexError::Unsupported("paths too long to rebuild"));
        }
        (rebuilt, path_start..rebuilt.len())
    } else {
        let path_start = r.pos;
        let path_end = path_start + r.until_nul("path")?.len();
        // NULs pad the entry to a multiple of eight bytes (the path's NUL is one of them).
        let padded = (r.pos - start).next_multiple_of(8);
        let padding = r.take(padded - (r.pos - start), "entry padding")?;
        if padding.iter().any(|&b| b != 0) {
            return Err(r.malformed("entry padding"));
        }
        (r.data, path_start..path_end)
    };
    let name_len = usize::from(flags & NAME_MASK);
    if path.is_empty() || (name_len < usize::from(NAME_MASK) && name_len != path.len()) {
        return Err(r.malformed("path length does not match the entry's flags"));
    }
    // Offsets fit: the file and the rebuilt paths are both bounded below 4 GiB.
    let as_u32 = |n: usize| u32::try_from(n).map_err(|_| r.malformed("paths too long"));
    let entry = Entry {
        path: (as_u32(path.start)?, as_u32(path.len())?),
        mode,
        oid,
        flags,
        extended,
    };
    if let Some(previous) = previous {
        let at = |e: &Entry| &paths[e.path.0 as usize..(e.path.0 + e.path.1) as usize];
        let order = (at(previous), previous.stage()).cmp(&(&paths[path], entry.stage()));
        if order != std::cmp::Ordering::Less {
            return Err(r.malformed("entries out of order"));
        }
    }
    Ok(entry)
}

/// The cache-tree: for each directory git has written (or read) as a tree since its
/// entries last changed, that tree's id and how many index entries it covers.
#[derive(Debug)]
pub struct CacheTree {
    nodes: Vec<Node>,
}

/// Index of a node in [`CacheTree`]; the top directory is 0.
pub type NodeId = usize;

#[derive(Debug)]
struct Node {
    name: Vec<u8>,
    /// `(entries covered, tree id)`, or `None` when git invalidated the node.
    valid: Option<(usize, [u8; OID_LEN])>,
    /// Subdirectories, sorted by name.
    children: Vec<NodeId>,
}

impl CacheTree {
    /// The top directory.
    pub const ROOT: NodeId = 0;

    /// Parse the TREE extension's `data`, found at byte `at` of the file. Nodes come in
    /// pre-order, each naming how many subdirectory nodes follow it, so a stack of
    /// unfinished parents replaces recursion.
    fn parse(data: &[u8], at: usize) -> Result<CacheTree, IndexError> {
        let mut r = Reader { data, pos: 0 };
        let malformed = |r: &Reader, what| IndexError::Malformed {
            what,
            at: at + r.pos,
        };
        let mut nodes: Vec<Node> = Vec::new();
        // (node, subdirectories still to read)
        let mut open: Vec<(NodeId, usize)> = Vec::new();
        loop {
            let name = r.until_nul("cache-tree name")?.to_vec();
            let entries =
                number(&mut r, b' ').ok_or_else(|| malformed(&r, "cache-tree entry count"))?;
            let subtrees =
                number(&mut r, b'\n').ok_or_else(|| malformed(&r, "cache-tree subtree count"))?;
            let subtrees =
                usize::try_from(subtrees).map_err(|_| malformed(&r, "cache-tree subtree count"))?;
            let valid = match usize::try_from(entries) {
                Ok(count) => {
                    let oid = r.take(OID_LEN, "cache-tree object id")?;
                    let oid = oid
                        .try_into()
                        .map_err(|_| malformed(&r, "cache-tree object id"))?;
                    Some((count, oid))
                }
                Err(_) => None,
            };
            let id = nodes.len();
            nodes.push(Node {
                name,
                valid,
                children: Vec::new(),
            });
            if let Some((parent, left)) = open.last_mut() {
                *left -= 1;
                let parent = *parent;
                nodes[parent].children.push(id);
            }
            open.push((id, subtrees));
            while open.last().is_some_and(|&(_, left)| left == 0) {
                open.pop();
            }
            if open.is_empty() {
                break;
            }
        }
        if r.pos != data.len() {
            return Err(malformed(&r, "data after the cache-tree"));
        }
        for id in 0..nodes.len() {
            let mut children = std::mem::take(&mut nodes[id].children);
            children.sort_by(|&a, &b| nodes[a].name.cmp(&nodes[b].name));
            if children
                .windows(2)
                .any(|w| nodes[w[0]].name == nodes[w[1]].name)
            {
                return Err(IndexError::Malformed {
                    what: "cache-tree names a directory twice",
                    at,
                });
            }
            nodes[id].children = children;
        }
        Ok(CacheTree { nodes })
    }

    /// The node of subdirectory `name` of `node`, if the cache-tree has one.
    pub fn child(&self, node: NodeId, name: &[u8]) -> Option<NodeId> {
        let children = &self.nodes.get(node)?.children;
        let at = children.binary_search_by(|&c| self.nodes[c].name.as_slice().cmp(name));
        at.ok().map(|i| children[i])
    }

    /// `(entries covered, tree id)` of a node git has not invalidated.
    pub fn valid(&self, node: NodeId) -> Option<(usize, &[u8; OID_LEN])> {
        let (count, oid) = self.nodes.get(node)?.valid.as_ref()?;
        Some((*count, oid))
    }
}

/// A decimal number (a leading `-` allowed) ended by `end`, as git writes with `%d`.
fn number(r: &mut Reader, end: u8) -> Option<i64> {
    let rest = &r.data[r.pos..];
    let len = rest.iter().position(|&b| b == end)?;
    let text = std::str::from_utf8(&rest[..len]).ok()?;
    if text.len() > 11 || text.is_empty() {
        return None;
    }
    let value = text.parse::<i64>().ok()?;
    r.pos += len + 1;
    Some(value)
}

#[cfg(test)]
pub(crate) mod tests;
