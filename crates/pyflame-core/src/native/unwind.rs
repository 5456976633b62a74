//! Unwinding a stopped thread's native stack with framehop over the target's modules.
//!
//! The thread's registers come from ptrace; its stack is copied with `process_vm_readv`
//! starting at the stack pointer, in a window that grows (×4, up to the end of the stack's
//! mapping) only when the unwind asks for a word beyond it, so a shallow stack costs one
//! small read. framehop uses `.eh_frame_hdr`/`.eh_frame` (and `.debug_frame`), and frame
//! pointers where a module has no unwind information.

use super::image::{file_name_of, ElfImage, ImageCache, SectionBytes};
use super::registers;
use crate::process::maps::Maps;
use crate::process::memory::RemoteMemory;
use framehop::{CacheNative, FrameAddress, MayAllocateDuringUnwind, Module, Unwinder, UnwinderNative};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Deepest native stack followed.
const MAX_NATIVE_FRAMES: usize = 1024;
/// First stack window copied, then ×4 per miss.
const FIRST_WINDOW: u64 = 16 << 10;
const MAX_WINDOW: u64 = 8 << 20;
/// Threads whose stack window is remembered.
const MAX_REMEMBERED_WINDOWS: usize = 4096;
/// Least time between two re-reads of the memory map for unknown code addresses.
const MAPS_REFRESH: Duration = Duration::from_secs(1);

/// One executable mapping of the target.
pub struct ModuleEntry {
    pub start: u64,
    pub end: u64,
    /// Live address minus file address.
    pub bias: u64,
    /// The binary's file name, as frames are labelled.
    pub name: String,
    pub image: Option<Arc<ElfImage>>,
    /// The interpreter binary, libpython or the C library (see `merge::NativeKind::Runtime`).
    pub runtime: bool,
}

pub struct StackUnwinder {
    pid: i32,
    unwinder: UnwinderNative<SectionBytes, MayAllocateDuringUnwind>,
    cache: CacheNative<MayAllocateDuringUnwind>,
    /// Sorted by start address.
    pub modules: Vec<ModuleEntry>,
    maps: Maps,
    images: ImageCache,
    /// File names of the interpreter's binaries (executable, libpython).
    runtime_names: Vec<String>,
    stack: Vec<u8>,
    /// Per thread, the stack window its last unwind needed: the next one starts with it
    /// instead of growing from `FIRST_WINDOW` again (one copy per sample, not two or three).
    windows: HashMap<i32, u64>,
    maps_read_at: Option<Instant>,
    /// An unwind met code or a stack outside the known mappings: re-read them.
    stale: bool,
    /// Bumped when the module list changes (labels cached by address are dropped).
    pub generation: u64,
}

/// Why a thread's native stack could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnwindFailure {
    Registers,
    Stack,
}

impl StackUnwinder {
    pub fn new(pid: i32, runtime_names: Vec<String>) -> StackUnwinder {
        let mut unwinder = StackUnwinder {
            pid,
            unwinder: UnwinderNative::new(),
            cache: CacheNative::new(),
            modules: Vec::new(),
            maps: Maps::default(),
            images: ImageCache::default(),
            runtime_names,
            stack: Vec::new(),
            windows: HashMap::new(),
            maps_read_at: None,
            stale: true,
            generation: 0,
        };
        unwinder.refresh_if_stale();
        unwinder
    }

    /// Re-reads the memory map when an unwind found it out of date (a library loaded since),
    /// at most once a second; unchanged files are not parsed again.
    pub fn refresh_if_stale(&mut self) {
        if !self.stale || self.maps_read_at.is_some_and(|t| t.elapsed() < MAPS_REFRESH) {
            return;
        }
        self.stale = false;
        self.maps_read_at = Some(Instant::now());
        let Ok(maps) = Maps::read(self.pid) else { return };
        // Unchanged code mappings: keep the modules, framehop's rule cache and the labels.
        let code = |m: &Maps| m.ranges.iter().filter(|r| r.executable).map(|r| (r.start, r.end, r.offset, r.inode, r.path.clone())).collect::<Vec<_>>();
        if self.generation > 0 && code(&maps) == code(&self.maps) {
            self.maps = maps;
            return;
        }
        let mut modules = Vec::new();
        let mut unwinder = UnwinderNative::new();
        for range in maps.ranges.iter().filter(|r| r.executable && !r.path.is_empty()) {
            let image = if range.path == "[vdso]" {
                self.read_vdso(range.start, range.end)
            } else if range.path.starts_with('[') {
                None
            } else {
                self.images.load(self.pid, &range.path, range.inode, range.start, range.end)
            };
            let bias = image.as_ref().map_or(range.start.wrapping_sub(range.offset), |i| i.load_bias(range.start, range.offset));
            if let Some(image) = &image {
                unwinder.add_module(Module::new(image.name.clone(), range.start..range.end, bias, image.section_info()));
            }
            let name = file_name_of(&range.path);
            let runtime = self.runtime_names.contains(&name) || is_c_library(&name);
            modules.push(ModuleEntry { start: range.start, end: range.end, bias, name, image, runtime });
        }
        self.unwinder = unwinder;
        self.modules = modules;
        self.maps = maps;
        self.generation += 1;
    }

    fn read_vdso(&self, start: u64, end: u64) -> Option<Arc<ElfImage>> {
        let mem = crate::process::memory::ProcessMemory::new(self.pid);
        let bytes = mem.read_vec(start, (end - start) as usize).ok()?;
        ElfImage::parse_memory("[vdso]".to_string(), bytes).map(Arc::new)
    }

    pub fn module_of(&self, addr: u64) -> Option<&ModuleEntry> {
        let index = self.modules.partition_point(|m| m.start <= addr).checked_sub(1)?;
        let module = &self.modules[index];
        (addr < module.end).then_some(module)
    }

    /// Unwinds thread `tid` (stopped by us) into `out`: each frame's lookup address and stack
    /// pointer (the low end of its stack frame), innermost first.
    pub fn unwind_stopped(&mut self, mem: &dyn RemoteMemory, tid: i32, out: &mut Vec<(u64, u64)>) -> Result<(), UnwindFailure> {
        let regs = registers::read(tid).ok_or(UnwindFailure::Registers)?;
        let stack_end = match self.maps.find(regs.sp) {
            Some(range) => range.end,
            None => {
                self.stale = true;
                regs.sp.saturating_add(FIRST_WINDOW)
            }
        };
        let mut window = self.windows.get(&tid).copied().unwrap_or(FIRST_WINDOW);
        let start = out.len();
        let mut used;
        loop {
            let len = window.min(stack_end.saturating_sub(regs.sp)).min(MAX_WINDOW) as usize;
            self.stack.resize(len, 0);
            if mem.read(regs.sp, &mut self.stack).is_err() {
                return Err(UnwindFailure::Stack);
            }
            out.truncate(start);
            let (missed, reach) = self.unwind_copy(regs, out);
            used = reach;
            match missed {
                // A word past the window but inside the stack mapping: copy more and redo.
                Some(addr) if addr >= regs.sp + len as u64 && addr < stack_end && window < MAX_WINDOW => {
                    let needed = addr - regs.sp + 8;
                    while window < needed && window < MAX_WINDOW {
                        window *= 4;
                    }
                }
                _ => break,
            }
        }
        // Next time: the smallest window (FIRST_WINDOW ×4^k) holding what this unwind read.
        let mut next = FIRST_WINDOW;
        while next < used && next < MAX_WINDOW {
            next *= 4;
        }
        if next > FIRST_WINDOW {
            // Bounded: tids of ended threads are dropped when the map would grow past it.
            if self.windows.len() >= MAX_REMEMBERED_WINDOWS && !self.windows.contains_key(&tid) {
                self.windows.clear();
            }
            self.windows.insert(tid, next);
        } else {
            self.windows.remove(&tid);
        }
        // The outermost address is often garbage the unwind ended on: only unknown code
        // between known frames suggests a library loaded since the map was read.
        let inner = &out[start..out.len().saturating_sub(1).max(start)];
        if inner.iter().any(|&(a, _)| self.module_of(a).is_none()) {
            self.stale = true;
        }
        Ok(())
    }

    /// Unwinds over the copied stack. Returns the address of a stack word it could not read,
    /// and how far above the stack pointer the words it read reach.
    fn unwind_copy(&mut self, regs: registers::StartRegisters, out: &mut Vec<(u64, u64)>) -> (Option<u64>, u64) {
        let (base, stack) = (regs.sp, &self.stack);
        let mut missed = None;
        let mut reach = 0u64;
        {
        let mut read_stack = |addr: u64| -> Result<u64, ()> {
            let off = addr.checked_sub(base).ok_or(())? as usize;
            reach = reach.max(off as u64 + 8);
            match stack.get(off..off + 8) {
                Some(word) => Ok(u64::from_le_bytes(word.try_into().unwrap())),
                None => {
                    missed = Some(addr);
                    Err(())
                }
            }
        };
        // Frame by frame (not `iter_frames`) to see each frame's stack pointer. Stops at the
        // root (Ok(None)) or at the first error: the frames so far are kept, an unwind that
        // ends in garbage below `_start` or `clone3` is the common case.
        let mut unwind_regs = start_regs(regs);
        let mut frame = FrameAddress::from_instruction_pointer(regs.pc);
        loop {
            out.push((frame.address_for_lookup(), unwind_regs.sp()));
            if out.len() >= MAX_NATIVE_FRAMES {
                break;
            }
            match self.unwinder.unwind_frame(frame, &mut unwind_regs, &mut self.cache, &mut read_stack) {
                Ok(Some(return_address)) => match FrameAddress::from_return_address(return_address) {
                    Some(next) => frame = next,
                    None => break,
                },
                _ => break,
            }
        }
        }
        (missed, reach)
    }
}

#[cfg(target_arch = "x86_64")]
fn start_regs(r: registers::StartRegisters) -> framehop::UnwindRegsNative {
    framehop::UnwindRegsNative::new(r.pc, r.sp, r.fp)
}

#[cfg(target_arch = "aarch64")]
fn start_regs(r: registers::StartRegisters) -> framehop::UnwindRegsNative {
    framehop::UnwindRegsNative::new(r.lr, r.sp, r.fp)
}

/// The C library and the dynamic loader: their frames below the interpreter are start-up.
fn is_c_library(name: &str) -> bool {
    name.starts_with("libc.so") || name.starts_with("libc-") || name.starts_with("ld-linux") || name.starts_with("libpthread") || name.starts_with("ld-musl") || name.starts_with("libc.musl")
}
