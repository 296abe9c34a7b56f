use std::fmt;

use std::collections::BTreeMap;

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
    /// When the address was confirmed (verification link or a provider
    /// that vouches for it); `None` until then.
    #[serde(default)]
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Second factor and login-failure state.
    #[serde(default)]
    pub security: Security,
    /// External identities (OIDC `iss` + `sub`) that log into this account.
    #[serde(default)]
    pub identities: Vec<ExternalIdentity>,
    /// Free-form customer preferences (language, newsletter, units…).
    #[serde(default)]
    pub preferences: BTreeMap<String, String>,
    #[serde(default)]
    pub version: u64,
}

/// Authentication state kept on the user record. Secrets in here are
/// sealed (encrypted under a data key id) or hashed, never plain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Security {
    /// TOTP, once enrolment started; `confirmed` once a code proved it.
    #[serde(default)]
    pub totp: Option<TotpEnrolment>,
    /// SHA-256 hashes of unused recovery codes.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    /// Consecutive failed password logins since the last success.
    #[serde(default)]
    pub failed_logins: u32,
    /// Temporary lockout after too many failures.
    #[serde(default)]
    pub locked_until: Option<DateTime<Utc>>,
    /// Bumped by password change/reset; part of nothing secret, shown in
    /// the profile history.
    #[serde(default)]
    pub password_changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    /// The shared secret, sealed (`pe1.<kid>.<ciphertext>`).
    pub secret: String,
    pub confirmed: bool,
    /// The last accepted time step: a code is accepted once.
    #[serde(default)]
    pub last_step: Option<u64>,
}

/// An account at an OpenID provider, keyed by issuer and subject — never
/// by e-mail, which providers let users change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
}

impl User {
    /// A new, unverified customer account.
    pub fn new_customer(email: Email, display_name: String, password_hash: Option<String>) -> Self {
        Self {
            id: UserId::new(),
            email,
            display_name,
            roles: vec![Role::Customer],
            status: AccountStatus::PendingVerification,
            password_hash,
            created_at: Utc::now(),
            email_verified_at: None,
            security: Security::default(),
            identities: Vec::new(),
            preferences: BTreeMap::new(),
            version: 0,
        }
    }

    /// Whether a confirmed second factor is required at login.
    pub fn has_totp(&self) -> bool {
        self.security.totp.as_ref().is_some_and(|t| t.confirmed)
    }
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
