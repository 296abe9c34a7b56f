//! RFC 6238 time-based one-time passwords and single-use recovery codes.
//!
//! Defaults match authenticator apps: HMAC-SHA-1, 6 digits, 30-second
//! steps. [`Totp::verify`] accepts the current step and one step either
//! side (clock drift) and returns the step that matched: store it as the
//! account's "last used step" and pass it back next time, so every code
//! works at most once (replay protection). Attempt limits belong to the
//! caller (rate limiter).
//!
//! Recovery codes are 80-bit random strings (`xxxx-xxxx-xxxx-xxxx`), shown
//! once and stored only as SHA-256 hashes (high-entropy secrets need no slow
//! hash); each may be used once.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

use super::AuthError;

/// The error type of this module's functions (an alias: the auth module has
/// one error enum).
pub type TotpError = AuthError;

/// The HMAC hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TotpAlgorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl TotpAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    /// Recommended secret length in bytes (the hash output size).
    pub fn secret_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }
}

/// TOTP parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpConfig {
    pub algorithm: TotpAlgorithm,
    /// 6 or 8.
    pub digits: u32,
    /// Step length in seconds (`X` in RFC 6238), 30 by default.
    pub period: u64,
}

impl Default for TotpConfig {
    fn default() -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

impl TotpConfig {
    fn check(&self) -> Result<(), AuthError> {
        if self.digits != 6 && self.digits != 8 {
            return Err(AuthError::InvalidTotpConfig("digits must be 6 or 8"));
        }
        if self.period == 0 || self.period > 300 {
            return Err(AuthError::InvalidTotpConfig(
                "period must be 1..=300 seconds",
            ));
        }
        Ok(())
    }
}

/// A TOTP shared secret. `Debug` is redacted; encrypt it at rest.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

/// Shortest accepted secret (RFC 4226 §4: at least 128 bits).
pub const MIN_SECRET_LEN: usize = 16;
const MAX_SECRET_LEN: usize = 128;

impl TotpSecret {
    /// A fresh random secret of the algorithm's recommended length.
    pub fn generate(algorithm: TotpAlgorithm) -> Result<Self, AuthError> {
        let mut bytes = vec![0u8; algorithm.secret_len()];
        super::random_bytes(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// From raw bytes (16..=128 bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AuthError> {
        if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&bytes.len()) {
            return Err(AuthError::InvalidTotpSecret);
        }
        Ok(Self(bytes.to_vec()))
    }

    /// From RFC 4648 base32 (case-insensitive, spaces and padding ignored).
    pub fn from_base32(s: &str) -> Result<Self, AuthError> {
        if s.len() > 4 * MAX_SECRET_LEN {
            return Err(AuthError::InvalidTotpSecret);
        }
        let cleaned: String = s
            .chars()
            .filter(|c| *c != ' ' && *c != '=' && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if cleaned.is_empty()
            || !cleaned
                .bytes()
                .all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'))
        {
            return Err(AuthError::InvalidTotpSecret);
        }
        let bytes = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &cleaned)
            .ok_or(AuthError::InvalidTotpSecret)?;
        Self::from_bytes(&bytes)
    }

    /// RFC 4648 base32 without padding, as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &self.0)
    }

    /// The raw secret, for encryption at rest.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A TOTP generator/verifier for one secret.
#[derive(Debug, Clone)]
pub struct Totp {
    secret: TotpSecret,
    config: TotpConfig,
}

impl Totp {
    pub fn new(secret: TotpSecret, config: TotpConfig) -> Result<Self, AuthError> {
        config.check()?;
        Ok(Self { secret, config })
    }

    pub fn config(&self) -> TotpConfig {
        self.config
    }

    /// The time step containing `now_unix`.
    pub fn step_at(&self, now_unix: u64) -> u64 {
        now_unix / self.config.period
    }

    /// The code for one step (RFC 4226 HOTP with counter = step).
    pub fn code_for_step(&self, step: u64) -> String {
        let msg = step.to_be_bytes();
        let mac: Vec<u8> = match self.config.algorithm {
            TotpAlgorithm::Sha1 => hmac::<Hmac<sha1::Sha1>>(&self.secret.0, &msg),
            TotpAlgorithm::Sha256 => hmac::<Hmac<Sha256>>(&self.secret.0, &msg),
            TotpAlgorithm::Sha512 => hmac::<Hmac<Sha512>>(&self.secret.0, &msg),
        };
        // Dynamic truncation (RFC 4226 §5.3). The MAC is at least 20 bytes,
        // so offset + 3 <= 15 + 3 < 20.
        if mac.len() < 20 {
            return String::new();
        }
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let bin = (u32::from(mac[offset] & 0x7f) << 24)
            | (u32::from(mac[offset + 1]) << 16)
            | (u32::from(mac[offset + 2]) << 8)
            | u32::from(mac[offset + 3]);
        let modulo = 10u32.pow(self.config.digits);
        format!(
            "{:0width$}",
            bin % modulo,
            width = self.config.digits as usize
        )
    }

    /// The code valid at `now_unix`.
    pub fn code_at(&self, now_unix: u64) -> String {
        self.code_for_step(self.step_at(now_unix))
    }

    /// Verifies `code` at `now_unix`, accepting one step of drift either
    /// side. Returns the matched step; the caller stores it and passes it as
    /// `last_used_step` next time. A code for a step `<= last_used_step` is
    /// rejected with `OtpReplay` (so is any older code once a newer one was
    /// used). Spaces in `code` are ignored; anything else that is not
    /// exactly `digits` ASCII digits is `InvalidOtp`.
    pub fn verify(
        &self,
        code: &str,
        now_unix: u64,
        last_used_step: Option<u64>,
    ) -> Result<u64, AuthError> {
        if code.len() > 32 {
            return Err(AuthError::InvalidOtp);
        }
        let code: String = code.chars().filter(|c| *c != ' ').collect();
        if code.len() != self.config.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthError::InvalidOtp);
        }
        let current = self.step_at(now_unix);
        let mut fresh: Option<u64> = None;
        let mut replayed = false;
        // Check every candidate (no early exit) so timing does not tell
        // which step matched.
        for step in [
            current.checked_sub(1),
            Some(current),
            current.checked_add(1),
        ]
        .into_iter()
        .flatten()
        {
            let candidate = self.code_for_step(step);
            let matches: bool = candidate.as_bytes().ct_eq(code.as_bytes()).into();
            if matches {
                if last_used_step.is_some_and(|last| step <= last) {
                    replayed = true;
                } else if fresh.is_none() {
                    fresh = Some(step);
                }
            }
        }
        match (fresh, replayed) {
            (Some(step), _) => Ok(step),
            (None, true) => Err(AuthError::OtpReplay),
            (None, false) => Err(AuthError::InvalidOtp),
        }
    }

    /// The `otpauth://totp/…` URI for enrolment (QR code content).
    /// `issuer` and `account` must not contain `:`.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Result<String, AuthError> {
        if issuer.is_empty() || issuer.contains(':') || account.is_empty() || account.contains(':')
        {
            return Err(AuthError::InvalidTotpConfig(
                "issuer and account must be non-empty and contain no ':'",
            ));
        }
        Ok(format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm={}&digits={}&period={}",
            percent_encode(issuer),
            percent_encode(account),
            self.secret.to_base32(),
            percent_encode(issuer),
            self.config.algorithm.as_str(),
            self.config.digits,
            self.config.period,
        ))
    }
}

/// Verifies with the default configuration (SHA-1, 6 digits, 30 s); see
/// [`Totp::verify`].
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    now_unix: u64,
    last_used_step: Option<u64>,
) -> Result<u64, TotpError> {
    Totp::new(secret.clone(), TotpConfig::default())?.verify(code, now_unix, last_used_step)
}

fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails.
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Recovery codes
// ---------------------------------------------------------------------------

/// How many recovery codes a user gets.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Crockford base32, lower-case: no i, l, o, u.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const RECOVERY_LEN: usize = 16;
const RECOVERY_HASH_PREFIX: &str = "sha256$";

/// A plaintext recovery code: show it to the user once, store only
/// [`RecoveryCode::hash`]. `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    /// `xxxx-xxxx-xxxx-xxxx`, for display.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The storage form: `sha256$<hex>` of the normalised code.
    pub fn hash(&self) -> String {
        hash_normalized(&self.0.replace('-', ""))
    }
}

/// Generates [`RECOVERY_CODE_COUNT`] codes and their storage forms (same
/// order).
pub fn generate_recovery_codes() -> Result<(Vec<RecoveryCode>, Vec<String>), AuthError> {
    let mut codes = Vec::with_capacity(RECOVERY_CODE_COUNT);
    for _ in 0..RECOVERY_CODE_COUNT {
        let mut bytes = [0u8; RECOVERY_LEN];
        super::random_bytes(&mut bytes)?;
        let mut s = String::with_capacity(RECOVERY_LEN + 3);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                s.push('-');
            }
            // 256 is a multiple of 32: no modulo bias.
            s.push(char::from(RECOVERY_ALPHABET[usize::from(b & 31)]));
        }
        codes.push(RecoveryCode(s));
    }
    let hashes = codes.iter().map(RecoveryCode::hash).collect();
    Ok((codes, hashes))
}

fn normalize_recovery(input: &str) -> Option<String> {
    if input.len() > 64 {
        return None;
    }
    let mut out = String::with_capacity(RECOVERY_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            '-' | ' ' => continue,
            'i' | 'l' => '1',
            'o' => '0',
            c => c,
        };
        if !c.is_ascii() || !RECOVERY_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == RECOVERY_LEN).then_some(out)
}

fn hash_normalized(code: &str) -> String {
    format!(
        "{RECOVERY_HASH_PREFIX}{}",
        crate::hex::sha256(code.as_bytes())
    )
}

/// Checks `input` against the stored (unused) hashes and returns the index
/// of the one that matched; the caller removes it so it cannot be used
/// again (see [`consume_recovery_code`]). Input is case-insensitive and may
/// contain dashes and spaces.
pub fn verify_recovery_code(input: &str, stored: &[String]) -> Result<usize, AuthError> {
    let normalized = normalize_recovery(input).ok_or(AuthError::InvalidRecoveryCode)?;
    let candidate = hash_normalized(&normalized);
    let mut found = None;
    for (i, h) in stored.iter().enumerate() {
        let eq: bool = h.as_bytes().ct_eq(candidate.as_bytes()).into();
        if eq && found.is_none() {
            found = Some(i);
        }
    }
    found.ok_or(AuthError::InvalidRecoveryCode)
}

/// Verifies and removes the matching hash from `stored` (single use).
pub fn consume_recovery_code(input: &str, stored: &mut Vec<String>) -> Result<(), AuthError> {
    let i = verify_recovery_code(input, stored)?;
    stored.remove(i);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totp(seed: &[u8], algorithm: TotpAlgorithm, digits: u32) -> Totp {
        Totp::new(
            TotpSecret::from_bytes(seed).unwrap(),
            TotpConfig {
                algorithm,
                digits,
                period: 30,
            },
        )
        .unwrap()
    }

    fn default_totp() -> Totp {
        totp(b"12345678901234567890", TotpAlgorithm::Sha1, 6)
    }

    /// RFC 6238 Appendix B, all 18 vectors (8 digits).
    #[test]
    fn rfc6238_appendix_b_vectors() {
        let sha1 = b"12345678901234567890";
        let sha256 = b"12345678901234567890123456789012";
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        let mut checked = 0;
        for (t, c1, c256, c512) in vectors {
            for (seed, alg, want) in [
                (&sha1[..], TotpAlgorithm::Sha1, c1),
                (&sha256[..], TotpAlgorithm::Sha256, c256),
                (&sha512[..], TotpAlgorithm::Sha512, c512),
            ] {
                let g = totp(seed, alg, 8);
                assert_eq!(g.code_at(t), want, "{alg:?} at {t}");
                assert_eq!(g.verify(want, t, None).ok(), Some(t / 30), "{alg:?} at {t}");
                checked += 1;
            }
        }
        assert_eq!(checked, 18);
    }

    #[test]
    fn six_digit_default_is_the_low_digits_of_the_8_digit_code() {
        let g = default_totp();
        assert_eq!(g.code_at(59), "287082");
        assert_eq!(g.code_at(1111111109), "081804");
    }

    #[test]
    fn replay_of_a_used_code_is_rejected() {
        let g = default_totp();
        let now = 1_700_000_000;
        let code = g.code_at(now);
        let step = g.verify(&code, now, None).unwrap();
        assert_eq!(step, now / 30);
        // Same code, same step, again: replay.
        assert!(matches!(
            g.verify(&code, now, Some(step)),
            Err(AuthError::OtpReplay)
        ));
        assert!(matches!(
            g.verify(&code, now + 10, Some(step)),
            Err(AuthError::OtpReplay)
        ));
        // The previous step's code is also dead once a newer one was used.
        let prev = g.code_for_step(step - 1);
        assert!(matches!(
            g.verify(&prev, now, Some(step)),
            Err(AuthError::OtpReplay)
        ));
        // The next step's code still works, once.
        let next = g.code_at(now + 30);
        let s2 = g.verify(&next, now + 30, Some(step)).unwrap();
        assert_eq!(s2, step + 1);
        assert!(matches!(
            g.verify(&next, now + 30, Some(s2)),
            Err(AuthError::OtpReplay)
        ));
    }

    #[test]
    fn drift_of_one_step_accepted_two_rejected() {
        let g = default_totp();
        let now: u64 = 1_700_000_015; // step 56_666_667
        let step = now / 30;
        for (delta, ok) in [(-2i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let s = step.checked_add_signed(delta).unwrap();
            let code = g.code_for_step(s);
            let r = g.verify(&code, now, None);
            if ok {
                assert_eq!(r.ok(), Some(s), "drift {delta}");
            } else {
                // Guard against an accidental collision with a window code.
                let window: Vec<String> =
                    (step - 1..=step + 1).map(|w| g.code_for_step(w)).collect();
                assert!(!window.contains(&code));
                assert!(
                    matches!(r, Err(AuthError::InvalidOtp)),
                    "drift {delta}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn hostile_codes_never_panic() {
        let g = default_totp();
        let long = "1".repeat(10_000);
        for bad in [
            "",
            "12345",
            "1234567",
            "abcdef",
            "12345\u{0660}",
            "١٢٣٤٥٦",
            "12 34 5",
            "-12345",
            "+12345",
            "123456\n",
            &long,
        ] {
            assert!(
                matches!(g.verify(bad, 59, None), Err(AuthError::InvalidOtp)),
                "{bad:?}"
            );
        }
        // Spaces are tolerated.
        let code = g.code_at(1_000_000);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(g.verify(&spaced, 1_000_000, None).is_ok());
        // Time zero: no underflow on step - 1; u64::MAX: no overflow.
        let c0 = g.code_at(0);
        assert_eq!(g.verify(&c0, 0, None).ok(), Some(0));
        let cmax = g.code_at(u64::MAX);
        assert!(g.verify(&cmax, u64::MAX, None).is_ok());
    }

    #[test]
    fn config_and_secret_validation() {
        let s = TotpSecret::generate(TotpAlgorithm::Sha1).unwrap();
        assert_eq!(s.expose_bytes().len(), 20);
        assert_eq!(
            TotpSecret::generate(TotpAlgorithm::Sha512)
                .unwrap()
                .expose_bytes()
                .len(),
            64
        );
        let bad_digits = TotpConfig {
            digits: 7,
            ..TotpConfig::default()
        };
        assert!(matches!(
            Totp::new(s.clone(), bad_digits),
            Err(AuthError::InvalidTotpConfig(_))
        ));
        let bad_period = TotpConfig {
            period: 0,
            ..TotpConfig::default()
        };
        assert!(Totp::new(s.clone(), bad_period).is_err());
        // base32 round trip, case-insensitive, spaces ignored.
        let b32 = s.to_base32();
        assert_eq!(TotpSecret::from_base32(&b32).unwrap(), s);
        assert_eq!(TotpSecret::from_base32(&b32.to_lowercase()).unwrap(), s);
        assert_eq!(
            TotpSecret::from_base32("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ")
                .unwrap()
                .expose_bytes(),
            b"12345678901234567890"
        );
        for bad in [
            "",
            "====",
            "GEZDGNBV",
            "01890189018901890189",
            "GEZDGNBVGY3TQOJQ!",
            "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ",
        ] {
            assert!(TotpSecret::from_base32(bad).is_err(), "{bad:?}");
        }
        assert!(TotpSecret::from_bytes(&[0; 15]).is_err());
        assert!(!format!("{s:?}").contains(&b32));
    }

    #[test]
    fn free_verify_uses_the_default_config() {
        let s = TotpSecret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(verify(&s, "287082", 59, None).ok(), Some(1));
        assert!(matches!(
            verify(&s, "287082", 59, Some(1)),
            Err(AuthError::OtpReplay)
        ));
    }

    #[test]
    fn otpauth_uri() {
        let g = default_totp();
        let uri = g.otpauth_uri("Puratan Print", "ann@example.com").unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/Puratan%20Print:ann@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Puratan%20Print&algorithm=SHA1&digits=6&period=30"
        );
        let g8 = totp(
            b"12345678901234567890123456789012",
            TotpAlgorithm::Sha256,
            8,
        );
        let uri = g8.otpauth_uri("Shop&Co", "a b?c").unwrap();
        assert!(uri.contains("/Shop%26Co:a%20b%3Fc?"), "{uri}");
        assert!(
            uri.ends_with("&algorithm=SHA256&digits=8&period=30"),
            "{uri}"
        );
        assert!(g.otpauth_uri("a:b", "c").is_err());
        assert!(g.otpauth_uri("a", "").is_err());
    }

    #[test]
    fn recovery_codes_are_single_use_and_stored_hashed() {
        let (codes, mut hashes) = generate_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        assert_eq!(hashes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().map(|c| c.expose()).collect();
        assert_eq!(unique.len(), 10);
        for (c, h) in codes.iter().zip(&hashes) {
            let s = c.expose();
            assert_eq!(s.len(), 19);
            assert_eq!(s.matches('-').count(), 3);
            assert!(h.starts_with("sha256$") && h.len() == 7 + 64);
            assert!(!h.contains(&s.replace('-', "")));
            assert!(!format!("{c:?}").contains(s));
        }
        // Case-insensitive, dashes optional.
        let third = codes[2].expose().to_uppercase().replace('-', " ");
        assert_eq!(verify_recovery_code(&third, &hashes).ok(), Some(2));
        consume_recovery_code(&third, &mut hashes).unwrap();
        assert_eq!(hashes.len(), 9);
        assert!(matches!(
            consume_recovery_code(codes[2].expose(), &mut hashes),
            Err(AuthError::InvalidRecoveryCode)
        ));
        // Others still work.
        consume_recovery_code(codes[9].expose(), &mut hashes).unwrap();
        for bad in ["", "0000-0000-0000-0000", "zzzz", "ü", &"a".repeat(1000)] {
            assert!(verify_recovery_code(bad, &hashes).is_err(), "{bad:?}");
        }
    }
}
