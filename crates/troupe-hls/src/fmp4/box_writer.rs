//! Appends boxes to a buffer, patching each box's size when its contents are done, so
//! nesting reads like the box tree it writes.

pub(crate) struct BoxWriter {
    pub(crate) buf: Vec<u8>,
}

impl BoxWriter {
    pub(crate) fn new() -> Self {
        Self { buf: Vec::with_capacity(1024) }
    }

    pub(crate) fn boxed(&mut self, kind: &[u8; 4], contents: impl FnOnce(&mut Self)) {
        let start = self.buf.len();
        self.u32(0);
        self.bytes(kind);
        contents(self);
        let size = (self.buf.len() - start) as u32;
        self.buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
    }

    /// A FullBox: version and 24-bit flags before the contents.
    pub(crate) fn full(
        &mut self,
        kind: &[u8; 4],
        version: u8,
        flags: u32,
        contents: impl FnOnce(&mut Self),
    ) {
        self.boxed(kind, |w| {
            w.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
            contents(w);
        });
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn bytes(&mut self, value: &[u8]) {
        self.buf.extend_from_slice(value);
    }

    pub(crate) fn zeros(&mut self, count: usize) {
        self.buf.resize(self.buf.len() + count, 0);
    }

    /// The unity transformation matrix of mvhd and tkhd.
    pub(crate) fn unity_matrix(&mut self) {
        for value in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
            self.u32(value);
        }
    }
}
