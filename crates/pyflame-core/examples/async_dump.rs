//! `cargo run --example async_dump -- PID`: prints the asyncio tasks of a process (development aid).

fn main() {
    let pid: i32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).expect("usage: async_dump PID");
    let options = pyflame_core::dump::DumpOptions { blocking: true, ..Default::default() };
    match pyflame_core::dump_async::dump_async(pid, &options) {
        Ok(d) => {
            println!("python {} asyncio loaded: {}, {} tasks", d.python_version, d.asyncio_loaded, d.tasks.len());
            for t in &d.tasks {
                println!("{:#x} {} running={:?} awaits={:?}/{:?} by={:x?} err={:?}", t.id, t.name, t.running_tid, t.awaits_task, t.awaits_object, t.awaited_by, t.error);
                for f in &t.frames {
                    println!("    {} {}:{}", f.name, f.filename, f.line);
                }
            }
        }
        Err(e) => println!("{e}"),
    }
}
