use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::Result;
use crate::ports::{Acker, Delivery, EventBus, Exchange, Message, Subscriber, Subscription};

/// An in-process broker with AMQP semantics: named queues bound to the
/// three exchanges, competing consumers on one queue, acks, and redelivery
/// of whatever a dropped subscriber left un-acked. Messages nacked without
/// requeue go to [`MemoryEventBus::dead_letters`].
#[derive(Debug, Clone, Default)]
pub struct MemoryEventBus {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    queues: HashMap<String, Queue>,
    dead: Vec<Message>,
}

#[derive(Debug)]
struct Queue {
    bindings: Vec<(Exchange, String)>,
    ready: VecDeque<(Message, bool)>,
    unacked: HashMap<u64, Message>,
    next_tag: u64,
    transient: bool,
    consumers: usize,
    notify: Arc<Notify>,
}

impl MemoryEventBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages that were rejected without requeue.
    pub fn dead_letters(&self) -> Vec<Message> {
        self.state.lock().dead.clone()
    }

    /// Messages waiting in `queue` (not counting un-acked ones).
    pub fn queue_len(&self, queue: &str) -> usize {
        self.state
            .lock()
            .queues
            .get(queue)
            .map_or(0, |q| q.ready.len())
    }

    fn settle(&self, queue: &str, tag: u64, outcome: Outcome) {
        let mut state = self.state.lock();
        let State { queues, dead } = &mut *state;
        let Some(q) = queues.get_mut(queue) else {
            return;
        };
        let Some(msg) = q.unacked.remove(&tag) else {
            return;
        };
        match outcome {
            Outcome::Ack => {}
            Outcome::Requeue => {
                q.ready.push_front((msg, true));
                q.notify.notify_waiters();
                q.notify.notify_one();
            }
            Outcome::DeadLetter => dead.push(msg),
        }
    }
}

enum Outcome {
    Ack,
    Requeue,
    DeadLetter,
}

#[async_trait]
impl EventBus for MemoryEventBus {
    async fn publish(&self, exchange: Exchange, routing_key: &str, message: Message) -> Result<()> {
        let mut state = self.state.lock();
        for q in state.queues.values_mut() {
            if q.bindings
                .iter()
                .any(|(ex, key)| *ex == exchange && exchange.routes(key, routing_key))
            {
                q.ready.push_back((message.clone(), false));
                q.notify.notify_one();
            }
        }
        Ok(())
    }

    async fn subscribe(&self, sub: Subscription) -> Result<Box<dyn Subscriber>> {
        let mut state = self.state.lock();
        let q = state
            .queues
            .entry(sub.queue.clone())
            .or_insert_with(|| Queue {
                bindings: Vec::new(),
                ready: VecDeque::new(),
                unacked: HashMap::new(),
                next_tag: 0,
                transient: sub.transient,
                consumers: 0,
                notify: Arc::new(Notify::new()),
            });
        let binding = (sub.exchange, sub.binding_key.clone());
        if !q.bindings.contains(&binding) {
            q.bindings.push(binding);
        }
        q.consumers += 1;
        Ok(Box::new(MemorySubscriber {
            bus: self.clone(),
            queue: sub.queue,
            notify: q.notify.clone(),
            outstanding: Arc::new(Mutex::new(HashSet::new())),
        }))
    }
}

#[derive(Debug)]
struct MemorySubscriber {
    bus: MemoryEventBus,
    queue: String,
    notify: Arc<Notify>,
    /// Tags delivered to this subscriber and not yet settled.
    outstanding: Arc<Mutex<HashSet<u64>>>,
}

#[async_trait]
impl Subscriber for MemorySubscriber {
    async fn next(&mut self) -> Result<Option<Delivery>> {
        loop {
            let notified = self.notify.notified();
            {
                let mut state = self.bus.state.lock();
                let Some(q) = state.queues.get_mut(&self.queue) else {
                    return Ok(None);
                };
                if let Some((message, redelivered)) = q.ready.pop_front() {
                    let tag = q.next_tag;
                    q.next_tag += 1;
                    q.unacked.insert(tag, message.clone());
                    self.outstanding.lock().insert(tag);
                    let acker = MemoryAcker {
                        bus: self.bus.clone(),
                        queue: self.queue.clone(),
                        tag,
                        outstanding: self.outstanding.clone(),
                    };
                    return Ok(Some(Delivery {
                        message,
                        redelivered,
                        acker: Box::new(acker),
                    }));
                }
            }
            notified.await;
        }
    }
}

impl Drop for MemorySubscriber {
    fn drop(&mut self) {
        // Like an AMQP channel closing: un-acked deliveries go back.
        let tags: Vec<u64> = self.outstanding.lock().drain().collect();
        for tag in tags {
            self.bus.settle(&self.queue, tag, Outcome::Requeue);
        }
        let mut state = self.bus.state.lock();
        if let Some(q) = state.queues.get_mut(&self.queue) {
            q.consumers = q.consumers.saturating_sub(1);
            if q.transient && q.consumers == 0 {
                state.queues.remove(&self.queue);
            }
        }
    }
}

#[derive(Debug)]
struct MemoryAcker {
    bus: MemoryEventBus,
    queue: String,
    tag: u64,
    outstanding: Arc<Mutex<HashSet<u64>>>,
}

impl MemoryAcker {
    fn finish(&self, outcome: Outcome) {
        if self.outstanding.lock().remove(&self.tag) {
            self.bus.settle(&self.queue, self.tag, outcome);
        }
    }
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(&self) -> Result<()> {
        self.finish(Outcome::Ack);
        Ok(())
    }

    async fn nack(&self, requeue: bool) -> Result<()> {
        self.finish(if requeue {
            Outcome::Requeue
        } else {
            Outcome::DeadLetter
        });
        Ok(())
    }
}
