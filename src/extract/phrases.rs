//! Documentation phrases (REMS, prior authorization, discharge readiness,
//! vague history, sedation, supervision...), the administered dose, the
//! treatment track signals, ICD-10 codes written in the text, and the
//! note's E/M structure.
//!
//! Patterns come from `dictionaries/phrases.toml`; this module adds the
//! polarity logic a pattern alone cannot express: "PA approved" vs "PA
//! pending", "REMS form submitted" vs "REMS form not yet submitted",
//! "Discharge criteria met: No".

use std::sync::OnceLock;

use regex::Regex;

use super::context::Assertion;
use super::text::{parse_number, SectionKind, NUM};
use super::timing::clause;
use super::{DoseFact, EvKind, Evidence, NoteCtx, NoteFacts};
use crate::dict::{Dictionaries, PhraseKind};

/// Compiled phrase patterns and polarity checks.
pub struct PhraseExtractor {
    phrases: Vec<(PhraseKind, String, super::re::Lc)>,
    p: Pats,
}

struct Pats {
    answer_no: Regex,
    /// A number that dates a planned scale ("HAM-D at week 4").
    scale_when: Regex,
    /// A plan before a scale's name ("plan HAM-D", "will repeat PHQ-9").
    scale_planned: Regex,
    /// A year right after a suicidal-ideation mention ("attempt 2021").
    si_year_after: Regex,
    /// A history label right before one ("Hx", "h/o").
    si_hx_before: Regex,
    /// A weight-based dose worked out or equated right after ("x 64 kg", "=").
    mgkg_worked_out: Regex,
    not_yet: Regex,
    dx_descriptor: Regex,
    rems_neg: Regex,
    /// The treatment setting's REMS certification is not in place.
    site_not_certified: Regex,
    /// Whose certification a REMS mention is about: a person or pharmacy,
    /// or the treatment setting.
    certified_person: Regex,
    setting_word: Regex,
    /// A line that names the blood pressure (a `bp_management` mention's).
    bp_named: Regex,
    /// An enrollment stated as confirmed or complete, not only sent.
    enrollment_confirmed: Regex,
    rems_affirm: Regex,
    form_done: Regex,
    pa_yes: Regex,
    pa_no: Regex,
    esk: Regex,
    esk_all: super::re::Lc,
    ketamine: super::re::Lc,
    iv_ctx: Regex,
    oral_ctx: Regex,
    admin_ctx: super::re::Lc,
    esk_mg: super::re::Lc,
    devices: super::re::Lc,
    device_idx: super::re::Lc,
    single_device: Regex,
    home_rx: Regex,
    total_mg: super::re::Lc,
    not_this_dose: Regex,
    mgkg: super::re::Lc,
    weight: super::re::Lc,
    ket_mg: super::re::Lc,
    icd: Regex,
    dx_ctx: Regex,
    ndc: super::re::Lc,
    note_type_esk: Regex,
    note_type_iv: Regex,
    note_type_oral: Regex,
    mdsi_label: Regex,
    si_answer_no: Regex,
    /// A waiver or ABN statement that says it is not signed.
    waiver_not_signed: Regex,
    /// A hospital stay's reason right before a suicidal-ideation mention.
    si_admitted_for: Regex,
    /// An ICD-10 code right before one (the code's description).
    si_code_before: Regex,
    /// A condition right before an authorization mention ("once the", "until
    /// her"): what follows is awaited, not stated.
    pa_condition: Regex,
    /// A certification's paperwork sent ("certification submitted", "faxed
    /// the certification form").
    certification_sent: Regex,
}

/// Suffix of a REMS site evidence value when the mention says the setting
/// is not (yet) certified.
pub const SITE_NOT_CERTIFIED: &str = " (setting not certified)";

/// Suffix of a `bp_management` evidence value whose line names the blood
/// pressure ("MD notified of BP 158/96", "cleared to proceed despite HTN").
pub const BP_NAMED: &str = " (BP named)";

fn re(p: &str) -> Regex {
    super::re::ci(p)
}

impl PhraseExtractor {
    /// Compile from dictionaries.
    pub fn new(dict: &Dictionaries) -> Self {
        use rayon::prelude::*;
        // Compiled on the rayon workers: the phrases alone are about a fifth
        // of a scan's start-up.
        let phrases = dict.phrases.par_iter().map(|p| (p.kind, p.id.clone(), super::re::Lc::new(&p.pattern))).collect();
        PhraseExtractor {
            phrases,
            p: Pats {
                not_yet: re(r"\b(?:will|to\s+be|plan\w*|once|when|until|arrival|admission|intake|before)\b"),
                // The text before "psychotic features/symptoms" in a diagnosis
                // name: "MDD recurrent severe w/ ", "major depressive disorder,
                // single episode, severe, with ", "F33.3 - severe with ".
                dx_descriptor: re(r"(?:\bmdd|\bdepress\w*|\bsevere|\brecurrent|\bepisode|\bF3[23]\.3\w*)[\s,()\-–:]*(?:with|w/|w)\s*$"),
                answer_no: re(&format!(
                    r"^\s*(?:[:?=\-]\s*|\?\s*)?(?:no\b|n\b|not\s+(?:yet\s+)?met|false\b|{})",
                    super::text::UNCHECKED_RE
                )),
                scale_when: re(r"\b(?:week|wk|visit|session|month|day|dose|infusion|tx|treatment|next|in)\s*#?\s*\d+$"),
                scale_planned: re(
                    r"\b(?:plan(?:ned|s)?|will\s+(?:do|repeat|obtain|administer|check|get)|to\s+(?:do|repeat|obtain))\s*:?\s*$",
                ),
                si_year_after: re(r"^\s*(?:in\s+|on\s+)?\(?\s*(?:19|20)\d{2}\b"),
                si_hx_before: re(r"\b(?:hx|h/o)\.?\s*:?\s*(?:of\s+)?(?:passive\s+|active\s+|prior\s+)?$"),
                mgkg_worked_out: re(r"^\s*(?:[x×*]\s*\d+(?:\.\d+)?\s*kg\b|=)"),
                rems_neg: re(
                    r"\b(?:not|never|pending|yet|will|to\s+be|overdue|missing|unable|needs?\s+to|has\s*n[o']t|hasn'?t|incomplete|outstanding|awaiting|due\b|not\s+been|no\s+record|unknown|unclear|unverified|expired|lapsed|could\s+not|cannot|can't|failed\s+to|forgot|deferred|tbd|n/a)\b",
                ),
                enrollment_confirmed: re(r"\b(?:confirmed|complete[d]?|active|processed|approved|verified|on\s+file)\b"),
                certified_person: re(r"\b(?:prescriber|pharmacy|pharmacist|provider|physician|doctor|dr|np|md|do|pa-c|pmhnp)\b"),
                setting_word: re(r"\b(?:site|setting|clinic|office|location|facility|suite|center|centre|practice|campus)\b"),
                bp_named: re(r"\b(?:bp|b/p|blood\s+pressures?|sbp|dbp|htn|hypertensi\w*|vitals?|v/s|vs)\b|\b\d{2,3}\s*/\s*\d{2,3}\b"),
                site_not_certified: re(
                    r"\b(?:not|never|pending|awaiting|expired|lapsed|revoked|suspended|uncertified|not\s+yet|no\s+longer|in\s+(?:process|progress)|under\s+review|application|applied\s+for)\b|n't\b",
                ),
                rems_affirm: re(
                    r"\b(?:enrolled|enrol?lment|registered|registration|certified|certification|submitted|completed|complete|faxed|sent|filed|entered|done|uploaded|transmitted|verified|confirmed|on\s+file|active|attested|documented|compliant|compliance|id|#|number|no\.|yes|y)\b|#|:\s*\w*\d",
                ),
                form_done: re(
                    r"\b(?:submitted|completed|complete|faxed|sent|filed|entered|done|uploaded|transmitted|signed|finalized|filled(?:\s+(?:out|in))?|submitted\s+online|submission\s+(?:receipt|confirm\w*)|confirmation\s+(?:no|number|#)|yes|true)\b",
                ),
                pa_yes: re(
                    r"\bexp(?:ires|iring|\.)?\s*(?:on\s+)?\d|\b(?:approved|approval|appr|apprv?d|aprvd|on\s+file|obtained|granted|valid|active|in\s+place|authorized|secured|current|confirmed|received|effective)\b|(?:#|\bno\.?|\bnumber|\bnum|\bid)\s*[:=]?\s*[A-Z0-9-]*\d[A-Z0-9-]{2,}|\b[A-Z]{1,4}-?\d{5,}\b",
                ),
                pa_no: re(
                    r"\b(?:pending|submitted|awaiting|requested|request|in\s+process|in\s+review|under\s+review|denied|denial|rejected|not\s+required|not\s+needed|no\s+(?:prior\s+)?auth\w*|expired|lapsed|appeal\w*|not\s+(?:yet\s+)?(?:approved|obtained|on\s+file|received|active|granted|authori[sz]ed)|none(?:\s+on\s+file)?|without|needed|needs|required\s+but|will\s+(?:submit|request|obtain)|to\s+be\s+(?:submitted|obtained)|n/a|not\s+applicable)\b",
                ),
                esk: re(r"\b(?:spravato|esketamine|es-ketamine|esk)\b"),
                esk_all: super::re::Lc::new(r"\b(?:spravato|esketamine|es-ketamine|esk)\b"),
                ketamine: super::re::Lc::new(r"\bketamine\b|\bketalar\b"),
                iv_ctx: re(r"\b(?:iv|i\.v\.|intravenous\w*|infusion|infused|drip|mg/kg|pump)\b"),
                oral_ctx: re(
                    r"\b(?:oral|orally|po|p\.o\.|sublingual\w*|sl|troches?|lozenges?|rdts?|odts?|tablets?|capsules?|compounded|buccal)\b",
                ),
                admin_ctx: super::re::Lc::new(
                    r"\b(?:device|devices|administ\w*|self[- ]?admin\w*|intranasal|nasal\s+spray|sprays?|dose|dosed|mg|session|treatment|monitor\w*|given)\b",
                ),
                esk_mg: super::re::Lc::new(r"\b(?P<n>28|56|84)\s*mg\b"),
                devices: super::re::Lc::new(&format!(
                    r"\b(?P<n>{NUM})\s*(?:x\s*)?(?:\(?\s*28\s*-?\s*mg\s*\)?\s*)?(?:nasal\s+spray\s+)?devices?\b|\bdevices?\s*(?:used|administered|given)?\s*(?:[:=#]|x)\s*(?P<n2>[1-3])\b|\b(?P<n3>[1-3])\s*x\s*28\s*-?\s*mg\b"
                )),
                device_idx: super::re::Lc::new(
                    r"\b(?:devices?|devs?\.?)\s*#?\s*(?:[1-3]\s*(?:-|–|,|/|&|and|to)\s*)*(?P<n>[1-3])\b|\b(?P<w>first|second|third|1st|2nd|3rd)\s+(?:nasal\s+spray\s+)?device\b|(?m:^[ \t>*\-]*D(?P<d>[1-3])\b\s*[:\-@]?\s*(?:at\s+)?(?:\d{1,2}:\d{2}|\d{4}\b|given|administered|done|self[- ]?admin\w*))",
                ),
                single_device: re(
                    r"\b(?:device|dev\.?)\s*#?\s*[1-3]\b|\b(?:first|second|third|1st|2nd|3rd|one|each|every|per|single)\s+(?:\w+\s+)?device\b|\bD[1-3]\b|\b28\s*mg\s*(?:/|per|each|ea\b)",
                ),
                home_rx: re(
                    r"\b(?:at\s+home|home\s+(?:dose|dosing|use|supply|oral|ketamine|rdts?|troches?)|take[- ]?home|rx\b|prescri\w*|refills?|dispens\w*|pharmacy|mail[- ]order|supply\s+of|(?:once|twice|three\s+times)\s+(?:a\s+|per\s+)?(?:week|weekly|wk))",
                ),
                total_mg: super::re::Lc::new(
                    r"\b(?:total(?:\s+(?:dose|mg|of|administered|given|this\s+admin(?:istration)?|today))?|dose\s+(?:given|administered|today|total)|today'?s\s+dose|administered\s+dose|dose)\s*(?:of|:|=|-|was|is)?\s*(?P<n>\d+(?:\.\d+)?)\s*mg\b|\b(?:total(?:\s+dose)?|dose)\s*(?:\(\s*mg\s*\)|mg)\s*[:=]?\s*(?P<n2>\d+(?:\.\d+)?)\b",
                ),
                not_this_dose: re(
                    r"\b(?:last|previous|prior|next|future|yesterday|planned?|plan\s+to|will|would|increase\s+to|decrease\s+to|titrate\s+to|titrating\s+to|consider|recommend\w*|induction|maintenance\s+dose\s+of|label\w*|approved\s+dos\w*|approved\s+for|authori[sz]ed\s+for|or\b|vs\.?|versus|up\s+to|max\w*|scheduled|dispensed\s+to|to\s+use\s+at\s+home|for\s+(?:use\s+at\s+)?home(?:\s+use)?)\b|(?:^|[^\d:.])\d{1,3}[-–]$",
                ),
                // "0.5 mg/kg", or a flowsheet row with the unit in its label:
                // "Dose (mg/kg)<tab>0.5".
                mgkg: super::re::Lc::new(
                    r"(?P<n>\d+(?:\.\d+)?)\s*mg\s*(?:/|per)\s*(?:kg|kilograms?|kilo)\b|\b(?:dose|ketamine(?:\s+dose)?)\s*[(\[]\s*mg\s*/\s*kg\s*[)\]]\s*[:=\-]?\s*(?P<n2>\d+(?:\.\d+)?)\b",
                ),
                weight: super::re::Lc::new(
                    r"\b(?:weight|wt|weighs|weighing)(?:\s+(?:today|this\s+morning|on\s+arrival|at\s+check[\s-]*in))?\s*(?:of|:|=|-|was|is)?\s*(?P<n>\d{2,3}(?:\.\d+)?)\s*(?P<u>kg|kilograms?|lbs?|pounds?)\b|\b(?P<n2>\d{2,3}(?:\.\d+)?)\s*(?P<u2>kg)\b|\b(?:weight|wt)\s*[(\[]\s*(?P<u3>kg|lbs?)\s*[)\]]\s*[:=\-]?\s*(?P<n3>\d{2,3}(?:\.\d+)?)\b",
                ),
                ket_mg: super::re::Lc::new(
                    r"\bketamine\b[^.;\n]{0,40}?\b(?P<n>\d+(?:\.\d+)?)\s*mg\b(?P<kg>\s*(?:/|per)\s*(?:kg|kilograms?|kilo)\b)?|\b(?P<n2>\d+(?:\.\d+)?)\s*mg\b(?P<kg2>\s*(?:/|per)\s*(?:kg|kilograms?|kilo)\b)?[^.;\n]{0,25}?\bketamine\b",
                ),
                icd: re(r"\b(?P<c>[A-TV-Z]\d[0-9AB](?:\.[0-9A-Z]{1,4}|[0-9A-Z]{1,4})?)\b"),
                dx_ctx: re(r"\b(?:dx|diagnos\w*|icd|impression|assessment|code)\b"),
                ndc: super::re::Lc::new(r"\bNDC\b[\s#:]*\d{4,5}-\d{3,4}-\d{1,2}\b"),
                note_type_esk: re(r"spravato|esketamine|\besk\b|intranasal"),
                note_type_iv: re(r"infusion|\biv\b|intravenous"),
                note_type_oral: re(r"oral|sublingual|troche|\bsl\b|lozenge"),
                // The MDSI indication's name, which contains the words
                // "suicidal ideation" without documenting any.
                mdsi_label: re(r"(?:with|w/)\s+(?:acute\s+)?suicidal\s+(?:ideation|thoughts)(?:\s+(?:or|and|and/or)\s+|\s*/\s*)behaviou?r"),
                waiver_not_signed: re(r"\b(?:not|never|un)\s*(?:yet\s+|been\s+)*(?:signed|on\s+file)\b|n't\s+(?:been\s+)?signed\b"),
                si_admitted_for: re(
                    r"\b(?:admission|admitted|hospitali[sz]\w*|inpatient\s+(?:stay|admission|unit)|psych(?:iatric)?\s+(?:unit|hold|admission))\b[^.;]*\bfor\s+(?:\w+\s+){0,2}$",
                ),
                si_code_before: re(r"\b[A-TV-Z]\d{2}\.?[0-9A-Z]{0,4}\s*[-–:]?\s*$"),
                certification_sent: re(
                    r"\bcertification\b[^,;]{0,40}?\b(?:submitted|sent|faxed|filed|mailed|uploaded)\b|\b(?:submitted|sent|faxed|filed|mailed|uploaded)\b[^,;]{0,30}?\bcertification\b",
                ),
                pa_condition: re(
                    r"\b(?:once|until|till|unless|if|as\s+soon\s+as|pending)\s+(?:(?:the|a|an|her|his|their|insurance|payer|plan)'?s?\s+)*$",
                ),
                // "SI: denies", "SI/HI - neg", "SI: none", "suicidal ideation: no".
                si_answer_no: re(
                    r"^\s*(?:/\s*(?:HI|homicidal\s+ideation)\s*)?(?:[:=\-–]\s*|\s)\s*(?:denie[sd]|neg\w*|none|no\b|not\s+present|absent|0\b|nil\b|\(-\)|-\s*$)",
                ),
            },
        }
    }

    /// The dictionary phrase patterns, by id, then the track and dose
    /// pass's patterns: the ones
    /// [`super::Extractor::pattern_costs`] times and the scan searches
    /// ahead (their order is their slot order).
    pub(crate) fn whole_note_patterns(&self) -> impl Iterator<Item = (String, &super::re::Lc)> {
        let p = &self.p;
        // The track and dose pass's own patterns, each run where the
        // presence set says it matches.
        let dose = [
            ("admin_ctx", &p.admin_ctx),
            ("esk_all", &p.esk_all),
            ("ketamine", &p.ketamine),
            ("total_mg", &p.total_mg),
            ("esk_mg", &p.esk_mg),
            ("devices", &p.devices),
            ("device_idx", &p.device_idx),
            ("mgkg", &p.mgkg),
            ("weight", &p.weight),
            ("ket_mg", &p.ket_mg),
            ("ndc", &p.ndc),
        ];
        let phrases = self.phrases.iter().map(|(_, id, r)| (format!("phrase {id}"), r));
        phrases.chain(dose.into_iter().map(|(n, r)| (format!("dose {n}"), r)))
    }

    /// How many dictionary phrase patterns there are (the first entries of
    /// [`PhraseExtractor::whole_note_patterns`]).
    pub(crate) fn phrase_count(&self) -> usize {
        self.phrases.len()
    }

    /// Extract phrase evidence, doses, track signals, codes and E/M features.
    pub fn extract(&self, ctx: &NoteCtx<'_>, note_type: Option<&str>, facts: &mut NoteFacts) {
        let text = ctx.text;
        // REMS mentions already taken, with their kind: a specific statement
        // (enrollment, monitoring form, site) hides only an overlapping one of
        // the same kind and every bare "REMS", so "REMS monitoring form
        // submitted; pt enrolled" is both a form and an enrollment statement.
        let mut rems_spans: Vec<(std::ops::Range<usize>, PhraseKind)> = Vec::new();
        // One pass (the prepared note's presence set) tells which phrases
        // occur at all; only those are searched for their positions.
        for (i, (kind, id, r)) in self.phrases.iter().enumerate() {
            if ctx.found.present().is_some_and(|p| !p.matched(i)) {
                continue;
            }
            for m in ctx.find_iter(r) {
                let m = super::text::Span::new(text, m);
                let span = m.start()..m.end();
                let mut a = ctx.context.assess(span.clone());
                let mut counts = a.is_patient_fact();
                // REMS, authorization and discharge statements are about this
                // visit and site, never a relative's or a past history: a
                // family or history section whose scope ran on past its own
                // lines ("Family hx: sister responded to X." then the REMS
                // lines) does not negate them.
                let visit_fact = !(a.negated || a.hypothetical || a.possible);
                let mut value = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
                let cl = clause(text, m.start());
                let ev_kind = match kind {
                    PhraseKind::DischargeReady | PhraseKind::Transport => {
                        let after = super::text::sub(text, m.end()..m.end() + 16);
                        counts = visit_fact;
                        // A negation cue after the statement ("criteria met,
                        // dissociation resolved", "steady gait, nausea none")
                        // is about the symptoms listed after it.
                        if a.negated && !(a.hypothetical || a.possible) {
                            let (_, cue) = ctx.context.assess_with_cue(span.clone());
                            if cue.is_some_and(|c| c.start >= span.end) {
                                counts = true;
                            }
                        }
                        if self.p.answer_no.is_match(after) {
                            counts = false;
                        }
                        // "A&Ox3 on arrival, will be discharged after 2 h": an
                        // admission finding and a plan, not a readiness check.
                        if id.as_str() == "assessed-then-discharged" && self.p.not_yet.is_match(m.as_str()) {
                            counts = false;
                        }
                        if *kind == PhraseKind::DischargeReady {
                            EvKind::DischargeReady
                        } else {
                            EvKind::Transport
                        }
                    }
                    PhraseKind::RemsEnrollment | PhraseKind::RemsForm | PhraseKind::RemsSite | PhraseKind::RemsGeneric => {
                        if rems_spans
                            .iter()
                            .any(|(s, k)| s.start < span.end && span.start < s.end && (*k == *kind || *kind == PhraseKind::RemsGeneric))
                        {
                            continue;
                        }
                        // A mention wrapped across a line ("Patient Monitoring\nForm
                        // submitted") reads on to the end of its last line's clause.
                        let cl = cl.start..cl.end.max(clause(text, m.end().saturating_sub(1)).end);
                        let clause_text = super::text::sub(text, cl.clone());
                        // Status words count near the mention, not anywhere in a
                        // run-on dictated clause ("who is enrolled in the REMS
                        // program and ... her husband who will be driving").
                        let near = super::text::sub(text, cl.start.max(m.start().saturating_sub(80))..(m.end() + 40).min(cl.end));
                        let neg = self.p.rems_neg.is_match(near) || !visit_fact;
                        let affirmed = match kind {
                            PhraseKind::RemsForm => self.p.form_done.is_match(clause_text),
                            PhraseKind::RemsEnrollment | PhraseKind::RemsSite => true,
                            _ => self.p.rems_affirm.is_match(clause_text),
                        };
                        // "REMS enrollment form signed today and faxed": the
                        // paperwork is sent, the enrollment not yet confirmed.
                        let paperwork = *kind == PhraseKind::RemsEnrollment && {
                            let tail =
                                super::text::sub(text, m.end()..(m.end() + 16).min(cl.end.max(m.end()))).trim_start().to_ascii_lowercase();
                            ["form", "paperwork", "application", "request", "packet"].iter().any(|w| tail.starts_with(w))
                                && !self.p.enrollment_confirmed.is_match(clause_text)
                        };
                        let neg = neg || paperwork;
                        counts = affirmed && !neg && !question_answered_no(text, m.end());
                        let sub = match kind {
                            PhraseKind::RemsEnrollment => "enrollment",
                            PhraseKind::RemsForm => "monitoring_form",
                            PhraseKind::RemsSite => "site_certified",
                            _ => "rems",
                        };
                        value = format!(
                            "{sub}: {}",
                            if counts {
                                "affirmed"
                            } else if neg {
                                "negated or pending"
                            } else {
                                "mentioned"
                            }
                        );
                        // The setting's certification said to be missing in
                        // the mention's own comma-delimited part ("Hillsboro
                        // setting certification: application submitted to
                        // the REMS - confirmation not yet received"), read by
                        // esk-rems-site-not-certified. Another item's status
                        // ("site certified, pt enrollment pending") is not it.
                        if *kind == PhraseKind::RemsSite && !(a.hypothetical || a.family || a.possible) {
                            let lead = super::text::sub(text, cl.start..m.start());
                            let from = lead.rfind([',', ';']).map_or(cl.start, |i| cl.start + i + 1);
                            let tail = super::text::sub(text, m.end()..cl.end.max(m.end()));
                            let to = tail.find([',', ';']).map_or(cl.end.max(m.end()), |i| m.end() + i);
                            let part = super::text::sub(text, from..to);
                            // A prescriber's or pharmacy's certification is not the setting's.
                            let the_setting = self.p.setting_word.is_match(part) || !self.p.certified_person.is_match(part);
                            // "setting certification submitted to the REMS":
                            // the application is sent, the setting not yet
                            // certified.
                            let applied = self.p.certification_sent.is_match(part) && !self.p.enrollment_confirmed.is_match(part);
                            if the_setting && (self.p.site_not_certified.is_match(part) || applied) {
                                value.push_str(SITE_NOT_CERTIFIED);
                            }
                        }
                        rems_spans.push((span.clone(), *kind));
                        EvKind::Rems
                    }
                    PhraseKind::Pa => {
                        let mut pcl = pa_clause(text, cl.clone(), span.clone());
                        // A dictated heading ("Authorization. United Healthcare
                        // approval number ..., approved ..."): the status is in
                        // the sentence after it.
                        let bare = super::text::sub(text, pcl.start..span.start).trim().is_empty()
                            && super::text::sub(text, span.end..pcl.end).trim_matches(|c: char| c.is_whitespace() || c == ':').is_empty();
                        if bare && text.as_bytes().get(pcl.end) == Some(&b'.') && text.as_bytes().get(pcl.end + 1) == Some(&b' ') {
                            pcl = pcl.start..clause(text, pcl.end + 2).end;
                        }
                        // A flowsheet row's label ("Auth | BCBS 25-KT-019338
                        // approved ..."): its value is the rest of the row.
                        if m.as_str().ends_with('|') {
                            pcl = pcl.start..pcl.end.max(line_of(text, m.start()).end);
                        }
                        let clause_text = super::text::sub(text, pcl.clone());
                        let mut status = self.pa_status(clause_text, m.start() - cl.start);
                        // "start Spravato once the prior authorization is
                        // approved": a condition, not a status.
                        let lead = super::text::sub(text, pcl.start.min(m.start())..m.start());
                        if status == "approved" && self.p.pa_condition.is_match(lead) {
                            status = "not approved";
                        }
                        counts = status == "approved" && visit_fact;
                        value = format!("prior auth: {status}");
                        let line = super::text::sub(text, line_of(text, m.start()));
                        // The esketamine drug code the authorization names
                        // ("approved for S0013"), read by the rule against the
                        // billed code: S0013 became J0013 on 2026-01-01.
                        let codes = pa_drug_codes(clause_text);
                        let codes = if codes.is_empty() { pa_drug_codes(line) } else { codes };
                        if !codes.is_empty() {
                            value.push_str(&format!(" for {}", codes.join(",")));
                        }
                        // The approval's date window, read by the encounter
                        // against the date of service ("valid 2026-01-05..2026-07-04").
                        if let Some((from, to)) = pa_window(if pa_dates(clause_text).is_empty() { line } else { clause_text }) {
                            let f = from.map(|d| d.to_string()).unwrap_or_default();
                            value.push_str(&format!(" valid {f}..{to}"));
                        }
                        EvKind::PriorAuth
                    }
                    PhraseKind::VagueHistory => EvKind::VagueHistory,
                    PhraseKind::Sedation => {
                        counts = true; // an assessment is documentation even when "no sedation"
                        EvKind::Sedation
                    }
                    PhraseKind::Resolution => {
                        // "dissociation resolved" reads as a negated symptom; the resolution itself is affirmed.
                        counts = !a.hypothetical && !a.family;
                        EvKind::Resolution
                    }
                    PhraseKind::Supervision => {
                        // "Q: Prescriber present? A: Dr. X off-site today";
                        // "administration not observed" carries its own no.
                        if question_answered_no(text, m.end()) {
                            counts = false;
                            a.negated = true;
                            value.push_str(" (answered no)");
                        } else if value.split_whitespace().any(|w| w == "not" || w == "never") {
                            counts = false;
                            a.negated = true;
                        }
                        EvKind::Supervision
                    }
                    PhraseKind::SafetyScreen => {
                        // "denies aneurysm" and "hx of ICH" are documented
                        // screens; "will screen for aneurysm at intake" and
                        // "mother had a brain aneurysm" are not the patient's.
                        counts = !(a.hypothetical || a.family);
                        EvKind::SafetyScreen
                    }
                    PhraseKind::SeverityScale => {
                        // "plan HAM-D at week 4", "PHQ-9 next visit 2": a
                        // number that dates a planned scale is not a score.
                        let before = super::text::sub(text, line_of(text, m.start()).start.max(m.start().saturating_sub(24))..m.start());
                        if self.p.scale_when.is_match(m.as_str()) || self.p.scale_planned.is_match(before) {
                            counts = false;
                        }
                        EvKind::SeverityScale
                    }
                    PhraseKind::Stub => EvKind::Stub,
                    PhraseKind::Psychosis => {
                        // "MDD recurrent severe w/ psychotic features (F33.3)"
                        // names the coded diagnosis; it does not document a
                        // psychotic feature (rules-reference 2.1), which
                        // needs the finding itself (hallucinations, delusions).
                        let line = line_of(text, m.start());
                        let before = super::text::sub(text, line.start.max(m.start().saturating_sub(80))..m.start());
                        if self.p.dx_descriptor.is_match(before) {
                            counts = false;
                            value = format!("diagnosis name: {value}");
                        }
                        EvKind::Psychosis
                    }
                    PhraseKind::TakeHome => {
                        // "devices kept by clinic, no take-home": the negation
                        // sits inside the matched stretch, where the context
                        // scope (which starts after a cue) does not reach.
                        static NEG: OnceLock<Regex> = OnceLock::new();
                        let neg = NEG.get_or_init(|| re(r"\b(?:no|not|never|without|none|nothing|denies|denied|zero)\b|n't\b|\b(?:kept|retained|collected|returned|stored)\b"));
                        // "Any devices given to the patient to take home? No",
                        // "Take-home devices dispensed: No".
                        static LABEL_NO: OnceLock<Regex> = OnceLock::new();
                        let label_no = LABEL_NO.get_or_init(|| re(r"^[^:\n.;]{0,30}:\s*(?:no|none|n|0|zero|nil)\b"));
                        let after = super::text::sub(text, m.end()..(m.end() + 80).min(text.len()));
                        if neg.is_match(m.as_str()) || question_answered_no(text, m.end()) || label_no.is_match(after) {
                            counts = false;
                        }
                        EvKind::TakeHome
                    }
                    PhraseKind::Initiation => {
                        // "consider starting Spravato" is still an evaluation for
                        // it; "since starting esketamine" is the past. A course
                        // being kept up ("PA submitted for Spravato
                        // continuation", "referred for maintenance esketamine")
                        // is not one being started.
                        let tail = super::text::sub(text, m.end()..(m.end() + 30).min(cl.end.max(m.end())));
                        let kept_up = continuation_wording().is_match(m.as_str())
                            || continuation_wording().is_match(tail.split([',', '(']).next().unwrap_or(""));
                        counts = !(a.negated || a.family || a.historical || kept_up);
                        EvKind::Initiation
                    }
                    PhraseKind::BpManagement => {
                        // "MD not notified", "notify MD if BP > 160/100" and
                        // "?repeat BP" are not the decision or the action.
                        counts = visit_fact;
                        // Whether its line names the blood pressure: a bare
                        // "OK to proceed" in another note is a clearance, not
                        // a decision about an elevated reading.
                        if self.p.bp_named.is_match(super::text::sub(text, line_of(text, m.start()))) {
                            value.push_str(BP_NAMED);
                        }
                        EvKind::BpManagement
                    }
                    PhraseKind::ScheduleExcess => {
                        // "if a third dose in 7 days is needed" is not one given.
                        counts = visit_fact && !a.family;
                        EvKind::ScheduleExcess
                    }
                    PhraseKind::SelfPay => {
                        // "if denied, pt will self-pay", "not self-pay" and
                        // "pt declined to sign the waiver" are not the
                        // arrangement for this visit.
                        // "waiver not signed", "ABN never signed": a status
                        // inside the statement that says it is not in place.
                        let unsigned = self.p.waiver_not_signed.is_match(m.as_str());
                        // "She says she will self-pay if UHC denies": a plan on
                        // a condition, not this visit's arrangement.
                        static PLANNED: OnceLock<(Regex, Regex)> = OnceLock::new();
                        let (will, cond) = PLANNED.get_or_init(|| {
                            (
                                re(r"\b(?:will|would|could|may|might|plans?\s+to|willing\s+to|agrees?\s+to|intends?\s+to)\s+(?:\w+\s+)?$"),
                                re(r"^\W{0,3}(?:if|should|in\s+case|unless|once)\b"),
                            )
                        });
                        let lead = super::text::sub(text, cl.start.max(m.start().saturating_sub(40)).min(m.start())..m.start());
                        let tail = super::text::sub(text, m.end()..(m.end() + 20).min(cl.end.max(m.end())));
                        let planned = will.is_match(lead) && cond.is_match(tail);
                        counts = visit_fact && !unsigned && !planned;
                        EvKind::SelfPay
                    }
                    PhraseKind::MdsiIndication => {
                        // "not MDSI; TRD course", "if SI recurs, consider
                        // MDSI dosing" do not name this course's indication.
                        counts = visit_fact && !a.family;
                        EvKind::MdsiIndication
                    }
                    PhraseKind::SuicidalIdeation => {
                        // Current ideation or behavior only: denied ("SI:
                        // denies", "no SI/HI"), past ("hx of suicide attempt
                        // 2015"), a relative's, or the words inside the MDSI
                        // indication's name ("MDD with acute suicidal ideation
                        // or behavior") are not documentation of it.
                        let line = line_of(text, m.start());
                        let line_text = super::text::sub(text, line.clone());
                        let in_label = self
                            .p
                            .mdsi_label
                            .find_iter(line_text)
                            .any(|l| line.start + l.start() <= m.start() && m.end() <= line.start + l.end());
                        let after = super::text::sub(text, m.end()..(m.end() + 24).min(line.end.max(m.end())));
                        let answered_no = self.p.si_answer_no.is_match(after);
                        // "Hx suicide attempt 2021", "passive SI 2019, none
                        // since": a dated or history-labelled episode is past.
                        let before = super::text::sub(text, line.start.max(m.start().saturating_sub(20))..m.start());
                        let dated = self.p.si_year_after.is_match(after) || self.p.si_hx_before.is_match(before);
                        // "index admission 05/28-06/01 for suicidal ideation with
                        // plan": the reason for a hospital stay, which is past.
                        let lead = super::text::sub(text, cl.start.max(m.start().saturating_sub(120)).min(m.start())..m.start());
                        let dated = dated || self.p.si_admitted_for.is_match(lead);
                        // "R45.851 suicidal ideations": a code's description.
                        let in_label = in_label || self.p.si_code_before.is_match(before);
                        counts =
                            !(a.negated || a.hypothetical || a.possible || a.family || a.historical || in_label || answered_no || dated);
                        if in_label {
                            value = format!("indication name: {value}");
                        } else if answered_no {
                            value = format!("denied: {value}");
                        }
                        EvKind::SuicidalIdeation
                    }
                    PhraseKind::FirstSession => {
                        // "tolerated the first infusion well" (an earlier
                        // one) and "first Spravato session next week" are
                        // not this session.
                        let tail = super::text::sub(text, m.end()..(m.end() + 40).min(cl.end.max(m.end())));
                        let before = super::text::sub(text, cl.start.max(m.start().saturating_sub(40)).min(m.start())..m.start());
                        counts = visit_fact
                            && !a.historical
                            && !a.family
                            && !planned_wording().is_match(tail)
                            && !earlier_wording().is_match(before);
                        EvKind::FirstSession
                    }
                    PhraseKind::PatientLocation => {
                        // The place is the last word of the match.
                        let place = value.rsplit([' ', ':', '-']).next().unwrap_or("").to_string();
                        let home = matches!(place.as_str(), "home" | "residence" | "house" | "apartment" | "apt");
                        value = if home { "home".to_string() } else { format!("other: {place}") };
                        counts = visit_fact && !a.family && !a.historical;
                        EvKind::PatientLocation
                    }
                    PhraseKind::TimeSpent => {
                        counts = !(a.negated || a.hypothetical || a.family);
                        EvKind::TimeSpent
                    }
                    PhraseKind::NewPatient => {
                        // The status of this visit, said of the patient: not
                        // a negation ("not a new patient"), a plan, a
                        // relative, a past visit ("at her new patient visit
                        // 01/05/2026", "first visit to the clinic was in
                        // 2024") or the drug or program ("new to the clinic's
                        // Spravato program", "Visit type: new problem").
                        let line = line_of(text, m.start());
                        let before = super::text::sub(text, line.start.max(m.start().saturating_sub(40))..m.start());
                        let after = super::text::sub(text, m.end()..(m.end() + 60).min(line.end.max(m.end())));
                        counts = visit_fact && !a.family && !a.historical && !new_patient_not_this_visit(m.as_str(), before, after);
                        EvKind::NewPatient
                    }
                    PhraseKind::Indication
                    | PhraseKind::FollowUp
                    | PhraseKind::InfusionRate
                    | PhraseKind::PostStatus
                    | PhraseKind::IntraVitals => {
                        // A plan is worded as a future ("will return in 1 week"):
                        // only negated mentions do not count, and a relative
                        // named nearby ("mother driving, f/u 2/3") is the escort,
                        // not whose plan it is. A relative's diagnosis is not
                        // the indication.
                        counts = !(a.negated || (a.family && *kind == PhraseKind::Indication));
                        match kind {
                            PhraseKind::Indication => EvKind::Indication,
                            PhraseKind::FollowUp => EvKind::FollowUp,
                            PhraseKind::InfusionRate => EvKind::InfusionRate,
                            PhraseKind::IntraVitals => EvKind::IntraVitals,
                            _ => EvKind::PostStatus,
                        }
                    }
                };
                facts.push(Evidence { kind: ev_kind, entry_id: id.clone(), span, assertion: a, value, counts });
            }
        }
        self.track_and_dose(ctx, note_type, facts);
        self.codes(ctx, facts);
        self.em_features(ctx, facts);
    }

    /// Status of a prior-authorization mention from its clause: the last
    /// status word wins ("initial PA denied, approved on appeal" is approved).
    fn pa_status(&self, clause_text: &str, _at: usize) -> &'static str {
        // An aside in parentheses is not the status: "approved 01/20/2026,
        // 6 infusions (requested under G2082 per plan policy)".
        let unparen;
        let clause_text = if clause_text.contains('(') {
            let mut depth = 0u32;
            unparen = clause_text
                .chars()
                .map(|c| match c {
                    '(' => {
                        depth += 1;
                        ' '
                    }
                    ')' if depth > 0 => {
                        depth -= 1;
                        ' '
                    }
                    _ if depth > 0 => ' ',
                    c => c,
                })
                .collect::<String>();
            unparen.as_str()
        } else {
            clause_text
        };
        let nos: Vec<std::ops::Range<usize>> = self.p.pa_no.find_iter(clause_text).map(|m| m.range()).collect();
        // A status word inside a "no" phrase ("none on file") is not a yes.
        let yes = self
            .p
            .pa_yes
            .find_iter(clause_text)
            .filter(|m| !nos.iter().any(|n| n.start <= m.start() && m.end() <= n.end))
            .last()
            .map(|m| m.start());
        let no = nos.last().map(|m| m.start);
        // "status: pending, ref AE-0093312": a reference number is no
        // approval when the clause states a status that is not one.
        let worded_yes = self
            .p
            .pa_yes
            .find_iter(clause_text)
            .filter(|m| !nos.iter().any(|n| n.start <= m.start() && m.end() <= n.end))
            .any(|m| m.as_str().bytes().any(|c| c.is_ascii_alphabetic()) && !m.as_str().bytes().any(|c| c.is_ascii_digit()));
        let yes = if no.is_some() && !worded_yes { None } else { yes };
        match (yes, no) {
            (Some(y), Some(n)) if y > n => "approved",
            (Some(_), Some(_)) | (None, Some(_)) => "not approved",
            (Some(_), None) => "approved",
            (None, None) => "mentioned",
        }
    }

    fn track_and_dose(&self, ctx: &NoteCtx<'_>, note_type: Option<&str>, facts: &mut NoteFacts) {
        let text = ctx.text;
        let p = &self.p;
        let nt = note_type.unwrap_or("");
        let admin_in_note = ctx.is_match(&p.admin_ctx);
        // A mention on the line of a timed administration ("Ketamine 200 mg
        // RDT given 1:47 PM") is today's treatment even when a section above
        // it (a past-history table without a closing header) reads as history.
        let dose_lines: Vec<std::ops::Range<usize>> =
            facts.timing.dose_times.iter().filter_map(|(_, ev)| facts.evidence.get(*ev)).map(|e| line_of(text, e.span.start)).collect();
        let current =
            |a: &Assertion, pos: usize| -> bool { a.is_patient_fact() && (!a.historical || dose_lines.iter().any(|l| l.contains(&pos))) };
        for m in ctx.find_iter(&p.esk_all) {
            let m = super::text::Span::new(text, m);
            let a = ctx.context.assess(m.start()..m.end());
            if !current(&a, m.start()) {
                continue;
            }
            if admin_in_note {
                facts.track.esketamine += 1;
            }
            facts.push(Evidence {
                kind: EvKind::Treatment,
                entry_id: "esketamine".into(),
                span: m.start()..m.end(),
                assertion: a,
                value: "esketamine".into(),
                counts: true,
            });
        }
        for m in ctx.find_iter(&p.ketamine) {
            let m = super::text::Span::new(text, m);
            // "esketamine" is matched above; \bketamine\b does not match inside it.
            let a = ctx.context.assess(m.start()..m.end());
            if !current(&a, m.start()) {
                continue;
            }
            let cl = clause(text, m.start());
            let around = super::text::sub(text, cl.clone());
            let oral = p.oral_ctx.is_match(around);
            // A weight-based dose ("1 mg/kg PO") is IV only without an oral route word.
            let iv = p.iv_ctx.find_iter(around).any(|m| !m.as_str().eq_ignore_ascii_case("mg/kg") || !oral);
            let route = if iv {
                facts.track.iv += 1;
                "iv_ketamine"
            } else if oral {
                facts.track.oral += 1;
                "oral_ketamine"
            } else {
                continue;
            };
            facts.push(Evidence {
                kind: EvKind::Treatment,
                entry_id: route.into(),
                span: m.start()..m.end(),
                assertion: a,
                value: route.into(),
                counts: true,
            });
        }
        if p.note_type_esk.is_match(nt) {
            facts.track.esketamine += 2;
        } else if p.note_type_iv.is_match(nt) && !p.note_type_esk.is_match(nt) {
            facts.track.iv += 2;
        } else if p.note_type_oral.is_match(nt) && nt.to_ascii_lowercase().contains("ketamine") {
            facts.track.oral += 2;
        }

        // Administered dose candidates.
        let push_dose = |facts: &mut NoteFacts, mg: f64, span: std::ops::Range<usize>, id: &str, priority: u8| {
            let ev = facts.push(Evidence {
                kind: EvKind::Dose,
                entry_id: id.into(),
                span,
                assertion: Assertion::default(),
                value: format!("{mg} mg"),
                counts: true,
            });
            facts.doses.push(DoseFact { mg, ev, priority });
        };
        // A bound, not a dose: "G2083 (esketamine > 56 mg)", "more than 56 mg".
        let compared = |before: &str| {
            let b = before.trim_end().to_ascii_lowercase();
            b.ends_with(['>', '<', '≥', '≤'])
                || b.ends_with(">=")
                || ["more than", "greater than", "less than", "fewer than", "above", "below", "exceeding", "at least", "at most"]
                    .iter()
                    .any(|w| b.strip_suffix(w).is_some_and(|r| r.is_empty() || r.ends_with([' ', '(', '\t', '\n'])))
        };
        let excluded_cut = |start: usize, end: usize, to_comma: bool| -> bool {
            let cl = clause(text, start);
            let before = super::text::sub(text, cl.start..start);
            let after = super::text::sub(text, end..cl.end.min(end + 30));
            let after = &after[..super::text::floor_char(after, after.len())];
            // A weight-based dose's own part ends at a comma: "0.75 mg/kg =
            // 60 mg in 100 mL NS, planned over 80 minutes" plans the rate.
            let after = if to_comma { after.split(',').next().unwrap_or(after) } else { after };
            compared(before)
                || p.not_this_dose.is_match(before)
                || p.not_this_dose.is_match(after) && !after.trim_start().starts_with(['(', ','])
                || {
                    let a = ctx.context.assess(start..end);
                    if to_comma && (a.negated || a.hypothetical) {
                        let (_, cue) = ctx.context.assess_with_cue(start..end);
                        if cue.is_some_and(|c| c.start >= end && super::text::sub(text, end..c.start).contains(',')) {
                            return false;
                        }
                    }
                    a.negated || a.hypothetical
                }
        };
        let excluded = |start: usize, end: usize| excluded_cut(start, end, false);
        // A device handed over for use at home ("1 additional device (28 mg)
        // was given to the patient to use at home on Saturday") is not
        // today's dose: the rest of its clause, up to 80 bytes.
        let at_home = |end: usize, cl_end: usize| {
            static R: OnceLock<Regex> = OnceLock::new();
            let r = R.get_or_init(|| re(r"\b(?:(?:use|used|take|taken|administer\w*|apply|spray)\s+(?:it\s+|them\s+)?at\s+home|take[\s-]?home|for\s+home(?:\s+use)?|home\s+use)\b"));
            static NO: OnceLock<Regex> = OnceLock::new();
            let no = NO.get_or_init(|| re(r"\b(?:no|not|none|never|nothing|without|zero)\b[^,;]{0,25}$"));
            let to = super::text::floor_char(text, cl_end.max(end).min(end + 80));
            let w = super::text::sub(text, end..to);
            // "no take-home devices", "none dispensed for home use": said not to.
            r.find(w).is_some_and(|m| !no.is_match(&w[..m.start()]))
        };
        for c in ctx.captures_iter(&p.total_mg) {
            let m = c.get(0).unwrap();
            let n: f64 = c.name("n").or(c.name("n2")).and_then(|x| x.as_str().parse().ok()).unwrap_or(0.0);
            let cl = clause(text, m.start());
            let lower = super::text::sub(text, cl.clone()).to_ascii_lowercase();
            if n <= 0.0 || lower.contains("mg/kg") || excluded(m.start(), m.end()) {
                continue;
            }
            // "dose 50 mg/day", "dose 40 mg daily": a daily regimen (a trial
            // or a home medication), not the dose given at this session.
            let rest = super::text::sub(text, m.end()..(m.end() + 8).min(text.len())).to_ascii_lowercase();
            // "dose is 0.5 mg per kilogram": a weight-based dose, not the total.
            let unit_rest = rest.trim_start();
            if unit_rest.starts_with('/') && !rest.starts_with("/day") && !rest.starts_with("/d ") || unit_rest.starts_with("per k") {
                continue;
            }
            if rest.starts_with("/day")
                || rest.starts_with("/d ")
                || rest.starts_with(" daily")
                || rest.starts_with(" qd")
                || rest.starts_with(" per day")
            {
                continue;
            }
            // A MAR line's per-administration "Dose: 28 mg" of a
            // "28 mg/device" entry is one device, not the session total.
            let line = super::text::sub(text, line_of(text, m.start())).to_ascii_lowercase();
            if n == 28.0 && !m.as_str().to_ascii_lowercase().contains("total") && p.single_device.is_match(&line) {
                continue;
            }
            push_dose(facts, n, m.start()..m.end(), "total-dose", 3);
        }
        for c in ctx.captures_iter(&p.esk_mg) {
            let m = c.get(0).unwrap();
            let cl = clause(text, m.start());
            let ct = super::text::sub(text, cl.clone());
            // `lower` is the note lowercased at the same offsets.
            let lct = super::text::sub(&ctx.lower, cl.clone());
            if !(p.esk.is_match(ct) || ["dose", "intranasal", "device", "admin", " dev"].iter().any(|w| lct.contains(w))) {
                continue;
            }
            if excluded(m.start(), m.end()) {
                continue;
            }
            // A single device's size ("device 1 (28 mg)", "D2 28 mg", "28 mg
            // each") is not the session dose; the device log sums them.
            if &c["n"] == "28" && p.single_device.is_match(ct) {
                continue;
            }
            let before = super::text::sub(text, cl.start..m.start());
            let before_l = before.to_ascii_lowercase();
            if &c["n"] == "28"
                && (before_l.trim_end().trim_end_matches('(').trim_end().ends_with(|c: char| c.is_ascii_digit())
                    && before_l.contains("device")
                    || before_l.trim_end().ends_with('x')
                    || ["devices at", "devices of", "devices @", "devices,", "devices -", "devices ("]
                        .iter()
                        .any(|w| before_l.trim_end().ends_with(w)))
            {
                continue;
            }
            let after = super::text::sub(text, m.end()..super::text::floor_char(text, (m.end() + 40).min(text.len())))
                .trim_start()
                .to_ascii_lowercase();
            if after.starts_with("device")
                || after.starts_with("/dev")
                || after.starts_with("/ dev")
                || after.starts_with("x ")
                || after.starts_with("each")
                || after.starts_with("nasal spray device")
                || after.starts_with("per device")
            {
                continue;
            }
            if at_home(m.end(), cl.end) {
                continue;
            }
            let n: f64 = c["n"].parse().unwrap();
            push_dose(facts, n, m.start()..m.end(), "esketamine-mg", 2);
        }
        for c in ctx.captures_iter(&p.devices) {
            let m = c.get(0).unwrap();
            let Some(n) = c.name("n").or(c.name("n2")).or(c.name("n3")).and_then(|x| parse_number(x.as_str())) else { continue };
            if !(1.0..=3.0).contains(&n) || excluded(m.start(), m.end()) || at_home(m.end(), clause(text, m.start()).end) {
                continue;
            }
            push_dose(facts, n * 28.0, m.start()..m.end(), "device-count", 1);
        }
        let mut max_idx = 0u32;
        let mut idx_span = 0..0;
        for c in ctx.captures_iter(&p.device_idx) {
            let m = c.get(0).unwrap();
            let k = c
                .name("n")
                .or(c.name("d"))
                .and_then(|x| x.as_str().parse::<u32>().ok())
                .or_else(|| {
                    c.name("w").map(|w| match w.as_str().to_ascii_lowercase().as_str() {
                        "first" | "1st" => 1,
                        "second" | "2nd" => 2,
                        _ => 3,
                    })
                })
                .unwrap_or(0);
            let cl = clause(text, m.start());
            let lower = super::text::sub(text, cl).to_ascii_lowercase();
            if lower.contains("not ") || lower.contains("held") || lower.contains("declined") || lower.contains("refused") {
                continue;
            }
            if k > max_idx {
                max_idx = k;
                idx_span = m.start()..m.end();
            }
        }
        if max_idx > 0 {
            push_dose(facts, max_idx as f64 * 28.0, idx_span, "device-log", 0);
        } else {
            // MAR: one "esketamine 28 mg/device ... given 0902" line per device.
            let mut lines: Vec<std::ops::Range<usize>> = Vec::new();
            for (_, i) in &facts.timing.dose_times {
                let line = line_of(text, facts.evidence[*i].span.start);
                let lt = super::text::sub(text, line.clone());
                if p.esk.is_match(lt) && p.single_device.is_match(lt) && !lines.contains(&line) {
                    lines.push(line);
                }
            }
            if (1..=3).contains(&lines.len()) {
                let span = lines[0].start..lines[lines.len() - 1].end;
                push_dose(facts, lines.len() as f64 * 28.0, span, "device-log", 0);
            }
        }
        // IV / oral ketamine.
        // The first weight-based dose, unless a later one is today's: worked
        // out against the weight ("0.75 mg/kg x 64 kg = 48 mg") or said to be
        // today's, where an earlier one was a protocol's or a past infusion's
        // ("infusions 1-2 were 0.5 mg/kg ...; Today: 0.75 mg/kg x 64 kg").
        let mut chosen: Option<(f64, std::ops::Range<usize>, bool)> = None;
        for c in ctx.captures_iter(&p.mgkg) {
            let m = c.get(0).unwrap();
            let n: f64 = c.name("n").or_else(|| c.name("n2")).map_or(0.0, |n| n.as_str().parse().unwrap_or(0.0));
            if !(n > 0.0 && n <= 5.0) || excluded_cut(m.start(), m.end(), true) {
                continue;
            }
            let cl = clause(text, m.start());
            let lead = super::text::sub(text, cl.start..m.start()).to_ascii_lowercase();
            let after = super::text::sub(text, m.end()..(m.end() + 24).min(text.len()));
            let today = p.mgkg_worked_out.is_match(after) || lead.contains("today");
            match &chosen {
                None => chosen = Some((n, m.start()..m.end(), today)),
                Some((_, _, false)) if today => chosen = Some((n, m.start()..m.end(), today)),
                _ => {}
            }
        }
        if let Some((n, span, _)) = chosen {
            let ev = facts.push(Evidence {
                kind: EvKind::Dose,
                entry_id: "mg-per-kg".into(),
                span,
                assertion: Assertion::default(),
                value: format!("{n} mg/kg"),
                counts: true,
            });
            facts.mg_per_kg = Some((n, ev));
        }
        for c in ctx.captures_iter(&p.weight) {
            let m = c.get(0).unwrap();
            let (n, u) = match (c.name("n"), c.name("n2"), c.name("n3")) {
                (Some(n), _, _) => (n.as_str(), c.name("u").map(|u| u.as_str()).unwrap_or("kg")),
                (None, Some(n2), _) => (n2.as_str(), c.name("u2").map(|u| u.as_str()).unwrap_or("kg")),
                (None, None, Some(n3)) => (n3.as_str(), c.name("u3").map(|u| u.as_str()).unwrap_or("kg")),
                _ => continue,
            };
            let Ok(mut w) = n.parse::<f64>() else { continue };
            if u.to_ascii_lowercase().starts_with('l') || u.to_ascii_lowercase().starts_with('p') {
                w /= 2.20462;
            }
            if (25.0..=300.0).contains(&w) && facts.weight_kg.is_none() {
                let ev = facts.push(Evidence {
                    kind: EvKind::Weight,
                    entry_id: "weight".into(),
                    span: m.start()..m.end(),
                    assertion: Assertion::default(),
                    value: format!("{:.1} kg", w),
                    counts: true,
                });
                facts.weight_kg = Some((w, ev));
            }
        }
        for c in ctx.captures_iter(&p.ket_mg) {
            let m = c.get(0).unwrap();
            if c.name("kg").is_some() || c.name("kg2").is_some() {
                continue;
            }
            let n: f64 = c.name("n").or(c.name("n2")).and_then(|x| x.as_str().parse().ok()).unwrap_or(0.0);
            if n <= 0.0 || n > 2000.0 || excluded(m.start(), m.end()) {
                continue;
            }
            let cl = clause(text, m.start());
            if p.esk.is_match(super::text::sub(text, cl.clone())) {
                continue;
            }
            // A take-home prescription ("continue ketamine 300 mg RDT twice
            // weekly at home; rx sent") is not a dose given at this encounter.
            // The sentence, across its semicolons; not the next sentence on
            // the line ("Today: 100 mg troche observed. If tolerated: home
            // use 100 mg twice weekly").
            let line = line_of(text, m.start());
            let from = super::text::sub(text, line.start..m.start()).rfind(". ").map_or(line.start, |i| line.start + i + 2);
            let to = super::text::sub(text, m.end()..line.end.max(m.end())).find(". ").map_or(line.end.max(m.end()), |i| m.end() + i);
            if p.home_rx.is_match(super::text::sub(text, cl)) || p.home_rx.is_match(super::text::sub(text, from..to)) {
                continue;
            }
            push_dose(facts, n, m.start()..m.end(), "ketamine-mg", 2);
        }
        for m in ctx.find_iter(&p.ndc) {
            let m = super::text::Span::new(text, m);
            facts.push(Evidence {
                kind: EvKind::Ndc,
                entry_id: "ndc".into(),
                span: m.start()..m.end(),
                assertion: Assertion::default(),
                value: m.as_str().to_string(),
                counts: true,
            });
        }
    }

    fn codes(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let text = ctx.text;
        for c in self.p.icd.captures_iter(text) {
            let m = c.get(1).unwrap();
            let raw = m.as_str();
            // Only mental/behavioural, symptom and factor chapters are diagnosis codes we read from notes.
            if !raw.starts_with(['F', 'R', 'Z', 'G', 'T']) {
                continue;
            }
            let dotted = raw.contains('.');
            if !dotted {
                let cl = clause(text, m.start());
                if !self.p.dx_ctx.is_match(super::text::sub(text, cl)) || raw.len() < 3 {
                    continue;
                }
            }
            let Some(code) = crate::ingest::normalize_icd10(raw) else { continue };
            let ev = facts.push(Evidence {
                kind: EvKind::Icd10,
                entry_id: "icd10".into(),
                span: m.start()..m.end(),
                assertion: Assertion::default(),
                value: code.clone(),
                counts: true,
            });
            facts.icd10.push((code, ev));
        }
    }

    fn em_features(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let mut em = super::EmFeatures { words: super::text::word_count(ctx.text) as u32, ..Default::default() };
        // Whether each section has a body of three words or more, read once
        // for the three checks below (`nth(2)` stops at the third word).
        let bodied: Vec<bool> =
            ctx.sections.iter().map(|s| super::text::sub(ctx.text, s.body.clone()).split_whitespace().nth(2).is_some()).collect();
        // Whether some section of `kind` in `range` of the sections has a body.
        let has = |range: std::ops::Range<usize>, kind: SectionKind| {
            ctx.sections[range.clone()].iter().zip(&bodied[range]).any(|(s, b)| s.kind == kind && *b)
        };
        for (s, &has_body) in ctx.sections.iter().zip(&bodied) {
            match s.kind {
                SectionKind::History if has_body => em.history = true,
                SectionKind::Assessment if has_body => em.assessment = true,
                SectionKind::Plan if has_body => em.plan = true,
                SectionKind::Exam if has_body => em.exam = true,
                SectionKind::EmSection => em.em_section = true,
                _ => {}
            }
        }
        // An E/M section is complete when history, assessment and plan follow it.
        if let Some(first_em) = ctx.sections.iter().position(|s| s.kind == SectionKind::EmSection) {
            let rest = first_em..ctx.sections.len();
            // 25 words or more (`nth` stops at the 25th).
            let long_body = super::text::sub(ctx.text, ctx.sections[first_em].body.clone()).split_whitespace().nth(24).is_some();
            em.em_section_complete = (has(rest.clone(), SectionKind::History) || long_body)
                && (has(rest.clone(), SectionKind::Assessment) || has(rest, SectionKind::Plan));
        }
        // A whole evaluation written before the treatment's own section
        // ("HPI ... MENTAL STATUS EXAM ... ASSESSMENT ... PLAN" then
        // "SPRAVATO SESSION"): history, exam, assessment and plan all closed
        // before the session starts are an E/M section under other headers.
        // A session note's assessment and plan come after its procedure.
        if !em.em_section_complete {
            if let Some(session) = ctx
                .sections
                .iter()
                .position(|s| s.kind == SectionKind::Other && session_header().is_match(super::text::sub(ctx.text, s.header.clone())))
            {
                em.em_section_complete = [SectionKind::History, SectionKind::Exam, SectionKind::Assessment, SectionKind::Plan]
                    .into_iter()
                    .all(|k| has(0..session, k));
            }
        }
        let stub_hits = facts.counting(EvKind::Stub).count();
        em.stub = stub_hits > 0 && em.words < 60;
        facts.em = em;
    }
}

/// The clause a prior-authorization mention's status and dates are read
/// from: `cl` (from [`clause`]) carried across the `;` that closes an HTML
/// character entity ("valid 11/1/2026&ndash;1/31/2027"), which is no clause
/// break, and cut where a flattened note starts another labelled section
/// after a run of spaces ("... valid 5/26/25-11/25/25  REMS: ... form
/// submitted"), so the next section's status words are not the PA's.
fn pa_clause(text: &str, cl: std::ops::Range<usize>, m: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let b = text.as_bytes();
    let mut cl = cl;
    // Bounded: a few entities either side.
    for _ in 0..4 {
        if cl.end < b.len() && b[cl.end] == b';' && entity_before(text, cl.end) {
            let next = clause(text, cl.end + 1);
            if next.end <= cl.end {
                break;
            }
            cl.end = next.end;
        } else {
            break;
        }
    }
    for _ in 0..4 {
        if cl.start >= 1 && b[cl.start - 1] == b';' && entity_before(text, cl.start - 1) {
            let prev = clause(text, cl.start - 1);
            if prev.start >= cl.start {
                break;
            }
            cl.start = prev.start;
        } else {
            break;
        }
    }
    static R: OnceLock<Regex> = OnceLock::new();
    let label = R.get_or_init(|| super::re::cs(r"(?:  +|\t)[A-Z][A-Za-z0-9/&.-]*(?: [A-Za-z0-9/&.-]+){0,2}:\s"));
    let body = super::text::sub(text, cl.clone());
    let (ms, me) = (m.start.max(cl.start) - cl.start, m.end.min(cl.end).max(cl.start) - cl.start);
    let mut start = cl.start;
    let mut end = cl.end;
    for l in label.find_iter(body) {
        if l.end() <= ms {
            start = cl.start + l.start();
        } else if l.start() >= me {
            end = cl.start + l.start();
            break;
        }
    }
    start..end.max(start)
}

/// Whether the `;` at `semi` closes an HTML character entity (`&ndash;`,
/// `&#8211;`).
fn entity_before(text: &str, semi: usize) -> bool {
    let b = text.as_bytes();
    let from = semi.saturating_sub(9);
    let Some(amp) = b[from..semi].iter().rposition(|&c| c == b'&') else { return false };
    let name = &b[from + amp + 1..semi];
    !name.is_empty()
        && (name.iter().all(|c| c.is_ascii_alphanumeric()) && name[0].is_ascii_alphabetic()
            || name[0] == b'#' && name.len() > 1 && name[1..].iter().all(|c| c.is_ascii_alphanumeric()))
}

/// The esketamine drug codes (S0013, J0013) a text names, upper-cased,
/// first-seen order, each once.
fn pa_drug_codes(t: &str) -> Vec<String> {
    static R: OnceLock<Regex> = OnceLock::new();
    let r = R.get_or_init(|| re(r"\b[sj]0013\b"));
    let mut v: Vec<String> = Vec::new();
    for m in r.find_iter(t) {
        let c = m.as_str().to_ascii_uppercase();
        if !v.contains(&c) {
            v.push(c);
        }
    }
    v
}

/// Calendar dates written in a text: `2026-01-05`, `1/5/2026`, `01/05/26`.
fn pa_dates(t: &str) -> Vec<chrono::NaiveDate> {
    // The pattern and its groups' indices: y, m, d, then y2, m2, d2.
    static R: OnceLock<(Regex, [usize; 6])> = OnceLock::new();
    let (r, g) = R.get_or_init(|| {
        let r = super::re::cs(
            r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b|\b(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4}|\d{2})\b",
        );
        let g = ["y", "m", "d", "y2", "m2", "d2"].map(|name| super::re::group_index(&r, name));
        (r, g)
    });
    r.captures_iter(t)
        .filter_map(|c| {
            let n = |k: usize| c.get(g[k]).and_then(|x| x.as_str().parse::<i32>().ok());
            let (y, m, d) = match (n(0), n(1), n(2)) {
                (Some(y), Some(m), Some(d)) => (y, m, d),
                _ => {
                    let y = n(3)?;
                    (if y < 100 { 2000 + y } else { y }, n(4)?, n(5)?)
                }
            };
            chrono::NaiveDate::from_ymd_opt(y, m as u32, d as u32)
        })
        .collect()
}

/// An authorization's validity window from its text: two dates are a
/// range; one date after "exp", "through", "until" or "valid to" is the
/// end. `None` when no window is written.
fn pa_window(t: &str) -> Option<(Option<chrono::NaiveDate>, chrono::NaiveDate)> {
    static R: OnceLock<Regex> = OnceLock::new();
    let end_cue =
        R.get_or_init(|| re(r"\b(?:exp\w*|through|thru|until|till|valid\s+(?:to|until)|good\s+(?:through|until)|ends?)\b\.?\s*:?\s*$"));
    let ds = pa_dates(t);
    match ds.len() {
        0 => None,
        1 => {
            let d = ds[0];
            // Only a single date introduced as the end of validity is a window.
            let first = pa_date_pos(t)?;
            end_cue.is_match(&t[..first]).then_some((None, d))
        }
        _ => {
            let from = *ds.iter().min().unwrap();
            let to = *ds.iter().max().unwrap();
            Some((Some(from), to))
        }
    }
}

fn pa_date_pos(t: &str) -> Option<usize> {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| super::re::cs(r"\b(?:19|20)\d{2}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})\b")).find(t).map(|m| m.start())
}

/// The line containing `pos`.
fn line_of(text: &str, pos: usize) -> std::ops::Range<usize> {
    let pos = pos.min(text.len());
    let s = text[..pos].rfind('\n').map(|k| k + 1).unwrap_or(0);
    let e = text[pos..].find('\n').map(|k| pos + k).unwrap_or(text.len());
    s..e
}

/// Shared pattern: is this an E/M-like note type?
pub fn em_note_type(note_type: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| re(r"\be\s*/?\s*&?\s*m\b|evaluation\s+(?:and|&)\s+management|progress\s+note|office\s+visit|med(?:ication)?\s+(?:management|mgmt|check)|follow[- ]?up|psychiatric\s+(?:evaluation|visit|follow)|telehealth|telemedicine|\bvisit\b|consult"))
        .is_match(note_type)
}

/// Whether the phrase ending at `end` is asked as a question on its line
/// ("Q: Prescriber present?", "REMS enrolled?") whose answer is no ("A: No",
/// "Dr. Lee off-site today", "not yet"). A yes answer, or no question, is
/// not a no.
fn question_answered_no(text: &str, end: usize) -> bool {
    static R: OnceLock<(Regex, Regex)> = OnceLock::new();
    let (yes, no) = R.get_or_init(|| {
        (
            re(r"^\s*(?:a\s*[:.\-]\s*)?(?:yes\b|y\b|✔|☑|\[x\]|present\b|on[\s-]*site\b|done\b|completed?\b|confirmed\b)"),
            re(&format!(r"^\s*(?:a\s*[:.\-]\s*)?[^;\n]{{0,30}}?\b(?:no|not|none|off[\s-]*site|offsite|absent|unavailable|declined|pending|n/a|remote(?:ly)?|by\s+phone)\b|^\s*(?:a\s*[:.\-]\s*)?(?:{})", super::text::UNCHECKED_RE)),
        )
    });
    let rest = super::text::sub(text, end..(end + 80).min(text.len()));
    let line = rest.split('\n').next().unwrap_or("");
    let Some(q) = line.find('?') else { return false };
    if q > 40 || line[..q].contains(['.', ';']) {
        return false;
    }
    let answer = &line[q + 1..];
    !yes.is_match(answer) && no.is_match(answer)
}

/// Shared pattern: is this a collaborative care (CoCM) note type ("CoCM
/// Monthly Log", "Collaborative Care - Consultant Review", "BHCM note",
/// "Care Management")?
pub fn cocm_note_type(note_type: &str) -> bool {
    let t = note_type.to_ascii_lowercase();
    t.contains("collaborative") || t.contains("cocm") || t.contains("care manag") || t.contains("bhcm")
}

/// Shared pattern: is this a psychotherapy note type?
pub fn psychotherapy_note_type(note_type: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| re(r"psychotherapy|therapy\s+note|counsel+ing|\bcbt\b|\bdbt\b")).is_match(note_type)
}

/// Shared pattern: is this a treatment-session note type?
pub fn session_note_type(note_type: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        re(r"spravato|esketamine|ketamine|infusion|treatment|session|monitoring|procedure|administration|nursing|flowsheet|\bmar\b")
    })
    .is_match(note_type)
}

/// A session named as still to come ("first infusion scheduled for 3/4",
/// "first Spravato session next week").
/// The header of a treatment session's own section.
fn session_header() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| super::re::ci(r"\b(?:spravato|esketamine|ketamine|session|procedure|treatment|administration|infusion|dosing)\b"))
}

fn planned_wording() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| re(r"\b(?:scheduled|planned|next\s+week|tomorrow|upcoming|pending|on\s+\d{1,2}/\d{1,2})\b"))
}

/// A session named as past, seen from a later one ("tolerated the first
/// infusion well", "since her first Spravato treatment").
fn earlier_wording() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| re(r"\b(?:after|since|following|tolerated|post|previous|prior|last|from)\b"))
}

/// Whether a new-patient phrase is not this visit's status, from the words
/// right before and after it on its line: a past or planned visit ("at her
/// new patient visit", "scheduled for a new patient evaluation", a date
/// after it), a possessive or program after "new to the clinic" ("the
/// clinic's Spravato program"), or a bare "Visit type: new" followed by a
/// word other than patient ("new problem", "new to Spravato").
fn new_patient_not_this_visit(matched: &str, before: &str, after: &str) -> bool {
    static BEFORE: OnceLock<Regex> = OnceLock::new();
    static AFTER: OnceLock<Regex> = OnceLock::new();
    let before_re = BEFORE.get_or_init(|| {
        re(r"\b(?:at|during|since|from|after|following|per|of|before|prior\s+to|her|his|their|prior|previous|last|earlier|upcoming|next|(?:scheduled|schedule|booked|book|refer(?:red)?|referral|waitlist(?:ed)?|wait\s+list)\s+(?:for|to|as))\s+(?:(?:the|a|an|her|his|their|prior|previous|initial|last)\s+)?$")
    });
    let after_re = AFTER.get_or_init(|| {
        re(r"^(?:'|\x{2019})s\b|^\s*(?:(?:was|were|had\s+been)\s+(?:(?:on|in|dated)\s+)?|(?:on|in|dated)\s+)(?:\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|(?:19|20)\d{2}\b|last\b)|^\s*\(?\s*(?:\d{1,2}/\d{1,2}/\d{2,4}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})|^\s*(?:\d+\s+(?:days?|weeks?|wks?|months?|mos?|years?|yrs?)\s+ago|ago)\b")
    });
    if before_re.is_match(before) || after_re.is_match(after) {
        return true;
    }
    // The subject of the clause is the drug, a program or a staff member
    // ("Spravato is new to the clinic", "our NP is new to the practice").
    static SUBJECT: OnceLock<Regex> = OnceLock::new();
    let subject = SUBJECT.get_or_init(|| {
        re(r"\b(?:spravato|esketamine|ketamine|program|protocol|treatment|therapy|medication|drug|device|rems|service|staff|provider|nurse|rn|doctor|dr|md|np|pa|clinician|therapist|prescriber)\b")
    });
    // A spaced dash or a bar ends a heading ("Spravato session - NEW
    // PATIENT to our practice"), like a clause mark.
    let clause_before = before.rsplit(['.', ';', ',', ':', '!', '?', '|']).next().unwrap_or(before);
    let clause_before = clause_before.rsplit(" - ").next().unwrap_or(clause_before);
    if subject.is_match(clause_before) {
        return true;
    }
    // "Visit type: New" is the status only when nothing but punctuation or
    // the line end follows.
    let bare = matched.trim_end().to_ascii_lowercase().ends_with("new");
    bare && after.trim_start().chars().next().is_some_and(|c| c.is_alphanumeric())
}

/// Wording of a treatment course being kept up rather than started: an
/// initiation phrase with it ("PA submitted for Spravato continuation",
/// "prior auth requested for maintenance esketamine", "re-authorization")
/// is not an initiation.
fn continuation_wording() -> &'static Regex {
    static R: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| super::re::ci(r"\b(?:continu\w*|cont'?d|maint(?:enance)?|renew\w*|re-?auth\w*|re-?approv\w*|extension)\b"))
}

#[cfg(test)]
mod tests {
    use crate::extract::{EvKind, Extractor};

    fn counts(t: &str, k: EvKind) -> bool {
        let f = Extractor::builtin().extract_text(t, None);
        let found = f.counting(k).next().is_some();
        found
    }

    #[test]
    fn spelled_weight_and_weight_based_dose() {
        let f = Extractor::builtin().extract_text(
            "Her weight today is 70 kilograms and the dose is 0.5 mg per kilogram, 35 mg of ketamine in 100 mL normal saline.",
            None,
        );
        assert_eq!(f.weight_kg.map(|w| w.0), Some(70.0));
        assert_eq!(f.mg_per_kg.map(|m| m.0), Some(0.5));
        assert!(!f.doses.iter().any(|d| d.mg == 0.5), "{:?}", f.doses);
        assert!(counts("INFUSION 4 OF 6 ON 10/03/2025.", EvKind::FollowUp));
        assert!(counts("Infusion 2 is scheduled for April 10.", EvKind::FollowUp));
    }

    #[test]
    fn administration_written_as_not_observed() {
        assert!(counts("Devices self-administered; administration observed by RN.", EvKind::Supervision));
        let f = Extractor::builtin().extract_text("RN was out of the room during administration - administration not observed.", None);
        assert!(f.counting(EvKind::Supervision).next().is_none());
        assert!(f.evidence.iter().any(|e| e.kind == EvKind::Supervision && e.assertion.negated));
    }

    #[test]
    fn rems_polarity() {
        assert!(counts("Patient enrolled in Spravato REMS.", EvKind::Rems));
        assert!(counts("REMS Patient Monitoring Form submitted.", EvKind::Rems));
        assert!(!counts("REMS monitoring form not yet submitted.", EvKind::Rems));
        assert!(!counts("Will complete REMS form tomorrow.", EvKind::Rems));
        // The patient named by a pronoun after the REMS statement.
        assert!(rems_counts(
            "Our clinic is a certified Spravato REMS healthcare setting; she is enrolled; the form was sent.",
            "enrollment"
        ));
        assert!(!rems_counts("Our clinic is a certified Spravato REMS healthcare setting; she is not enrolled yet.", "enrollment"));
    }

    /// The REMS statements of one kind that count ("enrollment",
    /// "monitoring_form", "site_certified").
    fn rems_counts(t: &str, sub: &str) -> bool {
        let f = Extractor::builtin().extract_text(t, None);
        let found = f.counting(EvKind::Rems).any(|i| f.evidence[i].value.starts_with(sub));
        found
    }

    #[test]
    fn an_authorized_range_and_a_take_home_device_are_no_dose() {
        let f = Extractor::builtin().extract_text(
            "PA approved for Spravato 56-84 mg, 01/02/2026-06/30/2026.\n10:05 device 1 and 10:10 device 2, self-administered.",
            None,
        );
        assert!(f.doses.iter().all(|d| d.mg != 84.0), "{:?}", f.doses);
        let f = Extractor::builtin().extract_text("08:50 device 1 and 08:55 device 2 self-administered under observation. Per patient request one 28 mg device dispensed to patient to use at home on Saturday.", None);
        assert!(f.doses.iter().all(|d| d.mg != 28.0), "{:?}", f.doses);
        let f = Extractor::builtin().extract_text("Second device at 9:20 - 56 mg in total, self-administered.", None);
        assert!(f.doses.iter().any(|d| d.mg == 56.0), "{:?}", f.doses);
    }

    #[test]
    fn todays_weight_based_dose_over_a_protocols() {
        let f = Extractor::builtin().extract_text("Protocol: infusions 1-2 were 0.5 mg/kg over 40 min; from infusion 3 0.75 mg/kg over 100 min. Today: 0.75 mg/kg x 64 kg = 48 mg in 250 mL NS.", None);
        assert_eq!(f.mg_per_kg.map(|m| m.0), Some(0.75));
        let f = Extractor::builtin().extract_text("Ketamine 0.5 mg/kg IV over 40 min; weight 80 kg.", None);
        assert_eq!(f.mg_per_kg.map(|m| m.0), Some(0.5));
    }

    #[test]
    fn a_planned_scale_is_no_score() {
        assert!(!counts("phq-9 not done today, pt too tired, will do next visit; plan ham-d at week 4.", EvKind::SeverityScale));
        assert!(counts("PHQ-9 today 14 (baseline 22).", EvKind::SeverityScale));
        assert!(counts("MADRS 34 at baseline, today 22.", EvKind::SeverityScale));
    }

    #[test]
    fn a_setting_certification_applied_for_is_not_in_place() {
        let flagged = |t: &str| {
            let f = Extractor::builtin().extract_text(t, None);
            let v = f.evidence.iter().any(|e| e.kind == EvKind::Rems && e.value.ends_with(super::SITE_NOT_CERTIFIED));
            v
        };
        assert!(flagged("Satellite office (Oakmere) setting certification: application submitted to the REMS 02.02.2026, confirmation not yet received."));
        assert!(flagged("Hillsboro setting certification: application submitted to the REMS, confirmation not yet received."));
        assert!(!flagged("REMS: certified setting; PMF submitted 11:30."));
        // The abbreviation, and another setting's certification in parentheses.
        assert!(flagged("REMS: pt enrolled; Palm Ridge site REMS cert expired 06/30/26, renewal pending (main ofc cert current)."));
        assert!(!flagged("Site REMS cert current; pt enrolled."));
        // The certification itself sent, its confirmation in the next part.
        assert!(flagged(
            "REMS: Riverside satellite setting certification submitted to the REMS 10/06/2025, confirmation not yet received."
        ));
        assert!(!flagged("REMS: setting certification submitted and confirmed 2024; pt enrolled."));
    }

    #[test]
    fn rems_form_and_enrollment_in_one_clause() {
        for t in [
            "REMS monitoring form submitted; pt enrolled (REMS ID on file).",
            "REMS PMF submitted; pt enrolled.",
            "REMS: PMF completed, patient enrolled, site certified.",
            "Spravato REMS patient monitoring form faxed; enrolled.",
        ] {
            assert!(rems_counts(t, "monitoring_form"), "{t}");
            assert!(rems_counts(t, "enrollment"), "{t}");
        }
        assert!(rems_counts("REMS site certified; PMF submitted 5/12.", "site_certified"));
        // Wrapped across a line, a portal receipt, a JSON-like field.
        assert!(rems_counts("REMS: site certified; pt enrolled; Patient Monitoring\nForm submitted 02/18/2025.", "monitoring_form"));
        assert!(rems_counts("Spravato REMS - Patient Monitoring Form - submission receipt (portal)", "monitoring_form"));
        assert!(rems_counts(
            "rems = {\"patient_enrolled\": \"2025-12-18\", \"monitoring_form\": \"submitted 2026-03-04\"}",
            "monitoring_form"
        ));
        // A form filled out today is completed, whenever it is sent.
        assert!(rems_counts(
            "Patient Monitoring Form filled out on paper after discharge, goes in with the batch on Friday.",
            "monitoring_form"
        ));
        // Pending or negated form statements still do not count, whatever else
        // the clause says.
        for t in [
            "REMS PMF not yet submitted; pt enrolled.",
            "REMS monitoring form to be submitted; pt enrolled.",
            "REMS: pt enrolled; monitoring form pending.",
        ] {
            assert!(!rems_counts(t, "monitoring_form"), "{t}");
        }
    }

    #[test]
    fn rems_status_words_count_near_the_mention() {
        assert!(counts(
            "56 y/o woman who is enrolled in the Spravato REMS program and who comes in today with her husband who will be driving her home",
            EvKind::Rems
        ));
        assert!(!counts("Patient will be enrolled in the REMS program at the next visit", EvKind::Rems));
        assert!(!counts("REMS enrollment pending", EvKind::Rems));
    }

    #[test]
    fn rems_status_list_needs_an_enrolled_status_in_the_sentence() {
        let enrolled = |t: &str| {
            let f = Extractor::builtin().extract_text(t, None);
            let found = f.counting(EvKind::Rems).any(|i| f.evidence[i].entry_id == "rems-patient-enrolled");
            found
        };
        assert!(!enrolled("REMS: site certified; pt enrollment pending."));
        assert!(!enrolled("REMS: site certified. Discussed enrollment, pending paperwork."));
        assert!(!enrolled("REMS status: site certified, patient enrollment to be completed"));
        assert!(enrolled("REMS: site certified; pt enrolled."));
        assert!(enrolled("REMS status: site certified, patient enrollment confirmed."));
        assert!(enrolled("REMS - site certified, pt enrollment on file"));
        // A labelled REMS line across sentences and pronouns.
        assert!(enrolled("REMS: SITE CERTIFIED. PT ENROLLED 03/02/25. PMF SUBMITTED."));
        assert!(enrolled("REMS: the clinic is certified; he was enrolled on 4/2/26 before his first dose."));
        assert!(!enrolled("REMS: site certified. Patient not yet enrolled, form signed today."));
        assert!(!enrolled("REMS: site certified.\nDiscussed whether she enrolled in a research study."));
        // The enrollment paperwork sent is not the enrollment.
        assert!(!enrolled("Patient REMS enrollment form signed today 05/13/2025 and faxed 09:05."));
        assert!(enrolled("REMS enrollment form completed and enrollment confirmed 05/01/2025."));
        // The patient enrolled later on the REMS line, after other items.
        assert!(enrolled("REMS form submitted 11:30 AM. Site certified; pt enrolled 2/2025."));
        assert!(enrolled("REMS: the clinic is a certified setting, the patient is enrolled (06/2026)."));
        assert!(!enrolled("REMS form submitted. Site certified; pt not enrolled yet."));
    }

    #[test]
    fn psychosis_in_a_diagnosis_name_is_not_documentation() {
        for t in [
            "Dx: MDD recurrent severe w/ psychotic features (F33.3); suicidal ideation (R45.851)",
            "Assessment: Major depressive disorder, single episode, severe, with psychotic features.",
            "F33.3 - MDD, recurrent, severe with psychotic symptoms",
            "Diagnosis: F32.3 with psychotic features",
        ] {
            assert!(!counts(t, EvKind::Psychosis), "{t}");
        }
        // The findings themselves are documentation, also beside the code.
        for t in [
            "MSE: endorses auditory hallucinations telling her she is worthless.",
            "Dx: MDD recurrent severe w/ psychotic features (F33.3) - nihilistic delusions, hears voices.",
            "Psychotic features present: paranoid ideation about neighbours.",
            "Pt with psychotic features this episode (mood-congruent guilt delusions).",
        ] {
            assert!(counts(t, EvKind::Psychosis), "{t}");
        }
        // Negated findings stay negated.
        assert!(!counts("MSE: no AH/VH, no delusions, no psychotic features.", EvKind::Psychosis));
    }

    #[test]
    fn new_patient_status() {
        for t in [
            "Pt is a new patient to our practice, referred by PCP for TRD.",
            "Visit type: New patient",
            "Visit type: New.",
            "NEW PATIENT EVALUATION - Interventional Psychiatry",
            "45 y/o F presents to establish care and for Spravato induction.",
            "First visit to this clinic; records from prior psychiatrist reviewed.",
            "He has never been seen in this practice before.",
            "Seen today as a new patient; Spravato 56 mg administered.",
            "Pt is new to the practice (referred by Dr. Lee).",
            "Visit type: [x] NEW PATIENT to practice   [ ] established",
            "First visit with any clinician in our practice today.",
            "Spravato session - NEW PATIENT to our practice. Dr. Rourke.",
        ] {
            assert!(counts(t, EvKind::NewPatient), "{t}");
        }
        for t in [
            "New patient education provided on Spravato REMS.",
            "Patient is new to Spravato; first treatment session today.",
            "New to esketamine, established with our clinic since 2023.",
            "Established patient, not a new patient.",
            "Visit type: [ ] new patient [x] established",
            "Not a new patient to the practice.",
            "Seen at her new patient visit on 01/05/2026; now session #4.",
            "Follow-up of new patient evaluation from last month.",
            "First visit to the clinic was in 2024.",
            "Scheduled for a new patient evaluation next week.",
            "Visit type: new problem",
            "Patient status: new to Spravato",
            "Spravato is new to the clinic this year.",
            "Our NP is new to the practice.",
            "Her sister is a new patient here.",
            "The clinic's new patient packet was reviewed.",
        ] {
            assert!(!counts(t, EvKind::NewPatient), "{t}");
        }
    }

    #[test]
    fn a_dose_in_shorthand() {
        let f =
            Extractor::builtin().extract_text("0905 BP 128/82 P 76\n56 mg (2 dev) self-admin 0915 / 0920 w/ RN directly observing", None);
        assert!(f.doses.iter().any(|d| d.mg == 56.0), "{:?}", f.doses);
    }

    #[test]
    fn take_home_negated_inside_the_statement() {
        for t in [
            "Devices kept by clinic, no take-home supply.",
            "Spravato devices retained by the clinic; none sent home with the patient.",
            "Devices: no take home.",
        ] {
            assert!(!counts(t, EvKind::TakeHome), "{t}");
        }
        assert!(counts("Spravato devices sent home with the patient for the weekend.", EvKind::TakeHome));
        assert!(counts("1 additional device (28 mg) was given to the patient to use at home on Saturday morning.", EvKind::TakeHome));
        assert!(!counts("13. Any devices given to the patient to take home? No.", EvKind::TakeHome));
        assert!(!counts("Take-home devices dispensed: {Yes/No:18832::\"No\"}", EvKind::TakeHome));
        assert!(counts("She self-administered one device at home on Saturday around 8 PM, alone.", EvKind::TakeHome));
    }

    #[test]
    fn a_checklist_question_answered_no() {
        for t in
            ["Q: Prescriber present?  A: Dr. Ames off-site today; available by phone.", "Prescriber on site? No - covering another clinic."]
        {
            assert!(!counts(t, EvKind::Supervision), "{t}");
        }
        assert!(!rems_counts("REMS: pt enrolled? A: not yet, form signed today", "enrollment"));
        assert!(counts("Q: Prescriber present?  A: Yes - Dr. Ames on site throughout.", EvKind::Supervision));
        assert!(rems_counts("Q: REMS - pt enrolled?  A: Yes, enrolled 2/3/26", "enrollment"));
        assert!(counts("Prescriber present for dosing and monitoring. Any questions? None.", EvKind::Supervision));
    }

    #[test]
    fn psychotherapy_time_with_a_parenthetical_label() {
        let f = Extractor::builtin()
            .extract_text("Psychotherapy (add-on; timed apart from the E/M): 14:05-14:31 = 26 minutes, supportive therapy.", None);
        assert!(f.counting(EvKind::TimeSpent).any(|i| f.evidence[i].entry_id == "psychotherapy-time"));
        let f = Extractor::builtin()
            .extract_text("DAP NOTE - individual psychotherapy - Harriet Okonkwo - 02/17/2026 - 10:00-10:56 (56 min)", None);
        assert!(f.counting(EvKind::TimeSpent).any(|i| f.evidence[i].entry_id == "psychotherapy-time"));
        let minutes = |t: &str| -> Vec<String> {
            let f = Extractor::builtin().extract_text(t, None);
            let v = f
                .counting(EvKind::TimeSpent)
                .filter(|i| f.evidence[*i].entry_id == "psychotherapy-time")
                .map(|i| f.evidence[i].value.clone())
                .collect();
            v
        };
        assert_eq!(
            minutes("SUPPORTIVE PSYCHOTHERAPY FOCUSED ON ROLE TRANSITION AFTER THE SHIFT CHANGE: 10:05-10:19 AM (14 MIN).").len(),
            1
        );
        assert!(minutes("TOTAL PRACTITIONER TIME FOR THE E/M TODAY (EXCLUDING PSYCHOTHERAPY AND OBSERVATION): 44 MINUTES.").is_empty());
        assert_eq!(minutes("Psychotherapy add-on (same visit as E/M), 06/17/2025\nStart 11:52 AM  Stop 12:17 PM  Total 25 min, separate from E/M time.").len(), 1);
    }

    #[test]
    fn a_logged_minute_count_is_no_cocm_total_across_a_line() {
        let f = Extractor::builtin().extract_text(
            "  12/22 phone follow-up, PHQ-9 repeated - 14 min\nCoCM time this month: 48 minutes.",
            Some("Collaborative Care Monthly Summary"),
        );
        let v: Vec<&str> = f
            .counting(EvKind::TimeSpent)
            .filter(|i| f.evidence[*i].entry_id == "cocm-time")
            .map(|i| f.evidence[i].value.as_str())
            .collect();
        assert!(!v.is_empty() && v.iter().all(|x| !x.contains("14")), "{v:?}");
    }

    #[test]
    fn cocm_time_statements() {
        let cocm = |t: &str| {
            let f = Extractor::builtin().extract_text(t, None);
            let v: Vec<String> = f
                .counting(EvKind::TimeSpent)
                .filter(|i| f.evidence[*i].entry_id == "cocm-time")
                .map(|i| f.evidence[i].value.clone())
                .collect();
            v
        };
        for t in [
            "CoCM time this month (3/1-3/31): 42 minutes.",
            "BHCM minutes for March: 74",
            "Collaborative care management: 65 min this calendar month.",
            "Behavioral health care manager time 50 mins.",
            "Care manager time: 38 minutes",
            "45 min of collaborative care (registry review, outreach calls).",
            "TOTAL CoCM minutes, October 2026                                      78",
        ] {
            assert_eq!(cocm(t).len(), 1, "{t}");
        }
        for t in [
            "Referred to collaborative care.",
            "Care manager will call Friday.",
            "Total time 40 minutes.",
            "Psychotherapy 45 min.",
            "No CoCM time was logged this month (0 minutes).",
            "If enrolled in CoCM, expect about 60 minutes of care manager time monthly.",
        ] {
            assert!(cocm(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn a_waiver_said_not_signed_is_no_self_pay() {
        assert!(!counts("Pt states she will self-pay if appeal denied; waiver not signed.", EvKind::SelfPay));
        assert!(!counts("ABN has not been signed.", EvKind::SelfPay));
        assert!(counts("Non-covered waiver signed today.", EvKind::SelfPay));
        assert!(!counts("She says she will self-pay if UHC denies.", EvKind::SelfPay));
        assert!(counts("She will self-pay today; no claim to UHC.", EvKind::SelfPay));
    }

    #[test]
    fn self_pay_statements() {
        for t in [
            "Pt signed non-covered services waiver 11/01/2025; self-pay for this series.",
            "Financial: patient is paying out of pocket for the infusion series.",
            "Cash pay, superbill given.",
            "ABN signed and on file.",
            "Private pay per clinic policy.",
        ] {
            assert!(counts(t, EvKind::SelfPay), "{t}");
        }
        for t in [
            "Not self-pay; billed to Aetna.",
            "If the PA is denied, pt may self-pay.",
            "Pt declined to sign the waiver.",
            "Copay collected.",
        ] {
            assert!(!counts(t, EvKind::SelfPay), "{t}");
        }
    }

    #[test]
    fn suicidal_ideation_current_denied_and_named() {
        for t in [
            "Pt endorses passive SI without plan or intent.",
            "MSE: + SI with plan to overdose; safety plan reviewed.",
            "Reports suicidal thoughts daily this week.",
            "Overdose 10/02 was a suicide attempt; admitted inpatient.",
            "She has been thinking about ending her life.",
            "Indication: MDSI. Active suicidal ideation, no plan, contracts for safety.",
            "Reports passive suicidal ideation this week; declined admission.",
        ] {
            assert!(counts(t, EvKind::SuicidalIdeation), "{t}");
        }
        for t in [
            "Denies SI/HI.",
            "SI: denies. HI: denies.",
            "SI/HI - neg",
            "No suicidal ideation, intent or plan.",
            "Hx of suicide attempt in 2015, none since.",
            "Mother attempted suicide in 2001.",
            "Indication: MDD with acute suicidal ideation or behavior (MDSI).",
            "Si, no hay cambios.",
            "#1 MDD with acute suicidal ideation/behavior (MDSI indication), recurrent.",
            "Hx suicide attempt 2021.",
            "Hx passive SI 2019, none since, denies SI today.",
            "(admitted in July for the SI that led to admission)",
            "Index admission 05/28/2026 - 06/01/2026 for suicidal ideation with plan, discharged to this course.",
            "Dx F33.2; R45.851 suicidal ideations (course indication).",
        ] {
            assert!(!counts(t, EvKind::SuicidalIdeation), "{t}");
        }
        assert!(counts("Indication: MDD with acute suicidal ideation or behavior (MDSI).", EvKind::MdsiIndication));
        assert!(counts("Spravato 84 mg for MDSI, week 2.", EvKind::MdsiIndication));
        assert!(!counts("TRD course, not MDSI.", EvKind::MdsiIndication));
    }

    #[test]
    fn a_request_reference_is_no_approval() {
        assert!(!counts("Auth: Aetna precert requested 09/15/2025 - status: pending, ref AE-0093312.", EvKind::PriorAuth));
        assert!(counts("Auth: Aetna precert requested 09/15/2025, approved 09/20/2025, ref AE-0093312.", EvKind::PriorAuth));
    }

    #[test]
    fn auth_with_a_lettered_id_or_a_mid_line_label() {
        assert!(counts("Anthem auth AN-ESK-559301 approved 04/01/2026 through 09/30/2026.", EvKind::PriorAuth));
        assert!(counts(
            "REMS: [X] site certified  [X] pt enrolled      Auth: IBX #IB-60-441872 approved 10/01/2025 - 03/31/2026",
            EvKind::PriorAuth
        ));
        assert!(!counts("Auth: pending with IBX.", EvKind::PriorAuth));
    }

    #[test]
    fn a_dictated_authorization_heading() {
        assert!(counts(
            "Authorization. United Healthcare approval number UHC-26-0922, approved September 22 2026 through November 21 2026.",
            EvKind::PriorAuth
        ));
        assert!(!counts("Authorization. Submitted to United Healthcare, pending.", EvKind::PriorAuth));
    }

    #[test]
    fn a_pa_number_after_no_dot() {
        assert!(counts("Prior authorisation: CDPHP no. CD-25-40817, approved 01/04/2025 (1 April) to 30/09/2025.", EvKind::PriorAuth));
    }

    #[test]
    fn pa_polarity() {
        assert!(counts("PA #A123456 approved 1/3/2026-7/2/2026.", EvKind::PriorAuth));
        assert!(counts("Prior authorization approved through 06/30/2026.", EvKind::PriorAuth));
        assert!(!counts("Prior auth pending.", EvKind::PriorAuth));
        assert!(!counts("PA denied by payer.", EvKind::PriorAuth));
        assert!(!counts("Prior authorization not required.", EvKind::PriorAuth));
        assert!(!counts("He is not self-pay. PA: none on file.", EvKind::PriorAuth));
        assert!(counts("UM approval ref# UHC-A0918-55213 for S0013, valid 10/01/2025 - 12/31/2025.", EvKind::PriorAuth));
        assert!(counts("Humana auth H-2026-55120 approved 08/25/2026 through 12/31/2026.", EvKind::PriorAuth));
        assert!(counts(
            "PA: BCBSMA #MA-240551 approved 01/20/2026, valid 01/20/2026-04/20/2026 (requested under G2082 per plan policy).",
            EvKind::PriorAuth
        ));
        assert!(counts("PA ................ BCBSMA #MA-251390 approved 07/14/2026", EvKind::PriorAuth));
    }

    #[test]
    fn pa_labels_and_shorthand() {
        assert!(counts("Auth: Aetna PPO ref 48422405, approved for 24 sessions, 3/19/2026-9/18/2026.", EvKind::PriorAuth));
        assert!(counts("Auth# 88812 valid 01/05/26-07/04/26", EvKind::PriorAuth));
        assert!(counts("Precert obtained from BCBS, ref 7781-22.", EvKind::PriorAuth));
        assert!(counts("PA exp 12/31/2025", EvKind::PriorAuth));
        assert!(!counts("Plan: start Spravato 56 mg induction once the prior authorization is approved.", EvKind::PriorAuth));
        assert!(!counts("Hold sessions until PA approved.", EvKind::PriorAuth));
        assert!(!counts("Retro authorization requested 03/12/2026 - not granted as of today.", EvKind::PriorAuth));
        // A dotted-key dump's record.
        assert!(counts(
            "pa.current = { number: \"AN-25-301877\", status: \"approved\", from: \"2025-09-01\", to: \"2026-02-28\" }",
            EvKind::PriorAuth
        ));
        // A flowsheet row's label, and "appr" for approved.
        assert!(counts("Auth | BCBS IL 25-KT-019338 approved 11/10/2025 - 01/09/2026, 6 infusions", EvKind::PriorAuth));
        assert!(counts("REMS: site cert | Anthem PA AN-4471902 appr 1/5/26-7/4/26", EvKind::PriorAuth));
        assert!(counts("Insurance: Cigna approval no. CG-2025-118844 for S0013, valid 04.11.2025 - 10.04.2026.", EvKind::PriorAuth));
        assert!(!counts("Auth not required per payer.", EvKind::PriorAuth));
        assert!(!counts("Authorization: pending review", EvKind::PriorAuth));
        // A credential after a signature is not an authorization.
        assert!(!counts("Electronically signed by M. Brennan, PA 11/30/2025 5:05 PM", EvKind::PriorAuth));
    }

    /// The value of the first prior-authorization evidence item.
    fn pa_value(t: &str) -> Option<(bool, String)> {
        let f = Extractor::builtin().extract_text(t, None);
        f.evidence.iter().find(|e| e.kind == EvKind::PriorAuth).map(|e| (e.counts, e.value.clone()))
    }

    #[test]
    fn pa_in_snake_case_and_key_value_exports() {
        assert!(counts("PRIOR_AUTH: APPROVED | REF 55-12097 | 2026-02-01 TO 2026-07-31", EvKind::PriorAuth));
        let (ok, v) = pa_value(r#"prior_auth = {"ref": "HU-4410923", "status": "approved", "valid": "2026-04-02..2026-10-01"}"#).unwrap();
        assert!(ok, "{v}");
        assert!(v.ends_with("valid 2026-04-02..2026-10-01"), "{v}");
        assert!(!counts(r#"PRIOR_AUTH: PENDING"#, EvKind::PriorAuth));
    }

    #[test]
    fn pa_renewal_is_an_authorization() {
        // A renewal written with its own number, after the first authorization.
        let t = "Cigna auth CG-551002 approved 2026-01-10, valid to 2026-06-30. Renewal CG-551877 approved 2026-06-20, valid 2026-07-01 to 2026-12-31.";
        let f = Extractor::builtin().extract_text(t, None);
        let vals: Vec<String> = f.evidence.iter().filter(|e| e.kind == EvKind::PriorAuth && e.counts).map(|e| e.value.clone()).collect();
        assert!(vals.iter().any(|v| v.ends_with("valid 2026-06-20..2026-12-31")), "{vals:?}");
        assert!(counts("Reauthorization approved through 09/30/2026.", EvKind::PriorAuth));
        assert!(!counts("Reauthorization request submitted 3/2.", EvKind::PriorAuth));
    }

    #[test]
    fn pa_names_its_drug_code() {
        let (_, v) = pa_value("Precert #7781220 approved 10/01/2025 for S0013 x 84 units, valid 10/01/2025-03/31/2026.").unwrap();
        assert!(v.starts_with("prior auth: approved for S0013 valid"), "{v}");
        let (_, v) = pa_value("Auth: UHC ref 99120455 approved (HCPCS j0013), 2026-02-01 to 2026-07-31").unwrap();
        assert!(v.contains(" for J0013 "), "{v}");
        let (_, v) = pa_value("PA approved 1/2/2026 for 24 sessions.").unwrap();
        assert!(!v.contains(" for "), "{v}");
    }

    #[test]
    fn pa_clause_across_entities_and_flattened_sections() {
        // An HTML dash entity's ";" does not end the validity window.
        let (ok, v) = pa_value(
            "<p>Prior authorization (Aetna) ref 55012 approved 03/02/2027 for 4 infusions, valid 03/05/2027&ndash;06/30/2027.</p>",
        )
        .unwrap();
        assert!(ok);
        assert!(v.ends_with("valid 2027-03-02..2027-06-30"), "{v}");
        // The next flattened section's "submitted" is not the PA's status, and
        // "no issues" two pieces back does not negate it.
        let t = "VISIT NOTE 4/2/27  Pt seen for session 5 of the induction course with his wife present  Checked PDMP, no issues  \
                 Humana auth 77-30045 approved 3/20/27, valid 3/22/27-9/21/27  REMS: site certified, patient enrolled, form submitted 4/2/27  \
                 BP 124/80 before dosing";
        let (ok, v) = pa_value(t).unwrap();
        assert!(ok, "{v}");
        assert!(v.starts_with("prior auth: approved"), "{v}");
    }

    #[test]
    fn follow_up_as_a_numbered_dated_visit_or_a_call() {
        assert!(counts("Discharged with sister. Infusion #5 Tues 4/14.", EvKind::FollowUp));
        assert!(counts("Left 16:10 with partner; #3 Mon Mar 2nd.", EvKind::FollowUp));
        assert!(counts("Nurse check-in call on Wednesday.", EvKind::FollowUp));
        assert!(counts("Next booster in about 5 weeks.", EvKind::FollowUp));
        assert!(!counts("Here for infusion #4 of 6.", EvKind::FollowUp));
    }

    #[test]
    fn pa_window_read_from_dates() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(super::pa_window("Auth# 88812 valid 01/05/26-07/04/26"), Some((Some(d("2026-01-05")), d("2026-07-04"))));
        assert_eq!(super::pa_window("PA #A1 approved 2025-08-28–2/5/26."), Some((Some(d("2025-08-28")), d("2026-02-05"))));
        assert_eq!(super::pa_window("PA exp 12/31/2025"), Some((None, d("2025-12-31"))));
        assert_eq!(super::pa_window("PA approved 1/3/2026"), None);
    }

    #[test]
    fn device_log_sums_devices() {
        let dose = |t: &str| {
            let f = Extractor::builtin().extract_text(t, Some("Spravato Treatment Note"));
            let top = f.doses.iter().map(|d| d.priority).max();
            f.doses.iter().filter(|d| Some(d.priority) == top).map(|d| d.mg).collect::<Vec<_>>()
        };
        assert_eq!(dose("9:53 AM Device 1 administered (28 mg)\n9:58 am Device 2 administered (28 mg)\n"), vec![56.0]);
        assert_eq!(dose("PRE-DOSE 11:03 BP 118/82\nD1 11:11\nD2 11:16\nD3 11:21\n"), vec![84.0]);
        assert_eq!(dose("Spravato 56mg (2 devices) at 10:02."), vec![56.0]);
        assert_eq!(dose("Dose: 84 mg via 3 devices."), vec![84.0]);
        assert!(dose("pt self-administered 2 sprays from each of 3 devices").contains(&84.0));
        assert_eq!(dose("2 devices given, total 56 mg."), vec![56.0]);
        assert_eq!(
            dose("Administration of 56 mg (2 devices) at 14:05 and 14:10. 1 additional device (28 mg) was given to the patient to use at home on Saturday."),
            vec![56.0]
        );
        assert!(dose("Phone call: took 2 devices yesterday as usual; headache today.").is_empty());
        // Said not to go home: today's dose stands.
        assert_eq!(dose("Spravato 56 mg (2 devices) self-administered in clinic, no take-home devices."), vec![56.0]);
        // Each device's size after the count.
        assert_eq!(dose("Application: eighty-four milligrams (three devices at 28 mg), self-applied."), vec![84.0]);
    }

    #[test]
    fn home_prescription_is_not_an_administered_dose() {
        let f = Extractor::builtin().extract_text("Continue ketamine 300 mg RDT twice weekly at home per protocol; rx sent.", None);
        assert!(f.doses.is_empty(), "{:?}", f.doses);
        let f = Extractor::builtin().extract_text("Prescribed ketamine 150 mg troches, #8, 1 refill.", None);
        assert!(f.doses.is_empty(), "{:?}", f.doses);
        let f = Extractor::builtin().extract_text("Ketamine 200 mg RDT given 1:47 PM.", None);
        assert!(f.doses.iter().any(|d| d.mg == 200.0));
        // Today's observed dose, the home plan in the next sentence, and the
        // dose spelled in words.
        let f = Extractor::builtin().extract_text(
            "Today: one hundred milligrams of ketamine as one sublingual troche, observed in clinic. If tolerated: home use 100 mg twice weekly from next week.",
            None,
        );
        assert!(f.doses.iter().any(|d| d.mg == 100.0), "{:?}", f.doses);
        let f = Extractor::builtin()
            .extract_text("Weight 80 kg. Ketamine 0.75 mg/kg = 60 mg in 100 mL NS, planned over 80 minutes (75 mL/h).", None);
        assert!(f.mg_per_kg.is_some_and(|(k, _)| k == 0.75));
        let f =
            Extractor::builtin().extract_text("Video visit, pt at home. On home oral ketamine (compounded 100 mg RDT) x 2 months.", None);
        assert!(f.doses.is_empty(), "{:?}", f.doses);
    }

    #[test]
    fn timed_administration_is_current_under_a_history_table() {
        let t = "Past psychiatric medication history:\n| Medication | Dose |\n| Nortriptyline | 100 mg |\n\nKetamine 200 mg RDT given 1:47 PM.\n";
        assert!(Extractor::builtin().extract_text(t, None).track.oral > 0);
        let t = "Prior treatment history:\nSertraline 100 mg x 8 wk, no response.\nSelf-administered ketamine 125 mg sublingual tablet at 0827.\n";
        assert!(Extractor::builtin().extract_text(t, None).track.oral > 0);
    }

    #[test]
    fn visit_statements_survive_a_family_history_line() {
        let t = "Family hx: sister responded to escitalopram.\n\nPatient enrolled in Spravato REMS.\nREMS Patient Monitoring Form submitted.\nDischarge criteria met.\n";
        assert!(counts(t, EvKind::Rems));
        assert!(counts(t, EvKind::DischargeReady));
        let t = "FH: mother with MDD, did well on sertraline.\nSite is REMS certified; PA #A12345 approved 1/2/26-6/30/26.\n";
        assert!(counts(t, EvKind::Rems));
        assert!(counts(t, EvKind::PriorAuth));
        // Relatives' treatment is still not the patient's.
        assert!(!counts("Family hx: brother was not enrolled in REMS.", EvKind::Rems));
    }

    #[test]
    fn readiness_with_typos_and_home_observation() {
        assert!(counts("11:42 Pt assessed ready for dicharge: VS stable, steady gait.", EvKind::DischargeReady));
        assert!(counts("Clinically stable for dischage per Dr. Kim.", EvKind::DischargeReady));
        assert!(counts("0955 Safe to end observation: alert, steady, sober adult present at home.", EvKind::DischargeReady));
        assert!(counts("OK to end monitoring, mentation at baseline.", EvKind::DischargeReady));
    }

    #[test]
    fn discharge_readiness() {
        assert!(counts("Discharge criteria met.", EvKind::DischargeReady));
        assert!(counts("Safe to leave, gait steady, ride home arranged.", EvKind::DischargeReady));
        assert!(!counts("Discharged at 12:10.", EvKind::DischargeReady));
        assert!(!counts("Discharge criteria met: No", EvKind::DischargeReady));
        for t in [
            "pt d/c'd home @ 1120 - ambulating w/o difficulty, A&Ox3, criteria for d/c met",
            "1445 d/c - criteria met, father driving",
            "Discharge 16:10, dischage critera met, mother driving.",
            "Discharge: met all criteria (alert, oriented, no dissociation, steady gait), left with daughter.",
            "Pt ambulatory, steady, A&O x4, no dissociation, discharged with friend at 10:55.",
            "D/C criteria met, resolved, steady, spouse driving.",
            "1110 Discharge: alert, oriented, no dissociation or sedation, ambulating steadily; sister driving.",
        ] {
            assert!(counts(t, EvKind::DischargeReady), "{t}");
        }
        assert!(counts("D/C 1040 - stable, steady gait, A&Ox3, ride w/ spouse", EvKind::Transport));
        assert!(counts("mom driving", EvKind::Transport));
        assert!(counts("1115 d/c criteria met. Sister escorted pt home.", EvKind::Transport));
        assert!(counts("Wife drove.", EvKind::Transport));
        assert!(counts("No driving til tmrw after sleep.", EvKind::Transport));
        assert!(counts("15:52 d/c - crit met. Friend (K. Obi) escort, drives.", EvKind::Transport));
        assert!(counts("No drvg til tmrw.", EvKind::Transport));
        assert!(counts("11h45 discharge criteria met; collected by her brother; no driving today", EvKind::Transport));
        assert!(!counts("Discharge criteria not met.", EvKind::DischargeReady));
        assert!(!counts("Pt A&Ox3 on arrival, will be discharged after 2 hrs of observation.", EvKind::DischargeReady));
    }

    #[test]
    fn a_device_range_counts_its_last_device() {
        let f = Extractor::builtin()
            .extract_text("Spravato maintenance.\n0855 / 0900 / 0905 dev 1-2-3 self-admin, direct obs by RN. 84 mg. No take-home.", None);
        let top = f.doses.iter().max_by_key(|d| d.priority).map(|d| d.mg);
        assert!(f.doses.iter().any(|d| d.mg == 84.0) && !f.doses.iter().any(|d| d.mg == 28.0), "{:?} {top:?}", f.doses);
        let f = Extractor::builtin().extract_text("Esketamine: devices 1-3 self-administered at 0910, 0915, 0920.", None);
        assert!(f.doses.iter().all(|d| d.mg == 84.0), "{:?}", f.doses);
    }

    #[test]
    fn doses() {
        let f = Extractor::builtin().extract_text("Spravato 84 mg administered (three 28 mg devices).", None);
        assert!(f.doses.iter().any(|d| d.mg == 84.0));
        let f = Extractor::builtin().extract_text("Two devices administered today.", None);
        assert!(f.doses.iter().any(|d| d.mg == 56.0));
        let f = Extractor::builtin().extract_text("Trials: trazodone dose 50 mg/day; sertraline dose 100 mg daily.", None);
        assert!(f.doses.is_empty(), "{:?}", f.doses);
        let f = Extractor::builtin().extract_text("Plan to increase to 84 mg next session.", None);
        assert!(f.doses.is_empty(), "{:?}", f.doses);
        let f = Extractor::builtin().extract_text("Ketamine 0.5 mg/kg IV, weight 80 kg.", None);
        assert_eq!(f.mg_per_kg.unwrap().0, 0.5);
        assert_eq!(f.weight_kg.unwrap().0, 80.0);
        assert_eq!(Extractor::builtin().extract_text("KETAMINE 0.5 MG PER KG, 35 MG, INFUSED", None).mg_per_kg.unwrap().0, 0.5);
    }

    #[test]
    fn discharge_rows_of_forms() {
        assert!(counts("Discharge\tstable per Dr. Fontaine\tboyfriend driving", EvKind::DischargeReady));
        assert!(counts("Disposition: clinically stable, home with wife", EvKind::DischargeReady));
        assert!(!counts("Discharge: not stable, kept for observation", EvKind::DischargeReady));
        assert!(!counts("Discharge instructions: call if unstable", EvKind::DischargeReady));
    }

    #[test]
    fn escorts_after_times_and_handovers() {
        for t in [
            "Discharged 2:30 PM with wife; discharged criteria met.",
            "1530 discharge criteria met, to lobby with husband",
            "Pt ambulatory, steady, A&O x4, no dissociation, discharged with friend at 10:55.",
            "D/C'd at 11:05 w/ her sister.",
            "Walked to car with daughter.",
            "Husband in lobby to drive her home.",
            "DISCHARGED HOME WITH WIFE AT 3:45 PM.",
            "Discharge criteria met at 10:40; daughter escorting and driving.",
            "Husband accompanying her home.",
            "Discharge criteria met; friend Odile escorting/driving.",
            "Discharge: 1020, discharge criteria met; partner escort/driver.",
        ] {
            assert!(counts(t, EvKind::Transport), "{t}");
        }
        for t in [
            "Lives with husband and two children.",
            "Left arm IV placed with 20g catheter.",
            "Pt not discharged with an escort; waited for cab.",
            "Discharged with relatively stable mood.",
            "Left with momentary dizziness, resolved.",
            "Discharged with parenteral fluids stopped.",
            "Released to sonographer for imaging.",
            "No family member escorting today.",
        ] {
            let f = Extractor::builtin().extract_text(t, None);
            assert!(!f.counting(EvKind::Transport).any(|i| f.evidence[i].entry_id != "gait-steady"), "{t}");
        }
    }

    #[test]
    fn follow_up_plans() {
        for t in [
            "Return Thursday for infusion #3.",
            "Plan: continue infusion series.",
            "Will see pt again in 1 week.",
            "Booked for Friday.",
            "RTC 1 week.",
            "Next infusion scheduled 3/5.",
            "We booked infusion 5 for 10/10/2025 and will phone her tomorrow.",
            "Will call her tomorrow to check on her.",
        ] {
            assert!(counts(t, EvKind::FollowUp), "{t}");
        }
        for t in [
            "Will schedule follow-up in 2 weeks.",
            "Front desk to book next session.",
            "Will come back in 1 week.",
            "To schedule appointment for Thursday.",
            "Will book return visit.",
        ] {
            assert!(counts(t, EvKind::FollowUp), "{t}");
        }
        for t in [
            "May return to work tomorrow.",
            "Returned to baseline.",
            "No follow-up needed.",
            "Pt states she is unable to come back for more treatment.",
            "Asked staff to book a ride home.",
            "Will schedule a colonoscopy with GI.",
            "She wants to come back to work soon.",
        ] {
            assert!(!counts(t, EvKind::FollowUp), "{t}");
        }
    }

    #[test]
    fn treatment_initiation() {
        for t in [
            "Plan: start Spravato 56 mg induction once PA approved.",
            "Pt is a candidate for esketamine.",
            "Referred for IV ketamine infusion series.",
            "Will initiate Spravato next week.",
            "PA submitted for Spravato.",
        ] {
            assert!(counts(t, EvKind::Initiation), "{t}");
        }
        for t in [
            "Doing better since starting esketamine.",
            "Not a candidate for ketamine given uncontrolled HTN.",
            "Continue Spravato 56 mg twice weekly.",
            "Remains appropriate for continued Spravato.",
            "PA submitted for Spravato continuation.",
            "Prior auth requested for maintenance esketamine.",
            "PA submitted for re-authorization of Spravato.",
            "PA sent for renewal of Spravato.",
            "Appropriate for Spravato per REMS.",
        ] {
            assert!(!counts(t, EvKind::Initiation), "{t}");
        }
    }

    #[test]
    fn flowsheet_weight_and_dose_rows() {
        let f =
            Extractor::builtin().extract_text("KETAMINE INFUSION FLOWSHEET\nWeight (kg)\t95\nDose (mg/kg)\t0.5\nTotal (mg)\t47.5", None);
        assert_eq!(f.weight_kg.map(|w| w.0), Some(95.0));
        assert_eq!(f.mg_per_kg.map(|m| m.0), Some(0.5));
        let f = Extractor::builtin().extract_text("Wt (lbs): 200", None);
        assert_eq!(f.weight_kg.map(|w| w.0.round()), Some(91.0));
    }

    #[test]
    fn intra_infusion_vitals_summarised() {
        for t in [
            "Infusion 15:00-15:40. BP WNL throughout per continuous monitor.",
            "1500 start, 1540 end. VSS throughout, pt tolerated well.",
            "Vitals remained stable during the infusion.",
            "Intra-infusion vitals stable.",
        ] {
            assert!(counts(t, EvKind::IntraVitals), "{t}");
        }
        for t in ["BP stable during the session.", "Hemodynamically stable during treatment.", "VSS during procedure."] {
            assert!(counts(t, EvKind::IntraVitals), "{t}");
        }
        for t in [
            "Vitals q15 min during infusion per protocol.",
            "Vitals were not stable during the infusion.",
            "Hold if BP > 160/100.",
            "BP stable during the day per home log.",
            "VSS during intake.",
            "Vitals normal during last week's visit.",
        ] {
            assert!(!counts(t, EvKind::IntraVitals), "{t}");
        }
    }

    #[test]
    fn elevated_bp_management() {
        for t in [
            "BP 152/94; benefits of treatment outweigh risks, proceed.",
            "Risk/benefit discussed with patient, elected to proceed.",
            "Risks and benefits of dosing with BP 146/92 reviewed with Dr. Alvarez; proceed.",
            "MD notified of BP 168/100.",
            "Dr Patel aware and evaluated pt, cleared to proceed.",
            "NP made aware of elevated BP.",
            "Prescriber approved to proceed.",
            "BP rechecked after 10 min rest.",
            "Repeat BP 138/84.",
            "Pt observed until BP < 140/90.",
            "Remained in clinic until BP returned to baseline.",
            "Clonidine 0.1 mg PO given at 10:55.",
            "Given labetalol 100 mg po.",
            "Extended monitoring for elevated BP, 30 min.",
            "Stable for discharge: dissociation resolved, BP back to baseline.",
            "BP trending down, pt stable.",
        ] {
            assert!(counts(t, EvKind::BpManagement), "{t}");
        }
        for t in [
            "MD not notified.",
            "Provider was not made aware.",
            "Notify MD if BP > 160/100.",
            "No risk/benefit discussion documented.",
            "Home meds: clonidine 0.1 mg bid.",
            "PA approved 01/05/2026 through 06/30/2026.",
            "BP 128/82, tolerated well, discharged.",
            "BP not back to baseline at 2 h.",
        ] {
            assert!(!counts(t, EvKind::BpManagement), "{t}");
        }
        // The pre-dose decision keeps its own id (it does not answer a high post-dose reading).
        let f = Extractor::builtin().extract_text("Benefits outweigh risks per Dr. Kim.", None);
        assert!(f.counting(EvKind::BpManagement).any(|i| f.evidence[i].entry_id == "bp-risk-benefit"));
    }

    #[test]
    fn stated_third_session_in_a_week() {
        let counts = |t: &str, k: EvKind| Extractor::builtin().extract_text(t, None).counting(k).next().is_some();
        for t in [
            "Third Spravato dose in 7 days (11/04, 11/06 and today), added per Dr. Ebbesen.",
            "This is her 3rd esketamine session this week.",
            "4th treatment within the past 7 days per pt request.",
            "Pt has now had 3 sessions in the same week.",
        ] {
            assert!(counts(t, EvKind::ScheduleExcess), "{t}");
        }
        for t in [
            "Fourth treatment in week 2 of induction.",
            "Third session of induction today.",
            "Twice weekly x 4 weeks, then weekly.",
            "If a third dose in 7 days is requested, discuss with MD.",
            "No more than 2 sessions in a week.",
            "Her mother had 3 sessions this week.",
        ] {
            assert!(!counts(t, EvKind::ScheduleExcess), "{t}");
        }
    }

    /// The session dose as the encounter reads it: the highest-priority candidate.
    fn session_dose(t: &str) -> Option<f64> {
        let f = Extractor::builtin().extract_text(t, None);
        let top = f.doses.iter().map(|d| d.priority).max()?;
        f.doses.iter().find(|d| d.priority == top).map(|d| d.mg)
    }

    #[test]
    fn vague_histories_as_written() {
        for t in [
            "PT HAS FAILED MULTIPLE ANTIDEPRESANTS PER OUTSIDE RECORDS.",
            "Pt has trialed multiple SSRIs over the years.",
            "She has been treated with several antidepressants in the past without adequate response.",
            "Psych hx: TRD; SSRIs x3, SNRI x1, all failed per pt.",
            "Past meds per pt: \"a couple of SSRIs\".",
            "Per patient she has \"been on most of the SSRIs over the years\".",
            "\"None of them ever worked\"; she cannot recall names or doses.",
        ] {
            assert!(counts(t, EvKind::VagueHistory), "{t}");
        }
        assert!(!counts("Failed sertraline 200 mg x 8 wk.", EvKind::VagueHistory));
    }

    #[test]
    fn export_style_doses() {
        assert_eq!(session_dose("She self-administered two 28-mg devices at 10:15 and 10:20."), Some(56.0));
        assert_eq!(session_dose("DEVICES X2 (56MG) ADMINISTERED 1000 AND 1005."), Some(56.0));
        assert_eq!(session_dose("Spravato 84 mg (3 x 28 mg) self-admin 0900/0905/0910, observed."), Some(84.0));
        assert_eq!(session_dose("07/01/2026 1215  esketamine 56 mg intranasal (2 x 28 mg)  GIVEN  RN"), Some(56.0));
        assert_eq!(session_dose("Total (mg)\t47.5"), Some(47.5));
        let mar = "esketamine (SPRAVATO) 28 mg/device nasal spray   Given 0902   Dose: 28 mg\n\
                   esketamine (SPRAVATO) 28 mg/device nasal spray   Given 0907   Dose: 28 mg\n";
        assert_eq!(session_dose(mar), Some(56.0));
        let mar =
            "1015 ESKETAMINE 28MG/DEVICE NASAL GIVEN\n1020 ESKETAMINE 28MG/DEVICE NASAL GIVEN\n1025 ESKETAMINE 28MG/DEVICE NASAL GIVEN\n";
        assert_eq!(session_dose(mar), Some(84.0));
    }

    #[test]
    fn icd_in_text() {
        let f = Extractor::builtin().extract_text("Dx: F33.2 MDD recurrent severe; R45.851", None);
        let c: Vec<_> = f.icd10.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(c, vec!["F33.2", "R45.851"]);
    }

    #[test]
    fn pa_abbreviation_followed_by_payer_or_number() {
        assert!(counts("UHC PA 6620-8819 approved 01/05/2026 - 07/04/2026", EvKind::PriorAuth));
        assert!(counts("PA Cigna #C-1180-44 approved 05/01/2026-10/31/2026.", EvKind::PriorAuth));
        assert!(!counts("PA BCBS #77-1002 pending review.", EvKind::PriorAuth));
        // A physician assistant or a state is not a prior authorization.
        assert!(!counts("Seen with PA-C Jones, plan approved by patient.", EvKind::PriorAuth));
        assert!(!counts("Lives in Pittsburgh, PA with her sister.", EvKind::PriorAuth));
    }

    #[test]
    fn per_device_strength_is_not_the_session_dose() {
        let f = Extractor::builtin().extract_text(
            "0931 ESKETAMINE 28MG/DEVICE NASAL GIVEN 1 DEVICE\n0936 ESKETAMINE 28MG/DEVICE NASAL GIVEN 1 DEVICE\nTOTAL THIS ADMIN: 56 MG",
            None,
        );
        // No stated-dose candidate of 28 mg; the stated total wins over per-line device counts.
        assert!(f.doses.iter().all(|d| d.mg != 28.0 || d.priority < 2), "{:?}", f.doses);
        let top = f.doses.iter().max_by_key(|d| d.priority).unwrap();
        assert_eq!(top.mg, 56.0);
    }
    #[test]
    fn safety_screen_polarity() {
        for t in [
            "Denies hx of aneurysm, AVM or intracerebral hemorrhage.",
            "PMH: no aneurysmal vascular disease.",
            "Aneurysm/AVM/ICH: none.",
            "Contraindications reviewed: none.",
            "Contraindications to Spravato were reviewed with the patient.",
            "No known contraindications to esketamine.",
            "Contraindications: none identified.",
            "History of intracranial hemorrhage in 2019 (see neuro note).",
            "Screened for arteriovenous malformation - negative.",
            "Reviewed PMH: no contraindications.",
        ] {
            assert!(counts(t, EvKind::SafetyScreen), "{t}");
        }
        for t in [
            "Will screen for aneurysm at the intake visit.",
            "Family history: mother had a brain aneurysm.",
            "Contraindicated drugs list updated.",
            "No contraindications to discharge.",
            "Pt reports headache, no change in vision.",
            "Patient is at home; video visit.",
        ] {
            assert!(!counts(t, EvKind::SafetyScreen), "{t}");
        }
    }

    #[test]
    fn severity_scale_scores() {
        for t in ["PHQ-9: 18", "PHQ 9 score 21 today.", "Baseline MADRS = 32.", "HAM-D-17 score 24", "QIDS-SR16: 15", "| PHQ9 | 19 |"] {
            assert!(counts(t, EvKind::SeverityScale), "{t}");
        }
        for t in ["PHQ-9 not done today.", "Will repeat PHQ-9 in 4 weeks.", "MADRS to be obtained at next visit 2", "PHQ-2 negative."] {
            assert!(!counts(t, EvKind::SeverityScale), "{t}");
        }
    }
    #[test]
    fn first_session_of_a_course() {
        for t in [
            "Infusion 1 of 6. Ketamine 0.5 mg/kg IV over 40 min.",
            "Session #1 - Spravato 56 mg.",
            "Treatment 1/8 of induction series.",
            "Induction session 1 today.",
            "Week 1, session 1.",
            "First Spravato treatment today; pt anxious but consented.",
            "Initial ketamine infusion.",
            "First infusion of the series, tolerated well.",
        ] {
            assert!(counts(t, EvKind::FirstSession), "{t}");
        }
        for t in [
            "Infusion 2 of 6.",
            "Session #12.",
            "Pt tolerated the first infusion well; today is infusion 3.",
            "Since her first Spravato treatment mood is better.",
            "First Spravato session scheduled for 3/4.",
            "Will start first ketamine infusion next week once PA approved",
            "Device 1 of 2 administered at 09:02.",
            "Dose 1/2 given.",
            "Session 10 of 12.",
        ] {
            assert!(!counts(t, EvKind::FirstSession), "{t}");
        }
    }

    /// The location values of the counting patient-location statements.
    fn locations(t: &str) -> Vec<String> {
        let f = Extractor::builtin().extract_text(t, None);
        let v = f.counting(EvKind::PatientLocation).map(|i| f.evidence[i].value.clone()).collect();
        v
    }

    #[test]
    fn patient_location_home_or_elsewhere() {
        for t in [
            "Patient location: home. Provider location: clinic.",
            "Patient location: ☑ Home  ☐ Work  ☐ Vehicle",
            "Pt location - Home",
            "Location of patient: residence",
            "Pt is at home, alone, in a private room.",
            "Patient joined the visit from her home.",
            "She is currently at home for the video visit.",
            "Video visit (audio+video). Patient located at home (Worcester, MA); provider in clinic.",
            "Pt at home, provider in office.",
        ] {
            assert_eq!(locations(t), vec!["home".to_string()], "{t}");
        }
        for (t, place) in [
            ("Patient location: car (parked).", "other: car"),
            ("Pt joined from his car, parked.", "other: car"),
            ("Patient is at work, in a private office.", "other: work"),
            ("Connected from another clinic.", "other: clinic"),
            ("Patient physical location: hotel", "other: hotel"),
            ("Pt located in her car in a parking lot.", "other: car"),
            ("Patient joined from her private office at work (3rd floor, door closed).", "other: office"),
            // A telehealth room at another site (the originating site) is not home.
            ("Pt connected via video from the telehealth room at the Lakeview Family Health clinic.", "other: clinic"),
            ("Patient joined by video from the exam room in a rural partner health center, nurse present.", "other: center"),
            ("Joined by video from her home.", "home"),
            ("DR. WREN: Can you confirm where you are?\nPATIENT: I'm at work - I booked a conference room at my office.", "other: work"),
            ("Pt: \"Yes, I am at my office today.\"", "other: office"),
            ("Patient location: Hampton Inn, Columbus OH - traveling for a work conference, in her hotel room", "other: hotel"),
        ] {
            assert_eq!(locations(t), vec![place.to_string()], "{t}");
        }
        for t in [
            "Provider location: home office.",
            "Discharged home with husband.",
            "Pt is not at home today; visit rescheduled.",
            "If patient is at work next time, reschedule.",
            "Her mother is at home with the kids.",
            "Patient lives at home with spouse.",
            "She is in school full-time and working part-time.",
            "He is at home with his kids most days.",
        ] {
            assert!(locations(t).is_empty(), "{t}: {:?}", locations(t));
        }
    }
}
