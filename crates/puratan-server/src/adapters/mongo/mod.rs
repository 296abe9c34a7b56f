//! mongo adapter (in progress).
