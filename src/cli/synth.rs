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
}

/// Run.
pub fn run(a: SynthArgs) -> CmdResult {
    let cfg = SynthConfig {
        encounters: a.encounters,
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
