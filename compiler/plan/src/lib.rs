//! Day 2: what a build says the live cluster is (`state.json`, [`state`]) and the ordered,
//! quorum-checked steps that move a live cluster from one build to the next (`hac plan`,
//! [`plan`]). Pure functions of the two states: no clock, no file, no network; the CLI reads
//! the previous bundle and prints.

pub mod codes;
pub mod plan;
pub mod state;

pub use plan::{plan, Plan, Step};
pub use state::{State, FORMAT, STATE_FILE};
