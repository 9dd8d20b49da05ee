//! Search latency on a large index (default 1,000,000+ notes).
//!
//! `cargo bench --bench search`
//!
//! Environment:
//! - `KETAUDIT_SEARCH_BENCH_INDEX`: index folder (default
//!   `/tmp/ketaudit-search-bench/index`). Built once, reused when it holds a
//!   complete index of at least the requested size.
//! - `KETAUDIT_SEARCH_BENCH_NOTES`: minimum number of notes (default 1000000).
//! - `KETAUDIT_SEARCH_BENCH_RUNS`: timed runs per query kind (default 100).
//! - `KETAUDIT_SEARCH_BENCH_NO_ASSERT=1`: report without asserting the
//!   latency targets (median < 50 ms, p99 < 200 ms for filter-plus-phrase).
//!
//! The index holds synthetic notes from `ketaudit::synth` (the same generator
//! as the sample) with their payer normalized as `scan` does, a track from the
//! note wording, and deterministic pseudo-random rule ids and risk scores per
//! encounter (the scoring formula of the rule engine), so filters have
//! realistic selectivity without running the full extraction on 1M notes.
//! Each query runs the same path as `ketaudit search`: parse and combine,
//! top 50, stored fields and snippets.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ketaudit::index::query::{Filters, NoteSearcher, SortBy};
use ketaudit::index::{NoteDoc, NoteIndexWriter};

const COMPLETE: &str = "bench-complete";

fn env<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
}

fn hash(s: &str, salt: u64) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    salt.hash(&mut h);
    s.hash(&mut h);
    h.finish()
}

fn track_of(text: &str) -> &'static str {
    let t = text.to_lowercase();
    if t.contains("spravato") || t.contains("esketamine") {
        "esketamine"
    } else if t.contains("infusion") {
        "iv_ketamine"
    } else if t.contains("ketamine") {
        "oral_ketamine"
    } else {
        "none"
    }
}

/// Rules and risk for an encounter: rule i fires with a probability falling
/// with i; the score combines severities like the rule engine.
fn rules_of(enc: &str) -> (Vec<&'static str>, f64, &'static str) {
    let mut rules = Vec::new();
    let mut keep = 1.0;
    for (i, r) in ketaudit::rules::ALL.iter().enumerate() {
        let p = 0.35 / (1.0 + i as f64 / 4.0);
        if (hash(enc, i as u64) % 10_000) as f64 / 10_000.0 < p {
            rules.push(r.id);
            let w = match r.severity.as_str() {
                "critical" => 50.0,
                "high" => 25.0,
                "medium" => 10.0,
                "low" => 3.0,
                _ => 0.0,
            };
            keep *= 1.0 - w / 100.0;
        }
    }
    rules.sort();
    let score = 100.0 * (1.0 - keep);
    let level = if score >= 70.0 {
        "critical"
    } else if score >= 45.0 {
        "high"
    } else if score >= 20.0 {
        "medium"
    } else {
        "low"
    };
    (rules, score, level)
}

fn build(index: &Path, min_notes: u64) {
    let _ = std::fs::remove_dir_all(index);
    let data = index.with_file_name("bench-data");
    let _ = std::fs::remove_dir_all(&data);
    // The sample averages 1.35 notes per encounter; ask for enough.
    let encounters = (min_notes as f64 / 1.3) as usize + 1000;
    eprintln!("search bench: writing {encounters} synthetic encounters to {}", data.display());
    let t = Instant::now();
    let cfg = ketaudit::synth::SynthConfig { encounters, seed: 1234, claims: ketaudit::synth::ClaimsMode::Inline, ..Default::default() };
    ketaudit::synth::write_dataset(&cfg, &data).expect("synth");
    eprintln!("search bench: synth {:.0} s; indexing", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let w = NoteIndexWriter::new(index, threads).expect("index writer");
    let dict = ketaudit::dict::Dictionaries::builtin();
    let mut n = 0u64;
    let mut on = |ev: ketaudit::ingest::NoteEvent| {
        let ketaudit::ingest::NoteEvent::Note(note) = ev else { return };
        let (rules, score, level) = rules_of(&note.encounter_id);
        let payer = note.payer.as_deref().map(|p| dict.payers.normalize(p).name);
        w.add(&NoteDoc {
            note_id: &note.note_id,
            encounter_id: &note.encounter_id,
            patient_id: &note.patient_id,
            date_of_service: note.date_of_service,
            provider_id: note.provider_id.as_deref(),
            payer: payer.as_deref(),
            note_type: note.note_type.as_deref(),
            track: track_of(&note.text),
            risk_level: level,
            risk_score: score,
            rules: &rules,
            text: &note.text,
        })
        .expect("add");
        n += 1;
        if n.is_multiple_of(200_000) {
            eprintln!("search bench: {n} notes ({:.0} s)", t.elapsed().as_secs_f64());
        }
    };
    ketaudit::ingest::read_notes(&data.join("notes.jsonl"), &Default::default(), &mut on).expect("read notes");
    w.commit().expect("commit");
    eprintln!("search bench: indexed {n} notes in {:.0} s", t.elapsed().as_secs_f64());
    assert!(n >= min_notes, "synth wrote {n} notes, fewer than {min_notes}");
    std::fs::write(index.join(COMPLETE), n.to_string()).unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

struct Kind {
    name: &'static str,
    /// Asserted against the targets.
    target: bool,
    /// (query, filters, sort) variants run in rotation.
    variants: Vec<(Option<&'static str>, Filters, SortBy)>,
    count: bool,
}

fn filters(f: impl FnOnce(&mut Filters)) -> Filters {
    let mut x = Filters::default();
    f(&mut x);
    x
}

fn d(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let index: PathBuf = std::env::var("KETAUDIT_SEARCH_BENCH_INDEX")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/tmp/ketaudit-search-bench/index"));
    let min_notes: u64 = env("KETAUDIT_SEARCH_BENCH_NOTES", 1_000_000);
    let runs: usize = env("KETAUDIT_SEARCH_BENCH_RUNS", 100);
    let no_assert = std::env::var("KETAUDIT_SEARCH_BENCH_NO_ASSERT").is_ok_and(|v| v == "1");
    let have = std::fs::read_to_string(index.join(COMPLETE)).ok().and_then(|s| s.trim().parse::<u64>().ok());
    if have.is_none_or(|n| n < min_notes) || ketaudit::index::query::NoteSearcher::open(&index).is_err() {
        build(&index, min_notes);
    } else {
        eprintln!("search bench: reusing {} ({} notes)", index.display(), have.unwrap_or(0));
    }
    let mut s = NoteSearcher::open(&index).expect("open index");
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    s.set_threads(threads).unwrap();
    let total = s.num_notes();
    assert!(total >= min_notes, "index has {total} notes");
    let segs =
        std::fs::read_dir(&index).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().extension().is_some_and(|x| x == "idx")).count();
    println!("index: {} ({total} notes, {segs} segments), {threads} search threads, {runs} runs per kind", index.display());

    let common_rule = ketaudit::rules::ALL[0].id;
    let second_rule = ketaudit::rules::ALL[1].id;
    let quarters = [("2025-07-01", "2025-09-30"), ("2025-10-01", "2025-12-31"), ("2026-01-01", "2026-03-31"), ("2026-04-01", "2026-06-30")];
    let payers = ["Aetna", "UnitedHealthcare", "Cigna", "Blue Cross Blue Shield"];
    let phrases = ["\"blood pressure\"", "\"discharge criteria\"", "\"tolerated well\"", "\"prior authorization\""];
    let mut kinds = vec![
        Kind {
            name: "phrase only",
            target: false,
            variants: phrases.iter().map(|p| (Some(*p), Filters::default(), SortBy::Relevance)).collect(),
            count: false,
        },
        Kind {
            name: "filter+phrase (payer, track, dates)",
            target: true,
            variants: (0..4)
                .map(|i| {
                    let (a, b) = quarters[i];
                    (
                        Some(phrases[i]),
                        filters(|f| {
                            f.payers = vec![payers[i].into()];
                            f.tracks = vec![["iv_ketamine", "esketamine", "esketamine", "iv_ketamine"][i].into()];
                            f.from = Some(d(a));
                            f.to = Some(d(b));
                        }),
                        SortBy::Relevance,
                    )
                })
                .collect(),
            count: false,
        },
        Kind {
            name: "filter+phrase (rule, payer)",
            target: true,
            variants: (0..4)
                .map(|i| {
                    (
                        Some(phrases[i]),
                        filters(|f| {
                            f.rules = vec![if i % 2 == 0 { common_rule } else { second_rule }.into()];
                            f.payers = vec![payers[i].into()];
                        }),
                        SortBy::Relevance,
                    )
                })
                .collect(),
            count: false,
        },
        Kind {
            name: "filter+phrase, sort by risk (min-risk, no-rule)",
            target: true,
            variants: (0..4)
                .map(|i| {
                    (
                        Some(phrases[i]),
                        filters(|f| {
                            f.min_risk = Some(45.0);
                            f.no_rules = vec![second_rule.into()];
                        }),
                        SortBy::Risk,
                    )
                })
                .collect(),
            count: false,
        },
        Kind {
            name: "filter+boolean (a AND NOT \"b c\")",
            target: true,
            variants: payers
                .iter()
                .map(|p| (Some("spravato AND NOT \"blood pressure\""), filters(|f| f.payers = vec![(*p).into()]), SortBy::Relevance))
                .collect(),
            count: false,
        },
        Kind {
            name: "filters only, sort by risk",
            target: false,
            variants: (0..4)
                .map(|i| {
                    (
                        None,
                        filters(|f| {
                            f.rules = vec![common_rule.into()];
                            f.tracks = vec!["esketamine".into()];
                            f.risk_levels = vec!["critical".into(), "high".into()];
                            f.payers = vec![payers[i].into()];
                        }),
                        SortBy::Risk,
                    )
                })
                .collect(),
            count: false,
        },
        Kind {
            name: "count: filter+phrase (--count)",
            target: false,
            variants: (0..4).map(|i| (Some(phrases[i]), filters(|f| f.payers = vec![payers[i].into()]), SortBy::Relevance)).collect(),
            count: true,
        },
    ];
    let mut failed = Vec::new();
    println!("{:<50} {:>9} {:>9} {:>9} {:>9} {:>10}", "query kind", "median", "p50", "p99", "max", "hits");
    for k in &mut kinds {
        let prepared: Vec<_> = k.variants.iter().map(|(q, f, _)| s.prepare(*q, f).expect("prepare")).collect();
        let mut lat = Vec::with_capacity(runs);
        let mut min_hits = usize::MAX;
        for i in 0..runs + 4 {
            let v = i % prepared.len();
            let t = Instant::now();
            let n = if k.count {
                let (notes, _) = s.count(&prepared[v]).expect("count");
                notes as usize
            } else {
                // Without the query string, the prepared query still gets
                // parsed per run: time what `ketaudit search` does.
                let (q, f, sort) = &k.variants[v];
                let p = s.prepare(*q, f).expect("prepare");
                let hits = s.search(&p, *sort, 50, Some(160)).expect("search");
                assert!(hits.iter().all(|h| h.snippet.is_some()));
                hits.len()
            };
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if i >= 4 {
                lat.push(ms);
            }
            min_hits = min_hits.min(n);
        }
        assert!(min_hits > 0, "{}: a variant returned no results", k.name);
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let (med, p50, p99, max) = (lat[lat.len() / 2], pct(&lat, 0.5), pct(&lat, 0.99), lat[lat.len() - 1]);
        println!("{:<50} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>10}", k.name, med, p50, p99, max, min_hits);
        if k.target && (med >= 50.0 || p99 >= 200.0) {
            failed.push(format!("{}: median {med:.1} ms, p99 {p99:.1} ms", k.name));
        }
    }
    if !failed.is_empty() && !no_assert {
        panic!("latency targets missed (median < 50 ms, p99 < 200 ms): {failed:?}");
    }
}
