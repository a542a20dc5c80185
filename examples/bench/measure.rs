//! What the benchmark reads about its own process: CPU time and peak memory, from `/proc` on
//! Linux. Elsewhere the figures are `None` and the report says "n/a" rather than guessing.

use std::time::Duration;

/// CPU time the calling thread has spent running, with nanosecond precision
/// (`/proc/thread-self/schedstat`, first field).
pub fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// CPU time of the whole process (user + system, every thread, finished ones included), from
/// `/proc/self/stat`, in clock ticks of 10 ms (the Linux default `CLK_TCK` of 100).
pub fn process_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; fields are counted after its closing ')'.
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, i.e. 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
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
