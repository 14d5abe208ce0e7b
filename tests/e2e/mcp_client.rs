//! An MCP client against Gatehouse (MCP authorization specification): RFC 8414 discovery, a
//! Client ID Metadata Document served by the test on loopback (with the loopback exception
//! on), PKCE S256 and a `resource` indicator (RFC 8707) naming the MCP server, which becomes
//! the access token's `aud`. Then the refusals of draft-ietf-oauth-client-id-metadata-document:
//! a document naming another `client_id`, a loopback or private URL with the exception off, a
//! redirect URI not in the document, an oversize document.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::conformance_support::jwt_claims;
use crate::support::*;

const MCP: &str = "https://mcp.example.com/mcp";

/// A one-document HTTP server on loopback; counts the requests it answered.
struct DocServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

/// Serves the document `make(url)` at `http://127.0.0.1:<port>/client.json`.
async fn serve_document(make: impl FnOnce(&str) -> String) -> DocServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/client.json",
        listener.local_addr().unwrap().port()
    );
    let body = make(&url);
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=60\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    DocServer { url, hits }
}

fn document(url: &str) -> String {
    json!({
        "client_id": url,
        "client_name": "MCP Inspector",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
    .to_string()
}

async fn start(loopback: bool) -> TestServer {
    let s = TestServer::start_with(|st| {
        st.client_metadata.enabled = true;
        st.client_metadata.allow_loopback = loopback;
        st.client_metadata.scope = "openid offline_access mcp:tools".into();
    })
    .await;
    let out = run_cli(
        &s.db_url,
        &[
            "resource",
            "create",
            "--identifier",
            MCP,
            "--scope",
            "mcp:tools",
            "--json",
        ],
        None,
    );
    cli_json(&out);
    s.user("alice").await;
    s
}

/// The authorization URL an MCP client builds from the discovered endpoint.
fn mcp_authorize_url(endpoint: &str, client_id: &str, redirect: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut u = url::Url::parse(endpoint).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", "mcp:tools")
        .append_pair("state", "mcp-state")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", MCP);
    (u.to_string(), verifier)
}

async fn discover(s: &TestServer) -> Value {
    let resp = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn an_mcp_client_with_a_metadata_document_gets_a_token_for_the_mcp_server() {
    let s = start(true).await;
    let doc = serve_document(document).await;
    let meta = discover(&s).await;
    assert_eq!(meta["client_id_metadata_document_supported"], true);
    assert!(lists(&meta, "code_challenge_methods_supported", "S256"));
    let (url, verifier) =
        mcp_authorize_url(str_of(&meta, "authorization_endpoint"), &doc.url, REDIRECT);
    let b = browser();
    // The login and consent pages name the client with the host that published it.
    let login = b.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(login.contains("MCP Inspector (127.0.0.1)"), "{login}");
    let form = [
        ("username", "alice".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("csrf_token", hidden(&login, "csrf_token").unwrap()),
        ("request", hidden(&login, "request").unwrap()),
    ];
    let consent = b.post(s.url("/login")).form(&form).send().await.unwrap();
    let consent = consent.text().await.unwrap();
    assert!(consent.contains("MCP Inspector (127.0.0.1)"), "{consent}");
    let form = [
        ("decision", "allow".to_owned()),
        ("csrf_token", hidden(&consent, "csrf_token").unwrap()),
        ("request", hidden(&consent, "request").unwrap()),
    ];
    let done = b.post(s.url("/consent")).form(&form).send().await.unwrap();
    let code = query_param(&location(&done), "code").expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
        ("client_id", doc.url.as_str()),
        ("resource", MCP),
    ];
    let resp = http()
        .post(str_of(&meta, "token_endpoint"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    let claims = jwt_claims(str_of(&body, "access_token"));
    assert_eq!(claims["aud"], MCP);
    assert_eq!(claims["client_id"], doc.url.as_str());
    assert_eq!(claims["scope"], "mcp:tools");
    // The document was fetched once and then served from the cache (max-age=60).
    assert_eq!(doc.hits.load(Ordering::SeqCst), 1);
}

/// The authorization request of `client_id` ends on an error page, not at the redirect URI.
async fn refused(s: &TestServer, client_id: &str) {
    let (url, _) = mcp_authorize_url(&s.url("/oauth/authorize"), client_id, REDIRECT);
    let resp = browser().get(&url).send().await.unwrap();
    let status = resp.status().as_u16();
    assert!((400..500).contains(&status), "{client_id}: {status}");
}

#[tokio::test]
async fn a_document_naming_another_client_id_is_refused() {
    let s = start(true).await;
    let doc = serve_document(|_| document("https://elsewhere.example/client.json")).await;
    refused(&s, &doc.url).await;
    assert_eq!(doc.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn loopback_and_private_document_urls_are_refused_when_the_exception_is_off() {
    let s = start(false).await;
    let doc = serve_document(document).await;
    refused(&s, &doc.url).await;
    refused(&s, "https://10.0.0.7/client.json").await;
    refused(&s, "https://169.254.169.254/latest/client.json").await;
    assert_eq!(doc.hits.load(Ordering::SeqCst), 0, "nothing was fetched");
}

#[tokio::test]
async fn a_redirect_uri_not_in_the_document_is_refused() {
    let s = start(true).await;
    let doc = serve_document(document).await;
    let (url, _) = mcp_authorize_url(
        &s.url("/oauth/authorize"),
        &doc.url,
        "http://127.0.0.1:9/elsewhere",
    );
    let resp = browser().get(&url).send().await.unwrap();
    assert!(resp.status().is_client_error());
    assert!(resp.headers().get("location").is_none());
}

#[tokio::test]
async fn an_oversize_document_is_refused() {
    let s = start(true).await;
    let doc = serve_document(|url| {
        let mut d: Value = serde_json::from_str(&document(url)).unwrap();
        d["padding"] = json!("x".repeat(8 * 1024));
        d.to_string()
    })
    .await;
    refused(&s, &doc.url).await;
}

#[tokio::test]
async fn metadata_documents_are_off_by_default() {
    let s = TestServer::start().await;
    let meta = discover(&s).await;
    assert!(meta.get("client_id_metadata_document_supported").is_none());
    let doc = serve_document(document).await;
    refused(&s, &doc.url).await;
    assert_eq!(doc.hits.load(Ordering::SeqCst), 0);
}
