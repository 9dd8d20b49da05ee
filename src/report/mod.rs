//! Reports: the encounter and findings Parquet files (columns and types of
//! `../shared/spec/data-contract.md`), the rejects file, and safe file
//! creation.
//!
//! Every output is written to a temporary name in the output folder, synced,
//! and renamed over its final name only when complete, so an interrupted run
//! never leaves a half-written report under a final name. Files are created
//! owner-only (0600) whatever the umask.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use crate::encounter::{Encounter, EncounterFacts, Track};
use crate::rules::{Finding, Severity};

pub mod spill;

use spill::{Dec, Enc};

/// One encounter's report row, owned and compact: what stays in memory of
/// an encounter after it is scored (its notes and evidence are dropped).
#[derive(Debug, Clone)]
pub struct EncounterRow {
    /// Encounter id.
    pub encounter_id: String,
    /// Patient id.
    pub patient_id: String,
    /// Date of service.
    pub date_of_service: chrono::NaiveDate,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Canonical payer.
    pub payer: Option<String>,
    /// Track.
    pub track: Track,
    /// Notes in the encounter.
    pub note_count: u32,
    /// Risk score.
    pub risk_score: f64,
    /// Risk level.
    pub risk_level: &'static str,
    /// Rule ids that fired (distinct, sorted).
    pub rules: Vec<&'static str>,
    /// Severities of the findings (to rescore when a late finding is added).
    pub severities: Vec<crate::rules::Severity>,
    /// Evidence columns.
    pub antidepressant_trials: u32,
    /// See the data contract.
    pub adequate_trials: u32,
    /// See the data contract.
    pub vague_trial_history: bool,
    /// See the data contract.
    pub pre_dose_bp: bool,
    /// See the data contract.
    pub post_dose_bp: bool,
    /// See the data contract.
    pub bp_reading_count: u32,
    /// See the data contract.
    pub monitoring_minutes: Option<u32>,
    /// See the data contract.
    pub discharge_criteria_documented: bool,
    /// See the data contract.
    pub rems_documented: bool,
    /// See the data contract.
    pub prior_auth_documented: bool,
    /// See the data contract.
    pub dose_mg: Option<f64>,
    /// See the data contract.
    pub billed_drug_units: Option<u32>,
    /// See the data contract.
    pub units_match_dose: Option<bool>,
    /// See the data contract.
    pub icd10_codes: Vec<String>,
    /// See the data contract.
    pub icd10_specific: Option<bool>,
    /// See the data contract.
    pub separate_em_documentation: Option<bool>,
}

impl EncounterRow {
    /// The row of a scored encounter.
    pub fn new(enc: &Encounter, facts: &EncounterFacts, findings: &[Finding], settings: &crate::rules::RuleSettings) -> Self {
        let risk_score = settings.score(findings);
        let mut rules: Vec<&'static str> = findings.iter().map(|x| x.rule_id).collect();
        rules.sort();
        rules.dedup();
        EncounterRow {
            encounter_id: enc.encounter_id.clone(),
            patient_id: enc.patient_id.clone(),
            date_of_service: enc.date_of_service,
            provider_id: enc.provider_id.clone(),
            payer: enc.payer.clone(),
            track: facts.track,
            note_count: enc.notes.len() as u32,
            risk_score,
            risk_level: settings.level(risk_score),
            rules,
            severities: findings.iter().map(|f| f.severity).collect(),
            antidepressant_trials: facts.antidepressant_trials,
            adequate_trials: facts.adequate_trials,
            vague_trial_history: facts.vague_trial_history,
            pre_dose_bp: facts.pre_dose_bp,
            post_dose_bp: facts.post_dose_bp,
            bp_reading_count: facts.bp_reading_count,
            monitoring_minutes: facts.monitoring_minutes,
            discharge_criteria_documented: facts.discharge_criteria_documented,
            rems_documented: facts.rems_documented,
            prior_auth_documented: facts.prior_auth_documented,
            dose_mg: facts.dose_mg,
            billed_drug_units: facts.billed_drug_units,
            units_match_dose: facts.units_match_dose,
            icd10_codes: facts.icd10_codes.clone(),
            icd10_specific: facts.icd10_specific,
            separate_em_documentation: facts.separate_em_documentation,
        }
    }

    /// Add a finding decided after the row was made (the per-patient clone
    /// pass), rescoring the row.
    pub fn add_finding(&mut self, f: &Finding, settings: &crate::rules::RuleSettings) {
        self.add_late_finding(f.rule_id, f.severity, settings);
    }

    /// [`EncounterRow::add_finding`] given the finding's rule and severity.
    pub fn add_late_finding(&mut self, rule_id: &'static str, severity: Severity, settings: &crate::rules::RuleSettings) {
        self.severities.push(severity);
        if let Err(i) = self.rules.binary_search(&rule_id) {
            self.rules.insert(i, rule_id);
        }
        self.risk_score = settings.score_severities(&self.severities);
        self.risk_level = settings.level(self.risk_score);
    }

    /// Number of findings.
    pub fn finding_count(&self) -> u32 {
        self.severities.len() as u32
    }

    /// Append the row's compact binary form (for a [`spill::SpillFile`]).
    pub fn encode(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let mut e = Enc(out);
        e.str(&self.encounter_id);
        e.str(&self.patient_id);
        e.i32(date_days(self.date_of_service));
        e.opt_str(self.provider_id.as_deref());
        e.opt_str(self.payer.as_deref());
        e.u8(track_code(self.track));
        e.u32(self.note_count);
        e.f64(self.risk_score);
        e.u8(level_code(self.risk_level).ok_or_else(|| io::Error::other(format!("unknown risk level {}", self.risk_level)))?);
        e.u32(self.rules.len() as u32);
        for r in &self.rules {
            let i = crate::rules::ALL.iter().position(|x| x.id == *r).ok_or_else(|| io::Error::other(format!("unknown rule id {r}")))?;
            e.u8(i as u8);
        }
        e.u32(self.severities.len() as u32);
        for s in &self.severities {
            e.u8(*s as u8);
        }
        e.u32(self.antidepressant_trials);
        e.u32(self.adequate_trials);
        e.u8(self.vague_trial_history as u8);
        e.u8(self.pre_dose_bp as u8);
        e.u8(self.post_dose_bp as u8);
        e.u32(self.bp_reading_count);
        e.opt_u32(self.monitoring_minutes);
        e.u8(self.discharge_criteria_documented as u8);
        e.u8(self.rems_documented as u8);
        e.u8(self.prior_auth_documented as u8);
        e.opt_f64(self.dose_mg);
        e.opt_u32(self.billed_drug_units);
        e.opt_bool(self.units_match_dose);
        e.u32(self.icd10_codes.len() as u32);
        for c in &self.icd10_codes {
            e.str(c);
        }
        e.opt_bool(self.icd10_specific);
        e.opt_bool(self.separate_em_documentation);
        Ok(())
    }

    /// Read a row written by [`EncounterRow::encode`].
    pub fn decode(buf: &[u8]) -> io::Result<Self> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("spilled encounter row: bad {what}"));
        let mut d = Dec(buf);
        let encounter_id = d.string()?;
        let patient_id = d.string()?;
        let date_of_service = epoch() + chrono::Duration::days(d.i32()? as i64);
        let provider_id = d.opt_string()?;
        let payer = d.opt_string()?;
        let track = *TRACKS.get(d.u8()? as usize).ok_or_else(|| bad("track"))?;
        let note_count = d.u32()?;
        let risk_score = d.f64()?;
        let risk_level = *LEVELS.get(d.u8()? as usize).ok_or_else(|| bad("risk level"))?;
        let n = d.u32()? as usize;
        let mut rules = Vec::with_capacity(n);
        for _ in 0..n {
            rules.push(crate::rules::ALL.get(d.u8()? as usize).ok_or_else(|| bad("rule"))?.id);
        }
        let n = d.u32()? as usize;
        let mut severities = Vec::with_capacity(n);
        for _ in 0..n {
            severities.push(*SEVERITIES.get(d.u8()? as usize).ok_or_else(|| bad("severity"))?);
        }
        Ok(EncounterRow {
            encounter_id,
            patient_id,
            date_of_service,
            provider_id,
            payer,
            track,
            note_count,
            risk_score,
            risk_level,
            rules,
            severities,
            antidepressant_trials: d.u32()?,
            adequate_trials: d.u32()?,
            vague_trial_history: d.bool()?,
            pre_dose_bp: d.bool()?,
            post_dose_bp: d.bool()?,
            bp_reading_count: d.u32()?,
            monitoring_minutes: d.opt_u32()?,
            discharge_criteria_documented: d.bool()?,
            rems_documented: d.bool()?,
            prior_auth_documented: d.bool()?,
            dose_mg: d.opt_f64()?,
            billed_drug_units: d.opt_u32()?,
            units_match_dose: d.opt_bool()?,
            icd10_codes: {
                let n = d.u32()? as usize;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(d.string()?);
                }
                v
            },
            icd10_specific: d.opt_bool()?,
            separate_em_documentation: d.opt_bool()?,
        })
    }
}

/// Tracks by their spilled code.
const TRACKS: [Track; 4] = [Track::Esketamine, Track::IvKetamine, Track::OralKetamine, Track::None];
/// Risk levels by their code ([`crate::rules::RuleSettings::level`] gives one of these).
pub const LEVELS: [&str; 4] = ["low", "medium", "high", "critical"];
/// Severities by their code (`Severity as u8`).
const SEVERITIES: [Severity; 5] = [Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

/// The spilled code of a track (its index in [`TRACKS`]).
pub fn track_code(t: Track) -> u8 {
    TRACKS.iter().position(|x| *x == t).expect("every track is in TRACKS") as u8
}

/// The code of a risk level, if it is one of [`LEVELS`].
pub fn level_code(l: &str) -> Option<u8> {
    LEVELS.iter().position(|x| *x == l).map(|i| i as u8)
}

fn epoch() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date")
}

fn date_days(d: chrono::NaiveDate) -> i32 {
    (d - epoch()).num_days() as i32
}

/// Create a file owner-only for writing (truncating).
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

/// Create a folder (and parents) owner-only.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    if !path.exists() {
        let mut b = fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(path)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Make every file under `dir` 0600 and every folder 0700.
pub fn restrict_tree(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for e in fs::read_dir(dir)? {
            let e = e?;
            let p = e.path();
            let ft = e.file_type()?;
            if ft.is_dir() {
                fs::set_permissions(&p, fs::Permissions::from_mode(0o700))?;
                restrict_tree(&p)?;
            } else if ft.is_file() {
                fs::set_permissions(&p, fs::Permissions::from_mode(0o600))?;
            }
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write a file atomically: `write` fills a temporary file next to `path`,
/// which is synced and renamed over `path` only if `write` succeeds.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut SharedWriter) -> io::Result<()>) -> io::Result<()> {
    let file = AtomicFile::create(path)?;
    write(&mut file.writer())?;
    file.commit()
}

/// A file written over time (a batched report) under a temporary name in
/// its final folder, renamed over the final name only by [`AtomicFile::commit`].
/// Dropped without a commit, the temporary file is removed.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    w: Arc<Mutex<BufWriter<File>>>,
    committed: bool,
}

/// A cloneable writer into an [`AtomicFile`] (for writers that take `W` by value).
#[derive(Clone)]
pub struct SharedWriter(Arc<Mutex<BufWriter<File>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().map_err(|_| io::Error::other("writer poisoned"))?.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.lock().map_err(|_| io::Error::other("writer poisoned"))?.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.lock().map_err(|_| io::Error::other("writer poisoned"))?.flush()
    }
}

/// Temporary name of an output while it is written (`.NAME.tmp-PID`).
pub fn temp_name(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    dir.join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Remove temporary outputs left in `dir` by killed runs (call with the
/// output lock held, so no live run owns them).
pub fn remove_stale_temps(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name();
            let n = n.to_string_lossy();
            if n.starts_with('.') && n.contains(".tmp-") && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

impl AtomicFile {
    /// Create the temporary file (owner-only).
    pub fn create(path: &Path) -> io::Result<Self> {
        let tmp = temp_name(path);
        let f = create_private(&tmp)?;
        Ok(AtomicFile { path: path.to_path_buf(), tmp, w: Arc::new(Mutex::new(BufWriter::with_capacity(1 << 20, f))), committed: false })
    }
    /// A writer into the file.
    pub fn writer(&self) -> SharedWriter {
        SharedWriter(self.w.clone())
    }
    /// Flush, sync and rename over the final name.
    pub fn commit(mut self) -> io::Result<()> {
        {
            let mut g = self.w.lock().map_err(|_| io::Error::other("writer poisoned"))?;
            g.flush()?;
            g.get_ref().sync_all()?;
        }
        fs::rename(&self.tmp, &self.path)?;
        self.committed = true;
        if let Ok(d) = File::open(self.path.parent().unwrap_or(Path::new("."))) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The findings report written in row groups as encounters are scored, so
/// findings are never held as one table.
pub struct FindingsWriter {
    file: AtomicFile,
    writer: Option<polars::io::parquet::write::BatchedWriter<SharedWriter>>,
    buf: Vec<Finding>,
    rows: u64,
}

/// Findings buffered before a row group is written.
pub const FINDINGS_BATCH: usize = ROW_GROUP;

impl FindingsWriter {
    /// Start `path` (written under a temporary name until [`FindingsWriter::finish`]).
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = AtomicFile::create(path)?;
        let schema = findings_frame(&[]).map_err(pe)?.schema().as_ref().clone();
        let writer = parquet_writer(file.writer()).batched(&schema).map_err(pe)?;
        Ok(FindingsWriter { file, writer: Some(writer), buf: Vec::with_capacity(FINDINGS_BATCH), rows: 0 })
    }
    /// Add findings; a row group is written when the buffer is full.
    pub fn push(&mut self, f: impl IntoIterator<Item = Finding>) -> io::Result<()> {
        self.buf.extend(f);
        if self.buf.len() >= FINDINGS_BATCH {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let df = findings_frame(&self.buf).map_err(pe)?;
        self.writer.as_mut().expect("writer open").write_batch(&df).map_err(pe)?;
        self.rows += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
    /// Write the rest and the footer, then rename over the final name.
    /// Returns the number of rows.
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush()?;
        let w = self.writer.take().expect("writer open");
        w.finish().map_err(pe)?;
        drop(w);
        let rows = self.rows;
        let FindingsWriter { file, .. } = self;
        file.commit()?;
        Ok(rows)
    }
}

/// Row-group sizes of a one-chunk frame of `n` rows written by polars'
/// `ParquetWriter::finish` with row-group size `rg` (`chunk_df_for_writing`:
/// `n / rg` equal groups, the last taking the remainder; one group below
/// `rg`). Writing groups of these sizes one at a time gives the same file,
/// byte for byte, as writing the whole frame.
pub fn row_groups(n: usize, rg: usize) -> Vec<usize> {
    let k = n / rg.max(1);
    if k <= 1 {
        return vec![n];
    }
    let size = n / k;
    let mut v = vec![size; k - 1];
    v.push(n - size * (k - 1));
    v
}

/// Row-group size of both reports (rows). Polars' default (262,144) made the
/// encounter writer hold up to twice that many rows, plus their frame, before
/// writing: at 1,000,000 notes that buffer was the largest thing in memory.
/// 65,536 rows bounds it while keeping groups large enough for good
/// compression and fast scans.
pub const ROW_GROUP: usize = 65_536;

/// The encounter report written one row group at a time from rows given in
/// report order, so the rows are never all in memory; the file is the one
/// [`encounters_frame`] and [`write_parquet`] give for the same rows.
pub struct EncountersWriter {
    file: AtomicFile,
    writer: Option<polars::io::parquet::write::BatchedWriter<SharedWriter>>,
    groups: std::vec::IntoIter<usize>,
    want: usize,
    buf: Vec<EncounterRow>,
    rows: u64,
}

impl EncountersWriter {
    /// Start `path` for `n` rows (written under a temporary name until
    /// [`EncountersWriter::finish`]).
    pub fn create(path: &Path, n: usize) -> io::Result<Self> {
        Self::with_row_group_size(path, n, ROW_GROUP)
    }

    /// As [`EncountersWriter::create`], with another row-group size (tests).
    pub fn with_row_group_size(path: &Path, n: usize, rg: usize) -> io::Result<Self> {
        let file = AtomicFile::create(path)?;
        let mut groups = row_groups(n, rg).into_iter();
        let want = groups.next().unwrap_or(0);
        Ok(EncountersWriter { file, writer: None, groups, want, buf: Vec::new(), rows: 0 })
    }

    /// Add the next row; a row group is written when it is complete.
    pub fn push(&mut self, row: EncounterRow) -> io::Result<()> {
        self.buf.push(row);
        if self.buf.len() >= self.want {
            self.flush()?;
            self.want = self.groups.next().unwrap_or(usize::MAX);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let df = encounters_frame(&self.buf).map_err(pe)?;
        if self.writer.is_none() {
            self.writer = Some(parquet_writer(self.file.writer()).batched(df.schema()).map_err(pe)?);
        }
        self.writer.as_mut().expect("writer open").write_batch(&df).map_err(pe)?;
        self.rows += self.buf.len() as u64;
        self.buf = Vec::new();
        Ok(())
    }

    /// Write the rest and the footer, then rename over the final name.
    /// Returns the number of rows.
    pub fn finish(mut self) -> io::Result<u64> {
        if !self.buf.is_empty() || self.writer.is_none() {
            self.flush()?;
        }
        let w = self.writer.take().expect("writer open");
        w.finish().map_err(pe)?;
        drop(w);
        let rows = self.rows;
        let EncountersWriter { file, .. } = self;
        file.commit()?;
        Ok(rows)
    }
}

/// The rejects file, one JSON object per line, written as records are
/// rejected.
pub struct RejectsWriter {
    file: AtomicFile,
    w: SharedWriter,
    /// Lines written.
    pub count: u64,
}

impl RejectsWriter {
    /// Start `path`.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = AtomicFile::create(path)?;
        let w = file.writer();
        Ok(RejectsWriter { file, w, count: 0 })
    }
    /// Write one rejected record.
    pub fn push(&mut self, r: &crate::model::Reject) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, r).map_err(io::Error::other)?;
        self.w.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }
    /// Rename over the final name.
    pub fn finish(self) -> io::Result<u64> {
        let n = self.count;
        self.file.commit()?;
        Ok(n)
    }
}

fn parquet_writer<W: Write>(w: W) -> ParquetWriter<W> {
    ParquetWriter::new(w)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::default())
        .set_parallel(false)
        .with_row_group_size(Some(ROW_GROUP))
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata())))
}

fn pe(e: PolarsError) -> io::Error {
    io::Error::other(e.to_string())
}

fn list_col(name: &str, rows: impl Iterator<Item = Vec<String>>, n: usize) -> Column {
    let mut b = ListStringChunkedBuilder::new(name.into(), n, n * 2);
    for r in rows {
        b.append_values_iter(r.iter().map(|s| s.as_str()));
    }
    b.finish().into_series().into_column()
}

/// Build the encounter report frame (rows in the given order).
pub fn encounters_frame(rows: &[EncounterRow]) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let s = |f: &dyn Fn(&EncounterRow) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let dates: Vec<i32> = rows.iter().map(|r| (r.date_of_service - epoch).num_days() as i32).collect();
    let date = Int32Chunked::from_vec("date_of_service".into(), dates).into_date().into_series().into_column();
    let cols = vec![
        Column::new("encounter_id".into(), s(&|r| r.encounter_id.clone())),
        Column::new("patient_id".into(), s(&|r| r.patient_id.clone())),
        date,
        Column::new("provider_id".into(), rows.iter().map(|r| r.provider_id.clone()).collect::<Vec<Option<String>>>()),
        Column::new("payer".into(), rows.iter().map(|r| r.payer.clone()).collect::<Vec<Option<String>>>()),
        Column::new("track".into(), s(&|r| r.track.as_str().to_string())),
        Column::new("note_count".into(), rows.iter().map(|r| r.note_count).collect::<Vec<u32>>()),
        Column::new("risk_score".into(), rows.iter().map(|r| r.risk_score).collect::<Vec<f64>>()),
        Column::new("risk_level".into(), s(&|r| r.risk_level.to_string())),
        Column::new("finding_count".into(), rows.iter().map(|r| r.finding_count()).collect::<Vec<u32>>()),
        list_col("findings", rows.iter().map(|r| r.rules.iter().map(|x| x.to_string()).collect()), n),
        Column::new("antidepressant_trials".into(), rows.iter().map(|r| r.antidepressant_trials).collect::<Vec<u32>>()),
        Column::new("adequate_trials".into(), rows.iter().map(|r| r.adequate_trials).collect::<Vec<u32>>()),
        Column::new("vague_trial_history".into(), rows.iter().map(|r| r.vague_trial_history).collect::<Vec<bool>>()),
        Column::new("pre_dose_bp".into(), rows.iter().map(|r| r.pre_dose_bp).collect::<Vec<bool>>()),
        Column::new("post_dose_bp".into(), rows.iter().map(|r| r.post_dose_bp).collect::<Vec<bool>>()),
        Column::new("bp_reading_count".into(), rows.iter().map(|r| r.bp_reading_count).collect::<Vec<u32>>()),
        Column::new("monitoring_minutes".into(), rows.iter().map(|r| r.monitoring_minutes).collect::<Vec<Option<u32>>>()),
        Column::new("discharge_criteria_documented".into(), rows.iter().map(|r| r.discharge_criteria_documented).collect::<Vec<bool>>()),
        Column::new("rems_documented".into(), rows.iter().map(|r| r.rems_documented).collect::<Vec<bool>>()),
        Column::new("prior_auth_documented".into(), rows.iter().map(|r| r.prior_auth_documented).collect::<Vec<bool>>()),
        Column::new("dose_mg".into(), rows.iter().map(|r| r.dose_mg).collect::<Vec<Option<f64>>>()),
        Column::new("billed_drug_units".into(), rows.iter().map(|r| r.billed_drug_units).collect::<Vec<Option<u32>>>()),
        Column::new("units_match_dose".into(), rows.iter().map(|r| r.units_match_dose).collect::<Vec<Option<bool>>>()),
        list_col("icd10_codes", rows.iter().map(|r| r.icd10_codes.clone()), n),
        Column::new("icd10_specific".into(), rows.iter().map(|r| r.icd10_specific).collect::<Vec<Option<bool>>>()),
        Column::new("separate_em_documentation".into(), rows.iter().map(|r| r.separate_em_documentation).collect::<Vec<Option<bool>>>()),
    ];
    DataFrame::new(n, cols)
}

/// Build the findings frame.
pub fn findings_frame(findings: &[Finding]) -> PolarsResult<DataFrame> {
    let n = findings.len();
    let cols = vec![
        Column::new("encounter_id".into(), findings.iter().map(|f| f.encounter_id.as_str()).collect::<Vec<&str>>()),
        Column::new("note_id".into(), findings.iter().map(|f| f.note_id.as_deref()).collect::<Vec<Option<&str>>>()),
        Column::new("rule_id".into(), findings.iter().map(|f| f.rule_id).collect::<Vec<&str>>()),
        Column::new("severity".into(), findings.iter().map(|f| f.severity.as_str()).collect::<Vec<&str>>()),
        Column::new("message".into(), findings.iter().map(|f| f.message.as_str()).collect::<Vec<&str>>()),
        Column::new("evidence".into(), findings.iter().map(|f| f.evidence.as_deref()).collect::<Vec<Option<&str>>>()),
        Column::new("start".into(), findings.iter().map(|f| f.start).collect::<Vec<Option<u32>>>()),
        Column::new("end".into(), findings.iter().map(|f| f.end).collect::<Vec<Option<u32>>>()),
    ];
    DataFrame::new(n, cols)
}

/// File-level metadata stamped in every Parquet report.
pub fn metadata() -> Vec<(String, String)> {
    vec![
        ("ketaudit.version".into(), env!("CARGO_PKG_VERSION").into()),
        ("ketaudit.rule_catalogue".into(), crate::dict::CATALOGUE_VERSION.into()),
        ("ketaudit.contract".into(), "shared/spec/data-contract.md".into()),
    ]
}

/// Write a frame to Parquet atomically (zstd, owner-only, version metadata).
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> io::Result<()> {
    write_atomic(path, |w| parquet_writer(w).finish(df).map(|_| ()).map_err(pe))
}

/// Read a Parquet file back (tests, eval, explain).
pub fn read_parquet(path: &Path) -> io::Result<DataFrame> {
    let f = File::open(path)?;
    ParquetReader::new(f).finish().map_err(pe)
}

/// Open (creating owner-only, not truncating) a lock file.
pub fn create_private_lock(path: &Path) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize) -> EncounterRow {
        let rules: Vec<&'static str> = crate::rules::ALL.iter().skip(i % 7).step_by(5).take(i % 4).map(|r| r.id).collect();
        EncounterRow {
            encounter_id: format!("ENC{i:07}"),
            patient_id: format!("PT{:05}", i / 3),
            date_of_service: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days((i % 400) as i64),
            provider_id: (!i.is_multiple_of(5)).then(|| format!("PRV{}", i % 17)),
            payer: (!i.is_multiple_of(6)).then(|| ["medicare", "aetna", "cigna"][i % 3].to_string()),
            track: TRACKS[i % 4],
            note_count: (i % 3) as u32 + 1,
            risk_score: (i % 1000) as f64 / 10.0,
            risk_level: LEVELS[i % 4],
            severities: rules.iter().enumerate().map(|(k, _)| SEVERITIES[(i + k) % 5]).collect(),
            rules,
            antidepressant_trials: (i % 5) as u32,
            adequate_trials: (i % 3) as u32,
            vague_trial_history: i.is_multiple_of(2),
            pre_dose_bp: i.is_multiple_of(3),
            post_dose_bp: i.is_multiple_of(5),
            bp_reading_count: (i % 7) as u32,
            monitoring_minutes: (!i.is_multiple_of(4)).then_some((i % 180) as u32),
            discharge_criteria_documented: i.is_multiple_of(7),
            rems_documented: i.is_multiple_of(11),
            prior_auth_documented: i.is_multiple_of(13),
            dose_mg: (!i.is_multiple_of(3)).then_some(28.0 * (i % 4) as f64),
            billed_drug_units: (i % 5 != 1).then_some((i % 90) as u32),
            units_match_dose: [None, Some(true), Some(false)][i % 3],
            icd10_codes: (0..i % 3).map(|k| format!("F3{k}.{}", i % 10)).collect(),
            icd10_specific: [None, Some(true), Some(false)][(i / 3) % 3],
            separate_em_documentation: [None, Some(true), Some(false)][(i / 7) % 3],
        }
    }

    #[test]
    fn rows_round_trip_through_their_spilled_form() {
        for i in 0..500 {
            let r = row(i);
            let mut buf = Vec::new();
            r.encode(&mut buf).unwrap();
            let back = EncounterRow::decode(&buf).unwrap();
            assert_eq!(format!("{r:?}"), format!("{back:?}"));
            assert!(EncounterRow::decode(&buf[..buf.len() - 1]).is_err(), "a short record is an error");
        }
    }

    #[test]
    fn row_groups_follow_polars() {
        assert_eq!(row_groups(0, 10), vec![0]);
        assert_eq!(row_groups(9, 10), vec![9]);
        assert_eq!(row_groups(19, 10), vec![19]);
        assert_eq!(row_groups(20, 10), vec![10, 10]);
        assert_eq!(row_groups(29, 10), vec![14, 15]);
        assert_eq!(row_groups(35, 10), vec![11, 11, 13]);
    }

    #[test]
    fn streamed_encounters_file_is_the_whole_frame_file() {
        let dir = tempfile::tempdir().unwrap();
        for n in [0usize, 1, 999, 1000, 2500, 3999, 4321] {
            let rows: Vec<EncounterRow> = (0..n).map(row).collect();
            let whole = dir.path().join(format!("whole-{n}.parquet"));
            let mut df = encounters_frame(&rows).unwrap();
            write_atomic(&whole, |w| parquet_writer(w).with_row_group_size(Some(1000)).finish(&mut df).map(|_| ()).map_err(pe)).unwrap();
            let streamed = dir.path().join(format!("streamed-{n}.parquet"));
            let mut w = EncountersWriter::with_row_group_size(&streamed, n, 1000).unwrap();
            for r in rows {
                w.push(r).unwrap();
            }
            assert_eq!(w.finish().unwrap(), n as u64);
            assert!(fs::read(&whole).unwrap() == fs::read(&streamed).unwrap(), "{n} rows: files differ");
        }
    }
}
