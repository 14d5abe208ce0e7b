//! Facts about a request that the audit trail and IP allowlists need: the client's IP address
//! and a request id.
//!
//! The client address is the TCP peer, unless the peer is one of the configured
//! `[network] trusted_proxies`: then `X-Forwarded-For` is read from the right, skipping
//! trusted proxies, and the first address that is not one is the client (a client cannot
//! forge the entries its proxy appends). Without trusted proxies the header is ignored.
//!
//! The request id is the one [`crate::observe`] gave the request (the caller's `X-Request-Id`
//! when it is short and plain, else a fresh UUID), so the logs, the audit trail and the
//! response header agree.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use gatehouse_core::apikey::IpNet;

use crate::observe::{REQUEST_ID_HEADER, RequestId};
use crate::state::AppState;

/// The client address and request id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    /// `None` only when the transport gave no peer address (in-process tests).
    pub ip: Option<IpAddr>,
    pub request_id: String,
}

impl RequestMeta {
    /// Reads the metadata of `req` under the given proxy trust.
    pub fn from_parts(req: &HttpRequest, trusted: &[IpNet]) -> Self {
        let peer = req.peer_addr().map(|a| a.ip());
        let ip = peer.map(|p| client_ip(p, forwarded_for(req), trusted));
        let known = req.extensions().get::<RequestId>().cloned();
        let request_id =
            known.unwrap_or_else(|| RequestId::from_header(req.headers().get(&REQUEST_ID_HEADER)));
        Self {
            ip,
            request_id: request_id.0,
        }
    }

    /// The address as text for the audit trail.
    pub fn ip_string(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.trusted_proxies.as_slice())
            .unwrap_or(&[]);
        ready(Ok(Self::from_parts(req, trusted)))
    }
}

/// All `X-Forwarded-For` entries, in order, across repeated headers.
fn forwarded_for(req: &HttpRequest) -> Vec<String> {
    req.headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_owned())
        .collect()
}

/// The client address given the peer, the forwarded chain and the trusted proxies.
fn client_ip(peer: IpAddr, chain: Vec<String>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for entry in chain.iter().rev() {
        // An unparsable entry ends the walk: what lies left of it cannot be trusted.
        let Ok(ip) = entry.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| IpNet::parse(s).unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn chain(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_the_header_says() {
        let got = client_ip(ip("203.0.113.7"), chain(&["10.9.9.9"]), &nets(&[]));
        assert_eq!(got, ip("203.0.113.7"));
        let got = client_ip(
            ip("203.0.113.7"),
            chain(&["10.9.9.9"]),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("203.0.113.7"));
    }

    #[test]
    fn trusted_proxy_chain_is_walked_from_the_right() {
        let trusted = nets(&["10.0.0.0/8"]);
        // Client forged "1.1.1.1"; the proxy appended the real address.
        let got = client_ip(
            ip("10.0.0.2"),
            chain(&["1.1.1.1", "198.51.100.4", "10.0.0.1"]),
            &trusted,
        );
        assert_eq!(got, ip("198.51.100.4"));
    }

    #[test]
    fn garbage_in_the_chain_stops_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(
            ip("10.0.0.2"),
            chain(&["198.51.100.4", "nonsense"]),
            &trusted,
        );
        assert_eq!(got, ip("10.0.0.2"));
    }

    #[test]
    fn request_id_is_taken_when_plain_else_generated() {
        let req = TestRequest::default()
            .insert_header(("x-request-id", "abc-123"))
            .to_http_request();
        assert_eq!(RequestMeta::from_parts(&req, &[]).request_id, "abc-123");
        let req = TestRequest::default()
            .insert_header(("x-request-id", "bad id\"<script>"))
            .to_http_request();
        let id = RequestMeta::from_parts(&req, &[]).request_id;
        assert_ne!(id, "bad id\"<script>");
        assert!(uuid::Uuid::parse_str(&id).is_ok());
        // The id the request was given (and answered with) wins over the header.
        let req = TestRequest::default()
            .insert_header(("x-request-id", "abc-123"))
            .to_http_request();
        req.extensions_mut()
            .insert(RequestId("given-by-observe".into()));
        assert_eq!(
            RequestMeta::from_parts(&req, &[]).request_id,
            "given-by-observe"
        );
    }

    #[test]
    fn forwarded_headers_are_read_only_from_trusted_peers() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:4000".parse().unwrap())
            .insert_header(("x-forwarded-for", "198.51.100.4"))
            .to_http_request();
        assert_eq!(
            RequestMeta::from_parts(&req, &nets(&["10.0.0.0/8"])).ip,
            Some(ip("198.51.100.4"))
        );
        assert_eq!(
            RequestMeta::from_parts(&req, &nets(&["192.168.0.0/16"])).ip,
            Some(ip("10.0.0.2"))
        );
    }
}
