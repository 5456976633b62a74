//! Reading another process's memory.
//!
//! The hot path reads with `process_vm_readv`, which needs no attachment, only ptrace-read
//! permission. Reads fail as a cheap `ReadError` (no allocation): a failed read inside a
//! sample means the stack changed or was torn, and the sampler counts it as an error.

use nix::errno::Errno;
use nix::sys::uio::{process_vm_readv, RemoteIoVec};
use nix::unistd::Pid;
use std::io::IoSliceMut;

/// Why a read failed. Kept small: it is created on the sampling hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// Address not mapped, or the read ended early at an unmapped page.
    Unmapped(u64),
    /// The process is gone.
    Gone,
    /// The kernel refused the read.
    Denied,
    /// A value read was out of the bounds we accept (corrupt or torn data).
    Invalid(&'static str),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Unmapped(addr) => write!(f, "address {addr:#x} is not readable"),
            ReadError::Gone => write!(f, "the process exited"),
            ReadError::Denied => write!(f, "permission denied"),
            ReadError::Invalid(what) => write!(f, "invalid data: {what}"),
        }
    }
}

impl ReadError {
    /// What went wrong, without the address: errors of one kind are counted together.
    pub fn kind(&self) -> String {
        match self {
            ReadError::Unmapped(_) => "unreadable address".to_string(),
            ReadError::Gone => "process exited".to_string(),
            ReadError::Denied => "permission denied".to_string(),
            ReadError::Invalid(what) => format!("invalid data: {what}"),
        }
    }
}

pub type ReadResult<T> = std::result::Result<T, ReadError>;

/// Anything we can read target memory from: a live process, or a synthetic image in tests.
pub trait RemoteMemory {
    /// Fills `buf` with the bytes at `addr`, all or nothing.
    fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()>;

    fn read_u64(&self, addr: u64) -> ReadResult<u64> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn read_u32(&self, addr: u64) -> ReadResult<u32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads several ranges, in order, as close together in time as the memory allows.
    /// Returns how many leading parts were read whole; the rest are left as they were.
    /// Only a vanished or forbidden process is an error.
    fn read_many(&self, parts: &mut [(u64, &mut [u8])]) -> ReadResult<usize> {
        for (i, (addr, buf)) in parts.iter_mut().enumerate() {
            match self.read(*addr, buf) {
                Ok(()) => {}
                Err(e @ (ReadError::Gone | ReadError::Denied)) => return Err(e),
                Err(_) => return Ok(i),
            }
        }
        Ok(parts.len())
    }

    /// Reads `len` bytes into a new vector (bounded by the caller).
    fn read_vec(&self, addr: u64, len: usize) -> ReadResult<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }
}

/// A live process's memory through `process_vm_readv`.
#[derive(Debug, Clone, Copy)]
pub struct ProcessMemory {
    pub pid: i32,
}

impl ProcessMemory {
    pub fn new(pid: i32) -> Self {
        ProcessMemory { pid }
    }

    /// One `process_vm_readv` of `batch` (merged by page, or in the caller's order); returns
    /// how many leading parts were read whole.
    fn read_batch(&self, batch: &mut [(u64, &mut [u8])], merge: bool) -> ReadResult<usize> {
        let plan = PageMerge::plan(batch.iter().map(|(addr, b)| (*addr, b.len())), merge);
        let mut gaps = vec![0u8; plan.gap_bytes];
        let mut buffers: Vec<Option<&mut [u8]>> = batch.iter_mut().map(|(_, b)| Some(&mut **b)).collect();
        let mut gap_slices = gaps.as_mut_slice();
        let mut local: Vec<IoSliceMut> = Vec::with_capacity(plan.locals.len());
        for piece in &plan.locals {
            match *piece {
                LocalPiece::Part(i) => local.push(IoSliceMut::new(buffers[i].take().expect("each part once"))),
                LocalPiece::Gap(len) => {
                    let (gap, rest) = std::mem::take(&mut gap_slices).split_at_mut(len);
                    gap_slices = rest;
                    local.push(IoSliceMut::new(gap));
                }
            }
        }
        let read = match process_vm_readv(Pid::from_raw(self.pid), &mut local, &plan.remote) {
            Ok(n) => n,
            Err(Errno::ESRCH) => return Err(ReadError::Gone),
            Err(Errno::EPERM) | Err(Errno::EACCES) => return Err(ReadError::Denied),
            Err(_) => 0,
        };
        // The kernel stops at the first page that faults: a part is whole if its bytes come
        // before that point in the stream.
        Ok(plan.stream_end.iter().take_while(|&&end| end <= read).count())
    }
}

impl RemoteMemory for ProcessMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if addr == 0 {
            return Err(ReadError::Unmapped(0));
        }
        let len = buf.len();
        let remote = [RemoteIoVec { base: addr as usize, len }];
        let mut local = [IoSliceMut::new(buf)];
        match process_vm_readv(Pid::from_raw(self.pid), &mut local, &remote) {
            Ok(n) if n == len => Ok(()),
            // A short read stops at an unmapped page; the data is unusable.
            Ok(_) => Err(ReadError::Unmapped(addr)),
            Err(Errno::EFAULT) | Err(Errno::EINVAL) | Err(Errno::ENOMEM) => Err(ReadError::Unmapped(addr)),
            Err(Errno::ESRCH) => Err(ReadError::Gone),
            Err(Errno::EPERM) | Err(Errno::EACCES) => Err(ReadError::Denied),
            Err(_) => Err(ReadError::Unmapped(addr)),
        }
    }

    /// One `process_vm_readv` for all parts: the fixed cost of a call (finding the task,
    /// the ptrace access check) is most of a small read's cost, so batching divides it.
    /// Parts within one page are read as one remote range (the kernel looks up the mapping
    /// and pins the page once per range, not once per part).
    fn read_many(&self, parts: &mut [(u64, &mut [u8])]) -> ReadResult<usize> {
        const BATCH: usize = 64;
        let mut done = 0;
        let count = parts.len();
        while done < count {
            let batch = &mut parts[done..(done + BATCH).min(count)];
            let mut whole = self.read_batch(batch, true)?;
            if whole < batch.len() {
                // A hole: read again in the caller's order, so every part before it is whole.
                whole = self.read_batch(batch, false)?;
            }
            done += whole;
            if whole < batch.len() {
                return Ok(done);
            }
        }
        Ok(done)
    }
}

/// A synthetic address space: used by tests to walk memory images of versions that cannot
/// run here, and by the fuzz targets.
#[derive(Debug, Clone, Default)]
pub struct ImageMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl ImageMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or overwrites) bytes at `addr`.
    pub fn write(&mut self, addr: u64, bytes: &[u8]) {
        for (start, data) in self.regions.iter_mut() {
            let end = *start + data.len() as u64;
            if addr >= *start && addr + bytes.len() as u64 <= end {
                let off = (addr - *start) as usize;
                data[off..off + bytes.len()].copy_from_slice(bytes);
                return;
            }
        }
        self.regions.push((addr, bytes.to_vec()));
    }

    pub fn write_u64(&mut self, addr: u64, value: u64) {
        self.write(addr, &value.to_le_bytes());
    }

    pub fn write_u32(&mut self, addr: u64, value: u32) {
        self.write(addr, &value.to_le_bytes());
    }

    /// Reserves a zeroed region.
    pub fn alloc(&mut self, addr: u64, len: usize) {
        self.regions.push((addr, vec![0; len]));
    }
}

impl RemoteMemory for ImageMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        for (start, data) in &self.regions {
            let end = *start + data.len() as u64;
            if addr >= *start && addr.saturating_add(buf.len() as u64) <= end {
                let off = (addr - *start) as usize;
                buf.copy_from_slice(&data[off..off + buf.len()]);
                return Ok(());
            }
        }
        Err(ReadError::Unmapped(addr))
    }
}

/// How `read_many` lays a batch out for `process_vm_readv`: parts sorted by address, those
/// starting in the page where the previous one ended joined into one remote range, with the
/// bytes between them read into scratch. (Sorted, a hole stops the read at its address, not
/// at its place in the caller's order: `read_many` then reads the batch again unmerged.)
#[derive(Debug, PartialEq)]
struct PageMerge {
    remote: Vec<RemoteIoVec>,
    locals: Vec<LocalPiece>,
    gap_bytes: usize,
    /// Per part (in the caller's order): where its last byte ends in the read stream.
    stream_end: Vec<usize>,
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum LocalPiece {
    Part(usize),
    Gap(usize),
}

const PAGE: u64 = 4096;

impl PageMerge {
    /// `merge` false: one range per part, in the caller's order.
    fn plan(parts: impl Iterator<Item = (u64, usize)>, merge: bool) -> PageMerge {
        let parts: Vec<(u64, usize)> = parts.collect();
        let mut order: Vec<usize> = (0..parts.len()).collect();
        if merge {
            order.sort_by_key(|&i| parts[i].0);
        }
        let mut plan = PageMerge { remote: Vec::new(), locals: Vec::new(), gap_bytes: 0, stream_end: vec![0; parts.len()] };
        let mut stream = 0usize;
        let mut range_end: Option<u64> = None;
        for i in order {
            let (addr, len) = parts[i];
            let joins = merge && range_end.is_some_and(|end| end > 0 && addr >= end && addr / PAGE == (end - 1) / PAGE);
            if joins {
                let end = range_end.unwrap();
                let gap = (addr - end) as usize;
                if gap > 0 {
                    plan.locals.push(LocalPiece::Gap(gap));
                    plan.gap_bytes += gap;
                    stream += gap;
                }
                plan.remote.last_mut().unwrap().len += gap + len;
            } else {
                plan.remote.push(RemoteIoVec { base: addr as usize, len });
            }
            plan.locals.push(LocalPiece::Part(i));
            stream += len;
            plan.stream_end[i] = stream;
            range_end = Some(addr + len as u64);
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_memory_through_process_vm_readv() {
        let value: u64 = 0x1122_3344_5566_7788;
        let mem = ProcessMemory::new(std::process::id() as i32);
        assert_eq!(mem.read_u64(&value as *const u64 as u64).unwrap(), value);
        assert_eq!(mem.read_u64(0), Err(ReadError::Unmapped(0)));
        assert!(matches!(mem.read_u64(8), Err(ReadError::Unmapped(_))));
    }

    #[test]
    fn read_many_reads_in_order_and_stops_at_the_first_hole() {
        let values: [u64; 3] = [1, 2, 3];
        let mem = ProcessMemory::new(std::process::id() as i32);
        let (mut a, mut b, mut c) = ([0u8; 8], [0u8; 8], [0u8; 8]);
        let addr = |i: usize| &values[i] as *const u64 as u64;
        let mut parts: [(u64, &mut [u8]); 3] = [(addr(0), &mut a), (addr(2), &mut b), (addr(1), &mut c)];
        assert_eq!(mem.read_many(&mut parts).unwrap(), 3);
        assert_eq!((u64::from_le_bytes(a), u64::from_le_bytes(b), u64::from_le_bytes(c)), (1, 3, 2));
        let (mut d, mut e, mut f) = ([0u8; 8], [0u8; 8], [0u8; 8]);
        let mut parts: [(u64, &mut [u8]); 3] = [(addr(0), &mut d), (8, &mut e), (addr(1), &mut f)];
        assert_eq!(mem.read_many(&mut parts).unwrap(), 1);
        assert_eq!(u64::from_le_bytes(d), 1);
        let img = ImageMemory::new();
        let mut g = [0u8; 8];
        assert_eq!(img.read_many(&mut [(0x1000, &mut g[..])]).unwrap(), 0);
    }

    #[test]
    fn image_memory_reads_whole_ranges_only() {
        let mut img = ImageMemory::new();
        img.alloc(0x1000, 16);
        img.write_u64(0x1008, 42);
        assert_eq!(img.read_u64(0x1008).unwrap(), 42);
        assert!(img.read_u64(0x100c).is_err());
    }

    #[test]
    fn parts_in_one_page_are_read_as_one_range() {
        // Three parts in the page at 0x7000 (out of order), one far away, one overlapping.
        let parts = [(0x7340u64, 71usize), (0x9000, 2176), (0x7010, 8), (0x7080, 71), (0x7010, 4)];
        let plan = PageMerge::plan(parts.iter().copied(), true);
        let ranges: Vec<(usize, usize)> = plan.remote.iter().map(|r| (r.base, r.len)).collect();
        // Sorted: 0x7010+8 and 0x7010+4 overlap (a new range), 0x7080 and 0x7340 join the second.
        assert_eq!(ranges, vec![(0x7010, 8), (0x7010, 0x7340 + 71 - 0x7010), (0x9000, 2176)]);
        assert_eq!(plan.gap_bytes, (0x7080 - 0x7014) + (0x7340 - (0x7080 + 71)));
        // Every part is in the stream once, and its end is where its bytes finish.
        let mut ends = plan.stream_end.clone();
        ends.sort_unstable();
        ends.dedup();
        assert_eq!(ends.len(), parts.len());
        assert_eq!(plan.stream_end[2], 8);
        assert_eq!(*plan.stream_end.iter().max().unwrap(), plan.remote.iter().map(|r| r.len).sum::<usize>());
    }

    #[test]
    fn a_batch_reads_the_same_bytes_merged_or_not() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let base = data.as_ptr() as u64;
        let me = ProcessMemory::new(std::process::id() as i32);
        let offsets = [5000usize, 16, 4100, 24, 9000, 40, 4100];
        let mut bufs: Vec<Vec<u8>> = offsets.iter().map(|_| vec![0u8; 33]).collect();
        let mut parts: Vec<(u64, &mut [u8])> = offsets.iter().zip(bufs.iter_mut()).map(|(&o, b)| (base + o as u64, b.as_mut_slice())).collect();
        assert_eq!(me.read_many(&mut parts).unwrap(), offsets.len());
        for (o, b) in offsets.iter().zip(&bufs) {
            assert_eq!(&b[..], &data[*o..*o + 33]);
        }
    }
}

