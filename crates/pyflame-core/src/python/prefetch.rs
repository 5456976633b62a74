//! Batching a sample's first reads into one `process_vm_readv`.
//!
//! A sample starts with a chain of small dependent reads (interpreter list head, GIL state,
//! interpreter fields, each thread state, the 3.11/3.12 C frame, the data-stack chunk). The
//! addresses are almost always the ones the previous sample used, so each sample replays the
//! previous sample's list in one vectored read up front and serves those reads from it;
//! whatever is not in the list (a new thread, a deeper stack) is read on demand as before.
//!
//! Serving a read from the batch is the same as reading it a little earlier: the walker's
//! consistency checks compare such "first" reads with fresh reads taken afterwards, so they
//! must never be served from here (the walker passes the plain memory for those).

use crate::process::memory::{ReadResult, RemoteMemory};
use std::cell::RefCell;

/// Most ranges replayed per sample (a thread costs two or three).
const MAX_PARTS: usize = 192;
/// Largest range replayed; larger reads (a big data-stack chunk) stay on demand.
const MAX_PART_LEN: usize = 64 << 10;

#[derive(Default)]
pub struct Prefetch {
    /// (address, length) of the ranges read on demand by the previous sample, in order.
    plan: Vec<(u64, usize)>,
    /// The replayed bytes, back to back in plan order, and where each range starts.
    data: Vec<u8>,
    starts: Vec<usize>,
    /// How many leading ranges of the plan were read whole.
    fetched: usize,
    /// Where in the plan the next read is expected: reads usually come in the plan's order.
    cursor: usize,
    /// The ranges this sample asked for: the next sample's plan.
    used: Vec<(u64, usize)>,
}

impl Prefetch {
    /// Reads every range of the plan in one batch. Called at the start of a sample.
    pub fn fetch(&mut self, mem: &dyn RemoteMemory) -> ReadResult<()> {
        self.fetch_also(mem, &[], 0, &mut Vec::new()).map(|_| ())
    }

    /// Like `fetch`, with `extra` ranges of `extra_len` bytes each read in the same batch into
    /// `extra_out` (back to back) and not replayed later. Returns how many leading extras were
    /// read whole (none unless the whole plan was).
    pub fn fetch_also(&mut self, mem: &dyn RemoteMemory, extra: &[u64], extra_len: usize, extra_out: &mut Vec<u8>) -> ReadResult<usize> {
        self.used.clear();
        self.fetched = 0;
        self.cursor = 0;
        self.starts.clear();
        let total: usize = self.plan.iter().map(|(_, len)| len).sum();
        self.data.resize(total, 0);
        extra_out.resize(extra.len() * extra_len, 0);
        let mut parts: Vec<(u64, &mut [u8])> = Vec::with_capacity(self.plan.len() + extra.len());
        let mut rest = &mut self.data[..];
        let mut start = 0;
        for &(addr, len) in &self.plan {
            let (part, tail) = rest.split_at_mut(len);
            parts.push((addr, part));
            self.starts.push(start);
            start += len;
            rest = tail;
        }
        if extra_len > 0 {
            parts.extend(extra.iter().copied().zip(extra_out.chunks_mut(extra_len)));
        }
        let whole = mem.read_many(&mut parts)?;
        self.fetched = whole.min(self.plan.len());
        Ok(whole.saturating_sub(self.plan.len()))
    }

    /// Ends the sample: what it read becomes the next sample's plan.
    pub fn finish(&mut self) {
        std::mem::swap(&mut self.plan, &mut self.used);
        self.used.clear();
    }

    /// Serves `buf` from the batch when a replayed range starts at `addr` and covers it,
    /// else reads it from `mem`; either way the range joins the next plan.
    fn read(&mut self, mem: &dyn RemoteMemory, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        let covers = |&(a, len): &(u64, usize)| a == addr && len >= buf.len();
        let plan = &self.plan[..self.fetched];
        let hit = match plan.get(self.cursor) {
            Some(range) if covers(range) => Some(self.cursor),
            // out of order (a thread list that changed): search, bounded by MAX_PARTS
            _ => plan.iter().position(covers),
        };
        match hit {
            Some(i) => {
                self.cursor = i + 1;
                let start = self.starts[i];
                buf.copy_from_slice(&self.data[start..start + buf.len()]);
            }
            None => mem.read(addr, buf)?,
        }
        // Only readable ranges are replayed: the batch stops at the first one that faults.
        if buf.len() <= MAX_PART_LEN && self.used.len() < MAX_PARTS {
            self.used.push((addr, buf.len()));
        }
        Ok(())
    }
}

/// A sample's view of memory for first reads: served from the batch when possible.
pub struct FirstReads<'a> {
    pub mem: &'a dyn RemoteMemory,
    prefetch: RefCell<&'a mut Prefetch>,
}

impl<'a> FirstReads<'a> {
    pub fn new(mem: &'a dyn RemoteMemory, prefetch: &'a mut Prefetch) -> Self {
        FirstReads { mem, prefetch: RefCell::new(prefetch) }
    }
}

impl RemoteMemory for FirstReads<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        self.prefetch.borrow_mut().read(self.mem, addr, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::memory::ImageMemory;
    use std::cell::Cell;

    /// Counts the reads that reach memory.
    struct Counting<'a> {
        inner: &'a ImageMemory,
        reads: Cell<usize>,
    }

    impl RemoteMemory for Counting<'_> {
        fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
            self.reads.set(self.reads.get() + 1);
            self.inner.read(addr, buf)
        }
    }

    #[test]
    fn the_second_sample_replays_the_first_samples_reads_in_one_batch() {
        let mut img = ImageMemory::new();
        img.alloc(0x1000, 64);
        img.write_u64(0x1000, 7);
        img.write_u64(0x1020, 9);
        let mem = Counting { inner: &img, reads: Cell::new(0) };
        let mut prefetch = Prefetch::default();
        // (reads made by the batch, reads made on demand) for two samples in a row.
        for expected in [(0, 2), (2, 0)] {
            mem.reads.set(0);
            prefetch.fetch(&mem).unwrap();
            let batch = mem.reads.get();
            let first = FirstReads::new(&mem, &mut prefetch);
            assert_eq!(first.read_u64(0x1000).unwrap(), 7);
            assert_eq!(first.read_u64(0x1020).unwrap(), 9);
            drop(first);
            prefetch.finish();
            assert_eq!((batch, mem.reads.get() - batch), expected);
        }
    }

    #[test]
    fn a_changed_value_is_seen_by_the_next_sample_and_a_new_address_is_read_on_demand() {
        let mut img = ImageMemory::new();
        img.alloc(0x1000, 64);
        img.write_u64(0x1000, 1);
        let mut prefetch = Prefetch::default();
        prefetch.fetch(&img).unwrap();
        assert_eq!(FirstReads::new(&img, &mut prefetch).read_u64(0x1000).unwrap(), 1);
        prefetch.finish();
        img.write_u64(0x1000, 2);
        img.write_u64(0x1008, 3);
        prefetch.fetch(&img).unwrap();
        let first = FirstReads::new(&img, &mut prefetch);
        assert_eq!(first.read_u64(0x1000).unwrap(), 2);
        assert_eq!(first.read_u64(0x1008).unwrap(), 3);
        // A shorter read at a replayed address is served from the longer range.
        let mut four = [0u8; 4];
        first.read(0x1000, &mut four).unwrap();
        assert_eq!(u32::from_le_bytes(four), 2);
    }

    #[test]
    fn an_unreadable_range_is_not_replayed_and_does_not_block_the_others() {
        let mut img = ImageMemory::new();
        img.alloc(0x1000, 16);
        let mut prefetch = Prefetch::default();
        prefetch.fetch(&img).unwrap();
        {
            let first = FirstReads::new(&img, &mut prefetch);
            assert!(first.read_u64(0x9000).is_err());
            assert_eq!(first.read_u64(0x1000).unwrap(), 0);
        }
        prefetch.finish();
        assert_eq!(prefetch.plan, vec![(0x1000, 8)]);
        prefetch.fetch(&img).unwrap();
        assert_eq!(prefetch.fetched, 1);
    }
}
