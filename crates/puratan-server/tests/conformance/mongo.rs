//! Conformance of the mongo adapter.
