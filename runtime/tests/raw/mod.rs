//! A byte-level FDT writer for hostile layouts vm-fdt will not produce:
//! blocks at chosen offsets, raw name offsets, missing END tokens, trees a
//! million levels deep.
#![allow(dead_code)]

pub const MAGIC: u32 = 0xd00d_feed;
/// Header word indices (the specification's `fdt_header`, in order).
pub const TOTALSIZE: usize = 1;
pub const OFF_STRUCT: usize = 2;
pub const OFF_STRINGS: usize = 3;
pub const OFF_RSVMAP: usize = 4;
pub const VERSION: usize = 5;
pub const SIZE_STRINGS: usize = 8;
pub const SIZE_STRUCT: usize = 9;

/// The structure and strings blocks, built token by token.
#[derive(Default)]
pub struct Raw {
    pub structure: Vec<u8>,
    pub strings: Vec<u8>,
}

impl Raw {
    pub fn new() -> Self {
        Self::default()
    }

    fn word(&mut self, v: u32) {
        self.structure.extend_from_slice(&v.to_be_bytes());
    }

    fn pad(&mut self) {
        while self.structure.len() % 4 != 0 {
            self.structure.push(0);
        }
    }

    pub fn begin(&mut self, name: &[u8]) -> &mut Self {
        self.word(1);
        self.structure.extend_from_slice(name);
        self.structure.push(0);
        self.pad();
        self
    }

    pub fn end_node(&mut self) -> &mut Self {
        self.word(2);
        self
    }

    /// The offset of `name` in the strings block, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        let mut at = 0;
        for s in self.strings.split(|&b| b == 0) {
            if s == name.as_bytes() && at < self.strings.len() {
                return at as u32;
            }
            at += s.len() + 1;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(name.as_bytes());
        self.strings.push(0);
        off
    }

    pub fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
        let off = self.intern(name);
        self.prop_at(off, value)
    }

    /// A property whose name offset is `name_off`, whatever it points at.
    pub fn prop_at(&mut self, name_off: u32, value: &[u8]) -> &mut Self {
        self.word(3);
        self.word(value.len() as u32);
        self.word(name_off);
        self.structure.extend_from_slice(value);
        self.pad();
        self
    }

    pub fn finish(&mut self) -> &mut Self {
        self.word(9);
        self
    }

    /// The usual layout: header, one empty reservation entry, structure,
    /// strings.
    pub fn blob(&self) -> Vec<u8> {
        let rsv = 40;
        let st = rsv + 16;
        let strings = st + self.structure.len();
        self.blob_at(rsv, st, strings, strings + self.strings.len())
    }

    /// The blocks placed at the given offsets in a blob of `total` bytes
    /// (later blocks overwrite earlier ones where they overlap); the header
    /// records those offsets and the blocks' true sizes.
    pub fn blob_at(&self, rsv: usize, st: usize, strings: usize, total: usize) -> Vec<u8> {
        let mut b = vec![0u8; total.max(40)];
        let put = |b: &mut Vec<u8>, at: usize, bytes: &[u8]| {
            if b.len() < at + bytes.len() {
                b.resize(at + bytes.len(), 0);
            }
            b[at..at + bytes.len()].copy_from_slice(bytes);
        };
        if rsv + 16 <= b.len() {
            put(&mut b, rsv, &[0; 16]);
        }
        put(&mut b, st, &self.structure);
        put(&mut b, strings, &self.strings);
        b.truncate(total.max(40));
        let header = [
            MAGIC,
            total as u32,
            st as u32,
            strings as u32,
            rsv as u32,
            17,
            16,
            0,
            self.strings.len() as u32,
            self.structure.len() as u32,
        ];
        for (i, w) in header.iter().enumerate() {
            set(&mut b, i, *w);
        }
        b
    }
}

pub fn set(blob: &mut [u8], word: usize, v: u32) {
    blob[word * 4..word * 4 + 4].copy_from_slice(&v.to_be_bytes());
}

pub fn get(blob: &[u8], word: usize) -> u32 {
    u32::from_be_bytes([
        blob[word * 4],
        blob[word * 4 + 1],
        blob[word * 4 + 2],
        blob[word * 4 + 3],
    ])
}

/// An SMMUv3 (phandle 1, one cell) and `n` buses `name`, each nested in
/// the previous and each a master of it with stream ID `i` and the one-entry
/// `dma-ranges` `ranges(i)` (child, parent, size); the root is
/// `dma-coherent`. Walking every master's ancestors costs O(n²) here.
pub fn nested_masters(n: u32, name: &[u8], ranges: impl Fn(u32) -> [u32; 3]) -> Vec<u8> {
    let one = |v: u32| v.to_be_bytes();
    let mut r = Raw::new();
    r.begin(b"")
        .prop("#address-cells", &one(1))
        .prop("#size-cells", &one(1))
        .prop("dma-coherent", &[]);
    r.begin(b"iommu@0")
        .prop("compatible", b"arm,smmu-v3\0")
        .prop("#iommu-cells", &one(1))
        .prop("phandle", &one(1))
        .end_node();
    for i in 0..n {
        let ranges: Vec<u8> = ranges(i).iter().flat_map(|v| v.to_be_bytes()).collect();
        r.begin(name)
            .prop("#address-cells", &one(1))
            .prop("#size-cells", &one(1))
            .prop("dma-ranges", &ranges)
            .prop("iommus", &[one(1), one(i)].concat());
    }
    for _ in 0..n {
        r.end_node();
    }
    r.end_node().finish();
    r.blob()
}
