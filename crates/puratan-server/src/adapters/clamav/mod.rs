//! ClamAV adapter: the [`Scanner`] port over clamd's socket protocol.
//!
//! # Protocol
//!
//! Hand-written on tokio (it is a few dozen lines; the `clamav-client`
//! crate has no timeouts and answers with raw bytes, so we would wrap all
//! of it anyway). One connection per command, to clamd's `TCPSocket`
//! (`host:port`) or `LocalSocket` (`unix:/path`). Commands use the
//! `z` (NUL-terminated) form:
//!
//! * `zPING\0` → `PONG\0`;
//! * `zVERSION\0` → `ClamAV 1.4.6/…\0`;
//! * `zINSTREAM\0`, then chunks `<u32 big-endian length><bytes>`, then a
//!   zero-length chunk → `stream: OK\0`, `stream: <signature> FOUND\0`, or
//!   `<message> ERROR\0` — notably `INSTREAM size limit exceeded. ERROR`
//!   when the stream passes clamd's `StreamMaxLength` (clamd then closes
//!   the connection, possibly while we are still writing).
//!
//! The reply is read *while* the file is being sent, so an early refusal
//! (size limit) is seen even when our next write fails with a broken pipe;
//! it becomes [`FilesError::ScanTooLarge`], never "clean". An `OK` that
//! arrives before the whole file was sent is treated as a protocol error.
//! Files larger than [`ClamavConfig::stream_max_length`] are refused
//! before connecting.
//!
//! # Timeouts
//!
//! A hung clamd must not hang an upload: connecting is bounded by
//! `connect_timeout_ms`, every write (and `PING`) by `io_timeout_ms` (a
//! clamd that stops reading is noticed once the socket buffers are full),
//! and the whole scan, verdict included, by `scan_timeout_ms` (keep it
//! above clamd's `MaxScanTime`). At most `max_concurrent` scans run at once
//! per process; more wait for a slot.
//!
//! # Errors and the pipeline
//!
//! Unreachable, refused, dropped or timed out → `ScannerUnavailable`;
//! any other `ERROR` or an unparsable reply → `ScannerFailed`. For both,
//! [`puratan_files::scan::scan_before_processing`] answers `Wait`: the
//! file is held and scanned again later — never passed as clean because the
//! scanner was down, which is exactly when an attacker would want it.
//!
//! clamd's scan limits (`MaxScanSize`, `MaxFileSize`, `MaxScanTime`,
//! `MaxRecursion`…) silently stop scanning unless `AlertExceedsMax yes` is
//! set; with it, such a file is reported as
//! `Heuristics.Limits.Exceeded.* FOUND`, which is quarantined like any
//! other detection. Run clamd with `AlertExceedsMax yes`.

mod config;
mod error;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use puratan_files::FilesError;
use puratan_files::scan::{Scanner, Verdict};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

pub use config::ClamavConfig;

use config::Address;

/// Longest reply we accept (a verdict is one short line).
const MAX_REPLY: usize = 4096;

/// How long to wait for clamd's explanation after a write failed (clamd
/// refuses an oversized stream and closes the connection).
const LATE_REPLY: Duration = Duration::from_secs(2);

/// A [`Scanner`] backed by clamd. Cheap to keep in an `Arc`; opens one
/// connection per scan.
#[derive(Debug)]
pub struct ClamavScanner {
    config: ClamavConfig,
    address: Address,
    slots: Semaphore,
}

/// A connected socket, TCP or unix.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

impl ClamavScanner {
    /// Validates the config. Does not connect: a clamd that is down at
    /// start-up only makes files wait (see [`Scanner::ping`] for
    /// readiness).
    pub fn new(config: ClamavConfig) -> puratan_core::Result<Self> {
        config.validate()?;
        let address = config.parsed_address()?;
        Ok(Self {
            slots: Semaphore::new(config.max_concurrent),
            address,
            config,
        })
    }

    pub fn config(&self) -> &ClamavConfig {
        &self.config
    }

    /// clamd's version line (`ClamAV 1.4.6/27000/…`), for logs.
    pub async fn version(&self) -> Result<String, FilesError> {
        self.command(b"zVERSION\0", "VERSION").await
    }

    async fn connect(&self) -> Result<Box<dyn Conn>, FilesError> {
        let doing = || format!("connecting to {}", self.config.address);
        let limit = self.config.connect_timeout();
        let attempt = async {
            match &self.address {
                Address::Tcp(addr) => {
                    let s = tokio::net::TcpStream::connect(addr.as_str()).await?;
                    s.set_nodelay(true)?;
                    Ok::<_, std::io::Error>(Box::new(s) as Box<dyn Conn>)
                }
                #[cfg(unix)]
                Address::Unix(path) => {
                    let s = tokio::net::UnixStream::connect(path).await?;
                    Ok(Box::new(s) as Box<dyn Conn>)
                }
                #[cfg(not(unix))]
                Address::Unix(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    "unix sockets are not supported on this platform",
                )),
            }
        };
        tokio::time::timeout(limit, attempt)
            .await
            .map_err(|_| error::timeout(&doing(), limit))?
            .map_err(|e| error::io(&doing(), e))
    }

    /// A one-line command (`zPING\0`, `zVERSION\0`) and its reply, all
    /// within the I/O timeout.
    async fn command(&self, request: &[u8], name: &str) -> Result<String, FilesError> {
        let limit = self.config.io_timeout();
        let exchange = async {
            let mut conn = self.connect().await?;
            conn.write_all(request)
                .await
                .map_err(|e| error::io(name, e))?;
            conn.flush().await.map_err(|e| error::io(name, e))?;
            read_reply(&mut conn, name).await
        };
        let raw = tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| error::timeout(name, limit))??;
        Ok(reply_text(&raw))
    }

    /// `zINSTREAM`: sends the file while listening for an early reply.
    async fn instream(&self, data: Bytes) -> Result<Verdict, FilesError> {
        let conn = self.connect().await?;
        let (mut rd, mut wr) = tokio::io::split(conn);
        let io_limit = self.config.io_timeout();
        let chunk_size = self.config.chunk_size;
        let send = async move {
            write_timed(&mut wr, b"zINSTREAM\0", io_limit).await?;
            let mut frame = Vec::with_capacity(chunk_size + 4);
            for chunk in data.chunks(chunk_size) {
                frame.clear();
                // chunk_size <= 8 MiB (validated), so the length fits.
                frame.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
                frame.extend_from_slice(chunk);
                write_timed(&mut wr, &frame, io_limit).await?;
            }
            write_timed(&mut wr, &[0, 0, 0, 0], io_limit).await?;
            tokio::time::timeout(io_limit, wr.flush())
                .await
                .map_err(|_| error::timeout("sending the file", io_limit))?
                .map_err(|e| error::io("sending the file", e))
        };
        let reply = read_reply(&mut rd, "reading the verdict");
        tokio::pin!(send, reply);
        // `biased`: a reply that is already there is seen before the last
        // chunk goes out, so an `OK` sent before the whole file arrived is
        // caught below.
        let raw = tokio::select! {
            biased;
            early = &mut reply => {
                return match parse_verdict(&early?)? {
                    Verdict::Clean => Err(error::failed(
                        "clamd answered OK before the whole file was sent",
                    )),
                    infected => Ok(infected),
                };
            }
            sent = &mut send => match sent {
                Ok(()) => reply.await?,
                // The write failed: clamd may have said why (size limit)
                // before closing.
                Err(write_error) => match tokio::time::timeout(LATE_REPLY, &mut reply).await {
                    Ok(Ok(raw)) => raw,
                    _ => return Err(write_error),
                },
            },
        };
        parse_verdict(&raw)
    }
}

/// One write of the file's stream, with its own deadline.
async fn write_timed<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    buf: &[u8],
    limit: Duration,
) -> Result<(), FilesError> {
    tokio::time::timeout(limit, w.write_all(buf))
        .await
        .map_err(|_| error::timeout("sending the file", limit))?
        .map_err(|e| error::io("sending the file", e))
}

/// Reads up to the terminating NUL (or EOF), at most [`MAX_REPLY`] bytes.
async fn read_reply<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    doing: &str,
) -> Result<Vec<u8>, FilesError> {
    let mut reply = Vec::with_capacity(64);
    let mut buf = [0u8; 512];
    loop {
        let n = r.read(&mut buf).await.map_err(|e| error::io(doing, e))?;
        if n == 0 {
            return if reply.is_empty() {
                Err(error::closed(doing))
            } else {
                Ok(reply)
            };
        }
        let got = &buf[..n];
        if let Some(end) = got.iter().position(|&b| b == 0) {
            reply.extend_from_slice(&got[..end]);
            return Ok(reply);
        }
        reply.extend_from_slice(got);
        if reply.len() > MAX_REPLY {
            return Err(error::failed(format!(
                "{doing}: reply longer than {MAX_REPLY} bytes"
            )));
        }
    }
}

/// The reply as trimmed text (clamd speaks ASCII; anything else is shown
/// lossily).
fn reply_text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_owned()
}

/// `stream: OK` / `stream: <name> FOUND` / `<message> ERROR`.
fn parse_verdict(raw: &[u8]) -> Result<Verdict, FilesError> {
    let text = reply_text(raw);
    if text.ends_with("ERROR") {
        return Err(if text.contains("size limit exceeded") {
            FilesError::ScanTooLarge { limit: None }
        } else {
            error::failed(format!("clamd answered {text:?}"))
        });
    }
    let unexpected = || error::failed(format!("unexpected reply {text:?}"));
    let body = text.strip_prefix("stream:").ok_or_else(unexpected)?.trim();
    if body == "OK" {
        return Ok(Verdict::Clean);
    }
    let name = body
        .strip_suffix("FOUND")
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.chars().any(char::is_control))
        .ok_or_else(unexpected)?;
    Ok(Verdict::Infected {
        signature: name.to_owned(),
    })
}

#[async_trait]
impl Scanner for ClamavScanner {
    async fn scan(&self, data: Bytes) -> Result<Verdict, FilesError> {
        let max = self.config.stream_max_length;
        if max > 0 && data.len() as u64 > max {
            return Err(FilesError::ScanTooLarge { limit: Some(max) });
        }
        // Never closed, so acquire cannot fail; map it anyway.
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| error::failed("scanner shut down"))?;
        let limit = self.config.scan_timeout();
        tokio::time::timeout(limit, self.instream(data))
            .await
            .map_err(|_| error::timeout("scanning", limit))?
    }

    async fn ping(&self) -> Result<(), FilesError> {
        let reply = self.command(b"zPING\0", "PING").await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(error::failed(format!("PING answered {reply:?}")))
        }
    }

    fn name(&self) -> &'static str {
        error::SCANNER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_parse_and_everything_else_is_an_error() {
        assert_eq!(parse_verdict(b"stream: OK\0").expect("ok"), Verdict::Clean);
        assert_eq!(
            parse_verdict(b"stream: Win.Test.EICAR_HDB-1 FOUND\0").expect("found"),
            Verdict::Infected {
                signature: "Win.Test.EICAR_HDB-1".into()
            }
        );
        assert_eq!(
            parse_verdict(b"stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND").expect("found"),
            Verdict::Infected {
                signature: "Heuristics.Limits.Exceeded.MaxScanSize".into()
            }
        );
        let too_large = parse_verdict(b"INSTREAM size limit exceeded. ERROR\0").expect_err("big");
        assert!(
            matches!(too_large, FilesError::ScanTooLarge { limit: None }),
            "{too_large:?}"
        );
        for bad in [
            &b"stream: Can't allocate memory ERROR\0"[..],
            b"",
            b"OK",
            b"stream: ",
            b"stream: FOUND",
            b"stream: OKAY",
            b"PONG",
            b"stream: a\x01b FOUND",
        ] {
            let err = parse_verdict(bad).expect_err(&String::from_utf8_lossy(bad));
            assert_eq!(err.code(), "scanner_error", "{bad:?}");
        }
    }

    #[tokio::test]
    async fn replies_are_bounded_and_end_at_nul() {
        let mut r: &[u8] = b"PONG\0trailing";
        assert_eq!(read_reply(&mut r, "t").await.expect("reply"), b"PONG");
        let mut r: &[u8] = b"no nul";
        assert_eq!(read_reply(&mut r, "t").await.expect("reply"), b"no nul");
        let mut r: &[u8] = b"";
        assert_eq!(
            read_reply(&mut r, "t").await.expect_err("eof").code(),
            "scanner_unavailable"
        );
        let long = vec![b'a'; MAX_REPLY + 600];
        let mut r: &[u8] = &long;
        assert_eq!(
            read_reply(&mut r, "t").await.expect_err("long").code(),
            "scanner_error"
        );
    }

    #[test]
    fn invalid_config_is_refused_at_construction() {
        let err = ClamavScanner::new(ClamavConfig::new("nowhere")).expect_err("bad address");
        assert_eq!(err.kind(), puratan_core::ErrorKind::Invalid);
    }
}
