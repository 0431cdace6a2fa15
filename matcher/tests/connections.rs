//! Connection handling of `serve` over raw TCP: a request head that stalls or trickles in is
//! cut off at the header-read timeout, an idle kept-alive connection is closed at the idle
//! timeout (and not at the header-read one), connections past the cap wait unserved until
//! one ends, and a slow request body gets the JSON 408. The timeouts are set short through
//! the environment (`KCMF_HEADER_READ_TIMEOUT_SECS`, `KCMF_IDLE_TIMEOUT_SECS`,
//! `KCMF_MAX_CONNECTIONS`) so the suite stays fast; bounds are generous (a loaded machine).

mod common;

use std::time::Duration;

use common::Matcher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Longest a test waits for the server to close a connection it should close.
const CLOSE_BOUND: Duration = Duration::from_secs(15);

async fn connect(m: &Matcher) -> TcpStream {
    TcpStream::connect(("127.0.0.1", m.port))
        .await
        .expect("connect")
}

/// Reads one response (head plus a `content-length` body); returns status and body.
async fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.expect("read response");
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line: {head}"));
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("a content-length response: {head}"));
    while buf.len() < head_end + len {
        let n = s.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    (
        status,
        String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string(),
    )
}

async fn get_health(s: &mut TcpStream) -> u16 {
    s.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("write");
    timeout(Duration::from_secs(10), read_response(s))
        .await
        .expect("a response within 10 s")
        .0
}

/// Waits until the server closes `s` (EOF or reset); panics past [`CLOSE_BOUND`].
async fn closed(s: &mut TcpStream) {
    let mut b = [0u8; 256];
    let r = timeout(CLOSE_BOUND, async {
        loop {
            match s.read(&mut b).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        r.is_ok(),
        "the server kept the connection open for {CLOSE_BOUND:?}"
    );
}

fn limits(header: u64, idle: u64, max: usize) -> Vec<(&'static str, String)> {
    vec![
        ("KCMF_HEADER_READ_TIMEOUT_SECS", header.to_string()),
        ("KCMF_IDLE_TIMEOUT_SECS", idle.to_string()),
        ("KCMF_MAX_CONNECTIONS", max.to_string()),
    ]
}

#[tokio::test]
async fn a_stalled_request_head_is_cut_off() {
    let m = Matcher::start(&limits(2, 30, 64)).await;
    let mut s = connect(&m).await;
    let t = Instant::now();
    s.write_all(b"GET /health HTTP/1.1\r\nHo")
        .await
        .expect("write");
    closed(&mut s).await;
    let held = t.elapsed();
    assert!(held >= Duration::from_millis(1500), "closed after {held:?}");
    eprintln!("half a header line, then silence: closed after {held:?}");
}

/// The slowloris case: a byte every 200 ms keeps the socket busy, but the head must be
/// complete within the header-read time of the connection's start.
#[tokio::test]
async fn a_request_head_sent_a_byte_at_a_time_is_cut_off() {
    let m = Matcher::start(&limits(2, 30, 64)).await;
    let s = connect(&m).await;
    let (mut r, mut w) = s.into_split();
    let t = Instant::now();
    let trickle = tokio::spawn(async move {
        let head = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Padding: ".to_vec();
        for b in head.into_iter().chain(std::iter::repeat(b'a')) {
            if w.write_all(&[b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut b = [0u8; 256];
    let end = timeout(CLOSE_BOUND, async {
        loop {
            match r.read(&mut b).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        end.is_ok(),
        "a trickled head held the connection for {CLOSE_BOUND:?}"
    );
    eprintln!("a byte every 200 ms: closed after {:?}", t.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let m = Matcher::start(&limits(1, 4, 64)).await;
    let mut s = connect(&m).await;
    assert_eq!(get_health(&mut s).await, 200);
    // Idle longer than the header-read timeout: still open, a next request is served.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        get_health(&mut s).await,
        200,
        "an idle wait is timed by the idle timeout, not the header-read one"
    );
    let t = Instant::now();
    closed(&mut s).await;
    let held = t.elapsed();
    assert!(held >= Duration::from_secs(3), "closed after {held:?}");
    eprintln!("idle keep-alive connection (idle timeout 4 s): closed after {held:?}");
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_ends() {
    let m = Matcher::start(&limits(30, 30, 2)).await;
    let mut a = connect(&m).await;
    let mut b = connect(&m).await;
    assert_eq!(get_health(&mut a).await, 200);
    assert_eq!(get_health(&mut b).await, 200);
    // The third connection is made (the kernel's backlog) but nothing reads its request.
    let mut c = connect(&m).await;
    c.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("write");
    assert!(
        timeout(Duration::from_secs(2), read_response(&mut c))
            .await
            .is_err(),
        "a connection past the cap is not served"
    );
    // The two served connections still are.
    assert_eq!(get_health(&mut a).await, 200);
    drop(a);
    let (st, _) = timeout(Duration::from_secs(10), read_response(&mut c))
        .await
        .expect("served once a connection ends");
    assert_eq!(st, 200);
    assert_eq!(get_health(&mut b).await, 200);
}

/// A body that stalls is answered by the request timeout with the documented JSON error.
#[tokio::test]
async fn a_stalled_request_body_gets_a_json_408() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("config.yaml");
    std::fs::write(&cfg, "app:\n  timeout: 2\n").expect("config");
    let m = Matcher::start(&[("KCMF_CONFIG", cfg.display().to_string())]).await;
    let key = m.key();
    let mut s = connect(&m).await;
    let head = format!(
        "POST /api/v1/match/entity HTTP/1.1\r\nHost: t\r\nX-API-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"left\":"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    let (st, body) = timeout(Duration::from_secs(15), read_response(&mut s))
        .await
        .expect("an answer within 15 s");
    assert_eq!(st, 408, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(v["error"]["code"], "request_timeout", "{v}");
}

/// The `/metrics` port runs the same loop: served, with the connection metrics, and a
/// stalled head is cut off there too.
#[tokio::test]
async fn the_metrics_port_has_the_same_limits() {
    let mport = common::free_port();
    let mut env = limits(2, 30, 64);
    env.push(("METRICS_PORT", mport.to_string()));
    let _m = Matcher::start(&env).await;
    let mut s = TcpStream::connect(("127.0.0.1", mport))
        .await
        .expect("connect to the metrics port");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .expect("write");
    let (st, body) = timeout(Duration::from_secs(10), read_response(&mut s))
        .await
        .expect("metrics within 10 s");
    assert_eq!(st, 200);
    assert!(
        body.contains("kcmf_connections_open{listener=\"api\"}"),
        "{body}"
    );
    let mut stalled = TcpStream::connect(("127.0.0.1", mport))
        .await
        .expect("connect");
    stalled.write_all(b"GET /met").await.expect("write");
    closed(&mut stalled).await;
}
