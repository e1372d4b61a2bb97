//! What the `hac` command line shares with its tests: the registry of diagnostic codes
//! (`hac explain`), so that tests/docs_reference.rs checks the one list the binary uses
//! instead of a copy. Everything else is the binary's (`main.rs`).

pub mod codes;
