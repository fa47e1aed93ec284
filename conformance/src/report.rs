//! The verdict: one line per promise and a closing `N passed, M failed`, or the same as JSON for CI.

use serde::Serialize;

/// One promise of the contract and whether the host kept it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable short id, e.g. `409-after-poll`.
    pub id: &'static str,
    pub promise: &'static str,
    pub passed: bool,
    /// For a failure, what the kit saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub issuer: String,
    pub passed: usize,
    pub failed: usize,
    pub promises: Vec<Finding>,
}

impl Report {
    pub fn new(issuer: &str, promises: Vec<Finding>) -> Self {
        let passed = promises.iter().filter(|f| f.passed).count();
        Self {
            issuer: issuer.to_owned(),
            passed,
            failed: promises.len() - passed,
            promises,
        }
    }

    /// `PASS  id: promise` / `FAIL  id: promise (what it saw)`, then `N passed, M failed`.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        for finding in &self.promises {
            let verdict = if finding.passed { "PASS" } else { "FAIL" };
            out.push_str(&format!("{verdict}  {}: {}", finding.id, finding.promise));
            if let Some(detail) = &finding.detail {
                out.push_str(&format!(" ({detail})"));
            }
            out.push('\n');
        }
        out.push_str(&format!("{} passed, {} failed\n", self.passed, self.failed));
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
            .filter(|f| !f.passed)
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
                    detail: None,
                },
                Finding {
                    id: "b",
                    promise: "second",
                    passed: false,
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
    }
}
