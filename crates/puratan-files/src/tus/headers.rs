//! Header parsing for tus 1.0, strict where the spec is strict.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use crate::error::FilesError;

/// Request headers: a small case-insensitive multimap, in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// A non-negative integer header (`Upload-Length`, `Upload-Offset`): ASCII
/// digits only, no sign, no whitespace inside, fits in `u64`.
pub(crate) fn parse_u64(header: &'static str, value: &str) -> Result<u64, FilesError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FilesError::InvalidHeader {
            header,
            reason: "must be a non-negative integer",
        });
    }
    v.parse().map_err(|_| FilesError::InvalidHeader {
        header,
        reason: "out of range",
    })
}

/// Parsed `Upload-Metadata`: comma-separated `key base64value` or `key`
/// pairs; keys are unique, non-empty, without spaces or commas.
pub(crate) fn parse_metadata(value: &str, max_len: usize) -> Result<super::Metadata, FilesError> {
    const H: &str = "Upload-Metadata";
    let bad = |reason| FilesError::InvalidHeader { header: H, reason };
    if value.len() > max_len {
        return Err(bad("too long"));
    }
    let mut out: super::Metadata = Vec::new();
    if value.trim().is_empty() {
        return Ok(out);
    }
    for pair in value.split(',') {
        let pair = pair.trim();
        let (key, val) = match pair.split_once(' ') {
            Some((k, v)) => (k, Some(v.trim())),
            None => (pair, None),
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("a key is empty or not printable ASCII"));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(bad("duplicate key"));
        }
        let decoded = match val {
            None | Some("") => None,
            Some(v) => Some(
                STANDARD
                    .decode(v)
                    .map_err(|_| bad("a value is not valid base64"))?,
            ),
        };
        out.push((key.to_owned(), decoded));
    }
    Ok(out)
}

/// Parsed `Upload-Checksum: sha256 <base64 digest>`.
pub(crate) fn parse_checksum(value: &str) -> Result<[u8; 32], FilesError> {
    const H: &str = "Upload-Checksum";
    let (alg, digest) = value
        .trim()
        .split_once(' ')
        .ok_or(FilesError::InvalidHeader {
            header: H,
            reason: "expected `<algorithm> <base64 digest>`",
        })?;
    if !alg.eq_ignore_ascii_case("sha256") {
        return Err(FilesError::UnsupportedChecksum);
    }
    let bytes = STANDARD
        .decode(digest.trim())
        .map_err(|_| FilesError::InvalidHeader {
            header: H,
            reason: "the digest is not valid base64",
        })?;
    bytes.try_into().map_err(|_| FilesError::InvalidHeader {
        header: H,
        reason: "a sha256 digest has 32 bytes",
    })
}

/// RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for `Upload-Expires`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an IMF-fixdate (what [`http_date`] writes).
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%a, %d %b %Y %H:%M:%S GMT")
        .ok()
        .map(|n| n.and_utc())
}
