//! Numbers read off an unstructured input, zeros once it runs out, so that every input decodes
//! to some sequence of operations and a fuzzer's mutations map to small changes in it.
//!
//! An input is a sequence of operations, each `[kind, step (2 bytes), length, body]`: the kind
//! picks what happens, the step advances the clock, and the body (read with [`Input::frame`])
//! holds the operation's own numbers, so a test can build one operation at a time.

/// A reader over the input bytes.
pub struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next `n` bytes, fewer at the end.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.bytes.split_at(n.min(self.bytes.len()));
        self.bytes = tail;
        head
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next frame: a length byte, then that many bytes (fewer at the end), as a reader of
    /// its own, so that what one operation reads never shifts where the next one starts.
    pub fn frame(&mut self) -> Input<'a> {
        let len = usize::from(self.u8());
        Input::new(self.take(len))
    }

    /// Every byte left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.bytes.len())
    }

    /// The next four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
}
