//! Requests to the authorization server: JSON documents (discovery, JWKS) and introspection.
//! Redirects are not followed (a metadata or key URL that redirects elsewhere is an error, not a
//! new trust anchor), every request has a timeout, and bodies are read up to a cap so a broken
//! or hostile server cannot exhaust memory.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;

use crate::config::IntrospectionClient;

/// Largest document accepted from the authorization server.
const MAX_BODY: usize = 512 * 1024;

#[derive(Clone)]
pub(crate) struct Fetcher {
    http: reqwest::Client,
}

/// A fetched JSON document and its `Cache-Control: max-age`, if any.
pub(crate) struct Fetched<T> {
    pub value: T,
    pub max_age: Option<Duration>,
}

impl Fetcher {
    pub(crate) fn new(timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("gatehouse-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self { http })
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Fetched<T>, String> {
        let resp = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let max_age = resp
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_max_age);
        let value = read_json(resp, url).await?;
        Ok(Fetched { value, max_age })
    }

    /// `POST` an RFC 7662 introspection request authenticated with `client_secret_basic`.
    pub(crate) async fn introspect<T: DeserializeOwned>(
        &self,
        url: &str,
        client: &IntrospectionClient,
        token: &str,
    ) -> Result<T, String> {
        let form = [("token", token)];
        let resp = self
            .http
            .post(url)
            .header("authorization", basic(client))
            .header("accept", "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        read_json(resp, url).await
    }
}

async fn read_json<T: DeserializeOwned>(
    mut resp: reqwest::Response,
    url: &str,
) -> Result<T, String> {
    if !resp.status().is_success() {
        return Err(format!("{url}: HTTP {}", resp.status().as_u16()));
    }
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(format!("{url}: body larger than {MAX_BODY} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("{url}: body larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url}: not the expected JSON: {e}"))
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
fn basic(client: &IntrospectionClient) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", enc(&client.client_id), enc(client.secret()));
    format!("Basic {}", STANDARD.encode(pair))
}

/// `max-age` of a `Cache-Control` value; `no-store`/`no-cache` count as 0.
pub(crate) fn parse_max_age(v: &str) -> Option<Duration> {
    let mut age = None;
    for d in v.split(',').map(str::trim) {
        let lower = d.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(Duration::ZERO);
        }
        if let Some(n) = lower.strip_prefix("max-age=") {
            age = n
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_max_age_is_read_and_no_store_means_zero() {
        assert_eq!(
            parse_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(parse_max_age("public"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        let c = IntrospectionClient::new("rs 1", "p:w&d");
        let expected = format!("Basic {}", STANDARD.encode("rs+1:p%3Aw%26d"));
        assert_eq!(basic(&c), expected);
    }
}
