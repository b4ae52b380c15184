//! Shell-style globs as Linux's `glob_match` (lib/glob.c) reads them, for
//! `soc_device_match`'s revision patterns (`ES2.*`): `*` any run, `?` one
//! character, `[...]` a class (ranges `a-z`, `!` or `^` negating, a `]`
//! first taken literally), `\` quoting the next character. No allocation,
//! no recursion: one backtrack point, the last `*`, as Linux keeps.

/// Whether `text` matches `pattern` whole.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    // Where to resume after the last `*`: the pattern past it and the text
    // position it has swallowed up to.
    let mut back: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    pi += 1;
                    back = Some((pi, ti));
                    continue;
                }
                b'?' if ti < t.len() => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                b'[' if ti < t.len() => {
                    if let Some((matched, next)) = class(p, pi + 1, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == b'[' {
                        // An unclosed `[` is a literal.
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c => {
                    let (lit, next) = match c {
                        b'\\' if pi + 1 < p.len() => (p[pi + 1], pi + 2),
                        _ => (c, pi + 1),
                    };
                    if c != b'?' && c != b'[' && ti < t.len() && t[ti] == lit {
                        pi = next;
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if ti == t.len() {
            return true;
        }
        // Mismatch: let the last `*` swallow one more character.
        match back {
            Some((bp, bt)) if bt < t.len() => {
                back = Some((bp, bt + 1));
                pi = bp;
                ti = bt + 1;
            }
            _ => return false,
        }
    }
}

/// The class starting at `p[i]` (just past `[`) against `c`: whether it
/// matches and where the pattern continues, or `None` when no `]` closes it.
fn class(p: &[u8], mut i: usize, c: u8) -> Option<(bool, usize)> {
    let negated = matches!(p.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &lo = p.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        let mut hi = lo;
        if p.get(i + 1) == Some(&b'-') && p.get(i + 2).is_some_and(|&h| h != b']') {
            hi = p[i + 2];
            i += 3;
        } else {
            i += 1;
        }
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        matched |= (lo..=hi).contains(&c);
    }
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn revisions_as_soc_device_match_compares_them() {
        assert!(glob_match("ES2.*", "ES2.0"));
        assert!(glob_match("ES2.*", "ES2.12"));
        assert!(glob_match("ES2.*", "ES2."));
        assert!(!glob_match("ES2.*", "ES1.1"));
        assert!(!glob_match("ES2.*", "ES3.0"));
        assert!(!glob_match("ES2.*", "xES2.0"));
        assert!(glob_match("ES?.0", "ES3.0"));
        assert!(!glob_match("ES?.0", "ES.0"));
        assert!(glob_match("ES1.[0-2]", "ES1.1"));
        assert!(!glob_match("ES1.[!0-2]", "ES1.1"));
        assert!(glob_match("ES1.[!0-2]", "ES1.3"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a*b*c", "aXbYbZ"));
        assert!(glob_match("\\*", "*"));
        assert!(!glob_match("\\*", "x"));
        assert!(glob_match("[]]", "]"));
        assert!(glob_match("a[", "a["));
        assert!(!glob_match("", "x"));
        assert!(glob_match("", ""));
    }
}
