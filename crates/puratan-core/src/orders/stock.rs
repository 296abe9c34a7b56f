//! Stock for checkout: reserve every stock-controlled line, and give the
//! units back when the checkout fails after reserving.
//!
//! `ProductRepo::reserve_stock` is atomic per product and never oversells;
//! reservations of several products are not one transaction, so a failure
//! part-way releases what was taken ([`release`]).

use std::collections::BTreeMap;

use super::error::OrderError;
use crate::domain::{CartLine, ProductId};
use crate::ports::ProductRepo;
use crate::{ConflictReason, Error, ErrorKind};

/// How often a release retries after losing a version race.
const RELEASE_ATTEMPTS: usize = 50;

/// Units to take per product (lines of one product add up).
pub fn demand(lines: &[CartLine]) -> BTreeMap<ProductId, u64> {
    let mut out: BTreeMap<ProductId, u64> = BTreeMap::new();
    for l in lines {
        *out.entry(l.product_id.clone()).or_default() += u64::from(l.quantity);
    }
    out
}

/// Reserves `demand`; on any failure gives back what was taken and
/// returns the error. Returns what was actually reserved (products with
/// stock control only).
pub async fn reserve(
    products: &dyn ProductRepo,
    demand: &BTreeMap<ProductId, u64>,
) -> Result<Vec<(ProductId, u64)>, OrderError> {
    let mut taken = Vec::new();
    for (id, qty) in demand {
        match products.reserve_stock(id, *qty).await {
            Ok(Some(_)) => taken.push((id.clone(), *qty)),
            Ok(None) => {}
            Err(e) => {
                release(products, &taken).await;
                return Err(match e {
                    Error::Conflict {
                        reason: ConflictReason::State(_),
                        ..
                    } => OrderError::OutOfStock {
                        product_id: id.to_string(),
                    },
                    other => other.into(),
                });
            }
        }
    }
    Ok(taken)
}

/// Gives reserved units back (best effort: a failure is logged; the units
/// stay reserved, which never oversells).
pub async fn release(products: &dyn ProductRepo, taken: &[(ProductId, u64)]) {
    for (id, qty) in taken {
        if let Err(e) = release_one(products, id, *qty).await {
            tracing::error!(product = %id, units = qty, error = %e, "could not release reserved stock");
        }
    }
}

/// Read, add, version-checked write; again on a lost race.
async fn release_one(products: &dyn ProductRepo, id: &ProductId, qty: u64) -> crate::Result<()> {
    for _ in 0..RELEASE_ATTEMPTS {
        let mut p = products.get(id).await?;
        let Some(left) = p.stock else { return Ok(()) };
        p.stock = Some(left.saturating_add(qty));
        match products.update(p).await {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Conflict => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Error::stale("product"))
}
