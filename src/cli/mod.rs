//! Command-line interface: clap types and one module per subcommand.
//!
//! Exit codes (documented in the README):
//! 0 success; 1 internal error; 2 usage error; 3 input path missing or
//! unreadable; 4 output folder unusable or locked; 5 index error (locked,
//! incompatible); 6 eval below its floors; 7 scan completed but no note was
//! accepted; 8 scan completed but an input file could not be read to the end.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod eval;
mod explain;
mod progress;
mod rules_cmd;
mod scan;
mod search;
mod synth;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: internal error (a panic; Rust's own code 101 is mapped to it).
#[allow(dead_code)]
pub const EXIT_INTERNAL: i32 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: input missing/unreadable.
pub const EXIT_INPUT: i32 = 3;
/// Exit code: output unusable or locked.
pub const EXIT_OUTPUT: i32 = 4;
/// Exit code: index error.
pub const EXIT_INDEX: i32 = 5;
/// Exit code: eval below floors.
pub const EXIT_BELOW_FLOOR: i32 = 6;
/// Exit code: nothing accepted.
pub const EXIT_NO_NOTES: i32 = 7;
/// Exit code: a file could not be read to the end.
pub const EXIT_READ_ERRORS: i32 = 8;

#[derive(Parser)]
#[command(
    name = "ketaudit",
    version,
    about = "Find ketamine and esketamine (Spravato) encounters that would not survive a payer audit, and why."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Audit exported notes (and claims): write encounters.parquet, findings.parquet, rejects.jsonl and a tantivy index.
    Scan(scan::ScanArgs),
    /// List the rule catalogue, or show one rule's documentation.
    Rules(rules_cmd::RulesArgs),
    /// Measure extraction against hand-labelled gold (or the NegEx test set).
    Eval(eval::EvalArgs),
    /// Show every evidence item and finding of one encounter of a scan.
    Explain(explain::ExplainArgs),
    /// Search the note index: text query (phrases, AND/OR/NOT) plus filters on rules, risk, payer, track, provider, dates.
    Search(search::SearchArgs),
    /// Write a deterministic synthetic data set (notes, claims, gold labels).
    Synth(synth::SynthArgs),
}

/// Global config flag shared by subcommands.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ConfigArg {
    /// Configuration file (default: ./ketaudit.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Parse arguments and run; returns the exit code.
pub fn run() -> i32 {
    // Reports and indexes are PHI: everything this process creates is owner-only.
    #[cfg(unix)]
    unsafe {
        libc::umask(0o077);
    }
    // A panic message can quote the data it failed on (a string slice error
    // prints the string): never let note text reach the terminal or a log.
    std::panic::set_hook(Box::new(|info| {
        let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("ketaudit: internal error at {loc} (details withheld: they may contain note text); please report it");
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let res = match cli.cmd {
        Cmd::Scan(a) => scan::run(a),
        Cmd::Rules(a) => rules_cmd::run(a),
        Cmd::Eval(a) => eval::run(a),
        Cmd::Explain(a) => explain::run(a),
        Cmd::Search(a) => search::run(a),
        Cmd::Synth(a) => synth::run(a),
    };
    match res {
        Ok(code) => code,
        Err((code, msg)) => {
            eprintln!("ketaudit: error: {msg}");
            code
        }
    }
}

/// Result of a subcommand: an exit code, or an exit code and message.
pub type CmdResult = Result<i32, (i32, String)>;

/// Set the thread budget for rayon and polars before either starts.
pub fn set_threads(threads: usize) -> usize {
    let n = if threads == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) } else { threads };
    // polars reads POLARS_MAX_THREADS when its pool first starts.
    std::env::set_var("POLARS_MAX_THREADS", n.to_string());
    let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    n
}
