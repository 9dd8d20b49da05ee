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

use polars::prelude::*;

use crate::encounter::{Encounter, EncounterFacts};
use crate::rules::Finding;

/// One encounter's report row.
pub struct EncounterRow<'a> {
    /// Encounter.
    pub enc: &'a Encounter,
    /// Evidence columns.
    pub facts: &'a EncounterFacts,
    /// Risk score.
    pub risk_score: f64,
    /// Risk level.
    pub risk_level: &'static str,
    /// Rule ids that fired (distinct, sorted).
    pub rules: Vec<&'static str>,
    /// Number of findings.
    pub finding_count: u32,
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
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let res = (|| {
        let f = create_private(&tmp)?;
        let mut w = BufWriter::new(f);
        write(&mut w)?;
        w.flush()?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
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
pub fn encounters_frame(rows: &[EncounterRow<'_>]) -> PolarsResult<DataFrame> {
    let n = rows.len();
    let s = |f: &dyn Fn(&EncounterRow<'_>) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let dates: Vec<i32> = rows.iter().map(|r| (r.enc.date_of_service - epoch).num_days() as i32).collect();
    let date = Int32Chunked::from_vec("date_of_service".into(), dates).into_date().into_series().into_column();
    let cols = vec![
        Column::new("encounter_id".into(), s(&|r| r.enc.encounter_id.clone())),
        Column::new("patient_id".into(), s(&|r| r.enc.patient_id.clone())),
        date,
        Column::new("provider_id".into(), rows.iter().map(|r| r.enc.provider_id.clone()).collect::<Vec<Option<String>>>()),
        Column::new("payer".into(), rows.iter().map(|r| r.enc.payer.clone()).collect::<Vec<Option<String>>>()),
        Column::new("track".into(), s(&|r| r.facts.track.as_str().to_string())),
        Column::new("note_count".into(), rows.iter().map(|r| r.enc.notes.len() as u32).collect::<Vec<u32>>()),
        Column::new("risk_score".into(), rows.iter().map(|r| r.risk_score).collect::<Vec<f64>>()),
        Column::new("risk_level".into(), s(&|r| r.risk_level.to_string())),
        Column::new("finding_count".into(), rows.iter().map(|r| r.finding_count).collect::<Vec<u32>>()),
        list_col("findings", rows.iter().map(|r| r.rules.iter().map(|x| x.to_string()).collect()), n),
        Column::new("antidepressant_trials".into(), rows.iter().map(|r| r.facts.antidepressant_trials).collect::<Vec<u32>>()),
        Column::new("adequate_trials".into(), rows.iter().map(|r| r.facts.adequate_trials).collect::<Vec<u32>>()),
        Column::new("vague_trial_history".into(), rows.iter().map(|r| r.facts.vague_trial_history).collect::<Vec<bool>>()),
        Column::new("pre_dose_bp".into(), rows.iter().map(|r| r.facts.pre_dose_bp).collect::<Vec<bool>>()),
        Column::new("post_dose_bp".into(), rows.iter().map(|r| r.facts.post_dose_bp).collect::<Vec<bool>>()),
        Column::new("bp_reading_count".into(), rows.iter().map(|r| r.facts.bp_reading_count).collect::<Vec<u32>>()),
        Column::new("monitoring_minutes".into(), rows.iter().map(|r| r.facts.monitoring_minutes).collect::<Vec<Option<u32>>>()),
        Column::new(
            "discharge_criteria_documented".into(),
            rows.iter().map(|r| r.facts.discharge_criteria_documented).collect::<Vec<bool>>(),
        ),
        Column::new("rems_documented".into(), rows.iter().map(|r| r.facts.rems_documented).collect::<Vec<bool>>()),
        Column::new("prior_auth_documented".into(), rows.iter().map(|r| r.facts.prior_auth_documented).collect::<Vec<bool>>()),
        Column::new("dose_mg".into(), rows.iter().map(|r| r.facts.dose_mg).collect::<Vec<Option<f64>>>()),
        Column::new("billed_drug_units".into(), rows.iter().map(|r| r.facts.billed_drug_units).collect::<Vec<Option<u32>>>()),
        Column::new("units_match_dose".into(), rows.iter().map(|r| r.facts.units_match_dose).collect::<Vec<Option<bool>>>()),
        list_col("icd10_codes", rows.iter().map(|r| r.facts.icd10_codes.clone()), n),
        Column::new("icd10_specific".into(), rows.iter().map(|r| r.facts.icd10_specific).collect::<Vec<Option<bool>>>()),
        Column::new(
            "separate_em_documentation".into(),
            rows.iter().map(|r| r.facts.separate_em_documentation).collect::<Vec<Option<bool>>>(),
        ),
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
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::default())
            .set_parallel(false)
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(metadata())))
            .finish(df)
            .map(|_| ())
            .map_err(pe)
    })
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
