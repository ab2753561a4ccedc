//! Upload bytes kept on disk while the memory budget is full. One file per upload, named by a
//! counter, deleted once the upload is done or given up. Files left by a crash are not picked
//! up again: their keys are not recorded (the recording is marked failed instead).

use std::{
    io,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use bytes::Bytes;

pub(crate) struct Spool {
    dir: PathBuf,
    next: AtomicU64,
}

impl Spool {
    pub fn new(dir: PathBuf) -> Self {
        Spool { dir, next: AtomicU64::new(0) }
    }

    /// Writes synchronously: this runs only when memory is full, and it is what keeps the
    /// caller's bytes safe during an outage.
    pub fn write(&self, bytes: &[u8]) -> io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{}-{n}.upload", std::process::id()));
        std::fs::write(&path, bytes)?;
        Ok(path)
    }

    pub async fn read(path: &Path) -> io::Result<Bytes> {
        tokio::fs::read(path).await.map(Bytes::from)
    }

    pub async fn remove(path: &Path) {
        if let Err(e) = tokio::fs::remove_file(path).await {
            tracing::warn!(path = %path.display(), error = %e, "could not delete a spool file");
        }
    }
}
