//! Embedding: the `postMessage` protocol's wire format, which messages are accepted, theme values,
//! the contrast guard, and that the address alone neither embeds nor themes a top-level page.

use ciba_approval::{
    embed::{
        self,
        protocol::{self, FromParent, SessionRequiredReason, ToParent},
        theme,
    },
    routing,
};
use ciba_contract::Outcome;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

/// The wire format portals are written against (docs/embedding.md): a change here breaks them.
#[wasm_bindgen_test]
fn embed_messages_keep_the_documented_shape() {
    let json = |message: ToParent| {
        serde_json::from_str::<serde_json::Value>(&protocol::to_json(&message)).unwrap()
    };
    assert_eq!(
        json(ToParent::Ready),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "ready"})
    );
    assert_eq!(
        json(ToParent::Resize { height: 612 }),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "resize", "height": 612})
    );
    assert_eq!(
        json(ToParent::Decided {
            internal_id: "r1".into(),
            outcome: Outcome::Denied
        }),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "decided",
            "internalId": "r1", "outcome": "denied"})
    );
    assert_eq!(
        json(ToParent::SessionRequired {
            reason: SessionRequiredReason::CookieBlocked
        }),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "sessionRequired",
            "reason": "cookieBlocked"})
    );
    assert_eq!(
        json(ToParent::ThemeRefused(protocol::ThemeRefusal::Contrast {
            text: "text",
            background: "code-bg",
            ratio: 1.07
        })),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "themeRefused",
            "reason": "contrast", "properties": ["text", "code-bg"], "ratio": 1.07})
    );
    assert_eq!(
        json(ToParent::ThemeRefused(protocol::ThemeRefusal::Value(
            "code-bg".into()
        ))),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "themeRefused",
            "reason": "value", "properties": ["code-bg"]})
    );
}

/// Only our protocol, this version, and the two documented kinds get through.
#[wasm_bindgen_test]
fn embed_accepts_only_documented_messages_from_the_portal() {
    assert_eq!(
        protocol::from_json(
            r#"{"protocol":"ciba-approval","version":1,"type":"open","internalId":"r7"}"#
        ),
        Some(FromParent::Open {
            internal_id: "r7".into()
        })
    );
    let theme = protocol::from_json(
        r##"{"protocol":"ciba-approval","version":1,"type":"theme","properties":{"accent":"#005a9c"}}"##,
    );
    assert!(
        matches!(theme, Some(FromParent::Theme { properties }) if properties == [("accent".into(), "#005a9c".into())])
    );
    for refused in [
        r#"{"protocol":"ciba-approval","version":1,"type":"approve","internalId":"r7"}"#,
        r#"{"protocol":"ciba-approval","version":2,"type":"open","internalId":"r7"}"#,
        r#"{"protocol":"other","version":1,"type":"open","internalId":"r7"}"#,
        r#"{"type":"open","internalId":"r7"}"#,
        r#""open""#,
    ] {
        assert_eq!(protocol::from_json(refused), None, "{refused}");
    }
}

/// A portal's theme value may not break out of its property or make the page fetch anything.
#[wasm_bindgen_test]
fn embed_theme_values_are_plain() {
    for safe in [
        "#005a9c",
        "rgb(0, 90, 156)",
        "0.25rem",
        "\"Segoe UI\", sans-serif",
        "transparent",
    ] {
        assert!(theme::is_safe_theme_value(safe), "{safe}");
    }
    for unsafe_value in [
        "red; background: url(https://evil.example/x)",
        "url(https://evil.example/x)",
        "URL(x)",
        "red}body{display:none",
        "\\75rl(x)",
        "",
        &"a".repeat(101),
    ] {
        assert!(!theme::is_safe_theme_value(unsafe_value), "{unsafe_value}");
    }
}

/// The page's own colours (`style/main.css`), light and dark, by name without `--ciba-`; embedded,
/// `bg` is `transparent` (the portal's page shows through).
fn embed_page_colours(dark: bool, embedded: bool) -> std::collections::BTreeMap<String, String> {
    let css = include_str!("../../style/main.css");
    let (light, rest) = css
        .split_once("@media (prefers-color-scheme: dark)")
        .unwrap();
    let dark_block = rest.split_once("\n}\n").unwrap().0;
    let declarations = |block: &str| {
        block
            .lines()
            .filter_map(|line| line.trim().strip_prefix("--ciba-")?.strip_suffix(';'))
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect::<Vec<_>>()
    };
    let mut colours: std::collections::BTreeMap<_, _> = declarations(light).into_iter().collect();
    if dark {
        colours.extend(declarations(dark_block));
    }
    if embedded {
        colours.insert("bg".into(), "transparent".into());
    }
    colours
}

/// The four pages a theme is checked against: light and dark, at top level and embedded.
const EMBED_PAGES: [(bool, bool); 4] = [(false, false), (false, true), (true, false), (true, true)];

/// Checks the portal theme made of `pairs` against `page`'s own colours.
fn check_on(
    page: &std::collections::BTreeMap<String, String>,
    pairs: &[(&str, &str)],
) -> Result<(), protocol::ThemeRefusal> {
    theme::check_theme(&embed_theme(pairs), |name| page[name].clone())
}

fn embed_theme(pairs: &[(&str, &str)]) -> protocol::Theme {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// WCAG 2.x contrast, and only colour forms the page can evaluate.
#[wasm_bindgen_test]
fn embed_contrast_is_measured_as_wcag_says() {
    let white = theme::parse_colour("#fff").unwrap();
    let black = theme::parse_colour("rgb(0, 0, 0)").unwrap();
    assert_eq!(white, [1.0, 1.0, 1.0]);
    assert_eq!(theme::parse_colour("#FFFFFF"), Some(white));
    assert!((theme::contrast_ratio(black, white) - 21.0).abs() < 1e-9);
    assert!((theme::contrast_ratio(white, white) - 1.0).abs() < 1e-9);
    // #767676 is the lightest grey that passes on white; #777777 is not.
    let grey = |value| theme::contrast_ratio(theme::parse_colour(value).unwrap(), white);
    assert!((grey("#767676") - 4.54).abs() < 0.01, "{}", grey("#767676"));
    assert!(grey("#777777") < 4.5);
    assert_eq!(
        theme::contrast_ratio(theme::parse_colour("#1b1f24").unwrap(), white),
        theme::contrast_ratio(white, theme::parse_colour("rgb(27,31,36)").unwrap()),
        "symmetric, and the two notations agree"
    );
    for unknown in [
        "black",
        "#ffff",
        "#12345",
        "#ggg",
        "rgb(1, 2)",
        "rgb(256, 0, 0)",
        "rgb(+1, 2, 3)",
        "rgb(1 2 3)",
        "rgba(0, 0, 0, 0.5)",
        "hsl(0 0% 10%)",
        "transparent",
        "",
    ] {
        assert_eq!(theme::parse_colour(unknown), None, "{unknown}");
    }
}

/// Issue 13: a theme that would hide the binding message, the code choices, the time left or
/// Approve/Deny is refused whole, at top level's colours and embedded, light and dark.
#[wasm_bindgen_test]
fn embed_a_theme_that_hides_what_the_person_must_read_is_refused() {
    use protocol::ThemeRefusal::{Contrast, Value};
    for (dark, embedded) in EMBED_PAGES {
        let page = embed_page_colours(dark, embedded);
        let check = |pairs: &[(&str, &str)]| check_on(&page, pairs);
        let refused_pair = |pairs: &[(&str, &str)]| match check(pairs) {
            Err(Contrast {
                text,
                background,
                ratio,
            }) => {
                assert!(ratio < 4.5, "{pairs:?}: {ratio}");
                (text, background)
            }
            other => panic!("{pairs:?} (dark {dark}, embedded {embedded}): {other:?}"),
        };
        let case = format!("dark {dark}, embedded {embedded}");
        // The issue's link, on the light page: code choices black on black, the time left gone.
        if !dark {
            let (hidden, _) = refused_pair(&[("code-bg", "#1b1f24"), ("muted", "#f6f7f9")]);
            assert!(["text", "muted"].contains(&hidden), "{case}");
        }
        // Each part on its own.
        let code_bg = if dark { "#e8eaed" } else { "#1b1f24" };
        assert_eq!(
            refused_pair(&[("code-bg", code_bg)]),
            ("text", "code-bg"),
            "{case}"
        );
        let surface = page["surface"].clone();
        assert_eq!(
            refused_pair(&[("accent", &surface)]),
            ("accent", "surface"),
            "{case}"
        );
        assert_eq!(refused_pair(&[("muted", &surface)]).0, "muted", "{case}");
        assert_eq!(refused_pair(&[("text", &surface)]).0, "text", "{case}");
        // A readable colour does not carry an unreadable one in with it.
        let accent = if dark { "#d7aefb" } else { "#6b2d8f" };
        let (text, _) = refused_pair(&[("accent", accent), ("code-bg", code_bg)]);
        assert_eq!(text, "text", "{case}");
        // What cannot be checked is not applied either.
        assert_eq!(
            check(&[("accent", "#6b2d8f"), ("code-bg", "black")]),
            Err(Value("code-bg".into())),
            "{case}"
        );
        assert_eq!(
            check(&[("radius", "1px; color: red")]),
            Err(Value("radius".into()))
        );
    }
}

/// The page's own colours pass, and so do readable portal themes (the demo portal's, a dark one,
/// one on a transparent background).
#[wasm_bindgen_test]
fn embed_a_readable_theme_is_accepted() {
    for (dark, embedded) in EMBED_PAGES {
        let page = embed_page_colours(dark, embedded);
        let check = |pairs: &[(&str, &str)]| check_on(&page, pairs);
        let case = format!("dark {dark}, embedded {embedded}");
        assert_eq!(check(&[]), Ok(()), "{case}: the page's own colours");
        let dark_portal = [
            ("bg", "#101418"),
            ("surface", "rgb(24, 28, 34)"),
            ("text", "#f0f2f5"),
            ("muted", "#b8bec8"),
            ("accent", "#9ecbff"),
            ("success", "#8fd19e"),
            ("danger", "#ffb4ab"),
            ("danger-bg", "#3d1a17"),
            ("highlight-bg", "#3a3116"),
            ("code-bg", "#1f2a3d"),
            ("font", "\"Segoe UI\", sans-serif"),
            ("radius", "0.25rem"),
        ];
        assert_eq!(check(&dark_portal), Ok(()), "{case}");
        let light_portal = [
            ("bg", "transparent"),
            ("surface", "#fff"),
            ("text", "#1d1a22"),
            ("muted", "#595260"),
            ("accent", "#6b2d8f"),
            ("success", "#146c2e"),
            ("danger", "#a8201a"),
            ("danger-bg", "#fdecea"),
            ("highlight-bg", "#fff4d6"),
            ("code-bg", "#f1eef6"),
        ];
        assert_eq!(check(&light_portal), Ok(()), "{case}");
        // Names the page does not know are ignored, as before.
        assert_eq!(check(&[("shadow", "whatever")]), Ok(()), "{case}");
    }
    let light = embed_page_colours(false, false);
    let demo_portal = embed_theme(&[
        ("accent", "#6b2d8f"),
        ("accent-text", "#ffffff"),
        ("focus", "#6b2d8f"),
        ("radius", "0.25rem"),
    ]);
    assert_eq!(
        theme::check_theme(&demo_portal, |name| light[name].clone()),
        Ok(())
    );
}

/// Issue 13: at top level, `?embed=1` and `theme-*` parameters do nothing: a link can neither strip
/// the page's chrome nor restyle it.
#[wasm_bindgen_test]
fn embed_the_address_neither_embeds_nor_themes_a_top_level_page() {
    let window = web_sys::window().unwrap();
    assert!(
        js_sys::Object::is(&window.parent().unwrap().unwrap(), &window),
        "the tests run at top level"
    );
    let history = window.history().unwrap();
    let original = window.location().href().unwrap();
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("?embed=1&theme-code-bg=%231b1f24&theme-muted=%23f6f7f9"),
        )
        .unwrap();
    embed::start();
    let root: HtmlElement = document().document_element().unwrap().unchecked_into();
    let embedded = embed::is_embedded();
    let class = root.class_name();
    let code_bg = root.style().get_property_value("--ciba-code-bg").unwrap();
    let muted = root.style().get_property_value("--ciba-muted").unwrap();
    let suffix = routing::link_suffix();
    // Put the page back for the other tests before asserting.
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&original))
        .unwrap();
    let _ = root.class_list().remove_1("embedded");
    let _ = root.style().remove_property("--ciba-code-bg");
    let _ = root.style().remove_property("--ciba-muted");
    assert!(!embedded, "a top-level page took ?embed=1");
    assert!(!class.contains("embedded"), "{class}");
    assert_eq!(
        (code_bg.as_str(), muted.as_str()),
        ("", ""),
        "themed by the address"
    );
    assert_eq!(suffix, "");
}
