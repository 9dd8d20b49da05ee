//! Tests for ingest: every reject reason, counting, gzip, CSV, encodings,
//! folder expansion, normalization, and a property test that counts always
//! reconcile.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use proptest::prelude::*;

use super::*;

const GOOD: &str =
    r#"{"note_id":"n1","encounter_id":"e1","patient_id":"p1","date_of_service":"2026-01-05","text":"Spravato 56 mg. BP 128/82."}"#;

fn good(id: &str) -> String {
    format!(
        r#"{{"note_id":"{id}","encounter_id":"e1","patient_id":"p1","date_of_service":"2026-01-05","text":"Spravato 56 mg.","extra_col":1}}"#
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

struct Out {
    notes: Vec<Note>,
    rejects: Vec<Reject>,
    stats: FileStats,
}

impl Out {
    fn reasons(&self) -> Vec<(u64, &str)> {
        self.rejects.iter().map(|r| (r.line, r.reason.as_str())).collect()
    }
}

fn notes_with(path: &Path, opts: &IngestOptions) -> Out {
    let mut notes = Vec::new();
    let mut rejects = Vec::new();
    let stats = read_notes(path, opts, &mut |ev| match ev {
        NoteEvent::Note(n) => notes.push(n),
        NoteEvent::Reject(r) => rejects.push(r),
    })
    .unwrap();
    assert_eq!(stats.read, stats.accepted + stats.rejected, "reconcile");
    assert_eq!(stats.accepted as usize, notes.len());
    assert_eq!(stats.rejected as usize, rejects.len());
    for r in &rejects {
        assert_eq!(r.kind, "notes");
        assert!(reason::ALL.contains(&r.reason.as_str()), "{}", r.reason);
    }
    Out { notes, rejects, stats }
}

fn notes(path: &Path) -> Out {
    notes_with(path, &IngestOptions::default())
}

fn notes_str(name: &str, content: &str) -> Out {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), name, content.as_bytes());
    notes(&p)
}

fn claims(path: &Path) -> (Vec<ClaimRecord>, Vec<Reject>, FileStats) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let stats = read_claims(path, &IngestOptions::default(), &mut |ev| match ev {
        ClaimEvent::Claim(c) => ok.push(c),
        ClaimEvent::Reject(r) => bad.push(r),
    })
    .unwrap();
    assert_eq!(stats.read, stats.accepted + stats.rejected);
    assert_eq!(stats.accepted as usize, ok.len());
    for r in &bad {
        assert_eq!(r.kind, "claims");
    }
    (ok, bad, stats)
}

fn claims_str(name: &str, content: &str) -> (Vec<ClaimRecord>, Vec<Reject>, FileStats) {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), name, content.as_bytes());
    claims(&p)
}

/// A one-line note file built from `GOOD` with `from` replaced by `to`.
fn one(from: &str, to: &str) -> Out {
    assert!(GOOD.contains(from), "{from}");
    notes_str("x.jsonl", &GOOD.replacen(from, to, 1))
}

fn one_reason(from: &str, to: &str) -> (String, String) {
    let o = one(from, to);
    assert_eq!(o.stats.read, 1);
    assert_eq!(o.rejects.len(), 1, "expected a reject for {to}");
    (o.rejects[0].reason.clone(), o.rejects[0].detail.clone())
}

// ---------------------------------------------------------------- notes JSONL

#[test]
fn valid_note_parses_all_fields() {
    let line = r#"{"note_id":" n1 ","encounter_id":"e1","patient_id":"p1","date_of_service":"2026-01-05","text":"  Line1\r\nLine2  ","provider_id":"dr","provider_credential":"MD","payer":"Aetna PPO","note_type":"Spravato Treatment Note","place_of_service":"2","claim_lines":[{"code":"s0013","units":56,"modifiers":["gt"],"icd10":["f332","F33.1"],"place_of_service":"11"},{"code":"99214","units":1,"modifiers":"25;GT","icd10":"F33.2"}],"unknown":{"a":[1,2]}}"#;
    let o = notes_str("a.jsonl", &format!("{line}\n"));
    assert_eq!(o.rejects.len(), 0, "{:?}", o.rejects);
    let n = &o.notes[0];
    assert_eq!(n.note_id, "n1");
    assert_eq!(n.text, "  Line1\r\nLine2  ");
    assert_eq!(n.date_of_service, NaiveDateExt::ymd(2026, 1, 5));
    assert_eq!(n.place_of_service.as_deref(), Some("02"));
    assert_eq!(n.payer.as_deref(), Some("Aetna PPO"));
    assert_eq!(n.claim_lines.len(), 2);
    assert_eq!(n.claim_lines[0].code, "S0013");
    assert_eq!(n.claim_lines[0].units, 56.0);
    assert_eq!(n.claim_lines[0].modifiers, vec!["GT"]);
    assert_eq!(n.claim_lines[0].icd10, vec!["F33.2", "F33.1"]);
    assert_eq!(n.claim_lines[0].place_of_service.as_deref(), Some("11"));
    assert_eq!(n.claim_lines[1].modifiers, vec!["25", "GT"]);
    assert_eq!(n.origin.line, 1);
    assert!(n.origin.file.ends_with("a.jsonl"));
}

struct NaiveDateExt;
impl NaiveDateExt {
    fn ymd(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
}

#[test]
fn invalid_json_truncated_and_trailing_garbage() {
    let content = format!("{}\n{}\n{} extra\n{}\n", good("a"), &GOOD[..40], good("b"), good("c"));
    let o = notes_str("x.jsonl", &content);
    assert_eq!(o.reasons(), vec![(2, "invalid_json"), (3, "invalid_json")]);
    assert_eq!(o.notes.len(), 2);
    assert!(o.rejects[0].detail.contains("truncated"), "{}", o.rejects[0].detail);
    assert!(o.rejects[1].detail.contains("trailing"), "{}", o.rejects[1].detail);
    assert_eq!(o.notes[1].origin.line, 4);
}

#[test]
fn not_an_object() {
    let o = notes_str("x.jsonl", "[1,2]\n\"s\"\n42\nnull\n");
    assert_eq!(o.stats.read, 4);
    assert!(o.rejects.iter().all(|r| r.reason == "not_an_object"));
}

#[test]
fn missing_fields_each_named() {
    for f in ["note_id", "encounter_id", "patient_id", "date_of_service", "text"] {
        // Absent.
        let v: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        let mut m = v.as_object().unwrap().clone();
        m.remove(f);
        let o = notes_str("x.jsonl", &serde_json::to_string(&m).unwrap());
        assert_eq!(o.rejects[0].reason, "missing_field");
        assert!(o.rejects[0].detail.contains(f), "{}", o.rejects[0].detail);
        // Blank.
        let mut m = v.as_object().unwrap().clone();
        m.insert(f.into(), " \t ".into());
        let o = notes_str("x.jsonl", &serde_json::to_string(&m).unwrap());
        assert_eq!(o.rejects[0].reason, "missing_field", "{f}");
        assert!(o.rejects[0].detail.contains(f));
    }
}

#[test]
fn wrong_types() {
    let cases = [
        (r#""text":"Spravato 56 mg. BP 128/82.""#, r#""text":null"#, "text"),
        (r#""text":"Spravato 56 mg. BP 128/82.""#, r#""text":5"#, "text"),
        (r#""note_id":"n1""#, r#""note_id":123"#, "note_id"),
        (r#""note_id":"n1""#, r#""note_id":"n1","payer":7"#, "payer"),
        (r#""note_id":"n1""#, r#""note_id":"n1","claim_lines":{}"#, "claim_lines"),
        (r#""note_id":"n1""#, r#""note_id":"n1","place_of_service":11"#, "place_of_service"),
    ];
    for (from, to, field) in cases {
        let (r, d) = one_reason(from, to);
        assert_eq!(r, "wrong_type", "{to}");
        assert!(d.contains(field) && d.contains("expected"), "{d}");
    }
    // Optional null = absent.
    let o = one(r#""note_id":"n1""#, r#""note_id":"n1","payer":null,"claim_lines":null"#);
    assert_eq!(o.notes.len(), 1);
}

#[test]
fn dates() {
    for bad in ["2026-02-30", "01/05/2026", "2026-1-5", "20260105", "2026-01-05T25:00", "2026-01-05x"] {
        let (r, _) = one_reason("2026-01-05", bad);
        assert_eq!(r, "bad_date", "{bad}");
    }
    for ok in ["2026-01-05T10:00:00", "2026-01-05 10:00", "2026-01-05T23:30:00-05:00", " 2026-01-05 ", "2026-01-05T10:00:00.123Z"] {
        let o = one("2026-01-05", ok);
        assert_eq!(o.notes.len(), 1, "{ok}");
        assert_eq!(o.notes[0].date_of_service, NaiveDateExt::ymd(2026, 1, 5));
    }
    assert_eq!(one("2026-01-05", "2026-01-05T10:00:00").stats.decoded.dates_from_datetime, 1);
    assert_eq!(parse_date("2024-02-29").map(|d| d.1), Some(DateForm::Date));
    assert!(parse_date("2023-02-29").is_none());
}

#[test]
fn bad_value_place_of_service() {
    let (r, d) = one_reason(r#""note_id":"n1""#, r#""note_id":"n1","place_of_service":"Office""#);
    assert_eq!(r, "bad_value");
    assert!(d.contains("place_of_service"));
}

#[test]
fn oversized_note_and_line() {
    let d = tempfile::tempdir().unwrap();
    let big = GOOD.replace("Spravato 56 mg.", &"x".repeat(2000));
    let content = format!("{}\n{}\n{}\n", good("a"), big, good("b"));
    let p = write(d.path(), "x.jsonl", content.as_bytes());
    let o = notes_with(&p, &IngestOptions { max_note_bytes: 1000, ..Default::default() });
    assert_eq!(o.reasons(), vec![(2, "oversized_note")]);
    let o = notes_with(&p, &IngestOptions { max_line_bytes: 1000, ..Default::default() });
    assert_eq!(o.reasons(), vec![(2, "oversized_line")]);
    assert!(o.rejects[0].raw.is_none());
    assert_eq!(o.notes[1].origin.line, 3);
    assert_eq!(o.stats.bytes, content.len() as u64);
}

/// A line longer than the reader's long-line threshold (1 MiB), where it
/// makes room up to the cap at once: under the cap it is read whole, over
/// it skipped, and the next line is read either way.
#[test]
fn long_lines_on_both_sides_of_the_cap() {
    let d = tempfile::tempdir().unwrap();
    let text = "BP 120/80. ".repeat(120_000);
    let long = GOOD.replace("Spravato 56 mg.", &text);
    let content = format!("{}\n{}\n{}\n", good("a"), long, good("b"));
    let p = write(d.path(), "x.jsonl", content.as_bytes());
    assert!(long.len() > 1 << 20, "over the long-line threshold");
    let o = notes_with(&p, &IngestOptions { max_note_bytes: 4 << 20, max_line_bytes: 2 << 20 });
    assert!(o.reasons().is_empty(), "{:?}", o.reasons());
    assert_eq!(o.notes.len(), 3);
    assert!(o.notes[1].text.contains(&text));
    assert_eq!(o.notes[2].origin.line, 3);
    let o = notes_with(&p, &IngestOptions { max_note_bytes: 4 << 20, max_line_bytes: 1_200_000 });
    assert_eq!(o.reasons(), vec![(2, "oversized_line")]);
    assert_eq!(o.notes[1].origin.line, 3);
    assert_eq!(o.stats.bytes, content.len() as u64);
}

#[test]
fn duplicate_keys_top_level_and_nested() {
    let (r, d) = one_reason(r#""note_id":"n1""#, r#""note_id":"n1","note_id":"n2""#);
    assert_eq!(r, "duplicate_key");
    assert!(d.contains("note_id"));
    let (r, _) = one_reason(r#""note_id":"n1""#, r#""note_id":"n1","claim_lines":[{"code":"99214","units":1,"units":2}]"#);
    assert_eq!(r, "duplicate_key");
    let (r, d) = one_reason(r#""note_id":"n1""#, r#""note_id":"n1","x":1,"x":2"#);
    assert_eq!(r, "duplicate_key");
    assert!(d.contains("outside the contract"), "{d}");
    // Many keys: the set path.
    let many: String = (0..40).map(|i| format!(r#","k{i}":1"#)).collect();
    let (r, _) = one_reason(r#""note_id":"n1""#, &format!(r#""note_id":"n1"{many},"k3":2"#));
    assert_eq!(r, "duplicate_key");
    let o = one(r#""note_id":"n1""#, &format!(r#""note_id":"n1"{many}"#));
    assert_eq!(o.notes.len(), 1);
}

#[test]
fn bad_claim_lines() {
    let cases = [
        r#"[{"units":1}]"#,
        r#"[{"code":"99214","units":"two"}]"#,
        r#"[{"code":"99214","units":-1}]"#,
        r#"[{"code":"99214"}]"#,
        r#"[{"code":"99214-25","units":1}]"#,
        r#"[{"code":"99214","units":1,"icd10":["depression"]}]"#,
        r#"[{"code":"99214","units":1,"icd10":[332]}]"#,
        r#"[{"code":"99214","units":1,"modifiers":["GTX"]}]"#,
        r#"[{"code":"99214","units":1,"place_of_service":"x"}]"#,
        r#"["99214"]"#,
    ];
    for c in cases {
        let (r, d) = one_reason(r#""note_id":"n1""#, &format!(r#""note_id":"n1","claim_lines":{c}"#));
        assert_eq!(r, "bad_claim_line", "{c}: {d}");
        assert!(d.contains("claim_lines[0]"), "{d}");
    }
}

#[test]
fn blank_lines_skipped_and_not_counted_crlf_tolerated() {
    let content = format!("\n  \n{}\r\n\t\r\n{}\r\n\n", good("a"), good("b"));
    let o = notes_str("x.jsonl", &content);
    assert_eq!(o.stats.read, 2);
    assert_eq!(o.notes[0].origin.line, 3);
    assert_eq!(o.notes[1].origin.line, 5);
    assert!(o.stats.decoded.crlf >= 2);
    // No final newline.
    let o = notes_str("x.jsonl", &good("a"));
    assert_eq!(o.stats.read, 1);
    assert_eq!(o.notes.len(), 1);
}

#[test]
fn every_reason_code_is_produced() {
    let mut seen: std::collections::BTreeSet<String> = Default::default();
    let d = tempfile::tempdir().unwrap();
    let lines = [
        GOOD.to_owned(),
        "{".to_owned(),
        "[]".to_owned(),
        GOOD.replace(r#""note_id":"n1""#, r#""note_id":"n1","a":1,"a":1"#),
        GOOD.replace(r#""note_id":"n1","#, ""),
        GOOD.replace(r#""text":"Spravato 56 mg. BP 128/82.""#, r#""text":null"#),
        GOOD.replace("2026-01-05", "2026-13-01"),
        GOOD.replace(r#""note_id":"n1""#, r#""note_id":"n1","place_of_service":"xx""#),
        GOOD.replace("Spravato 56 mg. BP 128/82.", &"y".repeat(300)),
        format!(r#"{{"pad":"{}"}}"#, "z".repeat(600)),
        GOOD.replace(r#""note_id":"n1""#, r#""note_id":"n1","claim_lines":[{"code":"1"}]"#),
    ];
    let mut bytes = lines.join("\n").into_bytes();
    bytes.extend_from_slice(b"\n{\"note_id\":\"\x81\"}\n");
    let p = write(d.path(), "all.jsonl", &bytes);
    let opts = IngestOptions { max_note_bytes: 200, max_line_bytes: 500 };
    let o = notes_with(&p, &opts);
    assert_eq!(o.notes.len(), 1);
    seen.extend(o.rejects.iter().map(|r| r.reason.clone()));
    // CSV row width and a truncated gzip.
    let p = write(d.path(), "r.csv", b"note_id,encounter_id\na,b,c\n");
    seen.extend(notes(&p).rejects.iter().map(|r| r.reason.clone()));
    let z = gz(format!("{GOOD}\n").repeat(50).as_bytes());
    let p = write(d.path(), "t.jsonl.gz", &z[..z.len() / 2]);
    seen.extend(notes(&p).rejects.iter().map(|r| r.reason.clone()));
    let all: std::collections::BTreeSet<String> = reason::ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, all);
}

#[test]
fn details_never_contain_record_content() {
    let secret = "SECRETPHI";
    let lines = [
        format!(r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"{secret}","text":"t"}}"#),
        format!(
            r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"2026-01-01","text":"{secret}","claim_lines":[{{"code":"{secret}","units":1}}]}}"#
        ),
        format!(
            r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"2026-01-01","text":"{secret}","claim_lines":[{{"code":"99214","units":"{secret}"}}]}}"#
        ),
        format!(r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"2026-01-01","text":"{secret}" {secret}}}"#),
        format!(
            r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"2026-01-01","text":"{secret}","{secret} x":1,"{secret} x":2}}"#
        ),
        format!(r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"2026-01-01","text":"{secret}\q"}}"#),
        format!(r#"{{"note_id":{{"{secret}":1}},"text":"{secret}"}}"#),
        format!(
            r#"{{"note_id":"n","encounter_id":"e","patient_id":"p","date_of_service":"2026-01-01","text":"{secret}","place_of_service":"{secret}"}}"#
        ),
    ];
    let o = notes_str("x.jsonl", &lines.join("\n"));
    assert_eq!(o.rejects.len(), lines.len());
    for r in &o.rejects {
        assert!(!r.detail.contains(secret), "{}: {}", r.reason, r.detail);
        assert!(r.raw.as_deref().unwrap().contains(secret));
    }
}

// ---------------------------------------------------------------- gzip

#[test]
fn gzip_plain_and_multi_member() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "a.jsonl.gz", &gz(format!("{}\n{}\n", good("a"), good("b")).as_bytes()));
    let o = notes(&p);
    assert_eq!(o.notes.len(), 2);
    assert!(o.stats.decoded.gzip);
    assert!(o.stats.io_error.is_none());
    // Two members, the line split across the member boundary.
    let all = format!("{}\n{}\n{}\n", good("a"), good("b"), good("c"));
    let (x, y) = all.split_at(all.len() / 2);
    let mut z = gz(x.as_bytes());
    z.extend(gz(y.as_bytes()));
    let p = write(d.path(), "m.JSONL.GZ", &z);
    let o = notes(&p);
    assert_eq!(o.notes.len(), 3, "{:?}", o.rejects);
    assert_eq!(o.stats.bytes, all.len() as u64);
}

#[test]
fn gzip_truncated_is_reported_not_undercounted() {
    let d = tempfile::tempdir().unwrap();
    let content: String = (0..2000).map(|i| format!("{}\n", good(&format!("n{i}")))).collect();
    let z = gz(content.as_bytes());
    for cut in [z.len() - 1, z.len() - 4, z.len() * 2 / 3, z.len() / 3, 11] {
        let p = write(d.path(), "t.jsonl.gz", &z[..cut]);
        let o = notes(&p);
        assert!(o.stats.io_error.is_some(), "cut {cut}");
        let last = o.rejects.last().unwrap();
        assert_eq!(last.reason, "io_error");
        assert_eq!(last.line, o.notes.len() as u64 + 1);
        assert!(o.notes.len() < 2000 || cut >= z.len() - 8);
    }
}

#[test]
fn gzip_bad_crc_and_garbage() {
    let d = tempfile::tempdir().unwrap();
    let mut z = gz(format!("{}\n{}\n", good("a"), good("b")).as_bytes());
    let n = z.len();
    z[n - 8] ^= 0xFF; // CRC32 in the trailer
    let p = write(d.path(), "c.jsonl.gz", &z);
    let o = notes(&p);
    assert_eq!(o.reasons().last().unwrap().1, "io_error");
    assert!(o.stats.io_error.is_some());
    // Not gzip at all.
    let p = write(d.path(), "g.jsonl.gz", format!("{GOOD}\n").as_bytes());
    let o = notes(&p);
    assert_eq!(o.reasons(), vec![(1, "io_error")]);
    assert!(o.rejects[0].detail.contains("rest of the file"));
    assert!(o.rejects[0].detail.contains("gzip"), "{}", o.rejects[0].detail);
}

#[test]
fn empty_inputs() {
    let d = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("z.jsonl", Vec::new()),
        ("z.csv", Vec::new()),
        ("z.jsonl.gz", Vec::new()),
        ("e.jsonl.gz", gz(b"")),
        ("e.csv.gz", gz(b"")),
        ("h.csv", b"note_id,encounter_id,patient_id,date_of_service,text\r\n".to_vec()),
        ("w.jsonl", b"\n\n  \n".to_vec()),
    ] {
        let p = write(d.path(), name, &bytes);
        let o = notes(&p);
        assert_eq!(o.stats.read, 0, "{name}");
        assert!(o.stats.io_error.is_none(), "{name}: {:?}", o.stats.io_error);
    }
    let empty = d.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(expand_inputs(&[empty]).unwrap().is_empty());
}

// ---------------------------------------------------------------- CSV

const HDR: &str = "note_id,encounter_id,patient_id,date_of_service,text";

#[test]
fn csv_quoted_newlines_and_start_lines() {
    let content = String::from(
        "\u{feff}Note_ID , Encounter_Id,patient_id,DATE_OF_SERVICE,text,Unknown\r\n\
         n1,e1,p1,2026-01-05,\"line one\r\nline \"\"two\"\"\n\nline four\",x\r\n\
         n2,e1,p1,2026-01-05,plain,y\n\
         \n\
         n3,e1,p1,2026-01-05,\"a, b\",z\n",
    );
    let o = notes_str("n.csv", &content);
    assert_eq!(o.rejects.len(), 0, "{:?}", o.rejects);
    assert_eq!(o.stats.read, 3);
    assert_eq!(o.notes[0].text, "line one\r\nline \"two\"\n\nline four");
    assert_eq!(o.notes[0].origin.line, 2);
    assert_eq!(o.notes[1].origin.line, 6);
    assert_eq!(o.notes[2].origin.line, 8);
    assert_eq!(o.notes[2].text, "a, b");
    assert!(o.stats.decoded.bom_utf8);
    assert_eq!(o.stats.format, Some(Format::Csv));
}

#[test]
fn csv_bad_rows_and_fields() {
    let content = format!(
        "{HDR},payer,place_of_service\n\
         n1,e1,p1,2026-01-05,ok,,\n\
         n2,e1,p1,2026-01-05,too,many,fields,here\n\
         n3,e1,p1,2026-01-05\n\
         n4,e1,,2026-01-05,t,,\n\
         n5,e1,p1,05/01/2026,t,,\n\
         n6,e1,p1,2026-01-05,t,Aetna,11\n\
         n7,e1,p1,2026-01-05,t,,Home\n"
    );
    let o = notes_str("n.csv", &content);
    assert_eq!(o.reasons(), vec![(3, "bad_csv_row"), (4, "bad_csv_row"), (5, "missing_field"), (6, "bad_date"), (8, "bad_value")]);
    assert_eq!(o.notes.len(), 2);
    assert_eq!(o.notes[0].payer, None);
    assert_eq!(o.notes[1].payer.as_deref(), Some("Aetna"));
    assert_eq!(o.notes[1].place_of_service.as_deref(), Some("11"));
}

#[test]
fn csv_header_problems_reject_every_row() {
    let o = notes_str("n.csv", "note_id,encounter_id,date_of_service,text\na,b,2026-01-01,t\nc,d,2026-01-01,t\n");
    assert_eq!(o.reasons(), vec![(2, "missing_field"), (3, "missing_field")]);
    assert!(o.stats.header_problem.as_deref().unwrap().contains("patient_id"));
    let o = notes_str("n.csv", &format!("{HDR},TEXT\na,b,c,2026-01-01,t,u\n"));
    assert_eq!(o.reasons(), vec![(2, "duplicate_key")]);
}

#[test]
fn csv_unclosed_quote_runs_to_end_as_one_record() {
    let o = notes_str("n.csv", &format!("{HDR}\nn1,e,p,2026-01-05,\"never closed\nn2,e,p,2026-01-05,t\n"));
    assert_eq!(o.stats.read, 1);
    assert_eq!(o.reasons(), vec![(2, "bad_csv_row")]);
    assert!(o.rejects[0].detail.contains("never closed"));
}

#[test]
fn csv_oversized_record() {
    let d = tempfile::tempdir().unwrap();
    let content = format!("{HDR}\nn1,e,p,2026-01-05,\"{}\"\nn2,e,p,2026-01-05,t\n", "long\n".repeat(100));
    let p = write(d.path(), "n.csv", content.as_bytes());
    let o = notes_with(&p, &IngestOptions { max_line_bytes: 200, ..Default::default() });
    assert_eq!(o.reasons(), vec![(2, "oversized_line")]);
    assert_eq!(o.notes[0].origin.line, 103);
}

#[test]
fn csv_split_fields_matches_csv_crate_rules() {
    let f = csv::split_fields(r#"a,"b,c","d""e",,"x"y,z"w"#);
    let f: Vec<&str> = f.iter().map(|c| c.as_ref()).collect();
    assert_eq!(f, vec!["a", "b,c", "d\"e", "", "xy", "z\"w"]);
    assert_eq!(csv::split_fields("").len(), 1);
    assert_eq!(csv::split_fields("a,").len(), 2);
}

// ---------------------------------------------------------------- claims

#[test]
fn claims_csv() {
    let content = "encounter_id,code,units,modifiers,icd10,place_of_service,other\n\
                   e1,s0013,56,,F332;f33.1,11,x\n\
                   e1,99214,1,\"25, gt\",F33.2,2,x\n\
                   e2,99214,two,,,,x\n\
                   e3,99214,-1,,,,x\n\
                   e4,99214,1,,depressed,,x\n\
                   ,99214,1,,,,x\n\
                   e5,,1,,,,x\n\
                   e6,9921,1,,,,x\n\
                   e7,96365, 2.0 ,25 GT,,,x\n";
    let (ok, bad, _) = claims_str("c.csv", content);
    let r: Vec<(u64, &str)> = bad.iter().map(|r| (r.line, r.reason.as_str())).collect();
    assert_eq!(
        r,
        vec![
            (4, "wrong_type"),
            (5, "bad_claim_line"),
            (6, "bad_claim_line"),
            (7, "missing_field"),
            (8, "missing_field"),
            (9, "bad_claim_line")
        ]
    );
    assert_eq!(ok.len(), 3);
    assert_eq!(ok[0].line.code, "S0013");
    assert_eq!(ok[0].line.icd10, vec!["F33.2", "F33.1"]);
    assert_eq!(ok[1].line.modifiers, vec!["25", "GT"]);
    assert_eq!(ok[1].line.place_of_service.as_deref(), Some("02"));
    assert_eq!(ok[2].line.units, 2.0);
    assert_eq!(ok[2].line.modifiers, vec!["25", "GT"]);
    assert!(bad[0].detail.contains("units"));
}

#[test]
fn claims_jsonl_gz() {
    let content = r#"{"encounter_id":"e1","code":"J0013","units":56,"modifiers":"25;GT","icd10":"F33.2"}
{"encounter_id":"e1","code":"99214","units":1,"modifiers":["25"],"icd10":["F332"]}
{"encounter_id":"e1","code":"99214","units":"2"}
{"encounter_id":"e1","code":"99214","units":1,"modifiers":5}
{"encounter_id":"e1","units":1}
{"encounter_id":"e1","code":"99214","units":1,"code":"99215"}
"#;
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "c.ndjson.gz", &gz(content.as_bytes()));
    let (ok, bad, _) = claims(&p);
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0].line.modifiers, vec!["25", "GT"]);
    assert_eq!(ok[1].line.icd10, vec!["F33.2"]);
    let r: Vec<&str> = bad.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(r, vec!["wrong_type", "wrong_type", "missing_field", "duplicate_key"]);
}

// ---------------------------------------------------------------- encodings

#[test]
fn cp1252_table_matches_encoding_rs() {
    for b in 0x80u8..=0xFF {
        let byte = [b];
        let (want, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&byte);
        let want = want.chars().next().unwrap();
        match source::cp1252_char(b) {
            Some(c) => assert_eq!(c, want, "{b:#x}"),
            None => assert!(matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D | 0xFE | 0xFF), "{b:#x}"),
        }
    }
    // Mixed record: real UTF-8 stays, the stray byte is Windows-1252.
    let (t, w) = source::decode_record(b"caf\xC3\xA9 it\x92s").unwrap();
    assert_eq!((t.as_ref(), w), ("café it’s", true));
    assert!(source::decode_record(b"a\x92\x00").is_err());
}

#[test]
fn utf8_bom_jsonl() {
    let o = notes_str("b.jsonl", &format!("\u{feff}{GOOD}\n"));
    assert_eq!(o.notes.len(), 1);
    assert!(o.stats.decoded.bom_utf8);
}

fn utf16(s: &str, le: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if le { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
    }
    for u in s.encode_utf16() {
        out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

#[test]
fn utf16_inputs() {
    let d = tempfile::tempdir().unwrap();
    let text = GOOD.replace("Spravato 56 mg. BP 128/82.", "patient’s mood — “better” 😀");
    // Large enough to cross several 64 KiB chunks.
    let content: String = (0..3000).map(|_| format!("{text}\r\n")).collect();
    for (le, bom, name) in [(true, true, "UTF-16LE"), (false, true, "UTF-16BE"), (true, false, "UTF-16LE (no BOM)")] {
        let p = write(d.path(), "u.jsonl", &utf16(&content, le, bom));
        let o = notes(&p);
        assert_eq!(o.notes.len(), 3000, "{name}: {:?}", o.rejects.first());
        assert_eq!(o.notes[0].text, "patient’s mood — “better” 😀");
        assert_eq!(o.stats.decoded.utf16, Some(name));
        assert_eq!(o.stats.decoded.utf16_replacements, 0);
    }
    let csv = format!("{HDR}\r\nn1,e,p,2026-01-05,\"caf\u{e9}\r\nx\"\r\n");
    let p = write(d.path(), "u.csv", &utf16(&csv, true, true));
    let o = notes(&p);
    assert_eq!(o.notes[0].text, "café\r\nx");
    // A lone surrogate is replaced and counted.
    let mut bytes = utf16(&format!("{GOOD}\n"), true, true);
    let at = bytes.len() - 10;
    bytes[at..at + 2].copy_from_slice(&0xD800u16.to_le_bytes());
    let p = write(d.path(), "s.jsonl", &bytes);
    let o = notes(&p);
    assert_eq!(o.stats.decoded.utf16_replacements, 1);
}

#[test]
fn windows_1252_fallback_and_invalid_utf8() {
    let d = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    // Smart quotes and an e-acute in Windows-1252.
    bytes.extend_from_slice(&GOOD.replace("Spravato 56 mg.", "pt\x00").into_bytes());
    let line1 = GOOD.as_bytes().to_vec();
    let mut w = GOOD.replace("Spravato 56 mg. BP 128/82.", "@@").into_bytes();
    let pos = w.windows(2).position(|x| x == b"@@").unwrap();
    w.splice(pos..pos + 2, [0x93, b'o', b'k', 0x94, b' ', b'c', b'a', b'f', 0xE9, 0x92]);
    let mut lone = GOOD.replace("Spravato 56 mg.", "@@").into_bytes();
    let pos = lone.windows(2).position(|x| x == b"@@").unwrap();
    lone.splice(pos..pos + 2, [b'a', 0x81, b'b']);
    let mut ff = lone.clone();
    ff[pos + 1] = 0xFF;
    let mut run = lone.clone();
    run.splice(pos..pos + 3, [0xE9, 0xE9, 0xE9, 0xE9]);
    bytes.clear();
    for l in [&line1, &w, &lone, &ff, &run] {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    let p = write(d.path(), "w.jsonl", &bytes);
    let o = notes(&p);
    assert_eq!(o.notes.len(), 2);
    assert_eq!(o.notes[1].text, "\u{201c}ok\u{201d} café\u{2019}");
    assert_eq!(o.stats.decoded.windows1252, 1);
    assert_eq!(o.reasons(), vec![(3, "invalid_utf8"), (4, "invalid_utf8"), (5, "invalid_utf8")]);
    assert!(o.rejects[0].raw.as_deref().unwrap().contains('\u{fffd}'));
    // Windows-1252 in a CSV record.
    let mut c = format!("{HDR}\nn1,e,p,2026-01-05,").into_bytes();
    c.extend_from_slice(b"it\x92s\n");
    let p = write(d.path(), "w.csv", &c);
    let o = notes(&p);
    assert_eq!(o.notes[0].text, "it\u{2019}s");
}

// ---------------------------------------------------------------- inputs

#[test]
fn expand_inputs_walks_sorted_skips_hidden_and_loops() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("in");
    for f in ["b.jsonl", "a.csv", "sub/c.ndjson.gz", "sub/z.CSV", ".hidden.jsonl", ".git/x.jsonl", "readme.txt", "sub/deeper/d.jsonl"] {
        write(&root, f, b"");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("b.jsonl"), root.join("sub/link.jsonl")).unwrap();
    }
    let files = expand_inputs(std::slice::from_ref(&root)).unwrap();
    let rel: Vec<String> = files.iter().map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(rel, vec!["a.csv", "b.jsonl", "sub/c.ndjson.gz", "sub/deeper/d.jsonl", "sub/z.CSV"]);
    // An explicit file is always taken, once.
    let txt = root.join("readme.txt");
    let files = expand_inputs(&[txt.clone(), root.clone(), txt.clone()]).unwrap();
    assert_eq!(files[0], txt);
    assert_eq!(files.len(), 6);
    // Missing path names it.
    let missing = d.path().join("nope.jsonl");
    let err = expand_inputs(std::slice::from_ref(&missing)).unwrap_err();
    assert!(err.to_string().contains("nope.jsonl"));
    assert!(matches!(err, IngestError::NotFound(_)));
    assert!(read_notes(&missing, &IngestOptions::default(), &mut |_| {}).is_err());
    let err = read_notes(&root, &IngestOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("folder"), "{err}");
}

#[test]
fn unknown_extension_is_sniffed() {
    let o = notes_str("export.txt", &format!("\n  {GOOD}\n"));
    assert_eq!(o.stats.format, Some(Format::Jsonl));
    assert_eq!(o.notes.len(), 1);
    let o = notes_str("export.dat", &format!("{HDR}\nn,e,p,2026-01-05,t\n"));
    assert_eq!(o.stats.format, Some(Format::Csv));
    assert_eq!(o.notes.len(), 1);
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "notes.gz", &gz(format!("{GOOD}\n").as_bytes()));
    assert_eq!(notes(&p).notes.len(), 1);
}

// ---------------------------------------------------------------- normalization

#[test]
fn icd10_table() {
    let table = [
        ("F332", Some("F33.2")),
        ("f33.2", Some("F33.2")),
        (" F33.2 ", Some("F33.2")),
        ("R45851", Some("R45.851")),
        ("R45.851", Some("R45.851")),
        ("F39", Some("F39")),
        ("F32A", Some("F32.A")),
        ("f32.a", Some("F32.A")),
        ("T43.1X1A", Some("T43.1X1A")),
        ("F33.", None),
        ("F3", None),
        ("33.2", None),
        ("FF3.2", None),
        ("F3.32", None),
        ("F33.2.1", None),
        ("F33 2", None),
        ("F33.21234", None),
        ("", None),
        ("F3é2", None),
    ];
    for (input, want) in table {
        assert_eq!(normalize_icd10(input).as_deref(), want, "{input:?}");
    }
}

#[test]
fn code_modifier_pos_tables() {
    assert_eq!(normalize_code(" s0013 ").as_deref(), Some("S0013"));
    assert_eq!(normalize_code("99214").as_deref(), Some("99214"));
    assert_eq!(normalize_code("0591t").as_deref(), Some("0591T"));
    assert_eq!(normalize_code("99214-25"), None);
    assert_eq!(normalize_code("9921"), None);
    assert_eq!(normalize_modifier("gt").as_deref(), Some("GT"));
    assert_eq!(normalize_modifier("GTX"), None);
    assert_eq!(split_list(" 25; GT,,59  XU").collect::<Vec<_>>(), vec!["25", "GT", "59", "XU"]);
    assert_eq!(normalize_pos("2").as_deref(), Some("02"));
    assert_eq!(normalize_pos("11").as_deref(), Some("11"));
    assert_eq!(normalize_pos("00"), None);
    assert_eq!(normalize_pos("111"), None);
    assert_eq!(normalize_pos("O1"), None);
}

#[test]
fn duplicate_ids_helper() {
    let mut d = DuplicateIds::new();
    let o = |f: &str, l| Origin { file: f.into(), line: l };
    assert_eq!(d.check("n1", &o("a", 1)), None);
    assert_eq!(d.check("n2", &o("a", 2)), None);
    assert_eq!(d.check("n1", &o("b", 9)), Some(o("a", 1)));
    assert_eq!(d.len(), 2);
}

// ---------------------------------------------------------------- properties

#[derive(Debug, Clone)]
enum L {
    Good,
    Blank,
    Bad(&'static str),
    Bytes(Vec<u8>),
}

fn line_strategy() -> impl Strategy<Value = L> {
    prop_oneof![
        4 => Just(L::Good),
        1 => Just(L::Blank),
        3 => prop::sample::select(vec![
            "{", "[]", "null", "{\"note_id\":1}", "{\"a\":1,\"a\":2}", "}{", "\"\\u", "{\"text\":\"\\ud800\"}",
            "{\"note_id\":\"n\",\"encounter_id\":\"e\",\"patient_id\":\"p\",\"date_of_service\":\"2026-02-31\",\"text\":\"t\"}",
        ]).prop_map(L::Bad),
        2 => prop::collection::vec(any::<u8>(), 0..80).prop_map(L::Bytes),
    ]
}

/// Proptest cases: `default`, or `PROPTEST_CASES` when set (an explicit
/// `with_cases` would otherwise ignore the variable).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// One claim-line field value as JSON, and whether the contract accepts it.
fn claim_field(valid: &'static [&'static str], invalid: &'static [&'static str]) -> impl Strategy<Value = (&'static str, bool)> {
    prop_oneof![
        3 => prop::sample::select(valid).prop_map(|v| (v, true)),
        1 => prop::sample::select(invalid).prop_map(|v| (v, false)),
    ]
}

/// A claim line `{code, units, modifiers, icd10, place_of_service}` (JSON)
/// and whether it is valid, from pools of known-good and known-bad values.
fn claim_item() -> impl Strategy<Value = (String, bool)> {
    (
        claim_field(
            &[r#""J0013""#, r#""s0013""#, r#"" 99213 ""#, r#""G2082""#],
            &[r#""J001""#, r#""J0013X""#, r#""J00.3""#, "13", "null", r#""""#],
        ),
        claim_field(&["56", "0", "1.5", "84"], &["-1", r#""two""#, "null", "[1]", r#""""#]),
        claim_field(&["[]", r#"["25"]"#, r#""25;gt""#, r#"["25, 59"]"#, "null"], &[r#"["2"]"#, r#"["ABC"]"#, "[25]", "{}", r#""2-5""#]),
        claim_field(&["[]", r#"["F33.2"]"#, r#""F332;F41.1""#, "null"], &[r#"["XYZ"]"#, r#"["123"]"#, "[332]", "true"]),
        claim_field(&["null", r#""11""#, r#""2""#], &[r#""ABC""#, r#""123""#, "11"]),
        any::<bool>(),
    )
        .prop_map(|((code, c), (units, u), (mods, m), (icd, i), (pos, p), omit_units)| {
            let units_part = if omit_units { String::new() } else { format!(r#","units":{units}"#) };
            let json = format!(r#"{{"code":{code}{units_part},"modifiers":{mods},"icd10":{icd},"place_of_service":{pos}}}"#);
            (json, c && (u && !omit_units) && m && i && p)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(200)))]

    /// The claim-line parser, through both of its callers: a note's
    /// `claim_lines` (accepted iff every item is valid, else one
    /// `bad_claim_line` reject) and a claims JSONL file (each line accepted
    /// iff valid). Never a panic, counts always reconcile.
    #[test]
    fn claim_lines_accepted_iff_every_field_is_valid(items in prop::collection::vec(claim_item(), 0..6)) {
        let arr = items.iter().map(|(j, _)| j.as_str()).collect::<Vec<_>>().join(",");
        let all_valid = items.iter().all(|(_, v)| *v);
        let line = GOOD.replace(r#""text""#, &format!(r#""claim_lines":[{arr}],"text""#));
        let o = notes_str("cl.jsonl", &(line + "\n"));
        if all_valid {
            prop_assert_eq!(o.notes.len(), 1, "{:?}", o.rejects);
            prop_assert_eq!(o.notes[0].claim_lines.len(), items.len());
            for c in &o.notes[0].claim_lines {
                prop_assert!(c.code.len() == 5 && c.units.is_finite() && c.units >= 0.0);
            }
        } else {
            prop_assert_eq!(o.reasons(), vec![(1, "bad_claim_line")]);
        }
        let claims_file: String = items.iter().map(|(j, _)| format!("{},\"encounter_id\":\"e1\"}}\n", &j[..j.len() - 1])).collect();
        let (ok, rejects, stats) = claims_str("c.jsonl", &claims_file);
        prop_assert_eq!(stats.read, items.len() as u64);
        prop_assert_eq!(ok.len(), items.iter().filter(|(_, v)| *v).count(), "{:?}", rejects);
    }

    #[test]
    fn random_mixes_reconcile(lines in prop::collection::vec(line_strategy(), 0..40), crlf in any::<bool>(), gzip in any::<bool>(), cut in any::<bool>()) {
        let d = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        let mut goods = 0u64;
        let mut nonblank = 0u64;
        for l in &lines {
            match l {
                L::Good => { bytes.extend_from_slice(GOOD.as_bytes()); goods += 1; nonblank += 1; }
                L::Blank => bytes.extend_from_slice(b"  "),
                L::Bad(s) => { bytes.extend_from_slice(s.as_bytes()); nonblank += 1; }
                L::Bytes(b) => {
                    let b: Vec<u8> = b.iter().copied().filter(|&x| x != b'\n').collect();
                    if !b.iter().all(u8::is_ascii_whitespace) { nonblank += 1; }
                    bytes.extend_from_slice(&b);
                }
            }
            bytes.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        let (name, data) = if gzip {
            let mut z = gz(&bytes);
            if cut && z.len() > 20 { z.truncate(z.len() - 5); }
            ("p.jsonl.gz", z)
        } else {
            ("p.jsonl", bytes.clone())
        };
        let p = write(d.path(), name, &data);
        let o = notes(&p);
        if o.stats.io_error.is_none() {
            prop_assert_eq!(o.stats.read, nonblank);
            prop_assert_eq!(o.stats.accepted, goods);
        } else {
            prop_assert!(o.stats.accepted <= goods);
            prop_assert_eq!(o.rejects.last().unwrap().reason.as_str(), "io_error");
        }
        // The same lines as a sniffed file and through the CSV reader never panic
        // and reconcile (checked inside `notes`).
        let p = write(d.path(), "p.csv", &bytes);
        let _ = notes(&p);
        let _ = claims(&p);
    }

    #[test]
    fn icd_normalization_is_idempotent(s in "[A-Za-z0-9. ]{0,10}") {
        if let Some(n) = normalize_icd10(&s) {
            prop_assert_eq!(normalize_icd10(&n), Some(n.clone()));
            prop_assert!(n.len() <= 8);
        }
    }
}

// ---------------------------------------------------------------- throughput

/// `cargo test --release -- --ignored --nocapture throughput`
#[allow(clippy::print_stderr)]
#[test]
#[ignore]
fn throughput() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    let body = "Patient seen for Spravato session. Pre-dose BP 128/82, HR 76. Administered 56 mg (2 devices). \
                Post-dose BP 134/84 at 40 min. Observed for 2 hours; discharge criteria met, ride home arranged. \
                History: sertraline 100 mg x 8 weeks, partial response; bupropion XL 300 mg x 10 weeks, no response. \\n";
    let mut size = 0usize;
    let mut i = 0u64;
    while size < 100 * 1024 * 1024 {
        let reps = 2 + (i % 7) as usize;
        let line = format!(
            r#"{{"note_id":"n{i}","encounter_id":"e{}","patient_id":"p{}","date_of_service":"2026-01-{:02}","text":"{}","payer":"Aetna PPO","note_type":"Spravato Treatment Note","place_of_service":"11","claim_lines":[{{"code":"S0013","units":56,"modifiers":[],"icd10":["F33.2"]}},{{"code":"G2082","units":1}}]}}"#,
            i / 3,
            i / 30,
            1 + i % 28,
            body.repeat(reps)
        );
        writeln!(f, "{line}").unwrap();
        size += line.len() + 1;
        i += 1;
    }
    f.flush().unwrap();
    drop(f);
    let measure = |path: &Path, label: &str| {
        let start = std::time::Instant::now();
        let mut n = 0u64;
        let stats = read_notes(path, &IngestOptions::default(), &mut |ev| {
            if let NoteEvent::Note(_) = ev {
                n += 1;
            }
        })
        .unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(stats.accepted, i);
        assert_eq!(stats.read, i);
        eprintln!(
            "throughput {label}: {} MB parsed, {n} notes, {secs:.2} s, {:.0} MB/s, {:.0} notes/s",
            stats.bytes / 1_000_000,
            stats.bytes as f64 / 1e6 / secs,
            n as f64 / secs
        );
    };
    measure(&p, "jsonl");
    let gzp = d.path().join("big.jsonl.gz");
    let mut e = GzEncoder::new(std::fs::File::create(&gzp).unwrap(), Compression::fast());
    std::io::copy(&mut std::fs::File::open(&p).unwrap(), &mut e).unwrap();
    e.finish().unwrap();
    measure(&gzp, "jsonl.gz");
}
