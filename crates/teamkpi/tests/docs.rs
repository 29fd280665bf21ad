//! The README's table of error codes is the error table ([`teamkpi::ERROR_TABLE`]), row for row.

use teamkpi::{ERROR_CODES, ERROR_TABLE};

#[test]
fn readme_error_table_is_the_error_table() {
    let readme: Vec<String> = include_str!("../../../README.md")
        .lines()
        .filter(|l| {
            ERROR_CODES
                .iter()
                .any(|c| l.starts_with(&format!("| `{c}` |")))
        })
        .map(str::to_owned)
        .collect();
    let table: Vec<String> = ERROR_TABLE
        .iter()
        .map(|(code, meaning)| format!("| `{code}` | {meaning} |"))
        .collect();
    assert_eq!(
        readme, table,
        "README.md's error table differs from teamkpi::ERROR_TABLE"
    );
    assert_eq!(ERROR_TABLE.len(), ERROR_CODES.len());
}
