//! The send side as a webrtc-rs 0.17 interceptor: the glue between 0.17's async readers and
//! writers and the tokio-free [`SendSideCore`].
//!
//! - **Local streams**: the writer returned by `bind_local_stream` hands each packet to the
//!   pacer and returns at once (the packet's size, as a transport write would); the task writes
//!   it to the stream's next writer when the pacer releases it. A packet the pacer refuses (its
//!   queue is full, or a resend its retransmission rules refuse) is dropped and counted, as a
//!   full socket buffer would drop it.
//! - **RTCP in**: the reader returned by `bind_rtcp_reader` gives the core each compound packet
//!   before the interceptors further up see it. 0.17 pulls RTCP through the chain only while
//!   the application reads it (`RTCRtpSender::read_rtcp` in a loop, which 0.17's NACK responder
//!   needs as well): without that loop no feedback reaches the estimator.
//! - **The task**, started with the first local stream, sleeps until the core's next deadline
//!   (the next packet due, a probe, a timer) or until a packet or feedback arrives, and writes
//!   what the core released, in order.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use bwe_core::controller::ControllerConfig;
use interceptor::stream_info::StreamInfo;
use interceptor::{
    Attributes, Interceptor, InterceptorBuilder, RTCPReader, RTCPWriter, RTPReader, RTPWriter,
};
use tokio::sync::Notify;
use webrtc::rtp::packet::Packet as RtpPacket;

use super::core::{Pending, SendSideCore};
use super::handle::SendSideHandle;
use super::stream::wire_size;
use crate::clock;
use crate::task::{self, TaskSlot};

/// Where a released packet goes: the next writer of its stream.
pub(crate) type Sink = Arc<dyn RTPWriter + Send + Sync>;

/// Builds one [`SendSideInterceptor`] per PeerConnection; all publish to one
/// [`SendSideHandle`] (which reads the most recently built).
#[derive(Debug, Clone)]
pub struct SendSideInterceptorBuilder {
    config: ControllerConfig,
    handle: SendSideHandle,
}

impl SendSideInterceptorBuilder {
    /// A builder for `config` (bwe-core's estimator and pacer settings).
    pub fn new(config: ControllerConfig) -> Self {
        Self {
            config,
            handle: SendSideHandle::new(),
        }
    }

    /// The handle the built interceptors publish to.
    pub fn handle(&self) -> SendSideHandle {
        self.handle.clone()
    }
}

impl Default for SendSideInterceptorBuilder {
    fn default() -> Self {
        Self::new(ControllerConfig::default())
    }
}

impl InterceptorBuilder for SendSideInterceptorBuilder {
    fn build(&self, _id: &str) -> Result<Arc<dyn Interceptor + Send + Sync>, interceptor::Error> {
        let interceptor = SendSideInterceptor::new(self.config.clone());
        self.handle.attach(Arc::clone(&interceptor.shared));
        Ok(Arc::new(interceptor))
    }
}

pub(crate) struct Shared {
    core: Mutex<SendSideCore<Sink>>,
    /// Rung when a packet was queued or feedback read: the task looks again.
    wake: Notify,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SendSideCore<Sink>> {
        // Never held across an await; a poisoned lock still holds consistent state.
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Send-side bandwidth estimation over transport-wide feedback, with a pacer that probes, in a
/// 0.17 interceptor chain. See the module docs and [`crate::send_side`].
pub struct SendSideInterceptor {
    shared: Arc<Shared>,
    task: TaskSlot,
}

impl SendSideInterceptor {
    /// An interceptor with `config`.
    pub fn new(config: ControllerConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                core: Mutex::new(SendSideCore::new(config, clock::now())),
                wake: Notify::new(),
            }),
            task: TaskSlot::default(),
        }
    }

    async fn run(shared: Arc<Shared>) {
        let mut batch = Vec::new();
        loop {
            let deadline = shared.lock().poll_timeout();
            task::wait(&shared.wake, deadline).await;
            shared.lock().process(clock::now(), &mut batch);
            for Pending {
                packet,
                attributes,
                sink,
            } in batch.drain(..)
            {
                if let Err(err) = sink.write(&packet, &attributes).await {
                    tracing::debug!(target: "bwe::send_side", %err, "paced packet not written");
                }
            }
        }
    }
}

#[async_trait]
impl Interceptor for SendSideInterceptor {
    async fn bind_rtcp_reader(
        &self,
        reader: Arc<dyn RTCPReader + Send + Sync>,
    ) -> Arc<dyn RTCPReader + Send + Sync> {
        Arc::new(FeedbackReader {
            shared: Arc::clone(&self.shared),
            parent: reader,
        })
    }

    async fn bind_rtcp_writer(
        &self,
        writer: Arc<dyn RTCPWriter + Send + Sync>,
    ) -> Arc<dyn RTCPWriter + Send + Sync> {
        writer
    }

    async fn bind_local_stream(
        &self,
        info: &StreamInfo,
        writer: Arc<dyn RTPWriter + Send + Sync>,
    ) -> Arc<dyn RTPWriter + Send + Sync> {
        self.shared.lock().bind_stream(info, writer);
        self.task
            .start_once(|| tokio::spawn(Self::run(Arc::clone(&self.shared))));
        Arc::new(PacedWriter {
            shared: Arc::clone(&self.shared),
        })
    }

    async fn unbind_local_stream(&self, info: &StreamInfo) {
        self.shared.lock().unbind_stream(info.ssrc);
    }

    async fn bind_remote_stream(
        &self,
        _info: &StreamInfo,
        reader: Arc<dyn RTPReader + Send + Sync>,
    ) -> Arc<dyn RTPReader + Send + Sync> {
        reader
    }

    async fn unbind_remote_stream(&self, _info: &StreamInfo) {}

    async fn close(&self) -> Result<(), interceptor::Error> {
        self.task.abort();
        Ok(())
    }
}

/// A local stream's writer: into the pacer.
struct PacedWriter {
    shared: Arc<Shared>,
}

#[async_trait]
impl RTPWriter for PacedWriter {
    async fn write(
        &self,
        packet: &RtpPacket,
        attributes: &Attributes,
    ) -> Result<usize, interceptor::Error> {
        let size = wire_size(packet);
        self.shared
            .lock()
            .enqueue(clock::now(), packet.clone(), attributes.clone());
        self.shared.wake.notify_one();
        Ok(size)
    }
}

/// Inbound RTCP, on its way to the interceptors further up and the application.
struct FeedbackReader {
    shared: Arc<Shared>,
    parent: Arc<dyn RTCPReader + Send + Sync>,
}

#[async_trait]
impl RTCPReader for FeedbackReader {
    async fn read(
        &self,
        buf: &mut [u8],
        attributes: &Attributes,
    ) -> Result<
        (
            Vec<Box<dyn webrtc::rtcp::packet::Packet + Send + Sync>>,
            Attributes,
        ),
        interceptor::Error,
    > {
        let (mut packets, attributes) = self.parent.read(buf, attributes).await?;
        self.shared.lock().on_rtcp(clock::now(), &mut packets);
        self.shared.wake.notify_one();
        Ok((packets, attributes))
    }
}
