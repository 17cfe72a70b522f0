//! [`PeerBuilder`]: a real webrtc PeerConnection on a simulated host.
//!
//! The builder does what every simulated peer needs, so a test states only what is particular
//! to it (a media engine, an interceptor registry, its own event handler):
//! - binds the host's loopback address (port 0: the OS picks one, see `runtime::address`);
//! - runs the connection on the simulation's runtime;
//! - disables mDNS, which would otherwise bind the real port 5353 and talk to the LAN;
//! - injects a crypto provider whose randomness is seeded, and a certificate whose handshake
//!   sizes never vary (see [`crate::peer::crypto`]), both derived from the simulation seed, the
//!   host's name and the peer's index on that host.

use std::net::SocketAddr;
use std::sync::Arc;

use rtc::ice::mdns::MulticastDnsMode;
use webrtc::peer_connection::{
    MediaEngine, PeerConnectionBuilder, PeerConnectionEventHandler, RTCCertificate,
    RTCConfigurationBuilder, Registry, SettingEngineBuilder,
};
use webrtc::runtime::Runtime;

use crate::peer::crypto::{SeededCryptoProvider, seeded_certificate};
use crate::peer::error::PeerError;
use crate::peer::events::PeerEvents;
use crate::peer::sim_peer::SimPeer;
use crate::runtime::{HostId, SimRuntime};
use crate::seed::derive_seed;
use crate::sim::Sim;

/// How to build a [`SimPeer`]. From [`Sim::peer`] or [`PeerBuilder::new`].
#[must_use = "a builder does nothing until built"]
pub struct PeerBuilder {
    runtime: Arc<SimRuntime>,
    host: HostId,
    port: u16,
    media_engine: Option<MediaEngine>,
    registry: Option<Registry>,
    handler: Option<Arc<dyn PeerConnectionEventHandler>>,
    setting_engine: Option<SettingEngineBuilder>,
    certificate: Option<RTCCertificate>,
}

impl std::fmt::Debug for PeerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("media_engine", &self.media_engine.is_some())
            .field("registry", &self.registry.is_some())
            .field("handler", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// Starts building a peer on `host`.
    pub fn peer(&self, host: HostId) -> PeerBuilder {
        PeerBuilder::new(self.runtime(), host)
    }
}

impl PeerBuilder {
    /// A peer on `host` of the simulation `runtime` belongs to.
    pub fn new(runtime: Arc<SimRuntime>, host: HostId) -> Self {
        Self {
            runtime,
            host,
            port: 0,
            media_engine: None,
            registry: None,
            handler: None,
            setting_engine: None,
            certificate: None,
        }
    }

    /// The UDP port to bind (default 0: any free port). A fixed port fails to bind if another
    /// process holds it.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The media engine (default: webrtc's default codecs).
    pub fn media_engine(mut self, media_engine: MediaEngine) -> Self {
        self.media_engine = Some(media_engine);
        self
    }

    /// The interceptor registry (default: none). Requires the media engine it was configured
    /// with.
    pub fn interceptor_registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// An event handler that receives every event after the peer's own recorder has seen it.
    pub fn handler(mut self, handler: Arc<dyn PeerConnectionEventHandler>) -> Self {
        self.handler = Some(handler);
        self
    }

    /// Starting settings; mDNS and the crypto provider are set on top of them.
    pub fn setting_engine(mut self, setting_engine: SettingEngineBuilder) -> Self {
        self.setting_engine = Some(setting_engine);
        self
    }

    /// The DTLS certificate (default: [`seeded_certificate`], whose handshake sizes never
    /// vary).
    pub fn certificate(mut self, certificate: RTCCertificate) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// Builds the connection. Must be awaited inside a run of the simulation
    /// ([`SimRuntime::run`]): webrtc spawns the connection's driver and waits for it to bind.
    pub async fn build(self) -> Result<SimPeer, PeerError> {
        let runtime = self.runtime;
        let ip = runtime.host_ip(self.host)?;
        let host_name = runtime.host_name(self.host)?;
        let index = runtime.next_peer_index(self.host);
        let name = format!("{host_name}#{index}");
        if self.registry.is_some() && self.media_engine.is_none() {
            return Err(PeerError::RegistryWithoutMediaEngine { peer: name });
        }
        let seed = derive_seed(runtime.seed(), &format!("peer/{host_name}/{index}"));
        let crypto_error = |message: String| PeerError::Crypto {
            peer: name.clone(),
            message,
        };
        let provider =
            Arc::new(SeededCryptoProvider::new(seed).map_err(|e| crypto_error(e.to_string()))?);
        let certificate = match self.certificate {
            Some(certificate) => certificate,
            None => seeded_certificate(provider.as_ref(), seed).map_err(crypto_error)?,
        };
        let media_engine = match self.media_engine {
            Some(media_engine) => media_engine,
            None => {
                let mut media_engine = MediaEngine::default();
                media_engine
                    .register_default_codecs()
                    .map_err(|e| PeerError::webrtc(&name, "registering default codecs", e))?;
                media_engine
            }
        };
        let setting_engine = self
            .setting_engine
            .unwrap_or_default()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_crypto_provider(provider)
            .build();
        let events = Arc::new(PeerEvents::new(self.handler));
        let mut builder = PeerConnectionBuilder::new()
            .with_configuration(
                RTCConfigurationBuilder::new()
                    .with_certificates(vec![certificate])
                    .build(),
            )
            .with_media_engine(media_engine)
            .with_setting_engine(setting_engine)
            .with_runtime(Arc::clone(&runtime) as Arc<dyn Runtime>)
            .with_handler(Arc::clone(&events) as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(vec![SocketAddr::new(ip.into(), self.port)]);
        if let Some(registry) = self.registry {
            builder = builder.with_interceptor_registry(registry);
        }
        let pc = builder
            .build()
            .await
            .map_err(|e| PeerError::webrtc(&name, "building the peer connection", e))?;
        Ok(SimPeer::new(Arc::new(pc), events, runtime, self.host, name))
    }
}
