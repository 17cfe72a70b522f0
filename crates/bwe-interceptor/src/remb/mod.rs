//! REMB in both directions: generating it from received media ([`receiver`]), and acting on it
//! as a sender ([`sender`]), and stamping the abs-send-time a REMB receiver needs ([`stamper`]).

pub mod extension_id;
pub mod packet;
pub mod receiver;
pub mod receiver_stats;
pub(crate) mod report_loss;
pub mod sender;
pub mod sender_stats;
pub(crate) mod sr_rtt;
pub mod stamper;
