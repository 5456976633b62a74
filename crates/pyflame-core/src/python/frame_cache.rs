//! Decoded frames reused between samples.
//!
//! A frame's place in the profile (code object, line) depends only on which code object it
//! runs and where its instruction pointer stands in it. A long-lived stack shows the walker the
//! same (frame address, code pointer, instruction pointer) triples sample after sample, so the
//! answer of the previous sample is reused instead of looking the code object up again and
//! mapping the offset to a line.
//!
//! The cache never spares a read: the walker reads and validates every frame of every sample
//! as before (torn stacks are refused by the same checks), and only the decoding of a frame
//! whose three words are all unchanged is skipped. A changed leaf (new instruction pointer),
//! a changed middle frame, or a frame freed and reused at the same address by another code
//! object or at another line all change the key, so they are decoded afresh. An answer is
//! reused only while the code cache still vouches for its code id: within the code cache's
//! epoch (no address has been forgotten or remapped since) and while the id was revalidated
//! recently enough (`CodeCache::is_fresh`), so a code object freed and replaced at the same
//! address is caught as soon as the code cache catches it.

use super::code_cache::{CodeCache, CodeId};
use rustc_hash::FxHashMap as HashMap;

/// Most frames remembered; past this the cache starts over (bounded memory: 48 bytes each).
const MAX_FRAMES: usize = 1 << 16;

/// What identifies one frame's decoding: where it lives, what it runs, where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameKey {
    /// Address of the frame (3.11+ `_PyInterpreterFrame`, ≤3.10 `PyFrameObject`).
    pub frame: u64,
    /// Address of the code object it runs.
    pub code: u64,
    /// 3.11+: the instruction pointer; ≤3.10: `f_lasti`.
    pub position: u64,
}

#[derive(Default)]
pub struct FrameCache {
    frames: HashMap<FrameKey, (CodeId, u32)>,
    /// The code cache's epoch the entries were made in.
    epoch: u64,
    pub hits: u64,
    pub misses: u64,
}

impl FrameCache {
    /// The (code id, line) decoded for `key` earlier, if the code cache still vouches for it
    /// at `tick`.
    pub fn get(&mut self, key: &FrameKey, codes: &CodeCache, tick: u64) -> Option<(CodeId, u32)> {
        if self.epoch != codes.epoch() {
            self.frames.clear();
            self.epoch = codes.epoch();
        }
        let found = self.frames.get(key).copied().filter(|&(code, _)| codes.is_fresh(code, tick));
        if found.is_some() {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        found
    }

    /// Remembers the decoding of `key`, made with the code cache as it is now.
    pub fn insert(&mut self, key: FrameKey, code: CodeId, line: u32, codes: &CodeCache) {
        if self.epoch != codes.epoch() || self.frames.len() >= MAX_FRAMES {
            self.frames.clear();
            self.epoch = codes.epoch();
        }
        self.frames.insert(key, (code, line));
    }
}
