//! A cache of access tokens whose signature and claims were already
//! verified, so a client's repeated requests skip the signature check
//! (Ed25519 verification is ~40 µs — more than the rest of a request).
//!
//! Safety: the key is the *whole* token string, so a token that differs in
//! any byte is a miss and gets the full validation; expiry and `nbf` are
//! re-checked on every hit; the denylist is consulted on every request
//! regardless. Keys never change at run time (configuration is read at
//! start), so a cached verdict cannot outlive its key. Bounded: when full
//! the map is cleared — entries are cheap to recompute.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use puratan_core::auth::tokens::AccessClaims;

#[derive(Debug)]
pub struct VerifiedTokens {
    map: Mutex<HashMap<Box<str>, Arc<AccessClaims>>>,
    capacity: usize,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::with_capacity(capacity.min(1024))),
            capacity,
        }
    }

    pub fn get(&self, token: &str) -> Option<Arc<AccessClaims>> {
        self.map.lock().get(token).cloned()
    }

    pub fn insert(&self, token: &str, claims: Arc<AccessClaims>) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.map.lock();
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(token.into(), claims);
    }

    pub fn len(&self) -> usize {
        self.map.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(jti: &str) -> Arc<AccessClaims> {
        Arc::new(AccessClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "s".into(),
            exp: 10,
            iat: 0,
            nbf: 0,
            jti: jti.into(),
            typ: "access".into(),
            roles: vec![],
            sid: None,
        })
    }

    #[test]
    fn exact_token_only_and_bounded() {
        let c = VerifiedTokens::new(2);
        c.insert("a.b.c", claims("1"));
        assert!(c.get("a.b.c").is_some());
        assert!(c.get("a.b.C").is_none());
        assert!(c.get("a.b.c ").is_none());
        c.insert("d.e.f", claims("2"));
        c.insert("g.h.i", claims("3"));
        assert_eq!(c.len(), 1, "cleared when full, then the new entry");
        assert!(c.get("g.h.i").is_some());
        let off = VerifiedTokens::new(0);
        off.insert("a.b.c", claims("1"));
        assert!(off.is_empty());
    }
}
