use super::*;

#[test]
fn budget_states_change_at_80_and_100_percent() {
    let b = Usd::dollars(10);
    assert_eq!(BudgetState::of(Usd::ZERO, b), BudgetState::Fine);
    assert_eq!(BudgetState::of(Usd(799_999_999), b), BudgetState::Fine);
    assert_eq!(BudgetState::of(Usd(800_000_000), b), BudgetState::Warning);
    assert_eq!(BudgetState::of(Usd(999_999_999), b), BudgetState::Warning);
    assert_eq!(BudgetState::of(b, b), BudgetState::Exhausted);
    assert_eq!(BudgetState::of(Usd::dollars(12), b), BudgetState::Exhausted);
    assert_eq!(
        BudgetState::of(Usd::ZERO, Usd::ZERO),
        BudgetState::Exhausted
    );
}

fn price(input: &str, output: &str, cached: &str) -> ModelPrice {
    ModelPrice {
        input_per_million: Usd::parse(input).unwrap_or_default(),
        output_per_million: Usd::parse(output).unwrap_or_default(),
        cached_input_per_million: Usd::parse(cached).unwrap_or_default(),
        above: None,
    }
}

#[test]
fn thoughts_are_output_and_cached_tokens_are_cheaper() {
    let flash = price("0.30", "2.50", "0.03");
    let usage = Usage {
        prompt_tokens: 10_000,
        cached_tokens: 4_000,
        candidates_tokens: 500,
        thoughts_tokens: 1_500,
    };
    let cost = flash.cost(&usage);
    // 6,000 fresh * 0.30 = 0.0018 $; 4,000 cached * 0.03 = 0.00012 $.
    assert_eq!(cost.input_cost, Usd(180_000 + 12_000));
    // (500 + 1,500) * 2.50 = 0.005 $.
    assert_eq!(cost.output_cost, Usd(500_000));
    assert_eq!(cost.total(), Usd(692_000));
}

#[test]
fn the_tier_applies_to_the_whole_call_above_the_threshold() {
    let mut pro = price("1.25", "10.00", "0.125");
    pro.above = Some(PriceTier {
        prompt_tokens_over: 200_000,
        input_per_million: Usd::parse("2.50").unwrap_or_default(),
        output_per_million: Usd::parse("15.00").unwrap_or_default(),
        cached_input_per_million: Usd::parse("0.25").unwrap_or_default(),
    });
    let at = Usage {
        prompt_tokens: 200_000,
        candidates_tokens: 1_000,
        ..Usage::default()
    };
    assert_eq!(pro.cost(&at).input_cost, Usd(25_000_000));
    assert_eq!(pro.cost(&at).output_cost, Usd(1_000_000));
    let over = Usage {
        prompt_tokens: 200_001,
        candidates_tokens: 1_000,
        ..Usage::default()
    };
    assert_eq!(
        pro.cost(&over).input_cost,
        Usd::for_tokens(200_001, Usd(250_000_000))
    );
    assert_eq!(pro.cost(&over).output_cost, Usd(1_500_000));
}

#[test]
fn absurd_usage_is_refused() {
    assert!(Usage {
        prompt_tokens: -1,
        ..Usage::default()
    }
    .validate()
    .is_err());
    assert!(Usage {
        candidates_tokens: MAX_TOKENS_PER_CALL + 1,
        ..Usage::default()
    }
    .validate()
    .is_err());
    let err = Usage {
        prompt_tokens: 10,
        cached_tokens: 11,
        ..Usage::default()
    }
    .validate()
    .unwrap_err();
    assert!(err.message().contains("11 cached tokens"), "{err:?}");
    assert!(Usage {
        prompt_tokens: 10,
        cached_tokens: 10,
        ..Usage::default()
    }
    .validate()
    .is_ok());
}

#[test]
fn stage_names_are_the_seeds() {
    for stage in Stage::ALL {
        assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        assert_eq!(
            serde_json::to_string(&stage).ok(),
            Some(format!("\"{}\"", stage.as_str()))
        );
    }
}
