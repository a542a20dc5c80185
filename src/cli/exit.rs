//! The process exit statuses: the one place where the CI contract's numbers live.

/// How a command ended, as CI scripts see it.
///
/// `Changes` only appears when the user asked for it (`plan --detailed-exitcode`), so a plain
/// run never confuses "there is something to do" with "something went wrong".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command did what it was asked; with `--detailed-exitcode`, also "no changes".
    Success,
    /// Invalid input, a refused operation, a platform error or a partial failure.
    Failure,
    /// `plan --detailed-exitcode` found changes to make.
    Changes,
}

impl ExitStatus {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Changes => 2,
        }
    }
}
