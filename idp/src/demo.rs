//! `--demo`: two pending requests for alice, so the first screen of `make run` is not empty.

use crate::clock::now;
use crate::db::NewRequest;
use crate::oauth::random_token;
use crate::scopes::Scopes;
use crate::state::AppState;

const DEMO_REQUESTS: [(&str, &str, &str); 2] = [
    (
        "callcentre",
        "openid profile email api1.read",
        "Caller ref. 4711",
    ),
    (
        "pos-terminal",
        "openid profile api1.read api1.write offline_access",
        "Till 3: 25.90 EUR",
    ),
];

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let Some(alice) = state.config.user_by_username("alice") else {
        anyhow::bail!("--demo needs a user 'alice' in the configuration");
    };
    let now = now();
    for (offset, (client_id, scopes, binding_message)) in DEMO_REQUESTS.into_iter().enumerate() {
        let Some(client) = state.config.client(client_id) else {
            anyhow::bail!("--demo needs the client '{client_id}' in the configuration");
        };
        let internal_id = uuid::Uuid::new_v4().simple().to_string();
        let created_at = now - 60 * (offset as i64 + 1);
        let code_choices = client
            .verify_binding_message
            .then(|| crate::code_check::choices(binding_message));
        state
            .db
            .insert_request(&NewRequest {
                internal_id: &internal_id,
                auth_req_id: &random_token(),
                client_id,
                subject: &alice.subject,
                scopes: &Scopes::parse(scopes),
                binding_message: Some(binding_message),
                binding_message_choices: code_choices.as_deref(),
                acr_values: "",
                resource_indicators: "",
                created_at,
                expires_at: created_at + i64::from(client.max_expiry_secs),
                interval_secs: i64::from(state.config.poll_interval_secs),
            })
            .await?;
        tracing::info!(
            "demo login request for alice: {}/ciba?id={internal_id}",
            state.issuer
        );
    }
    Ok(())
}
