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
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::dict::Dictionaries;
use crate::encounter::{assess, merge_claims, ClonedFrom, Encounter, EncounterFacts, NoteMeta, NoteRecord, SessionsInWeek, Track};
use crate::extract::similarity::{Sketch, SKETCH_WORDS};
use crate::extract::{Extractor, NoteFacts, EXTRACT_CHUNK, EXTRACT_CHUNK_BYTES};
use crate::ingest::{self, ClaimEvent, IngestOptions, NoteEvent};
use crate::model::{ClaimLine, Note, Reject};
use crate::report::spill::{Dec, Enc, SpillFile};
use crate::report::{self, EncounterRow};
use crate::rules::course::{CourseDocs, CourseRef};
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
    /// The process's peak resident memory (KiB) so far, read as each stage
    /// ends: the stage at which it steps up is the one that set the peak
    /// (Linux; empty elsewhere).
    pub peak_rss_kib_after_stage: BTreeMap<String, u64>,
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

/// 128-bit key of a note id (two keyed 64-bit hashes): the duplicate check
/// keeps 16 bytes per note instead of the id string. Two `u64`s, not a
/// `u128`: a `u128` is 16-byte aligned, which pads a map entry with an
/// 8-byte value to 32 bytes; this way it is 24.
type IdKey = [u64; 2];

fn id_key(s: &str) -> IdKey {
    let mut a = std::collections::hash_map::DefaultHasher::new();
    (0u8, s).hash(&mut a);
    let mut b = std::collections::hash_map::DefaultHasher::new();
    (1u8, s).hash(&mut b);
    [a.finish(), b.finish()]
}

/// 64-bit key of an encounter id for the census of notes per encounter
/// (16 bytes an entry with its count, against 24 with a 128-bit key: this
/// map lives through extraction). Two ids with the same key would only
/// share one count: both encounters then wait until the end of the input
/// and are scored there with all their notes. A collision changes no
/// finding's content, only where the two encounters' findings fall in
/// findings.parquet (at the end, in id order).
fn census_key(s: &str) -> u64 {
    id_key(s)[1]
}

/// Peak resident memory of the process so far, in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Record a stage's wall time and the peak memory so far.
fn end_stage(summary: &mut ScanSummary, stage: &str, started: std::time::Instant) {
    summary.stage_seconds.insert(stage.into(), started.elapsed().as_secs_f64());
    if let Some(k) = peak_rss_kib() {
        summary.peak_rss_kib_after_stage.insert(stage.into(), k);
    }
}

/// The duplicate-id policy: the first record of a note id is used; later
/// records with that id are rejected (same text or different text, counted
/// apart). Notes with identical text under different ids are kept and counted.
#[derive(Default)]
struct Dedup {
    ids: HashMap<IdKey, u64>,
    texts: std::collections::HashSet<u64>,
    /// Note ids read more than once (usually none).
    repeated: std::collections::HashSet<IdKey>,
}

impl Dedup {
    fn check(&mut self, n: &Note, summary: &mut ScanSummary) -> Result<(), Reject> {
        let h = text_hash(&n.text);
        let key = id_key(&n.note_id);
        match self.ids.entry(key) {
            std::collections::hash_map::Entry::Occupied(prev) => {
                self.repeated.insert(key);
                let same = *prev.get() == h;
                if same {
                    summary.duplicate_same_text += 1;
                } else {
                    summary.duplicate_different_text += 1;
                }
                Err(Reject {
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
                })
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(h);
                if !self.texts.insert(h) && !n.text.trim().is_empty() {
                    summary.identical_text_other_id += 1;
                }
                Ok(())
            }
        }
    }
}

/// Read every note file once, applying validation and the duplicate policy:
/// per-file counts, rejects, and the events handed to `on_note` for the
/// accepted notes.
fn read_note_files(
    opts: &ScanOptions,
    files: &[PathBuf],
    progress: &dyn Progress,
    summary: &mut ScanSummary,
    on_reject: &mut dyn FnMut(Reject),
    on_note: &mut dyn FnMut(Note, &mut ScanSummary),
) -> FirstRecords {
    let mut dedup = Dedup::default();
    for f in files {
        let mut on_event = |ev: NoteEvent, summary: &mut ScanSummary| match ev {
            NoteEvent::Note(n) => match dedup.check(&n, summary) {
                Ok(()) => on_note(n, summary),
                Err(r) => on_reject(r),
            },
            NoteEvent::Reject(r) => on_reject(r),
        };
        let res = {
            let summary = &mut *summary;
            ingest::read_notes(f, &opts.ingest, &mut |ev| on_event(ev, summary))
        };
        match res {
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
                on_reject(Reject {
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
    FirstRecords { repeated: dedup.repeated, used: Default::default() }
}

/// Which record of a note id a later read of the inputs uses: the first,
/// as the census decided. Only ids the census saw more than once are
/// tracked, so a re-read holds no per-note set (it would be ~35 MB at a
/// million notes). Assumes the inputs did not change between reads.
struct FirstRecords {
    repeated: std::collections::HashSet<IdKey>,
    used: std::collections::HashSet<IdKey>,
}

impl FirstRecords {
    /// Whether this record is the one to use (call once per record, in
    /// input order).
    fn take(&mut self, note_id: &str) -> bool {
        if self.repeated.is_empty() {
            return true;
        }
        let k = id_key(note_id);
        !self.repeated.contains(&k) || self.used.insert(k)
    }
    /// Start another read of the inputs.
    fn restart(&mut self) {
        self.used.clear();
    }
}

/// Notes extracted in parallel per batch: enough for four chunks of
/// [`EXTRACT_CHUNK`] notes per thread on 2 threads (see there for the
/// measurements).
const EXTRACT_BATCH: usize = 4096;

/// Extract a batch in parallel. A note that makes an extractor panic is
/// rejected (reason `extraction_failed`), never silently dropped, and never
/// kills the run.
fn extract_batch(batch: &mut Vec<Note>, ex: &Extractor, summary: &mut ScanSummary) -> Vec<Result<NoteRecord, Reject>> {
    summary.note_bytes += batch.iter().map(|n| n.text.len() as u64).sum::<u64>();
    // Notes are extracted a chunk at a time, each step over the chunk's
    // notes before the next (see `Extractor::extract_many`). A chunk that
    // fails is extracted note by note, so only the failing note is lost.
    // Enough chunks to keep every thread busy, none over EXTRACT_CHUNK
    // notes or (unless one note is) EXTRACT_CHUNK_BYTES of text.
    let per_chunk = (batch.len() / (4 * rayon::current_num_threads())).clamp(8, EXTRACT_CHUNK);
    let mut chunks: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, n) in batch.iter().enumerate() {
        if i > start && (i - start == per_chunk || bytes + n.text.len() > EXTRACT_CHUNK_BYTES) {
            chunks.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += n.text.len();
    }
    if start < batch.len() {
        chunks.push(start..batch.len());
    }
    let facts: Vec<Option<NoteFacts>> = chunks
        .into_par_iter()
        .map(|r| &batch[r])
        .flat_map_iter(|chunk| {
            let notes: Vec<(&str, Option<&str>)> = chunk.iter().map(|n| (n.text.as_str(), n.note_type.as_deref())).collect();
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ex.extract_many(&notes))) {
                Ok(v) => v.into_iter().map(Some).collect::<Vec<_>>(),
                Err(_) => chunk.iter().map(|n| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ex.extract(n))).ok()).collect(),
            }
        })
        .collect();
    assert_eq!(facts.len(), batch.len(), "one extraction result per note");
    let out = batch
        .iter()
        .zip(facts)
        .map(|(n, facts)| {
            facts.ok_or(()).map(|facts| NoteRecord { meta: NoteMeta::of(n), facts }).map_err(|_| Reject {
                file: n.origin.file.clone(),
                line: n.origin.line,
                kind: "notes",
                reason: "extraction_failed".into(),
                detail: format!("internal error while extracting note_id {}; please report it", n.note_id),
                raw: None,
            })
        })
        .collect();
    batch.clear();
    out
}

/// Read notes, extracting in parallel batches; return records and rejects
/// (the in-memory path used by `eval`).
fn read_and_extract(
    opts: &ScanOptions,
    files: &[PathBuf],
    ex: &Extractor,
    progress: &dyn Progress,
    summary: &mut ScanSummary,
) -> (Vec<NoteRecord>, Vec<Reject>) {
    let mut records: Vec<NoteRecord> = Vec::new();
    let rejects = std::cell::RefCell::new(Vec::new());
    let total_bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    progress.stage("read+extract", Some(total_bytes));
    let mut batch: Vec<Note> = Vec::with_capacity(EXTRACT_BATCH);
    let take = |out: Vec<Result<NoteRecord, Reject>>, records: &mut Vec<NoteRecord>| {
        for r in out {
            match r {
                Ok(rec) => records.push(rec),
                Err(rej) => rejects.borrow_mut().push(rej),
            }
        }
    };
    let _ = read_note_files(opts, files, progress, summary, &mut |r| rejects.borrow_mut().push(r), &mut |n, summary| {
        batch.push(n);
        if batch.len() >= EXTRACT_BATCH {
            let out = extract_batch(&mut batch, ex, summary);
            take(out, &mut records);
        }
    });
    let out = extract_batch(&mut batch, ex, summary);
    take(out, &mut records);
    progress.finish();
    let rejects = rejects.into_inner();
    summary.notes_accepted = records.len() as u64;
    summary.notes_rejected = rejects.len() as u64;
    (records, rejects)
}

fn read_claim_files(
    opts: &ScanOptions,
    on_reject: &mut dyn FnMut(Reject),
    summary: &mut ScanSummary,
) -> Result<HashMap<String, Vec<ClaimLine>>, ScanError> {
    let mut by_enc: HashMap<String, Vec<ClaimLine>> = HashMap::new();
    read_claim_files_with(opts, on_reject, summary, &mut |id, line| by_enc.entry(id).or_default().push(line))?;
    Ok(by_enc)
}

/// Read every claims file, handing each accepted line to `on_claim` with
/// its encounter id.
fn read_claim_files_with(
    opts: &ScanOptions,
    on_reject: &mut dyn FnMut(Reject),
    summary: &mut ScanSummary,
    on_claim: &mut dyn FnMut(String, ClaimLine),
) -> Result<(), ScanError> {
    let files = ingest::expand_inputs(&opts.claims).map_err(|e| ScanError::Input(e.to_string()))?;
    for f in &files {
        let mut rejected = 0u64;
        let mut on = |ev: ClaimEvent| match ev {
            ClaimEvent::Claim(c) => on_claim(c.encounter_id, c.line),
            ClaimEvent::Reject(r) => {
                rejected += 1;
                on_reject(r)
            }
        };
        let st = ingest::read_claims(f, &opts.ingest, &mut on).map_err(|e| ScanError::Input(e.to_string()))?;
        summary.claims_read += st.read;
        summary.claims_accepted += st.accepted;
        summary.claims_rejected += rejected;
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
    Ok(())
}

/// Claim lines from the claims files, kept in a spill file until their
/// encounter is scored: memory holds 32 bytes a line (the encounter's key
/// and where the line is), not the lines.
struct SpilledClaims {
    spill: SpillFile,
    /// (encounter key, offset, length), sorted by key then file order.
    lines: Vec<(IdKey, u64, u32)>,
    /// Lines already given to an encounter.
    taken: Vec<bool>,
    /// The first read failure (the scan fails with it).
    err: Option<std::io::Error>,
}

fn encode_claim(c: &ClaimLine, out: &mut Vec<u8>) {
    let mut e = Enc(out);
    e.str(&c.code);
    e.f64(c.units);
    e.u32(c.modifiers.len() as u32);
    for m in &c.modifiers {
        e.str(m);
    }
    e.u32(c.icd10.len() as u32);
    for m in &c.icd10 {
        e.str(m);
    }
    e.opt_str(c.place_of_service.as_deref());
}

fn decode_claim(buf: &[u8]) -> std::io::Result<ClaimLine> {
    let mut d = Dec(buf);
    let code = d.string()?;
    let units = d.f64()?;
    let strings = |d: &mut Dec<'_>| -> std::io::Result<Vec<String>> {
        let n = d.u32()? as usize;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(d.string()?);
        }
        Ok(v)
    };
    let modifiers = strings(&mut d)?;
    let icd10 = strings(&mut d)?;
    let place_of_service = d.opt_string()?;
    Ok(ClaimLine { code, units, modifiers, icd10, place_of_service })
}

impl SpilledClaims {
    /// Read the claims files into a spill file in `dir`.
    fn read(opts: &ScanOptions, dir: &Path, on_reject: &mut dyn FnMut(Reject), summary: &mut ScanSummary) -> Result<Self, ScanError> {
        let mut spill = SpillFile::create(dir, "claim-lines").map_err(|e| ScanError::Output(format!("{}: {e}", dir.display())))?;
        let mut lines = Vec::new();
        let mut err = None;
        let mut buf = Vec::new();
        read_claim_files_with(opts, on_reject, summary, &mut |id, line| {
            buf.clear();
            encode_claim(&line, &mut buf);
            match spill.append(&buf) {
                Ok(at) => lines.push((id_key(&id), at, buf.len() as u32)),
                Err(e) => {
                    err.get_or_insert(e);
                }
            }
        })?;
        let path = spill.path().to_path_buf();
        let spill_err = |e: std::io::Error| ScanError::Output(format!("{}: {e}", path.display()));
        if let Some(e) = err {
            return Err(spill_err(e));
        }
        spill.flush().map_err(spill_err)?;
        lines.sort_unstable_by_key(|l| (l.0, l.1));
        lines.shrink_to_fit();
        let taken = vec![false; lines.len()];
        Ok(SpilledClaims { spill, lines, taken, err: None })
    }

    /// The lines of an encounter, in file order (once: a second call for
    /// the same encounter gets none).
    fn take(&mut self, encounter_id: &str) -> Vec<ClaimLine> {
        let k = id_key(encounter_id);
        let from = self.lines.partition_point(|l| l.0 < k);
        let to = from + self.lines[from..].partition_point(|l| l.0 == k);
        if from == to || self.taken[from] {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(to - from);
        let mut buf = Vec::new();
        for i in from..to {
            self.taken[i] = true;
            let (_, at, len) = self.lines[i];
            buf.resize(len as usize, 0);
            match self.spill.read_at(at, &mut buf).and_then(|()| decode_claim(&buf)) {
                Ok(c) => out.push(c),
                Err(e) => {
                    self.err.get_or_insert(e);
                }
            }
        }
        out
    }

    /// Lines no encounter took.
    fn untaken(&self) -> u64 {
        self.taken.iter().filter(|t| !**t).count() as u64
    }
}

/// How an encounter's payer resolved (for the summary).
enum PayerStatus {
    Known,
    Unknown(String),
    Missing,
}

/// Build one encounter from its notes and the claim-file lines joined to it.
fn build_encounter(id: String, notes: Vec<NoteRecord>, file_claims: Vec<ClaimLine>, dict: &Dictionaries) -> (Encounter, PayerStatus) {
    let first = &notes[0].meta;
    let merged = merge_claims(notes.iter().map(|n| n.meta.claim_lines.as_slice()).chain(std::iter::once(file_claims.as_slice())));
    let payer_raw = notes.iter().find_map(|n| n.meta.payer.as_deref().filter(|p| !p.trim().is_empty()));
    let payer = payer_raw.map(|p| dict.payers.normalize(p));
    let status = match &payer {
        Some(p) if !p.known => PayerStatus::Unknown(p.name.clone()),
        None => PayerStatus::Missing,
        _ => PayerStatus::Known,
    };
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
    let pos = notes.iter().find_map(|n| n.meta.place_of_service.clone()).or_else(|| merged.iter().find_map(|c| c.place_of_service.clone()));
    let dos = notes.iter().map(|n| n.meta.date_of_service).min().unwrap_or(first.date_of_service);
    let enc = Encounter {
        encounter_id: id,
        patient_id: first.patient_id.clone(),
        date_of_service: dos,
        provider_id,
        payer: payer.as_ref().map(|p| p.name.clone()),
        place_of_service: pos,
        notes,
        claims: merged,
    };
    (enc, status)
}

fn count_payer(summary: &mut ScanSummary, status: PayerStatus) {
    match status {
        PayerStatus::Unknown(name) => *summary.unknown_payers.entry(name).or_default() += 1,
        PayerStatus::Missing => summary.no_payer += 1,
        PayerStatus::Known => {}
    }
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
        let file_claims = claims.remove(&id).unwrap_or_default();
        let (enc, status) = build_encounter(id, notes, file_claims, dict);
        count_payer(summary, status);
        out.push(enc);
    }
    summary.claims_without_notes = claims.values().map(|v| v.len() as u64).sum();
    out
}

/// What the per-patient clone pass keeps of a scored encounter's session
/// note: its sketch and where it came from (about 300 bytes; the patient is
/// an interned number and the encounter a row number).
#[derive(Debug, Clone)]
pub struct CloneKey {
    /// Patient (interned).
    pub patient: u32,
    /// Date of service.
    pub date_of_service: chrono::NaiveDate,
    /// The encounter's row (index into the caller's encounters).
    pub row: u32,
    /// Index of the session note in its encounter.
    pub note: u32,
    /// The session note's id.
    pub note_id: Box<str>,
    /// Its MinHash sketch.
    pub sketch: crate::extract::similarity::Sketch,
}

/// A course-rule finding waiting for the per-patient course pass. The
/// finding (message, note id, evidence) is in a spill file; memory keeps
/// 32 bytes: its row, its rule and where it is. Held as `(row, Finding)`
/// these were about 400 bytes each (estimated: 144 for the tuple, a
/// ~190-byte message and the ids on the heap), at least 187,000 of them at
/// 1,000,000 bench notes, the largest thing that grew with the input.
struct DeferredRef {
    row: u32,
    len: u32,
    at: u64,
    rule_id: &'static str,
}

/// A finding without its encounter id and rule id (the row and the
/// [`DeferredRef`] keep those).
fn encode_deferred(f: &Finding, out: &mut Vec<u8>) {
    let mut e = Enc(out);
    e.str(f.severity.as_str());
    e.opt_str(f.note_id.as_deref());
    e.str(&f.message);
    e.opt_str(f.evidence.as_deref());
    e.opt_u32(f.start);
    e.opt_u32(f.end);
}

fn decode_deferred(buf: &[u8], encounter_id: &str, rule_id: &'static str) -> std::io::Result<Finding> {
    let mut d = Dec(buf);
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("spilled finding {what}"));
    let severity = rules::Severity::parse(&d.string()?).ok_or_else(|| bad("has an unknown severity"))?;
    let f = Finding {
        encounter_id: encounter_id.to_string(),
        note_id: d.opt_string()?,
        rule_id,
        severity,
        message: d.string()?,
        evidence: d.opt_string()?,
        start: d.opt_u32()?,
        end: d.opt_u32()?,
    };
    if !d.0.is_empty() {
        return Err(bad("is longer than its fields"));
    }
    Ok(f)
}

/// Interned patient ids (by their 128-bit key: no id strings are kept).
#[derive(Default)]
pub struct Patients(HashMap<IdKey, u32>);

impl Patients {
    fn id(&mut self, p: &str) -> u32 {
        let n = self.0.len() as u32;
        *self.0.entry(id_key(p)).or_insert(n)
    }
}

impl CloneKey {
    /// The key of an encounter, when it has a session note on a treatment
    /// track; the caller sets `patient` (interned) and `row`.
    pub fn of(e: &Encounter, f: &EncounterFacts) -> Option<CloneKey> {
        let sn = f.session_note?;
        (f.track != Track::None).then(|| CloneKey {
            patient: 0,
            date_of_service: e.date_of_service,
            row: 0,
            note: sn as u32,
            note_id: e.notes[sn].meta.note_id.as_str().into(),
            sketch: e.notes[sn].facts.sketch.clone(),
        })
    }
}

/// Share of word 5-shingles in common (MinHash estimate, sd ~0.06) at or
/// above which a session note is a copy of an earlier one. A note written
/// afresh from a template, with its own vitals, times and narrative, shares
/// well under half its 5-word runs with the last one; a copied-forward note
/// with a few values edited shares most of them. 0.92 only caught verbatim
/// copies and missed edited clones; 0.75 keeps recall at 0.93-0.96 on the
/// synthetic sets (0.70: 0.93-0.98) with a margin for practices whose
/// templates repeat more boilerplate.
const CLONE_THRESHOLD: f64 = 0.75;

/// Sessions a note is compared with: the patient's previous 20.
const CLONE_WINDOW: usize = 20;

/// Within one patient's sessions in (date, encounter id) order, the earlier
/// session (of the previous [`CLONE_WINDOW`]) that session `k` copies, most
/// similar first and earliest on a tie, with the similarity.
fn copied_from<'a>(sketch: impl Fn(usize) -> &'a Sketch, k: usize) -> Option<(usize, f64)> {
    let mut best: Option<(f64, usize)> = None;
    let from = k.saturating_sub(CLONE_WINDOW);
    for j in from..k {
        let sim = sketch(k).similarity(sketch(j));
        if sim >= CLONE_THRESHOLD && best.is_none_or(|b| sim > b.0) {
            best = Some((sim, j));
        }
    }
    best.map(|(sim, j)| (j, sim))
}

/// Find session notes that are near-copies of the same patient's earlier
/// sessions. Sessions are compared only within a patient, newest against
/// the previous 20. `encounter_id` names a key's row. Returns (index into
/// `keys`, what it copies), sorted.
pub fn detect_clones(keys: &[CloneKey], encounter_id: &(dyn Fn(u32) -> String + Sync)) -> Vec<(usize, ClonedFrom)> {
    let mut by_patient: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_patient.entry(k.patient).or_default().push(i);
    }
    let mut found: Vec<(usize, ClonedFrom)> = by_patient
        .par_iter()
        .flat_map_iter(|(_, idxs)| {
            let mut idxs: Vec<(usize, String)> = idxs.iter().map(|&i| (i, encounter_id(keys[i].row))).collect();
            idxs.sort_by(|a, b| (keys[a.0].date_of_service, &a.1).cmp(&(keys[b.0].date_of_service, &b.1)));
            let mut out = Vec::new();
            for k in 0..idxs.len() {
                if let Some((j, sim)) = copied_from(|x| &keys[idxs[x].0].sketch, k) {
                    let (i, jk) = (idxs[k].0, idxs[j].0);
                    out.push((
                        i,
                        ClonedFrom {
                            note: keys[i].note as usize,
                            other_note_id: keys[jk].note_id.to_string(),
                            other_encounter_id: idxs[j].1.clone(),
                            other_date: keys[jk].date_of_service,
                            similarity: sim,
                        },
                    ));
                }
            }
            out
        })
        .collect();
    found.sort_by_key(|f| f.0);
    found
}

/// Encounter ids of the scored rows in one buffer (row number to id), so
/// the rows themselves can live in the spill file.
struct RowIds {
    text: String,
    ends: Vec<usize>,
}

impl RowIds {
    /// Add the next row's id; returns its row number.
    fn push(&mut self, id: &str) -> u32 {
        self.text.push_str(id);
        self.ends.push(self.text.len());
        (self.ends.len() - 1) as u32
    }
    fn get(&self, row: u32) -> &str {
        let i = row as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// A scored encounter's session note, its sketch and id in the spill file.
struct SessionRef {
    patient: u32,
    date_of_service: chrono::NaiveDate,
    row: u32,
    note: u32,
    track: Track,
    /// Offset of (sketch words, note id) in the sessions spill file.
    at: u64,
}

const SKETCH_BYTES: usize = SKETCH_WORDS * 4;

/// Spill a session note's sketch and id; returns the record's offset.
fn spill_session(spill: &mut SpillFile, buf: &mut Vec<u8>, k: &CloneKey) -> std::io::Result<u64> {
    buf.clear();
    for w in k.sketch.to_words() {
        buf.extend_from_slice(&w.to_le_bytes());
    }
    buf.extend_from_slice(&(k.note_id.len() as u32).to_le_bytes());
    buf.extend_from_slice(k.note_id.as_bytes());
    spill.append(buf)
}

fn read_sketch(spill: &SpillFile, at: u64) -> std::io::Result<Sketch> {
    let mut b = [0u8; SKETCH_BYTES];
    spill.read_at(at, &mut b)?;
    let mut w = [0u32; SKETCH_WORDS];
    for (i, c) in b.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Ok(Sketch::from_words(&w))
}

fn read_session_note_id(spill: &SpillFile, at: u64) -> std::io::Result<String> {
    let mut n = [0u8; 4];
    spill.read_at(at + SKETCH_BYTES as u64, &mut n)?;
    let mut b = vec![0u8; u32::from_le_bytes(n) as usize];
    spill.read_at(at + SKETCH_BYTES as u64 + 4, &mut b)?;
    String::from_utf8(b).map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "spilled note id is not UTF-8"))
}

/// Sessions whose sketches are in memory at once in the clone pass.
const CLONE_CHUNK: usize = 32_768;

/// [`detect_clones`] over spilled sessions: sessions are ordered by
/// (patient, date, encounter id) and compared a few thousand patients at a
/// time, reading only those sketches. Returns (session, the session it
/// copies, similarity), by session.
fn detect_spilled_clones(sessions: &[SessionRef], ids: &RowIds, spill: &SpillFile) -> std::io::Result<Vec<(u32, u32, f64)>> {
    let mut order: Vec<u32> = (0..sessions.len() as u32).collect();
    let key = |i: u32| {
        let s = &sessions[i as usize];
        (s.patient, s.date_of_service, ids.get(s.row))
    };
    order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)).then(a.cmp(&b)));
    let patient = |i: u32| sessions[i as usize].patient;
    let mut found = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = (start + CLONE_CHUNK).min(order.len());
        while end < order.len() && patient(order[end]) == patient(order[end - 1]) {
            end += 1;
        }
        let chunk = &order[start..end];
        let sketches: Vec<Sketch> = chunk.iter().map(|&i| read_sketch(spill, sessions[i as usize].at)).collect::<std::io::Result<_>>()?;
        let mut groups = Vec::new();
        let mut g = 0;
        for k in 1..=chunk.len() {
            if k == chunk.len() || patient(chunk[k]) != patient(chunk[g]) {
                groups.push((g, k));
                g = k;
            }
        }
        let part: Vec<(u32, u32, f64)> = groups
            .par_iter()
            .flat_map_iter(|&(a, b)| {
                let sk = &sketches[a..b];
                (0..b - a).filter_map(move |k| copied_from(|x| &sk[x], k).map(|(j, sim)| (chunk[a + k], chunk[a + j], sim)))
            })
            .collect();
        found.extend(part);
        start = end;
    }
    found.sort_unstable_by_key(|f| f.0);
    Ok(found)
}

/// An esketamine administration session, as the per-patient dosing
/// schedule pass keeps it (12 bytes: no ids or text).
#[derive(Debug, Clone, Copy)]
struct AdminRef {
    /// Patient (interned).
    patient: u32,
    date_of_service: chrono::NaiveDate,
    /// The encounter's row.
    row: u32,
    /// Its notes already say it is the third or later session in 7 days, so
    /// its scoring gave the schedule finding; the session pass adds none.
    stated: bool,
}

/// Sessions that are the third or later of their patient's esketamine
/// administration sessions within 7 consecutive days
/// ([`rules::over_weekly_limit`]), each patient's sessions in (date,
/// encounter id) order. `encounter_id` names a row. Returns (the session,
/// the earlier sessions in its window by date), by row.
fn detect_over_schedule<'a>(admins: &[AdminRef], encounter_id: impl Fn(u32) -> &'a str) -> Vec<(AdminRef, Vec<AdminRef>)> {
    let mut order: Vec<AdminRef> = admins.to_vec();
    order.sort_unstable_by(|a, b| {
        (a.patient, a.date_of_service, encounter_id(a.row), a.row).cmp(&(b.patient, b.date_of_service, encounter_id(b.row), b.row))
    });
    let mut found = Vec::new();
    for group in order.chunk_by(|a, b| a.patient == b.patient) {
        let dates: Vec<chrono::NaiveDate> = group.iter().map(|a| a.date_of_service).collect();
        for (k, others) in rules::over_weekly_limit(&dates) {
            found.push((group[k], group[others].to_vec()));
        }
    }
    found.sort_unstable_by_key(|f| f.0.row);
    found
}

/// The evidence of an over-schedule session: the other sessions' encounter
/// ids and dates.
fn sessions_in_week<'a>(others: &[AdminRef], encounter_id: impl Fn(u32) -> &'a str) -> SessionsInWeek {
    SessionsInWeek { others: others.iter().map(|o| (encounter_id(o.row).to_string(), o.date_of_service)).collect() }
}

/// Rules for one assessed encounter, under its payer profile (with the
/// configuration's overrides), sorted.
fn evaluate_encounter(
    e: &Encounter,
    f: &EncounterFacts,
    dict: &Dictionaries,
    settings: &RuleSettings,
    overrides: &BTreeMap<String, crate::dict::PayerProfileToml>,
) -> Vec<Finding> {
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
}

/// Score encounters: assess, clone, dosing-schedule and course passes, rules
/// (the in-memory path).
pub fn score(
    encounters: Vec<Encounter>,
    dict: &Dictionaries,
    settings: &RuleSettings,
    overrides: &BTreeMap<String, crate::dict::PayerProfileToml>,
) -> (Vec<Encounter>, Vec<EncounterFacts>, Vec<Vec<Finding>>) {
    let mut facts: Vec<EncounterFacts> = encounters.par_iter().map(|e| assess(e, dict)).collect();
    let mut patients = Patients::default();
    let keys: Vec<CloneKey> = encounters
        .iter()
        .zip(&facts)
        .enumerate()
        .filter_map(|(i, (e, f))| CloneKey::of(e, f).map(|k| CloneKey { patient: patients.id(&e.patient_id), row: i as u32, ..k }))
        .collect();
    for (k, c) in detect_clones(&keys, &|row| encounters[row as usize].encounter_id.clone()) {
        facts[keys[k].row as usize].cloned_from = Some(c);
    }
    let admins: Vec<AdminRef> = encounters
        .iter()
        .zip(&facts)
        .enumerate()
        .filter(|(_, (e, f))| rules::administration_session(e, f, dict))
        .map(|(i, (e, _))| AdminRef {
            patient: patients.id(&e.patient_id),
            date_of_service: e.date_of_service,
            row: i as u32,
            stated: false,
        })
        .collect();
    let id_of = |row: u32| encounters[row as usize].encounter_id.as_str();
    for (a, others) in detect_over_schedule(&admins, id_of) {
        facts[a.row as usize].sessions_in_week = Some(sessions_in_week(&others, id_of));
    }
    let courses: Vec<CourseRef> = encounters
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            CourseDocs::of(e).map(|docs| CourseRef {
                patient: patients.id(&e.patient_id),
                date_of_service: e.date_of_service,
                row: i as u32,
                docs,
            })
        })
        .collect();
    for (row, d) in rules::course::earlier_docs(&courses) {
        facts[row as usize].earlier_docs = d;
    }
    let findings: Vec<Vec<Finding>> =
        encounters.par_iter().zip(facts.par_iter()).map(|(e, f)| evaluate_encounter(e, f, dict, settings, overrides)).collect();
    (encounters, facts, findings)
}

/// The shipped dictionaries and extractor, with the ICD-10-CM table (first
/// needed when scoring) decompressed while the extractor compiles.
fn builtins() -> (&'static Dictionaries, &'static Extractor) {
    let dict = Dictionaries::builtin();
    let (ex, _) = rayon::join(Extractor::builtin, crate::dict::icd10cm);
    (dict, ex)
}

/// Read, extract, group and score in memory without writing anything
/// (used by `eval`, which needs every encounter's facts). Returns the
/// result and the rejected records.
pub fn analyze(opts: &ScanOptions, files: &[PathBuf], progress: &dyn Progress) -> Result<(ScanResult, Vec<Reject>), ScanError> {
    let (dict, ex) = builtins();
    let mut summary = ScanSummary::default();
    let t0 = std::time::Instant::now();
    let (records, mut rejects) = read_and_extract(opts, files, ex, progress, &mut summary);
    let claims = read_claim_files(opts, &mut |r| rejects.push(r), &mut summary)?;
    end_stage(&mut summary, "read+extract", t0);
    let t1 = std::time::Instant::now();
    progress.stage("score", None);
    let encounters = group(records, claims, dict, &mut summary);
    let (encounters, facts, findings) = score(encounters, dict, &opts.settings, &opts.payer_overrides);
    progress.finish();
    end_stage(&mut summary, "score", t1);
    summary.encounters = encounters.len() as u64;
    Ok((ScanResult { summary, encounters, facts, findings }, rejects))
}

/// Run a scan.
pub fn scan(opts: &ScanOptions, progress: &dyn Progress) -> Result<ScanSummary, ScanError> {
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
                    "notes_read": r.notes_read,
                    "notes_accepted": r.notes_accepted,
                    "notes_rejected": r.notes_rejected,
                    "claims_read": r.claims_read,
                    "claims_accepted": r.claims_accepted,
                    "claims_rejected": r.claims_rejected,
                    "encounters": r.encounters,
                    "findings": r.findings,
                    "files_with_read_errors": r.files_with_read_errors,
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

/// Encounters scored together once their notes are all in.
const SCORE_BATCH: usize = 1024;

/// An encounter scored by the streaming scan: its row, findings and the
/// clone key of its session note.
struct Scored {
    row: EncounterRow,
    findings: Vec<Finding>,
    clone_key: Option<CloneKey>,
    /// An esketamine administration session (for the dosing-schedule pass).
    esk_admin: bool,
    /// Its course documentation (for the per-patient course pass).
    course: Option<CourseDocs>,
    /// Findings of the course rules, given without the patient's other
    /// encounters; the course pass keeps those that still stand.
    deferred: Vec<Finding>,
    payer: PayerStatus,
}

/// Build, assess and evaluate encounters whose notes are all in, in parallel.
fn score_ready(
    ready: &mut Vec<(String, Vec<NoteRecord>)>,
    claims: &mut SpilledClaims,
    opts: &ScanOptions,
    dict: &Dictionaries,
) -> Vec<Scored> {
    let work: Vec<(String, Vec<NoteRecord>, Vec<ClaimLine>)> = ready
        .drain(..)
        .map(|(id, notes)| {
            let c = claims.take(&id);
            (id, notes, c)
        })
        .collect();
    work.into_par_iter()
        .map(|(id, notes, c)| {
            let (e, payer) = build_encounter(id, notes, c, dict);
            let f = assess(&e, dict);
            // note-cloned and esk-dosing-schedule-exceeded are decided across
            // encounters after all are scored.
            // So are the course rules (a screen or baseline score may be
            // written at an earlier visit): their findings wait, out of the
            // row's score, for the per-patient course pass.
            let (deferred, findings): (Vec<Finding>, Vec<Finding>) =
                evaluate_encounter(&e, &f, dict, &opts.settings, &opts.payer_overrides)
                    .into_iter()
                    .partition(|f| rules::course::deferred(f.rule_id));
            let row = EncounterRow::new(&e, &f, &findings, &opts.settings);
            // Patient and row are filled in by the caller, in order.
            let clone_key = CloneKey::of(&e, &f);
            let esk_admin = rules::administration_session(&e, &f, dict);
            let course = CourseDocs::of(&e);
            Scored { row, findings, clone_key, esk_admin, course, deferred, payer }
        })
        .collect()
}

/// What the index needs of each encounter (payer, track, risk, rules), in
/// report order, about 20 bytes an encounter: payers and rule sets are
/// interned (there are few distinct ones).
#[derive(Default)]
struct RiskTable {
    rows: Vec<RiskRow>,
    payers: Vec<String>,
    payer_ids: HashMap<String, u32>,
    rule_sets: Vec<Vec<&'static str>>,
    rule_set_ids: HashMap<Vec<&'static str>, u32>,
}

struct RiskRow {
    risk_score: f64,
    payer: u32,
    rules: u32,
    track: Track,
    level: u8,
}

/// One encounter's fields from a [`RiskTable`].
struct Risk<'a> {
    payer: Option<&'a str>,
    track: Track,
    risk_level: &'static str,
    risk_score: f64,
    rules: &'a [&'static str],
}

/// The number of `v` in `values`, adding it on first sight.
fn intern<T: Clone + Eq + std::hash::Hash>(values: &mut Vec<T>, ids: &mut HashMap<T, u32>, v: &T) -> u32 {
    if let Some(&i) = ids.get(v) {
        return i;
    }
    let i = values.len() as u32;
    values.push(v.clone());
    ids.insert(v.clone(), i);
    i
}

impl RiskTable {
    fn push(&mut self, r: &EncounterRow) {
        let payer = r.payer.as_ref().map_or(u32::MAX, |p| intern(&mut self.payers, &mut self.payer_ids, p));
        let rules = intern(&mut self.rule_sets, &mut self.rule_set_ids, &r.rules);
        // A row's level is always `RuleSettings::level` of its score, one of LEVELS.
        let level = report::level_code(r.risk_level).unwrap_or(0);
        self.rows.push(RiskRow { risk_score: r.risk_score, payer, rules, track: r.track, level });
    }

    fn get(&self, i: usize) -> Risk<'_> {
        let r = &self.rows[i];
        Risk {
            payer: self.payers.get(r.payer as usize).map(String::as_str),
            track: r.track,
            risk_level: report::LEVELS[r.level as usize],
            risk_score: r.risk_score,
            rules: &self.rule_sets[r.rules as usize],
        }
    }
}

/// The body of a scan, run while the output lock is held.
///
/// Streaming, in three reads of the inputs:
/// 1. a census: validation, the duplicate policy and rejects, and the
///    number of accepted notes of each encounter;
/// 2. extraction in parallel batches; an encounter is assessed, scored and
///    its findings written (in row groups) as soon as its last note is
///    extracted; its report row and session-note sketch go to spill files
///    in the output folder (owner-only, unlinked while open). Then the
///    per-patient clone pass reads the sketches a chunk of patients at a
///    time and adds `note-cloned` findings, the per-patient dosing pass
///    counts esketamine sessions in 7-day windows and adds
///    `esk-dosing-schedule-exceeded` findings, the per-patient course pass
///    keeps the course-start findings (`esk-safety-screen-missing`,
///    `trd-severity-scale-missing`) no earlier encounter answers, and the
///    rows are read back in
///    encounter id order into the encounter report, a row group at a time;
/// 3. indexing, with each encounter's risk.
///
/// Memory holds the census (about 40 bytes a note), one batch of notes,
/// the encounters whose notes are still arriving (few when an export keeps
/// an encounter's notes near each other), and per encounter its id and
/// spill offsets (about 40 bytes; 12 more for an esketamine session, for
/// the dosing pass; 32 for each course-rule finding waiting for the course
/// pass), then what the index needs of it (about 30 bytes with its place
/// in id order).
fn scan_locked(
    opts: &ScanOptions,
    files: &[PathBuf],
    writer: Option<crate::index::NoteIndexWriter>,
    progress: &dyn Progress,
) -> Result<ScanSummary, ScanError> {
    let (dict, ex) = builtins();
    let mut summary = ScanSummary::default();
    let out_err = |p: &Path, e: std::io::Error| ScanError::Output(format!("{}: {e}", p.display()));
    report::remove_stale_temps(&opts.out);
    let rej_path = opts.out.join("rejects.jsonl");
    let fin_path = opts.out.join("findings.parquet");
    let enc_path = opts.out.join("encounters.parquet");
    let mut rejects = report::RejectsWriter::create(&rej_path).map_err(|e| out_err(&rej_path, e))?;
    let mut reject_err: Option<std::io::Error> = None;
    let total_bytes: u64 = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();

    // 1. Census.
    let t0 = std::time::Instant::now();
    progress.stage("read", Some(total_bytes));
    let mut expected: HashMap<u64, u32> = HashMap::new();
    let mut first = {
        let mut on_reject = |r: Reject| {
            if let Err(e) = rejects.push(&r) {
                reject_err.get_or_insert(e);
            }
        };
        read_note_files(opts, files, progress, &mut summary, &mut on_reject, &mut |n, _| {
            *expected.entry(census_key(&n.encounter_id)).or_default() += 1;
        })
    };
    progress.finish();
    let mut claims = {
        let mut on_reject = |r: Reject| {
            if let Err(e) = rejects.push(&r) {
                reject_err.get_or_insert(e);
            }
        };
        SpilledClaims::read(opts, &opts.out, &mut on_reject, &mut summary)?
    };
    end_stage(&mut summary, "read", t0);

    // 2. Extract and score. Each scored encounter's report row and its
    // session note's sketch go to spill files; memory keeps its id and
    // where its records are.
    let t1 = std::time::Instant::now();
    let mut findings_out = report::FindingsWriter::create(&fin_path).map_err(|e| out_err(&fin_path, e))?;
    let mut rows_spill = SpillFile::create(&opts.out, "encounter-rows").map_err(|e| out_err(&opts.out, e))?;
    let mut sessions_spill = SpillFile::create(&opts.out, "session-sketches").map_err(|e| out_err(&opts.out, e))?;
    // Sized once from the census (no doubling of the per-encounter vectors).
    let mut ids = RowIds { text: String::new(), ends: Vec::with_capacity(expected.len()) };
    let mut row_at: Vec<u64> = Vec::with_capacity(expected.len());
    let mut sessions: Vec<SessionRef> = Vec::with_capacity(expected.len());
    let mut admins: Vec<AdminRef> = Vec::new();
    let mut courses: Vec<CourseRef> = Vec::new();
    let mut deferred_spill = SpillFile::create(&opts.out, "course-findings").map_err(|e| out_err(&opts.out, e))?;
    let mut deferred: Vec<DeferredRef> = Vec::new();
    let mut patients = Patients::default();
    let mut rule_counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut pending: HashMap<String, Vec<NoteRecord>> = HashMap::new();
    let mut ready: Vec<(String, Vec<NoteRecord>)> = Vec::new();
    let mut accepted: u64 = 0;
    let mut write_err: Option<std::io::Error> = None;
    let mut spill_err: Option<std::io::Error> = None;
    let mut course_err: Option<std::io::Error> = None;
    let mut spill_buf: Vec<u8> = Vec::new();
    let mut keep = |scored: Vec<Scored>, summary: &mut ScanSummary| {
        for s in scored {
            count_payer(summary, s.payer);
            for f in &s.findings {
                *rule_counts.entry(f.rule_id).or_default() += 1;
            }
            let row = ids.push(&s.row.encounter_id);
            spill_buf.clear();
            let spilled = s.row.encode(&mut spill_buf).and_then(|()| rows_spill.append(&spill_buf));
            match spilled {
                Ok(at) => row_at.push(at),
                Err(e) => {
                    row_at.push(rows_spill.len());
                    spill_err.get_or_insert(e);
                }
            }
            if s.esk_admin {
                let stated = s.findings.iter().any(|f| f.rule_id == rules::schedule_rule_id());
                admins.push(AdminRef { patient: patients.id(&s.row.patient_id), date_of_service: s.row.date_of_service, row, stated });
            }
            if let Some(docs) = s.course {
                courses.push(CourseRef { patient: patients.id(&s.row.patient_id), date_of_service: s.row.date_of_service, row, docs });
            }
            for f in &s.deferred {
                spill_buf.clear();
                encode_deferred(f, &mut spill_buf);
                match deferred_spill.append(&spill_buf) {
                    Ok(at) => deferred.push(DeferredRef { row, len: spill_buf.len() as u32, at, rule_id: f.rule_id }),
                    Err(e) => {
                        course_err.get_or_insert(e);
                    }
                }
            }
            if let Some(k) = s.clone_key {
                match spill_session(&mut sessions_spill, &mut spill_buf, &k) {
                    Ok(at) => sessions.push(SessionRef {
                        patient: patients.id(&s.row.patient_id),
                        date_of_service: k.date_of_service,
                        row,
                        note: k.note,
                        track: s.row.track,
                        at,
                    }),
                    Err(e) => {
                        spill_err.get_or_insert(e);
                    }
                }
            }
            if let Err(e) = findings_out.push(s.findings) {
                write_err.get_or_insert(e);
            }
        }
    };
    progress.stage("extract+score", Some(total_bytes));
    let mut batch: Vec<Note> = Vec::with_capacity(EXTRACT_BATCH);
    let mut place = |out: Vec<Result<NoteRecord, Reject>>,
                     pending: &mut HashMap<String, Vec<NoteRecord>>,
                     ready: &mut Vec<(String, Vec<NoteRecord>)>| {
        for r in out {
            match r {
                Ok(rec) => {
                    accepted += 1;
                    let id = rec.meta.encounter_id.clone();
                    let want = expected.get(&census_key(&id)).copied().unwrap_or(0) as usize;
                    let notes = pending.entry(id.clone()).or_default();
                    notes.push(rec);
                    if notes.len() >= want {
                        let notes = pending.remove(&id).unwrap_or_default();
                        ready.push((id, notes));
                    }
                }
                Err(rej) => {
                    if let Err(e) = rejects.push(&rej) {
                        reject_err.get_or_insert(e);
                    }
                }
            }
        }
    };
    for f in files {
        let mut on = |ev: NoteEvent| {
            if let NoteEvent::Note(n) = ev {
                // The census decided which record of an id is used: the first.
                if !first.take(&n.note_id) {
                    return;
                }
                batch.push(n);
                if batch.len() >= EXTRACT_BATCH {
                    let out = extract_batch(&mut batch, ex, &mut summary);
                    place(out, &mut pending, &mut ready);
                    if ready.len() >= SCORE_BATCH {
                        let s = score_ready(&mut ready, &mut claims, opts, dict);
                        keep(s, &mut summary);
                    }
                }
            }
        };
        let _ = ingest::read_notes(f, &opts.ingest, &mut on);
        progress.inc(std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
    }
    let out = extract_batch(&mut batch, ex, &mut summary);
    place(out, &mut pending, &mut ready);
    // Encounters still waiting (a note failed extraction, or an input
    // changed between reads) are scored with the notes they have, in id order.
    let mut rest: Vec<(String, Vec<NoteRecord>)> = pending.drain().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    ready.extend(rest);
    let s = score_ready(&mut ready, &mut claims, opts, dict);
    keep(s, &mut summary);
    drop(expected);
    drop(patients);
    progress.finish();
    summary.claims_without_notes = claims.untaken();
    if let Some(e) = claims.err.take() {
        return Err(out_err(claims.spill.path(), e));
    }
    drop(claims);
    end_stage(&mut summary, "extract+score", t1);

    // Clone pass over the spilled session-note sketches, then the dosing
    // schedule pass over the esketamine sessions: the late `note-cloned` and
    // `esk-dosing-schedule-exceeded` findings are written, and remembered by
    // row (several per encounter) to rescore the rows as they are read back.
    let t2 = std::time::Instant::now();
    let spill_path = |f: &SpillFile| f.path().to_path_buf();
    if let Some(e) = spill_err.take() {
        return Err(out_err(&spill_path(&rows_spill), e));
    }
    rows_spill.flush().map_err(|e| out_err(&spill_path(&rows_spill), e))?;
    sessions_spill.flush().map_err(|e| out_err(&spill_path(&sessions_spill), e))?;
    if let Some(e) = course_err.take() {
        return Err(out_err(&spill_path(&deferred_spill), e));
    }
    deferred_spill.flush().map_err(|e| out_err(&spill_path(&deferred_spill), e))?;
    let mut late: Vec<(u32, &'static str, rules::Severity)> = Vec::new();
    {
        let sessions_err = |e| out_err(&spill_path(&sessions_spill), e);
        let found = detect_spilled_clones(&sessions, &ids, &sessions_spill).map_err(sessions_err)?;
        for (i, j, similarity) in found {
            let (a, b) = (&sessions[i as usize], &sessions[j as usize]);
            let c = ClonedFrom {
                note: a.note as usize,
                other_note_id: read_session_note_id(&sessions_spill, b.at).map_err(sessions_err)?,
                other_encounter_id: ids.get(b.row).to_string(),
                other_date: b.date_of_service,
                similarity,
            };
            let note_id = read_session_note_id(&sessions_spill, a.at).map_err(sessions_err)?;
            if let Some(f) = rules::clone_finding(ids.get(a.row), &note_id, a.track, a.date_of_service, &c, &opts.settings) {
                *rule_counts.entry(f.rule_id).or_default() += 1;
                late.push((a.row, f.rule_id, f.severity));
                if let Err(e) = findings_out.push(std::iter::once(f)) {
                    write_err.get_or_insert(e);
                }
            }
        }
    }
    drop(sessions);
    drop(sessions_spill);
    for (a, others) in detect_over_schedule(&admins, |r| ids.get(r)) {
        if a.stated {
            continue;
        }
        let w = sessions_in_week(&others, |r| ids.get(r));
        // Administration sessions are on the esketamine track.
        if let Some(f) = rules::schedule_finding(ids.get(a.row), Track::Esketamine, a.date_of_service, &w, &opts.settings) {
            *rule_counts.entry(f.rule_id).or_default() += 1;
            late.push((a.row, f.rule_id, f.severity));
            if let Err(e) = findings_out.push(std::iter::once(f)) {
                write_err.get_or_insert(e);
            }
        }
    }
    drop(admins);
    // Course pass: a course start's missing screen or baseline score stands
    // unless an encounter of the patient dated on or before it has one.
    let earlier: HashMap<u32, crate::encounter::EarlierDocs> = rules::course::earlier_docs(&courses).into_iter().collect();
    drop(courses);
    let mut buf = Vec::new();
    for d in deferred {
        let row = d.row;
        if !rules::course::stands(d.rule_id, &earlier.get(&row).copied().unwrap_or_default()) {
            continue;
        }
        buf.resize(d.len as usize, 0);
        let f = match deferred_spill.read_at(d.at, &mut buf).and_then(|()| decode_deferred(&buf, ids.get(row), d.rule_id)) {
            Ok(f) => f,
            Err(e) => {
                course_err = Some(e);
                break;
            }
        };
        *rule_counts.entry(f.rule_id).or_default() += 1;
        late.push((row, f.rule_id, f.severity));
        if let Err(e) = findings_out.push(std::iter::once(f)) {
            write_err.get_or_insert(e);
        }
    }
    late.sort_by_key(|l| l.0);
    if let Some(e) = reject_err.take() {
        return Err(out_err(&rej_path, e));
    }
    if let Some(e) = write_err.take() {
        return Err(out_err(&fin_path, e));
    }
    if let Some(e) = course_err.take() {
        return Err(out_err(&spill_path(&deferred_spill), e));
    }
    drop(deferred_spill);
    end_stage(&mut summary, "clones", t2);

    // Summary counts.
    summary.notes_accepted = accepted;
    summary.notes_rejected = summary.notes_read - accepted;
    summary.encounters = ids.len() as u64;
    summary.findings = rule_counts.values().sum();
    let mut top: Vec<(String, u64)> = rule_counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    summary.top_rules = top;

    // Reports: encounters, read back from the spill file in encounter id
    // order and written a row group at a time, then the findings and
    // rejects files are renamed over their final names. What the index
    // needs of each encounter is kept, in the same order.
    let t3 = std::time::Instant::now();
    progress.stage("write", Some(3));
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| ids.get(a).cmp(ids.get(b)).then(a.cmp(&b)));
    let mut risks = RiskTable::default();
    {
        let rows_err = |e| out_err(&spill_path(&rows_spill), e);
        let mut enc_out = report::EncountersWriter::create(&enc_path, order.len()).map_err(|e| out_err(&enc_path, e))?;
        let mut buf = Vec::new();
        for &r in &order {
            let at = row_at[r as usize];
            let end = row_at.get(r as usize + 1).copied().unwrap_or(rows_spill.len());
            buf.resize((end - at) as usize, 0);
            rows_spill.read_at(at, &mut buf).map_err(rows_err)?;
            let mut row = EncounterRow::decode(&buf).map_err(rows_err)?;
            let from = late.partition_point(|l| l.0 < r);
            for l in late[from..].iter().take_while(|l| l.0 == r) {
                row.add_late_finding(l.1, l.2, &opts.settings);
            }
            *summary.by_level.entry(row.risk_level.to_string()).or_default() += 1;
            *summary.by_track.entry(row.track.as_str().to_string()).or_default() += 1;
            if writer.is_some() {
                risks.push(&row);
            }
            enc_out.push(row).map_err(|e| out_err(&enc_path, e))?;
        }
        enc_out.finish().map_err(|e| out_err(&enc_path, e))?;
    }
    drop(row_at);
    drop(rows_spill);
    drop(late);
    progress.inc(1);
    findings_out.finish().map_err(|e| out_err(&fin_path, e))?;
    progress.inc(1);
    let rejected_lines = rejects.finish().map_err(|e| out_err(&rej_path, e))?;
    debug_assert_eq!(rejected_lines, summary.notes_rejected + summary.claims_rejected);
    progress.inc(1);
    progress.finish();
    summary.outputs = vec![enc_path.display().to_string(), fin_path.display().to_string(), rej_path.display().to_string()];
    end_stage(&mut summary, "write", t3);

    // 3. Index, with each encounter's risk.
    if let Some(writer) = writer {
        let t4 = std::time::Instant::now();
        let index_dir = opts.index.clone().unwrap_or_else(|| opts.out.join("index"));
        progress.stage("index", Some(summary.notes_accepted));
        first.restart();
        let mut err: Option<crate::index::IndexError> = None;
        for f in files {
            let mut on = |ev: NoteEvent| {
                if let NoteEvent::Note(n) = ev {
                    if err.is_some() || !first.take(&n.note_id) {
                        return;
                    }
                    let Ok(i) = order.binary_search_by(|&r| ids.get(r).cmp(n.encounter_id.as_str())) else { return };
                    let row = risks.get(i);
                    let doc = crate::index::NoteDoc {
                        note_id: &n.note_id,
                        encounter_id: &n.encounter_id,
                        patient_id: &n.patient_id,
                        date_of_service: n.date_of_service,
                        provider_id: n.provider_id.as_deref(),
                        payer: row.payer,
                        note_type: n.note_type.as_deref(),
                        track: row.track.as_str(),
                        risk_level: row.risk_level,
                        risk_score: row.risk_score,
                        rules: row.rules,
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
        end_stage(&mut summary, "index", t4);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(note_id: Option<&str>, evidence: Option<&str>, start: Option<u32>) -> Finding {
        Finding {
            encounter_id: "E-1".into(),
            note_id: note_id.map(Into::into),
            rule_id: "esk-safety-screen-missing",
            severity: rules::Severity::High,
            message: "no safety screen — before the first dose".into(),
            evidence: evidence.map(Into::into),
            start,
            end: start.map(|s| s + 7),
        }
    }

    #[test]
    fn a_deferred_finding_comes_back_from_its_spill_record_unchanged() {
        for f in [finding(None, None, None), finding(Some("N-9"), Some("café screen"), Some(12))] {
            let mut buf = Vec::new();
            encode_deferred(&f, &mut buf);
            let back = decode_deferred(&buf, "E-1", f.rule_id).unwrap();
            assert_eq!(format!("{back:?}"), format!("{f:?}"));
            // A cut record is an error, not a different finding.
            assert!(decode_deferred(&buf[..buf.len() - 1], "E-1", f.rule_id).is_err());
            // So is one with bytes after its last field.
            buf.push(0);
            assert!(decode_deferred(&buf, "E-1", f.rule_id).is_err());
        }
    }

    #[test]
    fn per_encounter_records_stay_compact() {
        // What the scan keeps per waiting course finding for the whole
        // extraction (the peak-RSS bound depends on it).
        assert!(std::mem::size_of::<DeferredRef>() <= 32);
    }
}
