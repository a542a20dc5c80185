//! The run lock: one agentsync process at a time writes to a given platform account from a
//! given repository, so that two applies (or an apply and the watch daemon) never plan the
//! same creates and interleave their writes.
//!
//! The lock is the operating system's file lock (`flock` on Unix, `LockFileEx` on Windows) on
//! a file in the state directory, one file per platform account. The kernel releases it when
//! its holder ends, however it ends, so nothing is ever taken for stale and no pid is trusted:
//! the holder writes its pid into the file only so that a waiter's message can name it. The
//! file stays in place when released: were it removed, a waiter could lock the removed file
//! while a newcomer locks a new one, and both would write.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Read as _, Seek as _, SeekFrom, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::OpsError;
use crate::config::{Config, Endpoint};

/// How long a command waits for the lock unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a waiting process tries again.
const POLL: Duration = Duration::from_millis(100);

/// The lock file of the configuration's platform account, in its state directory: targets
/// writing to different accounts from one repository do not wait for each other, and two
/// spellings of one account share a lock.
pub fn path_for(config: &Config) -> PathBuf {
    let digest = Sha256::digest(account(config).as_bytes());
    let short = digest.iter().take(6).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    config.state_dir.join(format!("apply-{short}.lock"))
}

/// The platform account a target writes to: its normalized endpoint and its tenancy (the
/// token is not part of it: one account may be reached with several tokens).
fn account(config: &Config) -> String {
    let endpoint = match &config.endpoint {
        Endpoint::Url(url) => normalized_endpoint(url),
        // Each target has its own embedded simulator, so its own lock.
        Endpoint::Embedded => format!(
            "embedded\n{}",
            super::connect::embedded_state(config).display()
        ),
    };
    format!(
        "{endpoint}\n{}\n{}",
        config.tenant_id.as_deref().unwrap_or(""),
        config.tenant_unit_id.as_deref().unwrap_or("")
    )
}

/// An endpoint as the server it reaches: the scheme, the host in lowercase (every loopback
/// address and `localhost` as one host), the port even when it is the scheme's default, and
/// the path without empty segments; user, query and fragment left out.
pub fn normalized_endpoint(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let host = match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() || ip.to_canonical().is_loopback() => "loopback".to_owned(),
        Ok(_) => host.to_owned(),
        Err(_) => {
            let name = bare.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") {
                "loopback".to_owned()
            } else {
                name
            }
        }
    };
    let port = url
        .port_or_known_default()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    let path: Vec<&str> = url
        .path_segments()
        .map(|segments| segments.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    format!("{}://{host}{port}/{}", url.scheme(), path.join("/"))
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: File,
}

impl RunLock {
    /// Takes the lock at `path`, waiting up to `timeout` for its holder to finish.
    pub async fn acquire(path: &Path, timeout: Duration) -> Result<RunLock, OpsError> {
        let file = open(path)?;
        let started = Instant::now();
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => return RunLock::held(path, file),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(source)) => {
                    return Err(OpsError::Lock {
                        path: path.to_path_buf(),
                        source,
                    });
                }
            }
            let holder = read_pid(path);
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
            tokio::time::sleep(POLL).await;
        }
    }

    /// The lock just taken: says so if its last holder ended without releasing it, then
    /// records our pid in it.
    fn held(path: &Path, mut file: File) -> Result<RunLock, OpsError> {
        let io_error = |source| OpsError::Lock {
            path: path.to_path_buf(),
            source,
        };
        let mut previous = String::new();
        // Unreadable content is no obstacle: the file's content is never what locks.
        let _ = file.read_to_string(&mut previous);
        if let Ok(pid) = previous.trim().parse::<u32>() {
            tracing::warn!(
                lock = %path.display(),
                pid,
                "the last run on this target (process {pid}) ended without releasing its lock; this run completes whatever it left half done"
            );
        }
        file.set_len(0).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        writeln!(file, "{}", std::process::id()).map_err(io_error)?;
        Ok(RunLock {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Emptied before the file is closed (which releases the lock), so that a pid left in
        // the file means its process ended holding the lock.
        let _ = self.file.set_len(0);
    }
}

/// Opens (or makes) the lock file, and its directory.
fn open(path: &Path) -> Result<File, OpsError> {
    let error = |source: std::io::Error| match source.kind() {
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => OpsError::StateNotWritable {
            dir: path.parent().unwrap_or(path).to_path_buf(),
            source,
        },
        _ => OpsError::Lock {
            path: path.to_path_buf(),
            source,
        },
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(error)
}

/// The pid its holder recorded in a lock file, if it can be read.
fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_in(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join(".agentsync").join("apply.lock")
    }

    #[tokio::test]
    async fn a_second_taker_waits_then_fails_naming_the_holder() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = lock_in(&dir);
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
    async fn a_lock_file_holding_our_own_pid_an_empty_one_or_a_garbled_one_does_not_block() {
        let own = format!("{}\n", std::process::id());
        for content in [own.as_str(), "", "\u{0}\u{7f}not a pid", "999999999\n"] {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let path = lock_in(&dir);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("the directory");
            std::fs::write(&path, content).expect("leave a lock file");
            let lock = RunLock::acquire(&path, Duration::ZERO)
                .await
                .unwrap_or_else(|err| panic!("{content:?} blocked: {err}"));
            let text = std::fs::read_to_string(lock.path()).expect("read the lock");
            assert_eq!(text, format!("{}\n", std::process::id()), "{content:?}");
            drop(lock);
            let text = std::fs::read_to_string(&path).expect("read the lock");
            assert_eq!(text, "", "the pid is cleared on release");
        }
    }

    #[tokio::test]
    async fn a_lock_the_operating_system_holds_for_another_handle_blocks_naming_its_pid() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = lock_in(&dir);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("the directory");
        std::fs::write(&path, "4242\n").expect("the holder's pid");
        // Another open file description: flock conflicts with it as with another process.
        let other = File::open(&path).expect("open the lock file");
        other.lock().expect("the OS lock");
        let err = RunLock::acquire(&path, Duration::from_millis(150))
            .await
            .expect_err("it is held");
        match &err {
            OpsError::Locked { pid, .. } => assert_eq!(*pid, Some(4242)),
            other => panic!("unexpected error: {other}"),
        }
        assert!(err.to_string().contains("(pid 4242)"), "{err}");
        drop(other);
        RunLock::acquire(&path, Duration::ZERO)
            .await
            .expect("the kernel released it with the handle");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_lock_in_a_directory_that_is_not_writable_says_so_and_names_the_setting() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let readonly = dir.path().join("checkout");
        std::fs::create_dir_all(&readonly).expect("the directory");
        std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o555))
            .expect("read-only");
        // Root writes anyway: then there is nothing to check.
        if std::fs::write(readonly.join("probe"), "").is_ok() {
            eprintln!("the directory is writable to this user; skipping");
            return;
        }
        let path = readonly.join(".agentsync").join("apply.lock");
        let err = RunLock::acquire(&path, Duration::from_secs(5))
            .await
            .expect_err("not writable");
        let message = err.to_string();
        assert!(
            matches!(err, OpsError::StateNotWritable { .. }),
            "{message}"
        );
        assert!(message.contains("is not writable"), "{message}");
        assert!(message.contains("state_dir"), "{message}");
        assert!(!message.contains("another"), "{message}");
    }

    /// The lock file of a configuration with this endpoint and these extra settings.
    fn lock_of(endpoint: &str, extra: &str) -> PathBuf {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let text = format!("provider: workfx\nendpoint: \"{endpoint}\"\n{extra}");
        std::fs::write(dir.path().join("agentsync.yaml"), text).expect("write");
        let config = Config::load(&crate::config::LoadOptions {
            path: None,
            cwd: dir.path(),
            overrides: &crate::config::Overrides::default(),
            env: &|_| None,
            target: None,
        })
        .expect("the configuration loads");
        let path = path_for(&config);
        path.file_name().expect("a file name").into()
    }

    #[test]
    fn one_platform_account_has_one_lock_however_its_endpoint_is_spelled() {
        let loopback = lock_of("http://127.0.0.1:8080", "");
        for spelling in [
            "http://localhost:8080",
            "http://LocalHost:8080/",
            "http://[::1]:8080//",
            "HTTP://127.0.0.1:8080/?x=1#top",
        ] {
            assert_eq!(lock_of(spelling, ""), loopback, "{spelling}");
        }
        assert_eq!(
            lock_of("https://API.workfx.ai/v1/", ""),
            lock_of("https://api.workfx.ai:443/v1", "")
        );
        assert_eq!(
            lock_of("http://api.workfx.ai", ""),
            lock_of("http://api.workfx.ai:80/", "")
        );
    }

    #[test]
    fn different_accounts_have_different_locks() {
        let base = lock_of("https://api.workfx.ai", "tenant_id: t1\n");
        for (endpoint, extra) in [
            ("https://api.workfx.ai", "tenant_id: t2\n"),
            (
                "https://api.workfx.ai",
                "tenant_id: t1\ntenant_unit_id: u1\n",
            ),
            ("https://api.workfx.ai:8443", "tenant_id: t1\n"),
            ("http://api.workfx.ai", "tenant_id: t1\n"),
            ("https://api.workfx.ai/v2", "tenant_id: t1\n"),
            ("https://eu.workfx.ai", "tenant_id: t1\n"),
        ] {
            assert_ne!(lock_of(endpoint, extra), base, "{endpoint} {extra}");
        }
    }

    #[test]
    fn the_lock_lives_in_the_state_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("agentsync.yaml"),
            "provider: workfx\nendpoint: https://api.workfx.ai\nstate_dir: /var/lib/agentsync\n",
        )
        .expect("write");
        let config = Config::load(&crate::config::LoadOptions {
            path: None,
            cwd: dir.path(),
            overrides: &crate::config::Overrides::default(),
            env: &|_| None,
            target: None,
        })
        .expect("the configuration loads");
        assert!(path_for(&config).starts_with("/var/lib/agentsync"));
    }
}
