//! Dictionaries kept as data under `dictionaries/`: medications, payers,
//! codes, phrases and the ICD-10-CM table.
//!
//! Extraction and rules read facts from here instead of hard-coding them, so
//! a compliance team can review (and a release can update) code facts and
//! phrasing without touching Rust. The shipped files are embedded in the
//! binary so `ketaudit` runs from any directory; every TOML struct denies
//! unknown keys so a typo in a dictionary is an error, not a silent no-op.

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::Deserialize;

/// Error loading a dictionary: which file and what is wrong.
#[derive(Debug)]
pub struct DictError(pub String);

impl std::fmt::Display for DictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for DictError {}

const MEDICATIONS: &str = include_str!("../dictionaries/medications.toml");
const PAYERS: &str = include_str!("../dictionaries/payers.toml");
const CODES: &str = include_str!("../dictionaries/codes.toml");
const PHRASES: &str = include_str!("../dictionaries/phrases.toml");
const ICD10CM_GZ: &[u8] = include_bytes!("../dictionaries/icd10cm.tsv.gz");

/// Role of a medication in treatment-failure history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrugRole {
    /// Counts as an antidepressant trial.
    Antidepressant,
    /// Augmentation agent: never counted as an antidepressant trial.
    Augmentation,
}

/// One medication entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Drug {
    /// Stable id (generic name).
    pub id: String,
    /// Antidepressant or augmentation agent.
    pub role: DrugRole,
    /// Pharmacologic class.
    pub class: String,
    /// Names matched in notes (generic, brands, abbreviations).
    pub names: Vec<String>,
    /// Minimum adequate daily dose in mg.
    #[serde(default)]
    pub min_daily_mg: Option<f64>,
    /// At or below this daily dose the drug is read as a sleep/pain dose.
    #[serde(default)]
    pub sleep_max_mg: Option<f64>,
    /// Why the entry looks the way it does.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MedFile {
    drug: Vec<Drug>,
}

/// Payer profile parameters (see `dictionaries/payers.toml`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PayerProfileToml {
    /// Antidepressant trials required.
    pub min_trials: Option<u32>,
    /// Minimum weeks per trial.
    pub min_trial_weeks: Option<f64>,
    /// Distinct classes required.
    pub classes_required: Option<u32>,
    /// Concurrent oral antidepressant required with esketamine for TRD.
    pub concurrent_ad_required: Option<bool>,
    /// Prior authorization expected.
    pub pa_required: Option<bool>,
    /// Traditional Medicare.
    pub traditional_medicare: Option<bool>,
    /// KX modifier + facility narrative on esketamine claims.
    pub kx_required: Option<bool>,
    /// Ketamine for depression treated as investigational.
    pub ketamine_investigational: Option<bool>,
    /// Policy the parameters come from.
    pub policy: Option<String>,
}

/// Resolved payer profile.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PayerProfile {
    /// Canonical payer name, or `default`.
    pub name: String,
    /// Antidepressant trials required.
    pub min_trials: u32,
    /// Minimum weeks per trial.
    pub min_trial_weeks: f64,
    /// Distinct classes required.
    pub classes_required: u32,
    /// Concurrent oral antidepressant required (TRD).
    pub concurrent_ad_required: bool,
    /// Prior authorization expected.
    pub pa_required: bool,
    /// Traditional Medicare.
    pub traditional_medicare: bool,
    /// KX + narrative expected on esketamine claims.
    pub kx_required: bool,
    /// Ketamine treated as investigational.
    pub ketamine_investigational: bool,
    /// Policy reference.
    pub policy: String,
}

impl PayerProfile {
    fn resolve(name: &str, p: &PayerProfileToml, d: &PayerProfileToml) -> Self {
        PayerProfile {
            name: name.to_string(),
            min_trials: p.min_trials.or(d.min_trials).unwrap_or(2),
            min_trial_weeks: p.min_trial_weeks.or(d.min_trial_weeks).unwrap_or(6.0),
            classes_required: p.classes_required.or(d.classes_required).unwrap_or(1),
            concurrent_ad_required: p.concurrent_ad_required.or(d.concurrent_ad_required).unwrap_or(false),
            pa_required: p.pa_required.or(d.pa_required).unwrap_or(true),
            traditional_medicare: p.traditional_medicare.or(d.traditional_medicare).unwrap_or(false),
            kx_required: p.kx_required.or(d.kx_required).unwrap_or(false),
            ketamine_investigational: p.ketamine_investigational.or(d.ketamine_investigational).unwrap_or(false),
            policy: p.policy.clone().or_else(|| d.policy.clone()).unwrap_or_default(),
        }
    }

    /// Apply overrides (from `ketaudit.toml`).
    pub fn apply(&mut self, o: &PayerProfileToml) {
        if let Some(v) = o.min_trials {
            self.min_trials = v;
        }
        if let Some(v) = o.min_trial_weeks {
            self.min_trial_weeks = v;
        }
        if let Some(v) = o.classes_required {
            self.classes_required = v;
        }
        if let Some(v) = o.concurrent_ad_required {
            self.concurrent_ad_required = v;
        }
        if let Some(v) = o.pa_required {
            self.pa_required = v;
        }
        if let Some(v) = o.traditional_medicare {
            self.traditional_medicare = v;
        }
        if let Some(v) = o.kx_required {
            self.kx_required = v;
        }
        if let Some(v) = o.ketamine_investigational {
            self.ketamine_investigational = v;
        }
        if let Some(v) = &o.policy {
            self.policy = v.clone();
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayerEntry {
    name: String,
    aliases: Vec<String>,
    #[serde(flatten)]
    profile: PayerProfileToml,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayerFile {
    default: PayerProfileToml,
    payer: Vec<PayerEntry>,
}

/// Payer alias matcher and profiles.
#[derive(Debug)]
pub struct PayerDict {
    entries: Vec<(String, Vec<Regex>)>,
    profiles: HashMap<String, PayerProfile>,
    default: PayerProfile,
}

/// Result of normalizing an exported payer name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerName {
    /// Canonical name (or the trimmed input when unknown).
    pub name: String,
    /// Whether an alias matched.
    pub known: bool,
}

impl PayerDict {
    /// Canonical name for an exported payer string.
    pub fn normalize(&self, raw: &str) -> PayerName {
        let t = raw.trim();
        for (name, pats) in &self.entries {
            if pats.iter().any(|r| r.is_match(t)) {
                return PayerName { name: name.clone(), known: true };
            }
        }
        PayerName { name: t.split_whitespace().collect::<Vec<_>>().join(" "), known: false }
    }
    /// Profile for a canonical name (default when unknown).
    pub fn profile(&self, canonical: Option<&str>) -> &PayerProfile {
        canonical.and_then(|c| self.profiles.get(c)).unwrap_or(&self.default)
    }
    /// All profiles, in file order, then the default.
    pub fn profiles(&self) -> Vec<&PayerProfile> {
        let mut v: Vec<&PayerProfile> = self.entries.iter().filter_map(|(n, _)| self.profiles.get(n)).collect();
        v.push(&self.default);
        v
    }
    /// Mutable profile access for configuration overrides; `default` names the fallback.
    pub fn profile_mut(&mut self, name: &str) -> Option<&mut PayerProfile> {
        if name.eq_ignore_ascii_case("default") {
            return Some(&mut self.default);
        }
        self.profiles.get_mut(name)
    }
}

/// Kind of billing code (see `dictionaries/codes.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    /// Esketamine drug line, 1 unit = 1 mg.
    EskDrug,
    /// G2082/G2083.
    EskGcode,
    /// Drug code that is never (es)ketamine.
    WrongDrug,
    /// Unclassified drug (J3490).
    UnlistedDrug,
    /// Office/outpatient E/M.
    Em,
    /// Psychotherapy add-on.
    PsyAddon,
    /// Psychotherapy standalone.
    PsyStandalone,
    /// 96365.
    InfusionInitial,
    /// 96366.
    InfusionAddl,
    /// 96367.
    InfusionSequential,
    /// 96374.
    Push,
    /// 96372.
    Injection,
    /// 99417 / G2212.
    ProlongedPhysician,
    /// 99415 / 99416.
    ProlongedStaff,
    /// 99354-99357.
    ProlongedDeleted,
    /// 99492-99494.
    Cocm,
}

/// One code-table row.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeDef {
    /// CPT/HCPCS code.
    pub code: String,
    /// Kind.
    pub kind: CodeKind,
    /// Descriptor.
    pub descriptor: String,
    /// First valid date of service.
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    /// Last valid date of service.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// mg per unit for drug codes.
    #[serde(default)]
    pub unit_mg: Option<f64>,
    /// Highest documented mg the code covers (G2082).
    #[serde(default)]
    pub max_mg: Option<f64>,
    /// Documented mg must exceed this (G2083).
    #[serde(default)]
    pub min_mg_exclusive: Option<f64>,
    /// Not payable by traditional Medicare.
    #[serde(default)]
    pub commercial_only: bool,
    /// New-patient E/M.
    #[serde(default)]
    pub new_patient: bool,
    /// Where the fact comes from.
    pub source: String,
    /// Time-based code: fewest documented minutes that support one unit
    /// (99492: 36, 99493: 31; an add-on such as 99494: minutes beyond the
    /// primary code's full time).
    #[serde(default)]
    pub min_minutes: Option<u32>,
    /// Time-based code: the minutes the code's unit describes (99492: 70,
    /// 99493: 60, 99494: 30 per unit).
    #[serde(default)]
    pub full_minutes: Option<u32>,
}

impl CodeDef {
    /// Whether the code is valid on a date of service.
    pub fn valid_on(&self, dos: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| dos >= f) && self.valid_to.is_none_or(|t| dos <= t)
    }
}

/// ICD-10-CM code groups used by the rules.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct IcdGroups {
    /// Unspecified or weak codes.
    pub weak: Vec<String>,
    /// Remission codes.
    pub remission: Vec<String>,
    /// Specific, active MDD codes.
    pub specific_active_mdd: Vec<String>,
    /// Psychotic-features codes.
    pub psychotic: Vec<String>,
    /// Code prefixes (dotted) of esketamine's labeled indications (MDD):
    /// a diagnosis starting with one of them is on label.
    pub esketamine_labeled: Vec<String>,
    /// Code prefixes (dotted) of diagnoses outside esketamine's label
    /// (bipolar, PTSD, anxiety, pain).
    pub esketamine_offlabel: Vec<String>,
}

impl IcdGroups {
    /// Whether a dotted code starts with one of the prefixes.
    pub fn in_group(group: &[String], code: &str) -> bool {
        group.iter().any(|p| code.starts_with(p.as_str()))
    }
}

/// Claim-line modifier groups used by the rules.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModifierGroups {
    /// Modifiers that tell the payer the line is expected not to be
    /// covered (liability notice / waiver on file, excluded service).
    pub noncovered_notice: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeFile {
    code: Vec<CodeDef>,
    icd10: IcdGroups,
    modifiers: ModifierGroups,
}

/// CPT/HCPCS table.
#[derive(Debug)]
pub struct CodeTable {
    by_code: HashMap<String, CodeDef>,
    /// ICD-10 groups.
    pub icd: IcdGroups,
    /// Modifier groups.
    pub modifiers: ModifierGroups,
}

impl CodeTable {
    /// Look a code up.
    pub fn get(&self, code: &str) -> Option<&CodeDef> {
        self.by_code.get(code)
    }
    /// Kind of a code, if the table knows it.
    pub fn kind(&self, code: &str) -> Option<CodeKind> {
        self.get(code).map(|c| c.kind)
    }
    /// All codes, sorted.
    pub fn all(&self) -> Vec<&CodeDef> {
        let mut v: Vec<_> = self.by_code.values().collect();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }
}

/// Kind of a phrase pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhraseKind {
    /// Discharge readiness.
    DischargeReady,
    /// Transport / escort / gait.
    Transport,
    /// REMS enrollment.
    RemsEnrollment,
    /// REMS monitoring form.
    RemsForm,
    /// REMS site certification.
    RemsSite,
    /// Any REMS mention.
    RemsGeneric,
    /// Prior authorization mention.
    Pa,
    /// Vague history phrase.
    VagueHistory,
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
    /// Psychotic features documented.
    Psychosis,
    /// Indication / diagnosis the treatment is for.
    Indication,
    /// Follow-up plan (next session, return visit).
    FollowUp,
    /// Infusion rate or planned infusion duration.
    InfusionRate,
    /// Post-treatment mental status / recovery (A&Ox3, Aldrete, recovered).
    PostStatus,
    /// Vital signs during the treatment stated as a whole ("VSS throughout").
    IntraVitals,
    /// The ketamine / esketamine treatment being started or evaluated for.
    Initiation,
    /// Esketamine taken or sent home (not administered in the setting).
    TakeHome,
    /// Time spent statement ("total time 75 min"); the entry id says whose.
    TimeSpent,
    /// Elevated BP acted on: risk-benefit decision (entry id
    /// `bp-risk-benefit`), prescriber notified, recheck, kept until down.
    BpManagement,
    /// The note itself says this session is the third (or later) within 7
    /// days ("third Spravato dose in 7 days").
    ScheduleExcess,
    /// The patient pays the treatment (self-pay, cash, non-covered waiver),
    /// not the payer named on the note.
    SelfPay,
    /// The MDSI indication named (Spravato for MDD with acute suicidal
    /// ideation or behavior).
    MdsiIndication,
    /// Suicidal ideation or behavior (current when affirmed).
    SuicidalIdeation,
    /// This session is the first of a course ("infusion 1 of 6", "first
    /// Spravato treatment").
    FirstSession,
    /// Where the patient is during a telehealth visit ("Patient location:
    /// home", "joined from her car").
    PatientLocation,
    /// This visit is the patient's first with the practice (a new patient:
    /// "new patient to our practice", "presents to establish care").
    NewPatient,
}

/// One phrase dictionary entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseDef {
    /// Stable id.
    pub id: String,
    /// Kind.
    pub kind: PhraseKind,
    /// Regular expression (case-insensitive).
    pub pattern: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PhraseFile {
    phrase: Vec<PhraseDef>,
}

/// One ICD-10-CM table row: validity period and billable flag.
#[derive(Debug, Clone)]
pub struct IcdRow {
    /// First day in force (first release seen).
    pub valid_from: NaiveDate,
    /// Last day in force; `None` when present in the newest release.
    pub valid_to: Option<NaiveDate>,
    /// Billable leaf (false for category headers).
    pub billable: bool,
    /// Title.
    pub title: String,
}

/// Validity of an ICD-10-CM code on a date of service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IcdValidity {
    /// A billable code in the release nearest the date.
    Valid,
    /// A category header, not billable.
    Header,
    /// Not in any release the table holds.
    NotACode,
    /// In the table, but its releases all end before the date (deleted).
    Expired(NaiveDate),
    /// In the table, but only from a release after the date.
    NotYet(NaiveDate),
}

/// The ICD-10-CM code table (see `dictionaries/icd10cm.README.md`).
#[derive(Debug)]
pub struct IcdTable {
    rows: HashMap<String, Vec<IcdRow>>,
}

impl IcdTable {
    fn parse(gz: &[u8]) -> Result<Self, DictError> {
        let mut s = String::new();
        flate2::read::GzDecoder::new(gz).read_to_string(&mut s).map_err(|e| DictError(format!("dictionaries/icd10cm.tsv.gz: {e}")))?;
        let mut rows: HashMap<String, Vec<IcdRow>> = HashMap::with_capacity(100_000);
        for (i, line) in s.lines().enumerate().skip(1) {
            let mut f = line.split('\t');
            let bad = || DictError(format!("dictionaries/icd10cm.tsv.gz line {}: malformed", i + 1));
            let code = f.next().ok_or_else(bad)?;
            let from = f.next().ok_or_else(bad)?;
            let to = f.next().ok_or_else(bad)?;
            let billable = f.next().ok_or_else(bad)? == "1";
            let title = f.next().unwrap_or("");
            let valid_from = NaiveDate::parse_from_str(from, "%Y-%m-%d").map_err(|_| bad())?;
            let valid_to = if to.is_empty() { None } else { Some(NaiveDate::parse_from_str(to, "%Y-%m-%d").map_err(|_| bad())?) };
            rows.entry(code.to_string()).or_default().push(IcdRow { valid_from, valid_to, billable, title: title.to_string() });
        }
        Ok(IcdTable { rows })
    }

    /// Rows for a dotted code.
    pub fn rows(&self, code: &str) -> Option<&[IcdRow]> {
        self.rows.get(code).map(|v| v.as_slice())
    }

    /// Title of a code (newest row).
    pub fn title(&self, code: &str) -> Option<&str> {
        self.rows.get(code).and_then(|v| v.last()).map(|r| r.title.as_str())
    }

    /// Decide validity on a date of service.
    ///
    /// The table holds the releases the source package carries, with gaps
    /// between them (see the README). A date inside a release's period uses
    /// that release. A date in a gap uses the nearest release on either side
    /// and calls a code invalid only when no release around the date has it
    /// as a billable code: an unknown is never reported as a defect.
    pub fn validity(&self, code: &str, dos: NaiveDate) -> IcdValidity {
        let Some(rows) = self.rows.get(code) else {
            return IcdValidity::NotACode;
        };
        if let Some(r) = rows.iter().find(|r| r.valid_from <= dos && r.valid_to.is_none_or(|t| dos <= t)) {
            return if r.billable { IcdValidity::Valid } else { IcdValidity::Header };
        }
        // In a gap, before the first release, or after a code was dropped.
        let before = rows.iter().filter(|r| r.valid_to.is_some_and(|t| t < dos)).max_by_key(|r| r.valid_to);
        let after = rows.iter().filter(|r| r.valid_from > dos).min_by_key(|r| r.valid_from);
        match (before, after) {
            (Some(b), Some(a)) => {
                if b.billable || a.billable {
                    IcdValidity::Valid
                } else {
                    IcdValidity::Header
                }
            }
            (Some(b), None) => {
                // Dropped after its last release; the date may be in a gap the
                // table cannot see into, so only call it expired when a later
                // release exists without it.
                let newest_release_start = self.newest_release_start();
                if dos >= newest_release_start {
                    IcdValidity::Expired(b.valid_to.unwrap_or(dos))
                } else if b.billable {
                    IcdValidity::Valid
                } else {
                    IcdValidity::Header
                }
            }
            (None, Some(a)) => {
                if a.billable {
                    // First seen after the date: may have existed earlier (gap).
                    IcdValidity::NotYet(a.valid_from)
                } else {
                    IcdValidity::Header
                }
            }
            (None, None) => IcdValidity::NotACode,
        }
    }

    fn newest_release_start(&self) -> NaiveDate {
        static NEWEST: OnceLock<NaiveDate> = OnceLock::new();
        *NEWEST.get_or_init(|| {
            self.rows.values().flatten().filter(|r| r.valid_to.is_none()).map(|r| r.valid_from).max().unwrap_or(NaiveDate::MIN)
        })
    }
}

/// All dictionaries, compiled.
#[derive(Debug)]
pub struct Dictionaries {
    /// Medications.
    pub drugs: Vec<Drug>,
    /// Payers.
    pub payers: PayerDict,
    /// CPT/HCPCS codes.
    pub codes: CodeTable,
    /// Phrase patterns.
    pub phrases: Vec<PhraseDef>,
}

fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, src: &str) -> Result<T, DictError> {
    toml::from_str(src).map_err(|e| DictError(format!("dictionaries/{file}: {e}")))
}

impl Dictionaries {
    /// Parse dictionaries from TOML sources.
    pub fn from_sources(meds: &str, payers: &str, codes: &str, phrases: &str) -> Result<Self, DictError> {
        let meds: MedFile = parse_toml("medications.toml", meds)?;
        let pf: PayerFile = parse_toml("payers.toml", payers)?;
        let cf: CodeFile = parse_toml("codes.toml", codes)?;
        let ph: PhraseFile = parse_toml("phrases.toml", phrases)?;
        let mut entries = Vec::new();
        let mut profiles = HashMap::new();
        for p in &pf.payer {
            let mut pats = Vec::new();
            for a in &p.aliases {
                pats.push(
                    crate::extract::re::build(a, true)
                        .map_err(|e| DictError(format!("dictionaries/payers.toml: payer {}: alias {a:?}: {e}", p.name)))?,
                );
            }
            entries.push((p.name.clone(), pats));
            profiles.insert(p.name.clone(), PayerProfile::resolve(&p.name, &p.profile, &pf.default));
        }
        let default = PayerProfile::resolve("default", &pf.default, &pf.default);
        let mut by_code = HashMap::new();
        for c in cf.code {
            if by_code.insert(c.code.clone(), c.clone()).is_some() {
                return Err(DictError(format!("dictionaries/codes.toml: code {} listed twice", c.code)));
            }
        }
        for p in &ph.phrase {
            crate::extract::re::build(&p.pattern, true)
                .map_err(|e| DictError(format!("dictionaries/phrases.toml: phrase {}: {e}", p.id)))?;
        }
        Ok(Dictionaries {
            drugs: meds.drug,
            payers: PayerDict { entries, profiles, default },
            codes: CodeTable { by_code, icd: cf.icd10, modifiers: cf.modifiers },
            phrases: ph.phrase,
        })
    }

    /// The shipped dictionaries (parsed once).
    pub fn builtin() -> &'static Dictionaries {
        static D: OnceLock<Dictionaries> = OnceLock::new();
        D.get_or_init(|| {
            Dictionaries::from_sources(MEDICATIONS, PAYERS, CODES, PHRASES).expect("shipped dictionaries are valid (checked by tests)")
        })
    }
}

/// The shipped ICD-10-CM table (decompressed once, on first use).
pub fn icd10cm() -> &'static IcdTable {
    static T: OnceLock<IcdTable> = OnceLock::new();
    T.get_or_init(|| IcdTable::parse(ICD10CM_GZ).expect("shipped ICD-10-CM table is valid (checked by tests)"))
}

/// Version string of the rule catalogue and dictionaries, stamped in reports.
pub const CATALOGUE_VERSION: &str = concat!("ketaudit-rules-", env!("CARGO_PKG_VERSION"), "+icd10cm-fy2026-apr");

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn shipped_dictionaries_parse() {
        let dict = Dictionaries::builtin();
        assert!(dict.drugs.len() > 30);
        assert!(dict.codes.get("J0013").is_some());
    }

    #[test]
    fn unknown_keys_rejected() {
        let bad = "[[drug]]\nid='x'\nrole='antidepressant'\nclass='SSRI'\nnames=['x']\nmin_dose=3\n";
        let e = Dictionaries::from_sources(bad, PAYERS, CODES, PHRASES).unwrap_err();
        assert!(e.0.contains("min_dose"), "{}", e.0);
    }

    #[test]
    fn payer_aliases() {
        let p = &Dictionaries::builtin().payers;
        assert_eq!(p.normalize("Aetna PPO").name, "Aetna");
        assert_eq!(p.normalize("MEDICARE PART B").name, "Medicare");
        assert_eq!(p.normalize("UHC").name, "UnitedHealthcare");
        assert_eq!(p.normalize("United Healthcare Choice Plus").name, "UnitedHealthcare");
        assert_eq!(p.normalize("BCBS of Massachusetts").name, "BCBS Massachusetts");
        assert_eq!(p.normalize("Blue Cross NC").name, "Blue Cross Blue Shield");
        assert_eq!(p.normalize("Self-pay").name, "Self-pay");
        let u = p.normalize("  Acme   Health ");
        assert!(!u.known);
        assert_eq!(u.name, "Acme Health");
        assert!(p.profile(Some("Medicare")).traditional_medicare);
        assert_eq!(p.profile(Some("Nope")).name, "default");
    }

    #[test]
    fn code_dates() {
        let c = &Dictionaries::builtin().codes;
        assert!(c.get("S0013").unwrap().valid_on(d("2025-12-31")));
        assert!(!c.get("S0013").unwrap().valid_on(d("2026-01-01")));
        assert!(c.get("J0013").unwrap().valid_on(d("2026-01-01")));
        assert!(!c.get("J0013").unwrap().valid_on(d("2025-12-31")));
        assert!(!c.get("99354").unwrap().valid_on(d("2023-01-01")));
        assert!(c.get("99354").unwrap().valid_on(d("2022-12-31")));
    }

    #[test]
    fn icd_validity() {
        let t = icd10cm();
        assert_eq!(t.validity("F33.89", d("2026-02-01")), IcdValidity::NotACode);
        assert_eq!(t.validity("F33.2", d("2026-02-01")), IcdValidity::Valid);
        assert_eq!(t.validity("F33.4", d("2026-05-01")), IcdValidity::Header);
        assert_eq!(t.validity("F32.A", d("2026-05-01")), IcdValidity::Valid);
        assert_eq!(t.validity("F32.8", d("2025-05-01")), IcdValidity::Header);
        assert!(t.title("F32.3").unwrap().to_lowercase().contains("psychotic"));
    }
}
