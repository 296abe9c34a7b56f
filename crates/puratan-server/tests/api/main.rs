//! HTTP API tests: one binary, each test with its own server on port 0
//! over a fresh embedded store.

mod admin;
mod auth;
mod cart;
mod catalog;
mod events;
mod files;
mod gateway;
mod jobs;
mod live;
mod notifications;
mod oidc;
mod orders;
mod processing;
mod quotes;
mod smtp;
mod staff_orders;
mod support;
mod uploads;
mod workflow;
