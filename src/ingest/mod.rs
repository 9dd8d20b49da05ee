//! Input reading and validation: turns exported notes and claims files into
//! validated [`Note`]s and [`ClaimRecord`]s, and everything else into
//! [`Reject`]s.
//!
//! # Why this module is strict
//!
//! The inputs are protected health information exported by practice
//! systems, and the run's output is evidence in an audit. So ingest never
//! guesses and never drops a record silently: every record read is either
//! accepted or rejected with a reason, per file `read = accepted + rejected`
//! holds always (also when a file breaks off mid-way), and no error message
//! or detail ever contains note content — only file, line, field name and
//! expected type. (The `raw` copy on a reject does contain the record: the
//! caller writes rejects to an owner-only file.)
//!
//! Files are streamed: records are handed to a callback one at a time, a
//! single line or CSV record is held only up to
//! [`IngestOptions::max_line_bytes`], and gzip and UTF-16 are decoded on the
//! fly, so memory does not grow with file size.
//!
//! # Inputs
//!
//! [`expand_inputs`] turns paths into files: a file given explicitly is
//! always taken; a folder is walked recursively in byte-wise sorted order of
//! names, taking only `.jsonl`, `.ndjson`, `.csv` (each optionally `.gz`,
//! names case-insensitive), skipping names starting with `.`, and following
//! symbolic links with each real folder visited once (so a link loop ends).
//! A file reached twice (given twice, or inside two given folders) is read
//! once. The format of a file comes from its name; a file given explicitly
//! with another name (e.g. `export.txt`, `notes.gz`) is sniffed after
//! decompression: first non-whitespace byte `{` → JSON Lines, anything else
//! → CSV.
//!
//! # Records and counting
//!
//! - JSON Lines: one object per `\n`-terminated line; a trailing `\r` is
//!   removed (CRLF files), `\r` inside JSON strings is kept. Lines that are
//!   empty or whitespace-only are skipped and **not counted**. Every other
//!   line is one record, `Origin::line` is its 1-based line number.
//! - CSV: the first non-blank record is the header (field names trimmed,
//!   case-insensitive, BOM-tolerant); each following record is one record,
//!   `Origin::line` is the physical line where it starts (quoted fields may
//!   span lines). Blank lines are skipped and not counted. Unknown columns
//!   are ignored; notes CSV has no `claim_lines` column (a column of that
//!   name is ignored like any unknown one). A header that lacks a required
//!   column, or names a contract column twice, makes every data row a reject
//!   (`missing_field` / `duplicate_key`) so counts still reconcile;
//!   [`FileStats::header_problem`] says so once.
//! - A zero-byte file has no records, whatever its name (also `.gz`). A
//!   `.gz` file of more than zero bytes must be gzip all through: every
//!   member is read; anything else is an `io_error`.
//! - If reading fails mid-file (truncated or corrupt gzip, bad CRC, disk
//!   error), the records before are delivered, the rest of the file becomes
//!   **one** `io_error` reject (counted as one record read and rejected) at
//!   the line where reading stopped, and [`FileStats::io_error`] is set.
//!
//! # Reject reasons
//!
//! | reason | when |
//! |---|---|
//! | `invalid_json` | a JSON Lines record is not one JSON value: truncated object, trailing garbage after it, syntax error |
//! | `not_an_object` | valid JSON, but not an object (array, string, number, ...) |
//! | `duplicate_key` | an object has the same key twice (at any depth), or a CSV header names a contract column twice |
//! | `missing_field` | a required field is absent, or an empty / whitespace-only string; detail names it. Notes: `note_id`, `encounter_id`, `patient_id`, `date_of_service`, `text`. Claims: `encounter_id`, `code`, `units` |
//! | `wrong_type` | a field has the wrong JSON type (required `null` included; optional `null` means absent), e.g. `"units": "two"`, `"text": 5`, `"note_id": 123`, `"claim_lines": {}`; in claims CSV, a `units` cell that is not a finite number. Detail names field and expected type |
//! | `bad_date` | `date_of_service` is not a real `YYYY-MM-DD` date (see dates below) |
//! | `bad_value` | a note's optional field has the right type but an impossible value: `place_of_service` not a 1–2 digit code |
//! | `invalid_utf8` | the record is not UTF-8 and does not qualify for the Windows-1252 fallback |
//! | `oversized_note` | `text` is longer than [`IngestOptions::max_note_bytes`] (UTF-8 bytes) |
//! | `oversized_line` | a line / CSV record is longer than [`IngestOptions::max_line_bytes`]; it is skipped without being held, `raw` is `None` |
//! | `bad_claim_line` | a `claim_lines` item of a note is malformed (not an object, `code` missing or not a 5-character CPT/HCPCS code, `units` missing / not a number / negative / not finite, a modifier not 2 alphanumerics, an `icd10` entry not ICD-10-CM shaped, bad `place_of_service`), or in a claims file: bad code shape, negative units, bad modifier, ICD-10 or POS |
//! | `bad_csv_row` | a CSV data row has a different number of fields than the header, or a quoted field is never closed (that record then runs to the end of the file and counts as one) |
//! | `io_error` | reading the file failed part-way; the reject stands for the rest of the file |
//!
//! # Encoding policy
//!
//! - UTF-8 is expected. A UTF-8 BOM is stripped ([`DecodeCounters::bom_utf8`]).
//! - UTF-16LE/BE with a BOM is transcoded to UTF-8 on the fly, in 64 KiB
//!   chunks (no size cap, no whole-file buffering); BOM-less UTF-16 is
//!   recognised only when the first four bytes are `x 0 y 0` / `0 x 0 y`.
//!   Malformed UTF-16 becomes U+FFFD, counted in
//!   [`DecodeCounters::utf16_replacements`].
//! - A record (JSONL line, CSV record) that is not valid UTF-8 gets the
//!   Windows-1252 fallback when it looks like text: each byte that is not
//!   part of a valid UTF-8 sequence is decoded as Windows-1252 (valid UTF-8
//!   in the same record stays UTF-8, so a UTF-8 note with one pasted Word
//!   smart quote decodes right), provided every such byte is a defined
//!   Windows-1252 character (smart quotes, dashes, `…`, `€`, `™` in
//!   0x80–0x9F; Latin-1 letters and symbols 0xA0–0xFD), there are at most
//!   three of them in a row, and the record has no control bytes except tab,
//!   CR, LF, form feed. Counted per record in
//!   [`DecodeCounters::windows1252`]. Otherwise the record is rejected
//!   `invalid_utf8`. Rejected in particular: a byte undefined in
//!   Windows-1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D), 0xFE/0xFF (never in UTF-8,
//!   rare in English text, typical of binary and UTF-16 debris), runs of four
//!   or more such bytes, NUL and other controls. (Bytes that happen to form
//!   valid UTF-8, like Windows-1252 `Ã©`, are read as UTF-8: undecidable.)
//! - CRLF: the `\r` before `\n` ending a line/record is removed (counted in
//!   [`DecodeCounters::crlf`]); inside JSON strings and quoted CSV fields text
//!   is kept exactly as exported.
//!
//! # Field normalization
//!
//! - Ids (`note_id`, `encounter_id`, `patient_id`, `provider_id`) and the
//!   short optional strings are trimmed; empty after trimming = absent.
//!   `text` is kept exactly as exported (it must contain a non-whitespace
//!   character).
//! - `date_of_service`: `YYYY-MM-DD` (real calendar date, surrounding
//!   whitespace allowed). An ISO date-time (`2026-01-05T10:00:00`, with `T`
//!   or a space, optional seconds, fraction, `Z` or offset) is accepted and
//!   its date *as written* is taken, without time-zone conversion (the
//!   export's local date is the date of service); counted in
//!   [`DecodeCounters::dates_from_datetime`]. Anything else is `bad_date`.
//! - `place_of_service`: 1–2 digits, returned zero-padded (`"2"` → `"02"`).
//! - Codes: [`normalize_code`], modifiers [`normalize_modifier`], diagnoses
//!   [`normalize_icd10`]. In a note's `claim_lines`, `modifiers` and `icd10`
//!   are arrays of strings; a single string is also accepted and split on
//!   `;`, `,` and whitespace. In claims files they are such strings (JSON
//!   arrays of strings are also accepted). Empty pieces are dropped.
//! - `units`: a JSON number (claims CSV: the cell parsed as a number, `"2"`,
//!   `"2.0"`); must be finite and ≥ 0.

mod csv;
mod jsonl;
mod normalize;
mod source;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

pub use normalize::{normalize_code, normalize_icd10, normalize_modifier, normalize_pos, parse_date, split_list, DateForm};
pub use source::{format_from_name, Format};

use crate::model::{ClaimLine, ClaimRecord, Note, Origin, Reject};
use jsonl::JVal;
use source::{decode_record, raw_for_reject, Chunk, CsvSplitter, LineReader};

/// Reject reason codes (see the table in the module documentation).
pub mod reason {
    /// Not one JSON value (truncated, trailing garbage, syntax error).
    pub const INVALID_JSON: &str = "invalid_json";
    /// Valid JSON that is not an object.
    pub const NOT_AN_OBJECT: &str = "not_an_object";
    /// A key repeated in one object, or a contract column twice in a CSV header.
    pub const DUPLICATE_KEY: &str = "duplicate_key";
    /// A required field absent or blank.
    pub const MISSING_FIELD: &str = "missing_field";
    /// A field of the wrong type.
    pub const WRONG_TYPE: &str = "wrong_type";
    /// `date_of_service` not a real `YYYY-MM-DD` date.
    pub const BAD_DATE: &str = "bad_date";
    /// An optional note field with an impossible value.
    pub const BAD_VALUE: &str = "bad_value";
    /// Not UTF-8 and not plausibly Windows-1252.
    pub const INVALID_UTF8: &str = "invalid_utf8";
    /// Note text longer than `max_note_bytes`.
    pub const OVERSIZED_NOTE: &str = "oversized_note";
    /// Line or CSV record longer than `max_line_bytes`.
    pub const OVERSIZED_LINE: &str = "oversized_line";
    /// A malformed billed line.
    pub const BAD_CLAIM_LINE: &str = "bad_claim_line";
    /// A CSV row with the wrong number of fields.
    pub const BAD_CSV_ROW: &str = "bad_csv_row";
    /// Reading failed part-way; stands for the rest of the file.
    pub const IO_ERROR: &str = "io_error";
    /// Every reason code, for summaries and tests.
    pub const ALL: &[&str] = &[
        INVALID_JSON,
        NOT_AN_OBJECT,
        DUPLICATE_KEY,
        MISSING_FIELD,
        WRONG_TYPE,
        BAD_DATE,
        BAD_VALUE,
        INVALID_UTF8,
        OVERSIZED_NOTE,
        OVERSIZED_LINE,
        BAD_CLAIM_LINE,
        BAD_CSV_ROW,
        IO_ERROR,
    ];
}

/// Limits for one read.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest accepted note `text`, in UTF-8 bytes (default 5 MiB).
    pub max_note_bytes: usize,
    /// Largest line (JSONL) or record (CSV) held in memory, in bytes after
    /// decompression (default [`line_cap_for`] of `max_note_bytes`: 31 MiB).
    /// Longer ones are skipped without being held and rejected.
    pub max_line_bytes: usize,
}

impl IngestOptions {
    /// Options for a note-size limit, with the line cap derived from it by
    /// [`line_cap_for`] (what `scan --max-note-bytes` sets).
    pub fn with_max_note_bytes(max_note_bytes: usize) -> Self {
        IngestOptions { max_note_bytes, max_line_bytes: line_cap_for(max_note_bytes) }
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions::with_max_note_bytes(5 * 1024 * 1024)
    }
}

/// The line cap that goes with a note-size limit: 6 × `max_note_bytes` + 1 MiB.
///
/// Why derived and not fixed: a fixed cap either holds far more than any
/// acceptable record needs (memory), or, when the user raises
/// `--max-note-bytes`, rejects acceptable notes as `oversized_line`. Six times
/// is the worst case of JSON escaping (a control byte written `\u0001`;
/// `ensure_ascii` exports write `é` as 6 bytes for 2), so a note whose `text`
/// is within the limit is never cut off by the line cap; the 1 MiB is room
/// for the other fields and `claim_lines`. A line longer than this cannot
/// hold an acceptable note, so it is skipped unread.
pub fn line_cap_for(max_note_bytes: usize) -> usize {
    max_note_bytes.saturating_mul(6).saturating_add(1024 * 1024)
}

/// One outcome of reading a notes file.
#[derive(Debug, Clone)]
pub enum NoteEvent {
    /// A valid note.
    Note(Note),
    /// A record that could not be used.
    Reject(Reject),
}

/// One outcome of reading a claims file.
#[derive(Debug, Clone)]
pub enum ClaimEvent {
    /// A valid claim line.
    Claim(ClaimRecord),
    /// A record that could not be used.
    Reject(Reject),
}

/// How a file's bytes were decoded (for the run summary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeCounters {
    /// The file was gzip (all members read).
    pub gzip: bool,
    /// A UTF-8 byte-order mark was stripped.
    pub bom_utf8: bool,
    /// The file was UTF-16 and transcoded (`"UTF-16LE"`, `"UTF-16BE"`, or
    /// the same with `" (no BOM)"`).
    pub utf16: Option<&'static str>,
    /// Chunks of UTF-16 input in which malformed UTF-16 was replaced by U+FFFD.
    pub utf16_replacements: u64,
    /// Records decoded as Windows-1252 because they were not UTF-8.
    pub windows1252: u64,
    /// Lines/records that ended in CRLF.
    pub crlf: u64,
    /// Dates of service taken from an ISO date-time.
    pub dates_from_datetime: u64,
}

/// Counts for one file. Always `read == accepted + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    /// Records read (non-blank JSONL lines; CSV data rows; plus one for an
    /// I/O failure standing for the rest of the file).
    pub read: u64,
    /// Records delivered as valid.
    pub accepted: u64,
    /// Records delivered as rejects.
    pub rejected: u64,
    /// Bytes parsed, after decompression and transcoding.
    pub bytes: u64,
    /// Format the file was parsed as.
    pub format: Option<Format>,
    /// How the bytes were decoded.
    pub decoded: DecodeCounters,
    /// Set when reading failed part-way (the message names no content).
    pub io_error: Option<String>,
    /// Set when a CSV header made every row unusable (missing or repeated
    /// contract column), e.g. "`note_id`: column not in the CSV header".
    pub header_problem: Option<String>,
}

/// Failure to use an input path at all (as opposed to a bad record).
#[derive(Debug)]
pub enum IngestError {
    /// The path does not exist (or a link points nowhere).
    NotFound(PathBuf),
    /// The path could not be opened or listed.
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        source: io::Error,
    },
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngestError::NotFound(p) => write!(f, "{}: no such file or folder", p.display()),
            IngestError::Io { path, source } => write!(f, "{}: {}", path.display(), source),
        }
    }
}

impl std::error::Error for IngestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IngestError::Io { source, .. } => Some(source),
            IngestError::NotFound(_) => None,
        }
    }
}

fn io_err(path: &Path, e: io::Error) -> IngestError {
    if e.kind() == io::ErrorKind::NotFound {
        IngestError::NotFound(path.to_path_buf())
    } else {
        IngestError::Io { path: path.to_path_buf(), source: e }
    }
}

/// True for names a folder walk takes: `.jsonl`, `.ndjson`, `.csv`, each
/// optionally `.gz`, not hidden.
fn walk_takes(name: &std::ffi::OsStr, path: &Path) -> bool {
    !name.to_string_lossy().starts_with('.') && format_from_name(path).is_some()
}

/// Expand paths (files and folders) into the list of input files.
///
/// Order: the paths in the order given; each folder's files in byte-wise
/// sorted order of their names, recursively (a sub-folder's files where the
/// sub-folder's name sorts). Folders yield only supported, non-hidden files;
/// hidden sub-folders are skipped; symbolic links are followed, each real
/// folder walked once (loops end). A file met twice is listed once. A
/// missing or unreadable path, given or found, is an `Err` naming it.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    let mut seen_files = HashSet::new();
    let mut seen_dirs = HashSet::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| io_err(p, e))?;
        if meta.is_dir() {
            walk(p, &mut out, &mut seen_files, &mut seen_dirs)?;
        } else {
            let key = std::fs::canonicalize(p).map_err(|e| io_err(p, e))?;
            if seen_files.insert(key) {
                out.push(p.clone());
            }
        }
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    seen_files: &mut HashSet<PathBuf>,
    seen_dirs: &mut HashSet<PathBuf>,
) -> Result<(), IngestError> {
    let real = std::fs::canonicalize(dir).map_err(|e| io_err(dir, e))?;
    if !seen_dirs.insert(real) {
        return Ok(());
    }
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let e = e.map_err(|e| io_err(dir, e))?;
        entries.push((e.file_name(), e.path()));
    }
    entries.sort_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    for (name, path) in entries {
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| io_err(&path, e))?;
        if meta.is_dir() {
            walk(&path, out, seen_files, seen_dirs)?;
        } else if meta.is_file() && walk_takes(&name, &path) {
            let key = std::fs::canonicalize(&path).map_err(|e| io_err(&path, e))?;
            if seen_files.insert(key) {
                out.push(path);
            }
        }
    }
    Ok(())
}

/// A reject reason with its detail (field names and types only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bad {
    pub reason: &'static str,
    pub detail: String,
}

impl Bad {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Bad { reason, detail: detail.into() }
    }
}

/// A field value as found, common to JSON and CSV.
#[derive(Debug, Clone, Default)]
pub(crate) enum FV<'a> {
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
    Num(f64),
    Arr(Vec<JVal>),
    Other(&'static str),
}

impl FV<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            FV::Absent => "nothing",
            FV::Null => "null",
            FV::Str(_) => "string",
            FV::Num(_) => "number",
            FV::Arr(_) => "array",
            FV::Other(t) => t,
        }
    }
}

/// The contract's note fields as found in one record.
#[derive(Debug, Default)]
pub(crate) struct NoteFields<'a> {
    pub note_id: FV<'a>,
    pub encounter_id: FV<'a>,
    pub patient_id: FV<'a>,
    pub date_of_service: FV<'a>,
    pub text: FV<'a>,
    pub provider_id: FV<'a>,
    pub provider_credential: FV<'a>,
    pub payer: FV<'a>,
    pub note_type: FV<'a>,
    pub place_of_service: FV<'a>,
    pub claim_lines: Option<JVal>,
}

/// The contract's claims-file fields as found in one record.
#[derive(Debug, Default)]
pub(crate) struct ClaimFields<'a> {
    pub encounter_id: FV<'a>,
    pub code: FV<'a>,
    pub units: FV<'a>,
    pub modifiers: FV<'a>,
    pub icd10: FV<'a>,
    pub place_of_service: FV<'a>,
}

const NOTE_COLS: &[&str] = &[
    "note_id",
    "encounter_id",
    "patient_id",
    "date_of_service",
    "text",
    "provider_id",
    "provider_credential",
    "payer",
    "note_type",
    "place_of_service",
];
const NOTE_REQUIRED: &[&str] = &["note_id", "encounter_id", "patient_id", "date_of_service", "text"];
const CLAIM_COLS: &[&str] = &["encounter_id", "code", "units", "modifiers", "icd10", "place_of_service"];
const CLAIM_REQUIRED: &[&str] = &["encounter_id", "code", "units"];

fn missing(field: &str) -> Bad {
    Bad::new(reason::MISSING_FIELD, format!("`{field}` is missing or blank"))
}

fn wrong(field: &str, expected: &str, found: &FV<'_>) -> Bad {
    Bad::new(reason::WRONG_TYPE, format!("`{field}`: expected {expected}, found {}", found.type_name()))
}

/// Required string, trimmed unless `keep`.
fn req_str(field: &str, v: FV<'_>, keep: bool) -> Result<String, Bad> {
    match v {
        FV::Absent => Err(missing(field)),
        FV::Str(s) => {
            if s.trim().is_empty() {
                Err(missing(field))
            } else if keep {
                Ok(s.into_owned())
            } else {
                Ok(trim_owned(s))
            }
        }
        other => Err(wrong(field, "a string", &other)),
    }
}

fn trim_owned(s: Cow<'_, str>) -> String {
    let t = s.trim();
    if t.len() == s.len() {
        s.into_owned()
    } else {
        t.to_owned()
    }
}

/// Optional string: absent, null or blank → `None`; trimmed.
fn opt_str(field: &str, v: FV<'_>) -> Result<Option<String>, Bad> {
    match v {
        FV::Absent | FV::Null => Ok(None),
        FV::Str(s) => Ok(if s.trim().is_empty() { None } else { Some(trim_owned(s)) }),
        other => Err(wrong(field, "a string", &other)),
    }
}

/// Validate a note's fields into a [`Note`].
pub(crate) fn finish_note(f: NoteFields<'_>, opts: &IngestOptions, origin: Origin, dec: &mut DecodeCounters) -> Result<Note, Bad> {
    let note_id = req_str("note_id", f.note_id, false)?;
    let encounter_id = req_str("encounter_id", f.encounter_id, false)?;
    let patient_id = req_str("patient_id", f.patient_id, false)?;
    let dos = req_str("date_of_service", f.date_of_service, false)?;
    let (date_of_service, form) =
        parse_date(&dos).ok_or_else(|| Bad::new(reason::BAD_DATE, "`date_of_service`: expected a real date as YYYY-MM-DD"))?;
    let text = req_str("text", f.text, true)?;
    if text.len() > opts.max_note_bytes {
        return Err(Bad::new(reason::OVERSIZED_NOTE, format!("`text` is {} bytes, limit {}", text.len(), opts.max_note_bytes)));
    }
    let provider_id = opt_str("provider_id", f.provider_id)?;
    let provider_credential = opt_str("provider_credential", f.provider_credential)?;
    let payer = opt_str("payer", f.payer)?;
    let note_type = opt_str("note_type", f.note_type)?;
    let place_of_service = match opt_str("place_of_service", f.place_of_service)? {
        None => None,
        Some(p) => Some(
            normalize_pos(&p)
                .ok_or_else(|| Bad::new(reason::BAD_VALUE, "`place_of_service`: expected a two-digit CMS place-of-service code"))?,
        ),
    };
    let claim_lines = match f.claim_lines {
        None | Some(JVal::Null) => Vec::new(),
        Some(JVal::Arr(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                out.push(note_claim_line(i, item)?);
            }
            out
        }
        Some(other) => return Err(Bad::new(reason::WRONG_TYPE, format!("`claim_lines`: expected an array, found {}", other.type_name()))),
    };
    if form == DateForm::DateTime {
        dec.dates_from_datetime += 1;
    }
    Ok(Note {
        note_id,
        encounter_id,
        patient_id,
        date_of_service,
        text,
        provider_id,
        provider_credential,
        payer,
        note_type,
        place_of_service,
        claim_lines,
        origin,
    })
}

fn bad_line(detail: String) -> Bad {
    Bad::new(reason::BAD_CLAIM_LINE, detail)
}

/// One item of a note's `claim_lines`.
fn note_claim_line(i: usize, item: JVal) -> Result<ClaimLine, Bad> {
    let obj = match item {
        JVal::Obj(o) => o,
        other => return Err(bad_line(format!("claim_lines[{i}]: expected an object, found {}", other.type_name()))),
    };
    let (mut code, mut units, mut mods, mut icd, mut pos) = (FV::Absent, FV::Absent, FV::Absent, FV::Absent, FV::Absent);
    for (k, v) in obj.entries {
        match k.as_str() {
            "code" => code = v.into_fv(),
            "units" => units = v.into_fv(),
            "modifiers" => mods = v.into_fv(),
            "icd10" => icd = v.into_fv(),
            "place_of_service" => pos = v.into_fv(),
            _ => {}
        }
    }
    let at = |field: &str| format!("claim_lines[{i}].{field}");
    claim_line(code, units, mods, icd, pos, false, &at).map_err(|b| bad_line(b.detail))
}

/// Shared validation of a billed line. `csv` allows `units` as a numeric
/// string. `at(field)` names the field in details. Reasons are those of a
/// claims-file record; note claim lines map them all to `bad_claim_line`.
fn claim_line(
    code: FV<'_>,
    units: FV<'_>,
    mods: FV<'_>,
    icd: FV<'_>,
    pos: FV<'_>,
    csv: bool,
    at: &dyn Fn(&str) -> String,
) -> Result<ClaimLine, Bad> {
    let code = req_str(&at("code"), code, false)?;
    let code = normalize_code(&code).ok_or_else(|| bad_line(format!("{}: expected a 5-character CPT/HCPCS code", at("code"))))?;
    let units = match units {
        FV::Absent | FV::Null => return Err(missing(&at("units"))),
        FV::Num(n) => n,
        FV::Str(s) if csv => {
            let t = s.trim();
            if t.is_empty() {
                return Err(missing(&at("units")));
            }
            match t.parse::<f64>() {
                Ok(n) if n.is_finite() => n,
                _ => return Err(Bad::new(reason::WRONG_TYPE, format!("{}: expected a number", at("units")))),
            }
        }
        other => return Err(wrong(&at("units"), "a number", &other)),
    };
    if !units.is_finite() || units < 0.0 {
        return Err(bad_line(format!("{}: expected a non-negative number", at("units"))));
    }
    let modifiers = list(&at("modifiers"), mods, normalize_modifier, "a 2-character modifier")?;
    let icd10 = list(&at("icd10"), icd, normalize_icd10, "an ICD-10-CM code")?;
    let place_of_service = match opt_str(&at("place_of_service"), pos)? {
        None => None,
        Some(p) => Some(
            normalize_pos(&p)
                .ok_or_else(|| bad_line(format!("{}: expected a two-digit CMS place-of-service code", at("place_of_service"))))?,
        ),
    };
    Ok(ClaimLine { code, units, modifiers, icd10, place_of_service })
}

/// A list field: array of strings, or one string split on `;`, `,`,
/// whitespace. Each piece normalized by `norm`.
fn list(field: &str, v: FV<'_>, norm: fn(&str) -> Option<String>, what: &str) -> Result<Vec<String>, Bad> {
    let mut out = Vec::new();
    let mut push = |piece: &str, idx: String| -> Result<(), Bad> {
        match norm(piece) {
            Some(n) => {
                out.push(n);
                Ok(())
            }
            None => Err(bad_line(format!("{field}{idx}: expected {what}"))),
        }
    };
    match v {
        FV::Absent | FV::Null => {}
        FV::Str(s) => {
            for (k, piece) in split_list(&s).enumerate() {
                push(piece, format!(" item {k}"))?;
            }
        }
        FV::Arr(items) => {
            for (k, item) in items.into_iter().enumerate() {
                match item {
                    JVal::Str(s) => {
                        for piece in split_list(&s) {
                            push(piece, format!("[{k}]"))?;
                        }
                    }
                    other => {
                        return Err(Bad::new(reason::WRONG_TYPE, format!("{field}[{k}]: expected a string, found {}", other.type_name())))
                    }
                }
            }
        }
        other => {
            return Err(wrong(field, "an array of strings or a string", &other));
        }
    }
    Ok(out)
}

/// Validate a claims-file record into a [`ClaimRecord`].
pub(crate) fn finish_claim(f: ClaimFields<'_>, csv: bool, origin: Origin) -> Result<ClaimRecord, Bad> {
    let encounter_id = req_str("encounter_id", f.encounter_id, false)?;
    let at = |field: &str| format!("`{field}`");
    let line = claim_line(f.code, f.units, f.modifiers, f.icd10, f.place_of_service, csv, &at)?;
    Ok(ClaimRecord { encounter_id, line, origin })
}

/// Which input a reader is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Notes,
    Claims,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Notes => "notes",
            Kind::Claims => "claims",
        }
    }
}

/// Stream the notes of one file (JSON Lines or CSV, plain or gzip).
///
/// Each record becomes exactly one event: [`NoteEvent::Note`] or
/// [`NoteEvent::Reject`]. `Err` only when the file cannot be opened (no
/// event was delivered then); an I/O failure part-way is an `io_error`
/// reject plus [`FileStats::io_error`], with `Ok`.
pub fn read_notes(path: &Path, opts: &IngestOptions, f: &mut dyn FnMut(NoteEvent)) -> Result<FileStats, IngestError> {
    read_file(path, opts, Kind::Notes, &mut |ev| match ev {
        Ev::Note(n) => f(NoteEvent::Note(n)),
        Ev::Claim(_) => unreachable!("notes reader yields notes"),
        Ev::Reject(r) => f(NoteEvent::Reject(r)),
    })
}

/// Stream the claim lines of one claims file (CSV or JSON Lines, plain or
/// gzip). Same contract as [`read_notes`].
pub fn read_claims(path: &Path, opts: &IngestOptions, f: &mut dyn FnMut(ClaimEvent)) -> Result<FileStats, IngestError> {
    read_file(path, opts, Kind::Claims, &mut |ev| match ev {
        Ev::Claim(c) => f(ClaimEvent::Claim(c)),
        Ev::Note(_) => unreachable!("claims reader yields claims"),
        Ev::Reject(r) => f(ClaimEvent::Reject(r)),
    })
}

enum Ev {
    Note(Note),
    Claim(ClaimRecord),
    Reject(Reject),
}

/// Per-file state shared by both formats.
struct Run<'a> {
    file: String,
    kind: Kind,
    opts: &'a IngestOptions,
    stats: FileStats,
    emit: &'a mut dyn FnMut(Ev),
}

impl Run<'_> {
    fn reject(&mut self, line: u64, bad: Bad, raw: Option<String>) {
        self.stats.read += 1;
        self.stats.rejected += 1;
        (self.emit)(Ev::Reject(Reject {
            file: self.file.clone(),
            line,
            kind: self.kind.label(),
            reason: bad.reason.to_owned(),
            detail: bad.detail,
            raw,
        }));
    }

    fn accept(&mut self, ev: Ev) {
        self.stats.read += 1;
        self.stats.accepted += 1;
        (self.emit)(ev);
    }

    fn origin(&self, line: u64) -> Origin {
        Origin { file: self.file.clone(), line }
    }

    fn io_failure(&mut self, line: u64, e: &io::Error, partial: &[u8]) {
        let msg = format!("read failed at line {line}: {}", io_label(e));
        self.stats.io_error = Some(msg.clone());
        let raw = if partial.is_empty() { None } else { raw_for_reject(partial) };
        self.reject(line, Bad::new(reason::IO_ERROR, format!("{msg}; the rest of the file was not read")), raw);
    }

    fn oversized(&mut self, line: u64, len: u64) {
        let detail = format!(
            "record is {len} bytes, over the line limit of {} bytes (6 x the note limit + 1 MiB); skipped unread",
            self.opts.max_line_bytes
        );
        self.reject(line, Bad::new(reason::OVERSIZED_LINE, detail), None);
    }
}

/// Describe an I/O error without echoing anything read. Decompressor and OS
/// messages are fixed strings; we still keep only the kind plus that text.
fn io_label(e: &io::Error) -> String {
    let m = e.to_string();
    let m: String = m.chars().take(120).collect();
    format!("{:?}: {m}", e.kind())
}

fn read_file(path: &Path, opts: &IngestOptions, kind: Kind, emit: &mut dyn FnMut(Ev)) -> Result<FileStats, IngestError> {
    let mut stats = FileStats::default();
    let src = source::open_source(path, &mut stats.decoded).map_err(|e| io_err(path, e))?;
    stats.format = Some(src.format);
    let repl = src.utf16_replacements.clone();
    let mut run = Run { file: path.to_string_lossy().into_owned(), kind, opts, stats, emit };
    match src.format {
        Format::Jsonl => read_jsonl(src.reader, &mut run),
        Format::Csv => read_csv(src.reader, &mut run),
    }
    if let Some(r) = repl {
        run.stats.decoded.utf16_replacements = r.get();
    }
    debug_assert_eq!(run.stats.read, run.stats.accepted + run.stats.rejected, "counts reconcile");
    Ok(run.stats)
}

fn read_jsonl(reader: Box<dyn io::BufRead>, run: &mut Run<'_>) {
    let mut lr = LineReader::new(reader);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        line += 1;
        let res = lr.next(&mut buf, run.opts.max_line_bytes);
        run.stats.bytes = lr.bytes;
        match res {
            Err(e) => {
                run.io_failure(line, &e, &buf);
                return;
            }
            Ok(Chunk::Eof) => return,
            Ok(Chunk::Oversized { len }) => run.oversized(line, len),
            Ok(Chunk::Data { crlf, .. }) => {
                if crlf {
                    run.stats.decoded.crlf += 1;
                }
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                jsonl_record(run, line, &buf);
            }
        }
    }
}

fn jsonl_record(run: &mut Run<'_>, line: u64, bytes: &[u8]) {
    let text = match decode_record(bytes) {
        Ok((t, w1252)) => {
            if w1252 {
                run.stats.decoded.windows1252 += 1;
            }
            t
        }
        Err(()) => {
            return run.reject(line, Bad::new(reason::INVALID_UTF8, "record is neither UTF-8 nor Windows-1252 text"), raw_for_reject(bytes))
        }
    };
    let result = jsonl::parse_value(&text).and_then(|v| match run.kind {
        Kind::Notes => jsonl::note_fields(v).and_then(|f| finish_note(f, run.opts, run.origin(line), &mut run.stats.decoded).map(Ev::Note)),
        Kind::Claims => jsonl::claim_fields(v).and_then(|f| finish_claim(f, false, run.origin(line)).map(Ev::Claim)),
    });
    match result {
        Ok(ev) => run.accept(ev),
        Err(bad) => run.reject(line, bad, raw_for_reject(bytes)),
    }
}

fn read_csv(reader: Box<dyn io::BufRead>, run: &mut Run<'_>) {
    let (names, required) = match run.kind {
        Kind::Notes => (NOTE_COLS, NOTE_REQUIRED),
        Kind::Claims => (CLAIM_COLS, CLAIM_REQUIRED),
    };
    let mut sp = CsvSplitter::new(reader);
    let mut buf = Vec::new();
    let mut header: Option<csv::Header> = None;
    loop {
        let (line, res) = sp.next(&mut buf, run.opts.max_line_bytes);
        run.stats.bytes = sp.bytes;
        match res {
            Err(e) => {
                run.io_failure(line, &e, &buf);
                return;
            }
            Ok(Chunk::Eof) => return,
            Ok(Chunk::Oversized { len }) => {
                // An oversized header is unusable; treat it as a record so it
                // is reported, and keep looking for a header.
                run.oversized(line, len);
            }
            Ok(Chunk::Data { crlf, open_quote }) => {
                if crlf {
                    run.stats.decoded.crlf += 1;
                }
                if buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if open_quote {
                    run.reject(
                        line,
                        Bad::new(reason::BAD_CSV_ROW, "quoted field never closed; the record runs to the end of the file"),
                        raw_for_reject(&buf),
                    );
                    continue;
                }
                let (text, w1252) = match decode_record(&buf) {
                    Ok(x) => x,
                    Err(()) => {
                        run.reject(
                            line,
                            Bad::new(reason::INVALID_UTF8, "record is neither UTF-8 nor Windows-1252 text"),
                            raw_for_reject(&buf),
                        );
                        continue;
                    }
                };
                if w1252 {
                    run.stats.decoded.windows1252 += 1;
                }
                let fields = csv::split_fields(&text);
                let Some(h) = &header else {
                    let h = csv::Header::new(&fields, names, required);
                    if let Some(p) = &h.problem {
                        run.stats.header_problem = Some(p.detail.clone());
                    }
                    header = Some(h);
                    continue;
                };
                let result = csv_record(run, h, fields, line);
                match result {
                    Ok(ev) => run.accept(ev),
                    Err(bad) => run.reject(line, bad, raw_for_reject(&buf)),
                }
            }
        }
    }
}

fn csv_record(run: &mut Run<'_>, h: &csv::Header, fields: Vec<Cow<'_, str>>, line: u64) -> Result<Ev, Bad> {
    if fields.len() != h.width {
        return Err(Bad::new(reason::BAD_CSV_ROW, format!("row has {} fields, header has {}", fields.len(), h.width)));
    }
    if let Some(p) = &h.problem {
        return Err(p.clone());
    }
    let mut cells: Vec<Option<Cow<'_, str>>> = fields.into_iter().map(Some).collect();
    let mut take = |i: usize| -> FV<'_> {
        match h.cols[i].and_then(|c| cells[c].take()) {
            Some(s) => FV::Str(s),
            None => FV::Absent,
        }
    };
    match run.kind {
        Kind::Notes => {
            let f = NoteFields {
                note_id: take(0),
                encounter_id: take(1),
                patient_id: take(2),
                date_of_service: take(3),
                text: take(4),
                provider_id: take(5),
                provider_credential: take(6),
                payer: take(7),
                note_type: take(8),
                place_of_service: take(9),
                claim_lines: None,
            };
            finish_note(f, run.opts, run.origin(line), &mut run.stats.decoded).map(Ev::Note)
        }
        Kind::Claims => {
            let f = ClaimFields {
                encounter_id: take(0),
                code: take(1),
                units: take(2),
                modifiers: take(3),
                icd10: take(4),
                place_of_service: take(5),
            };
            finish_claim(f, true, run.origin(line)).map(Ev::Claim)
        }
    }
}

/// Cheap cross-file duplicate `note_id` detector for the caller.
///
/// Keeps a 128-bit hash of each id (two independent SipHash passes) with the
/// index of the first occurrence's file and its line: about 40 bytes per
/// note in a hash map, whatever the id length. A false "duplicate" needs a
/// 128-bit collision (negligible at any realistic volume).
#[derive(Debug, Default)]
pub struct DuplicateIds {
    files: Vec<String>,
    file_index: HashMap<String, u32>,
    first: HashMap<u128, (u32, u64)>,
}

impl DuplicateIds {
    /// An empty detector.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record `id` seen at `origin`. Returns the origin of the first
    /// occurrence when `id` was seen before.
    pub fn check(&mut self, id: &str, origin: &Origin) -> Option<Origin> {
        let h = hash128(id);
        let fi = match self.file_index.get(&origin.file) {
            Some(&i) => i,
            None => {
                let i = self.files.len() as u32;
                self.files.push(origin.file.clone());
                self.file_index.insert(origin.file.clone(), i);
                i
            }
        };
        match self.first.entry(h) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let (f, line) = *e.get();
                Some(Origin { file: self.files[f as usize].clone(), line })
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((fi, origin.line));
                None
            }
        }
    }

    /// Number of distinct ids seen.
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// True when no id was seen.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }
}

fn hash128(s: &str) -> u128 {
    // `DefaultHasher::new()` is SipHash with fixed keys: deterministic within
    // and across runs. Two salted passes give 128 independent-enough bits.
    let mut a = std::collections::hash_map::DefaultHasher::new();
    let mut b = std::collections::hash_map::DefaultHasher::new();
    0x6b65_7461_7564_6974u64.hash(&mut b);
    s.hash(&mut a);
    s.hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}
