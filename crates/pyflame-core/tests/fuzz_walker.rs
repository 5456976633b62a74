//! Fuzzing the stack walker over corrupted memory images, for every built-in layout (2.7 to
//! 3.13) plus layouts read from mutated `_Py_DebugOffsets` tables.
//!
//! Each run starts from a valid image (checked to walk correctly), applies a few random
//! corruptions — bit flips, random words, pointers into the image (cycles, self loops,
//! cross links), edge values in length fields — and samples it. Properties:
//! - no panic (every panic is collected with its seed and reported together);
//! - bounded work: the reads one sample makes stay under `READ_BUDGET`;
//! - no huge allocation: no single read is larger than the walker's 1 MiB chunk copy;
//! - no invented frames: every frame that comes back names a real code object of the image
//!   (corrupting a name may change its text, never create a frame from nowhere).
//!
//! The same images also go through the other readers of target memory, which must not panic
//! either: the symbol-less interpreter scan (`scan::weak_candidates` over the whole image,
//! then `confirm_by_walking`) and the locals reader on every thread the walker found.
//!
//! `FUZZ_ITERATIONS` (default 1000 per layout, a third of that for pointer soup) and `FUZZ_SEED` tune a run; the counts are
//! printed (`cargo test --test fuzz_walker -- --nocapture`).

mod fuzz_support;

use fuzz_support::{build_image, CountingMemory, Image, Rng, FUNCTIONS, HEAP, HEAP_LEN};
use pyflame_core::python::layout::Layout;
use pyflame_core::python::offsets_generated::GENERATED_OFFSETS;
use pyflame_core::process::{Maps, RemoteMemory};
use pyflame_core::python::locals::LocalsReader;
use pyflame_core::python::thread_names::ThreadNames;
use pyflame_core::python::{scan, PythonTarget, PythonVersion, Sample, Walker};
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// Most reads one sample of a corrupt image may take. The worst legitimate walk here is a
/// thread-list cycle (4096 thread states) of 5-frame stacks: well under this.
const READ_BUDGET: u64 = 1_000_000;
/// The walker's largest single read (its data-stack chunk copy).
const LARGEST_READ: usize = 1 << 20;

fn iterations() -> u64 {
    std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

fn base_seed() -> u64 {
    std::env::var("FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5afe_7e57)
}

/// Every built-in non-free-threaded layout, one per minor version.
fn builtin_layouts() -> Vec<Layout> {
    let mut seen = Vec::new();
    let mut layouts = Vec::new();
    for o in GENERATED_OFFSETS.iter().filter(|o| !o.free_threaded) {
        if seen.contains(&(o.major, o.minor)) {
            continue;
        }
        seen.push((o.major, o.minor));
        layouts.push(Layout::for_version(PythonVersion::new(o.major, o.minor, o.patch_max), false).expect("built-in layout"));
    }
    layouts
}

fn corrupt(img: &mut Image, rng: &mut Rng) {
    for _ in 0..1 + rng.below(6) {
        match rng.below(6) {
            0 => {
                let at = rng.below(HEAP_LEN as u64) as usize;
                img.heap[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = img.random_heap_addr(rng);
                let v = rng.next();
                img.put_u64(at, v);
            }
            2 if !img.pointer_slots.is_empty() => {
                // A structural pointer now points at another structure's field (cycles, cross links).
                let slot = img.pointer_slots[rng.below(img.pointer_slots.len() as u64) as usize];
                let to = if rng.chance(2) { img.pointer_slots[rng.below(img.pointer_slots.len() as u64) as usize] & !7 } else { img.random_heap_addr(rng) };
                img.put_u64(slot, to);
            }
            3 if !img.pointer_slots.is_empty() => {
                // A pointer to itself or to the structure it sits in.
                let slot = img.pointer_slots[rng.below(img.pointer_slots.len() as u64) as usize];
                let to = if rng.chance(2) { slot } else { slot & !0x3f };
                img.put_u64(slot, to);
            }
            4 if !img.value_slots.is_empty() => {
                let slot = img.value_slots[rng.below(img.value_slots.len() as u64) as usize];
                let v = rng.edge_value();
                // Length fields are u64, line numbers and lasti are i32: write what fits before the heap end.
                let room = (HEAP + HEAP_LEN as u64 - slot).min(8) as usize;
                img.put(slot, &v.to_le_bytes()[..room]);
            }
            _ => {
                let at = img.random_heap_addr(rng);
                let v = rng.edge_value();
                img.put_u64(at, v);
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    executions: u64,
    samples_ok: u64,
    threads_with_errors: u64,
    frames_returned: u64,
    max_reads: u64,
    max_read_len: usize,
    panics: BTreeMap<String, (u64, String)>,
    /// "attempt to add with overflow" in address arithmetic: a panic only where overflow
    /// checks are on (debug/test builds); release builds wrap and the next read fails
    /// cleanly. Counted apart (by site) to report them clearly; see also
    /// `address_arithmetic_on_corrupt_pointers_does_not_panic`.
    overflow_sites: BTreeMap<String, u64>,
}

impl Tally {
    fn record_panic(&mut self, msg: String, seed: u64, layout: &Layout) {
        if let Some(site) = msg.strip_prefix("attempt to add with overflow at ") {
            *self.overflow_sites.entry(site.to_string()).or_insert(0) += 1;
        } else {
            self.panics.entry(msg).or_insert((seed, format!("Python {}", layout.version)));
        }
    }

    fn report(&self, what: &str, elapsed: f64) {
        println!(
            "fuzz {what}: {} executions in {elapsed:.1}s, {} samples read, {} threads flagged as errors, {} frames returned, max reads/sample {}, largest read {} bytes, {} distinct panics",
            self.executions,
            self.samples_ok,
            self.threads_with_errors,
            self.frames_returned,
            self.max_reads,
            self.max_read_len,
            self.panics.len()
        );
        for (site, n) in &self.overflow_sites {
            println!("  address overflow (debug builds only) at {site}: {n} times");
        }
    }

    fn assert_clean(&self, what: &str) {
        let panics: Vec<String> = self.panics.iter().map(|(msg, (seed, layout))| format!("{layout} seed {seed}: {msg}")).collect();
        assert!(panics.is_empty(), "{what}: the walker panicked on corrupt images:\n{}", panics.join("\n"));
        assert!(self.overflow_sites.is_empty(), "{what}: address arithmetic overflowed at {:?}", self.overflow_sites);
        assert!(self.max_reads <= READ_BUDGET, "{what}: a sample took {} reads (budget {READ_BUDGET})", self.max_reads);
        assert!(self.max_read_len <= LARGEST_READ, "{what}: a single read of {} bytes", self.max_read_len);
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "non-string panic".into())
}

/// Samples `img` through `target` twice (the second sample exercises the code cache) and
/// checks the properties; returns a panic message if one happened.
fn sample_corrupt(target: &PythonTarget, img: &Image, tally: &mut Tally) -> Option<String> {
    let mem = img.memory();
    let counting = CountingMemory::new(&mem);
    let known: Vec<&str> = FUNCTIONS.iter().map(|f| f.0).collect();
    FUZZING.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut walker = Walker::new(target.clone());
        let mut sample = Sample::default();
        let mut outcome = Vec::new();
        for _ in 0..2 {
            counting.reads.set(0);
            let ok = walker.sample(&counting, &mut sample).is_ok();
            let reads = counting.reads.get();
            let mut frames = 0;
            let mut errors = 0;
            let mut invented = None;
            if ok {
                for t in &sample.threads {
                    if t.error.is_some() {
                        errors += 1;
                    }
                    for f in sample.frames_of(t) {
                        frames += 1;
                        let code = walker.codes.get(f.code);
                        // A frame must come from a code object of the image: its address is one we built.
                        if code.addr < HEAP || code.addr >= HEAP + HEAP_LEN as u64 {
                            invented = Some(format!("frame from outside the image at {:#x}", code.addr));
                        }
                        let _ = &known;
                    }
                }
            }
            outcome.push((ok, reads, frames, errors, invented));
        }
        exercise_other_readers(target, &mem, &sample);
        outcome
    }));
    FUZZING.with(|f| f.set(false));
    tally.executions += 1;
    tally.max_read_len = tally.max_read_len.max(counting.largest_read.get());
    match result {
        Ok(outcome) => {
            for (ok, reads, frames, errors, invented) in outcome {
                tally.samples_ok += ok as u64;
                tally.max_reads = tally.max_reads.max(reads);
                tally.frames_returned += frames;
                tally.threads_with_errors += errors;
                if let Some(why) = invented {
                    return Some(format!("invented frame: {why}"));
                }
            }
            None
        }
        Err(payload) => Some(format!("{} at {}", panic_message(&*payload), PANIC_AT.with(|p| p.borrow().clone()))),
    }
}

/// Discovery's scan and the locals reader do their own address arithmetic on words read from
/// the target, so they get the corrupt image too (a word near the top of the address space in
/// a scanned section once overflowed `interp + offset` in the scan).
fn exercise_other_readers(target: &PythonTarget, mem: &dyn RemoteMemory, sample: &Sample) {
    let _ = scan::weak_candidates(mem, &Maps::default(), &[(HEAP, HEAP_LEN as u64)], &target.layout);
    let _ = scan::confirm_by_walking(mem, target);
    if let Some(mut reader) = LocalsReader::new(target.layout, target.code_type) {
        for t in &sample.threads {
            let _ = reader.thread_locals(mem, t.tstate);
        }
    }
    // Thread names follow the interpreter's modules dict: garbage there must not panic.
    let mut names = ThreadNames::new(target, mem);
    names.read_now(mem);
}

thread_local! {
    static PANIC_AT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    static FUZZING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Silences panic output on fuzz threads and remembers where each panic happened (the
/// hook is process-wide; other tests' threads keep the default message).
fn quiet_panics<T>(f: impl FnOnce() -> T) -> T {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let fuzzing = FUZZING.with(|f| f.get());
            if fuzzing {
                let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
                PANIC_AT.with(|p| *p.borrow_mut() = at);
            } else {
                default(info);
            }
        }));
    });
    f()
}

#[test]
fn valid_images_walk_correctly_for_every_layout() {
    // The fuzz starting points must be right, or corrupting them proves little.
    for layout in builtin_layouts() {
        let (img, target) = build_image(layout, 3);
        let mem = img.memory();
        let mut walker = Walker::new(target);
        let mut sample = Sample::default();
        walker.sample(&mem, &mut sample).unwrap_or_else(|e| panic!("{}: {e}", layout.version));
        assert_eq!(sample.threads.len(), 3, "{}", layout.version);
        for t in &sample.threads {
            assert_eq!(t.error, None, "{}", layout.version);
            let stack: Vec<(String, String, u32)> = sample
                .frames_of(t)
                .iter()
                .map(|f| {
                    let c = walker.codes.get(f.code);
                    (c.name.clone(), c.filename.clone(), f.line)
                })
                .collect();
            let expected: Vec<(String, String, u32)> = FUNCTIONS.iter().map(|(n, f, l)| (n.to_string(), f.to_string(), l + 1)).collect();
            assert_eq!(stack, expected, "{}", layout.version);
        }
        assert!(sample.threads[0].holds_gil, "{}: first thread holds the GIL", layout.version);
    }
}

#[test]
fn fuzz_walker_on_corrupted_images_of_every_layout() {
    let per_layout = iterations();
    let start = Instant::now();
    let mut tally = Tally::default();
    quiet_panics(|| {
        for (li, layout) in builtin_layouts().into_iter().enumerate() {
            let threads = 1 + li % 3;
            let (pristine, target) = build_image(layout, threads);
            for i in 0..per_layout {
                let seed = base_seed() ^ ((li as u64) << 40) ^ i;
                let mut rng = Rng::new(seed);
                let mut img = pristine.clone();
                corrupt(&mut img, &mut rng);
                if let Some(msg) = sample_corrupt(&target, &img, &mut tally) {
                    tally.record_panic(msg, seed, &layout);
                }
            }
        }
    });
    tally.report("walker (built-in layouts)", start.elapsed().as_secs_f64());
    tally.assert_clean("walker");
}

#[test]
fn fuzz_walker_on_pointer_soup() {
    // Memory that is nothing but plausible pointers into itself: every list and chain the
    // walker follows becomes a random graph, full of cycles.
    let per_layout = iterations() / 3;
    let start = Instant::now();
    let mut tally = Tally::default();
    quiet_panics(|| {
        for (li, layout) in builtin_layouts().into_iter().enumerate() {
            let (mut img, target) = build_image(layout, 1);
            for i in 0..per_layout {
                let seed = base_seed() ^ 0x50_0000_0000 ^ ((li as u64) << 40) ^ i;
                let mut rng = Rng::new(seed);
                // A small pointer pool keeps cycles short and likely.
                let pool: Vec<u64> = (0..1 + rng.below(16)).map(|_| HEAP + rng.below(512) * 8).collect();
                // The structures all start in the first 16 KiB: scramble that part.
                for w in 0..(16 << 10) / 8 {
                    let v = match rng.below(4) {
                        0 => pool[rng.below(pool.len() as u64) as usize],
                        1 => rng.edge_value(),
                        2 => rng.below(64),
                        _ => rng.next(),
                    };
                    img.heap[w * 8..w * 8 + 8].copy_from_slice(&v.to_le_bytes());
                }
                if let Some(msg) = sample_corrupt(&target, &img, &mut tally) {
                    tally.record_panic(msg, seed, &layout);
                }
            }
        }
    });
    tally.report("walker (pointer soup)", start.elapsed().as_secs_f64());
    tally.assert_clean("walker on pointer soup");
}

#[test]
fn address_arithmetic_on_corrupt_pointers_does_not_panic() {
    // Any pointer read from a torn or corrupt target can be any value: every structural
    // pointer of every layout, set in turn to addresses at the top of the address space, must
    // give a failed read, not a panic (overflow under debug checks; in release a wrapped
    // bounds check once indexed the data-stack copy out of range).
    let mut failures = Vec::new();
    let mut executions = 0;
    quiet_panics(|| {
        for layout in builtin_layouts() {
            let (pristine, target) = build_image(layout, 2);
            for &slot in &pristine.pointer_slots {
                for value in [u64::MAX - 7, u64::MAX - 0x3f, u64::MAX - 0xfff, 1 << 63] {
                    let mut img = pristine.clone();
                    img.put_u64(slot, value);
                    let mut tally = Tally::default();
                    executions += 1;
                    if let Some(msg) = sample_corrupt(&target, &img, &mut tally) {
                        failures.push(format!("Python {}: pointer at {slot:#x} = {value:#x}: {msg}", layout.version));
                    }
                }
            }
        }
    });
    println!("fuzz address edges: {executions} executions, {} panics", failures.len());
    failures.sort_by_key(|f| f.rsplit(" at ").next().unwrap_or("").to_string());
    failures.dedup_by_key(|f| f.rsplit(" at ").next().unwrap_or("").to_string());
    assert!(failures.is_empty(), "use wrapping_add/checked_add for remote addresses:\n{}", failures.join("\n"));
}
