//! The rule catalogue: metadata, registry, selection and the engine that
//! turns an encounter's evidence into findings.
//!
//! Each rule is declared once with `declare_rule!`: id, severity, tracks,
//! authority, dates and its documentation under the same five headings, next
//! to its check function. `ALL` is the one ordered list of implemented rules;
//! `NOT_IMPLEMENTED` lists catalogue rules the evidence cannot support yet,
//! with why, so nothing is silently left out. Ids are the kebab-case slugs of
//! `../shared/domain/rules-reference.md` and never change meaning.

use chrono::NaiveDate;
use serde::Serialize;

use crate::dict::{Dictionaries, PayerProfile};
use crate::encounter::{Encounter, EncounterFacts, EvRef, Track};

mod coding;
pub mod course;
mod dx;
mod esk;
mod ivk;
mod oral;
mod trd;

pub use esk::{administration_session, over_weekly_limit};

/// Finding severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical: denial or overpayment.
    Critical,
}

impl Severity {
    /// Report value.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    /// Parse a report value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// Which tracks a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    /// Every encounter.
    Any,
    /// Esketamine only.
    Esk,
    /// Esketamine and IV ketamine.
    EskIvk,
    /// Esketamine and IV ketamine sessions, and the intake of neither track
    /// (no dose given) that starts such a course: the course-start rules.
    EskIvkStart,
    /// IV ketamine only.
    Ivk,
    /// IV and oral ketamine.
    IvkOral,
    /// Oral ketamine.
    Oral,
}

impl Applies {
    /// Whether the rule applies to a track.
    pub fn covers(self, t: Track) -> bool {
        match self {
            Applies::Any => true,
            Applies::Esk => t == Track::Esketamine,
            Applies::EskIvk => matches!(t, Track::Esketamine | Track::IvKetamine),
            Applies::EskIvkStart => matches!(t, Track::Esketamine | Track::IvKetamine | Track::None),
            Applies::Ivk => t == Track::IvKetamine,
            Applies::IvkOral => matches!(t, Track::IvKetamine | Track::OralKetamine),
            Applies::Oral => t == Track::OralKetamine,
        }
    }
    /// Catalogue notation.
    pub fn as_str(self) -> &'static str {
        match self {
            Applies::Any => "any",
            Applies::Esk => "esk",
            Applies::EskIvk => "esk, ivk",
            Applies::EskIvkStart => "esk, ivk, their intake",
            Applies::Ivk => "ivk",
            Applies::IvkOral => "ivk, oral",
            Applies::Oral => "oral",
        }
    }
}

/// What a check returns: one hit per finding.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Message in a compliance officer's words.
    pub message: String,
    /// The evidence that fired it, or `None` for absent evidence.
    pub ev: Option<EvRef>,
    /// The note the finding is about when there is no span (e.g. a copied note).
    pub note: Option<usize>,
}

impl Hit {
    /// Absent-evidence hit.
    pub fn absent(message: impl Into<String>) -> Self {
        Hit { message: message.into(), ev: None, note: None }
    }
    /// Hit with evidence.
    pub fn at(message: impl Into<String>, ev: EvRef) -> Self {
        Hit { message: message.into(), ev: Some(ev), note: None }
    }
}

/// Everything a check may read.
pub struct Ctx<'a> {
    /// The encounter.
    pub enc: &'a Encounter,
    /// Its evidence columns.
    pub facts: &'a EncounterFacts,
    /// Dictionaries.
    pub dict: &'a Dictionaries,
    /// The payer's profile.
    pub payer: &'a PayerProfile,
}

/// Check function type.
pub type CheckFn = fn(&Ctx<'_>) -> Vec<Hit>;

/// A rule's metadata and check.
#[derive(Debug)]
pub struct Rule {
    /// Stable id.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Tracks it applies to.
    pub applies: Applies,
    /// Family (id prefix group).
    pub family: &'static str,
    /// Authority: document and section.
    pub authority: &'static str,
    /// First date of service the rule applies to.
    pub valid_from: Option<&'static str>,
    /// Last date of service the rule applies to.
    pub valid_to: Option<&'static str>,
    /// Version of ketaudit that introduced it.
    pub since: &'static str,
    /// Documentation (markdown with the five headings).
    pub docs: &'static str,
    /// The check.
    pub check: CheckFn,
}

impl Rule {
    /// Whether the rule applies on a date of service.
    pub fn in_force(&self, dos: NaiveDate) -> bool {
        let p = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        self.valid_from.and_then(p).is_none_or(|f| dos >= f) && self.valid_to.and_then(p).is_none_or(|t| dos <= t)
    }
    /// One documentation section by heading ("What it checks", ...): the
    /// lines after `## heading` up to the next `## ` heading. Doc comments
    /// keep the space after `///`, so headings and text lines start with one
    /// space; it is removed.
    pub fn doc_section(&self, heading: &str) -> Option<String> {
        let marker = format!("## {heading}");
        let mut lines = self.docs.lines();
        lines.find(|l| l.trim() == marker)?;
        let body: Vec<&str> = lines.take_while(|l| !l.trim_start().starts_with("## ")).map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
        Some(body.join("\n").trim().to_string())
    }
}

/// The documentation headings every rule carries.
pub const DOC_HEADINGS: [&str; 5] = ["What it checks", "Why an auditor cares", "Evidence", "Example", "How to fix"];

/// Declare a rule: doc comments become its documentation.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub $name:ident {
            id: $id:literal,
            severity: $sev:ident,
            applies: $applies:ident,
            family: $fam:literal,
            authority: $auth:literal,
            valid_from: $from:expr,
            valid_to: $to:expr,
            since: $since:literal,
            check: $check:path $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub static $name: $crate::rules::Rule = $crate::rules::Rule {
            id: $id,
            severity: $crate::rules::Severity::$sev,
            applies: $crate::rules::Applies::$applies,
            family: $fam,
            authority: $auth,
            valid_from: $from,
            valid_to: $to,
            since: $since,
            docs: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}

/// Every implemented rule, in catalogue order.
pub static ALL: &[&Rule] = &[
    &dx::DX_CODE_INVALID_ON_DOS,
    &dx::DX_NONSPECIFIC_OR_REMISSION,
    &dx::DX_PSYCHOTIC_FEATURES_UNSUPPORTED,
    &dx::DX_SI_INDICATION_UNSUPPORTED,
    &dx::DX_OFFLABEL_INDICATION,
    &trd::TRD_FEWER_THAN_TWO_TRIALS,
    &trd::TRD_TRIAL_INCOMPLETE,
    &trd::TRD_TRIAL_SUBTHERAPEUTIC_DOSE,
    &trd::TRD_TRIAL_TOO_SHORT,
    &trd::TRD_TRIAL_PAYER_CONSTRAINTS,
    &trd::TRD_VAGUE_FAILURE_PHRASE,
    &trd::TRD_SEVERITY_SCALE_MISSING,
    &esk::ESK_NO_CONCURRENT_ORAL_AD,
    &coding::PA_MISSING_OR_AFTER_DOS,
    &coding::PROV_NON_PRESCRIBER_BILLING_ADMIN,
    &ivk::IVK_NONCOVERED_BILLED_AS_COVERED,
    &esk::ESK_REMS_SITE_NOT_CERTIFIED,
    &esk::ESK_REMS_PATIENT_NOT_ENROLLED,
    &esk::ESK_REMS_MONITORING_FORM_MISSING,
    &esk::ESK_SUPERVISION_NOT_DOCUMENTED,
    &esk::ESK_MISSING_PREDOSE_BP,
    &esk::ESK_MISSING_40MIN_BP,
    &esk::ESK_BP_ELEVATION_UNMANAGED,
    &esk::ESK_SEDATION_RESP_MONITORING_MISSING,
    &esk::ESK_MONITORING_UNDER_2H,
    &esk::ESK_DISCHARGE_NOT_DOCUMENTED,
    &esk::ESK_SAFETY_SCREEN_MISSING,
    &esk::ESK_DOSING_SCHEDULE_EXCEEDED,
    &esk::ESK_UNITS_MISMATCH_DOSE,
    &esk::ESK_WRONG_DRUG_CODE_J0222,
    &esk::ESK_DRUG_CODE_INVALID_ON_DOS,
    &esk::ESK_GCODE_TIER_MISMATCH,
    &esk::ESK_GCODE_WITH_DRUG_CODE,
    &esk::ESK_GCODE_WITH_EM_OR_PROLONGED,
    &esk::ESK_GCODE_NEW_PATIENT,
    &coding::CODE_DELETED_ON_DOS,
    &coding::PROLONGED_TIME_INSUFFICIENT,
    &coding::EM_MOD25_WITHOUT_SEPARATE_DOC,
    &coding::PSY_CODE_PAIRING_INVALID,
    &coding::PSY_ADDON_TIME_UNSUPPORTED,
    &coding::NOTE_CLONED,
    &coding::EM_COPIES_SESSION_NOTE,
    &coding::COCM_TIME_BELOW_THRESHOLD,
    &oral::ORAL_TELEHEALTH_POS_MISMATCH,
    &ivk::IVK_INFUSION_TIMES_MISSING,
    &ivk::IVK_INFUSION_UNITS_VS_TIME,
    &ivk::IVK_DRUG_LINE_INCOMPLETE,
    &ivk::IVK_PRE_INFUSION_ELEMENTS_MISSING,
    &ivk::IVK_POST_INFUSION_ELEMENTS_MISSING,
];

/// A catalogue rule that is not implemented, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct NotImplemented {
    /// Catalogue id.
    pub id: &'static str,
    /// Catalogue severity.
    pub severity: Severity,
    /// Why the evidence cannot support it yet.
    pub reason: &'static str,
}

/// Catalogue rules not implemented yet, each with why.
pub static NOT_IMPLEMENTED: &[NotImplemented] = &[
    NotImplemented {
        id: "esk-payer-prescriber-criteria",
        severity: Severity::Medium,
        reason: "prescriber specialty and PDMP checks are not in the input contract",
    },
    NotImplemented {
        id: "oral-telemed-controlled-rx-basis",
        severity: Severity::Medium,
        reason: "needs prescription-by-telehealth and prior in-person exam extraction",
    },
];

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Encounter id.
    pub encounter_id: String,
    /// Note id, when about one note.
    pub note_id: Option<String>,
    /// Rule id.
    pub rule_id: &'static str,
    /// Effective severity.
    pub severity: Severity,
    /// Message.
    pub message: String,
    /// Evidence text (absent-evidence findings: None).
    pub evidence: Option<String>,
    /// Byte offset of the evidence in the note text.
    pub start: Option<u32>,
    /// End byte offset.
    pub end: Option<u32>,
}

/// Rule selection and scoring settings (from `ketaudit.toml`).
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    /// Selected rule ids/prefixes (empty: all).
    pub select: Vec<String>,
    /// Ignored rule ids/prefixes.
    pub ignore: Vec<String>,
    /// Severity overrides.
    pub severity: std::collections::BTreeMap<String, Severity>,
    /// Score weight per severity.
    pub weights: Weights,
    /// Risk-level thresholds.
    pub levels: Levels,
}

/// Weight of one finding of each severity in the risk score.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Critical.
    pub critical: f64,
    /// High.
    pub high: f64,
    /// Medium.
    pub medium: f64,
    /// Low.
    pub low: f64,
    /// Info.
    pub info: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { critical: 50.0, high: 25.0, medium: 10.0, low: 3.0, info: 0.0 }
    }
}

/// Lower bounds of the risk levels.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// Score at or above which the level is medium.
    pub medium: f64,
    /// High.
    pub high: f64,
    /// Critical.
    pub critical: f64,
}

impl Default for Levels {
    fn default() -> Self {
        Levels { medium: 20.0, high: 45.0, critical: 70.0 }
    }
}

fn matches_selector(id: &str, sel: &str) -> bool {
    id == sel || id.starts_with(&format!("{}-", sel.trim_end_matches('-'))) || (sel.ends_with('-') && id.starts_with(sel))
}

impl RuleSettings {
    /// Whether a rule is enabled.
    pub fn enabled(&self, id: &str) -> bool {
        let selected = self.select.is_empty() || self.select.iter().any(|s| matches_selector(id, s));
        selected && !self.ignore.iter().any(|s| matches_selector(id, s))
    }
    /// Effective severity.
    pub fn severity_of(&self, r: &Rule) -> Severity {
        self.severity.get(r.id).copied().unwrap_or(r.severity)
    }
    /// Score weight of a severity.
    pub fn weight(&self, s: Severity) -> f64 {
        match s {
            Severity::Critical => self.weights.critical,
            Severity::High => self.weights.high,
            Severity::Medium => self.weights.medium,
            Severity::Low => self.weights.low,
            Severity::Info => self.weights.info,
        }
    }
    /// Risk score 0-100: findings combine like independent chances of
    /// denial, `100 * (1 - prod(1 - w_i/100))`, so the score rises with each
    /// finding, never passes 100, and one critical outweighs several lows.
    pub fn score(&self, findings: &[Finding]) -> f64 {
        self.score_of(findings.iter().map(|f| f.severity))
    }
    /// Risk score of findings given by their severities.
    pub fn score_severities(&self, severities: &[Severity]) -> f64 {
        self.score_of(severities.iter().copied())
    }
    fn score_of(&self, severities: impl Iterator<Item = Severity>) -> f64 {
        let keep: f64 = severities.map(|s| 1.0 - (self.weight(s) / 100.0).clamp(0.0, 1.0)).product();
        ((1.0 - keep) * 1000.0).round() / 10.0
    }
    /// Risk level of a score.
    pub fn level(&self, score: f64) -> &'static str {
        if score >= self.levels.critical {
            "critical"
        } else if score >= self.levels.high {
            "high"
        } else if score >= self.levels.medium {
            "medium"
        } else {
            "low"
        }
    }
}

/// Look a rule up by id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

/// Run every enabled rule on an encounter.
pub fn evaluate(
    enc: &Encounter,
    facts: &EncounterFacts,
    dict: &Dictionaries,
    payer: &PayerProfile,
    settings: &RuleSettings,
) -> Vec<Finding> {
    let ctx = Ctx { enc, facts, dict, payer };
    let mut out = Vec::new();
    for r in ALL {
        if !settings.enabled(r.id) || !r.applies.covers(facts.track) || !r.in_force(enc.date_of_service) {
            continue;
        }
        for h in (r.check)(&ctx) {
            let (note_id, evidence, start, end) = match h.ev {
                Some(ev) => {
                    let e = enc.ev(ev);
                    let snip = enc.snippet(ev).to_string();
                    (Some(enc.notes[ev.0].meta.note_id.clone()), Some(snip), Some(e.span.start as u32), Some(e.span.end as u32))
                }
                None => (h.note.map(|n| enc.notes[n].meta.note_id.clone()), None, None, None),
            };
            out.push(Finding {
                encounter_id: enc.encounter_id.clone(),
                note_id,
                rule_id: r.id,
                severity: settings.severity_of(r),
                message: h.message,
                evidence,
                start,
                end,
            });
        }
    }
    out
}

/// The `note-cloned` finding of an encounter scored before the per-patient
/// clone pass ran (the streaming scan scores each encounter as soon as its
/// notes are in, and compares sessions across encounters at the end).
/// Gives the same finding [`evaluate`] gives with `cloned_from` set.
pub fn clone_finding(
    encounter_id: &str,
    note_id: &str,
    track: crate::encounter::Track,
    date_of_service: chrono::NaiveDate,
    c: &crate::encounter::ClonedFrom,
    settings: &RuleSettings,
) -> Option<Finding> {
    let r = &coding::NOTE_CLONED;
    if !settings.enabled(r.id) || !r.applies.covers(track) || !r.in_force(date_of_service) {
        return None;
    }
    Some(Finding {
        encounter_id: encounter_id.to_string(),
        note_id: Some(note_id.to_string()),
        rule_id: r.id,
        severity: settings.severity_of(r),
        message: coding::cloned_message(c),
        evidence: None,
        start: None,
        end: None,
    })
}

/// Id of `esk-dosing-schedule-exceeded`.
pub fn schedule_rule_id() -> &'static str {
    esk::ESK_DOSING_SCHEDULE_EXCEEDED.id
}

/// The `esk-dosing-schedule-exceeded` finding of an encounter scored before
/// the per-patient session pass ran (the streaming scan counts each
/// patient's sessions across encounters at the end). Gives the same finding
/// [`evaluate`] gives with `sessions_in_week` set.
pub fn schedule_finding(
    encounter_id: &str,
    track: crate::encounter::Track,
    date_of_service: chrono::NaiveDate,
    w: &crate::encounter::SessionsInWeek,
    settings: &RuleSettings,
) -> Option<Finding> {
    let r = &esk::ESK_DOSING_SCHEDULE_EXCEEDED;
    if !settings.enabled(r.id) || !r.applies.covers(track) || !r.in_force(date_of_service) {
        return None;
    }
    Some(Finding {
        encounter_id: encounter_id.to_string(),
        note_id: None,
        rule_id: r.id,
        severity: settings.severity_of(r),
        message: esk::schedule_message(w, date_of_service),
        evidence: None,
        start: None,
        end: None,
    })
}

/// Names of the drugs in a list of trial summaries.
pub(crate) fn drug_names(ctx: &Ctx<'_>, pred: impl Fn(&crate::encounter::TrialSummary) -> bool) -> String {
    let v: Vec<&str> = ctx.facts.trials.iter().filter(|t| pred(t)).map(|t| ctx.dict.drugs[t.drug].id.as_str()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_well_formed() {
        let mut ids = std::collections::HashSet::new();
        let id_re = regex::Regex::new(r"^[a-z0-9]+(?:-[a-z0-9]+)+$").unwrap();
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules");
        let locator = regex::Regex::new(
            r"(?i)\d|\bsection\b|\bch\.|descriptor|definition|\bfiles?\b|\bpage\b|guideline|article|polic(?:y|ies)|tabular|criteria",
        )
        .unwrap();
        for r in ALL {
            assert!(ids.insert(r.id), "duplicate id {}", r.id);
            assert!(id_re.is_match(r.id), "bad id {}", r.id);
            assert!(!r.authority.trim().is_empty(), "{} has no authority", r.id);
            for h in DOC_HEADINGS {
                let s = r.doc_section(h).unwrap_or_default();
                assert!(!s.is_empty(), "{} lacks doc section {h}", r.id);
            }
            for d in [r.valid_from, r.valid_to].into_iter().flatten() {
                assert!(NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok(), "{} bad date {d}", r.id);
            }
            if let (Some(f), Some(t)) = (r.valid_from, r.valid_to) {
                assert!(f <= t, "{} is valid from {f} to {t}", r.id);
            }
            // The authority names a document and where in it: a section,
            // number, date, descriptor or policy id, not just "CPT".
            assert!(
                r.authority.len() >= 20 && locator.is_match(r.authority),
                "{} authority {:?} lacks a document and section",
                r.id,
                r.authority
            );
            assert!(r.since.split('.').count() == 3, "{} since {:?}", r.id, r.since);
            assert!(r.family == r.id.split('-').next().unwrap(), "{} family {}", r.id, r.family);
            // Each heading exactly once, in order, and sections do not run
            // into each other.
            let pos: Vec<usize> = DOC_HEADINGS
                .iter()
                .map(|h| {
                    let m = format!("## {h}\n");
                    assert_eq!(r.docs.matches(&m).count(), 1, "{} heading {h}", r.id);
                    r.docs.find(&m).unwrap()
                })
                .collect();
            assert!(pos.windows(2).all(|w| w[0] < w[1]), "{} headings out of order", r.id);
            for h in DOC_HEADINGS {
                assert!(!r.doc_section(h).unwrap().contains("## "), "{} section {h} runs into the next", r.id);
            }
            // One fixture where it fires and one where it must not (tests/rules.rs runs them).
            for f in ["fires.jsonl", "clean.jsonl"] {
                let p = fixtures.join(r.id).join(f);
                assert!(std::fs::metadata(&p).is_ok_and(|m| m.len() > 0), "{} has no fixture {}", r.id, p.display());
            }
        }
        for n in NOT_IMPLEMENTED {
            assert!(!fixtures.join(n.id).exists(), "{} is not implemented but has fixtures", n.id);
            assert!(ids.insert(n.id), "{} both implemented and not", n.id);
            assert!(!n.reason.is_empty());
        }
        // rules-reference.md section 2 lists 51 rule ids (it says "8" for
        // section 2.6, which lists 9, and totals 50); implemented plus
        // not-implemented covers every one of them.
        assert_eq!(ids.len(), 51, "catalogue coverage");
    }

    #[test]
    fn score_and_levels() {
        let s = RuleSettings::default();
        let f = |sev| Finding {
            encounter_id: "e".into(),
            note_id: None,
            rule_id: "x-y",
            severity: sev,
            message: String::new(),
            evidence: None,
            start: None,
            end: None,
        };
        assert_eq!(s.score(&[]), 0.0);
        assert_eq!(s.score(&[f(Severity::Critical)]), 50.0);
        assert_eq!(s.level(50.0), "high");
        assert_eq!(s.score(&[f(Severity::Critical), f(Severity::Critical)]), 75.0);
        assert_eq!(s.level(75.0), "critical");
        assert_eq!(s.level(0.0), "low");
    }

    #[test]
    fn schedule_finding_respects_settings() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 6).unwrap();
        let w = crate::encounter::SessionsInWeek {
            others: vec![
                ("e1".into(), NaiveDate::from_ymd_opt(2026, 2, 2).unwrap()),
                ("e2".into(), NaiveDate::from_ymd_opt(2026, 2, 4).unwrap()),
            ],
        };
        let esk = crate::encounter::Track::Esketamine;
        let f = schedule_finding("e3", esk, d, &w, &RuleSettings::default()).unwrap();
        assert_eq!((f.rule_id, f.severity, f.note_id, f.evidence), ("esk-dosing-schedule-exceeded", Severity::Medium, None, None));
        assert!(f.message.contains("encounter e1 on 2026-02-02, encounter e2 on 2026-02-04"));
        let ignored = RuleSettings { ignore: vec!["esk-dosing-schedule-exceeded".into()], ..Default::default() };
        assert!(schedule_finding("e3", esk, d, &w, &ignored).is_none());
        let not_selected = RuleSettings { select: vec!["trd".into()], ..Default::default() };
        assert!(schedule_finding("e3", esk, d, &w, &not_selected).is_none());
        let mut raised = RuleSettings::default();
        raised.severity.insert("esk-dosing-schedule-exceeded".into(), Severity::High);
        assert_eq!(schedule_finding("e3", esk, d, &w, &raised).unwrap().severity, Severity::High);
        // Only the esketamine track, and not before the label's approval.
        assert!(schedule_finding("e3", crate::encounter::Track::IvKetamine, d, &w, &RuleSettings::default()).is_none());
        let early = NaiveDate::from_ymd_opt(2018, 6, 1).unwrap();
        assert!(schedule_finding("e3", esk, early, &w, &RuleSettings::default()).is_none());
    }

    #[test]
    fn selectors() {
        let s = RuleSettings { ignore: vec!["esk".into(), "dx-code-invalid-on-dos".into()], ..Default::default() };
        assert!(!s.enabled("esk-missing-predose-bp"));
        assert!(!s.enabled("dx-code-invalid-on-dos"));
        assert!(s.enabled("dx-nonspecific-or-remission"));
        assert!(s.enabled("trd-fewer-than-two-trials"));
    }
}
