//! `dump --locals`: each frame's local variable names and short reprs of simple values.
//!
//! Reads the same frame chain as the walker (while the threads are paused, so the two reads
//! agree), and for each Python frame the code's slot names and the frame's slots:
//! ≤3.10 `co_varnames[:co_nlocals]` / `f_localsplus`, 3.11+ `co_localsplusnames` with
//! `co_localspluskinds` / `_PyInterpreterFrame.localsplus`. Values of int, float, str, bytes,
//! bool and None are shown as Python would print them (shortened); anything else by type name.

use super::layout::{FrameModel, Layout};
use super::offsets::LocalsOffsets;
use super::offsets_generated::GENERATED_LOCALS_OFFSETS;
use super::strings::StringFormat;
use super::walker::MAX_DEPTH;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use std::collections::HashMap;

/// Longest repr shown, in characters (longer ones end in `...`).
pub const MAX_REPR_CHARS: usize = 80;
/// Most slots read per frame; more means a corrupt count.
const MAX_SLOTS: i64 = 1 << 16;
/// Most 30-bit digits of an int we print in full (~900 decimal digits, cut to 80 chars anyway).
const MAX_INT_DIGITS: u64 = 100;

// `co_localspluskinds` bits (3.11+, Include/internal/pycore_code.h).
const CO_FAST_HIDDEN: u8 = 0x10;
const CO_FAST_LOCAL: u8 = 0x20;
const CO_FAST_CELL: u8 = 0x40;
const CO_FAST_FREE: u8 = 0x80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVariable {
    pub name: String,
    /// Short repr: `42`, `'hello'`, `None`, or `<list>` for values not decoded.
    pub repr: String,
}

/// The locals table for `layout`'s version: built in (2.7, 3.6–3.13, 3.13t), else from the
/// target's debug offsets (3.14+).
pub fn locals_offsets(layout: &Layout) -> Option<LocalsOffsets> {
    let v = layout.version;
    if let Some(from_table) = layout.debug_locals {
        return Some(from_table);
    }
    GENERATED_LOCALS_OFFSETS
        .iter()
        .filter(|o| (o.major, o.minor, o.free_threaded) == (v.major, v.minor, layout.offsets.free_threaded))
        .find(|o| (o.patch_min..=o.patch_max).contains(&v.patch))
        .copied()
}

/// `Py_INT_TAG` of 3.14+'s `_PyStackRef` (shifted by 2 bits).
const STACKREF_INT_TAG: u64 = 3;

pub struct LocalsReader {
    layout: Layout,
    offsets: LocalsOffsets,
    code_type: Option<u64>,
    type_names: HashMap<u64, String>,
}

impl LocalsReader {
    /// None when this version has no locals table (e.g. 3.14, whose frames hold tagged refs).
    pub fn new(layout: Layout, code_type: Option<u64>) -> Option<LocalsReader> {
        let offsets = locals_offsets(&layout)?;
        Some(LocalsReader { layout, offsets, code_type, type_names: HashMap::new() })
    }

    /// The locals of every Python frame of the thread at `tstate`, innermost frame first
    /// (the frames the walker reports, in the same order).
    pub fn thread_locals(&mut self, mem: &dyn RemoteMemory, tstate: u64) -> ReadResult<Vec<Vec<LocalVariable>>> {
        let o = self.layout.offsets;
        let mut frame = match self.layout.frame_model {
            FrameModel::FrameObjects | FrameModel::CurrentFrame => mem.read_u64(tstate.wrapping_add(o.tstate_frame))?,
            FrameModel::CFrame => match mem.read_u64(tstate.wrapping_add(o.tstate_frame))? {
                0 => 0,
                cframe => mem.read_u64(cframe.wrapping_add(o.cframe_current_frame.unwrap_or(0)))?,
            },
        };
        let mut out = Vec::new();
        let mut depth = 0;
        while frame != 0 {
            depth += 1;
            if depth > MAX_DEPTH || frame % 8 != 0 {
                return Err(ReadError::Invalid("frame chain"));
            }
            let code = mem.read_u64(frame.wrapping_add(o.frame_code))? & !self.layout.executable_tag_mask;
            let back = mem.read_u64(frame.wrapping_add(o.frame_back))?;
            let owner = match o.frame_owner {
                Some(off) if self.layout.frame_model != FrameModel::FrameObjects => read_u8(mem, frame.wrapping_add(off))?,
                _ => 0,
            };
            let is_shim = self.layout.first_shim_owner.is_some_and(|first| owner >= first);
            if !is_shim && code != 0 && self.is_code(mem, code)? {
                out.push(self.frame_locals(mem, frame, code)?);
            }
            frame = back;
        }
        Ok(out)
    }

    fn is_code(&mut self, mem: &dyn RemoteMemory, addr: u64) -> ReadResult<bool> {
        let ty = mem.read_u64(addr.wrapping_add(self.layout.offsets.object_type))?;
        Ok(match self.code_type {
            Some(code_type) => ty == code_type,
            None => self.type_name(mem, ty) == "code",
        })
    }

    fn frame_locals(&mut self, mem: &dyn RemoteMemory, frame: u64, code: u64) -> ReadResult<Vec<LocalVariable>> {
        let lo = self.offsets;
        let count = mem.read_u32(code.wrapping_add(lo.locals_code_count))? as i32 as i64;
        if !(0..=MAX_SLOTS).contains(&count) {
            return Err(ReadError::Invalid("local variable count"));
        }
        let names_tuple = mem.read_u64(code.wrapping_add(lo.locals_code_names))?;
        let names = self.read_tuple(mem, names_tuple)?;
        let kinds = match lo.locals_code_kinds {
            Some(off) => Some(self.read_bytes(mem, mem.read_u64(code.wrapping_add(off))?, count as usize)?),
            None => None,
        };
        let count = (count as usize).min(names.len());
        let slots = if count == 0 { Vec::new() } else { mem.read_vec(frame.wrapping_add(lo.locals_frame_slots), count * 8)? };
        let mut out = Vec::new();
        for (i, &name_addr) in names.iter().enumerate().take(count) {
            let kind = kinds.as_ref().map_or(CO_FAST_LOCAL, |k| k.get(i).copied().unwrap_or(0));
            if kind & CO_FAST_HIDDEN != 0 || kind & (CO_FAST_LOCAL | CO_FAST_CELL | CO_FAST_FREE) == 0 {
                continue;
            }
            let raw = u64::from_le_bytes(slots[i * 8..i * 8 + 8].try_into().unwrap());
            // 3.14+: slots are `_PyStackRef`s; tag 3 is an int held in the reference itself.
            if self.layout.executable_tag_mask != 0 && raw & STACKREF_INT_TAG == STACKREF_INT_TAG {
                let name = self.read_text(mem, name_addr).unwrap_or_else(|_| format!("<local {i}>"));
                out.push(LocalVariable { name, repr: ((raw as i64) >> 2).to_string() });
                continue;
            }
            let mut value = raw & !self.layout.executable_tag_mask;
            if value != 0 && kind & (CO_FAST_CELL | CO_FAST_FREE) != 0 {
                // 3.11+: a cell variable's slot holds its cell once the function has started.
                let ty = mem.read_u64(value.wrapping_add(self.layout.offsets.object_type))?;
                if self.type_name(mem, ty) == "cell" {
                    value = mem.read_u64(value.wrapping_add(lo.locals_cell_ref))?;
                }
            }
            if value == 0 {
                continue; // unbound (not assigned yet, or deleted)
            }
            let name = self.read_text(mem, name_addr).unwrap_or_else(|_| format!("<local {i}>"));
            out.push(LocalVariable { name, repr: shorten(self.repr(mem, value)) });
        }
        Ok(out)
    }

    /// The object pointers of a tuple.
    fn read_tuple(&mut self, mem: &dyn RemoteMemory, tuple: u64) -> ReadResult<Vec<u64>> {
        if tuple == 0 || tuple % 8 != 0 {
            return Err(ReadError::Invalid("tuple pointer"));
        }
        let lo = self.offsets;
        let len = mem.read_u64(tuple.wrapping_add(lo.locals_tuple_size))? as i64;
        if !(0..=MAX_SLOTS).contains(&len) {
            return Err(ReadError::Invalid("tuple size"));
        }
        let raw = mem.read_vec(tuple.wrapping_add(lo.locals_tuple_items), len as usize * 8)?;
        Ok(raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
    }

    /// Up to `max` bytes of a bytes object (a `str` on 2.7), and whether it was cut.
    fn read_bytes_cut(&self, mem: &dyn RemoteMemory, obj: u64, max: usize) -> ReadResult<(Vec<u8>, bool)> {
        let o = self.layout.offsets;
        let size = mem.read_u64(obj.wrapping_add(o.bytes_size))? as i64;
        if size < 0 {
            return Err(ReadError::Invalid("bytes size"));
        }
        let take = (size as usize).min(max);
        Ok((mem.read_vec(obj.wrapping_add(o.bytes_data), take)?, take < size as usize))
    }

    fn read_bytes(&self, mem: &dyn RemoteMemory, obj: u64, max: usize) -> ReadResult<Vec<u8>> {
        Ok(self.read_bytes_cut(mem, obj, max)?.0)
    }

    /// A `str` (a name or a value), cut after `MAX_REPR_CHARS` characters.
    fn read_text_cut(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<(String, bool)> {
        let o = self.layout.offsets;
        if self.layout.string_format == StringFormat::Bytes27 {
            let (bytes, cut) = self.read_bytes_cut(mem, obj, MAX_REPR_CHARS)?;
            return Ok((bytes.iter().map(|&b| b as char).collect(), cut));
        }
        let length = mem.read_u64(obj.wrapping_add(o.unicode_length))? as i64;
        let state = mem.read_u32(obj.wrapping_add(o.unicode_state.ok_or(ReadError::Invalid("no str state"))?))?;
        let state = if self.layout.string_format == StringFormat::Pep393InternedByte { (state >> 8) << 2 } else { state };
        let (kind, compact, ascii) = (((state >> 2) & 7) as usize, state & 0x20 != 0, state & 0x40 != 0);
        if length < 0 || !matches!(kind, 1 | 2 | 4) || !compact {
            return Err(ReadError::Invalid("str layout"));
        }
        let data = if ascii { o.unicode_ascii_data } else { o.unicode_compact_data.ok_or(ReadError::Invalid("str layout"))? };
        let take = (length as usize).min(MAX_REPR_CHARS);
        let raw = mem.read_vec(obj.wrapping_add(data), take * kind)?;
        let text = raw
            .chunks_exact(kind)
            .map(|c| {
                let mut v = [0u8; 4];
                v[..kind].copy_from_slice(c);
                char::from_u32(u32::from_le_bytes(v)).unwrap_or('\u{fffd}')
            })
            .collect();
        Ok((text, take < length as usize))
    }

    fn read_text(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<String> {
        Ok(self.read_text_cut(mem, obj)?.0)
    }

    /// `tp_name` of a type object (cached: types do not move).
    fn type_name(&mut self, mem: &dyn RemoteMemory, ty: u64) -> String {
        if let Some(name) = self.type_names.get(&ty) {
            return name.clone();
        }
        let name = mem
            .read_u64(ty.wrapping_add(self.offsets.locals_type_name))
            .ok()
            .and_then(|p| read_c_string(mem, p))
            .unwrap_or_else(|| "?".to_string());
        self.type_names.insert(ty, name.clone());
        name
    }

    fn repr(&mut self, mem: &dyn RemoteMemory, obj: u64) -> String {
        if obj % 8 != 0 {
            return "<invalid>".into();
        }
        let Ok(ty) = mem.read_u64(obj.wrapping_add(self.layout.offsets.object_type)) else { return "<unreadable>".into() };
        let name = self.type_name(mem, ty);
        let py2 = self.layout.version.major == 2;
        let decoded = match name.as_str() {
            "NoneType" => Ok("None".to_string()),
            "bool" if py2 => mem.read_u64(obj.wrapping_add(self.offsets.locals_int27_value.unwrap_or(16))).map(|v| if v != 0 { "True" } else { "False" }.to_string()),
            "bool" => self.read_int(mem, obj).map(|v| if v == "0" { "False" } else { "True" }.to_string()),
            "int" if py2 => mem.read_u64(obj.wrapping_add(self.offsets.locals_int27_value.unwrap_or(16))).map(|v| (v as i64).to_string()),
            "int" | "long" => self.read_int(mem, obj).map(|v| if py2 { v + "L" } else { v }),
            "float" => mem.read_u64(obj.wrapping_add(self.offsets.locals_float_value)).map(|bits| float_repr(f64::from_bits(bits))),
            "str" if py2 => self.read_text_cut(mem, obj).map(|(s, cut)| quote("", &s, cut)),
            "str" => self.read_text_cut(mem, obj).map(|(s, cut)| quote("", &s, cut)),
            "bytes" => self.read_bytes_cut(mem, obj, MAX_REPR_CHARS).map(|(b, cut)| quote("b", &b.iter().map(|&c| c as char).collect::<String>(), cut)),
            _ => Err(ReadError::Invalid("not a simple value")),
        };
        decoded.unwrap_or_else(|_| format!("<{name}>"))
    }

    /// An int's decimal digits (negative with `-`).
    fn read_int(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<String> {
        let lo = self.offsets;
        let raw = mem.read_u64(obj.wrapping_add(lo.locals_long_size))?;
        let (ndigits, negative) = if (self.layout.version.major, self.layout.version.minor) >= (3, 12) {
            // lv_tag: digit count << 3 | sign (0 positive, 1 zero, 2 negative).
            (raw >> 3, raw & 3 == 2)
        } else {
            let size = raw as i64;
            (size.unsigned_abs(), size < 0)
        };
        if ndigits > MAX_INT_DIGITS {
            return Err(ReadError::Invalid("int too large"));
        }
        let raw = mem.read_vec(obj.wrapping_add(lo.locals_long_digits), ndigits as usize * 4)?;
        let digits: Vec<u32> = raw.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        let text = digits_to_decimal(&digits, lo.locals_long_digit_bits as u32);
        Ok(if negative && text != "0" { format!("-{text}") } else { text })
    }
}

/// Decimal text of a CPython int's magnitude: little-endian digits of `bits` bits each.
fn digits_to_decimal(digits: &[u32], bits: u32) -> String {
    // Repeatedly divide the base-2^bits number by 10^9, collecting remainders.
    let mut n: Vec<u64> = digits.iter().map(|&d| d as u64).collect();
    while n.last() == Some(&0) {
        n.pop();
    }
    if n.is_empty() {
        return "0".into();
    }
    let mut chunks = Vec::new();
    while !n.is_empty() {
        let mut rem = 0u64;
        for d in n.iter_mut().rev() {
            let cur = (rem << bits) | *d;
            *d = cur / 1_000_000_000;
            rem = cur % 1_000_000_000;
        }
        chunks.push(rem);
        while n.last() == Some(&0) {
            n.pop();
        }
    }
    let mut text = chunks.pop().unwrap().to_string();
    for c in chunks.iter().rev() {
        text += &format!("{c:09}");
    }
    text
}

/// Python's repr of a float for the common cases (`42.0`, `0.1`, `inf`, `nan`).
fn float_repr(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        // Debug is the shortest round-trip form and keeps the `.0` of whole numbers.
        format!("{v:?}")
    }
}

/// `'text'` with Python's escapes; `...` after the closing quote when the value was cut.
fn quote(prefix: &str, text: &str, cut: bool) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = format!("{prefix}{quote}");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f || (prefix == "b" && c as u32 >= 0x80) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    // Keep the closing quote when cutting: `'yyyy'...` stays within MAX_REPR_CHARS.
    let room = MAX_REPR_CHARS - 4;
    if cut || out.chars().count() > room + 3 {
        out = out.chars().take(room).collect();
        out.push(quote);
        out.push_str("...");
    } else {
        out.push(quote);
    }
    out
}

/// At most `MAX_REPR_CHARS` characters, ending in `...` when cut.
pub fn shorten(repr: String) -> String {
    if repr.chars().count() <= MAX_REPR_CHARS {
        return repr;
    }
    let mut cut: String = repr.chars().take(MAX_REPR_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

fn read_u8(mem: &dyn RemoteMemory, addr: u64) -> ReadResult<u8> {
    let mut b = [0u8; 1];
    mem.read(addr, &mut b)?;
    Ok(b[0])
}

/// A NUL-terminated C string of at most 128 bytes (type names).
fn read_c_string(mem: &dyn RemoteMemory, addr: u64) -> Option<String> {
    if addr == 0 {
        return None;
    }
    // Read in small steps so a name near the end of a mapping still reads.
    let mut bytes = Vec::new();
    for step in 0..8u64 {
        let mut chunk = [0u8; 16];
        mem.read(addr.wrapping_add(step * 16), &mut chunk).ok()?;
        if let Some(end) = chunk.iter().position(|&b| b == 0) {
            bytes.extend_from_slice(&chunk[..end]);
            return Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        bytes.extend_from_slice(&chunk);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::memory::ImageMemory;
    use crate::python::version::PythonVersion;

    /// A tiny deterministic generator (xorshift) so the soup is the same on every run.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn pointer_soup_never_panics_on_any_layout() {
        // Memory where every word is either garbage or a pointer back into the image: every
        // read succeeds, so the reader must stop on its own checks, never panic or loop.
        const BASE: u64 = 0x10000;
        const LEN: u64 = 0x4000;
        let mut decoded = 0;
        for table in GENERATED_LOCALS_OFFSETS {
            let layout = Layout::for_version(PythonVersion::new(table.major, table.minor, table.patch_min), table.free_threaded).unwrap();
            for seed in 1..40u64 {
                let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut image = vec![0u8; LEN as usize];
                for word in image.chunks_exact_mut(8) {
                    let value = match next(&mut state) % 4 {
                        // Pointers mostly into the first words, so type checks sometimes pass.
                        0 => BASE + (next(&mut state) % 64) * 8,
                        1 => next(&mut state) % 300,
                        2 => 0,
                        _ => next(&mut state),
                    };
                    word.copy_from_slice(&value.to_le_bytes());
                }
                let mut mem = ImageMemory::new();
                mem.write(BASE, &image);
                let mut reader = LocalsReader::new(layout, Some(BASE + 8 * (seed % 64))).unwrap();
                let tstate = BASE + (next(&mut state) % (LEN / 8)) * 8;
                // Every stage on its own too, from arbitrary addresses of the image.
                for _ in 0..64 {
                    let (frame, code) = (BASE + (next(&mut state) % 64) * 8, BASE + (next(&mut state) % 64) * 8);
                    if let Ok(locals) = reader.frame_locals(&mem, frame, code) {
                        decoded += locals.len();
                        assert!(locals.iter().all(|l| l.repr.chars().count() <= MAX_REPR_CHARS));
                    }
                    let repr = reader.repr(&mem, BASE + (next(&mut state) % (LEN / 8)) * 8);
                    assert!(!repr.is_empty());
                }
                if let Ok(frames) = reader.thread_locals(&mem, tstate) {
                    for local in frames.iter().flatten() {
                        assert!(local.repr.chars().count() <= MAX_REPR_CHARS);
                        decoded += 1;
                    }
                }
            }
        }
        assert!(decoded > 0, "the soup never reached the value decoding");
    }

    #[test]
    fn ints_of_several_digits_print_in_decimal() {
        assert_eq!(digits_to_decimal(&[], 30), "0");
        assert_eq!(digits_to_decimal(&[42], 30), "42");
        // 2**30 = 1073741824; 2**60 + 5 = 1152921504606846981
        assert_eq!(digits_to_decimal(&[0, 1], 30), "1073741824");
        assert_eq!(digits_to_decimal(&[5, 0, 1], 30), "1152921504606846981");
        // 10**20 = 100000000000000000000
        let big: u128 = 100_000_000_000_000_000_000;
        let digits: Vec<u32> = (0..3).map(|i| ((big >> (30 * i)) & ((1 << 30) - 1)) as u32).collect();
        assert_eq!(digits_to_decimal(&digits, 30), big.to_string());
    }

    #[test]
    fn reprs_follow_python() {
        assert_eq!(float_repr(42.0), "42.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(quote("", "hello", false), "'hello'");
        assert_eq!(quote("", "it's", false), "\"it's\"");
        assert_eq!(quote("b", "a\n\u{ff}", false), "b'a\\n\\xff'");
        assert_eq!(quote("", "abc", true), "'abc'...");
        let cut = quote("", &"y".repeat(200), false);
        assert!(cut.ends_with("y'...") && cut.chars().count() == MAX_REPR_CHARS, "{cut}");
        let long = "x".repeat(200);
        assert_eq!(shorten(long).chars().count(), MAX_REPR_CHARS);
    }
}
