//! Dosing, infusion, monitoring and discharge times, and stated monitoring
//! durations.
//!
//! A time only means something next to an event word: "device 2 at 10:07",
//! "infusion stopped 10:45", "discharged 12:15", "Monitoring: 10:10-12:15".
//! Times in signature lines, follow-up appointments and psychotherapy
//! start/stop lines are distractors and are skipped.

use std::ops::Range;

use regex::Regex;

use super::context::Assertion;
use super::text::{parse_number, Clock, TimeMention, NUM};
use super::{EvKind, Evidence, NoteCtx, NoteFacts};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ev {
    Dose,
    InfusionStart,
    InfusionEnd,
    MonitorStart,
    MonitorEnd,
    MonitorRange,
    InfusionRange,
    Discharge,
}

/// Accessor of one of a note's clock-time lists.
type TimeList = fn(&mut NoteFacts) -> &mut Vec<(Clock, usize)>;

/// Compiled timing patterns.
pub struct TimingExtractor {
    events: Vec<(Ev, super::re::Lc)>,
    distractor: Regex,
    pre_admin: Regex,
    stated: super::re::Lc,
    stated2: super::re::Lc,
    stated3: super::re::Lc,
    modal: Regex,
    dc_vitals_before: Regex,
    dc_vitals_after: Regex,
    /// Words that make "N min after the last device" the monitoring window.
    window_word: Regex,
    /// A reading just before a stated duration that only times it
    /// ("09:55 136/86 (40 min after last device)").
    reading_before: Regex,
    billing_line: Regex,
    device_short: Regex,
    list_sep: Regex,
    infusion_note: super::re::Lc,
    stated_after_last: super::re::Lc,
    infusion_minutes: super::re::Lc,
    range: Regex,
    log_dose: Regex,
    line_lead: Regex,
    before_discharge: Regex,
    not_given: Regex,
    not_patient_leaving: Regex,
    dose_at: Regex,
    future: Regex,
}

impl Default for TimingExtractor {
    fn default() -> Self {
        Self::new()
    }
}

/// Drugs given during a ketamine session for something else (nausea,
/// anxiety, blood pressure, pain): their "given" is not a dose event.
const OTHER_DRUGS: &[&str] = &[
    "zofran",
    "ondansetron",
    "lorazepam",
    "ativan",
    "midazolam",
    "versed",
    "clonidine",
    "labetalol",
    "hydralazine",
    "metoprolol",
    "acetaminophen",
    "tylenol",
    "ibuprofen",
    "motrin",
    "diphenhydramine",
    "benadryl",
    "promethazine",
    "phenergan",
    "metoclopramide",
    "reglan",
    "glycopyrrolate",
    "diazepam",
    "valium",
    "alprazolam",
    "xanax",
];

fn re(p: &str) -> Regex {
    super::re::ci(p)
}

/// Whether the '.' at `i` closes "a.m." or "p.m." after a clock time ("at
/// 2:55 p.m. blood pressure ..."), which ends no clause.
fn meridiem_dot(b: &[u8], i: usize) -> bool {
    i >= 3 && b[i - 1].eq_ignore_ascii_case(&b'm') && matches!(b[i - 2].to_ascii_lowercase(), b'.' | b'a' | b'p') && lower_next(b, i + 1)
}

/// Whether the '.' at `i` closes a title before a name ("with Dr. Keel on
/// site", "Mrs. Ode drove"): the name after it starts with a capital.
fn title_dot(b: &[u8], i: usize) -> bool {
    let lo = i.saturating_sub(5);
    let start = b[lo..i].iter().rposition(|c| !c.is_ascii_alphabetic()).map_or(lo, |p| lo + p + 1);
    let w = &b[start..i];
    // Capitalised, so "QRS 90 ms. Patient ..." still ends there.
    let title = w.first().is_some_and(u8::is_ascii_uppercase)
        && [&b"dr"[..], b"mr", b"mrs", b"ms", b"prof", b"drs"].iter().any(|t| w.eq_ignore_ascii_case(t));
    title && b.get(i + 1) == Some(&b' ') && b.get(i + 2).is_some_and(|c| c.is_ascii_uppercase())
}

/// Just past the stop of a time's "a.m."/"p.m." that ends no clause (see
/// [`meridiem_dot`]), when the time ending at `end` has one; else `end`.
fn past_meridiem_stop(b: &[u8], end: usize) -> usize {
    if b.get(end) == Some(&b'.') && meridiem_dot(b, end) {
        end + 1
    } else {
        end
    }
}

/// Whether the first non-blank byte from `i` on is a lower-case letter or a
/// comma: a stop before it ends no sentence ("2:55 p.m. blood pressure";
/// "11:25 AM. Meets criteria" does end one).
fn lower_next(b: &[u8], mut i: usize) -> bool {
    while i < b.len() && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    b.get(i).is_some_and(|c| c.is_ascii_lowercase() || *c == b',')
}

/// The dot of "no." or "nr." used as a number sign before an identifier
/// ("CDPHP no. CD-25-40817, approved ..."), which ends no sentence.
fn number_sign_dot(b: &[u8], i: usize) -> bool {
    if i < 2 || !(b[i - 2..i].eq_ignore_ascii_case(b"no") || b[i - 2..i].eq_ignore_ascii_case(b"nr")) {
        return false;
    }
    if i >= 3 && b[i - 3].is_ascii_alphanumeric() {
        return false;
    }
    if b.get(i + 1) != Some(&b' ') {
        return false;
    }
    let id: &[u8] = &b[i + 2..(i + 22).min(b.len())];
    let id = &id[..id.iter().position(|c| c.is_ascii_whitespace() || matches!(c, b',' | b';')).unwrap_or(id.len())];
    id.first().is_some_and(|c| c.is_ascii_alphanumeric()) && id.iter().any(u8::is_ascii_digit)
}

/// Whether the "." at `d` ends the clause before a position after it:
/// followed by a space or tab, and not between digits ("98. 6"), nor the
/// stop of "a.m." / "p.m.", of a "no." before an identifier or of a title
/// ("Dr.").
fn dot_starts_clause(b: &[u8], d: usize) -> bool {
    let s = d + 1;
    s < b.len()
        && (b[s] == b' ' || b[s] == b'\t')
        && !(s >= 2 && b[s - 2].is_ascii_digit() && b.get(s + 1).is_some_and(|x| x.is_ascii_digit()))
        && !meridiem_dot(b, d)
        && !number_sign_dot(b, d)
        && !title_dot(b, d)
}

/// Whether the "." at `d` ends the clause of a position before it: at the
/// end of the text or before a space or line break (not a tab), and not
/// the stop of "a.m." / "p.m.", of a "no." before an identifier or of a
/// title.
fn dot_ends_clause(b: &[u8], d: usize) -> bool {
    (d + 1 >= b.len() || b[d + 1] == b' ' || b[d + 1] == b'\n' || b[d + 1] == b'\r')
        && !meridiem_dot(b, d)
        && !number_sign_dot(b, d)
        && !title_dot(b, d)
}

/// The bytes around `pos` up to the nearest line break, ";", "|" or
/// sentence stop on each side, within [`super::text::LINE_CAP`] bytes (like
/// `text::line_of`, so one-line notes stay linear): the start (at or before
/// `pos`) just after the stop before it, the end (at or after `pos`) at the
/// stop after it.
///
/// The nearest hard stop on each side is found with memchr, then the
/// nearest "." between it and `pos` that ends a sentence. A loop over
/// every byte was 1.3% of a scan's instructions: it runs for every timing
/// and phrase match.
fn clause_bounds(b: &[u8], pos: usize) -> (usize, usize) {
    let lo = pos.saturating_sub(super::text::LINE_CAP);
    let hi = (pos + super::text::LINE_CAP).min(b.len());
    let hard = memchr::memrchr3(b'\n', b';', b'|', &b[lo..pos]).map(|i| lo + i);
    let from = hard.map_or(lo, |h| h + 1);
    let stop = memchr::memrchr_iter(b'.', &b[from..pos]).map(|i| from + i).find(|&d| dot_starts_clause(b, d));
    let s = stop.or(hard).map_or(lo, |i| i + 1);
    let hard = memchr::memchr3(b'\n', b';', b'|', &b[pos..hi]).map(|i| pos + i);
    let to = hard.unwrap_or(hi);
    let stop = memchr::memchr_iter(b'.', &b[pos..to]).map(|i| pos + i).find(|&d| dot_ends_clause(b, d));
    (s, stop.or(hard).unwrap_or(hi))
}

/// The clause containing `pos`: bounded by line breaks, "; ", ". " (not the
/// stop of "a.m." / "p.m." or of a "no." before an identifier) and table
/// cell bars.
pub fn clause(text: &str, pos: usize) -> Range<usize> {
    let b = text.as_bytes();
    let pos = pos.min(b.len());
    let (mut s, mut e) = clause_bounds(b, pos);
    // A run-on sentence ("... is approved from 05/01 to 10/31 and the clinic
    // is a certified REMS setting and she is enrolled ... and I will submit
    // the form today"): past 200 bytes, "and" before a new subject starts a
    // clause, so one statement's status is not the next one's. Not "and
    // the": "the first device at 09:15 and the second at 09:20" is one.
    if e - s > 200 {
        let starts_clause = |i: usize| {
            i >= 5 && b[i - 5..i].eq_ignore_ascii_case(b" and ") && {
                let w = b[i..].iter().take(8).take_while(|c| c.is_ascii_alphabetic()).count();
                let word = b[i..i + w].to_ascii_lowercase();
                b.get(i + w) == Some(&b' ')
                    && matches!(
                        word.as_slice(),
                        b"she" | b"he" | b"i" | b"they" | b"we" | b"her" | b"his" | b"their" | b"it" | b"pt" | b"patient"
                    )
            }
        };
        if let Some(i) = (s + 1..=pos).rev().find(|&i| starts_clause(i)) {
            s = i;
        }
        if let Some(i) = (pos + 1..e).find(|&i| starts_clause(i)) {
            e = i - 5;
        }
    }
    super::text::floor_char(text, s)..super::text::floor_char(text, e)
}

impl TimingExtractor {
    /// Compile.
    pub fn new() -> Self {
        let events = vec![
            (
                Ev::InfusionRange,
                super::re::Lc::new(
                    r"\b(?:infusion|infused|drip|iv|pump)\b(?:\s+(?:time|period|duration|window))?(?:\s+(?:was\s+)?(?:ran|run|running|given|infused))?\s*(?::|from|-)?\s*(?:from\s+)?",
                ),
            ),
            (
                Ev::MonitorRange,
                super::re::Lc::new(
                    r"\b(?:monitor(?:ing|ed)?|observ(?:ation|ed)|obs)\b(?:\s+(?:time|period|window|duration))?\s*(?::|from|-)?\s*(?:from\s+)?",
                ),
            ),
            (
                Ev::InfusionEnd,
                super::re::Lc::new(
                    r"\b(?:infusion|pump)\s+(?:was\s+)?(?:end\w*|stop\w*|complet\w*|finish\w*|discontinu\w*|off|done|concluded)|\b(?:end|stop|completion|completed|finished|ended|stopped)\s+(?:time\s+)?(?:of\s+)?(?:the\s+)?(?:ketamine\s+)?(?:infusion|drip)|\b(?:infusion|iv)\s+stop\s+time|\bstop\s+time\b|\bend\s+time\b|\b(?:stop(?:ped)?|end(?:ed|ing)?|off|completed|finished)\b\s*(?:at|@|:)?",
                ),
            ),
            (
                Ev::InfusionStart,
                super::re::Lc::new(
                    r"\b(?:infusion|pump)\s+(?:was\s+)?(?:start\w*|began|begun|initiat\w*|commenced|hung)|\bpump\s+(?:was\s+)?(?:turned\s+|switched\s+)?on\b|\b(?:start\w*|began|begin|initiat\w*|commenced|hung)\s+(?:the\s+)?(?:ketamine\s+)?(?:infusion|drip|iv\b)|\b(?:start\w*|turned\s+on|switched\s+on)\s+the\s+pump\b|\b(?:infusion|iv)\s+start\s+time|\bstart\s+time\b|\b(?:start(?:ed)?|began|begun|on)\b\s*(?:at|@|:)?",
                ),
            ),
            (
                Ev::MonitorStart,
                super::re::Lc::new(
                    r"\b(?:monitoring|observation|obs)\s+(?:period\s+)?(?:start\w*|began|begin\w*|initiat\w*|commenced)|\b(?:start\w*|began|begin|initiat\w*|commenced)\s+(?:of\s+)?(?:post[- ]?(?:dose|administration)\s+)?(?:monitoring|observation)",
                ),
            ),
            (
                Ev::MonitorEnd,
                super::re::Lc::new(
                    r"\b(?:monitoring|observation|obs)\s+(?:period\s+)?(?:end\w*|complet\w*|conclud\w*|stop\w*|finish\w*|over)|\b(?:end|ended|completion|completed|conclusion|concluded|finished)\s+(?:of\s+)?(?:the\s+)?(?:post[- ]?(?:dose|administration)\s+)?(?:monitoring|observation)|\b(?:monitored|observed|watched)\s+(?:until|till|til|through|thru)\b|\b(?:stayed|remained)\s+(?:with\s+us\s+|in\s+(?:the\s+)?(?:clinic|office)\s+|here\s+)?(?:until|till|til)\b",
                ),
            ),
            (
                Ev::Dose,
                super::re::Lc::new(
                    r"\bdevice\s*(?:#\s*)?(?:[1-3]|one|two|three)\b|\b(?:1st|2nd|3rd|first|second|third|last|final)\s+(?:device|spray|dose|administration)|\bself[- ]?administ\w*|\badminist\w*|\binstill\w*|\binsufflat\w*|\bdose\s+(?:given|administered|taken|start\w*)|\bdosing\s+(?:start\w*|began|time)|\bdose\s+time|\btime\s+of\s+(?:dose|dosing|administration)|\b(?:ketamine|esketamine|spravato|troche|lozenge|rdt|odt)\s+(?:was\s+)?(?:given|administered|started|taken|dosed|placed)|\b(?:took|taken|placed|dissolved)\s+(?:the\s+|first\s+|1st\s+|his\s+|her\s+|their\s+)?(?:[\w-]+\s+){0,3}?(?:ketamine|troche|lozenge|rdt|odt|dose|tablet)|\b(?:troches?|lozenges?|rdts?|odts?)\b[^.;\n]{0,30}?\bdissolv(?:ed|e|ing)\b|\bsprays?\s+(?:given|administered|completed)|\b(?:tablets?|tabs?|solution|film|wafer)\s+(?:was\s+)?(?:given|administered|taken|placed|dosed)|\bdosed\b|\bd(?:ev)?\s?#?[1-3]\b|\bdevices?\b(?:\s*(?:used|given|administered))?\s*(?:@|at|:|-)?|\bdosing\b|\bself[- ]?admin\b|\b(?:given|admin'?d)\b",
                ),
            ),
            (
                Ev::Discharge,
                super::re::Lc::new(
                    r"\bdis?charg\w*|\bdispo(?:sition)?\b|\bdc\b|\bd/c(?:'?d)?\b|\bdc'?d\b|\bleft\s+(?:the\s+)?(?:clinic|office|facility|center|centre|building|suite|unit)|\bdepart\w*|\breleased\b|\bwent\s+home\b|\b(?:took|drove|driven|picked\s+up|escorted)\s+(?:her|him|them|the\s+(?:pt|patient))\s+home\b|\bcheck(?:ed)?[- ]?out\b|\bleft\s+(?:(?:with|ambulatory|in\s+stable|at)\b|@)|\b(?:pt|patient|she|he|they)\s+(?:has\s+|had\s+)?left\b|\b(?:pt|patient|she|he|they)\s+(?:is\s+|was\s+)?out\s+of\s+(?:the\s+)?(?:clinic|office|building|facility|center|centre|suite|unit)\b|\bleaving\b|(?m:^[ \t>*\-]*(?:pt\s+|patient\s+)?out\s*[:@])",
                ),
            ),
        ];
        TimingExtractor {
            events,
            distractor: re(
                r"\b(?:sign(?:ed|ature)|e-?sign\w*|electronically|attest\w*|co-?sign\w*|dictated|transcribed|printed|next\s+(?:appt|appointment|session|visit|treatment|dose|tx)|follow[- ]?up|f/u|return(?:s|ing)?\s+(?:on|in|for)|rtc|scheduled|psychotherapy|therapy\s+(?:session|start|end|began|time)|time\s+spent|face[- ]to[- ]face|last\s+(?:session|visit|treatment)|previous|prior\s+session)",
            ),
            pre_admin: re(
                r"(?:prior\s+to|before|pre-?|pending|after|post-?|following|since|until|awaiting|for)(?:\s+(?:any|the|each|every|a|her|his|their|pt'?s|patient'?s))?\s*$",
            ),
            stated: super::re::Lc::new(&format!(
                r"\b(?:observ\w*|monitor\w*|watched|remained\s+in\s+clinic|stayed|in\s+clinic)\b[^.;\n|]{{0,60}}?(?:=|\b(?:for|x|×|total(?:\s+of)?|period\s+of|duration\s+of|time\s+of|time|duration|period|of|was|lasted))\s*[:=]?\s*(?:approximately|approx\.?|about|~|a\s+total\s+of|at\s+least|over|>|≥)?\s*(?P<n>{NUM}|\d+\.\d+)\s*(?P<u>hours?|hrs?|h|minutes?|mins?|m)\b(?:\s*(?:and\s*)?(?P<n2>{NUM})\s*(?:minutes?|mins?|m)\b)?"
            )),
            stated3: super::re::Lc::new(&format!(
                r"\b(?:observed|monitored|watched|observation|monitoring|obs)\b(?:[ \t]+(?:time|period|duration|window))?[ \t]*[:=]?[ \t]*(?:approximately|approx\.?|about|~|a\s+total\s+of|at\s+least|over|>|≥)?[ \t]*(?P<n>{NUM}|\d+\.\d+)[ \t]*(?P<u>hours?|hrs?|h|minutes?|mins?|m)\b(?:[ \t]*(?:and[ \t]*)?(?P<n2>{NUM})[ \t]*(?:minutes?|mins?|m)\b)?"
            )),
            stated2: super::re::Lc::new(&format!(
                r"\b(?P<n>{NUM}|\d+\.\d+)[\s-]*(?P<u>hours?|hrs?|h|minutes?|mins?)\b(?:\s*(?:and\s*)?(?P<n2>{NUM})\s*(?:minutes?|mins?)\b)?\s+(?:of\s+)?(?:post[- ]?(?:dose|administration|treatment|infusion)\s+)?(?:observation|monitoring)\b"
            )),
            device_short: re(r"^d(?:ev)?\s?#?[1-3]$"),
            stated_after_last: super::re::Lc::new(&format!(
                r"\b(?P<n>{NUM})\s*(?P<u>hours?|hrs?|h|minutes?|mins?)\b(?:\s*(?:and\s*)?(?P<n2>{NUM})\s*(?:minutes?|mins?)\b)?\s+(?:after|post|from|following|since)\s+(?:the\s+)?(?:last|final|third|second|2nd|3rd|last\s+spravato|end\s+of)\s*(?:device|dev\b|dose|spray|administration|infusion)"
            )),
            infusion_note: super::re::Lc::new(r"infus|\biv\b|\bi\.v\.|intravenous|\bdrip\b|mg\s*/\s*kg|\bover\s+\d{2,3}\s*min"),
            list_sep: re(r"^\s*(?:[,/+&;]|and|then|,\s*and)?\s*(?:#?[1-3]\s*[:=-]?\s*)?$"),
            dc_vitals_before: re(
                r"(?:\b(?:vitals?|vs|v/s|bp|b/p|blood\s+pressure|sbp|nibp)\W{1,3}(?:(?:at|on|@|prior\s+to|before|upon)\W{1,3})?|\bpre[- ]?)$",
            ),
            dc_vitals_after: re(r"^[ \t)]{0,3}(?:vitals?|vs|v/s|bp|b/p|blood\s+pressure|sbp|nibp)\b"),
            window_word: re(
                r"\b(?:observ\w*|monitor\w*|watched|dis?charg\w*|d/c|left|depart\w*|released|went\s+home|stayed|remained|in\s+clinic|total)\b",
            ),
            reading_before: re(r"\b\d{2,3}\s*/\s*\d{2,3}\b[^()\n]{0,40}?(?:\(|,|\bat|@|-|–|—)\s*$"),
            billing_line: re(
                r"\b(?:charges?|billing|billed|bill|cpt|hcpcs|claim|basis|prolonged[\s_]+(?:service|svc)s?)\b|\b(?:9935[45]|9941[5-7]|G2212|G208[23])\b",
            ),
            modal: re(
                r"\b(?:must|should|shall|required?|requires|requirement|need(?:s|ed)?\s+to|minimum|per\s+(?:rems\s+)?(?:protocol|label|policy)|will\s+be|to\s+be|plan(?:ned)?\s+to|policy|standard|recommended|instructed|educated|reviewed|target|goal|aim)\b",
            ),
            infusion_minutes: super::re::Lc::new(
                r"\b(?:over|x|for|duration(?:\s+of)?|infused\s+over|run\s+over|ran\s+over|lasting)\s*[:=]?\s*(?:approximately|approx\.?|about|~)?\s*(?P<n>\d{1,3})\s*(?:min|minutes|mins)\b",
            ),
            future: re(r"\b(?:next|tomorrow|scheduled|plan\w*|upcoming|future|on\s+\d{1,2}/\d{1,2})\b"),
            dose_at: re(r"\b(?:ketamine|esketamine|spravato)\b[^.;\n|]{0,50}?\d\s*mg\b[^.;\n|]{0,40}?(?:\bat|@)\s*$"),
            before_discharge: re(r"\b(?:prior\s+to|before|pending|awaiting|until|till)\s*$"),
            // "Devices leaving clinic: none", "no device leaves our clinic":
            // a device, not the patient, leaving.
            not_patient_leaving: re(r"\b(?:devices?|sprays?|kits?|medication|drug|spravato|esketamine)\s*$"),
            not_given: re(
                r"\bnot\s+(?:self[- ]?)?(?:administered|given|used|taken|dosed)\b|\breturned\s+(?:sealed|unused|to\s+(?:the\s+)?(?:locked\s+)?(?:stock|pharmacy))|\b(?:removed|pulled)\s+from\s+(?:the\s+)?(?:locked\s+)?(?:stock|storage|cabinet|safe)|\b(?:wasted|destroyed|count\s+corrected)\b|\bdevices?\s+(?:leaving|left|sent|taken)\b[^.;\n]{0,40}?:\s*(?:none|0|no)\b|\border\s+verified\b|\b(?:empty|spent)\s+devices?\b|\bdevices?\s+(?:were\s+)?(?:found|counted|discarded|disposed|inspected)\b|\bdevices?\b[^.;\n]{0,20}\bat\s+home\b",
            ),
            log_dose: re(
                r"^[ \t]*(?:(?:hrs?|h|z|utc|[ecmp][sd]?t)\b\.?[ \t]*)?(?:-[ \t]*)?(?:(?:ketamine|esketamine|spravato)\b[^\n]{0,40}?\b\d+(?:\.\d+)?\s*mg\b|\d+(?:\.\d+)?\s*mg\s+(?:ketamine\s+)?(?:troches?|lozenges?|rdts?|odts?)\b)",
            ),
            line_lead: re(r"^[ \t>*\-]*(?:(?:\[[xX✓✔]\]|☑|✔|✓)[ \t]*)?(?:\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})[ \t]+)?$"),
            range: re(
                r"^[^|;\n]{0,40}?\b(?P<a>(?:[01]?\d|2[0-3])[:.h]?[0-5]\d\s*(?:[ap]\.?m\.?|[ap]\b)?)\s*(?:-|–|—|to|until|through|thru|→|->|=>)\s*(?P<b>(?:[01]?\d|2[0-3])[:.h]?[0-5]\d\s*(?:[ap]\.?m\.?|[ap]\b)?)",
            ),
        }
    }

    /// The patterns each note is searched with whole: the events, by event
    /// name, then the stated durations and infusion minutes (for
    /// [`super::Extractor::pattern_costs`]).
    pub(crate) fn whole_note_patterns(&self) -> impl Iterator<Item = (String, &super::re::Lc)> {
        let others = [
            ("stated", &self.stated),
            ("stated2", &self.stated2),
            ("stated3", &self.stated3),
            ("stated_after_last", &self.stated_after_last),
            ("infusion_minutes", &self.infusion_minutes),
            ("infusion_note", &self.infusion_note),
        ];
        self.events.iter().map(|(ev, r)| (format!("timing {ev:?}"), r)).chain(others.into_iter().map(|(n, r)| (format!("timing {n}"), r)))
    }

    /// Extract timing evidence into `facts`.
    pub fn extract(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let text = ctx.text;
        let infusion_note = ctx.is_match(&self.infusion_note);
        let times = &ctx.times;
        let mut used_range_ends: Vec<usize> = Vec::new();
        for (ev, r) in &self.events {
            for m in ctx.find_iter(r) {
                let m = super::text::Span::new(text, m);
                // An event worded across a line break ("Infusion\nstart
                // 0925": a bare header over its entry) runs to the clause
                // its last word is in.
                let cl = clause(text, m.start());
                let cl = if m.end() > cl.end { cl.start..clause(text, m.end() - 1).end } else { cl };
                // Distractor words count up to just past the event's own time:
                // "Discharge 15:45 - criteria met, mother driving, f/u 2/3" is a
                // discharge; "next appointment ... at 10:00" is not.
                let near = cl.start..super::text::floor_char(text, cl.end.min(m.end() + 25));
                let clause_text = super::text::sub(text, near);
                if self.distractor.is_match(clause_text) && !matches!(ev, Ev::InfusionStart | Ev::InfusionEnd | Ev::InfusionRange) {
                    continue;
                }
                if *ev == Ev::Discharge
                    && (self.is_discharge_vitals(text, m.start()..m.end())
                        || self.before_discharge.is_match(super::text::sub(text, cl.start..m.start()))
                        || self.not_patient_leaving.is_match(super::text::sub(text, cl.start..m.start())))
                {
                    continue;
                }
                // "observed 45 min after infusion completed": the end is the
                // reference point of a duration, not an event at the line's time.
                if matches!(ev, Ev::InfusionEnd | Ev::InfusionStart) {
                    let lead = super::text::sub(text, cl.start..m.start()).trim_end().to_ascii_lowercase();
                    let lead = lead.strip_suffix("the").map(str::trim_end).unwrap_or(&lead);
                    if ["after", "since", "following", "from"].iter().any(|w| lead.ends_with(w)) {
                        continue;
                    }
                }
                if matches!(ev, Ev::InfusionStart | Ev::InfusionEnd) {
                    // Bare "Start 1:00 PM" / "Stop 1:40 PM" are infusion times only
                    // in an infusion note, right before their time.
                    let label = m.as_str().trim().to_ascii_lowercase();
                    // "10:02 pump started" / "pump off 10:42": the pump is the
                    // infusion's only in an infusion note.
                    if label.contains("pump") && !infusion_note {
                        continue;
                    }
                    let bare = !label.contains("pump")
                        && !label.contains("infus")
                        && !label.contains("drip")
                        && !label.contains("iv")
                        && !label.contains("time");
                    if bare {
                        let after = super::text::sub(text, m.end()..(m.end() + 4).min(cl.end));
                        let time_next = times.iter().any(|t| t.span.start >= m.end() && t.span.start <= m.end() + 4)
                            && after.trim_start().starts_with(|c: char| c.is_ascii_digit());
                        // Log form "10:10 start; ... 10:50 stop".
                        let time_prev = times.iter().any(|t| t.span.end <= m.start() && t.span.end + 3 >= m.start());
                        if !(time_next || time_prev) || !infusion_note {
                            continue;
                        }
                        // "Infusion started 10:05 AM, completed 10:45 AM": a
                        // bare "completed" ends the infusion only after it is
                        // named in the clause (not "PHQ-9 completed 10:00").
                        if (label.starts_with("complet") || label.starts_with("finish"))
                            && !["infus", "pump", "drip"].iter().any(|w| super::text::sub(&ctx.lower, cl.start..m.start()).contains(w))
                        {
                            continue;
                        }
                    }
                }
                if *ev == Ev::InfusionStart && facts.timing.first_admin_pos.is_none_or(|p| m.start() < p) {
                    facts.timing.first_admin_pos = Some(m.start());
                }
                if *ev == Ev::Dose {
                    let before = super::text::sub(text, cl.start..m.start());
                    // Generic words ("devices", "dosing", "given", "self-admin") are
                    // administration events only next to a time and a treatment word.
                    let generic = {
                        let l = m.as_str().to_ascii_lowercase();
                        l.starts_with("device") && !l.chars().any(|c| c.is_ascii_digit())
                            || l.starts_with("dosing")
                            || l == "given"
                            || l.starts_with("admin")
                            || l.starts_with("self")
                    };
                    if generic {
                        // The treatment may be named on the line before ("SPRAVATO 56MG\ndosing 0930 + 0935").
                        let ct = super::text::sub(text, cl.start.saturating_sub(120)..cl.end).to_ascii_lowercase();
                        let treat = ["esketamine", "spravato", "ketamine", "dev", "spray", "mg", "dose", "troche", "rdt"]
                            .iter()
                            .any(|w| ct.contains(w));
                        if !treat || nearest_time(text, times, m.start()..m.end(), cl.clone()).is_none() {
                            continue;
                        }
                    }
                    // "1010 zofran 4 mg ODT given": another drug given during
                    // monitoring is not a ketamine administration.
                    let own = super::text::sub(text, cl.clone()).to_ascii_lowercase();
                    if OTHER_DRUGS.iter().any(|w| own.contains(w))
                        && !["esketamine", "spravato", "ketamine", "device", "spray", "troche", "lozenge"].iter().any(|w| own.contains(w))
                    {
                        continue;
                    }
                    if self.pre_admin.is_match(before) {
                        continue;
                    }
                    // A custody log's "Device #3 - NOT administered; returned
                    // sealed", "3 devices removed from locked stock" or
                    // "Devices leaving clinic with patient: none" is no dose.
                    // Only this entry's part of the clause: "Device 1: 08:50
                    // Device 2: 08:55 Device 3: (not used)" has two doses.
                    let own = {
                        let lc = super::text::sub(&ctx.lower, cl.clone());
                        let me = (m.end() - cl.start).min(lc.len());
                        let ms = (m.start() - cl.start).min(me);
                        let from = super::text::sub(lc, ..ms).rfind("device").map_or(0, |i| i + 6);
                        let to = super::text::sub(lc, me..).find("device").map_or(lc.len(), |i| me + i);
                        super::text::sub(text, cl.start + from.min(ms)..cl.start + to)
                    };
                    if self.not_given.is_match(own) {
                        continue;
                    }
                    // Log shorthand "d1 0928" / "D2 11:16" is a device only
                    // with its time, and never "vitamin D3".
                    if self.device_short.is_match(m.as_str())
                        && (before.to_ascii_lowercase().trim_end().ends_with("vitamin")
                            || before.to_ascii_lowercase().trim_end().ends_with("vit")
                            || nearest_time(text, times, m.start()..m.end(), cl.clone()).is_none_or(|t| t.span.start < cl.start))
                    {
                        continue;
                    }
                    let a = ctx.context.assess(m.start()..m.end());
                    if a.negated || a.hypothetical {
                        continue;
                    }
                    if facts.timing.first_admin_pos.is_none_or(|p| m.start() < p) {
                        facts.timing.first_admin_pos = Some(m.start());
                    }
                    facts.timing.admin_statements.push(m.start()..m.end());
                }
                // "Pump 1:05p → 1:45p" is the infusion's only in an infusion note.
                if *ev == Ev::InfusionRange && m.as_str().to_ascii_lowercase().starts_with("pump") && !infusion_note {
                    continue;
                }
                match ev {
                    Ev::MonitorRange | Ev::InfusionRange => {
                        let rest = super::text::sub(text, m.end()..cl.end);
                        if let Some(c) = self.range.captures(rest) {
                            let a = c.name("a").unwrap();
                            // "post-infusion monitoring 10:45-11:30" is the monitoring
                            // window, not the infusion's; "observed ... infusion 10-11" the reverse.
                            let gap = rest[..a.start()].to_ascii_lowercase();
                            let other = if *ev == Ev::MonitorRange {
                                ["infus", "drip", "dose", "device"].iter().any(|w| gap.contains(w))
                            } else {
                                ["monitor", "observ", "obs ", "disch", "d/c"].iter().any(|w| gap.contains(w))
                            };
                            if other {
                                continue;
                            }
                            let b = c.name("b").unwrap();
                            let ta = time_in(times, m.end() + a.start(), m.end() + a.end());
                            let tb = time_in(times, m.end() + b.start(), m.end() + b.end());
                            if let (Some(ta), Some(tb)) = (ta, tb) {
                                let span = m.start()..m.end() + b.end();
                                used_range_ends.push(span.end);
                                let (k1, k2) = if *ev == Ev::MonitorRange {
                                    (EvKind::MonitorStart, EvKind::MonitorEnd)
                                } else {
                                    (EvKind::DoseEvent, EvKind::InfusionEnd)
                                };
                                let i1 = push_time(facts, k1, "range-start", span.clone(), ta.clock);
                                let i2 = push_time(facts, k2, "range-end", span, tb.clock);
                                if *ev == Ev::MonitorRange {
                                    facts.timing.monitor_start.push((ta.clock, i1));
                                    facts.timing.monitor_end.push((tb.clock, i2));
                                } else {
                                    facts.timing.dose_times.push((ta.clock, i1));
                                    facts.timing.infusion_end.push((tb.clock, i2));
                                    if facts.timing.first_admin_pos.is_none_or(|p| m.start() < p) {
                                        facts.timing.first_admin_pos = Some(m.start());
                                    }
                                }
                            }
                        }
                    }
                    _ => {
                        let Some(t) = nearest_time(text, times, m.start()..m.end(), cl.clone())
                            .or_else(|| header_time(text, times, m.start()..m.end()))
                        else {
                            continue;
                        };
                        if used_range_ends.iter().any(|&e| t.span.end <= e && t.span.start >= cl.start && e <= cl.end)
                            && matches!(ev, Ev::MonitorStart | Ev::MonitorEnd)
                        {
                            continue;
                        }
                        let span = m.start().min(t.span.start)..m.end().max(t.span.end);
                        let (kind, list): (EvKind, TimeList) = match ev {
                            Ev::Dose | Ev::InfusionStart => (EvKind::DoseEvent, |f| &mut f.timing.dose_times),
                            Ev::InfusionEnd => (EvKind::InfusionEnd, |f| &mut f.timing.infusion_end),
                            Ev::MonitorStart => (EvKind::MonitorStart, |f| &mut f.timing.monitor_start),
                            Ev::MonitorEnd => (EvKind::MonitorEnd, |f| &mut f.timing.monitor_end),
                            Ev::Discharge => (EvKind::DischargeTime, |f| &mut f.timing.discharge),
                            _ => unreachable!(),
                        };
                        // A bare "start time"/"stop time" label only counts in an infusion note.
                        let label = m.as_str().to_ascii_lowercase();
                        if (label == "start time" || label == "stop time" || label == "end time")
                            && !text.to_ascii_lowercase().contains("infus")
                        {
                            continue;
                        }
                        let i = push_time(facts, kind, ev_id(*ev), span, t.clock);
                        list(facts).push((t.clock, i));
                        if *ev == Ev::Dose && t.span.start >= m.end() {
                            // "devices at 08:30 / 08:35 / 08:40", "dosing 0930 + 0935",
                            // "@ 0915 and 0920": every time of the list is a device.
                            let mut prev = t;
                            // To the line's end, not the clause's: "DEVICE TIMES: 0905;
                            // 0910; 0915" separates its items with the clause break.
                            let mut line_end = super::text::line_of(text, t.span.start).end;
                            // Hard-wrapped prose: "(56 mg) at 10:08\nand 10:13".
                            if line_end < text.len() {
                                let last_on_line = times.iter().rev().find(|x| x.span.end <= line_end && x.span.start >= t.span.start);
                                let next = super::text::line_of(text, line_end + 1);
                                let head =
                                    super::text::sub(text, next.start..next.end.min(next.start + 12)).trim_start().to_ascii_lowercase();
                                let wraps = ["and ", "& ", ", ", "/ ", "+ "].iter().any(|w| head.starts_with(w))
                                    && head.bytes().any(|c| c.is_ascii_digit());
                                if last_on_line.is_some_and(|x| super::text::sub(text, x.span.end..line_end).trim().is_empty()) && wraps {
                                    line_end = next.end;
                                }
                            }
                            for nt in times.iter().filter(|x| x.span.start > t.span.start && x.span.end <= line_end.max(cl.end)) {
                                let from = past_meridiem_stop(text.as_bytes(), prev.span.end).min(nt.span.start);
                                let gap = super::text::sub(text, from..nt.span.start);
                                if !self.list_sep.is_match(gap) {
                                    break;
                                }
                                let j = push_time(facts, kind, "dose-time-list", m.start()..nt.span.end, nt.clock);
                                facts.timing.dose_times.push((nt.clock, j));
                                prev = nt;
                            }
                        }
                        if *ev == Ev::Dose && t.span.end <= m.start() {
                            // "0910, 0915, 0920 three devices": the list before
                            // the event word, joined by commas, slashes or "and"
                            // (not by ";", which ends an earlier entry).
                            let line_start = super::text::line_of(text, t.span.start).start;
                            let mut prev = t;
                            for pt in times.iter().rev().filter(|x| x.span.end <= t.span.start && x.span.start >= line_start) {
                                let gap = super::text::sub(text, pt.span.end..prev.span.start).trim().to_ascii_lowercase();
                                if !matches!(gap.as_str(), "," | "/" | "+" | "&" | "and" | ", and" | "-") {
                                    break;
                                }
                                let j = push_time(facts, kind, "dose-time-list", pt.span.start..m.end(), pt.clock);
                                facts.timing.dose_times.push((pt.clock, j));
                                prev = pt;
                            }
                        }
                    }
                }
            }
        }
        // Timestamped log / MAR line "14:00 ketamine 100 mg SL troche",
        // "07/01/2026 1215 esketamine 56 mg intranasal": the line's time is
        // an administration.
        for t in times {
            let line = super::text::line_of(text, t.span.start);
            // "Ketamine 200 mg SL troche at 1000", "1 mg/kg = 75 mg PO at 1330".
            let cl = clause(text, t.span.start);
            let lead = super::text::sub(text, cl.start..t.span.start);
            if let Some(m) = self.dose_at.find(lead) {
                let clause_text = super::text::sub(text, cl.clone());
                let a = ctx.context.assess(cl.start + m.start()..t.span.start);
                if !(self.distractor.is_match(clause_text)
                    || self.modal.is_match(clause_text)
                    || self.future.is_match(clause_text)
                    || a.negated
                    || a.hypothetical)
                {
                    let i = push_time(facts, EvKind::DoseEvent, "dose-at-time", cl.start + m.start()..t.span.end, t.clock);
                    facts.timing.dose_times.push((t.clock, i));
                    if facts.timing.first_admin_pos.is_none_or(|p| cl.start + m.start() < p) {
                        facts.timing.first_admin_pos = Some(cl.start + m.start());
                    }
                    continue;
                }
            }
            if !self.line_lead.is_match(super::text::sub(text, line.start..t.span.start)) {
                continue;
            }
            let rest = super::text::sub(text, t.span.end..line.end);
            let Some(m) = self.log_dose.find(rest) else { continue };
            let at = t.span.end + m.start();
            let line_text = super::text::sub(text, line.clone());
            if self.distractor.is_match(line_text) || self.modal.is_match(line_text) || self.future.is_match(line_text) {
                continue;
            }
            let a = ctx.context.assess(at..t.span.end + m.end());
            if a.negated || a.hypothetical {
                continue;
            }
            let i = push_time(facts, EvKind::DoseEvent, "dose-log-line", t.span.start..t.span.end + m.end(), t.clock);
            facts.timing.dose_times.push((t.clock, i));
            if facts.timing.first_admin_pos.is_none_or(|p| t.span.start < p) {
                facts.timing.first_admin_pos = Some(t.span.start);
            }
        }
        // "10:02 Device 1 administered" matches two event words: one event.
        let ev = &facts.evidence;
        for list in [
            &mut facts.timing.dose_times,
            &mut facts.timing.infusion_end,
            &mut facts.timing.monitor_start,
            &mut facts.timing.monitor_end,
            &mut facts.timing.discharge,
        ] {
            let mut kept: Vec<(Clock, usize)> = Vec::with_capacity(list.len());
            for (c, i) in list.drain(..) {
                let line = super::text::line_of(text, ev[i].span.start);
                if !kept.iter().any(|(kc, ki)| *kc == c && super::text::line_of(text, ev[*ki].span.start) == line) {
                    kept.push((c, i));
                }
            }
            *list = kept;
        }
        self.stated_durations(ctx, facts);
    }

    /// "Vitals D/C 15:14", "discharge BP", "BP at discharge", "pre-discharge
    /// 11:50 BP": the time of a vital sign named after discharge, not the
    /// time the patient left. Verb forms ("discharged 12:15") always count.
    fn is_discharge_vitals(&self, text: &str, m: Range<usize>) -> bool {
        let word = super::text::sub(text, m.clone()).to_ascii_lowercase();
        if !matches!(word.as_str(), "discharge" | "dischage" | "dicharge" | "d/c" | "dc") {
            return false;
        }
        let line = super::text::line_of(text, m.start);
        let before = super::text::sub(text, line.start.max(m.start.saturating_sub(30))..m.start);
        let after = super::text::sub(text, m.end..line.end.min(m.end + 20));
        self.dc_vitals_before.is_match(before) || self.dc_vitals_after.is_match(after)
    }

    fn stated_durations(&self, ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
        let text = ctx.text;
        let mut seen: Vec<Range<usize>> = Vec::new();
        for (k, r) in [&self.stated, &self.stated2, &self.stated3, &self.stated_after_last].into_iter().enumerate() {
            let after_last = k == 3;
            for c in ctx.captures_iter(r) {
                let m = c.get(0).unwrap();
                if seen.iter().any(|s| s.start < m.end() && m.start() < s.end) {
                    continue;
                }
                let cl = clause(text, m.start());
                let before = super::text::sub(text, cl.start..m.start());
                if self.modal.is_match(before) || self.modal.is_match(m.as_str()) {
                    continue;
                }
                // "40 min post-dose monitoring BP 138/86" is a vital sign time, not a window.
                let after = super::text::sub(text, m.end()..cl.end.min(m.end() + 24));
                if after.to_ascii_lowercase().contains("bp") || after.contains('/') {
                    continue;
                }
                // So is "136/86 HR 78 (40 min after last device)".
                let near = super::text::sub(text, super::text::floor_char(text, cl.start.max(m.start().saturating_sub(60)))..m.start());
                if self.reading_before.is_match(near) {
                    continue;
                }
                // A charge's description ("99354 x 1 (prolonged service,
                // 2-h observation)", "basis: 2-hour post-dose observation")
                // names what was billed, not how long this patient stayed.
                let line = super::text::line_of(text, m.start());
                let lead = super::text::sub(text, super::text::floor_char(text, line.start.max(m.start().saturating_sub(120)))..m.start());
                if self.billing_line.is_match(lead) {
                    continue;
                }
                // "N min after the last device" with no observation,
                // monitoring or discharge word in its clause times a check
                // ("At 10:55, 40 minutes after the second device, blood
                // pressure was ..."; a flowsheet row's note), not the window.
                if after_last && !self.window_word.is_match(super::text::sub(text, cl.clone())) {
                    continue;
                }
                let a = ctx.context.assess(m.start()..m.end());
                if a.negated || a.hypothetical {
                    continue;
                }
                let Some(n) = parse_number(&c["n"]) else { continue };
                let unit = c["u"].to_ascii_lowercase();
                let mut minutes = if unit.starts_with('h') { n * 60.0 } else { n };
                if let Some(n2) = c.name("n2").and_then(|x| parse_number(x.as_str())) {
                    minutes += n2;
                }
                if !(1.0..=720.0).contains(&minutes) {
                    continue;
                }
                let lower = super::text::sub(text, cl.clone()).to_ascii_lowercase();
                if lower.contains("infus") && !lower.contains("monitor") && !lower.contains("observ") {
                    continue;
                }
                seen.push(m.start()..m.end());
                let i = facts.push(Evidence {
                    kind: EvKind::MonitoringDuration,
                    entry_id: "stated-monitoring-duration".into(),
                    span: m.start()..m.end(),
                    assertion: a,
                    value: format!("{} min", minutes.round()),
                    counts: true,
                });
                facts.timing.stated_minutes.push((minutes.round() as u32, i));
            }
        }
        for c in ctx.captures_iter(&self.infusion_minutes) {
            let m = c.get(0).unwrap();
            let cl = clause(text, m.start());
            let lower = super::text::sub(text, cl.clone()).to_ascii_lowercase();
            if !(lower.contains("infus") || lower.contains("iv") || lower.contains("drip") || lower.contains("ketamine"))
                || lower.contains("monitor")
                || lower.contains("observ")
            {
                continue;
            }
            let Ok(n) = c["n"].parse::<u32>() else { continue };
            if !(1..=600).contains(&n) || facts.timing.infusion_minutes.is_some() {
                continue;
            }
            let i = facts.push(Evidence {
                kind: EvKind::InfusionEnd,
                entry_id: "stated-infusion-duration".into(),
                span: m.start()..m.end(),
                assertion: Assertion::default(),
                value: format!("infusion {n} min"),
                counts: true,
            });
            facts.timing.infusion_minutes = Some((n, i));
        }
    }
}

fn ev_id(ev: Ev) -> &'static str {
    match ev {
        Ev::Dose => "dose-time",
        Ev::InfusionStart => "infusion-start",
        Ev::InfusionEnd => "infusion-end",
        Ev::MonitorStart => "monitoring-start",
        Ev::MonitorEnd => "monitoring-end",
        Ev::Discharge => "discharge-time",
        Ev::MonitorRange => "monitoring-range",
        Ev::InfusionRange => "infusion-range",
    }
}

fn push_time(facts: &mut NoteFacts, kind: EvKind, id: &str, span: Range<usize>, clock: Clock) -> usize {
    facts.push(Evidence {
        kind,
        entry_id: id.to_string(),
        span,
        assertion: Assertion::default(),
        value: format!("{:02}:{:02}", clock.0 / 60, clock.0 % 60),
        counts: true,
    })
}

fn time_in(times: &[TimeMention], start: usize, end: usize) -> Option<&TimeMention> {
    times.iter().find(|t| t.span.start >= start && t.span.start < end)
}

/// The time that belongs to an event word: the first time after it within
/// 40 bytes of the same clause, else the nearest time before it in the clause
/// (a log line's leading time).
/// The time leading the first line under a header that is only the event
/// word ("Discharge" / "• 11:17 - alert, walking steadily, stable to leave").
fn header_time<'t>(text: &str, times: &'t [TimeMention], ev: Range<usize>) -> Option<&'t TimeMention> {
    let line = super::text::line_of(text, ev.start);
    let strip = |s: &str| -> String {
        s.trim_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '#' | '*' | '-' | '=' | '_')).to_ascii_lowercase()
    };
    if strip(super::text::sub(text, line.clone())) != strip(super::text::sub(text, ev.clone())) || line.end >= text.len() {
        return None;
    }
    let next = line.end + 1;
    let t = times.iter().find(|t| t.span.start >= next)?;
    let lead = super::text::sub(text, next..t.span.start);
    (lead.len() <= 8 && lead.chars().all(|c| c.is_whitespace() || matches!(c, '•' | '-' | '*' | '–' | '—' | '>' | '·'))).then_some(t)
}

/// Whether `s` names an event that could own a time of its own: a device,
/// dose, reading, infusion or discharge word.
fn other_event_word(s: &str) -> bool {
    static R: std::sync::OnceLock<[Regex; 2]> = std::sync::OnceLock::new();
    let [words, amount] = R.get_or_init(|| {
        [
            re(r"\b(?:devices?|dev|d[1-3]|doses?|dosed|sprays?|bp|b/p|blood\s+pressure|vitals?|hr|spo2|given|administ\w*|start\w*|stop\w*|pump|infusion|discharg\w*|d/c|left|arrived?|monitor\w*|observ\w*)\b|\d"),
            // The dose's amount between the event and its time ("three
            // devices, 84 mg, at 8:52") is not another event's number.
            re(r"\b\d+(?:\.\d+)?\s*(?:mg|milligrams?)\b"),
        ]
    });
    words.is_match(&amount.replace_all(s, " "))
}

fn nearest_time<'t>(text: &str, times: &'t [TimeMention], ev: Range<usize>, cl: Range<usize>) -> Option<&'t TimeMention> {
    // Within 40 bytes, or 80 when a colon introduces the times ("He
    // self-administered two devices (56 mg) under my direct observation
    // whilst seated: 10:20 and 10:25").
    let introduced = |t: &TimeMention| {
        let gap = super::text::sub(text, ev.end..t.span.start);
        t.span.start <= ev.end + 80 && gap.trim_end().ends_with(':') && !gap.contains(['\n', ';'])
    };
    let after =
        times.iter().find(|t| t.span.start >= ev.end && (t.span.start <= ev.end + 40 || introduced(t)) && t.span.end <= cl.end.max(ev.end));
    // Log form "0910 dev 1, 0915 dev 2": the time right before the event
    // word is its own; the next one belongs to the next entry.
    let adjacent_before = times.iter().rev().find(|t| {
        t.span.end <= ev.start
            && super::text::sub(text, t.span.end..ev.start).chars().all(|c| c == ' ' || c == '\t' || c == '-' || c == ':')
            && ev.start - t.span.end <= 3
    });
    if let (Some(b), Some(t)) = (adjacent_before, after) {
        let between = super::text::sub(text, ev.end..t.span.start);
        if between.contains(',') || between.contains(';') {
            return Some(b);
        }
    }
    if let Some(t) = after {
        // Skip a time that belongs to another event word between ("device 1
        // 10:00, device 2 10:05"); a clause with none keeps it ("discharged
        // to her son, who drove, at 1100").
        let between = super::text::sub(text, ev.end..t.span.start);
        if !between.contains(',') || between.len() < 12 || !other_event_word(between) {
            return Some(t);
        }
    }
    let line = super::text::line_of(text, ev.start);
    // An earlier time on the line: the log line's own time ("12:10 BP
    // 120/76; gait steady. End of observation."), or one in the same
    // sentence; "Pt arrived 0820. Maintenance wk 11. 84 mg (3 devices)."
    // does not time the devices.
    // A note flattened to one line ("... 11:18a 124/78 | DOSING: 56 mg")
    // starts a new section at "| LABEL:"; an earlier section's time is not
    // the event's (a table row's own leading time still is).
    static SECTION: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let section = SECTION.get_or_init(|| super::re::cs(r"\|\s*[A-Z][A-Za-z0-9 /&-]{2,30}:"));
    times
        .iter()
        .rev()
        .find(|t| t.span.end <= ev.start && t.span.start >= cl.start.min(line.start) && t.span.start >= line.start)
        .filter(|t| {
            let line_time = super::text::sub(text, line.start..t.span.start).trim().is_empty();
            // "4:20 p.m. blood pressure ...": the stop of the time's own
            // "p.m." ends no sentence.
            let from = past_meridiem_stop(text.as_bytes(), t.span.end);
            let between = super::text::sub(text, from..ev.start.max(from));
            // Through the event word and its colon: "| DOSING: 56 mg".
            let to_label = super::text::sub(text, t.span.end..ev.end + 2);
            line_time || !(between.contains(". ") || section.is_match(to_label))
        })
        .or_else(|| row_time(text, times, ev, line))
}

/// A flowsheet row that ends with its time in parentheses ("Device 2 (28
/// mg): self-administered, RN observing (0840)", "Discharge: criteria met;
/// wife driving (1045)"): the row's only time after the event word, closing
/// the line, times the row's event.
fn row_time<'t>(text: &str, times: &'t [TimeMention], ev: Range<usize>, line: Range<usize>) -> Option<&'t TimeMention> {
    let mut on_line = times.iter().filter(|t| t.span.start >= ev.end && t.span.end <= line.end);
    let t = on_line.next()?;
    if on_line.next().is_some() || times.iter().any(|o| o.span.start >= line.start && o.span.end <= ev.start) {
        return None;
    }
    let before = super::text::sub(text, line.start..t.span.start).trim_end();
    let after = super::text::sub(text, t.span.end..line.end).trim();
    if before.ends_with('(') && after == ")" {
        return Some(t);
    }
    // A task table's row ("Infusion start, ketamine 37 mg | yes | 10:02 |
    // RN Hoyle"): the event in the first cell, the row's only time a cell
    // of its own.
    let first_cell = !super::text::sub(text, line.start..ev.start).contains('|');
    let own_cell = before.ends_with('|') && (after.is_empty() || after.starts_with('|'));
    (first_cell && own_cell).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::{clause_bounds, dot_ends_clause, dot_starts_clause};
    use crate::extract::Extractor;
    use std::ops::Range;

    fn facts(t: &str) -> crate::extract::NoteFacts {
        Extractor::builtin().extract_text(t, None)
    }

    /// `clause` as it was written before it used memchr: every byte
    /// checked in turn (the reference for `clause_equals_bytewise_scan`).
    /// It reads the stop rules from the same helpers as `clause_bounds`,
    /// so the test checks the search, and a rule changes in one place.
    fn clause_bytewise(text: &str, pos: usize) -> Range<usize> {
        let b = text.as_bytes();
        let pos = pos.min(b.len());
        let lo = pos.saturating_sub(crate::extract::text::LINE_CAP);
        let hi = (pos + crate::extract::text::LINE_CAP).min(b.len());
        let mut s = pos;
        while s > lo {
            let c = b[s - 1];
            if c == b'\n' || c == b';' || c == b'|' || (c == b'.' && dot_starts_clause(b, s - 1)) {
                break;
            }
            s -= 1;
        }
        let mut e = pos;
        while e < hi {
            let c = b[e];
            if c == b'\n' || c == b';' || c == b'|' || (c == b'.' && dot_ends_clause(b, e)) {
                break;
            }
            e += 1;
        }
        s..e
    }

    /// `clause_bounds` gives the byte-by-byte scan's bounds at every
    /// position of every five-byte string over the stops and a few letters
    /// and digits, of a long line with titles, "a.m."/"p.m." and "No.", and
    /// of the fixture notes (every position of the first 200 read, every
    /// seventh of the rest).
    #[test]
    fn clause_bounds_equal_bytewise_scan() {
        let mut texts: Vec<(String, usize)> = Vec::new();
        let alphabet = [".", " ", "\t", "\n", "\r", ";", "|", "1", "a", "p", "m", "o", "N"];
        let mut stack = vec![String::new()];
        while let Some(t) = stack.pop() {
            if t.len() == 5 {
                texts.push((t, 1));
                continue;
            }
            stack.extend(alphabet.iter().map(|a| format!("{t}{a}")));
        }
        texts.push(("Observed 40 min. Dr. Lee at 9 a.m. then Mr. Roe; 2 p.m. left. No. 12 ok. 98. 6 |".repeat(40), 1));
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
        let mut notes = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let Ok(src) = std::fs::read_to_string(e.unwrap().path().join("notes.jsonl")) else { continue };
            for l in src.lines() {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else { continue };
                if let Some(t) = v["text"].as_str() {
                    texts.push((t.to_string(), if notes < 200 { 1 } else { 7 }));
                    notes += 1;
                }
            }
        }
        assert!(notes > 1000, "{notes} fixture notes");
        let mut checked = 0usize;
        for (t, step) in &texts {
            for pos in (0..=t.len()).step_by(*step) {
                let want = clause_bytewise(t, pos);
                assert_eq!(clause_bounds(t.as_bytes(), pos), (want.start, want.end), "{t:?} at {pos}");
                checked += 1;
            }
        }
        assert!(checked > 1_000_000, "{checked}");
    }

    #[test]
    fn a_task_tables_time_cell_times_the_row() {
        let f = facts("KETAMINE INFUSION RECORD\nTask | Done | Time | By\nInfusion start, ketamine 37 mg | yes | 10:02 | Dr. C\nInfusion stop (40 min, complete) | yes | 10:42 | RN H\n");
        assert!(f.timing.dose_times.iter().any(|(c, _)| c.0 == 10 * 60 + 2), "{:?}", f.timing);
        assert!(f.timing.infusion_end.iter().any(|(c, _)| c.0 == 10 * 60 + 42), "{:?}", f.timing);
    }

    #[test]
    fn a_target_states_no_window() {
        let f = facts("Target: monitor at least 2 h after last device.\n0920 >> device 1\n0925 >> device 2\n1101 >> Observation ended.");
        assert!(f.timing.stated_minutes.is_empty(), "{:?}", f.timing.stated_minutes);
    }

    #[test]
    fn times_introduced_by_a_colon_time_the_devices() {
        let f = facts("He self-administered two devices (56 mg) under my direct observation whilst seated: 10:20 and 10:25.");
        let mut doses: Vec<u32> = f.timing.dose_times.iter().map(|(c, _)| c.0).collect();
        doses.sort();
        doses.dedup();
        assert_eq!(doses, vec![10 * 60 + 20, 10 * 60 + 25]);
    }

    #[test]
    fn a_run_on_sentence_splits_at_a_new_subject() {
        let t = "she takes sertraline 150 mg every morning and her Humana prior authorization number HU-2207781 is approved from 05/01/2025 to 10/31/2025 and the clinic is a certified REMS setting and she is enrolled in the Spravato REMS and I will submit the Patient Monitoring Form today";
        let at = |w: &str| {
            let r = super::clause(t, t.find(w).unwrap());
            &t[r]
        };
        assert_eq!(
            at("prior authorization"),
            "her Humana prior authorization number HU-2207781 is approved from 05/01/2025 to 10/31/2025 and the clinic is a certified REMS setting"
        );
        assert_eq!(at("enrolled"), "she is enrolled in the Spravato REMS");
        assert_eq!(at("Monitoring Form"), "I will submit the Patient Monitoring Form today");
        // A title's stop ends no clause.
        let t = "she self-administered the first device at 09:15 under my direct observation with Dr. Keel on site, 56 mg in all.";
        assert_eq!(super::clause(t, t.find("56 mg").unwrap()), 0..t.len() - 1);
        let t = "QRS 90 ms. Patient tolerated the session.";
        assert_eq!(super::clause(t, 0), 0..9);
        // A short sentence stays one clause.
        let t = "PA approved and the form is pending";
        assert_eq!(super::clause(t, 0), 0..t.len());
    }

    #[test]
    fn flattened_one_line_note_sections_keep_their_own_times() {
        // A reading's time annotation is not the monitoring window, and a
        // vitals time before "| DOSING:" is not a dose time.
        let f = facts(
            "VITALS: 08:58a 122/80 HR 70 (pre) ; 09:51a 131/84 HR 75 (40 min after last device) ; 11:04a 120/76 HR 68 | DOSING: 84 mg, device 1 09:01a, device 2 09:06a, device 3 09:11a | DISCHARGE 11:15a: criteria met, wife driving",
        );
        assert!(f.timing.stated_minutes.is_empty(), "{:?}", f.timing.stated_minutes);
        let mut doses: Vec<u32> = f.timing.dose_times.iter().map(|(c, _)| c.0).collect();
        doses.sort();
        assert_eq!(doses, vec![9 * 60 + 1, 9 * 60 + 6, 9 * 60 + 11]);
        // A stated window still counts.
        let f = facts("Observed for 2 hours after the last device; BP 128/80 at discharge.");
        assert_eq!(f.timing.stated_minutes[0].0, 120);
        let f = facts("0900/0905 dev x2 self-admin | d/c 1110 (125 min post last dev), criteria met");
        assert_eq!(f.timing.stated_minutes.first().map(|s| s.0), Some(125), "{:?}", f.timing.stated_minutes);
    }

    #[test]
    fn a_charge_description_states_no_window() {
        for t in [
            "Charges:  S0013 x 84 units;  99354 x 1 (prolonged service, 2-h observation)",
            "  prolonged_service: {code: 99417, units: 2, basis: 2-hour post-dose observation}",
        ] {
            assert!(facts(t).timing.stated_minutes.is_empty(), "{t}");
        }
        assert_eq!(facts("Pt observed x2h post dosing.").timing.stated_minutes[0].0, 120);
    }

    #[test]
    fn minutes_after_the_last_device_time_a_check_unless_a_window_word_says_otherwise() {
        let f = facts("At 10:55, 40 minutes after the second device, blood pressure was 140 over 86 and pulse 76.");
        assert!(f.timing.stated_minutes.is_empty(), "{:?}", f.timing.stated_minutes);
        let f = facts("| 14:05 | 134/86 | 76 | 97% | 40 min after last device; mild dissociation |");
        assert!(f.timing.stated_minutes.is_empty(), "{:?}", f.timing.stated_minutes);
        let f = facts("Discharged 125 min after the last device with her sister.");
        assert_eq!(f.timing.stated_minutes.first().map(|m| m.0), Some(125));
    }

    #[test]
    fn a_semicolon_separated_device_time_list() {
        let f = facts("DEVICE TIMES: 0905; 0910; 0915\nOBSERVATION END: 1120\n");
        let mut d: Vec<u32> = f.timing.dose_times.iter().map(|(c, _)| c.0).collect();
        d.sort();
        assert_eq!(d, vec![9 * 60 + 5, 9 * 60 + 10, 9 * 60 + 15]);
    }

    #[test]
    fn a_checked_log_line_times_the_dose() {
        let f = facts(
            "[x] 09:50  BP 124/80  HR 72 - ok to dose\n[x] 10:00  ketamine 50 mg SL troche, observed\n[x] 12:00 observation complete\n",
        );
        assert_eq!(f.timing.dose_times.first().map(|(c, _)| c.0), Some(10 * 60));
    }

    #[test]
    fn a_window_worked_out_from_its_times() {
        let f = facts("Device 1 10:00. Device 2 10:55.\n12:15 d/c criteria met.\nAddendum: correction - device 2 was given at 10:05, not 10:55 (typo).\nMonitoring from last device 10:05 to discharge 12:15 = 2 h 10 min.");
        assert_eq!(f.timing.stated_minutes.iter().map(|s| s.0).collect::<Vec<_>>(), vec![130]);
    }

    #[test]
    fn an_infusion_started_then_completed() {
        let f = facts("Ketamine IV infusion 35 mg over 40 minutes.\nInfusion started 10:05 AM, completed 10:45 AM. Dr. present.\nPHQ-9 completed 11:00 AM.");
        assert_eq!(f.timing.infusion_end.iter().map(|t| t.0 .0).collect::<Vec<_>>(), vec![10 * 60 + 45]);
    }

    #[test]
    fn a_window_stated_with_was() {
        let f = facts("1:42 PM device 3 self-administered.\n3:28 PM discharged.\nAttestation: the third device was at 1:24 PM, not 1:42 PM as typed. Observation from the last device to discharge was 2 h 4 min.");
        assert_eq!(f.timing.stated_minutes.iter().map(|s| s.0).collect::<Vec<_>>(), vec![124]);
    }

    #[test]
    fn t_prefixed_times() {
        let f = facts("T0902 BP 118/76 pre. dev1 T0910, dev2 T0915. d/c T1115.");
        let mut d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        d.sort();
        assert_eq!(d, vec![9 * 60 + 10, 9 * 60 + 15]);
    }

    #[test]
    fn the_patient_out_of_the_clinic_is_the_departure() {
        let f = facts("1105 hrs  VS: BP 124/78, HR 76, SpO2 98%.\n1112 hrs  Pt out of clinic.");
        assert_eq!(f.timing.discharge.iter().map(|t| t.0 .0).collect::<Vec<_>>(), vec![11 * 60 + 12]);
    }

    #[test]
    fn the_patient_left_at_a_bare_time() {
        let f = facts("1110 BP 122/78, HR 70.\nPt left 1125.\n");
        assert_eq!(f.timing.discharge.first().map(|(c, _)| c.0), Some(11 * 60 + 25));
        let f = facts("Left arm BP 1125 units? no.");
        assert!(f.timing.discharge.is_empty());
    }

    #[test]
    fn a_check_before_any_first_dose_is_no_administration() {
        let f = facts("Plan: if approved, start esketamine in March. BP to be checked before any first dose.");
        assert!(f.timing.first_admin_pos.is_none());
        let f = facts("BP checked before the first dose. First dose given 09:10.");
        assert!(f.timing.first_admin_pos.is_some());
    }

    #[test]
    fn started_the_pump() {
        let f = facts("Infusion nursing record.\nWe confirmed the pre-infusion BP and started the pump at 08:40.\nThe infusion ended at 09:22 with the full 100 mL in.");
        assert_eq!(f.timing.dose_times.first().map(|(c, _)| c.0), Some(8 * 60 + 40));
    }

    #[test]
    fn a_log_line_with_the_dose_form_only() {
        let f = facts("RN obs\n0950 BP 124/80 HR 72 - ok to dose\n1000 100 mg troche SL, held 15 min then swallowed\n1040 BP 132/84");
        assert_eq!(f.timing.dose_times.first().map(|(c, _)| c.0), Some(10 * 60));
    }

    #[test]
    fn an_event_worded_across_a_header_line() {
        let f = facts("IV ketamine infusion record\nInfusion\n  start @0925\n  BP=134/84 @0945\n  stop @1005 (50 mL in)\n");
        assert_eq!(f.timing.dose_times.first().map(|(c, _)| c.0), Some(9 * 60 + 25));
        assert_eq!(f.timing.infusion_end.first().map(|(c, _)| c.0), Some(10 * 60 + 5));
    }

    #[test]
    fn a_disposition_time_is_the_discharge() {
        let f = facts(
            "POST-PROCEDURE:\n  1145 hrs BP 120/78\nDISPOSITION: 1147 hrs - clinically stable, discharge criteria met; spouse driving.",
        );
        assert_eq!(f.timing.discharge.first().map(|(c, _)| c.0), Some(11 * 60 + 47));
    }

    #[test]
    fn a_time_under_a_bare_discharge_header() {
        let f = facts("Administration\n- devices at 10:02 and 10:07\nDischarge\n- 12:15 - alert, steady, cleared by Dr. Ames to go home with sister.\n");
        assert_eq!(f.timing.discharge.first().map(|(c, _)| c.0), Some(12 * 60 + 15));
        // A header followed by prose with no leading time gives no time.
        let f = facts("Discharge\nPatient went home with sister after reassessment at 12:15 by the RN.\n");
        assert!(f.timing.discharge.iter().all(|(c, _)| c.0 == 12 * 60 + 15));
    }

    #[test]
    fn an_earlier_sentence_time_is_not_the_dose_time() {
        let f = facts("Pt arrived 0820. Maintenance wk 11, weekly. 84 mg (3 devices).\nDevices self-administered under RN direct observation 0920 / 0925 / 0930.");
        let d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        assert_eq!(d, vec![560, 565, 570]);
        // A log line's own time still times an event later on its line.
        let f = facts("10:10 ketamine 150 mg troche SL.\n12:10 BP 120/76, HR 68; alert, gait steady. End of observation.");
        assert_eq!(f.timing.monitor_end.first().map(|t| t.0 .0), Some(730));
        // A time-zone or "hrs" suffix between the log time and the drug.
        assert_eq!(
            facts("1005 ET  Ketamine troche 200 mg sublingual, dissolved under direct RN observation.")
                .timing
                .dose_times
                .first()
                .map(|d| d.0 .0),
            Some(10 * 60 + 5)
        );
    }

    #[test]
    fn an_infusion_end_named_as_a_reference_point_is_no_stop_time() {
        let f = facts("IV ketamine infusion\n105p  infusion started.\n      infusion ran approx 40 min per pump; completed without issue.\n230p  observed 45 min after infusion completed; discharge criteria met.");
        assert!(f.timing.infusion_end.is_empty(), "{:?}", f.timing.infusion_end);
    }

    #[test]
    fn hours_and_minutes_in_words() {
        let f = facts("He was discharged at 11:20, two hours and five minutes after the last device, meeting discharge criteria.");
        assert_eq!(f.timing.stated_minutes.first().map(|m| m.0), Some(125));
    }

    #[test]
    fn a_stay_until_a_time_ends_the_observation() {
        let f =
            facts("At 10:02 a.m. you let one ketamine troche (150 mg) dissolve under your tongue.\nYou stayed with us until 12:05 p.m.");
        assert_eq!(f.timing.monitor_end.first().map(|t| t.0 .0), Some(12 * 60 + 5));
        assert_eq!(f.timing.dose_times.first().map(|t| t.0 .0), Some(10 * 60 + 2));
    }

    #[test]
    fn a_dose_amount_between_the_devices_and_their_times() {
        let f = facts("She self administered three devices, 84 milligrams, at 8:52, 8:57 and 9:02 under direct observation.");
        let mut d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        d.sort();
        d.dedup();
        assert_eq!(d, vec![8 * 60 + 52, 8 * 60 + 57, 9 * 60 + 2]);
    }

    #[test]
    fn a_rows_closing_time_times_its_event() {
        let f = facts("Device 1 (28 mg): self-administered, RN observing (0835)\nDevice 2 (28 mg): self-administered, RN observing; total 56 mg (0840)\nBP: 138/86 (0912)\nDischarge: criteria met, steady gait; wife driving; no driving until tomorrow (1045)");
        let mut d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        d.sort();
        assert_eq!(d, vec![8 * 60 + 35, 8 * 60 + 40]);
        assert_eq!(f.timing.discharge.first().map(|t| t.0 .0), Some(10 * 60 + 45));
    }

    #[test]
    fn device_and_discharge_times() {
        let f = facts("10:02 Device 1 administered.\n10:07 Device 2 administered.\nDischarged at 12:15 with spouse.");
        let d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        assert_eq!(d, vec![602, 607]);
        assert_eq!(f.timing.discharge[0].0 .0, 735);
        // A flowsheet "Out:" row is the departure.
        let f = facts("Dose: 2 devices (56 mg)  @ 10:05 / 10:10\n40 min:  BP 140/88\nOut:  12:15   BP 128/82\n");
        assert_eq!(f.timing.discharge.first().map(|d| d.0 .0), Some(735));
        // "out" inside a sentence is not.
        assert!(facts("Dose at 10:05. Pt was out of breath at 10:40.").timing.discharge.is_empty());
    }

    #[test]
    fn monitoring_range_and_stated() {
        let f = facts("Monitoring: 10:10 - 12:15. Patient observed for 2 hours.");
        assert_eq!(f.timing.monitor_start[0].0 .0, 610);
        assert_eq!(f.timing.monitor_end[0].0 .0, 735);
        assert_eq!(f.timing.stated_minutes[0].0, 120);
    }

    #[test]
    fn requirement_is_not_a_statement() {
        let f = facts("Per REMS, patients must be monitored for at least 2 hours.");
        assert!(f.timing.stated_minutes.is_empty());
    }

    #[test]
    fn another_drug_given_is_not_a_dose() {
        let f = facts("Spravato 56 mg: device 1 at 0905, device 2 at 0910.\n1010 zofran 4 mg ODT given for nausea.\nDischarged 1112.");
        let doses: Vec<u32> = f.timing.dose_times.iter().map(|(c, _)| c.0).collect();
        assert_eq!(doses, vec![9 * 60 + 5, 9 * 60 + 10]);
    }

    #[test]
    fn signature_time_is_ignored() {
        let f = facts("Electronically signed by Dr. A at 16:42.\nNext appointment 3/4 at 10:00.");
        assert!(f.timing.discharge.is_empty());
        assert!(f.timing.dose_times.is_empty());
    }

    #[test]
    fn log_shorthand_devices_and_compact_times() {
        let f = facts("d1 0928\nd2 0933\n1139 Stable for discharge");
        let d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        assert_eq!(d, vec![568, 573]);
        assert_eq!(f.timing.discharge[0].0 .0, 699);
        let f = facts("D1 11:11\r\nD2 11:16\r\nD3 11:21\r\n13:30 MEETS DISCHARGE CRITERIA");
        assert_eq!(f.timing.dose_times.len(), 3);
        assert_eq!(f.timing.discharge[0].0 .0, 810);
        // Vitamin D3 and a bare "D1" without a time are not devices.
        let f = facts("Vitamin D3 2000 IU daily at 09:00. Session D1 of induction.");
        assert!(f.timing.dose_times.is_empty());
    }

    #[test]
    fn oral_forms_given() {
        let f = facts("Ketamine 100 mg sublingual tablet given 11:06 am.");
        assert_eq!(f.timing.dose_times[0].0 .0, 666);
        let f = facts("Ketamine 125 mg oral solution given 1351.");
        assert_eq!(f.timing.dose_times[0].0 .0, 831);
    }

    #[test]
    fn discharge_vitals_time_is_not_discharge() {
        for t in [
            "Vitals D/C at 15:14: BP 125/84, pulse 91.",
            "D/C BP 12:10 127/85",
            "BP at discharge 12:10: 130/80",
            "pre-discharge 11:50 am BP-111/82 P82",
            "Discharge vitals 12:15 BP 120/80",
        ] {
            assert!(facts(t).timing.discharge.is_empty(), "{t}");
        }
        for t in ["Discharged 12:15 with spouse, BP 120/80.", "12:15 Pt assessed ready for discharge: VS stable", "D/C'd home at 12:15"] {
            assert_eq!(facts(t).timing.discharge.len(), 1, "{t}");
        }
    }

    #[test]
    fn observed_without_for() {
        assert_eq!(facts("Observed 56 min post-infusion.").timing.stated_minutes[0].0, 56);
        assert_eq!(facts("MONITORED 2 HRS AFTER LAST DEVICE").timing.stated_minutes[0].0, 120);
        assert_eq!(facts("Observation time: 130 min").timing.stated_minutes[0].0, 130);
        assert!(facts("Monitoring 40 min BP 138/86").timing.stated_minutes.is_empty());
    }

    #[test]
    fn infusion_ran_range() {
        let f = facts("Infusion ran 10:05-10:45, tolerated well.");
        assert_eq!(f.timing.dose_times[0].0 .0, 605);
        assert_eq!(f.timing.infusion_end[0].0 .0, 645);
        let f = facts("Ketamine infused from 1:15 pm to 1:55 pm.");
        assert_eq!(f.timing.infusion_end[0].0 .0, 835);
    }

    #[test]
    fn discharge_after_a_leader_gap_or_a_ride_home() {
        let f = facts(
            "Ketamine infusion. infusion stop 0920\nDischarge ........................................... 1020, discharge criteria met",
        );
        assert_eq!(f.timing.discharge.first().map(|t| t.0 .0), Some(620));
        let f = facts("Ketamine infusion. Infusion ended at 10:00. Her son Felix took her home at 11:00.");
        assert_eq!(f.timing.discharge.first().map(|t| t.0 .0), Some(660));
    }

    #[test]
    fn infusion_ending_at() {
        let f =
            facts("Ketamine infusion note. The infusion began at 9:20 and ran forty minutes, ending at 10:00 with the full 46 mg given.");
        assert_eq!(f.timing.infusion_end.first().map(|t| t.0 .0), Some(600));
    }

    #[test]
    fn a_time_at_the_end_of_a_narrated_sentence() {
        let f = facts("She had self-administered device 1 at 0852 and device 2 at 0857. Discharge criteria had been met; she had been discharged to her son, who drove, at 1100.");
        assert_eq!(f.timing.discharge.iter().map(|t| t.0 .0).max(), Some(11 * 60));
    }

    #[test]
    fn a_time_list_before_the_device_word() {
        let f = facts("OK to proceed; 0902 BP 128/80 HR 70; 0910, 0915, 0920 three devices = 84 mg, self-administered; 1120 BP 124/80; 1125 discharge criteria met, husband driving");
        let mut times: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        times.sort_unstable();
        times.dedup();
        assert_eq!(times, vec![9 * 60 + 10, 9 * 60 + 15, 9 * 60 + 20]);
        assert_eq!(f.timing.discharge.iter().map(|t| t.0 .0).max(), Some(11 * 60 + 25));
        let f = facts("Vitals 0902; 0910 device 1 self-administered");
        assert_eq!(f.timing.dose_times.iter().map(|t| t.0 .0).collect::<Vec<_>>(), vec![9 * 60 + 10]);
    }

    #[test]
    fn a_device_time_list_wrapped_to_the_next_line() {
        let f = facts("She self-administered two 28 mg devices (56 mg) at 10:08\nand 10:13 under direct observation. At 12:20 she met discharge criteria.");
        let times: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        assert_eq!(times, vec![10 * 60 + 8, 10 * 60 + 13]);
    }

    #[test]
    fn a_device_time_list_hard_wrapped_after_the_statement() {
        let f = facts("Treatment: BP 128/82 mmHg, pulse 74, SpO2 98% at 14.02 whilst seated. She self-administered three 28 mg devices\n(14.10, 14.15 and 14.20) under the direct observation of Nurse K. Dufresne, with me on site throughout.");
        let times: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        assert_eq!(times, vec![14 * 60 + 10, 14 * 60 + 15, 14 * 60 + 20]);
    }

    #[test]
    fn a_custody_log_times_only_the_devices_given() {
        let f = facts(
            "09:02  3 devices removed from locked stock\n09:10  Order verified with Dr S: today's dose 56 mg (2 devices)\n09:14  Device #1 - self-administered by patient\n09:19  Device #2 - self-administered by patient\n09:25  Device #3 - NOT administered; returned sealed to locked stock\n11:30  Devices leaving clinic with patient: none. Used devices destroyed per policy.",
        );
        let times: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        assert_eq!(times, vec![9 * 60 + 14, 9 * 60 + 19]);
        let f = facts("Spravato 56 mg.\nDevice 1: 08:50 AM   Device 2: 08:55 AM   Device 3: (not used)");
        assert_eq!(f.timing.dose_times.len(), 2);
        // Devices found empty on a return to the room: a check, not a dose.
        let f = facts("09:10 and 09:15 - devices self-administered per patient. Pt states both devices used; 2 empty devices found in the tray on RN's return at 09:20.");
        let mut d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        d.sort();
        assert_eq!(d, vec![9 * 60 + 10, 9 * 60 + 15]);
        // A device used at home on another day is no dose of this session.
        let f = facts("Devices at 10:20 AM and 10:25 AM, self-administered under direct observation.\nAddendum: she self-administered one device at home on Saturday 09/12 around 8 PM, alone.");
        let mut d: Vec<u32> = f.timing.dose_times.iter().map(|t| t.0 .0).collect();
        d.sort();
        d.dedup();
        assert_eq!(d, vec![10 * 60 + 20, 10 * 60 + 25]);
        let f = facts("11:25 Discharge criteria met.\n11:30  Devices leaving clinic with patient: none.");
        assert_eq!(f.timing.discharge.iter().map(|t| t.0 .0).collect::<Vec<_>>(), vec![11 * 60 + 25]);
    }

    #[test]
    fn a_meridiem_stop_ends_no_sentence() {
        let f = facts("He self-administered two devices at 2:10 p.m. and 2:15 p.m., 56 mg. At 4:20 p.m. blood pressure 122/78, sedation resolved, discharge criteria met, his wife drove him home.");
        assert_eq!(f.timing.discharge.first().map(|t| t.0 .0), Some(16 * 60 + 20));
    }

    #[test]
    fn pump_range_with_an_arrow_and_loose_times() {
        let f = facts("IV ketamine 34 mg in 100 mL NS over 40'.\nPump 1:05p → 1:45p (40').\nBP 130/82 (1:50p post).");
        assert_eq!(f.timing.dose_times.first().map(|t| t.0 .0), Some(13 * 60 + 5));
        assert_eq!(f.timing.infusion_end.first().map(|t| t.0 .0), Some(13 * 60 + 45));
        let f = facts("Spravato 56 mg. Insulin pump 10:00 -> 11:00.");
        assert!(f.timing.infusion_end.is_empty());
    }

    #[test]
    fn pump_log_rows_time_the_infusion() {
        // A time-stamped row naming the pump rather than the infusion.
        let f = facts("IV ketamine 35 mg in 100 mL.\n08:31 - pump on, line patent\n08:50 BP 131/80\n09:12 pump off");
        assert_eq!(f.timing.dose_times.first().map(|t| t.0 .0), Some(8 * 60 + 31));
        assert_eq!(f.timing.infusion_end.first().map(|t| t.0 .0), Some(9 * 60 + 12));
        let f = facts("Ketamine drip note. 14:05 the pump was started; 14:45 pump stopped.");
        assert_eq!(f.timing.dose_times.first().map(|t| t.0 .0), Some(14 * 60 + 5));
        // Outside an infusion note a pump is some other device.
        let f = facts("Spravato 56 mg. 10:00 insulin pump started by patient.");
        assert!(f.timing.dose_times.iter().all(|t| t.0 .0 != 600));
    }

    #[test]
    fn infusion_start_stop() {
        let f = facts("Ketamine infusion started at 1:15 PM. Infusion completed at 1:55 PM. Discharged 2:40 PM.");
        assert_eq!(f.timing.dose_times[0].0 .0, 13 * 60 + 15);
        assert_eq!(f.timing.infusion_end[0].0 .0, 13 * 60 + 55);
        assert_eq!(f.timing.discharge[0].0 .0, 14 * 60 + 40);
    }

    fn doses(t: &str) -> Vec<u32> {
        let mut v: Vec<u32> = facts(t).timing.dose_times.iter().map(|d| d.0 .0).collect();
        v.sort();
        v
    }

    #[test]
    fn device_time_lists() {
        assert_eq!(doses("Esketamine 84mg - 3 devices 1300 / 1305 / 1310"), vec![780, 785, 790]);
        assert_eq!(doses("Spravato 56 mg session. Devices at 13:00 and 13:05."), vec![780, 785]);
        assert_eq!(doses("SPRAVATO 56MG\ndosing 0930 + 0935 (2 dev)"), vec![570, 575]);
        assert_eq!(doses("Esketamine 56 mg (2 devices) at 1:10 pm and 1:15 pm."), vec![790, 795]);
        assert_eq!(doses("0931 ESKETAMINE 28MG/DEVICE NASAL GIVEN 1 DEVICE SELF-ADMIN OBSERVED"), vec![571]);
        // A list word with no time, or no treatment word, is not an event.
        assert!(doses("Devices: see MAR.").is_empty());
        assert!(doses("Given the history, we discussed options at 10:00.").is_empty());
    }

    #[test]
    fn log_style_infusion_and_oral_times() {
        let f = facts("IV KETAMINE. wt 80 kg.\nstart 0900 / stop 0940\ndc 1035 - criteria met");
        assert_eq!(f.timing.dose_times[0].0 .0, 540);
        assert_eq!(f.timing.infusion_end[0].0 .0, 580);
        assert_eq!(f.timing.discharge[0].0 .0, 635);
        let f = facts("Ketamine infusion note.\n10:10 start; 10:30 BP 130/84; 10:50 stop.");
        assert_eq!(f.timing.dose_times[0].0 .0, 610);
        assert_eq!(f.timing.infusion_end[0].0 .0, 650);
        // Bare start/stop outside an infusion note are not infusion times.
        let f = facts("Psychotherapy session. Start 07:30 End 08:15.");
        assert!(f.timing.dose_times.is_empty());
        let f = facts("19:00 pt took ketamine 200 mg RDT sublingually on camera.");
        assert_eq!(f.timing.dose_times[0].0 .0, 1140);
    }

    #[test]
    fn export_style_times() {
        // Slash lists of device times, date-stamped MAR lines, log entries.
        assert_eq!(doses("Spravato 56 mg.\ndevice x2 0912/0917 (56mg)"), vec![552, 557]);
        assert_eq!(doses("56 mg spravato (2 devices) 1:30/1:35 pm."), vec![810, 815]);
        assert_eq!(doses("07/01/2026 1215  esketamine 56 mg intranasal (2 x 28 mg)  GIVEN  RN"), vec![735]);
        assert_eq!(doses("Pre 13:50 BP 126/80.\n14:00 ketamine 100 mg SL troche.\nPsychotherapy 14:00-15:00."), vec![840]);
        assert_eq!(doses("0900 BP 128/86 pre\n0910 dev 1, 0915 dev 2 (56mg)"), vec![550, 555]);
        assert_eq!(doses("Ketamine 200 mg SL troche at 1000, swished 15 min, spit."), vec![600]);
        assert_eq!(doses("Ketamine oral solution 1 mg/kg = 75 mg PO at 1330."), vec![810]);
        assert!(doses("Next session: ketamine 200 mg SL at 1000 on 5/2.").is_empty());
        assert!(doses("Next Spravato session: esketamine 56 mg at 10:00 on 6/3.").is_empty());
        assert!(doses("Plan: ketamine 100 mg SL at 1400 next week.").is_empty());
        // A ratio or a date is not a list of times.
        assert!(facts("Ratio 1300/1400 noted.").timing.dose_times.is_empty());
        let f = facts("Start of monitoring: 0907     End of monitoring: 1108");
        assert_eq!(f.timing.monitor_start[0].0 .0, 547);
        assert_eq!(f.timing.monitor_end[0].0 .0, 668);
        let f = facts("Ketamine 30 mg IV over 40 minutes, 11:00 to 11:40.");
        assert_eq!(f.timing.infusion_end[0].0 .0, 700);
        // The monitoring window after "post-infusion" is not the infusion's.
        let f = facts("Infusion pump start 10:05, pump stop 10:45. Post-infusion monitoring 10:45-11:30.");
        assert_eq!(f.timing.monitor_end[0].0 .0, 690);
        assert!(f.timing.infusion_end.iter().all(|e| e.0 .0 == 645));
        // "BP ... prior to discharge" is not the discharge time; "pt left @ 1105" is.
        assert!(facts("11:30. BP 120/74 prior to discharge.").timing.discharge.is_empty());
        assert_eq!(facts("pt left @ 1105").timing.discharge[0].0 .0, 665);
        assert_eq!(facts("IV ketamine 45 mg. 1500 start, 1540 end. D/C home 1610.").timing.discharge[0].0 .0, 970);
        // A follow-up date later in the clause does not hide the discharge time.
        assert_eq!(facts("Discharge 15:45 - discharge criteria met, mother driving, f/u 2/3.").timing.discharge[0].0 .0, 945);
        assert!(facts("Next appointment 3/4 at 10:00, discharge planning reviewed.").timing.discharge.is_empty());
    }

    #[test]
    fn monitoring_until_and_after_last_device() {
        let f = facts("Monitored until 10:45 (125 min after last device).");
        assert_eq!(f.timing.monitor_end[0].0 .0, 645);
        assert_eq!(f.timing.stated_minutes[0].0, 125);
        // A header followed by a time-point row is not a stated window.
        let f = facts("Monitoring\n40 min post: BP 138/86");
        assert!(f.timing.stated_minutes.is_empty());
    }
}
