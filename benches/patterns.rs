//! Cost of each whole-note pattern, alone, over a generated corpus: every
//! phrase-dictionary pattern, the dose and device patterns, the timing
//! event and stated-duration patterns, the vital-sign patterns and the
//! drug-name pattern, plus the note-level passes, in microseconds per note.
//!
//! `cargo bench --bench patterns` (env `KETAUDIT_BENCH_ENCOUNTERS`, default
//! 2000; or `KETAUDIT_BENCH_NOTES=notes.jsonl` to time a notes file).
//!
//! Why: the scan runs a whole-note pattern only where its presence set
//! says it matches, so a pathological pattern hides in an end-to-end
//! profile until a corpus triggers it. Here each runs on every note; the
//! "scan us/n" column is what it costs where the set lets it run. "cold" includes
//! building the lazy DFA's states; "warm" is a second run, what a long scan
//! pays per note. A pattern far above its peers when warm is likely
//! thrashing its DFA cache (the psychotherapy-time phrase took about
//! 100 us/note warm before `extract::re::DFA_CACHE_BYTES`, 3 us after).
//! The baseline row is one pass of a handful of dictionary patterns timed
//! in the same run, because absolute times drift on shared machines.
//!
//! The whole extraction is timed twice: note by note with every pattern
//! searched where the extractors ask (`extract_live`, the scan before
//! 76ecb5b) and in the scan's chunks (`extract_many`), which must find the
//! same evidence; the last line gives the chunks' speed-up measured in the
//! same run.

use std::time::Instant;

fn main() {
    let n: usize = std::env::var("KETAUDIT_BENCH_ENCOUNTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    // KETAUDIT_BENCH_NOTES names a notes file to time instead of a
    // generated corpus (the e2e corpus, say).
    let notes_file = match std::env::var_os("KETAUDIT_BENCH_NOTES") {
        Some(f) => std::path::PathBuf::from(f),
        None => {
            let cfg = ketaudit::synth::SynthConfig { encounters: n, seed: 42, ..Default::default() };
            ketaudit::synth::write_dataset(&cfg, dir.path()).unwrap();
            dir.path().join("notes.jsonl")
        }
    };
    let mut texts: Vec<String> = Vec::new();
    let mut on = |ev: ketaudit::ingest::NoteEvent| {
        if let ketaudit::ingest::NoteEvent::Note(n) = ev {
            texts.push(n.text);
        }
    };
    ketaudit::ingest::read_notes(&notes_file, &Default::default(), &mut on).unwrap();
    let notes = texts.len() as f64;
    let mb = texts.iter().map(|t| t.len()).sum::<usize>() as f64 / 1e6;
    println!("corpus: {} notes, {mb:.1} MB of note text, 1 thread", texts.len());

    let base = regex::Regex::new(r"(?i)\b(?:bp|blood pressure)\b[^0-9\n]{0,20}\d{2,3}/\d{2,3}|\b(?:sertraline|fluoxetine|bupropion|escitalopram|venlafaxine)\b|\bREMS\b|\bprior auth").unwrap();
    let t = Instant::now();
    let hits: usize = texts.iter().map(|t| base.find_iter(t).count()).sum();
    let base_secs = t.elapsed().as_secs_f64();
    assert!(hits > 0, "the baseline patterns match");

    let ex = ketaudit::extract::Extractor::builtin();
    let mut costs = ex.pattern_costs(&texts);
    let whole_cost = costs.iter().find(|c| c.name == "whole extract, note by note").expect("whole pass timed").clone();
    let whole = whole_cost.warm_secs;
    let chunked = costs.iter().find(|c| c.name.starts_with("whole extract_many")).expect("chunked pass timed").clone();
    assert_eq!(chunked.matches, whole_cost.matches, "notes extracted in chunks give the evidence they give alone");
    assert!(costs.iter().any(|c| c.name.starts_with("phrase ") && c.matches > 0), "phrase patterns match the corpus");
    assert!(costs.iter().any(|c| c.name.starts_with("timing ") && c.matches > 0), "timing patterns match the corpus");
    costs.sort_by(|a, b| b.warm_secs.total_cmp(&a.warm_secs));
    let us = |s: f64| s * 1e6 / notes;
    println!("{:<48} {:>10} {:>10} {:>8} {:>9} {:>10}", "pattern or pass", "warm us/n", "cold us/n", "% whole", "matches", "scan us/n");
    println!("{:<48} {:>10.1} {:>10} {:>8} {:>9}", "baseline (a few dictionary patterns)", us(base_secs), "", "", hits);
    for c in &costs {
        println!(
            "{:<48} {:>10.1} {:>10.1} {:>7.1}% {:>9} {:>10.1}",
            c.name,
            us(c.warm_secs),
            us(c.cold_secs),
            100.0 * c.warm_secs / whole,
            c.matches,
            us(c.scan_secs)
        );
    }
    // What the scan pays for the whole-note patterns: each gated pattern
    // only where the presence set lets it run, and the set's own pass.
    let scan_total: f64 =
        costs.iter().filter(|c| !c.name.starts_with("pass: ") && !c.name.starts_with("whole ")).map(|c| c.scan_secs).sum();
    println!("whole-note patterns and presence set, as the scan runs them: {:.1} us/n", us(scan_total));
    println!(
        "whole extract, note by note: {:.0} notes/s, {:.1} MB/s; baseline {:.0} notes/s",
        notes / whole,
        mb / whole,
        notes / base_secs
    );
    let c = chunked.warm_secs;
    println!("{}: {:.0} notes/s, {:.1} MB/s ({:.2}x one note at a time)", chunked.name, notes / c, mb / c, whole / c);
}
