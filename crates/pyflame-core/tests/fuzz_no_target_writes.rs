//! The profiler never writes to the target: an audit of every Rust source of the workspace
//! for the calls that could. Reads go through `process_vm_readv`; ptrace is used only to
//! seize, interrupt, continue and detach (blocking mode).

use std::path::{Path, PathBuf};

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            // Skip build output and this very test (it names the forbidden calls).
            if path.file_name().is_some_and(|n| n == "target" || n == "tests") {
                continue;
            }
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_writes_target_memory_or_registers() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_sources(&crates, &mut files);
    assert!(files.len() > 10, "found the sources ({} files)", files.len());
    // Needles are split so this file does not match itself if the skip above changes.
    let forbidden = [
        ["POK", "E"].concat(),                   // PTRACE_POKEDATA/POKETEXT/POKEUSER
        ["process_vm_", "writev"].concat(),      // the write twin of process_vm_readv
        ["ptrace::", "write"].concat(),          // nix's POKEDATA wrapper (write, write_user)
        ["SETREG"].concat(),                     // PTRACE_SETREGS/SETREGSET
        ["ptrace::", "setregs"].concat(),
        ["ptrace::", "setsiginfo"].concat(),
        ["ptrace::", "attach("].concat(),        // ATTACH sends SIGSTOP to the target; we SEIZE
        ["/", "mem\""].concat(),                 // /proc/PID/mem (writable as root)
    ];
    let mut hits = Vec::new();
    let mut ptrace_calls = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for needle in &forbidden {
                if line.contains(needle.as_str()) {
                    hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
            for (i, _) in line.match_indices("ptrace::") {
                let call: String = line[i + 8..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                ptrace_calls.insert(call);
            }
            // Raw requests through libc (--native reads registers with PTRACE_GETREGSET).
            for (i, _) in line.match_indices("libc::PTRACE_") {
                let request: String = line[i + 6..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                ptrace_calls.insert(request);
            }
        }
    }
    assert!(hits.is_empty(), "sources that could write to the target:\n{}", hits.join("\n"));
    // PTRACE_GETREGSET reads the registers of a thread we stopped (--native); the event
    // constant is compared against, not sent.
    let allowed = ["seize", "interrupt", "cont", "detach", "Options", "PTRACE_GETREGSET", "PTRACE_EVENT_STOP"];
    let unexpected: Vec<&String> = ptrace_calls.iter().filter(|c| !allowed.contains(&c.as_str())).collect();
    assert!(unexpected.is_empty(), "ptrace requests beyond seize/interrupt/cont/detach/getregset: {unexpected:?}");
    println!("audited {} Rust files; ptrace calls used: {:?}", files.len(), ptrace_calls);
}
