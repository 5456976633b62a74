//! Line numbers from a code object's line table, per CPython generation.
//! All decoders are pure functions over bytes and bounds-check every read.

/// Which line-table encoding a version uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTableFormat {
    /// 2.7: `co_lnotab` pairs (addr_incr, line_incr), both unsigned.
    Lnotab27,
    /// 3.6–3.9: `co_lnotab` pairs with a signed line increment.
    Lnotab36,
    /// 3.10: `co_linetable` (PEP 626) pairs (sdelta u8, ldelta i8).
    Linetable310,
    /// 3.11+: the location table.
    Locations311,
}

/// The line executing at `offset`: a byte offset for `Lnotab*`/`Linetable310`, a code-unit
/// index for `Locations311`. A negative offset (frame not started yet) gives `first_line`.
pub fn line_for_offset(format: LineTableFormat, table: &[u8], first_line: u32, offset: i64) -> u32 {
    if offset < 0 {
        return first_line;
    }
    match format {
        LineTableFormat::Lnotab27 => lnotab(table, first_line, offset as u64, false),
        LineTableFormat::Lnotab36 => lnotab(table, first_line, offset as u64, true),
        LineTableFormat::Linetable310 => linetable_310(table, first_line, offset as u64),
        LineTableFormat::Locations311 => locations_311(table, first_line, offset as u64),
    }
}

fn lnotab(table: &[u8], first_line: u32, lasti: u64, signed_lines: bool) -> u32 {
    let mut line = first_line as i64;
    let mut addr: u64 = 0;
    for pair in table.chunks_exact(2) {
        addr += pair[0] as u64;
        if addr > lasti {
            break;
        }
        line += if signed_lines { pair[1] as i8 as i64 } else { pair[1] as i64 };
    }
    line.max(0) as u32
}

fn linetable_310(table: &[u8], first_line: u32, byte_offset: u64) -> u32 {
    let mut line = first_line as i64;
    let mut end: u64 = 0;
    for pair in table.chunks_exact(2) {
        let sdelta = pair[0] as u64;
        let ldelta = pair[1] as i8;
        if ldelta == 0 {
            end += sdelta;
            continue;
        }
        let start = end;
        end += sdelta;
        if ldelta == -128 {
            continue;
        }
        line += ldelta as i64;
        if start <= byte_offset && byte_offset < end {
            return line.max(0) as u32;
        }
    }
    line.max(0) as u32
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value: u64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift < 64 {
                value |= ((b & 63) as u64) << shift;
            }
            shift += 6;
            if b & 64 == 0 {
                return Some(value);
            }
        }
    }

    fn svarint(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some(if v & 1 == 1 { -((v >> 1) as i64) } else { (v >> 1) as i64 })
    }
}

fn locations_311(table: &[u8], first_line: u32, index: u64) -> u32 {
    let mut cur = Cursor { bytes: table, pos: 0 };
    let mut line = first_line as i64;
    let mut addr: u64 = 0;
    while let Some(head) = cur.byte() {
        if head & 0x80 == 0 {
            // Not at an entry start: the table is corrupt. Give the best line so far.
            break;
        }
        let code = (head >> 3) & 15;
        let length = (head & 7) as u64 + 1;
        let entry_line: Option<i64> = match code {
            15 => None,
            14 => {
                let Some(delta) = cur.svarint() else { break };
                line += delta;
                if cur.varint().is_none() || cur.varint().is_none() || cur.varint().is_none() {
                    break;
                }
                Some(line)
            }
            13 => {
                let Some(delta) = cur.svarint() else { break };
                line += delta;
                Some(line)
            }
            10..=12 => {
                line += (code - 10) as i64;
                if cur.byte().is_none() || cur.byte().is_none() {
                    break;
                }
                Some(line)
            }
            _ => {
                if cur.byte().is_none() {
                    break;
                }
                Some(line)
            }
        };
        if addr <= index && index < addr + length {
            return entry_line.unwrap_or(first_line as i64).max(0) as u32;
        }
        addr += length;
    }
    line.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lnotab_27_uses_unsigned_increments() {
        // addr 0 → line 10; at 6 +1; at 10 +200 (unsigned, a jump forward).
        let table = [6, 1, 4, 200];
        assert_eq!(line_for_offset(LineTableFormat::Lnotab27, &table, 10, 0), 10);
        assert_eq!(line_for_offset(LineTableFormat::Lnotab27, &table, 10, 7), 11);
        assert_eq!(line_for_offset(LineTableFormat::Lnotab27, &table, 10, 10), 211);
        assert_eq!(line_for_offset(LineTableFormat::Lnotab27, &table, 10, -1), 10);
    }

    #[test]
    fn lnotab_36_uses_signed_increments() {
        let table = [4, 2, 6, 0xfe]; // +2 at 4, −2 at 10
        assert_eq!(line_for_offset(LineTableFormat::Lnotab36, &table, 5, 2), 5);
        assert_eq!(line_for_offset(LineTableFormat::Lnotab36, &table, 5, 4), 7);
        assert_eq!(line_for_offset(LineTableFormat::Lnotab36, &table, 5, 12), 5);
    }

    #[test]
    fn linetable_310_matches_cpython_co_lines() {
        // `rec` in 3.10 (reference §5.2): co_lines() = [(0,8,3),(8,12,4),(12,28,5)], first line 2.
        let table = [0x08, 0x01, 0x04, 0x01, 0x10, 0x01];
        let line = |off| line_for_offset(LineTableFormat::Linetable310, &table, 2, off);
        assert_eq!(line(0), 3);
        assert_eq!(line(7), 3);
        assert_eq!(line(8), 4);
        assert_eq!(line(12), 5);
        assert_eq!(line(27), 5);
        assert_eq!(line(-1), 2);
    }

    #[test]
    fn linetable_310_skips_no_line_ranges() {
        let table = [4, 1, 4, 0x80, 4, 2]; // [0,4)→+1, [4,8) no line, [8,12)→+2
        assert_eq!(line_for_offset(LineTableFormat::Linetable310, &table, 1, 9), 4);
    }

    fn entry(code: u8, len_units: u8) -> u8 {
        0x80 | (code << 3) | (len_units - 1)
    }

    #[test]
    fn locations_311_decodes_every_entry_kind() {
        let mut t = Vec::new();
        t.extend([entry(13, 1), 0]); // no-columns, delta 0: index 0 → line 20 (firstline)
        t.extend([entry(11, 2), 4, 9]); // one-line form, +1: indices 1..3 → 21
        t.extend([entry(5, 1), 7]); // short form: index 3 → 21
        t.extend([entry(14, 2), 6, 0, 1, 2]); // long form, +3: indices 4..6 → 24
        t.extend([entry(15, 1)]); // no location: index 6 → first line
        t.extend([entry(13, 3), 3]); // svarint 3 = −1: indices 7..10 → 23
        let line = |idx| line_for_offset(LineTableFormat::Locations311, &t, 20, idx);
        assert_eq!(line(0), 20);
        assert_eq!(line(1), 21);
        assert_eq!(line(2), 21);
        assert_eq!(line(3), 21);
        assert_eq!(line(4), 24);
        assert_eq!(line(5), 24);
        assert_eq!(line(6), 20);
        assert_eq!(line(7), 23);
        assert_eq!(line(9), 23);
    }

    #[test]
    fn locations_311_survives_truncated_and_garbage_tables() {
        let truncated = [entry(14, 1), 0x40]; // varint with a continuation bit and no more bytes
        assert_eq!(line_for_offset(LineTableFormat::Locations311, &truncated, 7, 0), 7);
        let garbage = [0x01, 0x02, 0x03];
        assert_eq!(line_for_offset(LineTableFormat::Locations311, &garbage, 7, 5), 7);
        let long_varint = [entry(13, 1), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f];
        let _ = line_for_offset(LineTableFormat::Locations311, &long_varint, 7, 0);
    }
}
