//! `cargo run --example async_dump -- PID`: prints the asyncio tasks of a process (development aid).
//! `async_dump PID --time N`: N dumps, one JSON line each with the wall time of every phase in
//! ms (bench/async-dump.mjs; build with `cargo build --release --example async_dump`).

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pid: i32 = args.get(1).and_then(|a| a.parse().ok()).expect("usage: async_dump PID [--time N]");
    let options = pyflame_core::dump::DumpOptions { blocking: true, ..Default::default() };
    if args.get(2).map(String::as_str) == Some("--time") {
        let runs: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
        for _ in 0..runs {
            let start = Instant::now();
            match pyflame_core::dump_async::dump_async(pid, &options) {
                Ok(d) => {
                    let total = start.elapsed();
                    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
                    let t = d.times;
                    println!(
                        r#"{{"tasks":{},"discover":{:.3},"open":{:.3},"seize":{:.3},"walk":{:.3},"total":{:.3}}}"#,
                        d.tasks.len(),
                        ms(t.discover),
                        ms(t.open),
                        ms(t.seize),
                        ms(t.walk),
                        ms(total)
                    );
                }
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            }
        }
        return;
    }
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
