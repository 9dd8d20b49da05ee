//! Group notes into encounters and compute the encounter report's evidence
//! columns, exactly as `../shared/spec/data-contract.md` defines them.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::dict::{icd10cm, CodeKind, Dictionaries, IcdValidity};
use crate::extract::phrases::{cocm_note_type, em_note_type, psychotherapy_note_type, session_note_type};
use crate::extract::text::Clock;
use crate::extract::{EvKind, Evidence, NoteFacts, Phase};
use crate::model::{ClaimLine, Note};

/// Note metadata kept after the text is dropped.
#[derive(Debug, Clone)]
pub struct NoteMeta {
    /// Note id.
    pub note_id: String,
    /// Encounter id.
    pub encounter_id: String,
    /// Patient id.
    pub patient_id: String,
    /// Date of service.
    pub date_of_service: NaiveDate,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Credential.
    pub provider_credential: Option<String>,
    /// Payer as exported.
    pub payer: Option<String>,
    /// Note type as exported.
    pub note_type: Option<String>,
    /// POS.
    pub place_of_service: Option<String>,
    /// Claim lines carried on the note.
    pub claim_lines: Vec<ClaimLine>,
}

impl NoteMeta {
    /// Metadata of a note (the text is not copied).
    pub fn of(n: &Note) -> Self {
        NoteMeta {
            note_id: n.note_id.clone(),
            encounter_id: n.encounter_id.clone(),
            patient_id: n.patient_id.clone(),
            date_of_service: n.date_of_service,
            provider_id: n.provider_id.clone(),
            provider_credential: n.provider_credential.clone(),
            payer: n.payer.clone(),
            note_type: n.note_type.clone(),
            place_of_service: n.place_of_service.clone(),
            claim_lines: n.claim_lines.clone(),
        }
    }
}

/// A note after extraction: metadata plus facts.
#[derive(Debug, Clone)]
pub struct NoteRecord {
    /// Metadata.
    pub meta: NoteMeta,
    /// Extracted facts.
    pub facts: NoteFacts,
}

/// Treatment track of an encounter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// Esketamine (Spravato).
    Esketamine,
    /// IV ketamine.
    IvKetamine,
    /// Oral / sublingual ketamine.
    OralKetamine,
    /// None of the above.
    None,
}

impl Track {
    /// Report value.
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Esketamine => "esketamine",
            Track::IvKetamine => "iv_ketamine",
            Track::OralKetamine => "oral_ketamine",
            Track::None => "none",
        }
    }
}

/// Reference to one evidence item: (note index in the encounter, evidence index).
pub type EvRef = (usize, usize);

/// One drug's trial, merged over its mentions in the encounter.
#[derive(Debug, Clone)]
pub struct TrialSummary {
    /// Drug index in the dictionary.
    pub drug: usize,
    /// Augmentation agent.
    pub augmentation: bool,
    /// Highest daily dose, mg.
    pub daily_mg: Option<f64>,
    /// Longest duration, weeks.
    pub weeks: Option<f64>,
    /// Duration documented.
    pub has_duration: bool,
    /// Outcome documented.
    pub has_outcome: bool,
    /// First counting mention.
    pub ev: EvRef,
}

impl TrialSummary {
    /// Drug, dose, duration and outcome all documented.
    pub fn adequate(&self) -> bool {
        self.daily_mg.is_some() && self.has_duration && self.has_outcome
    }
}

/// A distinct BP reading with its decided phase.
#[derive(Debug, Clone)]
pub struct BpSummary {
    /// Systolic.
    pub sys: u16,
    /// Diastolic.
    pub dia: u16,
    /// Decided phase.
    pub phase: Phase,
    /// Minutes after the first dose, when known.
    pub offset_min: Option<i64>,
    /// Worded as the discharge reading.
    pub at_discharge: bool,
    /// Evidence.
    pub ev: EvRef,
}

/// An encounter with its notes and billed lines.
#[derive(Debug, Clone)]
pub struct Encounter {
    /// Encounter id.
    pub encounter_id: String,
    /// Patient id.
    pub patient_id: String,
    /// Date of service.
    pub date_of_service: NaiveDate,
    /// Provider id.
    pub provider_id: Option<String>,
    /// Canonical payer.
    pub payer: Option<String>,
    /// Place of service.
    pub place_of_service: Option<String>,
    /// Notes, in input order.
    pub notes: Vec<NoteRecord>,
    /// Billed lines (merged from notes and claims files).
    pub claims: Vec<ClaimLine>,
}

/// The encounter report's evidence columns plus what the rules need.
#[derive(Debug, Clone)]
pub struct EncounterFacts {
    /// Track.
    pub track: Track,
    /// Distinct affirmed antidepressant trials.
    pub antidepressant_trials: u32,
    /// Of those, fully documented.
    pub adequate_trials: u32,
    /// Vague history.
    pub vague_trial_history: bool,
    /// Pre-dose BP.
    pub pre_dose_bp: bool,
    /// Post-dose BP.
    pub post_dose_bp: bool,
    /// Distinct BP readings.
    pub bp_reading_count: u32,
    /// Monitoring minutes.
    pub monitoring_minutes: Option<u32>,
    /// Discharge readiness documented.
    pub discharge_criteria_documented: bool,
    /// REMS documented.
    pub rems_documented: bool,
    /// PA documented.
    pub prior_auth_documented: bool,
    /// Dose mg.
    pub dose_mg: Option<f64>,
    /// Units on esketamine drug lines.
    pub billed_drug_units: Option<u32>,
    /// Units agree with dose.
    pub units_match_dose: Option<bool>,
    /// ICD-10 codes (dotted, sorted, distinct).
    pub icd10_codes: Vec<String>,
    /// Whether the codes came from claims (true) or notes (false).
    pub icd10_from_claims: bool,
    /// Specific diagnosis.
    pub icd10_specific: Option<bool>,
    /// Separate E/M documented.
    pub separate_em_documentation: Option<bool>,
    /// Trials (antidepressants and augmentation) merged per drug.
    pub trials: Vec<TrialSummary>,
    /// Distinct BP readings.
    pub bps: Vec<BpSummary>,
    /// First dose clock time.
    pub first_dose: Option<Clock>,
    /// Index of the main session note.
    pub session_note: Option<usize>,
    /// Evidence behind monitoring_minutes.
    pub monitoring_ev: Option<EvRef>,
    /// Evidence behind dose_mg.
    pub dose_ev: Option<EvRef>,
    /// Infusion minutes (IV), when derivable.
    pub infusion_minutes: Option<u32>,
    /// Whether the infusion start and stop (or a duration) are documented.
    pub infusion_start_ev: Option<EvRef>,
    /// Infusion end evidence.
    pub infusion_end_ev: Option<EvRef>,
    /// E/M notes judged to be copies of the session note: (note index, similarity).
    pub em_copies: Vec<(usize, f64)>,
    /// The session note is a near-copy of an earlier session of the same
    /// patient (filled in by the pipeline's per-patient pass).
    pub cloned_from: Option<ClonedFrom>,
    /// This esketamine session is the third or later of the patient's
    /// sessions within 7 consecutive days (filled in by the pipeline's
    /// per-patient pass).
    pub sessions_in_week: Option<SessionsInWeek>,
    /// What the patient's other encounters on or before this one's date of
    /// service document (filled in by the pipeline's per-patient course
    /// pass; all false until then).
    pub earlier_docs: EarlierDocs,
}

/// Documentation a course-start encounter may rely on from the patient's
/// other encounters in the input dated on or before it: intake screens and
/// baseline scores are often written once, at a separate visit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EarlierDocs {
    /// Another encounter documents a contraindication screen.
    pub safety_screen: bool,
    /// Another encounter documents a depression severity score.
    pub severity_scale: bool,
}

/// Evidence for an esketamine session over the label's schedule: the
/// patient's earlier administration sessions in the 7 days ending on this
/// one's date of service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionsInWeek {
    /// The earlier sessions in the window, by date: (encounter id, date of service).
    pub others: Vec<(String, NaiveDate)>,
}

/// Evidence for a cloned session note.
#[derive(Debug, Clone)]
pub struct ClonedFrom {
    /// Index of this encounter's note that is the copy.
    pub note: usize,
    /// The earlier note it copies.
    pub other_note_id: String,
    /// The earlier note's encounter.
    pub other_encounter_id: String,
    /// The earlier note's date of service.
    pub other_date: NaiveDate,
    /// Estimated Jaccard similarity of the two notes' word 5-shingles.
    pub similarity: f64,
}

impl Encounter {
    /// Evidence item behind a reference.
    pub fn ev(&self, r: EvRef) -> &Evidence {
        &self.notes[r.0].facts.evidence[r.1]
    }
    /// Snippet of an evidence item.
    pub fn snippet(&self, r: EvRef) -> &str {
        self.notes[r.0].facts.snippets.get(r.1).map(|s| &**s).unwrap_or("")
    }
    /// All counting evidence of a kind across notes.
    pub fn counting(&self, kind: EvKind) -> Vec<EvRef> {
        let mut v = Vec::new();
        for (n, note) in self.notes.iter().enumerate() {
            v.extend(note.facts.counting(kind).map(|i| (n, i)));
        }
        v
    }
    /// All evidence of a kind across notes (any assertion).
    pub fn all(&self, kind: EvKind) -> Vec<EvRef> {
        let mut v = Vec::new();
        for (n, note) in self.notes.iter().enumerate() {
            for (i, e) in note.facts.evidence.iter().enumerate() {
                if e.kind == kind {
                    v.push((n, i));
                }
            }
        }
        v
    }
    /// Billed codes (upper-case).
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.claims.iter().map(|c| c.code.as_str())
    }
    /// Whether a code of this kind is billed.
    pub fn has_kind(&self, dict: &Dictionaries, kind: CodeKind) -> bool {
        self.claims.iter().any(|c| dict.codes.kind(&c.code) == Some(kind))
    }
    /// Lines of a kind.
    pub fn lines_of(&self, dict: &Dictionaries, kind: CodeKind) -> Vec<&ClaimLine> {
        self.claims.iter().filter(|c| dict.codes.kind(&c.code) == Some(kind)).collect()
    }
    /// Whether an office/outpatient E/M 99202-99215 is billed.
    pub fn em_billed(&self) -> bool {
        self.claims.iter().any(|c| is_em_code(&c.code))
    }
}

/// 99202-99215 (the contract's E/M range).
pub fn is_em_code(code: &str) -> bool {
    matches!(code.parse::<u32>(), Ok(n) if (99202..=99205).contains(&n) || (99211..=99215).contains(&n))
}

/// Merge claim lines: a line repeated on several notes of one encounter (or
/// in the claims file) is one billed line; repeats within one source are kept.
pub fn merge_claims<'a>(sources: impl Iterator<Item = &'a [ClaimLine]>) -> Vec<ClaimLine> {
    let mut max: BTreeMap<String, (usize, ClaimLine)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for src in sources {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for l in src {
            let key = format!("{}|{}|{}|{}", l.code, l.units, l.modifiers.join(";"), l.icd10.join(";"));
            *counts.entry(key.clone()).or_default() += 1;
            let c = counts[&key];
            let e = max.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                (0, l.clone())
            });
            e.0 = e.0.max(c);
        }
    }
    let mut out = Vec::new();
    for k in order {
        let (n, l) = &max[&k];
        for _ in 0..*n {
            out.push(l.clone());
        }
    }
    out
}

/// Compute the evidence columns of an encounter.
pub fn assess(enc: &Encounter, dict: &Dictionaries) -> EncounterFacts {
    let track = classify_track(enc, dict);
    let session_note = pick_session_note(enc);

    // Trials.
    let mut by_drug: BTreeMap<usize, TrialSummary> = BTreeMap::new();
    for (n, note) in enc.notes.iter().enumerate() {
        for t in note.facts.trials.iter().filter(|t| t.counts) {
            let e = by_drug.entry(t.drug).or_insert(TrialSummary {
                drug: t.drug,
                augmentation: t.augmentation,
                daily_mg: None,
                weeks: None,
                has_duration: false,
                has_outcome: false,
                ev: (n, t.ev),
            });
            e.daily_mg = match (e.daily_mg, t.daily_mg) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            e.weeks = match (e.weeks, t.weeks) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            e.has_duration |= t.has_duration;
            e.has_outcome |= t.has_outcome;
        }
    }
    let trials: Vec<TrialSummary> = by_drug.into_values().collect();
    let antidepressant_trials = trials.iter().filter(|t| !t.augmentation).count() as u32;
    let adequate_trials = trials.iter().filter(|t| !t.augmentation && t.adequate()).count() as u32;
    let vague_trial_history = !enc.counting(EvKind::VagueHistory).is_empty() && adequate_trials < 2;

    // Dosing times.
    let dose_times: Vec<(Clock, EvRef)> =
        enc.notes.iter().enumerate().flat_map(|(n, note)| note.facts.timing.dose_times.iter().map(move |(c, i)| (*c, (n, *i)))).collect();
    let first_dose = dose_times.iter().map(|d| d.0).min();
    let last_dose = dose_times.iter().max_by_key(|d| d.0).copied();

    // BP readings.
    let mut bps: Vec<BpSummary> = Vec::new();
    let mut raw: Vec<(usize, Option<Clock>, BpSummary)> = Vec::new();
    for (n, note) in enc.notes.iter().enumerate() {
        for b in &note.facts.bps {
            let clock_phase = match (b.clock, first_dose) {
                (Some(c), Some(d)) => Some(if c <= d { Phase::Pre } else { Phase::Post }),
                _ => None,
            };
            // A clock strictly before the first dose outweighs a post-dose
            // reading of the wording: "seated 10 min", "repeat" and "after
            // rest" describe a pre-dose recheck as often as a post-dose one.
            let before_dose = matches!((b.clock, first_dose), (Some(c), Some(d)) if c < d);
            let phase = if b.worded == Phase::Post && !b.at_discharge && before_dose {
                Phase::Pre
            } else if b.worded != Phase::Unknown {
                b.worded
            } else if let Some(p) = clock_phase {
                p
            } else if b.section != Phase::Unknown {
                b.section
            } else {
                b.positional
            };
            let offset_min = match (b.offset_min, b.clock, first_dose) {
                (Some(_), Some(c), Some(d)) if phase == Phase::Pre && before_dose => Some(c.0 as i64 - d.0 as i64),
                (Some(o), _, _) => Some(o as i64),
                (None, Some(c), Some(d)) => Some(c.0 as i64 - d.0 as i64),
                _ => None,
            };
            raw.push((n, b.clock, BpSummary { sys: b.sys, dia: b.dia, phase, offset_min, at_discharge: b.at_discharge, ev: (n, b.ev) }));
        }
    }
    let mut kept: Vec<(usize, Option<Clock>)> = Vec::new();
    for (n, clock, b) in raw {
        let dup = bps.iter().zip(kept.iter()).any(|(k, (kn, kc))| {
            if k.sys != b.sys || k.dia != b.dia {
                return false;
            }
            let clocks_differ = matches!((kc, clock), (Some(a), Some(c)) if a != &c);
            let same_note = *kn == n;
            let phases_differ = same_note
                && (k.phase != b.phase && k.phase != Phase::Unknown && b.phase != Phase::Unknown
                    || k.at_discharge != b.at_discharge
                    || matches!((k.offset_min, b.offset_min), (Some(x), Some(y)) if x != y));
            !(clocks_differ || phases_differ)
        });
        if !dup {
            kept.push((n, clock));
            bps.push(b);
        }
    }
    let treated = track != Track::None;
    let pre_dose_bp = treated && bps.iter().any(|b| b.phase == Phase::Pre);
    let post_dose_bp = treated && bps.iter().any(|b| b.phase == Phase::Post);
    let bp_reading_count = bps.len() as u32;

    // Monitoring minutes.
    let (monitoring_minutes, monitoring_ev, infusion_minutes, infusion_start_ev, infusion_end_ev) =
        monitoring(enc, track, last_dose, &dose_times);

    // Discharge readiness.
    let ready = enc.counting(EvKind::DischargeReady);
    let transport = enc.counting(EvKind::Transport);
    let mut transport_ids: Vec<&str> = transport.iter().map(|r| enc.ev(*r).entry_id.as_str()).collect();
    transport_ids.sort();
    transport_ids.dedup();
    let discharge_criteria_documented =
        !ready.is_empty() || transport_ids.len() >= 2 || (!transport_ids.is_empty() && !enc.counting(EvKind::Resolution).is_empty());

    let rems_documented = !enc.counting(EvKind::Rems).is_empty();
    // The column says an approved authorization is documented (data
    // contract: number, approval, dates). Whether its dates cover this date of
    // service is pa-missing-or-after-dos's question, not the column's.
    let prior_auth_documented = !enc.counting(EvKind::PriorAuth).is_empty();

    // Dose.
    let (dose_mg, dose_ev) = dose(enc, track, session_note);

    // Billing.
    let drug_lines = enc.lines_of(dict, CodeKind::EskDrug);
    let billed_drug_units = if drug_lines.is_empty() { None } else { Some(drug_lines.iter().map(|l| l.units).sum::<f64>().round() as u32) };
    let units_match_dose = match (billed_drug_units, dose_mg) {
        (Some(u), Some(d)) => Some((u as f64 - d).abs() < 0.5),
        _ => None,
    };

    // Diagnoses.
    let mut billed: Vec<String> = enc.claims.iter().flat_map(|c| c.icd10.iter().cloned()).collect();
    let from_claims = !billed.is_empty();
    if billed.is_empty() && enc.claims.is_empty() {
        billed = enc.notes.iter().flat_map(|n| n.facts.icd10.iter().map(|c| c.0.clone())).collect();
    }
    billed.sort();
    billed.dedup();
    let icd10_specific = if billed.is_empty() {
        None
    } else {
        let fcodes: Vec<&String> = billed.iter().filter(|c| c.starts_with('F')).collect();
        let considered: Vec<&String> = if fcodes.is_empty() { billed.iter().collect() } else { fcodes };
        Some(considered.iter().any(|c| !is_weak_icd(c, enc.date_of_service, dict)))
    };

    // Separate E/M documentation.
    let (separate_em_documentation, em_copies) = separate_em(enc, track, session_note);

    EncounterFacts {
        track,
        antidepressant_trials,
        adequate_trials,
        vague_trial_history,
        pre_dose_bp,
        post_dose_bp,
        bp_reading_count,
        monitoring_minutes,
        discharge_criteria_documented,
        rems_documented,
        prior_auth_documented,
        dose_mg,
        billed_drug_units,
        units_match_dose,
        icd10_codes: billed,
        icd10_from_claims: from_claims,
        icd10_specific,
        separate_em_documentation,
        trials,
        bps,
        first_dose,
        session_note,
        monitoring_ev,
        dose_ev,
        infusion_minutes,
        infusion_start_ev,
        infusion_end_ev,
        em_copies,
        cloned_from: None,
        sessions_in_week: None,
        earlier_docs: EarlierDocs::default(),
    }
}

/// Unspecified or weak for medical necessity: the weak and remission lists,
/// any code whose ICD-10-CM title says "unspecified", and codes that are not
/// valid billable codes.
pub fn is_weak_icd(code: &str, dos: NaiveDate, dict: &Dictionaries) -> bool {
    let g = &dict.codes.icd;
    if g.weak.iter().any(|w| w == code) || g.remission.iter().any(|w| w == code) {
        return true;
    }
    let t = icd10cm();
    if matches!(t.validity(code, dos), IcdValidity::NotACode | IcdValidity::Header) {
        return true;
    }
    t.title(code).is_some_and(|title| title.to_ascii_lowercase().contains("unspecified"))
}

fn classify_track(enc: &Encounter, dict: &Dictionaries) -> Track {
    let has = |k: CodeKind| enc.has_kind(dict, k);
    let esk_codes = has(CodeKind::EskDrug) || has(CodeKind::EskGcode);
    let mut esk = 0u32;
    let mut iv = 0u32;
    let mut oral = 0u32;
    let mut admin = false;
    let mut infusion_evidence = false;
    for n in &enc.notes {
        let f = &n.facts;
        esk += f.track.esketamine;
        iv += f.track.iv;
        oral += f.track.oral;
        admin |= !f.timing.dose_times.is_empty() || !f.doses.is_empty() || f.timing.first_admin_pos.is_some();
        infusion_evidence |= f.mg_per_kg.is_some() || !f.timing.infusion_end.is_empty() || f.timing.infusion_minutes.is_some();
    }
    let iv_codes = has(CodeKind::InfusionInitial) || has(CodeKind::Push) || has(CodeKind::InfusionAddl);
    if iv_codes && (iv > 0 || has(CodeKind::UnlistedDrug)) {
        iv += 2;
    }
    if infusion_evidence && iv > 0 {
        iv += 1;
    }
    // Collaborative care (CoCM) is the primary care practice's monthly care
    // management: its notes discuss esketamine as a referral or an option,
    // never give it. With no administration documented, an encounter whose
    // claim lines or notes are all CoCM is on no ketamine track.
    let cocm_claims = !enc.claims.is_empty() && enc.claims.iter().all(|c| dict.codes.kind(&c.code) == Some(CodeKind::Cocm));
    let cocm_notes = enc.notes.iter().all(|n| n.meta.note_type.as_deref().is_some_and(cocm_note_type));
    if !admin && (cocm_claims || cocm_notes) {
        return Track::None;
    }
    // A visit that only plans the treatment ("will start esketamine
    // induction once Cigna approves", "referred for IV ketamine") with no
    // dose given, no treatment code and no treatment note type is an
    // evaluation, not a treatment encounter. (Oral ketamine is prescribed
    // for home use at such a visit, so it keeps its track.)
    let treatment_note_type = enc.notes.iter().any(|n| {
        n.meta.note_type.as_deref().is_some_and(|t| {
            let l = t.to_ascii_lowercase();
            ["spravato", "esketamine", "ketamine", "infusion"].iter().any(|k| l.contains(k))
        })
    });
    let planned_only = !admin
        && !esk_codes
        && !iv_codes
        && !treatment_note_type
        && enc.notes.iter().any(|n| n.facts.counting(EvKind::Initiation).next().is_some());
    if planned_only {
        esk = 0;
        iv = 0;
    }
    let esk_ok = esk > 0 && (admin || esk >= 2);
    let iv_ok = iv > 0 && (admin || infusion_evidence || iv_codes || iv >= 2);
    // Oral ketamine is also prescribed for home use at a (telehealth) visit:
    // an affirmed, current oral-route mention is the track without an
    // in-clinic administration.
    let oral_ok = oral > 0;
    // The documentation decides the track; an esketamine code decides it
    // only when the notes do not document a different ketamine treatment
    // (an IV infusion wrongly billed S0013 is an IV encounter with a coding
    // error, which the coding rules report).
    if esk_codes && (esk > 0 || !(iv_ok || oral_ok)) {
        return Track::Esketamine;
    }
    let mut best = Track::None;
    let mut score = 0;
    for (t, s, ok) in [(Track::Esketamine, esk, esk_ok), (Track::IvKetamine, iv, iv_ok), (Track::OralKetamine, oral, oral_ok)] {
        if ok && s > score {
            best = t;
            score = s;
        }
    }
    best
}

fn pick_session_note(enc: &Encounter) -> Option<usize> {
    let mut best: Option<(i64, usize)> = None;
    for (i, n) in enc.notes.iter().enumerate() {
        let f = &n.facts;
        let nt = n.meta.note_type.as_deref().unwrap_or("");
        let mut s = (f.track.esketamine + f.track.iv + f.track.oral) as i64
            + 3 * f.timing.dose_times.len() as i64
            + 2 * f.doses.len() as i64
            + f.bps.len() as i64;
        if session_note_type(nt) && !em_note_type(nt) {
            s += 5;
        }
        if psychotherapy_note_type(nt) {
            s -= 10;
        }
        if s > 0 && best.is_none_or(|b| s > b.0) {
            best = Some((s, i));
        }
    }
    best.map(|b| b.1)
}

type MonitoringOut = (Option<u32>, Option<EvRef>, Option<u32>, Option<EvRef>, Option<EvRef>);

fn monitoring(enc: &Encounter, track: Track, last_dose: Option<(Clock, EvRef)>, dose_times: &[(Clock, EvRef)]) -> MonitoringOut {
    let collect = |f: fn(&NoteFacts) -> &Vec<(Clock, usize)>| -> Vec<(Clock, EvRef)> {
        enc.notes.iter().enumerate().flat_map(|(n, note)| f(&note.facts).iter().map(move |(c, i)| (*c, (n, *i)))).collect()
    };
    let mon_start = collect(|f| &f.timing.monitor_start);
    let mon_end = collect(|f| &f.timing.monitor_end);
    let discharge = collect(|f| &f.timing.discharge);
    let inf_end = collect(|f| &f.timing.infusion_end);
    let stated: Vec<(u32, EvRef)> = enc
        .notes
        .iter()
        .enumerate()
        .flat_map(|(n, note)| note.facts.timing.stated_minutes.iter().map(move |(m, i)| (*m, (n, *i))))
        .collect();
    let inf_stated: Option<(u32, EvRef)> =
        enc.notes.iter().enumerate().find_map(|(n, note)| note.facts.timing.infusion_minutes.map(|(m, i)| (m, (n, i))));

    let first_dose = dose_times.iter().min_by_key(|d| d.0).copied();
    let infusion_end = inf_end.iter().max_by_key(|d| d.0).copied().or_else(|| match (first_dose, inf_stated) {
        (Some((c, _)), Some((m, r))) => Some((Clock(c.0 + m), r)),
        _ => None,
    });
    let infusion_minutes = match (first_dose, inf_end.iter().max_by_key(|d| d.0)) {
        (Some((s, _)), Some((e, _))) if e.0 > s.0 => Some(e.0 - s.0),
        _ => inf_stated.map(|s| s.0),
    };
    let infusion_start_ev = if track == Track::IvKetamine { first_dose.map(|d| d.1) } else { None };
    // A stated length ("over 40 min") is not a documented stop time.
    let infusion_end_ev = if track == Track::IvKetamine { inf_end.iter().max_by_key(|d| d.0).map(|d| d.1) } else { None };

    if track == Track::None {
        return (None, None, infusion_minutes, infusion_start_ev, infusion_end_ev);
    }
    if let Some((m, r)) = stated.iter().max_by_key(|s| s.0) {
        return (Some(*m), Some(*r), infusion_minutes, infusion_start_ev, infusion_end_ev);
    }
    let earliest = |v: &[(Clock, EvRef)]| v.iter().min_by_key(|d| d.0).copied();
    let start = match track {
        Track::Esketamine => last_dose.or(earliest(&mon_start)),
        Track::IvKetamine => infusion_end.or(earliest(&mon_start)),
        Track::OralKetamine => first_dose.or(earliest(&mon_start)),
        Track::None => None,
    };
    // The latest end within ten hours after the start: a year read as a
    // clock time ("d/c 2023" in a trial line) is no end of this session.
    let plausible = |e: &Clock| start.is_none_or(|(s, _)| span_minutes(s, *e).is_some());
    let latest =
        |v: &[(Clock, EvRef)]| v.iter().filter(|d| plausible(&d.0)).max_by_key(|d| d.0).or_else(|| v.iter().max_by_key(|d| d.0)).copied();
    let end = match track {
        Track::Esketamine | Track::OralKetamine => latest(&mon_end).or(latest(&discharge)),
        Track::IvKetamine => latest(&discharge).or(latest(&mon_end)),
        Track::None => None,
    };
    let minutes = match (start, end) {
        (Some((s, _)), Some((e, _))) => span_minutes(s, e),
        _ => None,
    };
    (minutes, minutes.and(end.map(|e| e.1)), infusion_minutes, infusion_start_ev, infusion_end_ev)
}

/// Minutes from `s` to `e`, across noon when a 12-hour time was read in the
/// morning, when that makes 1 to 600 minutes.
fn span_minutes(s: Clock, e: Clock) -> Option<u32> {
    let mut d = e.0 as i64 - s.0 as i64;
    if d <= 0 && d + 720 > 0 && d + 720 <= 600 {
        d += 720;
    }
    (d > 0 && d <= 600).then_some(d as u32)
}

fn dose(enc: &Encounter, track: Track, session: Option<usize>) -> (Option<f64>, Option<EvRef>) {
    if track == Track::None {
        return (None, None);
    }
    let mut cands: Vec<(u8, f64, EvRef, bool)> = Vec::new();
    for (n, note) in enc.notes.iter().enumerate() {
        for d in &note.facts.doses {
            let id = note.facts.evidence[d.ev].entry_id.as_str();
            let fits = match track {
                Track::Esketamine => matches!(id, "total-dose" | "esketamine-mg" | "device-count" | "device-log"),
                _ => matches!(id, "total-dose" | "ketamine-mg"),
            };
            if fits {
                cands.push((d.priority, d.mg, (n, d.ev), Some(n) == session));
            }
        }
    }
    // A weight-based dose (IV, or an oral solution dosed per kg) is the product.
    if matches!(track, Track::IvKetamine | Track::OralKetamine) && !cands.iter().any(|c| c.0 >= 3) {
        for (n, note) in enc.notes.iter().enumerate() {
            if let (Some((k, ev)), Some((w, _))) = (note.facts.mg_per_kg, note.facts.weight_kg) {
                let mg = (k * w * 10.0).round() / 10.0;
                return (Some(mg), Some((n, ev)));
            }
        }
    }
    if track == Track::Esketamine {
        cands.retain(|c| c.1 > 0.0 && c.1 <= 112.0);
    }
    let top = cands.iter().map(|c| c.0).max();
    let Some(top) = top else { return (None, None) };
    let best: Vec<&(u8, f64, EvRef, bool)> = cands.iter().filter(|c| c.0 == top).collect();
    // Most frequent value among the top priority; ties: the session note's, then the last.
    let mut freq: Vec<(f64, usize, bool, EvRef)> = Vec::new();
    for c in &best {
        if let Some(f) = freq.iter_mut().find(|f| (f.0 - c.1).abs() < 1e-9) {
            f.1 += 1;
            f.2 |= c.3;
            f.3 = c.2;
        } else {
            freq.push((c.1, 1, c.3, c.2));
        }
    }
    freq.sort_by_key(|a| (a.1, a.2));
    freq.last().map(|f| (Some(f.0), Some(f.3))).unwrap_or((None, None))
}

fn separate_em(enc: &Encounter, track: Track, session: Option<usize>) -> (Option<bool>, Vec<(usize, f64)>) {
    let mut copies = Vec::new();
    if !enc.em_billed() {
        // Still report copies for the em-copies-session-note rule on E/M-typed notes.
        return (None, copies);
    }
    let mut separate = false;
    for (i, n) in enc.notes.iter().enumerate() {
        if Some(i) == session && track != Track::None {
            // For a telehealth or medication-management visit (oral ketamine
            // is prescribed and reviewed at such visits) the visit note is
            // the E/M documentation; an in-clinic session note needs its own
            // E/M section.
            let nt = n.meta.note_type.as_deref().unwrap_or("").to_ascii_lowercase();
            let pos = n.meta.place_of_service.as_deref().or(enc.place_of_service.as_deref()).unwrap_or("");
            let visit = track == Track::OralKetamine
                || matches!(pos, "02" | "10")
                || ["telehealth", "telemedicine", "video", "med management", "medication management", "med check"]
                    .iter()
                    .any(|k| nt.contains(k));
            if n.facts.em.em_section_complete || (visit && !n.facts.em.stub && n.facts.em.words >= 40) {
                separate = true;
            }
            continue;
        }
        let nt = n.meta.note_type.as_deref().unwrap_or("");
        let em = n.facts.em;
        // "Psychiatry Visit + Psychotherapy": an E/M with psychotherapy added on.
        if psychotherapy_note_type(nt) && !em_note_type(nt) && !em.em_section {
            continue;
        }
        if em.stub {
            continue;
        }
        if let Some(s) = session.filter(|s| *s != i) {
            let (a, b) = (&enc.notes[s].facts.sketch, &n.facts.sketch);
            let sim = b.similarity(a);
            // Share of this note's text found in the session note (from the
            // Jaccard estimate and the two shingle counts): a copy of the
            // session note with an assessment line added, or an abridged
            // copy (lines shortened, a plan line added), is still a copy.
            // Measured on the committed sets' note pairs: copies contain
            // 0.77-0.98 of their 5-shingles, separately written notes under
            // 0.3; 0.65 leaves room for the MinHash estimate's error.
            let contained = if b.shingles > 0 && sim > 0.0 {
                (sim / (1.0 + sim) * (a.shingles + b.shingles) as f64 / b.shingles as f64).min(1.0)
            } else {
                0.0
            };
            if sim >= 0.75 || contained >= 0.65 {
                copies.push((i, sim));
                continue;
            }
        }
        let parts = [em.history, em.assessment, em.plan, em.exam].iter().filter(|b| **b).count();
        // Without a ketamine session the billed E/M is the visit itself
        // (medication management, telehealth): its note documents it.
        let visit_note = track == Track::None && (em.words >= 15 || parts >= 1);
        if parts >= 2 || (em_note_type(nt) && em.words >= 40) || visit_note || em.em_section_complete {
            separate = true;
        }
    }
    (Some(separate), copies)
}

/// A one-note encounter for tests: patient p1, 2026-02-10, an MD at POS 11,
/// the note run through the built-in extractor.
#[cfg(test)]
pub(crate) fn test_encounter(note_type: &str, text: &str, claims: Vec<ClaimLine>) -> Encounter {
    let ex = crate::extract::Extractor::builtin();
    let meta = NoteMeta {
        note_id: "n1".into(),
        encounter_id: "e1".into(),
        patient_id: "p1".into(),
        date_of_service: NaiveDate::from_ymd_opt(2026, 2, 10).unwrap(),
        provider_id: None,
        provider_credential: Some("MD".into()),
        payer: None,
        note_type: Some(note_type.into()),
        place_of_service: Some("11".into()),
        claim_lines: claims.clone(),
    };
    Encounter {
        encounter_id: "e1".into(),
        patient_id: "p1".into(),
        date_of_service: meta.date_of_service,
        provider_id: None,
        payer: None,
        place_of_service: Some("11".into()),
        notes: vec![NoteRecord { facts: ex.extract_text(text, Some(note_type)), meta }],
        claims,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(code: &str, units: f64) -> ClaimLine {
        ClaimLine { code: code.into(), units, modifiers: vec![], icd10: vec![], place_of_service: None }
    }

    #[test]
    fn claims_merge_by_max_multiplicity() {
        let a = vec![line("S0013", 56.0), line("99214", 1.0)];
        let b = vec![line("S0013", 56.0)];
        let m = merge_claims([a.as_slice(), b.as_slice()].into_iter());
        assert_eq!(m.len(), 2);
        let c = vec![line("96366", 1.0), line("96366", 1.0)];
        assert_eq!(merge_claims([c.as_slice()].into_iter()).len(), 2);
    }

    #[test]
    fn clock_before_the_first_dose_makes_a_recheck_pre_dose() {
        let ex = crate::extract::Extractor::builtin();
        let text = "| Time | Event | BP | HR |\n|---|---|---|---|\n| 08:02 | arrival | 150/95 | 82 |\n| 08:14 | seated 10 min | 136/84 | 74 |\n| 08:20 | device 1 (28 mg) | | |\n| 08:25 | device 2 (28 mg) | | |\n| 09:05 | 40 min | 134/82 | 76 |\n";
        let enc = test_encounter("Spravato Treatment Note", text, vec![]);
        let f = assess(&enc, ex.dict);
        let ph: Vec<_> = f.bps.iter().map(|b| (format!("{}/{}", b.sys, b.dia), b.phase, b.offset_min)).collect();
        // "seated 10 min" at 08:14 is a recheck before the 08:20 device, not 10 minutes post-dose.
        assert_eq!(
            ph,
            vec![
                ("150/95".into(), Phase::Pre, Some(-18)),
                ("136/84".into(), Phase::Pre, Some(-6)),
                ("134/82".into(), Phase::Post, Some(40))
            ]
        );
    }

    #[test]
    fn a_year_read_as_a_discharge_time_does_not_end_the_session() {
        let ex = crate::extract::Extractor::builtin();
        let text = "Spravato session.\nPrior tx: nortriptyline 100 mg/d x 10 wk - no response, d/c 2023; sertraline 150 mg/d x 12 wk - partial, d/c 2024.\n0850 BP 138/84\n0855 / 0900 / 0905 dev 1-2-3 self-admin. 84 mg.\n0935 BP 146/88\n1110 d/c criteria met, gait steady. D/c w/ wife driving.";
        let enc = test_encounter("Spravato Treatment Note", text, vec![line("J0013", 84.0)]);
        let f = assess(&enc, ex.dict);
        assert_eq!(f.monitoring_minutes, Some(125));
        assert_eq!(span_minutes(Clock(9 * 60 + 5), Clock(20 * 60 + 23)), None);
        assert_eq!(span_minutes(Clock(11 * 60 + 30), Clock(60 + 40)), Some(130));
    }

    #[test]
    fn a_cocm_month_that_refers_for_esketamine_is_on_no_track() {
        let ex = crate::extract::Extractor::builtin();
        let text = "Care manager log. PHQ-9 18. Consultant recommends esketamine; pt prefers esketamine over aripiprazole 2 mg. Referred to the Spravato program at Eastside; will start esketamine once the plan approves. Total 40 min.";
        let enc = test_encounter("Progress Note", text, vec![line("99493", 1.0)]);
        assert_eq!(classify_track(&enc, ex.dict), Track::None);
        let enc = test_encounter("CoCM Monthly Log", text, vec![]);
        assert_eq!(classify_track(&enc, ex.dict), Track::None);
        // The same words in a note of the treating practice keep the track.
        let enc = test_encounter(
            "Spravato Session",
            "Esketamine 56 mg, devices at 09:00 and 09:05. Esketamine tolerated.",
            vec![line("99493", 1.0)],
        );
        assert_eq!(classify_track(&enc, ex.dict), Track::Esketamine);
    }

    #[test]
    fn an_evaluation_that_only_plans_the_treatment_is_on_no_track() {
        let ex = crate::extract::Extractor::builtin();
        let text = "Assessment: MDD, recurrent, severe; two failed trials. Plan: start Spravato 56 mg induction; esketamine REMS enrollment and PA to follow, 2-hour monitoring explained.";
        let enc = test_encounter("Psychiatric Evaluation", text, vec![line("90792", 1.0)]);
        assert_eq!(classify_track(&enc, ex.dict), Track::None);
        // On a treatment note type, or with a dose given, it is the course.
        let enc = test_encounter("Spravato Intake", text, vec![]);
        assert_eq!(classify_track(&enc, ex.dict), Track::Esketamine);
    }

    #[test]
    fn an_abridged_copy_of_the_session_note_is_a_copy() {
        let ex = crate::extract::Extractor::builtin();
        let session = "Esketamine session 02/10/2026, week 3, session 6 (prior 2/3, 2/6).\nMDD, recurrent, severe without psychotic features (F33.2).\nPrior trials: sertraline 200 mg daily x 10 weeks (2024), no response; venlafaxine XR 225 mg daily x 8 weeks (2025), partial, stopped for sweating.\nVitals: 09:00 BP 126/80 HR 70 (pre); 09:55 BP 134/84 HR 74 (40 min); 11:10 BP 122/78 HR 68.\nDosing: 84 mg, 3 devices at 09:05, 09:10 and 09:15, self-administered under direct observation; prescriber on site; no take-home.\nMonitoring: mild dissociation at 09:40, resolved 10:30; SpO2 96-99% continuous; no respiratory depression.\nDischarge 11:18: criteria met, alert, steady gait. Wife driving; no driving until tomorrow.";
        let abridged = "OFFICE VISIT 02/10/2026\nEsketamine session, week 3, session 6 (prior 2/3, 2/6).\nMDD, recurrent, severe without psychotic features (F33.2).\nPrior trials: sertraline 200 mg daily x 10 weeks (2024), no response; venlafaxine XR 225 mg daily x 8 weeks (2025), partial, stopped for sweating.\nVitals: 09:00 BP 126/80 HR 70 (pre); 09:55 BP 134/84 HR 74 (40 min); 11:10 BP 122/78 HR 68.\nDosing: 84 mg, 3 devices at 09:05, 09:10 and 09:15, self-administered under direct observation.\nMonitoring: mild dissociation at 09:40, resolved 10:30.\nDischarge 11:18: criteria met.\nPlan: continue. 99214-25.";
        let own = "Office visit. CC: new panic attacks at work for two weeks. HPI: three episodes with palpitations and chest tightness, no triggers, caffeine cut down, sleep 6 h. Exam: anxious, linear, no SI. Assessment: panic disorder, new problem. Plan: start propranolol 10 mg prn, CBT referral, TSH ordered; return in 4 weeks.";
        for (text, copy) in [(abridged, true), (own, false)] {
            let mut enc = test_encounter("Spravato Session Note", session, vec![line("J0013", 84.0), line("99214", 1.0)]);
            let mut meta = enc.notes[0].meta.clone();
            meta.note_id = "n2".into();
            meta.note_type = Some("Office Visit".into());
            enc.notes.push(NoteRecord { facts: ex.extract_text(text, Some("Office Visit")), meta });
            let (separate, copies) = separate_em(&enc, Track::Esketamine, Some(0));
            assert_eq!(!copies.is_empty(), copy, "{copies:?}");
            assert_eq!(separate, Some(!copy));
        }
    }

    #[test]
    fn em_range() {
        assert!(is_em_code("99214"));
        assert!(is_em_code("99202"));
        assert!(!is_em_code("99201"));
        assert!(!is_em_code("99417"));
    }
}
