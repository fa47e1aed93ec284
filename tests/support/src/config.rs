//! The repository's demo configuration (`idp/ciba-idp.toml`), edited by setting name. A setting that is
//! not there to change fails the test at once, so an edit can never silently do nothing when the file
//! changes shape; a setting that is new to the file goes in with [`DemoConfig::add`], and ciba-idp itself
//! refuses unknown names (`deny_unknown_fields`).

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use crate::workspace_root;

#[derive(Clone, Debug)]
pub struct DemoConfig {
    table: Table,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self::load()
    }
}

impl DemoConfig {
    /// `idp/ciba-idp.toml` as committed.
    pub fn load() -> Self {
        let text = std::fs::read_to_string(workspace_root().join("idp/ciba-idp.toml")).unwrap();
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Self {
        Self {
            table: text.parse().expect("the demo configuration is TOML"),
        }
    }

    /// Changes the setting at `path` (`poll_interval_secs`, `rate_limits.login_per_ip_per_minute`),
    /// which must exist.
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> Self {
        let (table, key) = Self::parent(&mut self.table, path, false);
        assert!(
            table.contains_key(key),
            "the demo configuration has no setting '{path}' to change"
        );
        table.insert(key.to_owned(), value.into());
        self
    }

    /// Adds the setting at `path`, creating its section (`duende.remove_decided_on_poll`); it must
    /// not be there yet.
    pub fn add(mut self, path: &str, value: impl Into<Value>) -> Self {
        let (table, key) = Self::parent(&mut self.table, path, true);
        assert!(
            !table.contains_key(key),
            "the demo configuration already has '{path}': use set"
        );
        table.insert(key.to_owned(), value.into());
        self
    }

    /// Appends an entry to an array of tables (`clients`, `users`, `api_scopes`).
    pub fn push(mut self, array: &str, entry: Table) -> Self {
        match self.table.get_mut(array) {
            Some(Value::Array(items)) => items.push(Value::Table(entry)),
            _ => panic!("the demo configuration has no [[{array}]]"),
        }
        self
    }

    /// Changes a field of the entry of `array` whose `key` is `name` (e.g. the client `demo-client`).
    pub fn set_in(
        mut self,
        array: &str,
        key: &str,
        name: &str,
        field: &str,
        value: impl Into<Value>,
    ) -> Self {
        let entry = match self.table.get_mut(array) {
            Some(Value::Array(items)) => items
                .iter_mut()
                .filter_map(Value::as_table_mut)
                .find(|entry| entry.get(key).and_then(Value::as_str) == Some(name)),
            _ => None,
        }
        .unwrap_or_else(|| panic!("the demo configuration has no {array} with {key} = {name:?}"));
        entry.insert(field.to_owned(), value.into());
        self
    }

    /// No rate limit a test run can reach, and polls every second: for tests about something else.
    pub fn for_fast_tests(self) -> Self {
        self.set("poll_interval_secs", 1)
            .set("rate_limits.backchannel_per_user_per_minute", 10_000)
            .set("rate_limits.backchannel_per_client_per_minute", 10_000)
            .set("rate_limits.login_per_user_per_minute", 10_000)
            .set("rate_limits.login_per_ip_per_minute", 10_000)
    }

    /// Duende's behaviour: a decided request is deleted at the client's next token poll.
    pub fn duende_forgets_decisions(self) -> Self {
        self.add("duende.remove_decided_on_poll", true)
    }

    pub fn text(&self) -> String {
        toml::to_string(&self.table).expect("a TOML table serializes")
    }

    /// Writes the configuration to `dir/ciba-idp.toml`.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ciba-idp.toml");
        std::fs::write(&path, self.text()).unwrap();
        path
    }

    fn parent<'t>(table: &'t mut Table, path: &'t str, create: bool) -> (&'t mut Table, &'t str) {
        let mut parts: Vec<&str> = path.split('.').collect();
        let key = parts.pop().unwrap();
        let mut table = table;
        for section in parts {
            if create && !table.contains_key(section) {
                table.insert(section.to_owned(), Value::Table(Table::new()));
            }
            table = table
                .get_mut(section)
                .and_then(Value::as_table_mut)
                .unwrap_or_else(|| {
                    panic!("the demo configuration has no [{section}] for '{path}'")
                });
        }
        (table, key)
    }
}

#[cfg(test)]
mod tests {
    use super::DemoConfig;

    #[test]
    fn edits_by_name_and_refuses_what_is_not_there() {
        let text = DemoConfig::load()
            .set("poll_interval_secs", 1)
            .duende_forgets_decisions()
            .text();
        assert!(text.contains("poll_interval_secs = 1"), "{text}");
        assert!(text.contains("remove_decided_on_poll = true"), "{text}");
        let missing = std::panic::catch_unwind(|| DemoConfig::load().set("poll_intervall_secs", 1));
        assert!(missing.is_err(), "a misspelt setting fails");
        let twice = std::panic::catch_unwind(|| DemoConfig::load().add("poll_interval_secs", 1));
        assert!(twice.is_err(), "add does not overwrite");
    }
}
