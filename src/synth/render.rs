//! Rendering: turns decided facts into note text in many export styles.
//! Every evidence-bearing phrase comes from a fact; distractor phrases are
//! chosen so that they never create or destroy evidence.

use super::facts::*;
use super::rng::Rng;
use super::vocab::*;
use chrono::{Datelike, Duration, NaiveDate};

/// One rendered note, before it becomes a JSON line.
pub(crate) struct RNote {
    pub suffix: &'static str,
    pub text: String,
    pub provider_id: String,
    pub cred: &'static str,
    pub note_type: &'static str,
    pub carries_claims: bool,
}

/// Style and distractor tags gathered while rendering one encounter.
#[derive(Default)]
pub(crate) struct Tags(pub Vec<&'static str>);

impl Tags {
    fn add(&mut self, t: &'static str) {
        if !self.0.contains(&t) {
            self.0.push(t);
        }
    }
}

pub(crate) fn clock(t: u32, f: TimeFmt) -> String {
    let (h, m) = ((t / 60) % 24, t % 60);
    match f {
        TimeFmt::H24 => format!("{h:02}:{m:02}"),
        TimeFmt::Compact => format!("{h:02}{m:02}"),
        TimeFmt::H12 => {
            let h12 = if h % 12 == 0 { 12 } else { h % 12 };
            let ampm = if h < 12 { "AM" } else { "PM" };
            if (t / 7).is_multiple_of(2) {
                format!("{h12}:{m:02} {ampm}")
            } else {
                format!("{h12}:{m:02} {}", ampm.to_lowercase())
            }
        }
    }
}

fn date_us(d: NaiveDate, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("{}/{}/{}", d.month(), d.day(), d.year()),
        1 => format!("{:02}/{:02}/{}", d.month(), d.day(), d.year()),
        2 => d.format("%Y-%m-%d").to_string(),
        _ => format!("{}/{}/{:02}", d.month(), d.day(), d.year() % 100),
    }
}

fn num_word(n: u32) -> &'static str {
    match n {
        1 => "one",
        2 => "two",
        3 => "three",
        _ => "several",
    }
}

fn minutes_phrase(rng: &mut Rng, m: u32) -> String {
    let (h, r) = (m / 60, m % 60);
    if r == 0 && rng.chance(0.7) {
        if h == 1 {
            "1 hour".into()
        } else {
            format!("{h} hours")
        }
    } else if h == 0 || rng.chance(0.5) {
        format!("{m} min")
    } else if r == 0 {
        format!("{h} hrs")
    } else {
        format!("{h} hr {r} min")
    }
}

fn mg(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A blood pressure written in one of many inline forms.
fn bp_text(rng: &mut Rng, b: &Bp, layout: Layout) -> String {
    if layout == Layout::Narrative {
        return match rng.below(3) {
            0 => format!("blood pressure of {} over {}", b.sys, b.dia),
            1 => format!("BP {}/{}", b.sys, b.dia),
            _ => format!("blood pressure {}/{} mmHg", b.sys, b.dia),
        };
    }
    match rng.weighted(&[40, 12, 10, 10, 12, 8]) {
        0 => format!("BP {}/{}", b.sys, b.dia),
        1 => format!("B/P: {} / {} mmHg", b.sys, b.dia),
        2 => format!("BP-{}/{}", b.sys, b.dia),
        3 => format!("SBP {} DBP {}", b.sys, b.dia),
        4 => format!("BP: {}/{} mmHg", b.sys, b.dia),
        _ => format!("BP {}/{} (L arm, sitting)", b.sys, b.dia),
    }
}

fn vitals_tail(rng: &mut Rng, b: &Bp) -> String {
    match rng.below(3) {
        0 => format!(" HR {} SpO2 {}% RR {}", b.hr, b.spo2, 12 + b.hr % 6),
        1 => format!(", HR {}, SpO2 {}%", b.hr, b.spo2),
        _ => format!(" P {} sat {}% RA", b.hr, b.spo2),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pre,
    Forty,
    Intra,
    Post,
    Discharge,
}

fn phase(s: &Session, track: Track, b: &Bp) -> Phase {
    if b.at < s.dose_start {
        return Phase::Pre;
    }
    let rel = b.at - s.dose_start;
    match track {
        Track::Iv => {
            let mins = s.iv.as_ref().map_or(40, |iv| iv.minutes);
            if rel < mins {
                Phase::Intra
            } else if s.end_time.is_some_and(|e| b.at + 10 >= e) {
                Phase::Discharge
            } else {
                Phase::Post
            }
        }
        _ => {
            if (30..=55).contains(&rel) {
                Phase::Forty
            } else if s.end_time.is_some_and(|e| b.at + 10 >= e) {
                Phase::Discharge
            } else {
                Phase::Post
            }
        }
    }
}

fn phase_label(rng: &mut Rng, p: Phase, rel: u32, layout: Layout) -> String {
    match p {
        Phase::Pre => (*rng.pick(&["pre-dose", "Pre", "baseline", "prior to dosing", "pre-treatment"])).into(),
        Phase::Forty => {
            if layout == Layout::Shorthand {
                (*rng.pick(&["@40min", "T+40", "40 min post"])).into()
            } else {
                (*rng.pick(&["40 min post-dose", "40-minute check", "40 min"])).into()
            }
        }
        Phase::Intra => format!("{rel} min into infusion"),
        Phase::Post => format!("{} post-dose", minutes_phrase(rng, rel)),
        Phase::Discharge => (*rng.pick(&["at discharge", "pre-discharge", "D/C"])).into(),
    }
}

struct Ctx<'a> {
    e: &'a Encounter,
    s: &'a Session,
    tf: TimeFmt,
    layout: Layout,
}

impl Ctx<'_> {
    fn t(&self, m: u32) -> String {
        clock(m, self.tf)
    }
}

fn trial_dose(rng: &mut Rng, d: u32) -> String {
    match rng.below(5) {
        0 => format!("{d}mg"),
        1 => format!("{d} mg daily"),
        2 => format!("{d} mg/day"),
        3 => format!("titrated to {d} mg"),
        _ => format!("{d} mg qd"),
    }
}

fn trial_dur(rng: &mut Rng, w: u32) -> String {
    match rng.below(5) {
        0 => format!("x {w} weeks"),
        1 if w.is_multiple_of(4) => format!("for {} months", w / 4),
        1 => format!("for {w} weeks"),
        2 => format!("{w} wks"),
        3 => format!("x{w}wk"),
        _ => {
            let y = rng.r32(2018, 2024);
            let m0 = rng.r32(1, 12);
            let months = w.div_ceil(4);
            let m1 = m0 + months;
            let (y1, m1) = (y + (m1 - 1) / 12, (m1 - 1) % 12 + 1);
            format!("from {m0:02}/{y} to {m1:02}/{y1}")
        }
    }
}

fn drug_name(rng: &mut Rng, d: usize) -> &'static str {
    let drug = &ANTIDEPRESSANTS[d];
    if rng.chance(0.5) {
        drug.generic
    } else {
        rng.pick_str(drug.aliases)
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A trial's drug name as written in this note: the decided name, sometimes
/// generic with brand in parentheses or the other name of the same drug.
fn trial_name(rng: &mut Rng, t: &Trial) -> String {
    let d = &ANTIDEPRESSANTS[t.drug];
    match rng.below(10) {
        0 | 1 => format!("{} ({})", d.generic, d.aliases[0]),
        2 => {
            if t.alias == 0 {
                d.aliases[0].to_string()
            } else {
                d.generic.to_string()
            }
        }
        _ => t.name().to_string(),
    }
}

/// The trial-history block.
fn history_block(rng: &mut Rng, h: &History, tags: &mut Tags) -> String {
    let mut out = String::new();
    let fmt = rng.below(4);
    let vague_first = rng.chance(0.6);
    if let (Some(v), true) = (h.vague, vague_first) {
        out.push_str(VAGUE[v]);
        out.push('\n');
        tags.add("d:vague_phrase");
    }
    if !h.trials.is_empty() {
        let header = *rng.pick(&[
            "Prior antidepressant trials:",
            "Failed medication trials:",
            "Past psychiatric medication history:",
            "MEDICATION TRIALS (per PA):",
        ]);
        match fmt {
            0 => {
                tags.add("trials_list");
                out.push_str(header);
                out.push('\n');
                let numbered = rng.chance(0.5);
                for (i, t) in h.trials.iter().enumerate() {
                    let mut parts = vec![cap(&trial_name(rng, t))];
                    if let Some(d) = t.dose {
                        parts.push(trial_dose(rng, d));
                    }
                    if let Some(w) = t.weeks {
                        parts.push(trial_dur(rng, w));
                    }
                    let bullet = if numbered { format!("{}.", i + 1) } else { "-".to_string() };
                    out.push_str(&format!("{bullet} {} - {}\n", parts.join(" "), OUTCOMES[t.outcome]));
                }
            }
            1 => {
                tags.add("trials_prose");
                for t in &h.trials {
                    let name = trial_name(rng, t);
                    let s = match (t.dose, t.weeks) {
                        (Some(d), Some(w)) => match rng.below(3) {
                            0 => format!("Tried {name} {} {}; {}.", trial_dose(rng, d), trial_dur(rng, w), OUTCOMES[t.outcome]),
                            1 => format!(
                                "{} was trialed ({}) {}; {}.",
                                cap(&name),
                                trial_dose(rng, d),
                                trial_dur(rng, w),
                                OUTCOMES[t.outcome]
                            ),
                            _ => format!("Pt took {name} {} {} - {}.", trial_dose(rng, d), trial_dur(rng, w), OUTCOMES[t.outcome]),
                        },
                        (Some(d), None) => format!("Tried {name} {} in the past; {}.", trial_dose(rng, d), OUTCOMES[t.outcome]),
                        (None, Some(w)) => format!("Was on {name} {} ({}).", trial_dur(rng, w), OUTCOMES[t.outcome]),
                        (None, None) => {
                            format!("Has tried {name} before, {}.", OUTCOMES[t.outcome])
                        }
                    };
                    out.push_str(&s);
                    out.push(' ');
                }
                out.push('\n');
            }
            2 => {
                tags.add("trials_table");
                out.push_str(header);
                out.push('\n');
                out.push_str("| Medication | Dose | Duration | Outcome |\n|---|---|---|---|\n");
                let blank = *rng.pick(&["", "—", "unknown", "?"]);
                for t in &h.trials {
                    let d = t.dose.map_or(blank.to_string(), |d| trial_dose(rng, d));
                    let w = t.weeks.map_or(blank.to_string(), |w| trial_dur(rng, w));
                    out.push_str(&format!("| {} | {} | {} | {} |\n", cap(&trial_name(rng, t)), d, w, OUTCOMES[t.outcome]));
                }
            }
            _ => {
                tags.add("trials_shorthand");
                out.push_str("failed trials: ");
                let items: Vec<String> = h
                    .trials
                    .iter()
                    .map(|t| {
                        let mut s = t.name().to_lowercase();
                        if let Some(d) = t.dose {
                            s.push_str(&format!(" {d}mg"));
                        }
                        if let Some(w) = t.weeks {
                            s.push_str(&format!(" x{w}wk"));
                        }
                        format!("{s} -> {}", OUTCOMES[t.outcome])
                    })
                    .collect();
                out.push_str(&items.join("; "));
                out.push('\n');
            }
        }
    }
    if let (Some(v), false) = (h.vague, vague_first) {
        out.push_str(VAGUE[v]);
        out.push('\n');
        tags.add("d:vague_phrase");
    }
    let mut current = Vec::new();
    for d in &h.distractors {
        tags.add(d.tag());
        let s = match *d {
            Distractor::NegatedClass => "Never tried an MAOI.".to_string(),
            Distractor::Negated(x) => {
                let n = drug_name(rng, x);
                if rng.chance(0.5) {
                    format!("Has not tried {n}.")
                } else {
                    format!("No prior trial of {n}.")
                }
            }
            Distractor::Hypothetical(x) => {
                let n = drug_name(rng, x);
                match rng.below(3) {
                    0 => format!("Could consider {n} if no response."),
                    1 => format!("May try {n} in the future."),
                    _ => format!("Discussed possibly starting {n} later; also consider lithium."),
                }
            }
            Distractor::Declined(x) => format!("Declined a trial of {} (worried about side effects).", drug_name(rng, x)),
            Distractor::Family(x) => {
                let n = drug_name(rng, x);
                let who = *rng.pick(&["Mother", "Sister", "Father", "Brother"]);
                if rng.chance(0.5) {
                    format!("{who} did well on {n}.")
                } else {
                    format!("Family hx: {} responded to {n}.", who.to_lowercase())
                }
            }
            Distractor::Augmentation(i) => {
                let (n, doses) = AUGMENTERS[i];
                let d = *rng.pick(doses);
                format!("Augmentation: {n} {d} mg x 8 weeks - no benefit.")
            }
            Distractor::SleepDose(k) => match k {
                0 => "Trazodone 50 mg qhs for sleep.".to_string(),
                1 => "Quetiapine 25 mg at bedtime for sleep.".to_string(),
                _ => "Mirtazapine 7.5 mg qhs PRN insomnia.".to_string(),
            },
            Distractor::CurrentMed(x) => {
                let drug = &ANTIDEPRESSANTS[x];
                current.push(format!("{} {} mg daily", drug_name(rng, x), drug.doses[0]));
                continue;
            }
        };
        out.push_str(&s);
        out.push('\n');
    }
    if !current.is_empty() {
        current.push("levothyroxine 75 mcg daily".into());
        if rng.chance(0.5) {
            current.push("atorvastatin 20 mg qhs".into());
        }
        out.push_str(&format!("Current medications: {}\n", current.join(", ")));
    }
    out
}

fn rems_lines(rng: &mut Rng, s: &Session, tags: &mut Tags, flow: bool) -> Vec<String> {
    let mut v = Vec::new();
    if s.rems_cert {
        v.push(if flow {
            "REMS site certification: Yes".to_string()
        } else {
            (*rng.pick(&[
                "Site is REMS certified.",
                "Treatment center is certified under the SPRAVATO REMS.",
                "Healthcare setting certified in SPRAVATO REMS.",
            ]))
            .to_string()
        });
    }
    match s.rems_enrolled {
        Tri::Affirmed => v.push(
            (*rng.pick(&[
                "Patient enrolled in Spravato REMS.",
                "Pt is enrolled in the SPRAVATO REMS (enrollment on file).",
                "REMS patient enrollment: confirmed",
                "SPRAVATO REMS patient enrollment form on file (enrolled at intake).",
            ]))
            .into(),
        ),
        Tri::Negated => {
            tags.add("d:rems_negated");
            v.push(
                (*rng.pick(&[
                    "REMS patient enrollment pending.",
                    "Patient not yet enrolled in REMS - enrollment form sent.",
                    "REMS enrollment not on file; office to follow up.",
                ]))
                .into(),
            )
        }
        Tri::Absent => {}
    }
    match s.rems_form {
        Tri::Affirmed => v.push(
            (*rng.pick(&[
                "REMS Patient Monitoring Form submitted.",
                "PMF completed and submitted to REMS portal.",
                "Monitoring form faxed to REMS today.",
                "Post-session REMS monitoring form completed and submitted online.",
            ]))
            .into(),
        ),
        Tri::Negated => {
            tags.add("d:rems_negated");
            v.push(
                (*rng.pick(&[
                    "REMS form not yet submitted.",
                    "Patient Monitoring Form not yet submitted - will complete tomorrow.",
                    "REMS monitoring form: pending",
                ]))
                .into(),
            )
        }
        Tri::Absent => {}
    }
    v
}

fn pa_line(rng: &mut Rng, e: &Encounter, tags: &mut Tags) -> Option<String> {
    match &e.pa {
        Pa::Approved { number, from, to } => {
            let (f, t) = (date_us(*from, rng), date_us(*to, rng));
            tags.add("d:pa_dates");
            Some(match rng.below(4) {
                0 => format!("PA #{number} approved {f}–{t}."),
                1 => format!("Prior authorization approved (auth no. {number}), valid {f} through {t}."),
                2 => format!("Auth: {} ref {number}, approved for 24 sessions, {f}-{t}.", e.payer),
                _ => format!("Prior auth: {number} (approved {f} - {t})"),
            })
        }
        Pa::Pending => {
            tags.add("d:pa_pending");
            let d = date_us(e.date - Duration::days(rng.range(2, 20)), rng);
            Some(if rng.chance(0.5) { "Prior auth pending.".into() } else { format!("PA submitted {d}, awaiting determination.") })
        }
        Pa::Denied => {
            tags.add("d:pa_denied");
            let d = date_us(e.date - Duration::days(rng.range(2, 20)), rng);
            Some(format!("PA denied {d}; appeal submitted."))
        }
        Pa::NotRequired => {
            tags.add("d:pa_not_required");
            Some((*rng.pick(&["Auth not required per payer.", "No PA required per plan."])).into())
        }
        Pa::Absent => None,
    }
}

fn pre_alt_text(a: &str) -> &'static str {
    match a {
        "wnl" => "BP WNL",
        "declined" => "BP declined by patient",
        "refused" => "BP: refused",
        _ => "pre-dose BP not obtained (cuff malfunction)",
    }
}

fn post_alt_text(a: &str) -> &'static str {
    match a {
        "40_not_obtained" => "40 min BP not obtained - pt asleep",
        "40_deferred" => "T+40: pt resting comfortably, BP deferred",
        _ => "post-dose BP not obtained",
    }
}

fn discharge_phrase(rng: &mut Rng, c: &Ctx<'_>) -> String {
    let md = format!("Dr. {}", rng.pick(FIRST));
    match c.e.track {
        Track::Iv => (*rng.pick(&[
            "Discharge criteria met: alert, oriented, ambulating independently, vitals stable.",
            "Meets discharge criteria (Aldrete 10/10); safe to leave.",
            "Assessed ready for discharge: VS stable, steady gait, dissociation resolved.",
        ]))
        .into(),
        Track::Oral if c.s.oral.as_ref().is_some_and(|o| o.tele) => {
            "Safe to end observation: alert, steady, sober adult present at home; will not drive today.".into()
        }
        _ => match rng.below(6) {
            4 => "D/C criteria met - A&Ox3, ambulates w/o assist, ride present (mother), no driving today.".into(),
            5 => "Stable for discharge: sedation/dissociation resolved, BP back to baseline, spouse driving home.".into(),
            0 => "Discharge criteria met; safe to leave, gait steady, ride home arranged.".into(),
            1 => "Meets discharge criteria: alert and oriented, ambulating independently, dissociation resolved (CADSS 0); driver (spouse) present. Advised no driving until next day.".into(),
            2 => format!("Clinically stable for discharge per {md}; sedation and dissociation resolved; leaving with husband who is driving."),
            _ => "Pt assessed ready for discharge: VS stable, MOAA/S 5, steady gait; transportation by friend confirmed, no driving until tomorrow.".into(),
        },
    }
}

/// Timeline events rendered per layout.
enum Ev {
    Vitals(Bp),
    Device(u32, u32),
    Dose,
    InfStart,
    InfStop,
    Check(&'static str),
    End,
}

fn timeline(rng: &mut Rng, c: &Ctx<'_>, tags: &mut Tags) -> Vec<String> {
    let s = c.s;
    let track = c.e.track;
    let mut evs: Vec<(u32, Ev)> = Vec::new();
    for b in &s.bps {
        evs.push((b.at, Ev::Vitals(*b)));
    }
    match track {
        Track::Esk => {
            for k in 0..s.devices {
                evs.push((s.dose_start + 5 * k, Ev::Device(k + 1, s.dose_start + 5 * k)));
            }
            evs.push((s.dose_start + 20, Ev::Check("pt resting, mild dissociation, MOAA/S 5")));
            evs.push((s.dose_start + 65, Ev::Check("sedation resolving, CADSS 4")));
        }
        Track::Iv => {
            evs.push((s.dose_start, Ev::InfStart));
            let iv = s.iv.as_ref().expect("iv");
            evs.push((s.dose_start + iv.minutes, Ev::InfStop));
            if iv.dissociation {
                evs.push((s.dose_start + 20, Ev::Check("mild dissociation, CADSS 14, pt calm")));
            }
            if iv.post_status {
                evs.push((s.dose_start + iv.minutes + 25, Ev::Check("alert, oriented x3, back to baseline")));
            }
        }
        Track::Oral => {
            if !s.oral.as_ref().is_some_and(|o| o.rx_only) {
                evs.push((s.dose_start, Ev::Dose));
                evs.push((s.dose_start + 30, Ev::Check("pt relaxed, mild perceptual changes")));
            }
        }
        Track::None => {}
    }
    if s.end_time.is_some() && track != Track::None {
        evs.push((s.end_time.unwrap_or(0), Ev::End));
    }
    evs.sort_by_key(|(t, _)| *t);
    let mut out = Vec::new();
    let mut table: Vec<String> = Vec::new();
    let sep = if c.layout == Layout::TabTable { "\t" } else { " | " };
    let tabular = matches!(c.layout, Layout::PipeTable | Layout::TabTable);
    if tabular {
        tags.add(if c.layout == Layout::PipeTable { "pipe_table" } else { "tab_table" });
    }
    let mut pre_alt_done = false;
    for (at, ev) in &evs {
        let at = *at;
        if !pre_alt_done && at >= s.dose_start {
            pre_alt_done = true;
            if let Some(a) = s.pre_alt {
                tags.add(match a {
                    "wnl" => "d:bp_wnl",
                    "declined" | "refused" => "d:bp_declined",
                    _ => "d:bp_not_obtained",
                });
                out.push(format!("Pre-dose vitals: {}; HR {}", pre_alt_text(a), rng.r32(60, 90)));
            }
            if s.threshold {
                tags.add("d:bp_threshold");
                out.push(
                    (*rng.pick(&[
                        "Hold if BP > 140/90.",
                        "Proceed only if BP < 140/90; recheck if elevated.",
                        "Parameters: hold dose for SBP >140 or DBP >90.",
                    ]))
                    .into(),
                );
            }
        }
        match ev {
            Ev::Vitals(b) => {
                let ph = phase(s, track, b);
                let rel = match (ph, &s.iv) {
                    (Phase::Post, Some(iv)) => b.at.saturating_sub(s.dose_start + iv.minutes),
                    _ => b.at.saturating_sub(s.dose_start),
                };
                let mut label = phase_label(rng, ph, rel, c.layout);
                if s.iv.is_some() && ph == Phase::Post {
                    label = label.replace("post-dose", "post-infusion");
                }
                let time = if b.timed { c.t(b.at) } else { String::new() };
                if tabular {
                    table.push(format!("{time}{sep}{label}{sep}{}/{}{sep}{}{sep}{}%", b.sys, b.dia, b.hr, b.spo2));
                    continue;
                }
                let line = match c.layout {
                    Layout::Narrative => {
                        let when = match ph {
                            Phase::Pre => "prior to administration".to_string(),
                            _ => label.clone(),
                        };
                        let at_t = if b.timed { format!(" at {time}") } else { String::new() };
                        match rng.below(3) {
                            0 => format!("Blood pressure {when}{at_t} was {} over {} with heart rate {}.", b.sys, b.dia, b.hr),
                            1 => format!("Vitals {when}{at_t}: {}, pulse {}.", bp_text(rng, b, c.layout), b.hr),
                            _ => format!("{}{at_t} the patient had a {} and HR {}.", cap(&when), bp_text(rng, b, c.layout), b.hr),
                        }
                    }
                    Layout::Shorthand => {
                        if ph == Phase::Forty && rng.chance(0.4) {
                            format!("{label} {}/{}, CADSS {}", b.sys, b.dia, rng.r32(2, 20))
                        } else if rng.chance(0.25) {
                            tags.add("vs_unlabeled_bp");
                            format!("{label} {time} VS: {}/{}, {}, {}, {}%", b.sys, b.dia, b.hr, 12 + b.hr % 6, b.spo2).replace("  ", " ")
                        } else {
                            format!("{label} {time} {} P{}", bp_text(rng, b, c.layout), b.hr).replace("  ", " ")
                        }
                    }
                    Layout::Log if b.timed => format!("{time} {label} vitals {}{}", bp_text(rng, b, c.layout), vitals_tail(rng, b)),
                    _ => {
                        let tpart = if b.timed { format!(" {time}") } else { String::new() };
                        format!("Vitals ({label}){tpart}: {}{}", bp_text(rng, b, c.layout), vitals_tail(rng, b))
                    }
                };
                out.push(line);
            }
            Ev::Device(k, t) => {
                if !s.device_times_shown {
                    continue;
                }
                let tt = c.t(*t);
                out.push(match c.layout {
                    Layout::Log => format!("{tt} Device {k} administered (28 mg)"),
                    Layout::Shorthand => format!("d{k} {tt}"),
                    Layout::Narrative => format!("Device {k} (28 mg) was self-administered at {tt} under direct observation."),
                    _ => format!("Device {k} administered {tt} (28 mg)"),
                });
            }
            Ev::Dose => {
                let o = s.oral.as_ref().expect("oral");
                let tt = c.t(at);
                out.push(if o.tele {
                    format!("Pt self-administered ketamine {} mg {} at {tt} under video observation.", o.mg, o.form)
                } else {
                    format!("Ketamine {} mg {} given {tt}.", o.mg, o.form)
                });
            }
            Ev::InfStart => {
                let iv = s.iv.as_ref().expect("iv");
                out.push(if iv.show_start {
                    if c.layout == Layout::Log {
                        format!("{} infusion started", c.t(at))
                    } else {
                        format!("Infusion start {}", c.t(at))
                    }
                } else {
                    "Infusion started via 22g L AC".into()
                });
            }
            Ev::InfStop => {
                let iv = s.iv.as_ref().expect("iv");
                out.push(if iv.show_stop {
                    if c.layout == Layout::Log {
                        format!("{} infusion complete, line flushed", c.t(at))
                    } else {
                        format!("Infusion stop {}", c.t(at))
                    }
                } else {
                    "Infusion completed without incident".into()
                });
            }
            Ev::Check(txt) => {
                if c.layout == Layout::Log || c.layout == Layout::Shorthand {
                    out.push(format!("{} {txt}", c.t(at)));
                } else {
                    out.push(cap(txt) + ".");
                }
            }
            Ev::End => {
                if !s.end_shown {
                    continue;
                }
                let tt = c.t(at);
                if s.discharge_criteria {
                    out.push(format!("{tt} {}", discharge_phrase(rng, c)));
                } else if s.bare_discharge {
                    tags.add("d:bare_discharge_time");
                    out.push(if rng.chance(0.5) { format!("Discharged {tt}.") } else { format!("Pt left clinic {tt}.") });
                } else {
                    out.push(format!("Monitoring ended {tt}."));
                }
            }
        }
    }
    if !pre_alt_done {
        if let Some(a) = s.pre_alt {
            out.push(format!("Pre-dose vitals: {}", pre_alt_text(a)));
        }
    }
    if let Some(a) = s.post_alt {
        tags.add("d:post_bp_not_obtained");
        out.push(post_alt_text(a).into());
    }
    if tabular && !table.is_empty() {
        let head = if c.layout == Layout::TabTable {
            "Time\tPhase\tBP\tHR\tSpO2".to_string()
        } else {
            "| Time | Phase | BP | HR | SpO2 |\n|---|---|---|---|---|".to_string()
        };
        let rows: Vec<String> = table.iter().map(|r| if c.layout == Layout::PipeTable { format!("| {r} |") } else { r.clone() }).collect();
        out.insert(0, format!("VITALS\n{head}\n{}", rows.join("\n")));
    }
    out
}

fn signature(rng: &mut Rng, c: &Ctx<'_>, cred: &str, when: u32, tags: &mut Tags) -> String {
    tags.add("d:signature_time");
    let name = format!("{} {}", rng.pick(INITIALS), rng.pick(FIRST));
    let d = date_us(c.e.date, rng);
    format!("Electronically signed by {name}, {cred} {d} {}", clock(when.min(23 * 60 + 50), c.tf))
}

fn hpi(rng: &mut Rng, n: usize) -> String {
    let mut v: Vec<&str> = Vec::new();
    for _ in 0..n {
        let l = *rng.pick(HPI_LINES);
        if !v.contains(&l) {
            v.push(l);
        }
    }
    v.join(" ")
}

fn dx_line(rng: &mut Rng, s: &Session) -> Option<String> {
    if !s.dx_in_text || s.dx_codes.is_empty() {
        return None;
    }
    let desc = |c: &str| match c {
        "F33.2" => "MDD, recurrent, severe w/o psychotic features",
        "F33.1" => "MDD, recurrent, moderate",
        "F32.2" => "MDD, single episode, severe w/o psychotic features",
        "F32.1" => "MDD, single episode, moderate",
        "F33.0" => "MDD, recurrent, mild",
        "F32.9" => "MDD, single episode, unspecified",
        "F33.9" => "MDD, recurrent, unspecified",
        "F32.A" => "Depression, unspecified",
        "F39" => "Mood disorder, unspecified",
        "R45.851" => "Suicidal ideation",
        "F41.1" => "Generalized anxiety disorder",
        "Z91.51" => "Personal history of suicidal behavior",
        _ => "Other recurrent depressive disorder",
    };
    let items: Vec<String> = s
        .dx_codes
        .iter()
        .map(|c| {
            let written = if rng.chance(0.15) { c.replace('.', "") } else { c.to_string() };
            if rng.chance(0.5) {
                format!("{} ({written})", desc(c))
            } else {
                format!("{written} {}", desc(c))
            }
        })
        .collect();
    Some(format!("{} {}", rng.pick(&["Dx:", "Diagnosis:", "ICD-10:", "Assessment/Dx:"]), items.join("; ")))
}

fn copied_forward(rng: &mut Rng, e: &Encounter, tags: &mut Tags) -> String {
    tags.add("long_copy_forward");
    let bank: &[&str] = if e.track == Track::Esk { OLD_HISTORY } else { &OLD_HISTORY[..6] };
    let target = rng.r32(5_000, 18_000) as usize;
    let mut out = String::new();
    let mut i = 0;
    while out.len() < target {
        out.push_str(bank[i % bank.len()]);
        out.push_str("\n\n");
        if e.track == Track::Esk && i % 3 == 2 {
            let d = e.date - Duration::days(rng.range(30, 200));
            let dose = *rng.pick(&[56, 84]);
            out.push_str(&format!(
                "Prior session summary ({}): {dose} mg, tolerated well, mild dissociation which resolved.\n\n",
                date_us(d, rng)
            ));
            tags.add("d:prior_dose");
        }
        i += 1;
    }
    out
}

/// The session (or visit) note text.
fn session_text(e: &Encounter, tags: &mut Tags) -> String {
    let s = &e.session;
    let mut rng = Rng::new(e.session_seed, 11);
    let rng = &mut rng;
    let c = Ctx { e, s, tf: s.style.tfmt, layout: s.style.layout };
    let mut out: Vec<String> = Vec::new();
    let title = match e.track {
        Track::Esk => *rng.pick(&[
            "SPRAVATO TREATMENT NOTE",
            "Esketamine (Spravato) Session",
            "Spravato Monitoring Record",
            "NURSING NOTE - SPRAVATO",
        ]),
        Track::Iv => *rng.pick(&["KETAMINE INFUSION RECORD", "IV Ketamine Infusion Note", "Infusion Procedure Note"]),
        Track::Oral => *rng.pick(&["Ketamine (oral/SL) treatment visit", "Ketamine dosing session", "KAP dosing visit"]),
        Track::None => *rng.pick(&["Psychiatric Medication Management", "Follow-up visit", "Progress Note", "Outpatient psychiatry f/u"]),
    };
    let date = date_us(e.date, rng);
    tags.add("d:date_slash");
    if s.near_empty {
        tags.add("near_empty");
        let line = format!(
            "{title} {date}\nSpravato {} mg. {}",
            s.devices * 28,
            rng.pick(&[
                "Pt tolerated well. See flowsheet.",
                "Tolerated. See flowsheet for vitals.",
                "Treatment completed without incident. Refer to MAR/flowsheet."
            ])
        );
        return line;
    }
    tags.add(s.style.layout.tag());
    out.push(format!(
        "{title}\nDOS: {date}{}",
        if e.track != Track::None { format!("   Session #{}", s.session_no) } else { String::new() }
    ));
    if s.style.long {
        out.push(copied_forward(rng, e, tags));
    }
    let soap = s.style.layout == Layout::Soap;
    if soap {
        out.push(format!("S: {}", hpi(rng, 2)));
    } else if rng.chance(0.5) || e.track == Track::None {
        out.push(format!("Interval: {}", hpi(rng, if e.track == Track::None { 3 } else { 1 })));
    }
    if let Some(o) = &s.oral {
        if o.tele {
            tags.add("telehealth");
            out.push("Visit conducted via secure video; patient at home, identity verified, sober adult present.".into());
        }
    }
    if e.track == Track::None && e.pos == "10" {
        tags.add("telehealth");
        out.push("Telehealth visit (video); patient located at home.".into());
    }
    if let Some(p) = s.phq {
        tags.add("d:phq_ratio");
        out.push(format!("PHQ-9 {p}/27{}", if rng.chance(0.5) { " today" } else { "" }));
    }
    if let Some(d) = dx_line(rng, s) {
        out.push(d);
    }
    if s.history_here && !e.history.is_empty() {
        out.push(history_block(rng, &e.history, tags));
    }
    if e.track == Track::Esk {
        out.extend(rems_lines(rng, s, tags, s.style.layout == Layout::Flowsheet));
    }
    if s.pa_here {
        if let Some(l) = pa_line(rng, e, tags) {
            out.push(l);
        }
    }
    if e.track == Track::Esk {
        out.push(
            (*rng.pick(&[
                "Pre-dose screen: denies alcohol/benzodiazepines/stimulants in past 24h; no nasal congestion.",
                "Screen: no URI, no recent alcohol, ride arranged.",
                "Pre-treatment checklist complete; nasal passages clear.",
            ]))
            .into(),
        );
        if !s.device_times_shown || rng.chance(0.5) {
            let n = s.devices;
            out.push(match rng.below(4) {
                0 => format!("Spravato {} mg ({n} x 28 mg devices) self-administered under observation.", n * 28),
                1 => format!("{} 28 mg devices administered intranasally.", cap(num_word(n))),
                2 => format!("{n} devices given, total {} mg.", n * 28),
                _ => format!("Esketamine {}mg intranasal today.", n * 28),
            });
        }
        if let Some(pd) = s.prior_dose {
            tags.add("d:prior_dose");
            out.push(format!("Last session {pd} mg."));
        }
    }
    if let Some(iv) = &s.iv {
        if iv.indication && !s.dx_in_text {
            out.push("Indication: recurrent major depression, current episode severe.".into());
        }
        let mut parts = Vec::new();
        let total = mg(iv.mgkg * f64::from(iv.weight));
        if iv.show_mgkg {
            parts.push(format!("{} mg/kg", iv.mgkg));
        }
        if iv.show_weight {
            parts.push(format!("(weight {} kg)", iv.weight));
        }
        let mut order = format!("Ketamine {}", parts.join(" "));
        if iv.show_total {
            order.push_str(&format!(" = {total} mg"));
        }
        order.push_str(&format!(" IV over {} min, rate {} mL/hr.", iv.minutes, 6000 / iv.minutes.max(1)));
        out.push(order.replace("Ketamine  ", "Ketamine "));
    }
    if let Some(o) = &s.oral {
        if o.rx_only {
            tags.add("d:planned_dose");
            out.push(format!("Continue ketamine {} mg {} twice weekly at home per protocol; rx sent.", o.mg, o.form));
        }
    }
    if s.spravato_mention {
        tags.add("d:ketamine_mention_no_treatment");
        out.push("Discussed Spravato and IV ketamine as future options; pt would like to think about it.".into());
    }
    if e.track == Track::None {
        for b in &s.bps {
            out.push(format!("Vitals: {}{}", bp_text(rng, b, c.layout), vitals_tail(rng, b)));
        }
        out.push((*rng.pick(MSE_LINES)).into());
        out.push(format!("Assessment: {}", rng.pick(ASSESSMENTS)));
        out.push(format!("Plan: {}", rng.pick(PLANS)));
    } else {
        if soap {
            out.push("O:".into());
        }
        out.extend(timeline(rng, &c, tags));
        if let Some(m) = s.monitoring_stmt {
            let mp = minutes_phrase(rng, m);
            out.push(match e.track {
                Track::Esk => match rng.below(3) {
                    0 => format!("Observed for {mp} post last device."),
                    1 => format!("Total monitoring time: {mp}."),
                    _ => format!("Monitored x {mp} after last device."),
                },
                Track::Iv => format!("Observed {mp} post-infusion."),
                _ => format!("Observed for {mp} after dose."),
            });
        }
        if s.discharge_criteria && !s.end_shown {
            out.push(discharge_phrase(rng, &c));
        }
        if let Some(iv) = &s.iv {
            if iv.escort {
                out.push((*rng.pick(&["Escorted home by spouse.", "Driven home by daughter.", "Left with friend as driver."])).into());
            }
            if iv.followup {
                out.push("Follow-up: next infusion in 3-4 days; psychiatry f/u next week.".into());
            }
        }
        if soap {
            out.push(format!("A: {}", rng.pick(ASSESSMENTS)));
            out.push(format!("P: {}", rng.pick(PLANS)));
        }
    }
    if s.plan_increase {
        tags.add("d:planned_dose");
        out.push("Plan: increase to 84 mg next session if tolerated.".into());
    }
    if s.next_appt {
        tags.add("d:next_appt_time");
        let d = date_us(e.date + Duration::days(if e.track == Track::Esk { 3 } else { 7 }), rng);
        out.push(format!("RTC {d} at {}", clock(rng.r32(16, 34) * 30, s.style.tfmt)));
    }
    let when = s.end_time.unwrap_or(s.dose_start + 90) + rng.r32(15, 120);
    let sig = signature(rng, &c, e.session_cred, when, tags);
    let body = out.join("\n");
    let mut text = format!("{body}\n{{EM_SECTION}}{sig}");
    if s.style.typos {
        tags.add("typos");
        for (a, b) in [
            ("blood pressure", "blood presure"),
            ("discharge", "dicharge"),
            ("administered", "adminstered"),
            ("patient", "pateint"),
            ("tolerated", "tolarated"),
        ] {
            if rng.chance(0.6) {
                text = text.replace(a, b);
            }
        }
    }
    text
}

fn em_section_text(rng: &mut Rng, e: &Encounter) -> String {
    let mut v =
        vec!["--- SEPARATELY IDENTIFIABLE E/M SERVICE ---".to_string(), format!("HPI: {}", hpi(rng, 3)), (*rng.pick(MSE_LINES)).into()];
    if let Some(i) = e.em_restates_bp {
        let b = e.session.bps[i];
        v.push(format!("Vitals reviewed: BP {}/{}", b.sys, b.dia));
    }
    v.push(format!("Assessment: {}", rng.pick(ASSESSMENTS)));
    let a = rng.below(PLANS.len());
    v.push(format!("Plan: {} {}", PLANS[a], PLANS[(a + 1 + rng.below(PLANS.len() - 1)) % PLANS.len()]));
    v.join("\n") + "\n"
}

fn em_note_text(rng: &mut Rng, e: &Encounter, tags: &mut Tags) -> String {
    let mut v = vec![
        (*rng.pick(&["PSYCHIATRIC PROGRESS NOTE", "Physician E/M Note", "Psychiatry follow-up (E/M)"])).to_string(),
        format!("DOS {}", date_us(e.date, rng)),
        format!("CC: follow-up of depression during {} course.", if e.track == Track::Esk { "esketamine" } else { "ketamine infusion" }),
        format!("HPI: {}", hpi(rng, 3)),
        (*rng.pick(MSE_LINES)).into(),
    ];
    if e.history_in_em && !e.history.is_empty() {
        v.push(history_block(rng, &e.history, tags));
    }
    if e.pa_in_em {
        if let Some(l) = pa_line(rng, e, tags) {
            v.push(l);
        }
    }
    if let Some(i) = e.em_restates_bp {
        tags.add("d:bp_restated");
        let b = e.session.bps[i];
        v.push(format!("Vitals reviewed: BP {}/{}", b.sys, b.dia));
    }
    v.push(format!("Assessment: {}", rng.pick(ASSESSMENTS)));
    let a = rng.below(PLANS.len());
    v.push(format!(
        "Plan: {} {} Treatment session documented separately by nursing.",
        PLANS[a],
        PLANS[(a + 1 + rng.below(PLANS.len() - 1)) % PLANS.len()]
    ));
    let c = Ctx { e, s: &e.session, tf: e.session.style.tfmt, layout: Layout::Narrative };
    let when = e.session.dose_start + rng.r32(150, 300);
    v.push(signature(rng, &c, e.em_cred, when, tags));
    v.join("\n")
}

fn psy_text(rng: &mut Rng, e: &Encounter, p: &Psy, tags: &mut Tags) -> String {
    tags.add("d:psychotherapy_times");
    let tf = e.session.style.tfmt;
    let mut v = vec![
        (*rng.pick(&["PSYCHOTHERAPY NOTE", "Individual psychotherapy", "Therapy session note"])).to_string(),
        format!("Start {} End {} ({} min)", clock(p.start, tf), clock(p.start + p.minutes, tf), p.minutes),
        (*rng.pick(THERAPY_LINES)).into(),
        (*rng.pick(THERAPY_LINES)).into(),
        "Plan: continue weekly psychotherapy.".into(),
    ];
    v.dedup();
    let c = Ctx { e, s: &e.session, tf, layout: Layout::Narrative };
    v.push(signature(rng, &c, e.psy_cred, p.start + p.minutes + 10, tags));
    v.join("\n")
}

fn finish(mut text: String, st: &Style, tags: &mut Tags) -> String {
    if st.caps {
        tags.add("all_caps");
        text = text.to_uppercase();
    }
    if st.crlf {
        tags.add("crlf");
        text = text.replace('\n', "\r\n");
    }
    text
}

/// Render all notes of an encounter; `rng` drives the non-session notes.
pub(crate) fn render(e: &Encounter, rng: &mut Rng, tags: &mut Tags) -> Vec<RNote> {
    let mut notes = Vec::new();
    let st = e.session.style;
    match st.tfmt {
        TimeFmt::H12 => tags.add("times_12h"),
        TimeFmt::Compact => tags.add("times_compact"),
        TimeFmt::H24 => tags.add("times_24h"),
    }
    let em_note = matches!(e.em, EmDoc::SeparateNote | EmDoc::Copy | EmDoc::Stub);
    let mut session_plain = String::new();
    if !e.psy_only {
        let raw = session_text(e, tags);
        let section = if e.session.em_section {
            tags.add("em_section");
            em_section_text(rng, e)
        } else {
            String::new()
        };
        let raw = raw.replace("{EM_SECTION}", &section);
        session_plain = raw.clone();
        let text = if e.session.near_empty { raw } else { finish(raw, &st, tags) };
        let note_type = match e.track {
            Track::Esk => {
                *rng.pick(&["Spravato Treatment Note", "Nursing Note", "SPRAVATO SESSION", "Procedure Note", "Esketamine Monitoring"])
            }
            Track::Iv => *rng.pick(&["Infusion Record", "Ketamine Infusion Note", "Procedure Note", "IV KETAMINE"]),
            Track::Oral => *rng.pick(&["Telehealth Visit", "Ketamine Dosing Session", "Progress Note"]),
            Track::None => *rng.pick(&["Progress Note", "Med Management", "Office Visit", "Telehealth Visit"]),
        };
        notes.push(RNote {
            suffix: "S",
            text,
            provider_id: e.session_prov.clone(),
            cred: e.session_cred,
            note_type,
            carries_claims: !em_note,
        });
    }
    if em_note {
        tags.add("split_notes");
        let text = match e.em {
            EmDoc::SeparateNote => {
                tags.add("em_separate_note");
                em_note_text(rng, e, tags)
            }
            EmDoc::Copy => {
                tags.add("em_copy_of_session");
                let body = finish(session_plain.clone(), &st, tags);
                format!("PROGRESS NOTE (E/M)\n{body}")
            }
            _ => {
                tags.add("em_stub");
                (*rng.pick(&[
                    "E/M visit: see nursing note. Pt seen and examined, agree with above.",
                    "See nursing note for details of today's visit. Agree with plan.",
                    "Pt seen. Refer to RN documentation.",
                ]))
                .into()
            }
        };
        notes.push(RNote {
            suffix: "E",
            text,
            provider_id: e.em_prov.clone(),
            cred: e.em_cred,
            note_type: rng.pick_str(&["Progress Note", "E/M Note", "Psychiatric Evaluation", "Physician Note"]),
            carries_claims: true,
        });
    }
    if let Some(p) = &e.psy {
        if !e.psy_only {
            tags.add("split_notes");
        }
        tags.add("psychotherapy_note");
        let text = psy_text(rng, e, p, tags);
        notes.push(RNote {
            suffix: "P",
            text,
            provider_id: e.psy_prov.clone(),
            cred: e.psy_cred,
            note_type: rng.pick_str(&["Psychotherapy Note", "Therapy Session", "Counseling Note"]),
            carries_claims: e.psy_only,
        });
    }
    if e.cloned {
        tags.add("cloned_session");
    }
    notes
}
