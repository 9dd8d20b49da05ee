//! `ketaudit explain ENCOUNTER_ID --out DIR`: every evidence item and finding
//! of one encounter.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{CmdResult, EXIT_INPUT, EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Arguments of `ketaudit explain`.
#[derive(Args)]
pub struct ExplainArgs {
    /// The encounter to explain.
    encounter_id: String,
    /// The scan's output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The scan's index (default OUT/index).
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
    /// Show evidence that did not count too (negated, hypothetical, ...).
    #[arg(long)]
    all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Run.
pub fn run(a: ExplainArgs) -> CmdResult {
    let index = a.index.clone().unwrap_or_else(|| a.out.join("index"));
    let ex = ketaudit::explain::explain(&a.out, &index, &a.encounter_id).map_err(|e| (EXIT_INPUT, e))?;
    let Some(ex) = ex else {
        return Err((EXIT_USAGE, format!("encounter {:?} is not in {}", a.encounter_id, a.out.join("encounters.parquet").display())));
    };
    if a.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&ex).unwrap());
        return Ok(EXIT_OK);
    }
    println!("Encounter {}", ex.encounter_id);
    for (k, v) in &ex.row {
        println!("  {k:<30} {v}");
    }
    println!("\nFindings ({}):", ex.findings.len());
    for f in &ex.findings {
        println!("  [{}] {}  {}", f.severity, f.rule_id, f.message);
        match (&f.note_id, &f.evidence, f.start, f.end) {
            (Some(n), Some(e), Some(s), Some(t)) => println!("      evidence: note {n} bytes {s}..{t}: {e:?}"),
            (Some(n), None, _, _) => println!("      about note {n} (absent evidence)"),
            _ => println!("      absent evidence"),
        }
    }
    if ex.notes.is_empty() {
        println!("\n(no notes of this encounter in {}; evidence items need the scan's index)", index.display());
        return Ok(EXIT_OK);
    }
    println!(
        "\nNotes: {}",
        ex.notes.iter().map(|(i, t)| if t.is_empty() { i.clone() } else { format!("{i} ({t})") }).collect::<Vec<_>>().join(", ")
    );
    println!("\nEvidence{}:", if a.all { "" } else { " that counted (--all for every mention)" });
    for e in ex.evidence.iter().filter(|e| a.all || e.counts) {
        println!(
            "  {:<19} {:<10} {:>5}..{:<5} {:<14} {}\n      {}",
            e.kind,
            if e.counts { e.assertion } else { "not counted" },
            e.start,
            e.end,
            e.note_id,
            e.value,
            e.snippet
        );
    }
    Ok(EXIT_OK)
}
