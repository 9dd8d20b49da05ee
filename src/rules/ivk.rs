//! IV ketamine rules (rules-reference 2.7).

use super::{Ctx, Hit};
use crate::dict::CodeKind;
use crate::extract::EvKind;

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
    /// The pre-infusion record has a pre-infusion blood pressure, the weight
    /// in kg and the dose (mg/kg or total mg).
    /// ## Why an auditor cares
    /// Weight-based dosing and baseline vitals are the core of the APA
    /// consensus protocol; without them the dose cannot be checked.
    /// ## Evidence
    /// pre_dose_bp, weight and dose evidence.
    /// ## Example
    /// "Ketamine infusion started 10:05" with no weight or dose.
    /// ## How to fix
    /// Record baseline vitals, weight, mg/kg and total mg before starting.
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
    if !ctx.facts.pre_dose_bp {
        missing.push("pre-infusion blood pressure");
    }
    if ctx.enc.counting(EvKind::Weight).is_empty() {
        missing.push("weight (kg)");
    }
    if ctx.facts.dose_mg.is_none() && !ctx.enc.notes.iter().any(|n| n.facts.mg_per_kg.is_some()) {
        missing.push("dose (mg/kg or total mg)");
    }
    if missing.is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!("Pre-infusion documentation lacks: {}.", missing.join(", ")))]
}

crate::declare_rule! {
    /// ## What it checks
    /// The post-infusion record has a post-infusion blood pressure and a
    /// discharge-readiness assessment.
    /// ## Why an auditor cares
    /// Ketamine raises blood pressure and causes dissociation; post-infusion
    /// status and safe discharge are the consensus protocol's end points.
    /// ## Evidence
    /// post_dose_bp and discharge_criteria_documented.
    /// ## Example
    /// Infusion note ending at the stop time.
    /// ## How to fix
    /// Record post-infusion vitals, mental status, discharge criteria and escort.
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
    if !ctx.facts.post_dose_bp {
        missing.push("post-infusion blood pressure");
    }
    if !ctx.facts.discharge_criteria_documented {
        missing.push("discharge-readiness assessment");
    }
    if missing.is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!("Post-infusion documentation lacks: {}.", missing.join(", ")))]
}
