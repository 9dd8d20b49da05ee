//! CSV records: header mapping and field splitting.
//!
//! Records are cut from the stream by [`super::source::CsvSplitter`] (which
//! bounds their size); this module splits one decoded record into fields with
//! the same quoting rules and maps the header's column names to the
//! contract's fields.

use std::borrow::Cow;

use super::{reason, Bad};

/// Split one CSV record (terminator already removed) into fields.
///
/// RFC 4180 quoting, the same rules the splitter uses: a field that starts
/// with `"` is quoted and `""` inside it is a literal quote; text after the
/// closing quote is kept literally (lenient, like common CSV readers); a `"`
/// inside an unquoted field is literal. Unquoted fields are borrowed.
pub(crate) fn split_fields(rec: &str) -> Vec<Cow<'_, str>> {
    let b = rec.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        if i < b.len() && b[i] == b'"' {
            // Quoted field.
            let mut s = String::new();
            let mut j = i + 1;
            let mut seg = j;
            loop {
                match memchr::memchr(b'"', &b[j..]) {
                    None => {
                        // Unclosed quote: the rest of the record.
                        s.push_str(&rec[seg..]);
                        j = b.len();
                        break;
                    }
                    Some(k) => {
                        let q = j + k;
                        s.push_str(&rec[seg..q]);
                        if b.get(q + 1) == Some(&b'"') {
                            s.push('"');
                            j = q + 2;
                            seg = j;
                        } else {
                            j = q + 1;
                            break;
                        }
                    }
                }
            }
            // Literal text after the closing quote, up to the next comma.
            let end = memchr::memchr(b',', &b[j..]).map_or(b.len(), |k| j + k);
            s.push_str(&rec[j..end]);
            out.push(Cow::Owned(s));
            if end >= b.len() {
                break;
            }
            i = end + 1;
        } else {
            let end = memchr::memchr(b',', &b[i..]).map_or(b.len(), |k| i + k);
            out.push(Cow::Borrowed(&rec[i..end]));
            if end >= b.len() {
                break;
            }
            i = end + 1;
        }
    }
    out
}

/// Column positions of the contract's fields in a CSV header.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    /// Number of columns every data row must have.
    pub width: usize,
    /// `cols[i]` = column index of `names[i]`, if present.
    pub cols: Vec<Option<usize>>,
    /// Problem with the header that makes every row unusable.
    pub problem: Option<Bad>,
}

impl Header {
    /// Map a header record. Names are matched trimmed and case-insensitively,
    /// a stray BOM (U+FEFF) on the first name is ignored; unknown columns are
    /// ignored. A known name present twice, or a required one absent, is a
    /// `problem` that every data row is rejected with.
    pub fn new(fields: &[Cow<'_, str>], names: &[&'static str], required: &[&'static str]) -> Self {
        let mut cols = vec![None; names.len()];
        let mut problem = None;
        for (ci, raw) in fields.iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim().to_ascii_lowercase();
            if let Some(ni) = names.iter().position(|n| *n == name) {
                if cols[ni].is_some() && problem.is_none() {
                    problem = Some(Bad::new(reason::DUPLICATE_KEY, format!("column `{}` appears twice in the CSV header", names[ni])));
                }
                cols[ni].get_or_insert(ci);
            }
        }
        if problem.is_none() {
            if let Some(missing) = required.iter().find(|r| cols[names.iter().position(|n| n == *r).unwrap_or(0)].is_none()) {
                problem = Some(Bad::new(reason::MISSING_FIELD, format!("`{missing}`: column not in the CSV header")));
            }
        }
        Header { width: fields.len(), cols, problem }
    }
}
