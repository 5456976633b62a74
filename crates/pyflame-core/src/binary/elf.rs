//! Symbols and sections of one ELF file mapped into the target, via goblin.

use crate::error::{Error, Result};
use crate::process::Maps;
use goblin::elf::{program_header::PT_LOAD, section_header::SHT_NOBITS, Elf};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    /// Address in the file's own address space (add the load bias for the live address).
    pub addr: u64,
    pub size: u64,
    pub nobits: bool,
}

/// What we need from one ELF file, with addresses already relocated to the live process.
#[derive(Debug, Clone)]
pub struct BinaryInfo {
    /// Path as the target's maps name it.
    pub maps_path: String,
    /// Path we opened (through `/proc/PID/root` or `/proc/PID/exe`).
    pub opened_path: String,
    pub load_bias: u64,
    /// Named symbols from `.dynsym` and `.symtab`, relocated.
    symbols: HashMap<String, u64>,
    symbol_sizes: HashMap<String, u64>,
    /// Sections, relocated.
    pub sections: Vec<Section>,
    pub is_pie_or_shared: bool,
}

/// Symbols the core looks up; everything else is dropped at load to keep memory small.
fn is_interesting_symbol(name: &str) -> bool {
    matches!(
        name,
        "_PyRuntime"
            | "Py_Version"
            | "interp_head"
            | "_PyThreadState_Current"
            | "PyCode_Type"
            | "PyUnicode_Type"
            | "PyString_Type"
            | "PyBytes_Type"
            | "PyFrame_Type"
            | "version"
            | "version.0"
            | "Py_GetVersion.version"
            | "Py_Initialize"
            | "_Py_tss_tstate"
    )
}

impl BinaryInfo {
    /// Loads `maps_path` of process `pid` (opened as `open_path`) and relocates it using the maps.
    pub fn load(pid: i32, maps: &Maps, maps_path: &str, open_path: &str) -> Result<BinaryInfo> {
        let cannot_read = |e: std::io::Error| Error::not_python(pid, &format!("cannot read {open_path} ({e})"));
        let file = std::fs::File::open(open_path).map_err(cannot_read)?;
        // Mapped, not read: only the headers and symbol tables are touched, so a 30 MB
        // libpython costs a few pages instead of a 30 MB read and 30 MB of RSS.
        // SAFETY: the map is read-only and dropped before this function returns; a file
        // truncated underneath would fault, which for a mapped binary of a live process
        // does not happen (the kernel keeps the inode while it is mapped).
        let data = unsafe { memmap2::Mmap::map(&file) }.map_err(cannot_read)?;
        Self::parse(maps, maps_path, open_path, &data)
    }

    pub fn parse(maps: &Maps, maps_path: &str, open_path: &str, data: &[u8]) -> Result<BinaryInfo> {
        let elf = Elf::parse(data).map_err(|e| Error::unsupported(format!("{open_path} is not a readable ELF file: {e}")))?;
        let first_load = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == PT_LOAD)
            .min_by_key(|ph| ph.p_vaddr)
            .ok_or_else(|| Error::unsupported(format!("{open_path} has no loadable segment")))?;
        let align = first_load.p_align.max(1);
        let first_vaddr = first_load.p_vaddr - first_load.p_vaddr % align;
        // The mapping of file offset 0 is where the first PT_LOAD landed.
        let base = maps
            .of_file(maps_path)
            .filter(|r| r.offset == 0)
            .map(|r| r.start)
            .min()
            .ok_or_else(|| Error::internal(format!("{maps_path} is not mapped at offset 0")))?;
        let load_bias = base.wrapping_sub(first_vaddr);

        let mut symbols = HashMap::new();
        let mut symbol_sizes = HashMap::new();
        let tables = [(&elf.dynsyms, &elf.dynstrtab), (&elf.syms, &elf.strtab)];
        for (syms, strtab) in tables {
            for sym in syms.iter() {
                if sym.st_value == 0 {
                    continue;
                }
                let Some(name) = strtab.get_at(sym.st_name) else { continue };
                if is_interesting_symbol(name) && !symbols.contains_key(name) {
                    symbols.insert(name.to_string(), load_bias.wrapping_add(sym.st_value));
                    symbol_sizes.insert(name.to_string(), sym.st_size);
                }
            }
        }

        let sections = elf
            .section_headers
            .iter()
            .filter(|sh| sh.sh_addr != 0)
            .filter_map(|sh| {
                Some(Section {
                    name: elf.shdr_strtab.get_at(sh.sh_name)?.to_string(),
                    addr: load_bias.wrapping_add(sh.sh_addr),
                    size: sh.sh_size,
                    nobits: sh.sh_type == SHT_NOBITS,
                })
            })
            .collect();

        Ok(BinaryInfo {
            maps_path: maps_path.to_string(),
            opened_path: open_path.to_string(),
            load_bias,
            symbols,
            symbol_sizes,
            sections,
            is_pie_or_shared: elf.header.e_type == goblin::elf::header::ET_DYN,
        })
    }

    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.get(name).copied()
    }

    pub fn symbol_size(&self, name: &str) -> Option<u64> {
        self.symbol_sizes.get(name).copied()
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The real `.bss`: the largest NOBITS section named `.bss` (not `.tbss`).
    pub fn bss(&self) -> Option<&Section> {
        self.sections.iter().filter(|s| s.nobits && s.name == ".bss").max_by_key(|s| s.size)
    }
}
