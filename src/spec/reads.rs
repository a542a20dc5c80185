//! What a definition's check read besides its file (includes, environment variables), noted as
//! it reads: the checker writes it, the memo ([`super::memo`]) keeps it to tell later whether
//! the check would still say the same.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// SHA-256 of a file's text, or of an environment variable's value.
pub(super) type TextDigest = [u8; 32];

pub(super) fn digest(text: &str) -> TextDigest {
    Sha256::digest(text.as_bytes()).into()
}

/// What a check read besides its file: noted as it reads, so that what is remembered is what
/// the check saw, not what the files hold a moment later.
#[derive(Default)]
pub struct Reads(pub(super) RefCell<ReadsMade>);

#[derive(Default)]
pub(super) struct ReadsMade {
    /// Each included file as named (joined to its definition's directory), where it lay, and
    /// its bytes' digest.
    pub(super) includes: Vec<(PathBuf, PathBuf, TextDigest)>,
    /// Each environment variable looked up, and its value's digest (values may be secrets).
    pub(super) env: Vec<(String, Option<TextDigest>)>,
    /// An include could not be read: the check is not repeatable from digests.
    pub(super) unreadable: bool,
}

impl Reads {
    /// An included file named `path` was read where it lies, `resolved` (or failed to be).
    pub fn include(&self, path: &Path, read: Option<(&Path, &str)>) {
        let mut reads = self.0.borrow_mut();
        match read {
            Some((resolved, text)) => {
                let include = (path.to_path_buf(), resolved.to_path_buf(), digest(text));
                reads.includes.push(include);
            }
            None => reads.unreadable = true,
        }
    }

    pub(super) fn env(&self, name: &str, value: Option<&str>) {
        self.0
            .borrow_mut()
            .env
            .push((name.to_owned(), value.map(digest)));
    }
}
