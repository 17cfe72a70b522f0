//! REMB in both directions: generating it from received media ([`receiver`]), and acting on it
//! as a sender.

pub mod extension_id;
pub mod packet;
pub mod receiver;
pub mod receiver_stats;
pub mod sender_stats;
