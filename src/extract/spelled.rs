//! Clock times and vital signs written in words, rewritten in place as
//! digits so the time and vital-sign extractors read them like any other.
//!
//! Some clinicians (and some dictation templates) write the whole session in
//! prose: "At a quarter past nine she self-administered the first device",
//! "at five to ten her blood pressure was one-thirty-eight over eighty-four",
//! "pulse seventy-two, oxygen ninety-eight percent", "at five o'clock". The
//! rewrite is byte for byte (the digits, padded with spaces, replace the
//! words), so every offset into the result is an offset into the note.
//!
//! What is rewritten, and what guards each form:
//! - "X over Y" with both numbers in blood-pressure ranges (systolic 60-260
//!   above diastolic 30-160), in words ("one-twenty-six", "one hundred
//!   twenty", "one-oh-five") or digits ("126 over 78").
//! - "(a) quarter past/after/to/of H", "half past H", "M (minutes)
//!   past/after H", and, after a time word ("at", "by", "until", "around"),
//!   "M (minutes) to/of/before/till H" ("at twenty to four"). A bare "five to
//!   nine" is a range ("five to nine weeks") unless a time word precedes it.
//! - "H o'clock"; "at nine fifteen", "by ten oh five" after a time word;
//!   "at noon".
//! - A spelled number right after a vital-sign label ("pulse seventy-two",
//!   "oxygen saturation ninety-eight percent").
//!
//! No time form is rewritten when a count noun follows the hour ("twenty
//! past two devices", "at five to nine weeks"): that is a quantity.

use std::sync::OnceLock;

use regex::Regex;

const UNITS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const TEENS: [&str; 10] = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
const TENS: [&str; 8] = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

fn pattern() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        let unit = "(?:one|two|three|four|five|six|seven|eight|nine)";
        let teen = "(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)";
        let tens = "(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)";
        let n99 = format!("(?:{tens}(?:[-\\ ]{unit})?|{teen}|{unit})");
        // A number phrase: "one-twenty-six", "one hundred and five", "ninety".
        let num = format!(
            "(?:(?:one|two)[-\\ ](?:hundred(?:[-\\ ]and)?(?:[-\\ ](?:{n99}))?|oh[-\\ ]{unit}|{tens}(?:[-\\ ]{unit})?|{teen})|{n99}|\\d{{2,3}})"
        );
        let hour = "(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|1[0-2]|0?[1-9])";
        let cue = "(?:at|by|until|till|til|around|about|approximately|approx\\.?|before|after|from|then|and|to)";
        let rel = "(?:past|after|to|of|till|til|before)";
        let minute_words = format!("(?:oh[-\\ ]{unit}|{teen}|{tens}(?:[-\\ ]{unit})?)");
        let vital = "(?:pulse(?:\\ rate)?|heart\\ rate|hr|respirations|respiratory\\ rate|resp\\ rate|rr|o2\\ sat(?:uration)?s?|sp\\ ?o2|sats?|saturation|oxygen(?:\\ saturation|\\ sat)?|pulse\\ ox(?:imetry)?)";
        super::re::ci(&format!(
            r"(?x)
            \b(?P<sys>{num})\s+over\s+(?P<dia>{num})\b
            | \b(?P<qh>(?:a\s+)?quarter|half)[\ -](?P<qrel>{rel})\s+(?P<qhr>{hour})\b
            | (?:\b(?P<mcue>{cue})\s+)?\b(?P<min>{n99})(?:\s+minutes?)?\s+(?P<mrel>{rel})\s+(?P<mhr>{hour})\b
            | \b(?P<ohr>{hour})\s*o(?:'|\u{{2019}}|\ )?clock\b
            | \b{cue}\s+(?P<whr>{hour})[-\ ](?P<wmin>{minute_words})\b
            | \b{cue}\s+(?P<noon>noon|midday)\b
            | \b(?P<vl>{vital})(?:\s+(?:was|is|of|at|=|:))?[\ :]+(?P<vn>{n99})(?P<pct>\s+percent)?\b
            "
        ))
    })
}

/// Whether `b` has anything this module rewrites (one search; most notes
/// have none).
pub fn has_spelled(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|t| pattern().is_match(t))
}

/// Value of a spelled number: 0-99, "one hundred (and) five", and the
/// blood-pressure shorthand "one-twenty-six" (126), "one-oh-five" (105),
/// "one-fifty" (150). Digits are read as digits.
pub fn spelled_value(s: &str) -> Option<u32> {
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    let words: Vec<String> = s.split([' ', '-']).filter(|w| !w.is_empty()).map(|w| w.to_ascii_lowercase()).collect();
    let n99 = |ws: &[String]| -> Option<u32> {
        let pos = |list: &[&str], w: &str| list.iter().position(|x| *x == w).map(|i| i as u32);
        match ws {
            [w] => pos(&UNITS, w).or_else(|| pos(&TEENS, w).map(|v| v + 10)).or_else(|| pos(&TENS, w).map(|v| 20 + 10 * v)),
            [t, u] => Some(20 + 10 * pos(&TENS, t)? + pos(&UNITS, u).filter(|v| *v > 0)?),
            _ => None,
        }
    };
    if words.len() >= 2 && (words[0] == "one" || words[0] == "two") {
        let h = if words[0] == "one" { 100 } else { 200 };
        let mut rest = &words[1..];
        if rest[0] == "hundred" {
            rest = &rest[1..];
            if rest.first().is_some_and(|w| w == "and") {
                rest = &rest[1..];
            }
            return if rest.is_empty() { Some(h) } else { n99(rest).map(|v| h + v) };
        } else if rest[0] == "oh" {
            return match &rest[1..] {
                [u] => UNITS.iter().position(|x| x == u).filter(|v| *v > 0).map(|v| h + v as u32),
                _ => None,
            };
        }
        let v = n99(rest)?;
        // "one-five" is not 105: the shorthand takes a tens or teen word.
        return (v >= 10).then_some(h + v);
    }
    n99(&words)
}

/// Count nouns that make the number before them a quantity, not a time.
fn quantity_follows(t: &str, end: usize) -> bool {
    let rest = t[end..].trim_start_matches([' ', '-']);
    let word: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect::<String>().to_ascii_lowercase();
    let word = word.strip_suffix('s').unwrap_or(&word);
    matches!(
        word,
        "device"
            | "dose"
            | "session"
            | "week"
            | "wk"
            | "day"
            | "hour"
            | "hr"
            | "minute"
            | "min"
            | "month"
            | "year"
            | "time"
            | "mg"
            | "milligram"
            | "patient"
            | "spray"
            | "visit"
            | "trial"
            | "treatment"
            | "point"
            | "pt"
            | "percent"
            | "of"
            | "more"
            | "other"
            | "tablet"
            | "drop"
            | "ml"
            | "unit"
    )
}

/// The rewrite one match asks for: the byte range to replace and its digits.
fn rewrite_of(t: &str, c: &regex::Captures<'_>) -> Option<(usize, usize, String)> {
    let end = c.get(0)?.end();
    let hour_of = |s: &str| -> Option<u32> { spelled_value(s).filter(|h| (1..=12).contains(h)) };
    let clock = |h: u32, m: u32| format!("{h}:{m:02}");
    if let (Some(s), Some(d)) = (c.name("sys"), c.name("dia")) {
        let (sv, dv) = (spelled_value(s.as_str())?, spelled_value(d.as_str())?);
        if !(60..=260).contains(&sv) || !(30..=160).contains(&dv) || dv >= sv {
            return None;
        }
        return Some((s.start(), d.end(), format!("{sv}/{dv}")));
    }
    if let Some(q) = c.name("qh") {
        let h = hour_of(&c["qhr"])?;
        let rel = c["qrel"].to_ascii_lowercase();
        let half = q.as_str().eq_ignore_ascii_case("half");
        let back = matches!(rel.as_str(), "to" | "of" | "till" | "til" | "before");
        if quantity_follows(t, end) || (half && back) {
            return None;
        }
        let text = match (half, back) {
            (true, _) => clock(h, 30),
            (false, false) => clock(h, 15),
            (false, true) => clock(if h == 1 { 12 } else { h - 1 }, 45),
        };
        return Some((q.start(), end, text));
    }
    if let Some(mw) = c.name("min") {
        let m = spelled_value(mw.as_str()).filter(|m| (1..=59).contains(m))?;
        let h = hour_of(&c["mhr"])?;
        let rel = c["mrel"].to_ascii_lowercase();
        let back = matches!(rel.as_str(), "to" | "of" | "till" | "til" | "before");
        // "to/of/before" (and "after") need a time word before: "from five
        // to nine" alone is a range; "past" is a time by itself.
        let has_cue = c.name("mcue").is_some_and(|w| !matches!(w.as_str().to_ascii_lowercase().as_str(), "from" | "to"));
        if quantity_follows(t, end) || (rel != "past" && !has_cue) || (back && m >= 30) {
            return None;
        }
        let text = if back { clock(if h == 1 { 12 } else { h - 1 }, 60 - m) } else { clock(h, m) };
        return Some((mw.start(), end, text));
    }
    if let Some(h) = c.name("ohr") {
        let hv = hour_of(h.as_str())?;
        return Some((h.start(), end, clock(hv, 0)));
    }
    if let (Some(h), Some(mw)) = (c.name("whr"), c.name("wmin")) {
        let hv = hour_of(h.as_str())?;
        let w = mw.as_str();
        // "ten oh five": the "oh" is a spoken zero.
        let mv = if w.to_ascii_lowercase().starts_with("oh") { spelled_value(w.get(3..)?)? } else { spelled_value(w)? };
        if mv >= 60 || quantity_follows(t, end) {
            return None;
        }
        return Some((h.start(), end, clock(hv, mv)));
    }
    if let Some(n) = c.name("noon") {
        return Some((n.start(), n.end(), "12pm".into()));
    }
    if let Some(v) = c.name("vn") {
        if v.as_str().bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let val = spelled_value(v.as_str()).filter(|x| *x >= 8)?;
        return Some(match c.name("pct") {
            Some(p) => (v.start(), p.end(), format!("{val}%")),
            None => (v.start(), v.end(), val.to_string()),
        });
    }
    None
}

/// Rewrite every spelled time and vital sign in `out`, byte for byte.
pub fn rewrite(out: &mut [u8]) {
    let Ok(t) = std::str::from_utf8(out) else { return };
    let edits: Vec<(usize, usize, String)> =
        pattern().captures_iter(t).filter_map(|c| rewrite_of(t, &c)).filter(|(s, e, r)| r.len() <= e - s).collect();
    for (s, e, r) in edits {
        for (j, b) in out[s..e].iter_mut().enumerate() {
            *b = r.as_bytes().get(j).copied().unwrap_or(b' ');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(t: &str) -> String {
        let mut b = t.as_bytes().to_vec();
        rewrite(&mut b);
        assert_eq!(b.len(), t.len());
        // Padding spaces collapsed, so the expectation reads as prose.
        String::from_utf8(b).unwrap().split_whitespace().collect::<Vec<_>>().join(" ").replace(" ,", ",").replace(" .", ".")
    }

    #[test]
    fn values() {
        assert_eq!(spelled_value("one-twenty-six"), Some(126));
        assert_eq!(spelled_value("one hundred and five"), Some(105));
        assert_eq!(spelled_value("one hundred"), Some(100));
        assert_eq!(spelled_value("one-oh-five"), Some(105));
        assert_eq!(spelled_value("one-fifty"), Some(150));
        assert_eq!(spelled_value("Seventy-Eight"), Some(78));
        assert_eq!(spelled_value("ninety eight"), Some(98));
        assert_eq!(spelled_value("one-five"), None);
        assert_eq!(spelled_value("twenty-zero"), None);
    }

    #[test]
    fn blood_pressure_in_words() {
        assert_eq!(
            rw("At five to nine her blood pressure was one-twenty-six over seventy-eight, pulse seventy-two, oxygen saturation ninety-eight percent."),
            "At 8:55 her blood pressure was 126/78, pulse 72, oxygen saturation 98%."
        );
        assert_eq!(rw("BP ONE HUNDRED TWENTY OVER EIGHTY"), "BP 120/80");
        assert_eq!(rw("hold if above one-sixty over one hundred"), "hold if above 160/100");
        assert_eq!(rw("BP 132 over 84"), "BP 132/84");
        // Not a blood pressure.
        assert_eq!(rw("two over three days"), "two over three days");
        assert_eq!(rw("score went from twenty over to ten"), "score went from twenty over to ten");
    }

    #[test]
    fn clock_times_in_words() {
        assert_eq!(rw("At a quarter past nine she self-administered"), "At 9:15 she self-administered");
        assert_eq!(rw("arrived at a quarter to nine."), "arrived at 8:45.");
        assert_eq!(rw("the second at twenty past nine - 56 mg"), "the second at 9:20 - 56 mg");
        assert_eq!(rw("at twenty past two, twenty-five past two and half past two"), "at 2:20, 2:25 and 2:30");
        assert_eq!(rw("At two minutes to three her BP"), "At 2:58 her BP");
        assert_eq!(rw("At twenty-five to five, BP"), "At 4:35, BP");
        assert_eq!(rw("I submitted the form at five o'clock."), "I submitted the form at 5:00.");
        assert_eq!(rw("seen at nine fifteen and at ten oh five"), "seen at 9:15 and at 10:05");
        assert_eq!(rw("left at noon"), "left at 12pm");
    }

    #[test]
    fn quantities_are_not_times() {
        for t in [
            "for five to nine weeks",
            "from twenty to eleven on the PHQ-9",
            "twenty past two devices",
            "at five to nine weeks of treatment",
            "half to two thirds of patients",
            "two to three times a week",
            "one of two",
            "at one twenty mg",
        ] {
            assert_eq!(rw(t), t, "{t}");
        }
    }
}
