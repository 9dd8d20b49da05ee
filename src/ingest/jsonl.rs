//! JSON Lines records: parsing one line into a duplicate-aware value tree,
//! then handing its fields to the shared validation.
//!
//! `serde_json::Value` keeps the last of two equal keys without telling
//! anyone, which would let `{"note_id":"a", ..., "note_id":"b"}` pass. So each
//! line is parsed into [`JVal`], whose objects keep every entry in order and
//! remember their first repeated key.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Bad, ClaimFields, NoteFields, FV};

/// A JSON value that keeps object entries as written (including repeats).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JVal {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<JVal>),
    Obj(JObj),
}

/// A JSON object: entries in order, and the first key that appeared twice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JObj {
    pub entries: Vec<(String, JVal)>,
    pub dup: Option<String>,
}

impl JVal {
    /// JSON type name for `wrong_type` details.
    pub fn type_name(&self) -> &'static str {
        match self {
            JVal::Null => "null",
            JVal::Bool(_) => "boolean",
            JVal::Num(_) => "number",
            JVal::Str(_) => "string",
            JVal::Arr(_) => "array",
            JVal::Obj(_) => "object",
        }
    }

    /// Into the shared field view.
    pub fn into_fv(self) -> FV<'static> {
        match self {
            JVal::Null => FV::Null,
            JVal::Str(s) => FV::Str(s.into()),
            JVal::Num(n) => FV::Num(n),
            JVal::Arr(a) => FV::Arr(a),
            other => FV::Other(other.type_name()),
        }
    }

    /// First repeated key anywhere in this value (depth-first), if any.
    pub fn find_dup(&self) -> Option<&str> {
        match self {
            JVal::Obj(o) => o.dup.as_deref().or_else(|| o.entries.iter().find_map(|(_, v)| v.find_dup())),
            JVal::Arr(a) => a.iter().find_map(JVal::find_dup),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for JVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JValVisitor)
    }
}

struct JValVisitor;

impl<'de> Visitor<'de> for JValVisitor {
    type Value = JVal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<JVal, E> {
        Ok(JVal::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<JVal, E> {
        Ok(JVal::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<JVal, E> {
        Ok(JVal::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<JVal, E> {
        Ok(JVal::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<JVal, E> {
        Ok(JVal::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<JVal, E> {
        Ok(JVal::Str(v))
    }
    fn visit_unit<E>(self) -> Result<JVal, E> {
        Ok(JVal::Null)
    }
    fn visit_none<E>(self) -> Result<JVal, E> {
        Ok(JVal::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JVal, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(JVal::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JVal, A::Error> {
        let mut entries: Vec<(String, JVal)> = Vec::new();
        let mut dup = None;
        let mut seen: Option<std::collections::HashSet<String>> = None;
        while let Some(k) = map.next_key::<String>()? {
            let v: JVal = map.next_value()?;
            if dup.is_none() {
                // Linear scan for the usual small objects, a set past 32 keys.
                let repeated = match &mut seen {
                    Some(set) => !set.insert(k.clone()),
                    None => {
                        let r = entries.iter().any(|(e, _)| *e == k);
                        if entries.len() >= 32 {
                            seen = Some(entries.iter().map(|(e, _)| e.clone()).collect());
                            if let Some(set) = &mut seen {
                                set.insert(k.clone());
                            }
                        }
                        r
                    }
                };
                if repeated {
                    dup = Some(k.clone());
                }
            }
            entries.push((k, v));
        }
        Ok(JVal::Obj(JObj { entries, dup }))
    }
}

/// Safe name of a key for a detail message: the key itself when it is one
/// of the contract's field names, otherwise a placeholder (a malformed
/// export could put content in a key).
pub(crate) fn key_label(k: &str) -> String {
    const KNOWN: &[&str] = &[
        "note_id",
        "encounter_id",
        "patient_id",
        "date_of_service",
        "text",
        "provider_id",
        "provider_credential",
        "payer",
        "note_type",
        "place_of_service",
        "claim_lines",
        "code",
        "units",
        "modifiers",
        "icd10",
    ];
    if KNOWN.contains(&k) {
        format!("`{k}`")
    } else {
        "(a key outside the contract)".to_owned()
    }
}

/// Parse one JSON Lines record into a value, or the reject reason.
/// Error details are rebuilt from the error category and column, never
/// from the input.
pub(crate) fn parse_value(line: &str) -> Result<JVal, Bad> {
    match serde_json::from_str::<JVal>(line) {
        Ok(v) => Ok(v),
        Err(e) => {
            use serde_json::error::Category;
            let what = match e.classify() {
                Category::Eof => "truncated record (input ended inside a value)",
                Category::Syntax => syntax_label(&e),
                Category::Data | Category::Io => "not valid JSON",
            };
            Err(Bad::new(super::reason::INVALID_JSON, format!("{what} at column {}", e.column())))
        }
    }
}

/// A fixed label for a serde_json syntax error. serde_json's syntax messages
/// are fixed strings, but we match them to our own labels anyway so that no
/// future change in them can leak input into a reject detail.
fn syntax_label(e: &serde_json::Error) -> &'static str {
    let m = e.to_string();
    const KNOWN: &[(&str, &str)] = &[
        ("trailing characters", "trailing characters after the object"),
        ("trailing comma", "trailing comma"),
        ("control character", "unescaped control character in a string"),
        ("invalid escape", "invalid escape in a string"),
        ("invalid unicode code point", "invalid \\u escape"),
        ("lone leading surrogate", "invalid \\u escape"),
        ("unexpected end of hex escape", "invalid \\u escape"),
        ("number out of range", "number out of range"),
        ("invalid number", "invalid number"),
        ("recursion limit exceeded", "nesting too deep"),
        ("key must be a string", "object key is not a string"),
        ("expected `:`", "expected `:`"),
        ("expected `,` or `}`", "expected `,` or `}`"),
        ("expected `,` or `]`", "expected `,` or `]`"),
        ("expected ident", "invalid literal"),
        ("expected value", "expected a value"),
    ];
    KNOWN.iter().find(|(k, _)| m.starts_with(k)).map(|(_, l)| *l).unwrap_or("JSON syntax error")
}

/// Split a parsed note object into the contract's fields (unknown keys are
/// dropped here).
pub(crate) fn note_fields(v: JVal) -> Result<NoteFields<'static>, Bad> {
    let obj = into_object(v)?;
    let mut f = NoteFields::default();
    for (k, v) in obj.entries {
        let slot = match k.as_str() {
            "note_id" => &mut f.note_id,
            "encounter_id" => &mut f.encounter_id,
            "patient_id" => &mut f.patient_id,
            "date_of_service" => &mut f.date_of_service,
            "text" => &mut f.text,
            "provider_id" => &mut f.provider_id,
            "provider_credential" => &mut f.provider_credential,
            "payer" => &mut f.payer,
            "note_type" => &mut f.note_type,
            "place_of_service" => &mut f.place_of_service,
            "claim_lines" => {
                f.claim_lines = Some(v);
                continue;
            }
            _ => continue,
        };
        *slot = v.into_fv();
    }
    Ok(f)
}

/// Split a parsed claims-file object into the contract's fields.
pub(crate) fn claim_fields(v: JVal) -> Result<ClaimFields<'static>, Bad> {
    let obj = into_object(v)?;
    let mut f = ClaimFields::default();
    for (k, v) in obj.entries {
        let slot = match k.as_str() {
            "encounter_id" => &mut f.encounter_id,
            "code" => &mut f.code,
            "units" => &mut f.units,
            "modifiers" => &mut f.modifiers,
            "icd10" => &mut f.icd10,
            "place_of_service" => &mut f.place_of_service,
            _ => continue,
        };
        *slot = v.into_fv();
    }
    Ok(f)
}

fn into_object(v: JVal) -> Result<JObj, Bad> {
    if !matches!(v, JVal::Obj(_)) {
        return Err(Bad::new(super::reason::NOT_AN_OBJECT, format!("record is a JSON {}, expected an object", v.type_name())));
    }
    if let Some(k) = v.find_dup() {
        return Err(Bad::new(super::reason::DUPLICATE_KEY, format!("key {} appears twice in one object", key_label(k))));
    }
    match v {
        JVal::Obj(o) => Ok(o),
        _ => unreachable!("checked above"),
    }
}
