pub mod admin;
pub mod admin_users;
pub mod auth;
pub mod auth_schema;
pub mod health;
pub mod me;
pub mod products;
pub mod quotes;
