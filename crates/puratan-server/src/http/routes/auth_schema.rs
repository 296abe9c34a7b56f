//! OpenAPI shapes of the account responses. The types themselves live in
//! `puratan_core::accounts` (which knows nothing of OpenAPI); these mirror
//! them for the generated document, and a test checks that the mirrors
//! have exactly the fields the real types serialise.

#![allow(dead_code)] // read by utoipa's derive only

use utoipa::ToSchema;

/// What a successful login or refresh returns.
#[derive(Debug, ToSchema)]
#[schema(as = TokenPair)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
    /// Single use: each refresh returns a new one.
    pub refresh_token: String,
    pub refresh_expires_in: u64,
    /// The login session (see `GET /api/v1/me/sessions`).
    pub session_id: String,
}

/// 2FA enrolment: the secret three ways.
#[derive(Debug, ToSchema)]
#[schema(as = Enrolment)]
pub struct Enrolment {
    /// Base32 secret for manual entry.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as an SVG QR code.
    pub qr_svg: String,
}

/// 2FA switched on.
#[derive(Debug, ToSchema)]
#[schema(as = Confirmed)]
pub struct Confirmed {
    /// Shown once: store them somewhere safe. Each works once.
    pub recovery_codes: Vec<String>,
    /// Every other session was ended; this one continues with new tokens.
    pub tokens: TokenPair,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::PartialSchema;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    fn properties<T: PartialSchema>() -> BTreeSet<String> {
        match T::schema() {
            RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
            _ => panic!("not an object schema"),
        }
    }

    fn keys(v: serde_json::Value) -> BTreeSet<String> {
        v.as_object().expect("object").keys().cloned().collect()
    }

    #[test]
    fn mirrors_match_the_serialised_core_types() {
        use puratan_core::accounts::second_factor::{Confirmed, Enrolment};
        use puratan_core::accounts::session::TokenPair;
        let pair = TokenPair {
            access_token: "a".into(),
            token_type: "Bearer",
            expires_in: 1,
            refresh_token: "r".into(),
            refresh_expires_in: 2,
            session_id: "s".into(),
        };
        let enrol = Enrolment {
            secret: "s".into(),
            otpauth_uri: "u".into(),
            qr_svg: "q".into(),
        };
        assert_eq!(
            keys(serde_json::to_value(&pair).expect("json")),
            properties::<super::TokenPair>()
        );
        assert_eq!(
            keys(serde_json::to_value(&enrol).expect("json")),
            properties::<super::Enrolment>()
        );
        let confirmed = Confirmed {
            recovery_codes: vec![],
            tokens: pair,
        };
        assert_eq!(
            keys(serde_json::to_value(&confirmed).expect("json")),
            properties::<super::Confirmed>()
        );
    }
}
