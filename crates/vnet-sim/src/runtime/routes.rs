//! Checking a simulation's static routes before it runs.
//!
//! A route says "a datagram at host `at` addressed to host `dst` goes next over the link
//! `at → via`"; the network follows it on every hop (see [`crate::runtime::network`]). The
//! builder checks the whole table up front, so a mistake is a [`SimError`] naming the route
//! rather than datagrams silently counted as unroutable or circling until the run's hop limit
//! drops them: every route's first hop must be a link, and following the routes from `at`
//! (direct links first, as the network does) must reach `dst` without passing a host twice.
//! Walking each route is at most one step per host, so the check is quadratic in the hosts at
//! worst, which is nothing next to building a peer.

use std::collections::{HashMap, HashSet};

use crate::runtime::{HostId, SimError};

/// A static route: at host `at`, datagrams for `dst` go to `via`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) at: HostId,
    pub(crate) dst: HostId,
    pub(crate) via: HostId,
}

/// Checks `routes` against the hosts (`names`, indexed by [`HostId`]) and the directed `links`.
pub(crate) fn check(
    names: &[String],
    links: &[(HostId, HostId)],
    routes: &[Route],
) -> Result<(), SimError> {
    let name = |h: HostId| {
        names
            .get(h.0)
            .cloned()
            .ok_or(SimError::UnknownHost { host: h })
    };
    let links: HashSet<(HostId, HostId)> = links.iter().copied().collect();
    let mut table: HashMap<(HostId, HostId), HostId> = HashMap::new();
    for r in routes {
        let (at, dst, via) = (name(r.at)?, name(r.dst)?, name(r.via)?);
        if r.at == r.dst {
            return Err(SimError::RouteToSelf { host: at });
        }
        if table.insert((r.at, r.dst), r.via).is_some() {
            return Err(SimError::DuplicateRoute { at, dst });
        }
        if !links.contains(&(r.at, r.via)) {
            return Err(SimError::NoFirstHop { at, dst, via });
        }
    }
    // Routes are walked in the order they were given, so the error reported is the first
    // route's, whatever the hash map's order.
    for r in routes {
        let mut path = vec![r.at];
        let mut here = r.at;
        while here != r.dst {
            let next = if links.contains(&(here, r.dst)) {
                r.dst
            } else if let Some(&via) = table.get(&(here, r.dst)) {
                via
            } else {
                return Err(SimError::RouteDeadEnd {
                    at: name(r.at)?,
                    dst: name(r.dst)?,
                    stuck: name(here)?,
                });
            };
            let looped = path.contains(&next);
            path.push(next);
            if looped {
                let hops: Result<Vec<String>, SimError> = path.iter().map(|&h| name(h)).collect();
                return Err(SimError::RoutingLoop {
                    at: name(r.at)?,
                    dst: name(r.dst)?,
                    path: hops?.join(" -> "),
                });
            }
            here = next;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    fn route(at: usize, dst: usize, via: usize) -> Route {
        Route {
            at: HostId(at),
            dst: HostId(dst),
            via: HostId(via),
        }
    }

    fn link(from: usize, to: usize) -> (HostId, HostId) {
        (HostId(from), HostId(to))
    }

    /// The shape RFC 8867 §5.5 needs: senders reach a receiver through a shared router.
    #[test]
    fn routes_through_a_router_that_links_on_are_accepted() {
        let hosts = names(&["a", "b", "r", "d"]);
        let links = [link(0, 2), link(1, 2), link(2, 3)];
        let routes = [route(0, 3, 2), route(1, 3, 2)];
        assert_eq!(check(&hosts, &links, &routes), Ok(()));
    }

    /// A chain of routers is a walk of several routes; each must lead on to the next.
    #[test]
    fn a_chain_of_routes_is_accepted() {
        let hosts = names(&["a", "r1", "r2", "d"]);
        let links = [link(0, 1), link(1, 2), link(2, 3)];
        let routes = [route(0, 3, 1), route(1, 3, 2)];
        assert_eq!(check(&hosts, &links, &routes), Ok(()));
    }

    /// Two hosts pointing at each other would circle datagrams until the hop limit.
    #[test]
    fn a_loop_is_refused_with_its_path() {
        let hosts = names(&["a", "r", "d"]);
        let links = [link(0, 1), link(1, 0)];
        let routes = [route(0, 2, 1), route(1, 2, 0)];
        let err = check(&hosts, &links, &routes).expect_err("loops");
        assert_eq!(
            err,
            SimError::RoutingLoop {
                at: "a".to_owned(),
                dst: "d".to_owned(),
                path: "a -> r -> a".to_owned(),
            }
        );
        assert_eq!(err.to_string(), "the route at a for d loops: a -> r -> a");
    }

    /// A router that has no way on would drop every datagram as unroutable.
    #[test]
    fn a_route_that_stops_short_is_refused_naming_where() {
        let hosts = names(&["a", "r", "d"]);
        let links = [link(0, 1)];
        let routes = [route(0, 2, 1)];
        assert_eq!(
            check(&hosts, &links, &routes),
            Err(SimError::RouteDeadEnd {
                at: "a".to_owned(),
                dst: "d".to_owned(),
                stuck: "r".to_owned(),
            })
        );
    }

    /// A route names a next hop, and that hop must be a link the datagram can enter.
    #[test]
    fn a_route_without_its_first_link_is_refused() {
        let hosts = names(&["a", "r", "d"]);
        let links = [link(1, 2)];
        let err = check(&hosts, &links, &[route(0, 2, 1)]).expect_err("no a -> r");
        assert_eq!(
            err.to_string(),
            "the route at a for d goes via r, but there is no link a -> r"
        );
    }

    /// Two routes for one pair would leave it to configuration order which one wins.
    #[test]
    fn a_duplicate_route_and_a_route_to_itself_are_refused() {
        let hosts = names(&["a", "r", "d"]);
        let links = [link(0, 1), link(1, 2), link(0, 2)];
        assert_eq!(
            check(&hosts, &links, &[route(0, 2, 1), route(0, 2, 2)]),
            Err(SimError::DuplicateRoute {
                at: "a".to_owned(),
                dst: "d".to_owned(),
            })
        );
        assert_eq!(
            check(&hosts, &links, &[route(1, 1, 2)]),
            Err(SimError::RouteToSelf {
                host: "r".to_owned()
            })
        );
    }

    /// A host id from elsewhere must be an error, not an index out of bounds.
    #[test]
    fn a_route_through_an_unknown_host_is_refused() {
        let hosts = names(&["a", "d"]);
        let links = [link(0, 1)];
        assert_eq!(
            check(&hosts, &links, &[route(0, 1, 7)]),
            Err(SimError::UnknownHost { host: HostId(7) })
        );
    }
}
