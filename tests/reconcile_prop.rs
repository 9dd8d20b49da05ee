//! Issue 7, item 9 (reconciliation property): random mixes of good and bad
//! note records spread over a JSON Lines file, a CSV file, a `.jsonl.gz` file
//! and a folder (JSON Lines plus gzipped CSV in a subfolder), scanned by the
//! real binary. Whatever the mix: read = accepted + rejected, each rejected
//! record is one row of rejects.jsonl, and the encounters are the distinct
//! encounter ids of the accepted notes.
//!
//! Few cases by default because each one runs the binary; more with
//! `PROPTEST_CASES=200 cargo test --test reconcile_prop`.

mod common;
use common::{reconciles, scan_json};
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::io::Write;

/// One record (or a blank line, which is skipped and not counted).
#[derive(Debug, Clone)]
enum Rec {
    /// A valid note in encounter `enc`, text variant `text`.
    Good { enc: u8, text: u8 },
    /// A malformed record of kind `k` (see `bad_jsonl` / `bad_csv`).
    Bad(u8),
    /// The previous good record of the same file again (same note_id, same
    /// text): rejected as a duplicate. A plain good record if none came yet.
    Dup,
    /// An empty or whitespace-only line.
    Blank,
}

fn rec() -> impl Strategy<Value = Rec> {
    prop_oneof![
        5 => (0u8..6, 0u8..4).prop_map(|(enc, text)| Rec::Good { enc, text }),
        4 => (0u8..8).prop_map(Rec::Bad),
        1 => Just(Rec::Dup),
        1 => Just(Rec::Blank),
    ]
}

/// Note texts; variant 3 holds Windows-1252 smart quotes (accepted by the
/// documented fallback), written as raw bytes.
fn text_bytes(t: u8) -> Vec<u8> {
    match t {
        0 => b"BP 128/82 pre-dose, 134/84 at 40 min".to_vec(),
        1 => b"Spravato 56 mg.\nObserved 2 hours; discharge criteria met".to_vec(),
        2 => "Pt said \"fine\" \u{2014} caf\u{e9}".as_bytes().to_vec(),
        _ => b"\x93quoted\x94 note".to_vec(),
    }
}

/// JSON string body (without quotes) of raw text bytes: JSON-escaped, but
/// bytes that are not UTF-8 are kept raw.
fn json_text(t: u8) -> Vec<u8> {
    let b = text_bytes(t);
    match std::str::from_utf8(&b) {
        Ok(s) => {
            let q = serde_json::to_string(s).unwrap();
            q.as_bytes()[1..q.len() - 1].to_vec()
        }
        Err(_) => b,
    }
}

fn good_jsonl(id: &str, enc: u8, t: u8) -> Vec<u8> {
    let mut v =
        format!(r#"{{"note_id":"{id}","encounter_id":"E{enc}","patient_id":"p","date_of_service":"2026-01-05","text":""#).into_bytes();
    v.extend(json_text(t));
    v.extend(b"\"}");
    v
}

fn good_csv(id: &str, enc: u8, t: u8) -> Vec<u8> {
    let mut v = format!("{id},E{enc},p,2026-01-05,\"").into_bytes();
    for &b in &text_bytes(t) {
        if b == b'"' {
            v.push(b'"');
        }
        v.push(b);
    }
    v.push(b'"');
    v
}

fn bad_jsonl(k: u8, id: &str) -> Vec<u8> {
    let v = match k {
        0 => r#"{"note_id":"ID","encounter_id":"E1","patient_id":"p","date_of_service":"2026-01-05","text":"trunc"#.to_owned(),
        1 => "[]".to_owned(),
        2 => r#"{"note_id":"ID","encounter_id":"E1","patient_id":"p","text":"no date"}"#.to_owned(),
        3 => r#"{"note_id":"ID","encounter_id":"E1","patient_id":"p","date_of_service":"2026-02-30","text":"x"}"#.to_owned(),
        4 => r#"{"note_id":"ID","encounter_id":"E1","patient_id":"p","date_of_service":"2026-01-05","text":5}"#.to_owned(),
        5 => r#"{"note_id":"ID","note_id":"ID2","encounter_id":"E1","patient_id":"p","date_of_service":"2026-01-05","text":"x"}"#.to_owned(),
        6 => r#"{"note_id":"ID","encounter_id":"E1","patient_id":"p","date_of_service":"2026-01-05","text":"x","claim_lines":[{"code":"J0013","units":"two"}]}"#.to_owned(),
        _ => {
            let mut v = br#"{"note_id":"ID","encounter_id":"E1","patient_id":"p","date_of_service":"2026-01-05","text":"bin "#.to_vec();
            v.extend(b"\xff\xfe\x00\x01\"}");
            return v.into_iter().map(|b| if b == 0 { 0xff } else { b }).collect();
        }
    };
    v.replace("ID", id).into_bytes()
}

fn bad_csv(k: u8, id: &str) -> Vec<u8> {
    let v = match k % 5 {
        0 => format!("{id},E1,p,2026-13-01,bad month"),
        1 => format!("{id},E1"),
        2 => format!("{id},E1,p,2026-01-05,"),
        3 => format!("{id},E1,p,2026-01-05,x,extra"),
        _ => {
            let mut v = format!("{id},E1,p,2026-01-05,bin ").into_bytes();
            v.extend(b"\xff\xfe\x81");
            return v;
        }
    };
    v.into_bytes()
}

/// Expected outcome, computed from what was written.
#[derive(Default)]
struct Want {
    read: u64,
    accepted: u64,
    encounters: BTreeSet<u8>,
}

/// Build one file's bytes from its records, updating `want`.
fn build(recs: &[Rec], csv: bool, tag: &str, want: &mut Want, crlf: bool) -> Vec<u8> {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::new();
    if csv {
        out.extend(b"note_id,encounter_id,patient_id,date_of_service,text");
        out.extend(eol);
    }
    let mut last_good: Option<Vec<u8>> = None;
    for (i, r) in recs.iter().enumerate() {
        let id = format!("{tag}-{i}");
        let line = match r {
            Rec::Blank => b"  ".to_vec(),
            Rec::Bad(k) => {
                want.read += 1;
                if csv {
                    bad_csv(*k, &id)
                } else {
                    bad_jsonl(*k, &id)
                }
            }
            Rec::Dup if last_good.is_some() => {
                want.read += 1;
                last_good.clone().unwrap()
            }
            Rec::Dup | Rec::Good { .. } => {
                let (enc, text) = match r {
                    Rec::Good { enc, text } => (*enc, *text),
                    _ => (0, 0),
                };
                want.read += 1;
                want.accepted += 1;
                want.encounters.insert(enc);
                let l = if csv { good_csv(&id, enc, text) } else { good_jsonl(&id, enc, text) };
                last_good = Some(l.clone());
                l
            }
        };
        out.extend(line);
        out.extend(eol);
    }
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 64, .. ProptestConfig::default() })]

    #[test]
    fn every_record_is_accounted_for_across_formats_and_folders(
        files in prop::collection::vec(prop::collection::vec(rec(), 0..25), 5),
        crlf in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let inp = dir.path().join("in");
        std::fs::create_dir_all(inp.join("folder/sub")).unwrap();
        let mut want = Want::default();
        let jsonl = inp.join("notes.jsonl");
        std::fs::write(&jsonl, build(&files[0], false, "j", &mut want, crlf)).unwrap();
        let csv = inp.join("notes.csv");
        std::fs::write(&csv, build(&files[1], true, "c", &mut want, crlf)).unwrap();
        let gz = inp.join("notes.jsonl.gz");
        std::fs::write(&gz, gzip(&build(&files[2], false, "g", &mut want, crlf))).unwrap();
        let folder = inp.join("folder");
        std::fs::write(folder.join("a.jsonl"), build(&files[3], false, "fa", &mut want, crlf)).unwrap();
        std::fs::write(folder.join("sub/b.csv.gz"), gzip(&build(&files[4], true, "fb", &mut want, crlf))).unwrap();

        let out = dir.path().join("out");
        let (o, v) = scan_json(&[&jsonl, &csv, &gz, &folder], &out, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        prop_assert_eq!(o.status.code(), Some(if want.accepted == 0 { 7 } else { 0 }), "{}", err);
        reconciles(&v);
        prop_assert_eq!(v["notes_read"].as_u64(), Some(want.read), "{}", v);
        prop_assert_eq!(v["notes_accepted"].as_u64(), Some(want.accepted), "{}", v);
        let rejected = want.read - want.accepted;
        let rej = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap_or_default();
        prop_assert_eq!(rej.lines().count() as u64, rejected);
        if want.accepted > 0 {
            prop_assert_eq!(v["encounters"].as_u64(), Some(want.encounters.len() as u64), "{}", v);
        }
        // Per file, too: five files, each reconciling.
        let per_file = v["files"].as_array().unwrap();
        prop_assert_eq!(per_file.len(), 5);
        for f in per_file {
            prop_assert_eq!(f["read"].as_u64().unwrap(), f["accepted"].as_u64().unwrap() + f["rejected"].as_u64().unwrap());
        }
    }
}
