//! Errors with stable codes. The binding crate passes `code()` through as `error.code` in JS,
//! so these strings are API: never rename one.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No process with that PID (or it exited before we attached).
    NoProcess,
    /// The kernel refused to let us read or trace the process.
    Permission,
    /// The process runs no CPython we can find.
    NotPython,
    /// A CPython we found but cannot read (version or build not supported).
    UnsupportedPython,
    /// A bad option value.
    InvalidArgument,
    /// The target's memory could not be read consistently.
    ReadFailed,
    /// Anything else: a bug in pyflame-ts.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoProcess => "ERR_NO_PROCESS",
            ErrorCode::Permission => "ERR_PERMISSION",
            ErrorCode::NotPython => "ERR_NOT_PYTHON",
            ErrorCode::UnsupportedPython => "ERR_UNSUPPORTED_PYTHON",
            ErrorCode::InvalidArgument => "ERR_INVALID_ARGUMENT",
            ErrorCode::ReadFailed => "ERR_READ_FAILED",
            ErrorCode::Internal => "ERR_INTERNAL",
        }
    }
}

/// An error for the user: a stable code and a one-line message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    pub fn no_process(pid: i32) -> Self {
        Error::new(
            ErrorCode::NoProcess,
            format!("no process with PID {pid}: check the PID (e.g. with `pgrep -f python`)"),
        )
    }

    pub fn permission(pid: i32, what: &str) -> Self {
        Error::new(
            ErrorCode::Permission,
            format!(
                "permission denied {what} process {pid}: run as root (sudo), grant CAP_SYS_PTRACE \
                 (setcap cap_sys_ptrace+ep on node, or docker run --cap-add SYS_PTRACE, or a Kubernetes \
                 securityContext adding SYS_PTRACE), or allow same-user tracing with \
                 `sysctl kernel.yama.ptrace_scope=0`"
            ),
        )
    }

    pub fn not_python(pid: i32, detail: &str) -> Self {
        Error::new(
            ErrorCode::NotPython,
            format!("process {pid} does not look like CPython ({detail}); point -p at the Python process itself (for a launcher, use its child or --subprocesses)"),
        )
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::UnsupportedPython, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, message)
    }

    pub fn read_failed(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::ReadFailed, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Maps an OS error from touching `/proc/PID/...` or the target's memory to a user error.
pub fn from_errno(pid: i32, errno: nix::errno::Errno, what: &str) -> Error {
    use nix::errno::Errno;
    match errno {
        Errno::ESRCH | Errno::ENOENT => Error::no_process(pid),
        Errno::EPERM | Errno::EACCES => Error::permission(pid, what),
        other => Error::read_failed(format!("{what} process {pid} failed: {other}")),
    }
}

pub fn from_io(pid: i32, err: &std::io::Error, what: &str) -> Error {
    match err.raw_os_error() {
        Some(code) => from_errno(pid, nix::errno::Errno::from_raw(code), what),
        None => Error::read_failed(format!("{what} process {pid} failed: {err}")),
    }
}

/// Runs work and turns a panic (a bug) into an `ERR_INTERNAL` error, for callers across an FFI
/// boundary (a panic must not abort Node). Unwinding runs the guards on the way (a paused target
/// is resumed by their `Drop`).
pub fn catching_panics<T>(what: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        let detail = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::internal(format!(
            "{what} stopped on a bug in pyflame-ts ({detail}); the target process was left running. Please report it with the Python version"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::{catching_panics, ErrorCode, Result};

    #[test]
    fn a_panic_in_core_work_becomes_an_internal_error() {
        let err = catching_panics("the recording", || -> Result<()> { panic!("index 9 out of range") }).unwrap_err();
        assert_eq!(err.code, ErrorCode::Internal);
        assert!(err.message.contains("index 9 out of range") && err.message.contains("left running"), "{}", err.message);
        assert_eq!(catching_panics("the dump", || Ok(7)).unwrap(), 7);
    }
}
