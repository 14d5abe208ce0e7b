//! # gatehouse-server: the HTTP face of Gatehouse
//!
//! [`Application::build`] connects storage (running migrations), makes sure signing keys
//! exist, loads them into memory and binds the listener (and the metrics listener, and the TLS
//! certificate, when configured); [`Application::run`] serves until the shutdown future
//! resolves, then drains. Routes live in [`routes`]; the single mapping from protocol errors to
//! HTTP is [`error`]; pages are in [`views`]. Every request passes [`observe`] (request id,
//! access log, metrics) and [`connection::body_deadline`]; [`telemetry`] keeps the metrics.
// Unit tests may read the system clock and run long; shipped code may not.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::too_many_lines))]

pub mod access_tokens;
pub mod admin_api;
pub mod audit_sink;
pub mod client_keys;
pub mod client_metadata;
pub mod connection;
pub mod console;
pub mod dpop;
pub mod error;
pub mod extract;
pub mod hash_pool;
pub mod keys;
pub mod observe;
pub mod rate_limit;
pub mod request_meta;
pub mod routes;
pub mod session;
pub mod settings;
pub mod shared_limits;
pub mod signin;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod tls;
pub mod views;

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use gatehouse_core::ports::{Clock, SystemClock};
use gatehouse_store::Store;

pub use settings::Settings;
pub use state::AppState;

/// Largest request body we read (forms and token requests are small).
const MAX_BODY: usize = 64 * 1024;

/// A database that would not open, on one line naming the setting and the database (its
/// password redacted).
fn database_error(database: &str, e: gatehouse_store::Error) -> String {
    let cause = match e {
        gatehouse_store::Error::Db(m) => m,
        e => e.to_string(),
    };
    format!("database_url: cannot open {database}: {cause}")
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    /// `[metrics] listen`: a second listener serving only metrics and probes.
    metrics_listener: Option<TcpListener>,
    /// `[tls]`: the certificate of direct HTTPS.
    tls: Option<Arc<tls::Certificates>>,
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
        let tls = match settings.tls.enabled() {
            true => Some(tls::Certificates::load(&settings.tls)?),
            false => None,
        };
        let metrics_listener = match (settings.metrics.enabled, settings.metrics.listen.as_str()) {
            (true, addr) if !addr.is_empty() => {
                Some(TcpListener::bind(addr).map_err(|e| format!("metrics.listen: {addr}: {e}"))?)
            }
            _ => None,
        };
        if settings.metrics.enabled {
            telemetry::install();
        }
        let database = settings.database_display();
        let store = open_store(&settings)
            .await
            .map_err(|e| database_error(&database, e))?;
        tracing::info!(database = %database, "database opened");
        store.start_audit_batching();
        store.set_cache_check_interval(settings.cache.interval());
        let master = settings.master_key.clone();
        keys::prepare(&store, master.as_ref()).await?;
        keys::ensure_signing_keys(&store, master.as_ref(), clock.now()).await?;
        let schedule = keys::Schedule::from_settings(&settings);
        let keys = Arc::new(keys::KeyCache::new(schedule.retired_window, master));
        keys.reload(&store, clock.now()).await?;
        let state = web::Data::new(app_state(settings, store, keys, clock)?);
        Ok(Self {
            listener,
            metrics_listener,
            tls,
            state,
        })
    }

    /// The shared state (for in-process benchmarks and tests).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The port of the separate metrics listener, if `[metrics] listen` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        let l = self.metrics_listener.as_ref()?;
        l.local_addr().ok().map(|a| a.port())
    }

    /// Serves until `shutdown` resolves, then stops gracefully: the listeners close at once,
    /// requests in flight get `[server] shutdown_timeout` to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        let state = self.state.clone();
        let server = start_server(self.listener, self.tls.as_ref(), state.clone())?;
        let handle = server.handle();
        // Off the request path: the first signature would otherwise seed the random generator.
        tokio::task::spawn_blocking(gatehouse_jose::jws::warm_up_random);
        let metrics = match self.metrics_listener {
            Some(l) => Some(start_metrics_server(l, state.clone())?),
            None => None,
        };
        let metrics_handle = metrics.as_ref().map(|m| m.handle());
        if let Some(m) = metrics {
            tokio::spawn(m);
        }
        let background = tokio::spawn(background_tasks(state.clone()));
        let reloader = tokio::spawn(reload_on_sighup(self.tls));
        // The server future stays alive (pinned here, polled again below): dropping it would
        // stop the workers at once instead of letting them drain.
        tokio::pin!(server);
        tokio::select! {
            r = &mut server => {
                background.abort();
                reloader.abort();
                state.store.flush_audit().await;
                return r;
            }
            _ = shutdown => {}
        }
        tracing::info!("shutting down: refusing new connections, draining requests in flight");
        background.abort();
        reloader.abort();
        let (_, result) = tokio::join!(handle.stop(true), server);
        if let Some(h) = metrics_handle {
            h.stop(true).await;
        }
        // Buffered audit events of the drained requests are written before the process ends.
        state.store.flush_audit().await;
        tracing::info!("stopped");
        result
    }
}

/// The shared state of a built application.
fn app_state(
    settings: Settings,
    store: Store,
    keys: Arc<keys::KeyCache>,
    clock: Arc<dyn Clock>,
) -> Result<AppState, String> {
    let shared = shared_limits::SharedRedis::from_settings(&settings.redis)?;
    if shared.is_some() {
        tracing::info!("rate limits and the sign-in throttle are shared through Redis");
    }
    let local_failures =
        throttle::MemoryFailures::new(settings.login_throttle.max_tracked_keys, clock.clone());
    Ok(AppState {
        dpop_nonce_key: gatehouse_core::dpop::NonceKey::new(match &settings.master_key {
            Some(m) => m.derive("gatehouse dpop nonce v1"),
            None => gatehouse_core::secret::random_bytes::<32>(),
        }),
        assertion_rules: settings.assertion_rules(),
        trusted_proxies: settings.network.proxies()?,
        rate_limits: Arc::new(rate_limit::RateLimits::from_settings(
            &settings,
            shared.clone(),
        )),
        hash_pool: Arc::new(hash_pool::HashPool::new(
            settings.password_hashing.pool_size(),
        )),
        sign_in_failures: Arc::new(throttle::SignInFailures::new(
            local_failures,
            shared,
            clock.clone(),
        )),
        key_verifier: Arc::new(
            client_keys::KeyVerifier::with_options(
                settings.master_key.clone(),
                settings.client_auth.allow_internal_jwks_uri,
            )
            .map_err(|e| format!("the jwks_uri HTTP client cannot be built: {e}"))?,
        ),
        clients: client_metadata::MetadataClients {
            store: store.clone(),
            metadata: client_metadata::ClientMetadata::from_settings(&settings.client_metadata)?,
            clock: clock.clone(),
        },
        policy: settings.policy(),
        schema_current: std::sync::atomic::AtomicBool::new(false),
        store,
        keys,
        settings,
        clock,
    })
}

/// The worker threads: `workers`, or one per core.
fn worker_count(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// Builds the actix server (kept out of the async fn so its non-`Send` builder is never held
/// across an await).
fn start_server(
    listener: TcpListener,
    tls: Option<&Arc<tls::Certificates>>,
    state: web::Data<AppState>,
) -> std::io::Result<actix_web::dev::Server> {
    let s = state.settings.server.clone();
    let workers = worker_count(state.settings.workers);
    let body_timeout = connection::BodyTimeout(Duration::from_secs(s.body_timeout));
    let metrics_here = state.settings.metrics.on_main_listener();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .app_data(body_timeout)
            .wrap(from_fn(views::docs_headers))
            .wrap(from_fn(connection::body_deadline))
            .wrap(from_fn(observe::observe))
            .configure(|cfg| {
                if metrics_here {
                    cfg.route("/metrics", web::get().to(routes::health::metrics));
                }
            })
            .configure(routes_config)
    })
    .disable_signals()
    .workers(workers)
    .client_request_timeout(Duration::from_secs(s.header_timeout))
    .tls_handshake_timeout(Duration::from_secs(s.header_timeout))
    .keep_alive(connection::keep_alive(&s))
    .max_connections(s.max_connections_per_worker(workers))
    .shutdown_timeout(s.shutdown_timeout);
    let server = match tls {
        Some(certs) => {
            let config = certs.server_config().map_err(std::io::Error::other)?;
            server.listen_rustls_0_23(listener, config)?
        }
        None => server.listen(listener)?,
    };
    Ok(server.run())
}

/// The separate metrics listener (`[metrics] listen`): metrics and the probes only.
fn start_metrics_server(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> std::io::Result<actix_web::dev::Server> {
    let timeout = state.settings.server.header_timeout;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(routes::health::metrics))
            .route("/health/live", web::get().to(routes::health::live))
            .route("/health/ready", web::get().to(routes::health::ready))
    })
    .disable_signals()
    .workers(1)
    .client_request_timeout(Duration::from_secs(timeout))
    .max_connections(64)
    .shutdown_timeout(1)
    .listen(listener)?;
    Ok(server.run())
}

/// SIGHUP reloads the TLS certificate (new handshakes use it; open connections carry on).
async fn reload_on_sighup(tls: Option<Arc<tls::Certificates>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            let Some(certs) = &tls else {
                tracing::info!("SIGHUP: nothing to reload ([tls] is off)");
                continue;
            };
            let result = certs.reload();
            telemetry::tls_reload(result.is_ok());
            match result {
                Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: TLS certificate not reloaded; the previous one stays in use")
                }
            }
        }
    }
    #[cfg(not(unix))]
    drop(tls);
}

/// Opens the database: migrating it, or (`[database] migrate_on_start = false`, `serve
/// --no-migrate`) refusing while migrations are pending.
async fn open_store(settings: &Settings) -> Result<Store, gatehouse_store::Error> {
    let (url, timeout) = (&settings.database_url, settings.database.connect_timeout());
    if settings.database.migrate_on_start {
        return Store::connect_within(url, timeout).await;
    }
    let store = Store::open(url, timeout).await?;
    store.require_migrated().await?;
    Ok(store)
}

/// Key reloads, metrics upkeep and housekeeping.
async fn background_tasks(state: web::Data<AppState>) {
    let period = state.settings.keys.reload_period();
    let mut tick = tokio::time::interval(period);
    // Housekeeping every `[housekeeping] interval`, rounded to reload periods.
    let every = (state.settings.housekeeping.interval / period.as_secs().max(1)).max(1);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = state.run_key_scheduler().await {
            tracing::warn!(error = %e, "signing key maintenance failed");
        }
        telemetry::upkeep();
        n += 1;
        if n.is_multiple_of(every) {
            housekeeping(&state).await;
        }
    }
}

/// Deletes expired codes, sessions, refresh tokens and replay entries in bounded batches,
/// audit events past the retention, and keys retired longer ago than any token they signed
/// can live.
async fn housekeeping(state: &AppState) {
    state.rate_limits.prune();
    state.sign_in_failures.local().prune();
    let now = state.now();
    match state
        .store
        .purge(now, purge_policy(&state.settings, now))
        .await
    {
        Ok(report) => tracing::debug!(?report, "housekeeping purged expired rows"),
        Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
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
    if let Err(e) = state
        .store
        .delete_stale_grant_resources(claims_cutoff)
        .await
    {
        tracing::warn!(error = %e, "pruning grant resources failed");
    }
    if let Err(e) = state.store.delete_expired_pushed_requests(now).await {
        tracing::warn!(error = %e, "pruning pushed authorization requests failed");
    }
    if let Err(e) = state.store.delete_expired_registration_tokens(now).await {
        tracing::warn!(error = %e, "pruning initial access tokens failed");
    }
    if let Err(e) = state
        .store
        .delete_keys_retired_before(now - state.keys.retired_window())
        .await
    {
        tracing::warn!(error = %e, "pruning retired keys failed");
    }
}

/// What a purge deletes besides expired rows, per the settings (the housekeeping job and
/// `gatehouse purge` share it).
pub fn purge_policy(
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> gatehouse_store::PurgePolicy {
    gatehouse_store::PurgePolicy {
        batch_size: settings.housekeeping.batch_size,
        audit_before: settings.audit.retention().map(|keep| now - keep),
    }
}

/// All routes.
pub fn routes_config(cfg: &mut web::ServiceConfig) {
    use routes::*;
    cfg.route("/", web::get().to(home::home))
        .route("/admin/docs", web::get().to(home::admin_docs));
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
    .route("/oauth/par", web::post().to(par::push))
    .route(
        "/oauth/device_authorization",
        web::post().to(device::device_authorization),
    )
    .route("/device", web::get().to(device::device_get))
    .route("/device/login", web::post().to(device::device_login))
    .route("/device/consent", web::post().to(device::device_consent))
    .service(
        web::resource("/oauth/register")
            .app_data(web::PayloadConfig::new(
                gatehouse_core::registration::MAX_BODY_BYTES,
            ))
            .route(web::post().to(register::register)),
    )
    .service(
        web::resource("/oauth/register/{client_id}")
            .app_data(web::PayloadConfig::new(
                gatehouse_core::registration::MAX_BODY_BYTES,
            ))
            .route(web::get().to(register::read))
            .route(web::put().to(register::update))
            .route(web::delete().to(register::delete)),
    )
    .route("/oauth/logout", web::get().to(logout::logout_get))
    .route("/oauth/logout", web::post().to(logout::logout_post))
    .route("/logout", web::post().to(logout::confirm_post))
    .route("/oauth/revoke", web::post().to(revoke::revoke))
    .route("/oauth/introspect", web::post().to(introspect::introspect))
    .route("/userinfo", web::get().to(userinfo::userinfo))
    .route("/userinfo", web::post().to(userinfo::userinfo))
    .route("/health", web::get().to(health::live))
    .route("/health/live", web::get().to(health::live))
    .route("/health/ready", web::get().to(health::ready))
    .configure(console::routes);
    admin_api::configure(cfg);
}
