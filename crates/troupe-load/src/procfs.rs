//! What a process spent, from `/proc` (the server's, with `--server-pid`) and from
//! `getrusage` (the tool's own): CPU time of all its threads, and resident memory. A server
//! may be several processes (Troupe relaying through an external TURN server): their figures
//! add up.

use std::time::Duration;

/// CPU time (user + system) of every thread of `pid` so far; `None` if it is gone.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    let ticks = field(14)? + field(15)?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / hz))
}

/// Resident memory of `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()
}

/// Whether a process exists (to check `--server-pid` before starting).
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}/stat")).exists()
}

/// CPU time of all of `pids` so far; `None` if there are none or one is gone.
pub fn cpu_time_of(pids: &[u32]) -> Option<Duration> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| cpu_time(pid)).sum()
}

/// Resident memory of all of `pids`, in KiB; `None` if there are none or one is gone.
pub fn rss_kib_of(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|&pid| rss_kib(pid)).sum()
}

/// An error naming the first of `pids` that does not exist.
pub fn check_exist(pids: &[u32]) -> anyhow::Result<()> {
    match pids.iter().find(|&&pid| !exists(pid)) {
        Some(pid) => anyhow::bail!("--server-pid {pid}: no such process"),
        None => Ok(()),
    }
}

/// The tool's own CPU time (all its threads) so far.
pub fn own_cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(exists(pid));
        assert!(cpu_time(pid).is_some());
        assert!(rss_kib(pid).is_some_and(|kib| kib > 0));
        assert!(!exists(u32::MAX));
        let twice = cpu_time_of(&[pid, pid]).unwrap();
        assert!(twice >= cpu_time(pid).unwrap(), "two processes' CPU is added");
        assert_eq!(cpu_time_of(&[]), None);
        assert_eq!(rss_kib_of(&[pid, u32::MAX]), None, "one is gone");
        assert!(check_exist(&[pid]).is_ok());
        assert!(check_exist(&[pid, u32::MAX]).unwrap_err().to_string().contains("4294967295"));
    }
}
