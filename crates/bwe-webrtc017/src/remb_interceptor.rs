//! The REMB generator as a webrtc-rs 0.17 interceptor.
//!
//! 0.17's interceptors are async objects that wrap each other's readers and writers; there is no
//! `poll_timeout`, so timed work is a tokio task. This file is the glue only: the inbound RTP
//! reader feeds [`RembGenerator`] under a short, never-awaited lock and wakes the task when a
//! REMB is queued; the task, started when the chain binds its RTCP writer, sleeps until the
//! generator's next deadline (the periodic REMB or a stream expiry), and writes what the
//! generator queued. Media is never changed or delayed beyond that lock.
//!
//! The per-packet path adds one boxed future (0.17's `async_trait` readers allocate one per
//! call all along the chain) and nothing else.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use interceptor::stream_info::StreamInfo;
use interceptor::{
    Attributes, Interceptor, InterceptorBuilder, RTCPReader, RTCPWriter, RTPReader, RTPWriter,
};
use tokio::sync::Notify;
use webrtc::rtp::packet::Packet as RtpPacket;

use crate::clock;
use crate::config::{ConfigError, RembConfig};
use crate::generator::RembGenerator;
use crate::handle::RembHandle;
use crate::task::{self, TaskSlot};

/// Builds one [`RembInterceptor`] per PeerConnection; every one publishes to the same
/// [`RembHandle`] (the most recently built is the one it reads).
#[derive(Debug, Clone)]
pub struct RembInterceptorBuilder {
    config: RembConfig,
    handle: RembHandle,
}

impl RembInterceptorBuilder {
    /// A builder for `config`, refused if the config cannot work.
    pub fn new(config: RembConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            handle: RembHandle::new(),
        })
    }

    /// The handle the built interceptors publish to.
    pub fn handle(&self) -> RembHandle {
        self.handle.clone()
    }
}

impl InterceptorBuilder for RembInterceptorBuilder {
    fn build(&self, _id: &str) -> Result<Arc<dyn Interceptor + Send + Sync>, interceptor::Error> {
        let generator = RembGenerator::new(self.config.clone())
            .map_err(|err| interceptor::Error::Other(err.to_string()))?;
        let interceptor = RembInterceptor::new(generator);
        self.handle
            .attach(Arc::clone(&interceptor.shared.generator));
        Ok(Arc::new(interceptor))
    }
}

struct Shared {
    generator: Arc<Mutex<RembGenerator>>,
    /// Rung when the reader queued a REMB; the task writes it.
    wake: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, RembGenerator> {
        // The lock is never held across an await or a call that can panic on network input;
        // a poisoned lock still holds consistent counters.
        self.generator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Receive-side estimation and REMB generation in a 0.17 interceptor chain. See the module
/// docs and [`RembGenerator`].
pub struct RembInterceptor {
    shared: Arc<Shared>,
    task: TaskSlot,
}

impl RembInterceptor {
    /// An interceptor around `generator`.
    pub fn new(generator: RembGenerator) -> Self {
        Self {
            shared: Arc::new(Shared {
                generator: Arc::new(Mutex::new(generator)),
                wake: Notify::new(),
            }),
            task: TaskSlot::default(),
        }
    }

    /// Writes what the generator queued whenever the reader rings or a deadline passes.
    async fn run(shared: Arc<Shared>, writer: Arc<dyn RTCPWriter + Send + Sync>) {
        let mut batch = Vec::new();
        loop {
            let deadline = shared.lock().poll_timeout();
            task::wait(&shared.wake, deadline).await;
            {
                let mut generator = shared.lock();
                generator.handle_timeout(clock::now());
                while let Some(remb) = generator.poll_remb() {
                    batch.push(remb);
                }
            }
            for remb in batch.drain(..) {
                let packets: [Box<dyn webrtc::rtcp::packet::Packet + Send + Sync>; 1] =
                    [Box::new(remb)];
                if let Err(err) = writer.write(&packets, &Attributes::new()).await {
                    tracing::debug!(target: "bwe::remb", %err, "REMB not written");
                    shared.lock().on_write_error();
                }
            }
        }
    }
}

#[async_trait]
impl Interceptor for RembInterceptor {
    async fn bind_rtcp_reader(
        &self,
        reader: Arc<dyn RTCPReader + Send + Sync>,
    ) -> Arc<dyn RTCPReader + Send + Sync> {
        reader
    }

    async fn bind_rtcp_writer(
        &self,
        writer: Arc<dyn RTCPWriter + Send + Sync>,
    ) -> Arc<dyn RTCPWriter + Send + Sync> {
        self.task.replace(tokio::spawn(Self::run(
            Arc::clone(&self.shared),
            Arc::clone(&writer),
        )));
        writer
    }

    async fn bind_local_stream(
        &self,
        info: &StreamInfo,
        writer: Arc<dyn RTPWriter + Send + Sync>,
    ) -> Arc<dyn RTPWriter + Send + Sync> {
        self.shared.lock().bind_local_stream(info);
        writer
    }

    async fn unbind_local_stream(&self, info: &StreamInfo) {
        self.shared.lock().unbind_local_stream(info);
    }

    async fn bind_remote_stream(
        &self,
        info: &StreamInfo,
        reader: Arc<dyn RTPReader + Send + Sync>,
    ) -> Arc<dyn RTPReader + Send + Sync> {
        self.shared.lock().bind_remote_stream(info);
        Arc::new(RembRtpReader {
            shared: Arc::clone(&self.shared),
            parent: reader,
        })
    }

    async fn unbind_remote_stream(&self, info: &StreamInfo) {
        self.shared.lock().unbind_remote_stream(info);
    }

    async fn close(&self) -> Result<(), interceptor::Error> {
        self.task.abort();
        Ok(())
    }
}

/// Looks at each inbound RTP packet on its way to the application.
struct RembRtpReader {
    shared: Arc<Shared>,
    parent: Arc<dyn RTPReader + Send + Sync>,
}

#[async_trait]
impl RTPReader for RembRtpReader {
    async fn read(
        &self,
        buf: &mut [u8],
        attributes: &Attributes,
    ) -> Result<(RtpPacket, Attributes), interceptor::Error> {
        let read = self.parent.read(buf, attributes).await;
        let now = clock::now();
        let queued = {
            let mut generator = self.shared.lock();
            match &read {
                Ok((packet, _)) => generator.on_rtp(now, packet),
                Err(_) => generator.on_read_error(),
            }
            generator.has_queued_remb()
        };
        if queued {
            self.shared.wake.notify_one();
        }
        read
    }
}
