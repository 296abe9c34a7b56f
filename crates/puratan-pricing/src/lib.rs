//! Puratan pricing engine (work in progress).
#![deny(clippy::float_arithmetic)]
