//! A platform's state in memory, and its hand-off to the state file after each change.

use std::{future::Future, pin::Pin};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use tokio::sync::RwLock;

use super::{SimError, persist::StateFile};

/// What a platform's state must offer to be kept by a [`Store`].
pub(crate) trait PlatformState:
    Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
}

impl<T: Clone + Default + Serialize + DeserializeOwned + Send + Sync + 'static> PlatformState
    for T
{
}

/// The state of one simulated platform.
///
/// Writes are serialized and, with a state file, saved before they become visible: a change
/// that could not be saved is not applied, so memory and file never disagree.
#[derive(Debug)]
pub(crate) struct Store<T> {
    state: RwLock<T>,
    file: Option<StateFile>,
}

impl<T: PlatformState> Store<T> {
    /// Loads the state file, if any (missing: empty state).
    pub(crate) fn open(file: Option<StateFile>) -> Result<Store<T>, SimError> {
        let state = match &file {
            Some(file) => file.load()?,
            None => T::default(),
        };
        Ok(Store {
            state: RwLock::new(state),
            file,
        })
    }

    pub(crate) async fn read<R>(&self, read: impl FnOnce(&T) -> R) -> R {
        read(&*self.state.read().await)
    }

    /// Applies `change`; an `Err` from it leaves the state as it was.
    ///
    /// `change` must return `Err` before it modifies anything. It runs on the live state: the
    /// write lock is held until the state is saved, so no reader sees a change before it is
    /// saved. Should the save fail, the state is read back from the file, which holds the state
    /// as it was (every state readers saw was saved first). Copying the state per write for
    /// that rare case made each write cost as much as the whole state.
    pub(crate) async fn write<R, E>(
        &self,
        change: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<SimError>,
    {
        let mut state = self.state.write().await;
        let answer = change(&mut state)?;
        let Some(file) = &self.file else {
            return Ok(answer);
        };
        let saved = match file.encode(&*state) {
            Ok(bytes) => {
                let file = file.clone();
                let file_path = file.path().to_path_buf();
                // The lock is held across the save on purpose: saves land in the order of the
                // changes.
                tokio::task::spawn_blocking(move || file.save(&bytes))
                    .await
                    .map_err(|join| SimError::StateWrite {
                        path: file_path,
                        source: std::io::Error::other(join.to_string()),
                    })
                    .and_then(|saved| saved)
            }
            Err(err) => Err(err),
        };
        if let Err(err) = saved {
            match file.load() {
                Ok(before) => *state = before,
                // Memory is now ahead of the file; the next successful save catches it up.
                Err(reload) => tracing::error!(
                    error = %reload,
                    "the state file could not be read back after a failed save"
                ),
            }
            return Err(err.into());
        }
        Ok(answer)
    }
}

/// The platform state as JSON, for `GET /_sim/state`, without knowing the platform's type.
pub(crate) trait Snapshot: Send + Sync {
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Value> + Send + '_>>;
}

impl<T: PlatformState> Snapshot for Store<T> {
    fn snapshot(&self) -> Pin<Box<dyn Future<Output = Value> + Send + '_>> {
        Box::pin(async move {
            self.read(|state| serde_json::to_value(state).unwrap_or(Value::Null))
                .await
        })
    }
}
