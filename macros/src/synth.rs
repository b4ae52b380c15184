//! A synthetic `.iommu` source built from Rust tokens, remembering which
//! token each byte came from, so the checker's byte spans map back to the
//! attribute's argument tokens.

use core::ops::Range;

use proc_macro2::Span;

/// DSL text plus a map from byte ranges to the Rust tokens they came from.
#[derive(Default)]
pub struct Synth {
    pub text: String,
    map: Vec<(Range<usize>, Span)>,
}

impl Synth {
    /// Append `text` produced from a token at `span`.
    pub fn push(&mut self, text: &str, span: Span) {
        let start = self.text.len();
        self.text.push_str(text);
        self.map.push((start..self.text.len(), span));
    }

    /// Append a separator (space, newline): belongs to no token.
    pub fn sep(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Append another synthetic text (its map shifted accordingly).
    pub fn append(&mut self, other: Synth) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.map.extend(
            other
                .map
                .into_iter()
                .map(|(r, s)| (r.start + base..r.end + base, s)),
        );
    }

    /// The tokens covering `range`: the first and the last whose text
    /// overlaps it (or the nearest token before it, for empty or
    /// between-token ranges such as "expected `;`").
    pub fn spans(&self, range: &Range<usize>) -> Option<(Span, Span)> {
        let overlaps =
            |r: &Range<usize>| r.start < range.end.max(range.start + 1) && range.start < r.end;
        let mut hits = self.map.iter().filter(|(r, _)| overlaps(r));
        if let Some((_, first)) = hits.next() {
            let last = hits.next_back().map_or(*first, |(_, s)| *s);
            return Some((*first, last));
        }
        self.map
            .iter()
            .rev()
            .find(|(r, _)| r.end <= range.start)
            .or(self.map.first())
            .map(|(_, s)| (*s, *s))
    }
}
