//! The walk over a parsed statement: every query, relation, function and
//! alias goes through the engine's rules ([`super::rules`]).

use super::rules::{EngineRules, Functions};
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, Query, SelectItem, SetExpr, Statement,
    TableAlias, TableFactor, TableFunctionArgs, Visitor,
};
use std::ops::ControlFlow;

/// SQL Server table hints that do not take or hold locks; any other is refused.
const ALLOWED_TABLE_HINTS: &[&str] = &[
    "NOLOCK",
    "READUNCOMMITTED",
    "READCOMMITTED",
    "NOWAIT",
    "INDEX",
    "FORCESEEK",
    "FORCESCAN",
    "NOEXPAND",
];

pub(super) struct Inspector<'a> {
    pub rules: &'static EngineRules,
    pub functions: Functions<'a>,
}

fn stop(result: Result<(), String>) -> ControlFlow<String> {
    match result {
        Ok(()) => ControlFlow::Continue(()),
        Err(reason) => ControlFlow::Break(reason),
    }
}

/// The parts of a name, lower case (a quoted part as written, lowered too:
/// engines that fold names treat `"PG_AUTHID"` and `pg_authid` alike only
/// sometimes, and refusing both is the safe side).
fn parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| {
            part.as_ident()
                .map_or_else(|| part.to_string(), |ident| ident.value.clone())
                .to_lowercase()
        })
        .collect()
}

impl Inspector<'_> {
    fn function(&self, name: &ObjectName) -> ControlFlow<String> {
        stop(self.rules.check_function(&parts(name), self.functions))
    }

    fn relation(&self, name: &ObjectName) -> ControlFlow<String> {
        stop(self.rules.check_relation(&parts(name)))
    }

    fn alias(&self, ident: &Ident) -> ControlFlow<String> {
        if ident.quote_style.is_some() {
            return ControlFlow::Continue(());
        }
        stop(self.rules.check_alias(&ident.value))
    }

    fn table_alias(&self, alias: Option<&TableAlias>, base_table: bool) -> ControlFlow<String> {
        let Some(alias) = alias else {
            return ControlFlow::Continue(());
        };
        self.alias(&alias.name)?;
        // T-SQL: `orders o (TABLOCKX)` is a hint, not a column list.
        if base_table && self.rules.bare_table_hints && !alias.columns.is_empty() {
            let hints: Vec<String> = alias
                .columns
                .iter()
                .map(|column| column.name.value.clone())
                .collect();
            return check_hint_names(hints);
        }
        ControlFlow::Continue(())
    }

    fn body(&self, body: &SetExpr) -> ControlFlow<String> {
        match body {
            SetExpr::Select(select) if select.into.is_some() => {
                ControlFlow::Break("SELECT INTO (which creates a table) is not allowed".into())
            }
            SetExpr::Select(select) => {
                for item in &select.projection {
                    match item {
                        SelectItem::ExprWithAlias { alias, .. } => self.alias(alias)?,
                        SelectItem::ExprWithAliases { aliases, .. } => {
                            for alias in aliases {
                                self.alias(alias)?;
                            }
                        }
                        _ => {}
                    }
                }
                ControlFlow::Continue(())
            }
            // `TABLE x` reads a relation without a FROM.
            SetExpr::Table(table) => {
                let mut parts: Vec<String> = Vec::new();
                if let Some(schema) = &table.schema_name {
                    parts.push(schema.value.to_lowercase());
                }
                if let Some(name) = &table.table_name {
                    parts.push(name.value.to_lowercase());
                }
                stop(self.rules.check_relation(&parts))
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                ControlFlow::Break(
                    "data-modifying statements are not allowed, also not inside WITH".into(),
                )
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.body(left)?;
                self.body(right)
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

impl Visitor for Inspector<'_> {
    type Break = String;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<String> {
        match statement {
            Statement::Query(_) => ControlFlow::Continue(()),
            other => ControlFlow::Break(format!(
                "a query may not contain {} (a data-modifying or nested statement)",
                super::statement_kind(other)
            )),
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<String> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(
                "locking clauses (FOR UPDATE / FOR SHARE) are not allowed".into(),
            );
        }
        if query.settings.is_some() || query.format_clause.is_some() {
            return ControlFlow::Break("query settings are not allowed".into());
        }
        self.body(&query.body)
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<String> {
        if let Expr::Function(function) = expr {
            return self.function(&function.name);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<String> {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                ..
            } => {
                check_hints(with_hints)?;
                match args {
                    // T-SQL: `orders (NOLOCK)` is the old spelling of a hint.
                    Some(args) if self.rules.bare_table_hints && only_names(args) => {
                        check_hint_names(arg_names(args))?
                    }
                    Some(_) => self.function(name)?,
                    None => {}
                }
                self.relation(name)?;
                self.table_alias(alias.as_ref(), true)
            }
            TableFactor::Function { name, alias, .. } => {
                self.function(name)?;
                self.relation(name)?;
                self.table_alias(alias.as_ref(), false)
            }
            TableFactor::Derived { alias, .. }
            | TableFactor::TableFunction { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::JsonTable { alias, .. }
            | TableFactor::OpenJsonTable { alias, .. }
            | TableFactor::NestedJoin { alias, .. }
            | TableFactor::Pivot { alias, .. }
            | TableFactor::Unpivot { alias, .. } => self.table_alias(alias.as_ref(), false),
            _ => ControlFlow::Continue(()),
        }
    }
}

/// Whether every argument is a bare name (`orders (NOLOCK, INDEX)`).
fn only_names(args: &TableFunctionArgs) -> bool {
    !args.args.is_empty()
        && args.args.iter().all(|arg| {
            matches!(
                arg,
                FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(ident)))
                    if ident.quote_style.is_none()
            )
        })
}

fn arg_names(args: &TableFunctionArgs) -> Vec<String> {
    args.args
        .iter()
        .map(|arg| match arg {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(ident))) => {
                ident.value.clone()
            }
            other => other.to_string(),
        })
        .collect()
}

/// SQL Server table hints (`WITH (NOLOCK)`): only those that take no locks.
fn check_hints(hints: &[Expr]) -> ControlFlow<String> {
    check_hint_names(
        hints
            .iter()
            .map(|hint| match hint {
                Expr::Identifier(ident) => ident.value.clone(),
                Expr::Function(function) => function.name.to_string(),
                other => other.to_string(),
            })
            .collect(),
    )
}

fn check_hint_names(names: Vec<String>) -> ControlFlow<String> {
    for name in names {
        let name = name.to_uppercase();
        if !ALLOWED_TABLE_HINTS.contains(&name.as_str()) {
            return ControlFlow::Break(format!(
                "the table hint {name} is not allowed (it takes or holds locks, or is unknown)"
            ));
        }
    }
    ControlFlow::Continue(())
}
