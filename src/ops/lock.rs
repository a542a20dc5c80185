//! The run lock: one agentsync process at a time writes to a given target from a given
//! repository, so that two applies (or an apply and the watch daemon) never plan the same
//! creates and interleave their writes.
//!
//! The lock is a file under `.agentsync/`, one per target, holding its holder's pid. It is made
//! whole in one step (written beside it, then hard-linked into place, which fails when the file
//! exists), and removed on release. A process killed or crashed leaves its file behind: a lock
//! whose pid is no longer running is stale, and the next taker takes it over with a warning.
//! Liveness is read from `/proc` on Linux and with `kill -0` on other Unix systems; elsewhere a
//! lock is never taken for stale (the message says which file to remove).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::OpsError;
use crate::config::{Config, Endpoint};

/// The directory, beside `agentsync.yaml`, that holds agentsync's local files.
pub const DIR: &str = ".agentsync";

/// How long a command waits for the lock unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a waiting process tries again.
const POLL: Duration = Duration::from_millis(100);

/// The lock file of the configuration's target: its endpoint and tenancy, so that applies to
/// different targets from one repository do not wait for each other.
pub fn path_for(config: &Config) -> PathBuf {
    let endpoint = match &config.endpoint {
        Endpoint::Url(url) => url.as_str().to_string(),
        // Each target has its own embedded simulator, so its own lock.
        Endpoint::Embedded => format!(
            "embedded\n{}",
            super::connect::embedded_state(config).display()
        ),
    };
    let target = format!(
        "{endpoint}\n{}\n{}",
        config.tenant_id.as_deref().unwrap_or(""),
        config.tenant_unit_id.as_deref().unwrap_or("")
    );
    let digest = Sha256::digest(target.as_bytes());
    let short = digest.iter().take(6).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    config.root.join(DIR).join(format!("apply-{short}.lock"))
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock at `path`, waiting up to `timeout` for its holder to finish.
    pub async fn acquire(path: &Path, timeout: Duration) -> Result<RunLock, OpsError> {
        let io_error = |source| OpsError::Lock {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error)?;
        }
        let me = std::process::id();
        let started = Instant::now();
        let mut announced = false;
        loop {
            if try_create(path, me).map_err(io_error)? {
                return Ok(RunLock {
                    path: path.to_path_buf(),
                });
            }
            match read_pid(path) {
                Some(holder) if holder != me && !alive(holder) => {
                    take_over(path, holder).map_err(io_error)?;
                    tracing::warn!(
                        lock = %path.display(),
                        pid = holder,
                        "taking over the lock of process {holder}, which ended without releasing it; this run completes whatever it left half done"
                    );
                    continue;
                }
                // Gone between the attempt and the read: try again at once.
                None if !path.exists() => continue,
                holder => {
                    if started.elapsed() >= timeout {
                        return Err(OpsError::Locked {
                            path: path.to_path_buf(),
                            pid: holder,
                            waited: timeout,
                        });
                    }
                    if !announced {
                        tracing::warn!(
                            lock = %path.display(),
                            pid = holder,
                            "another agentsync process is applying to this target; waiting up to {}s",
                            timeout.as_secs_f64()
                        );
                        announced = true;
                    }
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Only our own lock: a file holding another pid was taken over from us (we were
        // thought dead), and is no longer ours to remove.
        if read_pid(&self.path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Makes the lock file holding `pid`, whole, unless one exists; whether it was made.
fn try_create(path: &Path, pid: u32) -> std::io::Result<bool> {
    let tmp = path.with_extension(format!("{pid}.tmp"));
    std::fs::write(&tmp, format!("{pid}\n"))?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

/// Removes a stale lock held by `stale`, and only that one: it is moved aside first (one mover
/// wins), and put back if it turns out to be a fresh lock another taker made meanwhile.
fn take_over(path: &Path, stale: u32) -> std::io::Result<()> {
    let aside = path.with_extension(format!("stale-{}", std::process::id()));
    match std::fs::rename(path, &aside) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    }
    if read_pid(&aside) != Some(stale) {
        // Not the stale lock any more: restore it, unless yet another lock is in place.
        let _ = std::fs::hard_link(&aside, path);
    }
    std::fs::remove_file(&aside)
}

/// The pid recorded in a lock file, if it can be read.
fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether a process with this pid is running.
#[cfg(target_os = "linux")]
fn alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(all(unix, not(target_os = "linux")))]
fn alive(pid: u32) -> bool {
    // `kill -0` checks without signalling; if it cannot run, the lock is not taken for stale.
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map_or(true, |status| status.success())
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    true
}

/// Reads a duration such as `30s`, `500ms`, `2m` or a bare number of seconds.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, ""), |at| text.split_at(at));
    let invalid = || format!("'{text}' is not a duration like 30s, 500ms or 2m");
    let n: u64 = number.parse().map_err(|_| invalid())?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" => Ok(Duration::from_secs(n.saturating_mul(60))),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_taker_waits_then_fails_naming_the_holder() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(DIR).join("apply.lock");
        let held = RunLock::acquire(&path, Duration::ZERO)
            .await
            .expect("the first taker gets it");
        let err = RunLock::acquire(&path, Duration::from_millis(150))
            .await
            .expect_err("it is held");
        match err {
            OpsError::Locked { pid, .. } => assert_eq!(pid, Some(std::process::id())),
            other => panic!("unexpected error: {other}"),
        }
        drop(held);
        RunLock::acquire(&path, Duration::ZERO)
            .await
            .expect("released on drop");
    }

    #[tokio::test]
    async fn a_lock_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("apply.lock");
        std::fs::write(&path, "999999999\n").expect("write a stale lock");
        let lock = RunLock::acquire(&path, Duration::ZERO)
            .await
            .expect("taken over");
        let text = std::fs::read_to_string(lock.path()).expect("read the lock");
        assert_eq!(text.trim(), std::process::id().to_string());
    }

    #[test]
    fn timeouts_read_seconds_milliseconds_and_minutes() {
        assert_eq!(parse_timeout("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_timeout("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_timeout("soon").is_err());
    }
}
