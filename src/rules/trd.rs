//! Treatment-failure history rules (rules-reference 2.2).

use super::{drug_names, Ctx, Hit};

/// The TRD criteria are the medical necessity of the esketamine (or IV
/// ketamine) treatment claim: the payer reads them against the sessions it
/// pays and the PA request (rules-reference 2.2, "Label TRD definition; PA
/// criteria"). An E/M, med-management or psychotherapy visit on the
/// esketamine track at which nothing was administered and no esketamine line
/// is billed makes no such claim, so they do not run on it (see
/// `esk::session_evidence`). An intake or evaluation visit that starts the
/// treatment ("plan: start Spravato 56 mg", "candidate for esketamine") is
/// where medical necessity is established, so they do run there.
fn no_treatment_claim(ctx: &Ctx<'_>) -> bool {
    super::esk::not_a_session(ctx) && ctx.enc.counting(EvKind::Initiation).is_empty()
}
use crate::extract::meds::SLEEP_DOSE;
use crate::extract::EvKind;

crate::declare_rule! {
    /// ## What it checks
    /// At least two distinct antidepressant trials (the payer profile's
    /// `min_trials`) are documented by name with an outcome or reason stopped.
    /// On the esketamine track it runs on administration sessions (the
    /// esketamine treatment claim) and on intake or evaluation visits that
    /// start the treatment ("plan: start Spravato"); an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course is not checked.
    /// ## Why an auditor cares
    /// Treatment-resistant depression is defined by inadequate response to at
    /// least two oral antidepressants (Spravato label; payer PA criteria).
    /// Without them the course is not medically necessary on paper.
    /// ## Evidence
    /// Affirmed trial mentions (not negated, hypothetical, family, current-list
    /// or sleep-dose mentions) with outcome wording, per drug; augmentation
    /// agents do not count.
    /// ## Example
    /// "Failed multiple SSRIs" and "sertraline 100 mg, no response" is one
    /// named trial.
    /// ## How to fix
    /// Document each prior antidepressant: drug, daily dose, duration and the
    /// outcome or reason stopped.
    pub TRD_FEWER_THAN_TWO_TRIALS {
        id: "trd-fewer-than-two-trials",
        severity: Critical,
        applies: EskIvk,
        family: "trd",
        authority: "Spravato PI, TRD definition (inadequate response to >= 2 oral antidepressants); payer PA criteria",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: fewer,
    }
}

fn fewer(ctx: &Ctx<'_>) -> Vec<Hit> {
    if no_treatment_claim(ctx) {
        return vec![];
    }
    let with_outcome = ctx.facts.trials.iter().filter(|t| !t.augmentation && t.has_outcome).count() as u32;
    let need = ctx.payer.min_trials;
    if with_outcome >= need {
        return vec![];
    }
    vec![Hit::absent(format!(
        "{with_outcome} antidepressant trial(s) documented by name with an outcome (need {need} for {}); named: {}. Document each prior trial with drug, dose, duration and outcome.",
        ctx.payer.name,
        drug_names(ctx, |t| !t.augmentation)
    ))]
}

crate::declare_rule! {
    /// ## What it checks
    /// Each counted antidepressant trial has a daily dose and a duration (or
    /// start/stop dates).
    /// On the esketamine track it runs on administration sessions (the
    /// esketamine treatment claim) and on intake or evaluation visits that
    /// start the treatment ("plan: start Spravato"); an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course is not checked.
    /// ## Why an auditor cares
    /// PA criteria require a "therapeutic dose" for "at least 6 weeks"; a
    /// trial without dose or duration cannot be shown to be adequate.
    /// ## Evidence
    /// The trial's own sentence or list item: a mg dose and a duration or
    /// date range.
    /// ## Example
    /// "Tried fluoxetine, did not help" - no dose, no duration.
    /// ## How to fix
    /// Add the daily dose and how long the patient took it.
    pub TRD_TRIAL_INCOMPLETE {
        id: "trd-trial-incomplete",
        severity: High,
        applies: EskIvk,
        family: "trd",
        authority: "Payer PA criteria (therapeutic dose, >= 6 weeks); Cigna Psychiatry - Spravato; eviCore",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: incomplete,
    }
}

fn incomplete(ctx: &Ctx<'_>) -> Vec<Hit> {
    if no_treatment_claim(ctx) {
        return vec![];
    }
    ctx.facts
        .trials
        .iter()
        .filter(|t| !t.augmentation && (t.daily_mg.is_none() || !t.has_duration))
        .map(|t| {
            let mut missing = Vec::new();
            if t.daily_mg.is_none() {
                missing.push("daily dose");
            }
            if !t.has_duration {
                missing.push("duration");
            }
            Hit::at(
                format!(
                    "Trial of {} lacks {}; add it so the trial can be judged adequate.",
                    ctx.dict.drugs[t.drug].id,
                    missing.join(" and ")
                ),
                t.ev,
            )
        })
        .collect()
}

crate::declare_rule! {
    /// ## What it checks
    /// A counted antidepressant trial's documented daily dose reaches the
    /// dictionary's minimum adequate dose (rules-reference section 3). A
    /// trial the note tells with a duration at a sleep or
    /// pain dose (trazodone 50 mg qhs, amitriptyline 25 mg; at or below the
    /// drug's `sleep_max_mg`, or given for sleep or pain) is not counted as
    /// a trial at all, and is reported here too, so the reader sees why the
    /// trial the note relies on does not count.
    /// On the esketamine track it runs on administration sessions (the
    /// esketamine treatment claim) and on intake or evaluation visits that
    /// start the treatment ("plan: start Spravato"); an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course is not checked.
    /// ## Why an auditor cares
    /// Payers count only trials at a therapeutic (or maximally tolerated) dose.
    /// ## Evidence
    /// The trial's highest documented daily dose against `min_daily_mg` in
    /// `dictionaries/medications.toml`.
    /// ## Example
    /// "Sertraline 25 mg x 8 weeks, no response" (minimum 50 mg/day);
    /// "trazodone 50 mg qhs x 6 months, helped sleep, mood unchanged".
    /// ## How to fix
    /// Document the highest dose reached, or why a higher dose was not tolerated.
    pub TRD_TRIAL_SUBTHERAPEUTIC_DOSE {
        id: "trd-trial-subtherapeutic-dose",
        severity: High,
        applies: EskIvk,
        family: "trd",
        authority: "Payer 'therapeutic / maximally tolerated dose' criteria; dose floors per rules-reference section 3 (UpToDate adult MDD table)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: subtherapeutic,
    }
}

fn subtherapeutic(ctx: &Ctx<'_>) -> Vec<Hit> {
    if no_treatment_claim(ctx) {
        return vec![];
    }
    let mut hits: Vec<Hit> = ctx
        .facts
        .trials
        .iter()
        .filter(|t| !t.augmentation)
        .filter_map(|t| {
            let d = &ctx.dict.drugs[t.drug];
            let (mg, min) = (t.daily_mg?, d.min_daily_mg?);
            (mg < min).then(|| {
                Hit::at(format!("Trial of {} at {mg} mg/day is below the usual minimum adequate dose of {min} mg/day.", d.id), t.ev)
            })
        })
        .collect();
    // A trial story (it has a duration) at a sleep or pain dose, for a drug
    // with no counted trial; "Current meds: trazodone 50 mg qhs prn
    // insomnia" is a medication list, not a trial.
    let mut seen = std::collections::HashSet::new();
    for (n, note) in ctx.enc.notes.iter().enumerate() {
        for t in note.facts.trials.iter().filter(|t| t.excluded == Some(SLEEP_DOSE) && t.has_duration) {
            // Taken now ("trazodone | 50 mg qhs | 2025 | current | sleep"):
            // an ongoing hypnotic, not a trial story the history relies on.
            let at = note.facts.evidence[t.ev].span.start;
            let ongoing = note.facts.evidence.iter().any(|e| e.kind == EvKind::CurrentAd && e.span.start == at);
            if ongoing || ctx.facts.trials.iter().any(|c| c.drug == t.drug) || !seen.insert(t.drug) {
                continue;
            }
            let d = &ctx.dict.drugs[t.drug];
            let dose = t.daily_mg.map(|mg| format!(" at {mg} mg/day")).unwrap_or_default();
            hits.push(Hit::at(
                format!(
                    "Trial of {}{dose} is a sleep or pain dose, not an antidepressant trial; it does not count toward the trials the payer requires.",
                    d.id
                ),
                (n, t.ev),
            ));
        }
    }
    hits
}

crate::declare_rule! {
    /// ## What it checks
    /// A counted antidepressant trial lasted at least the payer's minimum
    /// (default 6 weeks; CareFirst 8; BCBS ND 4).
    /// On the esketamine track it runs on administration sessions (the
    /// esketamine treatment claim) and on intake or evaluation visits that
    /// start the treatment ("plan: start Spravato"); an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course is not checked.
    /// ## Why an auditor cares
    /// Trials shorter than the payer's floor do not count toward TRD.
    /// ## Evidence
    /// The trial's documented duration in weeks against the payer profile's
    /// `min_trial_weeks` (`dictionaries/payers.toml`).
    /// ## Example
    /// "Escitalopram 20 mg x 3 weeks, stopped for nausea" for a Cigna patient.
    /// ## How to fix
    /// Document the full duration, or count another trial that meets the floor.
    pub TRD_TRIAL_TOO_SHORT {
        id: "trd-trial-too-short",
        severity: High,
        applies: EskIvk,
        family: "trd",
        authority: "Cigna and eviCore 6 weeks; CareFirst 8 weeks; BCBS ND 4 weeks (payer profile parameter)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: too_short,
    }
}

fn too_short(ctx: &Ctx<'_>) -> Vec<Hit> {
    if no_treatment_claim(ctx) {
        return vec![];
    }
    let min = ctx.payer.min_trial_weeks;
    ctx.facts
        .trials
        .iter()
        .filter(|t| !t.augmentation)
        .filter_map(|t| {
            let w = t.weeks?;
            (w + 0.05 < min).then(|| {
                Hit::at(
                    format!("Trial of {} lasted {w:.1} weeks; {} requires {min} weeks.", ctx.dict.drugs[t.drug].id, ctx.payer.name),
                    t.ev,
                )
            })
        })
        .collect()
}

crate::declare_rule! {
    /// ## What it checks
    /// The payer's extra trial criteria, where its profile sets them. Checked
    /// now: trials from at least `classes_required` pharmacologic classes
    /// (Cigna: two antidepressants from different classes), counted over
    /// the trials `trd-fewer-than-two-trials` counts (named, with an
    /// outcome; augmentation agents aside), with each drug's class from
    /// `dictionaries/medications.toml`. It runs only when there are at
    /// least the payer's `min_trials` such trials, since fewer is that
    /// rule's finding, and on the same encounters (esketamine sessions and
    /// intakes that start the treatment). Not checked yet: that the trials
    /// fall in the current episode (CareFirst: within 5 years), which needs
    /// each trial's dates against the episode's onset, and the
    /// augmentation-trial or psychotherapy clauses some payers add (BCBS
    /// ND), which are not in the payer profiles.
    /// ## Why an auditor cares
    /// Two trials of the same class do not meet Cigna's criteria ("two
    /// antidepressants from different classes"); rules-reference 2.2 lists
    /// the other payers' extra trial clauses. Sessions paid under a PA the
    /// documentation does not support are at risk in an audit.
    /// ## Evidence
    /// The counted trials with their classes (the first trial's span), and
    /// the payer profile's `classes_required` (`dictionaries/payers.toml`,
    /// overridable in `ketaudit.toml`).
    /// ## Example
    /// Cigna; "sertraline 200 mg x 10 weeks, no response; escitalopram 20
    /// mg x 8 weeks, partial": two SSRIs.
    /// ## How to fix
    /// Document a trial from another class if there was one; otherwise the
    /// patient does not yet meet this payer's criteria.
    pub TRD_TRIAL_PAYER_CONSTRAINTS {
        id: "trd-trial-payer-constraints",
        severity: Medium,
        applies: Esk,
        family: "trd",
        authority: "Cigna 'Psychiatry - Spravato' (>= 2 antidepressants from different classes); eviCore, CareFirst, BCBS ND, Medical Mutual trial clauses (payer profile parameters)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: payer_constraints,
    }
}

fn payer_constraints(ctx: &Ctx<'_>) -> Vec<Hit> {
    let need = ctx.payer.classes_required as usize;
    if need <= 1 || no_treatment_claim(ctx) {
        return vec![];
    }
    let counted: Vec<_> = ctx.facts.trials.iter().filter(|t| !t.augmentation && t.has_outcome).collect();
    if counted.len() < ctx.payer.min_trials as usize {
        return vec![];
    }
    let mut classes: Vec<&str> = counted.iter().map(|t| ctx.dict.drugs[t.drug].class.as_str()).collect();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() >= need {
        return vec![];
    }
    let listed: Vec<String> = counted.iter().map(|t| format!("{} ({})", ctx.dict.drugs[t.drug].id, ctx.dict.drugs[t.drug].class)).collect();
    vec![Hit::at(
        format!(
            "{} asks for antidepressant trials from {need} pharmacologic classes; the documented trials are from {}: {}.",
            ctx.payer.name,
            if classes.len() == 1 { "one".to_string() } else { classes.len().to_string() },
            listed.join(", ")
        ),
        counted[0].ev,
    )]
}

crate::declare_rule! {
    /// ## What it checks
    /// The treatment history does not rely on vague phrases ("failed multiple
    /// meds", "tried everything", "several SSRIs") instead of named, dosed
    /// trials (vague_trial_history: a vague phrase and fewer than two adequate
    /// trials).
    /// On the esketamine track it runs on administration sessions (the
    /// esketamine treatment claim) and on intake or evaluation visits that
    /// start the treatment ("plan: start Spravato"); an E/M,
    /// med-management or psychotherapy visit that only discusses the
    /// Spravato course is not checked.
    /// ## Why an auditor cares
    /// PA criteria need named, dosed trials; a vague phrase is the most common
    /// reason a TRD history fails review.
    /// ## Evidence
    /// Vague-history phrases from `dictionaries/phrases.toml`, affirmed.
    /// ## Example
    /// "Patient has failed several antidepressants in the past."
    /// ## How to fix
    /// Replace the phrase with the list of trials: drug, dose, duration, outcome.
    pub TRD_VAGUE_FAILURE_PHRASE {
        id: "trd-vague-failure-phrase",
        severity: High,
        applies: EskIvk,
        family: "trd",
        authority: "Payer PA criteria requiring named, dosed trials (Cigna, UHC 2026D0069P, eviCore)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: vague,
    }
}

fn vague(ctx: &Ctx<'_>) -> Vec<Hit> {
    if no_treatment_claim(ctx) {
        return vec![];
    }
    if !ctx.facts.vague_trial_history {
        return vec![];
    }
    let ev = ctx.enc.counting(EvKind::VagueHistory);
    vec![Hit::at(
        format!(
            "Treatment history relies on a vague phrase with {} adequately documented trial(s); list each trial with drug, dose, duration and outcome.",
            ctx.facts.adequate_trials
        ),
        ev[0],
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
    /// infusion, since oral ketamine courses are not checked) documents a baseline depression
    /// severity score (PHQ-9, MADRS, HAM-D, QIDS or BDI with a number), or
    /// an encounter of the same patient in the input dated on or before it
    /// does. A planned or declined scale ("will repeat PHQ-9", "PHQ-9 not
    /// done") is not a score. The repeat score at re-authorization is not
    /// checked yet: it needs the renewal request recognised as such and the
    /// scores before it across the course, compared with the baseline.
    /// ## Why an auditor cares
    /// UHC, CareFirst, Cigna and Medical Mutual ask for a baseline severity
    /// score before the course (some set a cut-off) and a repeat score
    /// showing benefit to re-authorize it; without a baseline there is
    /// nothing to measure the response against.
    /// ## Evidence
    /// The initiation statement (note, span), with no score in this
    /// encounter or in the patient's earlier encounters in the input.
    /// ## Example
    /// Evaluation: "Pt is a candidate for esketamine; will submit PA", with
    /// no PHQ-9, MADRS, HAM-D or QIDS score there or at an earlier visit.
    /// ## How to fix
    /// Record a validated scale score at the evaluation ("PHQ-9: 21, MADRS:
    /// 34") and repeat it during the course to document the response.
    pub TRD_SEVERITY_SCALE_MISSING {
        id: "trd-severity-scale-missing",
        severity: Medium,
        applies: EskIvkStart,
        family: "trd",
        authority: "UHC, CareFirst, Cigna, Medical Mutual esketamine policies (baseline severity scale)",
        valid_from: None,
        valid_to: None,
        since: "0.1.0",
        check: severity_scale_missing,
    }
}

fn severity_scale_missing(ctx: &Ctx<'_>) -> Vec<Hit> {
    let Some(start) = super::course::esk_ivk_start(ctx.enc, ctx.facts.track) else { return vec![] };
    if ctx.facts.earlier_docs.severity_scale || !ctx.enc.counting(EvKind::SeverityScale).is_empty() {
        return vec![];
    }
    vec![Hit::at(
        "The course starts here with no baseline depression severity score (PHQ-9, MADRS, HAM-D, QIDS) documented in this encounter or in any earlier encounter of the patient in the input.",
        start,
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extractor;

    /// Messages of the subtherapeutic-dose rule on a one-note session.
    fn subtherapeutic_messages(text: &str) -> Vec<String> {
        let ex = Extractor::builtin();
        let enc = crate::encounter::test_encounter("Spravato Treatment Note", text, vec![]);
        let facts = crate::encounter::assess(&enc, ex.dict);
        let ctx = Ctx { enc: &enc, facts: &facts, dict: ex.dict, payer: ex.dict.payers.profile(None) };
        subtherapeutic(&ctx).into_iter().map(|h| h.message).collect()
    }

    #[test]
    fn an_ongoing_sleep_dose_is_not_reported_as_a_trial() {
        let session = "Spravato 56 mg, two devices self-administered under observation at 10:00.\n";
        // Taken now, for sleep, with a start year: not a trial story.
        let now = format!("{session}Medication | Dose | Start | End | Notes\ndoxepin | 10 mg qhs | 2024 | current | sleep\n");
        assert!(subtherapeutic_messages(&now).iter().all(|m| !m.contains("doxepin")), "{:?}", subtherapeutic_messages(&now));
        // A past course at a sleep dose told as a trial is still reported.
        let past = format!("{session}Prior trials: trazodone 50 mg qhs x 6 months, helped sleep, mood unchanged.\n");
        assert!(subtherapeutic_messages(&past).iter().any(|m| m.contains("trazodone")), "{:?}", subtherapeutic_messages(&past));
    }
}
