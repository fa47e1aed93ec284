//! The code check: with it on, the person picks the code the other device shows from three the host
//! sends (the real one and two look-alikes), so a sign-in they did not start cannot be approved by
//! habit. The page never knows which is right; after a wrong pick only Deny is left.

use leptos::prelude::*;

use crate::tr;

/// "Which code does the other device show?": the host's three choices — the binding message and two
/// look-alikes it made, in its order — as radio buttons. The page never knows which is right: Approve
/// sends the pick and the host checks it. After a wrong pick (`locked`) the choices are closed and
/// only Deny is left.
#[component]
pub fn CodeCheck(
    choices: Vec<String>,
    /// The choice the person has picked so far.
    picked: RwSignal<Option<String>>,
    /// The host refused a pick: no second guess.
    #[prop(into)]
    locked: Signal<bool>,
) -> impl IntoView {
    let options = choices
        .into_iter()
        .enumerate()
        .map(|(index, choice)| {
            let id = format!("code-choice-{index}");
            let checked = {
                let choice = choice.clone();
                move || picked.with(|picked| picked.as_ref() == Some(&choice))
            };
            let pick = {
                let choice = choice.clone();
                move |_| picked.set(Some(choice.clone()))
            };
            view! {
                <li>
                    <input
                        type="radio"
                        name="code-choice"
                        id=id.clone()
                        value=index.to_string()
                        prop:checked=checked
                        disabled=move || locked.get()
                        on:change=pick
                    />
                    <label for=id class="binding-message" dir="auto">
                        {choice}
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <fieldset class="code-check" data-state="code-check" data-locked=move || locked.get().to_string()>
            <legend>{tr!(code_question)}</legend>
            <ul>{options}</ul>
            {move || {
                locked
                    .get()
                    .then(|| {
                        view! {
                            <p class="alert" role="alert" data-state="wrong-code">
                                {tr!(wrong_code)}
                            </p>
                        }
                    })
            }}
        </fieldset>
    }
}
