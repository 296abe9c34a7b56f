//! [`FileRepo`] on the `files` collection: `_id` is the record id (UUIDv7,
//! time-ordered), `owner`/`status` are queried fields, the record is the
//! body.

use async_trait::async_trait;
use mongodb::Collection;
use mongodb::bson::{Document, doc};
use puratan_core::domain::UserId;
use puratan_core::ports::{FileRecord, FileRepo, Page, PageRequest};
use puratan_core::{Error, Result};

use super::error::mapper;
use super::{from_body, get_version, record_projection, to_body};

const ENTITY: &str = "file";

#[derive(Debug, Clone)]
pub struct MongoFileRepo {
    coll: Collection<Document>,
}

impl MongoFileRepo {
    pub(crate) fn new(coll: Collection<Document>) -> Self {
        Self { coll }
    }

    fn fields(file: &FileRecord) -> Result<Document> {
        Ok(doc! {
            "owner": file.owner.to_string(),
            "status": file.status.name(),
            "doc": to_body(file)?,
        })
    }

    fn read(stored: &Document) -> Result<FileRecord> {
        let mut f: FileRecord = from_body(ENTITY, stored)?;
        f.version = get_version(ENTITY, stored)?;
        Ok(f)
    }

    async fn find(&self, query: Document, sort: Document, limit: usize) -> Result<Vec<FileRecord>> {
        let docs = super::find_records(&self.coll, ENTITY, query, sort, limit).await?;
        docs.iter().map(Self::read).collect()
    }
}

#[async_trait]
impl FileRepo for MongoFileRepo {
    async fn insert(&self, mut file: FileRecord) -> Result<FileRecord> {
        file.version = 1;
        let mut d = doc! { "_id": file.id.clone(), "version": 1_i64 };
        d.extend(Self::fields(&file)?);
        self.coll.insert_one(d).await.map_err(mapper(ENTITY))?;
        Ok(file)
    }

    async fn get(&self, id: &str) -> Result<FileRecord> {
        let found = self
            .coll
            .find_one(doc! { "_id": id })
            .projection(record_projection())
            .await
            .map_err(mapper(ENTITY))?;
        match found {
            Some(d) => Self::read(&d),
            None => Err(Error::NotFound { entity: ENTITY }),
        }
    }

    async fn update(&self, mut file: FileRecord) -> Result<FileRecord> {
        let expected = file.version;
        // The stored body carries the version it is written at.
        file.version = expected.saturating_add(1);
        super::update_versioned(&self.coll, ENTITY, &file.id, expected, || {
            Self::fields(&file)
        })
        .await?;
        Ok(file)
    }

    async fn list_by_owner(&self, owner: UserId, page: &PageRequest) -> Result<Page<FileRecord>> {
        let before: Option<String> = page.after.as_ref().map(|c| c.decode()).transpose()?;
        let mut query = doc! { "owner": owner.to_string() };
        if let Some(b) = before {
            query.insert("_id", doc! { "$lt": b });
        }
        let items = self
            .find(query, doc! { "_id": -1 }, page.size() + 1)
            .await?;
        Ok(Page::from_overfetch(items, page.size(), |f| f.id.clone()))
    }

    async fn pending_scan(&self, limit: usize) -> Result<Vec<FileRecord>> {
        self.find(
            doc! { "status": "pending_scan" },
            doc! { "_id": 1 },
            limit.min(10_000),
        )
        .await
    }
}
