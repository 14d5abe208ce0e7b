//! `gatehouse perform authorization-code`: the authorization code flow as a client runs it
//! (RFC 6749 §4.1 with PKCE S256, RFC 7636; a loopback redirect, RFC 8252 §7.3), for trying a
//! client out without copying codes by hand. It listens on `127.0.0.1:PORT`, prints the
//! authorization URL (with `state` and `nonce`), waits for the redirect, checks `state` (and
//! `iss`, RFC 9207), redeems the code with the verifier and prints the token response as JSON.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Subcommand};
use gatehouse_server::Settings;
use sha2::{Digest, Sha256};

#[derive(Subcommand)]
pub enum PerformCmd {
    /// Sign in through the browser and print the tokens: listens on 127.0.0.1:PORT for the
    /// redirect (register http://127.0.0.1/callback or http://127.0.0.1:PORT/callback; any
    /// port matches a loopback IP), prints the URL to open on standard error (and opens it
    /// with $BROWSER when set) and the token response on standard output.
    AuthorizationCode(AuthorizationCodeArgs),
}

#[derive(Args)]
pub struct AuthorizationCodeArgs {
    /// The client's id.
    #[arg(long)]
    client_id: String,
    /// The client's secret (confidential clients; sent with HTTP Basic). Generated secrets are
    /// base64url and may begin with `-`: taken as the value, never as a flag.
    #[arg(
        long,
        env = "GATEHOUSE_CLIENT_SECRET",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    client_secret: Option<String>,
    /// The scopes to ask for.
    #[arg(long, default_value = "openid offline_access")]
    scope: String,
    /// The loopback port of the redirect listener.
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// The path of the redirect URI.
    #[arg(long, default_value = "/callback")]
    redirect_path: String,
    /// The server's issuer URL (default: the configured issuer).
    #[arg(long)]
    issuer: Option<String>,
    /// How long to wait for the redirect, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// The largest request head the redirect listener reads.
const MAX_HEAD: usize = 16 * 1024;

pub async fn run(settings: &Settings, cmd: PerformCmd) -> anyhow::Result<()> {
    match cmd {
        PerformCmd::AuthorizationCode(args) => authorization_code(settings, args).await,
    }
}

/// The endpoints of the server (OpenID Connect Discovery 1.0 §4).
struct Endpoints {
    issuer: String,
    authorization: String,
    token: String,
}

async fn authorization_code(
    settings: &Settings,
    args: AuthorizationCodeArgs,
) -> anyhow::Result<()> {
    if !args.redirect_path.starts_with('/') {
        bail!("--redirect-path: must start with /");
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let issuer = args.issuer.as_deref().unwrap_or(&settings.issuer);
    let endpoints = discover(&http, issuer.trim_end_matches('/')).await?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))
        .map_err(|e| anyhow!("--port: cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let port = listener.local_addr()?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}{}", args.redirect_path);
    let verifier = random_token(32)?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let (state, nonce) = (random_token(16)?, random_token(16)?);
    let url = url::Url::parse_with_params(
        &endpoints.authorization,
        [
            ("response_type", "code"),
            ("client_id", args.client_id.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", args.scope.as_str()),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .context("the authorization_endpoint of the discovery document")?;
    eprintln!("Open this URL in a browser and sign in:\n{url}");
    open_in_browser(url.as_str());
    eprintln!(
        "Waiting up to {} s for the redirect to {redirect_uri}",
        args.timeout
    );
    let path = args.redirect_path.clone();
    let wait = tokio::task::spawn_blocking(move || wait_for_redirect(&listener, &path));
    let params = tokio::time::timeout(Duration::from_secs(args.timeout), wait)
        .await
        .map_err(|_| anyhow!("no redirect came within {} s (--timeout)", args.timeout))???;
    let code = check_redirect(&params, &state, &endpoints.issuer)?;
    let tokens = redeem(&http, &endpoints, &args, &code, &redirect_uri, &verifier).await?;
    check_nonce(&tokens, &nonce)?;
    println!("{tokens}");
    Ok(())
}

async fn discover(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Endpoints> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let meta: serde_json::Value = http
        .get(&url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| anyhow!("--issuer: cannot read {url}: {e} (is the server running?)"))?
        .json()
        .await
        .map_err(|e| anyhow!("--issuer: {url} is not a discovery document: {e}"))?;
    let field = |name: &str| {
        meta[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("--issuer: {url} has no {name}"))
    };
    Ok(Endpoints {
        issuer: field("issuer")?,
        authorization: field("authorization_endpoint")?,
        token: field("token_endpoint")?,
    })
}

/// Opens `url` with the program named by `$BROWSER` (as `xdg-open` and `git web--browse` do),
/// when it is set; the URL is printed either way.
fn open_in_browser(url: &str) {
    let Some(browser) = std::env::var_os("BROWSER").filter(|b| !b.is_empty()) else {
        return;
    };
    match std::process::Command::new(&browser).arg(url).spawn() {
        Ok(mut child) => {
            // Reaped in the background so that it never lingers as a zombie.
            std::thread::spawn(move || child.wait());
        }
        Err(e) => eprintln!(
            "BROWSER: cannot start {}: {e}; open the URL by hand",
            browser.to_string_lossy()
        ),
    }
}

/// `n` random bytes, base64url without padding.
fn random_token(n: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Accepts connections until one asks for `path`; answers it with a short page and returns
/// its query parameters. Other requests get 404.
fn wait_for_redirect(
    listener: &TcpListener,
    path: &str,
) -> anyhow::Result<HashMap<String, String>> {
    loop {
        let (mut stream, _) = listener.accept().context("the redirect listener")?;
        let Some(target) = read_request_target(&mut stream) else {
            continue;
        };
        let (got_path, query) = target.split_once('?').unwrap_or((&target, ""));
        if got_path != path {
            respond(&mut stream, "404 Not Found", "Not the redirect URI.");
            continue;
        }
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let page = match params.contains_key("code") {
            true => "Gatehouse: signed in. You can close this window and go back to the terminal.",
            false => "Gatehouse: the authorization did not succeed; see the terminal.",
        };
        respond(&mut stream, "200 OK", page);
        return Ok(params);
    }
}

/// The request target of a `GET` request, read with a deadline and a size cap.
fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next()?.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_owned()),
        _ => None,
    }
}

fn respond(stream: &mut TcpStream, status: &str, text: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// The code of the redirect, once `state` and `iss` match (RFC 6749 §10.12, RFC 9207 §2.4).
fn check_redirect(
    params: &HashMap<String, String>,
    state: &str,
    issuer: &str,
) -> anyhow::Result<String> {
    if params.get("state").map(String::as_str) != Some(state) {
        bail!("the redirect's state does not match the request's: refused (a forged redirect?)");
    }
    if let Some(iss) = params.get("iss")
        && iss != issuer
    {
        bail!("the redirect's iss {iss} is not the issuer {issuer}: refused");
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").map_or("", String::as_str);
        bail!("the authorization was refused: {error} {description}");
    }
    params
        .get("code")
        .cloned()
        .ok_or_else(|| anyhow!("the redirect carries no code"))
}

async fn redeem(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    args: &AuthorizationCodeArgs,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> anyhow::Result<serde_json::Value> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let mut req = http.post(&endpoints.token);
    match &args.client_secret {
        // RFC 6749 §2.3.1: both form-urlencoded inside the Basic credentials.
        Some(secret) => {
            req = req.basic_auth(form_encode(&args.client_id), Some(form_encode(secret)))
        }
        None => form.push(("client_id", &args.client_id)),
    }
    let resp = req
        .form(&form)
        .send()
        .await
        .map_err(|e| anyhow!("token endpoint {}: {e}", endpoints.token))?;
    let status = resp.status();
    let body: serde_json::Value = resp
        .json()
        .await
        .map_err(|e| anyhow!("token endpoint {}: not JSON: {e}", endpoints.token))?;
    if !status.is_success() {
        bail!(
            "the token endpoint refused the code ({status}): {} {}",
            body["error"].as_str().unwrap_or("?"),
            body["error_description"].as_str().unwrap_or("")
        );
    }
    Ok(body)
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The ID token, if any, carries the request's nonce (OpenID Connect Core §3.1.3.7). Its
/// signature is the relying party's to check; this compares only the claim.
fn check_nonce(tokens: &serde_json::Value, nonce: &str) -> anyhow::Result<()> {
    let Some(id_token) = tokens["id_token"].as_str() else {
        return Ok(());
    };
    let claims = id_token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or_else(|| anyhow!("the id_token is not a JWT"))?;
    if claims["nonce"].as_str() != Some(nonce) {
        bail!("the id_token's nonce does not match the request's: refused");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::PerformCmd;
    use crate::cli::{Cli, Command};

    /// A generated secret may begin with `-` (base64url): it is the flag's value, not a flag.
    #[test]
    fn a_client_secret_beginning_with_a_dash_is_a_value() {
        let secret = "-U6vlyQp8pB-Ke4-qJlOEI5Lz6vsjJiDqvW_dpo9_gE";
        let cli = Cli::try_parse_from([
            "gatehouse",
            "perform",
            "authorization-code",
            "--client-id",
            "c1",
            "--client-secret",
            secret,
            "--scope",
            "openid",
        ]);
        let Ok(Cli {
            command: Command::Perform(PerformCmd::AuthorizationCode(args)),
            ..
        }) = cli
        else {
            panic!("not parsed as perform authorization-code");
        };
        assert_eq!(args.client_secret.as_deref(), Some(secret));
        assert_eq!(args.client_id, "c1");
    }
}
