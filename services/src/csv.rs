//! CSV as people open it in a spreadsheet: RFC 4180 quoting by the `csv`
//! crate, and text neutralised against spreadsheet formulas. The one place
//! for both: email attachments, the bot's CSV button, the costs export.

use models::targets::{QueryResult, Value};

/// Neutralises spreadsheet formulas (OWASP's CSV injection list: a leading
/// `=`, `+`, `-`, `@`, tab or carriage return) with a leading quote; quoting
/// is left to the `csv` writer.
pub fn neutralised(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// The rows of a result as CSV, formulas neutralised; `None` when there are none.
pub fn result_csv(result: &QueryResult) -> Option<String> {
    if result.columns.is_empty() || result.rows.is_empty() {
        return None;
    }
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer
        .write_record(result.columns.iter().map(|c| neutralised(&c.name)))
        .ok()?;
    for row in &result.rows {
        writer
            .write_record(row.iter().map(|v| match v {
                Value::Null => String::new(),
                other => neutralised(&other.render()),
            }))
            .ok()?;
    }
    String::from_utf8(writer.into_inner().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::targets::ResultColumn;

    #[test]
    fn a_result_is_quoted_and_its_formulas_neutralised() {
        let text = |t: &str| Value::Text {
            text: t.to_owned(),
            truncated: false,
        };
        let result = QueryResult {
            columns: vec![
                ResultColumn {
                    name: "=name".into(),
                    type_name: "TEXT".into(),
                },
                ResultColumn {
                    name: "total".into(),
                    type_name: "INT8".into(),
                },
            ],
            rows: vec![
                vec![text("Tea, green"), Value::Int(12)],
                vec![text("@cmd"), Value::Null],
            ],
            truncated: false,
            row_limit: 10,
            elapsed_ms: 1,
        };
        assert_eq!(
            result_csv(&result).as_deref(),
            Some("'=name,total\n\"Tea, green\",12\n'@cmd,\n")
        );
        let empty = QueryResult {
            rows: Vec::new(),
            ..result
        };
        assert_eq!(result_csv(&empty), None);
        assert_eq!(neutralised("-1+2"), "'-1+2");
        assert_eq!(neutralised("plain"), "plain");
    }
}
