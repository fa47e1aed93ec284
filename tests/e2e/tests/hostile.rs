//! Hostile text from clients and configuration goes through ciba-idp into the page: nothing runs,
//! nothing unsafe is linked, and a phone-sized layout holds.

use ciba_e2e::{Browser, DemoConfig, Idp};
use ciba_test_support::client::BackchannelAnswer;
use serde_json::{Value, json};

/// Script that would set `window.__xss` if it ever ran.
const SCRIPT_TAG: &str = "<script>window.__xss=1</script>";
const EVENT_HANDLER: &str = "<img src=x onerror=\"window.__xss=1\">";

fn binding_messages() -> Vec<String> {
    vec![
        format!("{SCRIPT_TAG} Till 3"),
        format!("{EVENT_HANDLER} Till 4"),
        "承認してください 🔐 مرحبا بك 4711".to_owned(),
        "W".repeat(10_000),
    ]
}

/// A right-to-left override disguising what is shown, and zero-width characters: refused by the
/// provider before any page could show it (`invalid_binding_message`).
const DISGUISED: &str = "\u{202E}exe.txt\u{202C} Pay\u{200B}Pal\u{200D} 4711";

/// The demo configuration plus a client and a scope whose every string is hostile.
fn hostile_config() -> DemoConfig {
    let client_name = format!("{EVENT_HANDLER}Evil {}", "Corp".repeat(50));
    let scope_name = format!("{SCRIPT_TAG}Read everything");
    let description = format!("{EVENT_HANDLER} {}", "A".repeat(10_000));
    let client = toml::toml! {
        client_id = "hostile"
        client_secret = "hostile-secret"
        client_uri = "javascript:window.__xss=1"
        logo_uri = "javascript:window.__xss=1"
        allowed_scopes = ["openid", "profile", "hostile.scope"]
    };
    let scope = toml::toml! {
        name = "hostile.scope"
        resources = ["<b>api</b>"]
    };
    let with = |mut table: toml::Table, fields: [(&str, &str); 1]| {
        for (name, value) in fields {
            table.insert(name.into(), value.into());
        }
        table
    };
    DemoConfig::load()
        .set("binding_message.max_chars", 10_000)
        .push("clients", with(client, [("client_name", &client_name)]))
        .push(
            "api_scopes",
            with(
                with(scope, [("display_name", &scope_name)]),
                [("description", &description)],
            ),
        )
}

/// What the page must never show: markup from the server as elements, a script that ran, a link
/// to anything but http(s), or a layout wider than the screen.
const INSPECT: &str = r#"
const root = document.body;
return {
  ran: window.__xss === 1,
  markup: [...root.querySelectorAll('main img, main script, main b, header img, header script')].length,
  unsafeLinks: [...root.querySelectorAll('a[href]')]
    .map((a) => a.getAttribute('href'))
    .filter((href) => !href.startsWith('/') && !href.startsWith('https://')),
  scrollWidth: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  text: root.textContent,
};
"#;

fn assert_safe(page: &Value, where_: &str) {
    assert_eq!(page["ran"], false, "{where_}: a script ran");
    assert_eq!(page["markup"], 0, "{where_}: server text became elements");
    assert_eq!(page["unsafeLinks"], json!([]), "{where_}: unsafe links");
    assert!(
        page["scrollWidth"].as_f64() <= page["viewport"].as_f64(),
        "{where_}: wider than the screen ({} > {})",
        page["scrollWidth"],
        page["viewport"]
    );
}

#[tokio::test]
async fn hostile_strings_are_shown_as_text_and_break_nothing() {
    let idp = Idp::start_with_config(hostile_config()).await;
    let messages = binding_messages();
    for message in &messages {
        idp.start_request_as(
            ("hostile", "hostile-secret"),
            "alice",
            "openid profile hostile.scope",
            Some(message),
            None,
        )
        .await;
    }
    let disguised = idp
        .client(("hostile", "hostile-secret"))
        .await
        .start_request("alice", "openid", Some(DISGUISED), None)
        .await
        .unwrap();
    assert!(
        matches!(&disguised, BackchannelAnswer::Refused(e) if e.error == "invalid_binding_message"),
        "{disguised:?}"
    );
    let browser = Browser::start().await;
    browser.emulate_phone(320).await;
    browser.goto(idp.url("/ciba/")).await;
    browser.sign_in("alice", "alice").await;
    browser.wait_for("a[data-request-id]").await;
    let links = browser
        .driver
        .find_all(thirtyfour::By::Css("a[data-request-id]"))
        .await
        .unwrap();
    assert_eq!(links.len(), messages.len());

    let list = browser.eval(INSPECT).await;
    assert_safe(&list, "list");
    let text = list["text"].as_str().unwrap();
    for message in &messages {
        assert!(
            text.contains(message.as_str()),
            "the list shows {message:.40} literally"
        );
    }
    browser.screenshot("hostile-list-320").await;

    let mut ids = Vec::new();
    for link in links {
        ids.push(link.attr("data-request-id").await.unwrap().unwrap());
    }
    for id in ids {
        browser.goto(idp.url(&format!("/ciba/requests/{id}"))).await;
        browser.wait_for("#approve").await;
        let page = browser.eval(INSPECT).await;
        assert_safe(&page, &format!("consent {id}"));
        let shown = browser
            .eval("return document.querySelector('.binding-message').textContent;")
            .await;
        assert!(
            messages.iter().any(|message| shown == message.as_str()),
            "the binding message is shown exactly: {shown:.60}"
        );
        let text = page["text"].as_str().unwrap();
        assert!(
            text.contains(SCRIPT_TAG) && text.contains("Read everything"),
            "scope name as text"
        );
        assert!(text.contains("Evil Corp"), "client name as text");
    }
    browser.screenshot("hostile-consent-320").await;
    browser.quit().await;
}
