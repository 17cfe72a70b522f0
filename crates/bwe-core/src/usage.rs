//! The delay detector's verdict, shared by the detector that produces it and the rate controller
//! that acts on it.

/// What the delay signal says about the bottleneck queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BandwidthUsage {
    /// The queue is neither growing nor draining beyond the threshold.
    #[default]
    Normal,
    /// The queue is growing: we send faster than the path delivers.
    Overusing,
    /// The queue is draining: we send slower than the path delivers.
    Underusing,
}
