//! What a connection listens to, and the audience rule.
//!
//! Channels (in `?subscribe=` lists and `subscribe` commands):
//! * `orders` — every event of the viewer's own orders;
//! * `order:<id>` — one order (the viewer's own, or any for staff with
//!   `orders:read:any`);
//! * `queue` — every order event (staff with `production:queue:read`);
//! * `files` — processing events of the viewer's own files.

use std::collections::HashSet;

use puratan_core::auth::rbac::{self, Permission};
use puratan_core::domain::{Role, UserId};
use serde::{Deserialize, Serialize};

use super::hub::{Audience, LiveEvent};

/// The identity a ticket was issued to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: UserId,
    pub roles: Vec<Role>,
}

impl Viewer {
    pub fn may(&self, permission: Permission) -> bool {
        rbac::require(&self.roles, permission).is_ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    MyOrders,
    Order(String),
    Queue,
    MyFiles,
}

/// Why a channel cannot be joined; `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl Channel {
    /// Parses `orders`, `order:<id>`, `queue` or `files`.
    pub fn parse(s: &str) -> Result<Self, Refusal> {
        match s {
            "orders" => Ok(Self::MyOrders),
            "queue" => Ok(Self::Queue),
            "files" => Ok(Self::MyFiles),
            _ => match s.strip_prefix("order:") {
                Some(id) if !id.is_empty() && id.len() <= 64 => Ok(Self::Order(id.to_owned())),
                _ => Err(Refusal::new(
                    "unknown_channel",
                    "channels are orders, order:<id>, queue and files",
                )),
            },
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::MyOrders => "orders".into(),
            Self::Order(id) => format!("order:{id}"),
            Self::Queue => "queue".into(),
            Self::MyFiles => "files".into(),
        }
    }
}

/// A connection's channels.
#[derive(Debug, Clone, Default)]
pub struct Subscriptions {
    my_orders: bool,
    queue: bool,
    my_files: bool,
    orders: HashSet<String>,
}

impl Subscriptions {
    /// Joins `channel` if `viewer` may. Single orders are checked for
    /// visibility by the caller (it needs the store); here only the count
    /// is bounded.
    pub fn join(
        &mut self,
        viewer: &Viewer,
        channel: Channel,
        max_orders: usize,
    ) -> Result<(), Refusal> {
        match channel {
            Channel::MyOrders => self.my_orders = true,
            Channel::MyFiles => self.my_files = true,
            Channel::Queue => {
                if !viewer.may(Permission::ProductionQueueRead) {
                    return Err(Refusal::new(
                        "forbidden",
                        "the queue channel needs the production:queue:read permission",
                    ));
                }
                self.queue = true;
            }
            Channel::Order(id) => {
                if !self.orders.contains(&id) && self.orders.len() >= max_orders {
                    return Err(Refusal::new(
                        "too_many_subscriptions",
                        format!("at most {max_orders} single-order subscriptions per connection"),
                    ));
                }
                self.orders.insert(id);
            }
        }
        Ok(())
    }

    pub fn leave(&mut self, channel: &Channel) {
        match channel {
            Channel::MyOrders => self.my_orders = false,
            Channel::MyFiles => self.my_files = false,
            Channel::Queue => self.queue = false,
            Channel::Order(id) => {
                self.orders.remove(id);
            }
        }
    }

    /// The audience rule: whether `viewer`, listening to these channels,
    /// receives `event`.
    pub fn wants(&self, viewer: &Viewer, event: &LiveEvent) -> bool {
        let me = viewer.user.to_string();
        match &event.audience {
            Audience::Order {
                order_id,
                customer_id,
            } => {
                let own = *customer_id == me;
                (self.my_orders && own)
                    || (self.queue && viewer.may(Permission::ProductionQueueRead))
                    || (self.orders.contains(order_id)
                        && (own || viewer.may(Permission::OrdersReadAny)))
            }
            Audience::File { owner, .. } => self.my_files && *owner == me,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(roles: &[Role]) -> Viewer {
        Viewer {
            user: UserId::new(),
            roles: roles.to_vec(),
        }
    }

    fn order_event(order: &str, customer: &str) -> LiveEvent {
        LiveEvent::from_message(
            "m",
            "order.status_changed",
            format!(r#"{{"order_id":"{order}","customer_id":"{customer}"}}"#).as_bytes(),
        )
        .expect("event")
    }

    fn file_event(owner: &str) -> LiveEvent {
        LiveEvent::from_message(
            "m",
            "file.processed",
            format!(r#"{{"file_id":"f","owner":"{owner}"}}"#).as_bytes(),
        )
        .expect("event")
    }

    #[test]
    fn channel_names_round_trip_and_junk_is_refused() {
        for name in ["orders", "queue", "files", "order:abc"] {
            assert_eq!(Channel::parse(name).expect(name).name(), name);
        }
        for bad in [
            "",
            "order:",
            "Orders",
            "admin",
            &format!("order:{}", "x".repeat(65)),
        ] {
            assert_eq!(Channel::parse(bad).expect_err(bad).code, "unknown_channel");
        }
    }

    #[test]
    fn customers_see_their_own_orders_and_files_only() {
        let ann = viewer(&[Role::Customer]);
        let bob = viewer(&[Role::Customer]);
        let mut subs = Subscriptions::default();
        subs.join(&ann, Channel::MyOrders, 10).expect("orders");
        subs.join(&ann, Channel::MyFiles, 10).expect("files");
        let ann_id = ann.user.to_string();
        let bob_id = bob.user.to_string();
        assert!(subs.wants(&ann, &order_event("o1", &ann_id)));
        assert!(!subs.wants(&ann, &order_event("o2", &bob_id)));
        assert!(subs.wants(&ann, &file_event(&ann_id)));
        assert!(!subs.wants(&ann, &file_event(&bob_id)));
        // Naming someone else's order does not reveal it to a customer.
        subs.join(&ann, Channel::Order("o2".into()), 10)
            .expect("order");
        assert!(!subs.wants(&ann, &order_event("o2", &bob_id)));
        // The queue is staff-only.
        let refused = subs.join(&ann, Channel::Queue, 10).expect_err("queue");
        assert_eq!(refused.code, "forbidden");
        subs.leave(&Channel::MyOrders);
        assert!(!subs.wants(&ann, &order_event("o1", &ann_id)));
    }

    #[test]
    fn staff_see_the_queue_and_any_single_order() {
        let staff = viewer(&[Role::Staff]);
        let customer = UserId::new().to_string();
        let mut subs = Subscriptions::default();
        assert!(
            !subs.wants(&staff, &order_event("o", &customer)),
            "nothing joined"
        );
        subs.join(&staff, Channel::Order("o".into()), 10)
            .expect("order");
        assert!(subs.wants(&staff, &order_event("o", &customer)));
        assert!(!subs.wants(&staff, &order_event("p", &customer)));
        subs.join(&staff, Channel::Queue, 10).expect("queue");
        assert!(subs.wants(&staff, &order_event("p", &customer)));
        assert!(
            !subs.wants(&staff, &file_event(&customer)),
            "files are the owner's"
        );
    }

    #[test]
    fn single_order_subscriptions_are_bounded() {
        let v = viewer(&[Role::Staff]);
        let mut subs = Subscriptions::default();
        for i in 0..3 {
            subs.join(&v, Channel::Order(format!("o{i}")), 3)
                .expect("within");
        }
        subs.join(&v, Channel::Order("o1".into()), 3)
            .expect("re-joining is free");
        let e = subs
            .join(&v, Channel::Order("o9".into()), 3)
            .expect_err("over");
        assert_eq!(e.code, "too_many_subscriptions");
    }
}
