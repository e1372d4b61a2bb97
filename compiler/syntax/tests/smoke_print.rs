//! Prints parses of the inputs in $HAC_PARSE_INPUTS (one per line) — a debugging aid that
//! also asserts the sample program below parses.
mod common;

#[test]
fn sample_program_parses() {
    let sample = "{ lib, ... }: let x = 1; in { a.b = x + 2; inherit x; c = [ 1 \"s${x}\" ]; }";
    let printed = common::sexpr_of(sample);
    assert!(!printed.starts_with("ERR"), "{printed}");
    if let Ok(inputs) = std::env::var("HAC_PARSE_INPUTS") {
        for line in inputs.lines() {
            println!("{line:40} => {}", common::sexpr_of(line));
        }
    }
}
