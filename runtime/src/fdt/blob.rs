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
    /// A block offset or size points outside the blob.
    BadLayout,
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
    /// Check the header and slice the structure and strings blocks.
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
        let block = |off: u32, len: u32| -> Result<&'a [u8], FdtError> {
            let start = off as usize;
            let end = start.checked_add(len as usize).ok_or(FdtError::BadLayout)?;
            data.get(start..end).ok_or(FdtError::BadLayout)
        };
        let strings = block(word(3)?, word(8)?)?;
        // Version 16 headers have no size_dt_struct: the block runs to the end.
        let structure = if version >= 17 {
            block(word(2)?, word(9)?)?
        } else {
            data.get(word(2)? as usize..).ok_or(FdtError::BadLayout)?
        };
        Ok(Fdt { structure, strings })
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

    /// Read the next token. A block that ends without END reads as `End`.
    pub fn next_token(&mut self) -> Result<Token<'a>, FdtError> {
        let s = self.fdt.structure;
        loop {
            let at = self.pos;
            let offset = at as u32;
            let Some(tok) = be32(s, at) else {
                return Ok(Token::End);
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
