//! `ketaudit rules [ID]`: the catalogue with authority and dates, or one
//! rule's documentation; `--format json` for scripts; `--format markdown`
//! for the committed `docs/rules.md` (a test keeps the two in step).

use clap::{Args, ValueEnum};
use ketaudit::rules::{self, DOC_HEADINGS};

use std::io::Write as _;

use super::{CmdResult, ConfigArg, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    /// The whole catalogue with each rule's documentation, as `docs/rules.md`.
    Markdown,
}

/// Arguments of `ketaudit rules`.
#[derive(Args)]
pub struct RulesArgs {
    /// Show this rule's documentation.
    id: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Also list the payer profiles in effect.
    #[arg(long)]
    payers: bool,
    #[command(flatten)]
    config: ConfigArg,
}

/// Run.
pub fn run(a: RulesArgs) -> CmdResult {
    let cfg = ketaudit::config::load(a.config.config.as_deref()).map_err(|e| (EXIT_USAGE, e))?;
    let settings = &cfg.rules;
    if a.format == Format::Markdown {
        if a.id.is_some() || a.payers {
            return Err((EXIT_USAGE, "--format markdown prints the whole catalogue; it takes no rule id and no --payers".into()));
        }
        // A closed pipe (`| head`) is not an error.
        let mut out = std::io::stdout().lock();
        return match out.write_all(catalogue_markdown().as_bytes()).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err((EXIT_OUTPUT, format!("writing the catalogue: {e}"))),
            _ => Ok(EXIT_OK),
        };
    }
    if let Some(id) = &a.id {
        let Some(r) = rules::by_id(id) else {
            if let Some(n) = rules::NOT_IMPLEMENTED.iter().find(|n| n.id == id) {
                println!("{}  (not implemented)\n\n{}", n.id, n.reason);
                return Ok(EXIT_OK);
            }
            return Err((EXIT_USAGE, format!("no rule {id:?}; `ketaudit rules` lists them")));
        };
        if a.format == Format::Json {
            println!("{}", serde_json::to_string_pretty(&rule_json(r, settings)).unwrap());
            return Ok(EXIT_OK);
        }
        println!("{}", r.id);
        println!(
            "severity:  {}{}",
            settings.severity_of(r).as_str(),
            if settings.enabled(r.id) { "" } else { "  (disabled by configuration)" }
        );
        println!("tracks:    {}", r.applies.as_str());
        println!("authority: {}", r.authority);
        println!("dates:     {} to {}", r.valid_from.unwrap_or("-"), r.valid_to.unwrap_or("-"));
        println!("since:     {}", r.since);
        for h in DOC_HEADINGS {
            println!("\n## {h}\n{}", r.doc_section(h).unwrap_or_default());
        }
        return Ok(EXIT_OK);
    }
    let dict = ketaudit::dict::Dictionaries::builtin();
    if a.format == Format::Json {
        let v = serde_json::json!({
            "catalogue_version": ketaudit::dict::CATALOGUE_VERSION,
            "config": cfg.source.as_ref().map(|p| p.display().to_string()),
            "weights": settings.weights,
            "levels": settings.levels,
            "rules": rules::ALL.iter().map(|r| rule_json(r, settings)).collect::<Vec<_>>(),
            "not_implemented": rules::NOT_IMPLEMENTED,
            "payers": if a.payers { Some(payer_profiles(dict, &cfg)) } else { None },
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        return Ok(EXIT_OK);
    }
    println!("{:<38} {:<9} {:<10} {:<8} {:<23} AUTHORITY", "RULE", "SEVERITY", "TRACKS", "ENABLED", "DATES");
    for r in rules::ALL {
        println!(
            "{:<38} {:<9} {:<10} {:<8} {:<23} {}",
            r.id,
            settings.severity_of(r).as_str(),
            r.applies.as_str(),
            if settings.enabled(r.id) { "yes" } else { "no" },
            format!("{}..{}", r.valid_from.unwrap_or(""), r.valid_to.unwrap_or("")),
            r.authority
        );
    }
    println!("\nNot implemented (catalogue rules the evidence cannot support yet):");
    for n in rules::NOT_IMPLEMENTED {
        println!("  {:<36} {:<9} {}", n.id, n.severity.as_str(), n.reason);
    }
    println!(
        "\nScore weights: critical {} high {} medium {} low {} info {}; levels: medium >= {}, high >= {}, critical >= {}",
        settings.weights.critical,
        settings.weights.high,
        settings.weights.medium,
        settings.weights.low,
        settings.weights.info,
        settings.levels.medium,
        settings.levels.high,
        settings.levels.critical
    );
    println!(
        "Configuration: {}",
        cfg.source.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in defaults (no ketaudit.toml)".into())
    );
    if a.payers {
        println!("\nPayer profiles:");
        for p in payer_profiles(dict, &cfg) {
            println!("  {}", serde_json::to_string(&p).unwrap());
        }
    }
    Ok(EXIT_OK)
}

fn payer_profiles(dict: &ketaudit::dict::Dictionaries, cfg: &ketaudit::config::Config) -> Vec<ketaudit::dict::PayerProfile> {
    dict.payers
        .profiles()
        .into_iter()
        .map(|p| {
            let mut p = p.clone();
            if let Some(o) = cfg.payers.get(&p.name) {
                p.apply(o);
            }
            p
        })
        .collect()
}

fn rule_json(r: &rules::Rule, s: &rules::RuleSettings) -> serde_json::Value {
    let docs: serde_json::Map<String, serde_json::Value> =
        DOC_HEADINGS.iter().map(|h| (h.to_string(), serde_json::Value::String(r.doc_section(h).unwrap_or_default()))).collect();
    serde_json::json!({
        "id": r.id,
        "severity": s.severity_of(r),
        "default_severity": r.severity,
        "enabled": s.enabled(r.id),
        "tracks": r.applies.as_str(),
        "family": r.family,
        "authority": r.authority,
        "valid_from": r.valid_from,
        "valid_to": r.valid_to,
        "since": r.since,
        "docs": docs,
    })
}

/// The catalogue as Markdown: a contents table, each implemented rule with
/// its metadata and the five documentation sections, then the rules not
/// implemented yet. Built from the rules' own declarations with default
/// severities (a local `ketaudit.toml` does not change it), so the committed
/// `docs/rules.md` is reproducible anywhere.
fn catalogue_markdown() -> String {
    use std::fmt::Write;
    // Table cells must not break the row.
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let dates = |r: &rules::Rule| match (r.valid_from, r.valid_to) {
        (None, None) => "any".to_string(),
        (f, t) => format!("{} to {}", f.unwrap_or("(open)"), t.unwrap_or("(open)")),
    };
    let mut o = String::new();
    let _ = writeln!(o, "# ketaudit rule catalogue\n");
    let _ = writeln!(o, "<!-- Generated by `cargo run -- rules --format markdown > docs/rules.md`; do not edit by hand. -->\n");
    let _ = writeln!(
        o,
        "Catalogue `{}`: {} rules implemented, {} catalogue rules not implemented yet. \
         Severities are the defaults; `ketaudit.toml` can override them. Rule ids are the \
         `rule_id` values of `findings.parquet` and never change meaning.\n",
        ketaudit::dict::CATALOGUE_VERSION,
        rules::ALL.len(),
        rules::NOT_IMPLEMENTED.len()
    );
    let _ = writeln!(o, "| Rule | Severity | Tracks | Dates of service |\n|---|---|---|---|");
    for r in rules::ALL {
        let _ = writeln!(o, "| [`{}`](#{}) | {} | {} | {} |", r.id, r.id, r.severity.as_str(), r.applies.as_str(), dates(r));
    }
    for r in rules::ALL {
        let _ = writeln!(o, "\n## {}\n", r.id);
        let _ = writeln!(o, "| | |\n|---|---|");
        let _ = writeln!(o, "| Severity | {} |", r.severity.as_str());
        let _ = writeln!(o, "| Tracks | {} |", r.applies.as_str());
        let _ = writeln!(o, "| Family | {} |", r.family);
        let _ = writeln!(o, "| Authority | {} |", cell(r.authority));
        let _ = writeln!(o, "| Dates of service | {} |", dates(r));
        let _ = writeln!(o, "| Since | {} |", r.since);
        for h in DOC_HEADINGS {
            let _ = writeln!(o, "\n### {h}\n\n{}", r.doc_section(h).unwrap_or_default());
        }
    }
    let _ = writeln!(o, "\n## Not implemented\n");
    let _ = writeln!(o, "Catalogue rules the evidence cannot support yet, with why.\n");
    let _ = writeln!(o, "| Rule | Severity | Why not yet |\n|---|---|---|");
    for n in rules::NOT_IMPLEMENTED {
        let _ = writeln!(o, "| `{}` | {} | {} |", n.id, n.severity.as_str(), cell(n.reason));
    }
    o
}
