//! String-keyed tables tuned for the quote path, and a small inline list.

use std::collections::HashMap;
use std::sync::Arc;

/// Up to this many entries a linear scan (length first, then bytes) is
/// cheaper than hashing the key with SipHash.
const LINEAR_MAX: usize = 12;

/// An insertion-ordered map from string keys to values. Small tables are
/// scanned linearly; larger ones get a (SipHash, so collision-resistant)
/// index when they grow past [`LINEAR_MAX`] entries.
#[derive(Debug, Clone)]
pub(crate) struct Lookup<V> {
    entries: Vec<(Arc<str>, V)>,
    index: Option<HashMap<Arc<str>, usize>>,
}

impl<V> Default for Lookup<V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            index: None,
        }
    }
}

impl<V> Lookup<V> {
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| &**k == key),
        }
    }

    /// Inserts `key` unless it is already present; returns whether it was new.
    pub(crate) fn insert(&mut self, key: Arc<str>, value: V) -> bool {
        if self.position(&key).is_some() {
            return false;
        }
        let at = self.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), at);
        } else if at == LINEAR_MAX {
            let mut index: HashMap<Arc<str>, usize> = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            index.insert(key.clone(), at);
            self.index = Some(index);
        }
        self.entries.push((key, value));
        true
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.get_key_value(key).map(|(_, v)| v)
    }

    /// The stored key (shared with the table) and its value.
    pub(crate) fn get_key_value(&self, key: &str) -> Option<(&Arc<str>, &V)> {
        let at = self.position(key)?;
        self.entries.get(at).map(|(k, v)| (k, v))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Inline capacity of [`Refs`]; requests rarely name more finishing or options.
const INLINE: usize = 8;

/// A list of catalog references that does not allocate for up to [`INLINE`] items.
#[derive(Debug, Clone)]
pub(crate) struct Refs<'c, T> {
    inline: [Option<&'c T>; INLINE],
    len: usize,
    spill: Vec<&'c T>,
}

impl<T> Default for Refs<'_, T> {
    fn default() -> Self {
        Self {
            inline: [None; INLINE],
            len: 0,
            spill: Vec::new(),
        }
    }
}

impl<'c, T> Refs<'c, T> {
    pub(crate) fn push(&mut self, item: &'c T) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(item),
            None => self.spill.push(item),
        }
        self.len += 1;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'c T> + '_ {
        self.inline
            .iter()
            .map_while(|x| *x)
            .chain(self.spill.iter().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_small_and_indexed() {
        for n in [0_usize, 1, LINEAR_MAX - 1, LINEAR_MAX, LINEAR_MAX + 1, 100] {
            let mut l = Lookup::default();
            for i in 0..n {
                assert!(l.insert(format!("k{i}").into(), i));
                assert!(!l.insert(format!("k{i}").into(), i + 1));
            }
            assert_eq!(l.len(), n);
            for i in 0..n {
                assert_eq!(l.get(&format!("k{i}")), Some(&i));
                let key = format!("k{i}");
                assert_eq!(l.get_key_value(&key).map(|(k, _)| &**k), Some(key.as_str()));
            }
            assert_eq!(l.get("nope"), None);
            assert_eq!(l.get(""), None);
        }
    }

    #[test]
    fn refs_spill() {
        let items: Vec<u32> = (0..20).collect();
        for n in [0, 1, INLINE - 1, INLINE, INLINE + 1, 20] {
            let mut r = Refs::default();
            for x in items.iter().take(n) {
                r.push(x);
            }
            assert_eq!(r.len(), n);
            assert_eq!(
                r.iter().copied().collect::<Vec<_>>(),
                items.iter().take(n).copied().collect::<Vec<_>>()
            );
        }
    }
}
