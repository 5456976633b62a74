//! A small reader of Python objects from outside: an object's type and flags, the items of
//! a dict (every layout from 2.7's open table to 3.13's split keys with inline values), an
//! instance's attributes, and small ints. Used for what is not on a stack (thread names).
//!
//! Every read is checked: types by their `tp_flags` subclass bits, sizes and counts capped.
//! A value that fails a check is an error, never a guess.

use super::debug_offsets::DebugOffsets;
use super::layout::Layout;
use crate::process::memory::{ReadError, ReadResult, RemoteMemory};

/// Most items read from one dict (`sys.modules` has a few hundred to a few thousand).
pub const MAX_DICT_ITEMS: u64 = 1 << 14;

// `tp_flags` bits, the same from 2.7 to 3.15.
const TPFLAGS_INLINE_VALUES: u64 = 1 << 2;
const TPFLAGS_MANAGED_DICT: u64 = 1 << 4;
pub const TPFLAGS_INT_SUBCLASS_27: u64 = 1 << 23;
pub const TPFLAGS_LONG_SUBCLASS: u64 = 1 << 24;
pub const TPFLAGS_STR_SUBCLASS_27: u64 = 1 << 27;
pub const TPFLAGS_UNICODE_SUBCLASS: u64 = 1 << 28;
pub const TPFLAGS_DICT_SUBCLASS: u64 = 1 << 29;

/// How a dict keeps its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DictModel {
    /// 2.7: `ma_mask`, `ma_table` of (hash, key, value).
    OpenTable { mask: u64, table: u64 },
    /// 3.6–3.10: `PyDictKeysObject` with `dk_size` and indices sized by it; entries (hash,
    /// key, value); split tables keep values in `ma_values[i]`.
    Compact36,
    /// 3.11+: `dk_log2_size`, `dk_log2_index_bytes`, `dk_kind` (unicode keys: (key, value)
    /// entries); split values start `values_start` bytes into `PyDictValues`.
    Compact311 { values_start: u64 },
}

/// Where an instance keeps its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstanceDict {
    /// ≤3.10: a dict pointer at `tp_dictoffset`.
    Offset,
    /// 3.11: dict pointer three words before the object, values pointer four words before.
    Managed311,
    /// 3.12: one tagged word three words before: a dict, or values' address minus one.
    Tagged312,
    /// 3.13+: dict pointer three words before; else values inline after `tp_basicsize`.
    Inline313,
}

/// The offsets the reader needs, for one target.
#[derive(Debug, Clone, Copy)]
pub struct ObjectLayout {
    pub major: u8,
    /// Size of the object header (`PyObject`): fields of objects start here.
    head: u64,
    ob_type: u64,
    tp_flags: u64,
    tp_basicsize: u64,
    tp_dictoffset: u64,
    /// `PyHeapTypeObject.ht_cached_keys` (3.11+: the shared keys of split instance dicts).
    ht_cached_keys: Option<u64>,
    ma_keys: u64,
    ma_values: u64,
    dict: DictModel,
    instance: InstanceDict,
    /// `PyInterpreterState.modules` (≤3.11) / `imports.modules` (3.12+).
    pub interp_modules: u64,
    /// 3.12+: ints hold `digits << 3 | sign` in `lv_tag`; before, a signed digit count.
    long_tagged: bool,
    long_size: u64,
    long_digits: u64,
}

/// Bytes from the start of `PyHeapTypeObject` past `PyTypeObject` to `ht_cached_keys`: the
/// async, number, mapping, sequence and buffer method tables (4+36+3+10+2 pointers on 3.10+,
/// where `am_send` was added) and `ht_name`, `ht_slots`, `ht_qualname`.
const HEAP_TYPE_TAIL_TO_CACHED_KEYS: u64 = (4 + 36 + 3 + 10 + 2 + 3) * 8;

impl ObjectLayout {
    /// The layout for `layout`'s version; on 3.13+ from the target's debug offsets (`debug`).
    /// None for a version this reader does not know (names then fall back to the kernel's).
    pub fn new(layout: &Layout, debug: Option<&DebugOffsets>) -> Option<ObjectLayout> {
        let v = layout.version;
        let o = &layout.offsets;
        let head = o.object_type + 8;
        // PyTypeObject fields after PyObject_VAR_HEAD (the same from 2.7 to 3.15).
        let var_head = head + 8;
        let base = ObjectLayout {
            major: v.major,
            head,
            ob_type: o.object_type,
            tp_flags: var_head + 144,
            tp_basicsize: var_head + 8,
            tp_dictoffset: var_head + 264,
            ht_cached_keys: None,
            ma_keys: head + 16,
            ma_values: head + 24,
            dict: DictModel::Compact36,
            instance: InstanceDict::Offset,
            interp_modules: 0,
            long_tagged: false,
            long_size: head,
            long_digits: head + 8,
        };
        // Measured with offsetof against each version's installed headers (2.7.18, 3.6.15,
        // 3.7.16, 3.8.18, 3.9.18, 3.10.13, 3.11.2/3.11.7, 3.12.1).
        let reader = match (v.major, v.minor) {
            (2, 7) => ObjectLayout { dict: DictModel::OpenTable { mask: head + 16, table: head + 24 }, interp_modules: 16, ..base },
            (3, 6) => ObjectLayout { interp_modules: 16, ..base },
            (3, 7) => ObjectLayout { interp_modules: 40, ..base },
            (3, 8) => ObjectLayout { interp_modules: 56, ..base },
            (3, 9) | (3, 10) => ObjectLayout { interp_modules: 856, ..base },
            (3, 11) => ObjectLayout {
                dict: DictModel::Compact311 { values_start: 0 },
                instance: InstanceDict::Managed311,
                ht_cached_keys: Some(408 + HEAP_TYPE_TAIL_TO_CACHED_KEYS),
                interp_modules: 888,
                ..base
            },
            (3, 12) => ObjectLayout {
                dict: DictModel::Compact311 { values_start: 0 },
                instance: InstanceDict::Tagged312,
                ht_cached_keys: Some(416 + HEAP_TYPE_TAIL_TO_CACHED_KEYS),
                interp_modules: 944,
                long_tagged: true,
                ..base
            },
            (3, minor) if minor >= 13 => {
                // From the target's own table: where the modules dict, dict fields, type
                // flags and int digits are, and the type object's size (cached keys follow
                // the heap type's method tables).
                let d = debug?;
                ObjectLayout {
                    ob_type: d.pyobject.ob_type,
                    tp_flags: d.type_object.tp_flags,
                    ma_keys: d.dict_object.ma_keys,
                    ma_values: d.dict_object.ma_values,
                    dict: DictModel::Compact311 { values_start: 8 },
                    instance: InstanceDict::Inline313,
                    ht_cached_keys: Some(d.type_object.size + HEAP_TYPE_TAIL_TO_CACHED_KEYS),
                    interp_modules: d.interpreter_state.imports_modules,
                    long_tagged: true,
                    long_size: d.long_object.lv_tag,
                    long_digits: d.long_object.ob_digit,
                    ..base
                }
            }
            _ => return None,
        };
        Some(reader)
    }

    pub fn type_of(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<u64> {
        check_pointer(obj)?;
        let ty = mem.read_u64(obj.wrapping_add(self.ob_type))?;
        check_pointer(ty)?;
        Ok(ty)
    }

    pub fn type_flags(&self, mem: &dyn RemoteMemory, ty: u64) -> ReadResult<u64> {
        mem.read_u64(ty.wrapping_add(self.tp_flags))
    }

    /// The object's type, checked to have `flag` (a `TPFLAGS_*_SUBCLASS` bit).
    pub fn expect_kind(&self, mem: &dyn RemoteMemory, obj: u64, flag: u64, what: &'static str) -> ReadResult<u64> {
        let ty = self.type_of(mem, obj)?;
        if self.type_flags(mem, ty)? & flag == 0 {
            return Err(ReadError::Invalid(what));
        }
        Ok(ty)
    }

    /// (key, value) pointers of a dict, in insertion order (2.7: table order).
    pub fn dict_items(&self, mem: &dyn RemoteMemory, dict: u64) -> ReadResult<Vec<(u64, u64)>> {
        self.expect_kind(mem, dict, TPFLAGS_DICT_SUBCLASS, "not a dict")?;
        if let DictModel::OpenTable { mask, table } = self.dict {
            let mask = mem.read_u64(dict.wrapping_add(mask))?;
            let table = mem.read_u64(dict.wrapping_add(table))?;
            if mask >= MAX_DICT_ITEMS || (mask + 1) & mask != 0 {
                return Err(ReadError::Invalid("dict table size"));
            }
            check_pointer(table)?;
            let raw = mem.read_vec(table, (mask as usize + 1) * 24)?;
            // A dummy (deleted) slot has a key and no value.
            return Ok(raw.chunks_exact(24).map(|e| (word(e, 8), word(e, 16))).filter(|(k, v)| *k != 0 && *v != 0).collect());
        }
        let keys = mem.read_u64(dict.wrapping_add(self.ma_keys))?;
        let values = mem.read_u64(dict.wrapping_add(self.ma_values))?;
        self.keys_items(mem, keys, (values != 0).then_some(values))
    }

    /// The items of a keys object, with values from `values` (a split table) when given.
    fn keys_items(&self, mem: &dyn RemoteMemory, keys: u64, values: Option<u64>) -> ReadResult<Vec<(u64, u64)>> {
        check_pointer(keys)?;
        let header = mem.read_vec(keys, 40)?;
        let (entries_at, count, entry_len, key_at) = match self.dict {
            DictModel::Compact36 => {
                let size = word(&header, 8);
                let count = word(&header, 32);
                if size > MAX_DICT_ITEMS * 2 || size & size.wrapping_sub(1) != 0 || count > size {
                    return Err(ReadError::Invalid("dict keys size"));
                }
                let width = if size <= 0xff { 1 } else if size <= 0xffff { 2 } else { 4 };
                (keys + 40 + size * width, count, 24u64, 8u64)
            }
            DictModel::Compact311 { .. } => {
                let (log2_size, log2_index_bytes, kind) = (header[8] as u64, header[9] as u64, header[10]);
                let count = word(&header, 24);
                if log2_size > 17 || log2_index_bytes > 20 || log2_index_bytes < log2_size || count > 1 << log2_size || kind > 2 {
                    return Err(ReadError::Invalid("dict keys size"));
                }
                // DICT_KEYS_GENERAL (0) keeps the hash; unicode and split keys do not.
                let (entry_len, key_at) = if kind == 0 { (24, 8) } else { (16, 0) };
                (keys + 32 + (1 << log2_index_bytes), count, entry_len, key_at)
            }
            DictModel::OpenTable { .. } => unreachable!("2.7 dicts have no keys object"),
        };
        if count > MAX_DICT_ITEMS {
            return Err(ReadError::Invalid("dict too large"));
        }
        let raw = mem.read_vec(entries_at, (count * entry_len) as usize)?;
        let split = match (values, self.dict) {
            (Some(v), DictModel::Compact311 { values_start }) => Some(mem.read_vec(v + values_start, count as usize * 8)?),
            (Some(v), _) => Some(mem.read_vec(v, count as usize * 8)?),
            (None, _) => None,
        };
        let mut items = Vec::with_capacity(count as usize);
        for (i, entry) in raw.chunks_exact(entry_len as usize).enumerate() {
            let key = word(entry, key_at);
            let value = match &split {
                Some(values) => word(values, i as u64 * 8),
                None => word(entry, key_at + 8),
            };
            if key != 0 && value != 0 {
                items.push((key, value));
            }
        }
        Ok(items)
    }

    /// The attributes of an instance (module globals, a `Thread`'s fields), as dict items.
    /// Empty when it has none.
    pub fn attributes(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<Vec<(u64, u64)>> {
        let ty = self.type_of(mem, obj)?;
        let flags = self.type_flags(mem, ty)?;
        let managed = flags & TPFLAGS_MANAGED_DICT != 0 && self.instance != InstanceDict::Offset;
        if !managed {
            let offset = mem.read_u64(ty.wrapping_add(self.tp_dictoffset))? as i64;
            if offset <= 0 || offset > 1 << 20 {
                return Ok(Vec::new());
            }
            return self.dict_at(mem, obj.wrapping_add(offset as u64));
        }
        let before = |words: u64| obj.wrapping_sub(words * 8);
        let cached_keys = || -> ReadResult<u64> { mem.read_u64(ty.wrapping_add(self.ht_cached_keys.ok_or(ReadError::Invalid("cached keys"))?)) };
        match self.instance {
            InstanceDict::Offset => unreachable!(),
            InstanceDict::Managed311 => {
                let dict = mem.read_u64(before(3))?;
                if dict != 0 {
                    return self.dict_items(mem, dict);
                }
                match mem.read_u64(before(4))? {
                    0 => Ok(Vec::new()),
                    values => self.keys_items(mem, cached_keys()?, Some(values)),
                }
            }
            InstanceDict::Tagged312 => match mem.read_u64(before(3))? {
                0 => Ok(Vec::new()),
                // Values are stored as their address minus one (odd: dicts are aligned).
                tagged if tagged & 1 == 1 => self.keys_items(mem, cached_keys()?, Some(tagged + 1)),
                dict => self.dict_items(mem, dict),
            },
            InstanceDict::Inline313 => {
                let dict = mem.read_u64(before(3))?;
                if dict != 0 {
                    return self.dict_items(mem, dict);
                }
                if flags & TPFLAGS_INLINE_VALUES == 0 {
                    return Ok(Vec::new());
                }
                let size = mem.read_u64(ty.wrapping_add(self.tp_basicsize))?;
                if size > 1 << 20 {
                    return Err(ReadError::Invalid("type size"));
                }
                let values = obj.wrapping_add(size);
                // PyDictValues: capacity, size, embedded, valid (bytes), then the values.
                let mut prefix = [0u8; 4];
                mem.read(values, &mut prefix)?;
                if prefix[3] == 0 {
                    return Ok(Vec::new());
                }
                self.keys_items(mem, cached_keys()?, Some(values))
            }
        }
    }

    /// The items of the dict whose pointer is stored at `slot` (none when it is NULL).
    fn dict_at(&self, mem: &dyn RemoteMemory, slot: u64) -> ReadResult<Vec<(u64, u64)>> {
        match mem.read_u64(slot)? {
            0 => Ok(Vec::new()),
            dict => self.dict_items(mem, dict),
        }
    }

    /// A non-negative int that fits in 64 bits (2.7 `int` or `long`, 3.x `int`).
    pub fn read_u64_int(&self, mem: &dyn RemoteMemory, obj: u64) -> ReadResult<u64> {
        let ty = self.type_of(mem, obj)?;
        let flags = self.type_flags(mem, ty)?;
        if self.major == 2 && flags & TPFLAGS_INT_SUBCLASS_27 != 0 {
            // PyIntObject.ob_ival: a C long; `thread.get_ident()` is a pthread_t cast to it.
            return mem.read_u64(obj.wrapping_add(self.head));
        }
        if flags & TPFLAGS_LONG_SUBCLASS == 0 {
            return Err(ReadError::Invalid("not an int"));
        }
        let raw = mem.read_u64(obj.wrapping_add(self.long_size))?;
        let (digits, negative) = if self.long_tagged { (raw >> 3, raw & 3 == 2) } else { ((raw as i64).unsigned_abs(), (raw as i64) < 0) };
        // 30-bit digits: three hold any 64-bit value.
        if negative || digits > 3 {
            return Err(ReadError::Invalid("int out of range"));
        }
        let bytes = mem.read_vec(obj.wrapping_add(self.long_digits), digits as usize * 4)?;
        let mut value: u128 = 0;
        for (i, d) in bytes.chunks_exact(4).enumerate() {
            value |= (u32::from_le_bytes(d.try_into().unwrap()) as u128 & 0x3fff_ffff) << (30 * i);
        }
        u64::try_from(value).map_err(|_| ReadError::Invalid("int out of range"))
    }
}

fn check_pointer(p: u64) -> ReadResult<()> {
    if p == 0 || p % 8 != 0 {
        return Err(ReadError::Invalid("object pointer"));
    }
    Ok(())
}

fn word(buf: &[u8], off: u64) -> u64 {
    let off = off as usize;
    buf.get(off..off + 8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
}
