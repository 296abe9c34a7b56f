//! The file-processing pipeline: preflight, thumbnails and page previews
//! for every stored file, run by workers that consume jobs from the
//! direct exchange.
//!
//! ```text
//!  intake (file ready) ──job──► direct "files.process" ──► worker (serve or `puratan worker`)
//!                                                              │ sandbox: child process, ulimit -v/-t
//!                                                              ▼
//!                    file store: derivatives/<sha256>  ◄── report.json, thumbnail, page-N
//!                    FileRepo: record.processing (state, preflight summary, derivatives)
//!                    topic: file.processed / file.processing_failed
//! ```
//!
//! * [`job`] — the versioned job message and the queue it travels on.
//! * [`steps`] — the work itself, a pure function of bytes and a spec.
//! * [`sandbox`] — where the steps run (child process with limits, or a
//!   thread), see `processing.isolation`.
//! * [`worker`] — the consumer loop, storing, recording, events.
//! * [`config`] — the `[processing]` section.

pub mod config;
pub mod job;
pub mod order_hook;
pub mod sandbox;
pub mod steps;
pub mod worker;

pub use config::{Isolation, ProcessingConfig};
pub use job::{FileJob, OrderedSize};
