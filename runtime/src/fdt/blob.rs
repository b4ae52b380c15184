//! The raw blob: header validation and the structure-block token stream.

/// Why a blob or a property could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// Shorter than the 40-byte header, or shorter than `totalsize`.
    Truncated,
    /// The header does not start with 0xd00dfeed.
    BadMagic,
    /// Format older than version 16 (no inline names) or newer than we know.
    UnsupportedVersion(u32),
    /// A block offset or size points outside the blob (or into the header).
    BadLayout,
    /// Two blocks share bytes (the specification lays them out disjoint).
    Overlap { first: Block, second: Block },
    /// A block starts off its required alignment (8 bytes for the memory
    /// reservations, 4 for the structure block).
    Misaligned { block: Block, offset: u32 },
    /// The memory reservation list has no terminating empty entry inside
    /// the blob.
    UnterminatedReservations,
    /// A property's name offset is past the strings block, or its name is
    /// not NUL-terminated inside the block.
    BadNameOffset { offset: u32, name_off: u32 },
    /// The structure block ends without an END token.
    MissingEnd,
    /// A token is not one of the five the format defines.
    BadToken { offset: u32, token: u32 },
    /// A node name or property name is not NUL-terminated in bounds.
    BadString { offset: u32 },
    /// A property value runs past the structure block.
    BadProperty { offset: u32 },
    /// END_NODE without a matching BEGIN_NODE, or the block ends inside a node.
    Unbalanced { offset: u32 },
    /// More nodes than the caller's storage holds.
    TooManyNodes { capacity: usize },
    /// More phandles than the caller's storage holds.
    TooManyPhandles { capacity: usize },
}

impl core::fmt::Display for FdtError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FdtError::Truncated => f.write_str("blob shorter than its header says"),
            FdtError::BadMagic => f.write_str("not a flattened device tree (bad magic)"),
            FdtError::UnsupportedVersion(v) => write!(f, "unsupported FDT version {v}"),
            FdtError::BadLayout => f.write_str("header block offsets point outside the blob"),
            FdtError::Overlap { first, second } => {
                write!(f, "the {first} and the {second} overlap")
            }
            FdtError::Misaligned { block, offset } => {
                write!(f, "the {block} at offset {offset:#x} is misaligned")
            }
            FdtError::UnterminatedReservations => {
                f.write_str("the memory reservation list has no terminating entry")
            }
            FdtError::BadNameOffset { offset, name_off } => write!(
                f,
                "property at structure offset {offset:#x} names strings offset \
                 {name_off:#x}, outside the strings block"
            ),
            FdtError::MissingEnd => f.write_str("the structure block ends without an END token"),
            FdtError::BadToken { offset, token } => {
                write!(
                    f,
                    "unknown token {token:#x} at structure offset {offset:#x}"
                )
            }
            FdtError::BadString { offset } => {
                write!(f, "unterminated name at offset {offset:#x}")
            }
            FdtError::BadProperty { offset } => {
                write!(
                    f,
                    "property at structure offset {offset:#x} runs past the block"
                )
            }
            FdtError::Unbalanced { offset } => {
                write!(f, "unbalanced node nesting at structure offset {offset:#x}")
            }
            FdtError::TooManyNodes { capacity } => {
                write!(f, "more than {capacity} nodes (node storage full)")
            }
            FdtError::TooManyPhandles { capacity } => {
                write!(f, "more than {capacity} phandles (phandle storage full)")
            }
        }
    }
}

/// One of the blob's three blocks, for layout errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    Reservations,
    Structure,
    Strings,
}

impl core::fmt::Display for Block {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Block::Reservations => "memory reservation block",
            Block::Structure => "structure block",
            Block::Strings => "strings block",
        })
    }
}

const MAGIC: u32 = 0xd00d_feed;
const HEADER_LEN: usize = 40;

pub(crate) const TOK_BEGIN_NODE: u32 = 1;
pub(crate) const TOK_END_NODE: u32 = 2;
pub(crate) const TOK_PROP: u32 = 3;
pub(crate) const TOK_NOP: u32 = 4;
pub(crate) const TOK_END: u32 = 9;

pub(crate) fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The NUL-terminated string starting at `at`, without the NUL.
pub(crate) fn cstr(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let rest = bytes.get(at..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..len])
}

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// A validated blob: the header checked, the blocks sliced out.
#[derive(Clone, Copy, Debug)]
pub struct Fdt<'a> {
    pub(crate) structure: &'a [u8],
    pub(crate) strings: &'a [u8],
}

impl<'a> Fdt<'a> {
    /// Check the header and slice the structure and strings blocks. The
    /// rules (libfdt's `fdt_check_header` and the Devicetree
    /// Specification's layout): every block lies between the header and
    /// `totalsize`; the reservation block is 8-byte aligned and its list
    /// ends inside the blob; the structure block is 4-byte aligned; no two
    /// blocks overlap.
    pub fn new(data: &'a [u8]) -> Result<Self, FdtError> {
        let word = |i: usize| be32(data, i * 4).ok_or(FdtError::Truncated);
        if data.len() < HEADER_LEN {
            return Err(FdtError::Truncated);
        }
        if word(0)? != MAGIC {
            return Err(FdtError::BadMagic);
        }
        let total = word(1)? as usize;
        if total > data.len() || total < HEADER_LEN {
            return Err(FdtError::Truncated);
        }
        let version = word(5)?;
        let last_compatible = word(6)?;
        if version < 16 || last_compatible > 17 {
            return Err(FdtError::UnsupportedVersion(version));
        }
        let data = &data[..total];
        let extent = |off: u32, len: usize| -> Result<(usize, usize), FdtError> {
            let start = off as usize;
            let end = start.checked_add(len).ok_or(FdtError::BadLayout)?;
            if start < HEADER_LEN || end > total {
                return Err(FdtError::BadLayout);
            }
            Ok((start, end))
        };
        let strings = extent(word(3)?, word(8)? as usize)?;
        let reservations = reservation_extent(data, word(4)?)?;
        let struct_off = word(2)?;
        // Version 16 headers have no size_dt_struct: the block runs to the
        // next block or the end of the blob.
        let structure = if version >= 17 {
            extent(struct_off, word(9)? as usize)?
        } else {
            let start = struct_off as usize;
            let end = [strings.0, reservations.0]
                .into_iter()
                .filter(|&s| s > start)
                .min()
                .unwrap_or(total);
            extent(struct_off, end.saturating_sub(start))?
        };
        if struct_off % 4 != 0 {
            return Err(FdtError::Misaligned {
                block: Block::Structure,
                offset: struct_off,
            });
        }
        let blocks = [
            (Block::Reservations, reservations),
            (Block::Structure, structure),
            (Block::Strings, strings),
        ];
        for (i, &(first, a)) in blocks.iter().enumerate() {
            for &(second, b) in &blocks[i + 1..] {
                if a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1 {
                    return Err(FdtError::Overlap { first, second });
                }
            }
        }
        Ok(Fdt {
            structure: &data[structure.0..structure.1],
            strings: &data[strings.0..strings.1],
        })
    }

    /// Tokens of the structure block from its start.
    pub fn tokens(&self) -> TokenCursor<'a> {
        TokenCursor { fdt: *self, pos: 0 }
    }

    pub(crate) fn cursor_at(&self, pos: u32) -> TokenCursor<'a> {
        TokenCursor {
            fdt: *self,
            pos: pos as usize,
        }
    }

    /// The name at `offset` in the strings block.
    pub(crate) fn string(&self, offset: u32) -> Option<&'a [u8]> {
        cstr(self.strings, offset as usize)
    }

    /// Whether the name at `offset` is `name`, without scanning past it
    /// (property lookup is the boot flow's inner loop).
    pub(crate) fn string_is(&self, offset: u32, name: &[u8]) -> bool {
        let start = offset as usize;
        let end = start.saturating_add(name.len());
        self.strings.get(start..end) == Some(name) && self.strings.get(end) == Some(&0)
    }
}

/// Where the memory reservation list lies: 16-byte (address, size) entries
/// from `off`, up to and including the all-zero one that ends it.
fn reservation_extent(data: &[u8], off: u32) -> Result<(usize, usize), FdtError> {
    let start = off as usize;
    if start < HEADER_LEN || start > data.len() {
        return Err(FdtError::BadLayout);
    }
    if start % 8 != 0 {
        return Err(FdtError::Misaligned {
            block: Block::Reservations,
            offset: off,
        });
    }
    let mut at = start;
    loop {
        let entry = data
            .get(at..at + 16)
            .ok_or(FdtError::UnterminatedReservations)?;
        at += 16;
        if entry.iter().all(|&b| b == 0) {
            return Ok((start, at));
        }
    }
}

/// One structure-block token with its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// A node starts; `props` is the offset of the token after its name.
    BeginNode {
        name: &'a [u8],
        props: u32,
    },
    EndNode,
    Prop {
        name_off: u32,
        value: &'a [u8],
    },
    End,
}

/// A bounds-checked reader over the structure block. NOP tokens are skipped.
#[derive(Clone, Debug)]
pub struct TokenCursor<'a> {
    fdt: Fdt<'a>,
    pos: usize,
}

impl<'a> TokenCursor<'a> {
    /// Offset of the next token.
    pub fn position(&self) -> u32 {
        self.pos as u32
    }

    /// Read the next token. A block that ends without END is an error.
    pub fn next_token(&mut self) -> Result<Token<'a>, FdtError> {
        let s = self.fdt.structure;
        loop {
            let at = self.pos;
            let offset = at as u32;
            let Some(tok) = be32(s, at) else {
                return Err(FdtError::MissingEnd);
            };
            self.pos = at + 4;
            match tok {
                TOK_NOP => continue,
                TOK_BEGIN_NODE => {
                    let name = cstr(s, self.pos).ok_or(FdtError::BadString { offset })?;
                    self.pos = align4(self.pos + name.len() + 1);
                    return Ok(Token::BeginNode {
                        name,
                        props: self.pos as u32,
                    });
                }
                TOK_END_NODE => return Ok(Token::EndNode),
                TOK_PROP => {
                    let len = be32(s, self.pos).ok_or(FdtError::BadProperty { offset })?;
                    let name_off = be32(s, self.pos + 4).ok_or(FdtError::BadProperty { offset })?;
                    let start = self.pos + 8;
                    let end = start
                        .checked_add(len as usize)
                        .ok_or(FdtError::BadProperty { offset })?;
                    let value = s.get(start..end).ok_or(FdtError::BadProperty { offset })?;
                    self.pos = align4(end);
                    return Ok(Token::Prop { name_off, value });
                }
                TOK_END => return Ok(Token::End),
                token => return Err(FdtError::BadToken { offset, token }),
            }
        }
    }
}
