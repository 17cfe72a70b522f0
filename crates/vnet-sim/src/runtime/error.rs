//! [`SimError`]: why a simulation cannot be built, changed or run.

use thiserror::Error;

use crate::config::{ConfigError, LinkError};
use crate::runtime::network::HostId;
use crate::time::{SimDuration, SimTime};

/// A simulation that cannot be built, a change it cannot make, or a run that cannot finish.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum SimError {
    /// No seed was given. Nothing in a simulation is seeded from the OS, so one is required.
    #[error("a simulation needs a seed (SimBuilder::seed); nothing is seeded from the OS")]
    MissingSeed,
    /// Two hosts share a name. Names key each link's random streams, so they must be unique.
    #[error("two hosts are named {name:?}; names key each link's random streams")]
    DuplicateHost {
        /// The name given twice.
        name: String,
    },
    /// A host id from another simulation (or a builder that was not built).
    #[error("{host} is not a host of this simulation")]
    UnknownHost {
        /// The id given.
        host: HostId,
    },
    /// A link was configured twice in the same direction.
    #[error("the link {from} -> {to} is configured twice")]
    DuplicateLink {
        /// Sending host.
        from: String,
        /// Receiving host.
        to: String,
    },
    /// A static route was configured twice for the same host and destination.
    #[error("the route at {at} for {dst} is configured twice")]
    DuplicateRoute {
        /// The host the route is at.
        at: String,
        /// The destination host.
        dst: String,
    },
    /// A static route whose first hop has no link to take.
    #[error("the route at {at} for {dst} goes via {via}, but there is no link {at} -> {via}")]
    NoFirstHop {
        /// The host the route is at.
        at: String,
        /// The destination host.
        dst: String,
        /// The next hop it names.
        via: String,
    },
    /// A static route for the host it is at: a datagram there has arrived.
    #[error("the route at {host} is for {host} itself")]
    RouteToSelf {
        /// The host.
        host: String,
    },
    /// Following the routes from a host towards a destination reaches a host with neither a
    /// link nor a route to it.
    #[error("the route at {at} for {dst} stops at {stuck}: no link or route from there to {dst}")]
    RouteDeadEnd {
        /// The host the route is at.
        at: String,
        /// The destination host.
        dst: String,
        /// The host where the way ends.
        stuck: String,
    },
    /// Following the routes from a host towards a destination comes back to a host it passed.
    #[error("the route at {at} for {dst} loops: {path}")]
    RoutingLoop {
        /// The host the route is at.
        at: String,
        /// The destination host.
        dst: String,
        /// The hosts passed, ending with the first one met twice (`a -> r -> a`).
        path: String,
    },
    /// A link configuration that does not validate.
    #[error("link {from} -> {to}: {source}")]
    Config {
        /// Sending host.
        from: String,
        /// Receiving host.
        to: String,
        /// What is wrong with it.
        source: ConfigError,
    },
    /// A fault or query for a direction that has no link.
    #[error("there is no link {from} -> {to}")]
    NoLink {
        /// Sending host.
        from: String,
        /// Receiving host.
        to: String,
    },
    /// A change the link cannot apply.
    #[error("link {from} -> {to}: {source}")]
    Link {
        /// Sending host.
        from: String,
        /// Receiving host.
        to: String,
        /// Why.
        source: LinkError,
    },
    /// The process has used up the loopback addresses simulations draw from.
    #[error("no loopback address left for a new host (127.1.0.1 – 127.254.255.254 all taken)")]
    AddressesExhausted,
    /// Tasks kept running without virtual time moving: something wakes itself forever.
    #[error(
        "livelock at {at}: {steps} polls without virtual time advancing (limit {limit}); a task \
         keeps waking without waiting on a timer or a socket"
    )]
    Livelock {
        /// The instant the simulation is stuck at.
        at: SimTime,
        /// Polls and event batches at that instant.
        steps: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The future being run waits, but nothing is runnable and no timer or packet is pending:
    /// nothing can ever wake it.
    #[error("stalled at {at}: the run's future waits, but no task, timer or packet is pending")]
    Stalled {
        /// The instant the simulation stopped at.
        at: SimTime,
    },
    /// The next event lies past the simulation's time limit.
    #[error(
        "time limit: the run reached {at} and its next event is at {next}, past the limit of \
         {limit} of virtual time (SimBuilder::time_limit)"
    )]
    TimeLimit {
        /// The virtual time the run reached.
        at: SimTime,
        /// The next event.
        next: SimTime,
        /// The configured limit.
        limit: SimDuration,
    },
    /// `run` (or `block_on`) was called while a run was in progress on the same simulation.
    #[error("a run is already in progress on this simulation; runs do not nest")]
    AlreadyRunning,
    /// The owning [`crate::Sim`] was dropped.
    #[error("the simulation has been shut down")]
    ShutDown,
    /// A TCP-model flow that cannot run: its configuration, its plan or its ports.
    #[error("TCP flow {id}: {reason}")]
    InvalidTcpFlow {
        /// The flow's id.
        id: u32,
        /// What is wrong.
        reason: String,
    },
}
