//! Connections stay bounded (`[server]`): a body sent a byte at a time is cut off at
//! `body_timeout` whatever size it declared and whatever its coding, slow headers at
//! `header_timeout`, a connection cap holds further clients back, and SIGTERM drains requests
//! in flight while refusing new connections, then exits 0.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ops_support::*;
use crate::support::*;

/// What a trickling client saw.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// The server answered with this status line and then closed the connection.
    AnsweredThenClosed(String),
    /// The server closed without answering.
    Closed,
}

/// Sends `head`, then one body byte (or one-byte chunk) every 50 ms, reading meanwhile, until
/// the server closes the connection; gives up (panics) after `limit`.
async fn trickle(addr: &str, head: &str, chunked: bool, limit: Duration) -> Seen {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        assert!(Instant::now() < deadline, "still open after {limit:?}");
        let piece: &[u8] = if chunked { b"1\r\na\r\n" } else { b"a" };
        // A write may fail once the server has closed: the read below says so.
        let _ = s.write_all(piece).await;
        match tokio::time::timeout(Duration::from_millis(50), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&got);
    match text.lines().next() {
        Some(status) if !status.is_empty() => Seen::AnsweredThenClosed(status.to_owned()),
        _ => Seen::Closed,
    }
}

fn post_head(path: &str, chunked: bool) -> String {
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        "Content-Length: 60000".to_owned()
    };
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    )
}

#[tokio::test]
async fn slow_bodies_are_cut_off_at_the_body_timeout_and_their_connections_closed() {
    let s = TestServer::start_with(|st| {
        st.server.body_timeout = 1;
        st.server.header_timeout = 2;
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    // Twenty trickling clients at once, of every kind: a declared length or chunks, to an
    // endpoint that reads its body and to one that does not.
    let mut clients = Vec::new();
    for i in 0..20 {
        let chunked = i % 2 == 1;
        let path = if i % 4 < 2 {
            "/oauth/token"
        } else {
            "/health/live"
        };
        let head = post_head(path, chunked);
        let addr = addr.clone();
        clients.push(tokio::spawn(async move {
            (
                path,
                trickle(&addr, &head, chunked, Duration::from_secs(15)).await,
            )
        }));
    }
    for c in clients {
        let (path, seen) = c.await.unwrap();
        match (path, seen) {
            ("/oauth/token", Seen::AnsweredThenClosed(status)) => {
                assert!(status.contains(" 408 "), "{status}")
            }
            // Nothing reads a body there: answered at once (no POST route), then closed.
            ("/health/live", Seen::AnsweredThenClosed(status)) => {
                assert!(status.contains(" 404 "), "{status}")
            }
            other => panic!("{other:?}"),
        }
    }
    let text = metrics_text(&s.base).await;
    assert!(
        sample(&text, "gatehouse_http_body_timeouts_total").is_some_and(|n| n >= 10.0),
        "{text}"
    );
    // A body sent in time on a kept-alive connection is answered, and the connection stays.
    let c = http();
    for _ in 0..2 {
        let r = c
            .post(s.url("/oauth/token"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
}

#[tokio::test]
async fn slow_headers_are_cut_off_at_the_header_timeout() {
    let s = TestServer::start_with(|st| st.server.header_timeout = 1).await;
    let addr = s.base.trim_start_matches("http://");
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    // The rest of the head never comes: the server gives up and closes (with a 408 or not).
    let read = tokio::time::timeout(Duration::from_secs(15), async {
        let mut all = Vec::new();
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => return all,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the connection is closed");
    let text = String::from_utf8_lossy(&read);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[tokio::test]
async fn the_connection_cap_holds_further_clients_until_one_leaves() {
    let s = TestServer::start_with(|st| {
        st.workers = 1;
        st.server.max_connections = 1;
        st.server.keep_alive = 30;
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let request = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = TcpStream::connect(&addr).await.unwrap();
    first.write_all(request).await.unwrap();
    let mut buf = [0u8; 512];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // The first connection stays open (keep-alive): the second client waits for it.
    let second = tokio::spawn(async move {
        let mut c = TcpStream::connect(&addr).await.unwrap();
        c.write_all(request).await.unwrap();
        let mut buf = [0u8; 512];
        let n = c.read(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!second.is_finished(), "served beyond the cap");
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("served once the first client left")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn sigterm_drains_the_request_in_flight_refuses_new_ones_and_exits_0() {
    let db = gatehouse_store::test_support::TestDb::new().await;
    let mut node = Process::spawn(&db.url, None, "", &[]);
    node.ready().await;
    let addr = format!("127.0.0.1:{}", node.port);
    let body = b"grant_type=client_credentials&client_id=nobody";
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body[..10]).await.unwrap();
    // The request is in flight (head read, body half sent) when SIGTERM arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    node.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&addr).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections still accepted after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    slow.write_all(&body[10..]).await.unwrap();
    let mut answer = Vec::new();
    slow.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request in flight was answered: {answer}"
    );
    let status = node.exit_status(Duration::from_secs(15)).await;
    assert!(status.success(), "{status}: {}", node.log_text());
}
