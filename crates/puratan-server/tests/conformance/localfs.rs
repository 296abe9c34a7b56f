//! Conformance of the localfs adapter.
