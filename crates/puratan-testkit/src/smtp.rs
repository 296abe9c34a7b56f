//! A real SMTP server for mail tests, and a reader for what it received.
//!
//! [`ensure_sink`] starts (once per test process) the `aiosmtpd` server of
//! `scripts/services/smtp.sh` unless it already answers, with
//! [`crate::service::require`] semantics: under `CI=true` an unreachable
//! sink is a failure, otherwise a loud skip.
//!
//! The server stores every message it accepts in a Maildir (one file per
//! message, as received, plus `X-MailFrom`/`X-RcptTo` envelope headers);
//! [`SmtpSink::wait_for`] finds a message by envelope recipient and
//! decodes its body (`7bit`, `8bit`, `quoted-printable`, `base64`).
//! Header values are returned unfolded but otherwise raw (RFC 2047
//! encoded words are not decoded).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::OnceCell;

/// Where the sink listens and where it stores what it receives.
#[derive(Debug, Clone)]
pub struct SmtpSink {
    pub host: String,
    pub port: u16,
    /// `$PURATAN_CACHE/smtp-sink-<port>/maildir`.
    pub maildir: PathBuf,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Unfolded headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body after undoing its `Content-Transfer-Encoding`.
    pub body: String,
    /// The file as stored (headers added by the sink included).
    pub raw: String,
}

impl ReceivedMail {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Envelope recipients (`RCPT TO`), as recorded by the sink.
    pub fn envelope_to(&self) -> Vec<String> {
        self.header("X-RcptTo")
            .map(|v| {
                v.split(',')
                    .map(|a| a.trim().to_ascii_lowercase())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Envelope sender (`MAIL FROM`), as recorded by the sink.
    pub fn envelope_from(&self) -> Option<&str> {
        self.header("X-MailFrom")
    }

    fn parse(raw: String) -> Self {
        let normalised = raw.replace("\r\n", "\n");
        let (head, body) = normalised
            .split_once("\n\n")
            .unwrap_or((normalised.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = headers.last_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            } else if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let mut mail = Self {
            headers,
            body: String::new(),
            raw: raw.clone(),
        };
        let encoding = mail
            .header("Content-Transfer-Encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        mail.body = match encoding.as_str() {
            "quoted-printable" => String::from_utf8_lossy(&decode_qp(body)).into_owned(),
            "base64" => String::from_utf8_lossy(&decode_base64(body)).into_owned(),
            _ => body.to_owned(),
        };
        mail
    }
}

impl SmtpSink {
    /// Every stored message with `to` among its envelope recipients, oldest
    /// file name first.
    pub fn messages_to(&self, to: &str) -> Vec<ReceivedMail> {
        let to = to.to_ascii_lowercase();
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir.join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|bytes| ReceivedMail::parse(String::from_utf8_lossy(&bytes).into_owned()))
            .filter(|m| m.envelope_to().contains(&to))
            .collect()
    }

    /// The newest message to `to`, waiting up to `timeout` for one.
    pub async fn wait_for(&self, to: &str, timeout: Duration) -> Result<ReceivedMail, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.messages_to(to).pop() {
                return Ok(m);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no mail to {to} in {} within {timeout:?}",
                    self.maildir.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Undoes quoted-printable: soft line breaks and `=XX` escapes.
fn decode_qp(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            ) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Standard base64, whitespace ignored, decoding stops at padding.
fn decode_base64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes().take_while(|&c| c != b'=') {
        let Some(v) = value(c) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn cache_dir() -> PathBuf {
    std::env::var_os("PURATAN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
                .join(".cache/puratan")
        })
}

/// An SMTP greeting (`220`) within two seconds.
async fn greets(host: &str, port: u16) -> Result<(), String> {
    let probe = async {
        let s = TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect {host}:{port}: {e}"))?;
        let mut buf = [0u8; 512];
        // readable() + try_read: no dependency on tokio's io-util.
        let n = loop {
            s.readable()
                .await
                .map_err(|e| format!("read greeting: {e}"))?;
            match s.try_read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("read greeting: {e}")),
            }
        };
        let _ = s.try_write(b"QUIT\r\n");
        if buf[..n].starts_with(b"220") {
            Ok(())
        } else {
            Err(format!(
                "{host}:{port} greets with {:?}",
                String::from_utf8_lossy(&buf[..n])
            ))
        }
    };
    tokio::time::timeout(Duration::from_secs(2), probe)
        .await
        .map_err(|_| format!("no SMTP greeting from {host}:{port} within 2s"))?
}

async fn start() -> Result<SmtpSink, String> {
    let port = std::env::var("PURATAN_SMTP_PORT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2525);
    let sink = SmtpSink {
        host: "127.0.0.1".into(),
        port,
        maildir: cache_dir().join(format!("smtp-sink-{port}/maildir")),
    };
    if greets(&sink.host, port).await.is_err() {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/services/smtp.sh"
        );
        let out = tokio::process::Command::new("bash")
            .arg(script)
            .output()
            .await
            .map_err(|e| format!("running {script}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{script} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        greets(&sink.host, port).await?;
    }
    if !sink.maildir.join("new").is_dir() {
        return Err(format!(
            "an SMTP server answers on {}:{port} but {} does not exist: it is not the sink of scripts/services/smtp.sh",
            sink.host,
            sink.maildir.display()
        ));
    }
    Ok(sink)
}

/// The sink, started if needed (once per process). `None` means it is
/// unavailable and the test should return (a panic under `CI=true`).
pub async fn ensure_sink() -> Option<SmtpSink> {
    static STARTED: OnceCell<Result<SmtpSink, String>> = OnceCell::const_new();
    let result = STARTED.get_or_init(start).await.clone();
    crate::service::require("SMTP sink (scripts/services/smtp.sh)", result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_and_decodes_bodies() {
        let raw = "Subject: a\r\n long one\r\nContent-Transfer-Encoding: quoted-printable\r\n\
                   X-RcptTo: Ann@Example.com, b@example.com\r\n\r\n\
                   https://x/verify-email?token=3Dab=\r\ncd\r\n";
        let m = ReceivedMail::parse(raw.into());
        assert_eq!(m.header("subject"), Some("a long one"));
        assert_eq!(m.envelope_to(), ["ann@example.com", "b@example.com"]);
        assert_eq!(m.body, "https://x/verify-email?token=abcd\n");

        let m =
            ReceivedMail::parse("Content-Transfer-Encoding: base64\n\naGVsbG8g\nd29ybGQ=\n".into());
        assert_eq!(m.body, "hello world");
    }
}
