//! `iommugen pagetable`: build a spec's page table on the host with the
//! shipped engine, apply an op script, and print what happened and every
//! live table (human tree or JSON).

mod decode;
mod memory;
mod script;
mod sim;

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use iommugen_dsl::ir;
use serde_json::{json, Value};

use script::Op;
use sim::{Outcome, Run};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An indented tree of the non-empty entries, decoded.
    Human,
    /// One JSON object (numbers as "0x…" strings).
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The `*.iommu` spec.
    pub spec: PathBuf,
    /// The driver whose page table to build (needed when the spec has
    /// several).
    #[arg(long)]
    pub driver: Option<String>,
    /// Op script (`-` for stdin): `map IOVA PA SIZE PROT`, `unmap IOVA
    /// SIZE`, `lookup IOVA`, one a line, `#` comments.
    #[arg(long)]
    pub ops: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(args: Args) -> ExitCode {
    match build(&args) {
        Ok(text) => {
            // A closed pipe (`| head`) is not an error of ours.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
            ExitCode::SUCCESS
        }
        Err((code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}

fn build(args: &Args) -> Result<String, (u8, String)> {
    let name = args.spec.display().to_string();
    let text = std::fs::read_to_string(&args.spec)
        .map_err(|e| (2, format!("error: cannot read {name}: {e}")))?;
    let checked = iommugen_dsl::check_source(&name, &text);
    let clean = !checked.has_errors();
    let spec = checked.spec.filter(|_| clean).ok_or_else(|| {
        let style = iommugen_dsl::render::HumanStyle::default();
        let mut msg = String::new();
        for d in &checked.diagnostics {
            msg.push_str(&iommugen_dsl::render::human(d, &name, &text, style));
        }
        (
            1,
            format!("{msg}{name}: the spec has errors; no page table built"),
        )
    })?;
    let driver = match &args.driver {
        Some(d) => spec.drivers.iter().find(|x| &x.name == d).ok_or_else(|| {
            let names: Vec<&str> = spec.drivers.iter().map(|x| x.name.as_str()).collect();
            (
                1,
                format!(
                    "error: {name} has no driver `{d}` (it has: {})",
                    names.join(", ")
                ),
            )
        })?,
        None => match spec.drivers.as_slice() {
            [one] => one,
            many => {
                let names: Vec<&str> = many.iter().map(|x| x.name.as_str()).collect();
                return Err((
                    1,
                    format!(
                        "error: {name} has {} drivers; pick one with --driver ({})",
                        many.len(),
                        names.join(", ")
                    ),
                ));
            }
        },
    };
    let pt = match &driver.translation {
        ir::Translation::Tables(pt) => pt,
        ir::Translation::Requests(_) => {
            return Err((1, format!("error: driver `{}` sends map/unmap requests to the host; it has no page table to build", driver.name)))
        }
    };
    let (ops_name, ops_text) = match &args.ops {
        None => ("(no ops)".to_owned(), String::new()),
        Some(p) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| (2, format!("error: cannot read ops from stdin: {e}")))?;
            ("<stdin>".to_owned(), s)
        }
        Some(p) => {
            let s = std::fs::read_to_string(p)
                .map_err(|e| (2, format!("error: cannot read {}: {e}", p.display())))?;
            (p.display().to_string(), s)
        }
    };
    let ops = script::parse(&ops_text).map_err(|e| {
        (
            1,
            format!("{ops_name}:{}:{}: error: {}", e.line, e.column, e.message),
        )
    })?;
    let mem = memory::Memory::new(pt.pool_tables as usize, sim::slot_shift(pt))
        .map_err(|e| (1, format!("error: {e}")))?;
    let run = sim::run(pt, &ops, &mem).map_err(|e| (1, format!("error: {e}")))?;
    Ok(match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(pt, &ops, &run)).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Human => to_human(pt, &ops, &run),
    })
}

fn hex(v: u64) -> Value {
    Value::String(format!("{v:#x}"))
}

/// The format's name and the parameters that decide the encoding.
fn format_keys(pt: &ir::PageTable, obj: &mut serde_json::Map<String, Value>) {
    obj.insert("format".into(), json!(pt.format.dsl_name()));
    obj.insert("ias".into(), json!(pt.ias));
    obj.insert("oas".into(), json!(pt.oas));
    match pt.format {
        ir::Format::ArmLpaeS1 | ir::Format::ArmLpaeS2 => {
            obj.insert("granule".into(), hex(pt.granule.bytes()));
            let stage = if pt.format == ir::Format::ArmLpaeS2 {
                2
            } else {
                1
            };
            obj.insert("stage".into(), json!(stage));
        }
        ir::Format::ArmV7s { mtk_ext } => {
            obj.insert("mtk-ext".into(), json!(mtk_ext));
        }
        ir::Format::AppleDart { generation } => {
            obj.insert("generation".into(), json!(generation.dsl_name()));
            obj.insert("granule".into(), hex(pt.granule.bytes()));
        }
        ir::Format::Rockchip { version } | ir::Format::ExynosSysmmu { version } => {
            obj.insert("version".into(), json!(version));
        }
        ir::Format::Sun50i => {}
        ir::Format::TegraSmmu { generation } => {
            obj.insert("generation".into(), json!(generation.dsl_name()));
        }
    }
}

fn to_json(pt: &ir::PageTable, ops: &[Op], run: &Run) -> Value {
    let mut obj = serde_json::Map::new();
    format_keys(pt, &mut obj);
    obj.insert("entry_bits".into(), json!(run.entry_bits));
    obj.insert(
        "roots".into(),
        Value::Array(run.roots.iter().map(|&r| hex(r)).collect()),
    );
    let results = ops.iter().zip(&run.outcomes).map(|(op, out)| match (op, out) {
        (Op::Map { iova, pa, size, prot_text, .. }, Outcome::Map(r)) => {
            let mut m = json!({"op": "map", "iova": hex(*iova), "pa": hex(*pa), "size": hex(*size), "prot": prot_text, "ok": r.is_ok()});
            if let Err(e) = r {
                m["error"] = json!(e);
            }
            m
        }
        (Op::Unmap { iova, size }, Outcome::Unmap(r)) => {
            let mut m = json!({"op": "unmap", "iova": hex(*iova), "size": hex(*size), "ok": r.is_ok()});
            match r {
                Ok(n) => m["unmapped"] = hex(*n),
                Err(e) => m["error"] = json!(e),
            }
            m
        }
        (Op::Lookup { iova }, Outcome::Lookup(pa)) => {
            json!({"op": "lookup", "iova": hex(*iova), "pa": pa.map_or(Value::Null, hex)})
        }
        _ => Value::Null,
    });
    obj.insert("ops".into(), Value::Array(results.collect()));
    let tables = run.tables.iter().map(|t| {
        json!({"addr": hex(t.addr), "level": t.level, "entries": t.entries.iter().map(|&e| hex(e)).collect::<Vec<_>>()})
    });
    obj.insert("tables".into(), Value::Array(tables.collect()));
    Value::Object(obj)
}

fn to_human(pt: &ir::PageTable, ops: &[Op], run: &Run) -> String {
    let mut s = String::new();
    let variant = match pt.format {
        ir::Format::AppleDart { generation } => format!(" {}", generation.dsl_name()),
        ir::Format::TegraSmmu { generation } => format!(" {}", generation.dsl_name()),
        ir::Format::Rockchip { version } | ir::Format::ExynosSysmmu { version } => {
            format!(" v{version}")
        }
        _ => String::new(),
    };
    let roots: Vec<String> = run.roots.iter().map(|r| format!("{r:#x}")).collect();
    let _ = writeln!(
        s,
        "format {}{variant} ({}-bit entries), {}-bit IOVA, {}-bit PA; root{} at {}",
        pt.format.dsl_name(),
        run.entry_bits,
        pt.ias,
        pt.oas,
        if roots.len() > 1 { "s" } else { "" },
        roots.join(", ")
    );
    for (op, out) in ops.iter().zip(&run.outcomes) {
        let line = match (op, out) {
            (
                Op::Map {
                    iova,
                    pa,
                    size,
                    prot_text,
                    ..
                },
                Outcome::Map(r),
            ) => format!(
                "map {iova:#x} -> {pa:#x} size {size:#x} {prot_text}: {}",
                r.as_ref()
                    .map_or_else(|e| format!("failed: {e}"), |()| "ok".to_owned())
            ),
            (Op::Unmap { iova, size }, Outcome::Unmap(r)) => format!(
                "unmap {iova:#x} size {size:#x}: {}",
                r.as_ref().map_or_else(
                    |e| format!("failed: {e}"),
                    |n| format!("{n:#x} bytes unmapped")
                )
            ),
            (Op::Lookup { iova }, Outcome::Lookup(pa)) => format!(
                "lookup {iova:#x}: {}",
                pa.map_or_else(|| "not mapped".to_owned(), |p| format!("{p:#x}"))
            ),
            _ => continue,
        };
        let _ = writeln!(s, "{line}");
    }
    for t in &run.tables {
        let indent = "  ".repeat(t.level as usize);
        let _ = writeln!(s, "{}table {:#x} (level {})", &indent[2..], t.addr, t.level);
        for (i, &e) in t.entries.iter().enumerate().filter(|(_, &e)| e != 0) {
            let _ = writeln!(
                s,
                "{indent}[{i}] {:#x} {}",
                e,
                decode::entry(pt, t.level, e)
            );
        }
    }
    s
}
