//! The verdict: one line per promise and a closing `N passed, M failed`, or the same as JSON for CI.

use serde::Serialize;

/// One promise of the contract and whether the host kept it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable short id, e.g. `409-after-poll`.
    pub id: &'static str,
    pub promise: &'static str,
    pub passed: bool,
    /// Not checked, for want of something only the integrator can give (then `passed` is false, but
    /// it does not count as failed); `detail` says what.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    /// For a failure, what the kit saw; for a skipped promise, what it needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub issuer: String,
    pub passed: usize,
    pub failed: usize,
    /// Promises not checked (see [`Finding::skipped`]).
    pub skipped: usize,
    pub promises: Vec<Finding>,
}

impl Report {
    pub fn new(issuer: &str, promises: Vec<Finding>) -> Self {
        let passed = promises.iter().filter(|f| f.passed).count();
        let skipped = promises.iter().filter(|f| f.skipped).count();
        Self {
            issuer: issuer.to_owned(),
            passed,
            failed: promises.len() - passed - skipped,
            skipped,
            promises,
        }
    }

    /// `PASS  id: promise` / `FAIL  id: promise (what it saw)` / `SKIP  id: promise (what it needs)`,
    /// then `N passed, M failed`, and `, K skipped` when some were.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        for finding in &self.promises {
            let verdict = match (finding.passed, finding.skipped) {
                (_, true) => "SKIP",
                (true, false) => "PASS",
                (false, false) => "FAIL",
            };
            out.push_str(&format!("{verdict}  {}: {}", finding.id, finding.promise));
            if let Some(detail) = &finding.detail {
                out.push_str(&format!(" ({detail})"));
            }
            out.push('\n');
        }
        out.push_str(&format!("{} passed, {} failed", self.passed, self.failed));
        if self.skipped > 0 {
            out.push_str(&format!(", {} skipped", self.skipped));
        }
        out.push('\n');
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes") + "\n"
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }

    pub fn failed_ids(&self) -> Vec<&'static str> {
        self.promises
            .iter()
            .filter(|f| !f.passed && !f.skipped)
            .map(|f| f.id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_with_the_count() {
        let report = Report::new(
            "https://id.example.com",
            vec![
                Finding {
                    id: "a",
                    promise: "first",
                    passed: true,
                    skipped: false,
                    detail: None,
                },
                Finding {
                    id: "b",
                    promise: "second",
                    passed: false,
                    skipped: false,
                    detail: Some("saw 404".into()),
                },
            ],
        );
        assert_eq!(
            report.lines(),
            "PASS  a: first\nFAIL  b: second (saw 404)\n1 passed, 1 failed\n"
        );
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["failed"], 1);
        assert_eq!(json["promises"][1]["detail"], "saw 404");
        assert_eq!(report.failed_ids(), ["b"]);
        assert!(json["promises"][0].get("skipped").is_none());
    }

    #[test]
    fn skipped_promises_are_counted_apart() {
        let finding = |id, passed, skipped| Finding {
            id,
            promise: "p",
            passed,
            skipped,
            detail: skipped.then(|| "give --x".to_owned()),
        };
        let report = Report::new(
            "https://id.example.com",
            vec![finding("a", true, false), finding("c", false, true)],
        );
        assert_eq!(
            report.lines(),
            "PASS  a: p\nSKIP  c: p (give --x)\n1 passed, 0 failed, 1 skipped\n"
        );
        assert!(report.all_passed());
        assert!(report.failed_ids().is_empty());
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(json["skipped"], 1);
        assert_eq!(json["promises"][1]["skipped"], true);
    }
}
