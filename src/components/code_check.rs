use leptos::prelude::*;

use crate::tr;

/// The binding message and two look-alikes (each digit and letter replaced by a random one of its
/// kind), shuffled; with the position of the real one. `None` when the message has no letters or
/// digits to vary.
pub fn code_choices(message: &str) -> Option<(Vec<String>, usize)> {
    if !message.chars().any(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut choices = vec![message.to_owned()];
    let mut attempts = 0;
    while choices.len() < 3 && attempts < 50 {
        attempts += 1;
        let decoy = look_alike(message);
        if !choices.contains(&decoy) {
            choices.push(decoy);
        }
    }
    if choices.len() < 3 {
        return None;
    }
    let correct = random_below(3);
    choices.swap(0, correct);
    Some((choices, correct))
}

fn look_alike(message: &str) -> String {
    const DIGITS: &[u8] = b"0123456789";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    let pick = |set: &[u8]| char::from(set[random_below(set.len())]);
    message
        .chars()
        .map(|c| match c {
            '0'..='9' => pick(DIGITS),
            'A'..='Z' => pick(UPPER),
            'a'..='z' => pick(LOWER),
            other => other,
        })
        .collect()
}

fn random_below(n: usize) -> usize {
    ((js_sys::Math::random() * n as f64) as usize).min(n - 1)
}

/// "Which code does the other device show?": three choices; the right one unlocks Approve, a wrong
/// one locks it for good on this page.
#[component]
pub fn CodeCheck(
    choices: Vec<String>,
    correct: usize,
    verified: RwSignal<bool>,
    picked_wrong: RwSignal<bool>,
) -> impl IntoView {
    let options = choices
        .into_iter()
        .enumerate()
        .map(|(index, choice)| {
            let id = format!("code-choice-{index}");
            view! {
                <li>
                    <input
                        type="radio"
                        name="code-choice"
                        id=id.clone()
                        value=index.to_string()
                        disabled=move || picked_wrong.get() || verified.get()
                        on:change=move |_| {
                            if index == correct {
                                verified.set(true);
                            } else {
                                picked_wrong.set(true);
                            }
                        }
                    />
                    <label for=id class="binding-message" dir="auto">
                        {choice}
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <fieldset class="code-check" data-state="code-check">
            <legend>{tr!(code_question)}</legend>
            <ul>{options}</ul>
            {move || {
                picked_wrong
                    .get()
                    .then(|| {
                        view! {
                            <p class="alert" role="alert">
                                {tr!(wrong_code)}
                            </p>
                        }
                    })
            }}
        </fieldset>
    }
}
