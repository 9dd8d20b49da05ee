//! Telehealth billing rules of the oral-ketamine family (rules-reference 2.6).

use super::{Ctx, Hit};
use crate::encounter::EvRef;
use crate::extract::EvKind;

crate::declare_rule! {
    /// ## What it checks
    /// On a telehealth claim (place of service 02 or 10 on a claim line, or
    /// on the encounter when its lines carry none) the place of service
    /// agrees with where the notes say the patient was: POS 10 when the
    /// patient was at home, POS 02 anywhere else (car, work, school, hotel,
    /// another clinic). Only a documented location is compared ("Patient
    /// location: home", "pt is at home", "joined from her car"); a visit
    /// whose notes do not say where the patient was, or say two different
    /// places, is not judged, and a relative's home ("at her mother's
    /// house") is not classified. For traditional Medicare, POS 02 with the
    /// patient at home is not reported, because Medicare at first kept
    /// instructing POS 02 after POS 10 took effect (rules-reference C16).
    /// The telehealth modifier (95/93) varies by payer and is not checked.
    /// ## Why an auditor cares
    /// Since 2022-01-01 POS 02 means telehealth provided other than in the
    /// patient's home and POS 10 telehealth in the patient's home (CMS CR
    /// 12427); commercial payers (UHC, Anthem) require POS 10 for home. The
    /// POS sets the payment rate, so one that contradicts the note is paid
    /// wrongly and is recouped on audit.
    /// ## Evidence
    /// The patient-location statement (note, span) that contradicts the
    /// billed POS.
    /// ## Example
    /// A video visit billed 99214 with POS 10 whose note says "Patient
    /// location: car (parked)".
    /// ## How to fix
    /// Bill POS 10 when the patient is at home and POS 02 otherwise, and
    /// write the patient's location in every telehealth note.
    pub ORAL_TELEHEALTH_POS_MISMATCH {
        id: "oral-telehealth-pos-mismatch",
        severity: Medium,
        applies: Any,
        family: "oral",
        authority: "CMS CR 12427 (Transmittal 11045): POS 02 and POS 10 code descriptors",
        valid_from: Some("2022-01-01"),
        valid_to: None,
        since: "0.1.0",
        check: telehealth_pos,
    }
}

fn telehealth_pos(ctx: &Ctx<'_>) -> Vec<Hit> {
    if ctx.enc.claims.is_empty() {
        return vec![];
    }
    let mut pos: Vec<&str> = ctx.enc.claims.iter().filter_map(|c| c.place_of_service.as_deref()).collect();
    if pos.is_empty() {
        pos.extend(ctx.enc.place_of_service.as_deref());
    }
    let (pos10, pos02) = (pos.contains(&"10"), pos.contains(&"02"));
    if !(pos10 || pos02) {
        return vec![];
    }
    let locations = ctx.enc.counting(EvKind::PatientLocation);
    let (home, other): (Vec<EvRef>, Vec<EvRef>) = locations.into_iter().partition(|r| ctx.enc.ev(*r).value == "home");
    if !home.is_empty() && !other.is_empty() {
        return vec![];
    }
    if let (true, Some(&o)) = (pos10, other.first()) {
        let place = ctx.enc.ev(o).value.trim_start_matches("other: ").to_string();
        return vec![Hit::at(
            format!("Billed POS 10 (telehealth in the patient's home), but the note gives the patient's location as {place}, not home: POS 02 applies."),
            o,
        )];
    }
    if let (true, Some(&h)) = (pos02 && !ctx.payer.traditional_medicare, home.first()) {
        return vec![Hit::at(
            "Billed POS 02 (telehealth other than in the patient's home), but the note places the patient at home: POS 10 applies.",
            h,
        )];
    }
    vec![]
}
