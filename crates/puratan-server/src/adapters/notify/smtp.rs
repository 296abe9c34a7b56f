//! E-mail over SMTP with `lettre` (`notify.backend = "smtp"`, settings in
//! `[notify.smtp]`).
//!
//! # Security modes (`notify.smtp.security`)
//!
//! * `starttls` (default, usually port 587): connect in plain text, then
//!   upgrade with `STARTTLS` before anything else is said. The upgrade is
//!   *required*: a relay that does not offer it is an error, never a
//!   silent fallback to plain text.
//! * `tls` (usually port 465): implicit TLS from the first byte.
//! * `none`: plain text, no TLS at all. Only for a relay on the same host
//!   or a trusted private network (a local Postfix, a test sink): the
//!   message — with its link tokens — and any credentials cross the wire
//!   unencrypted. A warning is logged when credentials are configured with
//!   this mode.
//!
//! TLS is rustls with the ring provider; the relay's certificate is
//! verified against the bundled Mozilla roots (`webpki-roots`), like the
//! server's other outgoing HTTPS.
//!
//! Credentials are used when both `username` and `password` are set (one
//! without the other is a configuration error); lettre picks `PLAIN` or
//! `LOGIN` from what the relay offers. The password never appears in
//! errors or logs (`SmtpConfig`'s `Debug` masks it too).
//!
//! # Timeouts
//!
//! Each message gets a fresh connection, and the whole exchange (connect,
//! TLS, `EHLO`, `AUTH`, `MAIL`/`RCPT`/`DATA`, `QUIT`) is bounded by
//! [`SEND_TIMEOUT`]: callers send from inside HTTP requests
//! (`auth::account::notify`), and a hung relay must not hang them. A
//! timeout is reported as a retryable [`Error::Unavailable`].
//!
//! # Errors
//!
//! Every transport failure becomes `Error::Unavailable { backend: "smtp" }`:
//! retryable for connection trouble, timeouts and `4xx` replies
//! (transient), not retryable for `5xx` replies (permanent: bad recipient,
//! authentication refused), TLS failures and client-side errors — those
//! need an operator, not another attempt. A recipient lettre cannot
//! address is `Error::Invalid`. Nothing is retried here (see the
//! [`Notifier`] port).
//!
//! # Content
//!
//! `From:` is `notify.smtp.from` (validated at start-up; a display name is
//! allowed: `Puratan Shop <shop@example.com>`), `To:` the notification's
//! recipient, `Subject:` its subject, and the body its plain-text `body`.
//! A link token travels only inside that body (as part of the link the
//! caller wrote there): never in a header, the subject, a log line or an
//! error.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use puratan_core::ports::{Notification, Notifier};
use puratan_core::{Error, Result};

use crate::auth::config::{SmtpConfig, SmtpSecurity};

/// Upper bound for delivering one message, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

const BACKEND: &str = "smtp";

/// Sends each [`Notification`] as a plain-text e-mail through an SMTP relay.
#[derive(Clone)]
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Right-hand side of generated `Message-ID`s.
    id_domain: String,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: show only what is harmless.
        f.debug_struct("SmtpNotifier")
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// Validates `config` and prepares the transport. Nothing is connected
    /// yet: the server starts even while the relay is down.
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        Self::with_timeout(config, SEND_TIMEOUT)
    }

    /// Like [`Self::new`] with another bound per message.
    pub fn with_timeout(config: &SmtpConfig, timeout: Duration) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.trim().parse().map_err(|e| {
            anyhow::anyhow!(
                "invalid configuration: notify.smtp.from = {:?} is not an e-mail address ({e})",
                config.from
            )
        })?;
        let host = config.host.trim();
        if host.is_empty() {
            anyhow::bail!("invalid configuration: notify.smtp.host is required");
        }
        let credentials = match (&config.username, &config.password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.clone())),
            (None, None) => None,
            _ => anyhow::bail!(
                "invalid configuration: notify.smtp.username and notify.smtp.password must be set together"
            ),
        };
        let builder = match config.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| {
                    anyhow::anyhow!("invalid configuration: notify.smtp (STARTTLS to {host}): {e}")
                })?,
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| {
                    anyhow::anyhow!("invalid configuration: notify.smtp (TLS to {host}): {e}")
                })?
            }
            SmtpSecurity::None => {
                if credentials.is_some() {
                    tracing::warn!(
                        target: "notify",
                        host,
                        "notify.smtp.security = \"none\" with credentials: they cross the network unencrypted (use it for local relays only)"
                    );
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(timeout));
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        let id_domain = from.email.domain().to_owned();
        Ok(Self {
            transport: builder.build(),
            from,
            id_domain,
            timeout,
        })
    }

    fn message(&self, m: Notification) -> Result<Message> {
        let to: Mailbox =
            m.to.as_str()
                .parse()
                .map_err(|_| Error::invalid("to", "the address cannot be used in an e-mail"))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject)
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::now_v7().simple(),
                self.id_domain
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(m.body)
            .map_err(|e| Error::backend(BACKEND, e))
    }
}

/// Transient (worth another attempt later) or permanent.
fn map_error(e: lettre::transport::smtp::Error) -> Error {
    let retryable = if e.is_transient() || e.is_timeout() {
        true
    } else if e.is_permanent() || e.is_tls() || e.is_client() || e.is_transport_shutdown() {
        false
    } else {
        // Connection refused/reset, DNS, an unparsable reply mid-stream.
        true
    };
    Error::unavailable(BACKEND, e, retryable)
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn send(&self, m: Notification) -> Result<()> {
        let kind = m.kind;
        let message = self.message(m)?;
        let result = match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(e)) => Err(map_error(e)),
            Err(_elapsed) => Err(Error::unavailable(
                BACKEND,
                format!("no answer from the relay within {:?}", self.timeout),
                true,
            )),
        };
        match &result {
            Ok(()) => tracing::debug!(target: "notify", ?kind, "mail handed to the SMTP relay"),
            // lettre's errors carry SMTP replies and I/O errors, never the
            // credentials or the message.
            Err(e) => {
                let detail = std::error::Error::source(e).map(ToString::to_string);
                tracing::warn!(target: "notify", ?kind, error = %e, detail = detail.as_deref().unwrap_or(""), "SMTP delivery failed");
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(from: &str) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 2525,
            username: None,
            password: None,
            from: from.into(),
            security: SmtpSecurity::None,
        }
    }

    #[test]
    fn bad_from_is_a_config_error() {
        for from in ["", "not an address", "shop@", "@puratan.test", "a@b@c"] {
            let err = SmtpNotifier::new(&config(from)).expect_err(from);
            let msg = err.to_string();
            assert!(msg.contains("invalid configuration"), "{msg}");
            assert!(msg.contains("notify.smtp.from"), "{msg}");
        }
    }

    #[test]
    fn from_may_carry_a_display_name() {
        let n = SmtpNotifier::new(&config("Puratan Shop <shop@puratan.test>")).expect("valid");
        assert_eq!(n.from.email.to_string(), "shop@puratan.test");
        assert_eq!(n.id_domain, "puratan.test");
    }

    #[test]
    fn half_credentials_are_a_config_error_and_never_leak() {
        let mut c = config("shop@puratan.test");
        c.password = Some("hunter2-secret".into());
        let err = SmtpNotifier::new(&c).expect_err("password without username");
        let msg = err.to_string();
        assert!(msg.contains("notify.smtp.username"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");

        c.username = Some("shop".into());
        let n = SmtpNotifier::new(&c).expect("both set");
        assert!(!format!("{n:?}").contains("hunter2"));
    }

    fn message() -> Notification {
        Notification {
            to: puratan_core::domain::Email::parse("ann@example.com").expect("email"),
            kind: puratan_core::ports::NotificationKind::VerifyEmail,
            subject: "Confirm".into(),
            body: "https://shop.example/verify-email?token=ver_secret".into(),
            token: Some("ver_secret".into()),
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port")
    }

    #[tokio::test]
    async fn relay_down_is_retryable_unavailable() {
        let mut c = config("shop@puratan.test");
        c.port = free_port();
        let err = SmtpNotifier::new(&c)
            .expect("config")
            .send(message())
            .await
            .expect_err("nothing listens");
        assert!(
            matches!(
                err,
                Error::Unavailable {
                    backend: "smtp",
                    retryable: true,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn hung_relay_times_out() {
        // Accepts connections (the kernel does) but never greets.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut c = config("shop@puratan.test");
        c.port = listener.local_addr().expect("addr").port();
        let n = SmtpNotifier::with_timeout(&c, Duration::from_millis(300)).expect("config");
        let started = std::time::Instant::now();
        let err = n.send(message()).await.expect_err("no greeting");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(
                err,
                Error::Unavailable {
                    retryable: true,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = format!("{err:?}");
        assert!(!text.contains("ver_secret"), "{text}");
        drop(listener);
    }

    #[test]
    fn every_security_mode_builds() {
        for security in [
            SmtpSecurity::Starttls,
            SmtpSecurity::Tls,
            SmtpSecurity::None,
        ] {
            let mut c = config("shop@puratan.test");
            c.host = "mail.example.com".into();
            c.security = security;
            SmtpNotifier::new(&c).unwrap_or_else(|e| panic!("{security:?}: {e}"));
        }
    }
}
