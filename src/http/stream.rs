//! Response bodies written by blocking code (backups, exports): a `Write` on the blocking pool
//! that hands full chunks to the body through a small channel. The channel is what keeps memory
//! flat: a writer ahead of its client waits for it, and fails once the client is gone (the
//! connection's write timeout drops a client that stops reading), which ends the work.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use futures_util::stream;
use tokio::sync::mpsc;

/// Bytes handed to the response at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks between the writer and the client.
const IN_FLIGHT: usize = 4;

/// The writing end of a streamed body.
pub(super) struct ChannelWriter {
    buffer: Vec<u8>,
    sender: mpsc::Sender<io::Result<Bytes>>,
}

/// A writer and the body it feeds.
pub(super) fn channel() -> (ChannelWriter, Body) {
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
    let body = Body::from_stream(stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    }));
    let writer = ChannelWriter {
        buffer: Vec::with_capacity(CHUNK),
        sender,
    };
    (writer, body)
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }

    /// Ends the body with an error, so the client sees a broken download rather than a short
    /// file that looks whole; what went wrong is for the server's log.
    pub(super) fn fail(self, what: &str) {
        let _ = self
            .sender
            .blocking_send(Err(io::Error::other(what.to_owned())));
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}
