//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; the client
//! registration the MCP authorization specification recommends): a `client_id` that is an
//! `https` URL names a JSON document, served by the client, that describes it.
//!
//! This module holds the rules; the server fetches (SSRF-safe, size-capped, cached) and asks
//! [`check_url`] before fetching and [`client_from_document`] after:
//! - the URL (§3): `https` with a path, no fragment, no credentials, no dot segments; its host
//!   must pass the operator's allowlist / denylist ([`MetadataPolicy`]); loopback hosts (and
//!   `http` to them) only when the operator allows them, which is off by default;
//! - the document (§4): a JSON object whose `client_id` equals the URL exactly; no
//!   `client_secret`; `token_endpoint_auth_method` `none` (a public client, the default) or
//!   `private_key_jwt` with `jwks` or `jwks_uri`; `redirect_uris` present, each valid and then
//!   matched exactly like a registered client's.
//!
//! Such clients belong to the tenant the operator configured ([`MetadataPolicy::tenant`],
//! `default` unless set), get at most the configured scopes, and always need PKCE. Their name
//! shown on the consent page ends with the document's host, so users see who asks.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::client::{AuthMethod, Client, GrantType};
use crate::client_auth::KeySource;
use crate::values::{ClientId, RedirectUri, ScopeSet, SigningAlg, TenantId};

/// Largest metadata document read, in bytes (the draft suggests keeping them small).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;

/// The operator's rules for metadata-document clients.
#[derive(Debug, Clone)]
pub struct MetadataPolicy {
    /// Hosts whose documents are accepted; empty: any host not denied.
    pub allowed_hosts: Vec<String>,
    /// Hosts whose documents are refused.
    pub denied_hosts: Vec<String>,
    /// Accept `http` URLs of loopback hosts (local tests only; off by default).
    pub allow_loopback: bool,
    /// The tenant such clients belong to.
    pub tenant: TenantId,
    /// The most such a client may request.
    pub scope: ScopeSet,
}

/// Why a metadata URL or document is refused (logged; the user sees an unknown client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the client_id URL is not acceptable: {0}")]
    Url(&'static str),
    #[error("the host {0} is not allowed to publish client metadata")]
    Host(String),
    #[error("the metadata document is invalid: {0}")]
    Document(String),
}

/// Whether `client_id` names a metadata document (rather than a registered client).
pub fn is_metadata_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

fn host_matches(list: &[String], host: &str) -> bool {
    list.iter().any(|h| h.eq_ignore_ascii_case(host))
}

fn is_loopback_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks a metadata URL before anything is fetched (draft §3, and the operator's lists).
pub fn check_url(raw: &str, policy: &MetadataPolicy) -> Result<url::Url, MetadataError> {
    let bad = |why| Err(MetadataError::Url(why));
    let u = url::Url::parse(raw).map_err(|_| MetadataError::Url("not a URL"))?;
    if u.as_str() != raw {
        return bad("the URL is not in normal form");
    }
    if u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
        return bad("it must not have a fragment or credentials");
    }
    if u.path() == "/" || raw.contains("/./") || raw.contains("/../") {
        return bad("it must have a path without dot segments");
    }
    let loopback = is_loopback_host(&u);
    match (u.scheme(), loopback) {
        ("https", false) => {}
        ("https" | "http", true) if policy.allow_loopback => {}
        (_, true) => return bad("loopback hosts are not allowed"),
        _ => return bad("it must use https"),
    }
    let host = u.host_str().unwrap_or_default().to_owned();
    if host_matches(&policy.denied_hosts, &host)
        || (!policy.allowed_hosts.is_empty() && !host_matches(&policy.allowed_hosts, &host))
    {
        return Err(MetadataError::Host(host));
    }
    Ok(u)
}

fn doc_err(why: impl Into<String>) -> MetadataError {
    MetadataError::Document(why.into())
}

fn strings(doc: &Value, member: &str) -> Result<Vec<String>, MetadataError> {
    match doc.get(member) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| doc_err(format!("{member} must be an array of strings"))),
        Some(_) => Err(doc_err(format!("{member} must be an array of strings"))),
    }
}

/// The authentication method and keys the document declares: `none` or `private_key_jwt`.
fn auth_of(doc: &Value) -> Result<(AuthMethod, Option<KeySource>), MetadataError> {
    if doc.get("client_secret").is_some() || doc.get("client_secret_expires_at").is_some() {
        return Err(doc_err(
            "a metadata document must not carry a client secret",
        ));
    }
    match doc
        .get("token_endpoint_auth_method")
        .and_then(Value::as_str)
    {
        None | Some("none") => Ok((AuthMethod::None, None)),
        Some("private_key_jwt") => {
            let keys = match (doc.get("jwks"), doc.get("jwks_uri").and_then(Value::as_str)) {
                (Some(jwks), None) => KeySource::Jwks(jwks.clone()),
                (None, Some(uri)) => KeySource::Uri(uri.to_owned()),
                _ => {
                    return Err(doc_err(
                        "private_key_jwt needs exactly one of jwks, jwks_uri",
                    ));
                }
            };
            Ok((AuthMethod::PrivateKeyJwt, Some(keys)))
        }
        Some(other) => Err(doc_err(format!(
            "token_endpoint_auth_method {other:?} is not allowed (none or private_key_jwt)"
        ))),
    }
}

/// The client a fetched document describes (draft §4), or why it is refused.
pub fn client_from_document(
    url: &url::Url,
    body: &[u8],
    policy: &MetadataPolicy,
    now: DateTime<Utc>,
) -> Result<(Client, Option<KeySource>), MetadataError> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(doc_err("the document is too large"));
    }
    let doc: Value = serde_json::from_slice(body).map_err(|_| doc_err("not a JSON object"))?;
    if !doc.is_object() {
        return Err(doc_err("not a JSON object"));
    }
    if doc.get("client_id").and_then(Value::as_str) != Some(url.as_str()) {
        return Err(doc_err("its client_id is not the URL it was fetched from"));
    }
    let (auth_method, keys) = auth_of(&doc)?;
    let redirect_uris = strings(&doc, "redirect_uris")?
        .iter()
        .map(|r| RedirectUri::parse_for_registration(r).map_err(|e| doc_err(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if redirect_uris.is_empty() {
        return Err(doc_err("redirect_uris is required"));
    }
    let mut grant_types = vec![GrantType::AuthorizationCode];
    if strings(&doc, "grant_types")?
        .iter()
        .any(|g| g == "refresh_token")
    {
        grant_types.push(GrantType::RefreshToken);
    }
    let scope = match doc.get("scope").and_then(Value::as_str) {
        Some(s) => {
            let asked = ScopeSet::parse(s).map_err(|e| doc_err(e.to_string()))?;
            let outside = asked.difference(&policy.scope);
            let outside: Vec<&str> = outside.iter().map(String::as_str).collect();
            asked.without(&outside)
        }
        None => policy.scope.clone(),
    };
    let host = url.host_str().unwrap_or_default();
    let name = match doc.get("client_name").and_then(Value::as_str) {
        Some(n) if !n.trim().is_empty() => {
            let n: String = n.chars().filter(|c| !c.is_control()).take(100).collect();
            format!("{n} ({host})")
        }
        _ => host.to_owned(),
    };
    let id = ClientId::parse(url.as_str()).map_err(|e| doc_err(e.to_string()))?;
    let client = Client {
        id,
        tenant_id: policy.tenant.clone(),
        name,
        secret_hash: None,
        auth_method,
        redirect_uris,
        post_logout_redirect_uris: Vec::new(),
        grant_types,
        allowed_scopes: scope,
        id_token_alg: SigningAlg::RS256,
        access_token_alg: None,
        access_token_ttl: None,
        require_pkce: true,
        refresh_grace_seconds: 0,
        refresh_idle_ttl: None,
        refresh_absolute_ttl: None,
        may_act: None,
        created_at: now,
    };
    Ok((client, keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://app.example.com/oauth/client.json";

    fn policy() -> MetadataPolicy {
        MetadataPolicy {
            allowed_hosts: vec![],
            denied_hosts: vec!["evil.example".into()],
            allow_loopback: false,
            tenant: TenantId::default_tenant(),
            scope: ScopeSet::parse("openid profile mcp").unwrap(),
        }
    }

    fn doc(v: Value) -> Result<(Client, Option<KeySource>), MetadataError> {
        let u = check_url(URL, &policy()).unwrap();
        client_from_document(&u, v.to_string().as_bytes(), &policy(), Utc::now())
    }

    #[test]
    fn urls_are_https_with_a_path_and_pass_the_host_lists() {
        let p = policy();
        assert!(check_url(URL, &p).is_ok());
        for bad in [
            "http://app.example.com/c.json",
            "https://app.example.com/",
            "https://app.example.com/c.json#x",
            "https://u:p@app.example.com/c.json",
            "https://evil.example/c.json",
            "http://127.0.0.1:8080/c.json",
            "https://localhost/c.json",
        ] {
            assert!(check_url(bad, &p).is_err(), "{bad}");
        }
        let mut only = p.clone();
        only.allowed_hosts = vec!["other.example".into()];
        assert!(matches!(check_url(URL, &only), Err(MetadataError::Host(_))));
        let mut lo = p;
        lo.allow_loopback = true;
        assert!(check_url("http://127.0.0.1:8080/c.json", &lo).is_ok());
    }

    #[test]
    fn the_document_must_name_its_own_url_and_no_secret() {
        let ok = doc(serde_json::json!({
            "client_id": URL, "client_name": "App", "redirect_uris": ["https://app.example.com/cb"],
            "scope": "openid mcp admin:all"
        }))
        .unwrap()
        .0;
        assert!(ok.is_public() && ok.require_pkce);
        assert_eq!(ok.name, "App (app.example.com)");
        assert_eq!(ok.allowed_scopes.to_string(), "mcp openid");
        let other = serde_json::json!({"client_id": "https://x.example/c", "redirect_uris": ["https://a/cb"]});
        assert!(doc(other).is_err());
        let secret = serde_json::json!({"client_id": URL, "client_secret": "s", "redirect_uris": ["https://a/cb"]});
        assert!(doc(secret).is_err());
        let basic = serde_json::json!({"client_id": URL, "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": ["https://a/cb"]});
        assert!(doc(basic).is_err());
        assert!(doc(serde_json::json!({"client_id": URL})).is_err());
    }
}
