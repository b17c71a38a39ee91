//! A log sink that collects lines and writes them in batches.
//!
//! Writing each line with its own `write` call (or handing each to a writer thread, which then
//! had to be woken per line) cost a busy server about a fifth of its CPU per page served.
//! Here a line is appended to a buffer; a background thread writes the buffer out every
//! [`FLUSH_EVERY`], a logger that finds it over [`FLUSH_AT`] writes it at once (which also
//! bounds the memory), and warnings and errors are written before the call returns.
//! What a `kill -9` can lose is the last [`FLUSH_EVERY`] of info and debug lines.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// A buffer this full is written by the logger that filled it.
pub const FLUSH_AT: usize = 32 * 1024;

struct Shared<W> {
    /// Lines not yet written. Loggers only ever take this lock.
    pending: Mutex<Vec<u8>>,
    /// Held while a batch is taken and written, so batches go out in order.
    sink: Mutex<W>,
    stopped: Mutex<bool>,
    wake: Condvar,
    /// No background thread (it could not start, or has stopped): every line goes out at once.
    unbuffered: AtomicBool,
}

impl<W: Write> Shared<W> {
    fn write_out(&self) {
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        let batch =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        if batch.is_empty() {
            return;
        }
        // Nowhere left to report a failing log sink; the server must go on regardless.
        let _ = sink.write_all(&batch).and_then(|()| sink.flush());
    }
}

/// The `MakeWriter` for the subscriber. Cloning shares the buffer.
pub struct BatchWriter<W> {
    shared: Arc<Shared<W>>,
}

impl<W> Clone for BatchWriter<W> {
    fn clone(&self) -> Self {
        BatchWriter {
            shared: self.shared.clone(),
        }
    }
}

impl<W: Write + Send + 'static> BatchWriter<W> {
    /// Starts the background thread that writes to `sink`; without one, lines are written
    /// one by one.
    pub fn spawn(sink: W) -> Self {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Vec::with_capacity(FLUSH_AT)),
            sink: Mutex::new(sink),
            stopped: Mutex::new(false),
            wake: Condvar::new(),
            unbuffered: AtomicBool::new(false),
        });
        let background = shared.clone();
        let started = thread::Builder::new()
            .name("log writer".into())
            .spawn(move || {
                let mut stopped = background
                    .stopped
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                while !*stopped {
                    stopped = background
                        .wake
                        .wait_timeout(stopped, FLUSH_EVERY)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    background.write_out();
                }
            });
        if started.is_err() {
            shared.unbuffered.store(true, Ordering::Relaxed);
        }
        BatchWriter { shared }
    }

    /// Writes out everything buffered and stops the background thread; later lines are
    /// written one by one.
    pub fn finish(&self) {
        self.shared.unbuffered.store(true, Ordering::Relaxed);
        *self
            .shared
            .stopped
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_one();
        self.shared.write_out();
    }
}

/// One log line on its way into the buffer.
pub struct Line<'a, W: Write> {
    shared: &'a Shared<W>,
    urgent: bool,
}

impl<W: Write> Write for Line<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let full = {
            let mut pending = self
                .shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.extend_from_slice(bytes);
            pending.len() >= FLUSH_AT
        };
        if full {
            self.shared.write_out();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Line<'_, W> {
    fn drop(&mut self) {
        if self.urgent || self.shared.unbuffered.load(Ordering::Relaxed) {
            self.shared.write_out();
        }
    }
}

impl<W: Write> BatchWriter<W> {
    /// A line that waits for the next batch, or one written out when it is complete.
    fn line(&self, urgent: bool) -> Line<'_, W> {
        Line {
            shared: &self.shared,
            urgent,
        }
    }
}

impl<'a, W: Write + 'a> MakeWriter<'a> for BatchWriter<W> {
    type Writer = Line<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        self.line(true)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        self.line(*meta.level() <= Level::WARN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read, counting the writes it gets.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut inner = self.0.lock().unwrap();
            inner.0.extend_from_slice(bytes);
            inner.1 += 1;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Recorder {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().0.clone()).unwrap()
        }
        fn writes(&self) -> usize {
            self.0.lock().unwrap().1
        }
    }

    #[test]
    fn info_lines_are_batched_and_finish_writes_them_in_order() {
        let sink = Recorder::default();
        let writer = BatchWriter::spawn(sink.clone());
        for n in 0..100 {
            writeln!(writer.line(false), "line {n}").unwrap();
        }
        writer.finish();
        let expected: String = (0..100).map(|n| format!("line {n}\n")).collect();
        assert_eq!(sink.text(), expected);
        assert!(sink.writes() < 10, "{} writes for 100 lines", sink.writes());
    }

    #[test]
    fn info_lines_go_out_within_the_flush_interval() {
        let sink = Recorder::default();
        let writer = BatchWriter::spawn(sink.clone());
        writeln!(writer.line(false), "waiting").unwrap();
        let deadline = std::time::Instant::now() + FLUSH_EVERY * 20;
        while sink.text().is_empty() && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(sink.text(), "waiting\n");
        writer.finish();
    }

    #[test]
    fn warnings_are_written_before_the_call_returns() {
        let sink = Recorder::default();
        let writer = BatchWriter::spawn(sink.clone());
        writeln!(writer.line(false), "first").unwrap();
        writeln!(writer.line(true), "urgent").unwrap();
        assert_eq!(sink.text(), "first\nurgent\n");
        writer.finish();
    }

    #[test]
    fn a_full_buffer_is_written_by_the_logger() {
        let sink = Recorder::default();
        let writer = BatchWriter::spawn(sink.clone());
        let line = "x".repeat(1023);
        for _ in 0..(FLUSH_AT / 1024 + 1) {
            writeln!(writer.line(false), "{line}").unwrap();
        }
        assert!(sink.text().len() >= FLUSH_AT);
        writer.finish();
    }
}
