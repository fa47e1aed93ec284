//! The approval experience end to end: language, a decision made elsewhere, a request running out
//! of time while open, the code check, and how the pages look on a phone and a desktop, light and
//! dark.

use std::time::Duration;

use ciba_e2e::{Browser, DEMO_CLIENT, Idp, assert_fits_phone};
use serde_json::json;
use thirtyfour::{Key, components::SelectElement, prelude::*};

#[tokio::test]
async fn a_german_browser_gets_german_and_a_chosen_language_is_kept() {
    let idp = Idp::start().await;
    idp.ask_alice("openid profile", "Kasse 3: 4711").await;
    let browser = Browser::start_in_language("de-DE").await;
    browser.goto(idp.url("/ciba/")).await;
    browser.sign_in("alice", "alice").await;

    let row = browser.wait_for("a[data-request-id]").await;
    browser.wait_for_text("main h1", "Anmeldeanfragen").await;
    assert_eq!(browser.page_language().await, json!("de"));
    let row_text = row.text().await.unwrap();
    assert!(
        row_text.contains("Gestartet") && row_text.contains("noch"),
        "times in German: {row_text}"
    );
    assert_eq!(browser.text_of("#sign-out").await, "Abmelden");
    row.click().await.unwrap();
    browser.wait_for_text("#approve", "Genehmigen").await;
    browser.wait_for_text("#deny", "Ablehnen").await;
    // German runs about a third longer than English: the phone layout still holds.
    browser.emulate_phone(320).await;
    browser.show_scopes().await;
    assert_fits_phone(&browser.layout_report().await, 320);
    browser.screenshot("consent-320-de").await;

    // The reader prefers English here: the choice outlives a reload.
    SelectElement::new(&browser.wait_for("select#language").await)
        .await
        .unwrap()
        .select_by_value("en")
        .await
        .unwrap();
    browser.wait_for_text("#approve", "Approve").await;
    browser.driver.refresh().await.unwrap();
    browser.wait_for_text("#approve", "Approve").await;
    assert_eq!(browser.page_language().await, json!("en"));
    browser.quit().await;
}

#[tokio::test]
async fn a_decision_made_in_another_tab_is_reported_not_repeated() {
    let idp = Idp::start().await;
    let auth_req_id = idp.ask_alice("openid profile", "Till 3: 4711").await;
    let browser = Browser::on_first_request_as(&idp, "alice").await;
    let consent_url = browser.driver.current_url().await.unwrap();

    // The same request, denied in a second tab while the first still shows it.
    let driver = browser.driver.clone();
    browser
        .driver
        .in_new_tab(|| async move {
            driver.goto(consent_url.as_str()).await?;
            let deny = driver
                .query(By::Css("#deny"))
                .wait(Duration::from_secs(10), Duration::from_millis(50))
                .first()
                .await?;
            deny.click().await?;
            driver
                .query(By::Css("[data-outcome=denied]"))
                .wait(Duration::from_secs(10), Duration::from_millis(50))
                .first()
                .await?;
            Ok(())
        })
        .await
        .unwrap();

    browser.click("#approve").await;
    assert!(
        browser
            .text_of("[data-outcome=denied]")
            .await
            .contains("You already denied this."),
        "the first tab learns what happened instead of approving"
    );
    assert_eq!(idp.poll_error(&auth_req_id).await, "access_denied");
    browser.quit().await;
}

#[tokio::test]
async fn a_request_that_expires_while_open_can_no_longer_be_approved() {
    let idp = Idp::start().await;
    let browser = Browser::signed_in_as(&idp, "alice").await;
    browser.wait_for("[data-state=empty]").await;

    let auth_req_id = idp
        .start_request_as(
            ("demo-client", "demo-secret"),
            "alice",
            "openid profile",
            Some("Till 3: 4711"),
            Some(6),
        )
        .await;
    browser.driver.refresh().await.unwrap();
    browser.open_first_request().await;

    let notice = browser.wait_for("[data-state=expired]").await;
    assert!(notice.text().await.unwrap().contains("expired"));
    assert!(!browser.exists("#approve").await, "Approve is gone");
    assert!(!browser.exists("#deny").await);
    assert_eq!(browser.text_of("time.time-left").await, "Expired");
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "expired_token"
    );

    browser.click("[data-state=expired] a").await;
    browser.wait_for("[data-state=empty]").await;
    browser.quit().await;
}

/// Waits until the element's enabled state is `enabled` (the page updates after an event).
async fn wait_enabled(element: &WebElement, enabled: bool) {
    for _ in 0..50 {
        if element.is_enabled().await.unwrap() == enabled {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the element never became {}",
        if enabled { "enabled" } else { "disabled" }
    );
}

/// The code check's labels on the open consent page, with their texts.
async fn code_choices(browser: &Browser) -> Vec<(WebElement, String)> {
    browser.wait_for(".code-check label").await;
    let mut choices = Vec::new();
    for label in browser
        .driver
        .find_all(By::Css(".code-check label"))
        .await
        .unwrap()
    {
        let text = label.text().await.unwrap();
        choices.push((label, text));
    }
    choices
}

#[tokio::test]
async fn the_code_check_asks_for_the_tills_code_before_approving() {
    let idp = Idp::start().await;
    let pos = ("pos-terminal", "pos-secret");
    let code = "Kasse 3: 4711";
    let auth_req_id = idp
        .start_request_as(pos, "alice", "openid profile", Some(code), None)
        .await;
    let browser = Browser::signed_in_as(&idp, "alice").await;
    let row = browser.text_of("a[data-request-id]").await;
    assert!(
        !row.contains("4711"),
        "the list does not give the code away: {row}"
    );
    assert!(
        browser
            .exists("a[data-request-id] [data-state=pick-code]")
            .await
    );
    browser.open_first_request().await;

    let approve = browser.wait_for("#approve").await;
    assert!(
        !approve.is_enabled().await.unwrap(),
        "locked until the code is picked"
    );
    assert!(
        !browser.exists(".binding > .binding-message").await,
        "the code itself is not shown to be copied"
    );
    let choices = code_choices(&browser).await;
    assert_eq!(choices.len(), 3);
    for (_, text) in &choices {
        // The same words and shape: only the other device tells them apart.
        assert!(
            text.starts_with("Kasse ") && text.len() == code.len(),
            "{text}"
        );
    }
    let (right, _) = choices
        .iter()
        .find(|(_, text)| text == code)
        .expect("the real code is among the choices");
    right.click().await.unwrap();
    wait_enabled(&approve, true).await;
    approve.click().await.unwrap();
    browser.wait_for("[data-outcome=approved]").await;
    let tokens = idp.poll_json(pos, &auth_req_id).await.1;
    assert_eq!(tokens["scope"], "openid profile", "{tokens}");

    // Another request, a wrong pick: the server refuses it, and only Deny is left.
    let code = "Kasse 3: 0815";
    let auth_req_id = idp
        .start_request_as(pos, "alice", "openid profile", Some(code), None)
        .await;
    browser.goto(idp.url("/ciba/")).await;
    browser.open_first_request().await;
    let approve = browser.wait_for("#approve").await;
    let choices = code_choices(&browser).await;
    let (wrong, _) = choices.iter().find(|(_, text)| text != code).unwrap();
    wrong.click().await.unwrap();
    wait_enabled(&approve, true).await;
    approve.click().await.unwrap();
    browser.wait_for("[data-state=wrong-code]").await;
    wait_enabled(&approve, false).await;
    for radio in browser
        .driver
        .find_all(By::Css("input[name=code-choice]"))
        .await
        .unwrap()
    {
        assert!(!radio.is_enabled().await.unwrap(), "no second guess");
    }
    browser.deny().await;
    let denied = idp.poll_json(pos, &auth_req_id).await.1;
    assert_eq!(denied["error"], "access_denied", "{denied}");
    browser.quit().await;
}

/// Screenshots for people (under `target/screenshots/`), and at each size and theme the checks a
/// person would make by looking: nothing scrolls sideways, every text meets AA contrast, and dark
/// really is dark.
#[tokio::test]
async fn list_and_consent_look_right_on_phone_and_desktop_in_light_and_dark() {
    let idp = Idp::start().await;
    // The oldest, decided first so that "Recently decided" shows under the list.
    idp.start_request_as(
        ("pos-terminal", "pos-secret"),
        "alice",
        "openid",
        Some("Till 7: 0042"),
        None,
    )
    .await;
    idp.ask_alice(
        "openid profile email api1.read offline_access",
        "Till 3: 4711",
    )
    .await;
    idp.start_request_as(
        ("callcentre", "callcentre-secret"),
        "alice",
        "openid profile",
        Some("Call 0815"),
        None,
    )
    .await;
    let browser = Browser::signed_in_as(&idp, "alice").await;
    let oldest = browser.first_request_id().await;
    browser
        .goto(idp.url(&format!("/ciba/requests/{oldest}")))
        .await;
    browser.deny().await;
    browser.goto(idp.url("/ciba/")).await;
    let recent = browser.text_of("section.recent li").await;
    assert!(
        recent.contains("Fabrikam Till 3") && recent.contains("Denied"),
        "{recent}"
    );
    let request_id = browser.first_request_id().await;

    for (width, height, mobile) in [(360, 740, true), (1280, 800, false)] {
        browser.emulate_screen(width, height, mobile).await;
        let mut backgrounds = Vec::new();
        for scheme in ["light", "dark"] {
            browser.emulate_color_scheme(scheme).await;
            for (page, path) in [
                ("list", "/ciba/".to_owned()),
                ("consent", format!("/ciba/requests/{request_id}")),
            ] {
                browser.goto(idp.url(&path)).await;
                browser
                    .wait_for(if page == "list" {
                        "a[data-request-id]"
                    } else {
                        "#approve"
                    })
                    .await;
                let overflow = browser
                    .eval("return document.documentElement.scrollWidth - window.innerWidth;")
                    .await;
                assert!(
                    overflow.as_i64().unwrap() <= 0,
                    "{page} at {width} px {scheme} scrolls sideways by {overflow} px"
                );
                assert_eq!(
                    browser.contrast_failures().await,
                    json!([]),
                    "{page} at {width} px {scheme}: text under WCAG AA contrast"
                );
                browser
                    .screenshot(&format!("{page}-{width}x{height}-{scheme}"))
                    .await;
            }
            backgrounds.push(
                browser
                    .eval("return getComputedStyle(document.body).backgroundColor;")
                    .await,
            );
        }
        assert_ne!(
            backgrounds[0], backgrounds[1],
            "dark differs from light at {width} px"
        );
    }
    // The contrast check itself sees text that is hard to read: the page's background colour as text.
    browser
        .eval(
            "const p = document.createElement('p'); p.textContent = 'faint probe'; \
             p.style.color = getComputedStyle(document.body).backgroundColor; \
             document.querySelector('main').append(p); return null;",
        )
        .await;
    let failures = browser.contrast_failures().await;
    assert!(failures.to_string().contains("faint probe"), "{failures}");
    browser.quit().await;
}

/// Presses `key` on whatever has focus.
async fn press(browser: &Browser, key: Key) {
    browser
        .driver
        .active_element()
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
}

/// Tabs forward (at most 30 times) until the focused element matches `css`.
async fn tab_to(browser: &Browser, css: &str) {
    for _ in 0..30 {
        let focused = browser
            .eval_with(
                "return document.activeElement.matches(arguments[0]);",
                vec![json!(css)],
            )
            .await;
        if focused == json!(true) {
            return;
        }
        press(browser, Key::Tab).await;
    }
    panic!("Tab never reached {css}");
}

#[tokio::test]
async fn a_keyboard_alone_can_untick_a_scope_and_approve() {
    let idp = Idp::start().await;
    let auth_req_id = idp.ask_alice("openid profile email", "Till 3: 4711").await;
    let browser = Browser::signed_in_as(&idp, "alice").await;
    browser.wait_for("a[data-request-id]").await;

    tab_to(&browser, "a[data-request-id]").await;
    press(&browser, Key::Enter).await;
    browser.wait_for("#approve").await;
    assert_eq!(
        browser.eval("return document.activeElement.tagName;").await,
        json!("H1"),
        "focus starts at the new page's heading"
    );
    // The scopes are one key press away: the disclosure opens with Enter.
    tab_to(&browser, "details.access > summary").await;
    press(&browser, Key::Enter).await;
    tab_to(&browser, "input[value=email]").await;
    press(&browser, Key::Space).await;
    tab_to(&browser, "#approve").await;
    press(&browser, Key::Enter).await;
    browser.wait_for("[data-outcome=approved]").await;

    let tokens = idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1;
    assert_eq!(tokens["scope"], "openid profile", "{tokens}");
    browser.quit().await;
}
