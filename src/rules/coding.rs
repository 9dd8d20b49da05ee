//! Prior authorization, provider, code-set, E/M, psychotherapy and
//! documentation-integrity rules (rules-reference 2.3 and 2.6).

use chrono::NaiveDate;

use super::{Ctx, Hit};
use crate::dict::CodeKind;
use crate::encounter::is_em_code;
use crate::encounter::EvRef;
use crate::extract::phrases::cocm_note_type;
use crate::extract::EvKind;

crate::declare_rule! {
    /// ## What it checks
    /// An approved prior authorization (number, approval or dates) is
    /// documented for esketamine and IV ketamine encounters whose payer
    /// requires one (payer profile `pa_required`; traditional Medicare and
    /// self-pay do not, nor an encounter with no claim lines whose notes say
    /// the patient pays: "self-pay for this series", a signed non-covered
    /// waiver). Pending, denied, requested, expired or "not required"
    /// mentions do not count.
    /// On the esketamine track it runs only on administration sessions
    /// (the esketamine treatment claim); an E/M, med-management or
    /// psychotherapy visit that only discusses the Spravato course is
    /// not checked.
    /// When every authorization covering the date of service names an
    /// esketamine drug code (S0013 or J0013) and none of them is the drug
    /// code billed (an S0013 authorization on a J0013 claim after the
    /// 2026-01-01 code change), it fires too; an authorization that names no
    /// code, or only a G-code, is not judged on its code.
    /// ## Why an auditor cares
    /// Sessions without an approved PA on the date of service are denied or
    /// recouped; PA windows and quantities are the first thing a payer checks.
    /// ## Evidence
    /// Prior-authorization phrases and their status wording in the same
    /// clause; the window's dates and any S0013 / J0013 code in it.
    /// ## Example
    /// "PA submitted 1/4, awaiting decision" on a 1/8 session.
    /// ## How to fix
    /// Obtain the PA before the session and record its number and dates.
    pub PA_MISSING_OR_AFTER_DOS {
        id: "pa-missing-or-after-dos",
        severity: Critical,
        applies: EskIvk,
        family: "pa",
        authority: "Payer PA rules (UHC 2026D0069P, Cigna Psychiatry - Spravato, Aetna precertification, BCBS MA 087)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: pa_missing,
    }
}

fn pa_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    // The PA authorizes the esketamine treatment (drug and administration
    // sessions, rules-reference 2.3: "approved on/before DOS ... units/sessions
    // within the authorized quantity"); an E/M or med-management visit on the
    // esketamine track with no administration and no esketamine line is not
    // a claim under that authorization (see `esk::session_evidence`).
    if super::esk::not_a_session(ctx) {
        return vec![];
    }
    if !ctx.payer.pa_required {
        return vec![];
    }
    // The note says the patient pays: nothing is billed and the patient
    // self-pays, or the patient signed a non-covered-services waiver / ABN
    // (a claim then goes out only as non-covered). The payer is not asked
    // to pay, so no PA is due. A signed financial-responsibility form after
    // a denial is not that: the payer is still billed.
    let pays = ctx.enc.counting(EvKind::SelfPay);
    let waiver = |r: &EvRef| {
        let e = ctx.enc.ev(*r);
        e.entry_id == "non-covered-waiver" && ["waiver", "abn", "advance beneficiary"].iter().any(|w| e.value.contains(w))
    };
    if !pays.is_empty() && (ctx.enc.claims.is_empty() || pays.iter().any(waiver)) {
        return vec![];
    }
    // An approved authorization whose written dates exclude the date of
    // service (approved after it, or expired) does not cover this visit.
    let approved = ctx.enc.counting(EvKind::PriorAuth);
    let covering: Vec<EvRef> = approved.iter().copied().filter(|r| pa_covers(&ctx.enc.ev(*r).value, ctx.enc.date_of_service)).collect();
    if !covering.is_empty() {
        // Catalogue: "PA code matches billed code (S0013 vs J0013 after
        // 2026-01-01)". Only when every covering authorization names an
        // esketamine drug code and none of them is the one billed; an
        // authorization naming no code (or a G-code) is not judged.
        let billed: Vec<String> = ctx.enc.lines_of(ctx.dict, CodeKind::EskDrug).into_iter().map(|c| c.code.clone()).collect();
        let named: Vec<Vec<String>> = covering.iter().map(|r| pa_codes(&ctx.enc.ev(*r).value)).collect();
        if !billed.is_empty() && named.iter().all(|n| !n.is_empty() && !n.iter().any(|c| billed.contains(c))) {
            return vec![Hit::at(
                format!(
                    "The approved prior authorization names {} but the claim bills {}; {} pays a drug line only under the code it authorized (S0013 became J0013 on 2026-01-01).",
                    named[0].join("/"),
                    billed.join("/"),
                    ctx.payer.name
                ),
                covering[0],
            )];
        }
        return vec![];
    }
    if let Some(r) = approved.first() {
        let status = ctx.enc.ev(*r).value.clone();
        return vec![Hit::at(
            format!(
                "The approved prior authorization's dates do not cover the date of service ({status}); {} requires one before the session.",
                ctx.payer.name
            ),
            *r,
        )];
    }
    let mentions = ctx.enc.all(EvKind::PriorAuth);
    if let Some(r) = mentions.first() {
        let status = ctx.enc.ev(*r).value.clone();
        return vec![Hit::at(
            format!("No approved prior authorization is documented ({status}); {} requires one before the session.", ctx.payer.name),
            *r,
        )];
    }
    vec![Hit::absent(format!("No prior authorization is documented; {} requires an approved PA on the date of service.", ctx.payer.name))]
}

/// The drug codes a prior-auth evidence value names ("prior auth: approved
/// for S0013 valid ...").
pub(crate) fn pa_codes(value: &str) -> Vec<String> {
    let Some((_, rest)) = value.split_once(" for ") else { return vec![] };
    let codes = rest.split(" valid ").next().unwrap_or("");
    codes.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
}

/// Whether a prior-auth evidence value ("prior auth: approved valid
/// 2026-01-05..2026-07-04") covers the date of service; no window written
/// means covered.
pub(crate) fn pa_covers(value: &str, dos: NaiveDate) -> bool {
    let Some((_, w)) = value.split_once(" valid ") else { return true };
    let Some((from, to)) = w.split_once("..") else { return true };
    let from = NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d").ok();
    let to = NaiveDate::parse_from_str(to.trim(), "%Y-%m-%d").ok();
    from.is_none_or(|f| f <= dos) && to.is_none_or(|t| dos <= t)
}

const PRESCRIBERS: &[&str] =
    &["MD", "DO", "NP", "APRN", "PMHNP", "PMHNP-BC", "FNP", "FNP-C", "PA", "PA-C", "CNS", "DNP", "APN", "CRNP", "ARNP", "MBBS"];
const NON_PRESCRIBERS: &[&str] = &[
    "LCSW",
    "LICSW",
    "LMSW",
    "LPC",
    "LPCC",
    "LCPC",
    "LMHC",
    "LMFT",
    "MFT",
    "PHD",
    "PSYD",
    "PSYCHOLOGIST",
    "LSW",
    "MSW",
    "LCADC",
    "LADC",
    "CADC",
];

fn cred_norm(c: &str) -> String {
    c.trim().trim_end_matches('.').replace('.', "").to_ascii_uppercase()
}

/// Whether a normalized credential names a non-prescriber, also with a
/// state suffix or several credentials ("LPC-S", "LCSW-C", "LCSW, LADC").
fn is_non_prescriber(c: &str) -> bool {
    has_credential(c, NON_PRESCRIBERS)
}

/// Whether a normalized credential contains one of `list` as a word.
fn has_credential(c: &str, list: &[&str]) -> bool {
    c.split(|ch: char| !ch.is_alphanumeric()).any(|w| list.contains(&w))
}

crate::declare_rule! {
    /// ## What it checks
    /// E/M, G2082/G2083, infusion/push and drug lines are billed under a
    /// physician, NP or PA, not under an LCSW, LPC, LMFT or psychologist.
    /// ## Why an auditor cares
    /// These codes require physician/QHP work or supervision and a REMS
    /// prescriber on site; therapists may bill only their own psychotherapy.
    /// ## Evidence
    /// provider_credential of the notes that carry the claim lines (or of all
    /// the encounter's notes when claims come from a separate file); fires
    /// when every credential given is a non-prescriber's.
    /// ## Example
    /// G2082 on a note signed by an LCSW with no prescriber note in the encounter.
    /// ## How to fix
    /// Bill under the supervising prescriber, or bill only the therapist's psychotherapy code.
    pub PROV_NON_PRESCRIBER_BILLING_ADMIN {
        id: "prov-non-prescriber-billing-admin",
        severity: Critical,
        applies: Any,
        family: "prov",
        authority: "CPT/HCPCS descriptors (physician/QHP supervision); Spravato REMS prescriber on site",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: non_prescriber,
    }
}

fn non_prescriber(ctx: &Ctx<'_>) -> Vec<Hit> {
    let admin: Vec<&str> = ctx
        .enc
        .claims
        .iter()
        .filter(|l| {
            is_em_code(&l.code)
                || matches!(
                    ctx.dict.codes.kind(&l.code),
                    Some(
                        CodeKind::EskGcode
                            | CodeKind::InfusionInitial
                            | CodeKind::InfusionAddl
                            | CodeKind::Push
                            | CodeKind::EskDrug
                            | CodeKind::UnlistedDrug
                    )
                )
        })
        .map(|l| l.code.as_str())
        .collect();
    if admin.is_empty() {
        return vec![];
    }
    let carriers: Vec<&crate::encounter::NoteRecord> = ctx.enc.notes.iter().filter(|n| !n.meta.claim_lines.is_empty()).collect();
    let pool: Vec<&crate::encounter::NoteRecord> = if carriers.is_empty() { ctx.enc.notes.iter().collect() } else { carriers };
    let creds: Vec<(String, usize)> =
        pool.iter().filter_map(|n| n.meta.provider_credential.as_deref().map(cred_norm).map(|c| (c, 0))).collect();
    if creds.is_empty() {
        return vec![];
    }
    let any_prescriber =
        creds.iter().any(|(c, _)| PRESCRIBERS.iter().any(|p| c.split(|ch: char| !ch.is_alphanumeric() && ch != '-').any(|w| w == *p)));
    let all_non = creds.iter().all(|(c, _)| is_non_prescriber(c));
    if any_prescriber || !all_non {
        return vec![];
    }
    // The same test as above, so a suffixed credential still names its note.
    let note = ctx.enc.notes.iter().position(|n| n.meta.provider_credential.as_deref().is_some_and(|c| is_non_prescriber(&cred_norm(c))));
    let mut creds: Vec<String> = creds.into_iter().map(|c| c.0).collect();
    creds.dedup();
    vec![Hit {
        message: format!(
            "{} billed under a non-prescribing credential ({}); these codes require a physician, NP or PA.",
            admin.join(", "),
            creds.join(", ")
        ),
        ev: None,
        note,
    }]
}

crate::declare_rule! {
    /// ## What it checks
    /// No billed code is deleted (or not yet valid) on the date of service:
    /// 99354-99357 from 2023-01-01, 99201 from 2021-01-01, S0013 from
    /// 2026-01-01, per the effective ranges in `dictionaries/codes.toml`.
    /// ## Why an auditor cares
    /// A deleted code is denied; 99354/99355 are still used for the 2-hour
    /// Spravato observation although they were deleted in 2023.
    /// ## Evidence
    /// Claim lines against the code table.
    /// ## Example
    /// 99354 billed on 2025-06-12 for observation time.
    /// ## How to fix
    /// Use the code valid on the DOS (99417/G2212 for practitioner time,
    /// 99415/99416 for clinical staff time, J0013 for esketamine from 2026).
    pub CODE_DELETED_ON_DOS {
        id: "code-deleted-on-dos",
        severity: Critical,
        applies: Any,
        family: "code",
        authority: "CPT and HCPCS annual code files (AMA, CMS)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: deleted,
    }
}

fn deleted(ctx: &Ctx<'_>) -> Vec<Hit> {
    let dos = ctx.enc.date_of_service;
    let mut seen = std::collections::HashSet::new();
    ctx.enc
        .claims
        .iter()
        .filter_map(|l| {
            let def = ctx.dict.codes.get(&l.code)?;
            // Deleted before the date of service, or created after it
            // (J0013 billed for a 2025 session).
            let msg = match (def.valid_from, def.valid_to) {
                (_, Some(t)) if dos > t => format!("{} ({}) was deleted after {t}; it is not valid on {dos}.", l.code, def.descriptor),
                (Some(f), _) if dos < f => format!("{} ({}) is valid only from {f}; it is not valid on {dos}.", l.code, def.descriptor),
                _ => return None,
            };
            seen.insert(l.code.clone()).then(|| Hit::absent(msg))
        })
        .collect()
}

crate::declare_rule! {
    /// ## What it checks
    /// An E/M billed on the same encounter as a procedure or drug
    /// administration (G2082/G2083, 9636x/96374/96372, S0013/J0013) has its
    /// own documentation: a separate E/M note or a clearly separate E/M
    /// section with its own history, assessment and plan. Fires when -25 is
    /// appended without it, and when the E/M lacks both -25 and separate
    /// documentation, except beside G2082/G2083, where an E/M without -25 is
    /// reported once, by esk-gcode-with-em-or-prolonged.
    /// ## Why an auditor cares
    /// NCCI bundles the pre-procedure evaluation into the procedure; modifier
    /// 25 is only supported by a significant, separately identifiable E/M.
    /// ## Evidence
    /// separate_em_documentation (separate note not a copy or stub of the
    /// session note, or a separate E/M section).
    /// ## Example
    /// 99214-25 + S0013, with only the nursing session note.
    /// ## How to fix
    /// Document the separate E/M (history, exam/MDM, plan) or drop the E/M line.
    pub EM_MOD25_WITHOUT_SEPARATE_DOC {
        id: "em-mod25-without-separate-doc",
        severity: High,
        applies: Any,
        family: "em",
        authority: "NCCI Policy Manual ch. I and XI; CMS IOM 100-04 ch.12 s30.6.6",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: mod25,
    }
}

fn mod25(ctx: &Ctx<'_>) -> Vec<Hit> {
    if ctx.facts.separate_em_documentation != Some(false) {
        return vec![];
    }
    let procedure = ctx.enc.claims.iter().any(|l| {
        matches!(
            ctx.dict.codes.kind(&l.code),
            Some(
                CodeKind::EskGcode
                    | CodeKind::EskDrug
                    | CodeKind::InfusionInitial
                    | CodeKind::InfusionAddl
                    | CodeKind::Push
                    | CodeKind::Injection
                    | CodeKind::UnlistedDrug
            )
        )
    });
    if !procedure {
        return vec![];
    }
    // An E/M without -25 beside a G-code is esk-gcode-with-em-or-prolonged's
    // finding; one billing line, one finding.
    let gcode = ctx.enc.claims.iter().any(|l| ctx.dict.codes.kind(&l.code) == Some(CodeKind::EskGcode));
    ctx.enc
        .claims
        .iter()
        .filter(|l| is_em_code(&l.code))
        .filter(|l| !gcode || l.modifiers.iter().any(|m| m == "25"))
        .map(|l| {
            let m25 = l.modifiers.iter().any(|m| m == "25");
            Hit::absent(if m25 {
                format!("{}-25 billed with a procedure, but no separately identifiable E/M is documented (no separate note or section with its own history, assessment and plan).", l.code)
            } else {
                format!("{} billed with a procedure without modifier 25 and without a separately identifiable E/M documented.", l.code)
            })
        })
        .collect()
}

crate::declare_rule! {
    /// ## What it checks
    /// With an E/M on the same encounter, psychotherapy is billed with the
    /// add-on codes 90833/90836/90838, not 90832/90834/90837; and the add-ons
    /// never appear without an E/M. The rule binds the provider who bills
    /// the E/M: a standalone code is not reported when a therapist who
    /// cannot bill an E/M (LCSW, LPC, LMFT, psychologist) wrote a note on the
    /// encounter beside another provider's, one standalone line per such
    /// therapist.
    /// ## Why an auditor cares
    /// CPT requires the add-on codes with an E/M; a standalone code with an
    /// E/M (or an add-on without one) is a pairing error payers deny.
    /// ## Evidence
    /// The encounter's claim lines and the credentials of its notes.
    /// ## Example
    /// 99214 + 90834 on one encounter whose only psychotherapy note is the
    /// psychiatrist's.
    /// ## How to fix
    /// Bill 90833/90836/90838 with the E/M, or the standalone code without one.
    pub PSY_CODE_PAIRING_INVALID {
        id: "psy-code-pairing-invalid",
        severity: Critical,
        applies: Any,
        family: "psy",
        authority: "CPT psychiatry / psychotherapy guidelines, add-on codes 90833/90836/90838 with E/M (2013 ->; rules-reference C13: unverified)",
        valid_from: Some("2013-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: psy_pairing,
    }
}

fn psy_pairing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let em = ctx.enc.em_billed();
    // The pairing rule binds the provider who bills the E/M ("the same
    // provider/day", rules-reference 2.6). Claim lines carry no rendering
    // provider, but a therapist who cannot bill an E/M (LCSW, LPC,
    // psychologist...) and wrote a note on the encounter bills only their
    // own standalone psychotherapy: one standalone line per such provider is
    // theirs, not the E/M provider's. This needs someone else on the
    // encounter to own the E/M; a therapist billing both is still flagged.
    let therapist =
        |n: &&crate::encounter::NoteRecord| n.meta.provider_credential.as_deref().is_some_and(|c| is_non_prescriber(&cred_norm(c)));
    let mut therapists: Vec<&str> = ctx
        .enc
        .notes
        .iter()
        .filter(therapist)
        .map(|n| n.meta.provider_id.as_deref().or(n.meta.provider_credential.as_deref()).unwrap_or(""))
        .collect();
    therapists.sort_unstable();
    therapists.dedup();
    let em_owner = ctx.enc.notes.iter().any(|n| !therapist(&n));
    let mut theirs = if em_owner { therapists.len() } else { 0 };
    let mut out = Vec::new();
    for l in &ctx.enc.claims {
        match ctx.dict.codes.kind(&l.code) {
            Some(CodeKind::PsyStandalone) if em && theirs > 0 => theirs -= 1,
            Some(CodeKind::PsyStandalone) if em => out
                .push(Hit::absent(format!("{} (psychotherapy without E/M) billed with an E/M; use the add-on 90833/90836/90838.", l.code))),
            Some(CodeKind::PsyAddon) if !em => {
                out.push(Hit::absent(format!("{} is an add-on to an E/M, but no E/M is billed on the encounter.", l.code)))
            }
            _ => {}
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// The session note is not an identical or near-identical copy of an
    /// earlier session note of the same patient (estimated Jaccard similarity
    /// of word 5-shingles >= 0.75, MinHash over the patient's previous 20
    /// sessions). A note written afresh from a template, with its own vitals,
    /// times and narrative, shares well under half of its 5-word runs with
    /// the previous one.
    /// ## Why an auditor cares
    /// CMS treats cloned documentation as a red flag: copied vitals, times and
    /// assessments do not show that the documented care happened on this date.
    /// ## Evidence
    /// The matched earlier note (id, encounter, date) and the similarity.
    /// ## Example
    /// Three consecutive sessions with the same narrative, vitals and times.
    /// ## How to fix
    /// Document each session's own vitals, times and observations.
    pub NOTE_CLONED {
        id: "note-cloned",
        severity: Medium,
        applies: Any,
        family: "note",
        authority: "CMS MLN documentation guidance on cloned records; CMS Medicare Program Integrity Manual (Pub. 100-08)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: cloned,
    }
}

fn cloned(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(c) = &ctx.facts.cloned_from else { return vec![] };
    vec![Hit { message: cloned_message(c), ev: None, note: Some(c.note) }]
}

/// Message of a `note-cloned` finding.
pub(crate) fn cloned_message(c: &crate::encounter::ClonedFrom) -> String {
    format!(
        "Session note is a near-copy (similarity {:.2}) of note {} from encounter {} on {}; document this session's own findings.",
        c.similarity, c.other_note_id, c.other_encounter_id, c.other_date
    )
}

crate::declare_rule! {
    /// ## What it checks
    /// A separately billed E/M note on the encounter is not a copy or
    /// near-copy of the session/monitoring note: estimated Jaccard
    /// similarity of their word 5-shingles >= 0.75, or at least 65% of the
    /// E/M note's shingles found in the session note (an abridged copy with
    /// lines shortened and a plan line added).
    /// ## Why an auditor cares
    /// A copied note cannot show a separately identifiable E/M; billing it is
    /// unbundling.
    /// ## Evidence
    /// The E/M note, the session note and their estimated similarity.
    /// ## Example
    /// The "E/M note" repeats the nursing monitoring note word for word.
    /// ## How to fix
    /// Write the E/M note's own history, exam/MDM and plan, or do not bill the E/M.
    pub EM_COPIES_SESSION_NOTE {
        id: "em-copies-session-note",
        severity: High,
        applies: Any,
        family: "em",
        authority: "NCCI Policy Manual ch. XI (separately identifiable E/M); CMS IOM 100-04 ch.12 s30.6.6",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: em_copies,
    }
}

fn em_copies(ctx: &Ctx<'_>) -> Vec<Hit> {
    let session = ctx.facts.session_note.map(|s| ctx.enc.notes[s].meta.note_id.clone()).unwrap_or_default();
    ctx.facts
        .em_copies
        .iter()
        .map(|(n, sim)| Hit {
            message: format!(
                "E/M note is a near-copy (similarity {sim:.2}) of session note {session}; it does not document a separate E/M."
            ),
            ev: None,
            note: Some(*n),
        })
        .collect()
}

crate::declare_rule! {
    /// ## What it checks
    /// Prolonged-service lines are backed by documented time of the right
    /// person. 99417 and G2212 (practitioner time) need a 99205 or 99215 on
    /// the claim and a practitioner total-time statement reaching the billed
    /// units: G2212 from 89 minutes (99205) or 69 minutes (99215) plus 15 per
    /// further unit (rules-reference C6); 99417 from 75 (99205) or 55 (99215)
    /// plus 15 per further unit (CPT 2021 E/M guidelines: each 15 minutes
    /// beyond the level's required time). 99415/99416 (clinical staff time)
    /// need a clinical-staff time statement and are never billed with 99417
    /// or G2212. Observation or monitoring durations are not practitioner
    /// time.
    /// ## Why an auditor cares
    /// Prolonged-service codes are paid per time unit; physician time cannot
    /// be claimed for passive observation the physician did not personally
    /// spend, and staff and practitioner prolonged codes exclude each other.
    /// ## Evidence
    /// The claim lines, and time statements (`practitioner-time`,
    /// `staff-time` in `dictionaries/phrases.toml`); a practitioner-worded
    /// total in a note by RN/LPN/MA staff counts as staff time. Limit: the
    /// 99415 threshold beyond the E/M's highest time is not computed (the
    /// CPT time ranges changed in 2024); only documented staff time is required.
    /// ## Example
    /// 99215 + G2212 x 2 with "total time 60 minutes", or 99214 + 99417
    /// billed for the 2-hour Spravato observation.
    /// ## How to fix
    /// Document the practitioner's own total time on the date of service, bill
    /// units the time supports, and do not bill observation as prolonged time.
    pub PROLONGED_TIME_INSUFFICIENT {
        id: "prolonged-time-insufficient",
        severity: Critical,
        applies: EskIvk,
        family: "prolonged",
        authority: "CPT 2021 E/M guidelines (99417, 99415/99416 descriptors); NGS prolonged-services timetable 2025; CY2021 PFS final rule (G2212)",
        valid_from: Some("2021-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: prolonged,
    }
}

/// Minutes in a time statement ("total time 75 min" -> 75).
fn stated_minutes(v: &str) -> Option<u32> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| crate::extract::re::cs(r"(\d{1,3})\s*(?:min|minutes|mins)\b"));
    re.captures(v).and_then(|c| c[1].parse().ok())
}

const STAFF_CREDENTIALS: &[&str] = &["RN", "LPN", "LVN", "MA", "CMA", "CNA", "TECH"];

fn prolonged(ctx: &Ctx<'_>) -> Vec<Hit> {
    let units = |codes: &[&str]| -> f64 { ctx.enc.claims.iter().filter(|l| codes.contains(&l.code.as_str())).map(|l| l.units).sum() };
    let (u417, g2212, staff) = (units(&["99417"]), units(&["G2212"]), units(&["99415", "99416"]));
    if u417 + g2212 + staff == 0.0 {
        return vec![];
    }
    let mut out = Vec::new();
    // Time statements, split by whose time they are.
    let (mut prac, mut staff_min): (Option<(u32, EvRef)>, Option<u32>) = (None, None);
    for r in ctx.enc.counting(EvKind::TimeSpent) {
        let e = ctx.enc.ev(r);
        let Some(m) = stated_minutes(&e.value) else { continue };
        let cred = ctx.enc.notes[r.0].meta.provider_credential.as_deref().map(cred_norm).unwrap_or_default();
        let by_staff = has_credential(&cred, STAFF_CREDENTIALS);
        if !matches!(e.entry_id.as_str(), "staff-time" | "practitioner-time") {
            continue; // psychotherapy minutes are not E/M or staff time
        }
        if e.entry_id == "staff-time" || by_staff {
            staff_min = Some(staff_min.map_or(m, |x| x.max(m)));
        } else if prac.is_none_or(|(x, _)| m > x) {
            prac = Some((m, r));
        }
    }
    if staff > 0.0 && u417 + g2212 > 0.0 {
        out.push(Hit::absent("Clinical-staff prolonged service (99415/99416) is billed with practitioner prolonged service (99417/G2212); they cannot be combined."));
    }
    for (code, billed, new_base, est_base) in [("99417", u417, 60u32, 40u32), ("G2212", g2212, 74, 54)] {
        if billed == 0.0 {
            continue;
        }
        let base = if ctx.enc.codes().any(|c| c == "99205") {
            new_base
        } else if ctx.enc.codes().any(|c| c == "99215") {
            est_base
        } else {
            out.push(Hit::absent(format!(
                "{code} is billed without 99205 or 99215; practitioner prolonged time is reported only beyond the highest-level E/M."
            )));
            continue;
        };
        let need = base + 15 * billed.round() as u32;
        match prac {
            None => out.push(Hit::absent(format!(
                "{code} x {billed} is billed but no practitioner total time is documented ({need} minutes needed); monitoring or observation time is not practitioner time."
            ))),
            Some((m, r)) if m < need => out.push(Hit::at(
                format!("{code} x {billed} needs at least {need} minutes of practitioner total time; {m} minutes are documented."),
                r,
            )),
            _ => {}
        }
    }
    if staff > 0.0 && staff_min.is_none() {
        out.push(Hit::absent("99415/99416 is billed but no clinical-staff face-to-face time is documented."));
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// Each billed psychotherapy code has psychotherapy minutes documented
    /// apart from E/M and monitoring time, meeting the CPT time rule: 90833
    /// and 90832 from 16 minutes, 90836 and 90834 from 38, 90838 and 90837
    /// from 53. Minutes are read from a statement naming the psychotherapy
    /// ("Psychotherapy: 45 min (11:00-11:45)", "30 minutes supportive
    /// therapy") or, in a psychotherapy / therapy / counseling note, a
    /// "Start .. End .. (N min)" or "Session 53 min" line.
    /// ## Why an auditor cares
    /// Psychotherapy codes are time-based; minutes that are not written, or
    /// that fall short of the code's threshold, do not support the code, and
    /// add-on minutes may not be counted toward the E/M.
    /// ## Evidence
    /// The 9083x claim lines and psychotherapy time statements
    /// (`psychotherapy-time`, `session-clock-time`, `session-minutes` in
    /// `dictionaries/phrases.toml`). Limits: minutes are not matched to the
    /// billing provider (the longest statement counts), and whether the
    /// minutes overlap passive esketamine observation is not judged.
    /// ## Example
    /// 99214-25 + 90836 with "supportive therapy provided" and no minutes, or
    /// "Psychotherapy: 25 min" with 90836.
    /// ## How to fix
    /// Write the psychotherapy start and stop times or minutes separately
    /// from the E/M, and bill the code the minutes support.
    pub PSY_ADDON_TIME_UNSUPPORTED {
        id: "psy-addon-time-unsupported",
        severity: High,
        applies: Any,
        family: "psy",
        authority: "CPT psychiatry guidelines (psychotherapy time rule: 16-37, 38-52, 53+ minutes; rules-reference C13, unverified)",
        valid_from: Some("2013-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: psy_time,
    }
}

fn psy_time(ctx: &Ctx<'_>) -> Vec<Hit> {
    let billed: Vec<(&str, u32)> = ctx
        .enc
        .codes()
        .filter_map(|c| match c {
            "90832" | "90833" => Some((c, 16)),
            "90834" | "90836" => Some((c, 38)),
            "90837" | "90838" => Some((c, 53)),
            _ => None,
        })
        .collect();
    if billed.is_empty() {
        return vec![];
    }
    let mut best: Option<(u32, EvRef)> = None;
    for r in ctx.enc.counting(EvKind::TimeSpent) {
        let e = ctx.enc.ev(r);
        let therapy_note = ctx.enc.notes[r.0].meta.note_type.as_deref().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("therapy") || t.contains("counsel") || t.contains("cbt")
        });
        let ok =
            e.entry_id == "psychotherapy-time" || (matches!(e.entry_id.as_str(), "session-clock-time" | "session-minutes") && therapy_note);
        if let (true, Some(m)) = (ok, stated_minutes(&e.value)) {
            if best.is_none_or(|(b, _)| m > b) {
                best = Some((m, r));
            }
        }
    }
    let mut out = Vec::new();
    for (code, need) in billed {
        match best {
            None => out.push(Hit::absent(format!(
                "{code} is billed but no psychotherapy minutes are documented separately from E/M and monitoring time ({need} minutes needed)."
            ))),
            Some((m, r)) if m < need => {
                out.push(Hit::at(format!("{code} needs at least {need} minutes of psychotherapy; {m} minutes are documented."), r))
            }
            _ => {}
        }
    }
    out
}

crate::declare_rule! {
    /// ## What it checks
    /// Collaborative care (CoCM) codes are backed by the month's documented
    /// CoCM minutes: 99492 (first month) from 36 minutes, 99493 (subsequent
    /// month) from 31, and each +99494 unit 30 minutes beyond the primary
    /// code's full time, reportable from 16 (99492 + 99494 from 86 minutes,
    /// 99493 + 99494 from 76, each further unit 30 more); thresholds are
    /// data (`min_minutes`, `full_minutes` in `dictionaries/codes.toml`).
    /// 99492 and 99493 are never billed together. Minutes are read from a
    /// statement naming CoCM, collaborative care or care-manager time ("CoCM
    /// time this month: 42 minutes", "BHCM minutes for March: 74") or, in a
    /// note typed as collaborative care / care management, any time
    /// statement; the largest figure counts.
    /// ## Why an auditor cares
    /// CoCM codes are time-based monthly services; minutes that are not
    /// written, or fall short of the code's threshold, do not support the
    /// code, and the first-month and subsequent-month codes exclude each
    /// other.
    /// ## Evidence
    /// The 9949x claim lines and CoCM time statements (`cocm-time` in
    /// `dictionaries/phrases.toml`); the finding points at the statement it
    /// read, or says no minutes are documented. Limits: only this encounter
    /// is read, so 99492 and 99493 billed on different encounters of one
    /// calendar month, and minutes logged in other encounters of the month,
    /// are not seen; the initiating visit and the patient's consent (which
    /// Medicare requires) are documented once, usually in another encounter,
    /// and are not checked per month.
    /// ## Example
    /// 99493 + 99494 billed with "CoCM time this month: 45 minutes" (76
    /// needed), or 99492 and 99493 on one claim.
    /// ## How to fix
    /// Log the care manager's and psychiatric consultant's CoCM minutes for
    /// the calendar month, bill the codes the total supports, and bill 99492
    /// only in the first month of care.
    pub COCM_TIME_BELOW_THRESHOLD {
        id: "cocm-time-below-threshold",
        severity: High,
        applies: Any,
        family: "cocm",
        authority: "CPT via BCBS ND NDRP-GC-017 (reimbursement policy quoting the CoCM descriptors 99492-99494)",
        valid_from: Some("2018-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: cocm_time,
    }
}

/// Minutes in a CoCM time statement: a figure followed by "min", else the
/// last number ("CoCM minutes for March: 74").
fn cocm_minutes(v: &str) -> Option<u32> {
    stated_minutes(v).or_else(|| {
        static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let re = RE.get_or_init(|| crate::extract::re::cs(r"\d{1,3}"));
        re.find_iter(v).last().and_then(|m| m.as_str().parse().ok())
    })
}

fn cocm_time(ctx: &Ctx<'_>) -> Vec<Hit> {
    let lines = ctx.enc.lines_of(ctx.dict, CodeKind::Cocm);
    if lines.is_empty() {
        return vec![];
    }
    let def = |code: &str| ctx.dict.codes.get(code);
    let units = |code: &str| -> u32 { lines.iter().filter(|l| l.code == code).map(|l| l.units.round().max(1.0) as u32).sum() };
    let mut out = Vec::new();
    let (first, later, addon) = (units("99492"), units("99493"), units("99494"));
    if first > 0 && later > 0 {
        out.push(Hit::absent(
            "99492 (first month) and 99493 (subsequent month) are billed together; only one of them is reported for a calendar month.",
        ));
    }
    let mut best: Option<(u32, EvRef)> = None;
    for r in ctx.enc.counting(EvKind::TimeSpent) {
        let e = ctx.enc.ev(r);
        let typed = ctx.enc.notes[r.0].meta.note_type.as_deref().is_some_and(cocm_note_type);
        if e.entry_id != "cocm-time" && !typed {
            continue;
        }
        if let Some(m) = cocm_minutes(&e.value) {
            if best.is_none_or(|(b, _)| m > b) {
                best = Some((m, r));
            }
        }
    }
    // What each billed code needs, from the code table.
    let mut needs: Vec<(String, u32)> = Vec::new();
    for (code, n) in [("99492", first), ("99493", later)] {
        if let (true, Some(min)) = (n > 0, def(code).and_then(|d| d.min_minutes)) {
            needs.push((code.to_string(), min));
        }
    }
    // The add-on counts beyond the primary code's full time; with both
    // primaries billed (reported above) the smaller base is used.
    let base =
        [("99492", first), ("99493", later)].iter().filter(|(_, n)| *n > 0).filter_map(|(c, _)| def(c).and_then(|d| d.full_minutes)).min();
    if let (true, Some(base), Some(d)) = (addon > 0, base, def("99494")) {
        if let (Some(min), Some(step)) = (d.min_minutes, d.full_minutes) {
            needs.push((format!("99494 x {addon}"), base + min + step * (addon - 1)));
        }
    }
    let Some(need) = needs.iter().map(|(_, m)| *m).max() else { return out };
    let codes: Vec<&str> = needs.iter().map(|(c, _)| c.as_str()).collect();
    let codes = codes.join(" + ");
    match best {
        None => out.push(Hit::absent(format!(
            "{codes} billed, but no collaborative care minutes for the month are documented ({need} minutes needed)."
        ))),
        Some((m, r)) if m < need => out.push(Hit::at(
            format!("{codes} needs at least {need} minutes of collaborative care in the month; {m} minutes are documented."),
            r,
        )),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pa_drug_codes_from_the_value() {
        assert_eq!(pa_codes("prior auth: approved for S0013 valid 2025-10-01..2026-03-31"), vec!["S0013"]);
        assert_eq!(pa_codes("prior auth: approved for S0013,J0013"), vec!["S0013", "J0013"]);
        assert!(pa_codes("prior auth: approved valid 2025-10-01..2026-03-31").is_empty());
        // The code does not disturb the window.
        assert!(pa_covers("prior auth: approved for S0013 valid 2025-10-01..2026-03-31", NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()));
    }

    #[test]
    fn cocm_minutes_from_statements() {
        assert_eq!(cocm_minutes("cocm time this month (3/1-3/31): 42 minutes"), Some(42));
        assert_eq!(cocm_minutes("bhcm minutes for march: 74"), Some(74));
        assert_eq!(cocm_minutes("45 min of collaborative care"), Some(45));
        assert_eq!(cocm_minutes("total september: 42 minutes"), Some(42));
    }

    #[test]
    fn pa_window_against_dos() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(pa_covers("prior auth: approved", d("2026-03-01")));
        assert!(pa_covers("prior auth: approved valid 2026-01-05..2026-07-04", d("2026-03-01")));
        // Approved after the date of service.
        assert!(!pa_covers("prior auth: approved valid 2026-03-10..2026-09-01", d("2026-03-01")));
        // Expired.
        assert!(!pa_covers("prior auth: approved valid ..2025-12-31", d("2026-01-02")));
    }
}
