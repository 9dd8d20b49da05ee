//! Per-stage throughput on a generated corpus, each stage checked for its
//! result, against a baseline measured in the same run (one pass of a
//! handful of dictionary patterns, no assertion layer, no scoring), because
//! absolute times drift on shared machines.
//!
//! `cargo bench --bench stages` (env `KETAUDIT_BENCH_ENCOUNTERS`, default 5000).
//!
//! Stages: read+parse (the JSONL reader), extract per note (1 thread and the
//! rayon pool), score per encounter (group, assess, clone pass, rules),
//! index per note (tantivy, body not stored), write per 1,000 rows (the
//! findings writer in row groups, and the encounter report).

use std::time::Instant;

use ketaudit::encounter::{NoteMeta, NoteRecord};
use ketaudit::extract::Extractor;
use rayon::prelude::*;

fn main() {
    let n: usize = std::env::var("KETAUDIT_BENCH_ENCOUNTERS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = ketaudit::synth::SynthConfig { encounters: n, seed: 42, claims: ketaudit::synth::ClaimsMode::Inline, ..Default::default() };
    ketaudit::synth::write_dataset(&cfg, dir.path()).unwrap();

    // read + parse
    let mut notes: Vec<ketaudit::model::Note> = Vec::new();
    let t = Instant::now();
    let mut on = |ev: ketaudit::ingest::NoteEvent| {
        if let ketaudit::ingest::NoteEvent::Note(n) = ev {
            notes.push(n);
        }
    };
    let st = ketaudit::ingest::read_notes(&dir.path().join("notes.jsonl"), &Default::default(), &mut on).unwrap();
    let parse = t.elapsed().as_secs_f64();
    assert_eq!(st.accepted as usize, notes.len());
    let bytes: usize = notes.iter().map(|n| n.text.len()).sum();
    let mb = bytes as f64 / 1e6;
    let count = notes.len() as f64;
    println!("corpus: {} notes, {n} encounters, {:.1} MB of note text, {} rayon threads", notes.len(), mb, rayon::current_num_threads());
    println!("{:<30} {:>10} {:>9}", "stage", "notes/s", "MB/s");
    let report = |name: &str, secs: f64| println!("{name:<30} {:>10.0} {:>9.1}", count / secs, mb / secs);
    report("read+parse (1 thread)", parse);

    // Baseline: one pass of a few dictionary patterns.
    let base = regex::Regex::new(r"(?i)\b(?:bp|blood pressure)\b[^0-9\n]{0,20}\d{2,3}/\d{2,3}|\b(?:sertraline|fluoxetine|bupropion|escitalopram|venlafaxine)\b|\bREMS\b|\bprior auth").unwrap();
    let t = Instant::now();
    let hits: usize = notes.iter().map(|n| base.find_iter(&n.text).count()).sum();
    let b = t.elapsed().as_secs_f64();
    assert!(hits > 0);
    report("baseline regex (1 thread)", b);

    // extract
    let ex = Extractor::builtin();
    ex.extract_text("warm up BP 120/80", None);
    let t = Instant::now();
    let ev1: usize = notes.iter().map(|n| ex.extract(n).evidence.len()).sum();
    let one = t.elapsed().as_secs_f64();
    report("extract (1 thread)", one);
    let t = Instant::now();
    let records: Vec<NoteRecord> = notes.par_iter().map(|n| NoteRecord { meta: NoteMeta::of(n), facts: ex.extract(n) }).collect();
    let par = t.elapsed().as_secs_f64();
    report(&format!("extract ({} threads)", rayon::current_num_threads()), par);
    let ev2: usize = records.iter().map(|r| r.facts.evidence.len()).sum();
    assert_eq!(ev1, ev2);
    assert!(ev1 > notes.len(), "evidence found");
    println!("extract / baseline time ratio (1 thread): {:.1}x", one / b);

    // score per encounter
    let dict = ketaudit::dict::Dictionaries::builtin();
    let settings = ketaudit::rules::RuleSettings::default();
    let t = Instant::now();
    let mut summary = ketaudit::pipeline::ScanSummary::default();
    let encounters = ketaudit::pipeline::group(records, Default::default(), dict, &mut summary);
    let (encounters, facts, findings) = ketaudit::pipeline::score(encounters, dict, &settings, &Default::default());
    let score = t.elapsed().as_secs_f64();
    assert_eq!(encounters.len(), n);
    let all: Vec<ketaudit::rules::Finding> = findings.iter().flatten().cloned().collect();
    assert!(!all.is_empty(), "rules fire on the synthetic defects");
    println!("{:<30} {:>10.0} encounters/s", "score (pool)", n as f64 / score);

    // write per 1,000 rows
    let out = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut w = ketaudit::report::FindingsWriter::create(&out.path().join("findings.parquet")).unwrap();
    let rows = all.len();
    for chunk in all.chunks(1000) {
        w.push(chunk.iter().cloned()).unwrap();
    }
    assert_eq!(w.finish().unwrap() as usize, rows);
    let wf = t.elapsed().as_secs_f64();
    println!("{:<30} {:>10.2} ms per 1,000 rows ({rows} rows)", "write findings", wf * 1000.0 * 1000.0 / rows as f64);
    let t = Instant::now();
    let erows: Vec<ketaudit::report::EncounterRow> =
        encounters.iter().zip(&facts).zip(&findings).map(|((e, f), fs)| ketaudit::report::EncounterRow::new(e, f, fs, &settings)).collect();
    let mut df = ketaudit::report::encounters_frame(&erows).unwrap();
    ketaudit::report::write_parquet(&out.path().join("encounters.parquet"), &mut df).unwrap();
    let we = t.elapsed().as_secs_f64();
    assert_eq!(ketaudit::report::read_parquet(&out.path().join("encounters.parquet")).unwrap().height(), n);
    println!("{:<30} {:>10.2} ms per 1,000 rows ({n} rows)", "write encounters", we * 1000.0 * 1000.0 / n as f64);

    // index per note
    let t = Instant::now();
    let iw = ketaudit::index::NoteIndexWriter::new(&out.path().join("index"), rayon::current_num_threads()).unwrap();
    for nt in &notes {
        iw.add(&ketaudit::index::NoteDoc {
            note_id: &nt.note_id,
            encounter_id: &nt.encounter_id,
            patient_id: &nt.patient_id,
            date_of_service: nt.date_of_service,
            provider_id: nt.provider_id.as_deref(),
            payer: nt.payer.as_deref(),
            note_type: nt.note_type.as_deref(),
            track: "esketamine",
            risk_level: "low",
            risk_score: 0.0,
            rules: &[],
            text: &nt.text,
        })
        .unwrap();
    }
    iw.commit().unwrap();
    let ix = t.elapsed().as_secs_f64();
    report(&format!("index ({} threads)", rayon::current_num_threads()), ix);
}
