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

/// Each corpus file with the whitespace between its tokens replaced: by one space (a newline
/// after line comments), by a newline, or by a mix with comments and blank lines.
fn respaced(text: &str, style: usize) -> String {
    let ranges = hac_syntax::format::token_ranges(text);
    let mut out = String::new();
    for (index, &(start, end)) in ranges.iter().enumerate() {
        if index > 0 {
            let previous = &text[ranges[index - 1].0..ranges[index - 1].1];
            let had_space = ranges[index - 1].1 < start;
            let after_line_comment = previous.starts_with('#');
            let separator = match style {
                _ if after_line_comment => "\n",
                // Tokens written together stay together (`-1`, `x.y`, `{a`): only blanks that
                // were there are changed, so the meaning cannot change.
                _ if !had_space => "",
                0 => " ",
                1 => "\n",
                _ => ["\n\n\n", " /* c */ ", " # c\n", "\t", "\n  "][index % 5],
            };
            out.push_str(separator);
        }
        out.push_str(&text[start..end]);
    }
    out
}

#[test]
fn corpus_files_respaced_keep_their_meaning_and_format_idempotently() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for path in corpus() {
        let text = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
        let Ok(mut original) = hac_syntax::parse(FileId(0), &text) else {
            continue;
        };
        erase_spans(&mut original);
        for style in 0..3 {
            let input = respaced(&text, style);
            let Ok(mut respaced_ast) = hac_syntax::parse(FileId(0), &input) else {
                failures.push(format!(
                    "{} style {style}: the respaced input does not parse",
                    path.display()
                ));
                continue;
            };
            erase_spans(&mut respaced_ast);
            assert_eq!(
                original,
                respaced_ast,
                "respacing changed {}",
                path.display()
            );
            match format_source(FileId(0), &input) {
                Ok(formatted) => {
                    checked += 1;
                    let again = format_source(FileId(0), &formatted).map_err(|e| format!("{e:?}"));
                    if again.as_ref() != Ok(&formatted) {
                        failures.push(format!(
                            "{} style {style}: not idempotent\n--- first\n{formatted}\n--- second\n{}",
                            path.display(),
                            again.unwrap_or_else(|e| e)
                        ));
                    }
                    if sorted_comments(&input) != sorted_comments(&formatted) {
                        failures.push(format!(
                            "{} style {style}: comments changed",
                            path.display()
                        ));
                    }
                }
                Err(error) => failures.push(format!("{} style {style}: {error:?}", path.display())),
            }
        }
    }
    assert!(checked > 300, "only {checked} respaced files formatted");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
