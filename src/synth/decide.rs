//! Decision making: patients, their courses and each encounter's facts.
//! Every random choice that changes evidence is made here; rendering only
//! chooses wording.

use super::facts::*;
use super::rng::Rng;
use super::vocab::{ANTIDEPRESSANTS, AUGMENTERS, ESK_PAYERS, MEDICARE_PAYERS, OUTCOMES, VAGUE};
use super::{ClaimsMode, SynthConfig};
use chrono::{Duration, NaiveDate};

const PRESCRIBER_POOL: &[(&str, &str)] = &[
    ("PRV-101", "MD"),
    ("PRV-102", "DO"),
    ("PRV-103", "PMHNP"),
    ("PRV-104", "NP"),
    ("PRV-105", "APRN"),
    ("PRV-106", "PA"),
    ("PRV-107", "MD"),
    ("PRV-108", "MD"),
];
const RN_POOL: &[&str] = &["PRV-201", "PRV-202", "PRV-203", "PRV-204"];
const THERAPIST_POOL: &[(&str, &str)] =
    &[("PRV-301", "LCSW"), ("PRV-302", "LPC"), ("PRV-303", "LMFT"), ("PRV-304", "PhD"), ("PRV-305", "PsyD")];
const NON_PRESCRIBERS: &[(&str, &str)] = &[("PRV-301", "LCSW"), ("PRV-302", "LPC"), ("PRV-303", "LMFT")];

/// Patient-level facts that persist across the course.
pub(crate) struct Patient {
    pub id: String,
    pub track: Track,
    pub payer: &'static str,
    pub medicare: bool,
    pub self_pay: bool,
    pub gcode_payer: bool,
    pub history: History,
    pub pa: Pa,
    pub md: (&'static str, &'static str),
    pub rn: &'static str,
    pub ther: (&'static str, &'static str),
    pub weight: u32,
    pub primary: &'static str,
    pub secondary: Option<&'static str>,
    pub dates: Vec<NaiveDate>,
    pub cloner: bool,
    pub template: Option<(Session, u64)>,
    pub last_devices: u32,
}

fn history(rng: &mut Rng, track: Track) -> History {
    let kt = matches!(track, Track::Esk | Track::Iv);
    if !kt && rng.chance(0.45) {
        return History { trials: vec![], vague: None, distractors: vec![] };
    }
    let fewer = kt && rng.chance(0.045);
    let incomplete = rng.chance(0.04);
    let vague_bad = kt && rng.chance(0.035);
    let vague_ok = rng.chance(0.06);
    let mut n = if fewer { rng.weighted(&[40, 60]) } else { 2 + rng.weighted(&[35, 38, 20, 7]) };
    if !kt {
        n = rng.weighted(&[10, 30, 40, 20]);
    }
    let mut drugs: Vec<usize> = (0..ANTIDEPRESSANTS.len()).collect();
    rng.shuffle(&mut drugs);
    let mut trials: Vec<Trial> = drugs[..n]
        .iter()
        .map(|&d| {
            let drug = &ANTIDEPRESSANTS[d];
            Trial {
                drug: d,
                alias: if rng.chance(0.45) { 1 + rng.below(drug.aliases.len()) } else { 0 },
                dose: Some(*rng.pick(drug.doses)),
                weeks: Some(*rng.pick(&[6, 8, 8, 10, 12, 16, 24])),
                outcome: rng.below(OUTCOMES.len()),
            }
        })
        .collect();
    if incomplete && !trials.is_empty() {
        let k = 1 + rng.below(trials.len().min(2));
        for t in trials.iter_mut().take(k) {
            match rng.below(3) {
                0 => t.dose = None,
                1 => t.weeks = None,
                _ => {
                    t.dose = None;
                    t.weeks = None;
                }
            }
        }
    }
    let adequate = trials.iter().filter(|t| t.adequate()).count();
    let vague = if vague_bad && adequate < 2 {
        Some(rng.below(VAGUE.len()))
    } else if vague_bad {
        // make it bite: strip adequacy from all but one trial
        for t in trials.iter_mut().skip(1) {
            t.weeks = None;
        }
        Some(rng.below(VAGUE.len()))
    } else if vague_ok && adequate >= 2 {
        Some(rng.below(VAGUE.len()))
    } else {
        None
    };
    let free: Vec<usize> = drugs[n..].to_vec();
    let mut distractors = Vec::new();
    let nd = rng.weighted(&[30, 35, 25, 10]);
    let mut fi = 0;
    for _ in 0..nd {
        let d = match rng.below(8) {
            0 => Distractor::NegatedClass,
            1 => Distractor::Negated(free[fi]),
            2 => Distractor::Hypothetical(free[fi]),
            3 => Distractor::Declined(free[fi]),
            4 => Distractor::Family(free[fi]),
            5 => Distractor::Augmentation(rng.below(AUGMENTERS.len())),
            6 => Distractor::SleepDose(rng.below(3) as u8),
            _ => Distractor::CurrentMed(free[fi]),
        };
        // "never tried an MAOI" must not contradict a documented phenelzine trial
        if d == Distractor::NegatedClass && trials.iter().any(|t| ANTIDEPRESSANTS[t.drug].generic == "phenelzine") {
            continue;
        }
        // sleep-dose distractors name trazodone/quetiapine IR/mirtazapine; keep mirtazapine out of trials
        if let Distractor::SleepDose(2) = d {
            if trials.iter().any(|t| ANTIDEPRESSANTS[t.drug].generic == "mirtazapine") {
                continue;
            }
        }
        fi += 1;
        if !distractors.contains(&d) {
            distractors.push(d);
        }
    }
    History { trials, vague, distractors }
}

fn pa_number(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("A{}", rng.range(100_000, 999_999)),
        1 => format!("PA-{}-{}", rng.range(2025, 2026), rng.range(10_000, 99_999)),
        2 => format!("{}", rng.range(10_000_000, 99_999_999)),
        _ => format!("AUTH{}", rng.range(1_000_000, 9_999_999)),
    }
}

fn course_dates(rng: &mut Rng, track: Track, cfg: &SynthConfig) -> Vec<NaiveDate> {
    let span = (cfg.end_date - cfg.start_date).num_days().max(0);
    let mut d = cfg.start_date + Duration::days(rng.range(0, span));
    let n = match track {
        Track::Esk => rng.range(1, 16),
        Track::Iv => rng.range(1, 9),
        Track::Oral => rng.range(1, 6),
        Track::None => rng.range(1, 4),
    } as usize;
    let mut out = Vec::new();
    for k in 0..n {
        if d > cfg.end_date {
            break;
        }
        out.push(d);
        let gap = match track {
            Track::Esk if k < 7 => {
                if k % 2 == 0 {
                    3
                } else {
                    4
                }
            }
            Track::Esk if k < 11 => 7,
            Track::Esk => *rng.pick(&[7, 14]),
            Track::Iv if k < 5 => rng.range(2, 4),
            Track::Iv => rng.range(25, 35),
            Track::Oral => rng.range(7, 14),
            Track::None => rng.range(28, 42),
        };
        d += Duration::days(gap);
    }
    if out.is_empty() {
        out.push(cfg.end_date);
    }
    out
}

/// Decide a new patient.
pub(crate) fn patient(rng: &mut Rng, idx: usize, cfg: &SynthConfig) -> Patient {
    let track = match rng.weighted(&[40, 33, 16, 22]) {
        0 => Track::Esk,
        1 => Track::Iv,
        2 => Track::Oral,
        _ => Track::None,
    };
    let medicare = match track {
        Track::Esk => rng.chance(0.18),
        Track::None => rng.chance(0.2),
        _ => false,
    };
    let self_pay = matches!(track, Track::Oral | Track::None) && !medicare && rng.chance(0.15);
    let payer = if medicare {
        *rng.pick(MEDICARE_PAYERS)
    } else if self_pay {
        *rng.pick(&["Self-pay", "SELF PAY", "Cash/self-pay"])
    } else {
        *rng.pick(ESK_PAYERS)
    };
    let gcode_payer = medicare || (payer.contains("Massachusetts") && rng.chance(0.6)) || rng.chance(0.08);
    let dates = course_dates(rng, track, cfg);
    let first = dates[0];
    let pa = if matches!(track, Track::Esk | Track::Iv) {
        let approve = first - Duration::days(rng.range(3, 30));
        let approved =
            |rng: &mut Rng, from: NaiveDate| Pa::Approved { number: pa_number(rng), from, to: from + Duration::days(rng.range(150, 200)) };
        if medicare && rng.chance(0.15) {
            Pa::NotRequired
        } else if rng.chance(0.04) {
            match rng.below(5) {
                0 => Pa::Pending,
                1 => Pa::Denied,
                2 => Pa::NotRequired,
                3 => Pa::Absent,
                _ => {
                    let from = first + Duration::days(rng.range(3, 20));
                    approved(rng, from)
                }
            }
        } else {
            approved(rng, approve)
        }
    } else {
        Pa::Absent
    };
    let primary = *rng.pick(SPECIFIC_DX);
    Patient {
        id: format!("PT{:06}", idx + 1),
        track,
        payer,
        medicare,
        self_pay,
        gcode_payer,
        history: history(rng, track),
        pa,
        md: *rng.pick(PRESCRIBER_POOL),
        rn: rng.pick_str(RN_POOL),
        ther: *rng.pick(THERAPIST_POOL),
        weight: rng.r32(52, 118),
        primary,
        secondary: if rng.chance(0.25) { Some(*rng.pick(SECONDARY_DX)) } else { None },
        dates,
        cloner: track != Track::None && rng.chance(0.12),
        template: None,
        last_devices: 2,
    }
}

fn style(rng: &mut Rng, track: Track) -> Style {
    let layout = match rng.weighted(&[20, 18, 12, 14, 10, 6, 20]) {
        0 => Layout::Flowsheet,
        1 => Layout::Narrative,
        2 => Layout::Shorthand,
        3 => Layout::Soap,
        4 => Layout::PipeTable,
        5 => Layout::TabTable,
        _ => Layout::Log,
    };
    let tfmt = match rng.weighted(&[60, 25, 15]) {
        0 => TimeFmt::H24,
        1 => TimeFmt::H12,
        _ => TimeFmt::Compact,
    };
    Style {
        layout,
        tfmt,
        caps: rng.chance(0.06),
        crlf: rng.chance(0.1),
        typos: rng.chance(0.1),
        long: track != Track::None && rng.chance(0.07),
    }
}

fn dx_codes(rng: &mut Rng, p: &Patient) -> Vec<&'static str> {
    let kt = matches!(p.track, Track::Esk | Track::Iv);
    if (kt && rng.chance(0.035)) || (!kt && rng.chance(0.3)) {
        return vec![*rng.pick(WEAK_DX)];
    }
    let mut v = vec![p.primary];
    if let Some(s) = p.secondary {
        v.push(s);
    }
    if rng.chance(0.025) {
        v.push(*rng.pick(INVALID_DX));
    }
    v
}

fn base_session(rng: &mut Rng, p: &Patient, k: usize) -> Session {
    let st = style(rng, p.track);
    let arrival = rng.r32(8 * 60, 14 * 60 + 15);
    Session {
        style: st,
        near_empty: false,
        session_no: k as u32 + 1,
        dx_codes: dx_codes(rng, p),
        dx_in_text: rng.chance(0.7),
        history_here: true,
        rems_cert: false,
        rems_enrolled: Tri::Absent,
        rems_form: Tri::Absent,
        pa_here: false,
        arrival,
        dose_start: arrival + 20,
        bps: vec![],
        pre_alt: None,
        post_alt: None,
        threshold: false,
        phq: if rng.chance(0.4) { Some(rng.r32(6, 24)) } else { None },
        devices: 0,
        device_times_shown: false,
        iv: None,
        oral: None,
        end_time: None,
        end_shown: false,
        monitoring_stmt: None,
        discharge_criteria: false,
        bare_discharge: false,
        prior_dose: None,
        plan_increase: false,
        em_section: false,
        next_appt: rng.chance(0.5),
        spravato_mention: false,
    }
}

fn vit(rng: &mut Rng, used: &mut Vec<(u32, u32)>, at: u32, elevated: bool) -> Bp {
    let (sys, dia) = if elevated { fresh_bp(rng, used, (142, 162), (88, 99)) } else { fresh_bp(rng, used, (108, 139), (64, 89)) };
    Bp { sys, dia, at, hr: rng.r32(58, 96), spo2: rng.r32(95, 100), timed: true }
}

const PRE_ALTS: &[&str] = &["wnl", "declined", "refused", "not_obtained"];

/// Pre-dose readings (or a look-alike when `missing`).
fn pre_vitals(rng: &mut Rng, s: &mut Session, used: &mut Vec<(u32, u32)>, missing: bool) {
    let t = s.dose_start - rng.r32(6, 14);
    if missing {
        if rng.chance(0.75) {
            s.pre_alt = Some(*rng.pick(PRE_ALTS));
        }
        return;
    }
    if rng.chance(0.2) {
        s.bps.push(vit(rng, used, t - 10, true));
        s.bps.push(vit(rng, used, t, false));
        s.threshold = true;
    } else {
        s.bps.push(vit(rng, used, t, false));
        s.threshold = rng.chance(0.3);
    }
}

/// Monitoring/discharge: end time, how it is shown, explicit statement.
fn monitoring(rng: &mut Rng, s: &mut Session, from: u32, minutes: Option<u32>, start_visible: bool) {
    match minutes {
        None => {
            s.end_time = Some(from + rng.r32(60, 140));
            s.end_shown = false;
            s.monitoring_stmt = None;
        }
        Some(m) => {
            s.end_time = Some(from + m);
            let mode = if start_visible { rng.weighted(&[45, 25, 30]) } else { 1 };
            s.end_shown = mode != 1;
            s.monitoring_stmt = if mode == 0 { None } else { Some(m) };
        }
    }
}

fn esk_session(rng: &mut Rng, p: &mut Patient, k: usize) -> Session {
    let mut s = base_session(rng, p, k);
    let mut used = Vec::new();
    s.dose_start = s.arrival + rng.r32(15, 30);
    s.devices = if k == 0 {
        2
    } else if rng.chance(0.03) {
        1
    } else {
        *rng.pick(&[2, 3, 3])
    };
    s.device_times_shown = rng.chance(0.8);
    if k > 0 && rng.chance(0.3) {
        s.prior_dose = Some(p.last_devices * 28);
    }
    p.last_devices = s.devices;
    s.plan_increase = s.devices == 2 && rng.chance(0.2);
    s.rems_cert = rng.chance(0.6);
    s.rems_enrolled = if rng.chance(0.035) { *rng.pick(&[Tri::Negated, Tri::Absent]) } else { Tri::Affirmed };
    s.rems_form = if rng.chance(0.04) { *rng.pick(&[Tri::Negated, Tri::Absent]) } else { Tri::Affirmed };
    s.pa_here = rng.chance(0.985);
    s.history_here = rng.chance(0.985);
    let miss = rng.chance(0.035);
    pre_vitals(rng, &mut s, &mut used, miss);
    let forty_missing = rng.chance(0.035);
    if forty_missing {
        if rng.chance(0.6) {
            s.post_alt = Some(*rng.pick(&["40_not_obtained", "post_not_obtained", "40_deferred"]));
        }
    } else {
        let at = s.dose_start + rng.r32(40, 48);
        let el = rng.chance(0.1);
        s.bps.push(vit(rng, &mut used, at, el));
    }
    if rng.chance(0.4) || forty_missing && rng.chance(0.5) {
        let at = s.dose_start + rng.r32(85, 100);
        s.bps.push(vit(rng, &mut used, at, false));
    }
    let last = s.last_device();
    let minutes = if rng.chance(0.04) {
        if rng.chance(0.4) {
            None
        } else {
            Some(rng.r32(75, 115))
        }
    } else {
        Some(rng.r32(120, 150))
    };
    let shown = s.device_times_shown;
    monitoring(rng, &mut s, last, minutes, shown);
    if rng.chance(0.5) {
        let end = s.end_time.expect("end set");
        let mut b = vit(rng, &mut used, end - 5, false);
        b.timed = s.end_shown;
        s.bps.push(b);
    }
    s.discharge_criteria = !rng.chance(0.04);
    s.bare_discharge = !s.discharge_criteria && s.end_shown && rng.chance(0.6);
    if rng.chance(0.03) && k > 0 {
        // near-empty note: dose only, everything else "see flowsheet"
        s.near_empty = true;
        s.bps.clear();
        s.pre_alt = None;
        s.post_alt = None;
        s.threshold = false;
        s.device_times_shown = false;
        s.end_shown = false;
        s.monitoring_stmt = None;
        s.discharge_criteria = false;
        s.bare_discharge = false;
        s.dx_in_text = false;
        s.phq = None;
    }
    s
}

fn iv_session(rng: &mut Rng, p: &Patient, k: usize) -> Session {
    let mut s = base_session(rng, p, k);
    let mut used = Vec::new();
    s.dose_start = s.arrival + rng.r32(20, 35);
    s.pa_here = rng.chance(0.985);
    let mut mgkg = *rng.pick(&[0.5, 0.5, 0.5, 0.6, 0.75, 1.0]);
    let mut weight = p.weight;
    if mgkg == 0.75 {
        weight -= weight % 4;
    }
    if mgkg == 0.6 && !weight.is_multiple_of(5) {
        mgkg = 0.5;
    }
    let mut iv = IvFacts {
        weight,
        mgkg,
        minutes: match rng.weighted(&[88, 8, 4]) {
            0 => rng.r32(38, 50),
            1 => rng.r32(95, 110),
            // short (push-length) administrations, billed as 96374 or wrongly as 96365
            _ => rng.r32(10, 14),
        },
        show_weight: true,
        show_mgkg: true,
        show_total: true,
        show_start: true,
        show_stop: true,
        indication: true,
        dissociation: true,
        post_status: true,
        escort: true,
        followup: true,
    };
    if rng.chance(0.05) {
        match rng.below(10) {
            0..=2 => iv.show_stop = false,
            3..=4 => iv.show_start = false,
            _ if rng.chance(0.5) => {
                iv.show_start = false;
                iv.show_stop = false;
            }
            _ => iv.show_stop = false,
        }
    }
    let mut pre_missing = false;
    if rng.chance(0.05) {
        match rng.below(6) {
            0 => {
                iv.show_weight = false;
                iv.show_total = true;
            }
            1 => {
                iv.show_mgkg = false;
                iv.show_total = true;
            }
            2 => iv.show_total = false,
            3 => {
                iv.indication = false;
                s.dx_in_text = false;
            }
            4 => pre_missing = true,
            _ => s.history_here = false,
        }
    }
    if !iv.show_weight && !iv.show_mgkg {
        iv.show_mgkg = true;
    }
    pre_vitals(rng, &mut s, &mut used, pre_missing);
    let mut intra = true;
    let mut dc = true;
    if rng.chance(0.05) {
        match rng.below(6) {
            0 => intra = false,
            1 => iv.dissociation = false,
            2 => iv.post_status = false,
            3 => dc = false,
            4 => iv.escort = false,
            _ => iv.followup = false,
        }
    }
    let stop = s.dose_start + iv.minutes;
    if intra {
        s.bps.push(vit(rng, &mut used, s.dose_start + 15.min(iv.minutes / 2), false));
        if iv.minutes > 35 && rng.chance(0.6) {
            let el = rng.chance(0.15);
            s.bps.push(vit(rng, &mut used, s.dose_start + 30, el));
        }
    }
    if rng.chance(0.7) {
        let at = stop + rng.r32(10, 20);
        s.bps.push(vit(rng, &mut used, at, false));
    }
    let m = rng.r32(30, 60);
    let start_visible = iv.show_stop;
    monitoring(rng, &mut s, stop, Some(m), start_visible);
    s.discharge_criteria = dc;
    s.bare_discharge = !dc && s.end_shown && rng.chance(0.5);
    if !iv.show_stop {
        s.end_shown = false;
        if rng.chance(0.5) {
            s.monitoring_stmt = None;
        }
    }
    s.iv = Some(iv);
    s
}

fn oral_session(rng: &mut Rng, p: &Patient, k: usize) -> Session {
    let mut s = base_session(rng, p, k);
    let mut used = Vec::new();
    let tele = rng.chance(0.55);
    let rx_only = rng.chance(0.12);
    s.dose_start = s.arrival + rng.r32(10, 20);
    s.oral = Some(OralFacts {
        mg: *rng.pick(&[100, 125, 150, 200, 250, 300]),
        tele,
        rx_only,
        form: rng.pick_str(&["SL troche", "RDT", "oral solution", "sublingual tablet"]),
    });
    if rx_only {
        s.discharge_criteria = false;
        return s;
    }
    let miss = rng.chance(0.15);
    pre_vitals(rng, &mut s, &mut used, miss);
    if rng.chance(0.7) {
        let at = s.dose_start + rng.r32(40, 60);
        s.bps.push(vit(rng, &mut used, at, false));
    }
    let minutes = if rng.chance(0.15) { None } else { Some(rng.r32(60, 120)) };
    let ds = s.dose_start;
    monitoring(rng, &mut s, ds, minutes, true);
    s.discharge_criteria = rng.chance(0.8);
    s.bare_discharge = !s.discharge_criteria && s.end_shown && rng.chance(0.5);
    s
}

fn none_session(rng: &mut Rng, p: &Patient, k: usize) -> Session {
    let mut s = base_session(rng, p, k);
    let mut used = Vec::new();
    s.history_here = !p.history.is_empty() && rng.chance(0.6);
    if rng.chance(0.4) {
        s.bps.push(vit(rng, &mut used, s.arrival + 5, false));
    }
    s.dose_start = s.arrival + 30;
    s.spravato_mention = rng.chance(0.15);
    s.threshold = false;
    s
}

fn cred_name(c: (&'static str, &'static str)) -> (String, &'static str) {
    (c.0.to_string(), c.1)
}

/// Decide one encounter of `p` (the `k`-th of its course).
pub(crate) fn encounter(rng: &mut Rng, p: &mut Patient, k: usize, enc_no: usize, cfg: &SynthConfig) -> Encounter {
    let date = p.dates[k];
    let track = p.track;
    let session_seed = rng.next_u64();
    let mut cloned = false;
    let mut session = match (&p.template, p.cloner && k > 0 && rng.chance(0.55)) {
        (Some((t, _)), true) => {
            cloned = true;
            t.clone()
        }
        _ => match track {
            Track::Esk => esk_session(rng, p, k),
            Track::Iv => iv_session(rng, p, k),
            Track::Oral => oral_session(rng, p, k),
            Track::None => none_session(rng, p, k),
        },
    };
    let session_seed = match (&p.template, cloned) {
        (Some((_, seed)), true) => *seed,
        _ => session_seed,
    };
    if k == 0 && !session.near_empty {
        p.template = Some((session.clone(), session_seed));
    }
    let kt = matches!(track, Track::Esk | Track::Iv);
    let pos = match (&session.oral, track) {
        (Some(o), _) if o.tele => {
            if rng.chance(0.8) {
                "10"
            } else {
                "02"
            }
        }
        (_, Track::None) if rng.chance(0.3) => "10",
        _ => "11",
    };
    let tele = pos != "11";

    // ---- billing ----
    let mut lines: Vec<Line> = Vec::new();
    let mut em_billed = false;
    let mut psy_only = false;
    let dose = session.devices * 28;
    let post2026 = date >= NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let em_code = *rng.pick(&["99213", "99214", "99214", "99215"]);
    match track {
        Track::Esk => {
            if p.gcode_payer && !(p.medicare && rng.chance(0.05)) {
                let mut code = if dose <= 56 { "G2082" } else { "G2083" };
                if rng.chance(0.04) {
                    code = if code == "G2082" { "G2083" } else { "G2082" };
                }
                // Medicare (CGS J15) wants KX on the G-code; a missing one
                // is esk-rems-site-not-certified's claim clause.
                let mods = if rng.chance(if p.medicare { 0.9 } else { 0.5 }) { vec!["KX"] } else { vec![] };
                lines.push(Line { code, units: 1, modifiers: mods });
                if rng.chance(0.04) {
                    let dc = if post2026 { "J0013" } else { "S0013" };
                    lines.push(Line { code: dc, units: dose, modifiers: vec![] });
                }
            } else {
                let mut code = if post2026 { "J0013" } else { "S0013" };
                if rng.chance(0.04) {
                    code = if post2026 { "S0013" } else { "J0013" };
                }
                let mut units = dose;
                if rng.chance(0.04) {
                    units = *rng.pick(&[1, session.devices, if dose == 56 { 28 } else { 56 }]);
                }
                if rng.chance(0.02) {
                    code = "J0222";
                }
                lines.push(Line { code, units, modifiers: vec![] });
                if rng.chance(0.35) {
                    em_billed = true;
                }
            }
            if rng.chance(0.02) {
                lines.push(Line { code: "99354", units: 1, modifiers: vec![] });
            }
        }
        Track::Iv => {
            let iv = session.iv.as_ref().expect("iv facts");
            let mut minutes_for_units = iv.minutes;
            if rng.chance(0.04) {
                minutes_for_units = 100; // bill an extra hour that did not happen
            }
            if iv.minutes <= 15 && rng.chance(0.5) {
                lines.push(Line { code: "96374", units: 1, modifiers: vec![] });
            } else {
                lines.push(Line { code: "96365", units: 1, modifiers: vec![] });
                let u = allowed_96366(minutes_for_units.max(iv.minutes));
                if u > 0 {
                    lines.push(Line { code: "96366", units: u, modifiers: vec![] });
                }
            }
            let drug = if rng.chance(0.04) { *rng.pick(&["J3000", "S0013", "J0013", ""]) } else { "J3490" };
            if !drug.is_empty() {
                lines.push(Line { code: drug, units: 1, modifiers: vec![] });
            }
            em_billed = rng.chance(0.3);
        }
        Track::Oral | Track::None => {
            if !p.self_pay {
                if track == Track::None && rng.chance(0.22) {
                    psy_only = true;
                } else {
                    em_billed = true;
                }
            }
        }
    }

    // ---- E/M documentation ----
    let mut em = EmDoc::NotBilled;
    if em_billed {
        em = if kt {
            match rng.weighted(&[62, 22, 6, 6, 4]) {
                0 => EmDoc::SeparateNote,
                1 if !session.near_empty => EmDoc::Section,
                1 => EmDoc::SeparateNote,
                2 => EmDoc::Copy,
                3 => EmDoc::Stub,
                _ => EmDoc::Nothing,
            }
        } else {
            EmDoc::VisitNote
        };
        let mut mods: Vec<&'static str> = Vec::new();
        if kt {
            mods.push("25");
        }
        if tele {
            mods.push(if rng.chance(0.8) { "95" } else { "GT" });
        }
        lines.push(Line { code: em_code, units: 1, modifiers: mods });
    }
    if cloned {
        session.em_section = false;
    }
    if em == EmDoc::Section {
        session.em_section = true;
    }

    // ---- psychotherapy ----
    let mut psy = None;
    let psy_minutes = *rng.pick(&[30, 45]);
    let psy_by_prescriber;
    if psy_only {
        psy_by_prescriber = false;
        let code = if psy_minutes == 30 { "90832" } else { "90834" };
        let code = if rng.chance(0.06) {
            if psy_minutes == 30 {
                "90833"
            } else {
                "90836"
            }
        } else {
            code
        };
        lines.push(Line { code, units: 1, modifiers: if tele { vec!["95"] } else { vec![] } });
        psy = Some(psy_minutes);
    } else if (kt && rng.chance(0.15)) || (track == Track::None && em_billed && rng.chance(0.3)) {
        psy = Some(psy_minutes);
        if em_billed {
            psy_by_prescriber = true;
            let wrong = rng.chance(0.15);
            let code = match (psy_minutes, wrong) {
                (30, false) => "90833",
                (30, true) => "90832",
                (_, false) => "90836",
                (_, true) => "90834",
            };
            lines.push(Line { code, units: 1, modifiers: vec![] });
        } else {
            psy_by_prescriber = false;
            let wrong = rng.chance(0.1);
            let code = match (psy_minutes, wrong) {
                (30, false) => "90832",
                (30, true) => "90833",
                (_, false) => "90834",
                (_, true) => "90836",
            };
            lines.push(Line { code, units: 1, modifiers: vec![] });
        }
    } else {
        psy_by_prescriber = false;
    }
    let psy = psy.map(|minutes| {
        let before = session.arrival >= 7 * 60 + minutes + 20 && rng.chance(0.5);
        let start = if before {
            session.arrival - minutes - rng.r32(10, 20)
        } else {
            let end = session.end_time.unwrap_or(session.dose_start + 60);
            end + rng.r32(10, 30)
        };
        Psy { start, minutes }
    });

    // ---- providers ----
    let prov_bad = track != Track::Oral && !psy_only && !lines.is_empty() && rng.chance(0.02);
    let md = cred_name(p.md);
    let em_note = matches!(em, EmDoc::SeparateNote | EmDoc::Copy | EmDoc::Stub);
    let (mut session_prov, mut session_cred) = if kt && em_note && rng.chance(0.6) { (p.rn.to_string(), "RN") } else { md.clone() };
    let (mut em_prov, mut em_cred) = md.clone();
    let (mut psy_prov, mut psy_cred) = if psy_by_prescriber { md.clone() } else { cred_name(p.ther) };
    if prov_bad {
        let np = cred_name(*rng.pick(NON_PRESCRIBERS));
        (session_prov, session_cred) = np.clone();
        (em_prov, em_cred) = np.clone();
        if psy_by_prescriber {
            (psy_prov, psy_cred) = np;
        }
    }
    let billing_cred = if psy_only {
        psy_cred
    } else if em_note {
        em_cred
    } else {
        session_cred
    };

    if psy_only {
        session.bps.clear();
        session.history_here = false;
        session.dx_in_text = false;
        session.pa_here = false;
    }
    let history_in_em = em == EmDoc::SeparateNote && (!session.history_here || session.near_empty || rng.chance(0.3));
    let pa_in_em = em == EmDoc::SeparateNote && kt && (!session.pa_here || session.near_empty) && rng.chance(0.5);
    let em_restates_bp = if matches!(em, EmDoc::SeparateNote | EmDoc::Section) && !session.bps.is_empty() && rng.chance(0.35) {
        Some(rng.below(session.bps.len()))
    } else {
        None
    };
    let claims_to = match cfg.claims {
        ClaimsMode::Inline => ClaimsTo::Inline,
        ClaimsMode::File => ClaimsTo::File,
        ClaimsMode::Mixed => {
            if rng.chance(0.5) {
                ClaimsTo::Inline
            } else {
                ClaimsTo::File
            }
        }
    };
    Encounter {
        encounter_id: format!("ENC{:07}", enc_no + 1),
        patient_id: p.id.clone(),
        date,
        track,
        payer: p.payer,
        medicare: p.medicare,
        pos,
        session,
        session_seed,
        cloned,
        history: p.history.clone(),
        history_in_em,
        pa_in_em,
        pa: p.pa.clone(),
        em,
        em_restates_bp,
        psy,
        psy_only,
        lines,
        claims_to,
        session_cred,
        session_prov,
        em_cred,
        em_prov,
        psy_cred,
        psy_prov,
        billing_cred,
    }
}
