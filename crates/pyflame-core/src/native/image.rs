//! One executable ELF image mapped into the target: its unwind sections (handed to framehop
//! without copying) and its function symbols. Loaded once per file (see `ImageCache`).

use super::symbols::SymbolTable;
use goblin::elf::program_header::PT_LOAD;
use goblin::elf::section_header::{SHF_COMPRESSED, SHT_NOBITS};
use goblin::elf::Elf;
use std::collections::HashMap;
use std::ops::{Deref, Range};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;

/// The bytes of an image: the file mapped read-only, or (for `[vdso]`) a copy from the target.
enum ImageBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl Deref for ImageBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            ImageBytes::Mapped(m) => m,
            ImageBytes::Owned(v) => v,
        }
    }
}

/// A section's bytes inside a shared image, as framehop's section data type.
#[derive(Clone)]
pub struct SectionBytes {
    bytes: Arc<ImageBytes>,
    range: Range<usize>,
}

impl Deref for SectionBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[self.range.clone()]
    }
}

#[derive(Clone, Default)]
struct SectionRef {
    svma: Range<u64>,
    /// File range; None for sections without bytes in the file (or compressed ones).
    file: Option<Range<usize>>,
}

/// A `PT_LOAD` segment: which file offsets land at which addresses.
#[derive(Clone, Copy)]
struct Segment {
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

pub struct ElfImage {
    /// The file name, as frames are labelled (`libz.so.1`).
    pub name: String,
    bytes: Arc<ImageBytes>,
    sections: HashMap<&'static str, SectionRef>,
    segments: Vec<Segment>,
    pub symbols: SymbolTable,
    /// Has `.eh_frame` or `.debug_frame`: unwinding does not rely on frame pointers.
    pub has_unwind_info: bool,
}

const UNWIND_SECTIONS: [&str; 5] = [".text", ".eh_frame", ".eh_frame_hdr", ".debug_frame", ".got"];

impl ElfImage {
    pub fn parse_file(name: String, file: &std::fs::File) -> Option<ElfImage> {
        // SAFETY: read-only map of a file that is mapped into a live process, so the kernel
        // keeps its inode; a file rewritten in place underneath would fault, as for any reader
        // of a mapped binary (and such a target would crash itself first).
        let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
        Self::parse(name, ImageBytes::Mapped(map))
    }

    pub fn parse_memory(name: String, bytes: Vec<u8>) -> Option<ElfImage> {
        Self::parse(name, ImageBytes::Owned(bytes))
    }

    fn parse(name: String, bytes: ImageBytes) -> Option<ElfImage> {
        let bytes = Arc::new(bytes);
        let elf = Elf::parse(&bytes).ok()?;
        let mut sections = HashMap::new();
        for sh in &elf.section_headers {
            let Some(section_name) = elf.shdr_strtab.get_at(sh.sh_name) else { continue };
            let Some(&known) = UNWIND_SECTIONS.iter().find(|&&n| n == section_name) else { continue };
            let start = sh.sh_offset as usize;
            let end = start.checked_add(sh.sh_size as usize)?;
            let has_bytes = sh.sh_type != SHT_NOBITS && sh.sh_flags & u64::from(SHF_COMPRESSED) == 0 && end <= bytes.len();
            sections.insert(known, SectionRef { svma: sh.sh_addr..sh.sh_addr.wrapping_add(sh.sh_size), file: has_bytes.then_some(start..end) });
        }
        let segments = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == PT_LOAD)
            .map(|ph| Segment { offset: ph.p_offset, vaddr: ph.p_vaddr, filesz: ph.p_filesz })
            .collect();
        let symbols = SymbolTable::from_elf(&elf);
        let has_unwind_info = [".eh_frame", ".debug_frame"].iter().any(|s| sections.get(s).is_some_and(|r: &SectionRef| r.file.is_some()));
        Some(ElfImage { name, bytes: bytes.clone(), sections, segments, symbols, has_unwind_info })
    }

    /// Live address minus file address for a mapping of this image that starts at `start`
    /// with file offset `offset`.
    pub fn load_bias(&self, start: u64, offset: u64) -> u64 {
        let segment = self.segments.iter().find(|s| offset >= s.offset & !0xfff && offset < s.offset + s.filesz.max(1));
        match segment {
            Some(s) => start.wrapping_sub(offset).wrapping_add(s.offset).wrapping_sub(s.vaddr),
            None => start.wrapping_sub(offset),
        }
    }

    /// The sections framehop reads, sharing this image's bytes.
    pub fn section_info(&self) -> framehop::ExplicitModuleSectionInfo<SectionBytes> {
        let data = |name: &str| {
            self.sections.get(name).and_then(|s| s.file.clone()).map(|range| SectionBytes { bytes: self.bytes.clone(), range })
        };
        let svma = |name: &str| self.sections.get(name).map(|s| s.svma.clone());
        framehop::ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: svma(".text"),
            text: data(".text"),
            got_svma: svma(".got"),
            eh_frame_svma: svma(".eh_frame"),
            eh_frame: data(".eh_frame"),
            eh_frame_hdr_svma: svma(".eh_frame_hdr"),
            eh_frame_hdr: data(".eh_frame_hdr"),
            debug_frame: data(".debug_frame"),
            stubs_svma: None,
            stub_helper_svma: None,
            unwind_info: None,
            text_segment_svma: None,
            text_segment: None,
        }
    }
}

/// Identity of a file on disk: same device, inode, size and modification time means the
/// same contents, so its symbols and unwind tables are read once per recording.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FileKey {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl FileKey {
    pub fn of(file: &std::fs::File) -> Option<FileKey> {
        let m = file.metadata().ok()?;
        Some(FileKey { dev: m.dev(), ino: m.ino(), size: m.size(), mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()) })
    }
}

/// Images by file identity; a long recording that sees libraries come and go (or many
/// processes with `--subprocesses` sharing one libpython) parses each file once.
#[derive(Default)]
pub struct ImageCache {
    images: HashMap<FileKey, Option<Arc<ElfImage>>>,
}

impl ImageCache {
    /// The image of the file at `maps_path` in process `pid`, mapped at `start..end`.
    pub fn load(&mut self, pid: i32, maps_path: &str, inode: u64, start: u64, end: u64) -> Option<Arc<ElfImage>> {
        let file = open_mapped_file(pid, maps_path, inode, start, end)?;
        let key = FileKey::of(&file)?;
        let name = file_name_of(maps_path);
        self.images.entry(key).or_insert_with(|| ElfImage::parse_file(name, &file).map(Arc::new)).clone()
    }
}

/// The label of a binary: its file name without directories or a ` (deleted)` suffix.
pub fn file_name_of(maps_path: &str) -> String {
    let path = maps_path.strip_suffix(" (deleted)").unwrap_or(maps_path);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Opens the file behind a mapping: through the target's root (containers see their own
/// files), or through `/proc/PID/map_files` (the mapped inode itself, which also reaches a
/// file deleted or replaced on disk since it was mapped), or the path as we see it.
/// The first of them whose inode is the mapping's wins: a path in `/proc/PID/maps` is written
/// relative to *our* root, so for a target chrooted below it (Debian's 3.14 launcher) the path
/// under `/proc/PID/root` can name another file of the same name, whose unwind tables then
/// mislead every unwind through that library. When no inode matches (a file system that
/// reports other numbers), the first file that opens is used, as before.
fn open_mapped_file(pid: i32, maps_path: &str, inode: u64, start: u64, end: u64) -> Option<std::fs::File> {
    use std::os::unix::fs::MetadataExt;
    let by_mapping = format!("/proc/{pid}/map_files/{start:x}-{end:x}");
    let deleted = maps_path.ends_with(" (deleted)");
    let in_root = format!("/proc/{pid}/root{maps_path}");
    let candidates: Vec<&str> = if deleted { vec![&by_mapping] } else { vec![&in_root, &by_mapping, maps_path] };
    let mut first = None;
    for path in candidates {
        let Ok(file) = std::fs::File::open(path) else { continue };
        if file.metadata().is_ok_and(|m| m.ino() == inode) {
            return Some(file);
        }
        first.get_or_insert(file);
    }
    first
}
