//! The REMB path end to end: two real rtc chains from the `configure_remb_bwe` preset, the
//! sender stamping abs-send-time and sending under the receiver's REMB with loss control, over a
//! bottleneck that drops from 2 Mbit/s to 500 kbit/s at 5 s.

mod support;

use std::time::Duration;

use bwe_core::Bitrate;
use bwe_core::loss::LossControllerConfig;
use bwe_interceptor::{BweChainConfig, RembSenderConfig, configure_bwe, configure_remb_bwe};
use rtc::interceptor::{Interceptor, Registry};
use rtc::peer_connection::configuration::media_engine::MediaEngine;

use support::closed_loop::{render, run};

fn engine() -> MediaEngine {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    engine
}

fn endpoint(start: Bitrate) -> impl Interceptor {
    let mut config = BweChainConfig::remb();
    config.remb_sender = Some(RembSenderConfig {
        loss: LossControllerConfig {
            start,
            ..LossControllerConfig::default()
        },
        ..RembSenderConfig::default()
    });
    let (registry, _) = configure_bwe(Registry::new(), &mut engine(), config).expect("chain");
    registry.build()
}

fn step_down(second: u64) -> Bitrate {
    if second < 5 {
        Bitrate::from_kbps(2_000)
    } else {
        Bitrate::from_kbps(500)
    }
}

/// REMB (delay) and receiver-report loss together bring a REMB-only sender down to the new
/// capacity, with the queue bounded — on a shallow 300 ms drop-tail buffer, where a full queue
/// shows no delay gradient and only loss tells.
#[test]
fn remb_sender_follows_a_capacity_drop() {
    let start = Bitrate::from_kbps(1_000);
    let trace = run(
        endpoint(start),
        endpoint(Bitrate::from_kbps(300)),
        start,
        20,
        step_down,
        Duration::from_millis(300),
    );
    render("ours/remb", &trace);
    let (_, before, _, _) = trace[4];
    let (_, after, queue, _) = *trace.last().expect("samples");
    assert!(
        (800.0..=2_200.0).contains(&before),
        "{before:.0} kbit/s at 5 s on a 2 Mbit/s path"
    );
    assert!(
        (250.0..=650.0).contains(&after),
        "{after:.0} kbit/s at 20 s on a 500 kbit/s path"
    );
    assert!(queue <= 300, "{queue} ms of queue");
}

/// The application can read the REMB reader through the handle as soon as the chain is built.
#[test]
fn remb_preset_publishes_the_reader_before_any_packet() {
    let (registry, handle) = configure_remb_bwe(Registry::new(), &mut engine()).expect("chain");
    drop(registry.build());
    assert!(handle.snapshot().remb_sender.is_some());
}
