//! `hac plan`: the previous bundle's state, this build's, and the steps between them.

use crate::args::{ClockFlags, DiffFormat, EvalFlags};
use crate::report::{Outcome, Printer};
use std::path::{Path, PathBuf};

#[allow(clippy::too_many_arguments)]
pub fn run(
    p: &Printer,
    file: &Path,
    from: &Path,
    failed: &[String],
    secrets: Option<PathBuf>,
    format: DiffFormat,
    play: Option<&Path>,
    clock: &ClockFlags,
    flags: &EvalFlags,
) -> Outcome {
    let previous = match super::build::read_previous_state(p, from, flags) {
        Ok(state) => super::build::Live {
            state,
            failed: failed.iter().cloned().collect(),
        },
        Err(o) => return o,
    };
    let compiled = match super::build::compile(p, file, secrets, Some(&previous), clock, flags) {
        Ok(c) => c,
        Err(o) => return o,
    };
    match hac_plan::plan::plan_with_failed(&previous.state, &compiled.state, &previous.failed) {
        Ok(plan) => {
            let text = match format {
                DiffFormat::Text => plan.to_text(),
                DiffFormat::Json => plan.to_json(),
            };
            if let Some(out) = play {
                if let Err(o) = write_play(p, file, out, &plan) {
                    return o;
                }
            }
            crate::report::out(&text);
            Outcome::Success
        }
        Err(diags) => {
            p.emit(&compiled.checked.sources, &diags);
            Outcome::InputError
        }
    }
}

/// The plan's Ansible play, written atomically like `hac graph -o`.
fn write_play(p: &Printer, file: &Path, out: &Path, plan: &hac_plan::Plan) -> Result<(), Outcome> {
    if let Some(reason) = super::graph::refusal(file, out) {
        p.error(
            None,
            &format!("cannot write the play to {}: {reason}", out.display()),
            Some("choose another file with --play, e.g. --play plan.yml; nothing was written"),
        );
        return Err(Outcome::IoError);
    }
    let mut text = String::from(
        "# The steps of `hac plan`, in order: one play per step, its last task the health gate.\n\
         # Run with the inventories of the previous and the new bundle (removed hosts are only\n\
         # in the previous one), `-e bundle=<new bundle folder>` (archives: `--format tar`), and,\n\
         # when a step makes a\n\
         # bootstrap token, `-e hac_bootstrap_token=<the token of the secrets file>`.\n",
    );
    text.push_str(&hac_render::yaml::value_to_yaml(&plan.ansible_play()));
    super::graph::write_atomically(out, &text).map_err(|e| {
        p.error(
            None,
            &format!("cannot write the play to {}: {e}", out.display()),
            Some("nothing was changed: a file already there is intact"),
        );
        Outcome::IoError
    })?;
    p.say(&format!("wrote {}", out.display()));
    Ok(())
}
