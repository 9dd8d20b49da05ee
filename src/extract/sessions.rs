//! Session dates a note lists for the course ("Sessions so far: Mon 5/4,
//! Thu 5/7, Mon 5/11, Wed 5/13; today Fri 5/15", "prior sessions 3/4, 3/7,
//! 3/11, 3/14"). The dosing-schedule rule reads them against the date of
//! service when the earlier sessions are not in the export as encounters of
//! their own.

use std::sync::OnceLock;

use regex::Regex;

use super::context::Assertion;
use super::{EvKind, Evidence, NoteCtx, NoteFacts};

/// A listed session date: month, day and the year when written.
pub type ListedDate = (u32, u32, Option<i32>);

struct Pats {
    label: super::re::Lc,
    date: Regex,
}

fn pats() -> &'static Pats {
    static P: OnceLock<Pats> = OnceLock::new();
    P.get_or_init(|| Pats {
        label: super::re::Lc::new(
            r"\b(?:(?:prior|previous|earlier|past)\s+(?:spravato\s+|esketamine\s+|treatment\s+)?sessions?|(?:spravato\s+|esketamine\s+)?sessions?\s+(?:so\s+far|to\s+date|this\s+(?:week|course)|dates?|on|given\s+on|were\s+on|were)|(?:spravato|esketamine)\s+(?:sessions?|doses?|treatments?)\s+(?:on|given\s+on)|session\s+(?:history|log)|(?:course|induction|maintenance)\s+sessions?|(?:course|treatment|dosing|spravato|esketamine)\s+(?:session\s+)?dates)\b",
        ),
        date: super::re::ci(r"\b(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?:/(?P<y>\d{4}|\d{2}))?\b"),
    })
}

/// The dates listed after a session label, up to the end of the sentence or
/// line (at most 200 bytes). Two or more dates make a list; a single date
/// ("sessions on 5/4") is kept too, since with the date of service it can
/// still show three sessions in 7 days only together with other dates, which
/// the rule checks.
pub fn listed(ctx: &NoteCtx<'_>, facts: &mut NoteFacts) {
    let text = ctx.text;
    let p = pats();
    for m in p.label.find_iter(text, &ctx.lower) {
        let a = ctx.context.assess(m.clone());
        if a.negated || a.hypothetical || a.family {
            continue;
        }
        let rest = super::text::sub(text, m.end..(m.end + 200).min(text.len()));
        // The list ends at the line or sentence end ("5/4." or "Mood ...").
        let stop = rest.find(['\n', '.']);
        let stretch = &rest[..stop.unwrap_or(rest.len())];
        let mut dates = Vec::new();
        let mut end = m.end;
        for c in p.date.captures_iter(stretch) {
            let (Ok(mo), Ok(d)) = (c["m"].parse::<u32>(), c["d"].parse::<u32>()) else { continue };
            let y = c.name("y").and_then(|y| y.as_str().parse::<i32>().ok()).map(|y| if y < 100 { 2000 + y } else { y });
            dates.push((mo, d, y));
            end = m.end + c.get(0).map_or(0, |g| g.end());
        }
        if dates.is_empty() {
            continue;
        }
        let ev = facts.push(Evidence {
            kind: EvKind::SessionDates,
            entry_id: "session-dates".into(),
            span: m.start..end,
            assertion: Assertion::default(),
            value: format!("{} session date(s) listed", dates.len()),
            counts: true,
        });
        // The longest list wins ("prior sessions 3/4, 3/7" in a header and
        // "sessions to date: 3/4, 3/7, 3/11" below).
        if facts.listed_sessions.as_ref().is_none_or(|(_, d)| d.len() < dates.len()) {
            facts.listed_sessions = Some((ev, dates));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::extract::Extractor;

    fn listed(t: &str) -> Vec<super::ListedDate> {
        Extractor::builtin().extract_text(t, None).listed_sessions.map(|(_, d)| d).unwrap_or_default()
    }

    #[test]
    fn session_date_lists() {
        assert_eq!(
            listed("Spravato induction session 5. Sessions so far: Mon 5/4, Thu 5/7, Mon 5/11, Wed 5/13; today Fri 5/15. Mood better."),
            vec![(5, 4, None), (5, 7, None), (5, 11, None), (5, 13, None), (5, 15, None)]
        );
        assert_eq!(listed("Session 6 (prior sessions 3/4/25, 3/7/25)"), vec![(3, 4, Some(2025)), (3, 7, Some(2025))]);
        assert_eq!(listed("Course dates: 04/30, 05/04; today 05/06 (0812)"), vec![(4, 30, None), (5, 4, None), (5, 6, None)]);
        // Not a list of this course's sessions.
        assert_eq!(listed("  Course Sessions: 02/23, 02/26, 03/02, 03/05, 03/09, 03/11; today 03/13 (catch-up session)").len(), 7);
        assert!(listed("Sertraline 3/2024-6/2024, no response. Next session 5/20.").is_empty());
        assert!(listed("No prior sessions. Plan first dose 6/2.").is_empty());
    }
}
