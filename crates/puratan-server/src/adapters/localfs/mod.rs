//! localfs adapter (in progress).
