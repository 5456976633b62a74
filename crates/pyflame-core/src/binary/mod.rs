//! ELF files mapped into the target: symbols, sections and load bias.

pub mod elf;

pub use elf::{BinaryInfo, Section};
