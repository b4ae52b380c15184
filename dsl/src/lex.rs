//! The lossless lexer: source text to tokens that cover every byte.
//!
//! The parser reads items straight from the text (`split.rs`, `fast.rs`,
//! pest); tools that must keep everything the parser skips (the formatter,
//! and next the editor server) read this token stream instead: comments,
//! doc comments, spaces and newlines are tokens too, so concatenating the
//! tokens' text gives the source back byte for byte. It never fails: a byte
//! the language has no use for is an [`Kind::Other`] token, and an
//! unterminated string or block comment ends where `split.rs` ends it.
//!
//! Words are cut where the grammar's `ident` ends, so a dashed word such as
//! `arm-lpae-s1` is five tokens (`arm`, `-`, `lpae`, `-`, `s1`): whether a
//! `-` joins a word or subtracts is the reader's business (the formatter
//! knows it from the statement).

use core::ops::Range;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Spaces, tabs and carriage returns (never `\n`).
    Space,
    /// One `\n`.
    Newline,
    /// `// …` (also `//// …`), without trailing spaces or the line end.
    LineComment,
    /// `/// …`, without trailing spaces or the line end.
    DocComment,
    /// `/* … */`, not nested, possibly over several lines; unterminated it
    /// runs to the end of the source.
    BlockComment,
    /// A name or keyword: a letter or `_`, then letters, digits and `_`.
    Ident,
    /// A digit, then letters, digits and `_` (`0x1f`, `4K`, `1_000`): the
    /// text as written; the parser says whether it is a valid number.
    Number,
    /// `"…"` with `\` escapes; unterminated it ends before the line end.
    Str,
    /// Punctuation and operators, longest match first (`>>` before `>`).
    Punct,
    /// One character the language has no use for here (non-ASCII outside
    /// strings and comments, a form feed, `@`, …).
    Other,
}

impl Kind {
    /// Spaces and newlines: the layout a formatter may change.
    pub fn is_layout(self) -> bool {
        matches!(self, Kind::Space | Kind::Newline)
    }

    /// Comments of every kind, doc comments included.
    pub fn is_comment(self) -> bool {
        matches!(
            self,
            Kind::LineComment | Kind::DocComment | Kind::BlockComment
        )
    }
}

/// One token: its kind and its byte range in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub span: Range<usize>,
}

impl Token {
    /// The token's text in `source` (the source it was lexed from).
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        source.get(self.span.clone()).unwrap_or("")
    }
}

/// Multi-byte punctuation, longest first where one is a prefix of another.
const PUNCT2: [&[u8; 2]; 10] = [
    b"::", b"..", b">>", b"<<", b"<=", b">=", b"==", b"!=", b"&&", b"||",
];

/// Single-byte punctuation.
const PUNCT1: &[u8] = b"{}[]();,:=|&^+-*!<>.";

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every token of `source`, in order; their spans tile it exactly.
pub fn lex(source: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(source.len() / 3 + 1);
    out.extend(tokens(source));
    out
}

/// The tokens of [`lex`] one at a time, for a reader that keeps only some.
pub fn tokens(source: &str) -> impl Iterator<Item = Token> + '_ {
    let mut pos = 0;
    core::iter::from_fn(move || {
        if pos >= source.len() {
            return None;
        }
        let (kind, end) = next(source, pos);
        let token = Token {
            kind,
            span: pos..end,
        };
        pos = end;
        Some(token)
    })
}

/// The token starting at `pos` (< `source.len()`): its kind and end.
fn next(source: &str, pos: usize) -> (Kind, usize) {
    let bytes = source.as_bytes();
    let rest = &bytes[pos..];
    let run =
        |from: usize, f: fn(u8) -> bool| from + bytes[from..].iter().take_while(|&&b| f(b)).count();
    match rest[0] {
        b'\n' => (Kind::Newline, pos + 1),
        b' ' | b'\t' | b'\r' => (Kind::Space, run(pos, |b| matches!(b, b' ' | b'\t' | b'\r'))),
        b'/' if rest.starts_with(b"//") => {
            let doc = rest.starts_with(b"///") && !rest.starts_with(b"////");
            let kind = if doc {
                Kind::DocComment
            } else {
                Kind::LineComment
            };
            (kind, comment_line_end(bytes, pos))
        }
        b'/' if rest.starts_with(b"/*") => {
            let end = rest[2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(bytes.len(), |i| pos + 2 + i + 2);
            (Kind::BlockComment, end)
        }
        b'"' => (Kind::Str, string_end(bytes, pos)),
        b if b.is_ascii_alphabetic() || b == b'_' => (Kind::Ident, run(pos, is_ident_char)),
        b if b.is_ascii_digit() => (Kind::Number, run(pos, is_ident_char)),
        _ if PUNCT2.iter().any(|p| rest.starts_with(*p)) => (Kind::Punct, pos + 2),
        b if PUNCT1.contains(&b) => (Kind::Punct, pos + 1),
        _ => {
            // One whole character, so every span is a `str` range.
            let len = source[pos..].chars().next().map_or(1, char::len_utf8);
            (Kind::Other, pos + len)
        }
    }
}

/// End of a `//` comment at `pos`: the line end, less trailing spaces.
fn comment_line_end(bytes: &[u8], pos: usize) -> usize {
    let mut end = bytes[pos..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| pos + i);
    while end > pos + 2 && matches!(bytes[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    end
}

/// End of the string literal at `pos`: past its closing quote, or before
/// the line end (as `split.rs` cuts an unterminated string).
fn string_end(bytes: &[u8], pos: usize) -> usize {
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                // An escaped line end is still the line end.
                if bytes.get(i + 1) == Some(&b'\n') {
                    return i + 1;
                }
                i += 2;
            }
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        lex(src).iter().map(|t| (t.kind, t.text(src))).collect()
    }

    #[test]
    fn every_kind_once() {
        use Kind::*;
        let src = "/// d\nfield x: u8 = cell[0] >> 0x1f; // c  \n/* b */\"s\\\"\"é";
        assert_eq!(
            kinds(src),
            [
                (DocComment, "/// d"),
                (Newline, "\n"),
                (Ident, "field"),
                (Space, " "),
                (Ident, "x"),
                (Punct, ":"),
                (Space, " "),
                (Ident, "u8"),
                (Space, " "),
                (Punct, "="),
                (Space, " "),
                (Ident, "cell"),
                (Punct, "["),
                (Number, "0"),
                (Punct, "]"),
                (Space, " "),
                (Punct, ">>"),
                (Space, " "),
                (Number, "0x1f"),
                (Punct, ";"),
                (Space, " "),
                (LineComment, "// c"),
                (Space, "  "),
                (Newline, "\n"),
                (BlockComment, "/* b */"),
                (Str, "\"s\\\"\""),
                (Other, "é"),
            ]
        );
    }

    #[test]
    fn four_slashes_are_a_plain_comment() {
        assert_eq!(kinds("//// x")[0].0, Kind::LineComment);
        assert_eq!(kinds("///")[0].0, Kind::DocComment);
    }

    #[test]
    fn unterminated_pieces_end_where_split_ends_them() {
        assert_eq!(
            kinds("\"ab\ncd"),
            [
                (Kind::Str, "\"ab"),
                (Kind::Newline, "\n"),
                (Kind::Ident, "cd")
            ]
        );
        assert_eq!(kinds("/* a\n b"), [(Kind::BlockComment, "/* a\n b")]);
        assert_eq!(
            kinds("\"a\\\nb"),
            [
                (Kind::Str, "\"a\\"),
                (Kind::Newline, "\n"),
                (Kind::Ident, "b")
            ]
        );
    }

    #[test]
    fn the_tokens_tile_the_source() {
        for src in [
            "",
            "a",
            "driver d {\r\n cells 1|2; }\n",
            "\u{c}@#\"\\",
            "x-1..0x10 ::<<= !!",
            "😀 // é \n /* 😀",
        ] {
            let toks = lex(src);
            let joined: String = toks.iter().map(|t| t.text(src)).collect();
            assert_eq!(joined, src);
            assert!(toks.windows(2).all(|w| w[0].span.end == w[1].span.start));
        }
    }
}
