//! `mote inspect`.

use crate::args::InspectArgs;
use crate::error::{Classify, ExitKind, Result};
use crate::model::ModelFile;
use crate::npy::shape_str;
use crate::util::{group, table};

fn shorten(v: &str, max: usize) -> String {
    let one: String = v.replace('\n', ", ");
    if one.chars().count() > max {
        format!("{}...", one.chars().take(max).collect::<String>())
    } else {
        one
    }
}

/// The human-readable report.
pub fn text(r: &mote_compiler::inspect::Report, origin: &str) -> String {
    let mut s = String::new();
    let name = r
        .metadata
        .iter()
        .find(|(k, _)| k == crate::metadata::NAME)
        .map(|(_, v)| v.as_str())
        .unwrap_or("(unnamed)");
    s.push_str(&format!(
        "model {name} ({origin}), format {}\n",
        r.format_version
    ));
    s.push_str(&format!(
        "file {} bytes: constants {} bytes, {} parameters; arena {} bytes; {} ops, {} MACs\n",
        group(r.file_bytes as u64),
        group(r.constant_bytes as u64),
        group(r.parameters),
        group(r.arena_bytes as u64),
        r.ops.len(),
        group(r.macs)
    ));
    s.push_str(&format!(
        "memory: weights {} bytes, arena {} bytes (layer-by-layer lower bound {} bytes), overhead {} bytes\n",
        group(r.constant_bytes as u64),
        group(r.arena_bytes as u64),
        group(r.layer_lower_bound as u64),
        group(r.file_bytes.saturating_sub(r.constant_bytes) as u64)
    ));
    let io = |title: &str, v: &[(String, String, Vec<u32>)], s: &mut String| {
        s.push_str(&format!("{title}:\n"));
        for (i, (n, d, sh)) in v.iter().enumerate() {
            s.push_str(&format!("  {i}  {n}  {d} {}\n", shape_str(sh)));
        }
    };
    io("inputs", &r.inputs, &mut s);
    io("outputs", &r.outputs, &mut s);
    if !r.metadata.is_empty() {
        s.push_str("metadata:\n");
        for (k, v) in &r.metadata {
            let shown = if k == crate::metadata::LABELS {
                format!("{} labels: {}", v.lines().count(), shorten(v, 60))
            } else {
                shorten(v, 80)
            };
            s.push_str(&format!("  {k} = {shown}\n"));
        }
    }
    s.push_str("ops:\n");
    let rows: Vec<Vec<String>> = r
        .ops
        .iter()
        .map(|o| {
            vec![
                o.index.to_string(),
                o.op.clone(),
                o.name.clone(),
                o.inputs
                    .iter()
                    .map(|x| shape_str(x))
                    .collect::<Vec<_>>()
                    .join(" "),
                shape_str(&o.output),
                group(o.macs),
                o.params.clone(),
            ]
        })
        .collect();
    s.push_str(&table(
        &["#", "op", "name", "inputs", "output", "MACs", "parameters"],
        &rows,
        &[true, false, false, false, false, true, false],
    ));
    s
}

/// Runs `mote inspect`.
///
/// # Errors
/// Exit 5 if the file cannot be read, exit 3 if it is not a valid model.
pub fn run(a: &InspectArgs) -> Result<()> {
    let file = ModelFile::read(&a.model)?;
    let m = file.model()?;
    let r = mote_compiler::inspect::report(m.file());
    if a.json {
        let mut v =
            serde_json::to_value(&r).or_fail(ExitKind::Model, "cannot serialize the report")?;
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "file".into(),
                serde_json::Value::String(a.model.display().to_string()),
            );
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&v)
                .or_fail(ExitKind::Model, "cannot serialize the report")?
        );
    } else {
        print!("{}", text(&r, &file.origin));
    }
    if let Some(other) = &a.compare {
        let len = std::fs::metadata(other)
            .or_fail_with(ExitKind::Io, || format!("cannot read {}", other.display()))?
            .len();
        let ratio = r.file_bytes as f64 / len.max(1) as f64;
        let line = format!(
            "file size: {} bytes = {:.3} x {} ({} bytes)",
            group(r.file_bytes as u64),
            ratio,
            other.display(),
            group(len)
        );
        if a.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    Ok(())
}
