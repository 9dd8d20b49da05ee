//! Helpers shared by the integration tests: the real binary, the fixture
//! folder, and running a scan for its JSON summary and rejects.
#![allow(dead_code)] // each test crate uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `ketaudit` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ketaudit"))
}

/// A path under `tests/fixtures`.
pub fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(p)
}

/// Run the binary with arguments and collect its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run ketaudit")
}

/// `ketaudit scan INPUTS --out OUT --json --no-index EXTRA`: the output and
/// the parsed JSON summary (`Null` when stdout is not JSON).
pub fn scan_json(inputs: &[&Path], out: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let mut c = bin();
    c.arg("scan");
    for i in inputs {
        c.arg(i);
    }
    c.args(["--out", out.to_str().unwrap(), "--json", "--no-index"]).args(extra);
    let o = c.output().unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o, v)
}

/// One JSON Lines note record (no newline) with the required fields.
pub fn note(id: &str, enc: &str, text: &str) -> String {
    serde_json::json!({"note_id": id, "encounter_id": enc, "patient_id": "p", "date_of_service": "2026-01-05", "text": text}).to_string()
}

/// Assert the summary's `notes_read = notes_accepted + notes_rejected`.
pub fn reconciles(v: &serde_json::Value) {
    assert_eq!(
        v["notes_read"].as_u64().unwrap(),
        v["notes_accepted"].as_u64().unwrap() + v["notes_rejected"].as_u64().unwrap(),
        "read = accepted + rejected: {v}"
    );
}

/// The rows of `OUT/rejects.jsonl`.
pub fn rejects(out: &Path) -> Vec<serde_json::Value> {
    let s = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    s.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}
