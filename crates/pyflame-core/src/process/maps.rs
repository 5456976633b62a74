//! `/proc/PID/maps` parsing.

use crate::error::{from_io, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRange {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
    pub offset: u64,
    pub inode: u64,
    /// The mapped file, `[heap]`-style pseudo names, or empty for anonymous memory.
    pub path: String,
}

impl MapRange {
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end
    }

    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }
}

/// The memory map of a process, sorted by address.
#[derive(Debug, Clone, Default)]
pub struct Maps {
    pub ranges: Vec<MapRange>,
}

impl Maps {
    pub fn read(pid: i32) -> Result<Maps> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/maps"))
            .map_err(|e| from_io(pid, &e, "reading the memory map of"))?;
        Ok(Maps::parse(&text))
    }

    pub fn parse(text: &str) -> Maps {
        let mut ranges: Vec<MapRange> = text.lines().filter_map(parse_line).collect();
        ranges.sort_by_key(|r| r.start);
        Maps { ranges }
    }

    /// The mapping containing `addr`, by binary search.
    pub fn find(&self, addr: u64) -> Option<&MapRange> {
        let idx = self.ranges.partition_point(|r| r.start <= addr);
        if idx == 0 {
            return None;
        }
        let range = &self.ranges[idx - 1];
        range.contains(addr).then_some(range)
    }

    /// True when `len` bytes at `addr` lie in readable mappings (adjacent mappings allowed).
    pub fn is_readable(&self, addr: u64, len: u64) -> bool {
        let mut cursor = addr;
        let end = addr.saturating_add(len);
        while cursor < end {
            match self.find(cursor) {
                Some(r) if r.readable => cursor = r.end,
                _ => return false,
            }
        }
        true
    }

    /// Mappings of the file at `path`.
    pub fn of_file<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a MapRange> + 'a {
        self.ranges.iter().filter(move |r| r.path == path)
    }
}

fn parse_line(line: &str) -> Option<MapRange> {
    // address perms offset dev inode pathname (the path may contain spaces)
    let mut rest = line;
    let mut next_field = || {
        let trimmed = rest.trim_start();
        let end = trimmed.find(' ').unwrap_or(trimmed.len());
        let (field, tail) = trimmed.split_at(end);
        rest = tail;
        field
    };
    let addresses = next_field();
    let perms = next_field();
    let offset = next_field();
    let _dev = next_field();
    let inode = next_field();
    let path = rest.trim_start().to_string();
    let (start, end) = addresses.split_once('-')?;
    let perms = perms.as_bytes();
    if perms.len() < 3 {
        return None;
    }
    Some(MapRange {
        start: u64::from_str_radix(start, 16).ok()?,
        end: u64::from_str_radix(end, 16).ok()?,
        readable: perms[0] == b'r',
        writable: perms[1] == b'w',
        executable: perms[2] == b'x',
        offset: u64::from_str_radix(offset, 16).ok()?,
        inode: inode.parse().ok()?,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d5c0a00000-55d5c0a01000 r--p 00000000 fe:01 1234   /root/.pyenv/versions/3.12.1/bin/python3.12
7f1e2c000000-7f1e2c100000 r--p 00000000 fe:01 5678   /root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0
7f1e2c100000-7f1e2c300000 r-xp 00100000 fe:01 5678   /root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0
7f1e2c300000-7f1e2c301000 rw-p 00000000 00:00 0 
7f1e2c301000-7f1e2c302000 rw-p 00000000 00:00 0      /tmp/dir with spaces/x.so (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]
";

    #[test]
    fn parses_fields_and_paths_with_spaces() {
        let maps = Maps::parse(SAMPLE);
        assert_eq!(maps.ranges.len(), 6);
        let lib = &maps.ranges[2];
        assert_eq!(lib.start, 0x7f1e2c100000);
        assert!(lib.executable && lib.readable && !lib.writable);
        assert_eq!(lib.offset, 0x100000);
        assert_eq!(lib.file_name(), "libpython3.12.so.1.0");
        assert_eq!(maps.ranges[3].path, "");
        assert_eq!(maps.ranges[4].path, "/tmp/dir with spaces/x.so (deleted)");
        assert_eq!(maps.ranges[5].path, "[stack]");
    }

    #[test]
    fn finds_addresses_and_checks_readability_across_adjacent_ranges() {
        let maps = Maps::parse(SAMPLE);
        assert_eq!(maps.find(0x7f1e2c0fffff).unwrap().start, 0x7f1e2c000000);
        assert!(maps.find(0x1000).is_none());
        assert!(maps.is_readable(0x7f1e2c0ff000, 0x2000));
        assert!(!maps.is_readable(0x7f1e2c301800, 0x1000));
    }

    #[test]
    fn ignores_garbage_lines() {
        let maps = Maps::parse("not a map line\n\n7f-80 r--p 0 0:0 0\n");
        assert_eq!(maps.ranges.len(), 1);
    }
}
