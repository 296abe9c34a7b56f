//! Running the HTTP server with graceful shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::state::App;
use crate::{catalog, events, http};

/// A server started by [`start`].
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    stop: Option<oneshot::Sender<()>>,
    join: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting connections, lets in-flight requests finish (up to
    /// `server.shutdown_grace_ms`), stops consumers, and waits.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join.await?
    }

    /// Resolves when the server stops on its own (it normally does not).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.join.await?
    }
}

/// Seeds an empty catalog from `catalog.seed_file`, if configured.
async fn seed(app: &App) -> anyhow::Result<()> {
    let Some(path) = app.config.catalog.seed_file.clone() else {
        return Ok(());
    };
    let empty = app
        .products
        .list(
            &Default::default(),
            &puratan_core::ports::PageRequest::first(1),
        )
        .await?
        .items
        .is_empty();
    if !empty {
        return Ok(());
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| anyhow::anyhow!("catalog.seed_file {}: {e}", path.display()))?;
    let parsed = catalog::parse(&bytes, catalog::Format::from_path(&path))?;
    let report = catalog::store(app, parsed).await?;
    tracing::info!(?report, file = %path.display(), "seeded the empty catalog");
    Ok(())
}

/// Binds `listener`, serves until `stop` fires, then shuts down gracefully.
pub async fn start_on(app: App, listener: TcpListener) -> anyhow::Result<Running> {
    seed(&app).await?;
    let addr = listener.local_addr()?;
    let (consumer_stop_tx, consumer_stop_rx) = watch::channel(false);
    let cleanup = http::routes::uploads::start_cleanup(app.clone(), consumer_stop_rx.clone());
    let rescan = crate::intake::start_rescan(app.clone(), consumer_stop_rx.clone());
    let workers = crate::processing::worker::start(
        app.clone(),
        app.config.processing.workers,
        consumer_stop_rx.clone(),
    )
    .await?;
    let notifications = crate::notifications::start(&app, consumer_stop_rx.clone()).await?;
    let relay = crate::outbox_relay::start(app.clone(), consumer_stop_rx.clone());
    let live = crate::live::hub::start(app.clone(), consumer_stop_rx.clone()).await?;
    let health = crate::system_events::health::start(app.clone(), consumer_stop_rx.clone());
    let consumer = events::start_invalidation_consumer(app.clone(), consumer_stop_rx).await?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let router = http::router(app.clone());
    let grace = Duration::from_millis(app.config.server.shutdown_grace_ms);
    let tls = match &app.config.server.tls {
        Some(tls) => {
            // ring is the one crypto provider in our dependency tree.
            let _ = rustls::crypto::ring::default_provider().install_default();
            Some(
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert_path, &tls.key_path)
                    .await?,
            )
        }
        None => None,
    };
    let join = tokio::spawn(async move {
        let result = match tls {
            None => serve_plain(listener, router, stop_rx, grace).await,
            Some(tls) => serve_tls(listener, router, tls, stop_rx, grace).await,
        };
        let _ = consumer_stop_tx.send(true);
        let _ = consumer.await;
        let _ = cleanup.await;
        let _ = rescan.await;
        for w in workers {
            let _ = w.await;
        }
        let _ = relay.await;
        if let Some(n) = notifications {
            let _ = n.await;
        }
        let _ = live.await;
        let _ = health.await;
        result
    });
    Ok(Running {
        addr,
        app,
        stop: Some(stop_tx),
        join,
    })
}

async fn serve_plain(
    listener: TcpListener,
    router: axum::Router,
    stop: oneshot::Receiver<()>,
    grace: Duration,
) -> anyhow::Result<()> {
    let (signalled_tx, signalled_rx) = oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop.await;
        tracing::info!("shutting down: finishing in-flight requests");
        let _ = signalled_tx.send(());
    });
    let server = async move { server.await.map_err(anyhow::Error::from) };
    tokio::pin!(server);
    // Once shutdown starts, in-flight requests get `grace` to finish.
    tokio::select! {
        r = &mut server => r,
        _ = async { let _ = signalled_rx.await; tokio::time::sleep(grace).await } => {
            tracing::warn!("grace period over: closing remaining connections");
            Ok(())
        }
    }
}

async fn serve_tls(
    listener: TcpListener,
    router: axum::Router,
    tls: axum_server::tls_rustls::RustlsConfig,
    stop: oneshot::Receiver<()>,
    grace: Duration,
) -> anyhow::Result<()> {
    let handle = axum_server::Handle::new();
    let on_stop = handle.clone();
    tokio::spawn(async move {
        let _ = stop.await;
        tracing::info!("shutting down: finishing in-flight requests");
        on_stop.graceful_shutdown(Some(grace));
    });
    axum_server::from_tcp_rustls(listener.into_std()?, tls)
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn termination_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
