pub mod admin;
pub mod health;
pub mod products;
pub mod quotes;
