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

#[derive(Default)]
pub struct Names {
    bytes: Vec<u8>,
    /// Where name `id` ends in `bytes` (it starts where `id - 1` ends).
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// Name ids, found by hash.
    table: HashTable<u32>,
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

    /// The id of `name` (whose [`hash_name`] is `hash`), added when new.
    pub fn intern_hashed(&mut self, name: &[u8], hash: u64) -> u32 {
        let Names { bytes, ends, hashes, table } = self;
        let get = |id: u32| {
            let id = id as usize;
            &bytes[if id == 0 { 0 } else { ends[id - 1] }..ends[id]]
        };
        if let Some(&id) = table.find(hash, |&id| hashes[id as usize] == hash && get(id) == name) {
            return id;
        }
        let id = ends.len() as u32;
        bytes.extend_from_slice(name);
        ends.push(bytes.len());
        hashes.push(hash);
        table.insert_unique(hash, id, |&other| hashes[other as usize]);
        id
    }

    pub fn intern(&mut self, name: &[u8]) -> u32 {
        self.intern_hashed(name, hash_name(name))
    }

    /// The name as text (invalid UTF-8 shown as U+FFFD, as a JS decoder does).
    pub fn text(&self, id: u32) -> String {
        String::from_utf8_lossy(self.get(id)).into_owned()
    }
}
