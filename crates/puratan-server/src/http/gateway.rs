//! The gateway every request passes through: request id, rate limiting by
//! route class, a time limit, metrics and the access log.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use puratan_core::ErrorKind;
use puratan_core::ports::{Quota, RateLimitDecision};

use super::error::{ApiError, ErrorCode, ServerErrorCode};
use super::request_id;
use crate::auth::caller::Authentication;
use crate::state::App;

/// The whole gateway in one middleware — request id, rate limit by route
/// class, time limit, metrics and access log — because every extra axum
/// layer costs a boxed service clone and a future per request (measured:
/// three separate layers kept 60% of bare-axum throughput).
pub async fn gateway(State(app): State<App>, req: Request, next: Next) -> Response {
    let id = request_id::incoming(req.headers()).unwrap_or_else(request_id::generate);
    // Validated or generated from [A-Za-z0-9_-]: always a valid header value.
    let header = HeaderValue::from_str(&id).ok();
    let mut resp = request_id::scope(id, handle(app, req, next)).await;
    if let Some(v) = header {
        resp.headers_mut().insert(request_id::HEADER, v);
    }
    resp
}

async fn handle(app: App, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    // MatchedPath is an Arc<str> inside: cloning it does not allocate.
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let limit = Duration::from_millis(app.config.server.request_timeout_ms);
    let work = async {
        // Who is calling decides the rate-limit budget, so authentication
        // happens here, once; handlers read the result from the extensions.
        let mut req = req;
        let auth = if req
            .headers()
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            crate::auth::caller::authenticate(&app, req.headers()).await
        } else {
            Authentication::Anonymous
        };
        let tier = Tier::for_route(route)
            .map(|t| t.for_caller(&auth))
            .filter(|_| app.config.rate_limits.enabled);
        // Anonymous requests (most traffic) get no extension: inserting one
        // allocates the extensions map, and its absence means anonymous.
        if !matches!(auth, Authentication::Anonymous) {
            req.extensions_mut().insert(auth);
        }
        match tier {
            Some(tier) => rate_limited(&app, tier, req, next).await,
            None => next.run(req).await,
        }
    };
    let resp = match tokio::time::timeout(limit, work).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(ErrorCode::Timeout, "the request took too long").into_response(),
    };
    let elapsed = start.elapsed();
    let status = resp.status();
    let m = &app.metrics;
    let (requests, duration) = m.http_handles(&method, route, status);
    requests.inc();
    duration.observe(elapsed.as_secs_f64());
    if status.is_server_error() {
        m.http_errors.with_label_values(&[route]).inc();
        // Responses not built from an ApiError (a panic, a tus backend
        // failure) get the generic code of their status.
        let code = resp
            .extensions()
            .get::<ServerErrorCode>()
            .map_or(generic_code(status), |c| c.0);
        crate::system_events::alerts::http_error(
            &app,
            code,
            route,
            status.as_u16(),
            &request_id::current_ref(),
        );
    }
    let duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    if app.config.log.access_log
        && !crate::telemetry::access_line(
            method.as_str(),
            route,
            status.as_u16(),
            duration_us,
            &request_id::current_ref(),
        )
    {
        tracing::info!(
            target: "access",
            method = %method,
            route = %route,
            status = status.as_u16(),
            duration_us,
            request_id = %request_id::current(),
        );
    }
    resp
}

/// The error code for a 5xx response without one of its own.
fn generic_code(status: axum::http::StatusCode) -> &'static str {
    match status {
        axum::http::StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable.as_str(),
        _ => ErrorCode::Internal.as_str(),
    }
}

/// Route classes with their own budgets (docs/rate-limits.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Public,
    Authenticated,
    Admin,
    Upload,
    /// Login, 2FA, password reset: fails closed when the shared store is down.
    Sensitive,
}

impl Tier {
    /// The class of a route (its matched path; `unmatched` for 404s, which
    /// are limited like public routes so scanning costs budget too).
    /// Operations endpoints are never limited.
    pub fn for_route(route: &str) -> Option<Tier> {
        match route {
            "/healthz" | "/readyz" | "/metrics" | "/openapi.json" => None,
            r if r.starts_with("/docs") => None,
            r if r.starts_with("/api/v1/admin/") => Some(Tier::Admin),
            r if r.starts_with("/files") => Some(Tier::Upload),
            "/api/v1/auth/login"
            | "/api/v1/auth/login/2fa"
            | "/api/v1/auth/register"
            | "/api/v1/auth/verify-email"
            | "/api/v1/auth/password-reset"
            | "/api/v1/auth/password-reset/confirm" => Some(Tier::Sensitive),
            _ => Some(Tier::Public),
        }
    }

    /// Authenticated callers get their own, larger budget (keyed by user,
    /// not IP); staff and admins the admin budget. Sensitive routes stay
    /// per IP whoever calls.
    pub fn for_caller(self, auth: &Authentication) -> Tier {
        match (self, auth) {
            (Tier::Sensitive, _) | (_, Authentication::Anonymous | Authentication::Rejected(_)) => {
                self
            }
            (Tier::Upload, _) => Tier::Upload,
            (_, Authentication::Authenticated(c)) if c.is_staff() => Tier::Admin,
            (_, Authentication::Authenticated(_)) => Tier::Authenticated,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Authenticated => "authenticated",
            Tier::Admin => "admin",
            Tier::Upload => "upload",
            Tier::Sensitive => "sensitive",
        }
    }

    fn per_minute(self, app: &App) -> u32 {
        let c = &app.config.rate_limits;
        match self {
            Tier::Public => c.public_per_minute,
            Tier::Sensitive => app.auth.config.sensitive_per_ip_per_minute,
            Tier::Authenticated => c.authenticated_per_minute,
            Tier::Admin => c.admin_per_minute,
            Tier::Upload => c.upload_per_minute,
        }
    }

    fn fails_closed(self) -> bool {
        self == Tier::Sensitive
    }
}

/// The client address: the socket peer, unless the peer is a trusted proxy,
/// in which case the right-most `X-Forwarded-For` entry that is not itself
/// a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for") {
        let Ok(s) = value.to_str() else { return peer };
        for part in s.rsplit(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(&ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
    }
    client
}

async fn rate_limited(app: &App, tier: Tier, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    let ip = client_ip(peer, req.headers(), &app.config.server.trusted_proxies);
    let quota = Quota::per_minute(tier.per_minute(app));
    let key = match (tier, req.extensions().get::<Authentication>()) {
        (Tier::Sensitive, _) => format!("{}:{ip}", tier.name()),
        (_, Some(Authentication::Authenticated(c))) => format!("{}:u:{}", tier.name(), c.user),
        _ => format!("{}:{ip}", tier.name()),
    };
    let decision = match check(app, tier, &key, quota).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    if !decision.allowed {
        app.metrics
            .rate_limited
            .with_label_values(&[tier.name()])
            .inc();
        let mut err = ApiError::new(ErrorCode::RateLimited, "too many requests; slow down")
            .with_details(
                serde_json::json!({ "tier": tier.name(), "limit_per_minute": quota.limit }),
            );
        err.retry_after = Some(decision.retry_after.as_secs_f64().ceil().max(1.0) as u64);
        let mut resp = err.into_response();
        headers(&mut resp, tier, quota, &decision);
        return resp;
    }
    let mut resp = next.run(req).await;
    headers(&mut resp, tier, quota, &decision);
    resp
}

/// Asks the shared store; if it is unreachable, public tiers fall back to
/// the per-process limiter (fail open, counted and logged) while sensitive
/// ones refuse (fail closed).
async fn check(
    app: &App,
    tier: Tier,
    key: &str,
    quota: Quota,
) -> Result<RateLimitDecision, ApiError> {
    match app.rate_limiter.check(key, quota).await {
        Ok(d) => Ok(d),
        Err(e) if matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Backend) => {
            if tier.fails_closed() {
                tracing::error!(error = %e, "rate-limit store unavailable: refusing sensitive request");
                let mut err = ApiError::new(
                    ErrorCode::Unavailable,
                    "temporarily unavailable; retry shortly",
                );
                err.retry_after = Some(5);
                return Err(err);
            }
            app.metrics.rate_limit_fallback.inc();
            warn_fallback_once(app, &e);
            Ok(app.local_limiter.check_now(key, quota))
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}

fn warn_fallback_once(app: &App, e: &puratan_core::Error) {
    use std::sync::atomic::Ordering;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = app.last_fallback_warning.load(Ordering::Relaxed);
    if now >= last + 10
        && app
            .last_fallback_warning
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(error = %e, "rate-limit store unavailable: using per-process limits (fail open)");
    }
}

/// IETF draft-ietf-httpapi-ratelimit-headers (structured-field form).
fn headers(resp: &mut Response, tier: Tier, quota: Quota, d: &RateLimitDecision) {
    use std::fmt::Write as _;
    let name = tier.name();
    let reset = d.reset_after.as_secs_f64().ceil() as u64;
    // One buffer for both values; HeaderValue copies what it needs.
    let mut buf = String::with_capacity(64);
    let _ = write!(
        buf,
        "\"{name}\";q={};w={}",
        quota.limit,
        quota.period.as_secs()
    );
    let split = buf.len();
    let _ = write!(buf, "\"{name}\";r={};t={reset}", d.remaining);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&buf[..split]) {
        h.insert(&RATELIMIT_POLICY, v);
    }
    if let Ok(v) = HeaderValue::from_str(&buf[split..]) {
        h.insert(&RATELIMIT, v);
    }
}

static RATELIMIT_POLICY: axum::http::HeaderName =
    axum::http::HeaderName::from_static("ratelimit-policy");
static RATELIMIT: axum::http::HeaderName = axum::http::HeaderName::from_static("ratelimit");

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Down;

    #[async_trait::async_trait]
    impl puratan_core::ports::RateLimitStore for Down {
        async fn check(&self, _: &str, _: Quota) -> puratan_core::Result<RateLimitDecision> {
            Err(puratan_core::Error::Unavailable {
                backend: "redis",
                retryable: true,
                source: None,
            })
        }
    }

    /// An app whose shared rate-limit store is unreachable.
    async fn app_with_store_down() -> (App, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tmp");
        let mut config = crate::config::Config::default();
        config.sqlite.path = dir.path().join("db");
        config.files.root = dir.path().join("files");
        let app = crate::backends::build(config).await.expect("app");
        let mut inner = std::sync::Arc::try_unwrap(app.0).expect("sole owner");
        inner.rate_limiter = std::sync::Arc::new(Down);
        (App(std::sync::Arc::new(inner)), dir)
    }

    #[tokio::test]
    async fn store_outage_fails_open_for_public_and_closed_for_sensitive() {
        let (app, _dir) = app_with_store_down().await;
        let q = Quota::per_minute(2);
        let public: Vec<bool> = {
            let mut v = Vec::new();
            for _ in 0..3 {
                v.push(
                    check(&app, Tier::Public, "public:192.0.2.1", q)
                        .await
                        .expect("fails open")
                        .allowed,
                );
            }
            v
        };
        assert_eq!(
            public,
            [true, true, false],
            "the per-process limiter still enforces the quota"
        );
        assert_eq!(app.metrics.rate_limit_fallback.get(), 3);
        let err = check(&app, Tier::Sensitive, "sensitive:192.0.2.1", q)
            .await
            .expect_err("fails closed");
        assert_eq!(err.code, ErrorCode::Unavailable);
        assert_eq!(err.retry_after, Some(5));
    }

    fn h(xff: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(
            "x-forwarded-for",
            HeaderValue::from_str(xff).expect("header"),
        );
        m
    }

    #[test]
    fn forwarded_for_is_ignored_unless_peer_is_trusted() {
        let peer: IpAddr = "203.0.113.9".parse().expect("ip");
        assert_eq!(client_ip(peer, &h("1.2.3.4"), &[]), peer);
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        assert_eq!(client_ip(peer, &h("1.2.3.4"), &trusted), peer);
        let lb: IpAddr = "10.0.0.2".parse().expect("ip");
        // Spoofed left-most entry is ignored: the right-most untrusted wins.
        assert_eq!(
            client_ip(lb, &h("6.6.6.6, 198.51.100.7, 10.0.0.5"), &trusted),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(client_ip(lb, &h("garbage"), &trusted), lb);
    }
}
