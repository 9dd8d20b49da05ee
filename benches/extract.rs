//! Extraction throughput on synthetic notes, against a baseline measured in
//! the same run (one pass of a handful of dictionary patterns, no assertion
//! layer, no scoring), because absolute times drift on shared machines.
//!
//! `cargo bench --bench extract` (env `KETAUDIT_BENCH_ENCOUNTERS`, default 3000).

use std::time::Instant;

use ketaudit::extract::Extractor;
use rayon::prelude::*;

fn main() {
    let n: usize = std::env::var("KETAUDIT_BENCH_ENCOUNTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = ketaudit::synth::SynthConfig { encounters: n, seed: 42, claims: ketaudit::synth::ClaimsMode::Inline, ..Default::default() };
    ketaudit::synth::write_dataset(&cfg, dir.path()).unwrap();
    let mut texts: Vec<String> = Vec::new();
    let t = Instant::now();
    let mut on = |ev: ketaudit::ingest::NoteEvent| {
        if let ketaudit::ingest::NoteEvent::Note(n) = ev {
            texts.push(n.text);
        }
    };
    let st = ketaudit::ingest::read_notes(&dir.path().join("notes.jsonl"), &Default::default(), &mut on).unwrap();
    let parse = t.elapsed().as_secs_f64();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let mb = bytes as f64 / 1e6;
    let notes = texts.len() as f64;
    assert_eq!(st.accepted as usize, texts.len());
    println!("corpus: {} notes, {:.1} MB of note text", texts.len(), mb);
    println!("{:<28} {:>10} {:>9}", "stage", "notes/s", "MB/s");
    let report = |name: &str, secs: f64| println!("{name:<28} {:>10.0} {:>9.1}", notes / secs, mb / secs);
    report("read+parse (1 thread)", parse);

    // Baseline: one pass of a few dictionary patterns.
    let base = regex::Regex::new(r"(?i)\b(?:bp|blood pressure)\b[^0-9\n]{0,20}\d{2,3}/\d{2,3}|\b(?:sertraline|fluoxetine|bupropion|escitalopram|venlafaxine)\b|\bREMS\b|\bprior auth").unwrap();
    let t = Instant::now();
    let hits: usize = texts.iter().map(|t| base.find_iter(t).count()).sum();
    let b = t.elapsed().as_secs_f64();
    assert!(hits > 0);
    report("baseline regex (1 thread)", b);

    let ex = Extractor::builtin();
    ex.extract_text("warm up BP 120/80", None);
    let t = Instant::now();
    let ev1: usize = texts.iter().map(|t| ex.extract_text(t, None).evidence.len()).sum();
    let one = t.elapsed().as_secs_f64();
    report("extract (1 thread)", one);
    let t = Instant::now();
    let ev2: usize = texts.par_iter().map(|t| ex.extract_text(t, None).evidence.len()).sum();
    let par = t.elapsed().as_secs_f64();
    report(&format!("extract ({} threads)", rayon::current_num_threads()), par);
    assert_eq!(ev1, ev2);
    assert!(ev1 > texts.len(), "evidence found");
    println!("extract / baseline time ratio (1 thread): {:.1}x", one / b);
}
