//! A real OpenID provider for login tests, and a headless "browser" that
//! logs in at it.
//!
//! [`ensure_provider`] starts (once per test process) the npm
//! `oidc-provider` server of `scripts/services/oidc.sh` unless it already
//! answers, with [`crate::service::require`] semantics: under `CI=true` an
//! unreachable provider is a failure, otherwise a loud skip.
//!
//! [`drive_login`] plays the user: it follows the provider's redirects with
//! a cookie jar, fills in the development login form (any login name, any
//! password) and the consent form, and stops at the redirect to the
//! client's `redirect_uri`, returning that URL (with `code`, `state`,
//! `iss`) without requesting it — the test, or a test server, takes it
//! from there.

use std::time::Duration;

use puratan_core::auth::oidc::{ClientSecret, ProviderConfig};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode, Url};
use tokio::sync::OnceCell;

/// A client registered at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub id: &'static str,
    pub secret: &'static str,
    /// The algorithm the provider signs this client's ID tokens with.
    pub id_token_alg: &'static str,
}

/// The main test client: ID tokens signed RS256.
pub const CLIENT: Client = Client {
    id: "puratan-test",
    secret: "puratan-test-secret",
    id_token_alg: "RS256",
};
/// Another client of the same provider (wrong-audience tests); ES256.
pub const OTHER_CLIENT: Client = Client {
    id: "other-client",
    secret: "other-client-secret",
    id_token_alg: "ES256",
};
/// A client whose ID tokens are signed EdDSA (Ed25519).
pub const EDDSA_CLIENT: Client = Client {
    id: "puratan-eddsa",
    secret: "puratan-eddsa-secret",
    id_token_alg: "EdDSA",
};

/// Redirect paths every client has registered (on `127.0.0.1` and
/// `localhost`, any port: RFC 8252 §7.3 loopback matching). Others can be
/// added with `PURATAN_OIDC_REDIRECT_PATHS` when the provider starts.
pub const REDIRECT_PATHS: [&str; 3] = [
    "/callback",
    "/api/v1/auth/oauth/local/callback",
    "/api/v1/auth/oauth/tenant/callback",
];

/// The running provider.
#[derive(Debug, Clone)]
pub struct ProviderHandle {
    /// `http://127.0.0.1:<port>` (default port 4444).
    pub issuer: String,
    /// A second issuer in the same process sharing the signing keys (a
    /// "tenant"): its ID tokens verify under [`Self::issuer`]'s JWKS, so
    /// only the `iss` check can tell them apart.
    pub tenant_issuer: String,
}

impl ProviderHandle {
    /// A [`ProviderConfig`] for `client` at the main issuer.
    pub fn config(&self, name: &str, client: Client, redirect_uri: &str) -> ProviderConfig {
        config_for(&self.issuer, name, client, redirect_uri)
    }

    /// A [`ProviderConfig`] for `client` at the tenant issuer.
    pub fn tenant_config(&self, name: &str, client: Client, redirect_uri: &str) -> ProviderConfig {
        config_for(&self.tenant_issuer, name, client, redirect_uri)
    }
}

fn config_for(issuer: &str, name: &str, client: Client, redirect_uri: &str) -> ProviderConfig {
    ProviderConfig::new(
        name,
        issuer,
        client.id,
        Some(ClientSecret::new(client.secret)),
        redirect_uri,
    )
}

fn port(var: &str, default: u16) -> u16 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An HTTP client for talking to the provider: no redirects followed, short
/// timeouts (everything is on loopback).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("reqwest client")
}

async fn issuer_answers(http: &reqwest::Client, issuer: &str) -> Result<(), String> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let doc: serde_json::Value = resp.json().await.map_err(|e| format!("GET {url}: {e}"))?;
    if doc["issuer"] == issuer {
        Ok(())
    } else {
        Err(format!("{url} names issuer {}", doc["issuer"]))
    }
}

async fn start() -> Result<ProviderHandle, String> {
    let main = port("PURATAN_OIDC_PORT", 4444);
    let tenant = port("PURATAN_OIDC_TENANT_PORT", main.wrapping_add(1));
    let handle = ProviderHandle {
        issuer: format!("http://127.0.0.1:{main}"),
        tenant_issuer: format!("http://127.0.0.1:{tenant}"),
    };
    let http = http_client();
    let up = issuer_answers(&http, &handle.issuer).await.is_ok()
        && issuer_answers(&http, &handle.tenant_issuer).await.is_ok();
    if !up {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/services/oidc.sh"
        );
        let out = tokio::process::Command::new("bash")
            .arg(script)
            .output()
            .await
            .map_err(|e| format!("running {script}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{script} failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        issuer_answers(&http, &handle.issuer).await?;
        issuer_answers(&http, &handle.tenant_issuer).await?;
    }
    Ok(handle)
}

/// The provider, started if needed (once per process). `None` means it is
/// unavailable and the test should return (a panic under `CI=true`).
pub async fn ensure_provider() -> Option<ProviderHandle> {
    static STARTED: OnceCell<Result<ProviderHandle, String>> = OnceCell::const_new();
    let result = STARTED.get_or_init(start).await.clone();
    crate::service::require("OpenID provider (scripts/services/oidc.sh)", result)
}

/// A loopback redirect URI with a real, just-freed port, as a test server
/// bound to port 0 would have: the provider must accept any port.
pub fn loopback_redirect_uri(path: &str) -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}{path}")
}

/// Cookies by (name, path), for one host.
#[derive(Default)]
struct Jar(Vec<(String, String, String)>);

impl Jar {
    fn store(&mut self, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let mut path = "/".to_owned();
        let mut expired = value.is_empty();
        for attr in parts {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k.trim().to_ascii_lowercase().as_str() {
                "path" => path = v.trim().to_owned(),
                "max-age" => expired |= v.trim().starts_with('-') || v.trim() == "0",
                // The provider expires cookies with the epoch date.
                "expires" => expired |= v.contains("1970"),
                _ => {}
            }
        }
        self.0.retain(|(n, _, p)| !(*n == name && *p == path));
        if !expired {
            self.0.push((name, value, path));
        }
    }

    fn header_for(&self, url: &Url) -> Option<String> {
        let req_path = url.path();
        let matching: Vec<String> = self
            .0
            .iter()
            .filter(|(_, _, p)| {
                req_path == p
                    || (req_path.starts_with(p.as_str())
                        && (p.ends_with('/') || req_path[p.len()..].starts_with('/')))
            })
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect();
        (!matching.is_empty()).then(|| matching.join("; "))
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in one HTML tag (double-quoted values).
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(html_unescape(&tag[start..start + len]))
}

/// The first `<form>` of a page: its action and the fields a person would
/// submit (hidden inputs as they are, `login` = the login name, a password).
fn login_form(page: &str, login_name: &str) -> Option<(String, Vec<(String, String)>)> {
    let form_start = page.find("<form")?;
    let form_end = page[form_start..]
        .find("</form>")
        .map_or(page.len(), |e| form_start + e);
    let form = &page[form_start..form_end];
    let action = attr(&form[..form.find('>')?], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        let name = attr(tag, "name");
        match (attr(tag, "type").as_deref(), name) {
            (Some("hidden"), Some(name)) => {
                fields.push((name, attr(tag, "value").unwrap_or_default()));
            }
            (Some("password"), Some(name)) => fields.push((name, "any-password".to_owned())),
            (_, Some(name)) if name == "login" => fields.push((name, login_name.to_owned())),
            _ => {}
        }
        rest = &rest[tag_end..];
    }
    Some((action, fields))
}

/// `scheme://host:port/path` of a URL: what a redirect URI is matched on.
fn endpoint_of(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path()
}

/// Logs in at the provider as `login_name` through its development forms,
/// starting at `authorization_url`, and returns the URL the provider
/// redirects the browser to at the end (the `redirect_uri` of the
/// authorization request, with `code`, `state` and `iss` — or `error` —
/// in the query). That URL is not requested.
///
/// Fails with a description of the provider's page when the flow goes
/// anywhere else (e.g. an error page for an unregistered redirect URI).
pub async fn drive_login(authorization_url: &str, login_name: &str) -> Result<String, String> {
    let start = Url::parse(authorization_url).map_err(|e| format!("bad URL: {e}"))?;
    let redirect_uri = start
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .ok_or("the authorization URL has no redirect_uri")?;
    let target = endpoint_of(&Url::parse(&redirect_uri).map_err(|e| format!("{e}"))?);

    let http = http_client();
    let mut jar = Jar::default();
    let mut url = start;
    let mut form: Option<Vec<(String, String)>> = None;
    for _ in 0..20 {
        let mut req = match &form {
            Some(fields) => http.request(Method::POST, url.clone()).form(fields),
            None => http.request(Method::GET, url.clone()),
        };
        if let Some(cookies) = jar.header_for(&url) {
            req = req.header(COOKIE, cookies);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{} {url}: {e}", if form.is_some() { "POST" } else { "GET" }))?;
        for value in resp.headers().get_all(SET_COOKIE) {
            if let Ok(v) = value.to_str() {
                jar.store(v);
            }
        }
        let status = resp.status();
        if status.is_redirection() {
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("{status} without Location from {url}"))?;
            let next = url
                .join(location)
                .map_err(|e| format!("bad Location {location:?}: {e}"))?;
            if endpoint_of(&next) == target {
                return Ok(next.into());
            }
            url = next;
            form = None;
            continue;
        }
        let body = resp.text().await.unwrap_or_default();
        if status != StatusCode::OK {
            return Err(format!("{status} from {url}: {}", page_summary(&body)));
        }
        let (action, fields) = login_form(&body, login_name)
            .ok_or_else(|| format!("no form at {url}: {}", page_summary(&body)))?;
        url = url
            .join(&action)
            .map_err(|e| format!("bad form action {action:?}: {e}"))?;
        form = Some(fields);
    }
    Err("too many steps; the provider keeps redirecting".into())
}

/// The text of an HTML page's body without tags (entities left as they
/// are), shortened: enough to see the provider's error message.
fn page_summary(html: &str) -> String {
    let body = html.find("<body").map_or(html, |i| &html[i..]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(600).collect()
}
