//! DPoP: OAuth 2.0 Demonstrating Proof of Possession (RFC 9449).
//!
//! A client proves it holds a private key by sending, with each request, a `DPoP` header
//! carrying a fresh JWT signed with that key and naming the key in its header (`jwk`). The
//! rules, all decided here ([`verify`]):
//! - one proof per request ([`one_proof`]; §4.3 item 1), at most [`MAX_PROOF_LEN`] bytes;
//! - header (§4.2, §4.3): `typ` is `dpop+jwt`, `alg` one of [`SIGNING_ALGS`] (asymmetric; never
//!   `none` or HMAC), `jwk` a public key (no private or symmetric members), and the signature
//!   verifies with that key (the [`ProofVerifier`] port, `gatehouse-jose`);
//! - claims (§4.2, §4.3): `htm` is the request method, `htu` the endpoint URL (query and fragment
//!   of the claim ignored, scheme and host compared case-insensitively), `iat` at most
//!   [`MAX_AGE`] seconds old and at most [`SKEW`] seconds ahead, `jti` used once (the replay
//!   store of client assertions, in the `dpop:<jkt>` namespace, until the proof can no longer
//!   be accepted: shared by every node);
//! - at a protected resource, `ath` is BASE64URL(SHA-256(access token)) (§4.3 item 11, §7);
//! - when the server requires nonces (§8), `nonce` is one this server issued recently
//!   ([`NonceKey`]), else `use_dpop_nonce` with a fresh nonce in `DPoP-Nonce`.
//!
//! The key is identified by its RFC 7638 SHA-256 thumbprint, `jkt`: access tokens issued with
//! a proof carry `cnf: {"jkt": ...}` (§6.1) and the token response says `token_type: DPoP`
//! (§5). Codes are bound by `dpop_jkt` (§10) or by a proof sent with a pushed request
//! ([`bind_pushed`], §10.1); public clients' refresh tokens by the proof of their issue (§5).
//! The token endpoint ([`crate::token`], the grants) applies [`check_required`] and
//! [`check_binding`]; protected resources apply [`check_presentation`] (§7.1). The other
//! endpoints where a client authenticates — PAR ([`crate::par`], §10.1), revocation
//! ([`crate::revocation`]) and introspection ([`crate::introspection`]) — verify a proof sent
//! with the request by the same [`verify`] (for their own URL) and apply [`check_required`]
//! too; revocation also applies [`check_binding`] to a public client's bound tokens.
//!
//! Server nonces are stateless: `base64url(window || HMAC-SHA256(key, "dpop-nonce" || window)[..16])`
//! with 5-minute windows; the current and the previous window are accepted. Every node derives
//! the same key (the server derives it from its master key), so no shared state is needed.

// As in `ports`: used only by our own generic code on actix workers, which need no `Send`.
#![allow(async_fn_in_trait)]

use std::borrow::Cow;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::client_auth::{JtiUse, ReplayStore, replay_issuer};
use crate::error::{Error, ErrorCode, OAuthError, StoreError};
use crate::params::Params;
use crate::values::ClientId;

/// The algorithms a proof may be signed with (§4.2: asymmetric only).
pub const SIGNING_ALGS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];
/// The JOSE `typ` of a proof (§4.2).
pub const PROOF_TYP: &str = "dpop+jwt";
/// Largest accepted proof, bytes (an RSA-4096 `jwk` plus claims fits comfortably).
pub const MAX_PROOF_LEN: usize = 8192;
/// Oldest accepted proof, seconds after its `iat`.
pub const MAX_AGE: i64 = 300;
/// Tolerated clock skew for an `iat` in the future, seconds.
pub const SKEW: i64 = 60;
/// Longest `jti` accepted.
const MAX_JTI_LEN: usize = 256;
/// Members that make a JWK private or symmetric (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// Nonce window, seconds.
const NONCE_WINDOW: i64 = 300;

/// Verifies a proof's signature with the public key of its own header, and computes that
/// key's RFC 7638 thumbprint. Implemented with `gatehouse-jose`.
pub trait ProofVerifier {
    /// The proof's claims when `proof` verifies with `jwk` under `alg` (one of
    /// [`SIGNING_ALGS`]); unchecked otherwise.
    fn verify_proof(&self, proof: &str, jwk: &Value) -> Result<Map<String, Value>, &'static str>;
    /// The BASE64URL SHA-256 thumbprint of `jwk` (RFC 7638).
    fn thumbprint(&self, jwk: &Value) -> Result<String, &'static str>;
}

/// Which clients must send DPoP proofs (registered "DPoP required": `client create
/// --dpop-required`, or `dpop_bound_access_tokens` in dynamic registration, §5.2).
pub trait DpopClientStore {
    async fn dpop_required(&self, client: &ClientId) -> Result<bool, StoreError>;
}

/// The per-client rule (RFC 9449 §5, §5.2 `dpop_bound_access_tokens`, "DPoP required"): a
/// client registered so must send a proof with every request it authenticates at this server
/// — token requests (where §5.2 requires it), and, by our choice, pushed authorization
/// requests, revocation and introspection (§5: the client uses DPoP with the authorization
/// server's endpoints). `client` is the authenticated client.
pub async fn check_required<S: DpopClientStore>(
    store: &S,
    client: &ClientId,
    proof: Option<&ProofKey>,
) -> Result<(), Error> {
    if proof.is_none() && store.dpop_required(client).await? {
        return Err(invalid("this client must send a DPoP proof"));
    }
    Ok(())
}

/// The `dpop_jkt` authorization parameter (§10): a SHA-256 thumbprint, 43 base64url
/// characters; anything else is `invalid_request`.
pub fn parse_jkt(raw: Option<&str>) -> Result<Option<String>, OAuthError> {
    match raw {
        None => Ok(None),
        Some(j)
            if j.len() == 43
                && j.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(j.to_owned()))
        }
        Some(_) => Err(OAuthError::invalid_request(
            "dpop_jkt must be a base64url SHA-256 JWK thumbprint",
        )),
    }
}

/// The parameters of a pushed authorization request sent with a DPoP proof (§10.1): the code
/// will be bound to the proof's key (`dpop_jkt`); a `dpop_jkt` naming another key is
/// `invalid_dpop_proof`.
pub fn bind_pushed(params: Params, proof: Option<&ProofKey>) -> Result<Params, OAuthError> {
    let Some(key) = proof else {
        return Ok(params);
    };
    if params.get("dpop_jkt").is_some_and(|j| j != key.jkt) {
        return Err(OAuthError::invalid_dpop_proof(
            "dpop_jkt does not match the key of the DPoP proof",
        ));
    }
    Ok(params.with("dpop_jkt", Some(key.jkt.clone())))
}

/// A code or refresh token bound to `bound` (§5, §10) is used only with a proof of that key;
/// so is a public client's bound token at revocation.
pub fn check_binding(bound: Option<&str>, proof: Option<&str>) -> Result<(), OAuthError> {
    match bound {
        Some(b) if proof != Some(b) => Err(OAuthError::invalid_dpop_proof(
            "this is bound to a DPoP key: send a proof signed with that key",
        )),
        _ => Ok(()),
    }
}

/// How an access token was presented at a protected resource (RFC 9449 §7): a DPoP-bound
/// token only with the DPoP scheme and a verified proof of its key (`proof_jkt`); an unbound
/// token only as a bearer token. Anything else is `invalid_token`.
pub fn check_presentation(
    claims: &crate::claims::AccessTokenClaims,
    proof_jkt: Option<&str>,
) -> Result<(), OAuthError> {
    match (&claims.cnf, proof_jkt) {
        (Some(c), Some(p)) if bool::from(c.jkt.as_bytes().ct_eq(p.as_bytes())) => Ok(()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_token(
            "the access token is bound to another DPoP key",
        )),
        (Some(_), None) => Err(OAuthError::invalid_token(
            "the access token is bound to a DPoP key and cannot be used as a bearer token",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_token(
            "the access token is not bound to a DPoP key: use the Bearer scheme",
        )),
        (None, None) => Ok(()),
    }
}

/// The key a nonce is derived with. No `Debug`: it is a secret.
pub struct NonceKey([u8; 32]);

impl NonceKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn mac(&self, window: i64) -> [u8; 32] {
        hmac_sha256(
            &self.0,
            &[b"dpop-nonce".as_slice(), &window.to_be_bytes()].concat(),
        )
    }

    fn for_window(&self, window: i64) -> String {
        let mut raw = window.to_be_bytes().to_vec();
        raw.extend_from_slice(&self.mac(window)[..16]);
        b64(&raw)
    }

    /// A fresh nonce for `DPoP-Nonce` (§8.1).
    pub fn issue(&self, now: DateTime<Utc>) -> String {
        self.for_window(now.timestamp().div_euclid(NONCE_WINDOW))
    }

    /// Whether `nonce` was issued by a node with this key in the current or previous window.
    pub fn accepts(&self, nonce: &str, now: DateTime<Utc>) -> bool {
        let Ok(raw) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        if raw.len() != 24 {
            return false;
        }
        let mut w = [0u8; 8];
        w.copy_from_slice(&raw[..8]);
        let window = i64::from_be_bytes(w);
        let current = now.timestamp().div_euclid(NONCE_WINDOW);
        if window != current && window != current - 1 {
            return false;
        }
        bool::from(self.mac(window)[..16].ct_eq(&raw[8..]))
    }
}

/// HMAC-SHA256 (RFC 2104) over `sha2`.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `ath`: BASE64URL(SHA-256(access token)) (§4.2).
pub fn access_token_hash(token: &str) -> String {
    b64(&Sha256::digest(token.as_bytes()))
}

/// What the request a proof came with looks like.
pub struct Expected<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The endpoint URL, without query or fragment.
    pub url: &'a str,
    /// At a protected resource: the access token presented with the proof (`ath`).
    pub access_token: Option<&'a str>,
    /// When the server requires nonces: its key.
    pub nonce: Option<&'a NonceKey>,
    pub now: DateTime<Utc>,
}

/// A verified proof: the thumbprint of the key it was signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofKey {
    pub jkt: String,
}

fn invalid(d: impl Into<Cow<'static, str>>) -> Error {
    Error::OAuth(OAuthError::invalid_dpop_proof(d))
}

/// The one `DPoP` header of a request, if any: several are `invalid_dpop_proof` (§4.3 item 1).
pub fn one_proof<'a>(values: &[&'a str]) -> Result<Option<&'a str>, OAuthError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(OAuthError::invalid_dpop_proof(
            "only one DPoP header may be sent",
        )),
    }
}

/// Verifies `proof` for the request described by `expected` (§4.3), records its `jti`, and
/// returns the key's thumbprint. Failures are `invalid_dpop_proof`, or `use_dpop_nonce` when a
/// required nonce is missing or stale.
pub async fn verify<V: ProofVerifier, R: ReplayStore>(
    verifier: &V,
    replay: &R,
    proof: &str,
    expected: &Expected<'_>,
) -> Result<ProofKey, Error> {
    let header = check_header(proof).map_err(invalid)?;
    let jwk = header.get("jwk").cloned().unwrap_or(Value::Null);
    let claims = verifier.verify_proof(proof, &jwk).map_err(invalid)?;
    let jkt = verifier.thumbprint(&jwk).map_err(invalid)?;
    let checked = check_claims(&claims, expected)?;
    let expires = DateTime::from_timestamp(checked.iat.saturating_add(MAX_AGE + SKEW), 0)
        .ok_or_else(|| invalid("the DPoP proof's iat is out of range"))?;
    let ns = replay_issuer("dpop", &jkt);
    if replay
        .use_jti(&ns, &checked.jti, expires, expected.now)
        .await?
        == JtiUse::Replayed
    {
        return Err(invalid("the DPoP proof has already been used (jti)"));
    }
    Ok(ProofKey { jkt })
}

/// The proof's header after the §4.3 header rules.
fn check_header(proof: &str) -> Result<Map<String, Value>, &'static str> {
    if proof.len() > MAX_PROOF_LEN {
        return Err("the DPoP proof is too large");
    }
    let mut parts = proof.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the DPoP proof is not a compact JWS");
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .map_err(|_| "the DPoP proof's header is not base64url")?;
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err("the DPoP proof's header is not a JSON object");
    };
    if header.get("typ").and_then(Value::as_str) != Some(PROOF_TYP) {
        return Err("the DPoP proof's typ must be dpop+jwt");
    }
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !SIGNING_ALGS.contains(&alg) {
        return Err("the DPoP proof's alg is not accepted (RS256, PS256, ES256, EdDSA)");
    }
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err("the DPoP proof's header has no jwk");
    };
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err("the DPoP proof's jwk must be a public key");
    }
    if header.contains_key("crit") {
        return Err("the DPoP proof must not have crit");
    }
    Ok(header)
}

struct Checked {
    jti: String,
    iat: i64,
}

/// The claim rules of §4.3 (items 5–12) for `expected`.
fn check_claims(claims: &Map<String, Value>, expected: &Expected<'_>) -> Result<Checked, Error> {
    let s = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = s("jti").filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN);
    let jti = jti.ok_or_else(|| invalid("the DPoP proof needs a jti"))?;
    if s("htm") != Some(expected.method) {
        return Err(invalid(
            "the DPoP proof's htm does not match the request method",
        ));
    }
    match s("htu") {
        Some(htu) if same_url(htu, expected.url) => {}
        _ => {
            return Err(invalid(
                "the DPoP proof's htu does not match the endpoint URL",
            ));
        }
    }
    let iat = claims
        .get("iat")
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        })
        .ok_or_else(|| invalid("the DPoP proof needs a numeric iat"))?;
    let now = expected.now.timestamp();
    if iat.saturating_sub(now) > SKEW {
        return Err(invalid("the DPoP proof's iat is in the future"));
    }
    if now.saturating_sub(iat) > MAX_AGE {
        return Err(invalid("the DPoP proof is too old (iat)"));
    }
    if let Some(key) = expected.nonce
        && !s("nonce").is_some_and(|n| key.accepts(n, expected.now))
    {
        return Err(Error::OAuth(OAuthError::new(
            ErrorCode::UseDpopNonce,
            "the authorization server requires a DPoP nonce",
        )));
    }
    if let Some(token) = expected.access_token {
        let want = access_token_hash(token);
        if !s("ath").is_some_and(|a| bool::from(a.as_bytes().ct_eq(want.as_bytes()))) {
            return Err(invalid(
                "the DPoP proof's ath does not match the access token",
            ));
        }
    }
    Ok(Checked {
        jti: jti.to_owned(),
        iat,
    })
}

/// Whether the `htu` claim names `url`: query and fragment of the claim ignored, scheme and
/// host case-insensitive (RFC 3986 §6.2.2.1), nothing else normalized.
fn same_url(htu: &str, url: &str) -> bool {
    let htu = htu.split(['?', '#']).next().unwrap_or("");
    let split = |u: &str| -> Option<(String, String)> {
        let (scheme, rest) = u.split_once("://")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        Some((
            format!(
                "{}://{}",
                scheme.to_ascii_lowercase(),
                authority.to_ascii_lowercase()
            ),
            path.to_owned(),
        ))
    };
    match (split(htu), split(url)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::cell::RefCell;
    use std::collections::HashSet;

    /// A verifier that trusts the payload as is (signature checks are `gatehouse-jose`'s),
    /// and names the key by its `x` member.
    struct Trusting;
    impl ProofVerifier for Trusting {
        fn verify_proof(&self, proof: &str, _: &Value) -> Result<Map<String, Value>, &'static str> {
            let p = proof.split('.').nth(1).ok_or("bad")?;
            let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .map_err(|_| "bad")?;
            serde_json::from_slice(&b).map_err(|_| "bad")
        }
        fn thumbprint(&self, jwk: &Value) -> Result<String, &'static str> {
            jwk["x"].as_str().map(str::to_owned).ok_or("no x")
        }
    }

    #[derive(Default)]
    struct Replay(RefCell<HashSet<String>>);
    impl ReplayStore for Replay {
        async fn use_jti(
            &self,
            issuer: &str,
            jti: &str,
            _: DateTime<Utc>,
            _: DateTime<Utc>,
        ) -> Result<JtiUse, crate::StoreError> {
            Ok(if self.0.borrow_mut().insert(format!("{issuer}|{jti}")) {
                JtiUse::Fresh
            } else {
                JtiUse::Replayed
            })
        }
    }

    const URL: &str = "https://as.example/oauth/token";

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn proof(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.sig",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    }

    fn header() -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256", "x": "k1", "y": "y"}})
    }

    fn claims() -> Value {
        json!({"jti": "j1", "htm": "POST", "htu": URL, "iat": now().timestamp()})
    }

    fn expected<'a>(nonce: Option<&'a NonceKey>, token: Option<&'a str>) -> Expected<'a> {
        Expected {
            method: "POST",
            url: URL,
            access_token: token,
            nonce,
            now: now(),
        }
    }

    async fn check(h: Value, c: Value, e: &Expected<'_>) -> Result<ProofKey, ErrorCode> {
        verify(&Trusting, &Replay::default(), &proof(h, c), e)
            .await
            .map_err(|e| e.to_oauth().code)
    }

    fn with(mut v: Value, k: &str, x: Value) -> Value {
        v[k] = x;
        v
    }

    #[tokio::test]
    async fn a_good_proof_gives_its_key_thumbprint_rfc9449_4_3() {
        let key = check(header(), claims(), &expected(None, None))
            .await
            .unwrap();
        assert_eq!(key.jkt, "k1");
        // Query and fragment of htu are ignored; scheme and host are case-insensitive.
        let c = with(
            claims(),
            "htu",
            json!("HTTPS://AS.example/oauth/token?x=1#f"),
        );
        assert!(check(header(), c, &expected(None, None)).await.is_ok());
    }

    #[tokio::test]
    async fn header_rules_typ_alg_and_public_jwk_rfc9449_4_3() {
        let e = expected(None, None);
        let bad = ErrorCode::InvalidDpopProof;
        for h in [
            with(header(), "typ", json!("JWT")),
            with(header(), "alg", json!("none")),
            with(header(), "alg", json!("HS256")),
            with(header(), "jwk", json!("k")),
            with(
                header(),
                "jwk",
                json!({"kty": "EC", "x": "k1", "d": "secret"}),
            ),
            with(
                header(),
                "jwk",
                json!({"kty": "oct", "k": "secret", "x": "k1"}),
            ),
            with(header(), "crit", json!(["exp"])),
        ] {
            assert_eq!(check(h, claims(), &e).await, Err(bad));
        }
        let r = verify(&Trusting, &Replay::default(), "a.b", &e).await;
        assert_eq!(r.unwrap_err().to_oauth().code, bad);
        let huge = "a".repeat(MAX_PROOF_LEN + 1);
        let r = verify(&Trusting, &Replay::default(), &huge, &e).await;
        assert_eq!(r.unwrap_err().to_oauth().code, bad);
    }

    #[tokio::test]
    async fn claim_rules_htm_htu_iat_jti_rfc9449_4_3() {
        let e = expected(None, None);
        let bad = Err(ErrorCode::InvalidDpopProof);
        let t = now().timestamp();
        for c in [
            with(claims(), "htm", json!("GET")),
            with(claims(), "htu", json!("https://as.example/oauth/par")),
            with(claims(), "htu", json!("https://other.example/oauth/token")),
            with(claims(), "htu", json!("http://as.example/oauth/token")),
            with(claims(), "iat", json!(t - MAX_AGE - 1)),
            with(claims(), "iat", json!(t + SKEW + 1)),
            with(claims(), "iat", json!("now")),
            with(claims(), "jti", json!("")),
            with(claims(), "jti", Value::Null),
        ] {
            assert_eq!(check(header(), c, &e).await, bad);
        }
        assert!(
            check(header(), with(claims(), "iat", json!(t - 250)), &e)
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_proof_is_used_once_per_key_rfc9449_11_1() {
        let (replay, e) = (Replay::default(), expected(None, None));
        let p = proof(header(), claims());
        assert!(verify(&Trusting, &replay, &p, &e).await.is_ok());
        let again = verify(&Trusting, &replay, &p, &e).await.unwrap_err();
        assert_eq!(again.to_oauth().code, ErrorCode::InvalidDpopProof);
    }

    #[tokio::test]
    async fn ath_binds_the_proof_to_the_access_token_rfc9449_7() {
        let e = expected(None, Some("tok"));
        assert_eq!(
            check(header(), claims(), &e).await,
            Err(ErrorCode::InvalidDpopProof)
        );
        let c = with(claims(), "ath", json!(access_token_hash("other")));
        assert_eq!(
            check(header(), c, &e).await,
            Err(ErrorCode::InvalidDpopProof)
        );
        let c = with(claims(), "ath", json!(access_token_hash("tok")));
        assert!(check(header(), c, &e).await.is_ok());
    }

    #[tokio::test]
    async fn nonces_are_required_when_configured_rfc9449_8() {
        let key = NonceKey::new([7; 32]);
        let e = expected(Some(&key), None);
        assert_eq!(
            check(header(), claims(), &e).await,
            Err(ErrorCode::UseDpopNonce)
        );
        let stale = key.for_window(now().timestamp() / NONCE_WINDOW - 2);
        let c = with(claims(), "nonce", json!(stale));
        assert_eq!(check(header(), c, &e).await, Err(ErrorCode::UseDpopNonce));
        let other = NonceKey::new([8; 32]).issue(now());
        let c = with(claims(), "nonce", json!(other));
        assert_eq!(check(header(), c, &e).await, Err(ErrorCode::UseDpopNonce));
        let c = with(claims(), "nonce", json!(key.issue(now())));
        assert!(check(header(), c, &e).await.is_ok());
        let previous = key.issue(now() - chrono::Duration::seconds(NONCE_WINDOW));
        assert!(key.accepts(&previous, now()));
    }

    #[test]
    fn several_dpop_headers_are_refused_rfc9449_4_3() {
        assert_eq!(one_proof(&[]), Ok(None));
        assert_eq!(one_proof(&["a"]), Ok(Some("a")));
        assert_eq!(
            one_proof(&["a", "b"]).unwrap_err().code,
            ErrorCode::InvalidDpopProof
        );
    }

    #[test]
    fn bound_tokens_need_a_proof_of_their_key_rfc9449_7_1() {
        let mut claims: crate::claims::AccessTokenClaims = serde_json::from_value(json!({
            "iss": "i", "sub": "s", "aud": "a", "client_id": "c", "scope": "openid",
            "jti": "j", "iat": 0, "exp": 1
        }))
        .unwrap();
        assert!(check_presentation(&claims, None).is_ok());
        assert!(check_presentation(&claims, Some("k")).is_err());
        claims.cnf = Some(crate::claims::Confirmation { jkt: "k".into() });
        assert!(check_presentation(&claims, Some("k")).is_ok());
        for presented in [None, Some("other")] {
            let e = check_presentation(&claims, presented).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidToken);
        }
    }

    #[test]
    fn codes_and_refresh_tokens_bound_to_a_key_need_it_rfc9449_5_10() {
        assert!(check_binding(None, None).is_ok());
        assert!(check_binding(None, Some("k")).is_ok());
        assert!(check_binding(Some("k"), Some("k")).is_ok());
        for proof in [None, Some("other")] {
            let e = check_binding(Some("k"), proof).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidDpopProof);
        }
        let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
        assert_eq!(parse_jkt(Some(jkt)).unwrap().as_deref(), Some(jkt));
        assert_eq!(parse_jkt(None).unwrap(), None);
        for bad in ["short", &format!("{}=", &jkt[..42]), &format!("{jkt}A")] {
            assert_eq!(
                parse_jkt(Some(bad)).unwrap_err().code,
                ErrorCode::InvalidRequest
            );
        }
    }

    #[test]
    fn hmac_matches_rfc4231_style_vector() {
        // HMAC-SHA256 with a 32-byte key of 0x0b and "Hi There" (checked against openssl).
        let mac = hmac_sha256(&[0x0b; 32], b"Hi There");
        assert_eq!(
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }
}
