//! The operator commands of the real `puratan` binary — `keys generate`,
//! `keys rotate`, `users create | grant | revoke-role` — against a
//! temporary SQLite configuration written to a `puratan.toml`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use puratan_core::domain::{Email, TotpEnrolment, User};
use puratan_core::protect::{DataKey, Keyring, Sealed};
use puratan_server::config::Config;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple 42";
/// RFC 6238's test secret: what the sealed TOTP field protects.
const TOTP_SECRET: &[u8] = b"12345678901234567890";

/// A temp directory with a `puratan.toml` pointing the database and file
/// store into it.
struct Setup {
    dir: tempfile::TempDir,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A fresh random data key: `(id, base64 secret)`.
fn new_key(id: &str) -> (String, String) {
    let key = DataKey::generate(id).expect("key");
    (id.to_owned(), key.to_base64().to_string())
}

fn keyring(keys: &[&(String, String)], active: &str) -> Keyring {
    let keys = keys
        .iter()
        .map(|(id, secret)| DataKey::from_base64(id, secret).expect("key"));
    Keyring::new(keys, active).expect("keyring")
}

fn totp_context(user: &User) -> String {
    format!("user:{}:totp_secret", user.id)
}

impl Setup {
    fn new() -> Self {
        let setup = Self {
            dir: tempfile::tempdir().expect("tmp"),
            port: free_port(),
        };
        setup.configure("");
        setup
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn config_path(&self) -> PathBuf {
        self.path().join("puratan.toml")
    }

    /// Writes `puratan.toml`: the temp database and files, then `extra`.
    fn configure(&self, extra: &str) {
        let text = format!(
            "[server]\nport = {port}\n\n[sqlite]\npath = {db}\n\n[files]\nroot = {files}\n\n\
             [log]\naccess_log = false\n\n{extra}\n",
            port = self.port,
            db = toml_str(&self.path().join("db.sqlite").to_string_lossy()),
            files = toml_str(&self.path().join("files").to_string_lossy()),
        );
        std::fs::write(self.config_path(), text).expect("write config");
    }

    /// `[protect]` with these keys, `active` sealing new values.
    fn configure_keys(&self, keys: &[&(String, String)], active: &str) {
        let list: Vec<String> = keys
            .iter()
            .map(|(id, secret)| {
                format!("{{ id = {}, secret = {} }}", toml_str(id), toml_str(secret))
            })
            .collect();
        self.configure(&format!(
            "[protect]\nactive_key = {}\nkeys = [{}]\n",
            toml_str(active),
            list.join(", ")
        ));
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_puratan"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("PURATAN_")) {
            cmd.env_remove(k);
        }
        cmd.arg("--config")
            .arg(self.config_path())
            .args(args)
            .current_dir(self.path());
        cmd
    }

    /// Runs `puratan --config puratan.toml ARGS` with `stdin` piped in.
    fn cli(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        use std::io::Write as _;
        let mut cmd = self.command(args);
        cmd.envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn puratan");
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(stdin.as_bytes()).expect("write stdin");
        drop(pipe);
        child.wait_with_output().expect("wait")
    }

    fn config(&self) -> Config {
        Config::load(Some(&self.config_path()), true, std::iter::empty()).expect("config")
    }

    /// The App exactly as the server builds it from this configuration.
    async fn app(&self) -> puratan_server::state::App {
        puratan_server::backends::build(self.config())
            .await
            .expect("app")
    }

    async fn user(&self, email: &str) -> User {
        let ((_, users, ..), _) = puratan_server::backends::storage(&self.config())
            .await
            .expect("storage");
        users
            .get_by_email(&Email::parse(email).expect("email"))
            .await
            .expect("user")
    }

    /// Inserts a user whose TOTP secret is sealed by `ring` (as enrolment
    /// would have, on a node where `ring`'s active key was active).
    async fn user_with_totp(&self, email: &str, ring: Option<&Keyring>) -> User {
        let ((_, users, ..), _) = puratan_server::backends::storage(&self.config())
            .await
            .expect("storage");
        let mut user = User::new_customer(Email::parse(email).expect("email"), "T".into(), None);
        if let Some(ring) = ring {
            let sealed = ring.seal(TOTP_SECRET, &totp_context(&user)).expect("seal");
            user.security.totp = Some(TotpEnrolment {
                secret: sealed.into_string(),
                confirmed: true,
                last_step: None,
            });
        }
        users.insert(user).await.expect("insert")
    }

    fn start_server(&self) -> Server {
        let child = self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn puratan serve");
        Server {
            child,
            base: format!("http://127.0.0.1:{}", self.port),
        }
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stored_totp(user: &User) -> String {
    user.security
        .totp
        .as_ref()
        .expect("totp enrolled")
        .secret
        .clone()
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn ready(mut self) -> Server {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await
                && r.status().is_success()
            {
                return self;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("puratan exited during start-up: {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("puratan did not become healthy within 30 s");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn keys_generate_prints_a_32_byte_key_as_a_config_snippet_the_server_accepts() {
    let setup = Setup::new();
    let parse = |args: &[&str]| -> (toml::Table, String) {
        let text = ok(&setup.cli(args, "", &[]));
        (text.parse::<toml::Table>().expect("stdout is TOML"), text)
    };

    let (data, snippet) = parse(&["keys", "generate", "--id", "2026-11"]);
    let protect = data["protect"].as_table().expect("[protect]");
    assert_eq!(protect["active_key"].as_str(), Some("2026-11"));
    let keys = protect["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"].as_str(), Some("2026-11"));
    let secret = keys[0]["secret"].as_str().expect("secret").to_owned();
    assert_eq!(STANDARD.decode(&secret).expect("base64").len(), 32);

    // Fresh randomness every time.
    let (again, _) = parse(&["keys", "generate", "--id", "2026-11"]);
    assert_ne!(
        again["protect"]["keys"][0]["secret"].as_str(),
        Some(secret.as_str())
    );

    // `--for jwt`: the same 32 bytes, for `[auth]` (an Ed25519 seed).
    let (jwt, jwt_snippet) = parse(&["keys", "generate", "--for", "jwt", "--id", "jwt-1"]);
    let auth = jwt["auth"].as_table().expect("[auth]");
    assert_eq!(auth["active_key"].as_str(), Some("jwt-1"));
    let jwt_secret = auth["keys"][0]["secret"].as_str().expect("secret");
    assert_eq!(STANDARD.decode(jwt_secret).expect("base64").len(), 32);

    // Pasted into the configuration, both keys are accepted as they are:
    // the keyring seals under the new data key.
    setup.configure(&format!("{snippet}\n{jwt_snippet}"));
    let shown = ok(&setup.cli(&["check-config"], "", &[]));
    assert!(
        !shown.contains(&secret) && !shown.contains(jwt_secret),
        "check-config redacts key material"
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app = rt.block_on(setup.app());
    assert_eq!(app.auth.keyring.active_id().as_str(), "2026-11");

    // A bad id is refused before anything is generated.
    let bad = setup.cli(&["keys", "generate", "--id", "no spaces"], "", &[]);
    assert!(!bad.status.success());
    assert!(bad.stdout.is_empty(), "no key printed on error");
    assert!(stderr(&bad).contains("--id"), "{}", stderr(&bad));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_create_and_grant_admin_make_an_admin_who_can_use_the_admin_api() {
    let setup = Setup::new();
    let created = ok(&setup.cli(
        &["users", "create", "--email", "Ann@Example.com"],
        &format!("{PASSWORD}\n"),
        &[],
    ));
    assert!(created.contains("created ann@example.com"), "{created}");
    assert!(created.contains("roles: customer"), "{created}");

    let granted = ok(&setup.cli(
        &[
            "users",
            "grant",
            "--email",
            "ann@example.com",
            "--role",
            "admin",
        ],
        "",
        &[],
    ));
    assert!(
        granted.contains("granted admin to ann@example.com"),
        "{granted}"
    );
    assert!(granted.contains("roles: customer, admin"), "{granted}");
    let again = ok(&setup.cli(
        &[
            "users",
            "grant",
            "--email",
            "ann@example.com",
            "--role",
            "admin",
        ],
        "",
        &[],
    ));
    assert!(again.contains("already has role admin"), "{again}");

    // A second account through the environment variable, straight to staff.
    ok(&setup.cli(
        &[
            "users",
            "create",
            "--email",
            "sam@example.com",
            "--role",
            "staff",
        ],
        "",
        &[("PURATAN_NEW_PASSWORD", PASSWORD)],
    ));

    let unknown = setup.cli(
        &[
            "users",
            "grant",
            "--email",
            "nobody@example.com",
            "--role",
            "admin",
        ],
        "",
        &[],
    );
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("no account with e-mail nobody@example.com"));

    // End to end: the server lets her log in (active, verified) and in
    // through the RBAC gateway to an admin route.
    let server = setup.start_server().ready().await;
    let client = reqwest::Client::new();
    let login = |email: &'static str| {
        let client = client.clone();
        let base = server.base.clone();
        async move {
            let r = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({ "email": email, "password": PASSWORD }))
                .send()
                .await
                .expect("login");
            assert_eq!(r.status(), 200, "login {email}");
            r.json::<Value>().await.expect("tokens")
        }
    };
    let tokens = login("ann@example.com").await;
    let access = tokens["access_token"].as_str().expect("access token");
    let me: Value = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["roles"], json!(["customer", "admin"]));
    assert_eq!(me["status"], "active");
    assert_eq!(me["email_verified"], true);
    let admin_users = client
        .get(format!("{}/api/v1/admin/users", server.base))
        .bearer_auth(access)
        .send()
        .await
        .expect("admin users");
    assert_eq!(admin_users.status(), 200);
    let staff = login("sam@example.com").await;
    let me: Value = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(staff["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["roles"], json!(["staff"]));

    // Revoking the role ends her sessions: the refresh token is dead at once.
    let revoked = ok(&setup.cli(
        &[
            "users",
            "revoke-role",
            "--email",
            "ann@example.com",
            "--role",
            "admin",
        ],
        "",
        &[],
    ));
    assert!(
        revoked.contains("revoked admin from ann@example.com"),
        "{revoked}"
    );
    assert!(revoked.contains("roles: customer"), "{revoked}");
    let refresh = client
        .post(format!("{}/api/v1/auth/refresh", server.base))
        .json(&json!({ "refresh_token": tokens["refresh_token"] }))
        .send()
        .await
        .expect("refresh");
    assert_eq!(refresh.status(), 401);
    let tokens = login("ann@example.com").await;
    let forbidden = client
        .get(format!("{}/api/v1/admin/users", server.base))
        .bearer_auth(tokens["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("admin users");
    assert_eq!(forbidden.status(), 403);

    // The last role cannot be removed.
    let last = setup.cli(
        &[
            "users",
            "revoke-role",
            "--email",
            "ann@example.com",
            "--role",
            "customer",
        ],
        "",
        &[],
    );
    assert!(!last.status.success());
    assert!(stderr(&last).contains("only role"), "{}", stderr(&last));
    drop(server);

    // Every change is in the audit log, by `cli`.
    let app = setup.app().await;
    let ann = setup.user("ann@example.com").await;
    let entries = app.audit.recent(Some("cli"), 20).await.expect("audit");
    let for_ann: Vec<(&str, &Value)> = entries
        .iter()
        .rev()
        .filter(|e| e.target.as_deref() == Some(ann.id.to_string().as_str()))
        .map(|e| (e.action.as_str(), &e.details))
        .collect();
    let actions: Vec<&str> = for_ann.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        actions,
        [
            "admin.user_created",
            "admin.roles_changed",
            "admin.roles_changed"
        ]
    );
    assert_eq!(for_ann[1].1["from"], json!(["customer"]));
    assert_eq!(for_ann[1].1["to"], json!(["customer", "admin"]));
    assert_eq!(for_ann[2].1["to"], json!(["customer"]));
}

#[test]
fn users_create_refuses_a_weak_password_with_a_clear_message() {
    let setup = Setup::new();
    let common = setup.cli(
        &[
            "users",
            "create",
            "--email",
            "bob@example.com",
            "--role",
            "admin",
        ],
        "",
        &[("PURATAN_NEW_PASSWORD", "password")],
    );
    assert!(!common.status.success());
    let msg = stderr(&common);
    assert!(
        msg.contains("password refused: password is too common"),
        "{msg}"
    );

    let short = setup.cli(
        &["users", "create", "--email", "bob@example.com"],
        "Sh0rt!\n",
        &[],
    );
    assert!(!short.status.success());
    let msg = stderr(&short);
    assert!(
        msg.contains("password refused: password must have at least"),
        "{msg}"
    );

    let common_long = setup.cli(
        &["users", "create", "--email", "bob@example.com"],
        "123QWEasdzxc\n",
        &[],
    );
    assert!(!common_long.status.success());
    assert!(
        stderr(&common_long).contains("too common"),
        "{}",
        stderr(&common_long)
    );

    let empty = setup.cli(&["users", "create", "--email", "bob@example.com"], "", &[]);
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("PURATAN_NEW_PASSWORD"));

    // Nothing was created.
    let grant = setup.cli(
        &[
            "users",
            "grant",
            "--email",
            "bob@example.com",
            "--role",
            "admin",
        ],
        "",
        &[],
    );
    assert!(!grant.status.success());
    assert!(stderr(&grant).contains("no account"), "{}", stderr(&grant));
}

fn rotate(setup: &Setup, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["keys", "rotate", "--json"];
    args.extend_from_slice(extra);
    let out = setup.cli(&args, "", &[]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "report is JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        )
    });
    (out, report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_reencrypts_totp_secrets_under_the_active_key() {
    let setup = Setup::new();
    let a = new_key("A");
    let b = new_key("B");

    // Ann enrolled TOTP while A was the active key; Bob has no 2FA.
    setup.configure_keys(&[&a], "A");
    let ann = setup
        .user_with_totp("ann@example.com", Some(&keyring(&[&a], "A")))
        .await;
    setup.user_with_totp("bob@example.com", None).await;
    assert!(stored_totp(&ann).starts_with("pe1.A."));

    // The new key B becomes active, A is kept for reading.
    setup.configure_keys(&[&b, &a], "B");

    let (out, dry) = rotate(&setup, &["--dry-run"]);
    ok(&out);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["reencrypted"], 1);
    assert_eq!(dry["remaining"], json!({ "A": 1 }));
    assert!(
        stored_totp(&setup.user("ann@example.com").await).starts_with("pe1.A."),
        "a dry run writes nothing"
    );

    let (out, report) = rotate(&setup, &[]);
    ok(&out);
    assert_eq!(report["active_key"], "B");
    assert_eq!(report["users_scanned"], 2);
    assert_eq!(report["sealed_values"], 1);
    assert_eq!(report["reencrypted"], 1);
    assert_eq!(report["already_current"], 0);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["remaining"], json!({}));
    assert_eq!(report["removable_keys"], json!(["A"]));
    let rotated = setup.user("ann@example.com").await;
    assert!(
        stored_totp(&rotated).starts_with("pe1.B."),
        "{}",
        stored_totp(&rotated)
    );
    assert_eq!(rotated.version, ann.version + 1, "one conditional update");

    // Idempotent.
    let (out, report) = rotate(&setup, &[]);
    ok(&out);
    assert_eq!(report["reencrypted"], 0);
    assert_eq!(report["already_current"], 1);
    let human = ok(&setup.cli(&["keys", "rotate"], "", &[]));
    let words = human.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("re-encrypted: 0 already current: 1 failed: 0"),
        "{human}"
    );
    assert!(
        human.contains("0 values remaining under old keys"),
        "{human}"
    );
    assert!(
        human.contains("key A protects no value any more"),
        "{human}"
    );

    // A removed: the server's keyring (B only) still opens her secret.
    setup.configure_keys(&[&b], "B");
    let app = setup.app().await;
    let user = app.users.get(ann.id).await.expect("user");
    let sealed: Sealed = stored_totp(&user).parse().expect("sealed");
    let opened = app
        .auth
        .keyring
        .open(&sealed, &totp_context(&user))
        .expect("opens under B alone");
    assert_eq!(&opened[..], TOTP_SECRET);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_reports_a_value_under_an_unconfigured_key_and_exits_non_zero() {
    let setup = Setup::new();
    let a = new_key("A");
    let b = new_key("B");
    let lost = new_key("C");
    setup.configure_keys(&[&b, &a], "B");
    setup
        .user_with_totp("ann@example.com", Some(&keyring(&[&a], "A")))
        .await;
    let carl = setup
        .user_with_totp("carl@example.com", Some(&keyring(&[&lost], "C")))
        .await;

    let (out, report) = rotate(&setup, &[]);
    assert!(!out.status.success(), "a failure is a non-zero exit");
    assert_eq!(report["users_scanned"], 2);
    assert_eq!(report["reencrypted"], 1, "the rest of the run went on");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["remaining"], json!({ "C": 1 }));
    assert_eq!(report["removable_keys"], json!(["A"]));
    assert_eq!(report["failures"][0]["kid"], "C");
    assert_eq!(report["failures"][0]["user"], carl.id.to_string());
    let msg = stderr(&out);
    assert!(
        msg.contains(&carl.id.to_string()) && msg.contains("unknown data key \"C\""),
        "{msg}"
    );
    assert!(
        !msg.contains(&lost.1) && !msg.contains(&a.1),
        "no key material in output"
    );
    assert!(stored_totp(&setup.user("ann@example.com").await).starts_with("pe1.B."));
    assert_eq!(
        stored_totp(&setup.user("carl@example.com").await),
        stored_totp(&carl),
        "the unreadable value is left as it was"
    );

    let human = setup.cli(&["keys", "rotate"], "", &[]);
    assert!(!human.status.success());
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("1 value(s) remaining under old keys: C (1)"),
        "{text}"
    );
}

// ---- puratan preflight ------------------------------------------------------

fn corpus(path: &str) -> PathBuf {
    std::env::var("PURATAN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        })
        .join(path)
}

fn preflight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_puratan"))
        .arg("preflight")
        .args(args)
        .env_clear()
        .output()
        .expect("run puratan preflight")
}

#[test]
fn preflight_prints_the_library_report_and_fails_on_errors() {
    let thesis = corpus("pdf/pypdf-sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf");
    let thesis = thesis.to_str().expect("utf-8 path");
    // No ordered size: the embedded-font LaTeX file passes (maybe with warnings).
    let out = preflight(&["--json", thesis]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(report["schema"], "puratan.preflight/v1");
    assert_eq!(report["page_count"], 4);
    assert_eq!(report["profile"], "gwg2015_sheetfed");
    assert_ne!(report["verdict"], "fail");

    // Ordered as an A6 postcard: wrong page size → error, exit status 1,
    // and the text output names the check with its plain-language message.
    let out = preflight(&["--trim", "105x148", "--bleed", "3", thesis]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(": fail ("), "{text}");
    assert!(text.contains("error   p.1 page_size_mismatch: "), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 1 files failed preflight"));

    // Several files: JSON Lines, one line per file; an unreadable file is a
    // typed error line, not a crash.
    let dir = tempfile::tempdir().expect("tmp");
    let junk = dir.path().join("junk.pdf");
    std::fs::write(&junk, b"%PDF-1.7\n this is not a PDF at all").expect("write");
    let out = preflight(&["--json", thesis, junk.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["schema"], "puratan.preflight/v1");
    let code = lines[1]["error"]["code"].as_str().expect("error code");
    assert!(!code.is_empty() && code != "internal", "{}", lines[1]);

    // Bad arguments are refused before any work.
    let out = preflight(&["--trim", "0x-3", thesis]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let out = preflight(&["--profile", "nope", thesis]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no built-in preflight profile"));
}
