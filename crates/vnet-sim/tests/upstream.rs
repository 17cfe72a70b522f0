//! Checks on webrtc/rtc 0.21.1 behaviour the simulator works around. Each test states the
//! current upstream behaviour; when one fails, upstream changed and the workaround it names can
//! be revisited.
#![cfg(feature = "webrtc")]

use vnet_sim::peer::{SeededCryptoProvider, connect};
use vnet_sim::{LinkConfig, Sim, SimDuration};
use webrtc::peer_connection::RTCCertificate;
use webrtc::peer_connection::crypto::{RTCCryptoProvider, SignatureScheme};

/// rtc-dtls 0.21.1 refuses an Ed25519 certificate for the ECDHE suites, so `seeded_certificate`
/// uses ECDSA with re-signing to a fixed length instead. If this starts connecting, switch to
/// Ed25519 (deterministic 64-byte signatures, no re-signing).
#[test]
fn ed25519_certificates_cannot_serve_dtls_in_rtc_0_21() {
    let mut builder = Sim::builder().seed(1);
    let (a, b) = (builder.host("a"), builder.host("b"));
    builder.path(a, b, LinkConfig::wired());
    let sim = builder.build().expect("valid topology");
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
