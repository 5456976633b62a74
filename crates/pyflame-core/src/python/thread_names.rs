//! Thread names as Python knows them: `threading._active[ident]._name`, read from outside.
//!
//! The interpreter's modules dict leads to the `threading` module, whose `_active` dict maps
//! each thread's ident (`threading.get_ident()`, the thread state's `thread_id`) to its
//! `Thread` object; the name is that object's `_name` attribute (2.7: `_Thread__name`).
//! Threads Python does not know (started from C) have no entry: callers fall back to the
//! kernel's name. The names are read again only when a thread ident that was not there at the
//! last read appears (at most every `NEW_THREAD_GAP`), and every `MAX_AGE` (threads can be
//! renamed), so the cost per sample is a set lookup per thread.

use super::debug_offsets;
use super::objects::{ObjectLayout, MAX_DICT_ITEMS, TPFLAGS_STR_SUBCLASS_27, TPFLAGS_UNICODE_SUBCLASS};
use super::strings::read_str;
use super::target::PythonTarget;
use super::walker::MAX_INTERPRETERS;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Least time between two reads prompted by new threads.
const NEW_THREAD_GAP: Duration = Duration::from_millis(200);
/// Names are read again at least this often (a thread may be renamed).
const MAX_AGE: Duration = Duration::from_secs(5);
/// Longest thread name kept.
const MAX_NAME_CHARS: usize = 256;
/// Most threads named.
const MAX_THREADS: usize = 4096;
/// Most strings read in one pass over the names (keys compared, names read): bounds the work
/// on a target whose dicts are garbage.
const MAX_STRINGS_PER_READ: usize = 100_000;

pub struct ThreadNames {
    layout: Option<ObjectLayout>,
    target: TargetRefs,
    /// Ident → name, from the last read.
    names: HashMap<u64, String>,
    /// Every ident seen when the names were last read (named or not).
    seen: HashSet<u64>,
    /// Where the `_active` dict of each interpreter's `threading` module was found.
    active_dicts: Vec<u64>,
    read_at: Option<Instant>,
    /// Strings left to read in the current pass.
    budget: std::cell::Cell<usize>,
    /// Bumped whenever `names` changes, so consumers know to look again.
    pub generation: u64,
}

/// What of the target the reader needs (copied so it does not hold the walker).
#[derive(Clone)]
struct TargetRefs {
    interp_head_ptr: u64,
    offsets: super::offsets::VersionOffsets,
    string_format: super::strings::StringFormat,
    str_type: Option<u64>,
}

impl ThreadNames {
    pub fn new(target: &PythonTarget, mem: &dyn RemoteMemory) -> ThreadNames {
        let v = target.layout.version;
        let debug = match (v.major, v.minor, target.runtime_addr) {
            (3, minor, Some(runtime)) if minor >= 13 => mem
                .read_vec(runtime, debug_offsets::table_len(v))
                .ok()
                .and_then(|raw| debug_offsets::parse(&raw).ok()),
            _ => None,
        };
        ThreadNames {
            layout: ObjectLayout::new(&target.layout, debug.as_ref()),
            target: TargetRefs {
                interp_head_ptr: target.interp_head_ptr,
                offsets: target.layout.offsets,
                string_format: target.layout.string_format,
                str_type: target.str_type,
            },
            names: HashMap::new(),
            seen: HashSet::new(),
            active_dicts: Vec::new(),
            read_at: None,
            budget: std::cell::Cell::new(0),
            generation: 0,
        }
    }

    /// Python's name for the thread with this ident, if Python knows it.
    pub fn get(&self, ident: u64) -> Option<&str> {
        self.names.get(&ident).map(String::as_str)
    }

    /// Reads the names again if `idents` (the threads of this sample) holds one not seen at
    /// the last read, or the names are old. Returns whether they were read.
    pub fn refresh(&mut self, mem: &dyn RemoteMemory, idents: impl Iterator<Item = u64> + Clone) -> bool {
        let age = self.read_at.map(|t| t.elapsed());
        let due = match age {
            None => true,
            Some(age) if age >= MAX_AGE => true,
            Some(age) => age >= NEW_THREAD_GAP && idents.clone().any(|id| !self.seen.contains(&id)),
        };
        if !due {
            return false;
        }
        self.read_now(mem);
        self.seen.clear();
        self.seen.extend(idents.take(MAX_THREADS));
        true
    }

    /// Reads every name now (a dump: once, while the threads are paused).
    pub fn read_now(&mut self, mem: &dyn RemoteMemory) {
        self.read_at = Some(Instant::now());
        self.budget.set(MAX_STRINGS_PER_READ);
        let names = self.read_names(mem).unwrap_or_default();
        if names != self.names {
            self.names = names;
            self.generation += 1;
        }
    }

    fn read_names(&mut self, mem: &dyn RemoteMemory) -> ReadResult<HashMap<u64, String>> {
        let Some(layout) = self.layout else { return Ok(HashMap::new()) };
        // The `_active` dicts found last time, if they still are dicts; else look them up.
        let mut names = HashMap::new();
        let cached = std::mem::take(&mut self.active_dicts);
        let mut found_again = true;
        for &active in &cached {
            match self.names_in(mem, &layout, active, &mut names) {
                Ok(()) => {}
                Err(_) => found_again = false,
            }
        }
        if found_again && !cached.is_empty() {
            self.active_dicts = cached;
            return Ok(names);
        }
        names.clear();
        let mut interp = mem.read_u64(self.target.interp_head_ptr)?;
        let mut count = 0;
        while interp != 0 && count < MAX_INTERPRETERS {
            count += 1;
            if let Ok(Some(active)) = self.find_active_dict(mem, &layout, interp) {
                if self.names_in(mem, &layout, active, &mut names).is_ok() {
                    self.active_dicts.push(active);
                }
            }
            interp = mem.read_u64(interp.wrapping_add(self.target.offsets.interp_next))?;
        }
        Ok(names)
    }

    /// `sys.modules['threading']._active` of one interpreter (None: threading not imported).
    fn find_active_dict(&self, mem: &dyn RemoteMemory, layout: &ObjectLayout, interp: u64) -> ReadResult<Option<u64>> {
        let modules = mem.read_u64(interp.wrapping_add(layout.interp_modules))?;
        let Some(threading) = self.value_named(mem, layout, &layout.dict_items(mem, modules)?, "threading")? else { return Ok(None) };
        let globals = layout.attributes(mem, threading)?;
        self.value_named(mem, layout, &globals, "_active")
    }

    /// Adds the names of the threads in one `_active` dict.
    fn names_in(&self, mem: &dyn RemoteMemory, layout: &ObjectLayout, active: u64, names: &mut HashMap<u64, String>) -> ReadResult<()> {
        let field = if layout.major == 2 { "_Thread__name" } else { "_name" };
        let threads = layout.dict_items(mem, active)?;
        if threads.len() > MAX_THREADS {
            return Err(ReadError::Invalid("too many threads"));
        }
        for (key, thread) in threads {
            // A thread that ended while we read is skipped, not guessed.
            if self.budget.get() == 0 {
                return Err(ReadError::Invalid("too many strings to read"));
            }
            let Ok(ident) = layout.read_u64_int(mem, key) else { continue };
            let Ok(attributes) = layout.attributes(mem, thread) else { continue };
            if let Ok(Some(name)) = self.value_named(mem, layout, &attributes, field) {
                if let Ok(name) = self.read_text(mem, layout, name) {
                    names.insert(ident, name);
                }
            }
        }
        Ok(())
    }

    /// The value whose key is the str `wanted` among dict items.
    fn value_named(&self, mem: &dyn RemoteMemory, layout: &ObjectLayout, items: &[(u64, u64)], wanted: &str) -> ReadResult<Option<u64>> {
        if items.len() as u64 > MAX_DICT_ITEMS {
            return Err(ReadError::Invalid("dict too large"));
        }
        for &(key, value) in items {
            // Keys that are not strings (or not readable) are not the one we want.
            if self.read_text(mem, layout, key).is_ok_and(|k| k == wanted) {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// A str object's text, checked to be a str.
    fn read_text(&self, mem: &dyn RemoteMemory, layout: &ObjectLayout, obj: u64) -> ReadResult<String> {
        let left = self.budget.get();
        if left == 0 {
            return Err(ReadError::Invalid("too many strings to read"));
        }
        self.budget.set(left - 1);
        let flag = if layout.major == 2 { TPFLAGS_STR_SUBCLASS_27 } else { TPFLAGS_UNICODE_SUBCLASS };
        let ty = layout.expect_kind(mem, obj, flag, "not a str")?;
        // A str subclass is fine for a name; the exact str type is checked when it is one.
        let expected = self.target.str_type.filter(|t| *t == ty);
        let text = read_str(mem, &self.target.offsets, self.target.string_format, obj, expected)?;
        Ok(text.chars().take(MAX_NAME_CHARS).collect())
    }
}
