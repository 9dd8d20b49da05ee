//! Spravato REMS, session monitoring and esketamine coding rules
//! (rules-reference 2.4 and 2.5).

use chrono::{Datelike, NaiveDate};

use super::{Ctx, Hit};
use crate::dict::{CodeKind, Dictionaries};
use crate::encounter::{BpSummary, Encounter, EncounterFacts, EvRef, SessionsInWeek, Track};
use crate::extract::phrases::{em_note_type, psychotherapy_note_type, session_note_type};
use crate::extract::{EvKind, Phase};

/// Why an encounter counts as an esketamine administration session: the
/// first kind of evidence found, in the order below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvidence {
    /// An esketamine drug line (S0013/J0013) or G2082/G2083 is billed.
    BilledEsketamine,
    /// A dose or device administration with a clock time.
    TimedAdministration,
    /// A statement that the treatment was given at this visit
    /// ("self-administered 3 devices", "84 mg administered", "device 2"),
    /// current and outside plan, medication-list and history context (see
    /// `extract::administration_today`).
    AdministeredToday,
    /// Post-dose monitoring: a monitoring start or end time, or a stated
    /// observation length ("observed 2 hrs").
    Monitoring,
    /// The REMS Patient Monitoring Form is affirmed as completed or submitted
    /// (it is filed per session).
    RemsMonitoringForm,
    /// A note typed as a treatment / session / monitoring note (and not as
    /// an E/M, follow-up or med-management visit).
    SessionNoteType,
}

/// The one decision whether an esketamine-track encounter is an
/// administration session (the patient was dosed at this visit), with the
/// evidence that decided it; `None` when nothing shows a dose was given.
///
/// The complement is the E/M, medication-management or psychotherapy visit
/// that only talks about the esketamine course ("continue Spravato 56 mg
/// twice weekly", "next session Thursday", a Spravato line in the med list)
/// and bills E/M or psychotherapy codes, or none. A dose written in a plan
/// or a medication list, or worded as a schedule, is not administration
/// evidence; a dose written as given today is. A poor session note still
/// counts: "Spravato session, pt self-administered 3 devices" or a billed
/// G2083 with "observed 2 hrs" is a session without any dose or BP.
///
/// Per-session documentation rules (BP, monitoring, sedation, discharge,
/// supervision, REMS enrollment and monitoring form) and the rules about the
/// esketamine treatment claim (PA, TRD criteria) run only on sessions; the
/// coding rules about lines actually billed run whenever those lines are.
pub fn session_evidence(enc: &Encounter, facts: &EncounterFacts, dict: &Dictionaries) -> Option<SessionEvidence> {
    if enc.has_kind(dict, CodeKind::EskDrug) || enc.has_kind(dict, CodeKind::EskGcode) {
        return Some(SessionEvidence::BilledEsketamine);
    }
    if !enc.counting(EvKind::DoseEvent).is_empty() {
        return Some(SessionEvidence::TimedAdministration);
    }
    if enc.notes.iter().any(|n| n.facts.administered_today.is_some()) {
        return Some(SessionEvidence::AdministeredToday);
    }
    let monitored = enc.notes.iter().any(|n| {
        let t = &n.facts.timing;
        !t.monitor_start.is_empty() || !t.monitor_end.is_empty() || !t.stated_minutes.is_empty()
    });
    if monitored || facts.monitoring_minutes.is_some() {
        return Some(SessionEvidence::Monitoring);
    }
    let form = enc.counting(EvKind::Rems).into_iter().any(|r| enc.ev(r).value.starts_with("monitoring_form"));
    if form {
        return Some(SessionEvidence::RemsMonitoringForm);
    }
    let session_type = enc.notes.iter().any(|n| {
        let nt = n.meta.note_type.as_deref().unwrap_or("");
        session_note_type(nt) && !em_note_type(nt) && !psychotherapy_note_type(nt)
    });
    if session_type {
        return Some(SessionEvidence::SessionNoteType);
    }
    None
}

/// Whether an encounter is an esketamine administration session the
/// dosing-schedule rule counts: on the esketamine track with evidence that a
/// dose was given (see [`SessionEvidence::shows_a_dose`]). A follow-up or
/// E/M visit on the esketamine track that only talks about the treatment is
/// not one, and neither is an encounter known as a session only by its note
/// type, a REMS form mention or a monitoring time: a third session in a week
/// is a finding against the provider, so it needs a billed drug / G code, a
/// timed dose or a dose written as given.
pub fn administration_session(enc: &Encounter, facts: &EncounterFacts, dict: &Dictionaries) -> bool {
    facts.track == Track::Esketamine && session_evidence(enc, facts, dict).is_some_and(SessionEvidence::shows_a_dose)
}

impl SessionEvidence {
    /// Evidence that a dose was given: a billed esketamine drug line or
    /// G2082/G2083, a timed dose, or a dose stated as given at this visit.
    pub fn shows_a_dose(self) -> bool {
        matches!(self, Self::BilledEsketamine | Self::TimedAdministration | Self::AdministeredToday)
    }
}

/// Gate of the per-session rules: true when the rule should not run
/// because this esketamine-track encounter is not an administration session.
pub(crate) fn not_a_session(ctx: &Ctx<'_>) -> bool {
    ctx.facts.track == Track::Esketamine && session_evidence(ctx.enc, ctx.facts, ctx.dict).is_none()
}

/// Places of service where the REMS patient-enrollment and monitoring-form
/// duties do not apply (inpatient hospital, ER, inpatient psychiatric facility).
fn inpatient(ctx: &Ctx<'_>) -> bool {
    matches!(ctx.enc.place_of_service.as_deref(), Some("21" | "23" | "51"))
}

fn rems_value(ctx: &Ctx<'_>, sub: &str) -> (bool, bool) {
    let mut affirmed = false;
    let mut negated = false;
    for r in ctx.enc.all(EvKind::Rems) {
        let e = ctx.enc.ev(r);
        if e.value.starts_with(sub) {
            if e.counts {
                affirmed = true;
            } else if e.value.ends_with("negated or pending") {
                negated = true;
            }
        }
    }
    (affirmed, negated)
}

crate::declare_rule! {
    /// ## What it checks
    /// Two things the documentation and the claim can show, each its own
    /// finding. The notes: no statement says the treatment setting's REMS
    /// certification is missing, pending, expired or not yet received
    /// ("Hillsboro setting certification: application submitted to the
    /// REMS, confirmation not yet received"); the status must be in the
    /// certification mention's own comma-delimited part, so "site
    /// certified, pt enrollment pending" is not it, nor is a prescriber's
    /// or pharmacy's certification. The claim: where the payer profile sets
    /// `kx_required` (traditional Medicare in the shipped profiles), each
    /// G2082/G2083 line carries modifier KX. A setting that never mentions
    /// its certification is not flagged: certification belongs to the
    /// practice and is rarely restated per note, so its absence from a note
    /// shows nothing. The facility name and ZIP that CGS wants in the claim
    /// narrative (item 19) are not in the input contract and are not
    /// checked. Checked only on esketamine administration sessions outside
    /// inpatient places of service (21, 23, 51).
    /// ## Why an auditor cares
    /// Spravato may be dispensed and administered only in REMS-certified
    /// healthcare settings; a session in a setting whose certification is
    /// pending is a REMS violation. CGS (J15) asks for KX on G2082/G2083 to
    /// show the patient's REMS enrollment (rules-reference C5); the
    /// requirement is MAC-specific: set `kx_required = false` in a
    /// `ketaudit.toml` payer override where the MAC does not ask for it.
    /// ## Evidence
    /// REMS site phrases (`dictionaries/phrases.toml`, kind `rems_site`)
    /// whose value ends "(setting not certified)"; the claim lines and
    /// their modifiers with the payer profile's `kx_required`.
    /// ## Example
    /// "First session at our new satellite suite; setting certification
    /// submitted, not yet received"; or Medicare G2083 billed without KX.
    /// ## How to fix
    /// Treat only in a certified setting (hold sessions until the
    /// certification is confirmed, and record it); append KX to Medicare
    /// G2082/G2083 lines and put the facility name and ZIP in item 19.
    pub ESK_REMS_SITE_NOT_CERTIFIED {
        id: "esk-rems-site-not-certified",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "Spravato REMS (REMS@FDA id 386): certified healthcare settings only; First Coast A59250; CGS J15 esketamine billing article (KX, facility and ZIP in the narrative)",
        valid_from: Some("2019-03-05"),
        valid_to: None,
        since: "0.1.0",
        check: site_not_certified,
    }
}

fn site_not_certified(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) || inpatient(ctx) {
        return vec![];
    }
    let mut out = Vec::new();
    if let Some(r) =
        ctx.enc.all(EvKind::Rems).into_iter().find(|r| ctx.enc.ev(*r).value.ends_with(crate::extract::phrases::SITE_NOT_CERTIFIED))
    {
        out.push(Hit::at(
            "The note says the treatment setting's Spravato REMS certification is not in place (pending, expired or not yet received); esketamine may be administered only in a certified setting.",
            r,
        ));
    }
    if ctx.payer.kx_required {
        for l in ctx.enc.lines_of(ctx.dict, CodeKind::EskGcode) {
            if !l.modifiers.iter().any(|m| m.eq_ignore_ascii_case("KX")) {
                out.push(Hit::absent(format!(
                    "{} is billed to {} without modifier KX, which attests the patient's REMS enrollment (CGS J15); add KX and the facility name and ZIP in item 19.",
                    l.code, ctx.payer.name
                )));
            }
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// Outpatient esketamine encounters document the patient's Spravato REMS
    /// enrollment (or other affirmed REMS documentation about the patient,
    /// such as a verified REMS patient ID). Neither the site's REMS
    /// certification nor a submitted Patient Monitoring Form shows the
    /// patient's enrollment: the form is a separate duty, checked by
    /// esk-rems-monitoring-form-missing. Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// Under the Spravato REMS each outpatient must be enrolled before the
    /// first treatment; a session for a non-enrolled patient is not payable
    /// and is a REMS violation. Enrollment before the *first* session cannot
    /// be checked from one encounter; the rule checks what the documentation
    /// can show.
    /// ## Evidence
    /// REMS phrases (`dictionaries/phrases.toml`), affirmed; negated or pending
    /// mentions ("not yet enrolled") do not count. Inpatient POS 21/23/51 are exempt.
    /// ## Example
    /// A session note with no REMS mention, or "REMS enrollment pending".
    /// ## How to fix
    /// Record the REMS patient enrollment (and REMS patient ID) in the chart.
    pub ESK_REMS_PATIENT_NOT_ENROLLED {
        id: "esk-rems-patient-not-enrolled",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "Spravato REMS (REMS@FDA id 386): outpatient patient enrollment before first treatment",
        valid_from: Some("2019-03-05"),
        valid_to: None,
        since: "0.1.0",
        check: not_enrolled,
    }
}

fn not_enrolled(ctx: &Ctx<'_>) -> Vec<Hit> {
    // Enrollment is a precondition of outpatient *treatment*: an E/M or
    // med-management visit that only discusses the course administers
    // nothing, so its note is not where the duty is shown (the sessions are).
    if not_a_session(ctx) {
        return vec![];
    }
    if inpatient(ctx) {
        return vec![];
    }
    let (enrolled, enrolled_neg) = rems_value(ctx, "enrollment");
    // Other affirmed REMS documentation about the patient (a verified REMS
    // patient ID) presupposes enrollment. The site's certification is the
    // site's duty, and a submitted monitoring form is the form's own duty
    // (esk-rems-monitoring-form-missing); neither shows the enrollment.
    let about_patient = ctx.enc.counting(EvKind::Rems).into_iter().any(|r| {
        let v = &ctx.enc.ev(r).value;
        !v.starts_with("site_certified") && !v.starts_with("monitoring_form")
    });
    if enrolled || (about_patient && !enrolled_neg) {
        return vec![];
    }
    if enrolled_neg {
        let r = ctx.enc.all(EvKind::Rems).into_iter().find(|r| ctx.enc.ev(*r).value.starts_with("enrollment")).unwrap();
        return vec![Hit::at(
            "REMS patient enrollment is documented as not done or pending; the patient must be enrolled before outpatient treatment.",
            r,
        )];
    }
    vec![Hit::absent("No Spravato REMS patient enrollment is documented for this outpatient session.")]
}

crate::declare_rule! {
    /// ## What it checks
    /// Outpatient esketamine encounters document that the REMS Patient
    /// Monitoring Form was completed or submitted.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// The REMS requires a Patient Monitoring Form after every outpatient
    /// session, within 7 days. Whether it was submitted within 7 days cannot
    /// be decided from notes; the rule checks that completion or submission is
    /// documented at all.
    /// ## Evidence
    /// "monitoring form" / "REMS form" / "PMF" phrases with completion wording,
    /// not negated or pending.
    /// ## Example
    /// "REMS monitoring form to be completed" with no later confirmation.
    /// ## How to fix
    /// Submit the form and note the submission in the session record.
    pub ESK_REMS_MONITORING_FORM_MISSING {
        id: "esk-rems-monitoring-form-missing",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "Spravato REMS: Patient Monitoring Form after each outpatient session within 7 days",
        valid_from: Some("2019-03-05"),
        valid_to: None,
        since: "0.1.0",
        check: form_missing,
    }
}

fn form_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    // The form is filed per session; a visit without a dose has none.
    if not_a_session(ctx) {
        return vec![];
    }
    if inpatient(ctx) {
        return vec![];
    }
    let (done, neg) = rems_value(ctx, "monitoring_form");
    if done {
        return vec![];
    }
    if neg {
        let r = ctx.enc.all(EvKind::Rems).into_iter().find(|r| ctx.enc.ev(*r).value.starts_with("monitoring_form")).unwrap();
        return vec![Hit::at(
            "The REMS Patient Monitoring Form is documented as not yet submitted; submit it within 7 days of the session and record it.",
            r,
        )];
    }
    vec![Hit::absent("No REMS Patient Monitoring Form completion or submission is documented for this session.")]
}

crate::declare_rule! {
    /// ## What it checks
    /// A numeric blood pressure is recorded before the first device.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// The Spravato label requires BP assessment before dosing; payers and
    /// REMS auditors look for it on every session.
    /// ## Evidence
    /// BP readings decided pre-dose by wording ("baseline", "prior to
    /// administration"), by clock time before the first dose, by a pre-dose
    /// section, or by position before the administration statement. "BP WNL",
    /// declined and not-obtained entries are not readings.
    /// ## Example
    /// Vitals charted only at 40 minutes and at discharge.
    /// ## How to fix
    /// Record the pre-dose BP with its time.
    pub ESK_MISSING_PREDOSE_BP {
        id: "esk-missing-predose-bp",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI section 2 (BP before dosing); Spravato HCP dosing page",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: predose,
    }
}

fn predose(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    if ctx.facts.pre_dose_bp {
        return vec![];
    }
    vec![Hit::absent("No numeric blood pressure is documented before dosing.")]
}

crate::declare_rule! {
    /// ## What it checks
    /// A blood pressure is recorded about 40 minutes after dosing (window
    /// 25-60 minutes). A post-dose reading whose time cannot be placed is
    /// given the benefit of the doubt; a reading worded as the discharge
    /// reading is not the 40-minute check.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// The label asks for BP about 40 minutes after dosing, when the
    /// esketamine BP rise peaks; its absence is a monitoring gap.
    /// ## Evidence
    /// Post-dose BP readings with their offset from the first dose (clock
    /// times, "@40min", "T+40", "40 min post").
    /// ## Example
    /// Pre-dose BP 128/82 and discharge BP 124/80 only.
    /// ## How to fix
    /// Record the ~40-minute BP and its time in the monitoring log.
    pub ESK_MISSING_40MIN_BP {
        id: "esk-missing-40min-bp",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI (BP ~40 min post-dose); Spravato HCP dosing page",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: forty_min,
    }
}

fn forty_min(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    let post: Vec<_> = ctx.facts.bps.iter().filter(|b| b.phase == Phase::Post).collect();
    if post.iter().any(|b| b.offset_min.is_some_and(|o| (25..=60).contains(&o))) {
        return vec![];
    }
    if post.iter().any(|b| b.offset_min.is_none() && !b.at_discharge) {
        return vec![];
    }
    if post.is_empty() {
        return vec![Hit::absent("No post-dose blood pressure is documented; the ~40-minute reading is missing.")];
    }
    vec![Hit::absent("Post-dose blood pressure is documented, but none at about 40 minutes after dosing.")]
}

/// Systolic pressure above which a reading is elevated (mmHg). The Spravato
/// PI gives ">140 mmHg systolic, >90 mmHg diastolic" as an example of an
/// elevated baseline; rules-reference 2.4 marks that threshold unverified
/// (U), so it lives here, in one place, for `esk-bp-elevation-unmanaged`.
pub const BP_ELEVATED_SYSTOLIC: u16 = 140;
/// Diastolic pressure above which a reading is elevated (mmHg); see
/// [`BP_ELEVATED_SYSTOLIC`].
pub const BP_ELEVATED_DIASTOLIC: u16 = 90;

fn elevated(b: &BpSummary) -> bool {
    b.sys > BP_ELEVATED_SYSTOLIC || b.dia > BP_ELEVATED_DIASTOLIC
}

/// The readings of one phase in the order they were taken: by minutes from
/// the first dose when every one has them, else as written; a reading
/// worded as the discharge reading is the last.
fn in_time_order<'a>(ctx: &Ctx<'a>, phase: Phase) -> Vec<&'a BpSummary> {
    let mut v: Vec<&BpSummary> = ctx.facts.bps.iter().filter(|b| b.phase == phase).collect();
    if v.iter().all(|b| b.offset_min.is_some()) {
        v.sort_by_key(|b| b.offset_min);
    }
    v.sort_by_key(|b| b.at_discharge);
    v
}

crate::declare_rule! {
    /// ## What it checks
    /// Two things, each on its own finding. Pre-dose: when the blood
    /// pressure that dosing went ahead on (the last pre-dose reading) is
    /// elevated (systolic over 140 or diastolic over 90 mmHg), a
    /// risk-benefit decision or other management is documented; an elevated
    /// reading rechecked to a normal one before dosing is fine. Post-dose:
    /// when the last post-dose reading is still elevated (no later normal
    /// reading), management is documented: prescriber notified or
    /// evaluating, patient kept until the BP came down, treatment given. A
    /// consent-style risk-benefit line answers only the pre-dose part.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// Esketamine raises blood pressure, peaking about 40 minutes after
    /// dosing. The PI asks that an elevated baseline (it cites >140/90 as
    /// an example; rules-reference marks the figure unverified) be weighed
    /// against the benefit before dosing, and that BP be reassessed after
    /// dosing until it is decreasing and the patient is stable for
    /// discharge. A session dosed on, or ended at, an elevated reading with
    /// nothing written about it is a safety-documentation gap.
    /// ## Evidence
    /// The encounter's distinct BP readings with their phase and minutes
    /// from the first dose (as for `esk-missing-predose-bp` and
    /// `esk-missing-40min-bp`), and `bp_management` phrases
    /// (`dictionaries/phrases.toml`): "benefits outweigh risks", "risks and
    /// benefits discussed ... proceed", "MD notified", "Dr X evaluated,
    /// cleared to proceed", "BP rechecked", "observed until BP < 140/90",
    /// "clonidine 0.1 mg given", and for the post-dose part "BP back to
    /// baseline". Negated or conditional mentions ("MD not
    /// notified", "notify MD if BP > 160/100") do not count. Within the
    /// reading's note, pre-dose management must come before the first
    /// post-dose reading and post-dose management at or after the first
    /// elevated post-dose reading ("MD notified" beside a 40-minute reading
    /// does not answer an elevated baseline); in another note of the
    /// encounter it answers the pre-dose reading only when its line names
    /// the blood pressure ("Pt seen prior to Spravato. OK to proceed." is a
    /// clearance, not a decision about a 158/96). The threshold
    /// is `BP_ELEVATED_SYSTOLIC` / `BP_ELEVATED_DIASTOLIC` in
    /// `src/rules/esk.rs`.
    /// ## Example
    /// "Pre-dose BP 158/96", devices given, nothing more about the BP; or
    /// "40 min BP 168/100" followed by discharge with no later reading.
    /// ## How to fix
    /// Record the risk-benefit decision for an elevated baseline (who
    /// decided, to proceed or to hold), and recheck an elevated post-dose BP
    /// until it falls, with the pre-discharge value and any prescriber
    /// involvement or treatment.
    pub ESK_BP_ELEVATION_UNMANAGED {
        id: "esk-bp-elevation-unmanaged",
        severity: Medium,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI section 5 (increase in blood pressure: assess before dosing, reassess ~40 min and as warranted; baseline >140/90 example unverified)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: bp_elevation,
    }
}

fn bp_elevation(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    let managed = ctx.enc.counting(EvKind::BpManagement);
    let id_of = |r: &EvRef| ctx.enc.ev(*r).entry_id.as_str();
    let start_of = |r: &EvRef| ctx.enc.ev(*r).span.start;
    let pre = in_time_order(ctx, Phase::Pre);
    let post = in_time_order(ctx, Phase::Post);
    // Where the management is written decides which reading it answers: in
    // the note of the reading, pre-dose management comes before the note's
    // first post-dose reading and post-dose management comes at or after
    // (up to a short lead, "MD notified of BP 168/100") the first elevated
    // post-dose reading; a statement in another note cannot be placed and
    // counts for both. A risk-benefit decision answers only the pre-dose
    // reading, a BP written as come down only the post-dose one.
    let first_post = |n: usize| post.iter().filter(|b| b.ev.0 == n).map(|b| start_of(&b.ev)).min();
    let first_high_post = |n: usize| post.iter().filter(|b| b.ev.0 == n && elevated(b)).map(|b| start_of(&b.ev)).min();
    // Another note's clearance ("Pt seen prior to Spravato. OK to
    // proceed.") answers an elevated reading only when its line names the
    // blood pressure.
    let bp_named = |r: &EvRef| ctx.enc.ev(*r).value.ends_with(crate::extract::phrases::BP_NAMED);
    let pre_managed = |note: usize| {
        managed.iter().any(|r| match id_of(r) {
            "bp-came-down" => false,
            "bp-risk-benefit" => true,
            _ if r.0 != note => bp_named(r),
            _ => first_post(note).is_none_or(|p| start_of(r) < p),
        })
    };
    let post_managed = |note: usize| {
        managed
            .iter()
            .any(|r| id_of(r) != "bp-risk-benefit" && (r.0 != note || first_high_post(note).is_none_or(|p| start_of(r) + 80 >= p)))
    };
    let mut out = Vec::new();
    if let Some(last) = pre.last().filter(|b| elevated(b)) {
        if !pre_managed(last.ev.0) {
            let earlier: Vec<String> =
                pre.iter().filter(|b| elevated(b) && b.ev != last.ev).map(|b| format!("{}/{}", b.sys, b.dia)).collect();
            let also = if earlier.is_empty() { String::new() } else { format!(" (after {})", earlier.join(", ")) };
            out.push(Hit::at(
                format!(
                    "Dosed on an elevated pre-dose BP {}/{}{also} (over {BP_ELEVATED_SYSTOLIC}/{BP_ELEVATED_DIASTOLIC}) with no documented risk-benefit decision, prescriber review or recheck.",
                    last.sys, last.dia
                ),
                last.ev,
            ));
        }
    }
    if let Some(last) = post.last().filter(|b| elevated(b)) {
        if !post_managed(last.ev.0) {
            let when = match (last.at_discharge, last.offset_min) {
                (true, _) => " at discharge".to_string(),
                (false, Some(m)) if m > 0 => format!(" at {m} min"),
                _ => String::new(),
            };
            out.push(Hit::at(
                format!(
                    "The last post-dose BP, {}/{}{when}, is elevated (over {BP_ELEVATED_SYSTOLIC}/{BP_ELEVATED_DIASTOLIC}) with no later reading showing it came down and no documented management (prescriber notified, kept until BP decreased, treatment).",
                    last.sys, last.dia
                ),
                last.ev,
            ));
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// Sedation/dissociation and respiratory status (SpO2 / pulse oximetry)
    /// are assessed during monitoring. The rule fires only when neither a
    /// sedation/dissociation assessment nor an SpO2 value is documented.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// The boxed warning covers sedation, dissociation and (since 2023)
    /// respiratory depression; the REMS requires a pulse oximeter on site.
    /// ## Evidence
    /// Sedation scales and wording (CADSS, MOAA/S, "no sedation"), SpO2 values.
    /// ## Example
    /// "Tolerated well." with no sedation or SpO2 entry.
    /// ## How to fix
    /// Record sedation/dissociation checks and SpO2 during monitoring and their resolution.
    pub ESK_SEDATION_RESP_MONITORING_MISSING {
        id: "esk-sedation-resp-monitoring-missing",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI boxed warning (respiratory depression added 2023); Spravato REMS pulse-oximeter requirement",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: sedation,
    }
}

fn sedation(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    let sed = !ctx.enc.counting(EvKind::Sedation).is_empty() || !ctx.enc.counting(EvKind::Resolution).is_empty();
    let spo2 = !ctx.enc.counting(EvKind::Spo2).is_empty();
    if sed || spo2 {
        return vec![];
    }
    vec![Hit::absent("Neither sedation/dissociation nor SpO2 is documented during monitoring.")]
}

crate::declare_rule! {
    /// ## What it checks
    /// Post-dose monitoring lasted at least 120 minutes (last device to end of
    /// observation or discharge, or an explicit statement). Fires when the
    /// documented time is under 2 hours, and when no monitoring time, end of
    /// observation or discharge time is documented at all.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// The label and REMS require at least 2 hours of observation; G2082/G2083
    /// include 2 hours of observation in their descriptors.
    /// ## Evidence
    /// monitoring_minutes and the times it was derived from.
    /// ## Example
    /// Last device 10:10, discharged 11:45 (95 minutes).
    /// ## How to fix
    /// Document device and discharge times; keep patients at least 2 hours and
    /// until sedation and dissociation resolve.
    pub ESK_MONITORING_UNDER_2H {
        id: "esk-monitoring-under-2h",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI and REMS (>= 2 h monitoring); G2082/G2083 descriptors (84 FR 62568)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: under_2h,
    }
}

fn under_2h(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    match ctx.facts.monitoring_minutes {
        Some(m) if m >= 120 => vec![],
        Some(m) => {
            let msg = format!("Documented post-dose monitoring is {m} minutes, under the required 2 hours.");
            match ctx.facts.monitoring_ev {
                Some(r) => vec![Hit::at(msg, r)],
                None => vec![Hit::absent(msg)],
            }
        }
        None => {
            let any_timing = ctx.enc.notes.iter().any(|n| {
                let t = &n.facts.timing;
                !t.discharge.is_empty() || !t.monitor_end.is_empty() || !t.monitor_start.is_empty()
            });
            if any_timing {
                vec![]
            } else {
                vec![Hit::absent(
                    "No monitoring duration, end-of-observation or discharge time is documented; 2 hours of monitoring cannot be shown.",
                )]
            }
        }
    }
}

crate::declare_rule! {
    /// ## What it checks
    /// Discharge readiness is documented: an HCP judgment that the patient is
    /// clinically stable to leave (discharge criteria met, sedation and
    /// dissociation resolved), with transport arranged / no driving.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// The boxed warning requires monitoring until the patient is safe to
    /// leave and counselling not to drive until the next day.
    /// ## Evidence
    /// Discharge-readiness and transport phrases, affirmed. A bare discharge
    /// time is not a readiness assessment.
    /// ## Example
    /// "Discharged 12:15." with nothing else.
    /// ## How to fix
    /// Record the readiness assessment and how the patient got home.
    pub ESK_DISCHARGE_NOT_DOCUMENTED {
        id: "esk-discharge-not-documented",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI boxed warning, sections 5 and 17; REMS counselling",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: discharge,
    }
}

fn discharge(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    if ctx.facts.discharge_criteria_documented {
        return vec![];
    }
    vec![Hit::absent("No discharge-readiness assessment (stable to leave, sedation resolved, ride home arranged) is documented.")]
}

crate::declare_rule! {
    /// ## What it checks
    /// A patient has at most 2 esketamine administration sessions in any 7
    /// consecutive calendar days. It fires on each session that is the third
    /// (or later) of the patient's sessions dated within 7 days, i.e. on or
    /// within 6 days after the first of them; a patient's encounters on one
    /// date are one session (a session split over, or exported under,
    /// several encounter ids). A session here is an esketamine-track
    /// encounter with a billed S0013/J0013/G2082/G2083 line, a timed dose or
    /// device administration, or a dose or administration written as given
    /// at this visit; monitoring times, a REMS monitoring form or a session
    /// note type alone do not count toward the limit; a
    /// follow-up or E/M visit that only discusses the course ("continue
    /// Spravato 56 mg twice weekly") is not counted. Only this part of the label schedule is checked: whether
    /// a session falls in induction (weeks 1-4, twice weekly), weeks 5-8
    /// (weekly) or maintenance (weekly or every 2 weeks), and whether an
    /// MDSI course is past its 4 weeks, cannot be decided because an export
    /// may start in the middle of a course. Sessions are counted across the
    /// whole scan, per patient id. A session whose note itself says it is the
    /// third (or later) within 7 days ("third Spravato dose in 7 days") fires
    /// on that statement even when the earlier sessions are not in the
    /// export; so does one whose note lists the course's session dates
    /// ("Sessions so far: 5/4, 5/7, 5/11, 5/13; today 5/15") with two or
    /// more of them in the 6 days before the date of service.
    /// ## Why an auditor cares
    /// The Spravato label never doses more than twice a week (induction is
    /// twice weekly, later phases weekly or every 2 weeks), and payer
    /// schedules and prior-authorization quantity limits follow it; a third
    /// session in 7 days is outside the labeled schedule and is denied or
    /// recouped.
    /// ## Evidence
    /// The patient's other administration sessions in the 7-day window
    /// (encounter ids and dates of service), named in the message; or the
    /// note's statement or list of session dates.
    /// ## Example
    /// Spravato sessions on Monday, Wednesday and Friday of one week: the
    /// Friday session fires, naming the Monday and Wednesday encounters.
    /// ## How to fix
    /// Check the dates of service (a session billed under the wrong date, or
    /// the same session exported twice under different encounter ids), and
    /// keep the course to at most 2 sessions a week; document the reason
    /// and any payer approval for an off-schedule session.
    pub ESK_DOSING_SCHEDULE_EXCEEDED {
        id: "esk-dosing-schedule-exceeded",
        severity: Medium,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI section 2 (dosage: induction twice weekly, then weekly or every 2 weeks); eviCore esketamine dosing schedule",
        valid_from: Some("2019-03-05"),
        valid_to: None,
        since: "0.1.0",
        check: schedule,
    }
}

/// Sessions the label allows in any 7 consecutive calendar days.
pub const MAX_SESSIONS_IN_7_DAYS: usize = 2;

/// One patient's administration sessions, sorted by date of service (ties
/// in encounter id order): each session on the third or later distinct date
/// within 7 consecutive calendar days (its date and the 6 days before), with
/// the range of the sessions on the earlier dates in that window. Encounters
/// of one patient on one date are one session (a session split over, or
/// exported under, several encounter ids), so they neither count twice nor
/// name each other.
pub fn over_weekly_limit(dates: &[NaiveDate]) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut from = 0;
    for (k, d) in dates.iter().enumerate() {
        while (*d - dates[from]).num_days() >= 7 {
            from += 1;
        }
        let same_day = from + dates[from..k].partition_point(|x| x < d);
        if distinct_days(&dates[from..same_day]) + 1 > MAX_SESSIONS_IN_7_DAYS {
            out.push((k, from..same_day));
        }
    }
    out
}

/// Distinct dates in a sorted slice.
fn distinct_days(dates: &[NaiveDate]) -> usize {
    if dates.is_empty() {
        0
    } else {
        1 + dates.windows(2).filter(|w| w[0] != w[1]).count()
    }
}

/// Message of an `esk-dosing-schedule-exceeded` finding.
pub(crate) fn schedule_message(w: &SessionsInWeek, date_of_service: NaiveDate) -> String {
    let others: Vec<String> = w.others.iter().map(|(e, d)| format!("encounter {e} on {d}")).collect();
    let mut days: Vec<NaiveDate> = w.others.iter().map(|(_, d)| *d).collect();
    days.sort_unstable();
    let sessions = distinct_days(&days) + 1;
    format!(
        "{sessions} esketamine sessions within 7 days ({} and this one on {date_of_service}); the label schedule allows at most {MAX_SESSIONS_IN_7_DAYS} a week.",
        others.join(", "),
    )
}

fn schedule(ctx: &Ctx<'_>) -> Vec<Hit> {
    // The note may say so itself when the earlier sessions are not in the
    // export ("Third Spravato dose in 7 days (11/04, 11/06 and today)"); that
    // statement is the evidence, and the scan does not add a second finding
    // from the counted sessions (see `pipeline`).
    if let Some(r) = stated_schedule_excess(ctx) {
        return vec![Hit::at(
            format!("The note documents a third or later esketamine session within 7 days; the label schedule allows at most {MAX_SESSIONS_IN_7_DAYS} a week."),
            r,
        )];
    }
    if let Some((r, dates)) = listed_schedule_excess(ctx) {
        let list: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
        return vec![Hit::at(
            format!(
                "The note lists {} esketamine sessions within 7 days ({}, this one on {}); the label schedule allows at most {MAX_SESSIONS_IN_7_DAYS} a week.",
                dates.len() + 1,
                list.join(", "),
                ctx.enc.date_of_service
            ),
            r,
        )];
    }
    let Some(w) = &ctx.facts.sessions_in_week else { return vec![] };
    vec![Hit::absent(schedule_message(w, ctx.enc.date_of_service))]
}

/// The course's session dates a note of an administration session lists
/// ("Sessions so far: 5/4, 5/7, 5/11, 5/13; today 5/15"), read against the
/// date of service: when this session is the third or later within 7
/// days, the list's evidence and the other sessions' dates in that window.
/// A date without a year takes the date of service's, or the year before
/// when that would fall after it; dates after the date of service or more
/// than 6 days before it do not count toward this session's window.
fn listed_schedule_excess(ctx: &Ctx<'_>) -> Option<(EvRef, Vec<NaiveDate>)> {
    if !administration_session(ctx.enc, ctx.facts, ctx.dict) {
        return None;
    }
    let dos = ctx.enc.date_of_service;
    let (n, (ev, listed)) = ctx
        .enc
        .notes
        .iter()
        .enumerate()
        .filter_map(|(n, note)| note.facts.listed_sessions.as_ref().map(|l| (n, l)))
        .max_by_key(|(_, (_, d))| d.len())?;
    let mut dates: Vec<NaiveDate> = listed
        .iter()
        .filter_map(|&(m, d, y)| {
            let at = |y: i32| NaiveDate::from_ymd_opt(y, m, d);
            match y {
                Some(y) => at(y),
                None => at(dos.year()).filter(|x| *x <= dos).or_else(|| at(dos.year() - 1)),
            }
        })
        .filter(|d| *d < dos && (dos - *d).num_days() < 7)
        .collect();
    dates.sort_unstable();
    dates.dedup();
    (dates.len() + 1 > MAX_SESSIONS_IN_7_DAYS).then_some(((n, *ev), dates))
}

/// An affirmed statement in an administration session's notes that it is
/// the third or later session within 7 days. "Administration session" is the
/// same test the counted path uses ([`administration_session`]): a visit that
/// would not count toward another encounter's total does not count here.
pub(crate) fn stated_schedule_excess(ctx: &Ctx<'_>) -> Option<EvRef> {
    if !administration_session(ctx.enc, ctx.facts, ctx.dict) {
        return None;
    }
    ctx.enc.counting(EvKind::ScheduleExcess).into_iter().next()
}

crate::declare_rule! {
    /// ## What it checks
    /// Units on the S0013/J0013 drug lines equal the documented dose in mg
    /// (1 unit = 1 mg: 56 mg = 56 units, 84 mg = 84 units).
    /// ## Why an auditor cares
    /// Billing the device count (2 or 3) or 1 unit for a 56/84 mg dose is an
    /// underpayment/overpayment error payers recoup.
    /// ## Evidence
    /// billed_drug_units against dose_mg (devices x 28 mg or a stated mg dose).
    /// ## Example
    /// J0013 x 2 for a 56 mg (two-device) session.
    /// ## How to fix
    /// Bill units equal to the milligrams administered.
    pub ESK_UNITS_MISMATCH_DOSE {
        id: "esk-units-mismatch-dose",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "HCPCS descriptors S0013/J0013 (esketamine, nasal spray, 1 mg)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: units,
    }
}

fn units(ctx: &Ctx<'_>) -> Vec<Hit> {
    if ctx.facts.units_match_dose != Some(false) {
        return vec![];
    }
    let (u, d) = (ctx.facts.billed_drug_units.unwrap_or(0), ctx.facts.dose_mg.unwrap_or(0.0));
    let msg = format!("{u} units billed on the esketamine drug line for a documented {d} mg dose; units must equal mg administered.");
    match ctx.facts.dose_ev {
        Some(r) => vec![Hit::at(msg, r)],
        None => vec![Hit::absent(msg)],
    }
}

crate::declare_rule! {
    /// ## What it checks
    /// No J0222 line on an esketamine encounter.
    /// ## Why an auditor cares
    /// J0222 is injection, patisiran, 0.1 mg (Onpattro), widely misquoted as
    /// the esketamine code; it is a wrong-drug claim.
    /// ## Evidence
    /// The encounter's claim lines.
    /// ## Example
    /// J0222 x 56 billed for a Spravato session.
    /// ## How to fix
    /// Bill S0013 (through 2025-12-31) or J0013 (from 2026-01-01), or G2082/G2083 for Medicare.
    pub ESK_WRONG_DRUG_CODE_J0222 {
        id: "esk-wrong-drug-code-j0222",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "CMS HCPCS Level II file: J0222 = injection, patisiran, 0.1 mg",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: j0222,
    }
}

fn j0222(ctx: &Ctx<'_>) -> Vec<Hit> {
    if ctx.enc.codes().any(|c| c == "J0222") {
        vec![Hit::absent("J0222 (patisiran) is billed on an esketamine encounter; it is not an esketamine code.")]
    } else {
        vec![]
    }
}

crate::declare_rule! {
    /// ## What it checks
    /// The esketamine drug code is valid on the date of service: S0013 through
    /// 2025-12-31, J0013 from 2026-01-01; neither billed to traditional Medicare
    /// (G2082/G2083 include the drug).
    /// ## Why an auditor cares
    /// CMS discontinued S0013 and created J0013 effective 2026-01-01; a code
    /// invalid on the DOS is denied, and S-codes are never payable by
    /// traditional Medicare.
    /// ## Evidence
    /// Claim lines against the effective ranges in `dictionaries/codes.toml`
    /// and the payer profile.
    /// ## Example
    /// S0013 x 84 on 2026-02-10.
    /// ## How to fix
    /// Rebill with the code valid on the DOS (J0013 from 2026), or G2082/G2083 for Medicare.
    pub ESK_DRUG_CODE_INVALID_ON_DOS {
        id: "esk-drug-code-invalid-on-dos",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "HCPCS 2026 update: S0013 discontinued, J0013 effective 2026-01-01 (UHC 2026D0069P policy history and coding secondaries; rules-reference C3: not yet confirmed in the CMS 2026 HCPCS file); CGS J15 esketamine article (Medicare pays via G2082/G2083)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: drug_code_dos,
    }
}

fn drug_code_dos(ctx: &Ctx<'_>) -> Vec<Hit> {
    let dos = ctx.enc.date_of_service;
    let mut out = Vec::new();
    for l in ctx.enc.lines_of(ctx.dict, CodeKind::EskDrug) {
        let def = ctx.dict.codes.get(&l.code).unwrap();
        if !def.valid_on(dos) {
            out.push(Hit::absent(format!(
                "{} is not valid on {dos} ({}); use {}.",
                l.code,
                match (def.valid_from, def.valid_to) {
                    (_, Some(t)) if dos > t => format!("discontinued after {t}"),
                    (Some(f), _) if dos < f => format!("effective from {f}"),
                    _ => "outside its effective dates".into(),
                },
                if l.code == "S0013" { "J0013" } else { "S0013" }
            )));
        } else if ctx.payer.traditional_medicare {
            out.push(Hit::absent(format!(
                "{} is billed to traditional Medicare, which pays esketamine through G2082/G2083 (drug included).",
                l.code
            )));
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// G2082 is billed only for documented doses of 56 mg or less and G2083
    /// only for more than 56 mg.
    /// ## Why an auditor cares
    /// The G-code tier is set by the dose provided; the wrong tier is an
    /// overpayment (G2083 for 56 mg) or underpayment.
    /// ## Evidence
    /// dose_mg against the code's tier in `dictionaries/codes.toml`.
    /// ## Example
    /// G2083 billed; the note documents two devices (56 mg).
    /// ## How to fix
    /// Bill the tier matching the documented dose.
    pub ESK_GCODE_TIER_MISMATCH {
        id: "esk-gcode-tier-mismatch",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "G2082/G2083 descriptors, CY2020 PFS interim final rule (84 FR 62568)",
        valid_from: Some("2020-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: tier,
    }
}

fn tier(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(d) = ctx.facts.dose_mg else { return vec![] };
    let mut out = Vec::new();
    for l in ctx.enc.lines_of(ctx.dict, CodeKind::EskGcode) {
        let def = ctx.dict.codes.get(&l.code).unwrap();
        let wrong = def.max_mg.is_some_and(|m| d > m) || def.min_mg_exclusive.is_some_and(|m| d <= m);
        if wrong {
            let msg = format!("{} billed for a documented {d} mg dose; G2082 is up to 56 mg, G2083 more than 56 mg.", l.code);
            out.push(match ctx.facts.dose_ev {
                Some(r) => Hit::at(msg, r),
                None => Hit::absent(msg),
            });
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// No esketamine drug line (S0013/J0013) or unclassified drug line (J3490)
    /// with G2082/G2083 on the same encounter.
    /// ## Why an auditor cares
    /// The G-codes include the provision of esketamine; adding a drug code
    /// bills the drug twice (CGS J15 instructs not to add a drug J-code).
    /// ## Evidence
    /// The encounter's claim lines.
    /// ## Example
    /// G2083 + J0013 x 84.
    /// ## How to fix
    /// Remove the drug line (or bill S0013/J0013 with an administration code
    /// for commercial payers that do not use the G-codes).
    pub ESK_GCODE_WITH_DRUG_CODE {
        id: "esk-gcode-with-drug-code",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "G2082/G2083 descriptors ('provision of esketamine'); CGS Part A/B esketamine billing article (2023)",
        valid_from: Some("2020-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: gcode_drug,
    }
}

fn gcode_drug(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !ctx.enc.has_kind(ctx.dict, CodeKind::EskGcode) {
        return vec![];
    }
    let drugs: Vec<&str> = ctx
        .enc
        .claims
        .iter()
        .filter(|l| matches!(ctx.dict.codes.kind(&l.code), Some(CodeKind::EskDrug | CodeKind::UnlistedDrug)))
        .map(|l| l.code.as_str())
        .collect();
    if drugs.is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!("{} billed with G2082/G2083, which already include the esketamine.", drugs.join(", ")))]
}

crate::declare_rule! {
    /// ## What it checks
    /// No E/M 99212-99215, prolonged service (99415-99417, G2212) with
    /// G2082/G2083, unless the E/M carries -25 and a separately identifiable
    /// problem is documented. Prolonged-service codes always fire: the
    /// G-codes include the 2-hour observation.
    /// ## Why an auditor cares
    /// The G-code descriptors include an established-patient visit and 2
    /// hours of observation; a same-day E/M or prolonged code for the same
    /// work is duplicative. Whether a separately identifiable E/M with -25 is
    /// payable is MAC-dependent.
    /// ## Evidence
    /// Claim lines, modifiers and separate_em_documentation.
    /// ## Example
    /// G2082 + 99214 (no -25) + 99417.
    /// ## How to fix
    /// Drop the E/M/prolonged lines, or document a separate problem and append -25.
    pub ESK_GCODE_WITH_EM_OR_PROLONGED {
        id: "esk-gcode-with-em-or-prolonged",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "G2082/G2083 descriptors (84 FR 62568); MAC guidance on separately identifiable E/M (unverified, MAC-dependent)",
        valid_from: Some("2020-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: gcode_em,
    }
}

fn gcode_em(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !ctx.enc.has_kind(ctx.dict, CodeKind::EskGcode) {
        return vec![];
    }
    let mut out = Vec::new();
    for l in &ctx.enc.claims {
        let kind = ctx.dict.codes.kind(&l.code);
        if matches!(kind, Some(CodeKind::ProlongedPhysician | CodeKind::ProlongedStaff | CodeKind::ProlongedDeleted)) {
            out.push(Hit::absent(format!("{} billed with G2082/G2083, which include the 2-hour observation.", l.code)));
        } else if matches!(l.code.as_str(), "99212" | "99213" | "99214" | "99215") {
            let m25 = l.modifiers.iter().any(|m| m == "25");
            if !m25 || ctx.facts.separate_em_documentation == Some(false) {
                out.push(Hit::absent(format!(
                    "{}{} billed with G2082/G2083 {}.",
                    l.code,
                    if m25 { "-25" } else { "" },
                    if m25 {
                        "without a separately identifiable E/M documented"
                    } else {
                        "without modifier 25 and a separately identifiable problem"
                    }
                )));
            }
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// G2082/G2083 are billed only for established patients. It fires when a
    /// G-code is billed on an encounter that also bills a new-patient E/M
    /// (99202-99205; `new_patient` in `dictionaries/codes.toml`), or whose
    /// notes state that this visit is the patient's first with the practice
    /// ("new patient to our practice", "Visit type: New patient", "presents
    /// to establish care", "never seen in this clinic before"). Being new to
    /// the drug is not being new to the practice: "new to Spravato", "first
    /// Spravato session", "new patient education" do not count, nor a
    /// negated, planned, family or past mention ("at her new patient visit
    /// 01/05/2026").
    /// ## Why an auditor cares
    /// The G2082/G2083 descriptors describe an established-patient office
    /// visit; a new patient's first visit cannot be billed under them.
    /// ## Evidence
    /// The claim lines, and new-patient phrases (`new_patient` in
    /// `dictionaries/phrases.toml`); the finding points at the statement
    /// when there is one. Limits: only this encounter is read, so a
    /// new-patient E/M billed under a separate encounter id on the same
    /// date, and the CPT three-year rule (no professional service from the
    /// practice's same-specialty physicians in three years), are not checked.
    /// ## Example
    /// G2082 + 99204 on one encounter, or G2083 on a note headed "NEW PATIENT
    /// EVALUATION".
    /// ## How to fix
    /// Bill the new patient's first visit with the new-patient E/M and the
    /// esketamine drug and administration codes the payer accepts; use
    /// G2082/G2083 from the first established visit.
    pub ESK_GCODE_NEW_PATIENT {
        id: "esk-gcode-new-patient",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "G2082/G2083 descriptors ('established patient'), CY2020 PFS interim final rule (84 FR 62568)",
        valid_from: Some("2020-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: gcode_new_patient,
    }
}

fn gcode_new_patient(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut gcodes: Vec<&str> = ctx.enc.lines_of(ctx.dict, CodeKind::EskGcode).iter().map(|l| l.code.as_str()).collect();
    if gcodes.is_empty() {
        return vec![];
    }
    gcodes.sort_unstable();
    gcodes.dedup();
    let gcodes = gcodes.join("/");
    let mut new_em: Vec<&str> =
        ctx.enc.claims.iter().filter(|l| ctx.dict.codes.get(&l.code).is_some_and(|d| d.new_patient)).map(|l| l.code.as_str()).collect();
    new_em.sort_unstable();
    new_em.dedup();
    let stated = ctx.enc.counting(EvKind::NewPatient).first().copied();
    let msg = match (new_em.is_empty(), stated) {
        (false, _) => format!(
            "{gcodes} billed with the new-patient E/M {} on the same encounter; G2082/G2083 are for established patients only.",
            new_em.join(", ")
        ),
        (true, Some(_)) => {
            format!("{gcodes} billed, but the note documents a new patient's first visit to the practice; G2082/G2083 are for established patients only.")
        }
        (true, None) => return vec![],
    };
    vec![match stated {
        Some(r) => Hit::at(msg, r),
        None => Hit::absent(msg),
    }]
}

crate::declare_rule! {
    /// ## What it checks
    /// An esketamine session documents that the patient self-administered
    /// in the setting under a healthcare provider's direct observation.
    /// Documented means an affirmed supervision statement ("self-administered
    /// under direct observation", "RN observed", "prescriber on site
    /// throughout"), or, failing that, an in-clinic post-dose monitoring
    /// record (a post-dose BP, a monitoring time or a sedation/dissociation
    /// assessment), which staff can only write if the patient dosed and stayed
    /// in front of them. It fires when a session dose is documented with
    /// neither, when supervision is written as not done ("not observed"), and
    /// on any affirmed take-home or at-home esketamine.
    /// Checked only on esketamine administration sessions: an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course (no esketamine line, dose given, device or
    /// monitoring time) is not a session and is not checked.
    /// ## Why an auditor cares
    /// Spravato may only be self-administered under direct supervision of a
    /// healthcare provider in a REMS-certified setting, never taken home; a
    /// session whose record cannot show that is a REMS violation and the
    /// G2082/G2083 descriptors ("with supervision") are not met.
    /// ## Evidence
    /// Supervision and take-home phrases (`dictionaries/phrases.toml`), the
    /// session dose, post-dose BP, monitoring minutes and sedation phrases.
    /// Limits: that the *prescriber* was on site and the treatment setting
    /// itself are rarely restated per note and are not required; the
    /// monitoring-record inference accepts staff-written monitoring as proof
    /// of observed administration.
    /// ## Example
    /// "Spravato 56 mg. Pt tolerated well. See flowsheet." with nothing else,
    /// or "2 devices sent home with patient for Thursday's dose".
    /// ## How to fix
    /// Record "self-administered under direct observation by <name, role>",
    /// the device times and that the prescriber was on site.
    pub ESK_SUPERVISION_NOT_DOCUMENTED {
        id: "esk-supervision-not-documented",
        severity: Critical,
        applies: Esk,
        family: "esk",
        authority: "Spravato PI section 2.1 and boxed warning (administration under HCP supervision); Spravato REMS (REMS@FDA id 386)",
        valid_from: Some("2019-03-05"),
        valid_to: None,
        since: "0.1.0",
        check: supervision,
    }
}

fn supervision(ctx: &Ctx<'_>) -> Vec<Hit> {
    if let Some(r) = ctx.enc.counting(EvKind::TakeHome).into_iter().next() {
        return vec![Hit::at(
            "Esketamine is documented as taken or used at home; Spravato may only be self-administered under direct supervision in a certified setting.",
            r,
        )];
    }
    // The absence check needs a dose given at this visit: a billed
    // esketamine line, a timed or stated administration, or a documented
    // dose on an encounter that is otherwise a session.
    let dosed = match session_evidence(ctx.enc, ctx.facts, ctx.dict) {
        Some(SessionEvidence::BilledEsketamine | SessionEvidence::TimedAdministration | SessionEvidence::AdministeredToday) => true,
        Some(_) => ctx.facts.dose_mg.is_some(),
        None => false,
    };
    if !dosed || !ctx.enc.counting(EvKind::Supervision).is_empty() {
        return vec![];
    }
    let negated = ctx.enc.all(EvKind::Supervision).into_iter().find(|r| ctx.enc.ev(*r).assertion.negated);
    if let Some(r) = negated {
        return vec![Hit::at("Self-administration is documented as not observed by a healthcare provider.", r)];
    }
    let monitored = ctx.facts.post_dose_bp || ctx.facts.monitoring_minutes.is_some() || !ctx.enc.all(EvKind::Sedation).is_empty();
    if monitored {
        return vec![];
    }
    vec![Hit::absent(
        "Nothing documents that the patient self-administered under direct healthcare-provider observation: no supervision statement and no in-clinic post-dose monitoring record.",
    )]
}

crate::declare_rule! {
    /// ## What it checks
    /// The encounter that starts a ketamine or esketamine course (an
    /// affirmed initiation statement: "plan: start Spravato 56 mg",
    /// "candidate for esketamine"; a course continued or renewed is not a
    /// start, nor is a prior-authorization request alone, since renewals are
    /// often filed without saying so; or a session written as the first of
    /// its course: "infusion 1 of 6", "first Spravato treatment"; in an
    /// intake where no dose is given, the statement must name esketamine or an
    /// infusion, since oral ketamine courses are not checked) documents a contraindication
    /// screen, or an encounter of the same patient in the input dated on or
    /// before it does. A screen is any statement about aneurysmal vascular
    /// disease, arteriovenous malformation, intracerebral or intracranial
    /// haemorrhage, or contraindications reviewed: "denies hx of aneurysm,
    /// AVM or ICH" is the screen, so negated findings count; a planned
    /// screen ("will screen for aneurysm") or a relative's history does not.
    /// Sessions that continue a course are not checked: the screen is
    /// written once, at intake. Whether psychosis, bipolar disorder and
    /// substance use were addressed with a risk-benefit note is not checked.
    /// ## Why an auditor cares
    /// The Spravato label contraindicates aneurysmal vascular disease,
    /// arteriovenous malformation, intracerebral haemorrhage and
    /// hypersensitivity (PI contraindications; warnings in sections 5.2/5.3),
    /// and payers ask for the screen in the initial request (Cigna adds a
    /// psychosis clause).
    /// A course started without one documented is started without showing
    /// the patient was eligible.
    /// ## Evidence
    /// The initiation statement (note, span), with the screen absent from
    /// this encounter and from the patient's earlier encounters in the input.
    /// ## Example
    /// Intake: "Plan: start Spravato 56 mg induction", with no mention of
    /// aneurysm, AVM, intracerebral haemorrhage or contraindications, and no
    /// earlier visit of the patient that screens them.
    /// ## How to fix
    /// Document the screen at intake ("No history of aneurysmal vascular
    /// disease, AVM or intracerebral haemorrhage; no hypersensitivity to
    /// ketamine/esketamine") and address psychosis, bipolar disorder and
    /// substance use with a risk-benefit note.
    pub ESK_SAFETY_SCREEN_MISSING {
        id: "esk-safety-screen-missing",
        severity: Medium,
        applies: EskIvkStart,
        family: "esk",
        authority: "Spravato PI contraindications and sections 5.2/5.3; Cigna psychosis clause",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: safety_screen_missing,
    }
}

fn safety_screen_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(start) = super::course::esk_ivk_start(ctx.enc, ctx.facts.track) else { return vec![] };
    if ctx.facts.earlier_docs.safety_screen || !ctx.enc.counting(EvKind::SafetyScreen).is_empty() {
        return vec![];
    }
    vec![Hit::at(
        "The course starts here with no contraindication screen (aneurysmal vascular disease, AVM, intracerebral haemorrhage) documented in this encounter or in any earlier encounter of the patient in the input.",
        start,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encounter::assess;
    use crate::extract::Extractor;
    use crate::model::ClaimLine;

    /// One-note encounter: (note type, text, billed codes) through the real
    /// extractor and `assess`.
    fn decide(note_type: &str, text: &str, codes: &[&str]) -> (Option<SessionEvidence>, Track) {
        let ex = Extractor::builtin();
        let claims: Vec<ClaimLine> = codes
            .iter()
            .map(|c| ClaimLine { code: (*c).into(), units: 1.0, modifiers: vec![], icd10: vec!["F33.2".into()], place_of_service: None })
            .collect();
        let enc = crate::encounter::test_encounter(note_type, text, claims);
        let facts = assess(&enc, ex.dict);
        (session_evidence(&enc, &facts, ex.dict), facts.track)
    }

    #[test]
    fn visits_that_only_talk_about_spravato_are_not_sessions() {
        for (nt, text, codes) in [
            (
                "Progress Note",
                "Pt continues Spravato 84 mg twice weekly, tolerating well, PHQ-9 improved. Continue current plan.",
                &["99214"][..],
            ),
            (
                "Medication Management",
                "Current medications:\n- Spravato 56 mg intranasal twice weekly\n- Sertraline 150 mg daily\nPlan: continue Spravato 56 mg twice weekly.",
                &["99213"][..],
            ),
            ("Progress Note", "Doing well on Spravato 56 mg. Next session Thursday. Plan: continue esketamine.", &["99214"][..]),
            (
                "Psychiatric Visit + Psychotherapy",
                "Interval history: discussed last week's Spravato session, where she self-administered 3 devices.\nPlan: continue Spravato 84 mg per schedule; next session Monday.",
                &["99214", "90833"][..],
            ),
            ("Office Visit", "Esketamine 84 mg was given in clinic Monday, tolerated. Mood better today.", &["99214"][..]),
            ("Progress Note", "Spravato 56 mg twice weekly, 4 sessions so far, tolerating well.", &[][..]),
        ] {
            let (ev, track) = decide(nt, text, codes);
            assert_eq!(track, Track::Esketamine, "{text}");
            assert_eq!(ev, None, "{text}");
        }
    }

    #[test]
    fn poor_session_notes_are_still_sessions() {
        let cases: [(&str, &str, &[&str], SessionEvidence); 6] = [
            (
                "Progress Note",
                "Spravato session. Pt self-administered 3 devices. Tolerated well. Monitored, discharged.",
                &["99214"],
                SessionEvidence::AdministeredToday,
            ),
            ("Progress Note", "Spravato treatment today, observed 2 hrs.", &["G2083"], SessionEvidence::BilledEsketamine),
            ("Progress Note", "Spravato 84 mg. Devices at 10:02, 10:07, 10:12.", &[], SessionEvidence::TimedAdministration),
            ("Progress Note", "Spravato today. Two devices administered. Tolerated.", &[], SessionEvidence::AdministeredToday),
            ("Progress Note", "Spravato session today. Esketamine monitoring: observed 2 hrs, stable.", &[], SessionEvidence::Monitoring),
            ("Spravato Treatment Note", "Spravato. Pt tolerated well. See flowsheet.", &[], SessionEvidence::SessionNoteType),
        ];
        for (nt, text, codes, want) in cases {
            let (ev, track) = decide(nt, text, codes);
            assert_eq!(track, Track::Esketamine, "{text}");
            assert_eq!(ev, Some(want), "{text}");
        }
    }

    fn days(d: &[i64]) -> Vec<NaiveDate> {
        let base = NaiveDate::from_ymd_opt(2026, 2, 2).unwrap();
        d.iter().map(|&n| base + chrono::Duration::days(n)).collect()
    }

    fn firing(d: &[i64]) -> Vec<(usize, std::ops::Range<usize>)> {
        over_weekly_limit(&days(d))
    }

    #[test]
    fn third_session_in_seven_days_fires() {
        // Days 0, 3, 6: the third is within 7 consecutive days of the first.
        assert_eq!(firing(&[0, 3, 6]), vec![(2, 0..2)]);
        assert_eq!(firing(&[0, 2, 4]), vec![(2, 0..2)]);
    }

    #[test]
    fn a_new_week_starts_on_day_seven() {
        // Days 0, 3, 7: day 7 begins a new 7-day window.
        assert!(firing(&[0, 3, 7]).is_empty());
        // Twice weekly (Mon/Thu) for 3 weeks.
        assert!(firing(&[0, 3, 7, 10, 14, 17]).is_empty());
        // Weekly, every 2 weeks, a single session, none.
        assert!(firing(&[0, 7, 14, 28]).is_empty());
        assert!(firing(&[5]).is_empty());
        assert!(firing(&[]).is_empty());
    }

    #[test]
    fn same_day_encounters_are_one_session() {
        // Two encounters on one date are one session: day 0 twice and day 3
        // are two sessions.
        assert!(firing(&[0, 0, 3]).is_empty());
        assert!(firing(&[4, 4, 4]).is_empty());
        assert!(firing(&[0, 0, 7]).is_empty());
        // A third date fires, naming both encounters of the shared date;
        // both encounters on the third date fire, not naming each other.
        assert_eq!(firing(&[0, 0, 3, 5]), vec![(3, 0..3)]);
        assert_eq!(firing(&[0, 3, 5, 5]), vec![(2, 0..2), (3, 0..2)]);
    }

    #[test]
    fn only_dose_evidence_counts_toward_the_schedule() {
        use SessionEvidence::*;
        assert!([BilledEsketamine, TimedAdministration, AdministeredToday].into_iter().all(SessionEvidence::shows_a_dose));
        assert!(![Monitoring, RemsMonitoringForm, SessionNoteType].into_iter().any(SessionEvidence::shows_a_dose));
    }

    #[test]
    fn message_counts_a_shared_date_once() {
        let d = days(&[0, 3, 5]);
        let w = SessionsInWeek { others: vec![("e1".into(), d[0]), ("e1b".into(), d[0]), ("e2".into(), d[1])] };
        assert!(schedule_message(&w, d[2]).starts_with("3 esketamine sessions within 7 days (encounter e1 on 2026-02-02, encounter e1b on 2026-02-02, encounter e2 on 2026-02-05 and this one"));
    }

    #[test]
    fn every_later_session_over_the_limit_fires() {
        // Mon/Wed/Fri, then Mon: Fri is the 3rd in days 0-6, and the next
        // Monday the 3rd in days 2-8.
        assert_eq!(firing(&[0, 2, 4, 7]), vec![(2, 0..2), (3, 1..3)]);
        // Daily for 4 days: the 3rd and 4th, each with all earlier ones.
        assert_eq!(firing(&[0, 1, 2, 3]), vec![(2, 0..2), (3, 0..3)]);
    }

    #[test]
    fn message_names_the_other_sessions() {
        let d = days(&[0, 2, 4]);
        let w = SessionsInWeek { others: vec![("e1".into(), d[0]), ("e2".into(), d[1])] };
        assert_eq!(
            schedule_message(&w, d[2]),
            "3 esketamine sessions within 7 days (encounter e1 on 2026-02-02, encounter e2 on 2026-02-04 and this one on 2026-02-06); the label schedule allows at most 2 a week."
        );
    }
}

crate::declare_rule! {
    /// ## What it checks
    /// An esketamine session whose notes name the MDSI indication documents
    /// the oral antidepressant the patient takes now (a current medication
    /// list, "currently on sertraline", "continue bupropion", "Oral AD:
    /// venlafaxine XR 225 mg"). A drug told only as a past trial does not
    /// count. The TRD part of the catalogue row (an oral antidepressant only
    /// where a payer still requires it, severity info; `concurrent_ad_required`
    /// in `dictionaries/payers.toml`) is not reported: a rule has one
    /// severity, and this one is the MDSI requirement's.
    /// ## Why an auditor cares
    /// Spravato for MDSI is labeled for use with an oral antidepressant (TRD
    /// monotherapy has been allowed since January 2025, MDSI not); a claim for
    /// the MDSI indication without one is outside the label.
    /// ## Evidence
    /// mdsi_indication phrases and current_ad evidence (the medication
    /// extractor's current-medication reading, `dictionaries/medications.toml`).
    /// ## Example
    /// "Spravato 84 mg for MDSI, week 2", trials listed, no current
    /// antidepressant named.
    /// ## How to fix
    /// Document the concurrent oral antidepressant (drug and dose), or the
    /// indication the course is actually given for.
    pub ESK_NO_CONCURRENT_ORAL_AD {
        id: "esk-no-concurrent-oral-ad",
        severity: High,
        applies: Esk,
        family: "esk",
        authority: "Spravato prescribing information, section 1 (MDSI: in conjunction with an oral antidepressant); rules-reference C9",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: no_concurrent_ad,
    }
}

fn no_concurrent_ad(ctx: &Ctx<'_>) -> Vec<Hit> {
    if not_a_session(ctx) {
        return vec![];
    }
    let named = ctx.enc.counting(EvKind::MdsiIndication);
    let Some(first) = named.first() else { return vec![] };
    if !ctx.enc.counting(EvKind::CurrentAd).is_empty() {
        return vec![];
    }
    vec![Hit::at(
        "The MDSI indication is named, but no current oral antidepressant is documented; Spravato for MDSI is labeled for use with one.",
        *first,
    )]
}
