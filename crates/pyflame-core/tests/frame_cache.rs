//! The frame cache (`python/frame_cache.rs`) over synthetic images: after every change of the
//! target's stacks, a walker that has sampled before (and so reuses decoded frames) must report
//! exactly what a fresh walker reports, and the cache must actually be used for an unchanged
//! stack. One layout per frame model: 3.10 (frame objects), 3.12 (C frame), 3.13 (current frame).

mod fuzz_support;

use fuzz_support::{build_image, Image, HEAP};
use pyflame_core::python::layout::{FrameModel, Layout};
use pyflame_core::process::memory::{ReadResult, RemoteMemory};
use pyflame_core::python::{PythonTarget, PythonVersion, Sample, Walker};
use std::cell::Cell;

fn layouts() -> Vec<Layout> {
    [(3, 10), (3, 12), (3, 13)].iter().map(|&(major, minor)| Layout::for_version(PythonVersion::new(major, minor, 0), false).expect("built-in layout")).collect()
}

fn read_u64(img: &Image, addr: u64) -> u64 {
    let off = (addr - HEAP) as usize;
    u64::from_le_bytes(img.heap[off..off + 8].try_into().unwrap())
}

/// The thread states of the image's one interpreter.
fn tstates(img: &Image, layout: &Layout) -> Vec<u64> {
    let o = layout.offsets;
    let interp = read_u64(img, img.interp_head_ptr);
    let mut out = Vec::new();
    let mut ts = read_u64(img, interp + o.interp_tstate_head);
    while ts != 0 {
        out.push(ts);
        ts = read_u64(img, ts + o.tstate_next);
    }
    out
}

/// Addresses of a thread's frames, innermost first.
fn frames(img: &Image, layout: &Layout, ts: u64) -> Vec<u64> {
    let o = layout.offsets;
    let field = read_u64(img, ts + o.tstate_frame);
    let mut frame = match layout.frame_model {
        FrameModel::CFrame => read_u64(img, field + o.cframe_current_frame.unwrap()),
        _ => field,
    };
    let mut out = Vec::new();
    while frame != 0 {
        out.push(frame);
        frame = read_u64(img, frame + o.frame_back);
    }
    out
}

/// Each thread's stack as (name, file, line), root first.
type Stacks = Vec<Vec<(String, String, u32)>>;

fn sample(walker: &mut Walker, img: &Image) -> Stacks {
    let mem = img.memory();
    let mut s = Sample::default();
    walker.sample(&mem, &mut s).expect("sample");
    s.threads
        .iter()
        .map(|t| {
            assert!(t.error.is_none(), "{:?}", t.error);
            s.frames_of(t)
                .iter()
                .map(|f| {
                    let c = walker.codes.get(f.code);
                    (c.name.clone(), c.filename.clone(), f.line)
                })
                .collect()
        })
        .collect()
}

/// What a walker with nothing cached reports.
fn truth(target: &PythonTarget, img: &Image) -> Stacks {
    sample(&mut Walker::new(target.clone()), img)
}

/// Samples with the long-lived walker and checks it against a fresh one.
fn agree(walker: &mut Walker, target: &PythonTarget, img: &Image, what: &str) -> Stacks {
    let seen = sample(walker, img);
    assert_eq!(seen, truth(target, img), "{:?}: {what}", target.layout.version);
    seen
}

/// Where a frame's position lives and a value for it that names another line.
fn move_position(img: &mut Image, layout: &Layout, frame: u64) {
    let o = layout.offsets;
    match layout.frame_model {
        // Not started yet: the function's first line.
        FrameModel::FrameObjects => img.put(frame + o.frame_lasti, &(-1i32).to_le_bytes()),
        _ => {
            // The first instruction of the code: the code's first line instead of the next.
            let code = read_u64(img, frame + o.frame_code) & !layout.executable_tag_mask;
            img.put_u64(frame + o.frame_lasti, code + o.code_code_adaptive.unwrap_or(0));
        }
    }
}

/// One thread's image, a walker that has sampled it once (checked against a fresh walker), the
/// stacks it saw and the thread's state address.
fn sampled_once(layout: Layout) -> (Image, PythonTarget, Walker, Stacks, u64) {
    let (img, target) = build_image(layout, 1);
    let mut walker = Walker::new(target.clone());
    let before = agree(&mut walker, &target, &img, "before");
    let ts = tstates(&img, &layout)[0];
    (img, target, walker, before, ts)
}

#[test]
fn an_unchanged_stack_is_served_from_the_cache() {
    for layout in layouts() {
        let (img, target) = build_image(layout, 2);
        let mut walker = Walker::new(target.clone());
        let first = agree(&mut walker, &target, &img, "first sample");
        assert_eq!(first.len(), 2);
        let misses = walker.decoded.misses;
        for _ in 0..5 {
            assert_eq!(agree(&mut walker, &target, &img, "same stack again"), first);
        }
        assert_eq!(walker.decoded.misses, misses, "{:?}: an unchanged stack decoded again", layout.version);
        assert!(walker.decoded.hits >= 5 * 8, "{:?}: {} hits", layout.version, walker.decoded.hits);
    }
}

#[test]
fn a_moved_leaf_reports_its_new_line() {
    for layout in layouts() {
        let (mut img, target, mut walker, before, ts) = sampled_once(layout);
        let leaf = frames(&img, &layout, ts)[0];
        move_position(&mut img, &layout, leaf);
        let after = agree(&mut walker, &target, &img, "leaf moved");
        assert_ne!(before[0].last().unwrap().2, after[0].last().unwrap().2, "{:?}: the leaf's line did not change", layout.version);
        assert_eq!(before[0][..3], after[0][..3]);
    }
}

#[test]
fn a_changed_middle_frame_is_decoded_again() {
    for layout in layouts() {
        let (mut img, target, mut walker, before, ts) = sampled_once(layout);
        let o = layout.offsets;
        let chain = frames(&img, &layout, ts);
        // The frame second from the root now runs the root's code (a call returned and another
        // function was called from the same place: same frame address, other code object).
        let root_code = read_u64(&img, chain[3] + o.frame_code);
        img.put_u64(chain[2] + o.frame_code, root_code);
        // And the frame above it stands at another instruction.
        move_position(&mut img, &layout, chain[1]);
        let after = agree(&mut walker, &target, &img, "middle frame changed");
        assert_eq!(after[0][1].0, before[0][0].0, "{:?}", layout.version);
        assert_ne!(after[0][2].2, before[0][2].2, "{:?}", layout.version);
    }
}

#[test]
fn a_code_object_replaced_at_the_same_address_is_seen_when_the_code_cache_rechecks_it() {
    for layout in layouts() {
        let (mut img, target, mut walker, before, ts) = sampled_once(layout);
        let o = layout.offsets;
        let leaf = frames(&img, &layout, ts)[0];
        let root = *frames(&img, &layout, ts).last().unwrap();
        // The leaf's code object is freed and another one (the root's name, file and line table)
        // is allocated at its address; the frame keeps its address, code pointer and position.
        let leaf_code = read_u64(&img, leaf + o.frame_code) & !layout.executable_tag_mask;
        let root_code = read_u64(&img, root + o.frame_code) & !layout.executable_tag_mask;
        let mut fields = vec![o.code_name, o.code_filename, o.code_linetable, o.code_firstlineno];
        fields.extend(o.code_qualname);
        for off in fields {
            let v = read_u64(&img, root_code + off);
            img.put_u64(leaf_code + off, v);
        }
        // Within the code cache's re-check period, both walkers may still show the old name;
        // once it passes, the cached walker must show the new one, as a fresh walker does.
        let mut last = Vec::new();
        for _ in 0..40 {
            last = sample(&mut walker, &img);
        }
        assert_eq!(last, truth(&target, &img), "{:?}", layout.version);
        assert_eq!(last[0].last().unwrap().0, before[0][0].0, "{:?}: the replaced code object is not shown", layout.version);
    }
}

#[test]
fn a_thread_that_exits_and_one_reusing_its_frames_are_reported_as_they_are() {
    for layout in layouts() {
        let (mut img, target) = build_image(layout, 2);
        let o = layout.offsets;
        let mut walker = Walker::new(target.clone());
        agree(&mut walker, &target, &img, "two threads");
        let [first, second] = tstates(&img, &layout)[..] else { panic!("two threads") };
        // The second thread exits.
        img.put_u64(first + o.tstate_next, 0);
        assert_eq!(agree(&mut walker, &target, &img, "second thread gone").len(), 1);
        // A new thread starts with its frames where the old one's were, running other code:
        // every frame runs the innermost function.
        let chain = frames(&img, &layout, second);
        let leaf_code = read_u64(&img, chain[0] + o.frame_code);
        for &frame in &chain[1..] {
            img.put_u64(frame + o.frame_code, leaf_code);
        }
        img.put_u64(first + o.tstate_next, second);
        let after = agree(&mut walker, &target, &img, "new thread at the old addresses");
        assert_eq!(after.len(), 2);
        assert!(after[1].iter().all(|f| f.0 == after[1][3].0), "{:?}: {:?}", layout.version, after[1]);
    }
}

/// Counts single reads apart from batched ones.
struct Counting<M: RemoteMemory> {
    inner: M,
    singles: Cell<usize>,
}

impl<M: RemoteMemory> RemoteMemory for Counting<M> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> ReadResult<()> {
        self.singles.set(self.singles.get() + 1);
        self.inner.read(addr, buf)
    }

    fn read_many(&self, parts: &mut [(u64, &mut [u8])]) -> ReadResult<usize> {
        self.inner.read_many(parts)
    }
}

#[test]
fn code_objects_in_use_are_rechecked_in_the_first_batch() {
    for layout in layouts() {
        let (img, target) = build_image(layout, 2);
        let mut walker = Walker::new(target.clone());
        let first = agree(&mut walker, &target, &img, "first sample");
        let mem = Counting { inner: img.memory(), singles: Cell::new(0) };
        let mut s = Sample::default();
        // Well past several re-check periods (32 samples) of every code object on the stacks.
        for _ in 0..8 {
            walker.sample(&mem, &mut s).expect("sample");
        }
        // Each sample reads alike outside its batches (the ≤3.10 walker re-reads frame
        // objects one by one): a re-check falling due adds no read of its own.
        let mut per_sample = Vec::new();
        for _ in 0..100 {
            let before = mem.singles.get();
            walker.sample(&mem, &mut s).expect("sample");
            per_sample.push(mem.singles.get() - before);
        }
        let least = *per_sample.iter().min().unwrap();
        assert!(per_sample.iter().all(|&n| n == least), "{:?}: single reads per sample {per_sample:?}", layout.version);
        assert_eq!(agree(&mut walker, &target, &img, "after the re-checks"), first);
    }
}
