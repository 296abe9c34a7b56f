//! What a checkout takes from shared counters: stock per product and one
//! redemption per coupon. They are written in the order's transaction
//! (`OrderRepo::insert_checkout`), so a checkout that fails — or a process
//! killed half-way — takes nothing.

use std::collections::BTreeMap;

use super::quote::PricedQuote;
use crate::domain::{CartLine, ProductId};
use crate::ports::Reservations;

/// Units to take per product (lines of one product add up).
pub fn demand(lines: &[CartLine]) -> BTreeMap<ProductId, u64> {
    let mut out: BTreeMap<ProductId, u64> = BTreeMap::new();
    for l in lines {
        *out.entry(l.product_id.clone()).or_default() += u64::from(l.quantity);
    }
    out
}

/// One redemption per coupon code per order, however many lines use it.
/// Lines priced on different catalog versions may disagree on the cap:
/// the smallest one counts (`None` is unlimited).
pub fn coupons(priced: &[PricedQuote]) -> BTreeMap<String, Option<u64>> {
    let mut out: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for c in priced.iter().filter_map(|q| q.coupon.as_ref()) {
        out.entry(c.code.clone())
            .and_modify(|cap| {
                *cap = match (*cap, c.max_redemptions) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            })
            .or_insert(c.max_redemptions);
    }
    out
}

/// The reservations of a checkout.
pub fn of(lines: &[CartLine], priced: &[PricedQuote]) -> Reservations {
    Reservations {
        stock: demand(lines).into_iter().collect(),
        coupons: coupons(priced).into_iter().collect(),
    }
}
