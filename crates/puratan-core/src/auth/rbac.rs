//! Role-based access control: roles map to fine-grained permissions, as
//! data. Every front door (HTTP, CLI, future gRPC) asks [`allows`].
//!
//! `…:own` permissions only say the caller may act on *their own* records;
//! the ownership check itself (and answering 404, not 403, for someone
//! else's record) is the caller's job.

use std::fmt;
use std::str::FromStr;

use crate::auth::AuthError;
use crate::domain::Role;

/// A fine-grained permission. The string form (`orders:read:own`) is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Permission {
    /// Read one's own orders.
    OrdersReadOwn,
    /// Read anybody's orders.
    OrdersReadAny,
    /// Place an order.
    OrdersCreate,
    /// Cancel one's own order (while the workflow allows it).
    OrdersCancelOwn,
    /// Move an order through the production workflow.
    OrdersUpdateStatus,
    /// See the production queue.
    ProductionQueueRead,
    /// Read and edit one's own profile, sessions and 2FA.
    ProfileManageOwn,
    /// Upload artwork for one's own orders.
    FilesUploadOwn,
    /// Read any customer's artwork files.
    FilesReadAny,
    /// Re-run preflight on a file with another profile or ordered size.
    FilesPreflight,
    /// Create, edit and delete products, price rules, stock and templates.
    ProductsWrite,
    /// Publish a new pricing catalog version.
    CatalogPublish,
    /// List and view users (profile, history).
    UsersRead,
    /// Lock, unlock, disable users; send them messages.
    UsersManage,
    /// Change a user's roles.
    RolesAssign,
    /// Read the audit log.
    AuditRead,
}

impl Permission {
    /// Every permission, in declaration order.
    pub const ALL: &'static [Permission] = &[
        Self::OrdersReadOwn,
        Self::OrdersReadAny,
        Self::OrdersCreate,
        Self::OrdersCancelOwn,
        Self::OrdersUpdateStatus,
        Self::ProductionQueueRead,
        Self::ProfileManageOwn,
        Self::FilesUploadOwn,
        Self::FilesReadAny,
        Self::FilesPreflight,
        Self::ProductsWrite,
        Self::CatalogPublish,
        Self::UsersRead,
        Self::UsersManage,
        Self::RolesAssign,
        Self::AuditRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrdersReadOwn => "orders:read:own",
            Self::OrdersReadAny => "orders:read:any",
            Self::OrdersCreate => "orders:create",
            Self::OrdersCancelOwn => "orders:cancel:own",
            Self::OrdersUpdateStatus => "orders:update_status",
            Self::ProductionQueueRead => "production:queue:read",
            Self::ProfileManageOwn => "profile:manage:own",
            Self::FilesUploadOwn => "files:upload:own",
            Self::FilesReadAny => "files:read:any",
            Self::FilesPreflight => "files:preflight",
            Self::ProductsWrite => "products:write",
            Self::CatalogPublish => "catalog:publish",
            Self::UsersRead => "users:read",
            Self::UsersManage => "users:manage",
            Self::RolesAssign => "roles:assign",
            Self::AuditRead => "audit:read",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Unknown permission string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission")]
pub struct UnknownPermission;

impl FromStr for Permission {
    type Err = UnknownPermission;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownPermission)
    }
}

use Permission as P;

const CUSTOMER: &[Permission] = &[
    P::OrdersReadOwn,
    P::OrdersCreate,
    P::OrdersCancelOwn,
    P::ProfileManageOwn,
    P::FilesUploadOwn,
];

const STAFF: &[Permission] = &[
    P::OrdersReadOwn,
    P::OrdersReadAny,
    P::OrdersUpdateStatus,
    P::ProductionQueueRead,
    P::ProfileManageOwn,
    P::FilesReadAny,
    P::FilesPreflight,
    P::UsersRead,
];

const ADMIN: &[Permission] = Permission::ALL;

/// The permissions one role grants.
pub fn permissions(role: Role) -> &'static [Permission] {
    match role {
        Role::Customer => CUSTOMER,
        Role::Staff => STAFF,
        Role::Admin => ADMIN,
    }
}

/// Whether any of `roles` grants `permission`. No roles → nothing allowed.
pub fn allows(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| permissions(*r).contains(&permission))
}

/// [`allows`] as a `Result`: `Forbidden { permission }` when denied.
pub fn require(roles: &[Role], permission: Permission) -> Result<(), AuthError> {
    if allows(roles, permission) {
        Ok(())
    } else {
        Err(AuthError::Forbidden {
            permission: permission.as_str(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full matrix: (permission, customer, staff, admin).
    const MATRIX: &[(&str, bool, bool, bool)] = &[
        ("orders:read:own", true, true, true),
        ("orders:read:any", false, true, true),
        ("orders:create", true, false, true),
        ("orders:cancel:own", true, false, true),
        ("orders:update_status", false, true, true),
        ("production:queue:read", false, true, true),
        ("profile:manage:own", true, true, true),
        ("files:upload:own", true, false, true),
        ("files:read:any", false, true, true),
        ("files:preflight", false, true, true),
        ("products:write", false, false, true),
        ("catalog:publish", false, false, true),
        ("users:read", false, true, true),
        ("users:manage", false, false, true),
        ("roles:assign", false, false, true),
        ("audit:read", false, false, true),
    ];

    #[test]
    fn every_role_times_every_permission() {
        assert_eq!(
            MATRIX.len(),
            Permission::ALL.len(),
            "matrix must be complete"
        );
        for &(name, customer, staff, admin) in MATRIX {
            let p: Permission = name.parse().expect(name);
            assert_eq!(p.as_str(), name);
            assert_eq!(allows(&[Role::Customer], p), customer, "customer × {name}");
            assert_eq!(allows(&[Role::Staff], p), staff, "staff × {name}");
            assert_eq!(allows(&[Role::Admin], p), admin, "admin × {name}");
            assert!(!allows(&[], p), "no roles × {name}");
            assert_eq!(
                allows(&[Role::Customer, Role::Staff], p),
                customer || staff,
                "customer+staff × {name}"
            );
        }
    }

    #[test]
    fn require_reports_the_missing_permission() {
        assert!(require(&[Role::Admin], Permission::UsersManage).is_ok());
        let err = require(&[Role::Staff], Permission::UsersManage).unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert_eq!(err.to_string(), "missing permission users:manage");
    }

    #[test]
    fn permission_strings_round_trip_and_unknown_rejected() {
        for p in Permission::ALL {
            assert_eq!(p.to_string().parse::<Permission>(), Ok(*p));
        }
        for bad in [
            "",
            "orders",
            "orders:read",
            "ORDERS:READ:OWN",
            "orders:read:own ",
        ] {
            assert_eq!(bad.parse::<Permission>(), Err(UnknownPermission), "{bad:?}");
        }
    }
}
