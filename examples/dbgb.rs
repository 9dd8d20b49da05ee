// scratch debug tool (not committed)
use std::io::BufRead;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = &args[1];
    let kinds: Vec<String> = args[2].split(',').map(|s| s.to_string()).collect();
    let ids: Vec<String> = args[3..].to_vec();
    let ex = ketaudit::extract::Extractor::builtin();
    let d = &ketaudit::dict::Dictionaries::builtin().drugs;
    for line in std::io::BufReader::new(std::fs::File::open(file).unwrap()).lines() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let eid = v["encounter_id"].as_str().unwrap();
        if !ids.iter().any(|i| i == eid) { continue; }
        let text = v["text"].as_str().unwrap();
        let nt = v["note_type"].as_str();
        let f = ex.extract_text(text, nt);
        println!("=== {} {} {:?} track={:?} em={:?}", eid, v["note_id"], nt, f.track, f.em);
        for e in &f.evidence {
            let k = format!("{:?}", e.kind);
            if kinds.iter().any(|x| x == &k || x == "all") {
                let sn = &text[e.span.clone()];
                println!("  {k} {} counts={} val={} | {:?}", e.entry_id, e.counts, e.value, sn.chars().take(140).collect::<String>());
            }
        }
        if kinds.iter().any(|x| x == "inadeq") {
            for t in f.trials.iter().filter(|t| t.counts && !(t.daily_mg.is_some() && t.has_duration && t.has_outcome)) {
                let e = &f.evidence[t.ev];
                let end = (e.span.end + 60).min(text.len());
                let end = (end..text.len()+1).find(|i| text.is_char_boundary(*i)).unwrap();
                println!("  MISS {} dose={} dur={} out={} | {:?}", d[t.drug].id, t.daily_mg.is_some(), t.has_duration, t.has_outcome, &text[e.span.start..end]);
            }
        }
        if kinds.iter().any(|x| x == "trials") {
            for t in &f.trials {
                println!("  T {} counts={} mg={:?} wk={:?} dur={} out={} excl={:?}", d[t.drug].id, t.counts, t.daily_mg, t.weeks, t.has_duration, t.has_outcome, t.excluded);
            }
        }
        if kinds.iter().any(|x| x == "doses") {
            for t in &f.doses {
                let e = &f.evidence[t.ev];
                println!("  D {} mg={} pri={} | {:?}", e.entry_id, t.mg, t.priority, &text[e.span.clone()]);
            }
        }
    }
}
