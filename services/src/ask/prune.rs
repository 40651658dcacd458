//! Schema pruning without a model call: the tables a question is about, the
//! tables that join them, and nothing else, within a token budget.
//!
//! Tables are ranked by how many of the question's words (and the recent
//! turns' words, weighted lower) their names, their columns' names and
//! comments carry, after splitting names on case and underscores and folding
//! plurals; a question naming a value of a small text column (the value
//! index, [`targets::values`]) ranks that column's table high, and the
//! prompt says which column holds it (`customers.country = 'Aruba'`). The
//! best are taken, then the shortest foreign-key paths between them (so the
//! join is always there), then more by rank while the budget lasts. With no
//! word in common the schema is taken in order until the budget. Tokens are
//! counted with a real BPE tokenizer (o200k_base); the provider's own counts
//! are what the ledger records.

use models::targets::{Schema, TableInfo};
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// Tokens of `text` (o200k_base: close to what current models count).
pub fn tokens(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton()
        .encode_ordinary(text)
        .len()
}

/// Most table lines whose token counts are remembered.
const REMEMBERED_LINES: usize = 50_000;

/// [`tokens`] of one table's line, remembered: the schema is cached between
/// questions, and counting every line again was most of a question's own time.
fn line_tokens(line: &str) -> usize {
    use std::sync::{Mutex, OnceLock};
    static COUNTS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    let counts = COUNTS.get_or_init(Default::default);
    if let Some(&n) = counts
        .lock()
        .ok()
        .and_then(|m| m.get(line).copied())
        .as_ref()
    {
        return n;
    }
    let n = tokens(line);
    if let Ok(mut map) = counts.lock() {
        if map.len() >= REMEMBERED_LINES {
            map.clear();
        }
        map.insert(line.to_owned(), n);
    }
    n
}

/// The pruned schema: what the prompt shows and what it cost in tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// Qualified names, in the schema's order.
    pub tables: Vec<String>,
    /// (table, column) of every column shown.
    pub columns: Vec<(String, String)>,
    pub text: String,
    pub schema_tokens: usize,
    pub whole_schema_tokens: usize,
}

/// Words too common to say anything about a table.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "for", "to", "by", "and", "or", "with", "from", "at", "is",
    "are", "was", "were", "be", "how", "many", "much", "what", "which", "who", "whom", "when",
    "where", "why", "show", "me", "list", "give", "get", "find", "all", "each", "per", "our", "we",
    "my", "i", "you", "do", "does", "did", "have", "has", "had", "there", "their", "it", "its",
    "this", "that", "these", "those", "top", "last", "first", "most", "least", "than", "more",
    "less", "between", "about", "as", "any", "some", "total", "number", "count", "id", "ids",
    "name", "names",
];

/// A word's comparable form: lower case, simple plurals folded.
fn fold(word: &str) -> String {
    let w = word.to_lowercase();
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 4
        && (w.ends_with("ses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes"))
    {
        return w[..w.len() - 2].to_owned();
    }
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        return w[..w.len() - 1].to_owned();
    }
    w
}

/// The words of a name or a sentence: split on anything not alphanumeric and
/// on lower-to-upper case changes (`orderLines`, `order_lines` -> order, line).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(fold(&current));
                current.clear();
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            out.push(fold(&current));
            current.clear();
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        current.push(c);
    }
    if !current.is_empty() {
        out.push(fold(&current));
    }
    out
}

/// Most "where the value is" hints in one prompt.
const MAX_HINTS: usize = 8;

/// Whether the question names `value`: every word of the value is a word of
/// the question (values that are only stopwords or one letter never match).
fn names_value(spoken: &HashSet<String>, value: &str) -> bool {
    let parts = words(value);
    !parts.is_empty()
        && parts
            .iter()
            .any(|w| w.chars().count() > 1 && !STOPWORDS.contains(&w.as_str()))
        && parts.iter().all(|w| spoken.contains(w))
}

fn terms(text: &str) -> HashSet<String> {
    words(text)
        .into_iter()
        .filter(|w| w.len() > 1 && !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// One table's line in the prompt (as `prompts::schema_text` writes it).
fn table_line(table: &TableInfo) -> String {
    let single = Schema {
        tables: vec![table.clone()],
        read_at: 0,
    };
    super::prompts::schema_text(&single, usize::MAX)
}

/// Picks and renders the tables for `question` (with `context`, the recent
/// turns' questions) within `budget` tokens.
pub fn prune(schema: &Schema, question: &str, context: &[&str], budget: usize) -> Pruned {
    let lines: Vec<String> = schema.tables.iter().map(table_line).collect();
    let costs: Vec<usize> = lines.iter().map(|l| line_tokens(l)).collect();
    let whole_schema_tokens = costs.iter().sum();

    let asked = terms(question);
    let earlier: HashSet<String> = context.iter().flat_map(|q| terms(q)).collect();
    // Every word of the question, stopwords included ("US" is a value).
    let spoken: HashSet<String> = words(question).into_iter().collect();
    let mut hints: Vec<Vec<String>> = vec![Vec::new(); schema.tables.len()];
    let mut score = |i: usize, table: &TableInfo| -> f64 {
        let name: HashSet<String> = words(&table.name).into_iter().collect();
        let columns: HashSet<String> = table.columns.iter().flat_map(|c| words(&c.name)).collect();
        let comments: HashSet<String> = table
            .columns
            .iter()
            .filter_map(|c| c.comment.as_deref())
            .flat_map(terms)
            .collect();
        let mut s = 0.0;
        for (set, weight) in [(&asked, 1.0), (&earlier, 0.4)] {
            for term in set.iter() {
                if name.contains(term) {
                    s += 3.0 * weight;
                } else if columns.contains(term) {
                    s += 1.0 * weight;
                } else if comments.contains(term) {
                    s += 0.7 * weight;
                }
            }
        }
        for column in &table.columns {
            for value in &column.values {
                if names_value(&spoken, value) {
                    s += 2.5;
                    hints[i].push(format!(
                        "{}.{} = '{}'",
                        table.name,
                        column.name,
                        value.replace('\'', "''")
                    ));
                }
            }
        }
        s
    };
    let scores: Vec<f64> = schema
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| score(i, t))
        .collect();
    let mut ranked: Vec<usize> = (0..schema.tables.len())
        .filter(|&i| scores[i] > 0.0)
        .collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));

    let index: HashMap<String, usize> = schema
        .tables
        .iter()
        .enumerate()
        .flat_map(|(i, t)| {
            [
                (t.qualified_name().to_lowercase(), i),
                (t.name.to_lowercase(), i),
            ]
        })
        .collect();
    let mut neighbours: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); schema.tables.len()];
    for (i, table) in schema.tables.iter().enumerate() {
        for fk in &table.foreign_keys {
            if let Some(&j) = index.get(&fk.references_table.to_lowercase()) {
                if i != j {
                    neighbours[i].insert(j);
                    neighbours[j].insert(i);
                }
            }
        }
    }

    let mut chosen: BTreeSet<usize> = BTreeSet::new();
    let mut used = 0usize;
    let take = |i: usize, chosen: &mut BTreeSet<usize>, used: &mut usize| -> bool {
        if chosen.contains(&i) {
            return true;
        }
        if *used + costs[i] > budget {
            return false;
        }
        *used += costs[i];
        chosen.insert(i);
        true
    };
    // The best matches, each with its join path to those already taken.
    for &i in &ranked {
        if scores[i] < scores[ranked[0]] * 0.34 && chosen.len() >= 3 {
            break;
        }
        let path = if chosen.is_empty() {
            vec![i]
        } else {
            shortest_path(&neighbours, i, &chosen).unwrap_or_else(|| vec![i])
        };
        let extra: usize = path
            .iter()
            .filter(|j| !chosen.contains(j))
            .map(|&j| costs[j])
            .sum();
        if used + extra > budget {
            continue;
        }
        for j in path {
            take(j, &mut chosen, &mut used);
        }
    }
    // Then the neighbours of what was taken, and the rest by rank, while the budget lasts.
    let frontier: Vec<usize> = chosen
        .iter()
        .flat_map(|&i| neighbours[i].iter().copied())
        .collect();
    for i in frontier {
        take(i, &mut chosen, &mut used);
    }
    for &i in &ranked {
        take(i, &mut chosen, &mut used);
    }
    if chosen.is_empty() {
        for i in 0..schema.tables.len() {
            if !take(i, &mut chosen, &mut used) {
                break;
            }
        }
    }

    let mut text = String::new();
    let mut tables = Vec::new();
    let mut columns = Vec::new();
    let named: Vec<&String> = chosen
        .iter()
        .flat_map(|&i| hints[i].iter())
        .take(MAX_HINTS)
        .collect();
    if !named.is_empty() {
        let list: Vec<&str> = named.iter().map(|s| s.as_str()).collect();
        text.push_str(&format!(
            "Values the question names, and where they are: {}\n",
            list.join(", ")
        ));
    }
    for &i in &chosen {
        let table = &schema.tables[i];
        text.push_str(&lines[i]);
        tables.push(table.qualified_name());
        columns.extend(
            table
                .columns
                .iter()
                .map(|c| (table.qualified_name(), c.name.clone())),
        );
    }
    let left_out = schema.tables.len() - chosen.len();
    if left_out > 0 {
        text.push_str(&format!(
            "({left_out} other tables of this database are not shown: they do not seem to be about the question.)\n"
        ));
    }
    Pruned {
        tables,
        columns,
        schema_tokens: tokens(&text),
        text,
        whole_schema_tokens,
    }
}

/// The shortest foreign-key path from `from` to any table of `to` (both
/// ends included), at most four tables long.
fn shortest_path(
    neighbours: &[BTreeSet<usize>],
    from: usize,
    to: &BTreeSet<usize>,
) -> Option<Vec<usize>> {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([(from, 0usize)]);
    let mut seen = HashSet::from([from]);
    while let Some((at, depth)) = queue.pop_front() {
        if to.contains(&at) {
            let mut path = vec![at];
            let mut cursor = at;
            while let Some(&p) = previous.get(&cursor) {
                path.push(p);
                cursor = p;
            }
            return Some(path);
        }
        if depth >= 3 {
            continue;
        }
        for &next in &neighbours[at] {
            if seen.insert(next) {
                previous.insert(next, at);
                queue.push_back((next, depth + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
