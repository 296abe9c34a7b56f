use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, de::DeserializeOwned};

use crate::Error;

/// An opaque position in a listing. Clients get it from one page and pass
/// it back to get the next; its content (the sort key of the last item) is
/// an implementation detail and may change between versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Upper bound on an accepted cursor, so a hostile one cannot make us
    /// decode megabytes.
    const MAX_LEN: usize = 512;

    pub fn encode<K: Serialize>(key: &K) -> Self {
        let json = serde_json::to_vec(key).unwrap_or_default();
        Self(URL_SAFE_NO_PAD.encode(json))
    }

    pub fn decode<K: DeserializeOwned>(&self) -> Result<K, Error> {
        let bad = || Error::invalid("cursor", "not a cursor returned by this API");
        if self.0.len() > Self::MAX_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(&self.0).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map_err(|_| bad())
    }

    pub fn from_client(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which page to fetch: at most `limit` items after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 20;
    pub const MAX_LIMIT: u32 = 100;

    /// A first page; `limit` is clamped to `1..=MAX_LIMIT`.
    pub fn first(limit: u32) -> Self {
        Self {
            limit: limit.clamp(1, Self::MAX_LIMIT),
            after: None,
        }
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.after = cursor;
        self
    }

    /// The limit as a `usize`, clamped again so a hand-built request cannot
    /// ask a backend for millions of rows.
    pub fn size(&self) -> usize {
        self.limit.clamp(1, Self::MAX_LIMIT) as usize
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self::first(Self::DEFAULT_LIMIT)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `Some` when more items may follow.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` fetched items: fetching one extra
    /// tells whether a next page exists without a count query.
    pub fn from_overfetch<K: Serialize>(
        mut items: Vec<T>,
        size: usize,
        key_of: impl Fn(&T) -> K,
    ) -> Self {
        let more = items.len() > size;
        items.truncate(size);
        let next = if more {
            items.last().map(|last| Cursor::encode(&key_of(last)))
        } else {
            None
        };
        Self { items, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor::encode(&(50u8, 17i64, "abc"));
        let back: (u8, i64, String) = c.decode().unwrap_or_default();
        assert_eq!(back, (50, 17, "abc".to_owned()));
        assert!(Cursor::from_client("!!!").decode::<String>().is_err());
        assert!(
            Cursor::from_client("a".repeat(10_000))
                .decode::<String>()
                .is_err()
        );
    }

    #[test]
    fn overfetch_sets_next_only_when_more() {
        let p = Page::from_overfetch(vec![1, 2, 3], 2, |x| *x);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next.and_then(|c| c.decode::<i32>().ok()), Some(2));
        let p = Page::from_overfetch(vec![1, 2], 2, |x| *x);
        assert!(p.next.is_none());
    }
}
