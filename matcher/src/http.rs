//! The HTTP/1 accept loop: [`serve`] replaces `axum::serve`, which has no knobs, so that a
//! client cannot hold a connection (and with it a file descriptor and a task) for as long
//! as it likes without sending a request:
//!
//! * **header-read timeout** (`app.header_read_timeout_secs`): a new connection must have
//!   sent a whole request head within this time of being accepted, and on a kept-alive
//!   connection the head must be complete within this time of its first byte. A client
//!   sending its headers a byte at a time is cut off here.
//! * **idle timeout** (`app.idle_timeout_secs`): a kept-alive connection with no request in
//!   flight is closed when no byte of a next request arrives within this time of the last
//!   response.
//! * **connection cap** (`app.max_connections`): at most this many connections are served at
//!   once. The loop takes a permit *before* it accepts, so past the cap new connections wait
//!   in the kernel's listen backlog (their TCP handshake completes, nothing is read) and are
//!   served as soon as a connection ends; none is refused.
//!
//! Why not hyper's own `header_read_timeout`: in hyper 1.x its timer starts as soon as a
//! connection is waiting for a request head, so on a kept-alive connection it also ends the
//! idle wait — one setting for two things, with no idle time longer than the header-read
//! time. Here the two are timed apart, as Go's `ReadHeaderTimeout` and `IdleTimeout` are:
//! a watchdog per connection knows from the service whether a request is in flight (from
//! the call until its response body is finished or dropped) and from the socket when the
//! first byte of the next one arrived. While a request is in flight neither timeout runs;
//! a slow request body is bounded by the request timeout (`app.timeout`, a JSON 408).
//!
//! Requests carry [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) with the peer
//! address (the per-address limit of failed authentications reads it). Shutdown is graceful
//! ([`GracefulShutdown`]): the listener closes, idle connections close, requests in flight
//! finish.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

/// The connection limits of one listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

impl Limits {
    pub fn from_config(app: &crate::config::AppConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_secs(app.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(app.idle_timeout_secs),
            max_connections: app.max_connections,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for the open
/// connections to finish (idle ones close at once, requests in flight complete).
/// `name` labels the log lines and metrics (`api`, `metrics`).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    name: &'static str,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut builder = http1::Builder::new();
    builder.keep_alive(true);
    // Our watchdog times the request head; hyper's own timer stays off (no `timer` is set).
    builder.header_read_timeout(None::<Duration>);
    loop {
        // The permit first: past the cap, connections wait in the listen backlog.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    accept_error(name, e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let track = Arc::new(Track::new());
        let io = TokioIo::new(Tracked {
            inner: stream,
            track: track.clone(),
        });
        let app = app.clone();
        let svc_track = track.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let busy = Busy::start(svc_track.clone());
            let app = app.clone();
            async move {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                let res = match app.oneshot(req).await {
                    Ok(res) => res,
                    Err(never) => match never {},
                };
                Ok::<_, Infallible>(res.map(|inner| GuardedBody { inner, _busy: busy }))
            }
        });
        let conn = graceful.watch(builder.serve_connection(io, service));
        metrics::gauge!("kcmf_connections_open", "listener" => name).increment(1.0);
        tokio::spawn(async move {
            tokio::select! {
                r = conn => {
                    if let Err(e) = r {
                        tracing::debug!(listener = name, %peer, error = %e, "connection ended with an error");
                    }
                }
                reason = watchdog(&track, limits) => {
                    tracing::debug!(listener = name, %peer, reason, "closing connection");
                    metrics::counter!("kcmf_connections_timed_out_total", "listener" => name, "reason" => reason)
                        .increment(1);
                }
            }
            metrics::gauge!("kcmf_connections_open", "listener" => name).decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Accept errors other than a peer giving up (e.g. out of file descriptors) are logged
/// and the loop pauses a second, as `axum::serve` does, rather than spinning.
async fn accept_error(name: &'static str, e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(listener = name, error = %e, "accept failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// What the watchdog of one connection knows about it.
struct Track {
    state: Mutex<State>,
    changed: Notify,
}

struct State {
    /// Requests whose response is not finished yet.
    in_flight: usize,
    /// No request has started on this connection yet.
    fresh: bool,
    /// When the connection was accepted or its last response finished.
    idle_since: Instant,
    /// When the first byte after `idle_since` arrived, if one has.
    first_byte: Option<Instant>,
}

impl Track {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                fresh: true,
                idle_since: Instant::now(),
                first_byte: None,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a few plain fields, consistent after every statement.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// When the connection is to be closed if nothing changes, and why; none while a
    /// request is in flight.
    fn deadline(&self, limits: &Limits) -> Option<(Instant, &'static str)> {
        let s = self.lock();
        if s.in_flight > 0 {
            None
        } else if s.fresh {
            Some((
                s.idle_since + limits.header_read_timeout,
                "header_read_timeout",
            ))
        } else if let Some(t) = s.first_byte {
            Some((t + limits.header_read_timeout, "header_read_timeout"))
        } else {
            Some((s.idle_since + limits.idle_timeout, "idle_timeout"))
        }
    }

    fn bytes_read(&self) {
        let mut s = self.lock();
        if s.in_flight == 0 && s.first_byte.is_none() {
            s.first_byte = Some(Instant::now());
            drop(s);
            self.changed.notify_one();
        }
    }
}

/// Completes (with the reason) when the connection has waited too long for a request
/// head; never while a request is in flight.
async fn watchdog(track: &Track, limits: Limits) -> &'static str {
    loop {
        // `notify_one` stores a permit when nobody waits, so no change is missed between
        // reading the deadline and waiting.
        match track.deadline(&limits) {
            None => track.changed.notified().await,
            Some((when, reason)) => {
                tokio::select! {
                    () = tokio::time::sleep_until(when) => {
                        if track.deadline(&limits).is_some_and(|(w, _)| w <= Instant::now()) {
                            return reason;
                        }
                    }
                    () = track.changed.notified() => {}
                }
            }
        }
    }
}

/// A request in flight, from the service call until its response body is finished (or
/// dropped, e.g. when the client goes away).
struct Busy(Arc<Track>);

impl Busy {
    fn start(track: Arc<Track>) -> Self {
        {
            let mut s = track.lock();
            s.in_flight += 1;
            s.fresh = false;
            s.first_byte = None;
        }
        track.changed.notify_one();
        Busy(track)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        {
            let mut s = self.0.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            if s.in_flight == 0 {
                s.idle_since = Instant::now();
                s.first_byte = None;
            }
        }
        self.0.changed.notify_one();
    }
}

/// The response body, holding the request's [`Busy`] until hyper has sent it all.
struct GuardedBody {
    inner: Body,
    _busy: Busy,
}

impl HttpBody for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, telling the [`Track`] when bytes arrive.
struct Tracked {
    inner: TcpStream,
    track: Arc<Track>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.track.bytes_read();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_read_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_millis(600),
            max_connections: 1,
        }
    }

    /// The deadline follows the connection's phase: header time from accept, none while a
    /// request is in flight, idle time after a response, header time from a first byte.
    #[test]
    fn the_deadline_follows_the_phase() {
        let l = limits();
        let t = Arc::new(Track::new());
        let accepted = t.lock().idle_since;
        let head = "header_read_timeout";
        assert_eq!(
            t.deadline(&l),
            Some((accepted + l.header_read_timeout, head))
        );
        t.bytes_read();
        assert_eq!(
            t.deadline(&l),
            Some((accepted + l.header_read_timeout, head)),
            "a first request's head is timed from accept, not from its first byte"
        );
        let busy = Busy::start(t.clone());
        assert_eq!(t.deadline(&l), None);
        t.bytes_read();
        assert_eq!(t.deadline(&l), None, "a slow body is the request timeout's");
        drop(busy);
        let idle = t.lock().idle_since;
        assert!(idle >= accepted);
        assert_eq!(
            t.deadline(&l),
            Some((idle + l.idle_timeout, "idle_timeout"))
        );
        t.bytes_read();
        let first = t.lock().first_byte.expect("the first byte is noted");
        assert_eq!(t.deadline(&l), Some((first + l.header_read_timeout, head)));
    }

    #[tokio::test]
    async fn the_watchdog_fires_only_when_idle() {
        let l = limits();
        let t = Arc::new(Track::new());
        let busy = Busy::start(t.clone());
        let w = tokio::time::timeout(3 * l.idle_timeout, watchdog(&t, l)).await;
        assert!(w.is_err(), "no timeout while a request is in flight");
        drop(busy);
        let start = Instant::now();
        assert_eq!(watchdog(&t, l).await, "idle_timeout");
        assert!(start.elapsed() >= l.idle_timeout);
    }
}
