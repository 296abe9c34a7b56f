//! Valid records for tests.

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

use puratan_core::domain::{
    AccountStatus, Category, Currency, Email, Money, Order, OrderId, OrderStatus, Priority,
    Product, ProductId, Role, Sku, Tag, User, UserId,
};

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("fixture is invalid: {e:?}"))
}

pub fn product(id: &str, sku: &str) -> Product {
    Product {
        id: ok(ProductId::parse(id)),
        sku: ok(Sku::parse(sku)),
        name: format!("Product {id}"),
        description: String::new(),
        category: ok(Category::parse("cards")),
        tags: vec![ok(Tag::parse("eco"))],
        pricing_ref: id.to_owned(),
        templates: vec![],
        specifications: [("Paper".to_owned(), "Silk 350 gsm".to_owned())].into(),
        stock: None,
        active: true,
        version: 0,
        updated_at: Utc::now(),
    }
}

pub fn category(s: &str) -> Category {
    ok(Category::parse(s))
}

pub fn tag(s: &str) -> Tag {
    ok(Tag::parse(s))
}

pub fn user(email: &str) -> User {
    User {
        id: UserId::new(),
        email: ok(Email::parse(email)),
        display_name: "Test User".into(),
        roles: vec![Role::Customer],
        status: AccountStatus::Active,
        password_hash: None,
        created_at: Utc::now(),
        email_verified_at: None,
        security: Default::default(),
        identities: Vec::new(),
        preferences: Default::default(),
        version: 0,
    }
}

pub fn status(s: &str) -> OrderStatus {
    ok(OrderStatus::parse(s))
}

pub fn day(d: u32) -> DateTime<Utc> {
    ok(Utc
        .with_ymd_and_hms(2026, 12, d, 12, 0, 0)
        .single()
        .ok_or("bad date"))
}

pub fn order(customer: UserId, status_name: &str, priority: u8, due: DateTime<Utc>) -> Order {
    let eur = ok(Currency::parse("EUR"));
    Order {
        id: OrderId::new(),
        customer_id: customer,
        status: status(status_name),
        priority: ok(Priority::new(priority)),
        due_at: due,
        submitted_at: Utc::now(),
        lines: vec![],
        total: Money::new(Decimal::new(4413, 2), eur),
        history: vec![],
        version: 0,
        shipping_address: None,
        idempotency: None,
        payment: None,
        proofs: Vec::new(),
        shipment: None,
    }
}
