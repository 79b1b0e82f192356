//! The GPU tolerance table is written once, in `tests/device`
//! (`Family::gpu_tol`); `docs/gpu.md` shows it. This checks that the two
//! agree: every family in the document, with the code's values.

mod device;

use std::collections::BTreeMap;

use device::{Family, Tol};

/// The `| `family` | atol | rtol | ... |` rows of docs/gpu.md.
fn documented() -> BTreeMap<String, Tol> {
    let doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/gpu.md"));
    doc.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            let num = |s: &str| {
                s.parse::<f64>()
                    .unwrap_or_else(|e| panic!("{name}: {s:?}: {e}"))
            };
            (name.clone(), Tol::new(num(cells[2]), num(cells[3])))
        })
        .collect()
}

#[test]
fn docs_show_the_code_s_gpu_tolerances() {
    let doc = documented();
    let code: BTreeMap<String, Tol> = Family::ALL
        .iter()
        .map(|f| (f.name().to_owned(), f.gpu_tol()))
        .collect();
    assert_eq!(doc, code, "docs/gpu.md's table against Family::gpu_tol");
}

#[test]
fn every_family_has_its_own_name() {
    let names: std::collections::BTreeSet<&str> = Family::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names.len(), Family::ALL.len());
}
