//! `ketaudit scan INPUT... [--claims FILE]... --out DIR`.

use std::path::PathBuf;

use clap::Args;
use ketaudit::ingest::IngestOptions;
use ketaudit::pipeline::{self, ScanError, ScanOptions};

use super::progress::Bars;
use super::{CmdResult, ConfigArg, EXIT_INDEX, EXIT_INPUT, EXIT_NO_NOTES, EXIT_OK, EXIT_OUTPUT, EXIT_READ_ERRORS, EXIT_USAGE};

/// Arguments of `ketaudit scan`.
#[derive(Args)]
pub struct ScanArgs {
    /// Note exports: .jsonl/.ndjson/.csv files (optionally .gz) or folders of them.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Claims export (CSV or JSON Lines), joined to notes on encounter_id. Repeatable.
    #[arg(long, value_name = "FILE")]
    claims: Vec<PathBuf>,
    /// Output folder for the reports (created owner-only).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Index folder (default OUT/index).
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
    /// Do not build or update the search index.
    #[arg(long)]
    no_index: bool,
    /// Threads shared by extraction, indexing and Parquet writing (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Largest accepted note text in bytes; larger notes are rejected, and a
    /// line or CSV record over 6 x this + 1 MiB is skipped without being held.
    #[arg(long, default_value_t = 5 * 1024 * 1024, value_name = "BYTES")]
    max_note_bytes: usize,
    /// No progress bars and no summary on stdout.
    #[arg(long, short)]
    quiet: bool,
    /// Print the run summary as JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// Run.
pub fn run(a: ScanArgs) -> CmdResult {
    let cfg = ketaudit::config::load(a.config.config.as_deref()).map_err(|e| (EXIT_USAGE, e))?;
    let threads = super::set_threads(a.threads);
    let opts = ScanOptions {
        inputs: a.inputs,
        claims: a.claims,
        out: a.out,
        index: a.index,
        no_index: a.no_index,
        threads,
        settings: cfg.rules,
        payer_overrides: cfg.payers,
        ingest: IngestOptions::with_max_note_bytes(a.max_note_bytes),
    };
    let bars = Bars::new(a.quiet);
    let t = std::time::Instant::now();
    let res = pipeline::scan(&opts, &bars).map_err(|e| {
        let code = match &e {
            ScanError::Input(_) => EXIT_INPUT,
            ScanError::Locked(_) | ScanError::Output(_) => EXIT_OUTPUT,
            ScanError::Index(_) => EXIT_INDEX,
        };
        (code, e.to_string())
    })?;
    let s = &res;
    let secs = t.elapsed().as_secs_f64();
    if a.json {
        let mut v = serde_json::to_value(s).unwrap();
        v["wall_seconds"] = serde_json::json!(secs);
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
    } else if !a.quiet {
        print_summary(s, secs);
    }
    if s.notes_read == 0 {
        eprintln!("ketaudit: no note records found in the inputs (0 read = 0 accepted + 0 rejected)");
    } else if s.notes_accepted == 0 {
        eprintln!("ketaudit: no note was accepted; see {}", opts.out.join("rejects.jsonl").display());
    }
    if s.files_with_read_errors > 0 {
        eprintln!(
            "ketaudit: {} input file(s) could not be read to the end; the rest of each is one `io_error` record in rejects.jsonl",
            s.files_with_read_errors
        );
        return Ok(EXIT_READ_ERRORS);
    }
    if s.notes_accepted == 0 {
        return Ok(EXIT_NO_NOTES);
    }
    Ok(EXIT_OK)
}

fn print_summary(s: &ketaudit::pipeline::ScanSummary, secs: f64) {
    println!("notes:      read {} = accepted {} + rejected {}", s.notes_read, s.notes_accepted, s.notes_rejected);
    if s.duplicate_same_text + s.duplicate_different_text > 0 {
        println!(
            "            of the rejected: {} duplicate note_id (same text), {} duplicate note_id (different text)",
            s.duplicate_same_text, s.duplicate_different_text
        );
    }
    if s.identical_text_other_id > 0 {
        println!("            {} accepted notes repeat another note's text under a different id", s.identical_text_other_id);
    }
    if s.claims_read > 0 {
        println!(
            "claims:     read {} = accepted {} + rejected {}; {} lines without a matching note",
            s.claims_read, s.claims_accepted, s.claims_rejected, s.claims_without_notes
        );
    }
    println!("encounters: {}   findings: {}", s.encounters, s.findings);
    let lv = |k: &str| s.by_level.get(k).copied().unwrap_or(0);
    println!("risk:       critical {}  high {}  medium {}  low {}", lv("critical"), lv("high"), lv("medium"), lv("low"));
    let tr = |k: &str| s.by_track.get(k).copied().unwrap_or(0);
    println!(
        "track:      esketamine {}  iv_ketamine {}  oral_ketamine {}  none {}",
        tr("esketamine"),
        tr("iv_ketamine"),
        tr("oral_ketamine"),
        tr("none")
    );
    if !s.unknown_payers.is_empty() || s.no_payer > 0 {
        println!(
            "payers:     {} encounters with an unrecognized payer name (default profile used), {} with none",
            s.unknown_payers.values().sum::<u64>(),
            s.no_payer
        );
    }
    if !s.top_rules.is_empty() {
        println!("top rules:");
        for (r, n) in s.top_rules.iter().take(10) {
            println!("  {n:>7}  {r}");
        }
    }
    let mb = s.note_bytes as f64 / 1e6;
    println!(
        "throughput: {:.0} notes/s, {:.1} MB/s of note text ({:.2} s wall)",
        s.notes_accepted as f64 / secs.max(1e-9),
        mb / secs.max(1e-9),
        secs
    );
    println!("outputs:");
    for o in &s.outputs {
        println!("  {o}");
    }
}
