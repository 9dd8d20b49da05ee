//! `ketaudit synth`: write the deterministic synthetic data set.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ketaudit::synth::{write_dataset, ClaimsMode, SynthConfig};

use super::{CmdResult, EXIT_OK, EXIT_OUTPUT};

#[derive(Clone, Copy, ValueEnum)]
enum Claims {
    Inline,
    File,
    Mixed,
}

/// Arguments of `ketaudit synth`.
#[derive(Args)]
pub struct SynthArgs {
    /// Output folder (notes.jsonl[.gz], claims.csv, gold.jsonl).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of encounters.
    #[arg(long, default_value_t = 300)]
    encounters: usize,
    /// Random seed (same seed, same files).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Where billed lines go.
    #[arg(long, value_enum, default_value = "mixed")]
    claims: Claims,
    /// Write notes.jsonl.gz.
    #[arg(long)]
    gzip: bool,
    /// Size the set in notes instead: stop at the first encounter boundary
    /// at or after N notes (benchmark corpora; --encounters is then ignored).
    #[arg(long, value_name = "N")]
    notes: Option<usize>,
    /// Do not write gold.jsonl (benchmark corpora).
    #[arg(long)]
    no_gold: bool,
}

/// Run.
pub fn run(a: SynthArgs) -> CmdResult {
    let cfg = SynthConfig {
        encounters: if a.notes.is_some() { usize::MAX } else { a.encounters },
        max_notes: a.notes,
        gold: !a.no_gold,
        seed: a.seed,
        claims: match a.claims {
            Claims::Inline => ClaimsMode::Inline,
            Claims::File => ClaimsMode::File,
            Claims::Mixed => ClaimsMode::Mixed,
        },
        gzip: a.gzip,
        ..SynthConfig::default()
    };
    let s = write_dataset(&cfg, &a.out).map_err(|e| (EXIT_OUTPUT, format!("{}: {e}", a.out.display())))?;
    println!(
        "wrote {} encounters, {} notes ({} bytes of note text), {} claim lines to {}",
        s.encounters,
        s.notes,
        s.note_bytes,
        s.claim_lines,
        a.out.display()
    );
    Ok(EXIT_OK)
}
