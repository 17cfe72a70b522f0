//! Two real webrtc-rs PeerConnections over a simulated path: 50 ms one way, 1 % random loss
//! each way. ICE, DTLS and SCTP run unmodified; a data channel opens and carries a message
//! each way, in virtual time (the whole run takes a few milliseconds of wall time).
//!
//! ```sh
//! cargo run -p vnet-sim --example data_channel
//! ```
//!
//! The peer helpers are vnet-sim's equivalents of Pion's `NewVNetPeerConnection`
//! (`sim.peer(host).build()`), `ConnectVNetPeers` ([`connect`]) and
//! `WaitForPeerConnectionState` ([`SimPeer::wait_for_state`]).

use std::time::Instant;

use vnet_sim::peer::{SimPeer, connect};
use vnet_sim::webrtc::data_channel::{DataChannel, DataChannelEvent};
use vnet_sim::webrtc::peer_connection::RTCPeerConnectionState;
use vnet_sim::{LinkConfig, LossModel, Sim, SimDuration};

/// The channel's next message, skipping its other events.
async fn next_message(channel: &dyn DataChannel) -> Option<Vec<u8>> {
    while let Some(event) = channel.poll().await {
        if let DataChannelEvent::OnMessage(message) = event {
            return Some(message.data.to_vec());
        }
    }
    None
}

/// Whether the channel opened (`false` if it closed first).
async fn opened(channel: &dyn DataChannel) -> bool {
    while let Some(event) = channel.poll().await {
        if matches!(event, DataChannelEvent::OnOpen) {
            return true;
        }
    }
    false
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let wall = Instant::now();
    // Same seed, same run: every packet's time and fate repeat.
    let mut builder = Sim::builder().seed(3);
    let (a, b) = (builder.host("alice"), builder.host("bob"));
    builder.path(
        a,
        b,
        LinkConfig {
            delay: SimDuration::from_millis(50),
            loss: LossModel::Bernoulli { probability: 0.01 },
            ..LinkConfig::default()
        },
    );
    let sim = builder.build()?;
    let timeout = SimDuration::from_secs(10);
    sim.run(async {
        let alice: SimPeer = sim.peer(a).build().await?;
        let bob = sim.peer(b).build().await?;
        let channel = alice.pc().create_data_channel("chat", None).await?;
        connect(&alice, &bob, timeout).await?;
        alice
            .wait_for_state(RTCPeerConnectionState::Connected, timeout)
            .await?;
        println!("{}: connected (ICE and DTLS)", sim.time());
        let remote = bob.next_data_channel(timeout).await?;
        if !opened(channel.as_ref()).await {
            return Err("the channel closed before it opened".into());
        }
        println!("{}: channel open", sim.time());
        channel.send(b"ping"[..].into()).await?;
        let got = next_message(remote.as_ref()).await.ok_or("no message")?;
        println!(
            "{}: bob got {:?}",
            sim.time(),
            String::from_utf8_lossy(&got)
        );
        remote.send(b"pong"[..].into()).await?;
        let got = next_message(channel.as_ref()).await.ok_or("no reply")?;
        println!(
            "{}: alice got {:?}",
            sim.time(),
            String::from_utf8_lossy(&got)
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })??;
    let stats = sim.link_stats(a, b)?;
    println!(
        "alice → bob: {} packets sent, {} lost; {:?} of wall time",
        stats.sent.packets,
        stats.dropped_loss.packets,
        wall.elapsed()
    );
    Ok(())
}
