//! Conformance of the redis adapter.
