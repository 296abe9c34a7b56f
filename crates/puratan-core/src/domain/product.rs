use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ProductId;
use super::text;
use crate::Error;

/// Stock keeping unit: `BC-STD-001`. Upper-case ASCII letters, digits, `-`
/// and `_`, 1–32 characters; unique across the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(
                "sku",
                "use 1-32 characters from A-Z, 0-9, '-' and '_'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::parse(&s)
    }
}
impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}
impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! slug_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, Error> {
                let ok = !s.is_empty()
                    && s.len() <= 40
                    && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if ok {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(Error::invalid($field, "use 1-40 characters from a-z, 0-9 and '-'"))
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::parse(&s)
            }
        }
        impl From<$name> for String {
            fn from(s: $name) -> String {
                s.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_type!(
    /// A catalog category (`cards`, `large-format`).
    Category, "category"
);
slug_type!(
    /// A free tag used for filtering (`eco`, `bestseller`).
    Tag, "tag"
);

/// A design template customers can start from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    /// FileStore key of the template file.
    pub file_key: String,
}

/// A catalog item as the storefront and the order system see it. Prices are
/// not stored here: `pricing_ref` names the product in the active pricing
/// catalog (`puratan-pricing`), which computes every price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub sku: Sku,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub category: Category,
    #[serde(default)]
    pub tags: Vec<Tag>,
    pub pricing_ref: String,
    #[serde(default)]
    pub templates: Vec<Template>,
    /// Human-readable specifications (`"Paper" → "Silk 350 gsm"`).
    #[serde(default)]
    pub specifications: BTreeMap<String, String>,
    /// Units in stock; `None` means the product is made to order and has no
    /// stock control.
    #[serde(default)]
    pub stock: Option<u64>,
    #[serde(default = "default_true")]
    pub active: bool,
    /// Optimistic-concurrency version: 0 before the first insert, then 1, 2…
    #[serde(default)]
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

fn default_true() -> bool {
    true
}

impl Product {
    pub const MAX_NAME: usize = 120;
    pub const MAX_DESCRIPTION: usize = 4000;
    pub const MAX_TAGS: usize = 20;
    pub const MAX_SPECS: usize = 50;

    /// Normalises the free-text fields and checks every limit. Call this on
    /// anything that came from outside before storing it.
    pub fn sanitize(mut self) -> Result<Self, Error> {
        self.name = text::clean("name", &self.name, Self::MAX_NAME, false)?;
        self.description = text::clean_optional(
            "description",
            &self.description,
            Self::MAX_DESCRIPTION,
            true,
        )?;
        if self.tags.len() > Self::MAX_TAGS {
            return Err(Error::invalid(
                "tags",
                format!("at most {} tags", Self::MAX_TAGS),
            ));
        }
        if self.specifications.len() > Self::MAX_SPECS {
            return Err(Error::invalid(
                "specifications",
                format!("at most {} entries", Self::MAX_SPECS),
            ));
        }
        let mut specs = BTreeMap::new();
        for (k, v) in &self.specifications {
            let k = text::clean("specifications", k, 60, false)?;
            let v = text::clean("specifications", v, 500, false)?;
            specs.insert(k, v);
        }
        self.specifications = specs;
        for t in &mut self.templates {
            t.name = text::clean("templates.name", &t.name, 120, false)?;
            t.id = text::clean("templates.id", &t.id, 64, false)?;
        }
        Ok(self)
    }
}
