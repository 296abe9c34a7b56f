//! Mapping a validated external identity to a local account.

use super::IdTokenClaims;
use crate::auth::AuthError;
use crate::domain::{Email, UserId};

/// What to do with a validated login; see [`decide_link`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkDecision {
    /// The identity is linked to this account: log it in. Also returned
    /// when the account linking the identity already owns it (nothing to
    /// store).
    LoginExisting(UserId),
    /// Store the link `(issuer, subject) → this account` (the logged-in
    /// user who started a linking flow). The session stays theirs.
    LinkToCurrent(UserId),
    /// Create an account with this (provider-verified) address — mark it
    /// verified — and link the identity to it.
    CreateNew { email: Email, name: Option<String> },
    /// Not linked, and the address belongs to an existing account: no login
    /// (`oidc_email_taken`; the user logs in and links from the profile).
    RefuseEmailTaken,
    /// Not linked, and no verified address to create an account with
    /// (`oidc_email_unverified`).
    RefuseEmailUnverified,
    /// A linking flow for an identity that another account owns
    /// (`oidc_identity_linked_elsewhere`).
    RefuseLinkedElsewhere,
}

impl LinkDecision {
    /// The error to answer with for a refusal; `None` for the other
    /// decisions.
    pub fn refusal(&self) -> Option<AuthError> {
        match self {
            Self::RefuseEmailTaken => Some(AuthError::OidcEmailTaken),
            Self::RefuseEmailUnverified => Some(AuthError::OidcEmailUnverified),
            Self::RefuseLinkedElsewhere => Some(AuthError::OidcIdentityLinkedElsewhere),
            Self::LoginExisting(_) | Self::LinkToCurrent(_) | Self::CreateNew { .. } => None,
        }
    }
}

/// Decides what a validated login means for local accounts. The inputs are
/// looked up by the caller:
///
/// * `linked_user` — the account linked to `claims.identity()`
///   (`(issuer, subject)`), if any;
/// * `link_user` — [`PendingLogin::link_user`](super::PendingLogin::link_user):
///   the logged-in account that started a linking flow (the server has
///   checked the session at the callback is still that user's);
/// * `email_owner` — the account whose e-mail equals `claims.email`, if any
///   (look it up whenever `claims.email` is `Some`, verified or not).
///
/// | linked to | linking user | e-mail           | decision                 |
/// |-----------|--------------|------------------|--------------------------|
/// | U         | none or U    | –                | `LoginExisting(U)`       |
/// | U         | V ≠ U        | –                | `RefuseLinkedElsewhere`  |
/// | nobody    | V            | –                | `LinkToCurrent(V)`       |
/// | nobody    | none         | missing/unverified | `RefuseEmailUnverified` |
/// | nobody    | none         | verified, owned  | `RefuseEmailTaken`       |
/// | nobody    | none         | verified, free   | `CreateNew`              |
///
/// The e-mail address never selects an existing account: see the module
/// docs for why.
pub fn decide_link(
    claims: &IdTokenClaims,
    linked_user: Option<UserId>,
    link_user: Option<UserId>,
    email_owner: Option<UserId>,
) -> LinkDecision {
    match (linked_user, link_user) {
        (Some(owner), None) => LinkDecision::LoginExisting(owner),
        (Some(owner), Some(current)) if owner == current => LinkDecision::LoginExisting(owner),
        (Some(_), Some(_)) => LinkDecision::RefuseLinkedElsewhere,
        (None, Some(current)) => LinkDecision::LinkToCurrent(current),
        (None, None) => match (&claims.email, claims.email_verified) {
            (Some(email), true) => {
                if email_owner.is_some() {
                    LinkDecision::RefuseEmailTaken
                } else {
                    LinkDecision::CreateNew {
                        email: email.clone(),
                        name: claims.name.clone(),
                    }
                }
            }
            _ => LinkDecision::RefuseEmailUnverified,
        },
    }
}
