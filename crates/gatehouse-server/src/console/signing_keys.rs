//! The console's Signing keys page (issue 11): the server's signing keys (RFC 7517 JWKS
//! members) with their algorithm, status (`next`, `active`, `retired`), age and the time they
//! sign from, and, for platform administrators, rotation with pre-publication: the new key is
//! published in the JWKS at once and signs only `[keys] propagation_delay` later, so every
//! node and every relying party's cache has it before the first token it signs; the previous
//! key stays published so tokens it signed still verify. Reading needs `read:keys`; rotating is
//! a platform-only operation. Both go through `gatehouse_admin::signing_keys`, which asks the
//! core policy, writes and audits.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use gatehouse_admin::Context;
use gatehouse_admin::views::KeyView;
use gatehouse_core::admin::{Operation, authorize};

use super::views::Nav;
use super::{
    Admin, internal, page, read_form, refusal, require_admin, require_admin_form, show_time,
};
use crate::request_meta::RequestMeta;
use crate::state::AppState;

/// One row of the keys table.
pub struct KeyRow {
    pub kid: String,
    pub alg: &'static str,
    pub status: &'static str,
    pub created: String,
    pub age: String,
    pub signs_from: String,
    pub retired: String,
    pub encrypted: bool,
}

#[derive(Template)]
#[template(path = "console/signing_keys.html")]
pub struct SigningKeysPage {
    pub nav: Nav,
    pub rows: Vec<KeyRow>,
    pub can_rotate: bool,
    /// The propagation delay in words.
    pub delay: String,
    pub notice: Option<String>,
}

/// A duration in whole days, hours or minutes.
fn words(d: chrono::Duration) -> String {
    let unit = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    if d.num_days() >= 1 {
        unit(d.num_days(), "day")
    } else if d.num_hours() >= 1 {
        unit(d.num_hours(), "hour")
    } else if d.num_minutes() >= 1 {
        unit(d.num_minutes(), "minute")
    } else {
        unit(d.num_seconds().max(0), "second")
    }
}

fn key_row(k: &KeyView, now: chrono::DateTime<chrono::Utc>) -> KeyRow {
    KeyRow {
        kid: k.kid.clone(),
        alg: k.alg,
        status: k.status,
        created: show_time(k.created_at),
        age: words(now - k.created_at),
        signs_from: k.activates_at.map_or_else(|| "-".to_owned(), show_time),
        retired: k.retired_at.map_or_else(|| "-".to_owned(), show_time),
        encrypted: k.encrypted,
    }
}

async fn render(
    state: &AppState,
    ctx: &Context<'_>,
    admin: &Admin,
    notice: Option<String>,
) -> HttpResponse {
    let keys = match gatehouse_admin::signing_keys::list(ctx).await {
        Ok(k) => k.keys,
        Err(e) => return refusal(e),
    };
    let home = admin.principal.tenant.clone();
    page(
        StatusCode::OK,
        &SigningKeysPage {
            nav: admin.nav("signing-keys", &home),
            rows: keys.iter().map(|k| key_row(k, ctx.now)).collect(),
            can_rotate: authorize(&ctx.actor.principal, Operation::RotateSigningKey).is_ok(),
            delay: words(state.settings.keys.propagation()),
            notice,
        },
    )
}

/// `GET /admin/console/signing-keys`.
pub async fn list_get(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
) -> HttpResponse {
    let admin = match require_admin(&state, &req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    render(&state, &ctx, &admin, None).await
}

/// `POST /admin/console/signing-keys/rotate`: `csrf_token`, `alg` (`RS256` or `ES256`).
pub async fn rotate_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: web::Bytes,
) -> HttpResponse {
    let form = match read_form(&req, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let admin = match require_admin_form(&state, &req, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let actor = admin.actor(&meta);
    let ctx = Context::new(&state.store, &actor, state.now());
    let alg = form.get("alg").unwrap_or_default();
    let master = state.settings.master_key.as_ref();
    let delay = state.settings.keys.propagation();
    let k = match gatehouse_admin::signing_keys::rotate(&ctx, alg, master, delay).await {
        Ok(k) => k,
        Err(e) => return refusal(e),
    };
    // Publish the new key from this node at once; other nodes load it on their next reload,
    // well before it signs.
    if let Err(e) = state.keys.reload(&state.store, ctx.now).await {
        return internal(e);
    }
    let from = k.activates_at.map_or_else(|| "now".to_owned(), show_time);
    let notice = format!(
        "A new {} key {} is published in the JWKS now and signs from {from}. The previous key stays published.",
        k.alg, k.kid
    );
    render(&state, &ctx, &admin, Some(notice)).await
}
