//! Threads (tasks) of a process and their scheduler state.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// Thread ids of a process, from `/proc/PID/task`.
pub fn list_tasks(pid: i32) -> std::io::Result<Vec<i32>> {
    let mut tids: Vec<i32> = std::fs::read_dir(format!("/proc/{pid}/task"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    tids.sort_unstable();
    Ok(tids)
}

/// The state letter from a `/proc/.../stat` line: the field after the last `)`, since the
/// command name in parentheses may itself contain `)`.
pub fn parse_stat_state(stat: &[u8]) -> Option<u8> {
    let close = memchr::memrchr(b')', stat)?;
    stat.get(close + 2).copied()
}

/// The name (`comm`) from a stat line.
pub fn parse_stat_comm(stat: &[u8]) -> Option<String> {
    let open = memchr::memchr(b'(', stat)?;
    let close = memchr::memrchr(b')', stat)?;
    (close > open).then(|| String::from_utf8_lossy(&stat[open + 1..close]).into_owned())
}

/// The process's thread count (`num_threads`, the same in every thread's stat line).
pub fn parse_stat_num_threads(stat: &[u8]) -> Option<usize> {
    let close = memchr::memrchr(b')', stat)?;
    // Fields from the state (3rd) on: num_threads is the 20th. Split as bytes: this runs per
    // thread and sample in blocking mode.
    let field = stat.get(close + 2..)?.split(|&b| b == b' ').nth(17)?;
    std::str::from_utf8(field).ok()?.trim_end().parse().ok()
}

/// Parent PID and process state from a stat line.
pub fn parse_stat_ppid(stat: &[u8]) -> Option<i32> {
    let close = memchr::memrchr(b')', stat)?;
    let rest = std::str::from_utf8(stat.get(close + 2..)?).ok()?;
    rest.split(' ').nth(1)?.parse().ok()
}

/// An open `/proc/PID/task/TID/stat`, re-read with `pread` each sample (no open/close per read).
pub struct TaskStat {
    file: File,
    buf: Vec<u8>,
}

impl TaskStat {
    pub fn open(pid: i32, tid: i32) -> std::io::Result<TaskStat> {
        Ok(TaskStat { file: File::open(format!("/proc/{pid}/task/{tid}/stat"))?, buf: vec![0; 512] })
    }

    /// The current state letter (`R` running, `S` sleeping, `D` disk wait, `t` traced ...).
    pub fn state(&mut self) -> Option<u8> {
        let n = self.file.read_at(&mut self.buf, 0).ok()?;
        parse_stat_state(&self.buf[..n])
    }

    /// The state letter and the process's thread count, from one read.
    pub fn state_and_threads(&mut self) -> Option<(u8, Option<usize>)> {
        let n = self.file.read_at(&mut self.buf, 0).ok()?;
        let stat = &self.buf[..n];
        Some((parse_stat_state(stat)?, parse_stat_num_threads(stat)))
    }

    pub fn comm(&mut self) -> Option<String> {
        let n = self.file.read_at(&mut self.buf, 0).ok()?;
        parse_stat_comm(&self.buf[..n])
    }
}

/// `NSpid:` of a task: its ids from the outermost to the innermost PID namespace.
pub fn namespace_tids(pid: i32, tid: i32) -> Option<Vec<i32>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    Some(line["NSpid:".len()..].split_whitespace().filter_map(|v| v.parse().ok()).collect())
}

/// Children of a process (all threads' children), from `/proc/PID/task/*/children`.
pub fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if let Ok(tids) = list_tasks(pid) {
        for tid in tids {
            if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/children")) {
                out.extend(text.split_whitespace().filter_map(|v| v.parse::<i32>().ok()));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The whole-process state letter (`Z` for a zombie).
pub fn process_state(pid: i32) -> Option<u8> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_state(&stat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_read_after_the_last_paren() {
        let stat = b"1234 (evil) S (name)) R 1 1234 1234 0 -1";
        assert_eq!(parse_stat_state(stat), Some(b'R'));
        assert_eq!(parse_stat_comm(stat).as_deref(), Some("evil) S (name)"));
        assert_eq!(parse_stat_ppid(stat), Some(1));
        let full = b"16664 (python3) t 1 16664 16664 0 -1 4194304 344028 0 5 0 2134 67 0 0 20 0 3 0 3822974 20185088";
        assert_eq!(parse_stat_num_threads(full), Some(3));
    }

    #[test]
    fn own_threads_are_listed_and_running() {
        let me = std::process::id() as i32;
        let tids = list_tasks(me).unwrap();
        assert!(tids.contains(&me));
        let mut stat = TaskStat::open(me, me).unwrap();
        assert!(stat.state().is_some_and(|s| s.is_ascii_alphabetic()));
        let (_, threads) = stat.state_and_threads().unwrap();
        assert_eq!(threads, Some(list_tasks(me).unwrap().len()), "num_threads is the task count");
        assert!(namespace_tids(me, me).unwrap().contains(&me));
    }
}
