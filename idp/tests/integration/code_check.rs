//! The code check, enforced by the server (issue 13 point 4): for a client with
//! `verify_binding_message`, the page gets three choices and never the answer, and an approval without
//! the right pick is refused — a wrong pick leaves only Deny.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{Idp, assert_problem};

const WRONG_CODE: &str = "https://ciba-approval.dev/problems/wrong-code";
const CODE_REQUIRED: &str = "https://ciba-approval.dev/problems/code-required";

/// Starts a request through the till (`pos-terminal`, the check on); returns its `auth_req_id`.
async fn start_at_till(idp: &Idp, binding_message: &str) -> String {
    let response = idp
        .backchannel_as(
            ("pos-terminal", "pos-secret"),
            &[
                ("scope", "openid profile"),
                ("login_hint", "alice"),
                ("binding_message", binding_message),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["auth_req_id"].as_str().unwrap().to_owned()
}

/// The pending request of the browser's user that offers `message` among its choices.
async fn pending_with(idp: &Idp, alice: &Client, message: &str) -> Value {
    let list = idp.get_json(alice, "/api/ciba/requests").await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|request| {
            request["bindingMessageChoices"]
                .as_array()
                .is_some_and(|choices| choices.contains(&json!(message)))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no request with the choice {message}: {list}"))
}

fn approval(internal_id: &str, pick: Option<&str>) -> Value {
    let mut body = json!({
        "internalId": internal_id,
        "scopesValuesConsented": ["openid", "profile"],
        "description": null,
    });
    if let Some(pick) = pick {
        body["bindingMessage"] = json!(pick);
    }
    body
}

/// Shows three distinct choices, the real one among them, and no binding message — in the list and
/// in the single request, the same three in the same order each time.
fn assert_choices_only(request: &Value, message: &str) -> Vec<String> {
    assert_eq!(request["verifyBindingMessage"], json!(true), "{request}");
    assert!(
        request["bindingMessage"].is_null(),
        "the answer leaks: {request}"
    );
    let choices: Vec<String> =
        serde_json::from_value(request["bindingMessageChoices"].clone()).unwrap();
    assert_eq!(choices.len(), 3, "{choices:?}");
    assert_eq!(choices.iter().filter(|c| *c == message).count(), 1);
    assert!(choices[0] != choices[1] && choices[1] != choices[2] && choices[0] != choices[2]);
    choices
}

#[tokio::test]
async fn an_approval_needs_the_right_pick_and_a_wrong_one_leaves_only_deny() {
    let idp = Idp::start().await;
    let auth_req_id = start_at_till(&idp, "Kasse 3: 4711").await;
    let alice = idp.browser("alice").await;
    let listed = pending_with(&idp, &alice, "Kasse 3: 4711").await;
    let choices = assert_choices_only(&listed, "Kasse 3: 4711");
    for choice in &choices {
        // Same words and shape; only the digits differ.
        assert!(
            choice.starts_with("Kasse ") && choice.len() == 13,
            "{choice}"
        );
        assert_eq!(&choice[7..9], ": ");
    }
    let internal_id = listed["internalId"].as_str().unwrap().to_owned();
    let one = idp
        .get_json(&alice, &format!("/api/ciba/requests/{internal_id}"))
        .await;
    assert_eq!(
        assert_choices_only(&one, "Kasse 3: 4711"),
        choices,
        "stable"
    );

    // No pick: refused, nothing locked.
    let refused = assert_problem(
        idp.complete(&alice, approval(&internal_id, None)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(refused["type"], CODE_REQUIRED, "{refused}");
    // A wrong pick: refused, and from now on even the right one is.
    let wrong = choices.iter().find(|c| *c != "Kasse 3: 4711").unwrap();
    let refused = assert_problem(
        idp.complete(&alice, approval(&internal_id, Some(wrong)))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(refused["type"], WRONG_CODE, "{refused}");
    let refused = assert_problem(
        idp.complete(&alice, approval(&internal_id, Some("Kasse 3: 4711")))
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(refused["type"], WRONG_CODE, "locked: {refused}");
    // Deny needs no pick.
    let denied = idp
        .complete(
            &alice,
            json!({ "internalId": internal_id, "scopesValuesConsented": null, "description": null }),
        )
        .await;
    assert_eq!(denied.status(), StatusCode::NO_CONTENT);
    let (_, denied) = idp
        .poll_json(("pos-terminal", "pos-secret"), &auth_req_id)
        .await;
    assert_eq!(denied["error"], "access_denied");

    // A fresh request with the right pick: tokens.
    let auth_req_id = start_at_till(&idp, "Kasse 3: 0815").await;
    let listed = pending_with(&idp, &alice, "Kasse 3: 0815").await;
    assert_choices_only(&listed, "Kasse 3: 0815");
    let internal_id = listed["internalId"].as_str().unwrap();
    let approved = idp
        .complete(&alice, approval(internal_id, Some("Kasse 3: 0815")))
        .await;
    assert_eq!(approved.status(), StatusCode::NO_CONTENT);
    let (status, tokens) = idp
        .poll_json(("pos-terminal", "pos-secret"), &auth_req_id)
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["access_token"].is_string());
}

#[tokio::test]
async fn a_code_without_ascii_letters_or_digits_is_checked_too() {
    let idp = Idp::start().await;
    let alice = idp.browser("alice").await;
    for message in ["４７１１", "★ → ★", "Код Москва"] {
        let auth_req_id = start_at_till(&idp, message).await;
        let listed = pending_with(&idp, &alice, message).await;
        let choices = assert_choices_only(&listed, message);
        if message == "４７１１" {
            for choice in &choices {
                assert!(
                    choice.chars().all(|c| ('０'..='９').contains(&c)),
                    "{choice}"
                );
            }
        }
        let internal_id = listed["internalId"].as_str().unwrap();
        let refused = assert_problem(
            idp.complete(&alice, approval(internal_id, None)).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(refused["type"], CODE_REQUIRED);
        let approved = idp
            .complete(&alice, approval(internal_id, Some(message)))
            .await;
        assert_eq!(approved.status(), StatusCode::NO_CONTENT, "{message}");
        let (status, _) = idp
            .poll_json(("pos-terminal", "pos-secret"), &auth_req_id)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn without_the_check_the_message_is_shown_and_a_pick_is_ignored() {
    let idp = Idp::start().await;
    idp.start_request("alice", "openid profile", "Desk 7").await;
    let alice = idp.browser("alice").await;
    let list = idp.get_json(&alice, "/api/ciba/requests").await;
    let request = &list[0];
    assert_eq!(request["bindingMessage"], "Desk 7");
    assert_eq!(request["verifyBindingMessage"], json!(false));
    assert!(request.get("bindingMessageChoices").is_none(), "{request}");
    let approved = idp
        .complete(
            &alice,
            approval(request["internalId"].as_str().unwrap(), Some("Desk 8")),
        )
        .await;
    assert_eq!(approved.status(), StatusCode::NO_CONTENT);
}
