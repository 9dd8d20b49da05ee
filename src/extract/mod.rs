//! Evidence extraction: turn one note's text into typed evidence items with
//! byte spans, plus the per-note facts the encounter assembler needs.
//!
//! Every pattern is compiled once into an [`Extractor`]; workers share it
//! (regex caches are per-thread inside the `regex` crate). Evidence keeps
//! negated and hypothetical mentions, marked, instead of dropping them, so
//! `ketaudit explain` can show why a mention did not count.

pub mod context;
pub mod meds;
pub mod phrases;
pub mod re;
pub mod sessions;
pub mod similarity;
pub mod spelled;
pub mod text;
pub mod timing;
pub mod vitals;
pub mod yamlish;

use std::ops::Range;

use serde::Serialize;

use crate::dict::Dictionaries;
use crate::model::Note;
use context::{Assertion, ContextRules};
use text::{Clock, Section, SectionKind};

/// Kind of an evidence item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EvKind {
    /// A medication name (any assertion).
    DrugMention,
    /// A prior/current antidepressant or augmentation trial (affirmed).
    Trial,
    /// Vague treatment-failure phrase.
    VagueHistory,
    /// Blood pressure reading.
    Bp,
    /// Heart rate.
    HeartRate,
    /// Oxygen saturation.
    Spo2,
    /// Respiratory rate.
    RespRate,
    /// Dosing / administration event (device, infusion start, oral dose).
    DoseEvent,
    /// Infusion end.
    InfusionEnd,
    /// Monitoring start.
    MonitorStart,
    /// Monitoring end.
    MonitorEnd,
    /// Discharge / departure time.
    DischargeTime,
    /// Explicit monitoring duration statement.
    MonitoringDuration,
    /// Discharge readiness phrase.
    DischargeReady,
    /// Transport / escort / gait phrase.
    Transport,
    /// REMS documentation.
    Rems,
    /// Prior authorization mention.
    PriorAuth,
    /// Administered dose.
    Dose,
    /// Body weight.
    Weight,
    /// ICD-10 code written in a note.
    Icd10,
    /// Sedation / dissociation assessment.
    Sedation,
    /// Sedation resolved.
    Resolution,
    /// Supervised self-administration.
    Supervision,
    /// Safety screen.
    SafetyScreen,
    /// Severity scale score.
    SeverityScale,
    /// "See other note" stub.
    Stub,
    /// Ketamine / esketamine treatment mention (track signal).
    Treatment,
    /// NDC number.
    Ndc,
    /// Psychotic features.
    Psychosis,
    /// Indication / diagnosis the treatment is for.
    Indication,
    /// Follow-up plan.
    FollowUp,
    /// Infusion rate or planned infusion duration.
    InfusionRate,
    /// Post-treatment mental status / recovery.
    PostStatus,
    /// Vital signs during the treatment stated as a whole.
    IntraVitals,
    /// The treatment being started or evaluated for.
    Initiation,
    /// Esketamine taken or sent home.
    TakeHome,
    /// Time spent statement (practitioner or clinical staff, by entry id).
    TimeSpent,
    /// Elevated blood pressure acted on (risk-benefit decision, prescriber
    /// notified, recheck, observed until down); entry id `bp-risk-benefit`
    /// is the pre-dose decision.
    BpManagement,
    /// The note says this session is the third or later within 7 days.
    ScheduleExcess,
    /// The patient pays the treatment (self-pay, non-covered waiver).
    SelfPay,
    /// The MDSI indication named.
    MdsiIndication,
    /// Current suicidal ideation or behavior (affirmed), or its denial.
    SuicidalIdeation,
    /// An antidepressant the patient takes now (current list, "continue X").
    CurrentAd,
    /// This session is the first of a course.
    FirstSession,
    /// Where the patient is during a telehealth visit; value `home` or
    /// `other: <place>`.
    PatientLocation,
    /// This visit is the patient's first with the practice (new patient).
    NewPatient,
    /// The dates of the course's sessions, listed in the note ("sessions so
    /// far: 5/4, 5/7, 5/11; today 5/15").
    SessionDates,
}

impl EvKind {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvKind::DrugMention => "drug_mention",
            EvKind::Trial => "trial",
            EvKind::VagueHistory => "vague_history",
            EvKind::Bp => "bp",
            EvKind::HeartRate => "heart_rate",
            EvKind::Spo2 => "spo2",
            EvKind::RespRate => "resp_rate",
            EvKind::DoseEvent => "dose_event",
            EvKind::InfusionEnd => "infusion_end",
            EvKind::MonitorStart => "monitor_start",
            EvKind::MonitorEnd => "monitor_end",
            EvKind::DischargeTime => "discharge_time",
            EvKind::MonitoringDuration => "monitoring_duration",
            EvKind::DischargeReady => "discharge_ready",
            EvKind::Transport => "transport",
            EvKind::Rems => "rems",
            EvKind::PriorAuth => "prior_auth",
            EvKind::Dose => "dose",
            EvKind::Weight => "weight",
            EvKind::Icd10 => "icd10",
            EvKind::Sedation => "sedation",
            EvKind::Resolution => "resolution",
            EvKind::Supervision => "supervision",
            EvKind::SafetyScreen => "safety_screen",
            EvKind::SeverityScale => "severity_scale",
            EvKind::Stub => "stub",
            EvKind::Treatment => "treatment",
            EvKind::Ndc => "ndc",
            EvKind::Psychosis => "psychosis",
            EvKind::Indication => "indication",
            EvKind::FollowUp => "follow_up",
            EvKind::InfusionRate => "infusion_rate",
            EvKind::PostStatus => "post_status",
            EvKind::IntraVitals => "intra_vitals",
            EvKind::Initiation => "initiation",
            EvKind::TakeHome => "take_home",
            EvKind::TimeSpent => "time_spent",
            EvKind::BpManagement => "bp_management",
            EvKind::ScheduleExcess => "schedule_excess",
            EvKind::SelfPay => "self_pay",
            EvKind::MdsiIndication => "mdsi_indication",
            EvKind::SuicidalIdeation => "suicidal_ideation",
            EvKind::CurrentAd => "current_ad",
            EvKind::FirstSession => "first_session",
            EvKind::PatientLocation => "patient_location",
            EvKind::NewPatient => "new_patient",
            EvKind::SessionDates => "session_dates",
        }
    }
}

/// One evidence item: what was found, where, and whether it is affirmed.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Kind.
    pub kind: EvKind,
    /// Dictionary entry or pattern id that matched.
    pub entry_id: String,
    /// Byte range in the note's `text`.
    pub span: Range<usize>,
    /// Assertion from the context layer (and local polarity checks).
    pub assertion: Assertion,
    /// Normalized value ("128/82", "sertraline 100 mg/day x 8 wk", "approved").
    pub value: String,
    /// Whether the item counts (affirmed and not excluded by a local rule).
    pub counts: bool,
}

/// Longest snippet kept per evidence item (bytes).
pub const SNIPPET_MAX: usize = 160;

/// Assertion as a short label for reports.
pub fn assertion_label(a: &Assertion) -> &'static str {
    if a.negated {
        "negated"
    } else if a.hypothetical {
        "hypothetical"
    } else if a.family {
        "family"
    } else if a.possible {
        "possible"
    } else if a.historical {
        "historical"
    } else {
        "affirmed"
    }
}

/// Phase of a vital sign relative to dosing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before dosing.
    Pre,
    /// After dosing started.
    Post,
    /// Could not tell.
    Unknown,
}

/// A blood pressure reading with what is known about its timing.
#[derive(Debug, Clone)]
pub struct BpReading {
    /// Systolic.
    pub sys: u16,
    /// Diastolic.
    pub dia: u16,
    /// Clock time written with it.
    pub clock: Option<Clock>,
    /// Phase from wording ("baseline", "40 min post", "at discharge").
    pub worded: Phase,
    /// Minutes after dosing from wording ("@40min", "T+40").
    pub offset_min: Option<u32>,
    /// Worded as the discharge / end-of-monitoring reading.
    pub at_discharge: bool,
    /// Phase from the enclosing section header.
    pub section: Phase,
    /// Position relative to the note's first administration statement.
    pub positional: Phase,
    /// Index into the note's evidence.
    pub ev: usize,
}

/// Timing facts of one note.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// Dosing events with clock times (device administrations, infusion start, oral dose).
    pub dose_times: Vec<(Clock, usize)>,
    /// Infusion end times.
    pub infusion_end: Vec<(Clock, usize)>,
    /// Stated infusion duration in minutes.
    pub infusion_minutes: Option<(u32, usize)>,
    /// Monitoring start times.
    pub monitor_start: Vec<(Clock, usize)>,
    /// Monitoring end times.
    pub monitor_end: Vec<(Clock, usize)>,
    /// Discharge times.
    pub discharge: Vec<(Clock, usize)>,
    /// Explicit monitoring duration statements (minutes).
    pub stated_minutes: Vec<(u32, usize)>,
    /// Byte offset of the first administration statement (with or without time).
    pub first_admin_pos: Option<usize>,
    /// Administration wording ("self-administered", "device 2", "dosed"),
    /// not negated or hypothetical, with or without a time: byte ranges.
    pub admin_statements: Vec<Range<usize>>,
}

/// Treatment track signals of one note.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrackSignals {
    /// Affirmed esketamine administration mentions.
    pub esketamine: u32,
    /// Affirmed IV ketamine mentions.
    pub iv: u32,
    /// Affirmed oral/sublingual ketamine mentions.
    pub oral: u32,
}

/// E/M documentation features of one note.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmFeatures {
    /// Has a history / HPI / subjective section.
    pub history: bool,
    /// Has an assessment / impression / MDM section.
    pub assessment: bool,
    /// Has a plan section.
    pub plan: bool,
    /// Has an exam / MSE section.
    pub exam: bool,
    /// Has an explicitly separate E/M section.
    pub em_section: bool,
    /// Has an E/M section with its own history, assessment and plan content.
    pub em_section_complete: bool,
    /// Mostly a pointer to another note.
    pub stub: bool,
    /// Word count.
    pub words: u32,
}

/// A dose fact.
#[derive(Debug, Clone, Copy)]
pub struct DoseFact {
    /// Dose in mg.
    pub mg: f64,
    /// Evidence index.
    pub ev: usize,
    /// Priority (higher wins): total statements beat device counts.
    pub priority: u8,
}

/// Everything extracted from one note.
#[derive(Debug, Clone, Default)]
pub struct NoteFacts {
    /// Evidence items, in text order per extractor.
    pub evidence: Vec<Evidence>,
    /// Trials per drug mention (see [`meds::TrialMention`]).
    pub trials: Vec<meds::TrialMention>,
    /// BP readings.
    pub bps: Vec<BpReading>,
    /// Timing.
    pub timing: Timing,
    /// Administered dose candidates.
    pub doses: Vec<DoseFact>,
    /// Weight in kg.
    pub weight_kg: Option<(f64, usize)>,
    /// mg/kg dose.
    pub mg_per_kg: Option<(f64, usize)>,
    /// Track signals.
    pub track: TrackSignals,
    /// ICD-10 codes written in the note (dotted), with evidence index.
    pub icd10: Vec<(String, usize)>,
    /// E/M features.
    pub em: EmFeatures,
    /// Similarity sketch of the note text.
    pub sketch: similarity::Sketch,
    /// Length of the text in bytes.
    pub text_len: usize,
    /// Byte offset of the first statement that this note's treatment was
    /// administered at this visit (see [`administration_today`]), if any.
    pub administered_today: Option<usize>,
    /// Session dates the note lists (month, day, year when written), with
    /// the evidence index of the list; see [`sessions::listed`].
    pub listed_sessions: Option<(usize, Vec<sessions::ListedDate>)>,
    /// `text[span]` of each evidence item, capped at [`SNIPPET_MAX`] bytes,
    /// kept so findings can quote evidence after the note text is dropped.
    pub snippets: Vec<Box<str>>,
}

impl NoteFacts {
    /// Indices of evidence items of a kind that count.
    pub fn counting(&self, kind: EvKind) -> impl Iterator<Item = usize> + '_ {
        self.evidence.iter().enumerate().filter(move |(_, e)| e.kind == kind && e.counts).map(|(i, _)| i)
    }
    /// Push an evidence item, returning its index.
    pub fn push(&mut self, ev: Evidence) -> usize {
        self.evidence.push(ev);
        self.evidence.len() - 1
    }
}

/// Per-note working context handed to the sub-extractors.
pub struct NoteCtx<'a> {
    /// Note text.
    pub text: &'a str,
    /// `text` with ASCII letters lowercased (same byte offsets), the haystack
    /// of the patterns compiled by [`re::Lc`].
    pub lower: String,
    /// Cue matches for assertions.
    pub context: context::NoteContext<'a>,
    /// Sections.
    pub sections: Vec<Section>,
    /// Clock times in the note, found once and shared by the timing and
    /// vitals extractors.
    pub times: Vec<text::TimeMention>,
    /// Which whole-note patterns occur, and the matches of the patterns
    /// searched ahead (see [`Found`]).
    pub found: Found,
}

/// One note's matches of the whole-note patterns, searched ahead for a
/// batch of notes one pattern at a time (see [`Extractor::prepare_batch`]).
#[derive(Default)]
pub struct Found {
    /// Which whole-note patterns occur (see [`Extractor::presence_set`]);
    /// `None` in a note not prepared, whose patterns all run.
    present: Option<regex::SetMatches>,
    /// Match ranges of every slot, slot after slot.
    ranges: Vec<Range<usize>>,
    /// Where each slot's ranges start in `ranges`, and where the last ends.
    at: Vec<u32>,
}

impl Found {
    /// The presence set's matches (phrases first, in the phrase
    /// extractor's order), if searched.
    pub fn present(&self) -> Option<&regex::SetMatches> {
        self.present.as_ref()
    }

    /// The ranges `r` was found at ahead, if it was.
    #[inline]
    fn of(&self, r: &re::Lc) -> Option<&[Range<usize>]> {
        let s = r.slot()?;
        let (a, b) = (*self.at.get(s)?, *self.at.get(s + 1)?);
        Some(&self.ranges[a as usize..b as usize])
    }
}

/// A note's text made ready for extraction: the layout-normalized copy, its
/// lowercase, and the whole-note patterns' matches.
struct Prepared {
    normalized: Option<String>,
    lower: String,
    found: Found,
}

impl NoteCtx<'_> {
    /// Kind of the section at `pos`.
    pub fn section_kind(&self, pos: usize) -> Option<SectionKind> {
        text::section_at(&self.sections, pos).map(|s| s.kind)
    }

    /// Match ranges of a whole-note pattern, in text order (as
    /// [`re::Lc::find_iter`] over the note).
    pub fn find_iter<'s>(&'s self, r: &'s re::Lc) -> Box<dyn Iterator<Item = Range<usize>> + 's> {
        match self.found.of(r) {
            Some(f) => Box::new(f.iter().cloned()),
            None => Box::new(r.find_iter(self.text, &self.lower)),
        }
    }

    /// Captures of a whole-note pattern's matches, in text order (as
    /// [`re::Lc::captures_iter`] over the note). A pattern searched ahead
    /// searches again from each found match's start.
    pub fn captures_iter<'s>(&'s self, r: &'s re::Lc) -> Box<dyn Iterator<Item = regex::Captures<'s>> + 's> {
        match self.found.of(r) {
            Some(f) => Box::new(f.iter().filter_map(move |m| {
                let c = r.captures_at(self.text, &self.lower, m.start);
                debug_assert_eq!(
                    c.as_ref().and_then(|c| c.get(0)).map(|g| g.range()),
                    Some(m.clone()),
                    "captures_at agrees with find_iter"
                );
                c
            })),
            None => Box::new(r.captures_iter(self.text, &self.lower)),
        }
    }

    /// Whether a whole-note pattern matches anywhere in the note.
    pub fn is_match(&self, r: &re::Lc) -> bool {
        match self.found.of(r) {
            Some(f) => !f.is_empty(),
            None => r.is_match(self.text, &self.lower),
        }
    }
}

/// Compiled extractors, built once per run.
pub struct Extractor {
    /// Dictionaries in use.
    pub dict: &'static Dictionaries,
    context: &'static ContextRules,
    meds: meds::MedExtractor,
    phrases: phrases::PhraseExtractor,
    vitals: vitals::VitalsExtractor,
    timing: timing::TimingExtractor,
    /// The presence set of the whole-note patterns (see
    /// [`Extractor::presence_set`]).
    gates: Presence,
}

/// One `RegexSet` over the whole-note patterns, and each slot's index in
/// it (`None` for a pattern searched in every note).
struct Presence {
    set: regex::RegexSet,
    index: Vec<Option<usize>>,
}

impl Extractor {
    /// Build from dictionaries.
    ///
    /// The parts compile at once on the rayon workers: compiling the
    /// patterns is most of a scan's start-up, which a short run feels. The
    /// presence set compiles after them, from their patterns (about 0.05 s
    /// of a one-note scan's 0.5).
    pub fn new(dict: &'static Dictionaries) -> Self {
        // The phrases (which compile their own patterns in parallel) against
        // the rest, one after another.
        let (phrases, (context, meds, vitals, timing)) = rayon::join(
            || phrases::PhraseExtractor::new(dict),
            || (ContextRules::builtin(), meds::MedExtractor::new(dict), vitals::VitalsExtractor::new(), timing::TimingExtractor::new()),
        );
        let mut ex = Extractor {
            dict,
            context,
            meds,
            phrases,
            vitals,
            timing,
            gates: Presence { set: regex::RegexSet::empty(), index: Vec::new() },
        };
        for (slot, (r, _)) in ex.whole_note().into_iter().enumerate() {
            r.set_slot(slot);
        }
        ex.gates = ex.presence_set();
        ex
    }

    /// One presence set for the whole-note patterns: the phrase
    /// dictionary's presence patterns first, in the phrase extractor's
    /// order (so that its indices are the phrases'), then the patterns
    /// outside the dictionary (dose, timing, vitals, drug names) that run on
    /// the lowercased text. Returns the set and each slot's index in it
    /// (`None` for a pattern that runs on the original text, searched in
    /// every note).
    ///
    /// Why: each of those other patterns is a pass over the whole note, and
    /// most of them find nothing in most notes ("timing stated2", "dose
    /// mgkg"). The set's one pass tells which to run. It is built from the
    /// patterns as compiled, on the same haystack, so it says a pattern
    /// occurs exactly when a search for it would find a match. A phrase
    /// gates on its pattern with literal letters lowercased: the pattern
    /// itself when it runs on the lowercased text, and for one with a
    /// case-sensitive part a superset of its matches on ASCII text (Unicode
    /// case folding, "ſ" for "s", is not covered).
    fn presence_set(&self) -> Presence {
        let mut sources: Vec<String> =
            self.dict.phrases.iter().map(|p| re::ascii_boundaries(&re::lowercase_literals(&p.pattern))).collect();
        // Phrase i's gate is the set's pattern i.
        assert_eq!(sources.len(), self.phrases.phrase_count(), "one presence pattern per phrase");
        let index = self
            .whole_note()
            .into_iter()
            .map(|(r, gate)| match gate {
                Some(i) => Some(i),
                None => {
                    sources.push(r.lowercase_source()?.to_string());
                    Some(sources.len() - 1)
                }
            })
            .collect();
        let set = regex::RegexSetBuilder::new(&sources)
            .size_limit(256 << 20)
            .dfa_size_limit(re::DFA_CACHE_BYTES)
            .build()
            .expect("built-in patterns compile in a set as they do alone");
        Presence { set, index }
    }

    /// The shipped extractor.
    ///
    /// Call it first outside any rayon job (the scan does, on its own
    /// thread). Its initializer waits in `rayon::join`, and a worker waiting
    /// there may run a stolen job; a stolen job that called this before
    /// the initializer finished would re-enter the `OnceLock` and deadlock.
    pub fn builtin() -> &'static Extractor {
        static E: std::sync::OnceLock<Extractor> = std::sync::OnceLock::new();
        E.get_or_init(|| Extractor::new(Dictionaries::builtin()))
    }

    /// Extract everything from one note.
    pub fn extract(&self, note: &Note) -> NoteFacts {
        self.extract_text(&note.text, note.note_type.as_deref())
    }

    /// Extract from raw text (and an optional exported note type).
    pub fn extract_text(&self, raw: &str, note_type: Option<&str>) -> NoteFacts {
        self.extract_many(&[(raw, note_type)]).pop().expect("one note's facts")
    }

    /// The patterns every note is searched for whole, in slot order, with
    /// the index of the phrase whose presence gates each. A pattern the
    /// extractors read through [`NoteCtx`] but missing here is searched
    /// live, note by note: slower, not wrong.
    ///
    /// Every match is kept, also of the two patterns the extractors only
    /// ask `is_match` of (`admin_ctx`, `infusion_note`): searching them to
    /// the end costs 2.0 and 0.9 us per note (`cargo bench --bench
    /// patterns`), under 1% of the extraction, which a first-match-only
    /// slot kind did not measurably save.
    fn whole_note(&self) -> Vec<(&re::Lc, Option<usize>)> {
        let phrases = self.phrases.whole_note_patterns();
        let gated = self.phrases.phrase_count();
        let mut v: Vec<(&re::Lc, Option<usize>)> = phrases.enumerate().map(|(i, (_, r))| (r, (i < gated).then_some(i))).collect();
        v.extend(self.timing.whole_note_patterns().map(|(_, r)| (r, None)));
        v.extend(self.vitals.whole_note_patterns().map(|(_, r)| (r, None)));
        v.push((self.meds.names_pattern(), None));
        v
    }

    /// Make notes ready for extraction: normalize and lowercase each, then
    /// search them for the whole-note patterns one pattern at a time.
    ///
    /// Why pattern by pattern: each pattern's lazy DFA is a table of its
    /// own, and a note searched for some 110 patterns in turn evicts each
    /// table from the CPU's caches before the next note needs it again.
    /// Searching a few dozen notes for one pattern before the next keeps
    /// the table hot.
    fn prepare_batch(&self, raws: &[&str], ahead: bool) -> Vec<Prepared> {
        let mut out: Vec<Prepared> = raws
            .iter()
            .map(|raw| {
                // Extractors read a copy with CRLF, no-break spaces and dashes
                // made ASCII at the same byte offsets; snippets quote the note
                // as written.
                let normalized = text::normalize_layout(raw);
                let lower = normalized.as_deref().unwrap_or(raw).to_ascii_lowercase();
                Prepared { normalized, lower, found: Found::default() }
            })
            .collect();
        // Which patterns occur, also for the live reference, whose phrase
        // pass reads it.
        for p in &mut out {
            p.found.present = Some(self.gates.set.matches(&p.lower));
        }
        if !ahead {
            return out;
        }
        let offset = |ranges: &Vec<Range<usize>>| u32::try_from(ranges.len()).expect("under 2^32 matches in a note");
        for (slot, (r, _)) in self.whole_note().into_iter().enumerate() {
            debug_assert_eq!(r.slot(), Some(slot), "slots follow whole_note()'s order");
            // The pattern's index in the presence set (a phrase's is its own).
            let gate = self.gates.index[slot];
            for (raw, p) in raws.iter().zip(&mut out) {
                p.found.at.push(offset(&p.found.ranges));
                if gate.is_none_or(|i| p.found.present.as_ref().is_some_and(|s| s.matched(i))) {
                    let text = p.normalized.as_deref().unwrap_or(raw);
                    p.found.ranges.extend(r.find_iter(text, &p.lower));
                }
            }
        }
        for p in &mut out {
            p.found.at.push(offset(&p.found.ranges));
        }
        out
    }

    /// Extract from several notes (raw text and exported note type) at once:
    /// each step runs over every note before the next step starts, for the
    /// reason [`Extractor::prepare_batch`] gives. Each note's facts are the
    /// ones [`Extractor::extract_live`] gives it alone.
    pub fn extract_many(&self, notes: &[(&str, Option<&str>)]) -> Vec<NoteFacts> {
        self.extract_chunk(notes, true)
    }

    /// Extract one note with every pattern searched where the extractors
    /// ask, none searched ahead (only the presence set is, which the phrase
    /// pass reads): the reference the chunked extraction is tested
    /// against.
    #[doc(hidden)]
    pub fn extract_live(&self, raw: &str, note_type: Option<&str>) -> NoteFacts {
        self.extract_chunk(&[(raw, note_type)], false).pop().expect("one note's facts")
    }

    fn extract_chunk(&self, notes: &[(&str, Option<&str>)], ahead: bool) -> Vec<NoteFacts> {
        let raws: Vec<&str> = notes.iter().map(|(raw, _)| *raw).collect();
        let mut normalized = Vec::with_capacity(notes.len());
        let mut rest = Vec::with_capacity(notes.len());
        for p in self.prepare_batch(&raws, ahead) {
            normalized.push(p.normalized);
            rest.push((p.lower, p.found));
        }
        let texts: Vec<&str> = raws.iter().zip(&normalized).map(|(raw, n)| n.as_deref().unwrap_or(raw)).collect();
        let contexts: Vec<_> = texts.iter().map(|t| self.context.analyze(t)).collect();
        let is_drug = |label: &str| self.meds.is_drug_label(label);
        let sections: Vec<_> = texts.iter().map(|t| text::sections(t, &is_drug)).collect();
        let times: Vec<_> = texts.iter().map(|t| text::clock_times(t)).collect();
        let ctxs: Vec<NoteCtx<'_>> = texts
            .iter()
            .zip(rest)
            .zip(contexts.into_iter().zip(sections).zip(times))
            .map(|((text, (lower, found)), ((context, sections), times))| NoteCtx { text, lower, found, context, sections, times })
            .collect();
        let mut facts: Vec<NoteFacts> = texts.iter().map(|t| NoteFacts { text_len: t.len(), ..Default::default() }).collect();
        // The steps in order, each over every note of the chunk; a later step
        // reads what the earlier ones found (the phrases read the timing's
        // dose times, the administration check reads the doses).
        type Step<'s> = &'s dyn Fn(&NoteCtx<'_>, Option<&str>, &mut NoteFacts);
        let steps: [Step<'_>; 5] = [
            &|ctx, _, f| self.timing.extract(ctx, f),
            &|ctx, _, f| self.meds.extract(ctx, f),
            &|ctx, _, f| self.vitals.extract(ctx, f),
            &|ctx, note_type, f| self.phrases.extract(ctx, note_type, f),
            &|ctx, _, f| {
                sessions::listed(ctx, f);
                f.administered_today = administration_today(ctx, f);
            },
        ];
        for step in steps {
            for ((ctx, f), (_, note_type)) in ctxs.iter().zip(&mut facts).zip(notes) {
                step(ctx, *note_type, f);
            }
        }
        for (((f, text), raw), normalized) in facts.iter_mut().zip(&texts).zip(&raws).zip(&normalized) {
            f.sketch = similarity::Sketch::of(text);
            if normalized.is_some() {
                // A match may start or end inside a character the normalized
                // copy spelled as ASCII (the second space of a no-break
                // space): widen it to the note's character boundaries.
                for e in &mut f.evidence {
                    let start = text::floor_char(raw, e.span.start);
                    e.span = start..text::ceil_char(raw, e.span.end).max(start);
                }
            }
            f.snippets = f.evidence.iter().map(|e| text::snippet(raw, e.span.clone(), SNIPPET_MAX).into_boxed_str()).collect();
        }
        facts
    }
}

/// Notes the scan hands [`Extractor::extract_many`] at a time, at most.
///
/// The larger the chunk, the longer each pattern's lazy DFA stays in the
/// CPU's caches. Scans of the first 60,000 e2e notes at 2 threads, in two
/// interleaved sets, CPU seconds: batches of 2,048 in chunks of 128 (this
/// constant's earlier value) 21.7-22.3; 8,192 in 128, 21.6-21.8; 4,096 in
/// 256, 20.8-21.3; 4,096 in 512, 20.3-20.9 (second set; wall 11.1-11.5 s
/// against 12.0-12.3 in the first); 8,192 in 512 or 1,024, 20.1-21.1. A
/// chunk of 512 notes holds a few MB (its notes' copies, ConText analyses
/// and matches), against a peak RSS in the hundreds (README, Performance).
/// Earlier, one thread (`benches/patterns.rs`, us per note warm): 8, 32,
/// 64, 128 and 256 a call 287, 340, 306, 281-308 and 294.
pub const EXTRACT_CHUNK: usize = 512;

/// Note text a chunk holds at most, so that a chunk of long notes does not
/// hold 512 of them with their copies at once (a note over it is a chunk of
/// its own). Notes of 2 KB or less on average fill a chunk by count first.
pub const EXTRACT_CHUNK_BYTES: usize = 1 << 20;

/// What one pattern or pass cost over a corpus (see
/// [`Extractor::pattern_costs`]).
#[derive(Debug, Clone)]
pub struct PatternCost {
    /// "phrase <id>", "timing <event>", "meds names", or a pass's name.
    pub name: String,
    /// Seconds for the first run over the texts (includes building the lazy
    /// DFA's states).
    pub cold_secs: f64,
    /// Seconds for a second run (states built: what a long scan pays).
    pub warm_secs: f64,
    /// Matches found (each run finds the same).
    pub matches: usize,
    /// Seconds for a warm run over only the texts the scan searches it in:
    /// a pattern gated by a presence set runs only where the set says it
    /// occurs; every other pattern and pass runs on every text.
    pub scan_secs: f64,
}

impl Extractor {
    /// Time each whole-note pattern alone, and the note-level passes, over
    /// `texts` (for `benches/patterns.rs`). Each pattern runs on every text,
    /// whether or not the presence set would let it: a pattern that is slow
    /// when it runs is found even if this corpus rarely triggers it. A
    /// pattern whose warm time is far above its cold one's share, or far
    /// above its peers', is likely thrashing its DFA cache.
    pub fn pattern_costs(&self, texts: &[String]) -> Vec<PatternCost> {
        let lowers: Vec<String> = texts.iter().map(|t| t.to_ascii_lowercase()).collect();
        let mut out: Vec<PatternCost> = Vec::new();
        let time = |out: &mut Vec<PatternCost>, name: String, f: &mut dyn FnMut() -> usize| {
            let t = std::time::Instant::now();
            let matches = f();
            let cold_secs = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let again = f();
            let warm_secs = t.elapsed().as_secs_f64();
            assert_eq!(matches, again, "{name}: two runs disagree");
            out.push(PatternCost { name, cold_secs, warm_secs, matches, scan_secs: warm_secs });
        };
        let phrases = self.phrases.whole_note_patterns();
        time(&mut out, "whole-note presence set".into(), &mut || lowers.iter().map(|l| self.gates.set.matches(l).iter().count()).sum());
        let sets: Vec<regex::SetMatches> = lowers.iter().map(|l| self.gates.set.matches(l)).collect();
        let mut lcs: Vec<(String, &re::Lc)> = phrases.collect();
        lcs.extend(self.timing.whole_note_patterns());
        lcs.extend(self.vitals.whole_note_patterns());
        lcs.push(("meds names".into(), self.meds.names_pattern()));
        for (i, (name, r)) in lcs.into_iter().enumerate() {
            time(&mut out, name, &mut || texts.iter().zip(&lowers).map(|(t, l)| r.find_iter(t, l).count()).sum());
            debug_assert_eq!(r.slot(), Some(i), "timed in slot order");
            if let Some(j) = self.gates.index[i] {
                let t = std::time::Instant::now();
                let n: usize =
                    texts.iter().zip(&lowers).zip(&sets).filter(|(_, s)| s.matched(j)).map(|((t, l), _)| r.find_iter(t, l).count()).sum();
                let last = out.last_mut().expect("just timed");
                last.scan_secs = t.elapsed().as_secs_f64();
                assert_eq!(n, last.matches, "{}: the presence set lets through every note it matches", last.name);
            }
        }
        time(&mut out, "pass: normalize_layout".into(), &mut || texts.iter().filter(|t| text::normalize_layout(t).is_some()).count());
        time(&mut out, "pass: context".into(), &mut || texts.iter().map(|t| self.context.analyze(t).cue_count()).sum());
        time(&mut out, "pass: sections".into(), &mut || {
            texts.iter().map(|t| text::sections(t, &|l: &str| self.meds.is_drug_label(l)).len()).sum()
        });
        time(&mut out, "pass: clock_times".into(), &mut || texts.iter().map(|t| text::clock_times(t).len()).sum());
        time(&mut out, "pass: sketch".into(), &mut || texts.iter().map(|t| similarity::Sketch::of(t).shingles as usize).sum());
        time(&mut out, "whole extract, note by note".into(), &mut || texts.iter().map(|t| self.extract_live(t, None).evidence.len()).sum());
        time(&mut out, format!("whole extract_many, {EXTRACT_CHUNK} a call"), &mut || {
            texts
                .chunks(EXTRACT_CHUNK)
                .map(|c| {
                    let notes: Vec<(&str, Option<&str>)> = c.iter().map(|t| (t.as_str(), None)).collect();
                    self.extract_many(&notes).iter().map(|f| f.evidence.len()).sum::<usize>()
                })
                .sum()
        });
        out
    }
}

/// Wording that makes a dose or administration mention a schedule, a
/// continuation or another visit's treatment rather than today's: "continue
/// Spravato 84 mg twice weekly", "on Spravato 56 mg", "next session",
/// "last week's session". Read only in a tight window around the mention
/// (see [`schedule_worded`]), so a course word elsewhere in the clause
/// ("84 mg administered, tolerating well, induction week 3") does not void
/// today's dose. Returns the patterns for the words before the mention, the
/// words after it, and the future wording after it up to a comma.
fn schedule_wording() -> &'static [regex::Regex; 3] {
    static R: std::sync::OnceLock<[regex::Regex; 3]> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        // How often: "twice weekly", "q2 weeks", "every Monday", "/wk".
        let freq = r"(?:once|twice|two\s+times|three\s+times|\dx)\s*(?:a\s+|per\s+|/\s*)?(?:week|wk)\w*|weekly|bi-?weekly|every|q\.?\s?\d*\s?(?:wk|week)\w*|per\s+week|/\s?(?:wk|week)\b";
        // Another visit: "last week's session", "yesterday", "given Monday".
        let past = r"(?:last|previous|prior)\s+(?:week|session|visit|treatment|time|tx|appointment|appt|dose)\w*|last\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:mon|tues|wednes|thurs|fri|satur|sun)day'?s?\s+(?:session|treatment|dose|tx)|week'?s\s+(?:session|treatment|dose)|since|yesterday|ago|(?:on|last|past|since|given|administered|received|clinic)\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day";
        [
            // Before: a continuation, plan, titration or ongoing course
            // governing the dose ("continue", "plan:", "will increase to",
            // "tolerating 56 mg", "on Spravato").
            re::ci(&format!(
                r"\b(?:continu\w*|cont'?d|resum\w*|restart\w*|will|would|plan\w*|schedul\w*|next|titrat\w*|(?:increas|decreas)(?:e|es|ing)\s+(?:(?:the\s+)?dose\s+)?to|tolerating\s+(?:the\s+)?(?:spravato|esketamine|\d)|on\s+(?:spravato|esketamine)|{freq}|{past})\b"
            )),
            // After: how often, how many sessions, or another visit
            // ("84 mg twice weekly", "x 8 sessions", "given Monday").
            re::ci(&format!(r"\b(?:{freq}|{past}|sessions|treatments)\b")),
            // After, up to a comma: the dose as a future ("84 mg next
            // session", "56 mg planned", "84 mg to be given", "starting Monday").
            re::ci(r"\b(?:will|would|plan\w*|schedul\w*|next|to\s+be|starting|going\s+forward|thereafter)\b"),
        ]
    })
}

/// Words of a dose mention's window that word it as a schedule (see
/// [`schedule_wording`]): the 6 words before `span` (with the mention) and
/// the 5 words after it in its clause `cl`, the future wording only up to
/// the first comma after.
fn schedule_worded(text: &str, cl: Range<usize>, span: Range<usize>) -> bool {
    const BEFORE_WORDS: usize = 6;
    const AFTER_WORDS: usize = 5;
    let [before_re, after_re, future_re] = schedule_wording();
    // The words before, and the mention itself ("on Spravato 56 mg",
    // "tolerating 56 mg" whether or not the mention includes the drug name).
    let lead = text::sub(text, cl.start..span.start.max(cl.start));
    let from = lead.split_whitespace().rev().nth(BEFORE_WORDS - 1).map_or(0, |w| w.as_ptr() as usize - lead.as_ptr() as usize);
    let before = text::sub(text, cl.start + from..span.end.min(cl.end).max(cl.start + from));
    let after = text::sub(text, span.end.min(cl.end)..cl.end);
    let after = match after.split_whitespace().nth(AFTER_WORDS) {
        Some(w) => &after[..w.as_ptr() as usize - after.as_ptr() as usize],
        None => after,
    };
    let until_comma = &after[..after.find(',').unwrap_or(after.len())];
    before_re.is_match(before) || after_re.is_match(after) || future_re.is_match(until_comma)
}

/// Where the note states that the treatment was administered at this visit:
/// administration wording ("self-administered", "device 2", "dosed") or a
/// dose / device count, that is current (not negated, hypothetical,
/// historical or about someone else), outside medication-list, history,
/// plan, family-history and psychotherapy sections, and not worded as a
/// schedule or continuation (see [`schedule_wording`]). "Continue Spravato
/// 84 mg twice weekly" in a plan or a medication list is the treatment being
/// talked about, not given. Returns the first such position.
pub fn administration_today(ctx: &NoteCtx<'_>, facts: &NoteFacts) -> Option<usize> {
    let dose_spans = facts.doses.iter().filter_map(|d| facts.evidence.get(d.ev)).map(|e| e.span.clone());
    let timed = facts.timing.dose_times.iter().filter_map(|(_, i)| facts.evidence.get(*i)).map(|e| e.span.clone());
    let mut cands: Vec<Range<usize>> = facts.timing.admin_statements.iter().cloned().chain(dose_spans).chain(timed).collect();
    cands.sort_by_key(|r| r.start);
    cands.into_iter().find(|r| administered_here(ctx, r.clone())).map(|r| r.start)
}

fn administered_here(ctx: &NoteCtx<'_>, span: Range<usize>) -> bool {
    let a = ctx.context.assess(span.clone());
    if !a.is_affirmed() {
        return false;
    }
    if matches!(
        ctx.section_kind(span.start),
        Some(
            SectionKind::MedCurrent
                | SectionKind::MedHistory
                | SectionKind::History
                | SectionKind::Plan
                | SectionKind::FamilyHistory
                | SectionKind::Psychotherapy
        )
    ) {
        return false;
    }
    let cl = timing::clause(ctx.text, span.start);
    if schedule_worded(ctx.text, cl, span.clone()) {
        return false;
    }
    // Another visit named earlier in the sentence ("Discussed last week's
    // session; she self-administered 3 devices").
    let before = text::sub(ctx.text, span.start.saturating_sub(200)..span.start);
    let before = &before[before.rfind(['\n', '.']).map_or(0, |i| i + 1)..];
    !past_visit_wording().is_match(before)
}

/// Wording that names an earlier visit: "last week's session", "previous
/// treatment", "on Monday", "yesterday". A bare weekday is not one ("Spravato
/// session Monday 2/10: ..." is a session's own date).
fn past_visit_wording() -> &'static regex::Regex {
    static R: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        re::ci(
            r"\b(?:(?:last|previous|prior)\s+(?:week|session|visit|treatment|time|tx|appointment|appt)\w*|week'?s\s+(?:session|treatment|dose)|yesterday|ago|(?:on|last|past|since|given|administered|received|clinic)\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
        )
    })
}

#[cfg(test)]
#[allow(clippy::print_stdout)]
mod profile {
    /// Per-stage timing on the committed sample (run with --ignored --nocapture in release).
    #[test]
    #[ignore]
    fn stage_times() {
        use std::time::Instant;
        let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sample/notes.jsonl")).unwrap();
        let texts: Vec<String> =
            src.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_string()).collect();
        let ex = super::Extractor::builtin();
        let is_drug = |l: &str| ex.meds.is_drug_label(l);
        let mb = texts.iter().map(|t| t.len()).sum::<usize>() as f64 / 1e6;
        let time = |name: &str, f: &dyn Fn(&str)| {
            let t = Instant::now();
            for _ in 0..3 {
                for x in &texts {
                    f(x);
                }
            }
            let s = t.elapsed().as_secs_f64() / 3.0;
            println!("{name:<12} {:>8.1} MB/s {:>8.1} ms", mb / s, s * 1000.0);
        };
        time("context", &|t| {
            ex.context.analyze(t);
        });
        time("sections", &|t| {
            super::text::sections(t, &is_drug);
        });
        time("clock", &|t| {
            super::text::clock_times(t);
        });
        let mk = |t: &'static str| super::NoteCtx {
            text: t,
            lower: t.to_ascii_lowercase(),
            // The presence set, as the scan searches it, so that the phrase
            // pass runs only the phrases that occur.
            found: super::Found { present: Some(ex.gates.set.matches(&t.to_ascii_lowercase())), ..Default::default() },
            context: ex.context.analyze(t),
            sections: super::text::sections(t, &is_drug),
            times: super::text::clock_times(t),
        };
        time("timing", &|t| {
            let t: &'static str = Box::leak(t.to_string().into_boxed_str());
            let c = mk(t);
            let mut f = super::NoteFacts::default();
            ex.timing.extract(&c, &mut f);
        });
        time("meds", &|t| {
            let t: &'static str = Box::leak(t.to_string().into_boxed_str());
            let c = mk(t);
            let mut f = super::NoteFacts::default();
            ex.meds.extract(&c, &mut f);
        });
        time("vitals", &|t| {
            let t: &'static str = Box::leak(t.to_string().into_boxed_str());
            let c = mk(t);
            let mut f = super::NoteFacts::default();
            ex.vitals.extract(&c, &mut f);
        });
        time("phrases", &|t| {
            let t: &'static str = Box::leak(t.to_string().into_boxed_str());
            let c = mk(t);
            let mut f = super::NoteFacts::default();
            ex.phrases.extract(&c, None, &mut f);
        });
        time("sketch", &|t| {
            super::similarity::Sketch::of(t);
        });
        time("all", &|t| {
            ex.extract_text(t, None);
        });
    }
}

#[cfg(test)]
mod unfiltered_tests {
    //! The whole-note patterns searched without the `regex` crate's prefix
    //! prefilter (see `re::Lc`) find what the crate's regex finds, and the
    //! presence set that gates them never hides a match.
    use super::Extractor;

    fn unfiltered_count(texts: &[String]) -> usize {
        let ex = Extractor::builtin();
        let lowers: Vec<String> = texts.iter().map(|t| t.to_ascii_lowercase()).collect();
        let mut n = 0;
        for (lc, _) in ex.whole_note() {
            let mut has = false;
            for (t, lower) in texts.iter().zip(&lowers) {
                if let Some(ok) = lc.unfiltered_agrees(t, lower) {
                    assert!(ok, "pattern in slot {:?} differs on a note", lc.slot());
                    has = true;
                }
            }
            n += usize::from(has);
        }
        n
    }

    /// Every fixture note's text.
    fn fixture_texts() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut texts = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let f = e.unwrap().path().join("notes.jsonl");
            let Ok(src) = std::fs::read_to_string(&f) else { continue };
            for l in src.lines().filter(|l| !l.trim().is_empty()) {
                // The `broken` fixtures are malformed on purpose.
                let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { continue };
                if let Some(t) = v["text"].as_str() {
                    texts.push(t.to_string());
                }
            }
        }
        assert!(texts.len() > 1000, "{} fixture notes", texts.len());
        texts
    }

    #[test]
    fn on_every_labelled_fixture_note() {
        let texts = fixture_texts();
        // Dose, infusion_minutes, post-status, suicidal-ideation and the
        // others the rule selects: the test is not vacuous.
        assert!(unfiltered_count(&texts) >= 5);
    }

    /// The presence set says a pattern outside the phrase dictionary occurs
    /// exactly when a search for it finds a match, and a phrase occurs at
    /// least whenever it matches: a note never loses a match to the gate.
    #[test]
    fn presence_set_gates_only_patterns_that_cannot_match() {
        let ex = Extractor::builtin();
        let whole = ex.whole_note();
        let slots = whole.len();
        let (mut matched, mut gated_off) = (vec![false; slots], vec![false; slots]);
        for t in fixture_texts() {
            for (slot, found) in check_presence(&t) {
                matched[slot] |= found;
                gated_off[slot] |= !found;
            }
        }
        // Which non-phrase patterns were checked both ways: matching in
        // some fixture note and gated off in another.
        let both = (0..slots).filter(|&s| whole[s].1.is_none() && ex.gates.index[s].is_some() && matched[s] && gated_off[s]).count();
        assert!(both >= 20, "{both} non-phrase patterns seen matching and gated off");
    }

    /// Check the presence set on one text; returns, for each gated slot,
    /// whether its pattern matches.
    fn check_presence(t: &str) -> Vec<(usize, bool)> {
        let ex = Extractor::builtin();
        let (set, index) = (&ex.gates.set, &ex.gates.index);
        let lower = t.to_ascii_lowercase();
        let present = set.matches(&lower);
        let mut out = Vec::new();
        for (slot, (r, phrase)) in ex.whole_note().into_iter().enumerate() {
            let Some(j) = index[slot] else { continue };
            let found = r.is_match(t, &lower);
            if phrase.is_some() {
                assert!(!found || present.matched(j), "phrase slot {slot} matches a note its gate says it cannot");
            } else {
                assert_eq!(found, present.matched(j), "slot {slot}: the set and the pattern disagree on a note");
            }
            out.push((slot, found));
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn on_generated_text(words in proptest::collection::vec(proptest::sample::select(vec![
            "Dose", "dose", "d", "x", "x2", "over", "40", "min", "mins", "administered", "SI", "denies", "suicidal",
            "ideation", "A&Ox3", "alert", "and", "oriented", "recovered", "#3", "Mon", "6/2", "d/c", "discharged",
            "after", "device", "2", "1st", "spray", "\n", ",", ".", "  ", "é", "°", "tx", "session", "booster",
            "mg", "kg", "mg/kg", "56", "84", "BP", "120/80", "HR", "SpO2", "98%", "RR", "ketamine", "Spravato",
            "esketamine", "sertraline", "NDC", "weight", "IV", "infusion", "started", "ended", "0900", "10:15",
        ]), 0..60)) {
            let t = words.join(" ");
            check_presence(&t);
            unfiltered_count(&[t]);
        }
    }
}

#[cfg(test)]
mod administration_tests {
    use super::Extractor;

    fn today(t: &str) -> bool {
        Extractor::builtin().extract_text(t, None).administered_today.is_some()
    }

    #[test]
    fn doses_in_plans_lists_and_schedules_are_not_given_today() {
        assert!(!today("Pt continues Spravato 84 mg twice weekly, tolerating well."));
        assert!(!today("Current medications:\n- Spravato 56 mg intranasal twice weekly\n- Sertraline 150 mg daily\n"));
        assert!(!today("Plan:\nSpravato 56 mg, 2 devices.\n"));
        assert!(!today("Discussed last week's Spravato session; she self-administered 3 devices."));
        assert!(!today("Next session Thursday: Spravato 84 mg."));
        assert!(!today("Esketamine 84 mg was given in clinic Monday, tolerated."));
        assert!(!today("Pt declined Spravato today; no devices administered."));
        assert!(!today("Spravato 56 mg every Monday and Thursday."));
        assert!(!today("Tolerating 56 mg well; plan: 84 mg."));
        assert!(!today("Will increase to 84 mg next session."));
        assert!(!today("Titrating to 84 mg at the next visit."));
        assert!(!today("Esketamine 84 mg q week in maintenance."));
        assert!(!today("Spravato 84 mg x 8 sessions approved."));
        assert!(!today("Pt tolerating Spravato 56 mg well, mood improving."));
    }

    #[test]
    fn course_words_beside_a_given_dose_do_not_void_it() {
        assert!(today("Spravato 84 mg administered, tolerating well, induction week 3."));
        assert!(today("Spravato 84 mg administered; tolerating well, induction week 3"));
        assert!(today("Session 5: Spravato 56 mg self-administered, 2 devices."));
        assert!(today("Dose increased to 84 mg today, pt self-administered 3 devices."));
        assert!(today("Maintenance session: esketamine 84 mg administered, tolerated."));
        assert!(today("Spravato 56 mg administered; will increase to 84 mg next session."));
    }

    #[test]
    fn administration_statements_are_given_today() {
        assert!(today("Spravato session. Pt self-administered 3 devices. Tolerated well."));
        assert!(today("Spravato 84 mg administered (three 28 mg devices)."));
        assert!(today("Device 1 10:02, device 2 10:07."));
        assert!(today("Esketamine 56 mg intranasal, tolerated."));
        // A session's own date is not another visit.
        assert!(today("Spravato session Monday 2/10: pt self-administered 3 devices."));
    }
}
