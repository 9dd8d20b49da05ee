//! The tantivy index of every note: one document per note with the note's
//! metadata, its encounter's risk fields and rule ids, and the text
//! (tokenized with positions for phrase queries, stored for snippets).
//!
//! Re-running on the same index replaces notes by `note_id`. The writer uses
//! its own threads (bounded by `--threads`) and commits once per run, so a
//! search during a scan sees the last committed state and an interrupted run
//! leaves the index at its previous commit.

use std::path::Path;

use tantivy::schema::{Field, Schema, FAST, INDEXED, STORED, STRING, TEXT};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};

/// Index schema version; a different stored version means "rebuild".
pub const SCHEMA_VERSION: &str = "1";

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
        provider_id: b.add_text_field("provider_id", STRING | STORED),
        payer: b.add_text_field("payer", STRING | STORED),
        note_type: b.add_text_field("note_type", STRING | STORED),
        track: b.add_text_field("track", STRING | STORED),
        risk_level: b.add_text_field("risk_level", STRING | STORED),
        risk_score: b.add_f64_field("risk_score", INDEXED | STORED | FAST),
        rules: b.add_text_field("rules", STRING | STORED),
        text: b.add_text_field("text", TEXT | STORED),
    };
    (b.build(), f)
}

/// Errors opening or writing the index.
#[derive(Debug)]
pub enum IndexError {
    /// Another process holds the writer lock.
    Locked(String),
    /// Built by an incompatible ketaudit version.
    Incompatible(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexError::Locked(p) => write!(f, "index {p} is locked by another ketaudit run (tantivy writer lock .tantivy-writer.lock); wait for it to finish"),
            IndexError::Incompatible(p) => write!(f, "index {p} was built by an incompatible ketaudit version; delete the folder and re-run the scan to rebuild it"),
            IndexError::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for IndexError {}

/// Open (or create) the index at `dir`.
pub fn open(dir: &Path) -> Result<(Index, Fields), IndexError> {
    let (schema, fields) = schema();
    crate::report::create_private_dir(dir).map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
    let has_meta = dir.join("meta.json").exists();
    let index = if has_meta {
        let idx = Index::open_in_dir(dir).map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
        if idx.schema() != schema || std::fs::read_to_string(dir.join("ketaudit-index-version")).ok().as_deref().map(str::trim) != Some(SCHEMA_VERSION) {
            return Err(IndexError::Incompatible(dir.display().to_string()));
        }
        idx
    } else {
        let idx = Index::create_in_dir(dir, schema).map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
        crate::report::write_atomic(&dir.join("ketaudit-index-version"), |w| std::io::Write::write_all(w, SCHEMA_VERSION.as_bytes()))
            .map_err(|e| IndexError::Other(format!("{}: {e}", dir.display())))?;
        idx
    };
    Ok((index, fields))
}

/// A writer that replaces notes by id.
pub struct NoteIndexWriter {
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    dir: std::path::PathBuf,
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

impl NoteIndexWriter {
    /// Start a writer with `threads` indexing threads.
    pub fn new(dir: &Path, threads: usize) -> Result<Self, IndexError> {
        let (index, fields) = open(dir)?;
        let threads = threads.clamp(1, 8);
        let writer = index.writer_with_num_threads(threads, 64_000_000 * threads).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => IndexError::Locked(dir.display().to_string()),
            e => IndexError::Other(format!("{}: {e}", dir.display())),
        })?;
        Ok(NoteIndexWriter {
            writer,
            fields,
            dir: dir.to_path_buf(),
        })
    }

    /// Add (or replace) a note.
    pub fn add(&self, d: &NoteDoc<'_>) -> Result<(), IndexError> {
        let f = &self.fields;
        self.writer.delete_term(Term::from_field_text(f.note_id, d.note_id));
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

    /// Commit once and wait for merges; restrict permissions.
    pub fn commit(mut self) -> Result<(), IndexError> {
        self.writer.commit().map_err(|e| IndexError::Other(e.to_string()))?;
        self.writer.wait_merging_threads().map_err(|e| IndexError::Other(e.to_string()))?;
        crate::report::restrict_tree(&self.dir).map_err(|e| IndexError::Other(format!("{}: {e}", self.dir.display())))?;
        Ok(())
    }
}
