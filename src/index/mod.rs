//! The tantivy index of every note: one document per note with the note's
//! metadata, its encounter's risk fields and rule ids, and the text
//! (tokenized with positions for phrase queries, stored for snippets).
//!
//! Re-running on the same index replaces notes by `note_id`, and re-writes
//! the encounter fields (payer, track, risk, rules) of notes already in the
//! index whose encounter was rescored by this run, so every note of an
//! encounter carries the encounter's latest risk. The writer uses its own
//! threads (bounded by `--threads`) and commits once per run, so a search
//! during a scan sees the last committed state and an interrupted run leaves
//! the index at its previous commit. Only one writer at a time: a second one
//! gets [`IndexError::Locked`] at once (tantivy's `.tantivy-writer.lock`).
//!
//! [`query`] runs searches (`ketaudit search`); [`snippet`] renders hits.

pub mod query;
pub mod snippet;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::{Field, IndexRecordOption, Schema, Value, FAST, INDEXED, STORED, STRING, TEXT};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};

/// Index schema version; a different stored version means "rebuild".
///
/// History: 1 = first release; 2 = payer, provider_id, note_type, track,
/// risk_level and rules became fast fields (for `search --group-by`).
pub const SCHEMA_VERSION: &str = "2";

/// Name of the file in the index folder holding [`SCHEMA_VERSION`].
pub const VERSION_FILE: &str = "ketaudit-index-version";

/// Field handles.
#[derive(Clone, Copy)]
pub struct Fields {
    /// note_id (raw).
    pub note_id: Field,
    /// encounter_id (raw).
    pub encounter_id: Field,
    /// patient_id (raw).
    pub patient_id: Field,
    /// date_of_service (date).
    pub date_of_service: Field,
    /// provider_id (raw).
    pub provider_id: Field,
    /// canonical payer (raw).
    pub payer: Field,
    /// note_type (raw).
    pub note_type: Field,
    /// track (raw).
    pub track: Field,
    /// risk_level (raw).
    pub risk_level: Field,
    /// risk_score (f64, fast).
    pub risk_score: Field,
    /// rule ids that fired on the encounter (raw, multi-valued).
    pub rules: Field,
    /// note text (tokenized, positions, stored).
    pub text: Field,
}

/// Build the schema.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        note_id: b.add_text_field("note_id", STRING | STORED),
        encounter_id: b.add_text_field("encounter_id", STRING | STORED | FAST),
        patient_id: b.add_text_field("patient_id", STRING | STORED),
        date_of_service: b.add_date_field("date_of_service", INDEXED | STORED | FAST),
        provider_id: b.add_text_field("provider_id", STRING | STORED | FAST),
        payer: b.add_text_field("payer", STRING | STORED | FAST),
        note_type: b.add_text_field("note_type", STRING | STORED | FAST),
        track: b.add_text_field("track", STRING | STORED | FAST),
        risk_level: b.add_text_field("risk_level", STRING | STORED | FAST),
        risk_score: b.add_f64_field("risk_score", INDEXED | STORED | FAST),
        rules: b.add_text_field("rules", STRING | STORED | FAST),
        text: b.add_text_field("text", TEXT | STORED),
    };
    (b.build(), f)
}

/// Errors opening or writing the index.
#[derive(Debug)]
pub enum IndexError {
    /// Another process holds the writer lock (the index path).
    Locked(String),
    /// Built by an incompatible ketaudit version: the index path, then what
    /// was found (e.g. "index format 1; this ketaudit needs 2").
    Incompatible(String),
    /// There is no index at the path (searching only).
    Missing(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexError::Locked(p) => write!(f, "index {p} is locked by another ketaudit run (tantivy writer lock .tantivy-writer.lock); wait for it to finish, or give this scan another --index"),
            IndexError::Incompatible(p) => write!(f, "index {p} was built by an incompatible ketaudit version; delete the folder and re-run `ketaudit scan ... --index` on the same inputs to rebuild it"),
            IndexError::Missing(p) => write!(f, "no search index at {p}; build one with `ketaudit scan INPUT... --out DIR` (the index goes to DIR/index unless --index is given)"),
            IndexError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for IndexError {}

/// The index format version stored in `dir`, if any.
fn stored_version(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join(VERSION_FILE)).ok().map(|s| s.trim().to_string())
}

/// Describe why the index in `dir` is incompatible, for [`IndexError::Incompatible`].
fn incompatible(dir: &Path, why: &str) -> IndexError {
    let found = match stored_version(dir) {
        Some(v) if v != SCHEMA_VERSION => format!("index format {v}; this ketaudit needs {SCHEMA_VERSION}"),
        Some(_) => format!("format {SCHEMA_VERSION} but {why}"),
        None => format!("no {VERSION_FILE} file, so older than format {SCHEMA_VERSION} or not made by ketaudit"),
    };
    IndexError::Incompatible(format!("{} ({found})", dir.display()))
}

/// Open an existing index, checking it was built by this index format.
fn open_checked(dir: &Path) -> Result<(Index, Fields), IndexError> {
    let (schema, fields) = schema();
    if stored_version(dir).as_deref() != Some(SCHEMA_VERSION) {
        return Err(incompatible(dir, "unreadable"));
    }
    let idx = Index::open_in_dir(dir).map_err(|e| match stored_version(dir).as_deref() {
        Some(SCHEMA_VERSION) => IndexError::Other(format!("{}: {e}", dir.display())),
        _ => incompatible(dir, "unreadable"),
    })?;
    if idx.schema() != schema {
        return Err(incompatible(dir, "a different schema"));
    }
    Ok((idx, fields))
}

/// Open (or create) the index at `dir`.
pub fn open(dir: &Path) -> Result<(Index, Fields), IndexError> {
    let (schema, fields) = schema();
    crate::report::create_private_dir(dir).map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
    if dir.join("meta.json").exists() {
        return open_checked(dir);
    }
    let idx = Index::create_in_dir(dir, schema).map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
    crate::report::write_atomic(&dir.join(VERSION_FILE), |w| std::io::Write::write_all(w, SCHEMA_VERSION.as_bytes()))
        .map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
    Ok((idx, fields))
}

/// Open an existing index for reading; never creates or changes anything.
pub fn open_existing(dir: &Path) -> Result<(Index, Fields), IndexError> {
    if !dir.join("meta.json").exists() {
        return Err(IndexError::Missing(dir.display().to_string()));
    }
    open_checked(dir)
}

/// An encounter's fields as this run scored them.
struct EncounterFields {
    payer: Option<String>,
    track: String,
    risk_level: String,
    risk_score: f64,
    rules: Vec<String>,
    /// Notes of the encounter added by this run.
    notes: Vec<String>,
}

/// A writer that replaces notes by id.
pub struct NoteIndexWriter {
    writer: IndexWriter<TantivyDocument>,
    index: Index,
    fields: Fields,
    dir: std::path::PathBuf,
    /// Encounters written by this run, when the index already held notes
    /// (their older notes get this run's encounter fields at commit).
    rescored: Option<Mutex<HashMap<String, EncounterFields>>>,
}

/// One note's index document.
pub struct NoteDoc<'a> {
    /// Note id.
    pub note_id: &'a str,
    /// Encounter id.
    pub encounter_id: &'a str,
    /// Patient id.
    pub patient_id: &'a str,
    /// Date of service.
    pub date_of_service: chrono::NaiveDate,
    /// Provider id.
    pub provider_id: Option<&'a str>,
    /// Canonical payer.
    pub payer: Option<&'a str>,
    /// Note type.
    pub note_type: Option<&'a str>,
    /// Track.
    pub track: &'a str,
    /// Risk level.
    pub risk_level: &'a str,
    /// Risk score.
    pub risk_score: f64,
    /// Rule ids.
    pub rules: &'a [&'a str],
    /// Text.
    pub text: &'a str,
}

/// Documents a merge may produce, at most.
const MERGE_DOCS_CAP: u64 = 65_536;

/// Tantivy's log merge policy, without the merges that would produce a
/// segment of more than [`MERGE_DOCS_CAP`] documents (a single segment
/// compacted for its deletions is always allowed). A merge reads its input
/// segments through memory maps, so an uncapped merge of eight 44,000-note
/// segments put about 400 MB of index files into the scan's resident memory
/// at 1,000,000 notes, and that grew with the corpus. Capped, a large scan
/// keeps the segments the indexing threads wrote (about 44,000 notes each),
/// and small leftover segments are still merged.
#[derive(Debug)]
struct CappedMerges(tantivy::merge_policy::LogMergePolicy);

impl Default for CappedMerges {
    fn default() -> Self {
        let mut p = tantivy::merge_policy::LogMergePolicy::default();
        // Re-scans replace notes: compact a segment once half of it is deleted.
        p.set_del_docs_ratio_before_merge(0.5);
        CappedMerges(p)
    }
}

impl tantivy::merge_policy::MergePolicy for CappedMerges {
    fn compute_merge_candidates(&self, segments: &[tantivy::SegmentMeta]) -> Vec<tantivy::merge_policy::MergeCandidate> {
        let docs: HashMap<tantivy::index::SegmentId, u64> = segments.iter().map(|s| (s.id(), u64::from(s.num_docs()))).collect();
        let mut c = self.0.compute_merge_candidates(segments);
        c.retain(|m| m.0.len() == 1 || m.0.iter().map(|id| docs.get(id).copied().unwrap_or(0)).sum::<u64>() <= MERGE_DOCS_CAP);
        c
    }
}

impl NoteIndexWriter {
    /// Start a writer with `threads` indexing threads.
    pub fn new(dir: &Path, threads: usize) -> Result<Self, IndexError> {
        let (index, fields) = open(dir)?;
        let threads = threads.clamp(1, 8);
        let writer: IndexWriter = index.writer_with_num_threads(threads, 64_000_000 * threads).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => IndexError::Locked(dir.display().to_string()),
            e => IndexError::Other(format!("{}: {e}", dir.display())),
        })?;
        writer.set_merge_policy(Box::new(CappedMerges::default()));
        // A killed run can leave files its commit never referenced (a
        // deletes file named by segment and opstamp, which this run would
        // then write again and fail with "file already exists"). Tantivy
        // collects them only after a commit; collect them before writing.
        writer.garbage_collect_files().wait().map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
        let prior = index.reader().map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?.searcher().num_docs();
        Ok(NoteIndexWriter { writer, index, fields, dir: dir.to_path_buf(), rescored: (prior > 0).then(|| Mutex::new(HashMap::new())) })
    }

    /// Add (or replace) a note. Each note id is added at most once per writer.
    pub fn add(&self, d: &NoteDoc<'_>) -> Result<(), IndexError> {
        if let Some(m) = &self.rescored {
            let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
            let e = m.entry(d.encounter_id.to_string()).or_insert_with(|| EncounterFields {
                payer: None,
                track: String::new(),
                risk_level: String::new(),
                risk_score: 0.0,
                rules: Vec::new(),
                notes: Vec::new(),
            });
            e.payer = d.payer.map(str::to_string);
            e.track = d.track.to_string();
            e.risk_level = d.risk_level.to_string();
            e.risk_score = d.risk_score;
            e.rules = d.rules.iter().map(|r| r.to_string()).collect();
            e.notes.push(d.note_id.to_string());
        }
        self.add_doc(d)
    }

    fn add_doc(&self, d: &NoteDoc<'_>) -> Result<(), IndexError> {
        let f = &self.fields;
        // Replacing by note id matters only when the index already held
        // notes: into an empty index (the caller adds each id once) a delete
        // per note would only fill tantivy's delete queue, about 80 MB and a
        // delete pass per segment at a million notes.
        if self.rescored.is_some() {
            self.writer.delete_term(Term::from_field_text(f.note_id, d.note_id));
        }
        let mut doc = TantivyDocument::default();
        doc.add_text(f.note_id, d.note_id);
        doc.add_text(f.encounter_id, d.encounter_id);
        doc.add_text(f.patient_id, d.patient_id);
        let secs = d.date_of_service.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
        doc.add_date(f.date_of_service, tantivy::DateTime::from_timestamp_secs(secs));
        if let Some(p) = d.provider_id {
            doc.add_text(f.provider_id, p);
        }
        if let Some(p) = d.payer {
            doc.add_text(f.payer, p);
        }
        if let Some(p) = d.note_type {
            doc.add_text(f.note_type, p);
        }
        doc.add_text(f.track, d.track);
        doc.add_text(f.risk_level, d.risk_level);
        doc.add_f64(f.risk_score, d.risk_score);
        for r in d.rules {
            doc.add_text(f.rules, r);
        }
        doc.add_text(f.text, d.text);
        self.writer.add_document(doc).map(|_| ()).map_err(|e| IndexError::Other(e.to_string()))
    }

    /// Give notes already in the index (from earlier runs) whose encounter
    /// this run rescored the encounter's new payer, track, risk and rules.
    fn refresh_rescored(&self) -> Result<(), IndexError> {
        let Some(m) = &self.rescored else { return Ok(()) };
        let m = m.lock().unwrap_or_else(|p| p.into_inner());
        let err = |e: tantivy::TantivyError| IndexError::Other(format!("{}: {e}", self.dir.display()));
        // The reader sees the last commit, not this run's uncommitted notes.
        let searcher = self.index.reader().map_err(err)?.searcher();
        let f = &self.fields;
        for (enc, new) in m.iter() {
            let q = TermQuery::new(Term::from_field_text(f.encounter_id, enc), IndexRecordOption::Basic);
            for addr in searcher.search(&q, &DocSetCollector).map_err(err)? {
                let old: TantivyDocument = searcher.doc(addr).map_err(err)?;
                let s = |fld: Field| old.get_first(fld).and_then(|v| v.as_str()).map(str::to_string);
                let Some(note_id) = s(f.note_id) else { continue };
                if new.notes.contains(&note_id) {
                    continue;
                }
                let Some(date) = old.get_first(f.date_of_service).and_then(|v| v.as_datetime()) else { continue };
                let Some(date) = chrono::DateTime::from_timestamp(date.into_timestamp_secs(), 0) else { continue };
                let rules: Vec<&str> = new.rules.iter().map(String::as_str).collect();
                let (patient, provider, note_type, text) =
                    (s(f.patient_id).unwrap_or_default(), s(f.provider_id), s(f.note_type), s(f.text).unwrap_or_default());
                self.add_doc(&NoteDoc {
                    note_id: &note_id,
                    encounter_id: enc,
                    patient_id: &patient,
                    date_of_service: date.date_naive(),
                    provider_id: provider.as_deref(),
                    payer: new.payer.as_deref(),
                    note_type: note_type.as_deref(),
                    track: &new.track,
                    risk_level: &new.risk_level,
                    risk_score: new.risk_score,
                    rules: &rules,
                    text: &text,
                })?;
            }
        }
        Ok(())
    }

    /// Commit once and wait for merges; restrict permissions.
    pub fn commit(mut self) -> Result<(), IndexError> {
        self.refresh_rescored()?;
        self.writer.commit().map_err(|e| IndexError::Other(e.to_string()))?;
        self.writer.wait_merging_threads().map_err(|e| IndexError::Other(e.to_string()))?;
        crate::report::restrict_tree(&self.dir).map_err(|e| IndexError::Other(format!("{}: {e}", self.dir.display())))?;
        Ok(())
    }
}
