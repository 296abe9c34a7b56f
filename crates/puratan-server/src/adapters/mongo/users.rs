//! [`UserRepo`] on the `users` collection.

use async_trait::async_trait;
use futures::TryStreamExt as _;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use puratan_core::domain::{Email, User, UserId};
use puratan_core::ports::{Page, PageRequest, UserRepo};
use puratan_core::{Error, Result};

use super::error::mapper;
use super::{from_body, get_version, overfetch_limit, record_projection, to_body};

const ENTITY: &str = "user";

/// Users keyed by the string form of their UUIDv7 id, which sorts by
/// creation time like [`UserId`] itself.
#[derive(Debug, Clone)]
pub struct MongoUserRepo {
    coll: Collection<Document>,
}

impl MongoUserRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
    }

    fn read(stored: &Document) -> Result<User> {
        let mut u: User = from_body(ENTITY, stored)?;
        u.version = get_version(ENTITY, stored)?;
        Ok(u)
    }

    async fn find_one(&self, filter: Document) -> Result<User> {
        let found = self
            .coll
            .find_one(filter)
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            Some(d) => Self::read(&d),
            None => Err(Error::NotFound { entity: ENTITY }),
        }
    }
}

/// Identities as one indexed array of strings: an equality match on an
/// array field matches an element, so issuer and subject are one value
/// (separated by a newline, which neither contains).
fn identity_key(issuer: &str, subject: &str) -> String {
    format!("{issuer}\n{subject}")
}

fn identity_keys(user: &User) -> Vec<String> {
    user.identities
        .iter()
        .map(|i| identity_key(&i.issuer, &i.subject))
        .collect()
}

#[async_trait]
impl UserRepo for MongoUserRepo {
    async fn insert(&self, mut user: User) -> Result<User> {
        user.version = 1;
        let d = doc! {
            "_id": user.id.to_string(),
            "email": user.email.as_str(),
            "identities": identity_keys(&user),
            "version": 1_i64,
            "doc": to_body(&user)?,
        };
        self.coll.insert_one(d).await.map_err(mapper(ENTITY))?;
        Ok(user)
    }

    async fn get(&self, id: UserId) -> Result<User> {
        self.find_one(doc! { "_id": id.to_string() }).await
    }

    async fn get_by_email(&self, email: &Email) -> Result<User> {
        self.find_one(doc! { "email": email.as_str() }).await
    }

    async fn get_by_identity(&self, issuer: &str, subject: &str) -> Result<User> {
        self.find_one(doc! { "identities": identity_key(issuer, subject) })
            .await
    }

    async fn update(&self, mut user: User) -> Result<User> {
        let expected = user.version;
        // The stored body carries the version it is written at.
        user.version = expected.saturating_add(1);
        let id = user.id.to_string();
        super::update_versioned(&self.coll, ENTITY, &id, expected, || {
            Ok(doc! { "email": user.email.as_str(), "identities": identity_keys(&user), "doc": to_body(&user)? })
        })
        .await?;
        Ok(user)
    }

    async fn list(&self, page: &PageRequest) -> Result<Page<User>> {
        let after: Option<UserId> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let query = match after {
            Some(a) => doc! { "_id": { "$gt": a.to_string() } },
            None => doc! {},
        };
        let docs: Vec<Document> = self
            .coll
            .find(query)
            .sort(doc! { "_id": 1 })
            .limit(overfetch_limit(page.size()))
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?
            .try_collect()
            .await
            .map_err(mapper(ENTITY))?;
        let items = docs.iter().map(Self::read).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page.size(), |u| u.id))
    }
}
