//! `ketaudit.toml`: rule selection, severities, score weights, risk levels and
//! payer overrides. Found in the working directory or given with `--config`.
//! Unknown keys are errors that name the key.
//!
//! ```toml
//! select = ["esk", "trd", "dx-code-invalid-on-dos"]   # ids or family prefixes; empty = all
//! ignore = ["esk-sedation-resp-monitoring-missing"]
//!
//! [severity]
//! "esk-missing-40min-bp" = "medium"
//!
//! [weights]            # score weight of one finding per severity (0-100)
//! critical = 50.0
//! high = 25.0
//! medium = 10.0
//! low = 3.0
//! info = 0.0
//!
//! [levels]             # lower bounds of medium / high / critical
//! medium = 20.0
//! high = 45.0
//! critical = 70.0
//!
//! [payers.Aetna]       # canonical payer name, or "default"
//! min_trials = 3
//! min_trial_weeks = 8.0
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::dict::PayerProfileToml;
use crate::rules::{self, Levels, RuleSettings, Severity, Weights};

/// The config file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Rule ids or family prefixes to run (empty: all).
    #[serde(default)]
    pub select: Vec<String>,
    /// Rule ids or family prefixes to skip.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Severity per rule id.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Score weights.
    #[serde(default)]
    pub weights: Option<Weights>,
    /// Risk-level thresholds.
    #[serde(default)]
    pub levels: Option<Levels>,
    /// Payer profile overrides by canonical name (or "default").
    #[serde(default)]
    pub payers: BTreeMap<String, PayerProfileToml>,
}

/// Resolved configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it came from (None: built-in defaults).
    pub source: Option<PathBuf>,
    /// Rule settings.
    pub rules: RuleSettings,
    /// Payer overrides.
    pub payers: BTreeMap<String, PayerProfileToml>,
}

/// Load `--config FILE`, else `./ketaudit.toml` if present, else defaults.
pub fn load(explicit: Option<&Path>) -> Result<Config, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => {
            let p = PathBuf::from("ketaudit.toml");
            p.exists().then_some(p)
        }
    };
    let Some(path) = path else { return Ok(Config::default()) };
    let src = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&src)
        .map(|mut c| {
            c.source = Some(path.clone());
            c
        })
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Parse and validate config text.
pub fn parse(src: &str) -> Result<Config, String> {
    let f: ConfigFile = toml::from_str(src).map_err(|e| e.to_string())?;
    let known = |s: &str| {
        rules::ALL.iter().any(|r| r.id == s || r.id.starts_with(&format!("{}-", s.trim_end_matches('-'))))
            || rules::NOT_IMPLEMENTED.iter().any(|r| r.id == s)
    };
    for s in f.select.iter().chain(f.ignore.iter()) {
        if !known(s) {
            return Err(format!("unknown rule id or prefix {s:?} in select/ignore"));
        }
    }
    for id in f.severity.keys() {
        if rules::by_id(id).is_none() {
            return Err(format!("unknown rule id {id:?} in [severity]"));
        }
    }
    let dict = crate::dict::Dictionaries::builtin();
    for name in f.payers.keys() {
        if name != "default" && !dict.payers.profiles().iter().any(|p| &p.name == name) {
            return Err(format!(
                "unknown payer {name:?} in [payers] (use a canonical name from `ketaudit rules --payers`, or \"default\")"
            ));
        }
    }
    Ok(Config {
        source: None,
        rules: RuleSettings {
            select: f.select,
            ignore: f.ignore,
            severity: f.severity,
            weights: f.weights.unwrap_or_default(),
            levels: f.levels.unwrap_or_default(),
        },
        payers: f.payers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_named() {
        let e = parse("selct = []").unwrap_err();
        assert!(e.contains("selct"), "{e}");
        let e = parse("[payers.Aetna]\nmin_trails = 3").unwrap_err();
        assert!(e.contains("min_trails"), "{e}");
    }

    #[test]
    fn unknown_rule_named() {
        assert!(parse("ignore = [\"esk-nope\"]").unwrap_err().contains("esk-nope"));
        assert!(parse("ignore = [\"esk\"]").is_ok());
    }

    #[test]
    fn overrides() {
        let c = parse("[severity]\n\"esk-missing-40min-bp\" = \"medium\"\n[payers.Aetna]\nmin_trials = 3\n").unwrap();
        assert_eq!(c.rules.severity["esk-missing-40min-bp"], Severity::Medium);
        assert_eq!(c.payers["Aetna"].min_trials, Some(3));
    }
}
