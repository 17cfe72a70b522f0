//! REMB in both directions: generating it from received media, and acting on it as a sender.

pub mod receiver_stats;
pub mod sender_stats;
