//! The Origin check that stops cross-site WebSocket hijacking: a page on
//! another site could otherwise open a socket with the victim's ambient
//! credentials. Tickets already need a bearer token to obtain, but the
//! check is cheap defence in depth and what browsers' security model
//! expects of a WebSocket server.
//!
//! Decision: a request **without** `Origin` is allowed — browsers always
//! send one on WebSocket handshakes, so its absence means a non-browser
//! client (a script, a server), which CSWSH cannot involve.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// Whether the handshake's `Origin` is the server's own origin (same host
/// and port as the `Host` header) or one of `allowed` (exact match, e.g.
/// `https://shop.example.com`).
pub fn allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a.trim_end_matches('/') == origin) {
        return true;
    }
    // Same origin: the authority after the scheme equals Host.
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match (authority, headers.get(HOST).and_then(|h| h.to_str().ok())) {
        (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).expect("host"));
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        h
    }

    #[test]
    fn same_origin_listed_origins_and_non_browsers_pass() {
        let list = vec!["https://shop.example.com".to_owned()];
        assert!(allowed(&headers(None, "api.example.com"), &list));
        assert!(allowed(
            &headers(Some("https://api.example.com"), "api.example.com"),
            &list
        ));
        assert!(allowed(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            &list
        ));
        assert!(allowed(
            &headers(Some("https://shop.example.com"), "api.example.com"),
            &list
        ));
    }

    #[test]
    fn other_sites_fail() {
        let list = vec!["https://shop.example.com".to_owned()];
        for o in [
            "https://evil.example",
            "https://shop.example.com.evil.example",
            "http://shop.example.com",
            "https://api.example.com:444",
            "null",
            "file://",
        ] {
            assert!(!allowed(&headers(Some(o), "api.example.com"), &list), "{o}");
        }
    }
}
