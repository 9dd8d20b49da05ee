//! Where a ketamine or esketamine course starts, and what its start may rest
//! on from the patient's other encounters.
//!
//! Contraindication screens and baseline severity scores are written once,
//! at the intake or evaluation visit that starts the course, not at every
//! session (rules-reference 2.2 `trd-severity-scale-missing`, 2.4
//! `esk-safety-screen-missing`). So the rules that ask for them run on the
//! course start only, and accept the documentation from any encounter of the
//! same patient in the input dated on or before it. The streaming scan
//! scores each encounter before it has seen the patient's others, so the
//! pipeline decides these findings in a per-patient pass
//! ([`earlier_docs`]), as it does for the dosing schedule.

use chrono::NaiveDate;

use crate::encounter::{EarlierDocs, Encounter, EvRef};
use crate::extract::EvKind;

/// The evidence that an encounter starts a treatment course: an affirmed
/// initiation statement ("plan: start Spravato 56 mg", "candidate for
/// esketamine"; a course being continued or renewed is not one) or a
/// session written as the first of its course ("infusion 1 of 6", "first
/// Spravato treatment today"). A prior-authorization request alone ("PA
/// submitted for Spravato") is not one: a renewal mid-course is often filed
/// without saying so. A session that is merely the patient's first in the
/// input is not one either: an export may start in the middle of a course.
pub fn course_start(enc: &Encounter) -> Option<EvRef> {
    let pa_request = |r: &EvRef| {
        let v = enc.ev(*r).value.as_str();
        v.starts_with("pa ") || v.starts_with("prior auth")
    };
    enc.counting(EvKind::Initiation).into_iter().find(|r| !pa_request(r)).or_else(|| enc.counting(EvKind::FirstSession).first().copied())
}

/// The start of an esketamine or IV ketamine course in an encounter of
/// `track`: any [`course_start`] in a session of those tracks; in an intake
/// with no dose given (track none), an initiation statement that names
/// esketamine or an infusion and says this practice starts it ("Plan: start
/// Spravato 56 mg induction once the PA is approved"): not oral ketamine's,
/// and not a referral or a candidacy, whose screen is the treating
/// practice's to write at its own intake.
pub fn esk_ivk_start(enc: &Encounter, track: crate::encounter::Track) -> Option<EvRef> {
    use crate::encounter::Track;
    let start = course_start(enc)?;
    match track {
        Track::Esketamine | Track::IvKetamine => Some(start),
        Track::None => {
            let named = |r: &EvRef| {
                let v = enc.ev(*r).value.to_ascii_lowercase();
                let drug = ["spravato", "esketamine", "es-ketamine", "infusion", "intravenous", " iv "].iter().any(|w| v.contains(w))
                    || v.ends_with(" iv");
                let starts = ["start", "initiat", "begin", "commenc", "first"].iter().any(|w| v.contains(w));
                let pa_request = v.starts_with("pa ") || v.starts_with("prior auth");
                drug && starts && !v.contains("referr") && !pa_request
            };
            // A visit that refers the patient out ("PCP referred to
            // Lakeshore Spravato program; will start esketamine next month")
            // starts nothing of its own.
            let refers = enc.all(EvKind::Initiation).into_iter().any(|r| {
                let e = enc.ev(r);
                e.value.contains("referr") && !e.assertion.negated
            });
            if refers {
                return None;
            }
            enc.counting(EvKind::Initiation).into_iter().chain(enc.counting(EvKind::FirstSession)).find(named)
        }
        _ => None,
    }
}

/// What an encounter documents of a course's groundwork.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CourseDocs {
    /// It starts a course ([`course_start`]).
    pub start: bool,
    /// It documents a contraindication screen (a negated finding, "denies
    /// aneurysm", is the screen).
    pub safety_screen: bool,
    /// It documents a depression severity score.
    pub severity_scale: bool,
}

impl CourseDocs {
    /// An encounter's course documentation, or `None` when it has none (the
    /// per-patient pass keeps only encounters that have some).
    pub fn of(enc: &Encounter) -> Option<CourseDocs> {
        let d = CourseDocs {
            start: course_start(enc).is_some(),
            safety_screen: !enc.counting(EvKind::SafetyScreen).is_empty(),
            severity_scale: !enc.counting(EvKind::SeverityScale).is_empty(),
        };
        (d != CourseDocs::default()).then_some(d)
    }
}

/// One encounter in the per-patient course pass (no ids or text).
#[derive(Debug, Clone, Copy)]
pub struct CourseRef {
    /// Patient (interned).
    pub patient: u32,
    /// Date of service.
    pub date_of_service: NaiveDate,
    /// The encounter's row.
    pub row: u32,
    /// What it documents.
    pub docs: CourseDocs,
}

/// For each course start, what the patient's other encounters dated on or
/// before it document, by row. Later encounters do not count: a screen
/// written after the first dose did not screen it.
pub fn earlier_docs(refs: &[CourseRef]) -> Vec<(u32, EarlierDocs)> {
    let mut order: Vec<CourseRef> = refs.to_vec();
    order.sort_unstable_by_key(|r| (r.patient, r.date_of_service, r.row));
    let mut out = Vec::new();
    for group in order.chunk_by(|a, b| a.patient == b.patient) {
        for s in group.iter().filter(|r| r.docs.start) {
            let before = |has: fn(&CourseDocs) -> bool| {
                group.iter().any(|o| o.row != s.row && o.date_of_service <= s.date_of_service && has(&o.docs))
            };
            out.push((s.row, EarlierDocs { safety_screen: before(|d| d.safety_screen), severity_scale: before(|d| d.severity_scale) }));
        }
    }
    out.sort_unstable_by_key(|o| o.0);
    out
}

/// Whether a course finding given before the per-patient pass still stands
/// once the patient's earlier documentation is known.
pub fn stands(rule_id: &str, earlier: &EarlierDocs) -> bool {
    if rule_id == super::esk::ESK_SAFETY_SCREEN_MISSING.id {
        !earlier.safety_screen
    } else if rule_id == super::trd::TRD_SEVERITY_SCALE_MISSING.id {
        !earlier.severity_scale
    } else {
        true
    }
}

/// Whether a rule's findings wait for the per-patient course pass.
pub fn deferred(rule_id: &str) -> bool {
    rule_id == super::esk::ESK_SAFETY_SCREEN_MISSING.id || rule_id == super::trd::TRD_SEVERITY_SCALE_MISSING.id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(patient: u32, day: u32, row: u32, start: bool, screen: bool, scale: bool) -> CourseRef {
        CourseRef {
            patient,
            date_of_service: NaiveDate::from_ymd_opt(2026, 3, day).unwrap(),
            row,
            docs: CourseDocs { start, safety_screen: screen, severity_scale: scale },
        }
    }

    #[test]
    fn earlier_and_same_day_documentation_counts_later_does_not() {
        let refs = [
            r(1, 2, 0, false, true, false), // intake screen
            r(1, 5, 1, true, false, false), // course start
            r(1, 9, 2, false, false, true), // score after the start
            r(2, 5, 3, true, false, false), // another patient's start
            r(2, 5, 4, false, false, true), // same-day score
            r(3, 1, 5, false, true, true),  // a third patient's screen
        ];
        let got = earlier_docs(&refs);
        assert_eq!(
            got,
            vec![
                (1, EarlierDocs { safety_screen: true, severity_scale: false }),
                (3, EarlierDocs { safety_screen: false, severity_scale: true }),
            ]
        );
    }

    fn start_of(text: &str) -> Option<String> {
        let enc = crate::encounter::test_encounter("Spravato Treatment Note", text, vec![]);
        course_start(&enc).map(|r| enc.ev(r).value.clone())
    }

    #[test]
    fn course_starts() {
        assert!(start_of("Plan: start Spravato 56 mg induction.").is_some());
        assert!(start_of("Session #1. Spravato 56 mg.").is_some());
        // A PA request beside a first-session statement: the session starts it.
        assert_eq!(start_of("PA submitted for Spravato. Infusion 1 of 6.").as_deref(), Some("infusion 1 of 6"));
        for t in [
            "PA submitted for Spravato 84 mg.",
            "Session #7. Continue Spravato 84 mg weekly.",
            "PA submitted for re-authorization of Spravato.",
        ] {
            assert_eq!(start_of(t), None, "{t}");
        }
    }

    #[test]
    fn an_intake_starts_only_what_it_starts_here() {
        let intake = |text: &str| {
            let enc = crate::encounter::test_encounter("Psychiatric Evaluation", text, vec![]);
            esk_ivk_start(&enc, crate::encounter::Track::None).map(|r| enc.ev(r).value.clone())
        };
        assert!(intake("PLAN: Start Spravato 56 mg induction, twice weekly, once the prior authorization is approved.").is_some());
        for t in [
            "Options: aripiprazole augmentation vs referral for esketamine. Pt prefers esketamine.",
            "Consider referral for TMS only if the Spravato course fails.",
            "Plan: start oral ketamine 100 mg troche.",
            "Plan: start oral ketamine 100 mg troche. PA submitted for initiation of Spravato.",
            "PCP referred to Lakeshore Spravato program 10/29; will start esketamine next month if the PA is approved.",
        ] {
            assert_eq!(intake(t), None, "{t}");
        }
    }

    #[test]
    fn a_start_does_not_cover_itself() {
        let got = earlier_docs(&[r(1, 5, 0, true, true, true)]);
        assert_eq!(got, vec![(0, EarlierDocs::default())]);
    }
}
