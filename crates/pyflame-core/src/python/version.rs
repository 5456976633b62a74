//! The exact CPython version of a target.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
    pub patch: u8,
    /// 0xA alpha, 0xB beta, 0xC release candidate, 0xF final.
    pub level: u8,
    pub serial: u8,
}

impl PythonVersion {
    pub const fn new(major: u8, minor: u8, patch: u8) -> Self {
        PythonVersion { major, minor, patch, level: 0xF, serial: 0 }
    }

    /// Decodes `PY_VERSION_HEX` (`Py_Version`, or the debug offsets' `version`).
    pub fn from_hex(hex: u64) -> Option<Self> {
        let hex = hex as u32;
        let v = PythonVersion {
            major: (hex >> 24) as u8,
            minor: (hex >> 16) as u8,
            patch: (hex >> 8) as u8,
            level: ((hex >> 4) & 0xF) as u8,
            serial: (hex & 0xF) as u8,
        };
        v.is_plausible().then_some(v)
    }

    /// Parses the start of `sys.version`, e.g. `3.11.2 (main, ...` or `3.13.0rc1 (...`.
    pub fn from_version_string(text: &str) -> Option<Self> {
        let head = text.split([' ', '+']).next()?;
        let mut parts = head.splitn(3, '.');
        let major: u8 = parts.next()?.parse().ok()?;
        let minor: u8 = parts.next()?.parse().ok()?;
        let rest = parts.next().unwrap_or("0");
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        let patch: u8 = digits.parse().ok()?;
        let suffix = &rest[digits.len()..];
        let (level, serial_text) = if let Some(s) = suffix.strip_prefix("rc") {
            (0xC, s)
        } else if let Some(s) = suffix.strip_prefix('a') {
            (0xA, s)
        } else if let Some(s) = suffix.strip_prefix('b') {
            (0xB, s)
        } else {
            (0xF, "0")
        };
        let serial = serial_text.chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap_or(0);
        let v = PythonVersion { major, minor, patch, level, serial };
        v.is_plausible().then_some(v)
    }

    /// `3.12` from a file name like `libpython3.12.so.1.0` or `python3.12`: minor only.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let idx = name.find("python")? + "python".len();
        let tail = &name[idx..];
        let mut parts = tail.split('.');
        let major: u8 = parts.next()?.parse().ok()?;
        let minor_text: String = parts.next()?.chars().take_while(|c| c.is_ascii_digit()).collect();
        let minor: u8 = minor_text.parse().ok()?;
        let v = PythonVersion::new(major, minor, 0);
        v.is_plausible().then_some(v)
    }

    fn is_plausible(&self) -> bool {
        matches!((self.major, self.minor), (2, 7) | (3, 0..=30))
            && matches!(self.level, 0xA | 0xB | 0xC | 0xF)
    }

    pub fn at_least(&self, major: u8, minor: u8) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        match self.level {
            0xA => write!(f, "a{}", self.serial),
            0xB => write!(f, "b{}", self.serial),
            0xC => write!(f, "rc{}", self.serial),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_py_version_hex() {
        assert_eq!(PythonVersion::from_hex(0x030b07f0).unwrap().to_string(), "3.11.7");
        assert_eq!(PythonVersion::from_hex(0x030d00f0).unwrap().to_string(), "3.13.0");
        assert_eq!(PythonVersion::from_hex(0x030e00c1).unwrap().to_string(), "3.14.0rc1");
        assert!(PythonVersion::from_hex(0).is_none());
        assert!(PythonVersion::from_hex(0xdeadbeef).is_none());
    }

    #[test]
    fn parses_version_strings_and_file_names() {
        assert_eq!(PythonVersion::from_version_string("3.11.2 (main, Mar 13 2023").unwrap(), PythonVersion::new(3, 11, 2));
        assert_eq!(PythonVersion::from_version_string("2.7.18 (default").unwrap(), PythonVersion::new(2, 7, 18));
        assert_eq!(PythonVersion::from_version_string("3.13.0rc2 (x").unwrap().to_string(), "3.13.0rc2");
        assert_eq!(PythonVersion::from_file_name("libpython3.12.so.1.0").unwrap(), PythonVersion::new(3, 12, 0));
        assert_eq!(PythonVersion::from_file_name("libpython3.13t.so.1.0").unwrap(), PythonVersion::new(3, 13, 0));
        assert_eq!(PythonVersion::from_file_name("python3.7m").unwrap(), PythonVersion::new(3, 7, 0));
        assert!(PythonVersion::from_file_name("uwsgi").is_none());
    }
}
