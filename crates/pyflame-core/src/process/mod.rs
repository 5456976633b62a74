//! Access to a live process from outside: its memory maps, memory, threads and (optionally)
//! pausing its threads. Nothing here knows about Python.

pub mod lock;
pub mod maps;
pub mod memory;
pub mod on_cpu;
pub mod run_counters;
pub mod stop_timer;
pub mod switch_log;
pub mod tasks;

pub use maps::{MapRange, Maps};
pub use memory::{ProcessMemory, RemoteMemory};
