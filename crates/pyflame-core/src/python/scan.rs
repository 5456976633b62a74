//! Finding the interpreter without anchor symbols (stripped builds, `force_scan`): every
//! aligned word of the runtime binary's `.PyRuntime`/`.bss`/`.data` is a candidate pointer to
//! the interpreter list head. A weak check (its first thread state points back at it) leaves
//! dozens of false hits on some versions (reference §2.4), so each survivor is confirmed by
//! walking every stack: at least one frame, every code object of a type named `code`, every
//! function name of a type named `str`. The confirmation also yields those two type addresses,
//! which the walker then uses to reject garbage on every sample.

use super::layout::Layout;
use super::target::PythonTarget;
use super::walker::{Sample, Walker};
use crate::process::memory::RemoteMemory;
use crate::process::Maps;

/// Most weak candidates confirmed by walking (each costs a full sample).
const MAX_CONFIRMATIONS: usize = 256;
/// Largest section scanned.
const MAX_SECTION: u64 = 16 << 20;

/// Type addresses learned while confirming a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LearnedTypes {
    pub code_type: u64,
    pub str_type: u64,
}

/// Addresses (in `regions` order, ascending inside each) of words that point at a plausible
/// `PyInterpreterState` whose first thread state's `interp` points back at it.
pub fn weak_candidates(mem: &dyn RemoteMemory, maps: &Maps, regions: &[(u64, u64)], layout: &Layout) -> Vec<u64> {
    let o = &layout.offsets;
    let mut hits = Vec::new();
    for &(start, size) in regions {
        let Ok(bytes) = mem.read_vec(start, size.min(MAX_SECTION) as usize) else { continue };
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let interp = u64::from_le_bytes(chunk.try_into().unwrap());
            if interp == 0 || interp % 8 != 0 || !is_writable(maps, interp.wrapping_add(o.interp_tstate_head)) {
                continue;
            }
            let Ok(tstate) = mem.read_u64(interp.wrapping_add(o.interp_tstate_head)) else { continue };
            if tstate == 0 || tstate % 8 != 0 || !is_writable(maps, tstate.wrapping_add(o.tstate_interp)) {
                continue;
            }
            if mem.read_u64(tstate.wrapping_add(o.tstate_interp)).ok() == Some(interp) {
                hits.push(start + 8 * i as u64);
            }
        }
    }
    hits
}

/// Interpreter and thread states live in writable memory (heap, `.bss`, `.PyRuntime`).
/// An empty map (synthetic images) accepts everything.
fn is_writable(maps: &Maps, addr: u64) -> bool {
    maps.ranges.is_empty() || maps.find(addr).is_some_and(|r| r.writable && r.readable)
}

/// Confirms `target` (its `interp_head_ptr` is the candidate) by walking it a few times.
pub fn confirm_by_walking(mem: &dyn RemoteMemory, target: &PythonTarget) -> Option<LearnedTypes> {
    let mut probe = target.clone();
    probe.code_type = None;
    probe.str_type = None;
    let mut walker = Walker::new(probe);
    let mut sample = Sample::default();
    // A stack torn by a return mid-read fails one walk, not the candidate.
    for _ in 0..5 {
        if walker.sample(mem, &mut sample).is_err() {
            continue;
        }
        if sample.threads.is_empty() || sample.threads.iter().any(|t| t.error.is_some()) || sample.frames.is_empty() {
            continue;
        }
        let o = &walker.target.layout.offsets;
        let mut code_type = None;
        let mut str_type = None;
        for frame in &sample.frames {
            let info = walker.codes.get(frame.code);
            let ct = mem.read_u64(info.addr.wrapping_add(o.object_type)).ok()?;
            let st = mem.read_u64(info.name_addr.wrapping_add(o.object_type)).ok()?;
            if *code_type.get_or_insert(ct) != ct || *str_type.get_or_insert(st) != st {
                return None;
            }
        }
        let (code_type, str_type) = (code_type?, str_type?);
        if type_name(mem, o.object_type, code_type).as_deref() != Some("code") || type_name(mem, o.object_type, str_type).as_deref() != Some("str") {
            return None;
        }
        return Some(LearnedTypes { code_type, str_type });
    }
    None
}

/// `tp_name` of the type object at `ty`: it follows the variable-size object header.
pub fn type_name(mem: &dyn RemoteMemory, ob_type_offset: u64, ty: u64) -> Option<String> {
    if ty == 0 || ty % 8 != 0 {
        return None;
    }
    // ob_type, then ob_size, then tp_name.
    let name_ptr = mem.read_u64(ty.wrapping_add(ob_type_offset + 16)).ok()?;
    let mut buf = [0u8; 32];
    // The name may end near a page end: fall back to a shorter read.
    if mem.read(name_ptr, &mut buf).is_err() {
        mem.read(name_ptr, &mut buf[..8]).ok()?;
    }
    let end = buf.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&buf[..end]).ok().map(str::to_string)
}

/// Confirms candidates in order and returns the first that walks, with its learned types.
pub fn first_confirmed(
    mem: &dyn RemoteMemory,
    candidates: &[u64],
    make_target: &dyn Fn(u64) -> PythonTarget,
) -> Option<(PythonTarget, LearnedTypes)> {
    candidates.iter().take(MAX_CONFIRMATIONS).find_map(|&head| {
        let target = make_target(head);
        confirm_by_walking(mem, &target).map(|types| (target, types))
    })
}

/// ≤3.6 without symbols: the address of `_PyThreadState_Current`, found among the words of
/// `regions` that hold the address of one of the interpreter's thread states. 3.2–3.6 also
/// keep `gil_last_holder`, which holds the same value but is never cleared, so candidates are
/// watched for a while: the current thread state is the word seen both pointing at a thread
/// state and NULL (a GIL hand-over). A single candidate that never goes NULL is taken as is.
/// When two candidates never told themselves apart, both are returned: while a thread holds
/// the GIL the two agree (`take_gil` sets `gil_last_holder` before the current thread state),
/// so "both point at it" identifies the holder and a disagreement means nobody holds it.
pub fn find_tstate_current(mem: &dyn RemoteMemory, regions: &[(u64, u64)], target: &PythonTarget) -> Option<(u64, Option<u64>)> {
    let mut walker = Walker::new(target.clone());
    let mut sample = Sample::default();
    let mut candidates: Vec<u64> = Vec::new();
    for _ in 0..20 {
        if walker.sample(mem, &mut sample).is_ok() {
            let tstates: Vec<u64> = sample.threads.iter().map(|t| t.tstate).collect();
            for &(start, size) in regions {
                let Ok(bytes) = mem.read_vec(start, size.min(MAX_SECTION) as usize) else { continue };
                for (i, chunk) in bytes.chunks_exact(8).enumerate() {
                    let v = u64::from_le_bytes(chunk.try_into().unwrap());
                    let at = start + 8 * i as u64;
                    if v != 0 && tstates.contains(&v) && !candidates.contains(&at) {
                        candidates.push(at);
                    }
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    if candidates.len() > 16 {
        return None;
    }
    let mut seen_null = vec![false; candidates.len()];
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(400);
    while std::time::Instant::now() < deadline {
        for (i, &c) in candidates.iter().enumerate() {
            if mem.read_u64(c).ok() == Some(0) {
                seen_null[i] = true;
            }
        }
        let cleared: Vec<u64> = candidates.iter().zip(&seen_null).filter(|(_, n)| **n).map(|(c, _)| *c).collect();
        if cleared.len() == 1 && candidates.len() > 1 {
            return Some((cleared[0], None));
        }
    }
    match candidates.as_slice() {
        [only] => Some((*only, None)),
        [a, b] => Some((*a, Some(*b))),
        _ => None,
    }
}
