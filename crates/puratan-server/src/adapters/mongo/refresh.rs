//! Refresh-token records: `refresh_tokens` (one document per token, keyed
//! by its hash) and `refresh_families` (one per login, with the `revoked`
//! flag). A token's effective state is read together with its family's
//! flag, so a `rotate` racing a `revoke_family` can insert a successor
//! but never make it usable: the family flag wins at every read. `rotate`
//! inserts the successor before it flips the old token, and removes it
//! again if the flip loses, so a failed rotation changes nothing. No
//! multi-document transaction is needed (and SecantusDB has none).

use async_trait::async_trait;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use puratan_core::Result;
use puratan_core::auth::tokens::{FamilyId, RefreshRecord, RefreshState, RefreshStore};

use super::error::{corrupt, mapper};
use super::to_i64;

const E: &str = "refresh_token";

#[derive(Debug, Clone)]
pub struct MongoRefreshStore {
    tokens: Collection<Document>,
    families: Collection<Document>,
}

fn state_str(s: RefreshState) -> &'static str {
    match s {
        RefreshState::Active => "active",
        RefreshState::Rotated => "rotated",
        RefreshState::Revoked => "revoked",
    }
}

fn u64_of(d: &Document, field: &str) -> Result<u64> {
    d.get_i64(field)
        .ok()
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| corrupt(E, field))
}

fn str_of<'a>(d: &'a Document, field: &str) -> Result<&'a str> {
    d.get_str(field).map_err(|_| corrupt(E, field))
}

impl MongoRefreshStore {
    pub(crate) fn new(tokens: Collection<Document>, families: Collection<Document>) -> Self {
        Self { tokens, families }
    }

    fn token_doc(r: &RefreshRecord) -> Result<Document> {
        Ok(doc! {
            "_id": &r.token_hash,
            "family": &r.family.0,
            "subject": &r.subject,
            "issued_at": to_i64("issued_at", r.issued_at)?,
            "expires_at": to_i64("expires_at", r.expires_at)?,
            "family_expires_at": to_i64("family_expires_at", r.family_expires_at)?,
            "state": state_str(r.state),
        })
    }

    async fn family_revoked(&self, family: &str) -> Result<bool> {
        let f = self
            .families
            .find_one(doc! { "_id": family })
            .await
            .map_err(mapper(E))?;
        // A token whose family record is missing is unusable.
        Ok(f.is_none_or(|f| f.get_bool("revoked").unwrap_or(true)))
    }
}

#[async_trait]
impl RefreshStore for MongoRefreshStore {
    async fn insert(&self, record: RefreshRecord) -> Result<()> {
        self.families
            .update_one(
                doc! { "_id": &record.family.0 },
                doc! { "$setOnInsert": {
                    "subject": &record.subject,
                    "revoked": false,
                    "expires_at": to_i64("family_expires_at", record.family_expires_at)?,
                } },
            )
            .upsert(true)
            .await
            .map_err(mapper(E))?;
        self.tokens
            .insert_one(Self::token_doc(&record)?)
            .await
            .map_err(mapper(E))?;
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        let Some(d) = self
            .tokens
            .find_one(doc! { "_id": token_hash })
            .await
            .map_err(mapper(E))?
        else {
            return Ok(None);
        };
        let family = str_of(&d, "family")?.to_owned();
        let state = if self.family_revoked(&family).await? {
            RefreshState::Revoked
        } else {
            match str_of(&d, "state")? {
                "active" => RefreshState::Active,
                "rotated" => RefreshState::Rotated,
                _ => RefreshState::Revoked,
            }
        };
        Ok(Some(RefreshRecord {
            token_hash: str_of(&d, "_id")?.to_owned(),
            family: FamilyId(family),
            subject: str_of(&d, "subject")?.to_owned(),
            issued_at: u64_of(&d, "issued_at")?,
            expires_at: u64_of(&d, "expires_at")?,
            family_expires_at: u64_of(&d, "family_expires_at")?,
            state,
        }))
    }

    async fn rotate(&self, old_hash: &str, new: RefreshRecord) -> Result<bool> {
        if self.family_revoked(&new.family.0).await? {
            return Ok(false);
        }
        // The successor goes in first, so a failed insert (a taken hash, a
        // lost connection) leaves the old token active rather than burned
        // without a successor. Until `rotate` returns `true` nobody holds
        // the successor's plaintext, so it cannot be used meanwhile.
        self.tokens
            .insert_one(Self::token_doc(&new)?)
            .await
            .map_err(mapper(E))?;
        // The conditional update is the atomic step: of two concurrent
        // rotations of one token exactly one matches `state: active`.
        let won = self
            .tokens
            .update_one(
                doc! { "_id": old_hash, "state": "active", "family": &new.family.0 },
                doc! { "$set": { "state": "rotated" } },
            )
            .await
            .map_err(mapper(E))
            .map(|r| r.modified_count == 1);
        if !matches!(won, Ok(true)) {
            // Lost (or failed): take the successor back out. Should that
            // fail too, what stays behind is a token nobody can present.
            self.tokens
                .delete_one(doc! { "_id": &new.token_hash })
                .await
                .map_err(mapper(E))?;
        }
        won
    }

    async fn revoke_family(&self, family: &FamilyId) -> Result<()> {
        self.families
            .update_one(
                doc! { "_id": &family.0 },
                doc! { "$set": { "revoked": true } },
            )
            .await
            .map_err(mapper(E))?;
        Ok(())
    }

    async fn revoke_subject(&self, subject: &str) -> Result<()> {
        self.families
            .update_many(
                doc! { "subject": subject },
                doc! { "$set": { "revoked": true } },
            )
            .await
            .map_err(mapper(E))?;
        Ok(())
    }
}
