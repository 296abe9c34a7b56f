//! Quality-check checklists per product kind (data), inspection results per
//! job, and the verdict the workflow guards read.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::definition::{MAX_FILE_BYTES, truncate};
use super::error::WorkflowError;
use crate::domain::{OrderId, UserId};

const MAX_CHECKLISTS: usize = 200;
const MAX_ITEMS: usize = 50;

/// The built-in checklists (`qc_default.toml`).
pub const DEFAULT_QC_TOML: &str = include_str!("qc_default.toml");

/// The kind used when a product kind has no checklist of its own.
pub const FALLBACK_KIND: &str = "default";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QcItem {
    /// Stable key (`colour_match`), 1–32 characters from a-z, 0-9 and `_`.
    pub key: String,
    /// Human label for the inspector's screen.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QcChecklist {
    pub product_kind: String,
    pub items: Vec<QcItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChecklists {
    checklists: Vec<QcChecklist>,
}

/// A validated set of checklists, one per product kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcChecklists {
    lists: Vec<QcChecklist>,
}

fn key_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl QcChecklists {
    pub fn from_toml(src: &str) -> Result<Self, WorkflowError> {
        if src.len() > MAX_FILE_BYTES {
            return Err(WorkflowError::TooLarge {
                path: "(file)".into(),
                limit: MAX_FILE_BYTES,
            });
        }
        let raw: RawChecklists =
            toml::from_str(src).map_err(|e| super::definition::toml_error(src, &e))?;
        Self::validate(raw.checklists)
    }

    pub fn from_json(src: &str) -> Result<Self, WorkflowError> {
        if src.len() > MAX_FILE_BYTES {
            return Err(WorkflowError::TooLarge {
                path: "(file)".into(),
                limit: MAX_FILE_BYTES,
            });
        }
        let raw: RawChecklists = serde_json::from_str(src).map_err(|e| WorkflowError::Parse {
            format: "JSON",
            message: e.to_string(),
        })?;
        Self::validate(raw.checklists)
    }

    /// Colour match, cut accuracy, count and finish, refined per kind.
    pub fn builtin() -> Result<Self, WorkflowError> {
        Self::from_toml(DEFAULT_QC_TOML)
    }

    fn validate(lists: Vec<QcChecklist>) -> Result<Self, WorkflowError> {
        if lists.len() > MAX_CHECKLISTS {
            return Err(WorkflowError::TooLarge {
                path: "checklists".into(),
                limit: MAX_CHECKLISTS,
            });
        }
        let mut kinds = HashSet::new();
        for (i, l) in lists.iter().enumerate() {
            if !key_ok(&l.product_kind) {
                return Err(WorkflowError::InvalidName {
                    path: format!("checklists[{i}].product_kind"),
                    value: truncate(&l.product_kind),
                    reason: "use 1-32 characters from a-z, 0-9, '_' and '-'",
                });
            }
            if !kinds.insert(l.product_kind.as_str()) {
                return Err(WorkflowError::Inconsistent {
                    path: format!("checklists[{i}].product_kind"),
                    reason: format!("product kind {:?} has two checklists", l.product_kind),
                });
            }
            if l.items.is_empty() || l.items.len() > MAX_ITEMS {
                return Err(WorkflowError::TooLarge {
                    path: format!("checklists[{i}].items"),
                    limit: MAX_ITEMS,
                });
            }
            let mut keys = HashSet::new();
            for (j, item) in l.items.iter().enumerate() {
                if !key_ok(&item.key) {
                    return Err(WorkflowError::InvalidName {
                        path: format!("checklists[{i}].items[{j}].key"),
                        value: truncate(&item.key),
                        reason: "use 1-32 characters from a-z, 0-9, '_' and '-'",
                    });
                }
                if !keys.insert(item.key.as_str()) {
                    return Err(WorkflowError::Inconsistent {
                        path: format!("checklists[{i}].items[{j}].key"),
                        reason: format!("item {:?} is listed twice", item.key),
                    });
                }
                if item.label.trim().is_empty() || item.label.chars().count() > 200 {
                    return Err(WorkflowError::InvalidName {
                        path: format!("checklists[{i}].items[{j}].label"),
                        value: truncate(&item.label),
                        reason: "use 1-200 characters",
                    });
                }
            }
        }
        Ok(Self { lists })
    }

    /// The checklist for `product_kind`, or the `default` one.
    pub fn for_kind(&self, product_kind: &str) -> Option<&QcChecklist> {
        self.lists
            .iter()
            .find(|l| l.product_kind == product_kind)
            .or_else(|| self.lists.iter().find(|l| l.product_kind == FALLBACK_KIND))
    }

    pub fn all(&self) -> &[QcChecklist] {
        &self.lists
    }
}

/// One inspected item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcItemResult {
    pub key: String,
    pub passed: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// The inspection of one job (an order line) by one inspector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcResult {
    pub order_id: OrderId,
    /// The job: index of the order line.
    pub line: u32,
    pub product_kind: String,
    pub inspector: UserId,
    pub at: DateTime<Utc>,
    pub items: Vec<QcItemResult>,
}

/// The verdict the guards `qc_checklist_complete` and `qc_failed` read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum QcOutcome {
    /// Every item inspected and passed.
    Passed,
    /// At least one item failed (these become the reprint reason).
    Failed { failed: Vec<String> },
    /// Nothing failed, but some items were not inspected yet.
    Incomplete { missing: Vec<String> },
}

impl QcChecklist {
    /// Judge one job's result against this checklist. Items the checklist
    /// does not have, or reported twice, are an error.
    pub fn evaluate(&self, result: &QcResult) -> Result<QcOutcome, WorkflowError> {
        if result.items.len() > MAX_ITEMS {
            return Err(WorkflowError::TooLarge {
                path: "items".into(),
                limit: MAX_ITEMS,
            });
        }
        let mut seen = HashSet::new();
        for (j, r) in result.items.iter().enumerate() {
            if !self.items.iter().any(|i| i.key == r.key) {
                return Err(WorkflowError::QcResultInvalid {
                    path: format!("items[{j}].key"),
                    reason: format!(
                        "{:?} is not on the {} checklist",
                        truncate(&r.key),
                        self.product_kind
                    ),
                });
            }
            if !seen.insert(r.key.as_str()) {
                return Err(WorkflowError::QcResultInvalid {
                    path: format!("items[{j}].key"),
                    reason: format!("{:?} is reported twice", r.key),
                });
            }
        }
        // Checklist order, so reasons are stable.
        let mut failed = Vec::new();
        let mut missing = Vec::new();
        for item in &self.items {
            match result.items.iter().find(|r| r.key == item.key) {
                Some(r) if r.passed => {}
                Some(r) => failed.push(match r.note.as_deref().map(str::trim) {
                    Some(n) if !n.is_empty() => {
                        format!("{} ({})", item.key, n.chars().take(200).collect::<String>())
                    }
                    _ => item.key.clone(),
                }),
                None => missing.push(item.key.clone()),
            }
        }
        Ok(if !failed.is_empty() {
            QcOutcome::Failed { failed }
        } else if !missing.is_empty() {
            QcOutcome::Incomplete { missing }
        } else {
            QcOutcome::Passed
        })
    }
}

impl QcOutcome {
    /// The order's verdict from its jobs' verdicts `(line, outcome)`:
    /// failed if any job failed (items prefixed `line N: `), else
    /// incomplete if any job is, else passed. No jobs → incomplete.
    pub fn combine(jobs: impl IntoIterator<Item = (u32, QcOutcome)>) -> QcOutcome {
        let mut failed = Vec::new();
        let mut missing = Vec::new();
        let mut any = false;
        for (line, o) in jobs {
            any = true;
            match o {
                QcOutcome::Passed => {}
                QcOutcome::Failed { failed: f } => {
                    failed.extend(f.into_iter().map(|k| format!("line {line}: {k}")));
                }
                QcOutcome::Incomplete { missing: m } => {
                    missing.extend(m.into_iter().map(|k| format!("line {line}: {k}")));
                }
            }
        }
        if !failed.is_empty() {
            QcOutcome::Failed { failed }
        } else if !missing.is_empty() || !any {
            QcOutcome::Incomplete { missing }
        } else {
            QcOutcome::Passed
        }
    }
}
