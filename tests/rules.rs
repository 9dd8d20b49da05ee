//! Per-rule fixtures, run through the real binary.
//!
//! Every rule in `ketaudit::rules::ALL` has `tests/fixtures/rules/<id>/`:
//! - `fires.jsonl`: the rule must fire on every encounter, except context
//!   encounters whose id starts with `ctx-` (e.g. the earlier session a
//!   cloned note copies). Its findings (all rules, not only this one) are
//!   snapshotted, so a change in what the pack reports on it is reviewed.
//! - `clean.jsonl`: the rule must fire on no encounter.
//!
//! Notes are in the data contract's JSON Lines format with `claim_lines`
//! inline. One scan covers all fixtures (a scan per file would take
//! minutes): the files are merged into one input with every note, encounter
//! and patient id prefixed by `<rule-id>:<fires|clean>:`, so fixtures cannot
//! group with, or be compared as clones of, each other. The prefix is
//! removed again before snapshotting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde::Serialize;

const KINDS: [&str; 2] = ["fires", "clean"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// One finding as the snapshots show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    encounter_id: String,
    rule_id: String,
    note_id: Option<String>,
    start: Option<u32>,
    end: Option<u32>,
    severity: String,
    message: String,
    evidence: Option<String>,
}

/// The fixtures and what the one scan found in them, by (rule dir, kind).
struct Scan {
    /// Encounter ids (unprefixed) of each fixture file, in file order.
    encounters: BTreeMap<(String, String), Vec<String>>,
    /// Findings of each fixture file, sorted, prefixes removed.
    findings: BTreeMap<(String, String), Vec<Row>>,
    /// Note text by (rule dir, kind, note id), to check evidence spans.
    texts: BTreeMap<(String, String, String), String>,
    /// The merged input.
    merged: String,
}

fn prefix(rule: &str, kind: &str) -> String {
    format!("{rule}:{kind}:")
}

fn scan() -> &'static Scan {
    static SCAN: OnceLock<Scan> = OnceLock::new();
    SCAN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let mut merged = String::new();
        let mut encounters: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        let mut texts = BTreeMap::new();
        let mut dirs: Vec<String> = std::fs::read_dir(fixtures()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        dirs.sort();
        for rule in &dirs {
            for kind in KINDS {
                let path = fixtures().join(rule).join(format!("{kind}.jsonl"));
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let pre = prefix(rule, kind);
                let encs = encounters.entry((rule.clone(), kind.to_string())).or_default();
                for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                    let mut v: serde_json::Value =
                        serde_json::from_str(line).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
                    let text = v["text"].as_str().unwrap_or_default().to_string();
                    texts.insert((rule.clone(), kind.to_string(), v["note_id"].as_str().unwrap_or_default().to_string()), text);
                    for key in ["note_id", "encounter_id", "patient_id"] {
                        let id = v[key].as_str().unwrap_or_else(|| panic!("{}:{}: no {key}", path.display(), i + 1)).to_string();
                        if key == "encounter_id" && !encs.contains(&id) {
                            encs.push(id.clone());
                        }
                        v[key] = serde_json::Value::String(format!("{pre}{id}"));
                    }
                    merged.push_str(&serde_json::to_string(&v).unwrap());
                    merged.push('\n');
                }
            }
        }
        let input = tmp.path().join("fixtures.jsonl");
        std::fs::write(&input, &merged).unwrap();
        let out = tmp.path().join("out");
        let o = Command::new(env!("CARGO_BIN_EXE_ketaudit"))
            .args(["scan", input.to_str().unwrap(), "--no-index", "--quiet", "--threads", "2", "--out", out.to_str().unwrap()])
            .output()
            .expect("run ketaudit");
        assert!(o.status.success(), "scan failed: {}", String::from_utf8_lossy(&o.stderr));
        let rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
        assert!(rejects.trim().is_empty(), "fixture notes were rejected: {rejects}");

        let df = ketaudit::report::read_parquet(&out.join("findings.parquet")).expect("read findings.parquet");
        let s = |c: &str| df.column(c).unwrap().str().unwrap().clone();
        let u = |c: &str| df.column(c).unwrap().u32().unwrap().clone();
        let (enc, note, rule, sev, msg, ev, st, en) =
            (s("encounter_id"), s("note_id"), s("rule_id"), s("severity"), s("message"), s("evidence"), u("start"), u("end"));
        let mut findings: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
        for i in 0..df.height() {
            let f = Finding {
                encounter_id: enc.get(i).unwrap(),
                rule_id: rule.get(i).unwrap(),
                note_id: note.get(i),
                start: st.get(i),
                end: en.get(i),
                severity: sev.get(i).unwrap(),
                message: msg.get(i).unwrap(),
                evidence: ev.get(i),
            };
            let (k, row) = unprefixed(&f);
            findings.entry(k).or_default().push(row);
        }
        for rows in findings.values_mut() {
            rows.sort();
        }
        Scan { encounters, findings, texts, merged }
    })
}

/// A finding of the merged input, as read from a report.
struct Finding<'a> {
    encounter_id: &'a str,
    rule_id: &'a str,
    note_id: Option<&'a str>,
    start: Option<u32>,
    end: Option<u32>,
    severity: &'a str,
    message: &'a str,
    evidence: Option<&'a str>,
}

/// The fixture file (rule dir, kind) a finding of the merged input is
/// from, and the finding with the prefixes removed.
fn unprefixed(f: &Finding<'_>) -> ((String, String), Row) {
    let mut parts = f.encounter_id.splitn(3, ':');
    let (r, k, id) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    let pre = prefix(r, k);
    let row = Row {
        encounter_id: id.to_string(),
        rule_id: f.rule_id.to_string(),
        note_id: f.note_id.map(|n| n.strip_prefix(&pre).unwrap_or(n).to_string()),
        start: f.start,
        end: f.end,
        severity: f.severity.to_string(),
        // Messages may name other notes and encounters of the fixture
        // (note-cloned, esk-dosing-schedule-exceeded).
        message: f.message.replace(&pre, ""),
        evidence: f.evidence.map(str::to_string),
    };
    ((r.to_string(), k.to_string()), row)
}

fn key(rule: &str, kind: &str) -> (String, String) {
    (rule.to_string(), kind.to_string())
}

#[test]
fn fixture_folders_are_rules() {
    let ids: Vec<&str> = ketaudit::rules::ALL.iter().map(|r| r.id).collect();
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(ids.contains(&name.as_str()), "tests/fixtures/rules/{name} is not an implemented rule");
    }
}

#[test]
fn each_rule_fires_on_its_fixture_and_not_on_its_clean_one() {
    let scan = scan();
    let mut problems = Vec::new();
    for r in ketaudit::rules::ALL {
        for kind in KINDS {
            let encs = scan.encounters.get(&key(r.id, kind)).cloned().unwrap_or_default();
            if encs.is_empty() {
                problems.push(format!("{}: no {kind}.jsonl encounters", r.id));
            }
            let rows = scan.findings.get(&key(r.id, kind)).cloned().unwrap_or_default();
            for e in encs {
                let fired = rows.iter().any(|f| f.encounter_id == e && f.rule_id == r.id);
                if kind == "fires" && !fired && !e.starts_with("ctx-") {
                    problems.push(format!("{}: does not fire on encounter {e} of fires.jsonl", r.id));
                }
                if kind == "clean" && fired {
                    let why: Vec<&str> =
                        rows.iter().filter(|f| f.encounter_id == e && f.rule_id == r.id).map(|f| f.message.as_str()).collect();
                    problems.push(format!("{}: fires on encounter {e} of clean.jsonl: {why:?}", r.id));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} fixture problem(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn fires_fixture_findings() {
    let scan = scan();
    for r in ketaudit::rules::ALL {
        let rows = scan.findings.get(&key(r.id, "fires")).cloned().unwrap_or_default();
        insta::with_settings!({
            description => format!("findings of tests/fixtures/rules/{}/fires.jsonl", r.id),
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!(r.id, rows);
        });
    }
}

/// The in-memory path (`eval`) finds what the streaming scan finds,
/// including the findings decided across encounters after the scan
/// (note-cloned, esk-dosing-schedule-exceeded).
#[test]
fn in_memory_path_finds_what_the_scan_finds() {
    let scan = scan();
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("fixtures.jsonl");
    std::fs::write(&input, &scan.merged).unwrap();
    let opts = ketaudit::pipeline::ScanOptions {
        inputs: vec![input.clone()],
        claims: vec![],
        out: tmp.path().join("out"),
        index: None,
        no_index: true,
        threads: 2,
        settings: Default::default(),
        payer_overrides: Default::default(),
        ingest: Default::default(),
    };
    let (res, rejects) = ketaudit::pipeline::analyze(&opts, &[input], &ketaudit::pipeline::NoProgress).expect("analyze");
    assert!(rejects.is_empty());
    let mut findings: BTreeMap<(String, String), Vec<Row>> = BTreeMap::new();
    for f in res.findings.iter().flatten() {
        let (k, row) = unprefixed(&Finding {
            encounter_id: &f.encounter_id,
            rule_id: f.rule_id,
            note_id: f.note_id.as_deref(),
            start: f.start,
            end: f.end,
            severity: f.severity.as_str(),
            message: &f.message,
            evidence: f.evidence.as_deref(),
        });
        findings.entry(k).or_default().push(row);
    }
    for rows in findings.values_mut() {
        rows.sort();
    }
    let rule_fixtures = |m: &BTreeMap<(String, String), Vec<Row>>| -> Vec<(String, String, usize)> {
        m.iter().map(|(k, v)| (k.0.clone(), k.1.clone(), v.len())).collect()
    };
    assert_eq!(rule_fixtures(&findings), rule_fixtures(&scan.findings));
    assert!(findings == scan.findings, "the in-memory path and the scan disagree");
}

#[test]
fn docs_rules_md_is_current() {
    let o = Command::new(env!("CARGO_BIN_EXE_ketaudit")).args(["rules", "--format", "markdown"]).output().expect("run ketaudit");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = String::from_utf8(o.stdout).unwrap();
    let have = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md")).unwrap_or_default();
    assert!(have == want, "docs/rules.md is out of date: run `cargo run -- rules --format markdown > docs/rules.md`");
}

#[test]
fn evidence_quotes_the_note_at_its_offsets() {
    let scan = scan();
    let mut checked = 0;
    for ((rule, kind), rows) in &scan.findings {
        for f in rows {
            let (Some(note), Some(ev), Some(s), Some(e)) = (&f.note_id, &f.evidence, f.start, f.end) else {
                continue;
            };
            let text = &scan.texts[&(rule.clone(), kind.clone(), note.clone())];
            let span =
                text.get(s as usize..e as usize).unwrap_or_else(|| panic!("{rule}/{kind}.jsonl {note}: span {s}..{e} off char boundaries"));
            let folded = span.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                folded.starts_with(ev.as_str()) || ev.starts_with(&folded),
                "{rule}/{kind}.jsonl {note}: evidence {ev:?} vs text {folded:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}
