//! Tests of the synthetic generator: determinism, id/count consistency,
//! JSON validity, gold invariants and memory-light streaming.

use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const RULES: &[&str] = &[
    "dx-code-invalid-on-dos",
    "dx-nonspecific-or-remission",
    "trd-fewer-than-two-trials",
    "trd-trial-incomplete",
    "trd-vague-failure-phrase",
    "trd-trial-payer-constraints",
    "esk-rems-site-not-certified",
    "esk-rems-patient-not-enrolled",
    "esk-rems-monitoring-form-missing",
    "esk-missing-predose-bp",
    "esk-missing-40min-bp",
    "esk-monitoring-under-2h",
    "esk-discharge-not-documented",
    "esk-units-mismatch-dose",
    "esk-wrong-drug-code-j0222",
    "esk-drug-code-invalid-on-dos",
    "esk-gcode-tier-mismatch",
    "esk-gcode-with-drug-code",
    "em-mod25-without-separate-doc",
    "psy-code-pairing-invalid",
    "pa-missing-or-after-dos",
    "prov-non-prescriber-billing-admin",
    "code-deleted-on-dos",
    "ivk-infusion-times-missing",
    "ivk-infusion-units-vs-time",
    "ivk-drug-line-incomplete",
    "ivk-pre-infusion-elements-missing",
    "ivk-post-infusion-elements-missing",
    "note-cloned",
    "em-copies-session-note",
];

const GOLD_KEYS: &[&str] = &[
    "encounter_id",
    "track",
    "antidepressant_trials",
    "adequate_trials",
    "vague_trial_history",
    "pre_dose_bp",
    "post_dose_bp",
    "bp_reading_count",
    "monitoring_minutes",
    "discharge_criteria_documented",
    "rems_documented",
    "prior_auth_documented",
    "dose_mg",
    "billed_drug_units",
    "units_match_dose",
    "icd10_codes",
    "icd10_specific",
    "separate_em_documentation",
    "planted",
    "styles",
];

fn tmp(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("ketaudit-synth-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn cfg(n: usize) -> SynthConfig {
    SynthConfig { encounters: n, ..SynthConfig::default() }
}

fn read_lines(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p).expect("readable").lines().map(|l| serde_json::from_str(l).expect("valid JSON line")).collect()
}

#[test]
fn same_config_gives_identical_bytes() {
    for gz in [false, true] {
        let c = SynthConfig { gzip: gz, ..cfg(400) };
        let (a, b) = (tmp(&format!("det-a-{gz}")), tmp(&format!("det-b-{gz}")));
        let sa = write_dataset(&c, &a).expect("write a");
        let sb = write_dataset(&c, &b).expect("write b");
        assert_eq!(sa, sb);
        for f in ["notes.jsonl", "notes.jsonl.gz", "claims.csv", "gold.jsonl"] {
            let (fa, fb) = (a.join(f), b.join(f));
            assert_eq!(fa.exists(), fb.exists(), "{f}");
            if fa.exists() {
                assert!(std::fs::read(&fa).expect("a") == std::fs::read(&fb).expect("b"), "{f} differs");
            }
        }
        let other = tmp(&format!("det-c-{gz}"));
        write_dataset(&SynthConfig { seed: 8, ..c.clone() }, &other).expect("write c");
        assert!(std::fs::read(a.join("gold.jsonl")).expect("a") != std::fs::read(other.join("gold.jsonl")).expect("c"));
        for d in [a, b, other] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

#[test]
fn notes_gold_and_claims_agree() {
    for mode in [ClaimsMode::Inline, ClaimsMode::File, ClaimsMode::Mixed] {
        let dir = tmp(&format!("agree-{mode:?}"));
        let s = write_dataset(&SynthConfig { claims: mode, ..cfg(1500) }, &dir).expect("write");
        let notes = read_lines(&dir.join("notes.jsonl"));
        let gold = read_lines(&dir.join("gold.jsonl"));
        assert_eq!(s.encounters, 1500);
        assert_eq!(gold.len(), 1500);
        assert_eq!(notes.len(), s.notes);
        let bytes = std::fs::metadata(dir.join("notes.jsonl")).expect("meta").len();
        assert_eq!(bytes, s.note_bytes);
        let gold_ids: BTreeSet<&str> = gold.iter().map(|g| g["encounter_id"].as_str().expect("id")).collect();
        assert_eq!(gold_ids.len(), 1500, "gold ids unique");
        let mut note_ids = BTreeSet::new();
        let mut per_enc: BTreeMap<&str, usize> = BTreeMap::new();
        let mut inline_carriers: BTreeMap<&str, usize> = BTreeMap::new();
        let mut inline_lines = 0usize;
        for n in &notes {
            for k in ["note_id", "encounter_id", "patient_id", "date_of_service", "text"] {
                assert!(n[k].is_string(), "{k} must be a string");
            }
            let d = n["date_of_service"].as_str().expect("date");
            assert!(NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok(), "{d}");
            assert!(note_ids.insert(n["note_id"].as_str().expect("id").to_string()), "note ids unique");
            let e = n["encounter_id"].as_str().expect("enc");
            assert!(gold_ids.contains(e), "note of unknown encounter {e}");
            *per_enc.entry(e).or_default() += 1;
            if let Some(cl) = n.get("claim_lines") {
                let arr = cl.as_array().expect("array");
                assert!(!arr.is_empty());
                for l in arr {
                    assert!(l["code"].is_string() && l["units"].is_u64());
                    assert!(l["modifiers"].is_array() && l["icd10"].is_array());
                }
                inline_lines += arr.len();
                *inline_carriers.entry(e).or_default() += 1;
            }
        }
        assert_eq!(per_enc.len(), 1500, "every encounter has at least one note");
        assert!(per_enc.values().all(|&c| (1..=3).contains(&c)));
        assert!(inline_carriers.values().all(|&c| c == 1), "claims carried by one note");
        let mut file_lines = 0usize;
        let claims = dir.join("claims.csv");
        if mode == ClaimsMode::Inline {
            assert!(!claims.exists());
        } else {
            let text = std::fs::read_to_string(&claims).expect("claims.csv");
            let mut it = text.lines();
            assert_eq!(it.next(), Some("encounter_id,code,units,modifiers,icd10,place_of_service"));
            for l in it {
                let f: Vec<&str> = l.split(',').collect();
                assert_eq!(f.len(), 6, "{l}");
                assert!(gold_ids.contains(f[0]));
                assert!(!inline_carriers.contains_key(f[0]), "encounter split between inline and file");
                assert!(f[2].parse::<u32>().is_ok());
                file_lines += 1;
            }
        }
        assert_eq!(inline_lines + file_lines, s.claim_lines);
        if mode == ClaimsMode::File {
            assert_eq!(inline_lines, 0);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn gold_is_complete_and_self_consistent() {
    let dir = tmp("gold");
    write_dataset(&cfg(3000), &dir).expect("write");
    let gold = read_lines(&dir.join("gold.jsonl"));
    let mut tracks = BTreeMap::new();
    let mut clean = 0usize;
    let mut fired: BTreeSet<String> = BTreeSet::new();
    for g in &gold {
        let obj = g.as_object().expect("object");
        for k in GOLD_KEYS {
            assert!(obj.contains_key(*k), "missing {k}");
        }
        let track = g["track"].as_str().expect("track");
        *tracks.entry(track.to_string()).or_insert(0usize) += 1;
        let trials = g["antidepressant_trials"].as_u64().expect("u");
        let adequate = g["adequate_trials"].as_u64().expect("u");
        assert!(adequate <= trials);
        if g["vague_trial_history"].as_bool().expect("b") {
            assert!(adequate < 2);
        }
        if track == "none" {
            assert_eq!(g["pre_dose_bp"], Value::Bool(false));
            assert_eq!(g["post_dose_bp"], Value::Bool(false));
        }
        let n_bp = g["bp_reading_count"].as_u64().expect("u");
        if g["pre_dose_bp"].as_bool().expect("b") || g["post_dose_bp"].as_bool().expect("b") {
            assert!(n_bp >= 1);
        }
        let um = &g["units_match_dose"];
        assert_eq!(um.is_null(), g["dose_mg"].is_null() || g["billed_drug_units"].is_null());
        let codes: Vec<&str> = g["icd10_codes"].as_array().expect("a").iter().map(|c| c.as_str().expect("s")).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "codes sorted and distinct");
        assert!(codes.iter().all(|c| c.len() <= 3 || c.as_bytes()[3] == b'.'), "dotted: {codes:?}");
        assert_eq!(g["icd10_specific"].is_null(), codes.is_empty());
        let planted: Vec<&str> = g["planted"].as_array().expect("a").iter().map(|p| p.as_str().expect("s")).collect();
        let mut ps = planted.clone();
        ps.sort_unstable();
        assert_eq!(planted, ps, "planted sorted");
        for p in &planted {
            assert!(RULES.contains(p), "unknown rule {p}");
            fired.insert(p.to_string());
        }
        if planted.is_empty() {
            clean += 1;
        }
        if track != "esketamine" {
            assert!(planted.iter().all(|p| !p.starts_with("esk-")));
        }
        if track != "iv_ketamine" {
            assert!(planted.iter().all(|p| !p.starts_with("ivk-")));
        }
    }
    let esk = tracks.get("esketamine").copied().unwrap_or(0) as f64 / 3000.0;
    assert!((0.4..0.7).contains(&esk), "esketamine share {esk}");
    let clean_share = clean as f64 / 3000.0;
    assert!((0.4..0.8).contains(&clean_share), "clean share {clean_share}");
    for r in RULES {
        assert!(fired.contains(*r), "rule {r} never planted in 3000 encounters");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn styles_vary() {
    let dir = tmp("styles");
    write_dataset(&cfg(2000), &dir).expect("write");
    let notes = std::fs::read_to_string(dir.join("notes.jsonl")).expect("notes");
    let gold = std::fs::read_to_string(dir.join("gold.jsonl")).expect("gold");
    for tag in [
        "flowsheet",
        "narrative",
        "nurse_shorthand",
        "soap",
        "pipe_table",
        "tab_table",
        "timestamped_log",
        "all_caps",
        "crlf",
        "typos",
        "long_copy_forward",
        "near_empty",
        "split_notes",
        "em_copy_of_session",
        "em_stub",
        "cloned_session",
        "d:bp_threshold",
        "d:trial_family",
        "d:sleep_dose",
    ] {
        assert!(gold.contains(&format!("\"{tag}\"")), "style {tag} never used");
    }
    assert!(notes.contains("\\r\\n"), "some CRLF text");
    assert!(notes.contains("| Time | Phase | BP |"));
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(target_os = "linux")]
fn peak_rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[test]
fn streams_without_growing_memory() {
    // 25k encounters write ~60 MB of notes; the generator must keep only one
    // patient in memory, so the process peak must stay far below that.
    let dir = tmp("stream");
    #[cfg(target_os = "linux")]
    let before = peak_rss_kb();
    let s = write_dataset(&SynthConfig { gzip: true, ..cfg(25_000) }, &dir).expect("write");
    assert_eq!(s.encounters, 25_000);
    assert!(s.note_bytes > 40_000_000, "large run: {} bytes", s.note_bytes);
    #[cfg(target_os = "linux")]
    {
        let grown = peak_rss_kb().saturating_sub(before);
        assert!(grown < 48 * 1024, "peak RSS grew by {grown} kB");
    }
    let gz = flate2::read::GzDecoder::new(File::open(dir.join("notes.jsonl.gz")).expect("gz"));
    let (mut bytes, mut lines) = (0u64, 0usize);
    for line in std::io::BufRead::split(std::io::BufReader::new(gz), b'\n') {
        let line = line.expect("gunzip");
        serde_json::from_slice::<Value>(&line).expect("valid JSON line");
        bytes += line.len() as u64 + 1;
        lines += 1;
    }
    assert_eq!(bytes, s.note_bytes);
    assert_eq!(lines, s.notes);
    let _ = std::fs::remove_dir_all(dir);
}
