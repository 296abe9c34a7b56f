//! Virus scanning: the [`Scanner`] port, its in-memory implementation
//! [`MemoryScanner`], and the pipeline rule [`scan_before_processing`].
//!
//! # The rule
//!
//! When a scanner is configured, **every file is scanned before anything
//! else reads it** (preflight, previews, the production queue, downloads).
//! [`scan_before_processing`] turns a scan into one of four outcomes:
//!
//! | scanner says | outcome | the caller |
//! |---|---|---|
//! | clean | [`ScanOutcome::Clean`] | processes the file, records "scanned clean by …" |
//! | a signature matched | [`ScanOutcome::Quarantine`] | moves the file to quarantine (never served, never processed) and writes an audit entry with the signature |
//! | unreachable, timed out, answered with an error | [`ScanOutcome::Wait`] | keeps the file held and scans it again later |
//! | the file is over the scanner's size limit | `Err(FilesError::ScanTooLarge)` | rejects the file: it can never be scanned |
//! | no scanner configured | [`ScanOutcome::NotScanned`] | processes the file, records that it was *not* scanned |
//!
//! # Why `Wait`, never `Clean`, when the scanner is down
//!
//! A scanner outage is exactly when a "fail open" pipeline lets malware
//! through (an attacker can even provoke the outage with a slow upload).
//! So an unavailable scanner never produces a verdict: the file waits,
//! visibly, until a scan succeeds. `Wait` is also used when the scanner
//! answers with an error or with something that is not a verdict: that is
//! not the uploader's fault, and a retry (after a restart of the scanner)
//! may succeed. Only a file that can *never* be scanned (too large for the
//! scanner) is an error, so the caller can tell the uploader.
//!
//! Every implementation must keep to this: no [`Scanner::scan`] returns
//! [`Verdict::Clean`] for bytes it did not look at completely. In
//! particular, hitting one of the scanner's own limits (size, time,
//! archive depth) is an error or a detection, never "clean".

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;
use sha2::{Digest, Sha256};

use crate::error::FilesError;

/// What a scanner concluded about one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The whole file was scanned and nothing matched.
    Clean,
    /// A signature matched; `signature` is the scanner's name for it (as
    /// reported, e.g. `Win.Test.EICAR_HDB-1`).
    Infected { signature: String },
}

/// A virus scanner (ClamAV's clamd in the server, [`MemoryScanner`] in
/// tests).
///
/// Errors: [`FilesError::ScannerUnavailable`] when the scanner cannot be
/// reached or does not answer in time (retryable),
/// [`FilesError::ScannerFailed`] when it answers with an error or garbage,
/// [`FilesError::ScanTooLarge`] when the file exceeds what it accepts.
#[async_trait]
pub trait Scanner: Send + Sync + 'static {
    /// Scans the whole of `data`.
    async fn scan(&self, data: Bytes) -> Result<Verdict, FilesError>;

    /// Is the scanner answering right now? (Readiness checks.)
    async fn ping(&self) -> Result<(), FilesError>;

    /// A short name for logs and audit entries (`"clamav"`, `"memory"`).
    fn name(&self) -> &'static str;
}

/// What the pipeline does with a file, given the scanner's answer. See the
/// [module docs](self) for the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanOutcome {
    /// Scanned, nothing found: the file may be processed.
    Clean,
    /// A signature matched: quarantine and audit; never serve or process.
    Quarantine { signature: String },
    /// No verdict now (scanner down or failing): hold the file and scan
    /// again later. Never treat as clean.
    Wait { reason: String },
    /// No scanner is configured: the file may be processed, but must not be
    /// recorded as scanned.
    NotScanned,
}

impl ScanOutcome {
    /// Whether the file may go on to preflight, previews and production.
    pub fn may_process(&self) -> bool {
        matches!(self, Self::Clean | Self::NotScanned)
    }
}

/// The pipeline rule: scan `data` with `scanner` (if one is configured) and
/// decide. Scanner trouble becomes [`ScanOutcome::Wait`]; only
/// [`FilesError::ScanTooLarge`] (and errors no retry can fix) are returned
/// as `Err`. No error is ever turned into `Clean`.
pub async fn scan_before_processing(
    scanner: Option<&dyn Scanner>,
    data: Bytes,
) -> Result<ScanOutcome, FilesError> {
    let Some(scanner) = scanner else {
        return Ok(ScanOutcome::NotScanned);
    };
    match scanner.scan(data).await {
        Ok(Verdict::Clean) => Ok(ScanOutcome::Clean),
        Ok(Verdict::Infected { signature }) => Ok(ScanOutcome::Quarantine { signature }),
        Err(e @ (FilesError::ScannerUnavailable { .. } | FilesError::ScannerFailed { .. })) => {
            Ok(ScanOutcome::Wait {
                reason: e.to_string(),
            })
        }
        Err(e) => Err(e),
    }
}

/// The EICAR anti-virus test file (68 bytes), which every scanner detects
/// and which is harmless. Assembled from two halves so no source file *is*
/// the test file.
pub fn eicar() -> Bytes {
    let mut v = Vec::with_capacity(68);
    v.extend_from_slice(br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR");
    v.extend_from_slice(b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    Bytes::from(v)
}

/// An in-memory [`Scanner`]: detects configured whole-file SHA-256 hashes
/// (like ClamAV's `.hdb`/`.hsb` databases) and byte patterns anywhere in a
/// file (like `.ndb` body signatures). It has a size limit and can be
/// switched "down", so the pipeline's `Wait` path can be tested without a
/// real scanner.
///
/// ```
/// # tokio_test_block_on(async {
/// use puratan_files::scan::{MemoryScanner, Scanner, Verdict, eicar};
///
/// let scanner = MemoryScanner::new().with_pattern(eicar(), "Eicar-Test-Signature");
/// let mut file = b"%PDF-1.7 ...".to_vec();
/// file.extend_from_slice(&eicar());
/// assert_eq!(
///     scanner.scan(file.into()).await.unwrap(),
///     Verdict::Infected { signature: "Eicar-Test-Signature".into() }
/// );
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryScanner {
    rules: RwLock<Rules>,
    down: AtomicBool,
    scans: AtomicU64,
}

#[derive(Debug, Default)]
struct Rules {
    hashes: HashMap<[u8; 32], String>,
    /// Non-empty patterns, in the order added (the first match wins).
    patterns: Vec<(Vec<u8>, String)>,
    max_bytes: Option<u64>,
}

impl MemoryScanner {
    /// A scanner that knows no signatures and has no size limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Detects any file whose SHA-256 is `sha256`, as `name`.
    pub fn with_sha256(self, sha256: [u8; 32], name: impl Into<String>) -> Self {
        self.rules.write().hashes.insert(sha256, name.into());
        self
    }

    /// Detects exactly the file `data` (by its SHA-256), as `name`.
    pub fn with_file(self, data: &[u8], name: impl Into<String>) -> Self {
        self.with_sha256(Sha256::digest(data).into(), name)
    }

    /// Detects any file that contains `pattern`, as `name`. An empty
    /// pattern is ignored (it would match every file).
    pub fn with_pattern(self, pattern: impl AsRef<[u8]>, name: impl Into<String>) -> Self {
        let pattern = pattern.as_ref();
        if !pattern.is_empty() {
            self.rules
                .write()
                .patterns
                .push((pattern.to_vec(), name.into()));
        }
        self
    }

    /// Refuses files larger than `max` bytes with
    /// [`FilesError::ScanTooLarge`] (like clamd's `StreamMaxLength`).
    pub fn with_max_bytes(self, max: u64) -> Self {
        self.rules.write().max_bytes = Some(max);
        self
    }

    /// Simulates an outage: while down, `scan` and `ping` fail with
    /// [`FilesError::ScannerUnavailable`].
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// How many scans produced a verdict so far.
    pub fn scans(&self) -> u64 {
        self.scans.load(Ordering::SeqCst)
    }

    fn check_up(&self) -> Result<(), FilesError> {
        if self.down.load(Ordering::SeqCst) {
            Err(FilesError::ScannerUnavailable {
                scanner: "memory",
                reason: "switched off (MemoryScanner::set_down)".into(),
            })
        } else {
            Ok(())
        }
    }
}

/// Whether `haystack` contains `needle` (non-empty), in linear-ish time:
/// candidates are found by the first byte, then compared.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return false;
    };
    let mut from = 0;
    while let Some(pos) = haystack
        .get(from..)
        .and_then(|h| h.iter().position(|&b| b == first))
    {
        let at = from + pos;
        match haystack.get(at + 1..at + needle.len()) {
            Some(tail) if tail == rest => return true,
            Some(_) => from = at + 1,
            None => return false,
        }
    }
    false
}

#[async_trait]
impl Scanner for MemoryScanner {
    async fn scan(&self, data: Bytes) -> Result<Verdict, FilesError> {
        self.check_up()?;
        let rules = self.rules.read();
        if let Some(max) = rules.max_bytes
            && data.len() as u64 > max
        {
            return Err(FilesError::ScanTooLarge { limit: Some(max) });
        }
        let digest: [u8; 32] = Sha256::digest(&data).into();
        let found = rules.hashes.get(&digest).cloned().or_else(|| {
            rules
                .patterns
                .iter()
                .find(|(p, _)| contains(&data, p))
                .map(|(_, name)| name.clone())
        });
        self.scans.fetch_add(1, Ordering::SeqCst);
        Ok(match found {
            Some(signature) => Verdict::Infected { signature },
            None => Verdict::Clean,
        })
    }

    async fn ping(&self) -> Result<(), FilesError> {
        self.check_up()
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn eicar_is_the_68_byte_test_file() {
        let e = eicar();
        assert_eq!(e.len(), 68);
        assert!(e.starts_with(b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD"));
        assert!(e.ends_with(b"TEST-FILE!$H+H*"));
    }

    #[test]
    fn contains_finds_patterns_anywhere_and_only_whole_ones() {
        assert!(contains(b"abcabd", b"abd"));
        assert!(contains(b"abd", b"abd"));
        assert!(contains(b"xxab", b"ab"));
        assert!(!contains(b"xxa", b"ab"));
        assert!(!contains(b"", b"a"));
        assert!(!contains(b"abc", b""));
        assert!(contains(&[0u8; 10], &[0u8; 10]));
        assert!(!contains(&[0u8; 9], &[0u8; 10]));
    }

    #[test]
    fn memory_scanner_hashes_patterns_limit_and_outage() {
        block_on(async {
            let s = MemoryScanner::new()
                .with_file(b"exact", "Test.Hash")
                .with_pattern(eicar(), "Test.Body")
                .with_pattern(b"", "Ignored")
                .with_max_bytes(1000);
            assert_eq!(s.name(), "memory");
            s.ping().await.expect("up");
            let scan = |d: &'static [u8]| s.scan(Bytes::from_static(d));
            assert_eq!(
                scan(b"exact").await.expect("scan"),
                Verdict::Infected {
                    signature: "Test.Hash".into()
                }
            );
            assert_eq!(scan(b"exact!").await.expect("scan"), Verdict::Clean);
            assert_eq!(scan(b"").await.expect("scan"), Verdict::Clean);
            let mut embedded = vec![b'a'; 500];
            embedded.extend_from_slice(&eicar());
            assert_eq!(
                s.scan(embedded.into()).await.expect("scan"),
                Verdict::Infected {
                    signature: "Test.Body".into()
                }
            );
            let err = s
                .scan(Bytes::from(vec![0u8; 1001]))
                .await
                .expect_err("too large");
            assert_eq!(err.code(), "scan_too_large");
            assert_eq!(
                s.scan(Bytes::from(vec![0u8; 1000])).await.expect("scan"),
                Verdict::Clean
            );
            assert_eq!(s.scans(), 5);

            s.set_down(true);
            assert_eq!(
                s.ping().await.expect_err("down").code(),
                "scanner_unavailable"
            );
            assert_eq!(
                scan(b"exact").await.expect_err("down").code(),
                "scanner_unavailable"
            );
            s.set_down(false);
            s.ping().await.expect("up again");
        });
    }

    #[test]
    fn pipeline_never_turns_trouble_into_clean() {
        block_on(async {
            let data = || Bytes::from_static(b"%PDF-1.7\n");
            assert_eq!(
                scan_before_processing(None, data()).await.expect("ok"),
                ScanOutcome::NotScanned
            );
            let s = MemoryScanner::new()
                .with_pattern(eicar(), "Test.Body")
                .with_max_bytes(100);
            assert_eq!(
                scan_before_processing(Some(&s), data()).await.expect("ok"),
                ScanOutcome::Clean
            );
            assert_eq!(
                scan_before_processing(Some(&s), eicar()).await.expect("ok"),
                ScanOutcome::Quarantine {
                    signature: "Test.Body".into()
                }
            );
            let err = scan_before_processing(Some(&s), Bytes::from(vec![0u8; 101]))
                .await
                .expect_err("too large");
            assert!(
                matches!(err, FilesError::ScanTooLarge { limit: Some(100) }),
                "{err:?}"
            );
            assert_eq!(err.http_status(), 413);
            s.set_down(true);
            let outcome = scan_before_processing(Some(&s), data()).await.expect("ok");
            assert!(
                matches!(&outcome, ScanOutcome::Wait { reason } if reason.contains("unavailable")),
                "{outcome:?}"
            );
            assert!(!outcome.may_process());
            assert!(ScanOutcome::Clean.may_process());
            assert!(ScanOutcome::NotScanned.may_process());
            assert!(
                !ScanOutcome::Quarantine {
                    signature: "x".into()
                }
                .may_process()
            );
        });
    }

    #[test]
    fn scan_errors_have_stable_codes_statuses_and_plain_messages() {
        let cases = [
            (
                FilesError::ScannerUnavailable {
                    scanner: "clamav",
                    reason: "connection refused".into(),
                },
                "scanner_unavailable",
                503,
                "the virus scanner (clamav) is unavailable: connection refused",
            ),
            (
                FilesError::ScannerFailed {
                    scanner: "clamav",
                    reason: "x ERROR".into(),
                },
                "scanner_error",
                502,
                "the virus scanner (clamav) failed: x ERROR",
            ),
            (
                FilesError::ScanTooLarge { limit: Some(10) },
                "scan_too_large",
                413,
                "the file is too large to be scanned for viruses (at most 10 bytes)",
            ),
            (
                FilesError::ScanTooLarge { limit: None },
                "scan_too_large",
                413,
                "the file is too large to be scanned for viruses",
            ),
        ];
        for (err, code, status, text) in cases {
            assert_eq!(err.code(), code);
            assert_eq!(err.http_status(), status);
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn a_failing_scanner_means_wait() {
        struct Broken;
        #[async_trait]
        impl Scanner for Broken {
            async fn scan(&self, _: Bytes) -> Result<Verdict, FilesError> {
                Err(FilesError::ScannerFailed {
                    scanner: "broken",
                    reason: "answered \"stream: ??\"".into(),
                })
            }
            async fn ping(&self) -> Result<(), FilesError> {
                Ok(())
            }
            fn name(&self) -> &'static str {
                "broken"
            }
        }
        block_on(async {
            let outcome = scan_before_processing(Some(&Broken), eicar())
                .await
                .expect("ok");
            assert!(matches!(outcome, ScanOutcome::Wait { .. }), "{outcome:?}");
        });
    }
}
