//! The Duende IdentityServer integration (docs/identityserver/) cannot be compiled on this build
//! machine: no .NET SDK or Duende package can be installed. This test is what checks it instead.
//!
//! `docs/identityserver/duende-members.toml` records every Duende member the C# uses, with its
//! parameters per Duende version, as read from Duende's source at the tags it names. For each variant
//! (`v7`, `v8`) the test reads the variant's `.cs` files and fails, naming file and line, when
//! - a call of a recorded member passes a number of arguments that version does not accept
//!   (nested parentheses, generics, lambdas, strings, comments and interpolations are understood),
//!   or passes a cancellation token (`ct`, `…RequestAborted`, `CancellationToken…`) where that
//!   version's parameter is not one;
//! - an implementation of a recorded interface method (the notification service) has other
//!   parameters than that version declares;
//! - code calls a member of a guarded Duende type (interaction service, request store, notification
//!   service, event service) that is not in the record;
//! - a recorded member is not used by the variant, or missing from docs/identityserver/README.md's table;
//! - the JSON names of the C# records differ from the schemas of contract/openapi.json.
//!
//! The files of `common/` are shared by both variants, so they must not depend on the version: the test
//! fails when code there calls or declares a recorded member whose signature differs between the
//! versions, or names a guarded type at all. Such calls belong in the variant's adapter (`CibaDuende`),
//! which must implement every method of common/'s `ICibaDuende`.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    guarded_types: Vec<String>,
    versions: BTreeMap<String, Version>,
    member: Vec<Member>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // `tag` is for people; the tests read the rest
struct Version {
    tag: String,
    package: String,
    version: String,
    variant: String,
}

#[derive(Deserialize)]
struct Member {
    #[serde(rename = "type")]
    type_name: String,
    name: String,
    kind: Kind,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(flatten)]
    signatures: BTreeMap<String, Signature>,
}

#[derive(Deserialize)]
#[allow(dead_code)] // `receiver` documents the member; arity comes from `params`
struct Signature {
    file: String,
    returns: String,
    #[serde(default)]
    receiver: Option<String>,
    #[serde(default)]
    params: Option<Vec<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Method,
    Extension,
    Constructor,
    Implemented,
    Property,
    Constant,
}

impl Kind {
    fn callable(self) -> bool {
        !matches!(self, Kind::Property | Kind::Constant)
    }
}

impl Member {
    /// How the doc table names it.
    fn display(&self) -> String {
        match self.kind {
            Kind::Constructor => format!("new {}", self.type_name),
            _ => format!("{}.{}", self.type_name, self.name),
        }
    }
}

impl Signature {
    fn params(&self) -> &[String] {
        self.params.as_deref().unwrap_or_default()
    }

    /// Arguments a call may pass: parameters without a default are required.
    fn arity(&self) -> (usize, usize) {
        let all = self.params().len();
        let optional = self.params().iter().filter(|p| p.contains('=')).count();
        (all - optional, all)
    }

    fn rendered(&self) -> String {
        format!("({})", self.params().join(", "))
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("contract/ sits in the repository")
        .to_path_buf()
}

fn guide_dir() -> PathBuf {
    repo_root().join("docs/identityserver")
}

fn record() -> Record {
    let path = guide_dir().join("duende-members.toml");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One C# file: its text and the same text with comments and literal contents blanked.
struct Source {
    name: String,
    text: String,
    code: Vec<u8>,
}

impl Source {
    fn new(name: String, text: String) -> Self {
        let code = mask(&text);
        Self { name, text, code }
    }

    fn line(&self, at: usize) -> usize {
        1 + self.code[..at].iter().filter(|&&b| b == b'\n').count()
    }

    fn place(&self, at: usize) -> String {
        format!("{}:{}", self.name, self.line(at))
    }
}

/// The variant's own `.cs` files and the ones it shares with the other variant (`common/`).
fn variant_sources(record: &Record, version: &str) -> Vec<Source> {
    let dir = repo_root().join(&record.versions[version].variant);
    let common = guide_dir().join("common");
    sources_in(&[dir.as_path(), common.as_path()])
}

/// The `.cs` files of the given folders; the first must have some.
fn sources_in(dirs: &[&Path]) -> Vec<Source> {
    let dir = dirs[0];
    let mut files: Vec<_> = dirs
        .iter()
        .flat_map(|dir| {
            fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| entry.expect("directory entry").path())
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "cs"))
        .collect();
    files.sort();
    assert!(
        files.iter().any(|path| path.starts_with(dir)),
        "{} has no .cs files",
        dir.display()
    );
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(repo_root())
                .unwrap_or(&path)
                .display()
                .to_string();
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            Source::new(name, text)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// A small C# lexer: enough to tell code from comments and literals.

/// The source with comments and the contents of string and char literals replaced by spaces
/// (newlines kept, so offsets and line numbers stay). Quote characters stay, so a literal argument
/// still counts; the code inside `{…}` holes of interpolated strings stays code.
fn mask(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let mut i = 0;
    // One entry per open interpolation hole: the string kind to resume and the hole's brace depth.
    let mut holes: Vec<(StrKind, usize)> = Vec::new();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for byte in &mut out[from..to] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    };
    while i < b.len() {
        let next = b.get(i + 1).copied();
        match b[i] {
            b'/' if next == Some(b'/') => {
                let end = find_from(b, i, b"\n").unwrap_or(b.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if next == Some(b'*') => {
                let end = find_from(b, i + 2, b"*/").map_or(b.len(), |e| e + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'"' if b[i..].starts_with(b"\"\"\"") => {
                // Raw string literal: to the next run of three quotes.
                let end = find_from(b, i + 3, b"\"\"\"").map_or(b.len(), |e| e + 3);
                blank(&mut out, i + 3, end.saturating_sub(3).max(i + 3));
                i = end;
            }
            b'"' => i = plain_string(b, &mut out, i + 1, false),
            b'@' if next == Some(b'"') => i = plain_string(b, &mut out, i + 2, true),
            b'$' | b'@' if matches!(next, Some(b'"' | b'$' | b'@')) => {
                // $"…", $@"…", @$"…"
                let mut j = i;
                let mut verbatim = false;
                while j < b.len() && matches!(b[j], b'$' | b'@') {
                    verbatim |= b[j] == b'@';
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let kind = StrKind { verbatim };
                match interpolated_text(b, &mut out, j + 1, kind) {
                    (end, true) => i = end,
                    (hole, false) => {
                        holes.push((kind, 0));
                        i = hole;
                    }
                }
            }
            b'\'' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'\'' && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i + 1, j.min(b.len()));
                i = j + 1;
            }
            b'{' => {
                if let Some(top) = holes.last_mut() {
                    top.1 += 1;
                }
                i += 1;
            }
            b'}' => match holes.last_mut() {
                Some((kind, 0)) => {
                    let kind = *kind;
                    holes.pop();
                    match interpolated_text(b, &mut out, i + 1, kind) {
                        (end, true) => i = end,
                        (hole, false) => {
                            holes.push((kind, 0));
                            i = hole;
                        }
                    }
                }
                Some((_, depth)) => {
                    *depth -= 1;
                    i += 1;
                }
                None => i += 1,
            },
            _ => i += 1,
        }
    }
    out
}

#[derive(Clone, Copy)]
struct StrKind {
    verbatim: bool,
}

fn find_from(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Blanks a "…" or @"…" literal's contents starting at `i` (after the opening quote); returns the
/// index after the closing quote.
fn plain_string(b: &[u8], out: &mut [u8], mut i: usize, verbatim: bool) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' if !verbatim => {
                out[i] = b' ';
                if i + 1 < b.len() {
                    out[i + 1] = b' ';
                }
                i += 2;
            }
            b'"' if verbatim && b.get(i + 1) == Some(&b'"') => {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
            }
            b'"' => return i + 1,
            b'\n' if !verbatim => return i, // unterminated: stop at the line's end
            b'\n' => i += 1,
            _ => {
                out[i] = b' ';
                i += 1;
            }
        }
    }
    i
}

/// Blanks interpolated-string text from `i`; returns (index after the closing quote, true) or
/// (index after a hole's `{`, false).
fn interpolated_text(b: &[u8], out: &mut [u8], mut i: usize, kind: StrKind) -> (usize, bool) {
    while i < b.len() {
        match b[i] {
            b'\\' if !kind.verbatim => {
                out[i] = b' ';
                if i + 1 < b.len() {
                    out[i + 1] = b' ';
                }
                i += 2;
            }
            b'"' if kind.verbatim && b.get(i + 1) == Some(&b'"') => {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
            }
            b'"' => return (i + 1, true),
            b'{' if b.get(i + 1) == Some(&b'{') => {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
            }
            b'{' => return (i + 1, false),
            b'}' if b.get(i + 1) == Some(&b'}') => {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
            }
            b'\n' => i += 1,
            _ => {
                out[i] = b' ';
                i += 1;
            }
        }
    }
    (i, true)
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn skip_ws(code: &[u8], mut i: usize) -> usize {
    while i < code.len() && code[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// The index of the last non-whitespace byte before `i`.
fn prev_non_ws(code: &[u8], i: usize) -> Option<usize> {
    (0..i).rev().find(|&j| !code[j].is_ascii_whitespace())
}

/// The identifier that ends at `end` (exclusive).
fn ident_before(code: &[u8], end: usize) -> &str {
    let start = (0..end)
        .rev()
        .take_while(|&j| is_ident(code[j]))
        .last()
        .unwrap_or(end);
    std::str::from_utf8(&code[start..end]).unwrap_or("")
}

/// Every offset where `word` stands as a whole identifier.
fn word_positions(code: &[u8], word: &str) -> Vec<usize> {
    let w = word.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = find_from(code, from, w) {
        let before = at.checked_sub(1).map(|j| code[j]);
        let after = code.get(at + w.len()).copied();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            found.push(at);
        }
        from = at + 1;
    }
    found
}

/// If `code[i]` opens a generic argument list (`<…>` followed by something a type argument list can
/// be followed by), the index after its `>`.
fn skip_generic(code: &[u8], i: usize) -> Option<usize> {
    if code.get(i) != Some(&b'<') {
        return None;
    }
    let mut depth = 0usize;
    let mut j = i;
    while j < code.len() {
        match code[j] {
            b'<' => depth += 1,
            b'>' => {
                depth -= 1;
                if depth == 0 {
                    let after = skip_ws(code, j + 1);
                    let follows = code.get(after).copied();
                    let ok = follows.is_none_or(|c| b"()]}:;,.?=!|^&>".contains(&c));
                    return ok.then_some(j + 1);
                }
            }
            c if is_ident(c) || c.is_ascii_whitespace() || b",.?[]".contains(&c) => {}
            _ => return None,
        }
        j += 1;
    }
    None
}

/// The number of arguments of the list opened by `code[open]` (a `(`), and the index of its `)`.
fn count_args(code: &[u8], open: usize) -> Option<(usize, usize)> {
    assert_eq!(code[open], b'(');
    let mut depth = 0usize;
    let mut commas = 0;
    let mut empty = true;
    let mut j = open;
    while j < code.len() {
        let c = code[j];
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((if empty { 0 } else { commas + 1 }, j));
                }
            }
            b',' if depth == 1 => commas += 1,
            b'<' if prev_non_ws(code, j).is_some_and(|p| is_ident(code[p])) => {
                if let Some(end) = skip_generic(code, j) {
                    empty = false;
                    j = end;
                    continue;
                }
            }
            _ => {}
        }
        if j > open && !c.is_ascii_whitespace() {
            empty = false;
        }
        j += 1;
    }
    None
}

/// The parameters of the list opened by `code[open]`, as source text, split at top-level commas.
fn split_params(source: &Source, open: usize) -> Vec<&str> {
    let Some((_, close)) = count_args(&source.code, open) else {
        return vec![];
    };
    let code = &source.code;
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    let mut j = open + 1;
    while j < close {
        match code[j] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'<' => {
                if let Some(end) = skip_generic(code, j) {
                    j = end;
                    continue;
                }
            }
            b',' if depth == 0 => {
                parts.push(source.text[start..j].trim());
                start = j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    let last = source.text[start..close].trim();
    if !last.is_empty() {
        parts.push(last);
    }
    parts
}

/// A parameter without its leading `[attribute]` lists.
fn strip_attributes(param: &str) -> &str {
    let mut p = param.trim();
    while p.starts_with('[') {
        p = p.find(']').map_or("", |e| &p[e + 1..]).trim_start();
    }
    p
}

/// `CancellationToken` for `Ct`, without spaces, namespaces, attributes or modifiers.
fn normalized_type(param: &str) -> String {
    let p = strip_attributes(param);
    let p = p.split('=').next().unwrap_or("").trim();
    let mut words: Vec<&str> = p.split_whitespace().collect();
    words.pop(); // the parameter's name
    words.retain(|w| !matches!(*w, "this" | "ref" | "out" | "in" | "params" | "scoped"));
    let ty: String = words.concat();
    let ty = ty.rsplit('.').next().unwrap_or(&ty).to_owned();
    if ty == "Ct" {
        "CancellationToken".to_owned()
    } else {
        ty
    }
}

#[derive(Debug, PartialEq)]
enum Site {
    /// `x.Name(…)`, `new Name(…)`, `Name(…)`: with this many arguments.
    Call(usize),
    /// A method declaration `Type Name(…)`.
    Declaration,
}

/// Where `name` is called or declared, and how: offsets of the name.
fn sites(code: &[u8], name: &str, kind: Kind) -> Vec<(usize, Site, usize)> {
    let mut found = Vec::new();
    for at in word_positions(code, name) {
        let mut after = skip_ws(code, at + name.len());
        if let Some(end) = skip_generic(code, after) {
            after = skip_ws(code, end);
        }
        if code.get(after) != Some(&b'(') {
            continue;
        }
        let Some((args, _)) = count_args(code, after) else {
            continue;
        };
        let prev = prev_non_ws(code, at);
        let prev_word = prev.map_or("", |p| ident_before(code, p + 1));
        let site = match kind {
            Kind::Constructor if prev_word != "new" => continue, // not a construction
            Kind::Constructor => Site::Call(args),
            _ if prev.is_some_and(|p| code[p] == b'.') => Site::Call(args),
            _ if prev.is_some_and(|p| is_ident(code[p]) || b">?]".contains(&code[p]))
                && !matches!(prev_word, "await" | "return" | "new" | "in" | "is" | "else") =>
            {
                Site::Declaration
            }
            _ => Site::Call(args),
        };
        found.push((at, site, after));
    }
    found
}

// ---------------------------------------------------------------------------------------------

fn versions(record: &Record) -> Vec<String> {
    record.versions.keys().cloned().collect()
}

/// A call's argument (`value` or `name: value`) split into its parameter name, if named, and value.
fn named_argument(arg: &str) -> (Option<&str>, &str) {
    match arg.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() && name.trim().bytes().all(is_ident) => {
            (Some(name.trim()), value.trim())
        }
        _ => (None, arg),
    }
}

/// Whether an argument is a cancellation token as the guide writes them.
fn is_token(arg: &str) -> bool {
    let value = named_argument(arg).1;
    value == "ct" || value.contains("CancellationToken") || value.ends_with("RequestAborted")
}

/// Whether the parameter `arg` binds to (by name, else at `index`) is a `CancellationToken`.
fn takes_token(signature: &Signature, arg: &str, index: usize) -> bool {
    let param = match named_argument(arg).0 {
        Some(name) => signature.params().iter().find(|p| {
            p.split('=')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next_back()
                == Some(name)
        }),
        None => signature.params().get(index),
    };
    param.is_some_and(|p| normalized_type(p) == "CancellationToken")
}

#[test]
fn calls_pass_the_recorded_number_of_arguments() {
    let record = record();
    let mut errors = Vec::new();
    for version in versions(&record) {
        let sources = variant_sources(&record, &version);
        let mut by_name: BTreeMap<&str, Vec<(&Member, &Signature)>> = BTreeMap::new();
        for member in record.member.iter().filter(|m| m.kind.callable()) {
            let signature = member
                .signatures
                .get(&version)
                .unwrap_or_else(|| panic!("{} has no `{version}` entry", member.display()));
            by_name
                .entry(member.name.as_str())
                .or_default()
                .push((member, signature));
        }
        for source in &sources {
            for (name, overloads) in &by_name {
                let kind = overloads[0].0.kind;
                for (at, site, open) in sites(&source.code, name, kind) {
                    let Site::Call(args) = site else { continue };
                    // A token where the version takes none: the count alone misses 7.x's
                    // GetLoginsForUserAsync(subject, ct), whose second parameter is `clientId = null`.
                    for (i, arg) in split_params(source, open).into_iter().enumerate() {
                        if is_token(arg) && !overloads.iter().any(|(_, s)| takes_token(s, arg, i)) {
                            errors.push(format!(
                                "{}: `{name}` gets a token (`{arg}`) as argument {}, where Duende {} ({}) takes none",
                                source.place(at),
                                i + 1,
                                record.versions[&version].version,
                                record.versions[&version].tag,
                            ));
                        }
                    }
                    let fits = overloads.iter().any(|(_, s)| {
                        let (min, max) = s.arity();
                        (min..=max).contains(&args)
                    });
                    if !fits {
                        let expected: Vec<String> = overloads
                            .iter()
                            .map(|(m, s)| format!("{}{}", m.display(), s.rendered()))
                            .collect();
                        errors.push(format!(
                            "{}: `{name}` called with {args} argument(s); Duende {} ({}) declares {}",
                            source.place(at),
                            record.versions[&version].version,
                            record.versions[&version].tag,
                            expected.join(" or ")
                        ));
                    }
                }
            }
        }
    }
    assert!(errors.is_empty(), "\n{}\n", errors.join("\n"));
}

#[test]
fn implementations_declare_the_recorded_parameters() {
    let record = record();
    let mut errors = Vec::new();
    for version in versions(&record) {
        let sources = variant_sources(&record, &version);
        for member in record.member.iter().filter(|m| m.kind == Kind::Implemented) {
            let signature = &member.signatures[&version];
            let expected: Vec<String> = signature
                .params()
                .iter()
                .map(|p| normalized_type(p))
                .collect();
            let mut declared = 0;
            for source in &sources {
                for (at, site, open) in sites(&source.code, &member.name, member.kind) {
                    if site != Site::Declaration {
                        continue;
                    }
                    declared += 1;
                    let actual: Vec<String> = split_params(source, open)
                        .iter()
                        .map(|p| normalized_type(p))
                        .collect();
                    if actual != expected {
                        errors.push(format!(
                            "{}: {} declared with ({}); Duende {} declares {}",
                            source.place(at),
                            member.name,
                            actual.join(", "),
                            record.versions[&version].version,
                            signature.rendered()
                        ));
                    }
                }
            }
            if declared == 0 {
                errors.push(format!(
                    "{version}: no implementation of {} found",
                    member.display()
                ));
            }
        }
    }
    assert!(errors.is_empty(), "\n{}\n", errors.join("\n"));
}

/// Identifiers that hold a guarded type: `Type name` declarations and `var name = …<Type>…;`.
fn guarded_variables(source: &Source, guarded: &str) -> BTreeSet<String> {
    let code = &source.code;
    let mut names = BTreeSet::new();
    for at in word_positions(code, guarded) {
        let prev = prev_non_ws(code, at).map(|p| code[p]);
        let after = skip_ws(code, at + guarded.len());
        if prev == Some(b'<') {
            // GetRequiredService<T>(): the statement's `var name =`, if any.
            let start = (0..at)
                .rev()
                .find(|&j| matches!(code[j], b';' | b'{' | b'}'))
                .map_or(0, |j| j + 1);
            let statement = String::from_utf8_lossy(&code[start..at]);
            let mut words = statement.split_whitespace();
            if let (Some("var"), Some(name), Some(eq)) = (words.next(), words.next(), words.next())
                && eq.starts_with('=')
            {
                names.insert(name.to_owned());
            }
            continue;
        }
        if prev == Some(b'.') {
            continue;
        }
        let end = (after..code.len())
            .find(|&j| !is_ident(code[j]))
            .unwrap_or(code.len());
        if end > after {
            let name = String::from_utf8_lossy(&code[after..end]).into_owned();
            if !matches!(name.as_str(), "where" | "when" | "and" | "or") {
                names.insert(name);
            }
        }
    }
    names
}

#[test]
fn guarded_types_are_called_only_through_recorded_members() {
    let record = record();
    let mut errors = Vec::new();
    for version in versions(&record) {
        let sources = variant_sources(&record, &version);
        for guarded in &record.guarded_types {
            let recorded: BTreeSet<&str> = record
                .member
                .iter()
                .filter(|m| &m.type_name == guarded && m.signatures.contains_key(&version))
                .map(|m| m.name.as_str())
                .collect();
            for source in &sources {
                let code = &source.code;
                let mut check = |at: usize, member: &str| {
                    if !recorded.contains(member) {
                        errors.push(format!(
                            "{}: {guarded}.{member} is not in duende-members.toml for {version}",
                            source.place(at)
                        ));
                    }
                };
                for variable in guarded_variables(source, guarded) {
                    for at in word_positions(code, &variable) {
                        let mut j = skip_ws(code, at + variable.len());
                        if code.get(j) == Some(&b'?') {
                            j += 1;
                        }
                        if code.get(j) != Some(&b'.') {
                            continue;
                        }
                        let start = skip_ws(code, j + 1);
                        let end = (start..code.len())
                            .find(|&k| !is_ident(code[k]))
                            .unwrap_or(code.len());
                        let mut after = skip_ws(code, end);
                        if let Some(e) = skip_generic(code, after) {
                            after = skip_ws(code, e);
                        }
                        if end > start && code.get(after) == Some(&b'(') {
                            check(start, &String::from_utf8_lossy(&code[start..end]));
                        }
                    }
                }
                // GetRequiredService<T>().Member(…) without a variable.
                for at in word_positions(code, guarded) {
                    let close = skip_ws(code, at + guarded.len());
                    if code.get(close) != Some(&b'>') {
                        continue;
                    }
                    let open = skip_ws(code, close + 1);
                    if code.get(open) != Some(&b'(') {
                        continue;
                    }
                    let Some((_, paren)) = count_args(code, open) else {
                        continue;
                    };
                    let dot = skip_ws(code, paren + 1);
                    if code.get(dot) == Some(&b'.') {
                        let start = skip_ws(code, dot + 1);
                        let end = (start..code.len())
                            .find(|&k| !is_ident(code[k]))
                            .unwrap_or(code.len());
                        if code.get(skip_ws(code, end)) == Some(&b'(') {
                            check(start, &String::from_utf8_lossy(&code[start..end]));
                        }
                    }
                }
            }
        }
    }
    assert!(errors.is_empty(), "\n{}\n", errors.join("\n"));
}

/// The interface through which common/ reaches Duende's version-dependent services; each variant
/// implements it with that version's calls.
const ADAPTER: &str = "ICibaDuende";

/// The names of the methods an `interface` declares (identifiers before a `(` at the body's top level).
fn interface_methods(code: &[u8], interface: &str) -> Vec<String> {
    let Some(at) = word_positions(code, interface).into_iter().find(|&at| {
        prev_non_ws(code, at).is_some_and(|p| ident_before(code, p + 1) == "interface")
    }) else {
        return vec![];
    };
    let Some(open) = find_from(code, at, b"{") else {
        return vec![];
    };
    let mut names = Vec::new();
    let mut depth = 0usize;
    for (j, &c) in code.iter().enumerate().skip(open) {
        match c {
            b'{' | b'(' | b'[' => {
                if c == b'(' && depth == 1 {
                    let end = prev_non_ws(code, j).map_or(j, |p| p + 1);
                    names.push(ident_before(code, end).to_owned());
                }
                depth += 1;
            }
            b'}' | b')' | b']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    names
}

#[test]
fn common_code_is_version_neutral() {
    let record = record();
    let common = guide_dir().join("common");
    let sources = sources_in(&[common.as_path()]);
    let versions = versions(&record);
    let mut errors = Vec::new();
    // Members whose record differs between the versions: calling or implementing them is the variants' job.
    let differing = record.member.iter().filter(|m| {
        m.kind.callable()
            && versions.windows(2).any(|v| {
                let (a, b) = (&m.signatures[&v[0]], &m.signatures[&v[1]]);
                a.params() != b.params() || a.returns != b.returns
            })
    });
    for member in differing {
        for source in &sources {
            for (at, site, _) in sites(&source.code, &member.name, member.kind) {
                errors.push(format!(
                    "{}: common/ {} {} (its signature differs between {}): do it in each variant's CibaDuende",
                    source.place(at),
                    if site == Site::Declaration { "declares" } else { "calls" },
                    member.display(),
                    versions.join(" and ")
                ));
            }
        }
    }
    for guarded in &record.guarded_types {
        for source in &sources {
            for at in word_positions(&source.code, guarded) {
                errors.push(format!(
                    "{}: common/ names {guarded}; reach it through {ADAPTER}",
                    source.place(at)
                ));
            }
        }
    }
    // Each variant implements every method of the adapter.
    let methods: Vec<String> = sources
        .iter()
        .flat_map(|source| interface_methods(&source.code, ADAPTER))
        .collect();
    if methods.is_empty() {
        errors.push(format!(
            "common/ declares no interface {ADAPTER} with methods"
        ));
    }
    for version in &versions {
        let dir = repo_root().join(&record.versions[version].variant);
        let own = sources_in(&[dir.as_path()]);
        for method in &methods {
            let declared = own.iter().any(|source| {
                sites(&source.code, method, Kind::Method)
                    .iter()
                    .any(|(_, site, _)| *site == Site::Declaration)
            });
            if !declared {
                errors.push(format!(
                    "{}: no implementation of {ADAPTER}.{method}",
                    record.versions[version].variant
                ));
            }
        }
    }
    assert!(errors.is_empty(), "\n{}\n", errors.join("\n"));
}

#[test]
fn every_recorded_member_is_used_and_in_the_doc_table() {
    let record = record();
    let readme_path = guide_dir().join("README.md");
    let readme = fs::read_to_string(&readme_path)
        .unwrap_or_else(|e| panic!("{}: {e}", readme_path.display()));
    assert!(
        readme.contains("not compiled here"),
        "{} lost its status line",
        readme_path.display()
    );
    let rows: Vec<&str> = readme
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .collect();
    let mut errors = Vec::new();
    for member in &record.member {
        let needle = format!("`{}`", member.display());
        let Some(row) = rows.iter().find(|r| r.contains(&needle)) else {
            errors.push(format!("README.md's table has no row for {needle}"));
            continue;
        };
        for (version, signature) in &member.signatures {
            if !row.contains(&signature.file) {
                errors.push(format!(
                    "README.md's row for {needle} does not name {} ({version})",
                    signature.file
                ));
            }
            if member.kind.callable() && !row.contains(&signature.rendered()) {
                errors.push(format!(
                    "README.md's row for {needle} does not show {version}'s `{}`",
                    signature.rendered()
                ));
            }
        }
    }
    for version in versions(&record) {
        assert!(
            record
                .member
                .iter()
                .all(|m| m.signatures.contains_key(&version)),
            "every member needs a `{version}` entry"
        );
        let sources = variant_sources(&record, &version);
        for member in &record.member {
            let used = sources.iter().any(|source| {
                if member.kind.callable() {
                    !sites(&source.code, &member.name, member.kind).is_empty()
                } else {
                    // `x.Name`, or `Name = …` in an object initializer.
                    let code = &source.code;
                    word_positions(code, &member.name).iter().any(|&at| {
                        let after = skip_ws(code, at + member.name.len());
                        prev_non_ws(code, at).is_some_and(|p| code[p] == b'.')
                            || (code.get(after) == Some(&b'=')
                                && code.get(after + 1) != Some(&b'='))
                    })
                }
            });
            if !used {
                errors.push(format!(
                    "{} is recorded for {version} but {} does not use it",
                    member.display(),
                    record.versions[&version].variant
                ));
            }
        }
    }
    assert!(errors.is_empty(), "\n{}\n", errors.join("\n"));
}

#[test]
fn project_files_pin_the_recorded_version() {
    let record = record();
    for (key, version) in &record.versions {
        let path = repo_root()
            .join(&version.variant)
            .join("CibaApproval.csproj");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let pin = format!(
            "<PackageReference Include=\"{}\" Version=\"[{}]\" />",
            version.package, version.version
        );
        assert!(
            text.contains(&pin),
            "{} ({key}) does not contain {pin}",
            path.display()
        );
    }
}

/// System.Text.Json's JsonNamingPolicy.CamelCase ("IdP" → "idP", "URLValue" → "urlValue").
fn stj_camel_case(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.first().is_none_or(|c| !c.is_uppercase()) {
        return name.to_owned();
    }
    for i in 0..chars.len() {
        if i == 1 && !chars[i].is_uppercase() {
            break;
        }
        let has_next = i + 1 < chars.len();
        if i > 0 && has_next && !chars[i + 1].is_uppercase() {
            if chars[i + 1] == ' ' {
                chars[i] = chars[i].to_lowercase().next().unwrap_or(chars[i]);
            }
            break;
        }
        chars[i] = chars[i].to_lowercase().next().unwrap_or(chars[i]);
    }
    chars.into_iter().collect()
}

/// `// schema: X` followed by `record Name(params)`: X → the JSON names of the parameters.
fn schema_records(source: &Source) -> Vec<(String, usize, BTreeSet<String>)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for line in source.text.split_inclusive('\n') {
        if let Some(schema) = line.trim().strip_prefix("// schema:") {
            let schema = schema.trim().to_owned();
            let after = offset + line.len();
            let record_at = find_from(&source.code, after, b"record ").unwrap_or_else(|| {
                panic!(
                    "{}: no record after `// schema: {schema}`",
                    source.place(after)
                )
            });
            let open = find_from(&source.code, record_at, b"(").expect("a positional record");
            let names = split_params(source, open)
                .iter()
                .map(|p| {
                    let p = strip_attributes(p).split('=').next().unwrap_or("").trim();
                    stj_camel_case(p.split_whitespace().last().unwrap_or(""))
                })
                .collect();
            found.push((schema, record_at, names));
        }
        offset += line.len();
    }
    found
}

#[test]
fn json_records_match_the_openapi_schemas() {
    let record = record();
    let openapi: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(repo_root().join("contract/openapi.json"))
            .expect("contract/openapi.json"),
    )
    .expect("openapi.json is JSON");
    let schemas = openapi["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    let mut errors = Vec::new();
    for version in versions(&record) {
        let sources = variant_sources(&record, &version);
        let mut covered = BTreeSet::new();
        for source in &sources {
            for (schema, at, names) in schema_records(source) {
                let Some(properties) = schemas
                    .get(&schema)
                    .and_then(|s| s["properties"].as_object())
                else {
                    errors.push(format!(
                        "{}: openapi.json has no schema {schema}",
                        source.place(at)
                    ));
                    continue;
                };
                let expected: BTreeSet<String> = properties.keys().cloned().collect();
                if names != expected {
                    errors.push(format!(
                        "{}: {schema} writes {:?}; openapi.json has {:?}",
                        source.place(at),
                        names,
                        expected
                    ));
                }
                covered.insert(schema);
            }
        }
        for (name, schema) in schemas {
            if schema.get("properties").is_some() && !covered.contains(name) {
                errors.push(format!("{version}: no C# record for the schema {name}"));
            }
        }
    }
    assert!(errors.is_empty(), "\n{}\n", errors.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The lexer and the argument counter on their own.

fn args_of(code: &str, name: &str) -> Vec<usize> {
    let source = Source::new("t.cs".into(), code.into());
    sites(&source.code, name, Kind::Method)
        .into_iter()
        .filter_map(|(_, site, _)| match site {
            Site::Call(n) => Some(n),
            Site::Declaration => None,
        })
        .collect()
}

#[test]
fn counts_arguments_like_the_compiler() {
    assert_eq!(args_of("x.F();", "F"), [0]);
    assert_eq!(args_of("x.F( );", "F"), [0]);
    assert_eq!(args_of("x.F(a, g(b, c), new[] { d, e });", "F"), [3]);
    assert_eq!(args_of("x.F(new Dictionary<string, int>(), y);", "F"), [2]);
    assert_eq!(args_of("x.F(a < b, c > d);", "F"), [2]);
    assert_eq!(
        args_of("x.F(xs.Select(s => s.G(1, 2)), (p, q) => p);", "F"),
        [2]
    );
    assert_eq!(args_of("x.F(\"a, (b\", 'c', ',');", "F"), [3]);
    assert_eq!(
        args_of(
            "x.F(@\"a \"\", b\", $\"{y}, {(z ? \"1, 2\" : \"3\")}\");",
            "F"
        ),
        [2]
    );
    assert_eq!(args_of("x.F(a /* , b ( */, c // , d\n);", "F"), [2]);
    assert_eq!(args_of("x.F(new R(a) { P = [b, c] }, ct: ct);", "F"), [2]);
    assert_eq!(args_of("x?.F<T>(a);", "F"), [1]);
    assert_eq!(
        args_of("// x.F(a);\nvar s = \"x.F(a)\";", "F"),
        Vec::<usize>::new()
    );
    assert_eq!(args_of("$\"{x.F(a, b)}\";", "F"), [2]);
}

#[test]
fn tells_declarations_from_calls() {
    let source = Source::new(
        "t.cs".into(),
        "public Task F(Req request, CancellationToken ct) => x.F(a);\nawait F(b);".into(),
    );
    let found: Vec<Site> = sites(&source.code, "F", Kind::Method)
        .into_iter()
        .map(|(_, s, _)| s)
        .collect();
    assert_eq!(found, [Site::Declaration, Site::Call(1), Site::Call(1)]);
    let open = source.text.find('(').unwrap();
    let types: Vec<String> = split_params(&source, open)
        .iter()
        .map(|p| normalized_type(p))
        .collect();
    assert_eq!(types, ["Req", "CancellationToken"]);
    assert_eq!(normalized_type("Ct ct"), "CancellationToken");
    assert_eq!(normalized_type("string? clientId = null"), "string?");
}

#[test]
fn camel_cases_like_system_text_json() {
    assert_eq!(stj_camel_case("InternalId"), "internalId");
    assert_eq!(stj_camel_case("IdP"), "idP");
    assert_eq!(stj_camel_case("Idp"), "idp");
    assert_eq!(stj_camel_case("URLValue"), "urlValue");
    assert_eq!(stj_camel_case("Type"), "type");
}

#[test]
fn recognizes_cancellation_tokens() {
    assert!(
        is_token("ct") && is_token("http.RequestAborted") && is_token("CancellationToken.None")
    );
    assert!(is_token("ct: ct") && !is_token("subjectId") && !is_token("cond ? a : b"));
    let signature = Signature {
        file: String::new(),
        returns: String::new(),
        receiver: None,
        params: Some(vec![
            "string subjectId".into(),
            "Ct ct".into(),
            "string? clientId = null".into(),
        ]),
    };
    assert!(takes_token(&signature, "ct", 1) && !takes_token(&signature, "ct", 2));
    assert!(takes_token(&signature, "ct: x", 0) && !takes_token(&signature, "clientId: ct", 1));
}
