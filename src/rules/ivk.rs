//! IV ketamine rules (rules-reference 2.7).

use super::{Ctx, Hit};
use crate::dict::CodeKind;
use crate::extract::{EvKind, Phase};

crate::declare_rule! {
    /// ## What it checks
    /// The infusion's start and stop clock times are documented. A stated or
    /// planned duration ("over 40 minutes") does not replace the stop time:
    /// the rules reference (C14) and CMS require start and stop times.
    /// ## Why an auditor cares
    /// Infusion codes are time-based (96365 up to 1 h, 96366 per further hour);
    /// without start and stop times the units cannot be supported.
    /// ## Evidence
    /// Infusion start/stop times and "infused over N minutes" statements.
    /// ## Example
    /// "Ketamine infusion given, tolerated well" with no times.
    /// ## How to fix
    /// Record the start and stop clock times of the infusion.
    pub IVK_INFUSION_TIMES_MISSING {
        id: "ivk-infusion-times-missing",
        severity: High,
        applies: Ivk,
        family: "ivk",
        authority: "CMS IOM 100-04 ch.12 s30.5; Noridian A58532 (complex drug administration)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: times_missing,
    }
}

fn times_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let start = ctx.facts.infusion_start_ev.is_some();
    let end = ctx.facts.infusion_end_ev.is_some();
    if start && end {
        return vec![];
    }
    let missing = match (start, end) {
        (false, false) => "start and stop times",
        (false, true) => "start time",
        _ => "stop time",
    };
    vec![Hit::absent(format!("The infusion {missing} {} not documented.", if missing.contains("and") { "are" } else { "is" }))]
}

crate::declare_rule! {
    /// ## What it checks
    /// Infusion units match the documented infusion time: 15 minutes or less
    /// is a push (96374), not 96365; 96366 is billed once per further hour
    /// only when more than 30 minutes beyond the previous hour (>= 91 minutes
    /// total for one unit, >= 151 for two).
    /// ## Why an auditor cares
    /// Billing 96366 for a 40-minute ketamine infusion is a common overpayment.
    /// ## Evidence
    /// Infusion minutes from start/stop times or a stated duration, against
    /// the 96365/96366/96374 lines.
    /// ## Example
    /// 96365 + 96366 for a 45-minute infusion.
    /// ## How to fix
    /// Bill 96365 x 1 for infusions of 16-90 minutes; add 96366 only past 90 minutes.
    pub IVK_INFUSION_UNITS_VS_TIME {
        id: "ivk-infusion-units-vs-time",
        severity: Critical,
        applies: Ivk,
        family: "ivk",
        authority: "CPT infusion guidelines; AAPC Coding Alert; CMS IOM 100-04 ch.12 s30.5",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: units_vs_time,
    }
}

fn units_vs_time(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(d) = ctx.facts.infusion_minutes else { return vec![] };
    let mut out = Vec::new();
    if d <= 15 && ctx.enc.has_kind(ctx.dict, CodeKind::InfusionInitial) {
        out.push(Hit::absent(format!(
            "96365 billed for a {d}-minute infusion; infusions of 15 minutes or less are reported as a push (96374)."
        )));
    }
    let addl: f64 = ctx.enc.lines_of(ctx.dict, CodeKind::InfusionAddl).iter().map(|l| l.units).sum();
    let allowed = if d >= 91 { ((d - 31) / 60) as f64 } else { 0.0 };
    if addl > allowed {
        out.push(Hit::absent(format!("{addl} unit(s) of 96366 billed for a {d}-minute infusion; {allowed} supported (each further hour needs > 30 minutes beyond the previous hour).")));
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// The drug line of an IV ketamine encounter is not a wrong code: not
    /// J3000 (streptomycin), J0222 (patisiran), S0013 or J0013 (esketamine).
    /// Racemic ketamine has no specific HCPCS code and is billed as J3490 with
    /// name, NDC and dose (the NDC is on the claim, outside this input).
    /// ## Why an auditor cares
    /// A wrong drug code is a false claim for a different drug.
    /// ## Evidence
    /// The encounter's claim lines.
    /// ## Example
    /// J3000 x 1 on an IV ketamine infusion.
    /// ## How to fix
    /// Bill J3490 with drug name, NDC, mg and units.
    pub IVK_DRUG_LINE_INCOMPLETE {
        id: "ivk-drug-line-incomplete",
        severity: High,
        applies: Ivk,
        family: "ivk",
        authority: "Payer unlisted-drug rules (BCBS MA 2023-08-21; BCBS NE RP-X-005); HCPCS file (J3000 = streptomycin)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: drug_line,
    }
}

fn drug_line(ctx: &Ctx<'_>) -> Vec<Hit> {
    ctx.enc
        .claims
        .iter()
        .filter(|l| matches!(ctx.dict.codes.kind(&l.code), Some(CodeKind::WrongDrug | CodeKind::EskDrug)))
        .map(|l| {
            Hit::absent(format!(
                "{} billed as the drug line of an IV ketamine infusion; racemic ketamine is billed as J3490 with name, NDC and dose.",
                l.code
            ))
        })
        .collect()
}

crate::declare_rule! {
    /// ## What it checks
    /// The pre-infusion record has every element the rules reference lists:
    /// the indication (an indication line or the depression diagnosis), a
    /// prior-treatment summary (named trials or a summary phrase), a
    /// pre-infusion blood pressure (heart rate and SpO2 are listed by the
    /// reference but not required: pulse in vitals-table columns and "P72"
    /// shorthand are not extracted yet, so requiring them would misfire), the
    /// weight in kg, the dose in mg/kg, the total mg (stated, or the product
    /// of mg/kg and weight), and the rate or planned duration ("over 40 min",
    /// "150 mL/hr"; documented start and stop times are accepted as the
    /// duration actually given).
    /// ## Why an auditor cares
    /// Weight-based dosing, a documented indication and baseline vitals are
    /// the core of the APA consensus protocol; without them the dose, the
    /// medical necessity and the infusion time cannot be checked.
    /// ## Evidence
    /// Indication and rate phrases (`dictionaries/phrases.toml`), trials and
    /// vague-history phrases, ICD-10 depression codes written in the note,
    /// pre_dose_bp, weight, mg/kg and dose evidence,
    /// stated infusion duration and start/stop times.
    /// ## Example
    /// "Wt 75 kg. Drug: ketamine 50 mg IV. Pre BP 130/84 HR 76" with no
    /// indication, no mg/kg and no rate or duration.
    /// ## How to fix
    /// Record the indication, prior treatments, baseline BP/HR/SpO2, weight,
    /// mg/kg and total mg, and the rate or planned duration before starting.
    pub IVK_PRE_INFUSION_ELEMENTS_MISSING {
        id: "ivk-pre-infusion-elements-missing",
        severity: High,
        applies: Ivk,
        family: "ivk",
        authority: "APA consensus statement on ketamine for mood disorders, Sanacora et al., JAMA Psychiatry 2017 (rules-reference: unverified)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: pre_elements,
    }
}

fn pre_elements(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut missing = Vec::new();
    // A depressive-disorder code written in a note is a documented indication.
    let dx_written = ctx.enc.counting(EvKind::Icd10).iter().any(|r| {
        let v = ctx.enc.ev(*r).value.to_ascii_uppercase();
        v.starts_with("F32") || v.starts_with("F33") || v.starts_with("F34") || v.starts_with("F39")
    });
    if ctx.enc.counting(EvKind::Indication).is_empty() && !dx_written {
        missing.push("indication");
    }
    if ctx.facts.trials.is_empty() && ctx.enc.all(EvKind::VagueHistory).is_empty() {
        missing.push("prior-treatment summary");
    }
    if !ctx.facts.pre_dose_bp {
        missing.push("pre-infusion blood pressure");
    }
    if ctx.enc.counting(EvKind::Weight).is_empty() {
        missing.push("weight (kg)");
    }
    if !ctx.enc.notes.iter().any(|n| n.facts.mg_per_kg.is_some()) {
        missing.push("dose in mg/kg");
    }
    if ctx.facts.dose_mg.is_none() {
        missing.push("total dose (mg)");
    }
    let stated_duration = ctx.enc.notes.iter().any(|n| n.facts.timing.infusion_minutes.is_some());
    let clock_duration = ctx.facts.infusion_start_ev.is_some() && ctx.facts.infusion_end_ev.is_some();
    if !stated_duration && !clock_duration && ctx.enc.counting(EvKind::InfusionRate).is_empty() {
        missing.push("infusion rate or planned duration");
    }
    if missing.is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!("Pre-infusion documentation lacks: {}.", missing.join(", ")))]
}

crate::declare_rule! {
    /// ## What it checks
    /// The intra- and post-infusion record has every element the rules
    /// reference lists: vital signs during the infusion (a BP after the start
    /// and not after the end), an assessment of dissociative or
    /// psychotomimetic effects, the post-infusion status (recovery, mental
    /// status or a post-infusion reading), a discharge-readiness assessment,
    /// the escort or transport, and the follow-up plan.
    /// ## Why an auditor cares
    /// Ketamine raises blood pressure and causes dissociation; monitoring
    /// during the infusion, safe discharge and the plan for the next session
    /// are the consensus protocol's end points.
    /// ## Evidence
    /// BP readings with their offset from the infusion start (or vitals
    /// stated as stable throughout the infusion: "VSS throughout"), sedation /
    /// dissociation phrases, recovery and mental-status phrases, discharge
    /// readiness, escort/transport phrases and follow-up phrases
    /// (`dictionaries/phrases.toml`).
    /// ## Example
    /// An infusion flowsheet with mid-infusion and post BPs, "discharge
    /// criteria met, escorted by mother" and no follow-up plan.
    /// ## How to fix
    /// Record vitals during the infusion, dissociation and its resolution,
    /// post-infusion status, discharge criteria, the escort and the next visit.
    pub IVK_POST_INFUSION_ELEMENTS_MISSING {
        id: "ivk-post-infusion-elements-missing",
        severity: High,
        applies: Ivk,
        family: "ivk",
        authority: "APA consensus statement on ketamine for mood disorders, Sanacora et al., JAMA Psychiatry 2017 (rules-reference: unverified)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: post_elements,
    }
}

fn post_elements(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut missing = Vec::new();
    let dur = ctx.facts.infusion_minutes.map(i64::from);
    let post: Vec<_> = ctx.facts.bps.iter().filter(|b| b.phase == Phase::Post).collect();
    // During the infusion: offset within the infusion's minutes, or a post-start
    // reading whose time cannot be placed that is not the discharge reading.
    let intra = post.iter().any(|b| match (b.offset_min, dur) {
        (Some(o), Some(d)) => (0..=d).contains(&o),
        (Some(o), None) => (0..=60).contains(&o) && !b.at_discharge,
        (None, _) => !b.at_discharge,
    }) || !ctx.enc.counting(EvKind::IntraVitals).is_empty();
    if !intra {
        missing.push("vital signs during the infusion");
    }
    if ctx.enc.all(EvKind::Sedation).is_empty() {
        missing.push("dissociative/psychotomimetic effects assessment");
    }
    let after_end = post.iter().any(|b| b.at_discharge || matches!((b.offset_min, dur), (Some(o), Some(d)) if o > d));
    let status = after_end
        || !ctx.enc.counting(EvKind::Resolution).is_empty()
        || !ctx.enc.counting(EvKind::PostStatus).is_empty()
        || ctx.enc.all(EvKind::Transport).iter().any(|r| ctx.enc.ev(*r).entry_id == "gait-steady");
    if !status {
        missing.push("post-infusion status");
    }
    if !ctx.facts.discharge_criteria_documented {
        missing.push("discharge-readiness assessment");
    }
    if !ctx.enc.counting(EvKind::Transport).iter().any(|r| ctx.enc.ev(*r).entry_id != "gait-steady") {
        missing.push("escort/transport");
    }
    if ctx.enc.counting(EvKind::FollowUp).is_empty() {
        missing.push("follow-up plan");
    }
    if missing.is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!("Post-infusion documentation lacks: {}.", missing.join(", ")))]
}

crate::declare_rule! {
    /// ## What it checks
    /// An IV or oral ketamine treatment billed to a payer whose policy treats
    /// ketamine for depression as experimental/investigational (payer profile
    /// `ketamine_investigational` in `dictionaries/payers.toml`: Aetna CPB
    /// 0938, UHC) has a signed waiver/ABN or a self-pay arrangement
    /// documented. Billed means a ketamine treatment line on the encounter:
    /// an infusion, push or injection administration code, an unclassified
    /// drug line (J3490) or an esketamine drug/G-code used for the ketamine.
    /// It does not fire when:
    /// - the notes affirm self-pay, cash or private pay, or a signed
    ///   non-covered waiver/ABN (a plan such as "will self-pay if denied",
    ///   or "not self-pay", does not count);
    /// - every treatment line carries a non-coverage modifier (GA, GX, GY,
    ///   GZ; `dictionaries/codes.toml`), i.e. the claim itself says it
    ///   expects no coverage;
    /// - an approved prior authorization covering the date of service is
    ///   documented (the payer agreed to cover this treatment);
    /// - the encounter has no claim lines. The payer field names the
    ///   patient's plan, not a claim: without a billed line nothing shows
    ///   the treatment was presented to the payer as covered, and the note
    ///   may simply not restate a self-pay arrangement. Supply the claims
    ///   (inline or `--claims`) to have these encounters checked.
    /// Only the ketamine treatment lines are judged: an E/M or
    /// psychotherapy line billed beside a self-paid infusion is not.
    /// ## Why an auditor cares
    /// A payer that considers ketamine for depression investigational denies
    /// the claim; without a waiver signed before the service the patient
    /// cannot be billed either, and billing the service as if covered misstates
    /// it to the payer.
    /// ## Evidence
    /// The payer's profile and policy, the encounter's claim lines and their
    /// modifiers, self-pay / waiver phrases (`self_pay` in
    /// `dictionaries/phrases.toml`) and approved prior authorizations. The
    /// finding names the billed lines; the waiver it looks for is absent, so
    /// it has no span.
    /// ## Example
    /// Aetna PPO, 96365 + J3490 for a ketamine infusion for depression, no
    /// waiver or self-pay statement and no authorization on file.
    /// ## How to fix
    /// Have the patient sign the payer's non-covered-service waiver before
    /// treatment and document it (or document the self-pay arrangement and do
    /// not bill the payer), or obtain and record the payer's authorization.
    pub IVK_NONCOVERED_BILLED_AS_COVERED {
        id: "ivk-noncovered-billed-as-covered",
        severity: Medium,
        applies: IvkOral,
        family: "ivk",
        authority: "Aetna CPB 0938; UHC ketamine policy (Medical Benefit Drug Policy 'Ketalar (Ketamine) and Spravato (Esketamine)', 2026D0069P)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: noncovered,
    }
}

/// Code kinds of a billed ketamine treatment (administration or drug).
const TREATMENT_LINES: &[CodeKind] = &[
    CodeKind::InfusionInitial,
    CodeKind::InfusionAddl,
    CodeKind::InfusionSequential,
    CodeKind::Push,
    CodeKind::Injection,
    CodeKind::UnlistedDrug,
    CodeKind::EskDrug,
    CodeKind::EskGcode,
    CodeKind::WrongDrug,
];

fn noncovered(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !ctx.payer.ketamine_investigational {
        return vec![];
    }
    let notice = &ctx.dict.codes.modifiers.noncovered_notice;
    let lines: Vec<&crate::model::ClaimLine> =
        ctx.enc.claims.iter().filter(|l| ctx.dict.codes.kind(&l.code).is_some_and(|k| TREATMENT_LINES.contains(&k))).collect();
    // Billed as covered: a treatment line without a non-coverage modifier.
    let as_covered: Vec<&str> = lines
        .iter()
        .filter(|l| !l.modifiers.iter().any(|m| notice.iter().any(|n| n.eq_ignore_ascii_case(m))))
        .map(|l| l.code.as_str())
        .collect();
    if as_covered.is_empty() {
        return vec![];
    }
    if !ctx.enc.counting(EvKind::SelfPay).is_empty() {
        return vec![];
    }
    let dos = ctx.enc.date_of_service;
    if ctx.enc.counting(EvKind::PriorAuth).iter().any(|r| super::coding::pa_covers(&ctx.enc.ev(*r).value, dos)) {
        return vec![];
    }
    let mut codes: Vec<&str> = as_covered;
    codes.dedup();
    let policy = if ctx.payer.policy.is_empty() { String::new() } else { format!(" (payer policy: {})", ctx.payer.policy) };
    vec![Hit {
        message: format!(
            "{} billed to {} as a covered service, but the payer treats ketamine for depression as investigational{policy}; no signed waiver/ABN, self-pay arrangement or approved authorization is documented.",
            codes.join(", "),
            ctx.payer.name
        ),
        ev: None,
        note: ctx.facts.session_note,
    }]
}
