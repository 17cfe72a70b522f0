//! [`Sim`] and [`SimBuilder`]: a topology of hosts joined by directed links, with one seed.
//!
//! ```no_run
//! use vnet_sim::{LinkConfig, Sim, SimDuration};
//!
//! let mut builder = Sim::builder().seed(7);
//! let alice = builder.host("alice");
//! let bob = builder.host("bob");
//! builder.path(alice, bob, LinkConfig::wired());
//! let sim = builder.build().expect("valid topology");
//! sim.run(async {
//!     sim.sleep_for(SimDuration::from_secs(1)).await;
//!     sim.blackout(alice, bob, SimDuration::from_millis(500)).expect("the link exists");
//! })
//! .expect("runs");
//! ```
//!
//! Each link draws its randomness from a seed derived from the simulation's seed and the names of
//! its two hosts (`"link/alice->bob"`), so adding a host or a link elsewhere does not change any
//! other link's numbers.
//!
//! Hosts without a link between them reach each other through static routes
//! ([`SimBuilder::route`]): several senders with access links of their own sharing one
//! bottleneck behind a router, as in RFC 8867 §5.5.

use std::ops::Deref;
use std::sync::Arc;

use crate::config::LinkConfig;
use crate::runtime::address;
use crate::runtime::network::{Network, sim_link};
use crate::runtime::routes::{self, Route};
use crate::runtime::state::{Inner, Limits};
use crate::runtime::{HostId, SimError, SimRuntime};
use crate::seed::derive_seed;
use crate::time::SimDuration;

/// Default livelock guard: polls at one instant of virtual time.
pub const DEFAULT_MAX_STEPS_PER_INSTANT: u64 = 1_000_000;

/// Default time limit: one virtual hour.
pub const DEFAULT_TIME_LIMIT: SimDuration = SimDuration::from_secs(3600);

/// The description of a simulation: seed, hosts, links, guards.
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until built"]
pub struct SimBuilder {
    seed: Option<u64>,
    hosts: Vec<String>,
    links: Vec<(HostId, HostId, LinkConfig)>,
    routes: Vec<Route>,
    limits: Limits,
    capture: bool,
}

impl Default for SimBuilder {
    fn default() -> Self {
        Self {
            seed: None,
            hosts: Vec::new(),
            links: Vec::new(),
            routes: Vec::new(),
            limits: Limits {
                max_steps_per_instant: DEFAULT_MAX_STEPS_PER_INSTANT,
                time_limit: DEFAULT_TIME_LIMIT,
            },
            capture: false,
        }
    }
}

impl SimBuilder {
    /// The seed every random stream of the simulation derives from. Required.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Polls allowed at one instant of virtual time before a run fails as a livelock
    /// (default [`DEFAULT_MAX_STEPS_PER_INSTANT`]).
    pub fn max_steps_per_instant(mut self, steps: u64) -> Self {
        self.limits.max_steps_per_instant = steps;
        self
    }

    /// Virtual time past which a run fails (default [`DEFAULT_TIME_LIMIT`]), so a scenario that
    /// waits forever on a live connection ends instead of spinning through virtual years.
    pub fn time_limit(mut self, limit: SimDuration) -> Self {
        self.limits.time_limit = limit;
        self
    }

    /// Captures every datagram entering every link to a pcap file per link (default off), with
    /// virtual-time stamps; [`SimRuntime::take_link_captures`] takes the files. The capture
    /// sits at each link's entrance, so it sees what tcpdump on the sending interface would,
    /// datagrams the link later drops included (see [`crate::capture`]). It keeps every
    /// datagram in memory until taken: about the bytes the links carried, once per link a
    /// datagram crosses.
    pub fn capture(mut self, on: bool) -> Self {
        self.capture = on;
        self
    }

    /// Adds a host named `name` (names must be unique; [`build`](Self::build) checks).
    pub fn host(&mut self, name: impl Into<String>) -> HostId {
        self.hosts.push(name.into());
        HostId(self.hosts.len() - 1)
    }

    /// Adds the link `from → to`. Directions are independent: configure `to → from` too, or
    /// use [`path`](Self::path).
    pub fn link(&mut self, from: HostId, to: HostId, config: LinkConfig) -> &mut Self {
        self.links.push((from, to, config));
        self
    }

    /// Adds `a → b` and `b → a`, both with `config`.
    pub fn path(&mut self, a: HostId, b: HostId, config: LinkConfig) -> &mut Self {
        self.links.push((a, b, config.clone()));
        self.links.push((b, a, config));
        self
    }

    /// Adds a static route: a datagram at host `at` addressed to host `dst` goes next over the
    /// link `at → via`. This holds for datagrams sent at `at` and for datagrams a link delivers
    /// to `at` on their way to `dst`; they are handed on at the instant they arrive. A direct
    /// link `at → dst`, if configured, takes precedence and the route is unused.
    ///
    /// Routes are one direction: a reply from `dst` needs routes (or links) of its own.
    /// [`build`](Self::build) refuses unknown hosts, a route given twice or to its own host, a
    /// missing link `at → via`, and routes that do not lead to `dst` (a dead end or a loop).
    ///
    /// ```no_run
    /// use vnet_sim::{LinkConfig, Rate, Sim};
    ///
    /// let mut builder = Sim::builder().seed(7);
    /// let (a, r, d) = (builder.host("a"), builder.host("router"), builder.host("d"));
    /// builder.path(a, r, LinkConfig::wired());
    /// builder.path(r, d, LinkConfig { capacity: Rate::from_kbps(4_000).into(), ..LinkConfig::wired() });
    /// builder.route(a, d, r).route(d, a, r);
    /// let sim = builder.build().expect("valid topology");
    /// ```
    pub fn route(&mut self, at: HostId, dst: HostId, via: HostId) -> &mut Self {
        self.routes.push(Route { at, dst, via });
        self
    }

    /// Builds the simulation: allocates each host a loopback address, builds each link and
    /// checks the routes.
    pub fn build(self) -> Result<Sim, SimError> {
        let seed = self.seed.ok_or(SimError::MissingSeed)?;
        let mut network = Network::default();
        for (i, name) in self.hosts.iter().enumerate() {
            if self.hosts[..i].contains(name) {
                return Err(SimError::DuplicateHost { name: name.clone() });
            }
            network.add_host(name.clone(), address::allocate()?);
        }
        let name = |h: HostId| {
            self.hosts
                .get(h.0)
                .cloned()
                .ok_or(SimError::UnknownHost { host: h })
        };
        for (i, (from, to, config)) in self.links.iter().enumerate() {
            let (from_name, to_name) = (name(*from)?, name(*to)?);
            if self.links[..i].iter().any(|(f, t, _)| (f, t) == (from, to)) {
                return Err(SimError::DuplicateLink {
                    from: from_name,
                    to: to_name,
                });
            }
            let link_seed = derive_seed(seed, &format!("link/{from_name}->{to_name}"));
            let link =
                sim_link(config, link_seed, self.capture).map_err(|source| SimError::Config {
                    from: from_name,
                    to: to_name,
                    source,
                })?;
            network.add_link(*from, *to, link);
        }
        let pairs: Vec<(HostId, HostId)> = self.links.iter().map(|(f, t, _)| (*f, *t)).collect();
        routes::check(&self.hosts, &pairs, &self.routes)?;
        for r in &self.routes {
            network.add_route(r.at, r.dst, r.via);
        }
        let inner = Arc::new(Inner::new(network, seed, self.limits));
        Ok(Sim {
            runtime: Arc::new(SimRuntime { inner }),
        })
    }
}

/// A simulation: its runtime, hosts and links. Owns them: dropping the `Sim` drops every task
/// still running on it (peer-connection drivers included) and every packet in flight.
///
/// Dereferences to its [`SimRuntime`], where running, time, faults and statistics live.
#[derive(Debug)]
pub struct Sim {
    runtime: Arc<SimRuntime>,
}

impl Sim {
    /// A builder for a simulation.
    pub fn builder() -> SimBuilder {
        SimBuilder::default()
    }

    /// The runtime, to hand to webrtc (`PeerConnectionBuilder::with_runtime`) or to tasks.
    pub fn runtime(&self) -> Arc<SimRuntime> {
        Arc::clone(&self.runtime)
    }
}

impl Deref for Sim {
    type Target = SimRuntime;

    fn deref(&self) -> &SimRuntime {
        &self.runtime
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Tasks hold the runtime (webrtc keeps an `Arc<dyn Runtime>` in every connection), so
        // without this the runtime and its tasks would keep each other alive forever.
        self.runtime.shut_down();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    /// Nothing may be seeded from the OS, so a missing seed is an error, not a default.
    #[test]
    fn a_simulation_without_a_seed_is_refused() {
        assert_eq!(Sim::builder().build().err(), Some(SimError::MissingSeed));
    }

    /// Names key the link seeds; a duplicate would make two links share streams.
    #[test]
    fn duplicate_hosts_and_links_are_refused_by_name() {
        let mut b = Sim::builder().seed(1);
        b.host("x");
        b.host("x");
        assert_eq!(
            b.build().err(),
            Some(SimError::DuplicateHost {
                name: "x".to_owned()
            })
        );
        let mut b = Sim::builder().seed(1);
        let (x, y) = (b.host("x"), b.host("y"));
        b.link(x, y, LinkConfig::default());
        b.path(x, y, LinkConfig::default());
        assert_eq!(
            b.build().err(),
            Some(SimError::DuplicateLink {
                from: "x".to_owned(),
                to: "y".to_owned()
            })
        );
    }

    /// A bad link configuration must be refused at build time, naming the link and the value.
    #[test]
    fn an_invalid_link_is_refused_with_its_direction() {
        let mut b = Sim::builder().seed(1);
        let (x, y) = (b.host("x"), b.host("y"));
        b.link(
            x,
            y,
            LinkConfig {
                duplicate: 2.0,
                ..LinkConfig::default()
            },
        );
        let err = b.build().expect_err("invalid");
        assert!(matches!(
            &err,
            SimError::Config { from, to, source: ConfigError::Probability { .. } }
                if from == "x" && to == "y"
        ));
        assert_eq!(
            err.to_string(),
            "link x -> y: duplication probability must be in [0, 1], got 2"
        );
    }

    /// A host id from another builder must be an error, not an index out of bounds.
    #[test]
    fn a_host_of_another_simulation_is_an_error() {
        let mut other = Sim::builder().seed(1);
        other.host("p");
        let stranger = other.host("q");
        let mut b = Sim::builder().seed(1);
        let x = b.host("x");
        b.link(x, stranger, LinkConfig::default());
        assert_eq!(
            b.build().err(),
            Some(SimError::UnknownHost { host: stranger })
        );
        let sim = Sim::builder().seed(1).build().expect("valid");
        assert_eq!(
            sim.host_ip(stranger),
            Err(SimError::UnknownHost { host: stranger })
        );
    }

    /// Hosts of one simulation must get distinct loopback addresses.
    #[test]
    fn hosts_get_distinct_loopback_addresses() {
        let mut b = Sim::builder().seed(1);
        let (x, y) = (b.host("x"), b.host("y"));
        let sim = b.build().expect("valid");
        let (ix, iy) = (sim.host_ip(x).expect("x"), sim.host_ip(y).expect("y"));
        assert_ne!(ix, iy);
        assert!(ix.is_loopback() && iy.is_loopback());
    }
}
