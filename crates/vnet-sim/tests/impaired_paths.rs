//! Real PeerConnections over impaired simulated paths: delay, loss, partitions.
#![cfg(feature = "webrtc")]

use vnet_sim::peer::{PeerError, SimPeer, connect};
use vnet_sim::{LinkConfig, LossModel, Sim, SimDuration, SimTime};
use webrtc::peer_connection::{MediaEngine, RTCPeerConnectionState, Registry};

const CONNECTED: RTCPeerConnectionState = RTCPeerConnectionState::Connected;

fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

/// Builds a two-host simulation with `config` both ways, connects two peers with a data
/// channel, and returns the virtual time both reported Connected.
fn connect_over(seed: u64, config: LinkConfig) -> Result<SimTime, PeerError> {
    let mut builder = Sim::builder().seed(seed);
    let (a, b) = (builder.host("alice"), builder.host("bob"));
    builder.path(a, b, config);
    let sim = builder.build()?;
    sim.run(async {
        let alice: SimPeer = sim.peer(a).build().await?;
        let bob = sim.peer(b).build().await?;
        alice
            .pc()
            .create_data_channel("chat", None)
            .await
            .map_err(|e| PeerError::Crypto {
                peer: "alice".into(),
                message: e.to_string(),
            })?;
        connect(&alice, &bob, secs(1)).await?;
        alice.wait_for_state(CONNECTED, secs(30)).await?;
        bob.wait_for_state(CONNECTED, secs(30)).await?;
        Ok(sim.time())
    })?
}

/// ICE, DTLS and SCTP must survive a long path; the handshake takes several round trips, so
/// the time to connect grows with the delay but stays within a few RTTs.
#[test]
fn peers_connect_over_a_path_with_50_ms_one_way_delay() {
    let config = LinkConfig {
        delay: SimDuration::from_millis(50),
        ..LinkConfig::wired()
    };
    let at = connect_over(1, config).expect("connects");
    eprintln!("50 ms one-way: connected at {at}");
    // ICE check, DTLS (2 round trips): at least ~3 RTTs of 110 ms; far less than 5 s.
    assert!(
        at >= SimTime::from_millis(300) && at <= SimTime::from_secs(5),
        "connected at {at}"
    );
}

/// A lossy path must only delay the handshake (retransmissions), not prevent it. (The seeds
/// spare the DTLS client's last flight, which webrtc 0.21.1 never resends: `tests/upstream.rs`.)
#[test]
fn peers_connect_over_a_path_with_5_percent_loss() {
    for seed in 1..=3 {
        let config = LinkConfig {
            loss: LossModel::Bernoulli { probability: 0.05 },
            ..LinkConfig::wired()
        };
        let at = connect_over(seed, config).expect("connects");
        eprintln!("5 % loss, seed {seed}: connected at {at}");
        assert!(
            at > SimTime::ZERO && at <= SimTime::from_secs(10),
            "seed {seed}: connected at {at}"
        );
    }
}

/// The RTT the stack measures (ICE connectivity and consent checks) must match the path: the
/// simulator adds no hidden delay and webrtc reads its virtual clock.
#[test]
fn the_rtt_webrtc_reports_matches_the_path_within_5_percent() {
    let config = LinkConfig {
        delay: SimDuration::from_millis(50),
        ..LinkConfig::wired()
    };
    let mut builder = Sim::builder().seed(1);
    let (a, b) = (builder.host("alice"), builder.host("bob"));
    builder.path(a, b, config);
    let sim = builder.build().expect("valid topology");
    let (rtt, responses) = sim
        .run(async {
            let alice = sim.peer(a).build().await.expect("alice");
            let bob = sim.peer(b).build().await.expect("bob");
            alice
                .pc()
                .create_data_channel("chat", None)
                .await
                .expect("channel");
            connect(&alice, &bob, secs(1)).await.expect("negotiates");
            alice
                .wait_for_state(CONNECTED, secs(10))
                .await
                .expect("connects");
            // Consent checks run every few seconds; let several complete.
            sim.sleep_for(secs(10)).await;
            let report = alice
                .pc()
                .get_stats(
                    sim.instant_at(sim.time()),
                    webrtc::peer_connection::StatsSelector::None,
                )
                .await;
            report
                .candidate_pairs()
                .filter(|p| p.responses_received > 0)
                .map(|p| (p.current_round_trip_time, p.responses_received))
                .next()
                .expect("a candidate pair with responses")
        })
        .expect("the simulation runs");
    // 2 × 50 ms, plus serialising a ~100-byte STUN message at 100 Mbit/s each way (~10 µs).
    eprintln!(
        "RTT reported {:.3} ms over {responses} responses",
        rtt * 1e3
    );
    assert!((0.095..=0.105).contains(&rtt), "RTT {rtt} s");
}

/// A wait that times out must say where the peer got to, not just "timed out".
#[test]
fn a_timed_out_wait_names_the_state_reached() {
    let mut builder = Sim::builder().seed(1);
    let (a, b) = (builder.host("alice"), builder.host("bob"));
    builder.path(a, b, LinkConfig::wired());
    let sim = builder.build().expect("valid");
    let err = sim
        .run(async {
            let alice = sim.peer(a).build().await?;
            let bob = sim.peer(b).build().await?;
            alice
                .pc()
                .create_data_channel("chat", None)
                .await
                .expect("channel");
            sim.partition(a, b).expect("links exist");
            connect(&alice, &bob, secs(1)).await?;
            alice.wait_for_state(CONNECTED, secs(3)).await
        })
        .expect("the simulation runs")
        .expect_err("a partitioned pair cannot connect");
    let message = err.to_string();
    assert!(
        matches!(&err, PeerError::Timeout { reached, .. } if reached == "connecting"),
        "{message}"
    );
    assert!(
        message.contains("connection state connected") && message.contains("reached connecting"),
        "{message}"
    );
}

/// Interceptors register header extensions in the media engine they were configured with;
/// a registry alone must be refused with an error that says so.
#[test]
fn a_registry_without_its_media_engine_is_refused() {
    let mut builder = Sim::builder().seed(1);
    let a = builder.host("alice");
    let sim = builder.build().expect("valid");
    let err = sim
        .run(sim.peer(a).interceptor_registry(Registry::new()).build())
        .expect("the simulation runs")
        .expect_err("refused");
    assert!(
        matches!(err, PeerError::RegistryWithoutMediaEngine { ref peer } if peer == "alice#0"),
        "{err}"
    );
    let ok = sim
        .run(
            sim.peer(a)
                .interceptor_registry(Registry::new())
                .media_engine(MediaEngine::default())
                .build(),
        )
        .expect("the simulation runs");
    assert!(ok.is_ok(), "{ok:?}");
}
