//! `ketaudit scan`: read, extract, group, score, report, index.
//!
//! Notes stream from the input files in batches; each batch is extracted in
//! parallel (rayon) and its text dropped, keeping only compact facts. After
//! every file is read, notes are grouped into encounters, assessed and scored
//! in parallel, and the reports are written atomically. The index is built in
//! a second read of the inputs, once each encounter's risk is known, so note
//! text never has to be held for the whole run.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::dict::Dictionaries;
use crate::encounter::{assess, merge_claims, ClonedFrom, Encounter, EncounterFacts, NoteMeta, NoteRecord, Track};
use crate::extract::Extractor;
use crate::ingest::{self, ClaimEvent, IngestOptions, NoteEvent};
use crate::model::{ClaimLine, Note, Reject};
use crate::report::{self, EncounterRow};
use crate::rules::{self, Finding, RuleSettings};

/// Progress reporting hooks (the CLI draws bars; the library never prints).
pub trait Progress: Sync {
    /// A stage starts; `total` in `unit`s when known.
    fn stage(&self, name: &'static str, total: Option<u64>);
    /// Progress within the stage.
    fn inc(&self, n: u64);
    /// The stage is done.
    fn finish(&self);
}

/// No progress output.
pub struct NoProgress;
impl Progress for NoProgress {
    fn stage(&self, _: &'static str, _: Option<u64>) {}
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
}

/// Scan settings (resolved from CLI and config).
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Note inputs (files and folders).
    pub inputs: Vec<PathBuf>,
    /// Claims files.
    pub claims: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Index folder (default OUT/index).
    pub index: Option<PathBuf>,
    /// Skip building the index.
    pub no_index: bool,
    /// Thread budget shared by rayon, tantivy and polars.
    pub threads: usize,
    /// Rule settings.
    pub settings: RuleSettings,
    /// Payer overrides from the config.
    pub payer_overrides: BTreeMap<String, crate::dict::PayerProfileToml>,
    /// Input limits.
    pub ingest: IngestOptions,
}

/// Errors that stop a scan (bad records never do).
#[derive(Debug)]
pub enum ScanError {
    /// An input path cannot be used.
    Input(String),
    /// The output folder is locked by another run.
    Locked(String),
    /// Writing an output failed.
    Output(String),
    /// The index failed.
    Index(crate::index::IndexError),
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::Input(s) | ScanError::Output(s) => f.write_str(s),
            ScanError::Locked(p) => write!(f, "output folder {p} is in use by another ketaudit run (lock file {p}/.ketaudit.lock held); wait for it to finish or choose another --out"),
            ScanError::Index(e) => write!(f, "{e}"),
        }
    }
}
impl std::error::Error for ScanError {}

/// Counts for one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Path.
    pub path: String,
    /// notes or claims.
    pub kind: &'static str,
    /// Records read.
    pub read: u64,
    /// Accepted.
    pub accepted: u64,
    /// Rejected.
    pub rejected: u64,
    /// Bytes parsed.
    pub bytes: u64,
    /// Reading stopped part-way.
    pub io_error: Option<String>,
}

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanSummary {
    /// Note records read.
    pub notes_read: u64,
    /// Accepted notes.
    pub notes_accepted: u64,
    /// Rejected note records.
    pub notes_rejected: u64,
    /// Of the rejected, duplicate note ids (same text).
    pub duplicate_same_text: u64,
    /// Of the rejected, duplicate note ids with different text.
    pub duplicate_different_text: u64,
    /// Notes whose text is identical to another note's under a different id.
    pub identical_text_other_id: u64,
    /// Claim records read (claims files).
    pub claims_read: u64,
    /// Accepted claim lines.
    pub claims_accepted: u64,
    /// Rejected claim records.
    pub claims_rejected: u64,
    /// Claim lines whose encounter has no note.
    pub claims_without_notes: u64,
    /// Encounters.
    pub encounters: u64,
    /// Note text bytes extracted.
    pub note_bytes: u64,
    /// Encounters per risk level.
    pub by_level: BTreeMap<String, u64>,
    /// Encounters per track.
    pub by_track: BTreeMap<String, u64>,
    /// Findings per rule, most frequent first.
    pub top_rules: Vec<(String, u64)>,
    /// Findings.
    pub findings: u64,
    /// Payer names that matched no alias (encounters per name).
    pub unknown_payers: BTreeMap<String, u64>,
    /// Encounters with no payer.
    pub no_payer: u64,
    /// Records decoded as Windows-1252.
    pub windows1252_records: u64,
    /// Files with a part-way read failure.
    pub files_with_read_errors: u64,
    /// Per-file counts.
    pub files: Vec<FileSummary>,
    /// Stage wall times in seconds.
    pub stage_seconds: BTreeMap<String, f64>,
    /// Outputs written.
    pub outputs: Vec<String>,
}

/// Result of scoring, kept for callers that need more than files (eval, tests).
pub struct ScanResult {
    /// Summary.
    pub summary: ScanSummary,
    /// Encounters (sorted by id).
    pub encounters: Vec<Encounter>,
    /// Their facts.
    pub facts: Vec<EncounterFacts>,
    /// Their findings.
    pub findings: Vec<Vec<Finding>>,
}

fn text_hash(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Read notes, extracting in parallel batches; return records and rejects.
fn read_and_extract(
    opts: &ScanOptions,
    files: &[PathBuf],
    ex: &Extractor,
    progress: &dyn Progress,
    summary: &mut ScanSummary,
) -> (Vec<NoteRecord>, Vec<Reject>) {
    const BATCH: usize = 2048;
    let mut records: Vec<NoteRecord> = Vec::new();
    let mut rejects: Vec<Reject> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut text_seen: HashMap<u64, ()> = HashMap::new();
    let total_bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    progress.stage("read+extract", Some(total_bytes));
    let mut batch: Vec<Note> = Vec::with_capacity(BATCH);
    let flush = |batch: &mut Vec<Note>, records: &mut Vec<NoteRecord>, rejects: &mut Vec<Reject>, summary: &mut ScanSummary| {
        summary.note_bytes += batch.iter().map(|n| n.text.len() as u64).sum::<u64>();
        // A note that makes an extractor panic is rejected (reason
        // `extraction_failed`), never silently dropped, and never kills the run.
        let out: Vec<Result<NoteRecord, Reject>> = batch
            .par_iter()
            .map(|n| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ex.extract(n)))
                    .map(|facts| NoteRecord { meta: NoteMeta::of(n), facts })
                    .map_err(|_| Reject {
                        file: n.origin.file.clone(),
                        line: n.origin.line,
                        kind: "notes",
                        reason: "extraction_failed".into(),
                        detail: format!("internal error while extracting note_id {}; please report it", n.note_id),
                        raw: None,
                    })
            })
            .collect();
        for r in out {
            match r {
                Ok(rec) => records.push(rec),
                Err(rej) => rejects.push(rej),
            }
        }
        batch.clear();
    };
    for f in files {
        let mut on_event = |ev: NoteEvent| match ev {
            NoteEvent::Note(n) => {
                let h = text_hash(&n.text);
                match seen.get(&n.note_id) {
                    Some(prev) => {
                        let same = *prev == h;
                        if same {
                            summary.duplicate_same_text += 1;
                        } else {
                            summary.duplicate_different_text += 1;
                        }
                        rejects.push(Reject {
                            file: n.origin.file.clone(),
                            line: n.origin.line,
                            kind: "notes",
                            reason: if same { "duplicate_note_id_same_text".into() } else { "duplicate_note_id".into() },
                            detail: if same {
                                "note_id already read with identical text; the first occurrence is used".into()
                            } else {
                                "note_id already read with different text; the first occurrence is used".into()
                            },
                            raw: None,
                        });
                    }
                    None => {
                        seen.insert(n.note_id.clone(), h);
                        if text_seen.insert(h, ()).is_some() && !n.text.trim().is_empty() {
                            summary.identical_text_other_id += 1;
                        }
                        batch.push(n);
                        if batch.len() >= BATCH {
                            flush(&mut batch, &mut records, &mut rejects, summary);
                        }
                    }
                }
            }
            NoteEvent::Reject(r) => rejects.push(r),
        };
        match ingest::read_notes(f, &opts.ingest, &mut on_event) {
            Ok(st) => {
                summary.windows1252_records += st.decoded.windows1252;
                if st.io_error.is_some() {
                    summary.files_with_read_errors += 1;
                }
                summary.files.push(FileSummary {
                    path: f.display().to_string(),
                    kind: "notes",
                    read: st.read,
                    accepted: st.accepted,
                    rejected: st.rejected,
                    bytes: st.bytes,
                    io_error: st.io_error.clone(),
                });
                summary.notes_read += st.read;
                progress.inc(std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
            }
            Err(e) => {
                // The file vanished or became unreadable after expansion: every
                // record in it is unaccounted for, so say so loudly.
                summary.files_with_read_errors += 1;
                rejects.push(Reject {
                    file: f.display().to_string(),
                    line: 0,
                    kind: "notes",
                    reason: "io_error".into(),
                    detail: e.to_string(),
                    raw: None,
                });
                summary.notes_read += 1;
            }
        }
    }
    flush(&mut batch, &mut records, &mut rejects, summary);
    progress.finish();
    summary.notes_accepted = records.len() as u64;
    summary.notes_rejected = rejects.len() as u64;
    (records, rejects)
}

fn read_claim_files(
    opts: &ScanOptions,
    rejects: &mut Vec<Reject>,
    summary: &mut ScanSummary,
) -> Result<HashMap<String, Vec<ClaimLine>>, ScanError> {
    let mut by_enc: HashMap<String, Vec<ClaimLine>> = HashMap::new();
    let files = ingest::expand_inputs(&opts.claims).map_err(|e| ScanError::Input(e.to_string()))?;
    for f in &files {
        let before = rejects.len();
        let mut on = |ev: ClaimEvent| match ev {
            ClaimEvent::Claim(c) => by_enc.entry(c.encounter_id).or_default().push(c.line),
            ClaimEvent::Reject(r) => rejects.push(r),
        };
        let st = ingest::read_claims(f, &opts.ingest, &mut on).map_err(|e| ScanError::Input(e.to_string()))?;
        summary.claims_read += st.read;
        summary.claims_accepted += st.accepted;
        summary.claims_rejected += (rejects.len() - before) as u64;
        if st.io_error.is_some() {
            summary.files_with_read_errors += 1;
        }
        summary.files.push(FileSummary {
            path: f.display().to_string(),
            kind: "claims",
            read: st.read,
            accepted: st.accepted,
            rejected: st.rejected,
            bytes: st.bytes,
            io_error: st.io_error.clone(),
        });
    }
    Ok(by_enc)
}

/// Group records into encounters (sorted by encounter id).
pub fn group(
    records: Vec<NoteRecord>,
    mut claims: HashMap<String, Vec<ClaimLine>>,
    dict: &Dictionaries,
    summary: &mut ScanSummary,
) -> Vec<Encounter> {
    let mut by_enc: BTreeMap<String, Vec<NoteRecord>> = BTreeMap::new();
    for r in records {
        by_enc.entry(r.meta.encounter_id.clone()).or_default().push(r);
    }
    let mut out = Vec::with_capacity(by_enc.len());
    for (id, notes) in by_enc {
        let first = &notes[0].meta;
        let file_claims = claims.remove(&id).unwrap_or_default();
        let merged = merge_claims(notes.iter().map(|n| n.meta.claim_lines.as_slice()).chain(std::iter::once(file_claims.as_slice())));
        let payer_raw = notes.iter().find_map(|n| n.meta.payer.as_deref().filter(|p| !p.trim().is_empty()));
        let payer = payer_raw.map(|p| dict.payers.normalize(p));
        match &payer {
            Some(p) if !p.known => *summary.unknown_payers.entry(p.name.clone()).or_default() += 1,
            None => summary.no_payer += 1,
            _ => {}
        }
        let provider_id = notes
            .iter()
            .find(|n| {
                n.meta.provider_id.is_some()
                    && n.meta
                        .provider_credential
                        .as_deref()
                        .is_some_and(|c| !matches!(c.trim().to_ascii_uppercase().as_str(), "RN" | "LPN" | "MA" | "LCSW" | "LPC" | "LMFT"))
            })
            .or_else(|| notes.iter().find(|n| n.meta.provider_id.is_some()))
            .and_then(|n| n.meta.provider_id.clone());
        let pos =
            notes.iter().find_map(|n| n.meta.place_of_service.clone()).or_else(|| merged.iter().find_map(|c| c.place_of_service.clone()));
        let dos = notes.iter().map(|n| n.meta.date_of_service).min().unwrap_or(first.date_of_service);
        out.push(Encounter {
            encounter_id: id,
            patient_id: first.patient_id.clone(),
            date_of_service: dos,
            provider_id,
            payer: payer.as_ref().map(|p| p.name.clone()),
            place_of_service: pos,
            notes,
            claims: merged,
        });
    }
    summary.claims_without_notes = claims.values().map(|v| v.len() as u64).sum();
    out
}

/// Mark session notes that are near-copies of the same patient's earlier
/// sessions. Sessions are compared only within a patient, newest against the
/// previous 20, with 256-byte MinHash sketches.
pub fn detect_clones(encounters: &[Encounter], facts: &mut [EncounterFacts]) {
    // Share of word 5-shingles in common (MinHash estimate, sd ~0.06). A
    // note written afresh from a template, with its own vitals, times and
    // narrative, shares well under half its 5-word runs with the last one;
    // a copied-forward note with a few values edited shares most of them.
    // 0.92 only caught verbatim copies and missed edited clones; 0.75 keeps
    // recall at 0.93-0.96 on the synthetic sets (0.70: 0.93-0.98) with a
    // margin for practices whose templates repeat more boilerplate.
    const THRESHOLD: f64 = 0.75;
    let mut by_patient: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in encounters.iter().enumerate() {
        if facts[i].session_note.is_some() && facts[i].track != Track::None {
            by_patient.entry(e.patient_id.as_str()).or_default().push(i);
        }
    }
    let mut found: Vec<(usize, ClonedFrom)> = by_patient
        .par_iter()
        .flat_map_iter(|(_, idxs)| {
            let mut idxs = idxs.clone();
            idxs.sort_by(|a, b| {
                (encounters[*a].date_of_service, &encounters[*a].encounter_id)
                    .cmp(&(encounters[*b].date_of_service, &encounters[*b].encounter_id))
            });
            let mut out = Vec::new();
            for (k, &i) in idxs.iter().enumerate() {
                let sn = facts[i].session_note.unwrap();
                let sk = &encounters[i].notes[sn].facts.sketch;
                let mut best: Option<(f64, usize)> = None;
                for &j in idxs[k.saturating_sub(20)..k].iter() {
                    let sj = facts[j].session_note.unwrap();
                    let sim = sk.similarity(&encounters[j].notes[sj].facts.sketch);
                    if sim >= THRESHOLD && best.is_none_or(|b| sim > b.0) {
                        best = Some((sim, j));
                    }
                }
                if let Some((sim, j)) = best {
                    let sj = facts[j].session_note.unwrap();
                    out.push((
                        i,
                        ClonedFrom {
                            note: sn,
                            other_note_id: encounters[j].notes[sj].meta.note_id.clone(),
                            other_encounter_id: encounters[j].encounter_id.clone(),
                            other_date: encounters[j].date_of_service,
                            similarity: sim,
                        },
                    ));
                }
            }
            out
        })
        .collect();
    found.sort_by_key(|f| f.0);
    for (i, c) in found {
        facts[i].cloned_from = Some(c);
    }
}

/// Score encounters: assess, clone pass, rules.
pub fn score(
    encounters: Vec<Encounter>,
    dict: &Dictionaries,
    settings: &RuleSettings,
    overrides: &BTreeMap<String, crate::dict::PayerProfileToml>,
) -> (Vec<Encounter>, Vec<EncounterFacts>, Vec<Vec<Finding>>) {
    let mut facts: Vec<EncounterFacts> = encounters.par_iter().map(|e| assess(e, dict)).collect();
    detect_clones(&encounters, &mut facts);
    let findings: Vec<Vec<Finding>> = encounters
        .par_iter()
        .zip(facts.par_iter())
        .map(|(e, f)| {
            let mut profile = dict.payers.profile(e.payer.as_deref()).clone();
            if let Some(o) = overrides.get("default").filter(|_| profile.name == "default") {
                profile.apply(o);
            }
            if let Some(o) = e.payer.as_deref().and_then(|p| overrides.get(p)) {
                profile.apply(o);
            }
            let mut v = rules::evaluate(e, f, dict, &profile, settings);
            v.sort_by(|a, b| (a.rule_id, a.note_id.as_deref(), a.start).cmp(&(b.rule_id, b.note_id.as_deref(), b.start)));
            v
        })
        .collect();
    (encounters, facts, findings)
}

fn write_rejects(path: &Path, rejects: &[Reject]) -> std::io::Result<()> {
    report::write_atomic(path, |w| {
        for r in rejects {
            serde_json::to_writer(&mut *w, r).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Read, extract, group and score without writing anything (used by `scan`
/// and `eval`). Returns the result and the rejected records.
pub fn analyze(opts: &ScanOptions, files: &[PathBuf], progress: &dyn Progress) -> Result<(ScanResult, Vec<Reject>), ScanError> {
    let dict = Dictionaries::builtin();
    let ex = Extractor::builtin();
    let mut summary = ScanSummary::default();
    let t0 = std::time::Instant::now();
    let (records, mut rejects) = read_and_extract(opts, files, ex, progress, &mut summary);
    let claims = read_claim_files(opts, &mut rejects, &mut summary)?;
    summary.stage_seconds.insert("read+extract".into(), t0.elapsed().as_secs_f64());
    let t1 = std::time::Instant::now();
    progress.stage("score", None);
    let encounters = group(records, claims, dict, &mut summary);
    let (encounters, facts, findings) = score(encounters, dict, &opts.settings, &opts.payer_overrides);
    progress.finish();
    summary.stage_seconds.insert("score".into(), t1.elapsed().as_secs_f64());
    Ok((ScanResult { summary, encounters, facts, findings }, rejects))
}

/// Run a scan.
pub fn scan(opts: &ScanOptions, progress: &dyn Progress) -> Result<ScanResult, ScanError> {
    let files = ingest::expand_inputs(&opts.inputs).map_err(|e| ScanError::Input(e.to_string()))?;
    for c in &opts.claims {
        if !c.exists() {
            return Err(ScanError::Input(format!("{}: no such file or folder", c.display())));
        }
    }
    report::create_private_dir(&opts.out).map_err(|e| ScanError::Output(format!("{}: {e}", opts.out.display())))?;
    let lock_path = opts.out.join(".ketaudit.lock");
    let lock = report::create_private_lock(&lock_path).map_err(|e| ScanError::Output(format!("{}: {e}", lock_path.display())))?;
    if lock.try_lock().is_err() {
        return Err(ScanError::Locked(opts.out.display().to_string()));
    }
    let run_id = crate::runlog::run_id();
    let mut inputs = Vec::new();
    for f in files.iter().chain(opts.claims.iter()) {
        inputs.push(crate::runlog::digest(f).map_err(|e| ScanError::Input(format!("{}: {e}", f.display())))?);
    }
    crate::runlog::append(
        &opts.out,
        &serde_json::json!({
            "run_id": run_id,
            "event": "start",
            "time": crate::runlog::now(),
            "user": crate::runlog::os_user(),
            "tool_version": env!("CARGO_PKG_VERSION"),
            "rule_catalogue": crate::dict::CATALOGUE_VERSION,
            "arguments": {
                "inputs": opts.inputs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "claims": opts.claims.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "out": opts.out.display().to_string(),
                "index": opts.index.as_ref().map(|p| p.display().to_string()),
                "no_index": opts.no_index,
                "threads": opts.threads,
            },
            "inputs": inputs,
        }),
    )
    .map_err(|e| ScanError::Output(format!("{}: {e}", opts.out.join("runs.jsonl").display())))?;
    // Take the index writer lock now, before any work: a second scan into
    // the same index fails at once instead of after writing its reports.
    let writer = if opts.no_index {
        None
    } else {
        let index_dir = opts.index.clone().unwrap_or_else(|| opts.out.join("index"));
        match crate::index::NoteIndexWriter::new(&index_dir, opts.threads) {
            Ok(w) => Some(w),
            Err(e) => {
                let _ = crate::runlog::append(
                    &opts.out,
                    &serde_json::json!({"run_id": run_id, "event": "end", "time": crate::runlog::now(), "status": "failed", "error": e.to_string()}),
                );
                let _ = lock.unlock();
                return Err(ScanError::Index(e));
            }
        }
    };
    let result = scan_locked(opts, &files, writer, progress);
    let end = match &result {
        Ok(r) => {
            let outputs: Vec<crate::runlog::FileDigest> = ["encounters.parquet", "findings.parquet", "rejects.jsonl"]
                .iter()
                .filter_map(|f| crate::runlog::digest(&opts.out.join(f)).ok())
                .collect();
            serde_json::json!({
                "run_id": run_id,
                "event": "end",
                "time": crate::runlog::now(),
                "status": "completed",
                "outputs": outputs,
                "counts": {
                    "notes_read": r.summary.notes_read,
                    "notes_accepted": r.summary.notes_accepted,
                    "notes_rejected": r.summary.notes_rejected,
                    "claims_read": r.summary.claims_read,
                    "claims_accepted": r.summary.claims_accepted,
                    "claims_rejected": r.summary.claims_rejected,
                    "encounters": r.summary.encounters,
                    "findings": r.summary.findings,
                    "files_with_read_errors": r.summary.files_with_read_errors,
                },
            })
        }
        Err(e) => serde_json::json!({
            "run_id": run_id,
            "event": "end",
            "time": crate::runlog::now(),
            "status": "failed",
            "error": e.to_string(),
        }),
    };
    let logged = crate::runlog::append(&opts.out, &end);
    let _ = lock.unlock();
    let r = result?;
    logged.map_err(|e| ScanError::Output(format!("{}: {e}", opts.out.join("runs.jsonl").display())))?;
    Ok(r)
}

/// The body of a scan, run while the output lock is held.
fn scan_locked(
    opts: &ScanOptions,
    files: &[PathBuf],
    writer: Option<crate::index::NoteIndexWriter>,
    progress: &dyn Progress,
) -> Result<ScanResult, ScanError> {
    let (res, rejects) = analyze(opts, files, progress)?;
    let ScanResult { mut summary, encounters, facts, findings } = res;

    // Rows, summary counts.
    let t2 = std::time::Instant::now();
    progress.stage("write", Some(3));
    let mut rows = Vec::with_capacity(encounters.len());
    let mut rule_counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    for ((e, f), fs) in encounters.iter().zip(&facts).zip(&findings) {
        let score = opts.settings.score(fs);
        let level = opts.settings.level(score);
        let mut ids: Vec<&'static str> = fs.iter().map(|x| x.rule_id).collect();
        ids.sort();
        ids.dedup();
        for x in fs {
            *rule_counts.entry(x.rule_id).or_default() += 1;
        }
        *summary.by_level.entry(level.to_string()).or_default() += 1;
        *summary.by_track.entry(f.track.as_str().to_string()).or_default() += 1;
        rows.push(EncounterRow { enc: e, facts: f, risk_score: score, risk_level: level, rules: ids, finding_count: fs.len() as u32 });
    }
    summary.encounters = encounters.len() as u64;
    summary.findings = findings.iter().map(|f| f.len() as u64).sum();
    let mut top: Vec<(String, u64)> = rule_counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    summary.top_rules = top;

    let out_err = |p: &Path, e: std::io::Error| ScanError::Output(format!("{}: {e}", p.display()));
    let enc_path = opts.out.join("encounters.parquet");
    let mut df = report::encounters_frame(&rows).map_err(|e| ScanError::Output(e.to_string()))?;
    report::write_parquet(&enc_path, &mut df).map_err(|e| out_err(&enc_path, e))?;
    progress.inc(1);
    let all_findings: Vec<Finding> = findings.iter().flatten().cloned().collect();
    let fin_path = opts.out.join("findings.parquet");
    let mut fdf = report::findings_frame(&all_findings).map_err(|e| ScanError::Output(e.to_string()))?;
    report::write_parquet(&fin_path, &mut fdf).map_err(|e| out_err(&fin_path, e))?;
    progress.inc(1);
    let rej_path = opts.out.join("rejects.jsonl");
    write_rejects(&rej_path, &rejects).map_err(|e| out_err(&rej_path, e))?;
    progress.inc(1);
    progress.finish();
    summary.outputs = vec![enc_path.display().to_string(), fin_path.display().to_string(), rej_path.display().to_string()];
    summary.stage_seconds.insert("write".into(), t2.elapsed().as_secs_f64());

    // Index: second read of the inputs, with each encounter's risk.
    if let Some(writer) = writer {
        let t3 = std::time::Instant::now();
        let index_dir = opts.index.clone().unwrap_or_else(|| opts.out.join("index"));
        let risk: HashMap<&str, (&EncounterRow<'_>,)> = rows.iter().map(|r| (r.enc.encounter_id.as_str(), (r,))).collect();
        progress.stage("index", Some(summary.notes_accepted));
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut err: Option<crate::index::IndexError> = None;
        for f in files {
            let mut on = |ev: NoteEvent| {
                if let NoteEvent::Note(n) = ev {
                    if err.is_some() || !seen.insert(n.note_id.clone()) {
                        return;
                    }
                    let Some((row,)) = risk.get(n.encounter_id.as_str()) else { return };
                    let doc = crate::index::NoteDoc {
                        note_id: &n.note_id,
                        encounter_id: &n.encounter_id,
                        patient_id: &n.patient_id,
                        date_of_service: n.date_of_service,
                        provider_id: n.provider_id.as_deref(),
                        payer: row.enc.payer.as_deref(),
                        note_type: n.note_type.as_deref(),
                        track: row.facts.track.as_str(),
                        risk_level: row.risk_level,
                        risk_score: row.risk_score,
                        rules: &row.rules,
                        text: &n.text,
                    };
                    if let Err(e) = writer.add(&doc) {
                        err = Some(e);
                    }
                    progress.inc(1);
                }
            };
            let _ = ingest::read_notes(f, &opts.ingest, &mut on);
        }
        if let Some(e) = err {
            return Err(ScanError::Index(e));
        }
        writer.commit().map_err(ScanError::Index)?;
        progress.finish();
        summary.outputs.push(index_dir.display().to_string());
        summary.stage_seconds.insert("index".into(), t3.elapsed().as_secs_f64());
    }
    drop(rows);
    Ok(ScanResult { summary, encounters, facts, findings })
}
