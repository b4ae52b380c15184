//! Cuts source text into items before pest sees it.
//!
//! pest stops at the first error of a parse. To report several independent
//! errors per file, the parser hands pest one item at a time: a driver header,
//! a statement ending in `;`, or a block header. This scanner finds those
//! boundaries from the few characters that matter (`;`, braces, strings and
//! comments), so it needs no knowledge of the grammar and cannot fail.

/// One item found by [`scan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Ends in `;` at depth 0 (`terminated`) or runs into the end of its
    /// enclosing block / the file (not terminated).
    Stmt {
        start: usize,
        end: usize,
        terminated: bool,
    },
    /// Has a `{` at depth 0; `close` is its matching `}` if there is one.
    Block {
        start: usize,
        open: usize,
        close: Option<usize>,
    },
}

/// Skips whitespace and comments, but not `///` doc comments, which belong to
/// the item that follows.
pub(crate) fn skip_trivia(src: &[u8], mut pos: usize) -> usize {
    loop {
        while pos < src.len() && src[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if src[pos..].starts_with(b"///") && !src[pos..].starts_with(b"////") {
            return pos;
        }
        if src[pos..].starts_with(b"//") {
            pos = line_end(src, pos);
        } else if src[pos..].starts_with(b"/*") {
            pos = block_comment_end(src, pos);
        } else {
            return pos;
        }
    }
}

/// Where the trivia from `pos` holds a `/*` that is never closed (the
/// comment then runs to the end of `src`), if it does.
pub(crate) fn open_comment(src: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        while pos < src.len() && src[pos].is_ascii_whitespace() {
            pos += 1;
        }
        let rest = src.get(pos..)?;
        if rest.starts_with(b"///") && !rest.starts_with(b"////") {
            return None;
        }
        if rest.starts_with(b"//") {
            pos = line_end(src, pos);
        } else if rest.starts_with(b"/*") {
            let end = block_comment_end(src, pos);
            if end == src.len() && !src[pos + 2..].ends_with(b"*/") {
                return Some(pos);
            }
            pos = end;
        } else {
            return None;
        }
    }
}

fn line_end(src: &[u8], pos: usize) -> usize {
    src[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(src.len(), |i| pos + i)
}

fn block_comment_end(src: &[u8], pos: usize) -> usize {
    src[pos + 2..]
        .windows(2)
        .position(|w| w == b"*/")
        .map_or(src.len(), |i| pos + 2 + i + 2)
}

/// End of a string literal starting at `pos` (which holds `"`): just past the
/// closing quote, or the end of the line if it is unterminated.
fn string_end(src: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while i < src.len() {
        match src[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    src.len()
}

/// Scans the item starting at `start` (a non-trivia byte, not `}`).
pub(crate) fn scan(src: &[u8], start: usize) -> Piece {
    let mut depth = 0usize;
    let mut open = None;
    let mut i = start;
    while i < src.len() {
        match src[i] {
            b'"' => {
                i = string_end(src, i);
                continue;
            }
            b'/' if src[i..].starts_with(b"//") => {
                i = line_end(src, i);
                continue;
            }
            b'/' if src[i..].starts_with(b"/*") => {
                i = block_comment_end(src, i);
                continue;
            }
            b';' if depth == 0 => {
                return Piece::Stmt {
                    start,
                    end: i + 1,
                    terminated: true,
                }
            }
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            b'}' => {
                if depth == 0 {
                    // Closes the enclosing block: this item ran into it.
                    return Piece::Stmt {
                        start,
                        end: trim_end(src, start, i),
                        terminated: false,
                    };
                }
                depth -= 1;
                if depth == 0 {
                    if let Some(open) = open {
                        return Piece::Block {
                            start,
                            open,
                            close: Some(i),
                        };
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    match open {
        Some(open) => Piece::Block {
            start,
            open,
            close: None,
        },
        None => Piece::Stmt {
            start,
            end: trim_end(src, start, src.len()),
            terminated: false,
        },
    }
}

/// `end` moved back over trailing whitespace, not before `start`.
fn trim_end(src: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && src[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// The first word of the item at `start` after any doc comments, with its
/// byte range: letters, digits, `_` and `-` (so `page-table` is one word).
pub(crate) fn first_word(src: &[u8], start: usize) -> (usize, usize) {
    let mut pos = start;
    loop {
        pos = skip_trivia(src, pos);
        if src[pos..].starts_with(b"///") {
            pos = line_end(src, pos);
        } else {
            break;
        }
    }
    let begin = pos;
    while pos < src.len()
        && (src[pos].is_ascii_alphanumeric() || src[pos] == b'_' || src[pos] == b'-')
    {
        pos += 1;
    }
    (begin, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_ends_at_semicolon_outside_strings() {
        let src = br#"compatible "a;b"; cells 1;"#;
        assert_eq!(
            scan(src, 0),
            Piece::Stmt {
                start: 0,
                end: 17,
                terminated: true
            }
        );
    }

    #[test]
    fn block_spans_to_matching_brace() {
        let src = b"dma { domain per-device; } x";
        assert_eq!(
            scan(src, 0),
            Piece::Block {
                start: 0,
                open: 4,
                close: Some(25)
            }
        );
    }

    #[test]
    fn unterminated_statement_stops_before_enclosing_brace() {
        let src = b"cells 1 \n}";
        assert_eq!(
            scan(src, 0),
            Piece::Stmt {
                start: 0,
                end: 7,
                terminated: false
            }
        );
    }

    #[test]
    fn comments_hide_braces_and_semicolons() {
        let src = b"x /* ; { */ // ;\n y;";
        assert_eq!(
            scan(src, 0),
            Piece::Stmt {
                start: 0,
                end: 20,
                terminated: true
            }
        );
    }

    #[test]
    fn trivia_keeps_doc_comments() {
        let src = b"  // c\n /// d\n driver";
        assert_eq!(skip_trivia(src, 0), 8);
        assert_eq!(first_word(src, 0), (15, 21));
    }
}
