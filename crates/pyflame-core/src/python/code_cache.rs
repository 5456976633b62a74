//! Decoded code objects, cached by their address in the target.
//!
//! Decoding a code object costs several reads (the object, its names, its line table); a
//! stack usually repeats the same few hundred functions, so each is decoded once. Addresses
//! can be reused after a code object is freed, so an entry is re-checked against the target
//! every `REVALIDATE_EVERY` samples (one read) and replaced when it no longer matches.

use super::layout::Layout;
use super::linetable::line_for_offset;
use super::strings::{read_bytes, read_str};
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use rustc_hash::FxHashMap as HashMap;

/// Samples between re-checks of a cached code object.
const REVALIDATE_EVERY: u64 = 32;
/// Most distinct code objects kept; past this the cache starts over (bounded memory).
const MAX_CODES: usize = 200_000;
/// Most-recent (offset → line) answers remembered per code object.
const LINE_MEMO: usize = 8;

pub type CodeId = u32;

#[derive(Debug, Clone)]
pub struct CodeInfo {
    /// Qualified name where the version has one (3.11+), else `co_name`.
    pub name: String,
    pub filename: String,
    pub first_line: u32,
    /// Address of the code object in the target.
    pub addr: u64,
    /// Address of the name `str` object (for learning the str type without symbols).
    pub name_addr: u64,
    line_table: Vec<u8>,
    /// Bytes a frame of this code takes on the 3.11+ data stack (`co_framesize` words); 0 when
    /// unknown. The walker checks that the frames of a stack tile the data stack with it.
    pub frame_bytes: u64,
    /// The pointers this entry was decoded from, compared on revalidation.
    identity: [u64; 4],
    checked_at: u64,
    /// The last sample whose stacks held this code object (`mark_used`).
    used_at: u64,
    line_memo: [(i64, u32); LINE_MEMO],
    memo_next: usize,
}

impl CodeInfo {
    pub fn line_for(&mut self, layout: &Layout, offset: i64) -> u32 {
        if let Some(&(_, line)) = self.line_memo.iter().find(|(o, _)| *o == offset) {
            return line;
        }
        let line = line_for_offset(layout.line_format, &self.line_table, self.first_line, offset);
        self.line_memo[self.memo_next] = (offset, line);
        self.memo_next = (self.memo_next + 1) % LINE_MEMO;
        line
    }
}

/// CPython's `co_framesize` in bytes (3.11+): the frame header plus one word per local, cell,
/// free variable and value-stack slot. 0 when the layout lacks the fields or the ints are absurd.
fn data_stack_frame_bytes(header: &[u8], o: &super::offsets::VersionOffsets) -> u64 {
    let (Some(specials), Some(stack_off), Some(locals_off)) = (o.frame_specials_size, o.code_stacksize, o.code_nlocalsplus) else {
        return 0;
    };
    let int_at = |off: u64| header.get(off as usize..off as usize + 4).map(|b| i32::from_le_bytes(b.try_into().unwrap()));
    match (int_at(stack_off), int_at(locals_off)) {
        (Some(stack), Some(locals)) if (0..1 << 20).contains(&stack) && (0..1 << 20).contains(&locals) => specials + 8 * (stack as u64 + locals as u64),
        _ => 0,
    }
}

/// The pointers that identify a code object, from its header: (name, filename, line table,
/// size); an error when the header is not a code object's.
fn identity_of(header: &[u8], layout: &Layout, code_type: Option<u64>) -> ReadResult<[u64; 4]> {
    let o = &layout.offsets;
    let word = |off: u64| -> u64 {
        let off = off as usize;
        header.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    if let Some(ty) = code_type {
        if word(o.object_type) != ty {
            return Err(ReadError::Invalid("not a code object"));
        }
    }
    let name = o.code_qualname.map_or_else(|| word(o.code_name), |q| word(q));
    // The fourth word is `ob_size` on 3.11+ (bytecode length in code units), a stable
    // header word before: a new code object at a reused address rarely matches all four.
    Ok([name, word(o.code_filename), word(o.code_linetable), word(o.bytes_size)])
}

#[derive(Default)]
pub struct CodeCache {
    codes: Vec<CodeInfo>,
    by_addr: HashMap<u64, CodeId>,
    /// Bumped when the cache is cleared, so callers can drop ids they kept.
    pub generation: u64,
    /// Bumped whenever an address stops mapping to the id it had (cleared, forgotten, or
    /// replaced on revalidation): answers derived from an id are valid only within one epoch.
    epoch: u64,
    buf: Vec<u8>,
    /// Ids by the sample they were last checked at, modulo `REVALIDATE_EVERY`: the ones due
    /// at a sample are in its slot (`take_due`).
    checked_ring: Vec<Vec<CodeId>>,
}

impl CodeCache {
    pub fn get(&self, id: CodeId) -> &CodeInfo {
        &self.codes[id as usize]
    }

    pub fn get_mut(&mut self, id: CodeId) -> &mut CodeInfo {
        &mut self.codes[id as usize]
    }

    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// Bytecode length in code units (3.11+), for checking that an instruction pointer
    /// really lies inside this code object.
    pub fn code_units(&self, id: CodeId) -> u64 {
        self.codes[id as usize].identity[3]
    }

    /// Drops the entry for `addr` (it no longer describes what lives there).
    pub fn forget(&mut self, addr: u64) {
        self.by_addr.remove(&addr);
        self.epoch += 1;
    }

    /// Changes when any address stops mapping to the id it had (see `FrameCache`).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Whether `lookup` would return `id` for its address at `tick` without reading the
    /// target (checked recently enough); a caller reusing an id past that must look it up again.
    pub fn is_fresh(&self, id: CodeId, tick: u64) -> bool {
        self.codes.get(id as usize).is_some_and(|c| tick.saturating_sub(c.checked_at) < REVALIDATE_EVERY)
    }

    /// The id of the code object at `addr`, decoding it on first sight.
    pub fn lookup(
        &mut self,
        mem: &dyn RemoteMemory,
        layout: &Layout,
        code_type: Option<u64>,
        str_type: Option<u64>,
        addr: u64,
        tick: u64,
    ) -> ReadResult<CodeId> {
        if let Some(&id) = self.by_addr.get(&addr) {
            let entry = &self.codes[id as usize];
            if tick.saturating_sub(entry.checked_at) < REVALIDATE_EVERY {
                return Ok(id);
            }
            let identity = self.read_identity(mem, layout, code_type, addr)?;
            if identity == self.codes[id as usize].identity {
                self.checked(id, tick);
                return Ok(id);
            }
            self.by_addr.remove(&addr);
            self.epoch += 1;
        }
        if self.codes.len() >= MAX_CODES {
            self.codes.clear();
            self.by_addr.clear();
            self.checked_ring.iter_mut().for_each(Vec::clear);
            self.generation += 1;
            self.epoch += 1;
        }
        let info = self.decode(mem, layout, code_type, str_type, addr, tick)?;
        let id = self.codes.len() as CodeId;
        self.codes.push(info);
        self.by_addr.insert(addr, id);
        self.checked(id, tick);
        Ok(id)
    }

    fn checked(&mut self, id: CodeId, tick: u64) {
        self.codes[id as usize].checked_at = tick;
        if self.checked_ring.is_empty() {
            self.checked_ring.resize_with(REVALIDATE_EVERY as usize, Vec::new);
        }
        self.checked_ring[(tick % REVALIDATE_EVERY) as usize].push(id);
    }

    /// Notes that a sample at `tick` had `id` on a stack.
    pub fn mark_used(&mut self, id: CodeId, tick: u64) {
        if let Some(code) = self.codes.get_mut(id as usize) {
            code.used_at = tick;
        }
    }

    /// The addresses of code objects whose re-check falls due at `tick` and that were on a
    /// stack since their last check: a sample reads their headers in its first batch
    /// (`recheck_read`) instead of one read each during the walk. The rest are checked on
    /// demand if they come back.
    pub fn take_due(&mut self, tick: u64, out: &mut Vec<u64>) {
        out.clear();
        let Some(slot) = self.checked_ring.get_mut((tick % REVALIDATE_EVERY) as usize) else { return };
        let ids = std::mem::take(slot);
        for id in ids {
            let Some(code) = self.codes.get(id as usize) else { continue };
            let current = self.by_addr.get(&code.addr) == Some(&id);
            if current && code.checked_at + REVALIDATE_EVERY == tick && code.used_at > code.checked_at {
                out.push(code.addr);
            }
        }
    }

    /// A re-check from a header read elsewhere (`header`: the code object's first
    /// `code_size` bytes at `addr`, read at `tick`): still the same object, or forgotten.
    pub fn recheck_read(&mut self, layout: &Layout, code_type: Option<u64>, addr: u64, header: &[u8], tick: u64) {
        let Some(&id) = self.by_addr.get(&addr) else { return };
        match identity_of(header, layout, code_type) {
            Ok(identity) if identity == self.codes[id as usize].identity => self.checked(id, tick),
            _ => self.forget(addr),
        }
    }

    /// Reads the code object's header and returns (name, filename, line table) pointers.
    fn read_identity(&mut self, mem: &dyn RemoteMemory, layout: &Layout, code_type: Option<u64>, addr: u64) -> ReadResult<[u64; 4]> {
        if addr == 0 || addr % 8 != 0 {
            return Err(ReadError::Invalid("code pointer"));
        }
        self.buf.resize(layout.offsets.code_size as usize, 0);
        mem.read(addr, &mut self.buf)?;
        identity_of(&self.buf, layout, code_type)
    }

    fn decode(
        &mut self,
        mem: &dyn RemoteMemory,
        layout: &Layout,
        code_type: Option<u64>,
        str_type: Option<u64>,
        addr: u64,
        tick: u64,
    ) -> ReadResult<CodeInfo> {
        let identity = self.read_identity(mem, layout, code_type, addr)?;
        let o = &layout.offsets;
        let off = o.code_firstlineno as usize;
        let first_line = self.buf.get(off..off + 4).map_or(0, |b| i32::from_le_bytes(b.try_into().unwrap())).max(0) as u32;
        let frame_bytes = data_stack_frame_bytes(&self.buf, o);
        let [name_ptr, filename_ptr, table_ptr, _] = identity;
        let name = read_str(mem, o, layout.string_format, name_ptr, str_type)?;
        let filename = read_str(mem, o, layout.string_format, filename_ptr, str_type)?;
        // A missing line table only costs line numbers, not the frame.
        let line_table = read_bytes(mem, o, table_ptr).unwrap_or_default();
        Ok(CodeInfo {
            name,
            filename,
            first_line,
            addr,
            name_addr: name_ptr,
            line_table,
            frame_bytes,
            identity,
            checked_at: tick,
            used_at: tick,
            line_memo: [(i64::MIN, 0); LINE_MEMO],
            memo_next: 0,
        })
    }
}
