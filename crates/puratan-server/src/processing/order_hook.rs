//! Where file processing meets the order workflow.
//!
//! * [`files_passed_preflight`] decides the workflow guard of the same name
//!   from the stored records of the files attached to an order's lines.
//! * [`attachable`] is the checkout's check that a file id may be attached
//!   to a line at all.

use puratan_core::domain::{Order, UserId};
use puratan_core::ports::{FileRecord, FileStatus, ProcessingState};

use crate::state::App;

/// Most files the guard looks at for one order (lines × files per line are
/// bounded by the cart; this bounds the reads whatever the stored data).
const MAX_FILES: usize = 500;

/// The `files_passed_preflight` guard: every line has artwork, and every
/// attached file belongs to the order's customer, passed the virus scan,
/// finished processing, and its latest preflight found no errors.
/// A file that cannot be read counts as not passed (the guard fails
/// closed); storage errors are returned.
pub async fn files_passed_preflight(app: &App, order: &Order) -> puratan_core::Result<bool> {
    if order.lines.is_empty() || order.lines.iter().any(|l| l.file_ids.is_empty()) {
        return Ok(false);
    }
    for id in order.lines.iter().flat_map(|l| &l.file_ids).take(MAX_FILES) {
        let file = match app.file_records.get(id).await {
            Ok(f) => f,
            Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        if !passed(&file, order.customer_id) {
            return Ok(false);
        }
    }
    Ok(order.lines.iter().map(|l| l.file_ids.len()).sum::<usize>() <= MAX_FILES)
}

fn passed(file: &FileRecord, customer: UserId) -> bool {
    let processing_done = file
        .processing
        .as_ref()
        .is_some_and(|p| p.state == ProcessingState::Done);
    let preflight_ok = file
        .processing
        .as_ref()
        .and_then(|p| p.preflight.as_ref())
        .is_some_and(|s| s.passed());
    file.owner == customer && file.status == FileStatus::Ready && processing_done && preflight_ok
}

/// Whether `customer` may attach file `id` to an order line: it exists,
/// is theirs, and was not refused or quarantined. Everything else looks
/// the same to the caller (no probing of other customers' ids).
pub async fn attachable(app: &App, customer: UserId, id: &str) -> puratan_core::Result<bool> {
    if id.is_empty() || id.len() > 64 {
        return Ok(false);
    }
    match app.file_records.get(id).await {
        Ok(f) => {
            Ok(f.owner == customer
                && matches!(f.status, FileStatus::Ready | FileStatus::PendingScan))
        }
        Err(e) if e.kind() == puratan_core::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
