//! Byte offsets to lines and columns, for every renderer and the generator.
//!
//! [`LineIndex`] is built once per source in one pass; each look-up after
//! that is a binary search over line starts plus a count over at most one
//! [`CHUNK`] of bytes. Scanning from byte 0 for every label made rendering
//! many diagnostics quadratic (8,000 errors on one line took 11 s) and so
//! did the generator's `file:line` doc comments.

use core::ops::Range;

/// Bytes between two character-count checkpoints. A column is counted from
/// the nearest checkpoint, so even a megabyte line costs at most this much
/// per look-up; the checkpoints take 1/128 of the source's size.
pub const CHUNK: usize = 1024;

/// Line starts of one source, and character counts at every [`CHUNK`].
#[derive(Clone, Debug)]
pub struct LineIndex<'s> {
    source: &'s str,
    starts: Starts,
    /// `chars[k]`: characters in `source[..k * CHUNK]` (a byte position
    /// inside a character counts that character once it has begun).
    chars: Vec<usize>,
    /// `astral[k]`: characters outside the Basic Multilingual Plane (four
    /// UTF-8 bytes, two UTF-16 units) begun in `source[..k * CHUNK]`.
    astral: Vec<usize>,
}

/// Line starts as `u32` when the source allows (half the memory for a file
/// of short lines), `usize` beyond 4 GiB.
#[derive(Clone, Debug)]
enum Starts {
    Narrow(Vec<u32>),
    Wide(Vec<usize>),
}

impl Starts {
    fn len(&self) -> usize {
        match self {
            Starts::Narrow(v) => v.len(),
            Starts::Wide(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Option<usize> {
        match self {
            Starts::Narrow(v) => v.get(i).map(|&s| s as usize),
            Starts::Wide(v) => v.get(i).copied(),
        }
    }

    /// Index of the last start `<= offset` (there always is one: 0).
    fn line_of(&self, offset: usize) -> usize {
        let after = match self {
            Starts::Narrow(v) => {
                let offset = u32::try_from(offset).unwrap_or(u32::MAX);
                v.partition_point(|&s| s <= offset)
            }
            Starts::Wide(v) => v.partition_point(|&s| s <= offset),
        };
        after.saturating_sub(1)
    }
}

/// Whether `b` begins a UTF-8 character (is not a continuation byte).
fn starts_char(b: u8) -> bool {
    (b as i8) >= -0x40
}

fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| starts_char(b)).count()
}

/// Characters begun in `bytes` that take two UTF-16 units (lead byte 0xF0
/// and up).
fn count_astral(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b >= 0xf0).count()
}

impl<'s> LineIndex<'s> {
    /// Indexes `source` in one pass. Lines end at `\n`; a `\r` before it is
    /// part of no line's text ([`LineIndex::line_text`]).
    pub fn new(source: &'s str) -> Self {
        let bytes = source.as_bytes();
        let newlines = source.match_indices('\n').map(|(i, _)| i + 1);
        let starts = if u32::try_from(bytes.len()).is_ok() {
            // Every start fits: it is at most the source's length.
            Starts::Narrow(
                core::iter::once(0)
                    .chain(newlines.map(|s| s as u32))
                    .collect(),
            )
        } else {
            Starts::Wide(core::iter::once(0).chain(newlines).collect())
        };
        let mut chars = Vec::with_capacity(bytes.len() / CHUNK + 1);
        let mut astral = Vec::with_capacity(bytes.len() / CHUNK + 1);
        let (mut total, mut wide) = (0, 0);
        chars.push(0);
        astral.push(0);
        for chunk in bytes.chunks(CHUNK) {
            total += count_chars(chunk);
            wide += count_astral(chunk);
            chars.push(total);
            astral.push(wide);
        }
        LineIndex {
            source,
            starts,
            chars,
            astral,
        }
    }

    /// The indexed text.
    pub fn source(&self) -> &'s str {
        self.source
    }

    /// Number of lines (a source without `\n` has one; a final `\n` starts
    /// an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// `offset` clamped to the source and moved back to a character start.
    pub fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// 0-based line of a byte offset (clamped to the source).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.line_of(self.clamp(offset))
    }

    /// Byte range of 0-based line `line`'s text, without its `\n` or a
    /// `\r` before it. Lines past the end give an empty range at the end.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let len = self.source.len();
        let Some(start) = self.starts.get(line) else {
            return len..len;
        };
        let mut end = self.starts.get(line + 1).map_or(len, |next| next - 1);
        if end > start && self.source.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// 0-based line `line`'s text (see [`LineIndex::line_range`]).
    pub fn line_text(&self, line: usize) -> &'s str {
        let r = self.line_range(line);
        // Both ends sit next to a `\n`/`\r` or at the source's ends, so they
        // are character boundaries; `get` keeps that a fact, not a panic.
        self.source.get(r).unwrap_or("")
    }

    /// Characters in `source[..offset]`, from the nearest checkpoint.
    fn chars_before(&self, offset: usize) -> usize {
        let offset = offset.min(self.source.len());
        let k = offset / CHUNK;
        let base = self.chars.get(k).copied().unwrap_or(0);
        base + count_chars(&self.source.as_bytes()[k * CHUNK..offset])
    }

    /// Characters in `source[from..to]` (`from <= to`, both clamped).
    pub fn chars_between(&self, from: usize, to: usize) -> usize {
        let (from, to) = (self.clamp(from), self.clamp(to));
        if to <= from {
            return 0;
        }
        if to - from <= CHUNK {
            return count_chars(&self.source.as_bytes()[from..to]);
        }
        self.chars_before(to) - self.chars_before(from)
    }

    /// UTF-16 code units in `source[from..to]` (both clamped): what LSP
    /// clients and JavaScript count as columns.
    pub fn utf16_between(&self, from: usize, to: usize) -> usize {
        let (from, to) = (self.clamp(from), self.clamp(to));
        if to <= from {
            return 0;
        }
        let chars = self.chars_between(from, to);
        let bytes = self.source.as_bytes();
        let wide = if to - from <= CHUNK {
            count_astral(&bytes[from..to])
        } else {
            let before = |offset: usize| {
                let k = offset / CHUNK;
                self.astral.get(k).copied().unwrap_or(0) + count_astral(&bytes[k * CHUNK..offset])
            };
            before(to) - before(from)
        };
        chars + wide
    }

    /// 1-based column in UTF-16 code units of a byte offset (clamped as in
    /// [`LineIndex::line_col`]).
    pub fn column_utf16(&self, offset: usize) -> usize {
        let offset = self.clamp(offset);
        let line = self.starts.line_of(offset);
        let start = self.starts.get(line).unwrap_or(0);
        self.utf16_between(start, offset) + 1
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets
    /// past the end or inside a UTF-8 sequence are clamped to the nearest
    /// character start before them.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.starts.line_of(offset);
        let start = self.starts.get(line).unwrap_or(0);
        (line + 1, self.chars_between(start, offset) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: count from byte 0.
    fn slow(source: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }

    #[test]
    fn agrees_with_counting_from_the_start() {
        let long = "é".repeat(3 * CHUNK) + "x\n";
        let cases = ["", "\n", "a\nbc\n\nd", "ä\r\nö€\n𝄞x", long.as_str()];
        for src in cases {
            let index = LineIndex::new(src);
            for offset in 0..=src.len() + 2 {
                assert_eq!(
                    index.line_col(offset),
                    slow(src, offset),
                    "{src:?} @ {offset}"
                );
            }
        }
    }

    #[test]
    fn utf16_columns_count_astral_characters_twice() {
        let long = "😀é".repeat(CHUNK) + "x";
        for src in ["a😀b\né€c", long.as_str()] {
            let index = LineIndex::new(src);
            for offset in 0..=src.len() {
                let offset = index.clamp(offset);
                let line_start = src[..offset].rfind('\n').map_or(0, |i| i + 1);
                let want = src[line_start..offset].encode_utf16().count() + 1;
                assert_eq!(index.column_utf16(offset), want, "@ {offset}");
            }
        }
    }

    #[test]
    fn line_text_drops_the_line_end() {
        let index = LineIndex::new("ab\r\ncd\nlast");
        assert_eq!(index.line_count(), 3);
        assert_eq!(index.line_text(0), "ab");
        assert_eq!(index.line_text(1), "cd");
        assert_eq!(index.line_text(2), "last");
        assert_eq!(index.line_text(3), "");
        assert_eq!(index.line_of(5), 1);
    }

    #[test]
    fn a_megabyte_line_of_multibyte_characters() {
        let src = format!("x\n{}", "ü".repeat(1 << 20));
        let index = LineIndex::new(&src);
        let end = src.len();
        assert_eq!(index.line_col(end), (2, (1 << 20) + 1));
        // Inside a character: clamped back to its start.
        assert_eq!(index.line_col(end - 1), (2, 1 << 20));
        assert_eq!(index.chars_between(2, end), 1 << 20);
    }
}
