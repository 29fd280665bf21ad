//! The README's table of error codes is the crate docs' table, and both list every code.

use teamkpi::ERROR_CODES;

fn table(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .filter(|l| l.starts_with("| `"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_error_table_is_the_crate_docs_table() {
    let lib = table(include_str!("../src/lib.rs"), "//! ");
    let readme = table(include_str!("../../../README.md"), "");
    let readme: Vec<String> = readme
        .into_iter()
        .filter(|l| {
            ERROR_CODES
                .iter()
                .any(|c| l.starts_with(&format!("| `{c}` |")))
        })
        .collect();
    assert_eq!(readme, lib, "README.md's error table differs from lib.rs's");
    for code in ERROR_CODES {
        let row = format!("| `{code}` |");
        assert!(
            lib.iter().any(|l| l.starts_with(&row)),
            "{code} is not documented"
        );
    }
    assert_eq!(lib.len(), ERROR_CODES.len());
}
