//! Prices per model, per 1M tokens, with built-in defaults and overrides from a
//! JSON file (`TABLETALK_PRICES_FILE`). Costs are computed when a call is recorded.

use anyhow::Context;
use models::costs::{CallCost, ModelPrice, PriceTier, Usage};
use models::Usd;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The built-in prices, in USD per 1M tokens, standard (paid) tier, text input.
///
/// Source: Google's Gemini API pricing page (ai.google.dev/gemini-api/docs/pricing),
/// figures as published in late 2025. gemini-2.0-flash is retired for new calls
/// but kept so older records keep their meaning. Override any of them, or add
/// models (e.g. for OpenAI-compatible endpoints), in the prices file.
const DEFAULTS: &[(&str, Prices, Tier)] = &[
    // model, (input, output, cached input), above this many prompt tokens: (input, output, cached input)
    (
        "gemini-2.5-pro",
        ("1.25", "10.00", "0.125"),
        Some((200_000, ("2.50", "15.00", "0.25"))),
    ),
    ("gemini-2.5-flash", ("0.30", "2.50", "0.03"), None),
    ("gemini-2.5-flash-lite", ("0.10", "0.40", "0.01"), None),
    ("gemini-2.0-flash", ("0.10", "0.40", "0.025"), None),
];

/// Input, output and cached-input dollars per 1M tokens, as exact decimal text.
type Prices = (&'static str, &'static str, &'static str);
/// Prices for calls whose prompt has more than this many tokens.
type Tier = Option<(i64, Prices)>;

/// Model name -> prices.
#[derive(Debug, Clone)]
pub struct PriceTable {
    models: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// The built-in prices.
    pub fn defaults() -> PriceTable {
        let dollars = |s: &str| Usd::parse(s).unwrap_or(Usd::ZERO);
        let models = DEFAULTS
            .iter()
            .map(|(name, (input, output, cached), above)| {
                let price = ModelPrice {
                    input_per_million: dollars(input),
                    output_per_million: dollars(output),
                    cached_input_per_million: dollars(cached),
                    above: above.map(|(over, (i, o, c))| PriceTier {
                        prompt_tokens_over: over,
                        input_per_million: dollars(i),
                        output_per_million: dollars(o),
                        cached_input_per_million: dollars(c),
                    }),
                };
                ((*name).to_owned(), price)
            })
            .collect();
        PriceTable { models }
    }

    /// The defaults with the file's entries laid over them (a missing path: defaults only).
    pub fn load(path: Option<&Path>) -> anyhow::Result<PriceTable> {
        let mut table = PriceTable::defaults();
        let Some(path) = path else {
            return Ok(table);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("TABLETALK_PRICES_FILE: cannot read {}", path.display()))?;
        let overrides = parse_overrides(&text).with_context(|| {
            format!(
                "TABLETALK_PRICES_FILE: {} is not a valid prices file",
                path.display()
            )
        })?;
        table.models.extend(overrides);
        Ok(table)
    }

    pub fn get(&self, model: &str) -> Option<&ModelPrice> {
        self.models.get(model)
    }

    /// The cost of a call; an unknown model costs zero and logs a warning (the
    /// call is still recorded, never dropped).
    pub fn cost(&self, model: &str, usage: &Usage) -> CallCost {
        match self.models.get(model) {
            Some(price) => price.cost(usage),
            None => {
                tracing::warn!(
                    model,
                    "no price for this model: recorded at zero cost; add it to the prices file"
                );
                CallCost::default()
            }
        }
    }

    /// Model names, sorted (for documentation and the UI).
    pub fn models(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.models.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    input: String,
    output: String,
    cached_input: Option<String>,
    above: Option<RawTier>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    prompt_tokens_over: i64,
    input: String,
    output: String,
    cached_input: Option<String>,
}

/// `{"model": {"input": "0.15", "output": "0.60", "cached_input": "0.075",
/// "above": {"prompt_tokens_over": 200000, "input": ..., "output": ...}}}`;
/// prices are decimal strings of dollars per 1M tokens (exact, no floats).
fn parse_overrides(text: &str) -> anyhow::Result<HashMap<String, ModelPrice>> {
    let raw: HashMap<String, RawPrice> = serde_json::from_str(text)?;
    let price = |model: &str, what: &str, value: &str| -> anyhow::Result<Usd> {
        let usd =
            Usd::parse(value).map_err(|e| anyhow::anyhow!("{model}.{what}: {}", e.message()))?;
        anyhow::ensure!(
            usd >= Usd::ZERO,
            "{model}.{what}: a price cannot be negative"
        );
        Ok(usd)
    };
    raw.into_iter()
        .map(|(model, p)| {
            let input = price(&model, "input", &p.input)?;
            let output = price(&model, "output", &p.output)?;
            let cached = match &p.cached_input {
                Some(c) => price(&model, "cached_input", c)?,
                None => input,
            };
            let above = p
                .above
                .map(|t| -> anyhow::Result<PriceTier> {
                    anyhow::ensure!(
                        t.prompt_tokens_over > 0,
                        "{model}.above.prompt_tokens_over must be positive"
                    );
                    let tier_input = price(&model, "above.input", &t.input)?;
                    Ok(PriceTier {
                        prompt_tokens_over: t.prompt_tokens_over,
                        input_per_million: tier_input,
                        output_per_million: price(&model, "above.output", &t.output)?,
                        cached_input_per_million: match &t.cached_input {
                            Some(c) => price(&model, "above.cached_input", c)?,
                            None => tier_input,
                        },
                    })
                })
                .transpose()?;
            Ok((
                model,
                ModelPrice {
                    input_per_million: input,
                    output_per_million: output,
                    cached_input_per_million: cached,
                    above,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_the_four_gemini_models() {
        let table = PriceTable::defaults();
        assert_eq!(
            table.models(),
            vec![
                "gemini-2.0-flash",
                "gemini-2.5-flash",
                "gemini-2.5-flash-lite",
                "gemini-2.5-pro"
            ]
        );
        let flash = table.get("gemini-2.5-flash").expect("priced");
        assert_eq!(flash.output_per_million, Usd(250_000_000));
        assert!(table
            .get("gemini-2.5-pro")
            .and_then(|p| p.above.as_ref())
            .is_some());
    }

    #[test]
    fn unknown_models_cost_zero() {
        let usage = Usage {
            prompt_tokens: 1000,
            candidates_tokens: 10,
            ..Usage::default()
        };
        assert_eq!(
            PriceTable::defaults().cost("mystery-model", &usage).total(),
            Usd::ZERO
        );
    }

    #[test]
    fn the_file_overrides_and_adds_models() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prices.json");
        std::fs::write(
            &path,
            r#"{"gpt-4o-mini": {"input": "0.15", "output": "0.60", "cached_input": "0.075"},
                "gemini-2.5-flash": {"input": "0.35", "output": "3"}}"#,
        )
        .expect("write");
        let table = PriceTable::load(Some(&path)).expect("loads");
        assert_eq!(
            table.get("gpt-4o-mini").map(|p| p.cached_input_per_million),
            Some(Usd(7_500_000))
        );
        let flash = table.get("gemini-2.5-flash").expect("priced");
        assert_eq!(flash.input_per_million, Usd(35_000_000));
        assert_eq!(
            flash.cached_input_per_million, flash.input_per_million,
            "no cached price: input price"
        );
        assert!(table.get("gemini-2.5-pro").is_some(), "defaults stay");

        for bad in [
            r#"{"m": {"input": "0.1"}}"#,
            r#"{"m": {"input": "abc", "output": "1"}}"#,
            r#"{"m": {"input": "-1", "output": "1"}}"#,
            r#"{"m": {"input": "1", "output": "1", "typo": "1"}}"#,
            "not json",
        ] {
            std::fs::write(&path, bad).expect("write");
            assert!(PriceTable::load(Some(&path)).is_err(), "{bad}");
        }
        let missing = PriceTable::load(Some(&dir.path().join("nope.json"))).unwrap_err();
        assert!(
            format!("{missing:#}").contains("TABLETALK_PRICES_FILE"),
            "{missing:#}"
        );
    }
}
