//! The sender half of REMB: stamping abs-send-time on outgoing RTP.
//!
//! A receive-side estimator needs each packet's send time, and webrtc-rs 0.17 stamps nothing:
//! its packetizer can write abs-send-time but no track enables it. This interceptor writes the
//! extension on every packet of a local stream that negotiated it, at the instant the packet
//! enters the chain on its way to SRTP — there is no pacer after it in 0.17, so that is the send
//! time to within the transport's own queueing. Streams that did not negotiate abs-send-time
//! pass untouched.
//!
//! The 0.17 writer hands over a shared `&Packet`, so stamping copies the header (the payload is
//! reference-counted and not copied): a small allocation per packet that the 0.17 chain's own
//! interceptors also make.

use std::sync::Arc;

use async_trait::async_trait;
use bwe_core::rtp_ext::AbsSendTime;
use bytes::Bytes;
use interceptor::stream_info::StreamInfo;
use interceptor::{
    Attributes, Interceptor, InterceptorBuilder, RTCPReader, RTCPWriter, RTPReader, RTPWriter,
};
use webrtc::rtp::packet::Packet as RtpPacket;

use crate::clock;
use crate::epoch::Epoch;
use crate::extension_id::{ABS_SEND_TIME_URI, negotiated_id};

/// Builds one [`AbsSendTimeStamper`] per PeerConnection.
#[derive(Debug, Clone, Copy, Default)]
pub struct AbsSendTimeStamperBuilder;

impl InterceptorBuilder for AbsSendTimeStamperBuilder {
    fn build(&self, _id: &str) -> Result<Arc<dyn Interceptor + Send + Sync>, interceptor::Error> {
        Ok(Arc::new(AbsSendTimeStamper::new(Epoch::at(clock::now()))))
    }
}

/// Writes abs-send-time on outgoing RTP. See the module docs.
#[derive(Debug)]
pub struct AbsSendTimeStamper {
    /// One origin for every stream: abs-send-time is one clock per sender.
    epoch: Epoch,
}

impl AbsSendTimeStamper {
    /// A stamper whose send times count from `epoch` (any origin: receivers use differences).
    pub fn new(epoch: Epoch) -> Self {
        Self { epoch }
    }
}

#[async_trait]
impl Interceptor for AbsSendTimeStamper {
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
        writer
    }

    async fn bind_local_stream(
        &self,
        info: &StreamInfo,
        writer: Arc<dyn RTPWriter + Send + Sync>,
    ) -> Arc<dyn RTPWriter + Send + Sync> {
        match negotiated_id(info, ABS_SEND_TIME_URI) {
            Some(id) => Arc::new(StampingWriter {
                id,
                epoch: self.epoch,
                next: writer,
            }),
            None => writer,
        }
    }

    async fn unbind_local_stream(&self, _info: &StreamInfo) {}

    async fn bind_remote_stream(
        &self,
        _info: &StreamInfo,
        reader: Arc<dyn RTPReader + Send + Sync>,
    ) -> Arc<dyn RTPReader + Send + Sync> {
        reader
    }

    async fn unbind_remote_stream(&self, _info: &StreamInfo) {}

    async fn close(&self) -> Result<(), interceptor::Error> {
        Ok(())
    }
}

struct StampingWriter {
    id: u8,
    epoch: Epoch,
    next: Arc<dyn RTPWriter + Send + Sync>,
}

#[async_trait]
impl RTPWriter for StampingWriter {
    async fn write(
        &self,
        packet: &RtpPacket,
        attributes: &Attributes,
    ) -> Result<usize, interceptor::Error> {
        let mut epoch = self.epoch;
        let send_time = AbsSendTime::from_timestamp(epoch.timestamp(clock::now()));
        let mut stamped = packet.clone();
        let payload = Bytes::copy_from_slice(&send_time.to_bytes());
        match stamped.header.set_extension(self.id, payload) {
            Ok(()) => self.next.write(&stamped, attributes).await,
            // The packet already carries an extension form the id cannot join (a two-byte id
            // in a one-byte header): it goes out unstamped rather than not at all.
            Err(err) => {
                tracing::debug!(target: "bwe::remb", %err, "abs-send-time not stamped");
                self.next.write(packet, attributes).await
            }
        }
    }
}
