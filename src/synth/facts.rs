//! Decided facts: everything the generator chooses about an encounter before
//! any text is written. Gold labels and planted-rule ids are computed from
//! these structs only (never by reading the rendered text back), so the
//! renderer's job is to express exactly these facts and nothing more.

use super::rng::Rng;
use super::vocab::ANTIDEPRESSANTS;
use chrono::NaiveDate;

/// Treatment track of an encounter (the gold `track` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Track {
    Esk,
    Iv,
    Oral,
    None,
}

impl Track {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Track::Esk => "esketamine",
            Track::Iv => "iv_ketamine",
            Track::Oral => "oral_ketamine",
            Track::None => "none",
        }
    }
}

/// One documented antidepressant trial.
#[derive(Debug, Clone)]
pub(crate) struct Trial {
    pub drug: usize,
    /// 0 = generic name, n = alias n-1.
    pub alias: usize,
    pub dose: Option<u32>,
    pub weeks: Option<u32>,
    pub outcome: usize,
}

impl Trial {
    pub(crate) fn adequate(&self) -> bool {
        self.dose.is_some() && self.weeks.is_some()
    }
    pub(crate) fn name(&self) -> &'static str {
        let d = &ANTIDEPRESSANTS[self.drug];
        if self.alias == 0 {
            d.generic
        } else {
            d.aliases[self.alias - 1]
        }
    }
}

/// Trial-history distractors: none of them is a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Distractor {
    NegatedClass,
    Negated(usize),
    Hypothetical(usize),
    Declined(usize),
    Family(usize),
    Augmentation(usize),
    SleepDose(u8),
    CurrentMed(usize),
}

impl Distractor {
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Distractor::NegatedClass | Distractor::Negated(_) => "d:trial_negated",
            Distractor::Hypothetical(_) => "d:trial_hypothetical",
            Distractor::Declined(_) => "d:trial_declined",
            Distractor::Family(_) => "d:trial_family",
            Distractor::Augmentation(_) => "d:augmentation_trial",
            Distractor::SleepDose(_) => "d:sleep_dose",
            Distractor::CurrentMed(_) => "d:current_med_list",
        }
    }
}

/// The patient's treatment history as documented.
#[derive(Debug, Clone)]
pub(crate) struct History {
    pub trials: Vec<Trial>,
    pub vague: Option<usize>,
    pub distractors: Vec<Distractor>,
}

impl History {
    pub(crate) fn adequate(&self) -> u32 {
        self.trials.iter().filter(|t| t.adequate()).count() as u32
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.trials.is_empty() && self.vague.is_none()
    }
}

/// A REMS statement's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tri {
    Affirmed,
    Negated,
    Absent,
}

/// Prior authorization as documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pa {
    Approved { number: String, from: NaiveDate, to: NaiveDate },
    Pending,
    Denied,
    NotRequired,
    Absent,
}

/// One blood-pressure reading, at a minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bp {
    pub sys: u32,
    pub dia: u32,
    pub at: u32,
    pub hr: u32,
    pub spo2: u32,
    /// Whether the reading's clock time is written next to it.
    pub timed: bool,
}

/// Main layout of a rendered note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Flowsheet,
    Narrative,
    Shorthand,
    Soap,
    PipeTable,
    TabTable,
    Log,
}

impl Layout {
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Layout::Flowsheet => "flowsheet",
            Layout::Narrative => "narrative",
            Layout::Shorthand => "nurse_shorthand",
            Layout::Soap => "soap",
            Layout::PipeTable => "pipe_table",
            Layout::TabTable => "tab_table",
            Layout::Log => "timestamped_log",
        }
    }
}

/// Clock format for times in a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFmt {
    H24,
    H12,
    Compact,
}

/// Surface style of a note (independent of content).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub layout: Layout,
    pub tfmt: TimeFmt,
    pub caps: bool,
    pub crlf: bool,
    pub typos: bool,
    pub long: bool,
}

/// IV infusion facts.
#[derive(Debug, Clone)]
pub(crate) struct IvFacts {
    pub weight: u32,
    pub mgkg: f64,
    pub minutes: u32,
    pub show_weight: bool,
    pub show_mgkg: bool,
    pub show_total: bool,
    pub show_start: bool,
    pub show_stop: bool,
    pub indication: bool,
    pub dissociation: bool,
    pub post_status: bool,
    pub escort: bool,
    pub followup: bool,
}

impl IvFacts {
    pub(crate) fn dose(&self) -> Option<f64> {
        let product = (self.mgkg * f64::from(self.weight) * 10.0).round() / 10.0;
        if self.show_total || (self.show_weight && self.show_mgkg) {
            Some(product)
        } else {
            None
        }
    }
}

/// Oral/sublingual ketamine facts.
#[derive(Debug, Clone)]
pub(crate) struct OralFacts {
    pub mg: u32,
    pub tele: bool,
    /// Prescription-only follow-up: nothing administered at this encounter.
    pub rx_only: bool,
    pub form: &'static str,
}

/// Everything expressed by the session (or visit) note.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub style: Style,
    pub near_empty: bool,
    pub session_no: u32,
    pub dx_codes: Vec<&'static str>,
    pub dx_in_text: bool,
    pub history_here: bool,
    pub rems_cert: bool,
    pub rems_enrolled: Tri,
    pub rems_form: Tri,
    pub pa_here: bool,
    pub arrival: u32,
    /// Dosing start (first device, infusion start or oral dose), minute of day.
    pub dose_start: u32,
    pub bps: Vec<Bp>,
    pub pre_alt: Option<&'static str>,
    pub post_alt: Option<&'static str>,
    pub threshold: bool,
    pub phq: Option<u32>,
    pub devices: u32,
    pub device_times_shown: bool,
    pub iv: Option<IvFacts>,
    pub oral: Option<OralFacts>,
    /// End of observation / discharge time, if it happened at a known time.
    pub end_time: Option<u32>,
    pub end_shown: bool,
    pub monitoring_stmt: Option<u32>,
    pub discharge_criteria: bool,
    pub bare_discharge: bool,
    pub prior_dose: Option<u32>,
    pub plan_increase: bool,
    pub em_section: bool,
    pub next_appt: bool,
    pub spravato_mention: bool,
}

impl Session {
    /// Last device (esketamine) time.
    pub(crate) fn last_device(&self) -> u32 {
        self.dose_start + 5 * self.devices.saturating_sub(1)
    }

    /// Start of the post-dose monitoring window for this track.
    pub(crate) fn monitor_from(&self, track: Track) -> Option<u32> {
        match track {
            Track::Esk => Some(self.last_device()),
            Track::Iv => self.iv.as_ref().map(|iv| self.dose_start + iv.minutes),
            Track::Oral => Some(self.dose_start),
            Track::None => None,
        }
    }

    /// Documented monitoring minutes (the gold value).
    pub(crate) fn monitoring_minutes(&self, track: Track) -> Option<u32> {
        if let Some(m) = self.monitoring_stmt {
            return Some(m);
        }
        let from = self.monitor_from(track)?;
        let start_visible = match track {
            Track::Esk => self.device_times_shown,
            Track::Iv => self.iv.as_ref().is_some_and(|iv| iv.show_stop),
            Track::Oral => true,
            Track::None => false,
        };
        match (self.end_time, self.end_shown && start_visible) {
            (Some(end), true) => Some(end - from),
            _ => None,
        }
    }

    pub(crate) fn dose_mg(&self, track: Track) -> Option<f64> {
        match track {
            Track::Esk => Some(f64::from(self.devices * 28)),
            Track::Iv => self.iv.as_ref().and_then(IvFacts::dose),
            Track::Oral => self.oral.as_ref().filter(|o| !o.rx_only).map(|o| f64::from(o.mg)),
            Track::None => None,
        }
    }
}

/// How the separately billed E/M service is documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmDoc {
    /// No E/M billed.
    NotBilled,
    /// Own note with its own history/assessment/plan.
    SeparateNote,
    /// Clearly separate E/M section inside the session note.
    Section,
    /// The visit note itself is the E/M (med management / telehealth).
    VisitNote,
    /// A copy of the session note.
    Copy,
    /// "See nursing note" stub.
    Stub,
    /// Nothing at all.
    Nothing,
}

/// A billed line.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub code: &'static str,
    pub units: u32,
    pub modifiers: Vec<&'static str>,
}

/// Psychotherapy note facts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Psy {
    pub start: u32,
    pub minutes: u32,
}

/// Where a claim's lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimsTo {
    Inline,
    File,
}

/// All decided facts of one encounter.
#[derive(Debug, Clone)]
pub(crate) struct Encounter {
    pub encounter_id: String,
    pub patient_id: String,
    pub date: NaiveDate,
    pub track: Track,
    pub payer: &'static str,
    pub medicare: bool,
    pub pos: &'static str,
    pub session: Session,
    pub session_seed: u64,
    pub cloned: bool,
    pub history: History,
    pub history_in_em: bool,
    pub pa_in_em: bool,
    pub pa: Pa,
    pub em: EmDoc,
    pub em_restates_bp: Option<usize>,
    pub psy: Option<Psy>,
    /// Psychotherapy-only visit: no session/visit note.
    pub psy_only: bool,
    pub lines: Vec<Line>,
    pub claims_to: ClaimsTo,
    /// Credential of the session/visit note author and of the E/M author.
    pub session_cred: &'static str,
    pub session_prov: String,
    pub em_cred: &'static str,
    pub em_prov: String,
    pub psy_cred: &'static str,
    pub psy_prov: String,
    /// Credential of the provider whose note carries/bills the claim.
    pub billing_cred: &'static str,
}

pub(crate) const PRESCRIBERS: &[&str] = &["MD", "DO", "NP", "APRN", "PMHNP", "PA"];

pub(crate) fn is_prescriber(c: &str) -> bool {
    PRESCRIBERS.contains(&c)
}

/// Unspecified / weak diagnosis codes.
pub(crate) const WEAK_DX: &[&str] = &["F32.9", "F33.9", "F32.A", "F39"];
/// Codes that do not exist or are non-billable headers.
pub(crate) const INVALID_DX: &[&str] = &["F33.89", "F32.8", "F33.4"];
/// Specific, active MDD codes.
pub(crate) const SPECIFIC_DX: &[&str] = &["F33.2", "F33.1", "F32.2", "F32.1", "F33.0"];
/// Secondary codes that may accompany a specific primary.
pub(crate) const SECONDARY_DX: &[&str] = &["R45.851", "F41.1", "Z91.51"];

pub(crate) fn is_em(code: &str) -> bool {
    matches!(code, "99202" | "99203" | "99204" | "99205" | "99212" | "99213" | "99214" | "99215")
}

fn has(lines: &[Line], code: &str) -> bool {
    lines.iter().any(|l| l.code == code)
}

fn units_of(lines: &[Line], code: &str) -> u32 {
    lines.iter().filter(|l| l.code == code).map(|l| l.units).sum()
}

fn jan2026() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date")
}

/// Allowed 96366 units for an infusion of `minutes`.
pub(crate) fn allowed_96366(minutes: u32) -> u32 {
    if minutes < 91 {
        0
    } else {
        1 + (minutes - 91) / 60
    }
}

impl Encounter {
    /// Diagnosis codes the gold reads: billed ones, or the ones written in the
    /// notes when nothing is billed.
    pub(crate) fn gold_dx(&self) -> Vec<String> {
        let mut v: Vec<String> = if !self.lines.is_empty() || self.session.dx_in_text {
            self.session.dx_codes.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        };
        v.sort();
        v.dedup();
        v
    }

    pub(crate) fn history_rendered(&self) -> bool {
        (self.session.history_here && !self.session.near_empty) || self.history_in_em
    }

    pub(crate) fn trials_counted(&self) -> (u32, u32, bool) {
        if !self.history_rendered() {
            return (0, 0, false);
        }
        let n = self.history.trials.len() as u32;
        let a = self.history.adequate();
        let vague = self.history.vague.is_some() && a < 2;
        (n, a, vague)
    }

    pub(crate) fn pre_post(&self) -> (bool, bool) {
        if self.track == Track::None {
            return (false, false);
        }
        let s = &self.session;
        let pre = s.bps.iter().any(|b| b.at < s.dose_start);
        let post = s.bps.iter().any(|b| b.at > s.dose_start);
        (pre, post)
    }

    pub(crate) fn separate_em(&self) -> Option<bool> {
        match self.em {
            EmDoc::NotBilled => None,
            EmDoc::SeparateNote | EmDoc::Section | EmDoc::VisitNote => Some(true),
            EmDoc::Copy | EmDoc::Stub | EmDoc::Nothing => Some(false),
        }
    }

    pub(crate) fn billed_drug_units(&self) -> Option<u32> {
        let lines: Vec<&Line> = self.lines.iter().filter(|l| l.code == "S0013" || l.code == "J0013").collect();
        if lines.is_empty() {
            None
        } else {
            Some(lines.iter().map(|l| l.units).sum())
        }
    }

    pub(crate) fn rems_documented(&self) -> bool {
        let s = &self.session;
        self.track == Track::Esk && !s.near_empty && (s.rems_cert || s.rems_enrolled == Tri::Affirmed || s.rems_form == Tri::Affirmed)
    }

    pub(crate) fn pa_rendered(&self) -> bool {
        (self.session.pa_here && !self.session.near_empty) || self.pa_in_em
    }

    pub(crate) fn pa_documented(&self) -> bool {
        self.pa_rendered() && matches!(self.pa, Pa::Approved { .. })
    }

    /// Rule ids whose defect this encounter carries, sorted.
    pub(crate) fn planted(&self) -> Vec<&'static str> {
        let mut p: Vec<&'static str> = Vec::new();
        let t = self.track;
        let s = &self.session;
        let kt = matches!(t, Track::Esk | Track::Iv);
        let dx = self.gold_dx();
        if dx.iter().any(|c| INVALID_DX.contains(&c.as_str())) {
            p.push("dx-code-invalid-on-dos");
        }
        if kt && !dx.iter().any(|c| SPECIFIC_DX.contains(&c.as_str())) {
            p.push("dx-nonspecific-or-remission");
        }
        let (n, a, vague) = self.trials_counted();
        if kt {
            if n < 2 {
                p.push("trd-fewer-than-two-trials");
            }
            if n > a {
                p.push("trd-trial-incomplete");
            }
            if vague {
                p.push("trd-vague-failure-phrase");
            }
            // Cigna's profile asks for trials from two pharmacologic classes.
            let cigna = self.payer.to_ascii_lowercase().contains("cigna");
            if t == Track::Esk && cigna && n >= 2 {
                let drugs = &crate::dict::Dictionaries::builtin().drugs;
                let mut classes: Vec<&str> = self
                    .history
                    .trials
                    .iter()
                    .filter_map(|tr| drugs.iter().find(|d| d.id == ANTIDEPRESSANTS[tr.drug].generic))
                    .map(|d| d.class.as_str())
                    .collect();
                classes.sort_unstable();
                classes.dedup();
                if classes.len() < 2 {
                    p.push("trd-trial-payer-constraints");
                }
            }
        }
        let (pre, _) = self.pre_post();
        let lines = &self.lines;
        let post2026 = self.date >= jan2026();
        if t == Track::Esk {
            if self.medicare && lines.iter().any(|l| matches!(l.code, "G2082" | "G2083") && !l.modifiers.contains(&"KX")) {
                p.push("esk-rems-site-not-certified");
            }
            if s.near_empty || s.rems_enrolled != Tri::Affirmed {
                p.push("esk-rems-patient-not-enrolled");
            }
            if s.near_empty || s.rems_form != Tri::Affirmed {
                p.push("esk-rems-monitoring-form-missing");
            }
            if !pre {
                p.push("esk-missing-predose-bp");
            }
            let forty = s.bps.iter().any(|b| b.at >= s.dose_start + 30 && b.at <= s.dose_start + 55);
            if !forty {
                p.push("esk-missing-40min-bp");
            }
            if s.monitoring_minutes(t).is_none_or(|m| m < 120) {
                p.push("esk-monitoring-under-2h");
            }
            if !s.discharge_criteria {
                p.push("esk-discharge-not-documented");
            }
            let dose = s.devices * 28;
            if let Some(u) = self.billed_drug_units() {
                if u != dose {
                    p.push("esk-units-mismatch-dose");
                }
            }
            if has(lines, "J0222") {
                p.push("esk-wrong-drug-code-j0222");
            }
            let s13 = has(lines, "S0013");
            let j13 = has(lines, "J0013");
            if (s13 && post2026) || (j13 && !post2026) || ((s13 || j13) && self.medicare) {
                p.push("esk-drug-code-invalid-on-dos");
            }
            if (has(lines, "G2082") && dose > 56) || (has(lines, "G2083") && dose <= 56) {
                p.push("esk-gcode-tier-mismatch");
            }
            if (has(lines, "G2082") || has(lines, "G2083")) && (s13 || j13 || has(lines, "J3490")) {
                p.push("esk-gcode-with-drug-code");
            }
        }
        let em_billed = lines.iter().any(|l| is_em(l.code));
        let em25 = lines.iter().any(|l| is_em(l.code) && l.modifiers.contains(&"25"));
        if em25 && self.separate_em() == Some(false) {
            p.push("em-mod25-without-separate-doc");
        }
        let standalone = has(lines, "90832") || has(lines, "90834") || has(lines, "90837");
        let addon = has(lines, "90833") || has(lines, "90836") || has(lines, "90838");
        if (em_billed && standalone) || (addon && !em_billed) {
            p.push("psy-code-pairing-invalid");
        }
        if kt && !self.pa_covers() {
            p.push("pa-missing-or-after-dos");
        }
        let admin = lines
            .iter()
            .any(|l| is_em(l.code) || matches!(l.code, "G2082" | "G2083" | "96365" | "96366" | "96374" | "S0013" | "J0013" | "J3490"));
        if admin && !is_prescriber(self.billing_cred) {
            p.push("prov-non-prescriber-billing-admin");
        }
        if lines.iter().any(|l| matches!(l.code, "99354" | "99355" | "99356" | "99357")) || (has(lines, "S0013") && post2026) {
            p.push("code-deleted-on-dos");
        }
        if let (Track::Iv, Some(iv)) = (t, s.iv.as_ref()) {
            if !iv.show_start || !iv.show_stop {
                p.push("ivk-infusion-times-missing");
            }
            let u66 = units_of(lines, "96366");
            if (iv.minutes <= 15 && has(lines, "96365")) || u66 > allowed_96366(iv.minutes) {
                p.push("ivk-infusion-units-vs-time");
            }
            if !has(lines, "J3490") || has(lines, "J3000") || has(lines, "S0013") || has(lines, "J0013") {
                p.push("ivk-drug-line-incomplete");
            }
            let pre_vitals = pre;
            let pre_ok = iv.indication
                && !self.history.is_empty()
                && self.history_rendered()
                && pre_vitals
                && iv.show_weight
                && iv.show_mgkg
                && iv.show_total;
            if !pre_ok {
                p.push("ivk-pre-infusion-elements-missing");
            }
            let intra = s.bps.iter().any(|b| b.at > s.dose_start && b.at < s.dose_start + iv.minutes);
            let post_ok = intra && iv.dissociation && iv.post_status && s.discharge_criteria && iv.escort && iv.followup;
            if !post_ok {
                p.push("ivk-post-infusion-elements-missing");
            }
        }
        if self.cloned {
            p.push("note-cloned");
        }
        if self.em == EmDoc::Copy {
            p.push("em-copies-session-note");
        }
        p.sort_unstable();
        p.dedup();
        p
    }

    /// An approved authorization whose window contains the date of service.
    pub(crate) fn pa_covers(&self) -> bool {
        match (&self.pa, self.pa_rendered()) {
            (Pa::Approved { from, to, .. }, true) => *from <= self.date && self.date <= *to,
            _ => false,
        }
    }
}

/// A distinct blood pressure value not yet used in `used`.
pub(crate) fn fresh_bp(rng: &mut Rng, used: &mut Vec<(u32, u32)>, sys: (u32, u32), dia: (u32, u32)) -> (u32, u32) {
    loop {
        let v = (rng.r32(sys.0, sys.1), rng.r32(dia.0, dia.1));
        if !used.contains(&v) {
            used.push(v);
            return v;
        }
    }
}
