//! What the benchmark reads about its own process: CPU time (`getrusage`, and `/proc` per
//! thread) and peak memory (`/proc`), on Linux. Elsewhere the figures are `None` and the report
//! says "n/a" rather than guessing.

use std::time::Duration;

/// CPU time the calling thread has spent running, with nanosecond precision
/// (`/proc/thread-self/schedstat`, first field).
pub fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// CPU time of the whole process (user + system, every thread, finished ones included), from
/// `getrusage`, in microseconds.
pub fn process_cpu() -> Option<Duration> {
    // SAFETY: `getrusage` only writes the struct it is given, which is zeroed and ours.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if status != 0 {
        return None;
    }
    let micros = |time: libc::timeval| {
        u64::try_from(time.tv_sec).unwrap_or(0) * 1_000_000
            + u64::try_from(time.tv_usec).unwrap_or(0)
    };
    Some(Duration::from_micros(
        micros(usage.ru_utime) + micros(usage.ru_stime),
    ))
}

/// CPU time so far of this process's live threads whose name is `name`
/// (`/proc/self/task/*/comm` and `schedstat`).
pub fn threads_cpu(name: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        let nanos: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
        total += Duration::from_nanos(nanos);
    }
    Some(total)
}

/// The process's peak resident memory (`VmHWM` in `/proc/self/status`), in bytes.
pub fn peak_rss() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Starts the peak-memory count afresh from the current resident size (writing `5` to
/// `/proc/self/clear_refs`, Linux 4.0 and later), so a phase's peak excludes what came before.
/// Answers whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A duration as milliseconds with one decimal, or "n/a".
pub fn ms(duration: Option<Duration>) -> String {
    duration.map_or_else(
        || "n/a".to_owned(),
        |d| format!("{:.1}", d.as_secs_f64() * 1e3),
    )
}

/// Bytes as MiB with one decimal, or "n/a".
pub fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "n/a".to_owned(),
        |b| format!("{:.1}", b as f64 / (1024.0 * 1024.0)),
    )
}

/// With `BENCH_DEBUG` set, prints the resident and peak memory at a point of a run.
pub fn debug_rss(at: &str) {
    if std::env::var_os("BENCH_DEBUG").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let line = |f: &str| {
            status
                .lines()
                .find(|l| l.starts_with(f))
                .unwrap_or("")
                .to_owned()
        };
        eprintln!("{at}: {} {}", line("VmRSS:"), line("VmHWM:"));
    }
}
