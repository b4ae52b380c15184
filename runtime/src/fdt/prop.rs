//! Property values: cells, strings and string lists, all bounds-checked.

use super::blob::{be32, Token, TokenCursor};

/// One property of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Property<'a> {
    pub(crate) name_off: u32,
    pub value: &'a [u8],
}

impl<'a> Property<'a> {
    /// The value as exactly one big-endian cell.
    pub fn as_u32(&self) -> Option<u32> {
        (self.value.len() == 4)
            .then(|| be32(self.value, 0))
            .flatten()
    }

    /// The value as cells; `None` when its length is not a multiple of 4.
    pub fn cells(&self) -> Option<Cells<'a>> {
        (self.value.len() % 4 == 0).then_some(Cells { bytes: self.value })
    }

    /// A single string value without its NUL.
    pub fn as_str_bytes(&self) -> Option<&'a [u8]> {
        let (last, body) = self.value.split_last()?;
        (*last == 0).then_some(body)
    }

    /// The value as a list of NUL-terminated strings (`compatible`).
    pub fn strings(&self) -> StrList<'a> {
        StrList { rest: self.value }
    }
}

/// A sequence of big-endian 32-bit cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cells<'a> {
    bytes: &'a [u8],
}

impl<'a> Cells<'a> {
    pub fn len(&self) -> usize {
        self.bytes.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<u32> {
        be32(self.bytes, i.checked_mul(4)?)
    }

    /// Take `n` cells off the front.
    pub fn split(&self, n: usize) -> Option<(Cells<'a>, Cells<'a>)> {
        let at = n.checked_mul(4)?;
        (at <= self.bytes.len()).then(|| {
            let (a, b) = self.bytes.split_at(at);
            (Cells { bytes: a }, Cells { bytes: b })
        })
    }

    /// Read `n` cells (0..=2 significant; more cells keep the low 64 bits,
    /// as PCI's three-cell addresses need) as one number.
    pub fn number(&self) -> u64 {
        (0..self.len()).fold(0u64, |acc, i| {
            (acc << 32) | u64::from(self.get(i).unwrap_or(0))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
}

/// NUL-terminated strings, in order. A last string without its NUL is still
/// returned (Linux's string-list readers are equally lenient).
#[derive(Clone, Copy, Debug)]
pub struct StrList<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for StrList<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self.rest.iter().position(|&b| b == 0);
        let (s, rest) = match end {
            Some(e) => (&self.rest[..e], &self.rest[e + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some(s)
    }
}

/// The properties of one node. Stops (without error) at the first child,
/// the node's end, or any malformed token: indexing has already validated
/// the whole structure block, so the last case cannot arise on an indexed
/// tree.
pub struct PropertyIter<'a> {
    cursor: Option<TokenCursor<'a>>,
}

impl<'a> PropertyIter<'a> {
    pub(crate) fn new(cursor: TokenCursor<'a>) -> Self {
        Self {
            cursor: Some(cursor),
        }
    }
}

impl<'a> Iterator for PropertyIter<'a> {
    type Item = Property<'a>;
    fn next(&mut self) -> Option<Property<'a>> {
        let cursor = self.cursor.as_mut()?;
        match cursor.next_token() {
            Ok(Token::Prop { name_off, value }) => Some(Property { name_off, value }),
            _ => {
                self.cursor = None;
                None
            }
        }
    }
}
