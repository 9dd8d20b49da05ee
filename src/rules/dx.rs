//! Diagnosis rules (rules-reference 2.1).

use super::{Ctx, Hit};
use crate::dict::{icd10cm, CodeKind, IcdValidity};
use crate::extract::EvKind;

crate::declare_rule! {
    /// ## What it checks
    /// Every ICD-10-CM code on the encounter exists and is a billable leaf in
    /// the code set in force on the date of service. Billed codes are checked;
    /// when the encounter has no claim lines, codes written in the notes are.
    /// ## Why an auditor cares
    /// A claim with an invalid or non-billable (header) diagnosis code is
    /// denied outright; F33.89 is a common invented code and F32.8 / F33.4 are
    /// category headers.
    /// ## Evidence
    /// The shipped ICD-10-CM table (`dictionaries/icd10cm.tsv.gz`, CMS/CDC
    /// releases carried by simple-icd-10-cm). Dates that fall between the
    /// releases the table holds are judged by the nearest release; a code is
    /// never reported invalid on a date the table cannot see.
    /// ## Example
    /// Claim line S0013 x 56 with diagnosis F33.89 on 2025-11-03: F33.89 does
    /// not exist (F33.8 or F33.9 are the neighbours).
    /// ## How to fix
    /// Code the documented diagnosis to the most specific billable code valid
    /// on the date of service and rebill.
    pub DX_CODE_INVALID_ON_DOS {
        id: "dx-code-invalid-on-dos",
        severity: Critical,
        applies: Any,
        family: "dx",
        authority: "ICD-10-CM tabular list and code files (CMS/CDC NCHS), fiscal-year releases",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: code_invalid,
    }
}

fn code_invalid(ctx: &Ctx<'_>) -> Vec<Hit> {
    let dos = ctx.enc.date_of_service;
    let t = icd10cm();
    let mut out = Vec::new();
    let mut report = |code: &str, ev: Option<crate::encounter::EvRef>| {
        let why = match t.validity(code, dos) {
            IcdValidity::Valid | IcdValidity::NotYet(_) => return,
            IcdValidity::NotACode => format!("{code} is not an ICD-10-CM code"),
            IcdValidity::Header => format!("{code} is a category header, not a billable code"),
            IcdValidity::Expired(d) => format!("{code} is not valid after {d}"),
        };
        let msg = format!("Diagnosis {why} on the date of service {dos}. Code the documented diagnosis to a valid billable code.");
        out.push(match ev {
            Some(e) => Hit::at(msg, e),
            None => Hit::absent(msg),
        });
    };
    if ctx.facts.icd10_from_claims {
        for c in &ctx.facts.icd10_codes {
            report(c, None);
        }
    } else {
        let mut seen = std::collections::HashSet::new();
        for r in ctx.enc.counting(EvKind::Icd10) {
            let code = ctx.enc.ev(r).value.clone();
            if seen.insert(code.clone()) {
                report(&code, Some(r));
            }
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// Esketamine and IV ketamine encounters carry a specific, active major
    /// depressive disorder code (F32.0-F32.2, F33.0-F33.2, or F32.3/F33.3
    /// when psychotic features are documented), not only an unspecified
    /// (F32.9, F32.A, F33.9, F39), other-specified or remission code, nor a
    /// psychotic-features code the notes do not support.
    /// ## Why an auditor cares
    /// Payer criteria require MDD per DSM in a current episode; First Coast
    /// A59250 lists the covered codes. An unspecified or remission code alone
    /// does not support medical necessity for a course of treatment.
    /// ## Evidence
    /// The encounter's ICD-10-CM codes (claims, else notes) against the weak,
    /// remission and specific lists in `dictionaries/codes.toml`.
    /// ## Example
    /// Spravato session billed with F32.A only.
    /// ## How to fix
    /// Document severity and episode (single/recurrent) and code the specific
    /// MDD code that the documentation supports.
    pub DX_NONSPECIFIC_OR_REMISSION {
        id: "dx-nonspecific-or-remission",
        severity: High,
        applies: EskIvk,
        family: "dx",
        authority: "Payer PA criteria (MDD per DSM, current episode); First Coast A59250 ICD-10 list",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: nonspecific,
    }
}

fn nonspecific(ctx: &Ctx<'_>) -> Vec<Hit> {
    let g = &ctx.dict.codes.icd;
    let codes = &ctx.facts.icd10_codes;
    // F32.3/F33.3 count as the specific episode only when psychosis is
    // documented (rules-reference 2.1); otherwise they are reported here as
    // well as under dx-psychotic-features-unsupported.
    let psychosis = !ctx.enc.counting(EvKind::Psychosis).is_empty();
    let allowed = |c: &String| g.specific_active_mdd.contains(c) && (psychosis || !g.psychotic.contains(c));
    if codes.is_empty() || codes.iter().any(allowed) {
        return vec![];
    }
    let weak: Vec<&String> = codes
        .iter()
        .filter(|c| {
            g.weak.contains(c)
                || g.remission.contains(c)
                || c.starts_with("F32")
                || c.starts_with("F33")
                || c.starts_with("F34")
                || *c == "F39"
        })
        .collect();
    if weak.is_empty() {
        return vec![];
    }
    let list: Vec<&str> = weak.iter().map(|s| s.as_str()).collect();
    if list.iter().any(|c| g.psychotic.iter().any(|p| p == c)) {
        return vec![Hit::absent(format!(
            "No specific active MDD code the notes support ({}): the psychotic-features episode is coded but no psychotic features are documented; code the episode the notes support (e.g. F33.2 with R45.851 for suicidal ideation).",
            list.join(", ")
        ))];
    }
    vec![Hit::absent(format!(
        "Only unspecified, other-specified or remission depression codes ({}) support this treatment; code the specific, active MDD episode the notes document.",
        list.join(", ")
    ))]
}

crate::declare_rule! {
    /// ## What it checks
    /// F32.3 / F33.3 (MDD, severe with psychotic features) are used only when
    /// the notes document psychotic features.
    /// ## Why an auditor cares
    /// F32.3/F33.3 are often miscoded for suicidal ideation (which is R45.851).
    /// Coding undocumented psychosis is an accuracy/upcoding error and also
    /// triggers Spravato psychosis cautions.
    /// ## Evidence
    /// Affirmed psychosis phrases (psychotic features, hallucinations,
    /// delusions) in the encounter's notes.
    /// ## Example
    /// F33.3 billed; the note documents suicidal ideation and no psychotic
    /// symptoms.
    /// ## How to fix
    /// Code F33.2 with R45.851 when suicidal ideation without psychosis is
    /// documented; document psychotic features if they are present.
    pub DX_PSYCHOTIC_FEATURES_UNSUPPORTED {
        id: "dx-psychotic-features-unsupported",
        severity: High,
        applies: Any,
        family: "dx",
        authority: "ICD-10-CM tabular descriptors for F32.3 / F33.3 (FY2026)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: psychotic,
    }
}

fn psychotic(ctx: &Ctx<'_>) -> Vec<Hit> {
    let g = &ctx.dict.codes.icd;
    let coded: Vec<&String> = ctx.facts.icd10_codes.iter().filter(|c| g.psychotic.contains(c)).collect();
    if coded.is_empty() || !ctx.enc.counting(EvKind::Psychosis).is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!(
        "{} (MDD with psychotic features) is coded but no psychotic features are documented; suicidal ideation alone is R45.851.",
        coded[0]
    ))]
}

crate::declare_rule! {
    /// ## What it checks
    /// An esketamine encounter whose notes name the MDSI indication ("MDSI",
    /// "MDD with acute suicidal ideation or behavior") documents current
    /// suicidal ideation or behavior in its own notes. Denied ideation ("denies SI/HI", "SI:
    /// none"), past ideation or attempts ("hx of suicide attempt 2015"), a
    /// relative's, and the words inside the indication's name do not count.
    /// Ideation documented at an earlier visit of the same course is not
    /// looked up: each claim for the MDSI indication should carry its own
    /// support.
    /// ## Why an auditor cares
    /// The MDSI indication (with an oral antidepressant, at most 4 weeks) is
    /// approved only for depressive symptoms in adults with MDD with acute
    /// suicidal ideation or behavior; UHC and Cigna MDSI criteria require it
    /// documented (Cigna approves 2 months). A claim or PA for MDSI whose
    /// notes deny or omit the ideation is not supported. R45.851 on a claim
    /// does not by itself make the course an MDSI course (it is also the
    /// recommended secondary code beside a TRD course), so a billed R45.851
    /// without the indication named is not checked here.
    /// ## Evidence
    /// mdsi_indication and suicidal_ideation phrases
    /// (`dictionaries/phrases.toml`).
    /// ## Example
    /// "Spravato 84 mg, MDSI week 2 ... MSE: denies SI/HI", billed with
    /// F33.2 + R45.851.
    /// ## How to fix
    /// Document the current suicidal ideation or behavior (and risk
    /// assessment) that supports the MDSI course, or bill and authorize the
    /// course under the indication the notes support (TRD).
    pub DX_SI_INDICATION_UNSUPPORTED {
        id: "dx-si-indication-unsupported",
        severity: High,
        applies: Esk,
        family: "dx",
        authority: "Spravato prescribing information (MDSI indication); UHC and Cigna MDSI criteria",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: si_indication,
    }
}

fn si_indication(ctx: &Ctx<'_>) -> Vec<Hit> {
    let named = ctx.enc.counting(EvKind::MdsiIndication);
    let Some(first) = named.first() else { return vec![] };
    if !ctx.enc.counting(EvKind::SuicidalIdeation).is_empty() {
        return vec![];
    }
    // A denial is the strongest evidence; cite it, else the indication.
    let denied = ctx.enc.all(EvKind::SuicidalIdeation).into_iter().find(|r| {
        let e = ctx.enc.ev(*r);
        e.assertion.negated || e.value.starts_with("denied:")
    });
    if let Some(r) = denied {
        return vec![Hit::at(
            "The MDSI indication is named, but the note denies current suicidal ideation or behavior; the MDSI indication needs it documented.",
            r,
        )];
    }
    vec![Hit::at(
        "The MDSI indication is named, but no current suicidal ideation or behavior is documented; the MDSI indication needs it.",
        *first,
    )]
}

crate::declare_rule! {
    /// ## What it checks
    /// An esketamine (Spravato) session is billed for a labeled indication:
    /// among the encounter's billed diagnosis codes there is a major
    /// depressive disorder code (F32.x / F33.x; the label covers TRD and
    /// MDSI, both in MDD). It fires when no such code is billed and an
    /// off-label diagnosis is: bipolar disorder (F31.-), PTSD (F43.1-), an
    /// anxiety disorder (F41.-) or pain (G89.-, R52); and when the
    /// esketamine line's primary (first-listed) diagnosis is off-label even
    /// though an MDD code follows it (PTSD first, MDD second bills the
    /// session for PTSD). The code groups are
    /// data (`esketamine_labeled`, `esketamine_offlabel` in
    /// `dictionaries/codes.toml`). Whether the MDD code is specific enough is
    /// dx-nonspecific-or-remission's question, not this rule's.
    /// Checked only on administration sessions: an E/M or psychotherapy
    /// visit of a patient on Spravato, coded for the problem it treats, is
    /// not an esketamine claim.
    /// ## Why an auditor cares
    /// Medicare covers esketamine only for its labeled indications (First
    /// Coast A59250); Cigna and BCBS MS call other uses investigational. A
    /// session billed for bipolar depression, PTSD, anxiety or pain alone is
    /// denied or recouped.
    /// ## Evidence
    /// The ICD-10-CM codes on the encounter's claim lines. Limits: codes
    /// written only in the notes are not used (without a claim, nothing shows
    /// what the session was billed for, and a code in a note may be a
    /// rule-out or a relative's). A claim line's diagnosis codes are read in
    /// their listed order, the first being the line's primary diagnosis (its
    /// first diagnosis pointer); where the esketamine line lists none, an MDD
    /// code anywhere on the claim counts as the indication. Severity: the catalogue gives critical for Medicare and
    /// high otherwise; the rule framework has one severity per rule (a
    /// `ketaudit.toml` override changes it for every payer), so every
    /// finding is critical; for traditional Medicare the message also names
    /// the labeled-use-only coverage limit.
    /// ## Example
    /// G2082 billed with F31.81 (bipolar II disorder) as the only diagnosis.
    /// ## How to fix
    /// If the patient has MDD (TRD or MDSI), document and code it; otherwise
    /// esketamine is off-label for this diagnosis: do not bill it as covered.
    pub DX_OFFLABEL_INDICATION {
        id: "dx-offlabel-indication",
        severity: Critical,
        applies: Esk,
        family: "dx",
        authority: "First Coast billing and coding article A59250 (labeled indications only); Cigna and BCBS MS policies (other uses investigational)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: offlabel,
    }
}

fn offlabel(ctx: &Ctx<'_>) -> Vec<Hit> {
    if super::esk::not_a_session(ctx) || !ctx.facts.icd10_from_claims {
        return vec![];
    }
    let g = &ctx.dict.codes.icd;
    let medicare = if ctx.payer.traditional_medicare {
        " Medicare covers esketamine only for its labeled indications (First Coast A59250)."
    } else {
        ""
    };
    let title = |c: &str| match icd10cm().title(c) {
        Some(t) => format!("{c} ({t})"),
        None => c.to_string(),
    };
    // The esketamine line's first-listed diagnosis is its primary one (the
    // line's first diagnosis pointer): PTSD first with MDD second bills the
    // session for PTSD.
    let primary = [CodeKind::EskDrug, CodeKind::EskGcode]
        .into_iter()
        .flat_map(|k| ctx.enc.lines_of(ctx.dict, k))
        .find_map(|l| l.icd10.first())
        .and_then(|c| crate::ingest::normalize_icd10(c));
    if let Some(p) = primary.filter(|p| crate::dict::IcdGroups::in_group(&g.esketamine_offlabel, p)) {
        let mdd: Vec<&String> =
            ctx.facts.icd10_codes.iter().filter(|c| crate::dict::IcdGroups::in_group(&g.esketamine_labeled, c)).collect();
        if !mdd.is_empty() {
            return vec![Hit::absent(format!(
                "The esketamine line's primary (first-listed) diagnosis is {}, off-label, although {} is also billed. Spravato is labeled for TRD and MDSI in MDD: the session is billed for the off-label condition.{medicare}",
                title(&p),
                mdd.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            ))];
        }
    }
    let codes = &ctx.facts.icd10_codes;
    if codes.iter().any(|c| crate::dict::IcdGroups::in_group(&g.esketamine_labeled, c)) {
        return vec![];
    }
    let off: Vec<String> = codes.iter().filter(|c| crate::dict::IcdGroups::in_group(&g.esketamine_offlabel, c)).map(|c| title(c)).collect();
    if off.is_empty() {
        return vec![];
    }
    vec![Hit::absent(format!(
        "Esketamine billed for {} with no major depressive disorder diagnosis (F32.x/F33.x) on the claim; Spravato is labeled for TRD and MDSI in MDD.{medicare}",
        off.join(", ")
    ))]
}
