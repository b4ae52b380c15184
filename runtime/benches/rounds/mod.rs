//! The timing loop every per-page page-table benchmark shares: criterion
//! asks for `iters` operations, and a fresh table of `pages` pages is
//! worked through in rounds, only the operations timed.

use std::time::{Duration, Instant};

/// `iters` single-page operations in rounds of at most `pages`: each round
/// gets a fresh state from `setup` (not timed), calls `op` with the page
/// indices `0..n` in order (timed), and drops the state (not timed).
pub fn per_page<S>(
    iters: u64,
    pages: u64,
    mut setup: impl FnMut() -> S,
    mut op: impl FnMut(&mut S, u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(pages);
        let mut s = setup();
        let t = Instant::now();
        for i in 0..n {
            op(&mut s, i);
        }
        total += t.elapsed();
        drop(s);
        left -= n;
    }
    total
}
