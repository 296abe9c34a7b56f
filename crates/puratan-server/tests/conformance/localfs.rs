//! Conformance of the local-disk file store.

use std::sync::Arc;

use puratan_core::ports::FileStore;
use puratan_server::adapters::localfs::{LocalFileStore, LocalFsConfig};

fn store() -> Arc<dyn FileStore> {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    std::mem::forget(dir);
    Arc::new(LocalFileStore::open(&LocalFsConfig { root }).expect("open"))
}

puratan_testkit::file_store_suite!(Some(store()));
