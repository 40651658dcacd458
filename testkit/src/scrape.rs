//! Reading a Prometheus `/metrics` page the way a scraper does.

/// The sum of every sample of `name` whose labels include all of `labels`
/// (`name` exactly: `x_total` does not match `x_total_more`); 0 when none.
pub fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let has = |(key, want): &(&str, &str)| {
                rest.split(',')
                    .any(|pair| pair == format!("{key}=\"{want}\""))
            };
            labels.iter().all(has).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// Whether `name` appears as a sample at all.
pub fn has(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        !line.starts_with('#')
            && (line.starts_with(&format!("{name} ")) || line.starts_with(&format!("{name}{{")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_summed_by_name_and_labels() {
        let text = "# TYPE a_total counter\n\
                    a_total{kind=\"x\",outcome=\"ok\"} 2\n\
                    a_total{kind=\"y\",outcome=\"ok\"} 3\n\
                    a_total_more{kind=\"x\"} 100\n\
                    b 1.5\n";
        assert_eq!(sum(text, "a_total", &[]), 5.0);
        assert_eq!(sum(text, "a_total", &[("kind", "x")]), 2.0);
        assert_eq!(sum(text, "a_total", &[("kind", "z")]), 0.0);
        assert_eq!(sum(text, "b", &[]), 1.5);
        assert!(has(text, "b") && has(text, "a_total") && !has(text, "a"));
    }
}
