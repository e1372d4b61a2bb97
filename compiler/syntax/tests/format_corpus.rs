//! The formatter over every `.ha` file of the repository (tests/lang, tests/cluster,
//! out-examples, stdlib): the result means the same (same AST, spans aside), formatting is
//! idempotent, and every comment is kept. The out-examples must already be formatted.

use hac_core::FileId;
use hac_syntax::format::{comments, erase_spans, format_source};
use std::path::{Path, PathBuf};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ha_files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            ha_files_under(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "ha") {
            found.push(path);
        }
    }
}

fn corpus() -> Vec<PathBuf> {
    let root = repository_root();
    let mut files = Vec::new();
    for dir in ["tests/lang", "tests/cluster", "out-examples", "stdlib"] {
        ha_files_under(&root.join(dir), &mut files);
    }
    files
}

fn sorted_comments(text: &str) -> Vec<String> {
    let mut list: Vec<String> = comments(text).into_iter().map(str::to_string).collect();
    list.sort();
    list
}

#[test]
fn every_parsable_corpus_file_keeps_its_meaning_and_comments_and_formats_idempotently() {
    let files = corpus();
    assert!(
        files.len() > 100,
        "the corpus was not found: {} files",
        files.len()
    );
    let mut formatted_count = 0;
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("corpus files are UTF-8");
        let Ok(mut original) = hac_syntax::parse(FileId(0), &text) else {
            // An unparsable file (an error case of the corpus) must be refused.
            assert!(
                format_source(FileId(0), &text).is_err(),
                "{}",
                path.display()
            );
            continue;
        };
        let formatted = match format_source(FileId(0), &text) {
            Ok(formatted) => formatted,
            Err(error) => {
                failures.push(format!("{}: {error:?}", path.display()));
                continue;
            }
        };
        formatted_count += 1;
        let mut reparsed = hac_syntax::parse(FileId(0), &formatted).expect("formatted text parses");
        erase_spans(&mut original);
        erase_spans(&mut reparsed);
        if original != reparsed {
            failures.push(format!("{}: meaning changed", path.display()));
        }
        match format_source(FileId(0), &formatted) {
            Ok(again) if again == formatted => {}
            Ok(again) => failures.push(format!(
                "{}: not idempotent\n--- first\n{formatted}\n--- second\n{again}",
                path.display()
            )),
            Err(error) => failures.push(format!("{}: second pass {error:?}", path.display())),
        }
        if sorted_comments(&text) != sorted_comments(&formatted) {
            failures.push(format!("{}: comments changed", path.display()));
        }
        for line in formatted.lines() {
            // Trailing blanks may only come from inside strings, which are copied verbatim.
            let inside_string = text
                .lines()
                .any(|source| source.ends_with(line.trim_start()));
            if (line.ends_with(' ') || line.ends_with('\t')) && !inside_string {
                failures.push(format!(
                    "{}: trailing whitespace in {line:?}",
                    path.display()
                ));
            }
        }
        assert!(formatted.ends_with('\n') && !formatted.ends_with("\n\n"));
        assert!(
            !formatted.contains("\n\n\n") || text.contains("''"),
            "{}",
            path.display()
        );
    }
    assert!(
        formatted_count > 100,
        "only {formatted_count} files formatted"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
