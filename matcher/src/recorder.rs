//! The background recorder: request-log lines and match-history entries are queued on a
//! bounded channel and written to the store in batches, off the request path. When the
//! queue is full the entry is dropped and counted (`kcmf_recorder_dropped_total`) rather
//! than slowing requests down; on shutdown the queue is drained.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::store::{HistoryEntry, RequestLogEntry, Store};

const QUEUE: usize = 65_536;
const BATCH: usize = 512;
const FLUSH_EVERY: Duration = Duration::from_millis(200);

pub enum Entry {
    Request(RequestLogEntry),
    History(HistoryEntry),
}

#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Entry>,
}

impl Recorder {
    /// Starts the writer task; it ends when every `Recorder` clone is dropped.
    pub fn start(store: Store) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = tokio::spawn(run(store, rx));
        (Self { tx }, handle)
    }

    pub fn record(&self, e: Entry) {
        if self.tx.try_send(e).is_err() {
            metrics::counter!("kcmf_recorder_dropped_total").increment(1);
        }
    }
}

async fn flush(store: &Store, reqs: &mut Vec<RequestLogEntry>, hist: &mut Vec<HistoryEntry>) {
    if !reqs.is_empty() {
        if let Err(e) = store.insert_request_logs(reqs).await {
            tracing::warn!(error = %e, n = reqs.len(), "request log write failed");
            metrics::counter!("kcmf_recorder_errors_total", "what" => "request_log").increment(1);
        }
        reqs.clear();
    }
    if !hist.is_empty() {
        if let Err(e) = store.insert_history(hist).await {
            tracing::warn!(error = %e, n = hist.len(), "match history write failed");
            metrics::counter!("kcmf_recorder_errors_total", "what" => "history").increment(1);
        }
        hist.clear();
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Entry>) {
    let mut reqs = Vec::new();
    let mut hist = Vec::new();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        tokio::select! {
            got = rx.recv() => match got {
                Some(Entry::Request(r)) => reqs.push(r),
                Some(Entry::History(h)) => hist.push(h),
                None => break,
            },
            _ = tick.tick() => flush(&store, &mut reqs, &mut hist).await,
        }
        if reqs.len() + hist.len() >= BATCH {
            flush(&store, &mut reqs, &mut hist).await;
        }
    }
    flush(&store, &mut reqs, &mut hist).await;
}
