//! Conformance of the rabbitmq adapter.
