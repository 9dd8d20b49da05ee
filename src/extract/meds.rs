//! Medication mentions and treatment-failure trials.
//!
//! A drug name becomes a *trial* only when its own mention says so: trial or
//! outcome wording ("failed", "no response", "stopped due to GI upset"), a
//! duration, or a prior-treatment section. Dose, duration and outcome are
//! attached only from the drug's own stretch of its sentence or list item
//! (up to the next drug named there, across at most a few repeats of its
//! own name), never from a neighbour's. Negated,
//! hypothetical, planned, family-history, current-medication-list and
//! sleep-dose mentions are kept as evidence but do not count.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use regex::Regex;

use super::text::{parse_number, SectionKind, NUM};
use super::{EvKind, Evidence, NoteCtx, NoteFacts};
use crate::dict::{Dictionaries, DrugRole};

/// One drug mention with what its own text documents.
#[derive(Debug, Clone)]
pub struct TrialMention {
    /// Index into `Dictionaries::drugs`.
    pub drug: usize,
    /// Evidence index of the mention.
    pub ev: usize,
    /// Counts as an affirmed trial.
    pub counts: bool,
    /// Augmentation agent (never an antidepressant trial).
    pub augmentation: bool,
    /// Highest daily dose written for it, mg.
    pub daily_mg: Option<f64>,
    /// Duration in weeks when computable.
    pub weeks: Option<f64>,
    /// A duration or date range is written (even if not computable).
    pub has_duration: bool,
    /// Outcome or reason stopped written.
    pub has_outcome: bool,
    /// Why it does not count, when it does not.
    pub excluded: Option<&'static str>,
    /// The only trial wording around it is a symptom ("early insomnia on
    /// sertraline"): no failure, stop, duration or trial word.
    symptom_only: bool,
    /// No duration, dates, failure or stop is written for it ("since the
    /// escitalopram went from 10 to 20 mg"): of a drug taken now, the course
    /// under way, not a trial.
    open_course: bool,
}

/// Compiled medication matcher.
pub struct MedExtractor {
    names: Regex,
    /// `names` for whole-note scans on the lowercased text.
    names_all: super::re::Lc,
    by_name: HashMap<String, usize>,
    roles: Vec<(DrugRole, Option<f64>)>,
    /// Single-word names of 7+ letters, for misspellings one edit away,
    /// sorted.
    fuzzy: Vec<(Vec<u8>, usize)>,
    /// Where the `fuzzy` names starting with each letter `a`..=`z` start,
    /// and where the last letter's end: a word is compared with the names
    /// of its first letter only.
    fuzzy_from: [u32; 27],
    dose_after: Regex,
}

fn norm_name(s: &str) -> String {
    s.to_ascii_lowercase()
        .split(|c: char| c.is_whitespace() || c == '-' || c == '/')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

struct Pats {
    trial_cue: Regex,
    outcome: Regex,
    dose: Regex,
    bare_dose: Regex,
    duration: Regex,
    date_range: Regex,
    sleep: Regex,
    bedtime: Regex,
    share: Regex,
    continuation: Regex,
    next_sentence: Regex,
    follow_up: Regex,
    follow_up_span: Regex,
    current_before: Regex,
    continue_before: Regex,
    current_own: Regex,
    /// Today's dose of it taken ("taken at 07:00", "took it this morning"):
    /// the course the patient is on.
    taken_today: Regex,
    /// Named as the current drug after its dose ("sertraline 150 mg every
    /// morning as her current antidepressant").
    current_said_after: Regex,
    /// A dose change or start of the current course just before a name
    /// ("decided to reduce sertraline to 150 mg", "start bupropion").
    change_before: Regex,
    /// An outcome match that is only a symptom or side-effect word.
    symptom: Regex,
    /// Wording that a course was tried, ended or judged, beyond symptoms.
    ended: Regex,
    /// The note says in the drug's own stretch that it is not a trial or
    /// was never taken ("not an antidepressant trial", "not counted",
    /// "never filled it").
    disclaimed: Regex,
    /// Just before a name: the drug itself is uncertain ("something like
    /// Celexa", "some kind of SSRI").
    hedge_before: Regex,
    /// The drug's own stretch says it was taken for depression.
    for_depression: Regex,
    /// An allergy / adverse-reaction list label ("Allergies:", "ADRs -").
    allergy_label: Regex,
    /// A label or sentence end between an allergy label and a name: the
    /// name is no longer in the allergy list.
    allergy_break: Regex,
    /// The course starts at this visit ("started today", "begin tonight").
    started_now: Regex,
    /// A start verb just before a name ("started bupropion", "adding").
    started_before: Regex,
    /// A start verb right after a name ("bupropion XL started today").
    started_after: Regex,
    /// A course ended: stopped, discontinued, tapered, switched.
    stopped: Regex,
    /// A start a few weeks ago at most ("started ... 3 weeks ago").
    started_recently: Regex,
    /// A drug named as the point a washout or wait ran up to ("14-day MAOI
    /// washout before sertraline was started").
    reference_start: Regex,
}

fn pats() -> &'static Pats {
    static P: OnceLock<Pats> = OnceLock::new();
    P.get_or_init(|| {
        let re = super::re::ci;
        Pats {
            trial_cue: re(r"\b(?:tried|trials?|trialed|failed|failure|fails?|no\s+response|non-?respon\w*|partial(?:\s+response)?|inadequate|ineffective|not\s+effective|did\s*n[o']t\s+(?:help|work|respond|tolerate)|stopped|discontinu\w*|d/c'?d|dc'?d|d/c|tapered|switched|changed\s+to|side\s+effects?|intoleran\w*|intolerable|adverse|was\s+on|were\s+on|been\s+on|previously\s+on|prior(?:ly)?\s+on|history\s+of|hx\s+of|took|taken|tx\s+with|treated\s+with|titrated|augment\w*|responded|response|remission|relapse|helped|worked|benefit|improvement|lost\s+efficacy|poop[- ]?out|recalls?|recalled|course\s+of|weeks?|wks?|months?|mos)\b|[x×]\s*\d"),
            outcome: re(r"\b(?:none\s+(?:after|at|despite|by)\b|(?:no|min|minimal|partial|limited|inadequate|insufficient|poor|some|modest|little|mild|incomplete|transient|initial|suboptimal|good|full|robust|marginal|slight|negligible|equivocal)\s+(?:[a-z]+(?:ly)?\s+){0,2}?(?:responses?|resp|improvements?|improvt?|benefits?|effects?|efficacy|relief|remission|change)\b|partial(?:ly)?\s*(?:effective|helpful|responsive|responder|[,;.()\n]|$)|partial\s+(?:stopped|discontinued|d/c|dc|tapered|switched|then)\b|partial\s*(?:-+>|→)|not\s+(?:\w+\s+)?(?:effective|helpful|tolerated)|non-?respon\w*|(?-i:\bNR\b)|no\s+change|not\s+(?:effective|helpful|tolerated)|ineffective|unhelpful|did\s*n[o'’]t\s+(?:help|work|respond|improve|tolerate|do\s+(?:anything|much|a\s+thing))|(?:no|not\s+much|little)\s+help\b|no\s+better\b|failed|failure|fails?\b|lack\s+of\s+(?:efficacy|response|benefit|improvement)|(?:stopped|discontinued|d/c'?d|dc'?d|d/c|tapered(?:\s+off)?|switched|changed|came\s+off|weaned)\s+(?:\w+\s+){0,2}?(?:due\s+to|because|secondary\s+to|for|after|2/2|d/t)|(?:stopped|discontinued|d/c'?d|dc'?d|tapered(?:\s+off)?)\s*[-–:,]\s*[a-z]|due\s+to\s+(?:side\s+effects?|se\b|intoleran\w*|adverse)|side\s+effects?|intoleran\w*|intolerable|adverse\s+(?:effects?|reactions?|events?)|gi\s+(?:upset|sx|symptoms|side\s+effects|intoleran\w*|distress|issues)|nausea|vomiting|diarrhea|sexual\s+(?:side\s+effects?|dysfunction|se\b)|(?:weight|wt\.?)\s+gain|over-?sedation|sedat(?:ion|ing|ed)|orthosta\w*|hypotension|htn\b|hypertension|akathisia|tremors?|palpitations|tachycardia|sweat\w*|constipation|dry\s+mouth|irritab\w*|restless\w*|apathy|fatigue|gi\b|without\s+(?:\w+\s+)?(?:response|benefit|improvement|effect|relief|success|change)|(?:stop+ed|discontinued)\s+(?:\w+\s+){0,2}?(?:due\s+to|because|for|2/2|d/t)|insomnia|headaches?|activation|agitation|(?:hypo)?mania|manic\s+switch|switch\w*\s+(?:in)?to\s+(?:hypo)?mania|jitter\w*|rash|hyponatremia|dizziness|emotional\s+blunting|blunt\w*|worsen\w*|lost\s+(?:efficacy|effect)|poop[- ]?out|responded|remission|relapsed?|tachyphylaxis|non-?adherent|(?:outcome|response|result|reason\s+(?:stopped|for\s+(?:stopping|discontinuation)))\s*[:=-]\s*\w)"),
            dose: re(r"(?P<n>\d+(?:\.\d+)?)(?:\s*(?:-|–|to|→|->|=>|>)\s*(?P<n2>\d+(?:\.\d+)?))?\s*(?P<u>mg|mcg|milligrams?)\b(?:\s*(?:/\s*(?:day|d)\b|per\s+day|a\s+day|daily|qd|q\.d\.|qam|qpm|qhs|q\.?h\.?s\.?|hs|once\s+daily|every\s+day|nightly|at\s+bedtime|(?P<bid>bid|b\.i\.d\.|twice\s+(?:daily|a\s+day))|(?P<tid>tid|t\.i\.d\.|three\s+times\s+(?:daily|a\s+day))))?"),
            bare_dose: re(r"^\s*(?:xl|sr|xr|cr|er)?\s*(?P<n>\d{1,4}(?:\.\d+)?)\b(?P<unit>\s*(?:weeks?|wks?|w\b|months?|mos?|days?|years?|yrs?|%|/|x))?"),
            duration: re(&format!(r"(?P<n>{NUM})(?:\s*\+)?(?:\s*(?:-|–|to)\s*(?P<n2>{NUM}))?[\s-]*(?P<u>weeks?|wks?|wk|w|months?|mos?|mo|mths?|years?|yrs?|yr|y|days?|d)\b(?P<ago>\s+ago|\s+prior|\s+before)?")),
            date_range: re(r"(?:\b\d{1,2}/(?:\d{2}|\d{4})|\b(?:19|20)\d{2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:\d{4}|'\d{2}))\s*(?:-|–|—|to|through|thru|until|\|)\s*(?:\d{1,2}/(?:\d{2}|\d{4})|(?:19|20)\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:\d{4}|'\d{2})|present|current|now)"),
            sleep: re(r"\b(?:sleep|insomnia|hypnotic|pain|neuropath\w*|migraine|fibromyalgia|hot\s+flash\w*)\b"),
            bedtime: re(r"\b(?:qhs|q\.?h\.?s\.?|hs|bedtime|nightly|at\s+night)\b"),
            share: re(r"\b(?:both|all|each|neither|none|either|all\s+of\s+which|both\s+of\s+which)\b"),
            continuation: re(r"^[ \t>*•\-]*(?:dose|dosage|max(?:imum)?\s+dose|duration|length|response|outcome|result|reason(?:\s+\w+){0,3}|stopped|dates?|start(?:ed)?|stop(?:ped)?|end(?:ed)?|side\s+effects?|tolerability|comments?|notes?|trial\s+length|adequate|adherence)\s*[:=-]"),
            current_before: re(r"(?:\bcurrent(?:ly)?(?:\s+(?:on|taking|takes|uses|is\s+(?:on|taking)|oral\s+ad|ad|antidepressant|meds?|medications?|regimen))?|\b(?:now|presently|still|remains)\s+(?:on|taking)|\b(?:i'?ve|i\s+have|has|have|she'?s|he'?s|they'?ve)\s+been\s+(?:on|taking)|\bcontinues(?:\s+(?:on|taking|to\s+take))?|\b(?:concurrent|oral)\s+(?:oral\s+)?(?:ad|antidepressants?)|(?:^|[;.|:]\s*)on)\s*[:\-]?\s*$"),
            // "Plan: continue sertraline", "cont. Zoloft", "resume bupropion".
            continue_before: re(r"\b(?:continu(?:e|es|ed|ing)|cont\.?|resum(?:e|es|ed|ing)|maintain(?:ed|ing)?\s+on|keep\s+on|stays?\s+on)\s*(?:on\s+)?(?:(?:current|home|oral|po)\s+)*[:\-]?\s*$"),
            // "sertraline 150 mg daily (continued)", "bupropion - ongoing".
            change_before: re(r"\b(?:no\s+change\s+(?:to|in)|reduc(?:e|ing)|decreas(?:e|ing)|lower(?:ing)?|increas(?:e|ing)|rais(?:e|ing)|(?:up)?titrat(?:e|ing)|adjust(?:ing)?|optimi[sz](?:e|ing)|cross[- ]?taper(?:ing)?(?:\s+from)?|start(?:ing)?|restart(?:ing)?|begin(?:ning)?|initiat(?:e|ing)|add(?:ing)?)\s+(?:the\s+|her\s+|his\s+|their\s+|pt'?s\s+)?(?:dose\s+of\s+)?$"),
            symptom: re(r"^(?:side\s+effects?|gi\s+(?:upset|sx|symptoms|side\s+effects|distress|issues)|nausea|vomiting|diarrhea|sexual\s+(?:side\s+effects?|dysfunction|se)|(?:weight|wt\.?)\s+gain|over-?sedation|sedat(?:ion|ing|ed)|orthosta\w*|hypotension|htn|hypertension|akathisia|tremors?|palpitations|tachycardia|sweat\w*|constipation|dry\s+mouth|irritab\w*|restless\w*|apathy|fatigue|gi|insomnia|headaches?|activation|agitation|jitter\w*|rash|hyponatremia|dizziness|emotional\s+blunting|blunt\w*)$"),
            ended: re(r"\b(?:tried|trials?|trialed|failed|failure|fails?|stopped|discontinu\w*|d/c'?d|dc'?d|d/c|tapered|switched|changed\s+to|came\s+off|weaned|intoleran\w*|intolerable|was\s+on|were\s+on|been\s+on|previously|prior(?:ly)?|past|history\s+of|hx\s+of)\b"),
            // The never-taken forms must close their clause or take an
            // object ("never filled it."), so "stopped it, never tried
            // bupropion" is the next drug's negation, not this one's (a
            // stretch that ends the item is read as closed).
            disclaimed: re(r"\b(?:(?:mother|father|mom|dad|sister|brother|spouse|husband|wife|son|daughter|partner|parent|friend|cousin|aunt|uncle|roommate)'?s\s+(?:own\s+)?(?:medication|med|meds|prescription|rx|drug|pills?)\b|not\s+(?:an?\s+)?(?:(?:failed|adequate|true|real|separate)\s+)?(?:antidepressant\s+|ad\s+)?trial\b|not\s+(?:being\s+)?count(?:ed|ing)\b|(?:does|did|do)\s*(?:not|n't)\s+count\b|(?:never\s+(?:actually\s+)?|did\s*(?:not|n't)\s+(?:actually\s+)?)(?:fill(?:ed)?|start(?:ed)?|took|take|taken|tried|try|used?|beg[au]n|pick(?:ed)?\s+(?:it\s+)?up)(?:\s+(?:it|them|this|that|the\s+(?:prescription|rx|script|medication|med|drug)))?\s*[.;,)!]|not\s+(?:filled|picked\s+up)\b)"),
            hedge_before: re(r#"\b(?:(?:something|some\s+(?:sort|kind|type)\s+of|a\s+(?:drug|med(?:ication)?|pill)|an\s+(?:ssri|snri|antidepressant))\s+like|some\s+(?:sort|kind|type)\s+of)\s*["'“‘]?\s*$"#),
            for_depression: re(r"\bdepress|\bmdd\b|\bas\s+an?\s+antidepressant\b|\bfor\s+mood\b"),
            current_said_after: re(r"\b(?:as|is)\s+(?:her|his|their|the|pt'?s|patient'?s)\s+(?:current|present|ongoing|maintenance)\s+(?:oral\s+)?(?:antidepressant|ad|medication|med)\b"),
            taken_today: re(
                r"\b(?:taken|took|takes)\s+(?:(?:it|this|her|his|the|today'?s|morning)\s+)*(?:dose\s+)?(?:at\s+(?:\d{1,2}:(?:\d{2}|$)|\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|[0-2]\d[0-5]\dh?\b)|this\s+(?:morning|am|a\.m\.|evening)|(?:earlier\s+)?today|before\s+(?:arrival|coming\s+in|the\s+(?:visit|session)))",
            ),
            current_own: re(r"\b(?:continu(?:e|es|ed|ing)|ongoing|current(?:ly)?|still\s+(?:on|taking)|remains\s+on)\b"),
            follow_up: re(r"\b(?:rtc|f/u|follow[- ]?up|return(?:\s+to\s+clinic)?|recheck|next\s+(?:visit|appt|appointment))\s*(?:in|for|:)?\s*$"),
            follow_up_span: re(&format!(r"\b(?:rtc|f/u|follow[- ]?up|return(?:\s+to\s+clinic)?|re-?check|re-?assess|re-?evaluate|see\s+(?:again|back)|check\s+in|next\s+(?:visit|appt|appointment))\s*(?:in|for|:)?\s*{NUM}\s*(?:weeks?|wks?|w|months?|mos?|days?|d)\b")),
            allergy_label: re(r"\b(?:allerg(?:y|ies)|adverse\s+drug\s+reactions?|adrs?)\b(?:\s*(?:list|/\s*intolerances?))?\s*[:=-]|\ballergic\s+to\b|\bnkda\b"),
            allergy_break: re(r"(?:^|[\s;,])[a-z_][a-z_ /]{2,30}:|\.\s|\n\s*\n"),
            started_now: re(r"\b(?:today|tonight|this\s+(?:visit|morning|evening|session))\b"),
            reference_start: re(r"^(?:\s+(?:xr|xl|er|sr|cr))?\s+(?:was|were|is|being|had\s+been)\s+(?:started|begun|initiated|introduced)\b"),
            started_recently: re(
                r"\b(?:this\s+week|last\s+week|recently|(?:[1-5]|one|two|three|four|five)\s*(?:weeks?|wks?)\s+ago|\d{1,2}\s*days?\s+ago)\b",
            ),
            stopped: re(r"\b(?:stopped|discontinu\w*|d/c'?d|dc'?d|tapered|switched|came\s+off|weaned|changed\s+to)\b"),
            started_before: re(r"\b(?:start(?:ed|ing|s)?|began|begin(?:ning|s)?|initiat(?:ed|ing|es?)|add(?:ed|ing|s)?|new(?:ly)?\s+(?:started|prescribed))\s+(?:on\s+)?(?:the\s+|her\s+|his\s+|their\s+)?$"),
            started_after: re(r"^[^.;\n]{0,40}?\b(?:start(?:ed|ing)|began|initiated|added|begins?|new(?:ly)?\s+(?:started|prescribed))\b"),
            next_sentence: re(r"^\s*(?:(?:she|he|they|pt|patient|the\s+patient)\s+(?:then\s+)?(?:stayed|remained|continued|was\s+kept|kept|took\s+it|stopped|discontinued|came\s+off|tapered|tolerated|did\s*(?:not|n't)\s+(?:respond|improve|tolerate|notice|feel)|had\s+(?:no|partial|minimal|little|some)|noticed|felt|reported)\b|stopped|discontinued|d/c'?d|dc'?d|tapered|switched|it|this|which|that|no\s+response|no\s+improvement|partial|minimal|failed|caused|led\s+to|resulted|response|outcome|reason|side\s+effects?|due\s+to|discontinuation|was\s+(?:stopped|discontinued|ineffective|tapered)|had\s+(?:no|partial|minimal|side))\b"),
        }
    })
}

/// The words of six or more letters in ASCII-lowercased text, as
/// `\b[a-z]{6,}\b` with ASCII word boundaries finds them: runs of ASCII
/// word bytes (letters, digits, `_`) made of letters only. A byte scan, as
/// the candidates for misspelled drug names are most of a note's words.
fn long_words(lower: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let b = lower.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            if !(b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
                continue;
            }
            let start = i;
            let mut letters = true;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                letters &= b[i].is_ascii_lowercase();
                i += 1;
            }
            if letters && i - start >= 6 {
                return Some(start..i);
            }
        }
        None
    })
}

impl MedExtractor {
    /// Compile the name matcher from the medication dictionary.
    pub fn new(dict: &Dictionaries) -> Self {
        let mut by_name = HashMap::new();
        let mut alts: Vec<String> = Vec::new();
        for (i, d) in dict.drugs.iter().enumerate() {
            for n in &d.names {
                by_name.insert(norm_name(n), i);
                let words: Vec<String> =
                    n.split(|c: char| c.is_whitespace() || c == '-' || c == '/').filter(|w| !w.is_empty()).map(regex::escape).collect();
                alts.push(words.join(r"[\s/-]+"));
            }
        }
        alts.sort_by_key(|a| std::cmp::Reverse(a.len()));
        let names_pat = format!(r"\b(?:{})\b", alts.join("|"));
        let names = super::re::ci(&names_pat);
        let names_all = super::re::Lc::new(&names_pat);
        let roles = dict.drugs.iter().map(|d| (d.role, d.sleep_max_mg)).collect();
        let mut fuzzy: Vec<(Vec<u8>, usize)> = by_name
            .iter()
            .filter(|(n, _)| n.len() >= 7 && n.bytes().all(|b| b.is_ascii_lowercase()))
            .map(|(n, i)| (n.as_bytes().to_vec(), *i))
            .collect();
        fuzzy.sort();
        let fuzzy_from = std::array::from_fn(|k| fuzzy.partition_point(|(n, _)| n[0] < b'a' + k as u8) as u32);
        MedExtractor {
            names,
            names_all,
            by_name,
            roles,
            fuzzy,
            fuzzy_from,
            dose_after: super::re::ci(r"^[ \t]*(?:(?:xr|xl|sr|er|cr)[ \t]+)?\d+(?:\.\d+)?[ \t]*mg\b"),
        }
    }

    /// The drug-name pattern (for [`super::Extractor::pattern_costs`]).
    pub(crate) fn names_pattern(&self) -> &super::re::Lc {
        &self.names_all
    }

    /// Whether a header label is a drug name ("Sertraline:" rows of a trial list).
    pub fn is_drug_label(&self, label: &str) -> bool {
        let l = label.trim();
        self.names.find(l).is_some_and(|m| m.start() == 0 && m.end() >= l.len().saturating_sub(12))
    }

    /// Misspelled drug names written with a dose ("venlafaxin XR 225 mg",
    /// "sertaline 100mg"): a word one edit (insert, delete, substitute,
    /// swap) from a dictionary name of 7+ letters, with the same first
    /// letter, followed by a mg dose.
    fn misspelled(&self, text: &str, lower: &str, mentions: &mut Vec<(Range<usize>, usize)>) {
        let mut extra = Vec::new();
        for m in long_words(lower) {
            // Name matches do not overlap, so ends ascend with starts: the
            // first mention ending after the word is the only one to check.
            let k = mentions.partition_point(|(r, _)| r.end <= m.start);
            if mentions.get(k).is_some_and(|(r, _)| r.start < m.end) {
                continue;
            }
            // The near-name test before the dose test: almost no word is
            // one edit from a drug name, and the dose test is a regex search
            // (one per long word of the note, when it ran first).
            let w = lower[m.clone()].as_bytes();
            // The names with the word's first letter (a long word is all
            // lowercase ASCII letters): the same first match as a search of
            // every name, which took 2.7% of a 20,000-note profile's samples.
            let k = usize::from(w[0] - b'a');
            let same_first = &self.fuzzy[self.fuzzy_from[k] as usize..self.fuzzy_from[k + 1] as usize];
            let Some((_, d)) = same_first.iter().find(|(n, _)| n.len().abs_diff(w.len()) <= 1 && one_edit(n, w)) else {
                continue;
            };
            let after = super::text::sub(text, m.end..super::text::floor_char(text, (m.end + 24).min(text.len())));
            if self.dose_after.is_match(after) {
                extra.push((m, *d));
            }
        }
        if !extra.is_empty() {
            mentions.extend(extra);
            mentions.sort_by_key(|(r, _)| r.start);
        }
    }

    /// Drug index for a matched name.
    pub fn drug_of(&self, s: &str) -> Option<usize> {
        self.by_name.get(&norm_name(s)).copied()
    }

    /// Extract drug mentions and trials.
    pub fn extract(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let text = ctx.text;
        let p = pats();
        let mut mentions: Vec<(Range<usize>, usize)> =
            ctx.find_iter(&self.names_all).filter_map(|r| self.drug_of(&text[r.clone()]).map(|d| (r, d))).collect();
        self.misspelled(text, &ctx.lower, &mut mentions);
        if mentions.is_empty() {
            return;
        }
        // Group mentions by item.
        let mut i = 0;
        while i < mentions.len() {
            let item = self.item_of(ctx, mentions[i].0.start, &mentions);
            let mut j = i;
            while j < mentions.len() && mentions[j].0.start < item.end {
                j += 1;
            }
            let group = &mentions[i..j.max(i + 1)];
            self.item_trials(ctx, item.clone(), group, facts, p);
            i = j.max(i + 1);
        }
        // A course the note says was started or changed at or shortly
        // before this visit ("Venlafaxine XR was started 3 weeks ago") is
        // that same course where another sentence judges it with no
        // duration or stop ("partial early response to venlafaxine XR").
        let started: Vec<usize> = facts.trials.iter().filter(|t| t.excluded == Some(STARTED_NOW)).map(|t| t.drug).collect();
        if !started.is_empty() {
            for t in facts.trials.iter_mut().filter(|t| t.counts && !t.has_duration && started.contains(&t.drug)) {
                let ev = &mut facts.evidence[t.ev];
                if p.stopped.is_match(super::text::sub(text, ev.span.clone())) {
                    continue;
                }
                t.counts = false;
                t.excluded = Some(STARTED_NOW);
                ev.kind = EvKind::DrugMention;
                ev.counts = false;
                ev.value.push_str(&format!(" [not counted: {STARTED_NOW}]"));
            }
        }
        // Side effects of a drug the note says the patient takes now
        // ("early insomnia on sertraline" beside "Meds: sertraline 200 mg
        // daily"): a complaint about the current course, not an ended trial.
        let current: Vec<String> = facts.evidence.iter().filter(|e| e.kind == EvKind::CurrentAd).map(|e| e.entry_id.clone()).collect();
        if current.is_empty() {
            return;
        }
        let drugs = &Dictionaries::builtin().drugs;
        // Likewise a dose change told of it with no duration, failure or
        // stop ("since the escitalopram went from 10 to 20 mg").
        for t in facts.trials.iter_mut().filter(|t| t.counts && (t.symptom_only || t.open_course)) {
            if current.contains(&drugs[t.drug].id) {
                let why = if t.symptom_only { CURRENT_SIDE_EFFECTS } else { CURRENT_COURSE };
                t.counts = false;
                t.excluded = Some(why);
                let ev = &mut facts.evidence[t.ev];
                ev.kind = EvKind::DrugMention;
                ev.counts = false;
                ev.value.push_str(&format!(" [not counted: {why}]"));
            }
        }
    }

    /// The sentence / list item / table row of a mention, extended over
    /// continuation lines ("Dose: 100 mg" under "Drug: sertraline") and over a
    /// following sentence that only continues the story ("Stopped due to ...").
    fn item_of(&self, ctx: &NoteCtx<'_>, pos: usize, mentions: &[(Range<usize>, usize)]) -> Range<usize> {
        let text = ctx.text;
        let p = pats();
        let seg = ctx.context.segment_of(pos);
        let mut end = seg.end;
        loop {
            // Continuation lines with attribute labels.
            let rest = super::text::sub(text, end..);
            let nl = match rest.find('\n') {
                Some(k) if rest[..k].trim().is_empty() => end + k + 1,
                _ => {
                    // Same line: a following sentence that continues the story.
                    let tail = rest.trim_start_matches(['.', ' ', '\t', ';', ',']);
                    let off = rest.len() - tail.len();
                    if off > 0 && p.next_sentence.is_match(tail) {
                        let next = ctx.context.segment_of((end + off).min(text.len().saturating_sub(1)));
                        if next.end > end && !mention_in(mentions, end, next.end) {
                            end = next.end;
                            continue;
                        }
                    }
                    break;
                }
            };
            if nl >= text.len() {
                break;
            }
            let line_end = super::text::sub(text, nl..).find('\n').map(|k| nl + k).unwrap_or(text.len());
            let line = super::text::sub(text, nl..line_end);
            if p.continuation.is_match(line) && !mention_in(mentions, nl, line_end) {
                end = line_end;
            } else if let Some(wrap_end) = soft_wrapped(ctx, end, nl, mentions) {
                // A sentence hard-wrapped by the export ("venlafaxine 225 mg
                // x 12 wks\n(6/2025-9/2025) - partial, tapered off."): the
                // item runs on to the end of the wrapped sentence.
                end = wrap_end;
                break;
            } else {
                break;
            }
        }
        seg.start.min(pos)..end.max(pos + 1).min(text.len())
    }

    fn item_trials(&self, ctx: &NoteCtx<'_>, item: Range<usize>, group: &[(Range<usize>, usize)], facts: &mut NoteFacts, p: &Pats) {
        let text = ctx.text;
        let lead = super::text::sub(text, item.start..group[0].0.start.max(item.start));
        let lead_outcome = p.outcome.is_match(lead);
        let lead_cue = p.trial_cue.is_match(lead);
        // Own spans: to the next *different* drug in the item, but across at
        // most MAX_SAME_AHEAD further mentions of the same drug, so a run of
        // n repeats is scanned O(n) times, not O(n^2).
        let mut next_diff = vec![group.len(); group.len()];
        for k in (0..group.len().saturating_sub(1)).rev() {
            next_diff[k] = if group[k + 1].1 != group[k].1 { k + 1 } else { next_diff[k + 1] };
        }
        let owns: Vec<Range<usize>> = group
            .iter()
            .enumerate()
            .map(|(k, (r, _))| {
                let stop = next_diff[k].min(k + 1 + MAX_SAME_AHEAD);
                let next = group.get(stop).map_or(item.end, |(r2, _)| r2.start);
                r.end..next.max(r.end)
            })
            .collect();
        let shared_outcome = owns.last().is_some_and(|o| {
            let s = super::text::sub(text, o.clone());
            p.share.find(s).is_some_and(|m| p.outcome.find(&s[m.start()..]).is_some())
        }) && group.len() > 1;
        for (k, (r, d)) in group.iter().enumerate() {
            let own = super::text::sub(text, owns[k].clone());
            let (role, sleep_max) = self.roles[*d];
            let (assertion, cue) = ctx.context.assess_with_cue(r.clone());
            let mut a = assertion;
            // "No response to sertraline" is a failed trial, not a negated drug.
            if a.negated {
                if let Some(c) = cue {
                    let win = super::text::sub(text, c.start..(c.end + 30).min(text.len()));
                    let win = &win[..super::text::floor_char(win, win.len())];
                    if p.outcome.find(win).is_some_and(|m| m.start() == 0) || lead_outcome && c.start < r.start && c.start >= item.start {
                        a.negated = false;
                    }
                }
            }
            let section = ctx.section_kind(r.start);
            if section == Some(SectionKind::FamilyHistory) {
                a.family = true;
            }
            let daily = daily_dose(own, p).or_else(|| {
                p.bare_dose
                    .captures(own)
                    // "lexapro 20 x 6 wks": a number before "x <duration>" is the dose.
                    .filter(|c| {
                        c.name("unit").is_none_or(|u| {
                            u.as_str().trim().eq_ignore_ascii_case("x")
                                && p.duration.find(&own[u.end()..]).is_some_and(|d| own[u.end()..u.end() + d.start()].trim().is_empty())
                        })
                    })
                    .and_then(|c| c["n"].parse::<f64>().ok())
                    .filter(|v| *v >= 1.0)
            });
            // A follow-up interval ("RTC 8 wks", "recheck in 4 weeks") is
            // neither a duration nor trial language.
            let own_cue = p.follow_up_span.replace_all(own, "");
            let (weeks, has_duration) = duration(&own_cue, p);
            let has_outcome = p.outcome.is_match(own) || lead_outcome || shared_outcome;
            // An outcome beyond symptom words ("no response", "stopped due to").
            let ending_outcome = |s: &str| p.outcome.find_iter(s).any(|m| !p.symptom.is_match(m.as_str()));
            let only_symptoms = |s: &str| !ending_outcome(s) && !p.ended.is_match(s);
            let open_course =
                !has_duration && !shared_outcome && section != Some(SectionKind::MedHistory) && only_symptoms(lead) && only_symptoms(own);
            let symptom_only = has_outcome && open_course;
            let cue_here = p.trial_cue.is_match(&own_cue) || lead_cue || has_outcome || has_duration;
            // The words just before the name, within its item.
            let before = super::text::sub(text, super::text::floor_char(text, item.start.max(r.start.saturating_sub(40)))..r.start);
            // "current:", "currently on", "still taking" just before the name.
            let said_current = p.current_before.is_match(before);
            let mut excluded: Option<&'static str> = None;
            if a.negated {
                excluded = Some("negated");
            } else if a.family {
                excluded = Some("family history");
            } else if p.disclaimed.is_match(&own_cue) || owns[k].end >= item.end && p.disclaimed.is_match(&format!("{own_cue}.")) {
                // "trazodone 50 mg qhs (not an antidepressant trial)", "a
                // Paxil prescription, never filled": the note itself says
                // this is no trial.
                excluded = Some(DISCLAIMED);
            } else if in_allergy_list(text, r.start, p) {
                // "Allergies: sulfa (hives); trazodone (rash)": a reaction
                // listed as an allergy, not a course taken for depression.
                excluded = Some(ALLERGY);
            } else if p.hedge_before.is_match(before) {
                // "something like Celexa": which drug it was is a guess.
                excluded = Some(HEDGED_NAME);
            } else if a.hypothetical || a.possible {
                excluded = Some("hypothetical or planned");
            } else if section == Some(SectionKind::Plan) && !has_outcome {
                excluded = Some("plan, not a past trial");
            } else if section == Some(SectionKind::MedCurrent) && !(has_outcome || has_duration || p.trial_cue.is_match(own)) {
                excluded = Some("current medication list, no trial language");
            } else if !has_duration
                && (before.trim_end().to_ascii_lowercase().ends_with("before")
                    || before.trim_end().to_ascii_lowercase().ends_with("prior to"))
                && p.reference_start.is_match(own)
            {
                excluded = Some(STARTED_NOW);
            } else if !has_duration && p.change_before.is_match(before) && !ending_outcome(own) {
                // "decided to reduce sertraline to 150 mg": managing the
                // course the patient is on (or starting one), not a trial told.
                excluded = Some(STARTED_NOW);
            } else if p.started_now.is_match(own)
                && (p.started_before.is_match(before) || p.started_after.is_match(own))
                && !ending_outcome(own)
            {
                // "started bupropion XL 150 mg today, to 300 mg in 1 week": the
                // course begins at this visit; its titration is no duration.
                excluded = Some(STARTED_NOW);
            } else if (p.started_before.is_match(before) || p.started_after.is_match(own))
                && p.started_recently.is_match(own)
                && !p.stopped.is_match(own)
            {
                // "Started escitalopram 10 mg 3 weeks ago, some improvement in
                // sleep", "Venlafaxine XR was started 3 weeks ago": the
                // current course, too young to have failed.
                excluded = Some(STARTED_NOW);
            } else if !has_duration && p.continue_before.is_match(before) && !p.stopped.is_match(own) {
                // "continue sertraline titration; consider esketamine only if
                // the next trial fails": the course goes on; an outcome in a
                // condition about the future is not this drug's.
                excluded = Some("current medication, no trial of its own");
            } else if (said_current || !has_duration && (p.taken_today.is_match(own) || p.current_said_after.is_match(own)))
                && !p.outcome.is_match(own)
            {
                // "...; current vortioxetine 20 mg daily" inside a trials line;
                // "I've been on sertraline 150 since 2024": how long the
                // current course has run is no trial without an outcome.
                excluded = Some("current medication, no trial of its own");
            } else if !(cue_here || section == Some(SectionKind::MedHistory)) {
                excluded = Some("no trial language");
            } else if let Some(max) = sleep_max {
                // A purpose ("for sleep", "pain") makes it a hypnotic / pain
                // use; a bedtime schedule does only at a low or unknown dose,
                // since some antidepressants are always taken at night
                // ("mirtazapine 45 mg qhs").
                // "antidepressant" in "not an antidepressant trial" is no
                // purpose: only a word starting with "depress" (or "as an
                // antidepressant", "for mood") is.
                let for_depression = p.for_depression.is_match(own);
                let low = daily.is_none_or(|mg| mg <= max);
                let sleep_words = (p.sleep.is_match(own) || p.bedtime.is_match(own) && low) && !for_depression;
                if sleep_words || daily.is_some_and(|mg| mg <= max) && !for_depression {
                    excluded = Some(SLEEP_DOSE);
                }
            }
            let counts = excluded.is_none();
            let dict = &Dictionaries::builtin().drugs[*d];
            let mut value = dict.id.clone();
            if let Some(mg) = daily {
                value.push_str(&format!(" {mg} mg/day"));
            }
            if let Some(w) = weeks {
                value.push_str(&format!(" x {w:.0} wk"));
            } else if has_duration {
                value.push_str(" (dated)");
            }
            if has_outcome {
                value.push_str(" outcome documented");
            }
            if let Some(why) = excluded {
                value.push_str(&format!(" [not counted: {why}]"));
            }
            let span_end = if counts { owns[k].end.min(r.end + 160) } else { r.end };
            let span_end = super::text::floor_char(text, span_end.max(r.end));
            // The antidepressant the patient takes now, beside the trial
            // story: a current medication list, "currently on", "continue
            // sertraline", "(ongoing)" in its own stretch. The MDSI indication
            // and some payers need one alongside esketamine.
            if role == DrugRole::Antidepressant && !(a.negated || a.family || a.hypothetical || a.possible) {
                let current_use = section == Some(SectionKind::MedCurrent)
                    || said_current
                    || p.continue_before.is_match(before)
                    || (!a.historical && (p.current_own.is_match(own) || p.taken_today.is_match(own)));
                if current_use {
                    facts.push(Evidence {
                        kind: EvKind::CurrentAd,
                        entry_id: dict.id.clone(),
                        span: r.clone(),
                        assertion: a,
                        value: format!("current antidepressant: {}", dict.id),
                        counts: true,
                    });
                }
            }
            let ev = facts.push(Evidence {
                kind: if counts { EvKind::Trial } else { EvKind::DrugMention },
                entry_id: dict.id.clone(),
                span: r.start..span_end,
                assertion: a,
                value,
                counts,
            });
            facts.trials.push(TrialMention {
                drug: *d,
                ev,
                counts,
                augmentation: role == DrugRole::Augmentation,
                daily_mg: daily,
                weeks,
                has_duration,
                has_outcome,
                excluded,
                symptom_only,
                open_course,
            });
        }
    }
}

/// Why a course started or changed at or shortly before this visit is not a trial.
pub const STARTED_NOW: &str = "dose change or start of the current course";

/// Why side effects of the current medication are not a trial.
pub const CURRENT_SIDE_EFFECTS: &str = "side effects of a current medication";
/// Why the current medication, told with no duration, failure or stop, is
/// not a trial.
pub const CURRENT_COURSE: &str = "the current medication's course, no duration or failure";

/// Why a mention the note itself calls no trial, or never taken, is not one.
pub const DISCLAIMED: &str = "the note says it is not a trial or was never taken";

/// Why a mention whose drug is only guessed is not a trial.
pub const HEDGED_NAME: &str = "drug name uncertain";

/// Why a drug named in an allergy list is not a trial.
pub const ALLERGY: &str = "listed as an allergy or adverse reaction";

/// Why a mention at a hypnotic or pain dose is not a trial.
pub const SLEEP_DOSE: &str = "sleep or pain dose";

/// How many further mentions of the same drug a mention's own stretch may
/// run across before it ends (its doses, durations and outcomes are the
/// drug's until another drug is named). Realistic notes repeat a name a few
/// times in one item at most; the cap only bounds the work on pathological
/// runs ("sertraline ... sertraline ..." thousands of times in one sentence).
const MAX_SAME_AHEAD: usize = 8;

/// Where a sentence hard-wrapped at a line end continues, when the line
/// ending at `end` reads as cut mid-sentence: it is long (a wrap width, not
/// a short list line), does not end in sentence or label punctuation, and
/// the next line (starting at `nl`) goes on in lower case, with a number or
/// parenthesis, or with a dash and a lower-case word, rather than starting
/// a new item. The continuation is the first sentence of the next line, and
/// only when it names no other drug.
fn soft_wrapped(ctx: &NoteCtx<'_>, end: usize, nl: usize, mentions: &[(Range<usize>, usize)]) -> Option<usize> {
    let text = ctx.text;
    // The line's start, looked for a bounded distance back (a longer line is
    // long enough either way).
    let from = super::text::floor_char(text, end.saturating_sub(400));
    let line_start = text[from..end].rfind('\n').map_or(from, |k| from + k + 1);
    let line = text[line_start..end].trim_end();
    let last = line.bytes().last()?;
    if line.len() < 60 || matches!(last, b'.' | b';' | b':' | b'!' | b'?' | b'|') {
        return None;
    }
    let first_line = line.trim_start();
    // A bulleted list or a table: each line is its own item, unless the
    // next line is indented under the bullet ("- Prior trials: ... daily
    // for\n  12 weeks (2024), partial, stopped.").
    let indented = text[nl..].starts_with([' ', '\t']) && !text[nl..].trim_start().starts_with(['-', '*', '•', '|']);
    if first_line.starts_with('|') || (first_line.starts_with(['-', '*', '•']) && !indented) {
        return None;
    }
    let next = text[nl..].trim_start_matches([' ', '\t']);
    let b = next.as_bytes();
    let goes_on = match b.first()? {
        c if c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'(' => true,
        b'-' => b.get(1) == Some(&b' ') && b.get(2).is_some_and(|c| c.is_ascii_lowercase()),
        _ => false,
    };
    if !goes_on {
        return None;
    }
    let seg = ctx.context.segment_of(nl + (text[nl..].len() - next.len()));
    // Up to the next drug named on the wrapped line, if any: "2025 - partial
    // response  [x] aripiprazole ..." gives "2025 - partial response".
    let k = mentions.partition_point(|(r, _)| r.start < nl);
    let stop = mentions.get(k).map_or(seg.end, |(r, _)| r.start.min(seg.end));
    (stop > nl).then_some(stop)
}

/// Whether a mention (sorted by start) starts in `[a, b)`.
fn mention_in(mentions: &[(Range<usize>, usize)], a: usize, b: usize) -> bool {
    let k = mentions.partition_point(|(r, _)| r.start < a);
    mentions.get(k).is_some_and(|(r, _)| r.start < b)
}

/// Whether `a` and `b` differ by exactly one insertion, deletion,
/// substitution or adjacent transposition.
fn one_edit(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return false;
    }
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[pre..], &b[pre..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..]),
        std::cmp::Ordering::Greater => ra[1..] == *rb,
        std::cmp::Ordering::Less => *ra == rb[1..],
    }
}

/// Whether a name stands in an allergy list: an allergy label earlier on
/// its line (or the lines just above), with no other label or sentence end
/// between. Looks back at most 160 bytes.
fn in_allergy_list(text: &str, pos: usize, p: &Pats) -> bool {
    let from = super::text::floor_char(text, pos.saturating_sub(160));
    let win = super::text::sub(text, from..pos);
    let Some(m) = p.allergy_label.find_iter(win).last() else { return false };
    !p.allergy_break.is_match(&win[m.end()..])
}

fn daily_dose(own: &str, p: &Pats) -> Option<f64> {
    let mut best: Option<f64> = None;
    for c in p.dose.captures_iter(own) {
        // "GI upset at 50 mg test dose": a challenge, not the dose taken.
        let after = own[c.get(0).unwrap().end()..].trim_start().as_bytes();
        let starts = |w: &str| after.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w.as_bytes()));
        if starts("test dose") || starts("challenge") {
            continue;
        }
        // "(label max 200 mg)", "target 150 mg", "never titrated to 200 mg":
        // a bound or a goal, not the dose taken.
        // The few words before the dose, lowercased (not the whole prefix:
        // this runs for every dose of every trial).
        let at = c.get(0).unwrap().start();
        let before = own[super::text::floor_char(own, at.saturating_sub(64))..at].trim_end().to_ascii_lowercase();
        if [
            "max",
            "max.",
            "maximum",
            "max dose",
            "label max",
            "target",
            "goal",
            "ceiling",
            "never titrated to",
            "never reached",
            "not titrated to",
        ]
        .iter()
        .any(|w| before.ends_with(w) && before[..before.len() - w.len()].chars().last().is_none_or(|c| !c.is_ascii_alphanumeric()))
        {
            continue;
        }
        let Ok(mut n) = c["n"].parse::<f64>() else { continue };
        if let Some(n2) = c.name("n2").and_then(|x| x.as_str().parse::<f64>().ok()) {
            n = n.max(n2);
        }
        if c["u"].eq_ignore_ascii_case("mcg") {
            n /= 1000.0;
        }
        if c.name("bid").is_some() {
            n *= 2.0;
        } else if c.name("tid").is_some() {
            n *= 3.0;
        }
        if n > 0.0 && n < 5000.0 {
            best = Some(best.map_or(n, |b: f64| b.max(n)));
        }
    }
    best
}

fn duration(own: &str, p: &Pats) -> (Option<f64>, bool) {
    let mut weeks: Option<f64> = None;
    for c in p.duration.captures_iter(own) {
        if c.name("ago").is_some() {
            continue;
        }
        let m = c.get(0).unwrap();
        // "2 d" after a dose or "5 y/o" are not durations.
        let after = &own[m.end()..];
        if after.starts_with("/o") || after.starts_with("o ") {
            continue;
        }
        // "RTC 8 wks", "f/u in 4 weeks": a follow-up interval, not how long the drug was taken.
        if p.follow_up.is_match(&own[..m.start()]) {
            continue;
        }
        let unit = c["u"].to_ascii_lowercase();
        if (unit == "d" || unit == "y" || unit == "w") && !own[..m.start()].trim_end().ends_with(['x', '×']) {
            continue;
        }
        let Some(mut n) = parse_number(&c["n"]) else { continue };
        if let Some(n2) = c.name("n2").and_then(|x| parse_number(x.as_str())) {
            n = n.max(n2);
        }
        let w = match unit.chars().next() {
            Some('w') => n,
            Some('m') => n * 4.345,
            Some('y') => n * 52.0,
            Some('d') => n / 7.0,
            _ => continue,
        };
        if w > 0.0 && w < 1040.0 {
            weeks = Some(weeks.map_or(w, |b: f64| b.max(w)));
        }
    }
    let dated = p.date_range.is_match(own);
    (weeks, weeks.is_some() || dated)
}

#[cfg(test)]
mod tests {
    use crate::extract::Extractor;

    #[test]
    fn long_words_are_the_regex_words() {
        let r = crate::extract::re::cs(r"\b[a-z]{6,}\b");
        for t in [
            "sertaline 100mg, venlafaxin_xr abcdef1 x abcdefg",
            "café caféine naïveté trazodone\tbupropion-xl 150",
            "",
            "abcdef",
            "abcde",
            "12abcdefgh 9 abcdefgh_ __abcdefgh abcdefgh.",
            "\u{a0}mirtazapine\u{a0}",
        ] {
            let l = t.to_ascii_lowercase();
            let want: Vec<_> = r.find_iter(&l).map(|m| m.range()).collect();
            assert_eq!(super::long_words(&l).collect::<Vec<_>>(), want, "{t:?}");
        }
    }

    fn trials_full(t: &str) -> Vec<super::TrialMention> {
        Extractor::builtin().extract_text(t, None).trials
    }

    fn trials(t: &str) -> Vec<(String, bool, bool, bool, bool)> {
        let f = Extractor::builtin().extract_text(t, None);
        let d = &crate::dict::Dictionaries::builtin().drugs;
        f.trials.iter().map(|m| (d[m.drug].id.clone(), m.counts, m.daily_mg.is_some(), m.has_duration, m.has_outcome)).collect()
    }

    #[test]
    fn a_wrapped_bullet_and_a_bare_partial() {
        let t: Vec<_> = trials("- Prior trials: sertraline 150 mg daily for 10 weeks (2023), no response, stopped; bupropion XL 300 mg daily for\n  12 weeks (2024), partial, stopped.\n- Current: escitalopram 20 mg.")
            .into_iter()
            .filter(|x| x.1)
            .collect();
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t.iter().all(|x| x.3 && x.4), "{t:?}");
        let t = trials("trials paroxetine 40 mg/d x 10 wk no response stopped 2021, duloxetine 60 mg/d x 12 wk partial stopped 2022; current AD escitalopram 20 mg");
        assert!(t.iter().filter(|x| x.1).all(|x| x.4), "{t:?}");
    }

    fn current_ads(t: &str) -> Vec<String> {
        let f = Extractor::builtin().extract_text(t, None);
        f.counting(crate::extract::EvKind::CurrentAd).map(|i| f.evidence[i].entry_id.clone()).collect()
    }

    #[test]
    fn a_drug_the_note_calls_no_trial_or_never_taken() {
        let t = trials("Mirtazapine 15 mg at night to help her sleep - not an antidepressant trial.");
        assert!(!t[0].1, "{t:?}");
        let t = trials("Her GP prescribed bupropion in 2021 but she never started it.");
        assert!(!t[0].1, "{t:?}");
        let t = trials("Duloxetine 60 mg x 10 weeks, partial response; a fluoxetine script was not filled.");
        assert!(t[0].1 && !t[1].1, "{t:?}");
        // Another drug's negation after this one's story is not this one's.
        let t = trials("Took fluoxetine 40 mg for 3 months and stopped it for rash, never tried vortioxetine.");
        assert!(t[0].1, "{t:?}");
    }

    #[test]
    fn a_guessed_drug_name_is_not_a_trial() {
        let t = trials("As a teenager she was given something like 'Prozac' for a while, no details.");
        assert!(!t[0].1, "{t:?}");
        let t = trials("Years ago he had some sort of Zoloft from urgent care.");
        assert!(!t[0].1, "{t:?}");
    }

    #[test]
    fn antidepressant_in_a_disclaimer_is_not_a_purpose() {
        // "antidepressant" here says what it was not; the purpose is sleep.
        let t = trials("Trazodone 50 mg at bedtime x 3 months as a sleep aid, no antidepressant benefit.");
        assert!(!t[0].1, "{t:?}");
        let t = trials("Trazodone 100 mg qhs x 8 weeks for depression, no response.");
        assert!(t[0].1, "{t:?}");
    }

    #[test]
    fn medication_table_cells() {
        let t = trials(
            "Drug | Dose | Start | Stop | Response\nfluoxetine | 40 mg/d | 02/2023 | 05/2023 | none after 12 wk\nparoxetine | -- | ? 2022 | -- | stopped, no benefit\ncitalopram | 40 mg/d | 06/2023 | 09/2023 | partial",
        );
        assert_eq!(t[0], ("fluoxetine".into(), true, true, true, true), "{t:?}");
        // A lone "?" (unknown start) does not cut the row before its outcome.
        assert_eq!(t[1], ("paroxetine".into(), true, false, false, true), "{t:?}");
        // Start and stop in adjacent cells are a date range.
        assert_eq!(t[2], ("citalopram".into(), true, true, true, true), "{t:?}");
    }

    #[test]
    fn current_antidepressant_beside_the_trials() {
        for (t, want) in [
            ("Current medications:\n- Sertraline 150 mg daily\n- Lisinopril 10 mg daily\n", "sertraline"),
            ("Pt is currently on escitalopram 20 mg.", "escitalopram"),
            ("Plan: continue bupropion XL 300 mg daily; Spravato twice weekly.", "bupropion"),
            ("Oral AD: venlafaxine XR 225 mg daily (ongoing).", "venlafaxine"),
            ("Prior trials: fluoxetine 40 mg x 8 wk, no response; current vortioxetine 20 mg daily.", "vortioxetine"),
            ("Dose: 56 mg (2 x 28 mg devices) | Oral AD: sertraline 200 mg daily (continues)", "sertraline"),
            ("HPI: on sertraline 200 mg daily (current oral AD), reports delayed orgasm.", "sertraline"),
            ("History: no snoring. Bupropion XL 300 mg taken at 07:00. Mood improved.", "bupropion"),
            ("Prior trials: paroxetine 40 mg x 8 weeks, no benefit.\nStill taking venlafaxine XR 150 mg.", "venlafaxine"),
        ] {
            assert_eq!(current_ads(t), vec![want.to_string()], "{t}");
        }
        for t in [
            "Prior trials: sertraline 200 mg x 12 weeks, no response; bupropion 300 mg x 8 weeks, discontinued for anxiety.",
            "Not currently taking any antidepressant; sertraline stopped in 2024.",
            "Consider restarting sertraline if mood worsens.",
            "Mother is on sertraline.",
            "Aripiprazole 5 mg daily, continued.",
        ] {
            assert!(current_ads(t).is_empty(), "{t}: {:?}", current_ads(t));
        }
        assert!(trials("she takes sertraline 150 mg every morning as her current antidepressant and in the past she had citalopram 40 mg a day for 12 weeks with no response")
            .iter()
            .all(|t| t.0 != "sertraline" || !t.1));
        let v = trials_full("- Sertraline 25 mg daily x 10 weeks (2024): no response; per fill history never titrated (label max 200 mg).");
        assert_eq!(v[0].daily_mg, Some(25.0), "{v:?}");
        // Today's dose taken is the course the patient is on, not a trial.
        assert!(trials("History: no snoring. Bupropion XL 300 mg taken at 07:00. Mood improved.").iter().all(|t| !t.1));
        assert!(trials("Sertraline 100 mg taken for 10 weeks, no response.")[0].1);
        // A dose is no clock time.
        assert!(current_ads("Escitalopram was taken at 20 mg for 8 weeks, stopped for nausea.").is_empty());
    }

    #[test]
    fn trials_after_a_coded_diagnosis_a_wrap_and_terse_outcomes() {
        // The negation of "without psychosis" ends at the code or the label.
        for t in [
            "MDD recurrent severe without psychosis (F33.2), TRD: duloxetine 60 mg daily x 10 wks - no response.",
            "MDD w/o psychotic features (F33.2), treatment resistant after nortriptyline 100 mg daily for 10 weeks with no response.",
            "MDD without psychosis, TRD: duloxetine 60 mg daily x 10 wks - no response.",
        ] {
            assert!(trials(t)[0].1, "{t}: {:?}", trials(t));
        }
        // Still negated inside the scope.
        assert!(!trials("Never tried duloxetine (pt preference).")[0].1);
        // An outcome on the line a long sentence was wrapped onto.
        let t = trials("Prior tx: sertraline 150mg daily x 10 wks (Jan-Mar 2025) - minimal response; venlafaxine XR 225mg daily x 12 wks\n(6/2025-9/2025) - partial then lost benefit, tapered off.");
        assert!(t[1].4, "{t:?}");
        let t = trials("Trial history (records reviewed): [x] paroxetine 40 mg/d x 10 wk 2025 - no response  [x] desvenlafaxine 100 mg/d x 8 wk\n  2025 - partial response  [x] aripiprazole 5 mg augmentation x 6 wk - no added benefit");
        assert!(t[1].4, "{t:?}");
        // Bulleted lines are each their own item.
        let t = trials("Trials:\n- sertraline 100 mg x 8 wk, well tolerated and continued for a long time by the patient\n- bupropion 300 mg x 8 wk, no response");
        assert!(!t[0].4, "{t:?}");
        // A manic switch is the trial's outcome.
        assert!(trials("sertraline 100 mg daily x 8 weeks (2024) - induced hypomania, stopped")[0].4);
        // Terse outcomes.
        assert!(trials("fluoxetine 60mg x 10wk (2024) no resp; bupropion SR 150mg bid x 8wk (2025) min resp.")[1].4);
        assert!(trials("venlafaxine XR 300 mg daily x 8 weeks - partial (<25% improvement).")[0].4);
        // A bedtime antidepressant at its antidepressant dose is a trial.
        assert!(trials("mirtazapine 45 mg qhs x 7 weeks, minimal response.")[0].1);
        assert!(!trials("trazodone 50 mg qhs x 6 months, helped sleep.")[0].1);
    }

    #[test]
    fn listed_trials_with_attributes() {
        let t = trials(
            "Prior trials:\n- Sertraline 100 mg daily x 8 weeks, no response\n- Wellbutrin XL 300 mg for 10 wks, stopped due to anxiety\n",
        );
        assert_eq!(t, vec![("sertraline".into(), true, true, true, true), ("bupropion".into(), true, true, true, true)]);
    }

    #[test]
    fn attributes_do_not_leak_between_drugs() {
        let t = trials("Tried fluoxetine and then sertraline 150 mg x 12 weeks with partial response.");
        assert_eq!(t[0].0, "fluoxetine");
        assert!(!t[0].2 && !t[0].3, "{t:?}");
        assert!(t[1].2 && t[1].3 && t[1].4);
    }

    #[test]
    fn negated_hypothetical_family_not_counted() {
        assert!(!trials("She has never tried sertraline.")[0].1);
        assert!(!trials("Consider bupropion if no improvement.")[0].1);
        assert!(!trials("Mother did well on sertraline.")[0].1);
    }

    #[test]
    fn no_response_is_a_trial() {
        let t = trials("No response to escitalopram 20 mg x 8 weeks.");
        assert!(t[0].1, "{t:?}");
    }

    #[test]
    fn sleep_dose_trazodone_not_counted() {
        assert!(!trials("Trazodone 50 mg qhs for sleep, tried for 3 months.")[0].1);
    }

    #[test]
    fn current_med_list_not_a_trial() {
        let t = trials("Current medications:\nSertraline 100 mg daily\nLisinopril 10 mg\n\nPlan: continue.");
        assert!(!t[0].1, "{t:?}");
    }

    #[test]
    fn outcome_with_modifiers_and_shorthand() {
        // An adjective between the quantifier and the outcome noun.
        for t in [
            "Escitalopram 20 mg daily x 12 weeks - no meaningful improvement",
            "Tried Zoloft 100mg x2mo - no effect",
            "Paxil 40 mg for 10 wks; minimal clinically significant benefit",
            "Celexa 20 -> 40 mg over 10 wks, partial",
            "failed Lexapro 20 mg x 8 wk (GI sx)",
            "Effexor XR 225 mg x 8 weeks, inadequate resp",
        ] {
            let tr = trials(t);
            assert_eq!(tr.len(), 1, "{t}");
            assert_eq!((tr[0].1, tr[0].2, tr[0].3, tr[0].4), (true, true, true, true), "{t}: {tr:?}");
        }
    }

    #[test]
    fn arrow_dose_range_takes_the_top() {
        let f = Extractor::builtin().extract_text("Celexa 20 → 40 mg over 10 wks, partial", None);
        assert_eq!(f.trials[0].daily_mg, Some(40.0));
    }

    #[test]
    fn fuzzy_names_are_indexed_by_first_letter() {
        let m = &Extractor::builtin().meds;
        assert_eq!(m.fuzzy_from[0], 0);
        assert_eq!(m.fuzzy_from[26] as usize, m.fuzzy.len());
        assert!(m.fuzzy.len() > 20, "{}", m.fuzzy.len());
        for k in 0..26 {
            let names = &m.fuzzy[m.fuzzy_from[k] as usize..m.fuzzy_from[k + 1] as usize];
            assert!(names.iter().all(|(n, _)| n[0] == b'a' + k as u8), "letter {k}");
        }
    }

    #[test]
    fn misspelled_names_with_a_dose() {
        let v = trials("trials: paroxetine 40 mg x 12 wk no response, venlafaxin XR 225 mg x 8 wk - HTN, stoped");
        assert_eq!(v.iter().filter(|t| t.1).count(), 2, "{v:?}");
        assert!(v.iter().any(|t| t.0 == "venlafaxine" && t.2 && t.3 && t.4), "{v:?}");
        assert_eq!(trials("failed sertaline 100mg x 8 wk (no response)").len(), 1);
        // Without a dose, or far from any name, a word is left alone.
        assert!(trials("Patient is a venlafaxin user.").is_empty());
        assert!(!super::one_edit(b"sertraline", b"sertraline"));
        assert!(super::one_edit(b"escitalopram", b"escitaolpram"));
    }

    #[test]
    fn export_style_trial_attributes() {
        // Side effects as reasons stopped, unitless doses before "x N wks",
        // "without response".
        for t in [
            "Trials: lexapro 20 x 6 wks - GI upset.",
            "Remeron 45 mg 8 wks (wt gain).",
            "phenelzine 60 mg x 8 wk - orthostasis, stopped.",
            "vilazodone 40 mg x 8 wk (GI, stopped).",
            "PRIOR TRIALS INCLUDE DULOXETINE 60 MG FOR 12 WEEKS WITHOUT RESPONSE.",
        ] {
            let v = trials(t);
            assert!(v.len() == 1 && v[0].1 && v[0].2 && v[0].3 && v[0].4, "{t}: {v:?}");
        }
        // Trazodone at an antidepressant dose written "for depression" is a trial.
        assert!(trials("Trials trazodone 150 mg daily x 8 wk for depression - no response").iter().any(|t| t.1));
        // A follow-up interval is not a duration or trial language.
        assert!(trials("Plan: continue Trintellix, RTC 8 wks.").iter().all(|t| !t.1));
        // "Currently on X" alone is a current medication.
        assert!(trials("Currently on Lexapro 20 mg daily").iter().all(|t| !t.1));
    }

    #[test]
    fn outcome_before_the_drugs_and_terse_shorthand() {
        // An outcome phrase in the plural, before both drugs.
        let v =
            trials("She has inadequate responses to vilazodone 40 mg daily for 10 weeks and to desvenlafaxine 100 mg daily for 8 weeks.");
        assert_eq!(v.iter().filter(|t| t.1 && t.2 && t.3 && t.4).count(), 2, "{v:?}");
        // "no help", a unitless dose after an XR name, and "on X" as the current drug.
        let v = trials("Hx prozac 40mg x 8wk no help, effexor xr 225 x 10 wk partial. on lexapro 20.");
        assert_eq!(v.iter().filter(|t| t.1).count(), 2, "{v:?}");
        assert!(v.iter().filter(|t| t.1).all(|t| t.2 && t.3 && t.4), "{v:?}");
    }

    #[test]
    fn current_drug_inside_a_trials_line_is_not_a_trial() {
        let v = trials("Trials: inadequate response to citalopram 40 mg daily x 9 weeks (2022) and venlafaxine XR 225 mg daily x 10 weeks (2024); current vortioxetine 20 mg daily.");
        assert_eq!(v.iter().filter(|t| t.1).count(), 2, "{v:?}");
        assert!(v.iter().any(|t| t.0 == "vortioxetine" && !t.1), "{v:?}");
        // A current drug that was itself a documented trial still counts.
        let v = trials("Failed sertraline 200 mg x 10 wk (no response); currently on bupropion XL 300 mg x 12 weeks, partial response.");
        assert_eq!(v.iter().filter(|t| t.1).count(), 2, "{v:?}");
    }

    #[test]
    fn stopped_then_a_reason_after_a_comma_is_an_outcome() {
        let v = trials("Prior treatments: fluoxetine 40 mg daily x 12 weeks (2021) - no response; bupropion XL 300 mg daily x 8 weeks (2023) - stopped, anxiety.");
        assert!(v.iter().all(|t| t.1 && t.4) && v.len() == 2, "{v:?}");
    }

    #[test]
    fn an_arrow_from_partial_is_an_outcome() {
        let v = trials("Hx AD trials: citalopram 40mg x10wk (no resp); nortriptyline 100mg x12wk (lvl 92) partial->lost, d/c'd.");
        assert!(v.iter().all(|t| t.1 && t.4), "{v:?}");
        assert_eq!(v.len(), 2);
        // "NR": no response, in capitals only.
        let v = trials("Hx: sertraline 200mg x10wk (2021) NR; desvenlafaxine 100mg x8wk (2022) partial->stopped.");
        assert!(v.iter().all(|t| t.1 && t.4) && v.len() == 2, "{v:?}");
    }

    #[test]
    fn a_drug_started_after_a_washout_is_no_trial() {
        let v = trials("Antidepressant trials:\n  phenelzine 60 mg daily x 10 weeks (2018) - partial response; stopped for orthostatic hypotension; 14-day MAOI washout before sertraline was started");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["phenelzine"], "{v:?}");
    }

    #[test]
    fn side_effects_of_the_current_drug_are_not_a_trial() {
        let t = "E/M - separate problem: sexual dysfunction and early insomnia on sertraline; med management.\nMeds: sertraline 200 mg daily.\nPast trials: bupropion XL 300 mg x 10 weeks - no response.";
        let v = trials(t);
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["bupropion"], "{v:?}");
        // Not current: the same complaint is the story of an ended trial.
        let v = trials("Nausea and insomnia on sertraline; switched to bupropion XL 300 mg x 10 weeks, no response.");
        assert!(v.iter().any(|t| t.0 == "sertraline" && t.1), "{v:?}");
        // Managing the current course is not a trial told, and a follow-up
        // interval is not its duration.
        let v = trials("MDM: SSRI adverse effects weighed against benefit; decided to reduce sertraline to 150 mg and add sleep hygiene; recheck in 4 weeks.");
        assert!(v.iter().all(|t| !t.1 && !t.3), "{v:?}");
        let v = trials("Plan: start bupropion XL 150 mg daily, RTC 6 weeks.");
        assert!(v.iter().all(|t| !t.1), "{v:?}");
        // A change that is itself the end of a trial still counts.
        let v = trials("Increasing sertraline to 200 mg x 8 weeks did not help.");
        assert!(v.iter().any(|t| t.0 == "sertraline" && t.1), "{v:?}");
        // Current, but the complaint ended a course: still a trial.
        let v = trials("Sertraline stopped due to insomnia after 6 weeks.\nCurrent meds: sertraline 50 mg daily (restarted).");
        assert!(v.iter().any(|t| t.0 == "sertraline" && t.1), "{v:?}");
        // A dose change of the current drug, told with no duration or failure.
        let t = "HPI: onset 6 weeks ago after escitalopram went from 10 to 20 mg; affecting his relationship; mood benefit from esketamine continuing.\nTrials: fluoxetine 40 mg x 10 weeks - no response; duloxetine 90 mg x 8 weeks - partial. Current AD: escitalopram 20 mg.";
        let v = trials(t);
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["fluoxetine", "duloxetine"], "{v:?}");
        // Someone else's drug.
        let v =
            trials("[3] The \"Lexapro\" in the 2025 referral letter is her mother's medication; the patient has never taken escitalopram.");
        assert!(v.iter().all(|t| !t.1), "{v:?}");
        // A plan that keeps the current drug.
        let v = trials("Plan: referral for CBT-I; melatonin 3 mg; no change to vortioxetine; recheck in 4 weeks.");
        assert!(v.iter().all(|t| !t.1), "{v:?}");
        // The note says so.
        let v = trials("Current oral AD - vortioxetine 10 mg daily, since spring (continuing; not a failed trial)");
        assert!(v.iter().all(|t| !t.1), "{v:?}");
    }

    #[test]
    fn a_test_dose_is_not_the_trial_dose() {
        let f = Extractor::builtin()
            .extract_text("- sertraline 25 mg daily x 12 weeks (2021) - no response; never titrated (GI upset at 50 mg test dose)", None);
        assert_eq!(f.trials[0].daily_mg, Some(25.0));
        let f = Extractor::builtin().extract_text("sertraline 50 mg, increased to 150 mg daily x 10 wk, no response", None);
        assert_eq!(f.trials[0].daily_mg, Some(150.0));
    }

    #[test]
    fn allergy_list_entries_are_not_trials() {
        let v = trials("Allergies: penicillin (hives); bupropion (rash)\nPrior trials: sertraline 150 mg x 10 weeks, no response.");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["sertraline"], "{v:?}");
        let v = trials("Past trials: paroxetine 40 mg x 10 weeks, no response.\nAllergies: penicillin (hives), mirtazapine - swelling");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["paroxetine"], "{v:?}");
        let v = trials("DRUG_ALLERGIES: CODEINE (ITCH); BUPROPION (SEIZURE)");
        assert!(v.iter().all(|t| !t.1), "{v:?}");
        // Past the allergy list (a new label or sentence), a trial counts again.
        let v = trials("Allergies: none known. Prior: mirtazapine 30 mg x 8 wks, no benefit.");
        assert!(v.iter().any(|t| t.0 == "mirtazapine" && t.1), "{v:?}");
    }

    #[test]
    fn a_course_started_at_this_visit_is_not_a_trial() {
        let v = trials("Failed citalopram 40 mg x 10 wks. Starting vortioxetine 10 mg today, up to 20 mg after 2 weeks.");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["citalopram"], "{v:?}");
        let v = trials("Mirtazapine 15 mg qhs added tonight, increase in 1 wk.");
        assert!(v.iter().all(|t| !t.1), "{v:?}");
        // "she currently takes bupropion XL 300 mg daily" after the trials.
        let v = trials("Two failed trials: escitalopram 20 mg daily for 12 weeks with no response, and venlafaxine XR 225 mg daily for 10 weeks with partial response, stopped; she currently takes bupropion XL 300 mg daily.");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["escitalopram", "venlafaxine"], "{v:?}");
        // Sub-bullets typed as "o": each is its own item.
        let v = trials("Prior trials:\n   o Citalopram 40 mg daily x 12 weeks (2021) - no response\n   o Zoloft - \"a few months\" in his 30s, \"didn't do anything\"\n   o Current: mirtazapine 30 mg qhs (continuing)");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["citalopram", "sertraline"], "{v:?}");
        // Its course judged in another sentence is still that course.
        let v = trials("Venlafaxine XR was started 3 weeks ago at 75 mg and increased to 150 mg last week. Escitalopram 20 mg daily for 10 weeks in 2025 with no response, stopped.\nAssessment: partial early response to venlafaxine XR; side effects tolerable.");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["escitalopram"], "{v:?}");
        // Started a few weeks ago and still taken: the current course.
        let v = trials("Started escitalopram 10 mg 3 weeks ago, some improvement in sleep, mood still low. Prior: sertraline 100 mg daily x 8 weeks (2024), partial response, stopped.");
        assert_eq!(v.iter().filter(|t| t.1).map(|t| t.0.as_str()).collect::<Vec<_>>(), vec!["sertraline"], "{v:?}");
        let v = trials(
            "Consultant recommendation: continue sertraline titration; consider esketamine referral only if the next adequate trial fails.",
        );
        assert!(v.iter().all(|t| !t.1), "{v:?}");
        // Started at a past date with an outcome is a trial told.
        let v = trials("Started bupropion 300 mg in March, 10 weeks, no response.");
        assert!(v.iter().any(|t| t.0 == "bupropion" && t.1), "{v:?}");
    }

    #[test]
    fn a_narrated_trial_runs_on_over_sentences_about_it() {
        // Dose in one sentence, duration and outcome in the ones after.
        let v = trials("Her psychiatrist then tried paroxetine, going up to 40 mg daily. She stayed on it for ten weeks. It helped her sleep but her mood did not improve and she stopped it.");
        assert_eq!(v, vec![("paroxetine".into(), true, true, true, true)], "{v:?}");
        let v = trials("He was given escitalopram 20 mg for nine weeks without any change in his mood.");
        assert!(v.iter().any(|t| t.0 == "escitalopram" && t.4), "{v:?}");
        // A sentence about someone or something else is not absorbed.
        let v = trials("She tried paroxetine 40 mg daily. Her brother stayed on it for ten weeks.");
        assert!(v.iter().all(|t| !t.3), "{v:?}");
    }

    #[test]
    fn continuation_lines_attach() {
        let t = trials("Medication: Venlafaxine XR\nDose: 225 mg\nDuration: 10 weeks\nOutcome: inadequate response\n");
        assert_eq!(t, vec![("venlafaxine".into(), true, true, true, true)]);
    }
}
