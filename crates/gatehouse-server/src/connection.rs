//! Connections stay bounded whatever a client sends (`[server]`): deadlines for the request
//! head (actix's client request timeout), for the body ([`body_deadline`]), for idle
//! keep-alive, a cap on open connections, and the drain on shutdown.
//!
//! actix's own head timeout stops once the headers are in: a client that declares a body and
//! then sends it a byte at a time would hold its connection, and a worker's attention, for as
//! long as it likes. [`body_deadline`] gives every request with a body `body_timeout` seconds
//! from the end of its head to deliver it; after that the read fails, the request is answered
//! `408 Request Timeout` and the connection is closed. A body the handler did not read to its
//! end closes the connection after the response too ([`Held`]).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_core::Stream;

use crate::settings::ServerSettings;

/// The body deadline, as app data for [`body_deadline`].
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The keep-alive of `[server] keep_alive`.
pub fn keep_alive(s: &ServerSettings) -> actix_web::http::KeepAlive {
    match s.keep_alive {
        0 => actix_web::http::KeepAlive::Disabled,
        n => actix_web::http::KeepAlive::Timeout(Duration::from_secs(n)),
    }
}

/// The middleware: wraps a request's body in the deadline and answers 408 when the deadline
/// cut it off. Whenever a body was not read to its end (cut off, or never read by the
/// handler), the connection closes after the response, whatever the transfer coding: actix
/// would otherwise keep reading a chunked body it was not asked to read, at the client's pace.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static, Held>>, Error> {
    let limit = req.app_data::<BodyTimeout>().copied();
    let (Some(BodyTimeout(limit)), true) = (limit, has_body(&req)) else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let body = Rc::new(BodyState {
        payload: RefCell::new(Some(req.take_payload())),
        expired: Cell::new(false),
        finished: Cell::new(false),
    });
    req.set_payload(Payload::Stream {
        payload: Box::pin(Deadline {
            body: body.clone(),
            sleep: Box::pin(tokio::time::sleep(limit)),
        }),
    });
    let res = next.call(req).await?;
    if body.expired.get() {
        crate::telemetry::body_timeout();
        let timeout = HttpResponse::RequestTimeout()
            .insert_header((header::CONNECTION, "close"))
            .force_close()
            .finish();
        let (http_req, _) = res.into_parts();
        let res = ServiceResponse::new(http_req, timeout);
        return Ok(res
            .map_body(|_, b| Held::new(b.boxed(), body))
            .map_into_right_body());
    }
    if body.finished.get() {
        return Ok(res.map_into_left_body());
    }
    Ok(res
        .map_body(|_, b| Held::new(b.boxed(), body))
        .map_into_right_body())
}

/// Whether the request announces a body (a non-zero length or a transfer coding).
fn has_body(req: &ServiceRequest) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// A request body and what became of it. The middleware keeps it alive past the handler.
struct BodyState {
    payload: RefCell<Option<Payload>>,
    expired: Cell<bool>,
    finished: Cell<bool>,
}

/// A body stream that fails once its deadline has passed.
struct Deadline {
    body: Rc<BodyState>,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.body.expired.get() || self.body.finished.get() {
            return Poll::Ready(None);
        }
        let polled = match self.body.payload.borrow_mut().as_mut() {
            Some(p) => Pin::new(p).poll_next(cx),
            None => Poll::Ready(None),
        };
        if let Poll::Ready(item) = polled {
            if item.is_none() {
                self.body.finished.set(true);
            }
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.body.expired.set(true);
            return Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Poll::Pending
    }
}

/// A response body that keeps an unread request body open until the response is written: the
/// server then sees a body nobody will read and closes the connection instead of draining it.
pub struct Held {
    body: BoxBody,
    _request_body: Rc<BodyState>,
}

impl Held {
    fn new(body: BoxBody, request_body: Rc<BodyState>) -> Self {
        Self {
            body,
            _request_body: request_body,
        }
    }
}

impl MessageBody for Held {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}
