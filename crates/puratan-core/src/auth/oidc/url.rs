//! The few URL operations the flow needs, without a URL crate: a shape
//! check for configured and discovered URLs, percent-encoding of query
//! values and decoding of a callback query.

/// Hosts for which plain `http` is accepted (RFC 8252 §7.3 loopback; tests).
const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// An absolute `https` URL (or `http` on a loopback host) without userinfo
/// or fragment; a query only when `allow_query`.
pub(crate) fn check_url(url: &str, allow_query: bool) -> Result<(), &'static str> {
    if url.len() > 2048 {
        return Err("is too long");
    }
    if url.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err("must be an ASCII URL without spaces");
    }
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("must be an absolute https:// URL");
    };
    if url.contains('#') {
        return Err("must not have a fragment");
    }
    if !allow_query && url.contains('?') {
        return Err("must not have a query");
    }
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err("must not contain user information");
    }
    let host = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => &authority[..=end],
            None => return Err("has a malformed host"),
        }
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let port = &authority[host.len()..];
    if host.is_empty()
        || !(port.is_empty()
            || (port.len() > 1
                && port.len() <= 6
                && port.starts_with(':')
                && port[1..].bytes().all(|b| b.is_ascii_digit())))
    {
        return Err("has a malformed host or port");
    }
    if !https && !LOOPBACK_HOSTS.contains(&host.to_ascii_lowercase().as_str()) {
        return Err("must use https:// (http:// only for a loopback host)");
    }
    Ok(())
}

/// Appends `s` percent-encoded: everything but RFC 3986 unreserved
/// characters becomes `%XX`, which is valid in both a query and an
/// `application/x-www-form-urlencoded` body.
pub(crate) fn encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// `k1=v1&k2=v2…`, percent-encoded.
pub(crate) fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_into(&mut out, k);
        out.push('=');
        encode_into(&mut out, v);
    }
    out
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a
/// space). `None` for a bad escape or invalid UTF-8.
pub(crate) fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}
