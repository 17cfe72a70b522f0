//! The application above a sender: an endless bulk transfer, or messages.
//!
//! Both are one byte stream, as over a real socket. A bulk transfer is an infinite backlog from
//! a start time (`iperf`); messages are appended with `write` and each reports its completion
//! when the ACK of its last byte arrives (a request, a video chunk). Data is sent as soon as the
//! window allows, with no Nagle delay (`TCP_NODELAY`, what latency-sensitive applications set),
//! so a small message goes out at once in a segment of its own size.

use std::collections::VecDeque;

use crate::tcp::error::TcpError;
use crate::tcp::event::{MessageDone, MessageId, TcpEvent};
use crate::time::SimTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    id: MessageId,
    /// The stream offset just past the message.
    end: u64,
    bytes: u64,
    started: SimTime,
}

/// The data an application has given a sender.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Source {
    /// The stream offset just past the last message written.
    written: u64,
    messages: VecDeque<Pending>,
    next_id: u64,
    /// A bulk transfer from this time, after the messages written before it.
    bulk: Option<SimTime>,
    /// After a stop: the end of the stream.
    end: Option<u64>,
}

impl Source {
    /// Appends a message of `bytes` at `now`.
    pub(crate) fn write(&mut self, now: SimTime, bytes: u64) -> Result<MessageId, TcpError> {
        if self.end.is_some() {
            return Err(TcpError::Stopped);
        }
        if self.bulk.is_some() {
            return Err(TcpError::Bulk);
        }
        if bytes == 0 {
            return Err(TcpError::EmptyMessage);
        }
        let id = MessageId(self.next_id);
        self.next_id += 1;
        self.written = self.written.saturating_add(bytes);
        self.messages.push_back(Pending {
            id,
            end: self.written,
            bytes,
            started: now,
        });
        Ok(id)
    }

    /// An endless backlog from `start`, after any messages already written.
    pub(crate) fn start_bulk(&mut self, start: SimTime) -> Result<(), TcpError> {
        if self.end.is_some() {
            return Err(TcpError::Stopped);
        }
        self.bulk = Some(start);
        Ok(())
    }

    /// No more data after what is written, or for a running bulk transfer after the `sent`
    /// bytes already sent.
    pub(crate) fn stop(&mut self, now: SimTime, sent: u64) {
        let end = match self.bulk {
            Some(start) if start <= now => sent.max(self.written),
            _ => self.written,
        };
        self.bulk = None;
        self.end = Some(self.end.map_or(end, |e| e.min(end)));
    }

    /// The end of the data available at `now`: `u64::MAX` during a bulk transfer.
    pub(crate) fn available(&self, now: SimTime) -> u64 {
        match (self.end, self.bulk) {
            (Some(end), _) => end,
            (None, Some(start)) if start <= now => u64::MAX,
            _ => self.written,
        }
    }

    /// When a bulk transfer starts, if it is still to start after `now`.
    pub(crate) fn starts_after(&self, now: SimTime) -> Option<SimTime> {
        self.bulk.filter(|&start| start > now)
    }

    /// Every byte before `una` is acknowledged at `now`: reports the messages that completed.
    pub(crate) fn on_acked(&mut self, una: u64, now: SimTime, events: &mut VecDeque<TcpEvent>) {
        while let Some(m) = self.messages.front().filter(|m| m.end <= una).copied() {
            self.messages.pop_front();
            events.push_back(TcpEvent::MessageDone(MessageDone {
                id: m.id,
                bytes: m.bytes,
                started: m.started,
                completed: now,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completion is per message: a partial ACK must complete only the messages it covers.
    #[test]
    fn a_message_completes_when_its_last_byte_is_acknowledged() {
        let mut s = Source::default();
        let t0 = SimTime::from_millis(5);
        assert_eq!(s.write(t0, 100), Ok(MessageId(0)));
        assert_eq!(s.write(t0, 50), Ok(MessageId(1)));
        assert_eq!(s.available(t0), 150);
        let mut events = VecDeque::new();
        s.on_acked(120, SimTime::from_millis(9), &mut events);
        assert_eq!(
            events.pop_front(),
            Some(TcpEvent::MessageDone(MessageDone {
                id: MessageId(0),
                bytes: 100,
                started: t0,
                completed: SimTime::from_millis(9),
            }))
        );
        assert!(events.is_empty());
        s.on_acked(150, SimTime::from_millis(10), &mut events);
        assert_eq!(events.len(), 1);
    }

    /// A bulk transfer is endless, so a message behind it would never complete; refuse it.
    #[test]
    fn bulk_starts_at_its_time_and_refuses_messages_and_stop_ends_the_stream() {
        let mut s = Source::default();
        let start = SimTime::from_secs(5);
        s.start_bulk(start).expect("not stopped");
        assert_eq!(s.available(SimTime::from_secs(4)), 0);
        assert_eq!(s.starts_after(SimTime::from_secs(4)), Some(start));
        assert_eq!(s.available(start), u64::MAX);
        assert_eq!(s.write(start, 10), Err(TcpError::Bulk));
        s.stop(SimTime::from_secs(6), 1_000);
        assert_eq!(s.available(SimTime::from_secs(7)), 1_000);
        assert_eq!(s.write(start, 10), Err(TcpError::Stopped));
        assert_eq!(s.write(start, 0), Err(TcpError::Stopped));
        assert_eq!(
            Source::default().write(start, 0),
            Err(TcpError::EmptyMessage)
        );
    }
}
