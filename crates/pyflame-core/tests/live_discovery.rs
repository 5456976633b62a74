//! Discovery on every interpreter installed here, three ways: with symbols, with
//! `force_scan` (as if stripped: `.PyRuntime` section or a validated scan, version from
//! memory), and with `force_scan` plus a `--python-version` override.

mod support;

use pyflame_core::python::{DiscoverOptions, PythonTarget, PythonVersion};
use support::{build_kind, check_known_program, interpreters, spawn_known, write_matrix_row, MatrixRow};

fn discover_with_retry(pid: i32, options: &DiscoverOptions) -> PythonTarget {
    let mut last = None;
    for _ in 0..20 {
        match PythonTarget::discover(pid, options) {
            Ok(t) => return t,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("discover {pid} with {options:?}: {}", last.unwrap());
}

#[test]
fn every_installed_interpreter_with_symbols() {
    for py in interpreters() {
        let program = spawn_known(&py.path);
        let target = discover_with_retry(program.pid(), &DiscoverOptions::default());
        assert_eq!(target.layout.version.to_string(), py.version, "{}", py.label);
        let version_source = target.version_source;
        let check = check_known_program(target, &py.label, 60);
        assert!(check.spin_holds_gil * 2 >= check.spin_seen, "{}: spinning thread held the GIL in {} of {} samples", py.label, check.spin_holds_gil, check.spin_seen);
        eprintln!("{}: symbols ok {:?}", py.label, check);
        write_matrix_row(&MatrixRow {
            id: &format!("{}-symbols", py.label),
            version: &py.version,
            build: &build_kind(&py),
            shape: "plain process",
            verified: "live",
            discovery: "symbols",
            version_source,
            gil: &format!("spinning thread held it in {}/{} samples", check.spin_holds_gil, check.spin_seen),
            threads: check.max_threads,
            test: "cargo test -p pyflame-core --test live_discovery",
        });
    }
}

#[test]
fn every_installed_interpreter_by_scan() {
    for py in interpreters() {
        let program = spawn_known(&py.path);
        let options = DiscoverOptions { force_scan: true, ..Default::default() };
        let target = discover_with_retry(program.pid(), &options);
        assert_eq!(target.layout.version.to_string(), py.version, "{}: version from memory", py.label);
        assert!(
            matches!(target.version_source, "debug offsets" | "scan of .bss"),
            "{}: version must come from memory, came from {}",
            py.label,
            target.version_source
        );
        assert_ne!(target.interp_source, "symbols", "{}", py.label);
        assert!(target.code_type.is_some() && target.str_type.is_some(), "{}: types learned", py.label);
        let how = (target.version_source, target.interp_source);
        let check = check_known_program(target, &py.label, 60);
        assert!(check.spin_holds_gil * 2 >= check.spin_seen, "{}: spinning thread held the GIL in {} of {} samples", py.label, check.spin_holds_gil, check.spin_seen);
        eprintln!("{}: force_scan ok via {:?} {:?}", py.label, how, check);
        write_matrix_row(&MatrixRow {
            id: &format!("{}-force-scan", py.label),
            version: &py.version,
            build: &build_kind(&py),
            shape: "force_scan (as if stripped)",
            verified: "live",
            discovery: how.1,
            version_source: how.0,
            gil: &format!("spinning thread held it in {}/{} samples", check.spin_holds_gil, check.spin_seen),
            threads: check.max_threads,
            test: "cargo test -p pyflame-core --test live_discovery",
        });
    }
}

#[test]
fn force_scan_with_a_version_override() {
    for py in interpreters() {
        let program = spawn_known(&py.path);
        let mut parts = py.version.split('.').map(|p| p.parse::<u8>().unwrap());
        let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
        let options = DiscoverOptions { force_scan: true, version_override: Some(PythonVersion::new(major, minor, 0)) };
        let target = discover_with_retry(program.pid(), &options);
        assert_eq!((target.layout.version.major, target.layout.version.minor), (major, minor), "{}", py.label);
        check_known_program(target, &py.label, 20);
    }
}

/// 3.10+ take the `.PyRuntime` section under `force_scan`; the pure pointer scan must find the
/// very same list head there too (the path a build without section headers for it would take).
#[test]
fn pointer_scan_finds_the_same_head_as_the_runtime_section() {
    use pyflame_core::binary::BinaryInfo;
    use pyflame_core::process::memory::ProcessMemory;
    use pyflame_core::python::scan;
    for py in interpreters() {
        let program = spawn_known(&py.path);
        let options = DiscoverOptions { force_scan: true, ..Default::default() };
        let target = discover_with_retry(program.pid(), &options);
        let pid = program.pid();
        let binary = BinaryInfo::load(pid, &target.maps, &target.runtime_binary, &format!("/proc/{pid}/root{}", target.runtime_binary))
            .or_else(|_| BinaryInfo::load(pid, &target.maps, &target.runtime_binary, &format!("/proc/{pid}/exe")))
            .expect("runtime binary");
        let regions: Vec<(u64, u64)> =
            [binary.section(".PyRuntime"), binary.bss(), binary.section(".data")].into_iter().flatten().map(|s| (s.addr, s.size)).collect();
        let mem = ProcessMemory::new(pid);
        let candidates = scan::weak_candidates(&mem, &target.maps, &regions, &target.layout);
        let make = |head: u64| pyflame_core::python::PythonTarget { interp_head_ptr: head, ..target.clone() };
        let (found, types) = scan::first_confirmed(&mem, &candidates, &make).unwrap_or_else(|| panic!("{}: scan found nothing", py.label));
        assert_eq!(found.interp_head_ptr, target.interp_head_ptr, "{}: {} weak candidates", py.label, candidates.len());
        assert_eq!(Some(types.code_type), target.code_type, "{}", py.label);
        eprintln!("{}: scan ok, {} weak candidates, head {:#x} via {}", py.label, candidates.len(), found.interp_head_ptr, target.interp_source);
    }
}

/// Copies `from` to `to` with its ELF section headers removed (as `sstrip` does): no
/// `.PyRuntime`, `.bss` or `.data` to go by, only program headers and the process's maps.
fn copy_without_section_headers(from: &std::path::Path, to: &std::path::Path) {
    let mut elf = std::fs::read(from).unwrap();
    assert_eq!(&elf[..5], b"\x7fELF\x02", "64-bit ELF");
    elf[0x28..0x30].fill(0); // e_shoff
    elf[0x3c..0x40].fill(0); // e_shnum, e_shstrndx
    std::fs::write(to, &elf).unwrap();
    std::fs::set_permissions(to, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// The hardest stripped case: a binary without section headers. The interpreter is found by
/// scanning the binary's writable mappings, the version by the `sys.version` buffer in them.
#[test]
fn binaries_without_section_headers_are_found_through_their_mappings() {
    let dir = support::repo_root().join(format!("__test__/.tmp/sstrip-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    for py in interpreters() {
        let real = std::fs::canonicalize(&py.path).unwrap();
        let (major, minor) = {
            let mut p = py.version.split('.').map(|x| x.parse::<u32>().unwrap());
            (p.next().unwrap(), p.next().unwrap())
        };
        let abi = if major == 3 && minor < 8 { "m" } else { "" };
        let lib = real.parent().unwrap().parent().unwrap().join(format!("lib/libpython{major}.{minor}{abi}.so.1.0"));
        let mut command = std::process::Command::new(&real);
        if lib.exists() {
            // A shared build: strip the library and load that copy.
            let copy = dir.join("lib").join(lib.file_name().unwrap());
            copy_without_section_headers(&lib, &copy);
            command.env("LD_LIBRARY_PATH", dir.join("lib"));
        } else {
            let copy = dir.join(format!("sstripped-{}", py.label));
            copy_without_section_headers(&real, &copy);
            command = std::process::Command::new(&copy);
        }
        command.arg(support::known_program());
        let program = support::spawn_ready(command);
        for force_scan in [false, true] {
            let options = DiscoverOptions { force_scan, ..Default::default() };
            let target = discover_with_retry(program.pid(), &options);
            assert_eq!(target.layout.version.to_string(), py.version, "{} force_scan={force_scan}", py.label);
            if force_scan {
                assert_eq!(target.interp_source, "scan of .bss/.data", "{}", py.label);
                assert_eq!(target.version_source, "scan of .bss", "{}", py.label);
            }
            let label = format!("{} without section headers (force_scan={force_scan})", py.label);
            let check = check_known_program(target.clone(), &label, 30);
            assert!(check.spin_holds_gil * 2 >= check.spin_seen, "{label}: GIL {} of {}", check.spin_holds_gil, check.spin_seen);
            write_matrix_row(&MatrixRow {
                id: &format!("{}-no-section-headers-{}", py.label, if force_scan { "force-scan" } else { "default" }),
                version: &py.version,
                build: &build_kind(&py),
                shape: if force_scan { "no section headers (sstrip), force_scan" } else { "no section headers (sstrip)" },
                verified: "live",
                discovery: target.interp_source,
                version_source: target.version_source,
                gil: &format!("spinning thread held it in {}/{} samples", check.spin_holds_gil, check.spin_seen),
                threads: check.max_threads,
                test: "cargo test -p pyflame-core --test live_discovery",
            });
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A wrong `--python-version` (another minor's layout) must be refused with a clear error,
/// never turned into invented stacks: the layout is validated against the live memory.
#[test]
fn a_wrong_version_override_is_refused() {
    for py in interpreters().into_iter().filter(|p| !p.version.starts_with("2.")) {
        let program = spawn_known(&py.path);
        let mut parts = py.version.split('.').map(|p| p.parse::<u8>().unwrap());
        let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
        // A neighbour minor with a different layout.
        let wrong = if minor >= 12 { minor - 2 } else { minor + 2 };
        std::thread::sleep(std::time::Duration::from_millis(100));
        for force_scan in [false, true] {
            let options = DiscoverOptions { force_scan, version_override: Some(PythonVersion::new(major, wrong, 0)) };
            match PythonTarget::discover(program.pid(), &options) {
                Err(e) => {
                    assert!(e.message.contains("--python-version"), "{}: {}", py.label, e.message);
                    assert!(e.message.contains(&format!("memory says Python {}", py.version)), "{}: {}", py.label, e.message);
                }
                Ok(target) => {
                    // Accepted only if every stack still decodes into the known program.
                    let label = format!("{} with --python-version {major}.{wrong} (force_scan={force_scan})", py.label);
                    check_known_program(target, &label, 10);
                    eprintln!("{label}: accepted, and the stacks still decode");
                }
            }
        }
    }
}

/// The newest interpreters (scripts/pythons/fetch.sh): 3.14 and 3.15 in Debian's release,
/// debug and non-PIE shapes, run chrooted in another mount namespace, and free-threaded 3.13t;
/// with symbols, by scan (as if stripped) and with a version override.
#[test]
fn newest_interpreters_with_symbols_by_scan_and_with_an_override() {
    use pyflame_core::process::memory::ProcessMemory;
    use pyflame_core::python::free_threaded::Threading;
    for (py, build, free_threaded) in support::newest_interpreters() {
        let program = spawn_known(&py.path);
        let mut parts = py.version.split('.').map(|p| p.parse::<u8>().unwrap());
        let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
        let variants = [
            ("symbols", "plain process", DiscoverOptions::default()),
            ("force-scan", "force_scan (as if stripped)", DiscoverOptions { force_scan: true, ..Default::default() }),
            (
                "force-scan-override",
                "force_scan + --python-version X.Y",
                DiscoverOptions { force_scan: true, version_override: Some(PythonVersion::new(major, minor, 0)) },
            ),
        ];
        for (name, shape, options) in variants {
            let label = format!("{} {name}", py.label);
            let target = discover_with_retry(program.pid(), &options);
            assert_eq!(target.layout.version.to_string(), py.version, "{label}");
            assert_eq!(target.layout.offsets.free_threaded, free_threaded, "{label}");
            assert_eq!(target.layout.notice(), None, "{label}: a known minor needs no warning");
            let threading = Threading::of(&target, &ProcessMemory::new(program.pid()));
            assert_eq!((threading.free_threaded, threading.gil_disabled), (free_threaded, free_threaded), "{label}");
            let version_source = target.version_source;
            let discovery = target.interp_source;
            let check = check_known_program(target, &label, 40);
            let gil = if free_threaded {
                assert_eq!(check.spin_holds_gil + check.nap_holds_gil, 0, "{label}: no thread holds a GIL that is off");
                "no GIL (free-threaded, off): no holder".to_string()
            } else {
                assert!(check.spin_holds_gil * 2 >= check.spin_seen, "{label}: spinning thread held the GIL in {} of {} samples", check.spin_holds_gil, check.spin_seen);
                format!("spinning thread held it in {}/{} samples", check.spin_holds_gil, check.spin_seen)
            };
            write_matrix_row(&MatrixRow {
                id: &format!("{}-{name}", py.label),
                version: &if free_threaded { format!("{}t", py.version) } else { py.version.clone() },
                build,
                shape,
                verified: "live",
                discovery,
                version_source,
                gil: &gil,
                threads: check.max_threads,
                test: "cargo test -p pyflame-core --test live_discovery newest",
            });
        }
    }
}
