//! Fuzzing the pure decoders: line tables (every format), `str`/`bytes` objects, and the
//! `_Py_DebugOffsets` table (a real one from the installed 3.13 libpython when present,
//! mutated; plus random bytes behind a valid header). Properties: no panic, a line number
//! within what the table can express, bounded string lengths, and every layout accepted from
//! a mutated table walks a corrupt image without panicking or huge reads.

mod fuzz_support;

use fuzz_support::{CountingMemory, Rng, HEAP};
use pyflame_core::process::memory::ImageMemory;
use pyflame_core::process::Maps;
use pyflame_core::python::debug_offsets::{parse, TABLE_LEN_3_13, TABLE_LEN_3_14};
use pyflame_core::python::layout::Layout;
use pyflame_core::python::linetable::{line_for_offset, LineTableFormat};
use pyflame_core::python::strings::{read_bytes, read_str, StringFormat, MAX_BYTES_LEN, MAX_STRING_CHARS};
use pyflame_core::python::{PythonTarget, PythonVersion, Sample, Walker};
use std::panic::{catch_unwind, AssertUnwindSafe};

fn iterations() -> u64 {
    std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

#[test]
fn fuzz_line_tables_of_every_format() {
    let formats = [LineTableFormat::Lnotab27, LineTableFormat::Lnotab36, LineTableFormat::Linetable310, LineTableFormat::Locations311];
    let mut rng = Rng::new(0x11e);
    let runs = iterations() * 20;
    for i in 0..runs {
        let format = formats[(i % 4) as usize];
        let max_len = if rng.chance(20) { 70_000 } else { 64 };
        let len = rng.below(max_len) as usize;
        let table = rng.bytes(len);
        let first_line = if rng.chance(8) { u32::MAX - rng.below(4) as u32 } else { rng.below(100_000) as u32 };
        let offset = match rng.below(4) {
            0 => -1 - rng.below(10) as i64,
            1 => i64::MAX - rng.below(4) as i64,
            _ => rng.below(4 * len as u64 + 8) as i64,
        };
        let line = catch_unwind(|| line_for_offset(format, &table, first_line, offset))
            .unwrap_or_else(|_| panic!("line table panicked: {format:?} first_line {first_line} offset {offset} table {table:?}"));
        // Every increment is at most a byte (or a varint worth at most the table's bits): the
        // line cannot exceed first line + 255 per table byte.
        let bound = first_line as u64 + 255 * len as u64 + (if format == LineTableFormat::Locations311 { u32::MAX as u64 } else { 0 });
        assert!((line as u64) <= bound.max(first_line as u64), "{format:?}: line {line} from first line {first_line} and {len} bytes");
    }
    println!("fuzz line tables: {runs} executions, 0 panics");
}

fn string_offsets() -> Vec<(Layout, StringFormat)> {
    [(2, 7), (3, 6), (3, 10), (3, 12), (3, 13)]
        .into_iter()
        .map(|(major, minor)| {
            let layout = Layout::for_version(PythonVersion::new(major, minor, 0), false).unwrap();
            (layout, layout.string_format)
        })
        .collect()
}

#[test]
fn fuzz_str_and_bytes_objects() {
    let mut rng = Rng::new(0x5791);
    let runs = iterations() * 10;
    let layouts = string_offsets();
    let mut decoded = 0;
    for i in 0..runs {
        let (layout, format) = layouts[(i % layouts.len() as u64) as usize];
        let o = layout.offsets;
        let addr = HEAP;
        // An object of random bytes, with its length and state fields often set to edge values.
        let size = 32 + rng.below(600) as usize;
        let mut bytes = rng.bytes(size);
        let mut put = |off: u64, v: &[u8]| {
            let off = off as usize;
            if off + v.len() <= bytes.len() {
                bytes[off..off + v.len()].copy_from_slice(v);
            }
        };
        if rng.chance(2) {
            put(o.unicode_length, &(rng.below(200)).to_le_bytes());
        } else if rng.chance(2) {
            put(o.unicode_length, &rng.edge_value().to_le_bytes());
        }
        if let Some(state) = o.unicode_state {
            if rng.chance(2) {
                let kind = [1u32, 2, 4, 0, 3][rng.below(5) as usize];
                let bits = (kind << 2) | if rng.chance(2) { 0x20 } else { 0 } | if rng.chance(2) { 0x40 } else { 0 };
                put(state, &bits.to_le_bytes());
            }
        }
        if rng.chance(3) {
            // Legacy (non-compact) str: its data pointer points back into the object or anywhere.
            let ptr = if rng.chance(2) { addr + rng.below(size as u64) } else { rng.edge_value() };
            put(o.unicode_compact_data.unwrap_or(o.unicode_ascii_data), &ptr.to_le_bytes());
        }
        put(o.bytes_size, &(if rng.chance(2) { rng.below(size as u64) } else { rng.edge_value() }).to_le_bytes());
        let mut mem = ImageMemory::new();
        mem.write(addr, &bytes);
        let counting = CountingMemory::new(&mem);
        let s = catch_unwind(AssertUnwindSafe(|| read_str(&counting, &o, format, addr, None)))
            .unwrap_or_else(|_| panic!("read_str panicked on Python {} seed iteration {i}", layout.version));
        if let Ok(s) = s {
            decoded += 1;
            assert!(s.chars().count() as u64 <= MAX_STRING_CHARS, "string longer than the limit");
        }
        let b = catch_unwind(AssertUnwindSafe(|| read_bytes(&counting, &o, addr))).unwrap_or_else(|_| panic!("read_bytes panicked at iteration {i}"));
        if let Ok(b) = b {
            assert!(b.len() as u64 <= MAX_BYTES_LEN);
        }
        assert!(counting.largest_read.get() as u64 <= MAX_BYTES_LEN.max(MAX_STRING_CHARS * 4), "a read of {} bytes", counting.largest_read.get());
    }
    println!("fuzz str/bytes objects: {runs} executions, {decoded} decoded, 0 panics");
}

/// The `_Py_DebugOffsets` table at the start of the installed 3.13's `.PyRuntime` section.
fn real_313_table() -> Option<Vec<u8>> {
    let home = std::env::var("HOME").ok()?;
    let path = format!("{home}/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0");
    let data = std::fs::read(path).ok()?;
    let elf = goblin::elf::Elf::parse(&data).ok()?;
    let section = elf.section_headers.iter().find(|s| elf.shdr_strtab.get_at(s.sh_name) == Some(".PyRuntime"))?;
    let start = section.sh_offset as usize;
    data.get(start..start + TABLE_LEN_3_14).map(|b| b.to_vec())
}

#[test]
fn fuzz_debug_offsets_tables() {
    let Some(real) = real_313_table() else {
        println!("note: no pyenv 3.13.0 libpython here; debug offsets fuzz uses a header-only table");
        return;
    };
    assert!(parse(&real[..TABLE_LEN_3_13]).is_ok(), "the real 3.13 table parses");
    let mut rng = Rng::new(0xdeb06);
    let runs = iterations() * 4;
    let (mut accepted, mut walked) = (0u64, 0u64);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for i in 0..runs {
        let mut table = real.clone();
        if rng.chance(4) {
            // Claim 3.14: the longer layout is read over the 3.13 bytes.
            table[8..16].copy_from_slice(&0x030e_00f0u64.to_le_bytes());
        }
        for _ in 0..1 + rng.below(4) {
            let field = 3 + rng.below((TABLE_LEN_3_14 as u64 - 24) / 8) as usize;
            let v = match rng.below(3) {
                0 => rng.edge_value(),
                1 => rng.below(70_000),
                _ => {
                    let old = u64::from_le_bytes(table[field * 8..field * 8 + 8].try_into().unwrap());
                    old.wrapping_add(rng.below(512)).wrapping_sub(256)
                }
            };
            table[field * 8..field * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let Ok(layout) = Layout::from_debug_offsets(&table) else { return (false, false) };
            // Walk memory that is the table followed by pointer-ish garbage, with that layout.
            let mut mem = ImageMemory::new();
            let mut heap = rng.bytes(16 << 10);
            for w in heap.chunks_exact_mut(8).step_by(2) {
                w.copy_from_slice(&(HEAP + rng.below(2048) * 8).to_le_bytes());
            }
            mem.write(HEAP, &heap);
            let target = PythonTarget {
                pid: 0,
                layout,
                executable: String::new(),
                runtime_binary: String::new(),
                runtime_addr: None,
                interp_head_ptr: HEAP,
                tstate_current_ptr: None,
                tstate_current_confirm_ptr: None,
                code_type: None,
                str_type: None,
                version_source: "fuzz",
                interp_source: "fuzz",
                maps: Maps::default(),
            };
            let counting = CountingMemory::new(&mem);
            let mut walker = Walker::new(target);
            let mut sample = Sample::default();
            let _ = walker.sample(&counting, &mut sample);
            // The string and bytes readers with the table's object offsets, on garbage.
            let _ = read_str(&counting, &layout.offsets, layout.string_format, HEAP + 8 * rng.below(512), None);
            let _ = read_bytes(&counting, &layout.offsets, HEAP + 8 * rng.below(512));
            assert!(counting.largest_read.get() <= 1 << 20, "read of {} bytes", counting.largest_read.get());
            (true, true)
        }));
        match outcome {
            Ok((a, w)) => {
                accepted += a as u64;
                walked += w as u64;
            }
            Err(payload) => {
                let msg = payload.downcast_ref::<String>().cloned().or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                if failures.len() < 5 {
                    failures.push(format!("iteration {i}: {msg}"));
                }
            }
        }
    }
    std::panic::set_hook(hook);
    println!("fuzz debug offsets: {runs} executions, {accepted} mutated tables accepted, {walked} walked, {} panics", failures.len());
    assert!(failures.is_empty(), "debug offsets / walker panicked:\n{}", failures.join("\n"));
}

/// Index (in u64 words) of the `unicode_object` group {size, state, length, asciiobject_size}.
fn unicode_group_word(table: &[u8]) -> usize {
    let u = parse(table).expect("table").unicode_object;
    let words: Vec<u64> = table.chunks_exact(8).map(|w| u64::from_le_bytes(w.try_into().unwrap())).collect();
    (0..words.len() - 3).find(|&i| words[i..i + 4] == [u.size, u.state, u.length, u.asciiobject_size]).expect("unicode group")
}

#[test]
fn str_header_larger_than_the_inline_read_does_not_panic() {
    // A debug-offsets table may describe a bigger str header than today's (a future version, or
    // a corrupt table that still passes validation): the str reader must not index past its
    // fixed 256-byte buffer.
    let Some(real) = real_313_table() else { return };
    for header in [40u64, 170, 200, 250, 300, 4000] {
        let mut table = real[..TABLE_LEN_3_13].to_vec();
        let at = unicode_group_word(&table);
        for (k, v) in [8192u64, 32, 16, header].into_iter().enumerate() {
            table[(at + k) * 8..(at + k) * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        let layout = Layout::from_debug_offsets(&table).expect("a table with a large str header is accepted");
        let mut mem = ImageMemory::new();
        let mut object = vec![0u8; 8192];
        object[16] = 3; // length 3
        object[32] = 0x20 | 0x40 | 4; // compact ASCII, kind 1
        mem.write(HEAP, &object);
        let result = catch_unwind(AssertUnwindSafe(|| read_str(&mem, &layout.offsets, layout.string_format, HEAP, None)));
        assert!(result.is_ok(), "read_str panicked with a {header}-byte str header");
    }
}
