//! Deterministic synthetic ketamine/esketamine encounter data with gold labels.
//!
//! Why this exists: real clinical notes cannot leave a practice, yet the
//! extractors and rules need thousands of realistic, *labelled* encounters to
//! be measured against, and benchmarks need millions. This module writes
//! notes in the exact input shape of `shared/spec/data-contract.md`
//! (JSON Lines, optionally gzip), billed lines inline on notes and/or in a
//! separate `claims.csv`, and a `gold.jsonl` holding, per encounter, the
//! values the encounter report must contain.
//!
//! How gold stays honest: for each encounter the generator first decides a
//! struct of facts (trials, readings, times, REMS/PA status, billed lines,
//! documentation style ...), then renders text from those facts, and writes
//! gold from the same facts, never by re-reading the text. Distractors
//! (dates such as `12/14/2025`, `PHQ-9 18/27`, `hold if BP > 140/90`,
//! `BP WNL`, signature and psychotherapy times, negated/hypothetical/family
//! trial mentions, sleep-dose trazodone, augmentation agents, prior and
//! planned doses, pending/denied PAs, negated REMS mentions) are rendered so
//! they never create or destroy evidence.
//!
//! # Output files
//! - `notes.jsonl` or `notes.jsonl.gz`: one note per line, fields as in the
//!   contract; `claim_lines` present only on the one note of an encounter
//!   that carries its billing when that encounter's claims are inline.
//! - `claims.csv` (created only when at least one line goes to the file):
//!   `encounter_id,code,units,modifiers,icd10,place_of_service`, with
//!   modifiers and diagnosis codes `;`-separated.
//! - `gold.jsonl`: one object per encounter, in generation order.
//!
//! # Gold keys
//! `encounter_id`, `track`, then every evidence column of the encounter
//! report (`antidepressant_trials`, `adequate_trials`, `vague_trial_history`,
//! `pre_dose_bp`, `post_dose_bp`, `bp_reading_count`, `monitoring_minutes`,
//! `discharge_criteria_documented`, `rems_documented`,
//! `prior_auth_documented`, `dose_mg`, `billed_drug_units`,
//! `units_match_dose`, `icd10_codes`, `icd10_specific`,
//! `separate_em_documentation`), `planted` (sorted rule ids whose defect the
//! generator planted) and `styles` (sorted style and distractor tags, for
//! error analysis; distractor tags start with `d:`).
//!
//! **Any subset of keys is valid gold.** A scorer must compare only the keys
//! a gold object has, so hand-labelled files in which a compliance officer
//! filled in a few columns (or only `encounter_id` and `planted`) are scored
//! with the same code as this generator's complete objects.
//!
//! # Styles and distractors (the `styles` tags)
//! Layouts: `flowsheet` ("Vitals (pre-dose) 09:52: BP 128/82 HR 74 SpO2 98% RR 16"),
//! `narrative` ("Blood pressure prior to administration was 132 over 84"),
//! `nurse_shorthand` ("@40min 10:44 BP 138/86", "T+40 138/86, CADSS 12",
//! "d1 1002"), `soap`, `pipe_table` and `tab_table` vitals tables,
//! `timestamped_log` ("10:02 Device 1 administered (28 mg)").
//! Modifiers: `all_caps`, `crlf`, `typos` ("blood presure", "dicharge"),
//! `long_copy_forward` (5–20 KB of repeated old history with prior-session
//! doses), `near_empty` ("Spravato 56 mg. Pt tolerated well. See
//! flowsheet."), `times_24h` / `times_12h` / `times_compact` ("1405"),
//! `telehealth`, `split_notes`, `em_separate_note`, `em_section`,
//! `em_copy_of_session`, `em_stub`, `psychotherapy_note`, `cloned_session`,
//! and trial-history formats `trials_list`, `trials_prose`, `trials_table`,
//! `trials_shorthand`. BP forms: "BP 128/82", "B/P: 132 / 84 mmHg",
//! "blood pressure of 145 over 92", "SBP 150 DBP 95", "BP-128/82", table
//! cells. Distractor tags (`d:` prefix) name each look-alike present:
//! `d:bp_threshold`, `d:bp_wnl`, `d:bp_declined`, `d:bp_not_obtained`,
//! `d:post_bp_not_obtained`, `d:bp_restated`, `d:date_slash`, `d:phq_ratio`,
//! `d:signature_time`, `d:psychotherapy_times`, `d:next_appt_time`,
//! `d:bare_discharge_time`, `d:trial_negated`, `d:trial_hypothetical`,
//! `d:trial_declined`, `d:trial_family`, `d:augmentation_trial`,
//! `d:sleep_dose`, `d:current_med_list`, `d:vague_phrase`, `d:prior_dose`,
//! `d:planned_dose`, `d:rems_negated`, `d:pa_pending`, `d:pa_denied`,
//! `d:pa_not_required`, `d:pa_dates`, `d:ketamine_mention_no_treatment`.
//!
//! # Decisions where the contract leaves room
//! - `icd10_codes` come from billed lines when the encounter has any; codes
//!   written in notes always equal the billed ones, so both readings agree.
//!   Without claim lines they come from the notes.
//! - `icd10_specific` is false only when every code is in
//!   {F32.9, F33.9, F32.A, F39}; invalid codes (F33.89, F32.8, F33.4) are
//!   always planted next to a specific primary code.
//! - A `planted` id for an absent-evidence rule means the evidence is absent
//!   from this encounter's notes (e.g. `esk-monitoring-under-2h` is planted
//!   both when the window is < 120 min and when it is not documented at all;
//!   `pa-missing-or-after-dos` whenever no approved authorization covering
//!   the date of service is written in the encounter, whatever the payer).
//! - The phrase "treatment resistant" appears only inside vague trial
//!   phrases, so its presence always means a vague history phrase.
//! - `note_bytes` in [`SynthSummary`] counts uncompressed JSONL bytes.
//! - A BP reading's "same value" is its identity: all readings of one
//!   encounter have distinct values, and a restatement in another note
//!   repeats the value exactly.
//! - `billed_drug_units` sums S0013/J0013 units on any track (an IV encounter
//!   wrongly billed S0013 gets a value too); it is null for G2082/G2083/J0222.
//! - Long copy-forward notes repeat old history but their current-session
//!   sections differ, so they are not planted as `note-cloned`; only
//!   `cloned_session` encounters (whole session note copied from the
//!   patient's first session) are.

mod decide;
mod facts;
mod render;
mod rng;
mod vocab;

use chrono::NaiveDate;
use facts::{ClaimsTo, Encounter, Track, WEAK_DX};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Where billed lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsMode {
    /// On the notes, as `claim_lines`.
    Inline,
    /// In a separate `claims.csv`.
    File,
    /// Each encounter chooses one of the two.
    Mixed,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Number of encounters (exact).
    pub encounters: usize,
    /// Seed; the same configuration always yields byte-identical files.
    pub seed: u64,
    /// First possible date of service.
    pub start_date: NaiveDate,
    /// Last possible date of service.
    pub end_date: NaiveDate,
    /// Where billed lines go.
    pub claims: ClaimsMode,
    /// Write `notes.jsonl.gz` instead of `notes.jsonl`.
    pub gzip: bool,
    /// Stop at the first encounter boundary at or after this many notes
    /// (benchmark corpora are sized in notes).
    pub max_notes: Option<usize>,
    /// Write `gold.jsonl` (benchmark corpora skip it).
    pub gold: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            encounters: 300,
            seed: 7,
            start_date: NaiveDate::from_ymd_opt(2025, 7, 1).expect("valid date"),
            end_date: NaiveDate::from_ymd_opt(2026, 6, 30).expect("valid date"),
            claims: ClaimsMode::Mixed,
            gzip: false,
            max_notes: None,
            gold: true,
        }
    }
}

/// Counts of what [`write_dataset`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SynthSummary {
    /// Encounters (= gold lines).
    pub encounters: usize,
    /// Note records.
    pub notes: usize,
    /// Billed lines, inline and in the claims file.
    pub claim_lines: usize,
    /// Uncompressed bytes of the notes JSON Lines.
    pub note_bytes: u64,
}

#[derive(Serialize)]
struct ClaimLineOut {
    code: &'static str,
    units: u32,
    modifiers: Vec<&'static str>,
    icd10: Vec<String>,
}

#[derive(Serialize)]
struct NoteOut<'a> {
    note_id: String,
    encounter_id: &'a str,
    patient_id: &'a str,
    date_of_service: String,
    text: &'a str,
    provider_id: &'a str,
    provider_credential: &'a str,
    payer: &'a str,
    note_type: &'a str,
    place_of_service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    claim_lines: Option<&'a [ClaimLineOut]>,
}

#[derive(Serialize)]
struct GoldOut<'a> {
    encounter_id: &'a str,
    track: &'static str,
    antidepressant_trials: u32,
    adequate_trials: u32,
    vague_trial_history: bool,
    pre_dose_bp: bool,
    post_dose_bp: bool,
    bp_reading_count: u32,
    monitoring_minutes: Option<u32>,
    discharge_criteria_documented: bool,
    rems_documented: bool,
    prior_auth_documented: bool,
    dose_mg: Option<f64>,
    billed_drug_units: Option<u32>,
    units_match_dose: Option<bool>,
    icd10_codes: Vec<String>,
    icd10_specific: Option<bool>,
    separate_em_documentation: Option<bool>,
    planted: Vec<&'static str>,
    styles: Vec<&'static str>,
}

fn gold<'a>(e: &'a Encounter, styles: Vec<&'static str>) -> GoldOut<'a> {
    let (n, a, vague) = e.trials_counted();
    let (pre, post) = e.pre_post();
    let s = &e.session;
    let dose = if e.psy_only { None } else { s.dose_mg(e.track) };
    let units = e.billed_drug_units();
    let codes = e.gold_dx();
    GoldOut {
        encounter_id: &e.encounter_id,
        track: e.track.as_str(),
        antidepressant_trials: n,
        adequate_trials: a,
        vague_trial_history: vague,
        pre_dose_bp: pre,
        post_dose_bp: post,
        bp_reading_count: s.bps.len() as u32,
        monitoring_minutes: s.monitoring_minutes(e.track),
        discharge_criteria_documented: s.discharge_criteria && !s.near_empty,
        rems_documented: e.rems_documented(),
        prior_auth_documented: e.pa_documented(),
        dose_mg: dose,
        billed_drug_units: units,
        units_match_dose: match (dose, units) {
            (Some(d), Some(u)) => Some((f64::from(u) - d).abs() < 1e-9),
            _ => None,
        },
        icd10_specific: if codes.is_empty() { None } else { Some(codes.iter().any(|c| !WEAK_DX.contains(&c.as_str()))) },
        icd10_codes: codes,
        separate_em_documentation: e.separate_em(),
        planted: e.planted(),
        styles,
    }
}

/// Claim-format diagnosis code: with or without the dot.
fn claim_icd(code: &str, dotted: bool) -> String {
    if dotted {
        code.to_string()
    } else {
        code.replace('.', "")
    }
}

struct Sinks {
    notes: Box<dyn Write>,
    gold: Box<dyn Write>,
    claims: Option<BufWriter<File>>,
    claims_path: std::path::PathBuf,
    summary: SynthSummary,
}

impl Sinks {
    fn claims(&mut self) -> std::io::Result<&mut BufWriter<File>> {
        if self.claims.is_none() {
            let mut w = BufWriter::new(File::create(&self.claims_path)?);
            w.write_all(b"encounter_id,code,units,modifiers,icd10,place_of_service\n")?;
            self.claims = Some(w);
        }
        Ok(self.claims.as_mut().expect("just created"))
    }
}

fn write_encounter(e: &Encounter, rng: &mut rng::Rng, sinks: &mut Sinks) -> std::io::Result<()> {
    let mut tags = render::Tags::default();
    let notes = render::render(e, rng, &mut tags);
    let lines: Vec<ClaimLineOut> = e
        .lines
        .iter()
        .map(|l| {
            let dotted = rng.chance(0.6);
            ClaimLineOut {
                code: l.code,
                units: l.units,
                modifiers: l.modifiers.clone(),
                icd10: e.session.dx_codes.iter().map(|c| claim_icd(c, dotted)).collect(),
            }
        })
        .collect();
    let date = e.date.format("%Y-%m-%d").to_string();
    for (i, n) in notes.iter().enumerate() {
        let inline = e.claims_to == ClaimsTo::Inline && n.carries_claims && !lines.is_empty();
        let rec = NoteOut {
            note_id: format!("{}-{}{}", e.encounter_id, n.suffix, i + 1),
            encounter_id: &e.encounter_id,
            patient_id: &e.patient_id,
            date_of_service: date.clone(),
            text: &n.text,
            provider_id: &n.provider_id,
            provider_credential: n.cred,
            payer: e.payer,
            note_type: n.note_type,
            place_of_service: e.pos,
            claim_lines: if inline { Some(&lines) } else { None },
        };
        let mut buf = serde_json::to_vec(&rec)?;
        buf.push(b'\n');
        sinks.notes.write_all(&buf)?;
        sinks.summary.note_bytes += buf.len() as u64;
        sinks.summary.notes += 1;
    }
    if e.claims_to == ClaimsTo::File && !lines.is_empty() {
        let w = sinks.claims()?;
        for l in &lines {
            writeln!(w, "{},{},{},{},{},{}", e.encounter_id, l.code, l.units, l.modifiers.join(";"), l.icd10.join(";"), e.pos)?;
        }
    }
    sinks.summary.claim_lines += lines.len();
    let mut styles = tags.0;
    styles.sort_unstable();
    styles.dedup();
    if e.track == Track::None && styles.contains(&"d:ketamine_mention_no_treatment") {
        styles.push("track_none_mentions_ketamine");
    }
    serde_json::to_writer(&mut sinks.gold, &gold(e, styles))?;
    sinks.gold.write_all(b"\n")?;
    sinks.summary.encounters += 1;
    Ok(())
}

/// Writes `OUT/notes.jsonl` (or `notes.jsonl.gz`), `OUT/claims.csv` (when any
/// claims go to the file) and `OUT/gold.jsonl`, creating `out_dir` if needed.
///
/// Streams patient by patient: memory does not grow with `encounters`, so a
/// million-encounter benchmark set is fine. The same `cfg` always produces
/// byte-identical files.
pub fn write_dataset(cfg: &SynthConfig, out_dir: &Path) -> std::io::Result<SynthSummary> {
    std::fs::create_dir_all(out_dir)?;
    let claims_path = out_dir.join("claims.csv");
    if claims_path.exists() {
        std::fs::remove_file(&claims_path)?;
    }
    let notes: Box<dyn Write> = if cfg.gzip {
        let f = BufWriter::new(File::create(out_dir.join("notes.jsonl.gz"))?);
        Box::new(flate2::GzBuilder::new().mtime(0).write(f, flate2::Compression::default()))
    } else {
        Box::new(BufWriter::new(File::create(out_dir.join("notes.jsonl"))?))
    };
    let mut sinks = Sinks {
        notes,
        gold: if cfg.gold { Box::new(BufWriter::new(File::create(out_dir.join("gold.jsonl"))?)) } else { Box::new(std::io::sink()) },
        claims: None,
        claims_path,
        summary: SynthSummary::default(),
    };
    let mut enc_no = 0usize;
    let mut pat_no = 0usize;
    while enc_no < cfg.encounters && cfg.max_notes.is_none_or(|m| sinks.summary.notes < m) {
        let mut prng = rng::Rng::new(cfg.seed, pat_no as u64 + 1);
        let mut patient = decide::patient(&mut prng, pat_no, cfg);
        for k in 0..patient.dates.len() {
            if enc_no >= cfg.encounters || cfg.max_notes.is_some_and(|m| sinks.summary.notes >= m) {
                break;
            }
            let e = decide::encounter(&mut prng, &mut patient, k, enc_no, cfg);
            write_encounter(&e, &mut prng, &mut sinks)?;
            enc_no += 1;
        }
        pat_no += 1;
    }
    sinks.notes.flush()?;
    drop(sinks.notes);
    sinks.gold.flush()?;
    if let Some(mut c) = sinks.claims {
        c.flush()?;
    }
    Ok(sinks.summary)
}

#[cfg(test)]
mod tests;
