//! `ketaudit eval --gold GOLD.jsonl NOTES...`: run the pipeline on notes and
//! score each report column against gold labels; `--negex FILE` scores the
//! assertion layer on the NegEx test set.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ketaudit::ingest::IngestOptions;
use ketaudit::pipeline::{self, NoProgress, ScanOptions};
use serde::Serialize;
use serde_json::Value;

use super::{CmdResult, ConfigArg, EXIT_BELOW_FLOOR, EXIT_INPUT, EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

/// Arguments of `ketaudit eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Gold labels: JSON Lines, one object per encounter with `encounter_id`
    /// and any subset of the report's columns (and optionally `planted`).
    #[arg(long, value_name = "FILE", required_unless_present = "negex")]
    gold: Option<PathBuf>,
    /// Notes to run (files or folders).
    #[arg(value_name = "NOTES")]
    inputs: Vec<PathBuf>,
    /// Claims files.
    #[arg(long, value_name = "FILE")]
    claims: Vec<PathBuf>,
    /// Score the NegEx annotated test set instead.
    #[arg(long, value_name = "FILE")]
    negex: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Fail (exit 6) when a boolean column's accuracy is below this.
    #[arg(long, value_name = "FRACTION")]
    min_bool_accuracy: Option<f64>,
    /// Fail when a count column's exact-match rate is below this.
    #[arg(long, value_name = "FRACTION")]
    min_count_exact: Option<f64>,
    /// Fail when monitoring_minutes within +/-5 (where gold has a value) is below this.
    #[arg(long, value_name = "FRACTION")]
    min_minutes_within5: Option<f64>,
    /// Fail when a planted rule's recall is below this (rules planted at least 5 times).
    #[arg(long, value_name = "FRACTION")]
    min_rule_recall: Option<f64>,
    /// Print up to N mismatching encounter ids per column.
    #[arg(long, default_value_t = 0)]
    show: usize,
    #[command(flatten)]
    config: ConfigArg,
}

#[derive(Serialize, Default, Clone)]
struct ColumnScore {
    column: String,
    kind: &'static str,
    n: usize,
    correct: usize,
    accuracy: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    defect_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    defect_recall: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mae: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    within5: Option<f64>,
    #[serde(skip)]
    misses: Vec<String>,
}

#[derive(Serialize, Clone)]
struct RuleScore {
    rule: String,
    planted: usize,
    fired_on_planted: usize,
    recall: f64,
    clean: usize,
    fired_on_clean: usize,
    false_fire_rate: f64,
}

/// Boolean columns and the value that means "defect".
const BOOLS: &[(&str, bool)] = &[
    ("vague_trial_history", true),
    ("pre_dose_bp", false),
    ("post_dose_bp", false),
    ("discharge_criteria_documented", false),
    ("rems_documented", false),
    ("prior_auth_documented", false),
    ("units_match_dose", false),
    ("icd10_specific", false),
    ("separate_em_documentation", false),
];
const COUNTS: &[&str] = &["antidepressant_trials", "adequate_trials", "bp_reading_count"];

/// Run.
pub fn run(a: EvalArgs) -> CmdResult {
    if let Some(p) = &a.negex {
        let src = std::fs::read_to_string(p).map_err(|e| (EXIT_INPUT, format!("{}: {e}", p.display())))?;
        let rep = ketaudit::extract::context::eval_negex(ketaudit::extract::context::ContextRules::builtin(), &src)
            .map_err(|e| (EXIT_INPUT, format!("{}: {e}", p.display())))?;
        if a.format == Format::Json {
            println!("{}", serde_json::to_string_pretty(&rep).unwrap());
        } else {
            println!("NegEx test set: {}", p.display());
            println!("rows {}  unplaced {}", rep.rows, rep.unplaced);
            println!("TP {}  FP {}  FN {}  TN {}", rep.tp, rep.fp, rep.fn_, rep.tn);
            println!(
                "accuracy {:.4}  negated precision {:.4}  recall {:.4}  F1 {:.4}",
                rep.accuracy, rep.negated_precision, rep.negated_recall, rep.negated_f1
            );
        }
        return Ok(EXIT_OK);
    }
    let gold_path = a.gold.clone().ok_or((EXIT_USAGE, "--gold is required".to_string()))?;
    if a.inputs.is_empty() {
        return Err((EXIT_USAGE, "give the notes to evaluate".into()));
    }
    let cfg = ketaudit::config::load(a.config.config.as_deref()).map_err(|e| (EXIT_USAGE, e))?;
    let threads = super::set_threads(0);
    let gold_src = std::fs::read_to_string(&gold_path).map_err(|e| (EXIT_INPUT, format!("{}: {e}", gold_path.display())))?;
    let mut gold: Vec<(String, serde_json::Map<String, Value>)> = Vec::new();
    for (i, line) in gold_src.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| (EXIT_INPUT, format!("{} line {}: {e}", gold_path.display(), i + 1)))?;
        let Value::Object(m) = v else { return Err((EXIT_INPUT, format!("{} line {}: not an object", gold_path.display(), i + 1))) };
        let id = m
            .get("encounter_id")
            .and_then(|v| v.as_str())
            .ok_or((EXIT_INPUT, format!("{} line {}: no encounter_id", gold_path.display(), i + 1)))?
            .to_string();
        gold.push((id, m));
    }
    let opts = ScanOptions {
        inputs: a.inputs.clone(),
        claims: a.claims.clone(),
        out: PathBuf::from("."),
        index: None,
        no_index: true,
        threads,
        settings: cfg.rules,
        payer_overrides: cfg.payers,
        ingest: IngestOptions::default(),
    };
    let files = ketaudit::ingest::expand_inputs(&opts.inputs).map_err(|e| (EXIT_INPUT, e.to_string()))?;
    let (res, _rejects) = pipeline::analyze(&opts, &files, &NoProgress).map_err(|e| (EXIT_INPUT, e.to_string()))?;
    // Predicted values as JSON, by encounter.
    let mut pred: HashMap<&str, serde_json::Map<String, Value>> = HashMap::new();
    for ((e, f), fs) in res.encounters.iter().zip(&res.facts).zip(&res.findings) {
        let mut m = serde_json::Map::new();
        m.insert("track".into(), f.track.as_str().into());
        m.insert("antidepressant_trials".into(), f.antidepressant_trials.into());
        m.insert("adequate_trials".into(), f.adequate_trials.into());
        m.insert("vague_trial_history".into(), f.vague_trial_history.into());
        m.insert("pre_dose_bp".into(), f.pre_dose_bp.into());
        m.insert("post_dose_bp".into(), f.post_dose_bp.into());
        m.insert("bp_reading_count".into(), f.bp_reading_count.into());
        m.insert("monitoring_minutes".into(), f.monitoring_minutes.into());
        m.insert("discharge_criteria_documented".into(), f.discharge_criteria_documented.into());
        m.insert("rems_documented".into(), f.rems_documented.into());
        m.insert("prior_auth_documented".into(), f.prior_auth_documented.into());
        m.insert("dose_mg".into(), f.dose_mg.into());
        m.insert("billed_drug_units".into(), f.billed_drug_units.into());
        m.insert("units_match_dose".into(), f.units_match_dose.into());
        m.insert("icd10_codes".into(), f.icd10_codes.clone().into());
        m.insert("icd10_specific".into(), f.icd10_specific.into());
        m.insert("separate_em_documentation".into(), f.separate_em_documentation.into());
        let mut rules: Vec<&str> = fs.iter().map(|x| x.rule_id).collect();
        rules.sort();
        rules.dedup();
        m.insert("fired".into(), rules.into());
        pred.insert(e.encounter_id.as_str(), m);
    }
    let mut cols: BTreeMap<String, ColumnScore> = BTreeMap::new();
    let mut missing = 0usize;
    let mut planted_rules: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut clean_rules: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let implemented: Vec<&str> = ketaudit::rules::ALL.iter().map(|r| r.id).collect();
    let mut any_planted = false;
    for (id, g) in &gold {
        let Some(p) = pred.get(id.as_str()) else {
            missing += 1;
            continue;
        };
        for (k, gv) in g {
            let Some(pv) = p.get(k) else { continue };
            let kind = if BOOLS.iter().any(|b| b.0 == k) {
                "bool"
            } else if COUNTS.contains(&k.as_str()) {
                "count"
            } else if k == "monitoring_minutes" || k == "dose_mg" || k == "billed_drug_units" {
                "number"
            } else {
                "value"
            };
            let c = cols.entry(k.clone()).or_insert_with(|| ColumnScore { column: k.clone(), kind, ..Default::default() });
            c.n += 1;
            let equal = match (gv.as_f64(), pv.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() < 0.5,
                _ => gv == pv,
            };
            if equal {
                c.correct += 1;
            } else if c.misses.len() < a.show {
                c.misses.push(format!("{id}: gold {gv} got {pv}"));
            }
        }
        if let Some(Value::Array(planted)) = g.get("planted") {
            any_planted = true;
            let planted: Vec<&str> = planted.iter().filter_map(|v| v.as_str()).collect();
            let fired: Vec<&str> = p["fired"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
            for r in &implemented {
                if planted.contains(r) {
                    let e = planted_rules.entry(r.to_string()).or_default();
                    e.0 += 1;
                    if fired.contains(r) {
                        e.1 += 1;
                    }
                } else if planted.is_empty() {
                    let e = clean_rules.entry(r.to_string()).or_default();
                    e.0 += 1;
                    if fired.contains(r) {
                        e.1 += 1;
                    }
                }
            }
        }
    }
    // Derived metrics.
    for c in cols.values_mut() {
        c.accuracy = if c.n > 0 { c.correct as f64 / c.n as f64 } else { 0.0 };
    }
    for (col, defect) in BOOLS {
        let Some(c) = cols.get_mut(*col) else { continue };
        let (mut tp, mut fp, mut fnn) = (0usize, 0usize, 0usize);
        for (id, g) in &gold {
            let (Some(gv), Some(p)) = (g.get(*col), pred.get(id.as_str())) else { continue };
            let pv = &p[*col];
            let gd = gv.as_bool() == Some(*defect);
            let pd = pv.as_bool() == Some(*defect);
            match (gd, pd) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fnn += 1,
                _ => {}
            }
        }
        c.defect_precision = Some(if tp + fp > 0 { tp as f64 / (tp + fp) as f64 } else { 1.0 });
        c.defect_recall = Some(if tp + fnn > 0 { tp as f64 / (tp + fnn) as f64 } else { 1.0 });
    }
    for col in COUNTS.iter().chain(["monitoring_minutes", "dose_mg", "billed_drug_units"].iter()) {
        let Some(c) = cols.get_mut(*col) else { continue };
        let (mut sum, mut n, mut w5, mut wn) = (0.0, 0usize, 0usize, 0usize);
        for (id, g) in &gold {
            let (Some(gv), Some(p)) = (g.get(*col), pred.get(id.as_str())) else { continue };
            if let (Some(x), Some(y)) = (gv.as_f64(), p[*col].as_f64()) {
                sum += (x - y).abs();
                n += 1;
            }
            if let Some(x) = gv.as_f64() {
                wn += 1;
                if p[*col].as_f64().is_some_and(|y| (x - y).abs() <= 5.0) {
                    w5 += 1;
                }
            }
        }
        c.mae = (n > 0).then(|| sum / n as f64);
        if *col == "monitoring_minutes" {
            c.within5 = (wn > 0).then(|| w5 as f64 / wn as f64);
        }
    }
    let rules: Vec<RuleScore> = implemented
        .iter()
        .filter(|r| planted_rules.contains_key(**r) || clean_rules.get(**r).is_some_and(|c| c.1 > 0))
        .map(|r| {
            let (p, pf) = planted_rules.get(*r).copied().unwrap_or((0, 0));
            let (c, cf) = clean_rules.get(*r).copied().unwrap_or((0, 0));
            RuleScore {
                rule: r.to_string(),
                planted: p,
                fired_on_planted: pf,
                recall: if p > 0 { pf as f64 / p as f64 } else { 1.0 },
                clean: c,
                fired_on_clean: cf,
                false_fire_rate: if c > 0 { cf as f64 / c as f64 } else { 0.0 },
            }
        })
        .collect();
    // Floors.
    let mut failures = Vec::new();
    for c in cols.values() {
        if c.kind == "bool" {
            if let Some(f) = a.min_bool_accuracy.filter(|f| c.accuracy < *f) {
                failures.push(format!("{} accuracy {:.3} < {f}", c.column, c.accuracy));
            }
        }
        if c.kind == "count" {
            if let Some(f) = a.min_count_exact.filter(|f| c.accuracy < *f) {
                failures.push(format!("{} exact {:.3} < {f}", c.column, c.accuracy));
            }
        }
        if c.column == "monitoring_minutes" {
            if let (Some(f), Some(w)) = (a.min_minutes_within5, c.within5) {
                if w < f {
                    failures.push(format!("monitoring_minutes within 5 min {w:.3} < {f}"));
                }
            }
        }
    }
    if let Some(f) = a.min_rule_recall {
        for r in rules.iter().filter(|r| r.planted >= 5 && r.recall < f) {
            failures.push(format!("rule {} recall {:.3} < {f}", r.rule, r.recall));
        }
    }
    if a.format == Format::Json {
        let v = serde_json::json!({
            "gold": gold_path.display().to_string(),
            "encounters_in_gold": gold.len(),
            "gold_encounters_not_found": missing,
            "columns": cols.values().collect::<Vec<_>>(),
            "rules": if any_planted { Some(&rules) } else { None },
            "failures": failures,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
    } else {
        println!("gold {}: {} encounters ({} not found in the notes)", gold_path.display(), gold.len(), missing);
        println!("{:<32} {:>6} {:>9} {:>10} {:>9} {:>8} {:>9}", "COLUMN", "N", "ACCURACY", "DEF-PREC", "DEF-REC", "MAE", "WITHIN5");
        for c in cols.values() {
            let f = |x: Option<f64>| x.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into());
            println!(
                "{:<32} {:>6} {:>9.3} {:>10} {:>9} {:>8} {:>9}",
                c.column,
                c.n,
                c.accuracy,
                f(c.defect_precision),
                f(c.defect_recall),
                f(c.mae),
                f(c.within5)
            );
            for m in &c.misses {
                println!("    {m}");
            }
        }
        if any_planted {
            println!("\n{:<38} {:>8} {:>8} {:>8} {:>8} {:>10}", "RULE", "PLANTED", "RECALL", "CLEAN", "FIRED", "FALSE-RATE");
            for r in &rules {
                println!(
                    "{:<38} {:>8} {:>8.3} {:>8} {:>8} {:>10.3}",
                    r.rule, r.planted, r.recall, r.clean, r.fired_on_clean, r.false_fire_rate
                );
            }
        }
        for f in &failures {
            println!("BELOW FLOOR: {f}");
        }
    }
    Ok(if failures.is_empty() { EXIT_OK } else { EXIT_BELOW_FLOOR })
}
