//! Integration tests: run the real `ketaudit` binary on fixture files and
//! read its outputs back.

mod common;
use common::{fixture, run};
use std::path::Path;
use std::process::Output;

use polars::prelude::*;

fn read(path: &Path) -> DataFrame {
    ketaudit::report::read_parquet(path).expect("read parquet")
}

fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("summary json: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn sample_scan_writes_contract_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&[
        "scan",
        fixture("sample/notes.jsonl").to_str().unwrap(),
        "--claims",
        fixture("sample/claims.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
        "--threads",
        "2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = summary(&o);
    assert_eq!(s["notes_read"], s["notes_accepted"].as_u64().unwrap() + s["notes_rejected"].as_u64().unwrap());
    let enc = read(&out.join("encounters.parquet"));
    let gold_lines = std::fs::read_to_string(fixture("sample/gold.jsonl")).unwrap().lines().count();
    assert_eq!(enc.height(), gold_lines, "one row per encounter");
    assert_eq!(enc.height() as u64, s["encounters"].as_u64().unwrap());
    let want: &[(&str, DataType)] = &[
        ("encounter_id", DataType::String),
        ("patient_id", DataType::String),
        ("date_of_service", DataType::Date),
        ("provider_id", DataType::String),
        ("payer", DataType::String),
        ("track", DataType::String),
        ("note_count", DataType::UInt32),
        ("risk_score", DataType::Float64),
        ("risk_level", DataType::String),
        ("finding_count", DataType::UInt32),
        ("findings", DataType::List(Box::new(DataType::String))),
        ("antidepressant_trials", DataType::UInt32),
        ("adequate_trials", DataType::UInt32),
        ("vague_trial_history", DataType::Boolean),
        ("pre_dose_bp", DataType::Boolean),
        ("post_dose_bp", DataType::Boolean),
        ("bp_reading_count", DataType::UInt32),
        ("monitoring_minutes", DataType::UInt32),
        ("discharge_criteria_documented", DataType::Boolean),
        ("rems_documented", DataType::Boolean),
        ("prior_auth_documented", DataType::Boolean),
        ("dose_mg", DataType::Float64),
        ("billed_drug_units", DataType::UInt32),
        ("units_match_dose", DataType::Boolean),
        ("icd10_codes", DataType::List(Box::new(DataType::String))),
        ("icd10_specific", DataType::Boolean),
        ("separate_em_documentation", DataType::Boolean),
    ];
    for (name, dt) in want {
        let c = enc.column(name).unwrap_or_else(|_| panic!("missing column {name}"));
        assert_eq!(c.dtype(), dt, "column {name}");
    }
    let fin = read(&out.join("findings.parquet"));
    for (name, dt) in [
        ("encounter_id", DataType::String),
        ("note_id", DataType::String),
        ("rule_id", DataType::String),
        ("severity", DataType::String),
        ("message", DataType::String),
        ("evidence", DataType::String),
        ("start", DataType::UInt32),
        ("end", DataType::UInt32),
    ] {
        assert_eq!(fin.column(name).unwrap().dtype(), &dt, "findings column {name}");
    }
    // finding_count agrees with the findings file.
    let total: u32 = enc.column("finding_count").unwrap().u32().unwrap().into_no_null_iter().sum();
    assert_eq!(total as usize, fin.height());
    // Every evidence span quotes the note text at its offsets.
    let notes: std::collections::HashMap<String, String> = std::fs::read_to_string(fixture("sample/notes.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["note_id"].as_str().unwrap().to_string(), v["text"].as_str().unwrap().to_string())
        })
        .collect();
    let ids = fin.column("note_id").unwrap().str().unwrap().clone();
    let ev = fin.column("evidence").unwrap().str().unwrap().clone();
    let st = fin.column("start").unwrap().u32().unwrap().clone();
    let en = fin.column("end").unwrap().u32().unwrap().clone();
    let mut checked = 0;
    for i in 0..fin.height() {
        if let (Some(id), Some(e), Some(s), Some(t)) = (ids.get(i), ev.get(i), st.get(i), en.get(i)) {
            let text = &notes[id];
            let span = text.get(s as usize..t as usize).expect("span on char boundaries");
            let folded: String = span.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(folded.starts_with(e) || e.starts_with(&folded[..folded.len().min(e.len())]), "evidence {e:?} vs text {folded:?}");
            checked += 1;
        }
    }
    assert!(checked > 0);
    // Owner-only outputs.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["encounters.parquet", "findings.parquet", "rejects.jsonl"] {
            let m = std::fs::metadata(out.join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o600, "{f}");
        }
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::metadata(out.join("index")).unwrap().permissions().mode() & 0o777, 0o700);
    }
    // Catalogue version stamped in the Parquet metadata.
    let raw = std::fs::read(out.join("encounters.parquet")).unwrap();
    let needle = b"ketaudit.rule_catalogue";
    assert!(raw.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn broken_input_reconciles_and_keeps_good_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&["scan", fixture("broken/notes.jsonl").to_str().unwrap(), "--out", out.to_str().unwrap(), "--json", "--no-index"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = summary(&o);
    assert_eq!(s["notes_read"], 11);
    assert_eq!(s["notes_accepted"], 3);
    assert_eq!(s["notes_rejected"], 8);
    let rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = rejects.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 8);
    for r in &rows {
        assert!(r["file"].as_str().unwrap().ends_with("notes.jsonl"));
        assert!(r["line"].as_u64().unwrap() >= 1);
        assert!(!r["reason"].as_str().unwrap().is_empty());
    }
    let reasons: Vec<&str> = rows.iter().map(|r| r["reason"].as_str().unwrap()).collect();
    for want in ["invalid_json", "bad_date", "missing_field", "not_an_object", "duplicate_note_id"] {
        assert!(reasons.contains(&want), "{want} in {reasons:?}");
    }
    let enc = read(&out.join("encounters.parquet"));
    assert_eq!(enc.height(), 3);
    // No note text on stderr or in reject details.
    assert!(!String::from_utf8_lossy(&o.stderr).contains("MARKER-PHI-TEXT"));
    for r in &rows {
        assert!(!r["detail"].as_str().unwrap().contains("MARKER-PHI-TEXT"));
    }
}

#[test]
fn evidence_columns_for_a_known_encounter() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = run(&["scan", fixture("broken/notes.jsonl").to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-index", "--quiet"]);
    assert!(o.status.success());
    let enc = read(&out.join("encounters.parquet"));
    let ca = enc.column("encounter_id").unwrap().str().unwrap().clone();
    let ids: Vec<&str> = (0..enc.height()).map(|i| ca.get(i).unwrap()).collect();
    let i = ids.iter().position(|x| *x == "e1").unwrap();
    let b = |c: &str| enc.column(c).unwrap().bool().unwrap().get(i);
    let u = |c: &str| enc.column(c).unwrap().u32().unwrap().get(i);
    assert_eq!(enc.column("track").unwrap().str().unwrap().get(i), Some("esketamine"));
    assert_eq!(enc.column("payer").unwrap().str().unwrap().get(i), Some("Aetna"));
    assert_eq!(b("pre_dose_bp"), Some(true));
    assert_eq!(b("post_dose_bp"), Some(true));
    assert_eq!(u("bp_reading_count"), Some(2));
    assert_eq!(u("monitoring_minutes"), Some(125));
    assert_eq!(b("discharge_criteria_documented"), Some(true));
    assert_eq!(enc.column("dose_mg").unwrap().f64().unwrap().get(i), Some(56.0));
    assert_eq!(u("billed_drug_units"), Some(56));
    assert_eq!(b("units_match_dose"), Some(true));
    assert_eq!(b("icd10_specific"), Some(true));
}

#[test]
fn missing_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["scan", "/nonexistent/notes.jsonl", "--out", dir.path().join("o").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/nonexistent/notes.jsonl"), "{err}");
    assert!(!err.contains("panicked"));
}

#[test]
fn locked_output_folder_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(out.join(".ketaudit.lock")).unwrap();
    lock.try_lock().unwrap();
    let o = run(&["scan", fixture("broken/notes.jsonl").to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-index"]);
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains(".ketaudit.lock"));
    assert!(!out.join("encounters.parquet").exists());
}

#[test]
fn empty_input_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let o = run(&["scan", empty.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap(), "--json", "--no-index"]);
    assert_eq!(o.status.code(), Some(7));
    let s = summary(&o);
    assert_eq!(s["notes_read"], 0);
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 read = 0 accepted + 0 rejected"));
}

#[test]
fn rules_listing_and_documentation() {
    let o = run(&["rules", "--format", "json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = v["rules"].as_array().unwrap();
    assert!(rules.len() >= 30);
    for r in rules {
        assert!(!r["authority"].as_str().unwrap().is_empty());
    }
    insta::assert_json_snapshot!("rules_catalogue", v);
    let o = run(&["rules", "esk-wrong-drug-code-j0222"]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("patisiran") && s.contains("## How to fix"), "{s}");
    let o = run(&["rules", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sample_data_is_what_the_generator_writes() {
    // The committed sample must stay reproducible from `ketaudit synth`.
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["synth", "--out", dir.path().to_str().unwrap(), "--encounters", "300", "--seed", "7"]);
    assert!(o.status.success());
    for f in ["notes.jsonl", "claims.csv", "gold.jsonl"] {
        let a = std::fs::read(dir.path().join(f)).unwrap();
        let b = std::fs::read(fixture("sample").join(f)).unwrap();
        assert!(a == b, "tests/fixtures/sample/{f} differs from `ketaudit synth --encounters 300 --seed 7`");
    }
}

#[test]
fn run_log_and_byte_identical_reruns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = fixture("broken/notes.jsonl");
    let args = ["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--no-index"];
    assert!(run(&args).status.success());
    let first = (std::fs::read(out.join("encounters.parquet")).unwrap(), std::fs::read(out.join("findings.parquet")).unwrap());
    assert!(run(&args).status.success());
    let second = (std::fs::read(out.join("encounters.parquet")).unwrap(), std::fs::read(out.join("findings.parquet")).unwrap());
    assert!(first == second, "re-running on the same input must give byte-identical Parquet");
    let log = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    assert!(!log.contains("MARKER-PHI-TEXT"));
    let recs: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0]["event"], "start");
    assert_eq!(recs[1]["event"], "end");
    assert_eq!(recs[0]["run_id"], recs[1]["run_id"]);
    assert_eq!(recs[1]["status"], "completed");
    assert_eq!(recs[1]["counts"]["notes_read"], 11);
    assert_eq!(recs[0]["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(recs[1]["outputs"].as_array().unwrap().len(), 3);
    assert!(recs[0]["user"].as_str().is_some_and(|u| !u.is_empty()));
}

#[test]
fn explain_shows_findings_and_marked_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let input = fixture("broken/notes.jsonl");
    assert!(run(&["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).status.success());
    let o = run(&["explain", "e1", "--out", out.to_str().unwrap(), "--format", "json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["encounter_id"], "e1");
    assert_eq!(v["row"]["track"], "esketamine");
    let ev = v["evidence"].as_array().unwrap();
    assert!(ev.iter().any(|e| e["kind"] == "bp" && e["snippet"].as_str().unwrap().contains("«128/82»")));
    let fin = read(&out.join("findings.parquet"));
    let n = (0..fin.height()).filter(|&i| fin.column("encounter_id").unwrap().str().unwrap().get(i) == Some("e1")).count();
    assert_eq!(v["findings"].as_array().unwrap().len(), n);
    let o = run(&["explain", "nope", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

/// A reader that goes away (`ketaudit rules | head -0`) ends the process
/// quietly, never as an internal error.
#[test]
fn closed_stdout_pipe_exits_quietly() {
    let mut child = common::bin()
        .args(["rules", "--format", "markdown"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ketaudit");
    // Close the read end before the child writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("internal error"), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
}
