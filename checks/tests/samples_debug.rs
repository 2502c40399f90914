use eems_checks::builds::BuildTable;
use eems_checks::check::Context;
use eems_checks::collect::{Input, collect_group};
use eems_checks::diagnosis::diagnose;
use std::path::{Path, PathBuf};

fn walk(d: &Path, out: &mut Vec<PathBuf>) {
    let mut es: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).collect();
    es.sort();
    for e in es {
        if e.is_dir() { walk(&e, out) } else { out.push(e) }
    }
}

#[test]
#[ignore]
fn debug_samples() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../samples");
    let table = BuildTable::embedded();
    let ctx = Context { builds: &table };
    let mut dirs: Vec<_> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for d in dirs {
        let mut files = Vec::new();
        walk(&d, &mut files);
        let parsed: Vec<(String, eems_parsers::ParsedInput)> = files.iter().map(|f| (f.display().to_string(), eems_parsers::parse_input(&std::fs::read(f).unwrap(), Some(&f.display().to_string())))).collect();
        let inputs: Vec<Input> = parsed.iter().map(|(p, x)| Input { path: p, parsed: x }).collect();
        for ev in collect_group(&inputs) {
            let dx = diagnose(&ev, &ctx);
            let ids: Vec<_> = dx.findings.iter().map(|f| f.id).collect();
            let rc: Vec<_> = dx.root_causes.iter().map(|r| format!("{}({})", r.id, r.confidence.as_str())).collect();
            println!("{} {:?} {:?} build={:?}\n   findings={ids:?}\n   root={rc:?}", d.file_name().unwrap().to_string_lossy(), dx.server, dx.status, dx.build.as_ref().map(|b| (&b.version, b.precision)));
            for i in &dx.inputs { if i.status != "parsed" { println!("   input {} {} {}", i.path, i.kind, i.status); } }
        }
    }
}
