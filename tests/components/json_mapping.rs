//! src/json.rs against serde, the reference encoding of the contract.

use ciba_approval::json;
use ciba_contract::{
    CompleteRequest, EmbeddingSettings, LoginRequest, Outcome, Problem, SessionInfo,
};
use wasm_bindgen_test::*;

use crate::fake_api::login_request;

/// src/json.rs reads and writes the contract by hand; serde (what ciba-idp and the OpenAPI document
/// use) is the reference. A misspelt member name would make every request "unreadable".
#[wasm_bindgen_test]
fn the_browser_json_mapping_matches_the_contract() {
    let mut full = login_request("r1", "Kitchen TV", "ABC-123");
    full.acr_values = vec!["mfa".into()];
    full.tenant = Some("t1".into());
    full.idp = Some("local".into());
    full.resource_indicators = vec!["https://api.example".into()];
    full.verify_binding_message = true;
    full.binding_message_choices = Some(vec!["ABC-123".into(), "ABC-456".into(), "ABC-789".into()]);
    full.client.logo_uri = Some("https://cdn.example/logo.png".into());
    full.api_scopes[0].resources = vec!["api1".into()];
    let mut sparse = login_request("r2", "Till", "X");
    sparse.binding_message = None;
    sparse.client.client_uri = None;
    for request in [full, sparse] {
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            json::parse::<LoginRequest>(&text),
            Some(request.clone()),
            "{text}"
        );
        let list = serde_json::to_string(&vec![request.clone()]).unwrap();
        assert_eq!(json::parse::<Vec<LoginRequest>>(&list), Some(vec![request]));
    }
    // Members the contract lets a host leave out.
    let minimal = r#"{"internalId":"r3","client":{"clientId":"c","clientName":"C"},
        "identityScopes":[{"value":"openid","displayName":"Id","required":true,"emphasize":false}],
        "apiScopes":[],"createdAt":"2026-01-01T00:00:00Z","expiresAt":"2026-01-01T00:05:00Z"}"#;
    assert_eq!(
        json::parse::<LoginRequest>(minimal),
        serde_json::from_str::<LoginRequest>(minimal).ok()
    );
    assert_eq!(json::parse::<LoginRequest>(r#"{"internalId":1}"#), None);

    let session = SessionInfo {
        subject: "818727".into(),
        name: "Alice".into(),
    };
    assert_eq!(
        json::parse(&serde_json::to_string(&session).unwrap()),
        Some(session)
    );
    let embedding = EmbeddingSettings {
        allowed_origins: vec!["https://portal.example".into()],
    };
    assert_eq!(
        json::parse(&serde_json::to_string(&embedding).unwrap()),
        Some(embedding)
    );
    for problem in [
        Problem {
            problem_type: "about:blank".into(),
            title: "Conflict".into(),
            status: 409,
            detail: Some("Already decided.".into()),
            outcome: Some(Outcome::Denied),
        },
        Problem {
            problem_type: "https://example.com/problems/x".into(),
            title: "Not Found".into(),
            status: 404,
            detail: None,
            outcome: None,
        },
    ] {
        assert_eq!(
            json::parse(&serde_json::to_string(&problem).unwrap()),
            Some(problem)
        );
    }

    for decision in [
        CompleteRequest::approve(
            "r1",
            vec!["openid".into(), "email".into()],
            Some("Kitchen TV".into()),
        ),
        CompleteRequest::approve("r1", vec!["openid".into()], None).with_code("ABC-123"),
        CompleteRequest::deny("r1"),
    ] {
        let text = json::stringify(&decision);
        assert_eq!(
            serde_json::from_str::<CompleteRequest>(&text).unwrap(),
            decision,
            "{text}"
        );
    }
}
