//! `puratan users create | grant | revoke-role`: operator account
//! management, and the supported way to create the first admin.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use clap::{Subcommand, ValueEnum};
use puratan_core::auth::password::check_policy;
use puratan_core::domain::{AccountStatus, Email, Role, User};
use puratan_core::ports::{AuditEvent, Exchange, Message};
use puratan_core::protect::Zeroizing;
use puratan_core::{ConflictReason, Error};

use super::{is_stale, out};
use crate::auth::session;
use crate::state::App;

/// Environment variable `puratan users create` reads the password from
/// (otherwise: one line on stdin).
pub const PASSWORD_ENV: &str = "PURATAN_NEW_PASSWORD";

pub const USERS_ABOUT: &str = "\
Create accounts and grant or revoke roles.

This is the supported way to create the first admin: the HTTP API has no
self-promotion path (only an admin can assign roles). Either create the
account here:

    echo \"$PASSWORD\" | puratan users create --email admin@example.com --role admin

or let the person register and verify their address through the API, then:

    puratan users grant --email admin@example.com --role admin

Every change is written to the audit log with actor `cli`. Run it with the
same configuration (--config / PURATAN__* variables) as the server.";

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an active account with a verified address.
    ///
    /// The operator vouches for the address, so no verification mail is
    /// sent. The password is read from the environment variable
    /// PURATAN_NEW_PASSWORD or, without it, as one line on stdin; it must
    /// satisfy the password policy (length, not a common password).
    Create {
        #[arg(long)]
        email: String,
        /// Role(s) of the new account; repeat for several.
        #[arg(long = "role", value_enum, default_values_t = [RoleArg::Customer])]
        roles: Vec<RoleArg>,
        /// Display name (default: the part of the address before the @).
        #[arg(long)]
        name: Option<String>,
    },
    /// Add a role to an existing account (e.g. make the first admin).
    ///
    /// Takes effect at the account's next login or token refresh.
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Remove a role from an account and end its sessions.
    ///
    /// Its refresh tokens stop working at once, so no new token carries the
    /// removed role. An account keeps at least one role.
    RevokeRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: RoleArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Admin,
    Staff,
    Customer,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Staff => Role::Staff,
            RoleArg::Customer => Role::Customer,
        }
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Admin => "admin",
        Role::Staff => "staff",
        Role::Customer => "customer",
    }
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| role_name(*r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Attempts when the account keeps changing concurrently.
const ATTEMPTS: usize = 5;

pub async fn run(app: &App, command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Create { email, roles, name } => create(app, &email, &roles, name).await,
        UsersCommand::Grant { email, role } => grant(app, &email, role.into()).await,
        UsersCommand::RevokeRole { email, role } => revoke(app, &email, role.into()).await,
    }
}

fn parse_email(email: &str) -> anyhow::Result<Email> {
    Email::parse(email)
        .map_err(|_| anyhow::anyhow!("--email: {email:?} is not a valid e-mail address"))
}

/// The password for a new account: `PURATAN_NEW_PASSWORD`, else one line
/// of stdin (the line ending removed, nothing else).
fn read_password() -> anyhow::Result<Zeroizing<String>> {
    if let Some(p) = std::env::var_os(PASSWORD_ENV) {
        let p = p
            .into_string()
            .map_err(|_| anyhow::anyhow!("{PASSWORD_ENV} is not valid UTF-8"))?;
        return Ok(Zeroizing::new(p));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "password for the new account (input is shown; prefer a pipe or {PASSWORD_ENV}): "
        );
        let _ = err.flush();
    }
    let mut line = Zeroizing::new(String::new());
    stdin.lock().read_line(&mut line)?;
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    if line.is_empty() {
        anyhow::bail!("no password given: pipe one line on stdin or set {PASSWORD_ENV}");
    }
    Ok(line)
}

async fn create(
    app: &App,
    email: &str,
    roles: &[RoleArg],
    name: Option<String>,
) -> anyhow::Result<()> {
    let email = parse_email(email)?;
    let mut roles: Vec<Role> = roles.iter().map(|r| Role::from(*r)).collect();
    dedup(&mut roles);
    let name = name.unwrap_or_else(|| {
        email
            .as_str()
            .split_once('@')
            .map_or(email.as_str(), |(local, _)| local)
            .to_owned()
    });
    let display_name = puratan_core::domain::text::clean("display_name", &name, 100, false)
        .map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let password = read_password()?;
    check_policy(&password).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
    let hasher = app.auth.hasher.clone();
    let phc = tokio::task::spawn_blocking(move || hasher.hash(&password)).await??;

    let mut user = User::new_customer(email.clone(), display_name, Some(phc));
    user.roles.clone_from(&roles);
    user.status = AccountStatus::Active;
    user.email_verified_at = Some(chrono::Utc::now());
    let user = match app.users.insert(user).await {
        Ok(u) => u,
        Err(Error::Conflict {
            reason: ConflictReason::Duplicate { .. },
            ..
        }) => anyhow::bail!(
            "an account with e-mail {email} already exists (change its roles with `puratan users grant`)"
        ),
        Err(e) => return Err(e.into()),
    };
    audit(
        app,
        "admin.user_created",
        &user,
        serde_json::json!({ "roles": user.roles, "email_verified": true }),
    )
    .await?;
    out(&format!(
        "created {} (id {}) with roles: {}",
        user.email,
        user.id,
        role_list(&user.roles)
    ))
}

fn dedup(roles: &mut Vec<Role>) {
    let mut seen = Vec::with_capacity(roles.len());
    roles.retain(|r| {
        let new = !seen.contains(r);
        seen.push(*r);
        new
    });
}

enum Change {
    Unchanged(User),
    Changed { before: Vec<Role>, user: User },
}

/// Applies `edit` to the account's roles and stores the result, re-reading
/// and retrying when the record changed concurrently. `edit` returns
/// whether it changed anything.
async fn change_roles(
    app: &App,
    email: &Email,
    edit: impl Fn(&mut Vec<Role>) -> anyhow::Result<bool>,
) -> anyhow::Result<Change> {
    for attempt in 1..=ATTEMPTS {
        let mut user = match app.users.get_by_email(email).await {
            Ok(u) => u,
            Err(Error::NotFound { .. }) => anyhow::bail!("no account with e-mail {email}"),
            Err(e) => return Err(e.into()),
        };
        let before = user.roles.clone();
        if !edit(&mut user.roles)? {
            return Ok(Change::Unchanged(user));
        }
        match app.users.update(user).await {
            Ok(user) => return Ok(Change::Changed { before, user }),
            Err(e) if is_stale(&e) && attempt < ATTEMPTS => continue,
            Err(e) => return Err(e.into()),
        }
    }
    anyhow::bail!("the account kept changing concurrently; try again")
}

async fn grant(app: &App, email: &str, role: Role) -> anyhow::Result<()> {
    let email = parse_email(email)?;
    let change = change_roles(app, &email, |roles| {
        if roles.contains(&role) {
            return Ok(false);
        }
        roles.push(role);
        Ok(true)
    })
    .await?;
    match change {
        Change::Unchanged(user) => out(&format!(
            "{} already has role {}; nothing changed (roles: {})",
            user.email,
            role_name(role),
            role_list(&user.roles)
        )),
        Change::Changed { before, user } => {
            audit(
                app,
                "admin.roles_changed",
                &user,
                serde_json::json!({ "from": before, "to": user.roles }),
            )
            .await?;
            if user.status != AccountStatus::Active {
                eprintln!(
                    "note: the account is not active yet (status {:?}); it cannot log in until it is",
                    user.status
                );
            }
            out(&format!(
                "granted {} to {} (roles: {})",
                role_name(role),
                user.email,
                role_list(&user.roles)
            ))
        }
    }
}

async fn revoke(app: &App, email: &str, role: Role) -> anyhow::Result<()> {
    let email = parse_email(email)?;
    let change = change_roles(app, &email, |roles| {
        if !roles.contains(&role) {
            return Ok(false);
        }
        if roles.len() == 1 {
            anyhow::bail!(
                "{role} is the account's only role; grant another role first",
                role = role_name(role)
            );
        }
        roles.retain(|r| *r != role);
        Ok(true)
    })
    .await?;
    match change {
        Change::Unchanged(user) => out(&format!(
            "{} does not have role {}; nothing changed (roles: {})",
            user.email,
            role_name(role),
            role_list(&user.roles)
        )),
        Change::Changed { before, user } => {
            audit(
                app,
                "admin.roles_changed",
                &user,
                serde_json::json!({ "from": before, "to": user.roles }),
            )
            .await?;
            // New tokens must not carry the removed role: end every session
            // (refresh tokens are revoked in the shared store at once).
            let ended = session::revoke_all(&app.auth, user.id).await.map_err(|e| {
                anyhow::anyhow!(
                    "the role was removed, but ending the account's sessions failed: {e}"
                )
            })?;
            out(&format!(
                "revoked {} from {} (roles: {}); {ended} session(s) ended",
                role_name(role),
                user.email,
                role_list(&user.roles)
            ))
        }
    }
}

/// An audit entry with actor `cli` (plus the OS user who ran the command),
/// and the matching `security.*` event on the topic exchange. The change
/// is already stored, so a failed audit write is reported as an error
/// (non-zero exit) rather than swallowed.
async fn audit(
    app: &App,
    action: &str,
    user: &User,
    mut details: serde_json::Value,
) -> anyhow::Result<()> {
    if let (Some(obj), Some(os_user)) = (
        details.as_object_mut(),
        std::env::var("USER").ok().filter(|u| !u.is_empty()),
    ) {
        obj.insert("os_user".into(), serde_json::Value::String(os_user));
    }
    let event = AuditEvent {
        at: chrono::Utc::now(),
        actor: "cli".to_owned(),
        action: action.to_owned(),
        target: Some(user.id.to_string()),
        ip: None,
        details,
    };
    let routing_key = format!("security.{action}");
    let message = Message::json(&routing_key, &event);
    app.audit.append(event).await.map_err(|e| {
        anyhow::anyhow!("the change was stored, but its audit entry could not be written: {e}")
    })?;
    if let Err(e) = app
        .events
        .publish(Exchange::Topic, &routing_key, message)
        .await
    {
        eprintln!("warning: could not publish {routing_key}: {e}");
    }
    Ok(())
}
