//! Customer notifications from order events (docs/notifications.md).
//!
//! A durable queue `puratan.notifications` is bound to the topic exchange
//! with `order.#`; every `serve` replica consumes from it (competing
//! consumers). For each delivery the consumer
//!
//! 1. parses the event (a message without an id, or with a payload that
//!    is not an order event, is *poison*: dead-lettered at once);
//! 2. renders a plain-language title and body (noise such as `draft →
//!    submitted` or `printing → finishing` is acked and skipped);
//! 3. looks up the customer and their preferences
//!    (`notify.in_app.order_updates`, `notify.email.order_updates`);
//! 4. applies the event **idempotently**: [`InboxRepo::deliver`] stores
//!    the in-app notification and the processed message id in one
//!    transaction ([`InboxRepo::mark_processed`] when in-app is off), so a
//!    redelivered message (crash before the ack, the relay publishing
//!    twice) finds its id and changes nothing;
//! 5. only when that call said "first time" and the customer wants
//!    e-mail, sends an `OrderUpdate` e-mail through the [`Notifier`];
//! 6. acks.
//!
//! **E-mail is at most once.** Exactly once is impossible across an SMTP
//! relay and a database: the e-mail is sent *after* the inbox commit, so
//! a crash between the commit and the send loses that one e-mail (the
//! redelivery finds the message processed) but never sends it twice.
//! Sending before the commit would do the opposite (a crash after the send
//! mails the customer again on redelivery); a customer who gets the same
//! mail twice loses trust faster than one who misses a status mail they
//! can also see in the app. A failed send is logged and counted
//! (`notifications_total{channel="email",outcome="failed"}`), not retried.
//!
//! **Failures.** A store or user-lookup error is retried: the delivery is
//! nacked with requeue (after a short back-off) and its attempts are
//! counted per message id in memory; after `notifications.max_attempts`
//! it is rejected to the dead-letter exchange (`puratan.dlx` →
//! `puratan.dead-letters`). Counts are per replica and reset on restart,
//! so a message may see up to `max_attempts` per replica that handles it.
//! Dead-lettered messages count in `events_dead_lettered_total{consumer}`
//! and, inside `serve`, raise a `system.error` alert (system_events/).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use puratan_core::domain::{OrderId, User, UserId};
use puratan_core::ports::{
    Delivery, Exchange, InAppNotification, InboxRepo, Message, Notification, NotificationKind,
    Notifier, Subscriber, Subscription, UserRepo,
};
use puratan_core::{Error, ErrorKind};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::state::App;

/// The consumer name under which processed message ids are recorded.
pub const CONSUMER: &str = "notifications";
/// The durable queue every replica consumes from.
pub const QUEUE: &str = "puratan.notifications";
/// Every order event.
pub const BINDING: &str = "order.#";

/// The `[notifications]` section.
///
/// ```toml
/// [notifications]
/// enabled = true      # run the consumer inside `puratan serve`
/// max_attempts = 5    # deliveries of one message that fail on the store before it is dead-lettered
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    pub enabled: bool,
    pub max_attempts: u32,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: 5,
        }
    }
}

impl NotificationsConfig {
    /// The first invalid key and why (`config.rs` reports it).
    pub fn validate(&self) -> Result<(), (&'static str, &'static str)> {
        if !(1..=100).contains(&self.max_attempts) {
            return Err(("notifications.max_attempts", "must be between 1 and 100"));
        }
        Ok(())
    }
}

/// The notification preferences a user can set in `preferences`
/// (`PATCH /api/v1/me`). Values are `on` or `off`; a missing key is `on`.
pub mod prefs {
    use std::collections::BTreeMap;

    use puratan_core::domain::User;

    /// E-mails about the user's orders.
    pub const EMAIL_ORDER_UPDATES: &str = "notify.email.order_updates";
    /// In-app notifications about the user's orders.
    pub const IN_APP_ORDER_UPDATES: &str = "notify.in_app.order_updates";
    /// Every key this server understands under `notify.`.
    pub const KEYS: [&str; 2] = [EMAIL_ORDER_UPDATES, IN_APP_ORDER_UPDATES];
    /// The values they accept.
    pub const VALUES: [&str; 2] = ["on", "off"];
    /// Keys with this prefix are reserved for notification settings.
    pub const PREFIX: &str = "notify.";

    /// A reserved key this server does not know, or a value other than
    /// `on`/`off` for a known one: `(key, value)` of the first.
    pub fn invalid(prefs: &BTreeMap<String, String>) -> Option<(&str, &str)> {
        prefs
            .iter()
            .filter(|(k, _)| k.starts_with(PREFIX))
            .find(|(k, v)| !KEYS.contains(&k.as_str()) || !VALUES.contains(&v.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether `key` is on for `user` (default on).
    pub fn enabled(user: &User, key: &str) -> bool {
        user.preferences.get(key).is_none_or(|v| v != "off")
    }
}

/// The fields of an order event this consumer reads (docs/events.md);
/// unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct OrderEvent {
    order_id: OrderId,
    customer_id: UserId,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    at: Option<DateTime<Utc>>,
}

/// What a notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Stable kind for clients (`order.shipped`, …).
    pub kind: &'static str,
    pub title: String,
    pub body: String,
}

/// A short, human reference to an order (the random tail of its id).
fn order_ref(id: OrderId) -> String {
    let s = id.as_uuid().simple().to_string();
    format!("#{}", s[s.len() - 8..].to_uppercase())
}

fn with_reason(text: String, reason: Option<&str>) -> String {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => {
            let r: String = r.chars().take(500).collect();
            format!("{text} Reason: {r}")
        }
        None => text,
    }
}

/// The notification for an event of `kind`, or `None` when it is not
/// worth one (internal production steps, the checkout's own `draft →
/// submitted`, workflow events that come with a status change anyway).
fn render(kind: &str, ev: &OrderEvent) -> Option<Rendered> {
    let r = order_ref(ev.order_id);
    let reason = ev.reason.as_deref();
    let (kind, title, body) = match kind {
        "order.created" => (
            "order.created",
            format!("Order {r} received"),
            format!(
                "Thank you! We received your order {r}. We will let you know here as it moves along."
            ),
        ),
        "order.status_changed" => {
            let from = ev.from.as_deref().unwrap_or("");
            match ev.to.as_deref()? {
                "awaiting_files" if from == "submitted" => (
                    "order.awaiting_files",
                    format!("Order {r}: payment received"),
                    format!(
                        "Your payment for order {r} arrived. Next step: upload your artwork, if you have not yet."
                    ),
                ),
                "awaiting_files" => (
                    "order.files_needed",
                    format!("Order {r}: new artwork needed"),
                    with_reason(
                        format!(
                            "Your artwork for order {r} needs another look; please upload a new file."
                        ),
                        reason,
                    ),
                ),
                "proof_pending" => (
                    "order.proof_ready",
                    format!("Order {r}: your proof is ready"),
                    format!(
                        "Please review the proof for order {r} and approve it (or tell us what to change)."
                    ),
                ),
                "queued" if from == "quality_check" => (
                    "order.reprint",
                    format!("Order {r} is being reprinted"),
                    with_reason(
                        format!(
                            "Order {r} did not pass our quality check, so we are printing it again at no cost to you."
                        ),
                        reason,
                    ),
                ),
                "queued" => (
                    "order.in_production",
                    format!("Order {r} is in production"),
                    format!("Order {r} is scheduled for printing."),
                ),
                "shipped" => (
                    "order.shipped",
                    format!("Order {r} has shipped"),
                    format!("Order {r} is on its way to you."),
                ),
                "delivered" => (
                    "order.delivered",
                    format!("Order {r} was delivered"),
                    format!("Order {r} was delivered. We hope you like it!"),
                ),
                "on_hold" => (
                    "order.on_hold",
                    format!("Order {r} is on hold"),
                    with_reason(format!("We paused order {r}."), reason),
                ),
                "cancelled" => (
                    "order.cancelled",
                    format!("Order {r} was cancelled"),
                    with_reason(format!("Order {r} was cancelled."), reason),
                ),
                "refunded" => (
                    "order.refunded",
                    format!("Order {r} was refunded"),
                    format!("We refunded order {r}. The money should reach you within a few days."),
                ),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Rendered { kind, title, body })
}

/// What handling one message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// First time: stored in-app (if wanted) and mailed (if wanted; the
    /// flag says whether the send succeeded).
    Notified { in_app: bool, emailed: bool },
    /// This message was processed before: nothing done.
    Duplicate,
    /// Nothing to tell the customer (noise, unknown customer, everything
    /// turned off).
    Skipped,
}

/// Why a message could not be handled.
#[derive(Debug)]
pub enum Failure {
    /// It can never succeed (malformed): dead-letter it.
    Poison(String),
    /// The store or user lookup failed: try again later.
    Retry(Error),
}

/// The notification consumer: the ports it needs, so tests can run it on
/// any bus and store.
pub struct NotificationConsumer {
    users: Arc<dyn UserRepo>,
    inbox: Arc<dyn InboxRepo>,
    notifier: Arc<dyn Notifier>,
    metrics: Metrics,
    max_attempts: u32,
    /// Failed attempts per message id (this replica, since start).
    attempts: Mutex<HashMap<String, u32>>,
    /// Called with a stable code when a message is dead-lettered.
    on_dead_letter: Option<DeadLetterHook>,
}

/// Told the stable code (`event_poison`, `event_retries_exhausted`) of
/// each dead-lettered message.
pub type DeadLetterHook = Arc<dyn Fn(&'static str) + Send + Sync>;

impl std::fmt::Debug for NotificationConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationConsumer")
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// Bound on the attempts map (message ids that failed and were never seen
/// again, e.g. taken by another replica).
const MAX_TRACKED: usize = 10_000;

impl NotificationConsumer {
    pub fn new(
        users: Arc<dyn UserRepo>,
        inbox: Arc<dyn InboxRepo>,
        notifier: Arc<dyn Notifier>,
        metrics: Metrics,
        max_attempts: u32,
    ) -> Self {
        Self {
            users,
            inbox,
            notifier,
            metrics,
            max_attempts: max_attempts.max(1),
            attempts: Mutex::new(HashMap::new()),
            on_dead_letter: None,
        }
    }

    /// Calls `hook` for every dead-lettered message.
    pub fn on_dead_letter(mut self, hook: DeadLetterHook) -> Self {
        self.on_dead_letter = Some(hook);
        self
    }

    pub fn from_app(app: &App) -> Self {
        let alerts = app.clone();
        Self::new(
            app.users.clone(),
            app.inbox.clone(),
            app.auth.ports.notifier.clone(),
            app.metrics.clone(),
            app.config.notifications.max_attempts,
        )
        .on_dead_letter(Arc::new(move |code| {
            crate::system_events::alerts::consumer_error(&alerts, CONSUMER, code);
        }))
    }

    /// The durable subscription on `queue` (normally [`QUEUE`]).
    pub fn subscription(queue: &str) -> Subscription {
        Subscription {
            queue: queue.to_owned(),
            exchange: Exchange::Topic,
            binding_key: BINDING.to_owned(),
            transient: false,
        }
    }

    /// Applies one message (everything but the ack): see the module docs.
    pub async fn apply(&self, message: &Message) -> Result<Applied, Failure> {
        if message.id.is_empty() {
            return Err(Failure::Poison("message without an id".into()));
        }
        if !message.kind.starts_with("order.") {
            return Ok(Applied::Skipped);
        }
        let ev: OrderEvent = serde_json::from_slice(&message.payload)
            .map_err(|e| Failure::Poison(format!("not an order event: {e}")))?;
        let Some(rendered) = render(&message.kind, &ev) else {
            return Ok(Applied::Skipped);
        };
        let user = match self.users.get(ev.customer_id).await {
            Ok(u) => u,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Applied::Skipped),
            Err(e) => return Err(Failure::Retry(e)),
        };
        let in_app = prefs::enabled(&user, prefs::IN_APP_ORDER_UPDATES);
        let email = prefs::enabled(&user, prefs::EMAIL_ORDER_UPDATES);
        if !in_app && !email {
            return Ok(Applied::Skipped);
        }
        let first = if in_app {
            let n = InAppNotification {
                id: uuid::Uuid::now_v7(),
                user_id: user.id,
                kind: rendered.kind.to_owned(),
                title: rendered.title.clone(),
                body: rendered.body.clone(),
                order_id: Some(ev.order_id),
                created_at: ev.at.unwrap_or_else(Utc::now),
                read_at: None,
            };
            self.inbox.deliver(&message.id, CONSUMER, n).await
        } else {
            self.inbox.mark_processed(&message.id, CONSUMER).await
        };
        let first = match first {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::Invalid => {
                return Err(Failure::Poison(format!("cannot be recorded: {e}")));
            }
            Err(e) => return Err(Failure::Retry(e)),
        };
        if !first {
            return Ok(Applied::Duplicate);
        }
        if in_app {
            self.count("in_app", "sent");
        }
        // After the commit: at most once (see the module docs).
        let emailed = email && self.send_email(&user, &rendered).await;
        Ok(Applied::Notified { in_app, emailed })
    }

    async fn send_email(&self, user: &User, r: &Rendered) -> bool {
        let mail = Notification {
            to: user.email.clone(),
            kind: NotificationKind::OrderUpdate,
            subject: r.title.clone(),
            body: format!(
                "{}\n\nYou get these e-mails because of your order updates setting; turn them off with `{}` = `off` in your profile.",
                r.body,
                prefs::EMAIL_ORDER_UPDATES
            ),
            token: None,
        };
        match self.notifier.send(mail).await {
            Ok(()) => {
                self.count("email", "sent");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, user = %user.id, "order update e-mail could not be sent; not retried");
                self.count("email", "failed");
                false
            }
        }
    }

    fn count(&self, channel: &str, outcome: &str) {
        self.metrics
            .notifications
            .with_label_values(&[channel, outcome])
            .inc();
    }

    fn dead_lettered(&self, code: &'static str) {
        self.metrics
            .events_dead_lettered
            .with_label_values(&[CONSUMER])
            .inc();
        if let Some(hook) = &self.on_dead_letter {
            hook(code);
        }
    }

    /// Applies one delivery and settles it: ack on success, reject
    /// (dead-letter) on poison or after `max_attempts` failures, else
    /// requeue after a short back-off.
    pub async fn handle(&self, delivery: Delivery) {
        let id = delivery.message.id.clone();
        match self.apply(&delivery.message).await {
            Ok(outcome) => {
                self.attempts.lock().remove(&id);
                self.metrics
                    .events_consumed
                    .with_label_values(&[CONSUMER])
                    .inc();
                tracing::debug!(message = %id, ?outcome, "notification event handled");
                if let Err(e) = delivery.ack().await {
                    tracing::warn!(error = %e, message = %id, "ack failed; the message will come again and be recognised");
                }
            }
            Err(Failure::Poison(why)) => {
                tracing::warn!(message = %id, kind = %delivery.message.kind, reason = %why, "poison message dead-lettered");
                self.dead_lettered(crate::system_events::alerts::EVENT_POISON);
                let _ = delivery.nack(false).await;
            }
            Err(Failure::Retry(e)) => {
                let n = {
                    let mut attempts = self.attempts.lock();
                    if attempts.len() >= MAX_TRACKED {
                        attempts.clear();
                    }
                    let n = attempts.entry(id.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                if n >= self.max_attempts {
                    self.attempts.lock().remove(&id);
                    tracing::error!(error = %e, message = %id, attempts = n, "notification event failed on every attempt; dead-lettered");
                    self.dead_lettered(crate::system_events::alerts::EVENT_RETRIES_EXHAUSTED);
                    let _ = delivery.nack(false).await;
                } else {
                    tracing::warn!(error = %e, message = %id, attempts = n, "notification event failed; requeued");
                    tokio::time::sleep(backoff(n)).await;
                    let _ = delivery.nack(true).await;
                }
            }
        }
    }

    /// Consumes `sub` until `shutdown` flips or the subscription ends.
    pub fn spawn(
        self: Arc<Self>,
        sub: Box<dyn Subscriber>,
        shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(crate::events::consume(
            CONSUMER,
            sub,
            shutdown,
            move |delivery| {
                let this = self.clone();
                async move { this.handle(delivery).await }
            },
        ))
    }
}

/// 100 ms, 200 ms, 400 ms … capped at 2 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(2))
}

/// Subscribes to [`QUEUE`] and runs the consumer (when
/// `notifications.enabled`); resolves once subscribed so no event
/// published after start-up is missed.
pub async fn start(
    app: &App,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Option<JoinHandle<()>>> {
    if !app.config.notifications.enabled {
        return Ok(None);
    }
    let sub = app
        .events
        .subscribe(NotificationConsumer::subscription(QUEUE))
        .await?;
    Ok(Some(
        Arc::new(NotificationConsumer::from_app(app)).spawn(sub, shutdown),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn ev(from: &str, to: &str, reason: Option<&str>) -> OrderEvent {
        OrderEvent {
            order_id: OrderId::new(),
            customer_id: UserId::new(),
            from: Some(from.into()),
            to: Some(to.into()),
            reason: reason.map(Into::into),
            at: None,
        }
    }

    #[test]
    fn noise_is_skipped_and_news_is_rendered() {
        let sc = "order.status_changed";
        assert!(render(sc, &ev("draft", "submitted", None)).is_none());
        assert!(render(sc, &ev("printing", "finishing", None)).is_none());
        assert!(render("order.processed", &ev("approved", "queued", None)).is_none());
        let c = render(sc, &ev("submitted", "cancelled", Some("ordered twice"))).expect("news");
        assert_eq!(c.kind, "order.cancelled");
        assert!(c.body.contains("ordered twice"), "{}", c.body);
        assert_eq!(
            render(sc, &ev("submitted", "awaiting_files", None)).map(|r| r.kind),
            Some("order.awaiting_files")
        );
        assert_eq!(
            render(sc, &ev("preflight", "awaiting_files", None)).map(|r| r.kind),
            Some("order.files_needed")
        );
        assert_eq!(
            render(sc, &ev("quality_check", "queued", None)).map(|r| r.kind),
            Some("order.reprint")
        );
        assert_eq!(
            render(sc, &ev("packed", "shipped", None)).map(|r| r.kind),
            Some("order.shipped")
        );
    }

    #[test]
    fn preferences_are_validated_and_default_on() {
        let mut p = BTreeMap::new();
        p.insert("language".to_owned(), "de".to_owned());
        p.insert(prefs::EMAIL_ORDER_UPDATES.to_owned(), "off".to_owned());
        assert_eq!(prefs::invalid(&p), None);
        p.insert(prefs::IN_APP_ORDER_UPDATES.to_owned(), "maybe".to_owned());
        assert_eq!(
            prefs::invalid(&p),
            Some((prefs::IN_APP_ORDER_UPDATES, "maybe"))
        );
        p.remove(prefs::IN_APP_ORDER_UPDATES);
        p.insert("notify.sms.order_updates".to_owned(), "on".to_owned());
        assert_eq!(prefs::invalid(&p), Some(("notify.sms.order_updates", "on")));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(2), Duration::from_millis(200));
        assert_eq!(backoff(50), Duration::from_secs(2));
    }
}
