//! Coroutine stacks of 3.7–3.10. A coroutine keeps its frame as a heap `PyFrameObject`
//! (`cr_frame`, NULL once the coroutine has finished) that says in `f_lasti` where it stopped.
//! Suspended in `await`, its next instruction is YIELD_FROM and the object it awaits is the top
//! of its value stack (what those versions' `_PyGen_yf` reads).

use super::coroutines::{word, ChainEnd, MAX_AWAIT_DEPTH};
use super::AsyncReader;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use crate::python::code_cache::CodeCache;
use crate::python::walker::RawFrame;

/// Where a coroutine's heap frame is and what it holds (from the generated table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameObjectLayout {
    /// `gi_frame` of the coroutine object.
    pub gen_frame: u64,
    pub frame_code: u64,
    /// `f_lasti` (int): the last instruction run, -1 before the first.
    pub frame_lasti: u64,
    /// 3.10 counts `f_lasti` in 2-byte code units, earlier versions in bytes.
    pub lasti_in_code_units: bool,
    /// `f_valuestack`: the bottom of the value stack.
    pub frame_valuestack: u64,
    pub stack: FrameObjectStack,
    /// Bytes of a frame object read, covering every field above.
    pub frame_size: u64,
    /// `co_code` of the code object, and where a bytes object's data starts.
    pub code_bytecode: u64,
    pub bytes_data: u64,
    pub yield_from_opcode: u8,
}

/// How a heap frame shows whether it runs and where its value stack ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameObjectStack {
    /// ≤3.9: `f_stacktop`, just past the top while suspended, NULL while the frame runs.
    StackTop { stacktop: u64 },
    /// 3.10: `f_stackdepth` (int) and the frame state `f_state` (signed char).
    Depth { stackdepth: u64, state: u64, executing: i8, finished_from: i8 },
}

impl AsyncReader {
    /// `coroutine_stack` for versions whose coroutines keep heap frames.
    pub(super) fn frame_object_stack(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, coro: u64, l: FrameObjectLayout, out: &mut Vec<RawFrame>) -> ReadResult<ChainEnd> {
        let object_type = self.layout.object_type;
        let mut coro = coro;
        let mut first_type = None;
        for _ in 0..MAX_AWAIT_DEPTH {
            if coro == 0 || coro % 8 != 0 {
                return Err(ReadError::Invalid("coroutine pointer"));
            }
            self.buf.resize((l.gen_frame.max(object_type) + 8) as usize, 0);
            mem.read(coro, &mut self.buf)?;
            let ty = word(&self.buf, object_type);
            // Every coroutine of a chain has the coroutine type; the first one tells which.
            if *first_type.get_or_insert(ty) != ty {
                return Err(ReadError::Invalid("coroutine of another type in an await chain"));
            }
            let frame = word(&self.buf, l.gen_frame);
            let finished = if out.is_empty() { ChainEnd::Finished } else { ChainEnd::Suspended };
            if frame == 0 {
                return Ok(finished);
            }
            if frame % 8 != 0 {
                return Err(ReadError::Invalid("coroutine frame pointer"));
            }
            self.buf.resize(l.frame_size as usize, 0);
            mem.read(frame, &mut self.buf)?;
            let int_at = |buf: &[u8], off: u64| i32::from_le_bytes(buf[off as usize..off as usize + 4].try_into().unwrap());
            let code = word(&self.buf, l.frame_code);
            let lasti = int_at(&self.buf, l.frame_lasti) as i64;
            // (executing, finished, the address just past the value stack's top or 0)
            let (executing, done, stack_end) = match l.stack {
                FrameObjectStack::StackTop { stacktop } => {
                    let top = word(&self.buf, stacktop);
                    (top == 0, false, top)
                }
                FrameObjectStack::Depth { stackdepth, state, executing, finished_from } => {
                    let state = self.buf[state as usize] as i8;
                    let depth = int_at(&self.buf, stackdepth);
                    let bottom = word(&self.buf, l.frame_valuestack);
                    let end = if (1..1 << 20).contains(&depth) { bottom.wrapping_add(8 * depth as u64) } else { 0 };
                    (state == executing, state >= finished_from, end)
                }
            };
            if done {
                return Ok(finished);
            }
            let offset = if lasti < 0 { -1 } else if l.lasti_in_code_units { lasti * 2 } else { lasti };
            out.push(self.frame_at_offset(mem, codes, code, offset)?);
            if executing {
                return Ok(ChainEnd::Executing);
            }
            // Not started yet, or suspended at a bare `yield`: nothing awaited.
            if offset < 0 || stack_end == 0 {
                return Ok(ChainEnd::Suspended);
            }
            let bytecode = mem.read_u64(code.wrapping_add(l.code_bytecode))?;
            let mut next = [0u8; 1];
            mem.read(bytecode.wrapping_add(l.bytes_data + offset as u64 + 2), &mut next)?;
            if next[0] != l.yield_from_opcode {
                return Ok(ChainEnd::Suspended);
            }
            let awaited = mem.read_u64(stack_end.wrapping_sub(8))?;
            if awaited == 0 || awaited % 8 != 0 {
                return Ok(ChainEnd::Suspended);
            }
            let awaited_type = mem.read_u64(awaited.wrapping_add(object_type))?;
            if awaited_type == ty {
                coro = awaited;
                continue;
            }
            return self.awaited_object(mem, awaited, awaited_type);
        }
        Err(ReadError::Invalid("await chain too deep (cycle?)"))
    }

    /// The frame of code object `code` stopped at byte `offset` of its bytecode (-1: not started).
    fn frame_at_offset(&mut self, mem: &dyn RemoteMemory, codes: &mut CodeCache, code: u64, offset: i64) -> ReadResult<RawFrame> {
        let py = self.py;
        let id = codes.lookup(mem, &py, self.code_type, self.str_type, code, self.tick)?;
        let line = codes.get_mut(id).line_for(&py, offset);
        Ok(RawFrame { code: id, line, entry: false })
    }
}
