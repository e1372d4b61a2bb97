//! Development helper: `cargo run -p hac-eval --example haeval -- FILE [-A a.b]` prints the
//! value as JSON, or the rendered diagnostic (exit 1). `-E EXPR` evaluates an expression.

use hac_eval::{evaluate, evaluate_source, EvalOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = EvalOptions::default();
    let mut file = None;
    let mut expr = None;
    let mut quiet = false;
    let mut direct_json = false;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-A" => {
                i += 1;
                opts.attr_path = args
                    .get(i)
                    .map(|a| a.split('.').map(String::from).collect())
                    .unwrap_or_default();
            }
            "-q" => quiet = true,
            "-j" => direct_json = true,
            "-E" => {
                i += 1;
                expr = args.get(i).cloned();
            }
            other => file = Some(other.to_string()),
        }
        i += 1;
    }
    if direct_json {
        let Some(f) = file else { std::process::exit(2) };
        let ev = hac_eval::evaluate_to_json(std::path::Path::new(&f), &opts);
        match ev.result {
            Ok(s) if quiet => drop(s),
            Ok(s) => println!("{s}"),
            Err(d) => {
                eprint!("{}", d.render(&ev.sources, false));
                std::process::exit(1);
            }
        }
        return;
    }
    let ev = match (expr, file) {
        (Some(e), _) => evaluate_source(
            "<expr>",
            &e,
            &std::env::current_dir().unwrap_or_default(),
            &opts,
        ),
        (None, Some(f)) => evaluate(std::path::Path::new(&f), &opts),
        _ => {
            eprintln!("usage: haeval FILE | -E EXPR");
            std::process::exit(2);
        }
    };
    match ev.result {
        Ok(v) if quiet => drop(v),
        Ok(v) => println!("{}", v.to_json()),
        Err(d) => {
            eprint!("{}", d.render(&ev.sources, false));
            std::process::exit(1);
        }
    }
}
