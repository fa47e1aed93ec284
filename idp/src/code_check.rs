//! The code check's look-alikes (issue 13): for clients with `verify_binding_message`, the person picks
//! the binding message the other device shows from three choices before they can approve.
//!
//! The look-alikes are made here, on the server, once per request, and stored with it. Each keeps every
//! character of the message except "the code", so only the other device tells them apart:
//!
//! - a message with decimal digits (any script) gets every digit replaced by a digit of the same block
//!   (ASCII stays ASCII, full-width stays full-width, Arabic-Indic stays Arabic-Indic);
//! - else the letters of its last word are replaced by letters of the same case and script (ASCII
//!   vowels by vowels and consonants by consonants, so the word stays pronounceable; other scripts by
//!   neighbouring code points that are still letters of the same case, never combining marks);
//! - else (only symbols, punctuation, emoji) its last visible character is replaced by another of the
//!   same block of symbols.

use rand::Rng;
use rand::seq::SliceRandom;
use unicode_normalization::char::is_combining_mark;

/// The code points of DIGIT ZERO of every Unicode decimal-digit (Nd) block; each block is ten code
/// points, zero to nine.
const DIGIT_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

/// Blocks of symbols in which every code point is assigned and visible: a symbol is replaced by
/// another of its block.
const SYMBOL_BLOCKS: &[(u32, u32)] = &[
    (0x2190, 0x21FF),   // arrows
    (0x2200, 0x22FF),   // mathematical operators
    (0x2500, 0x257F),   // box drawing
    (0x25A0, 0x25FF),   // geometric shapes
    (0x2600, 0x26FF),   // miscellaneous symbols
    (0x2700, 0x27BF),   // dingbats
    (0x1F300, 0x1F5FF), // miscellaneous symbols and pictographs
    (0x1F600, 0x1F64F), // emoticons
    (0x1F680, 0x1F6C5), // transport and map symbols
];

/// Symbols for anything outside those blocks: ASCII punctuation (for ASCII and other text) or faces
/// (for pictographs).
const ASCII_SYMBOLS: &str = "#$%&*+=?@~^";
const FALLBACK_PICTOGRAPHS: (u32, u32) = (0x1F600, 0x1F64F);

const UPPER_VOWELS: &str = "AEIOU";
const LOWER_VOWELS: &str = "aeiou";
const UPPER_CONSONANTS: &str = "BCDFGHKLMNPRSTVWZ";
const LOWER_CONSONANTS: &str = "bcdfghklmnprstvwz";

/// The real message and two look-alikes, in a random order: what the person chooses from.
pub fn choices(message: &str) -> Vec<String> {
    let mut rng = rand::thread_rng();
    let mut choices = vec![message.to_owned()];
    for _ in 0..200 {
        if choices.len() == ciba_contract::CODE_CHOICES {
            break;
        }
        let decoy = look_alike(message, &mut rng);
        if !choices.contains(&decoy) {
            choices.push(decoy);
        }
    }
    // Only reached for a code with almost no neighbours: vary its last character from a fixed set.
    let last = last_visible(message);
    for symbol in ASCII_SYMBOLS.chars() {
        if choices.len() == ciba_contract::CODE_CHOICES {
            break;
        }
        let decoy = replace_at(message, last, symbol);
        if !choices.contains(&decoy) {
            choices.push(decoy);
        }
    }
    choices.shuffle(&mut rng);
    choices
}

/// One look-alike: the message with its code varied (it may, by chance, equal the message).
fn look_alike(message: &str, rng: &mut impl Rng) -> String {
    let chars: Vec<char> = message.chars().collect();
    if chars.iter().any(|&c| digit_zero(c).is_some()) {
        return chars
            .iter()
            .map(|&c| match digit_zero(c) {
                Some(zero) => char::from_u32(zero + rng.gen_range(0..10)).unwrap_or(c),
                None => c,
            })
            .collect();
    }
    if let Some(end) = chars.iter().rposition(|&c| is_letter(c)) {
        let start = chars[..end]
            .iter()
            .rposition(|&c| !is_letter(c) && !is_combining_mark(c))
            .map_or(0, |i| i + 1);
        return chars
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                if (start..=end).contains(&i) && is_letter(c) {
                    other_letter(c, rng)
                } else {
                    c
                }
            })
            .collect();
    }
    let last = last_visible(message);
    let replacement = chars.get(last).map_or('#', |&c| other_symbol(c, rng));
    replace_at(message, last, replacement)
}

/// The zero of `c`'s decimal-digit block, if `c` is a decimal digit.
fn digit_zero(c: char) -> Option<u32> {
    let code = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .copied()
        .find(|&zero| (zero..zero + 10).contains(&code))
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic() && !is_combining_mark(c) && digit_zero(c).is_none()
}

/// Another letter of the same kind: a random ASCII vowel or consonant of the same case, or a
/// neighbouring code point that is a letter of the same case.
fn other_letter(c: char, rng: &mut impl Rng) -> char {
    let pick = |set: &str, rng: &mut dyn rand::RngCore| {
        let set: Vec<char> = set.chars().collect();
        set[rng.gen_range(0..set.len())]
    };
    if c.is_ascii_alphabetic() {
        let vowel = "aeiouAEIOU".contains(c);
        return match (c.is_ascii_uppercase(), vowel) {
            (true, true) => pick(UPPER_VOWELS, rng),
            (true, false) => pick(UPPER_CONSONANTS, rng),
            (false, true) => pick(LOWER_VOWELS, rng),
            (false, false) => pick(LOWER_CONSONANTS, rng),
        };
    }
    let code = u32::from(c);
    let same_kind = |other: char| {
        is_letter(other)
            && !other.is_ascii()
            && other.is_uppercase() == c.is_uppercase()
            && other.is_lowercase() == c.is_lowercase()
    };
    let neighbours: Vec<char> = (code.saturating_sub(16)..=code + 16)
        .filter(|&n| n != code)
        .filter_map(char::from_u32)
        .filter(|&n| same_kind(n))
        .collect();
    neighbours.choose(rng).copied().unwrap_or(c)
}

/// Another visible symbol of the same block as `c`.
fn other_symbol(c: char, rng: &mut impl Rng) -> char {
    let code = u32::from(c);
    let (first, last) = SYMBOL_BLOCKS
        .iter()
        .copied()
        .find(|&(first, last)| (first..=last).contains(&code))
        .unwrap_or(if code >= 0x1F000 {
            FALLBACK_PICTOGRAPHS
        } else {
            (0, 0)
        });
    if first == 0 {
        let set: Vec<char> = ASCII_SYMBOLS.chars().filter(|&s| s != c).collect();
        return set[rng.gen_range(0..set.len())];
    }
    char::from_u32(rng.gen_range(first..=last)).unwrap_or(c)
}

/// The index (in chars) of the last character that is neither white space nor a combining mark.
fn last_visible(message: &str) -> usize {
    let chars: Vec<char> = message.chars().collect();
    chars
        .iter()
        .rposition(|&c| !c.is_whitespace() && !is_combining_mark(c))
        .unwrap_or(chars.len().saturating_sub(1))
}

fn replace_at(message: &str, index: usize, replacement: char) -> String {
    message
        .chars()
        .enumerate()
        .map(|(i, c)| if i == index { replacement } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each of the three, checked: the real one once, all distinct, same length, and equal to the
    /// message wherever `keep` says the character is not part of the code.
    fn check(message: &str, keep: impl Fn(char) -> bool) -> Vec<String> {
        for _ in 0..50 {
            let choices = choices(message);
            assert_eq!(choices.len(), 3, "{choices:?}");
            assert_eq!(choices.iter().filter(|c| *c == message).count(), 1);
            assert_ne!(choices[0], choices[1]);
            assert_ne!(choices[0], choices[2]);
            assert_ne!(choices[1], choices[2]);
            for choice in &choices {
                assert_eq!(choice.chars().count(), message.chars().count(), "{choice}");
                for (real, other) in message.chars().zip(choice.chars()) {
                    if keep(real) {
                        assert_eq!(real, other, "{message} → {choice}");
                    }
                }
            }
        }
        choices(message)
    }

    #[test]
    fn ascii_digits_vary_and_the_words_stay() {
        check("Kasse 3: 4711", |c| !c.is_ascii_digit());
        for choice in choices("Kasse 3: 4711") {
            assert!(choice.starts_with("Kasse "), "{choice}");
            assert_eq!(&choice[7..9], ": ");
            assert!(choice.chars().filter(|c| c.is_ascii_digit()).count() == 5);
        }
    }

    #[test]
    fn full_width_digits_stay_full_width() {
        check("４７１１", |_| false);
        for choice in choices("４７１１") {
            assert!(
                choice.chars().all(|c| ('０'..='９').contains(&c)),
                "{choice}"
            );
        }
    }

    #[test]
    fn arabic_indic_and_devanagari_digits_stay_in_their_script() {
        for choice in choices("رمز ٤٧١١") {
            assert!(choice.starts_with("رمز "));
            assert!(
                choice.chars().skip(4).all(|c| ('٠'..='٩').contains(&c)),
                "{choice}"
            );
        }
        for choice in check("कोड ४७११", |c| !('०'..='९').contains(&c)) {
            assert!(choice.chars().skip(4).all(|c| ('०'..='९').contains(&c)));
        }
        // Mixed blocks: each digit stays in its own.
        for choice in choices("1２") {
            let chars: Vec<char> = choice.chars().collect();
            assert!(chars[0].is_ascii_digit() && ('０'..='９').contains(&chars[1]));
        }
    }

    #[test]
    fn a_single_digit_gets_two_distinct_look_alikes() {
        check("7", |_| false);
        check("Till 7", |c| !c.is_ascii_digit());
    }

    #[test]
    fn without_digits_the_last_words_letters_vary_in_case_and_kind() {
        let choices = check("Approve Login", |c| c != 'L' && !"ogin".contains(c));
        for choice in choices {
            let word: Vec<char> = choice["Approve ".len()..].chars().collect();
            assert!(word[0].is_ascii_uppercase());
            assert!(word[1..].iter().all(char::is_ascii_lowercase));
            // Vowels stay vowels and consonants consonants: "Login" → e.g. "Bumek".
            assert!(
                "aeiou".contains(word[1]) && "aeiou".contains(word[3]),
                "{choice}"
            );
            assert!(
                !"aeiou".contains(word[2]) && !"aeiou".contains(word[4]),
                "{choice}"
            );
        }
        check("Kasse drei!", |c| !"drei".contains(c));
    }

    #[test]
    fn letters_of_other_scripts_stay_letters_of_their_script() {
        for choice in check("Код Москва", |c| !"Москва".contains(c)) {
            let word: Vec<char> = choice.chars().skip(4).collect();
            assert!(word[0].is_uppercase(), "{choice}");
            assert!(
                word.iter()
                    .all(|&c| c.is_alphabetic() && ('\u{400}'..='\u{4FF}').contains(&c)),
                "{choice}"
            );
        }
        for choice in check("東京", |_| false) {
            assert!(
                choice
                    .chars()
                    .all(|c| c.is_alphabetic() && !is_combining_mark(c))
            );
        }
        // A combining mark is kept where it is; the letters around it vary.
        check("cafe\u{301}", |c| c == '\u{301}');
    }

    #[test]
    fn symbols_and_emoji_still_get_two_distinct_look_alikes() {
        for choice in check("★ → ★", |_| false) {
            assert!(choice.starts_with("★ → "));
            let last = choice.chars().last().unwrap();
            assert!(('\u{2600}'..='\u{26FF}').contains(&last), "{choice}");
        }
        for choice in check("🍕🙂", |c| c == '🍕') {
            let last = choice.chars().last().unwrap();
            assert!(('\u{1F600}'..='\u{1F64F}').contains(&last), "{choice}");
        }
        for choice in check("!!!", |_| false) {
            assert!(choice.starts_with("!!"));
            assert!(!choice.chars().any(char::is_alphanumeric), "{choice}");
        }
        check("‰", |_| false);
    }

    #[test]
    fn the_order_is_random() {
        let mut positions = std::collections::HashSet::new();
        for _ in 0..200 {
            positions.insert(
                choices("Kasse 3: 4711")
                    .iter()
                    .position(|c| c == "Kasse 3: 4711")
                    .unwrap(),
            );
        }
        assert_eq!(positions.len(), 3);
    }
}
