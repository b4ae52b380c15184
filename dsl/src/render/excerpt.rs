//! The part of a source one diagnostic shows, as miette reads it.
//!
//! Given the whole source, miette's graphical handler scans it from byte 0
//! for every label, and pads columns with `{:width$}`, which panics past
//! 65,535. An [`Excerpt`] holds only the lines around a diagnostic's labels;
//! a line longer than [`WHOLE_LINE`] characters is cut to a window around
//! its labels with `…` where text was left out, and the labels are re-based
//! into that text. miette is told each line's real number and the primary
//! label's real column, so the report names the true place.

use core::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::ir::Span;
use crate::lines::LineIndex;

/// Lines of at most this many characters are shown whole; longer ones are
/// cut to about this many around their labels.
pub const WHOLE_LINE: usize = 160;
/// At most this much of one label is shown on a cut line (its start).
const LABEL_CHARS: usize = 80;
/// Labels on one cut line share a window when they lie within this many
/// characters of each other; otherwise each gets its own snippet.
const SPREAD: usize = WHOLE_LINE - 40;
/// A label over more lines than this is shown on its first line only.
const MAX_LABEL_LINES: usize = 8;
/// Lines of context before and after (miette's default).
const CONTEXT: usize = 1;
/// Stands where text was left out.
const MARKER: &str = "…";

/// One label, clamped to the source: byte range and first/last line.
struct Mark {
    start: usize,
    end: usize,
    first: usize,
    last: usize,
}

/// What a group of nearby labels needs shown on one line (bytes).
struct Anchor {
    line: usize,
    lo: usize,
    hi: usize,
}

/// One shown line of the excerpt.
struct Shown {
    /// 0-based line in the source.
    line: usize,
    /// Excerpt offset of the line's first byte (its marker, if cut).
    at: usize,
    /// Excerpt range of the source text shown (markers excluded).
    text: Range<usize>,
    /// Source offset of `text.start`.
    from: usize,
    /// Source offset of `text.end`.
    to: usize,
    /// Source offset where the line's text ends (before `\r\n`).
    line_end: usize,
    /// Excerpt offset of the line's end: `\r\n` if the source has it
    /// there, else `\n`.
    eol: usize,
    /// 0-based character column of `from`.
    column: usize,
    /// Excerpt offset just past the line's `\n`.
    end: usize,
}

/// Consecutive source lines shown together.
struct Block {
    lines: Vec<Shown>,
}

impl Block {
    fn range(&self) -> Range<usize> {
        let start = self.lines.first().map_or(0, |l| l.at);
        let end = self.lines.last().map_or(0, |l| l.end);
        start..end
    }

    /// Index of the shown line holding excerpt offset `x`.
    fn line_at(&self, x: usize) -> usize {
        self.lines.partition_point(|l| l.at <= x).saturating_sub(1)
    }
}

/// Excerpt text and blocks; implements [`SourceCode`] for miette.
pub struct Excerpt {
    name: String,
    text: String,
    blocks: Vec<Block>,
}

/// Byte length of the first `limit` characters of `s` (all of it if shorter).
fn forward(s: &str, limit: usize) -> usize {
    s.char_indices().nth(limit).map_or(s.len(), |(i, _)| i)
}

/// Byte length of the last `limit` characters of `s`.
fn backward(s: &str, limit: usize) -> usize {
    if limit == 0 {
        return 0;
    }
    s.char_indices()
        .rev()
        .nth(limit - 1)
        .map_or(s.len(), |(i, _)| s.len() - i)
}

impl Excerpt {
    /// The excerpt for labels with `spans` (in any order) in the source
    /// `index` covers, and each span re-based into it, in the given order.
    pub fn new(name: &str, index: &LineIndex<'_>, spans: &[Span]) -> (Excerpt, Vec<SourceSpan>) {
        let src = index.source();
        let marks: Vec<Mark> = spans.iter().map(|s| mark(index, s)).collect();
        let mut order: Vec<usize> = (0..marks.len()).collect();
        order.sort_by_key(|&i| (marks[i].start, marks[i].end));

        // Group labels whose snippets would touch and whose windows fit.
        let mut groups: Vec<(usize, usize, Vec<Anchor>, Vec<usize>)> = Vec::new();
        for &i in &order {
            let m = &marks[i];
            let anchors = anchors(index, m);
            let joins = groups.last().is_some_and(|(_, last, have, _)| {
                m.first <= last + 2 * CONTEXT + 1 && fits(index, have, &anchors)
            });
            match groups.last_mut() {
                Some((_, last, have, members)) if joins => {
                    *last = (*last).max(m.last);
                    have.extend(anchors);
                    members.push(i);
                }
                _ => groups.push((m.first, m.last, anchors, vec![i])),
            }
        }

        let mut excerpt = Excerpt {
            name: name.to_owned(),
            text: String::new(),
            blocks: Vec::with_capacity(groups.len()),
        };
        let mut rebased = vec![SourceSpan::from(0..0); marks.len()];
        let last_line = last_shown_line(index, &marks);
        for (first, last, anchors, members) in &groups {
            let lines = first.saturating_sub(CONTEXT)..=(last + CONTEXT).min(last_line.max(*last));
            let block = excerpt.block(index, src, lines, anchors);
            for &i in members {
                let m = &marks[i];
                let start = block.map(m.start, m.first);
                let end = block.map(m.end, m.last).max(start);
                rebased[i] = SourceSpan::from(start..end);
            }
            excerpt.blocks.push(block);
        }
        (excerpt, rebased)
    }

    /// Appends the lines `lines` to the text as one block.
    fn block(
        &mut self,
        index: &LineIndex<'_>,
        src: &str,
        lines: core::ops::RangeInclusive<usize>,
        anchors: &[Anchor],
    ) -> Block {
        let mut shown = Vec::with_capacity(lines.clone().count());
        for line in lines {
            let whole = index.line_range(line);
            let (from, to) = window(index, src, whole.clone(), line, anchors);
            let at = self.text.len();
            if from > whole.start {
                self.text.push_str(MARKER);
            }
            let text_start = self.text.len();
            self.text.push_str(src.get(from..to).unwrap_or(""));
            let text_end = self.text.len();
            if to < whole.end {
                self.text.push_str(MARKER);
            }
            let eol = self.text.len();
            if src.as_bytes().get(whole.end) == Some(&b'\r') {
                self.text.push('\r');
            }
            self.text.push('\n');
            shown.push(Shown {
                line,
                at,
                text: text_start..text_end,
                from,
                to,
                line_end: whole.end,
                eol,
                column: index.chars_between(whole.start, from),
                end: self.text.len(),
            });
        }
        Block { lines: shown }
    }
}

impl Block {
    /// Excerpt offset of source offset `x`, which lies on source line `line`.
    fn map(&self, x: usize, line: usize) -> usize {
        let Some(first) = self.lines.first() else {
            return 0;
        };
        let Some(l) = self.lines.get(line.saturating_sub(first.line)) else {
            return self.range().end;
        };
        if x < l.from {
            l.text.start
        } else if x <= l.to {
            l.text.start + (x - l.from)
        } else if l.to < l.line_end {
            // Past a cut: the label runs on beyond what is shown.
            l.text.end
        } else {
            // Past the line's text: onto its line end, as miette shows it.
            l.eol + (x - l.line_end).min(l.end - l.eol)
        }
    }
}

/// Clamps a label to the source; one over too many lines keeps its first.
fn mark(index: &LineIndex<'_>, span: &Span) -> Mark {
    let start = index.clamp(span.start);
    let mut end = index.clamp(span.end.max(span.start));
    let first = index.line_of(start);
    let mut last = index.line_of(end.saturating_sub(1).max(start));
    if last - first > MAX_LABEL_LINES {
        end = index.line_range(first).end.max(start);
        last = first;
    }
    Mark {
        start,
        end,
        first,
        last,
    }
}

/// The label's start (at most [`LABEL_CHARS`] of it) on its first line and,
/// for a label over several lines, its end on its last.
fn anchors(index: &LineIndex<'_>, m: &Mark) -> Vec<Anchor> {
    let src = index.source();
    let first_end = index.line_range(m.first).end.max(m.start);
    let hi = m.end.min(first_end);
    let hi = m.start + forward(src.get(m.start..hi).unwrap_or(""), LABEL_CHARS);
    let mut out = vec![Anchor {
        line: m.first,
        lo: m.start,
        hi,
    }];
    if m.last != m.first {
        let line = index.line_range(m.last);
        let hi = m.end.clamp(line.start, line.end);
        let lo = hi - backward(src.get(line.start..hi).unwrap_or(""), 1);
        out.push(Anchor {
            line: m.last,
            lo,
            hi,
        });
    }
    out
}

/// Whether `new` anchors can share windows with `have` on every line.
fn fits(index: &LineIndex<'_>, have: &[Anchor], new: &[Anchor]) -> bool {
    new.iter().all(|n| {
        let same = have.iter().filter(|h| h.line == n.line);
        let lo = same.clone().map(|h| h.lo).fold(n.lo, usize::min);
        let hi = same.map(|h| h.hi).fold(n.hi, usize::max);
        let line = index.line_range(n.line);
        index.chars_between(line.start, line.end) <= WHOLE_LINE
            || index.chars_between(lo, hi) <= SPREAD
    })
}

/// The last line worth showing: not the empty "line" after a final `\n`,
/// unless a label sits there.
fn last_shown_line(index: &LineIndex<'_>, marks: &[Mark]) -> usize {
    let last = index.line_count().saturating_sub(1);
    let empty_tail = last > 0 && index.line_range(last).is_empty();
    if empty_tail && !marks.iter().any(|m| m.last == last) {
        last - 1
    } else {
        last
    }
}

/// The byte window of `line` (text range `whole`) to show.
fn window(
    index: &LineIndex<'_>,
    src: &str,
    whole: Range<usize>,
    line: usize,
    anchors: &[Anchor],
) -> (usize, usize) {
    if index.chars_between(whole.start, whole.end) <= WHOLE_LINE {
        return (whole.start, whole.end);
    }
    let here = anchors.iter().filter(|a| a.line == line);
    let (Some(lo), Some(hi)) = (here.clone().map(|a| a.lo).min(), here.map(|a| a.hi).max()) else {
        // A context line: its start.
        let to = whole.start + forward(&src[whole.clone()], WHOLE_LINE);
        return (whole.start, to);
    };
    // A label may start on the line end itself (`\r`, `\n`).
    let lo = lo.clamp(whole.start, whole.end);
    let hi = hi.clamp(lo, whole.end);
    let budget = WHOLE_LINE.saturating_sub(index.chars_between(lo, hi));
    let before = &src[whole.start..lo];
    let after = &src[hi..whole.end];
    let mut left = backward(before, budget / 2);
    let left_chars = index.chars_between(lo - left, lo);
    let right = forward(after, budget - left_chars);
    let right_chars = index.chars_between(hi, hi + right);
    // Room the right side did not use goes to the left.
    if left_chars + right_chars < budget {
        left = backward(before, budget - right_chars);
    }
    (lo - left, hi + right)
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        let block = self
            .blocks
            .iter()
            .find(|b| {
                let r = b.range();
                r.start <= start && end <= r.end
            })
            .ok_or(MietteError::OutOfBounds)?;
        let lines = &block.lines;
        let i0 = block.line_at(start);
        let i1 = block.line_at(end.saturating_sub(1).max(start));
        let from = i0.saturating_sub(before);
        let to = (i1 + after).min(lines.len() - 1);
        let (data_start, line, column) = if before == 0 {
            let l = &lines[i0];
            let shown = self
                .text
                .get(l.text.start..start.clamp(l.text.start, l.text.end));
            // Inside the line end, each of its (ASCII) bytes is a column.
            let line_end = start.saturating_sub(l.eol).min(l.end - l.eol);
            let column = l.column + shown.map_or(0, |s| s.chars().count()) + line_end;
            (start, l.line, column)
        } else {
            (lines[from].at, lines[from].line, 0)
        };
        let data_end = lines[to].end.max(data_start);
        let data = &self.text.as_bytes()[data_start..data_end];
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            SourceSpan::from(data_start..data_end),
            line,
            column,
            to - from + 1,
        )))
    }
}
