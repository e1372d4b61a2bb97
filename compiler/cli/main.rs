//! `hac`: the command line, a thin layer over the stage crates.
fn main() {
    eprintln!("hac: not yet wired");
    std::process::exit(2);
}
