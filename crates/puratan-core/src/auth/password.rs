//! Password policy and argon2id hashing.
//!
//! * Policy (NIST SP 800-63B / OWASP ASVS 2.1): at least 8 and at most 128
//!   characters (counted after Unicode NFKC normalisation, which is also
//!   what gets hashed, so "é" typed composed or decomposed is the same
//!   password), any characters, no composition rules, never truncated, and
//!   not one of the 10 000 most common passwords (`common-passwords.txt`,
//!   compared case-insensitively).
//! * Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`), 16-byte
//!   random salt, 32-byte output. [`PasswordHasher::needs_rehash`] tells the
//!   login path to re-hash with the current parameters.
//! * For an unknown account call [`PasswordHasher::dummy_verify`] so the
//!   response takes as long as a wrong password.
//!
//! **Blocking:** hashing and verifying cost tens of milliseconds of CPU on
//! purpose. This crate has no runtime; async callers must run
//! [`PasswordHasher::hash`], [`PasswordHasher::verify`] and
//! [`PasswordHasher::dummy_verify`] on a blocking thread
//! (`tokio::task::spawn_blocking`, a rayon pool, …).

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization as _;

use super::AuthError;

/// Minimum password length in characters (Unicode scalar values).
pub const MIN_LEN: usize = 8;
/// Maximum password length in characters. Longer passwords are rejected,
/// never truncated.
pub const MAX_LEN: usize = 128;

/// Largest parameters accepted from a stored PHC string, so a corrupted or
/// hostile hash cannot make one verification allocate gigabytes or spin.
const MAX_M_COST_KIB: u32 = 1024 * 1024;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 64;

const SALT_LEN: usize = 16;
const OUTPUT_LEN: usize = 32;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Whether `password` is on the bundled common-password list
/// (case-insensitive).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(password.to_lowercase().as_str())
}

/// Checks the password policy (length and common-password list). Does not
/// hash. Errors: `PasswordTooShort`, `PasswordTooLong`, `PasswordTooCommon`.
pub fn check_policy(password: &str) -> Result<(), AuthError> {
    check_normalized(&normalize(password))
}

/// NFKC (NIST SP 800-63B §5.1.1.2). Bounded: the input is cut off far
/// beyond the maximum length first, so hostile megabyte inputs cost nothing
/// (the result is then too long and rejected anyway).
fn normalize(password: &str) -> String {
    let mut end = password.len().min(16 * MAX_LEN);
    while !password.is_char_boundary(end) {
        end -= 1;
    }
    let mut out: String = password[..end].nfkc().collect();
    if end < password.len() {
        // Make sure a cut input can never pass the length check.
        out.extend(std::iter::repeat_n('x', MAX_LEN + 1));
    }
    out
}

fn check_normalized(password: &str) -> Result<(), AuthError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(AuthError::PasswordTooShort { min: MIN_LEN });
    }
    if len > MAX_LEN {
        return Err(AuthError::PasswordTooLong { max: MAX_LEN });
    }
    if is_common(password) {
        return Err(AuthError::PasswordTooCommon);
    }
    Ok(())
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl PasswordParams {
    /// OWASP's minimum recommendation for argon2id: m = 19 MiB, t = 2, p = 1.
    pub const OWASP_MIN: Self = Self {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };

    /// Validated parameters: at least [`Self::OWASP_MIN`]'s memory and
    /// iterations, and within what a stored hash may ask for.
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, AuthError> {
        let p = Self {
            m_cost_kib,
            t_cost,
            p_cost,
        };
        if m_cost_kib < Self::OWASP_MIN.m_cost_kib || t_cost < Self::OWASP_MIN.t_cost {
            return Err(AuthError::InvalidParams(format!(
                "below the OWASP minimum (m >= {} KiB, t >= {})",
                Self::OWASP_MIN.m_cost_kib,
                Self::OWASP_MIN.t_cost
            )));
        }
        p.check_bounds()?;
        Ok(p)
    }

    fn check_bounds(self) -> Result<(), AuthError> {
        if self.m_cost_kib > MAX_M_COST_KIB
            || self.t_cost > MAX_T_COST
            || self.p_cost == 0
            || self.p_cost > MAX_P_COST
        {
            return Err(AuthError::InvalidParams(format!(
                "out of range (m <= {MAX_M_COST_KIB} KiB, t <= {MAX_T_COST}, 1 <= p <= {MAX_P_COST})"
            )));
        }
        Ok(())
    }

    fn to_argon2(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(OUTPUT_LEN))
            .map_err(|e| AuthError::InvalidParams(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self::OWASP_MIN
    }
}

/// Hashes and verifies passwords with fixed argon2id parameters. Cheap to
/// clone; share one per process.
#[derive(Clone)]
pub struct PasswordHasher {
    params: PasswordParams,
    argon2: Argon2<'static>,
    /// A hash of a random password with the current parameters, verified
    /// against for unknown accounts.
    dummy_phc: String,
    /// argon2 verifications run (real and dummy), shared by clones: lets
    /// tests check that every login path does the same work without
    /// timing it.
    verifications: Arc<AtomicU64>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds a hasher (computes one hash for [`Self::dummy_verify`]: run it
    /// on a blocking thread too). Parameters below [`PasswordParams::OWASP_MIN`]
    /// are refused, however they were constructed.
    pub fn new(params: PasswordParams) -> Result<Self, AuthError> {
        let params = PasswordParams::new(params.m_cost_kib, params.t_cost, params.p_cost)?;
        Self::build(params)
    }

    /// A hasher with parameters below the OWASP minimum, so test suites
    /// (here and in adapters) do not spend seconds per hash in debug
    /// builds. Never use it in production configuration.
    #[doc(hidden)]
    pub fn insecure_for_tests(params: PasswordParams) -> Result<Self, AuthError> {
        Self::build(params)
    }

    fn build(params: PasswordParams) -> Result<Self, AuthError> {
        params.check_bounds()?;
        let argon2 = params.to_argon2()?;
        let mut random = [0u8; 32];
        super::random_bytes(&mut random)?;
        let mut this = Self {
            params,
            argon2,
            dummy_phc: String::new(),
            verifications: Arc::default(),
        };
        this.dummy_phc = this.hash_raw(&random)?;
        Ok(this)
    }

    pub fn params(&self) -> PasswordParams {
        self.params
    }

    /// Checks the policy, then hashes. Returns a PHC string.
    pub fn hash(&self, password: &str) -> Result<String, AuthError> {
        let password = normalize(password);
        check_normalized(&password)?;
        self.hash_raw(password.as_bytes())
    }

    fn hash_raw(&self, password: &[u8]) -> Result<String, AuthError> {
        let mut salt = [0u8; SALT_LEN];
        super::random_bytes(&mut salt)?;
        let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Crypto)?;
        self.argon2
            .hash_password(password, &salt)
            .map(|h| h.to_string())
            .map_err(|_| AuthError::Crypto)
    }

    /// Verifies `password` against a stored PHC string. `Ok(())` on a match,
    /// `InvalidCredentials` on a mismatch, `MalformedHash` if the PHC string
    /// is not an argon2id v19 hash with sane parameters. Never panics.
    ///
    /// Passwords longer than the policy allows cannot match any hash this
    /// module made and are rejected without hashing.
    pub fn verify(&self, password: &str, phc: &str) -> Result<(), AuthError> {
        let hash = parse_phc(phc)?;
        let password = normalize(password);
        if password.chars().count() > MAX_LEN {
            return Err(AuthError::InvalidCredentials);
        }
        self.verifications.fetch_add(1, Ordering::Relaxed);
        match self.argon2.verify_password(password.as_bytes(), &hash) {
            Ok(()) => Ok(()),
            Err(argon2::password_hash::Error::Password) => Err(AuthError::InvalidCredentials),
            Err(_) => Err(AuthError::MalformedHash),
        }
    }

    /// Spends the same time as [`Self::verify`] of a wrong password, for
    /// logins of unknown accounts (or accounts without a password), so the
    /// response time does not reveal whether the account exists. Always
    /// returns `InvalidCredentials`.
    pub fn dummy_verify(&self, password: &str) -> AuthError {
        let _ = self.verify(password, &self.dummy_phc);
        AuthError::InvalidCredentials
    }

    /// How many argon2 verifications this hasher (and its clones) ran.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Whether a stored hash should be replaced by a hash with the current
    /// parameters (after a successful login). Unparseable hashes, other
    /// algorithms or versions, and different costs all need a rehash.
    pub fn needs_rehash(&self, phc: &str) -> bool {
        needs_rehash(phc, self.params)
    }
}

/// Whether `phc` was made with other settings than argon2id v19 with `params`.
pub fn needs_rehash(phc: &str, params: PasswordParams) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    if hash.algorithm != Algorithm::Argon2id.ident() || hash.version != Some(0x13) {
        return true;
    }
    let Ok(p) = Params::try_from(&hash) else {
        return true;
    };
    p.m_cost() != params.m_cost_kib
        || p.t_cost() != params.t_cost
        || p.p_cost() != params.p_cost
        || hash.hash.map(|h| h.len()) != Some(OUTPUT_LEN)
}

fn parse_phc(phc: &str) -> Result<PasswordHash<'_>, AuthError> {
    if phc.len() > 512 {
        return Err(AuthError::MalformedHash);
    }
    let hash = PasswordHash::new(phc).map_err(|_| AuthError::MalformedHash)?;
    if hash.algorithm != Algorithm::Argon2id.ident()
        || hash.version != Some(0x13)
        || hash.salt.is_none()
        || hash.hash.is_none()
    {
        return Err(AuthError::MalformedHash);
    }
    let p = Params::try_from(&hash).map_err(|_| AuthError::MalformedHash)?;
    if p.m_cost() > MAX_M_COST_KIB || p.t_cost() > MAX_T_COST || p.p_cost() > MAX_P_COST {
        return Err(AuthError::MalformedHash);
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters so debug-build tests stay fast; production goes
    /// through `PasswordParams::new`, which enforces the OWASP floor.
    const CHEAP: PasswordParams = PasswordParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn hasher() -> PasswordHasher {
        PasswordHasher::insecure_for_tests(CHEAP).expect("hasher")
    }

    #[test]
    fn defaults_are_at_least_owasp_minimum() {
        let d = PasswordParams::default();
        assert!(d.m_cost_kib >= 19 * 1024 && d.t_cost >= 2 && d.p_cost >= 1);
        assert!(PasswordParams::new(19 * 1024, 2, 1).is_ok());
        assert!(matches!(
            PasswordParams::new(8 * 1024, 2, 1),
            Err(AuthError::InvalidParams(_))
        ));
        assert!(PasswordParams::new(19 * 1024, 1, 1).is_err());
        assert!(PasswordParams::new(19 * 1024, 2, 0).is_err());
        assert!(PasswordParams::new(u32::MAX, 2, 1).is_err());
        // A struct literal cannot sneak weak parameters past the hasher.
        assert!(matches!(
            PasswordHasher::new(CHEAP),
            Err(AuthError::InvalidParams(_))
        ));
    }

    #[test]
    fn hash_and_verify_round_trip_phc() {
        let h = hasher();
        let phc = h.hash("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(h.verify("correct horse battery staple", &phc).is_ok());
        assert!(matches!(
            h.verify("correct horse battery stapl", &phc),
            Err(AuthError::InvalidCredentials)
        ));
        // Salted: two hashes of one password differ.
        assert_ne!(phc, h.hash("correct horse battery staple").unwrap());
        assert!(!h.needs_rehash(&phc));
    }

    #[test]
    fn no_truncation_and_unicode_lengths() {
        let h = hasher();
        let long: String = "ä".repeat(MAX_LEN);
        let phc = h.hash(&long).unwrap();
        let mut other = "ä".repeat(MAX_LEN - 1);
        other.push('b');
        assert!(h.verify(&long, &phc).is_ok());
        assert!(h.verify(&other, &phc).is_err());
        // 8 characters that are more than 8 bytes are fine; 7 are not.
        assert!(check_policy("äöüßéèàç").is_ok());
        assert!(matches!(
            check_policy("äöüßéèà"),
            Err(AuthError::PasswordTooShort { min: 8 })
        ));
        let too_long = "x".repeat(MAX_LEN + 1);
        assert!(matches!(
            h.hash(&too_long),
            Err(AuthError::PasswordTooLong { max: 128 })
        ));
        assert!(matches!(
            h.verify(&too_long, &phc),
            Err(AuthError::InvalidCredentials)
        ));
    }

    #[test]
    fn common_passwords_rejected_case_insensitively() {
        let list = include_str!("common-passwords.txt");
        let entries = list.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(entries, 10_000);
        for pw in [
            "password",
            "PASSWORD",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
            "Baseball1",
        ] {
            if pw.chars().count() >= MIN_LEN && is_common(pw) {
                assert!(
                    matches!(check_policy(pw), Err(AuthError::PasswordTooCommon)),
                    "{pw}"
                );
            }
        }
        assert!(matches!(
            check_policy("password"),
            Err(AuthError::PasswordTooCommon)
        ));
        assert!(matches!(
            check_policy("PassWord"),
            Err(AuthError::PasswordTooCommon)
        ));
        assert!(matches!(
            check_policy("12345678"),
            Err(AuthError::PasswordTooCommon)
        ));
        assert!(check_policy("violet-tugboat-harmonica").is_ok());
        // No composition rules: all lower-case letters is fine.
        assert!(check_policy("printshopqueue").is_ok());
    }

    #[test]
    fn needs_rehash_on_param_or_algorithm_change() {
        let h = hasher();
        let phc = h.hash("violet-tugboat-harmonica").unwrap();
        let stronger = PasswordParams {
            m_cost_kib: 128,
            ..CHEAP
        };
        assert!(needs_rehash(&phc, stronger));
        assert!(!needs_rehash(&phc, CHEAP));
        assert!(needs_rehash("", CHEAP));
        assert!(needs_rehash("$2b$12$abcdefghijklmnopqrstuv", CHEAP));
        let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
        assert!(needs_rehash(&argon2i, CHEAP));
    }

    #[test]
    fn hostile_phc_strings_never_panic() {
        let h = hasher();
        let good = h.hash("violet-tugboat-harmonica").unwrap();
        let mut cases = vec![
            String::new(),
            "$".into(),
            "$$$$$".into(),
            "$argon2id$".into(),
            "$argon2id$v=19$m=64,t=1,p=1$".into(),
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$".into(),
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            "$argon2id$v=19$m=64,t=4294967295,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            "$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            "$argon2d$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".into(),
            "$argon2id$v=19$m=64,t=1,p=1$!!!!$????".into(),
            format!("{good}AAAA"),
            good.replace("m=64", "m=-1"),
            "x".repeat(10_000),
        ];
        cases.push(format!(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ${}",
            "A".repeat(300)
        ));
        for phc in &cases {
            let r = h.verify("violet-tugboat-harmonica", phc);
            assert!(
                matches!(
                    r,
                    Err(AuthError::MalformedHash | AuthError::InvalidCredentials)
                ),
                "{phc:?} -> {r:?}"
            );
        }
    }

    #[test]
    fn dummy_verify_does_the_work_of_a_wrong_password() {
        // Counted, not timed (timings flake on a shared machine): the dummy
        // path runs one full argon2id verification, against a hash made
        // with the hasher's current parameters, so it costs what a wrong
        // password costs.
        let h = PasswordHasher::insecure_for_tests(CHEAP).unwrap();
        let phc = h.hash("violet-tugboat-harmonica").unwrap();
        let before = h.verifications();
        let _ = h.verify("wrong-password-guess", &phc);
        assert_eq!(h.verifications(), before + 1);
        assert!(matches!(
            h.dummy_verify("wrong-password-guess"),
            AuthError::InvalidCredentials
        ));
        assert_eq!(h.verifications(), before + 2);
        assert!(!h.needs_rehash(&h.dummy_phc), "same parameters");
        // Clones share the counter (the server hands clones around).
        let _ = h.clone().dummy_verify("x");
        assert_eq!(h.verifications(), before + 3);
    }

    #[test]
    fn unicode_is_nfkc_normalised_before_hashing() {
        let h = hasher();
        let composed = "caf\u{e9}-tugboat-harmonica";
        let decomposed = "cafe\u{301}-tugboat-harmonica";
        let phc = h.hash(composed).unwrap();
        assert!(h.verify(decomposed, &phc).is_ok());
        // Full-width digits are their ASCII digits under NFKC: still common.
        assert!(matches!(
            check_policy("\u{ff11}\u{ff12}\u{ff13}\u{ff14}\u{ff15}\u{ff16}\u{ff17}\u{ff18}"),
            Err(AuthError::PasswordTooCommon)
        ));
        // Megabyte inputs are rejected cheaply, never truncated into a match.
        let huge = "a".repeat(1 << 20);
        assert!(matches!(
            check_policy(&huge),
            Err(AuthError::PasswordTooLong { .. })
        ));
        assert!(matches!(
            h.verify(&huge, &phc),
            Err(AuthError::InvalidCredentials)
        ));
    }

    /// The production defaults (19 MiB, t=2) work end to end. Slow in a
    /// debug build (argon2 unoptimised), so only one hash and one verify.
    #[test]
    fn owasp_default_parameters_end_to_end() {
        let h = PasswordHasher::new(PasswordParams::default()).unwrap();
        let phc = h.hash("violet-tugboat-harmonica").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(h.verify("violet-tugboat-harmonica", &phc).is_ok());
        assert!(!h.needs_rehash(&phc));
        assert!(needs_rehash(&phc, CHEAP));
    }

    #[test]
    fn debug_does_not_leak_the_dummy_hash() {
        let h = hasher();
        let dbg = format!("{h:?}");
        assert!(!dbg.contains("argon2id$"), "{dbg}");
    }
}
