//! Byte offsets to editor positions (line, UTF-16 column) and back.
//!
//! Editors speaking the Language Server Protocol count lines ended by `\n`,
//! `\r\n` or a lone `\r`, and columns in UTF-16 code units. The dsl's
//! [`LineIndex`] ends lines at `\n` only (the lexer reads a lone `\r` as a
//! space), so for a file with `\n` or `\r\n` ends both agree line for line
//! (tested below); a lone `\r` starts a new line here, as the editor shows
//! it. Columns are counted by [`LineIndex::utf16_between`], whose
//! checkpoints keep a look-up on a megabyte line cheap.

use crate::lines::LineIndex;

/// An editor position: 0-based line, 0-based column in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// Line starts of one source by the editor's rules, and its character
/// checkpoints (the dsl's [`LineIndex`]).
#[derive(Clone, Debug)]
pub struct Positions<'s> {
    source: &'s str,
    starts: Vec<usize>,
    chars: LineIndex<'s>,
}

impl<'s> Positions<'s> {
    /// Indexes `source` in one pass.
    pub fn new(source: &'s str) -> Self {
        let bytes = source.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        Positions {
            source,
            starts,
            chars: LineIndex::new(source),
        }
    }

    pub fn source(&self) -> &'s str {
        self.source
    }

    /// Number of lines (a final line end starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The position of a byte offset (clamped to the source, moved back to
    /// a character start).
    pub fn position(&self, offset: usize) -> Position {
        let offset = self.chars.clamp(offset);
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        Position {
            line: saturate(line),
            column: saturate(self.chars.utf16_between(start, offset)),
        }
    }

    /// Byte range of a line's text, without its line end. A line past the
    /// last gives the empty range at the end.
    pub fn line_range(&self, line: usize) -> core::ops::Range<usize> {
        let len = self.source.len();
        let Some(&start) = self.starts.get(line) else {
            return len..len;
        };
        let mut end = self.starts.get(line + 1).copied().unwrap_or(len);
        let bytes = self.source.as_bytes();
        if end > start && line + 1 < self.starts.len() {
            end -= 1;
            if bytes[end] == b'\n' && end > start && bytes[end - 1] == b'\r' {
                end -= 1;
            }
        }
        start..end
    }

    /// The byte offset of a position. Editors may send positions past a
    /// line's end or past the last line (the protocol says: the line's end,
    /// the document's end); a column inside a surrogate pair lands before
    /// the character. Never panics.
    pub fn offset(&self, at: Position) -> usize {
        let line = at.line as usize;
        if line >= self.starts.len() {
            return self.source.len();
        }
        let range = self.line_range(line);
        let text = self.source.get(range.clone()).unwrap_or("");
        let mut units = 0usize;
        let want = at.column as usize;
        for (i, c) in text.char_indices() {
            let next = units + c.len_utf16();
            if next > want {
                return range.start + i;
            }
            units = next;
        }
        range.end
    }
}

/// [`Positions::offset`] without an index: scans `source` from its start
/// to the position only (an edit's range in a large file costs the bytes
/// before it, not an index of the whole file).
pub fn offset_of(source: &str, at: Position) -> usize {
    let bytes = source.as_bytes();
    let mut start = 0;
    let mut line = 0u32;
    while line < at.line {
        let Some(i) = bytes[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        else {
            return source.len();
        };
        start += i + 1;
        if bytes[start - 1] == b'\r' && bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        line += 1;
    }
    let mut units = 0usize;
    for (i, c) in source[start..].char_indices() {
        if c == '\n' || c == '\r' {
            return start + i;
        }
        let next = units + c.len_utf16();
        if next > at.column as usize {
            return start + i;
        }
        units = next;
    }
    source.len()
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn agrees_with_the_dsl_line_index_for_lf_and_crlf() {
        for src in ["a\nbc\r\n\nd😀e\r\n", "", "x", "é\r\n€\n"] {
            let ours = Positions::new(src);
            let dsl = LineIndex::new(src);
            for offset in 0..=src.len() {
                let offset = dsl.clamp(offset);
                let p = ours.position(offset);
                let line = dsl.line_of(offset);
                // Inside a `\r\n` the dsl's line has not ended yet.
                if src.as_bytes().get(offset) == Some(&b'\n')
                    && offset > 0
                    && src.as_bytes()[offset - 1] == b'\r'
                {
                    continue;
                }
                assert_eq!(p.line as usize, line, "{src:?} @ {offset}");
                assert_eq!(p.column as usize + 1, dsl.column_utf16(offset));
            }
        }
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        let p = Positions::new("ab\rcd\r\nef");
        assert_eq!(p.line_count(), 3);
        assert_eq!(p.position(3), pos(1, 0));
        assert_eq!(p.position(7), pos(2, 0));
        assert_eq!(p.offset(pos(1, 1)), 4);
        assert_eq!(p.line_range(0), 0..2);
        assert_eq!(p.line_range(1), 3..5);
        assert_eq!(p.line_range(2), 7..9);
    }

    #[test]
    fn round_trips_and_clamps() {
        let src = "a😀b\n\u{e9}x\r\n";
        let p = Positions::new(src);
        for offset in 0..=src.len() {
            if src.is_char_boundary(offset) && offset != src.len() - 1 {
                assert_eq!(p.offset(p.position(offset)), offset, "@ {offset}");
            }
        }
        assert_eq!(p.position(2), pos(0, 1), "inside 😀: its start");
        assert_eq!(p.offset(pos(0, 2)), 1, "inside the pair: before it");
        assert_eq!(p.offset(pos(0, 99)), 6, "past the line: its end");
        assert_eq!(p.offset(pos(99, 0)), src.len());
        assert_eq!(p.position(usize::MAX), pos(2, 0));
    }

    #[test]
    fn offset_of_agrees_with_the_index() {
        for src in ["a😀b\r\ncd\ref\n\ngh", "", "\r\r\n\n", "x\u{e9}"] {
            let p = Positions::new(src);
            for line in 0..6 {
                for column in 0..6 {
                    let at = pos(line, column);
                    assert_eq!(offset_of(src, at), p.offset(at), "{src:?} {at:?}");
                }
            }
        }
    }

    #[test]
    fn a_megabyte_line() {
        let src = "ü".repeat(1 << 20);
        let p = Positions::new(&src);
        assert_eq!(p.position(src.len()), pos(0, 1 << 20));
        assert_eq!(p.offset(pos(0, 1 << 20)), src.len());
    }
}
