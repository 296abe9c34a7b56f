//! # puratan-files
//!
//! Home of the artwork pipeline (tus uploads, format detection, virus
//! scanning, preflight, previews, colour conversion). It arrives with the
//! files issue; today it only fixes the crate's place in the workspace so
//! the dependency direction (`puratan-files → puratan-core`, never the
//! reverse) is set from the start.
