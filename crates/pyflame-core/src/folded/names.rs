//! Interned frame names: every distinct name is stored once, as bytes, in one arena. Names are
//! compared and hashed as bytes (the input is never decoded as a whole); only the names of
//! the frames that end up drawn are decoded, by the caller.

use hashbrown::HashTable;
use std::hash::Hasher;

/// Hash of a frame name (FxHash: fast on the short strings frame names are).
pub fn hash_name(name: &[u8]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(name);
    hasher.finish()
}

/// The 64-bit hash hashbrown sees for 32 bits of one (its tag is the top 7 bits, its bucket
/// the low ones: both come from the 32 bits), so an entry can carry its hash in 4 bytes.
pub fn table_hash(hash: u32) -> u64 {
    u64::from(hash) << 32 | u64::from(hash)
}

#[derive(Default)]
pub struct Names {
    bytes: Vec<u8>,
    /// Where name `id` ends in `bytes` (it starts where `id - 1` ends).
    ends: Vec<usize>,
    /// (name id, 32 bits of its hash): a probe compares hashes without reading elsewhere.
    table: HashTable<(u32, u32)>,
}

impl Names {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.bytes[start..self.ends[id]]
    }

    /// The id of `name`, added when new.
    pub fn intern(&mut self, name: &[u8]) -> u32 {
        let full = hash_name(name);
        let hash = (full ^ (full >> 32)) as u32;
        let Names { bytes, ends, table } = self;
        let get = |id: u32| {
            let id = id as usize;
            &bytes[if id == 0 { 0 } else { ends[id - 1] }..ends[id]]
        };
        if let Some(&(id, _)) = table.find(table_hash(hash), |&(id, other)| other == hash && get(id) == name) {
            return id;
        }
        let id = ends.len() as u32;
        bytes.extend_from_slice(name);
        ends.push(bytes.len());
        table.insert_unique(table_hash(hash), (id, hash), |&(_, hash)| table_hash(hash));
        id
    }

    /// The name as text (invalid UTF-8 shown as U+FFFD, as a JS decoder does).
    pub fn text(&self, id: u32) -> String {
        String::from_utf8_lossy(self.get(id)).into_owned()
    }
}
