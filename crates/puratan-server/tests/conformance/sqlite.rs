//! Conformance of the sqlite adapter.
