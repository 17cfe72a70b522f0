//! Checks on webrtc/rtc 0.21.1 behaviour the simulator works around. Each test states the
//! current upstream behaviour; when one fails, upstream changed and the workaround it names can
//! be revisited.
#![cfg(feature = "webrtc")]

mod support;

use vnet_sim::peer::{SeededCryptoProvider, connect};
use vnet_sim::{LinkConfig, SimDuration};
use webrtc::peer_connection::RTCCertificate;
use webrtc::peer_connection::crypto::{RTCCryptoProvider, SignatureScheme};

/// rtc-dtls 0.21.1 refuses an Ed25519 certificate for the ECDHE suites, so `seeded_certificate`
/// uses ECDSA with re-signing to a fixed length instead. If this starts connecting, switch to
/// Ed25519 (deterministic 64-byte signatures, no re-signing).
#[test]
fn ed25519_certificates_cannot_serve_dtls_in_rtc_0_21() {
    let (sim, a, b) = support::pair(1, ("a", "b"), LinkConfig::wired());
    let ed25519 = || {
        let provider = SeededCryptoProvider::new(1).expect("ring is built in");
        let key = provider
            .crypto()
            .generate_signing_key(SignatureScheme::Ed25519)
            .expect("ring generates Ed25519 keys");
        let params =
            rtc::peer_connection::certificate::CertificateParams::new(vec!["vnet-sim".to_owned()])
                .expect("valid name");
        RTCCertificate::generate_from_signing_key(params, SignatureScheme::Ed25519, key)
            .expect("rcgen signs with Ed25519")
    };
    let result = sim
        .run(async {
            let alice = sim.peer(a).certificate(ed25519()).build().await?;
            let bob = sim.peer(b).certificate(ed25519()).build().await?;
            alice
                .pc()
                .create_data_channel("x", None)
                .await
                .expect("channel");
            connect(&alice, &bob, SimDuration::from_secs(1)).await
        })
        .expect("the simulation runs");
    let message = result
        .expect_err("upstream still refuses Ed25519")
        .to_string();
    assert!(
        message.contains("no CipherSuites satisfy this Config"),
        "{message}"
    );
}

/// rtc-dtls 0.21.1: a DTLS client whose last flight (flight 5) is lost never sends it again.
/// Its `wait()` clears the retransmit timer whenever handshake records arrive, even when they
/// are the server's repeat of flight 4 and parse to nothing; the server started its timer
/// first, so its repeat always arrives before the client's timer fires, and the client then
/// waits with no timer at all. RFC 6347 §4.2.4 wants it to resend flight 5 on that repeat.
/// On this path, seed 42 loses exactly that flight; the pair never connects. When this test
/// fails, upstream fixed it, and `tests/determinism.rs` need no longer avoid such seeds.
#[test]
fn a_lost_dtls_flight_5_is_never_resent_in_rtc_0_21() {
    use vnet_sim::{Fate, SimTime};
    use webrtc::peer_connection::RTCPeerConnectionState;

    let (sim, a, b) = support::pair(42, ("alice", "bob"), support::impaired(2_000, 0.02));
    let waited = sim
        .run(async {
            let alice = sim.peer(a).build().await.expect("alice");
            let bob = sim.peer(b).build().await.expect("bob");
            alice
                .pc()
                .create_data_channel("x", None)
                .await
                .expect("channel");
            connect(&alice, &bob, SimDuration::from_secs(1))
                .await
                .expect("negotiates");
            alice
                .wait_for_state(
                    RTCPeerConnectionState::Connected,
                    SimDuration::from_secs(20),
                )
                .await
        })
        .expect("the simulation runs");
    // Bob (the DTLS client) sent flight 5 (680 bytes on the wire) once, and it was lost.
    let flight5: Vec<_> = sim
        .link_log(b, a)
        .expect("b -> a")
        .into_iter()
        .filter(|r| r.size == 680)
        .collect();
    assert_eq!(flight5.len(), 1, "{flight5:?}");
    assert_eq!(flight5[0].fate, Fate::Dropped(vnet_sim::DropCause::Loss));
    assert!(flight5[0].sent < SimTime::from_secs(1));
    let err = waited.expect_err("upstream still never resends flight 5");
    assert!(err.to_string().contains("reached connecting"), "{err}");
}
