//! The socket halves shared by client and server: a writer task that batches queued frames,
//! and a reader that feeds the decoder.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

/// Writes queued frames until the queue closes, coalescing what is already queued into one
/// write. A peer that stops reading for `timeout` ends the task (and so the connection): it
/// must not hold a bounded queue, and the memory behind it, forever.
pub(crate) async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Vec<u8>>,
    timeout: Duration,
) {
    while let Some(mut batch) = rx.recv().await {
        while batch.len() < 64 * 1024 {
            match rx.try_recv() {
                Ok(more) => batch.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        match tokio::time::timeout(timeout, wr.write_all(&batch)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "CMPP write failed");
                break;
            }
            Err(_) => {
                tracing::info!("CMPP peer stopped reading; closing the connection");
                break;
            }
        }
    }
    let _ = wr.shutdown().await;
}
