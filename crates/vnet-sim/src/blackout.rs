//! Blackouts: windows of time in which a stage drops every packet that reaches it.
//!
//! In a [`crate::LinkConfig`] link the blackout stage sits just after the bottleneck, where the
//! wire starts: a blackout cuts the wire. Packets leaving the queue during the window are lost,
//! the queue keeps draining into the cut, and packets already on the wire still arrive. That is a
//! cable pull or a radio outage seen from the network. (An outage in which the sender's queue
//! holds packets until the link returns is a capacity of zero: [`crate::Link::set_capacity`].)

use std::collections::VecDeque;

use crate::packet::InFlight;
use crate::stage::{Control, Sink, Stage};
use crate::stats::DropCause;
use crate::time::SimTime;

/// A half-open window of time `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// The first instant inside.
    pub start: SimTime,
    /// The first instant after.
    pub end: SimTime,
}

impl Window {
    /// The window `[start, end)`; empty when `end <= start`.
    pub fn new(start: SimTime, end: SimTime) -> Self {
        Self { start, end }
    }

    /// Whether `t` is inside.
    pub fn contains(&self, t: SimTime) -> bool {
        self.start <= t && t < self.end
    }
}

/// Drops every packet reaching it inside any of its windows.
#[derive(Clone, Debug)]
pub struct Blackout<S> {
    /// Sorted by start; windows that have ended are discarded as time passes.
    windows: VecDeque<Window>,
    inner: S,
}

impl<S> Blackout<S> {
    /// A blackout stage with `windows` (in any order; empty ones are ignored) in front of `inner`.
    pub fn new(windows: impl IntoIterator<Item = Window>, inner: S) -> Self {
        let mut stage = Self {
            windows: VecDeque::new(),
            inner,
        };
        for w in windows {
            stage.add(w);
        }
        stage
    }

    /// Adds a window.
    pub fn add(&mut self, window: Window) {
        if window.end <= window.start {
            return;
        }
        let at = self.windows.partition_point(|w| w.start <= window.start);
        self.windows.insert(at, window);
    }

    /// Ends every window at `now`: one in force stops now, one not yet started never starts.
    pub fn end_all(&mut self, now: SimTime) {
        self.windows.retain_mut(|w| {
            w.end = w.end.min(now);
            w.start < w.end
        });
    }

    /// Whether a packet reaching the stage at `now` is dropped. `now` never decreases, so windows
    /// that have ended by now can go.
    #[inline]
    fn blocks(&mut self, now: SimTime) -> bool {
        while self.windows.front().is_some_and(|w| w.end <= now) {
            self.windows.pop_front();
        }
        // Sorted by start: only windows starting by `now` can hold it.
        self.windows
            .iter()
            .take_while(|w| w.start <= now)
            .any(|w| now < w.end)
    }
}

impl<T, S: Stage<T>> Stage<T> for Blackout<S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        if self.blocks(now) {
            sink.drop_packet(now, packet, DropCause::Blackout);
        } else {
            self.inner.handle(now, packet, sink);
        }
    }

    #[inline]
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>) {
        self.inner.advance(now, sink);
    }

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        self.inner.next_event()
    }

    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool {
        match command {
            Control::AddBlackout(window) => {
                self.add(*window);
                true
            }
            Control::EndBlackouts => {
                self.end_all(now);
                true
            }
            _ => self.inner.control(now, command, sink),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Link, LinkConfig, Packet, SimDuration};

    fn ms(v: u64) -> SimTime {
        SimTime::from_millis(v)
    }

    /// The fault verb "blackout" must cut exactly the window: no leaks in, no losses outside.
    #[test]
    fn blackout_drops_everything_in_the_window_and_nothing_outside() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(30),
            blackouts: vec![Window::new(ms(100), ms(200)), Window::new(ms(400), ms(450))],
            record_log: true,
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 1).expect("valid config");
        for i in 0..600 {
            link.handle_packet(ms(i), Packet::new(i, 100));
        }
        crate::link::tests::drain(&mut link, ms(1000));
        let in_window = |t: u64| (100..200).contains(&t) || (400..450).contains(&t);
        let mut delivered = 0;
        for r in link.log() {
            let sent = r.sent.as_millis();
            if in_window(sent) {
                assert_eq!(r.fate, crate::Fate::Dropped(DropCause::Blackout), "{r:?}");
            } else {
                assert_eq!(r.fate, crate::Fate::Delivered, "{r:?}");
                assert_eq!(r.at, r.sent + SimDuration::from_millis(30));
                delivered += 1;
            }
        }
        assert_eq!(link.log().len(), 600);
        assert_eq!(delivered, 450);
        assert_eq!(link.stats().dropped_blackout.packets, 150);
    }

    /// A topology's fault verb adds windows while the link runs; they must take effect.
    #[test]
    fn a_window_added_mid_run_takes_effect() {
        let mut link = Link::new(&LinkConfig::default(), 1).expect("valid config");
        link.handle_packet(ms(5), Packet::new(0u32, 100));
        link.handle_packet(ms(9), Packet::new(9u32, 100));
        link.add_blackout(ms(9), Window::new(ms(10), ms(20)))
            .expect("the default link has a blackout stage");
        for t in [10, 19, 20] {
            link.handle_packet(ms(t), Packet::new(t as u32, 100));
        }
        let got: Vec<u32> = crate::link::tests::drain(&mut link, ms(30))
            .into_iter()
            .map(|d| d.packet.payload)
            .collect();
        assert_eq!(got, vec![0, 9, 20]);
        assert_eq!(link.stats().dropped_blackout.packets, 2);
    }

    /// `heal` ends a partition, an open-ended window; packets after it must pass, and a window
    /// scheduled for later must not start.
    #[test]
    fn ending_blackouts_reopens_the_wire_and_cancels_later_windows() {
        let mut link = Link::new(&LinkConfig::default(), 1).expect("valid config");
        link.add_blackout(ms(0), Window::new(ms(10), SimTime::MAX))
            .expect("the default link has a blackout stage");
        link.add_blackout(ms(0), Window::new(ms(50), ms(60)))
            .expect("the default link has a blackout stage");
        for t in [5, 15, 25] {
            link.handle_packet(ms(t), Packet::new(t as u32, 100));
        }
        link.end_blackouts(ms(30))
            .expect("the default link has a blackout stage");
        for t in [30, 55] {
            link.handle_packet(ms(t), Packet::new(t as u32, 100));
        }
        let got: Vec<u32> = crate::link::tests::drain(&mut link, ms(100))
            .into_iter()
            .map(|d| d.packet.payload)
            .collect();
        assert_eq!(got, vec![5, 30, 55]);
        assert_eq!(link.stats().dropped_blackout.packets, 2);
    }

    /// Overlapping and out-of-order windows must still each be honoured.
    #[test]
    fn overlapping_windows_given_out_of_order_are_all_honoured() {
        let mut b = Blackout::new(
            [
                Window::new(ms(50), ms(60)),
                Window::new(ms(10), ms(100)),
                Window::new(ms(20), ms(30)),
                Window::new(ms(5), ms(5)),
            ],
            crate::Exit,
        );
        let blocked: Vec<u64> = (0..120).filter(|&t| b.blocks(ms(t))).collect();
        assert_eq!(blocked, (10..100).collect::<Vec<_>>());
    }
}
