//! Issue 7, item 3 (size): a 20 MB note, a single 100 MB line, a file of a
//! million lines, and adversarial text, against the real binary. Memory must
//! stay bounded by the configured limits and no extractor may go quadratic.

mod common;
use common::{bin, note, reconciles, rejects, scan_json};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

const MIB: usize = 1024 * 1024;

/// Run `ketaudit scan INPUT --out OUT --json --no-index` and return its exit
/// code, JSON summary and peak resident set size in KiB, measured for this
/// child alone with `wait4` (the test harness runs other children at the
/// same time, so `RUSAGE_CHILDREN` would mix them in).
fn scan_peak_rss(input: &Path, out: &Path) -> (Option<i32>, serde_json::Value, u64) {
    let stdout_path = out.with_extension("stdout");
    let mut c = bin();
    c.args(["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json", "--no-index"])
        .stdout(File::create(&stdout_path).unwrap())
        .stderr(std::process::Stdio::null());
    #[allow(clippy::zombie_processes)] // reaped by the wait4 below, which std does not know about
    let child = c.spawn().unwrap();
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: plain FFI call on our own child; both out-pointers are valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let v = serde_json::from_slice(&std::fs::read(&stdout_path).unwrap()).unwrap_or(serde_json::Value::Null);
    (code, v, u64::try_from(ru.ru_maxrss).unwrap())
}

/// A JSON Lines note whose `text` is `len` bytes of ordinary clinical words.
fn write_big_note(w: &mut impl Write, id: &str, len: usize) {
    let unit = "Pre-dose BP 128/82. Spravato 56 mg. Observed 2 hours, discharge criteria met. ";
    let head = format!(r#"{{"note_id":"{id}","encounter_id":"e-{id}","patient_id":"p","date_of_service":"2026-01-05","text":""#);
    w.write_all(head.as_bytes()).unwrap();
    let mut left = len;
    while left > 0 {
        let n = left.min(unit.len());
        w.write_all(&unit.as_bytes()[..n]).unwrap();
        left -= n;
    }
    w.write_all(b"\"}\n").unwrap();
}

#[test]
fn note_of_20_mb_is_rejected_as_oversized_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big-note.jsonl");
    let mut w = BufWriter::new(File::create(&p).unwrap());
    writeln!(w, "{}", note("a", "ea", "BP 120/80 before dosing.")).unwrap();
    write_big_note(&mut w, "big", 20_000_000);
    writeln!(w, "{}", note("b", "eb", "BP 122/80 before dosing.")).unwrap();
    w.into_inner().unwrap().sync_all().unwrap();
    let out = dir.path().join("o");
    let (o, v) = scan_json(&[&p], &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    reconciles(&v);
    assert_eq!((v["notes_read"].as_u64(), v["notes_accepted"].as_u64()), (Some(3), Some(2)), "{v}");
    let rows = rejects(&out);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["reason"], "oversized_note");
    assert_eq!(r["line"], 2);
    assert!(r["file"].as_str().unwrap().ends_with("big-note.jsonl"), "{r}");
    let detail = r["detail"].as_str().unwrap();
    assert!(detail.contains("20000000") && detail.contains(&(5 * MIB).to_string()), "{detail}");
    // Over 64 KiB: the record itself is not copied into rejects.jsonl.
    assert!(r["raw"].is_null());
    assert!(!detail.contains("Spravato"));
}

#[test]
fn line_of_100_mb_is_skipped_without_being_held_and_the_next_line_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // Baseline: the same scan on a small file.
    let small = dir.path().join("small.jsonl");
    std::fs::write(&small, format!("{}\n{}\n", note("a", "ea", "BP 120/80."), note("b", "eb", "BP 122/80."))).unwrap();
    let (code, v, base_kib) = scan_peak_rss(&small, &dir.path().join("o0"));
    assert_eq!(code, Some(0));
    reconciles(&v);

    let p = dir.path().join("huge-line.jsonl");
    let mut w = BufWriter::new(File::create(&p).unwrap());
    writeln!(w, "{}", note("a", "ea", "BP 120/80.")).unwrap();
    write_big_note(&mut w, "huge", 100 * MIB);
    writeln!(w, "{}", note("b", "eb", "BP 122/80.")).unwrap();
    w.into_inner().unwrap().sync_all().unwrap();
    let out = dir.path().join("o1");
    let (code, v, kib) = scan_peak_rss(&p, &out);
    assert_eq!(code, Some(0), "{v}");
    reconciles(&v);
    assert_eq!((v["notes_read"].as_u64(), v["notes_accepted"].as_u64()), (Some(3), Some(2)), "{v}");
    let rows = rejects(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["reason"], "oversized_line");
    assert_eq!(rows[0]["line"], 2);
    assert!(rows[0]["file"].as_str().unwrap().ends_with("huge-line.jsonl"));
    assert!(rows[0]["raw"].is_null());
    // The line cap for the default 5 MiB note limit is 31 MiB; holding the
    // whole line would add over 100 MiB, and the earlier fixed 64 MiB cap
    // about 64 MiB.
    let grew_mib = kib.saturating_sub(base_kib) / 1024;
    assert!(grew_mib < 48, "peak RSS grew by {grew_mib} MiB over a small scan ({base_kib} KiB)");
}

#[test]
fn csv_record_of_100_mb_is_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("huge.csv");
    let mut w = BufWriter::new(File::create(&p).unwrap());
    writeln!(w, "note_id,encounter_id,patient_id,date_of_service,text").unwrap();
    writeln!(w, "a,ea,p,2026-01-05,BP 120/80.").unwrap();
    // A quoted field with newlines inside: one record spanning many lines.
    write!(w, "huge,eh,p,2026-01-05,\"").unwrap();
    let chunk = "Observed 2 hours.\nBP 128/82, \"\"quoted\"\".\n".repeat(1024);
    let mut n = 0;
    while n < 100 * MIB {
        w.write_all(chunk.as_bytes()).unwrap();
        n += chunk.len();
    }
    writeln!(w, "\"").unwrap();
    writeln!(w, "b,eb,p,2026-01-05,BP 122/80.").unwrap();
    w.into_inner().unwrap().sync_all().unwrap();
    let out = dir.path().join("o");
    let (code, v, kib) = scan_peak_rss(&p, &out);
    assert_eq!(code, Some(0), "{v}");
    reconciles(&v);
    assert_eq!((v["notes_read"].as_u64(), v["notes_accepted"].as_u64()), (Some(3), Some(2)), "{v}");
    let rows = rejects(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["reason"], "oversized_line");
    assert_eq!(rows[0]["line"], 3, "the record starts on line 3");
    // As for a JSONL line: the record is not held past the 31 MiB cap.
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "note_id,encounter_id,patient_id,date_of_service,text\na,ea,p,2026-01-05,BP 120/80.\n").unwrap();
    let (code, _, base_kib) = scan_peak_rss(&small, &dir.path().join("o0"));
    assert_eq!(code, Some(0));
    let grew_mib = kib.saturating_sub(base_kib) / 1024;
    assert!(grew_mib < 48, "peak RSS grew by {grew_mib} MiB over a small scan ({base_kib} KiB)");
}

#[test]
fn million_line_file_reconciles() {
    // One record in 20 is a small good note (10 per encounter); the rest are
    // cheap rejects of four kinds, so the run stays fast in a debug build
    // while every one of the 1,000,000 lines is still read and accounted for.
    const LINES: u64 = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("million.jsonl");
    let mut w = BufWriter::new(File::create(&p).unwrap());
    let (mut good, mut bad) = (0u64, 0u64);
    let mut encounters = std::collections::BTreeSet::new();
    for i in 0..LINES {
        if i % 20 == 0 {
            let enc = i / 200;
            encounters.insert(enc);
            writeln!(w, r#"{{"note_id":"n{i}","encounter_id":"e{enc}","patient_id":"p","date_of_service":"2026-01-05","text":"x"}}"#)
                .unwrap();
            good += 1;
        } else {
            let line = match i % 4 {
                0 => "{}",
                1 => "[]",
                2 => "{",
                _ => r#"{"note_id":"n0","encounter_id":"e0","patient_id":"p","date_of_service":"2026-02-30","text":"x"}"#,
            };
            writeln!(w, "{line}").unwrap();
            bad += 1;
        }
    }
    w.into_inner().unwrap().sync_all().unwrap();
    let out = dir.path().join("o");
    let t = std::time::Instant::now();
    let (o, v) = scan_json(&[&p], &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    reconciles(&v);
    assert_eq!(v["notes_read"].as_u64(), Some(LINES));
    assert_eq!(v["notes_accepted"].as_u64(), Some(good));
    assert_eq!(v["notes_rejected"].as_u64(), Some(bad));
    assert_eq!(v["encounters"].as_u64(), Some(encounters.len() as u64));
    // rejects.jsonl has one row per rejected line, the last on the last line.
    let text = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    assert_eq!(text.lines().count() as u64, bad);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["line"].as_u64(), Some(LINES));
    // Generous: about 15 s in a debug build on a shared 2-core machine.
    assert!(t.elapsed().as_secs() < 300, "took {:?}", t.elapsed());
}

#[test]
fn adversarial_megabyte_notes_finish_in_bounded_time() {
    // Each note is 1 MB of one pathological pattern for the extractors:
    // cue words back to back, digit/colon/slash runs that look like times,
    // dates and blood pressures, nested parentheses, negation cues, YAML-like
    // exports, check boxes, dictated numbers and OCR'd forms.
    const MB: usize = 1_000_000;
    let patterns: &[(&str, &str)] = &[
        ("bp", "BP "),
        ("no", "no "),
        ("neg", "no denies without absence of not "),
        ("digits", "12:34:56:78:90/12/34 "),
        ("colons", ": : : 1:"),
        ("slashes", "1/2/3/4/5/6/7/8/9/0/"),
        ("bp-values", "BP 120/80/70/60 over 90 / "),
        ("meds", "sertraline 100 mg x 8 weeks, no response. "),
        ("units", "56 mg 0.5 mg/kg 2 devices "),
        ("yaml", "devices:\n  - {n: 1, mg: 28, time: \"10:20\"}\nrems:\n  patient_enrolled: true\n  take_home_devices: 0\n"),
        ("flow", "{a_mg: 1, b: {c_weeks: 2, "),
        ("boxes", "[ ] Device 3 28 mg [x] "),
        ("dictation", "at 9 02 comma 1 32 over 84 period at 10 oh 4 p.m. "),
        ("ocr", "n0 resp0nse M0nit0ring F0rm 99999-1201-02 ❌ 0910 138/84 "),
        ("records", "VITAL|12:55|BP|130/84|mmHg|pre\n"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("adversarial.jsonl");
    let mut w = BufWriter::new(File::create(&p).unwrap());
    for (id, unit) in patterns {
        writeln!(w, "{}", note(id, id, &unit.repeat(MB / unit.len() + 1)[..MB])).unwrap();
    }
    let nested = format!("{}BP 120/80{}", "(".repeat(MB / 2), ")".repeat(MB / 2));
    writeln!(w, "{}", note("parens", "parens", &nested)).unwrap();
    w.into_inner().unwrap().sync_all().unwrap();
    let t = std::time::Instant::now();
    let (o, v) = scan_json(&[&p], &dir.path().join("o"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    reconciles(&v);
    assert_eq!(v["notes_accepted"].as_u64(), Some(patterns.len() as u64 + 1), "{v}");
    // About 40 s in a debug build on a shared 2-core machine; anything
    // quadratic in 1 MB would take hours. The bound only catches that.
    assert!(t.elapsed().as_secs() < 400, "took {:?}", t.elapsed());
}

/// One long sentence naming the same drug over and over (issue 7, item 3)
/// used to make the medication-trial extractor quadratic: each mention's
/// "own" span ran to the next *different* drug, i.e. to the end of the
/// sentence, and was scanned by several regexes; grouping rescanned the
/// mention list and the context layer visited every cue of the sentence for
/// every mention. 300 KB took ~146 s in a debug build; now a few seconds.
#[test]
fn one_sentence_of_repeated_drug_names_is_not_quadratic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("meds.jsonl");
    let unit = "sertraline mg x weeks no response failed ";
    let text = unit.repeat(300_000 / unit.len());
    std::fs::write(&p, note("m", "m", &text) + "\n").unwrap();
    let t = std::time::Instant::now();
    let (o, v) = scan_json(&[&p], &dir.path().join("o"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    reconciles(&v);
    // Linear would be a few seconds; the quadratic path takes minutes.
    assert!(t.elapsed().as_secs() < 60, "took {:?}", t.elapsed());
}
