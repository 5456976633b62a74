//! Function symbols of one ELF image: `.symtab` when the binary has one, else the dynamic
//! symbol table (what a stripped binary keeps: its exported functions). Names are demangled
//! when a frame is first labelled, not at load.

use goblin::elf::sym::{STT_FUNC, STT_GNU_IFUNC};
use goblin::elf::Elf;

struct Symbol {
    start: u64,
    /// 0: size unknown (assembly without `.size`): covers up to the next symbol.
    size: u64,
    name: Box<str>,
}

#[derive(Default)]
pub struct SymbolTable {
    /// Sorted by start address.
    symbols: Vec<Symbol>,
}

impl SymbolTable {
    pub fn from_elf(elf: &Elf) -> SymbolTable {
        let mut symbols = Vec::new();
        for (syms, strtab) in [(&elf.syms, &elf.strtab), (&elf.dynsyms, &elf.dynstrtab)] {
            for sym in syms.iter() {
                let kind = sym.st_type();
                if sym.st_value == 0 || !(kind == STT_FUNC || kind == STT_GNU_IFUNC) {
                    continue;
                }
                let Some(name) = strtab.get_at(sym.st_name) else { continue };
                if name.is_empty() {
                    continue;
                }
                symbols.push(Symbol { start: sym.st_value, size: sym.st_size, name: name.into() });
            }
        }
        // Where .symtab and .dynsym both name an address, the first (.symtab) wins; among
        // aliases of one address, the longest-sized then the shortest name reads best.
        symbols.sort_by(|a, b| a.start.cmp(&b.start).then(b.size.cmp(&a.size)));
        symbols.dedup_by_key(|s| s.start);
        symbols.shrink_to_fit();
        SymbolTable { symbols }
    }

    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }

    /// The raw name of the function containing `svma` (a file address).
    pub fn lookup(&self, svma: u64) -> Option<&str> {
        let index = self.symbols.partition_point(|s| s.start <= svma).checked_sub(1)?;
        let symbol = &self.symbols[index];
        if symbol.size > 0 && svma >= symbol.start + symbol.size {
            return None;
        }
        Some(&symbol.name)
    }
}

/// A readable name: C++ (`_Z...`) and Rust (`_ZN...h<hash>E`, `_R...`) symbols demangled
/// without parameter lists (shorter labels; overloads rarely matter in a flame graph).
pub fn demangle(name: &str) -> String {
    if let Ok(rust) = rustc_demangle::try_demangle(name) {
        return format!("{rust:#}");
    }
    if name.starts_with("_Z") {
        if let Ok(symbol) = cpp_demangle::Symbol::new(name) {
            let options = cpp_demangle::DemangleOptions::new().no_params().no_return_type();
            if let Ok(text) = symbol.demangle_with_options(&options) {
                return text;
            }
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_cpp_and_rust_and_leaves_c_alone() {
        assert_eq!(demangle("_ZN5boost6detail7do_workEi"), "boost::detail::do_work");
        assert_eq!(demangle("_ZN4core3ptr13drop_in_place17h0123456789abcdefE"), "core::ptr::drop_in_place");
        assert_eq!(demangle("deflate"), "deflate");
        assert_eq!(demangle("_PyEval_EvalFrameDefault"), "_PyEval_EvalFrameDefault");
    }

    #[test]
    fn looks_up_by_range_and_size() {
        let table = SymbolTable {
            symbols: vec![
                Symbol { start: 0x100, size: 0x10, name: "a".into() },
                Symbol { start: 0x200, size: 0, name: "b".into() },
                Symbol { start: 0x300, size: 0x20, name: "c".into() },
            ],
        };
        assert_eq!(table.lookup(0x50), None);
        assert_eq!(table.lookup(0x100), Some("a"));
        assert_eq!(table.lookup(0x10f), Some("a"));
        assert_eq!(table.lookup(0x110), None, "past a's size");
        assert_eq!(table.lookup(0x2ff), Some("b"), "sizeless: up to the next symbol");
        assert_eq!(table.lookup(0x31f), Some("c"));
        assert_eq!(table.lookup(0x320), None);
    }
}
