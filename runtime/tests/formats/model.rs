//! What should be mapped, kept as plainly as possible: disjoint intervals
//! of input addresses with their output address and attributes.

use std::fmt::Debug;

/// One mapped interval (or one leaf a reference walker found).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span<A> {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub attrs: A,
}

/// Disjoint spans; `A` is the reference walker's attribute type.
#[derive(Debug, Clone)]
pub struct Model<A> {
    pub spans: Vec<Span<A>>,
}

impl<A> Default for Model<A> {
    fn default() -> Self {
        Model { spans: Vec::new() }
    }
}

impl<A: Copy + Debug + Eq> Model<A> {
    pub fn overlaps(&self, ia: u64, size: u64) -> bool {
        self.spans
            .iter()
            .any(|s| s.ia < ia + size && ia < s.ia + s.size)
    }

    pub fn map(&mut self, ia: u64, size: u64, pa: u64, attrs: A) {
        assert!(!self.overlaps(ia, size), "model: map over a mapping");
        self.spans.push(Span {
            ia,
            size,
            pa,
            attrs,
        });
    }

    /// Remove `[ia, ia + size)`; returns the bytes that were mapped.
    pub fn unmap(&mut self, ia: u64, size: u64) -> u64 {
        let end = ia + size;
        let mut removed = 0;
        let mut kept = Vec::new();
        for s in self.spans.drain(..) {
            let s_end = s.ia + s.size;
            if s_end <= ia || end <= s.ia {
                kept.push(s);
                continue;
            }
            let (lo, hi) = (s.ia.max(ia), s_end.min(end));
            removed += hi - lo;
            if s.ia < lo {
                kept.push(Span {
                    size: lo - s.ia,
                    ..s
                });
            }
            if hi < s_end {
                kept.push(Span {
                    ia: hi,
                    size: s_end - hi,
                    pa: s.pa + (hi - s.ia),
                    attrs: s.attrs,
                });
            }
        }
        self.spans = kept;
        removed
    }

    /// Remove the first `got` mapped bytes of `[ia, ia + size)`, for an
    /// unmap that stopped early (fewer bytes than mapped there); returns
    /// where it stopped: the first byte of the range still mapped.
    pub fn unmap_prefix(&mut self, ia: u64, size: u64, got: u64) -> u64 {
        let end = ia + size;
        let mut parts: Vec<(u64, u64)> = self
            .spans
            .iter()
            .filter(|s| s.ia < end && ia < s.ia + s.size)
            .map(|s| (s.ia.max(ia), (s.ia + s.size).min(end)))
            .collect();
        parts.sort_unstable();
        let mut left = got;
        let mut stop = None;
        for (lo, hi) in parts {
            if left < hi - lo {
                stop = Some(lo + left);
                break;
            }
            left -= hi - lo;
        }
        let stop = stop.expect("model: a short unmap removed everything mapped");
        self.unmap(ia, stop - ia);
        stop
    }

    pub fn lookup(&self, ia: u64) -> Option<u64> {
        self.spans
            .iter()
            .find(|s| s.ia <= ia && ia < s.ia + s.size)
            .map(|s| s.pa + (ia - s.ia))
    }
}

/// Sort and join spans that continue each other (same attributes, output
/// continuing the input), so that leaves of any size compare with the
/// model's intervals.
pub fn normalise<A: Copy + Eq>(mut v: Vec<Span<A>>) -> Vec<Span<A>> {
    v.sort_by_key(|s| s.ia);
    let mut out: Vec<Span<A>> = Vec::new();
    for s in v {
        if let Some(last) = out.last_mut() {
            if last.ia + last.size == s.ia && last.pa + last.size == s.pa && last.attrs == s.attrs {
                last.size += s.size;
                continue;
            }
        }
        out.push(s);
    }
    out
}
