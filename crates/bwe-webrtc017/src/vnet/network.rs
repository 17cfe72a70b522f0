//! A one-router virtual network with a fixed latency.
//!
//! webrtc-util 0.17's router delays every packet by `min_delay` plus a random jitter of up to
//! `max_jitter`; hosts on the same router reach each other through it once, so `min_delay` is
//! the one-way latency. Hosts get consecutive static addresses in `10.0.0.0/24` (from .2).
//!
//! Two properties of the 0.17 router to know before reading figures off it: its delay is
//! measured on `SystemTime` (wall clock) while it sleeps on tokio's clock, so it does not
//! follow `tokio::time::pause()`; and its jitter comes from `rand::random`, which is seeded from
//! the OS, so jitter is not reproducible (the default here is no jitter).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use webrtc_util::vnet::net::{Net, NetConfig};
use webrtc_util::vnet::router::{Nic, Router, RouterConfig};

use super::error::VnetError;

/// Settings for a [`VirtualNetwork`].
#[derive(Debug, Clone)]
pub struct VnetConfig {
    /// One-way latency between any two hosts (default 50 ms).
    pub latency: Duration,
    /// Random extra delay up to this much (default none: 0.17's jitter is OS-seeded).
    pub jitter: Duration,
}

impl Default for VnetConfig {
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(50),
            jitter: Duration::ZERO,
        }
    }
}

/// A started router and the hosts attached to it.
pub struct VirtualNetwork {
    router: Arc<Mutex<Router>>,
    hosts: usize,
    /// The router holds its hosts weakly: wrappers live here, plain hosts in their `Net`.
    wrappers: Vec<Arc<Mutex<dyn Nic + Send + Sync>>>,
}

impl VirtualNetwork {
    /// A started router with `config`'s latency. Needs a tokio runtime (the router is a task).
    pub async fn new(config: VnetConfig) -> Result<Self, VnetError> {
        let router = Arc::new(Mutex::new(Router::new(RouterConfig {
            cidr: "10.0.0.0/24".to_owned(),
            min_delay: config.latency,
            max_jitter: config.jitter,
            ..RouterConfig::default()
        })?));
        router.lock().await.start().await?;
        Ok(Self {
            router,
            hosts: 0,
            wrappers: Vec::new(),
        })
    }

    /// A new host on the router: the `Net` to give [`super::new_vnet_peer_connection`].
    pub async fn add_net(&mut self) -> Result<Arc<Net>, VnetError> {
        let net = self.new_net()?;
        let nic = net.get_nic()?;
        self.attach(nic).await?;
        Ok(net)
    }

    /// A new host whose inbound traffic passes through `wrap` (a rate limit, say) before it
    /// reaches the host. The wrapper is what the router delivers to; it must forward to the
    /// `Nic` it is given.
    pub async fn add_net_wrapped<W>(
        &mut self,
        wrap: impl FnOnce(Arc<Mutex<dyn Nic + Send + Sync>>) -> W,
    ) -> Result<Arc<Net>, VnetError>
    where
        W: Nic + Send + Sync + 'static,
    {
        let net = self.new_net()?;
        let inner = net.get_nic()?;
        let wrapped: Arc<Mutex<dyn Nic + Send + Sync>> =
            Arc::new(Mutex::new(wrap(Arc::clone(&inner))));
        self.router
            .lock()
            .await
            .add_net(Arc::clone(&wrapped))
            .await?;
        inner
            .lock()
            .await
            .set_router(Arc::clone(&self.router))
            .await?;
        self.wrappers.push(wrapped);
        Ok(net)
    }

    /// The router, for chunk filters and the like.
    pub fn router(&self) -> Arc<Mutex<Router>> {
        Arc::clone(&self.router)
    }

    /// Stops the router's task; packets in flight are dropped.
    pub async fn stop(&self) -> Result<(), VnetError> {
        self.router.lock().await.stop().await?;
        Ok(())
    }

    fn new_net(&mut self) -> Result<Arc<Net>, VnetError> {
        let host = self.hosts + 2;
        if host > 254 {
            return Err(VnetError::AddressesExhausted(self.hosts + 1));
        }
        self.hosts += 1;
        Ok(Arc::new(Net::new(Some(NetConfig {
            static_ips: vec![format!("10.0.0.{host}")],
            ..NetConfig::default()
        }))))
    }

    async fn attach(&self, nic: Arc<Mutex<dyn Nic + Send + Sync>>) -> Result<(), VnetError> {
        self.router.lock().await.add_net(Arc::clone(&nic)).await?;
        nic.lock()
            .await
            .set_router(Arc::clone(&self.router))
            .await?;
        Ok(())
    }
}
