//! Word banks: drugs, payers, phrases. Kept apart so the rendering code reads
//! as structure and the banks can grow without touching logic.

/// An antidepressant the generator may document as a trial.
pub(crate) struct Drug {
    pub generic: &'static str,
    /// Brand names and accepted abbreviations (all name the same drug).
    pub aliases: &'static [&'static str],
    /// Daily doses (mg) used for trials.
    pub doses: &'static [u32],
}

pub(crate) const ANTIDEPRESSANTS: &[Drug] = &[
    Drug { generic: "sertraline", aliases: &["Zoloft"], doses: &[100, 150, 200] },
    Drug { generic: "fluoxetine", aliases: &["Prozac", "FLX"], doses: &[20, 40, 60] },
    Drug { generic: "escitalopram", aliases: &["Lexapro"], doses: &[10, 20] },
    Drug { generic: "citalopram", aliases: &["Celexa"], doses: &[20, 40] },
    Drug { generic: "paroxetine", aliases: &["Paxil", "Paxil CR"], doses: &[20, 30, 40] },
    Drug { generic: "venlafaxine", aliases: &["Effexor XR", "Effexor"], doses: &[150, 225] },
    Drug { generic: "desvenlafaxine", aliases: &["Pristiq"], doses: &[50, 100] },
    Drug { generic: "duloxetine", aliases: &["Cymbalta"], doses: &[60, 90, 120] },
    Drug { generic: "bupropion", aliases: &["Wellbutrin XL", "Wellbutrin SR"], doses: &[300, 450] },
    Drug { generic: "mirtazapine", aliases: &["Remeron"], doses: &[30, 45] },
    Drug { generic: "vortioxetine", aliases: &["Trintellix"], doses: &[10, 20] },
    Drug { generic: "vilazodone", aliases: &["Viibryd"], doses: &[20, 40] },
    Drug { generic: "nortriptyline", aliases: &["Pamelor"], doses: &[75, 100] },
    Drug { generic: "levomilnacipran", aliases: &["Fetzima"], doses: &[40, 80] },
    Drug { generic: "phenelzine", aliases: &["Nardil"], doses: &[45, 60] },
];

/// Augmentation agents: documented trials of these are not antidepressant trials.
pub(crate) const AUGMENTERS: &[(&str, &[u32])] = &[
    ("aripiprazole (Abilify)", &[2, 5, 10]),
    ("Abilify", &[5, 10]),
    ("lithium", &[600, 900]),
    ("brexpiprazole (Rexulti)", &[1, 2]),
    ("quetiapine XR", &[150, 300]),
    ("Seroquel XR", &[150, 300]),
];

pub(crate) const OUTCOMES: &[&str] = &[
    "no response",
    "partial response",
    "stopped due to GI upset",
    "stopped due to sexual side effects",
    "inadequate response",
    "minimal benefit",
    "discontinued due to weight gain",
    "stopped because of insomnia and activation",
    "no meaningful improvement",
    "partial response, then relapse",
    "intolerable nausea, discontinued",
];

pub(crate) const VAGUE: &[&str] = &[
    "Pt has failed multiple SSRIs.",
    "Has tried several meds without benefit.",
    "Treatment resistant, failed many antidepressants.",
    "Per pt has tried \"everything\" and nothing helped.",
    "History of multiple failed medication trials.",
    "Failed numerous antidepressants over the years.",
];

pub(crate) const ESK_PAYERS: &[&str] = &[
    "Aetna PPO",
    "AETNA",
    "UHC",
    "United Healthcare Choice Plus",
    "Cigna",
    "CIGNA HEALTHCARE",
    "BCBS of Massachusetts",
    "Blue Cross NC",
    "Anthem Blue Cross",
    "Humana Commercial",
    "Tricare East",
];

pub(crate) const MEDICARE_PAYERS: &[&str] = &["Medicare Part B", "MEDICARE", "Medicare", "MEDICARE PART B"];

pub(crate) const FIRST: &[&str] = &[
    "Patel", "Nguyen", "Garcia", "Okafor", "Levine", "Kim", "Brennan", "Shah", "Moreau", "Ortiz", "Walsh", "Chen", "Adeyemi", "Romano",
    "Fischer", "Haddad",
];
pub(crate) const INITIALS: &[&str] = &["A.", "J.", "M.", "R.", "S.", "T.", "K.", "L.", "D.", "E."];

pub(crate) const HPI_LINES: &[&str] = &[
    "Reports mood somewhat better since last visit, still low energy in mornings.",
    "Sleep improved to about 6 hours; appetite fair.",
    "Anhedonia persists but pt is engaging in short walks daily.",
    "Denies SI/HI today. Denies AH/VH.",
    "Work stress increased this week; coping with support from partner.",
    "Reports passive death wishes last week, none currently; safety plan reviewed.",
    "Concentration still impaired; reading only a few pages at a time.",
    "Family reports pt more talkative and less withdrawn.",
    "Pt describes mood as 5/10 (was 3/10 at intake).",
    "Some anxiety around driving restrictions after sessions; discussed.",
    "Last med check was on 3/4; no changes since then.",
    "Missed work 2/5 days this week due to fatigue.",
];

pub(crate) const MSE_LINES: &[&str] = &[
    "MSE: alert, oriented x3, casually dressed, good eye contact; speech normal rate; mood \"tired\"; affect constricted; thought process linear; no SI/HI; insight and judgment fair.",
    "Mental status: calm, cooperative, psychomotor slowing, mood \"a little better\", affect reactive, TP goal directed, denies SI, cognition grossly intact.",
    "MSE - appropriately groomed, mildly anxious, speech soft, mood \"meh\", affect dysthymic, no psychosis, insight good.",
];

pub(crate) const ASSESSMENTS: &[&str] = &[
    "Major depressive disorder, recurrent, severe, with partial early response.",
    "MDD, recurrent, currently severe; improving but not yet in response range.",
    "Depression with persistent anhedonia; tolerating treatment without significant adverse effects.",
    "Recurrent major depression; mood trending up, residual insomnia.",
];

pub(crate) const PLANS: &[&str] = &[
    "Continue current oral antidepressant unchanged.",
    "Safety plan reviewed and updated; crisis line numbers provided.",
    "Labs reviewed: TSH normal.",
    "Encouraged behavioral activation and sleep hygiene.",
    "Coordinate with therapist; patient consents to release of information.",
];

pub(crate) const THERAPY_LINES: &[&str] = &[
    "Modality: CBT. Reviewed thought records; identified all-or-nothing thinking about work performance.",
    "Behavioral activation schedule reviewed; pt completed 3 of 5 planned activities.",
    "Processed grief related to father's death; pt tearful but engaged.",
    "Interpersonal therapy focus on role transition after job loss.",
    "Practiced cognitive restructuring around self-criticism; homework assigned.",
    "Explored ambivalence about returning to school; motivational interviewing techniques used.",
];

/// Copied-forward history paragraphs (no vitals, times, REMS, PA or discharge wording).
pub(crate) const OLD_HISTORY: &[&str] = &[
    "PAST PSYCHIATRIC HISTORY (copied forward from intake): First depressive episode at age 19 during college, treated by PCP. Two further episodes in her 20s and 30s. One psychiatric hospitalization in 2016 for depression with passive SI, no attempts. Outpatient therapy on and off since 2012 (CBT, supportive).",
    "SOCIAL HISTORY (copied forward): Lives with spouse and two children. Works as an accountant, currently on reduced hours. Denies tobacco. Alcohol 1-2 drinks per month. No cannabis or other drug use. Has reliable transportation through spouse.",
    "MEDICAL HISTORY (copied forward): Hypothyroidism on levothyroxine, seasonal allergies, migraine without aura. No history of aneurysmal vascular disease, AVM or intracerebral hemorrhage. No seizures. NKDA.",
    "FAMILY HISTORY (copied forward): Mother with recurrent depression. Maternal uncle with alcohol use disorder. No family history of bipolar disorder or psychosis. No completed suicides in family.",
    "DEVELOPMENTAL/LEGAL (copied forward): Born and raised locally, met milestones, completed bachelor's degree. No legal history. No trauma history reported beyond a motor vehicle accident in 2010.",
    "SAFETY ASSESSMENT (copied forward): Columbia screen negative for recent behavior. Protective factors: children, faith community, engaged in treatment. Firearms: none in the home per patient.",
    "RISK/BENEFIT DISCUSSION (copied forward): Discussed risks of esketamine including dissociation, sedation, increased blood pressure, abuse potential and the need for a driver. Patient verbalized understanding and wishes to proceed.",
];
