//! Normalization of codes, dates and list fields shared by the JSON Lines and
//! CSV readers. Everything here is pure and allocation-light; the functions
//! return `None` instead of guessing when a value does not have the expected
//! shape, and the callers turn that into a reject.

use chrono::NaiveDate;

/// Normalize an ICD-10-CM diagnosis code to its dotted, upper-case form.
///
/// Accepts codes with or without the dot and in any case, surrounded by
/// whitespace: `"F332"` → `"F33.2"`, `"f33.2"` → `"F33.2"`,
/// `"R45851"` → `"R45.851"`, `"F39"` → `"F39"`, `"F32.A"` → `"F32.A"`.
///
/// Shape required: a letter, a digit, an alphanumeric, then at most four
/// alphanumerics (3 to 7 characters). A dot, if present, must come right
/// after the third character and be followed by at least one character.
/// Anything else (`"33.2"`, `"F3"`, `"F3.32"`, `"F33.2.1"`, `"F33 2"`) is
/// `None`.
pub fn normalize_icd10(s: &str) -> Option<String> {
    let t = s.trim();
    let (head, tail) = match t.find('.') {
        Some(3) => {
            let tail = &t[4..];
            if tail.is_empty() {
                return None;
            }
            (&t[..3], tail)
        }
        Some(_) => return None,
        None if t.len() >= 3 && t.is_char_boundary(3) => (&t[..3], &t[3..]),
        None => return None,
    };
    let hb = head.as_bytes();
    if hb.len() != 3
        || !hb[0].is_ascii_alphabetic()
        || !hb[1].is_ascii_digit()
        || !hb[2].is_ascii_alphanumeric()
        || tail.len() > 4
        || !tail.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    let mut out = String::with_capacity(8);
    out.push_str(&head.to_ascii_uppercase());
    if !tail.is_empty() {
        out.push('.');
        out.push_str(&tail.to_ascii_uppercase());
    }
    Some(out)
}

/// Normalize a CPT or HCPCS Level II code: trimmed, upper-cased, exactly five
/// ASCII alphanumerics (`" s0013 "` → `"S0013"`, `"0591t"` → `"0591T"`).
/// A code with a modifier glued on (`"99214-25"`) or any other shape is `None`.
pub fn normalize_code(s: &str) -> Option<String> {
    let t = s.trim();
    if t.len() == 5 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(t.to_ascii_uppercase())
    } else {
        None
    }
}

/// Normalize one CPT/HCPCS modifier: trimmed, upper-cased, exactly two ASCII
/// alphanumerics (`"gt"` → `"GT"`, `"25"` → `"25"`); otherwise `None`.
pub fn normalize_modifier(s: &str) -> Option<String> {
    let t = s.trim();
    if t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some(t.to_ascii_uppercase())
    } else {
        None
    }
}

/// Split a list field (`"25;GT"`, `"25, GT"`, `"25 GT"`) on `;`, `,` and
/// whitespace, dropping empty pieces.
pub fn split_list(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c == ';' || c == ',' || c.is_whitespace()).filter(|p| !p.is_empty())
}

/// Normalize a CMS place-of-service code: trimmed, one or two ASCII digits,
/// value 1..=99, returned zero-padded to two digits (`"2"` → `"02"`, which
/// undoes spreadsheets dropping the leading zero). Anything else is `None`.
pub fn normalize_pos(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u8 = t.parse().ok()?;
    if n == 0 {
        return None;
    }
    Some(format!("{n:02}"))
}

/// How a date of service was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateForm {
    /// Plain `YYYY-MM-DD`.
    Date,
    /// An ISO 8601 date-time (`YYYY-MM-DDTHH:MM[:SS[.f]][Z|±HH:MM]`, `T` or a
    /// space as separator) whose date part, as written, was taken.
    DateTime,
}

/// Parse a date of service.
///
/// Accepted: `YYYY-MM-DD` that is a real calendar date, optionally surrounded
/// by whitespace; and an ISO date-time whose time part is well formed, in
/// which case the date *as written* is taken (no time-zone conversion: the
/// local date of the visit is what the export wrote). Everything else
/// (`01/05/2026`, `2026-1-5`, `2026-02-30`, `20260105`) is `None`.
pub fn parse_date(s: &str) -> Option<(NaiveDate, DateForm)> {
    let t = s.trim();
    let b = t.as_bytes();
    if b.len() < 10 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10)) {
        return None;
    }
    let y: i32 = t[0..4].parse().ok()?;
    let m: u32 = t[5..7].parse().ok()?;
    let d: u32 = t[8..10].parse().ok()?;
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    if b.len() == 10 {
        return Some((date, DateForm::Date));
    }
    if (b[10] == b'T' || b[10] == b't' || b[10] == b' ') && valid_time(&b[11..]) {
        return Some((date, DateForm::DateTime));
    }
    None
}

/// `HH:MM[:SS[.fraction]][Z|±HH:MM|±HHMM]` with valid ranges.
fn valid_time(b: &[u8]) -> bool {
    fn two(b: &[u8], i: usize, max: u32) -> bool {
        b.len() >= i + 2
            && b[i].is_ascii_digit()
            && b[i + 1].is_ascii_digit()
            && u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0') <= max
    }
    if !(two(b, 0, 23) && b.get(2) == Some(&b':') && two(b, 3, 59)) {
        return false;
    }
    let mut i = 5;
    if b.get(i) == Some(&b':') {
        if !two(b, i + 1, 60) {
            return false;
        }
        i += 3;
        if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
    }
    match &b[i..] {
        [] | [b'Z'] | [b'z'] => true,
        [s, rest @ ..] if *s == b'+' || *s == b'-' => match rest {
            [_, _] => two(rest, 0, 23),
            [_, _, b':', _, _] | [_, _, _, _] => {
                let m = if rest.len() == 5 { 3 } else { 2 };
                two(rest, 0, 23) && two(rest, m, 59)
            }
            _ => false,
        },
        _ => false,
    }
}
