//! `puratan keys generate | rotate`.
//!
//! Key material is printed to stdout only and never logged. Rotation
//! follows the procedure in [`puratan_core::protect`]: add a new active key
//! (keeping the old ones), deploy, run `puratan keys rotate` until it
//! reports 0 values remaining under old keys, then remove the old keys.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clap::{Subcommand, ValueEnum};
use puratan_core::domain::User;
use puratan_core::ports::PageRequest;
use puratan_core::protect::{DataKey, Sealed, Zeroizing};
use serde::Serialize;

use super::{is_stale, out};
use crate::auth::second_factor;
use crate::state::App;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new 32-byte random key (standard base64) as a configuration
    /// snippet. Nothing is stored or logged: copy it into your secret store.
    Generate {
        /// Key id, 1 to 32 characters from [A-Za-z0-9._-] (default: the
        /// current year and month, e.g. 2026-11).
        #[arg(long)]
        id: Option<String>,
        /// `data`: a data-protection key for `[protect]` (TOTP secrets and
        /// other sealed fields). `jwt`: an access-token signing key for
        /// `[auth]` (an Ed25519 seed, or an HS256 secret).
        #[arg(long = "for", value_enum, default_value_t = KeyPurpose::Data)]
        purpose: KeyPurpose,
    },
    /// Re-encrypt every sealed field under the active data key
    /// (`protect.active_key`). Idempotent: safe to re-run or interrupt.
    ///
    /// Exits non-zero when a value could not be re-encrypted (e.g. its key
    /// is no longer configured); every other value is still processed.
    /// When it reports 0 values remaining under old keys, the old keys can
    /// be removed from `protect.keys`.
    Rotate {
        /// Count what would be re-encrypted (and check it opens) without
        /// writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyPurpose {
    /// `[protect] keys`: AES-256-GCM data key.
    Data,
    /// `[auth] keys`: access-token signing key.
    Jwt,
}

pub fn generate(id: Option<&str>, purpose: KeyPurpose) -> anyhow::Result<()> {
    let id = id.map_or_else(
        || chrono::Utc::now().format("%Y-%m").to_string(),
        str::to_owned,
    );
    // 32 bytes from the OS CSPRNG, zeroed on drop. The same bytes serve as
    // an AES-256 key, an Ed25519 seed or an HS256 secret.
    let key = DataKey::generate(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
    let secret = key.to_base64();
    let mut text = Zeroizing::new(String::new());
    let (section, note) = match purpose {
        KeyPurpose::Data => (
            "protect",
            "# A new data-protection key (32 random bytes, standard base64).\n\
             # 1. Add it on every node as the active key, keeping the old keys listed.\n\
             # 2. Deploy, then run `puratan keys rotate`.\n\
             # 3. When it reports 0 values remaining under old keys, remove them.\n",
        ),
        KeyPurpose::Jwt => (
            "auth",
            "# A new access-token signing key (32 random bytes, standard base64):\n\
             # an Ed25519 seed (auth.algorithm = \"EdDSA\", the default) or an HS256 secret.\n\
             # Keep the old key listed until its tokens expired (auth.access_ttl_secs).\n",
        ),
    };
    let _ = write!(
        text,
        "{note}[{section}]\n\
         active_key = \"{id}\"\n\
         keys = [\n    \
         {{ id = \"{id}\", secret = \"{secret}\" }},\n    \
         # {{ id = \"<old id>\", secret = \"<old secret>\" }},\n\
         ]\n",
        secret = secret.as_str(),
    );
    out(&text)
}

/// Attempts per user when its record keeps changing under us.
const ATTEMPTS: usize = 5;
/// Failures listed individually (the counts are always complete).
const MAX_LISTED_FAILURES: usize = 100;
/// Report key for a stored value that is not a well-formed sealed string.
const MALFORMED: &str = "(malformed)";

/// What `puratan keys rotate` found and did.
#[derive(Debug, Default, Serialize)]
pub struct RotationReport {
    pub active_key: String,
    pub dry_run: bool,
    pub users_scanned: u64,
    /// Sealed fields found.
    pub sealed_values: u64,
    /// Re-encrypted under the active key (with `--dry-run`: would be).
    pub reencrypted: u64,
    /// Already under the active key.
    pub already_current: u64,
    pub failed: u64,
    /// Values still under a key other than the active one after this run,
    /// per key id. Empty = every old key may be removed.
    pub remaining: BTreeMap<String, u64>,
    /// Configured keys (other than the active one) that no value uses.
    pub removable_keys: Vec<String>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub user: String,
    pub field: &'static str,
    pub kid: String,
    pub error: String,
}

impl RotationReport {
    fn remaining_total(&self) -> u64 {
        self.remaining.values().sum()
    }

    fn fail(&mut self, user: &User, field: &'static str, kid: &str, error: String) {
        self.sealed_values += 1;
        self.failed += 1;
        *self.remaining.entry(kid.to_owned()).or_default() += 1;
        if self.failures.len() < MAX_LISTED_FAILURES {
            self.failures.push(Failure {
                user: user.id.to_string(),
                field,
                kid: kid.to_owned(),
                error,
            });
        }
    }

    fn human(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "active data key: {}", self.active_key);
        if self.dry_run {
            let _ = writeln!(s, "dry run: nothing was written");
        }
        let verb = if self.dry_run {
            "would re-encrypt"
        } else {
            "re-encrypted"
        };
        for (label, n) in [
            ("users scanned", self.users_scanned),
            ("sealed values", self.sealed_values),
            (verb, self.reencrypted),
            ("already current", self.already_current),
            ("failed", self.failed),
        ] {
            let _ = writeln!(s, "{:<18}{n}", format!("{label}:"));
        }
        let remaining = self.remaining_total();
        let per_key: Vec<String> = self
            .remaining
            .iter()
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        if remaining == 0 {
            let _ = writeln!(s, "0 values remaining under old keys");
        } else {
            let _ = writeln!(
                s,
                "{remaining} value(s) remaining under old keys: {}",
                per_key.join(", ")
            );
        }
        for k in &self.removable_keys {
            let _ = writeln!(
                s,
                "key {k} protects no value any more: remove it from protect.keys once every node runs with active key {}",
                self.active_key
            );
        }
        s
    }
}

/// Re-encrypts every sealed field under the active key, printing a report.
/// Errors (non-zero exit) when any value failed.
pub async fn rotate(app: &App, dry_run: bool, json: bool) -> anyhow::Result<()> {
    let report = rotate_all(app, dry_run).await?;
    for f in &report.failures {
        eprintln!(
            "failed: user {} {} (key {}): {}",
            f.user, f.field, f.kid, f.error
        );
    }
    if report.failed as usize > report.failures.len() {
        eprintln!(
            "… and {} more failures",
            report.failed as usize - report.failures.len()
        );
    }
    if json {
        out(&serde_json::to_string(&report)?)?;
    } else {
        out(&report.human())?;
    }
    if report.failed > 0 {
        anyhow::bail!(
            "{} sealed value(s) could not be re-encrypted; keep their keys configured",
            report.failed
        );
    }
    Ok(())
}

pub async fn rotate_all(app: &App, dry_run: bool) -> anyhow::Result<RotationReport> {
    let keyring = &app.auth.keyring;
    let mut report = RotationReport {
        active_key: keyring.active_id().to_string(),
        dry_run,
        ..RotationReport::default()
    };
    let mut page = PageRequest::first(100);
    loop {
        let batch = app.users.list(&page).await.map_err(|e| {
            anyhow::anyhow!(
                "listing users failed after {} (re-run to continue; rotation is idempotent): {e}",
                report.users_scanned
            )
        })?;
        for user in batch.items {
            report.users_scanned += 1;
            rotate_user(app, user, dry_run, &mut report).await;
        }
        match batch.next {
            Some(cursor) => page = PageRequest::first(100).after(Some(cursor)),
            None => break,
        }
    }
    report.removable_keys = keyring
        .key_ids()
        .filter(|k| *k != keyring.active_id() && !report.remaining.contains_key(k.as_str()))
        .map(ToString::to_string)
        .collect();
    Ok(report)
}

/// The user's TOTP secret, the only sealed user field today. New sealed
/// fields get their own step in [`rotate_user`].
const TOTP_FIELD: &str = "totp_secret";

async fn rotate_user(app: &App, mut user: User, dry_run: bool, report: &mut RotationReport) {
    let keyring = &app.auth.keyring;
    for attempt in 1..=ATTEMPTS {
        // (Re-)read: a concurrent 2FA change may have removed it.
        let Some(enrolment) = user.security.totp.as_ref() else {
            return;
        };
        let sealed: Sealed = match enrolment.secret.parse() {
            Ok(s) => s,
            Err(e) => return report.fail(&user, TOTP_FIELD, MALFORMED, e.to_string()),
        };
        let kid = sealed.kid().to_string();
        let context = second_factor::context(&user);
        let new = match keyring.reseal(&sealed, &context) {
            Ok(None) => {
                report.sealed_values += 1;
                report.already_current += 1;
                return;
            }
            Ok(Some(new)) => new,
            Err(e) => return report.fail(&user, TOTP_FIELD, &kid, e.to_string()),
        };
        if dry_run {
            report.sealed_values += 1;
            report.reencrypted += 1;
            *report.remaining.entry(kid).or_default() += 1;
            return;
        }
        let id = user.id;
        let mut updated = user.clone();
        if let Some(t) = updated.security.totp.as_mut() {
            t.secret = new.into_string();
        }
        match app.users.update(updated).await {
            Ok(_) => {
                report.sealed_values += 1;
                report.reencrypted += 1;
                return;
            }
            Err(e) if is_stale(&e) && attempt < ATTEMPTS => {
                // Changed since we read it (a login, a 2FA change): re-read
                // and start over with its current value.
                match app.users.get(id).await {
                    Ok(fresh) => user = fresh,
                    Err(e) => return report.fail(&user, TOTP_FIELD, &kid, e.to_string()),
                }
            }
            Err(e) => return report.fail(&user, TOTP_FIELD, &kid, e.to_string()),
        }
    }
}
