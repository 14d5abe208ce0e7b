//! Which `jwks_uri` a client may register and the server may fetch (RFC 7591 §2, against SSRF
//! per RFC 9700 §4.18 spirit): only `https`, or `http` to a loopback address (local tests); no
//! fragment or credentials; never an address literal of an internal network. The server's
//! fetcher applies the same check to every fetch and resolves host names with a resolver that
//! drops internal addresses, so a name cannot be pointed inward later (DNS rebinding).

use std::net::IpAddr;

/// Why a `jwks_uri` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksUriRefused {
    #[error("not a URL: {0}")]
    NotAUrl(String),
    #[error("must not carry a fragment or credentials")]
    FragmentOrCredentials,
    #[error("must not point to a private, link-local or otherwise internal address")]
    Internal,
    #[error("must be https (http only for a loopback address)")]
    Scheme,
}

/// Checks a `jwks_uri` as registered: `https`, or `http` to a loopback host; never an
/// internal address literal.
pub fn check_jwks_uri(uri: &str) -> Result<(), JwksUriRefused> {
    check_jwks_uri_with(uri, false)
}

/// [`check_jwks_uri`], optionally allowing internal addresses
/// (`client_auth.allow_internal_jwks_uri`).
pub fn check_jwks_uri_with(uri: &str, allow_internal: bool) -> Result<(), JwksUriRefused> {
    let u = url::Url::parse(uri).map_err(|e| JwksUriRefused::NotAUrl(e.to_string()))?;
    if u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
        return Err(JwksUriRefused::FragmentOrCredentials);
    }
    let literal = match u.host() {
        Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
        Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
        _ => None,
    };
    if !allow_internal && literal.is_some_and(is_internal) {
        return Err(JwksUriRefused::Internal);
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&u) => Ok(()),
        _ => Err(JwksUriRefused::Scheme),
    }
}

/// Addresses a fetch triggered from outside must never reach: private (RFC 1918, RFC 4193),
/// link-local (cloud metadata lives there), shared CGNAT space, unspecified, multicast and
/// broadcast. Loopback is handled separately (allowed only when named explicitly).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_multicast()
                || a.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)) || v4.is_loopback(),
            None => {
                let s = a.segments();
                a.is_unspecified()
                    || a.is_multicast()
                    || (s[0] & 0xfe00) == 0xfc00
                    || (s[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost")
                || d.parse::<IpAddr>().is_ok_and(|a| a.is_loopback())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "127.0.0.1",
            "::1",
            "100.128.0.1",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn internal_literals_are_refused_at_registration() {
        for uri in [
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/jwks",
            "https://[fd00::1]/jwks",
            "https://[::ffff:192.168.0.1]/jwks",
        ] {
            assert_eq!(check_jwks_uri(uri), Err(JwksUriRefused::Internal), "{uri}");
            assert!(check_jwks_uri_with(uri, true).is_ok(), "{uri}");
        }
    }

    #[test]
    fn jwks_uri_must_be_https_or_loopback_http() {
        assert!(check_jwks_uri("https://client.example/jwks.json").is_ok());
        assert!(check_jwks_uri("http://127.0.0.1:8081/jwks").is_ok());
        assert!(check_jwks_uri("http://[::1]/jwks").is_ok());
        assert!(check_jwks_uri("http://localhost/jwks").is_ok());
        assert!(check_jwks_uri("http://client.example/jwks").is_err());
        assert!(check_jwks_uri("http://10.0.0.1/jwks").is_err());
        assert!(check_jwks_uri("ftp://client.example/jwks").is_err());
        assert!(check_jwks_uri("https://u:p@client.example/jwks").is_err());
        assert!(check_jwks_uri("not a url").is_err());
    }
}
