//! An action in words: what it asks before it runs, when it applies, why it cannot run,
//! and what a change met.

use shared::inputs::InputDefinition;
use shared::limits::MAX_ACTIONS_PER_SERVICE;
use shared::run_rules::{AvailableWhen, Confirm};

/// Why an action's button is off when its configuration cannot be opened.
pub const UNAVAILABLE_REASON: &str = "Unavailable: its configuration cannot be opened. A manager must re-enter its secrets or delete it.";

/// The hint under a button whose newest configuration is still spreading.
pub const PROPAGATING_HINT: &str = "Just changed; may take a moment to be ready";

/// The card's note while a saved configuration spreads to every location.
pub const PROPAGATING_NOTE: &str = "Saved; reaching every Cloudflare location (up to a minute).";

/// "This action's configuration cannot be opened", with the worker's reason when it gave
/// one.
fn cannot_be_opened(problem: Option<&str>) -> String {
    match problem.map(|text| text.trim().trim_end_matches('.')) {
        Some(reason) if !reason.is_empty() => {
            format!("This action's configuration cannot be opened: {reason}.")
        }
        _ => "This action's configuration cannot be opened.".to_owned(),
    }
}

/// The card's warning for an action whose configuration cannot be opened.
pub fn unreadable_warning(problem: Option<&str>) -> String {
    format!(
        "{} Re-enter its secrets (Edit) and rotate its signing secret, or delete it.",
        cannot_be_opened(problem)
    )
}

/// The edit form's note for such an action, whose fields may open blank.
pub fn unreadable_form_note(problem: Option<&str>) -> String {
    format!(
        "{} Fill in whatever is missing below, type every secret header value again and \
         save; then rotate its signing secret.",
        cannot_be_opened(problem)
    )
}

/// `Revision 3`, on an action's card.
pub fn revision_label(revision: u64) -> String {
    format!("Revision {revision}")
}

/// What the edit form says when its save met someone else's change (409 `edit_conflict`)
/// and it has loaded their version.
pub fn edit_conflict_message(revision: u64) -> String {
    format!(
        "Someone else changed this action while you were editing (it is now revision \
         {revision}). Their version is loaded below; make your change again and save."
    )
}

/// What an action's card says when a change from it (enable, disable, rotate) met someone
/// else's change: nothing was done, and the card now shows their version.
pub fn card_conflict_message(revision: u64) -> String {
    format!(
        "Someone else changed this action meanwhile (it is now revision {revision}), so \
         nothing was done. Its current version is shown here; check it and try again."
    )
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// An action card's line about its inputs: `Asks for: Region (select), Version (string)`;
/// `None` when it asks for nothing.
pub fn asks_for(inputs: &[InputDefinition]) -> Option<String> {
    (!inputs.is_empty()).then(|| {
        let items: Vec<String> = inputs
            .iter()
            .map(|input| format!("{} ({})", input.label.trim(), input.input_type.as_str()))
            .collect();
        format!("Asks for: {}", items.join(", "))
    })
}

/// An action card's line about its confirmation.
pub fn confirm_summary(confirm: &Confirm) -> &'static str {
    if confirm.type_to_confirm {
        "Asks to confirm by typing its name"
    } else {
        "Asks to confirm"
    }
}

/// An action card's line about when it applies: `Only while triggered or acknowledged`,
/// `Only for high urgency incidents`, or both; `None` when it always applies.
pub fn availability_summary(rule: &AvailableWhen) -> Option<String> {
    let statuses = rule.statuses.as_ref().map(|statuses| {
        let names: Vec<&str> = statuses.iter().map(|status| status.as_str()).collect();
        format!("while {}", or_list(&names))
    });
    let urgencies = rule.urgencies.as_ref().map(|urgencies| {
        let names: Vec<&str> = urgencies.iter().map(|urgency| urgency.as_str()).collect();
        format!("for {} urgency incidents", or_list(&names))
    });
    match (statuses, urgencies) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => Some(format!("Only {one}")),
        (Some(statuses), Some(urgencies)) => Some(format!("Only {statuses}, {urgencies}")),
    }
}

/// `1 of 3 used`.
pub fn actions_used(count: usize) -> String {
    format!("{count} of {MAX_ACTIONS_PER_SERVICE} used")
}
