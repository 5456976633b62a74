//! The registers an unwind starts from, read from a thread in a ptrace stop with
//! `PTRACE_GETREGSET(NT_PRSTATUS)` (the one request both x86_64 and aarch64 have).

/// Program counter, stack pointer, frame pointer and (aarch64) link register.
#[derive(Debug, Clone, Copy)]
pub struct StartRegisters {
    pub pc: u64,
    pub sp: u64,
    pub fp: u64,
    #[allow(dead_code)]
    pub lr: u64,
}

/// Reads the registers of `tid`, which must be in a ptrace stop of ours.
pub fn read(tid: i32) -> Option<StartRegisters> {
    // SAFETY: user_regs_struct is plain data; zeroed is a valid value.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec { iov_base: (&mut regs as *mut libc::user_regs_struct).cast(), iov_len: std::mem::size_of::<libc::user_regs_struct>() };
    // SAFETY: the kernel writes at most iov_len bytes into `regs`.
    let rc = unsafe { libc::ptrace(libc::PTRACE_GETREGSET, tid, libc::NT_PRSTATUS as usize as *mut libc::c_void, &mut iov as *mut libc::iovec) };
    if rc != 0 {
        return None;
    }
    Some(from_user_regs(&regs))
}

#[cfg(target_arch = "x86_64")]
fn from_user_regs(r: &libc::user_regs_struct) -> StartRegisters {
    StartRegisters { pc: r.rip, sp: r.rsp, fp: r.rbp, lr: 0 }
}

#[cfg(target_arch = "aarch64")]
fn from_user_regs(r: &libc::user_regs_struct) -> StartRegisters {
    StartRegisters { pc: r.pc, sp: r.sp, fp: r.regs[29], lr: r.regs[30] }
}
