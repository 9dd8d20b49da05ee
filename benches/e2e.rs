//! End to end: a real `ketaudit scan` (read, extract, score, both Parquet
//! files, index) on generated corpora, against a baseline timed in the same
//! run on the same file, because absolute times drift on shared machines.
//!
//! ```text
//! cargo bench --bench e2e                                  # 200,000 notes
//! KETAUDIT_E2E_NOTES=200000,1000000 cargo bench --bench e2e
//! ```
//!
//! Environment: `KETAUDIT_E2E_NOTES` (comma-separated corpus sizes in
//! notes), `KETAUDIT_E2E_THREADS` (default 2), `KETAUDIT_E2E_DIR` (where
//! corpora are generated once and reused; default `target/bench-corpus`).
//!
//! Prints, per size: notes/s and MB/s of note text, peak RSS of the scan
//! process, per-stage wall times with their share, and the ratio of the
//! scan's time to the baseline's (one single-threaded pass that reads and
//! parses the same file and runs a handful of dictionary patterns over each
//! note: no context layer, no scoring, no reports, no index). The baseline
//! runs before and after the scan and the ratio is taken against the mean
//! of the two; both are printed, so a run where the machine's speed moved
//! under the scan shows it (on the shared 2-core machine one baseline ran
//! at 80,190 and 106,977 notes/s within minutes).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn corpus(dir: &Path, notes: usize) -> PathBuf {
    let d = dir.join(format!("notes-{notes}"));
    if !d.join("notes.jsonl").exists() || !d.join("claims.csv").exists() {
        let t = Instant::now();
        let cfg = ketaudit::synth::SynthConfig {
            encounters: usize::MAX,
            max_notes: Some(notes),
            gold: false,
            seed: 2026,
            claims: ketaudit::synth::ClaimsMode::Mixed,
            ..Default::default()
        };
        let s = ketaudit::synth::write_dataset(&cfg, &d).expect("write corpus");
        println!("generated {} notes ({} encounters) in {:.1} s", s.notes, s.encounters, t.elapsed().as_secs_f64());
    }
    d
}

/// The baseline: read and parse with the same reader, then one pass of a few
/// dictionary patterns per note, single-threaded.
fn baseline(notes: &Path) -> (f64, u64, u64) {
    let pats = regex::Regex::new(
        r"(?i)\b(?:bp|blood pressure)\b[^0-9\n]{0,20}\d{2,3}/\d{2,3}|\b(?:sertraline|fluoxetine|bupropion|escitalopram|venlafaxine|spravato|esketamine|ketamine)\b|\bREMS\b|\bprior auth|\bdischarg\w*",
    )
    .expect("baseline pattern");
    let t = Instant::now();
    let (mut n, mut bytes, mut hits) = (0u64, 0u64, 0u64);
    let mut on = |ev: ketaudit::ingest::NoteEvent| {
        if let ketaudit::ingest::NoteEvent::Note(note) = ev {
            n += 1;
            bytes += note.text.len() as u64;
            hits += pats.find_iter(&note.text).count() as u64;
        }
    };
    ketaudit::ingest::read_notes(notes, &Default::default(), &mut on).expect("read corpus");
    assert!(hits > n, "the baseline patterns match");
    (t.elapsed().as_secs_f64(), n, bytes)
}

/// Run the scan, returning its JSON summary, wall seconds and peak RSS (KiB).
// The child is reaped with wait4 below, which also gives its peak RSS.
#[allow(clippy::zombie_processes)]
fn scan(bin: &str, corpus: &Path, out: &Path, threads: usize) -> (serde_json::Value, f64, i64) {
    let t = Instant::now();
    let mut child = Command::new(bin)
        .arg("scan")
        .arg(corpus.join("notes.jsonl"))
        .arg("--claims")
        .arg(corpus.join("claims.csv"))
        .arg("--out")
        .arg(out)
        .args(["--threads", &threads.to_string(), "--json", "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ketaudit scan");
    let mut stdout = String::new();
    child.stdout.take().expect("stdout").read_to_string(&mut stdout).expect("read summary");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `status` and `ru` are valid pointers.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut ru) };
    let secs = t.elapsed().as_secs_f64();
    assert!(pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "scan failed (status {status})");
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("summary JSON");
    (summary, secs, ru.ru_maxrss)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("KETAUDIT_E2E_NOTES")
        .unwrap_or_else(|_| "200000".into())
        .split(',')
        .map(|s| s.trim().replace('_', "").parse().expect("KETAUDIT_E2E_NOTES: comma-separated numbers"))
        .collect();
    let threads: usize = std::env::var("KETAUDIT_E2E_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let dir = std::env::var("KETAUDIT_E2E_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-corpus"));
    let bin = env!("CARGO_BIN_EXE_ketaudit");
    for n in sizes {
        let c = corpus(&dir, n);
        let notes_file = c.join("notes.jsonl");
        let (base_before, notes, bytes) = baseline(&notes_file);
        let out = tempfile::tempdir().expect("temp out");
        let (sum, secs, rss_kib) = scan(bin, &c, out.path(), threads);
        let (base_after, notes_after, _) = baseline(&notes_file);
        assert_eq!(notes_after, notes, "both baselines read the same notes");
        let base_s = (base_before + base_after) / 2.0;
        let accepted = sum["notes_accepted"].as_u64().expect("notes_accepted");
        assert_eq!(accepted, notes, "every generated note accepted");
        assert!(sum["encounters"].as_u64().unwrap_or(0) > 0 && sum["findings"].as_u64().unwrap_or(0) > 0);
        let mb = bytes as f64 / 1e6;
        println!();
        println!("corpus: {notes} notes, {mb:.1} MB of note text, {threads} threads");
        // Stages in the order they run (the peak so far is read as each ends).
        println!("{:<16} {:>10} {:>9} {:>8} {:>16}", "stage", "notes/s", "MB/s", "share", "peak RSS so far");
        if let Some(st) = sum["stage_seconds"].as_object() {
            let peak = &sum["peak_rss_kib_after_stage"];
            let mut st: Vec<(&String, f64, u64)> =
                st.iter().map(|(k, v)| (k, v.as_f64().unwrap_or(0.0), peak[k.as_str()].as_u64().unwrap_or(0))).collect();
            st.sort_by_key(|s| ["read", "extract+score", "clones", "write", "index"].iter().position(|n| n == s.0).unwrap_or(usize::MAX));
            for (k, s, p) in st {
                println!("{k:<16} {:>10.0} {:>9.1} {:>7.1}% {:>13.0} MB", notes as f64 / s, mb / s, 100.0 * s / secs, p as f64 / 1024.0);
            }
        }
        println!("{:<16} {:>10.0} {:>9.1} {:>7.1}%", "scan (wall)", notes as f64 / secs, mb / secs, 100.0);
        println!(
            "{:<16} {:>10.0} {:>9.1}   (mean of before {:.0} and after {:.0} notes/s)",
            "baseline (1 thr)",
            notes as f64 / base_s,
            mb / base_s,
            notes as f64 / base_before,
            notes as f64 / base_after
        );
        println!("peak RSS: {:.0} MB", rss_kib as f64 / 1024.0);
        println!(
            "scan / baseline time: {:.2}x (against the baseline before: {:.2}x, after: {:.2}x)",
            secs / base_s,
            secs / base_before,
            secs / base_after
        );
    }
}
