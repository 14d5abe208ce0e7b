//! # gatehouse-server: the HTTP face of Gatehouse
//!
//! [`Application::build`] connects storage (running migrations), makes sure signing keys
//! exist, loads them into memory and binds the listener; [`Application::run`] serves until the
//! shutdown future resolves. Routes live in [`routes`]; the single mapping from protocol
//! errors to HTTP is [`error`]; pages are in [`views`].
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

pub mod access_tokens;
pub mod admin_api;
pub mod audit_sink;
pub mod client_keys;
pub mod console;
pub mod error;
pub mod extract;
pub mod hash_pool;
pub mod keys;
pub mod rate_limit;
pub mod request_meta;
pub mod routes;
pub mod session;
pub mod settings;
pub mod signin;
pub mod state;
pub mod throttle;
pub mod views;

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::{App, HttpServer, middleware, web};
use gatehouse_core::ports::{Clock, SystemClock};
use gatehouse_store::Store;

pub use settings::Settings;
pub use state::AppState;

/// Largest request body we read (forms and token requests are small).
const MAX_BODY: usize = 64 * 1024;

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    state: web::Data<AppState>,
}

impl Application {
    /// Builds the application, binding `settings.listen`.
    pub async fn build(settings: Settings) -> Result<Self, String> {
        let listener = TcpListener::bind(&settings.listen)
            .map_err(|e| format!("listen on {}: {e}", settings.listen))?;
        Self::build_with_listener(settings, listener, Arc::new(SystemClock)).await
    }

    /// Builds the application on an already bound listener, with an injected clock (tests).
    pub async fn build_with_listener(
        settings: Settings,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let settings = settings.validated()?;
        let store = Store::connect(&settings.database_url)
            .await
            .map_err(|e| format!("database: {e}"))?;
        store.start_audit_batching();
        let master = settings.master_key.clone();
        keys::prepare(&store, master.as_ref()).await?;
        keys::ensure_signing_keys(&store, master.as_ref(), clock.now()).await?;
        let schedule = keys::Schedule::from_settings(&settings);
        let keys = Arc::new(keys::KeyCache::new(schedule.retired_window, master));
        keys.reload(&store, clock.now()).await?;
        let state = web::Data::new(AppState {
            assertion_rules: settings.assertion_rules(),
            trusted_proxies: settings.network.proxies()?,
            rate_limits: Arc::new(rate_limit::RateLimits::from_settings(&settings)),
            hash_pool: Arc::new(hash_pool::HashPool::new(
                settings.password_hashing.pool_size(),
            )),
            sign_in_failures: Arc::new(throttle::MemoryFailures::new(
                settings.login_throttle.max_tracked_keys,
                clock.clone(),
            )),
            key_verifier: Arc::new(
                client_keys::KeyVerifier::with_options(
                    settings.master_key.clone(),
                    settings.client_auth.allow_internal_jwks_uri,
                )
                .map_err(|e| format!("the jwks_uri HTTP client cannot be built: {e}"))?,
            ),
            policy: settings.policy(),
            store,
            keys,
            settings,
            clock,
        });
        Ok(Self { listener, state })
    }

    /// The shared state (for in-process benchmarks and tests).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves until `shutdown` resolves, then stops gracefully.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let state = self.state.clone();
        let server = start_server(self.listener, state.clone())?;
        let handle = server.handle();
        let background = tokio::spawn(background_tasks(state));
        tokio::select! {
            r = server => { background.abort(); return r; }
            _ = shutdown => {}
        }
        tracing::info!("shutting down");
        background.abort();
        handle.stop(true).await;
        Ok(())
    }
}

/// Builds the actix server (kept out of the async fn so its non-`Send` builder is never held
/// across an await).
fn start_server(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> std::io::Result<actix_web::dev::Server> {
    let workers = state.settings.workers;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .wrap(middleware::Logger::new("%a \"%r\" %s %Dms").exclude("/health"))
            .configure(routes_config)
    })
    .disable_signals()
    .shutdown_timeout(10);
    if workers > 0 {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}

/// Key reloads and housekeeping.
async fn background_tasks(state: web::Data<AppState>) {
    let mut tick = tokio::time::interval(keys::RELOAD_INTERVAL);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = state.run_key_scheduler().await {
            tracing::warn!(error = %e, "signing key maintenance failed");
        }
        n += 1;
        if n.is_multiple_of(120) {
            housekeeping(&state).await;
        }
    }
}

/// Deletes expired codes, sessions and refresh tokens, and keys retired longer ago than any
/// token they signed can live.
async fn housekeeping(state: &AppState) {
    state.rate_limits.prune();
    state.sign_in_failures.prune();
    let now = state.now();
    if let Err(e) = state.store.delete_expired(now).await {
        tracing::warn!(error = %e, "housekeeping failed");
    }
    let idle_cutoff = now - chrono::Duration::seconds(state.settings.session.idle_ttl);
    if let Err(e) = state.store.delete_idle_sessions(idle_cutoff).await {
        tracing::warn!(error = %e, "pruning idle sessions failed");
    }
    // Claims requests outlive their code by the longest access token; after that only a live
    // refresh token still needs them.
    let claims_cutoff =
        now - chrono::Duration::seconds(state.settings.tokens.access_token_ttl.max(86_400));
    if let Err(e) = state
        .store
        .delete_stale_claims_requests(claims_cutoff)
        .await
    {
        tracing::warn!(error = %e, "pruning claims requests failed");
    }
    if let Err(e) = state.store.delete_expired_revoked_tokens(now).await {
        tracing::warn!(error = %e, "pruning revoked access tokens failed");
    }
    if let Err(e) = state.store.delete_expired_assertions(now).await {
        tracing::warn!(error = %e, "pruning assertion jti records failed");
    }
    if let Err(e) = state
        .store
        .delete_keys_retired_before(now - state.keys.retired_window())
        .await
    {
        tracing::warn!(error = %e, "pruning retired keys failed");
    }
}

/// All routes.
pub fn routes_config(cfg: &mut web::ServiceConfig) {
    use routes::*;
    cfg.route(
        "/.well-known/openid-configuration",
        web::get().to(discovery::openid_configuration),
    )
    .route(
        "/.well-known/oauth-authorization-server",
        web::get().to(discovery::openid_configuration),
    )
    .route("/jwks.json", web::get().to(discovery::jwks))
    .route("/oauth/authorize", web::get().to(authorize::authorize_get))
    .route(
        "/oauth/authorize",
        web::post().to(authorize::authorize_post),
    )
    .route("/login", web::post().to(login::login_post))
    .route("/consent", web::post().to(consent::consent_post))
    .route("/oauth/token", web::post().to(token::token))
    .route("/oauth/logout", web::get().to(logout::logout_get))
    .route("/oauth/logout", web::post().to(logout::logout_post))
    .route("/logout", web::post().to(logout::confirm_post))
    .route("/oauth/revoke", web::post().to(revoke::revoke))
    .route("/oauth/introspect", web::post().to(introspect::introspect))
    .route("/userinfo", web::get().to(userinfo::userinfo))
    .route("/userinfo", web::post().to(userinfo::userinfo))
    .route("/health", web::get().to(|| async { "ok" }))
    .configure(console::routes);
    admin_api::configure(cfg);
}
