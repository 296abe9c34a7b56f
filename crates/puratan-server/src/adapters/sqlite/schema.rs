//! Schema migrations, applied in order; `PRAGMA user_version` records how
//! many have run so opening an existing file is idempotent.
//!
//! Records are JSON documents in a `doc` column, with real, indexed columns
//! for everything a query filters or sorts on.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE products (
    id        TEXT PRIMARY KEY,
    sku       TEXT NOT NULL UNIQUE,
    category  TEXT NOT NULL,
    active    INTEGER NOT NULL,
    stock     INTEGER,
    version   INTEGER NOT NULL,
    doc       TEXT NOT NULL
) STRICT;
CREATE INDEX products_category ON products (category, id);
CREATE TABLE product_tags (
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (tag, product_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    email    TEXT NOT NULL UNIQUE,
    version  INTEGER NOT NULL,
    doc      TEXT NOT NULL
) STRICT;

CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    due_ms      INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL
) STRICT;
CREATE INDEX orders_customer ON orders (customer_id, id DESC);
CREATE INDEX orders_queue ON orders (status, priority DESC, due_ms, id);

CREATE TABLE audit (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    actor  TEXT NOT NULL,
    doc    TEXT NOT NULL
) STRICT;
CREATE INDEX audit_actor ON audit (actor, seq DESC);
"#,
    r#"
CREATE TABLE catalogs (
    version    TEXT PRIMARY KEY,
    document   TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX catalogs_created ON catalogs (created_ms DESC, version DESC);
CREATE TABLE catalog_active (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL REFERENCES catalogs(version)
) STRICT;
"#,
    r#"
CREATE TABLE refresh_families (
    family     TEXT PRIMARY KEY,
    subject    TEXT NOT NULL,
    revoked    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX refresh_families_subject ON refresh_families (subject);
CREATE TABLE refresh_tokens (
    token_hash        TEXT PRIMARY KEY,
    family            TEXT NOT NULL REFERENCES refresh_families(family) ON DELETE CASCADE,
    subject           TEXT NOT NULL,
    issued_at         INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    family_expires_at INTEGER NOT NULL,
    state             TEXT NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
"#,
    r#"
CREATE TABLE user_identities (
    issuer  TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (issuer, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX user_identities_user ON user_identities (user_id);
"#,
    r#"
CREATE TABLE security_state (
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX security_state_expiry ON security_state (expires_ms);
"#,
    // tus uploads (adapters/sqlite/uploads.rs): one row per upload, one
    // per stored chunk (the bytes are in the file store).
    r#"
CREATE TABLE uploads (
    id            TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    length        INTEGER NOT NULL,
    upload_offset INTEGER NOT NULL,
    chunk_count   INTEGER NOT NULL,
    next_seq      INTEGER NOT NULL,
    created_us    INTEGER NOT NULL,
    expires_us    INTEGER NOT NULL,
    sha256        BLOB,
    doc           TEXT NOT NULL
) STRICT;
CREATE INDEX uploads_owner ON uploads (owner);
CREATE INDEX uploads_expiry ON uploads (expires_us);
CREATE TABLE upload_chunks (
    upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    start     INTEGER NOT NULL,
    len       INTEGER NOT NULL,
    key       TEXT NOT NULL,
    PRIMARY KEY (upload_id, start)
) STRICT, WITHOUT ROWID;
"#,
    // Stored artwork files (adapters/sqlite/files.rs): the intake record
    // of a finished upload; the bytes are in the file store.
    r#"
CREATE TABLE files (
    id      TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    status  TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc     TEXT NOT NULL
) STRICT;
CREATE INDEX files_owner ON files (owner, id);
CREATE INDEX files_status ON files (status, id);
"#,
    // Orders (issue #6): the checkout's Idempotency-Key, unique per
    // customer, and the transactional outbox (adapters/sqlite/orders.rs):
    // events written in the order's transaction, deleted once published.
    r#"
ALTER TABLE orders ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX orders_idempotency ON orders (customer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE TABLE order_outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    order_id TEXT NOT NULL,
    doc      TEXT NOT NULL
) STRICT;
"#,
    // Production jobs (issue #6, adapters/sqlite/jobs.rs): one per order
    // line and run; the queue index serves claim_next and listing by
    // status, the order index listing by order.
    r#"
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    due_ms       INTEGER NOT NULL,
    submitted_ms INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    doc          TEXT NOT NULL
) STRICT;
CREATE INDEX jobs_queue ON jobs (status, priority DESC, due_ms, submitted_ms, id);
CREATE INDEX jobs_order ON jobs (order_id, priority DESC, due_ms, submitted_ms, id);
"#,
    // Carts (issue #6, adapters/sqlite/carts.rs): one per customer.
    r#"
CREATE TABLE carts (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc     TEXT NOT NULL
) STRICT;
"#,
    // Idempotent consumers and in-app notifications (issue #6,
    // adapters/sqlite/inbox.rs): a consumer's processed message ids under
    // a unique key, written in the transaction of its effect.
    r#"
CREATE TABLE processed_messages (
    consumer   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (consumer, message_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE notifications (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    unread  INTEGER NOT NULL,
    doc     TEXT NOT NULL
) STRICT;
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, unread);
"#,
    // Staff order search (issue #6, adapters/sqlite/orders.rs `search`):
    // orders in one state, newest first, without sorting the state's
    // whole queue index by id.
    r#"
CREATE INDEX orders_status_newest ON orders (status, id);
"#,
    // Coupon redemption caps (issue #6, adapters/sqlite/orders.rs
    // `insert_checkout`): orders per normalised coupon code, counted in
    // the checkout's transaction and never given back.
    r#"
CREATE TABLE coupon_redemptions (
    code TEXT PRIMARY KEY,
    used INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
"#,
];

pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}
