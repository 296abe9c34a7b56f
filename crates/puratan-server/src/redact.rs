//! Hiding secrets in what the server prints (`Debug`, `check-config`, logs).

/// Replaces the password of `scheme://user:password@host/...` with `***`.
///
/// The user info ends at the *last* `@`, so a password containing an
/// unescaped `@` or `/` is still hidden entirely. Text that is not a URL
/// is not shown at all.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.is_empty() {
            String::new()
        } else {
            "***".to_owned()
        };
    };
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    let (userinfo, host) = rest.split_at(at);
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(
            redact_url("mongodb://u:p@h1,h2/db?x=1"),
            "mongodb://u:***@h1,h2/db?x=1"
        );
        assert_eq!(
            redact_url("redis://:p@ss/w@rd@cache:6379"),
            "redis://:***@cache:6379"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_url("not a url with secret"), "***");
    }
}
