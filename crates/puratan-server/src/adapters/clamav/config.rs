//! Configuration of the ClamAV (clamd) adapter.

use std::path::PathBuf;
use std::time::Duration;

use puratan_core::Error;
use serde::{Deserialize, Serialize};

/// Where clamd listens and how long to wait for it. No secrets: clamd has
/// no authentication, so `Debug` prints everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClamavConfig {
    /// `host:port` for clamd's `TCPSocket` (e.g. `127.0.0.1:3310`), or
    /// `unix:/path` (or an absolute path) for its `LocalSocket` (Debian:
    /// `/run/clamav/clamd.ctl`).
    pub address: String,
    /// Upper bound for opening a connection: an unreachable clamd fails
    /// fast (the file waits) instead of hanging an upload.
    pub connect_timeout_ms: u64,
    /// Upper bound for each write of a chunk (and for reading `PONG`): a
    /// clamd that stops reading cannot stall a scan for longer.
    pub io_timeout_ms: u64,
    /// Upper bound for a whole scan, connection to verdict. Keep it above
    /// clamd's own `MaxScanTime` (default 120 s) for large archives.
    pub scan_timeout_ms: u64,
    /// Files larger than this are refused without contacting clamd
    /// ([`ScanTooLarge`](puratan_files::FilesError::ScanTooLarge)). Set it
    /// to clamd's `StreamMaxLength` (clamd's default is 25M = 26214400).
    /// `0` sends everything and relies on clamd's own refusal.
    pub stream_max_length: u64,
    /// Bytes per `INSTREAM` chunk (1 B ..= 8 MiB).
    pub chunk_size: usize,
    /// Scans in flight at once from this process (clamd has `MaxThreads`
    /// workers and a bounded queue); more wait their turn here.
    pub max_concurrent: usize,
}

/// Where to connect, parsed from [`ClamavConfig::address`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Address {
    Tcp(String),
    Unix(PathBuf),
}

impl ClamavConfig {
    pub const DEFAULT_ADDRESS: &'static str = "127.0.0.1:3310";
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 2_000;
    pub const DEFAULT_IO_TIMEOUT_MS: u64 = 10_000;
    pub const DEFAULT_SCAN_TIMEOUT_MS: u64 = 150_000;
    /// clamd's default `StreamMaxLength` (25M).
    pub const DEFAULT_STREAM_MAX_LENGTH: u64 = 25 * 1024 * 1024;
    pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
    pub const MAX_CHUNK_SIZE: usize = 8 * 1024 * 1024;
    pub const DEFAULT_MAX_CONCURRENT: usize = 8;

    /// Defaults with another address (tests, the CLI).
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            ..Self::default()
        }
    }

    /// Checks every field; errors name the bad key.
    pub fn validate(&self) -> Result<(), Error> {
        self.parsed_address()?;
        for (key, v) in [
            ("scanner.clamav.connect_timeout_ms", self.connect_timeout_ms),
            ("scanner.clamav.io_timeout_ms", self.io_timeout_ms),
            ("scanner.clamav.scan_timeout_ms", self.scan_timeout_ms),
        ] {
            if v == 0 {
                return Err(Error::invalid(key, "must be at least 1"));
            }
        }
        if !(1..=Self::MAX_CHUNK_SIZE).contains(&self.chunk_size) {
            return Err(Error::invalid(
                "scanner.clamav.chunk_size",
                format!("must be between 1 and {}", Self::MAX_CHUNK_SIZE),
            ));
        }
        if self.max_concurrent == 0 {
            return Err(Error::invalid(
                "scanner.clamav.max_concurrent",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    pub(crate) fn parsed_address(&self) -> Result<Address, Error> {
        let a = self.address.trim();
        let bad = |why: &str| Error::invalid("scanner.clamav.address", why.to_owned());
        if let Some(path) = a.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(bad("unix: needs a socket path"));
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if a.starts_with('/') {
            return Ok(Address::Unix(PathBuf::from(a)));
        }
        match a.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
                Ok(Address::Tcp(a.to_owned()))
            }
            _ => Err(bad(
                "expected host:port (TCP), unix:/path or an absolute socket path",
            )),
        }
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms.max(1))
    }

    pub(crate) fn io_timeout(&self) -> Duration {
        Duration::from_millis(self.io_timeout_ms.max(1))
    }

    pub(crate) fn scan_timeout(&self) -> Duration {
        Duration::from_millis(self.scan_timeout_ms.max(1))
    }
}

impl Default for ClamavConfig {
    fn default() -> Self {
        Self {
            address: Self::DEFAULT_ADDRESS.to_owned(),
            connect_timeout_ms: Self::DEFAULT_CONNECT_TIMEOUT_MS,
            io_timeout_ms: Self::DEFAULT_IO_TIMEOUT_MS,
            scan_timeout_ms: Self::DEFAULT_SCAN_TIMEOUT_MS,
            stream_max_length: Self::DEFAULT_STREAM_MAX_LENGTH,
            chunk_size: Self::DEFAULT_CHUNK_SIZE,
            max_concurrent: Self::DEFAULT_MAX_CONCURRENT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_as_tcp_or_unix() {
        let parse = |a: &str| ClamavConfig::new(a).parsed_address();
        assert_eq!(
            parse("127.0.0.1:3310").expect("tcp"),
            Address::Tcp("127.0.0.1:3310".into())
        );
        assert_eq!(
            parse("clamav.internal:3310").expect("tcp"),
            Address::Tcp("clamav.internal:3310".into())
        );
        assert_eq!(
            parse("[::1]:3310").expect("tcp v6"),
            Address::Tcp("[::1]:3310".into())
        );
        assert_eq!(
            parse("unix:/run/clamav/clamd.ctl").expect("unix"),
            Address::Unix("/run/clamav/clamd.ctl".into())
        );
        assert_eq!(
            parse("/run/clamav/clamd.ctl").expect("unix"),
            Address::Unix("/run/clamav/clamd.ctl".into())
        );
        for bad in [
            "",
            "clamd",
            "host:",
            ":3310",
            "host:0",
            "host:99999",
            "unix:",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.to_string().contains("scanner.clamav.address"), "{err}");
        }
    }

    #[test]
    fn validation_names_the_bad_key() {
        ClamavConfig::default()
            .validate()
            .expect("defaults are valid");
        let cases = [
            (
                ClamavConfig {
                    chunk_size: 0,
                    ..ClamavConfig::default()
                },
                "chunk_size",
            ),
            (
                ClamavConfig {
                    max_concurrent: 0,
                    ..ClamavConfig::default()
                },
                "max_concurrent",
            ),
            (
                ClamavConfig {
                    io_timeout_ms: 0,
                    ..ClamavConfig::default()
                },
                "io_timeout_ms",
            ),
        ];
        for (config, key) in cases {
            let err = config.validate().expect_err(key);
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn deserializes_with_defaults_and_rejects_unknown_keys() {
        let c: ClamavConfig =
            toml::from_str("address = \"unix:/run/clamav/clamd.ctl\"").expect("toml");
        assert_eq!(c.address, "unix:/run/clamav/clamd.ctl");
        assert_eq!(c.stream_max_length, ClamavConfig::DEFAULT_STREAM_MAX_LENGTH);
        assert!(toml::from_str::<ClamavConfig>("adress = \"x\"").is_err());
    }
}
