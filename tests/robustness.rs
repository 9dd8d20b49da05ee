//! Hostile input, interrupted runs and permissions, against the real binary.

mod common;
use common::{bin, fixture, note, reconciles, scan_json};
use std::io::Write;
use std::path::Path;
use std::process::Command;

#[test]
fn gzip_multi_member_is_read_fully_and_truncation_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("notes.jsonl.gz");
    let mut bytes = Vec::new();
    for part in 0..3 {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..50 {
            writeln!(e, "{}", note(&format!("n{part}-{i}"), &format!("e{part}-{i}"), "BP 120/80 before dosing.")).unwrap();
        }
        bytes.extend(e.finish().unwrap());
    }
    std::fs::write(&gz, &bytes).unwrap();
    let (o, v) = scan_json(&[&gz], &dir.path().join("o1"), &[]);
    assert!(o.status.success());
    assert_eq!(v["notes_accepted"], 150);
    reconciles(&v);
    // Truncated: never silently undercounted; exit 8 and an io_error reject.
    let cut = dir.path().join("cut.jsonl.gz");
    // Cut inside the third member (a cut exactly between members is a valid, shorter file).
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 40]).unwrap();
    let out = dir.path().join("o2");
    let (o, v) = scan_json(&[&cut], &out, &[]);
    assert_eq!(o.status.code(), Some(8), "{}", String::from_utf8_lossy(&o.stderr));
    reconciles(&v);
    let rej = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    assert!(rej.contains("io_error"));
}

#[test]
fn csv_folder_and_encodings() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("in");
    std::fs::create_dir_all(inp.join("sub")).unwrap();
    std::fs::write(
        inp.join("a.csv"),
        "note_id,encounter_id,patient_id,date_of_service,text\r\nc1,ce1,p,2026-01-05,\"Line one\r\nBP 130/80 pre-dose\"\r\nc2,ce2,p,2026-13-05,bad date\r\n",
    )
    .unwrap();
    // UTF-8 with BOM, CRLF.
    std::fs::write(inp.join("sub/b.jsonl"), format!("\u{feff}{}\r\n", note("b1", "be1", "Smart “quotes” ok"))).unwrap();
    // UTF-16LE with BOM.
    let mut u16le = vec![0xFF, 0xFE];
    for c in format!("{}\n", note("u1", "ue1", "utf16 note")).encode_utf16() {
        u16le.extend(c.to_le_bytes());
    }
    std::fs::write(inp.join("sub/c.jsonl"), u16le).unwrap();
    // Windows-1252 smart quotes inside an otherwise valid line.
    let mut w = note("w1", "we1", "QUOTE").into_bytes();
    let pos = w.windows(5).position(|x| x == b"QUOTE").unwrap();
    w.splice(pos..pos + 5, [0x93u8, b'h', b'i', 0x94]);
    w.push(b'\n');
    std::fs::write(inp.join("sub/d.jsonl"), w).unwrap();
    // Hidden files are skipped.
    std::fs::write(inp.join(".hidden.jsonl"), note("h1", "he1", "hidden")).unwrap();
    let (o, v) = scan_json(&[&inp], &dir.path().join("o"), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    reconciles(&v);
    assert_eq!(v["notes_accepted"], 4, "{v}");
    assert_eq!(v["notes_rejected"], 1);
    assert_eq!(v["windows1252_records"], 1);
}

#[test]
fn outputs_are_owner_only_even_under_umask_000() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 000 && exec '{}' scan '{}' --out '{}' --quiet",
            env!("CARGO_BIN_EXE_ketaudit"),
            fixture("broken/notes.jsonl").display(),
            out.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    use std::os::unix::fs::PermissionsExt;
    fn walk(p: &Path) {
        let m = std::fs::metadata(p).unwrap();
        let mode = m.permissions().mode() & 0o777;
        if m.is_dir() {
            assert_eq!(mode, 0o700, "{}", p.display());
            for e in std::fs::read_dir(p).unwrap() {
                walk(&e.unwrap().path());
            }
        } else {
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
    walk(&out);
}

#[test]
fn killed_runs_never_leave_partial_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let input = fixture("sample/notes.jsonl");
    let claims = fixture("sample/claims.csv");
    let args = |c: &mut Command| {
        c.args(["scan", input.to_str().unwrap(), "--claims", claims.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    };
    // Deterministic "random" kill points spread over a run.
    for (i, ms) in [5u64, 60, 200, 450, 900].iter().enumerate() {
        let mut c = bin();
        args(&mut c);
        let mut child = c.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(*ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Whatever exists under a final name must be complete.
        for f in ["encounters.parquet", "findings.parquet"] {
            let p = out.join(f);
            if p.exists() {
                ketaudit::report::read_parquet(&p).unwrap_or_else(|e| panic!("iteration {i}: {f} is partial: {e}"));
            }
        }
        // The next run succeeds (stale temp files and locks do not block it).
        let mut c = bin();
        args(&mut c);
        let o = c.output().unwrap();
        assert!(o.status.success(), "iteration {i}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // The run log shows interrupted runs as a start without an end.
    let log = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
    let starts = log.lines().filter(|l| l.contains("\"event\":\"start\"")).count();
    let ends = log.lines().filter(|l| l.contains("\"event\":\"end\"")).count();
    assert!(starts >= ends && ends >= 5);
}

#[test]
fn adversarial_text_is_not_quadratic() {
    // Long runs of digits, slashes, colons and cue words must not blow up.
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("{}/{} : 1{}:{} no not BP ", i % 300, i % 200, i % 10, i % 60));
    }
    let p = dir.path().join("adv.jsonl");
    std::fs::write(&p, note("a1", "ae1", &text) + "\n").unwrap();
    let t = std::time::Instant::now();
    let (o, v) = scan_json(&[&p], &dir.path().join("o"), &[]);
    assert!(o.status.success());
    reconciles(&v);
    // Generous bound for a debug build on a shared 2-core machine: the point
    // is to catch quadratic behaviour (which takes minutes here), not speed.
    assert!(t.elapsed().as_secs() < 120, "took {:?}", t.elapsed());
}
