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
    fn read_many(&self, parts: &mut [(u64, &mut [u8])]) -> ReadResult<usize> {
        // The kernel stops at the first part that faults and returns the bytes before it.
        const BATCH: usize = 64;
        let mut done = 0;
        let count = parts.len();
        while done < count {
            let batch = &mut parts[done..(done + BATCH).min(count)];
            let remote: Vec<RemoteIoVec> = batch.iter().map(|(addr, b)| RemoteIoVec { base: *addr as usize, len: b.len() }).collect();
            let mut local: Vec<IoSliceMut> = batch.iter_mut().map(|(_, b)| IoSliceMut::new(b)).collect();
            let total: usize = remote.iter().map(|r| r.len).sum();
            let read = match process_vm_readv(Pid::from_raw(self.pid), &mut local, &remote) {
                Ok(n) => n,
                Err(Errno::ESRCH) => return Err(ReadError::Gone),
                Err(Errno::EPERM) | Err(Errno::EACCES) => return Err(ReadError::Denied),
                Err(_) => 0,
            };
            let mut whole = 0;
            let mut bytes = 0;
            for part in &remote {
                if bytes + part.len > read {
                    break;
                }
                bytes += part.len;
                whole += 1;
            }
            done += whole;
            if read < total {
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
}
