//! Core records shared by every stage: what ingest produces and what the
//! extractors, rules and reports consume.
//!
//! Field names follow `../shared/spec/data-contract.md` exactly; users'
//! scripts depend on them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One exported clinical note, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// Unique id of the note.
    pub note_id: String,
    /// The visit the note documents (grouping key).
    pub encounter_id: String,
    /// Opaque patient id.
    pub patient_id: String,
    /// Date of the encounter.
    pub date_of_service: NaiveDate,
    /// The note body as exported (decoded to UTF-8).
    pub text: String,
    /// Rendering provider.
    pub provider_id: Option<String>,
    /// Provider credential as exported (MD, NP, LCSW, ...).
    pub provider_credential: Option<String>,
    /// Payer name as exported (normalized later through the alias dictionary).
    pub payer: Option<String>,
    /// Note type as exported.
    pub note_type: Option<String>,
    /// Two-digit CMS place-of-service code.
    pub place_of_service: Option<String>,
    /// Billed lines carried on the note record.
    pub claim_lines: Vec<ClaimLine>,
    /// Where the record came from (file path and 1-based line or CSV record).
    pub origin: Origin,
}

/// One billed line (from a note's `claim_lines` or from a claims file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimLine {
    /// CPT or HCPCS code, upper-cased and trimmed.
    pub code: String,
    /// Billed units.
    pub units: f64,
    /// Modifiers, upper-cased, e.g. `["25", "GT"]`.
    #[serde(default)]
    pub modifiers: Vec<String>,
    /// Diagnosis codes in dotted form (`F33.2`).
    #[serde(default)]
    pub icd10: Vec<String>,
    /// Two-digit POS code on the line, when given.
    #[serde(default)]
    pub place_of_service: Option<String>,
}

/// A claim line from a separate claims export, with its join key.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRecord {
    /// Join key to the notes.
    pub encounter_id: String,
    /// The line itself.
    pub line: ClaimLine,
    /// Where the record came from.
    pub origin: Origin,
}

/// Source position of a record, for rejects and error messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Path of the input file as given (or found under a given folder).
    pub file: String,
    /// 1-based line number (JSONL) or line where the CSV record starts.
    pub line: u64,
}

/// A record that could not be used, with why.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    /// Source file.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Which input: `notes` or `claims`.
    pub kind: &'static str,
    /// Short machine-readable reason code, e.g. `invalid_json`, `missing_field`.
    pub reason: String,
    /// Human-readable detail naming the field (never note text).
    pub detail: String,
    /// The raw record (lossy UTF-8), capped in size; `None` when too large.
    pub raw: Option<String>,
}
