//! A coroutine's stack: its own embedded frame, then, while it is suspended in `await`, the
//! coroutine it awaits, and so on down to the object the innermost one waits on.

use super::layout::{ValueStack, YieldFrom, FRAME_OWNED_BY_GENERATOR};
use super::AsyncReader;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use crate::python::code_cache::CodeCache;
use crate::python::walker::RawFrame;

/// Deepest chain of awaiting coroutines we follow; deeper means a cycle or garbage.
pub const MAX_AWAIT_DEPTH: usize = 1024;
/// Low bits of a `_PyStackRef` (3.14+) that are tags, not address.
const STACKREF_TAG_MASK: u64 = 3;

/// How a coroutine chain ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEnd {
    /// The outermost coroutine's frame is executing: its stack is the thread's.
    Executing,
    /// Suspended without awaiting anything readable (created, or a bare `yield`).
    Suspended,
    /// Finished (completed or cleared): no frames.
    Finished,
    /// The innermost coroutine awaits this object (a future, a task, another awaitable).
    Awaits { addr: u64, type_name: String },
}

impl AsyncReader {
    /// Appends the frames of the coroutine at `coro` and of every coroutine it awaits to
    /// `out`, outermost first.
    pub fn coroutine_stack(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, coro: u64, out: &mut Vec<RawFrame>) -> ReadResult<ChainEnd> {
        let l = self.layout;
        if let Some(frames) = l.frame_objects {
            return self.frame_object_stack(mem, codes, coro, frames, out);
        }
        let mut coro = coro;
        let mut first_type = None;
        for _ in 0..MAX_AWAIT_DEPTH {
            if coro == 0 || coro % 8 != 0 {
                return Err(ReadError::Invalid("coroutine pointer"));
            }
            let len = (l.gen_iframe + l.frame_size) as usize;
            self.buf.resize(len, 0);
            mem.read(coro, &mut self.buf)?;
            let ty = word(&self.buf, l.object_type);
            // Every coroutine of a chain has the coroutine type; the first one tells which.
            if *first_type.get_or_insert(ty) != ty {
                return Err(ReadError::Invalid("coroutine of another type in an await chain"));
            }
            let state = self.buf[l.gen_frame_state as usize] as i8;
            let s = l.frame_states;
            if state >= s.finished_from {
                return Ok(if out.is_empty() { ChainEnd::Finished } else { ChainEnd::Suspended });
            }
            let frame = &self.buf[l.gen_iframe as usize..];
            if frame[l.frame_owner as usize] != FRAME_OWNED_BY_GENERATOR {
                return Err(ReadError::Invalid("a coroutine that does not own its frame"));
            }
            let code = word(frame, l.frame_executable) & !self.py.executable_tag_mask;
            let instr = word(frame, l.frame_instr_ptr);
            out.push(self.frame_at(mem, codes, code, instr)?);
            if state == s.executing {
                return Ok(ChainEnd::Executing);
            }
            if !s.awaits(state) || !self.next_is_resume_after_await(mem, instr)? {
                return Ok(ChainEnd::Suspended);
            }
            // Suspended in `await`: the awaited object is the SEND's receiver, kept on the
            // frame's value stack (`awaited_slot` words below its top). Only a suspended frame
            // keeps its stack top: 3.11–3.13 leave `stacktop` stale while the frame runs.
            let stack_end = match l.stack {
                ValueStack::Pointer { stackpointer } => word(&self.buf[l.gen_iframe as usize..], stackpointer),
                ValueStack::Index { stacktop, localsplus } => {
                    let top = self.buf[l.gen_iframe as usize..].get(stacktop as usize..stacktop as usize + 4).map_or(-1, |b| i32::from_le_bytes(b.try_into().unwrap()));
                    if !(0..1 << 20).contains(&top) {
                        return Err(ReadError::Invalid("coroutine frame stack top"));
                    }
                    coro.wrapping_add(l.gen_iframe + localsplus + 8 * top as u64)
                }
            };
            let awaited = mem.read_u64(stack_end.wrapping_sub(8 * s.awaited_slot))? & !STACKREF_TAG_MASK;
            if awaited == 0 {
                return Ok(ChainEnd::Suspended);
            }
            let awaited_type = mem.read_u64(awaited.wrapping_add(l.object_type))?;
            if awaited_type == ty {
                coro = awaited;
                continue;
            }
            return self.awaited_object(mem, awaited, awaited_type);
        }
        Err(ReadError::Invalid("await chain too deep (cycle?)"))
    }

    /// 3.11, 3.12 (no state of its own for it): a suspended frame awaits when the instruction
    /// after its last one is RESUME with oparg 2 (after `yield from`) or 3 (after `await`).
    /// Later versions say so in the frame state: always true.
    fn next_is_resume_after_await(&self, mem: &dyn RemoteMemory, prev_instr: u64) -> ReadResult<bool> {
        let YieldFrom::NextIsResume { resume, variant } = self.layout.yield_from else { return Ok(true) };
        let mut unit = [0u8; 2];
        mem.read(prev_instr.wrapping_add(2), &mut unit)?;
        let (opcode, oparg) = (unit[0], unit[1]);
        Ok((opcode == resume || Some(opcode) == variant) && oparg >= 2)
    }

    /// The frame of code object `code` stopped at `instr`.
    pub(super) fn frame_at(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, code: u64, instr: u64) -> ReadResult<RawFrame> {
        let py = self.py;
        let id = codes.lookup(mem, &py, self.code_type, self.str_type, code, self.tick)?;
        let base = code.wrapping_add(py.offsets.code_code_adaptive.unwrap_or(0));
        let index = if instr >= base { ((instr - base) / 2) as i64 } else { -1 };
        let line = codes.get_mut(id).line_for(&py, index);
        Ok(RawFrame { code: id, line, entry: false })
    }

    /// What a coroutine waits on, seen through the iterator `await future` creates.
    pub(super) fn awaited_object(&mut self, mem: &dyn RemoteMemory, addr: u64, type_addr: u64) -> ReadResult<ChainEnd> {
        let name = self.type_name(mem, type_addr)?;
        if name == "_asyncio.FutureIter" {
            // `{PyObject_HEAD; FutureObj *future;}`: the future right after the header.
            let future = mem.read_u64(addr.wrapping_add(16))?;
            if future != 0 && future % 8 == 0 {
                let future_type = mem.read_u64(future.wrapping_add(self.layout.object_type))?;
                return Ok(ChainEnd::Awaits { addr: future, type_name: self.type_name(mem, future_type)? });
            }
        }
        Ok(ChainEnd::Awaits { addr, type_name: name })
    }

    /// `tp_name` of the type at `type_addr` (cached: types live as long as the process).
    pub(super) fn type_name(&mut self, mem: &dyn RemoteMemory, type_addr: u64) -> ReadResult<String> {
        if let Some(name) = self.type_names.get(&type_addr) {
            return Ok(name.clone());
        }
        let ptr = mem.read_u64(type_addr.wrapping_add(self.layout.type_name))?;
        let mut raw = [0u8; 96];
        let n = read_c_string(mem, ptr, &mut raw)?;
        let name: String = String::from_utf8_lossy(&raw[..n]).chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        if self.type_names.len() < 4096 {
            self.type_names.insert(type_addr, name.clone());
        }
        Ok(name)
    }
}

/// Reads a NUL-terminated string of at most `buf.len()` bytes (a shorter read when the string
/// ends near an unmapped page).
fn read_c_string(mem: &dyn RemoteMemory, ptr: u64, buf: &mut [u8]) -> ReadResult<usize> {
    if ptr == 0 {
        return Err(ReadError::Invalid("type name pointer"));
    }
    let len = buf.len();
    if mem.read(ptr, buf).is_err() {
        let to_page_end = (4096 - (ptr % 4096) as usize).min(len);
        mem.read(ptr, &mut buf[..to_page_end])?;
    }
    Ok(buf.iter().position(|b| *b == 0).unwrap_or(len))
}

pub(super) fn word(buf: &[u8], off: u64) -> u64 {
    let off = off as usize;
    buf.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
}

