//! Decoding `str` and `bytes` objects read from the target.

use super::offsets::VersionOffsets;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};

/// Longest name or file name we decode; longer is treated as corrupt.
pub const MAX_STRING_CHARS: u64 = 4096;
/// Longest line table we read.
pub const MAX_BYTES_LEN: u64 = 1 << 16;
/// One read covers the header plus this many bytes of data, so short strings take one syscall.
const INLINE_DATA: usize = 96;

/// How `str` objects are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFormat {
    /// 2.7 `PyStringObject`: bytes.
    Bytes27,
    /// 3.3+ PEP 393 compact strings.
    Pep393,
    /// 3.14+ free-threaded builds: `interned` is a whole byte (atomic access), so the
    /// kind/compact/ascii bits start at bit 8 of `state`.
    Pep393InternedByte,
}

/// Reads a `str` object (`co_name`, `co_filename`, ...). `expected_type`, when known, is the
/// address of the str type and is checked against `ob_type` to reject garbage pointers.
pub fn read_str(
    mem: &dyn RemoteMemory,
    offsets: &VersionOffsets,
    format: StringFormat,
    addr: u64,
    expected_type: Option<u64>,
) -> ReadResult<String> {
    if addr == 0 || addr % 8 != 0 {
        return Err(ReadError::Invalid("string pointer"));
    }
    let header_len = match format {
        StringFormat::Bytes27 => offsets.unicode_ascii_data as usize,
        StringFormat::Pep393 | StringFormat::Pep393InternedByte => offsets.unicode_compact_data.unwrap_or(offsets.unicode_ascii_data) as usize,
    };
    if header_len + 8 > 256 { return Err(ReadError::Invalid("str header larger than any known layout")); } // fuzz finding: a table describing a header past the buffer
    let mut buf = [0u8; 256];
    let first = (header_len + INLINE_DATA).min(buf.len());
    let got = if mem.read(addr, &mut buf[..first]).is_ok() {
        first
    } else {
        // The object may end right before an unmapped page: read just the header.
        mem.read(addr, &mut buf[..header_len])?;
        header_len
    };
    let field = |off: u64, len: usize| -> ReadResult<u64> {
        let off = off as usize;
        let bytes = buf.get(off..off + len).ok_or(ReadError::Invalid("string header"))?;
        let mut v = [0u8; 8];
        v[..len].copy_from_slice(bytes);
        Ok(u64::from_le_bytes(v))
    };
    if let Some(ty) = expected_type {
        if field(offsets.object_type, 8)? != ty {
            return Err(ReadError::Invalid("not a str object"));
        }
    }
    let length = field(offsets.unicode_length, 8)?;
    if length > MAX_STRING_CHARS {
        return Err(ReadError::Invalid("string length"));
    }
    let length = length as usize;

    let (data_offset, kind) = match format {
        StringFormat::Bytes27 => (offsets.unicode_ascii_data, 1usize),
        StringFormat::Pep393 | StringFormat::Pep393InternedByte => {
            let mut state = field(offsets.unicode_state.ok_or(ReadError::Invalid("no str state"))?, 4)? as u32;
            if format == StringFormat::Pep393InternedByte {
                // Same bits as the default build, one byte further: move them back in place.
                state = (state >> 8) << 2;
            }
            let kind = ((state >> 2) & 7) as usize;
            let compact = state & 0x20 != 0;
            let ascii = state & 0x40 != 0;
            if !matches!(kind, 1 | 2 | 4) {
                return Err(ReadError::Invalid("string kind"));
            }
            if compact && ascii {
                (offsets.unicode_ascii_data, 1)
            } else if compact {
                (offsets.unicode_compact_data.ok_or(ReadError::Invalid("str layout"))?, kind)
            } else {
                // Legacy (non-compact) string: the data pointer sits where compact data would start.
                let ptr = field(offsets.unicode_compact_data.ok_or(ReadError::Invalid("str layout"))?, 8)?;
                return read_str_data(mem, ptr, length, kind, ascii);
            }
        }
    };
    let byte_len = length * kind;
    let start = data_offset as usize;
    if start + byte_len <= got {
        Ok(decode(&buf[start..start + byte_len], kind, format != StringFormat::Bytes27 && kind == 1))
    } else {
        read_str_data(mem, addr.wrapping_add(data_offset), length, kind, false)
    }
}

fn read_str_data(mem: &dyn RemoteMemory, ptr: u64, length: usize, kind: usize, _ascii: bool) -> ReadResult<String> {
    let data = mem.read_vec(ptr, length * kind)?;
    Ok(decode(&data, kind, true))
}

/// Decodes PEP 393 data: kind 1 is Latin-1 (not UTF-8), 2 is UCS-2, 4 is UCS-4.
/// 2.7 `str` bytes are decoded as UTF-8 where valid (the usual file-system encoding), Latin-1 otherwise.
fn decode(data: &[u8], kind: usize, latin1: bool) -> String {
    match kind {
        1 if latin1 => data.iter().map(|&b| b as char).collect(),
        1 => match std::str::from_utf8(data) {
            Ok(s) => s.to_string(),
            Err(_) => data.iter().map(|&b| b as char).collect(),
        },
        2 => char::decode_utf16(data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
        _ => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    }
}

/// Reads a `bytes` object (3.x) or `str` (2.7) used as a line table.
pub fn read_bytes(mem: &dyn RemoteMemory, offsets: &VersionOffsets, addr: u64) -> ReadResult<Vec<u8>> {
    if addr == 0 {
        return Err(ReadError::Invalid("bytes pointer"));
    }
    let mut head = [0u8; 8];
    mem.read(addr.wrapping_add(offsets.bytes_size), &mut head)?;
    let len = u64::from_le_bytes(head);
    if len > MAX_BYTES_LEN {
        return Err(ReadError::Invalid("bytes length"));
    }
    mem.read_vec(addr.wrapping_add(offsets.bytes_data), len as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::memory::ImageMemory;

    fn offsets_312() -> VersionOffsets {
        let mut o = crate::python::testing::offsets_template();
        o.unicode_length = 16;
        o.unicode_state = Some(32);
        o.unicode_ascii_data = 40;
        o.unicode_compact_data = Some(56);
        o
    }

    fn put_str(img: &mut ImageMemory, addr: u64, o: &VersionOffsets, s: &str) {
        let chars: Vec<char> = s.chars().collect();
        let max = chars.iter().map(|&c| c as u32).max().unwrap_or(0);
        let (kind, ascii) = if max < 128 { (1, true) } else if max < 256 { (1, false) } else if max < 65536 { (2, false) } else { (4, false) };
        let mut obj = vec![0u8; 256];
        obj[8..16].copy_from_slice(&0x5000u64.to_le_bytes());
        obj[16..24].copy_from_slice(&(chars.len() as u64).to_le_bytes());
        let state: u32 = (kind << 2) | 0x20 | if ascii { 0x40 } else { 0 };
        obj[32..36].copy_from_slice(&state.to_le_bytes());
        let start = if ascii { o.unicode_ascii_data } else { o.unicode_compact_data.unwrap() } as usize;
        let mut data = Vec::new();
        for c in &chars {
            let v = *c as u32;
            data.extend_from_slice(&v.to_le_bytes()[..kind as usize]);
        }
        obj.truncate(start);
        obj.extend(data);
        obj.resize(obj.len() + 200, 0);
        img.write(addr, &obj);
    }

    #[test]
    fn decodes_all_pep393_kinds() {
        let o = offsets_312();
        let mut img = ImageMemory::new();
        let names = ["plain_ascii", "naïve", "café_睡眠", "mid_𠀀", ""];
        for (i, name) in names.iter().enumerate() {
            let addr = 0x10000 + i as u64 * 0x1000;
            put_str(&mut img, addr, &o, name);
            assert_eq!(read_str(&img, &o, StringFormat::Pep393, addr, Some(0x5000)).unwrap(), *name);
        }
        assert_eq!(read_str(&img, &o, StringFormat::Pep393, 0x10000, Some(0x6000)), Err(ReadError::Invalid("not a str object")));
    }

    #[test]
    fn long_strings_take_a_second_read_and_absurd_lengths_fail() {
        let o = offsets_312();
        let mut img = ImageMemory::new();
        let long: String = "x".repeat(1000);
        put_str(&mut img, 0x20000, &o, &long);
        assert_eq!(read_str(&img, &o, StringFormat::Pep393, 0x20000, None).unwrap(), long);
        img.write_u64(0x20000 + 16, 1 << 40);
        assert!(read_str(&img, &o, StringFormat::Pep393, 0x20000, None).is_err());
    }
}
