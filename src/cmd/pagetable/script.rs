//! The op script: one `map`, `unmap` or `lookup` a line, `#` comments.
//! Errors carry the line and column of the offending word.

use iommugen_runtime::Prot;

/// One operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Map {
        iova: u64,
        pa: u64,
        size: u64,
        prot: Prot,
        prot_text: &'static str,
    },
    Unmap {
        iova: u64,
        size: u64,
    },
    Lookup {
        iova: u64,
    },
}

/// Why a line is not an op: 1-based line and column, and the message.
#[derive(Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every op of `text`, or the first line that is not one.
pub fn parse(text: &str) -> Result<Vec<Op>, ScriptError> {
    let mut ops = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let words = words(line);
        let Some(&(col, verb)) = words.first() else {
            continue;
        };
        let err = |col: usize, message: String| ScriptError {
            line: n + 1,
            column: col + 1,
            message,
        };
        let want = match verb {
            "map" => 4,
            "unmap" => 2,
            "lookup" => 1,
            other => {
                return Err(err(
                    col,
                    format!("unknown op `{other}`: expected map, unmap or lookup"),
                ))
            }
        };
        if words.len() != want + 1 {
            let usage = match verb {
                "map" => "map IOVA PA SIZE PROT",
                "unmap" => "unmap IOVA SIZE",
                _ => "lookup IOVA",
            };
            let at = words.get(want + 1).map_or(line.trim_end().len(), |w| w.0);
            return Err(err(
                at,
                format!("`{verb}` takes {want} operand(s): `{usage}`"),
            ));
        }
        let num = |i: usize| {
            let (c, w) = words[i];
            number(w).ok_or_else(|| {
                err(
                    c,
                    format!("`{w}` is not a number (decimal or 0x hex, `_` allowed)"),
                )
            })
        };
        ops.push(match verb {
            "map" => {
                let (c, w) = words[4];
                let (prot, prot_text) = prot(w).ok_or_else(|| {
                    err(
                        c,
                        format!("`{w}` is not a protection: r, w or rw, then optional +x and +dev"),
                    )
                })?;
                Op::Map {
                    iova: num(1)?,
                    pa: num(2)?,
                    size: num(3)?,
                    prot,
                    prot_text,
                }
            }
            "unmap" => Op::Unmap {
                iova: num(1)?,
                size: num(2)?,
            },
            _ => Op::Lookup { iova: num(1)? },
        });
    }
    Ok(ops)
}

/// Whitespace-separated words with their byte columns.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, ch) in line.char_indices() {
        match (ch.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &line[s..]));
    }
    out
}

/// `4096`, `0x1000`, `0x1_0000`.
fn number(w: &str) -> Option<u64> {
    let clean: String = w.chars().filter(|&c| c != '_').collect();
    let (digits, radix) = match clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        Some(hex) => (hex, 16),
        None => (clean.as_str(), 10),
    };
    if digits.is_empty() {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `r`, `w`, `rw`, each with optional `+x` and `+dev`; the canonical text.
fn prot(w: &str) -> Option<(Prot, &'static str)> {
    let mut parts = w.split('+');
    let access = match parts.next()? {
        "r" => Prot::READ,
        "w" => Prot::WRITE,
        "rw" => Prot::READ.union(Prot::WRITE),
        _ => return None,
    };
    let (mut exec, mut dev) = (false, false);
    for p in parts {
        match p {
            "x" if !exec => exec = true,
            "dev" if !dev => dev = true,
            _ => return None,
        }
    }
    let mut prot = access;
    if !exec {
        prot = prot.union(Prot::NOEXEC);
    }
    prot = prot.union(if dev { Prot::MMIO } else { Prot::CACHE });
    const TEXTS: [[&str; 4]; 3] = [
        ["r", "r+x", "r+dev", "r+x+dev"],
        ["w", "w+x", "w+dev", "w+x+dev"],
        ["rw", "rw+x", "rw+dev", "rw+x+dev"],
    ];
    let row = match w.split('+').next()? {
        "r" => 0,
        "w" => 1,
        _ => 2,
    };
    Some((prot, TEXTS[row][usize::from(exec) | usize::from(dev) << 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_comments_and_blank_lines() {
        let ops = parse("# a script\n\nmap 0x1000 0x8000_0000 4096 rw+x # one page\nunmap 0x1000 0x1000\nlookup 0x1000\n").unwrap();
        assert_eq!(ops.len(), 3);
        assert!(matches!(
            ops[0],
            Op::Map {
                iova: 0x1000,
                pa: 0x8000_0000,
                size: 4096,
                prot_text: "rw+x",
                ..
            }
        ));
        assert_eq!(
            ops[1],
            Op::Unmap {
                iova: 0x1000,
                size: 0x1000
            }
        );
        assert_eq!(ops[2], Op::Lookup { iova: 0x1000 });
    }

    #[test]
    fn errors_are_located() {
        let e = parse("lookup 0x1000\n  mapp 1 2 3 r\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        let e = parse("map 0x1000 0xZZ 0x1000 r").unwrap_err();
        assert_eq!((e.line, e.column), (1, 12));
        let e = parse("map 1 2 3 rx").unwrap_err();
        assert_eq!((e.line, e.column), (1, 11));
        let e = parse("unmap 1").unwrap_err();
        assert!(e.message.contains("unmap IOVA SIZE"));
        let e = parse("lookup 0x1_0000_0000_0000_0000").unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
    }

    #[test]
    fn protections() {
        assert_eq!(prot("rw+dev").map(|p| p.1), Some("rw+dev"));
        assert_eq!(prot("r+dev+x").map(|p| p.1), Some("r+x+dev"));
        assert!(prot("r+x+x").is_none());
        assert!(prot("x").is_none());
    }
}
