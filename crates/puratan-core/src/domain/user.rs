use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::UserId;
use crate::Error;

/// An e-mail address, trimmed and lower-cased so uniqueness is
/// case-insensitive. Validation is deliberately shallow (one `@`, a dot in
/// the domain, no spaces or controls): the only real check is sending mail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim().to_lowercase();
        let bad = || Error::invalid("email", "not a valid e-mail address");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Staff,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    PendingVerification,
    Active,
    Locked,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub status: AccountStatus,
    /// PHC string (argon2id); `None` for accounts that only log in via OIDC.
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_case_insensitive_and_validated() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ")
                .ok()
                .map(String::from)
                .as_deref(),
            Some("ann@example.com")
        );
        for bad in [
            "", "ann", "ann@", "@x.de", "a b@x.de", "a@b@c.de", "a@nodot", "a@x.de.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
