//! Schema matching evidence: a column's coarse type and value profile, abbreviations
//! learned from the two schemas, and the evidence the rules check for a column pair.

use super::*;

/// Coarse data type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    Integer,
    Float,
    Bool,
    Date,
    Text,
    Unknown,
}

impl DataType {
    pub fn from_declared(t: &str) -> Self {
        let t = t.to_lowercase();
        if t.contains("bool") || t == "bit" {
            DataType::Bool
        } else if t.contains("date") || t.contains("time") {
            DataType::Date
        } else if t.contains("int") || t == "serial" || t == "long" {
            DataType::Integer
        } else if [
            "float", "double", "real", "decimal", "numeric", "number", "money",
        ]
        .iter()
        .any(|x| t.contains(x))
        {
            DataType::Float
        } else if ["char", "text", "string", "str", "clob", "varchar"]
            .iter()
            .any(|x| t.contains(x))
        {
            DataType::Text
        } else {
            DataType::Unknown
        }
    }

    fn of_value(s: &str) -> Self {
        let s = s.trim();
        if s.is_empty() {
            return DataType::Unknown;
        }
        let l = s.to_ascii_lowercase();
        if l == "true" || l == "false" {
            return DataType::Bool;
        }
        if let Ok(n) = s.parse::<i64>() {
            // `19430117`: a date written without separators (year 1800-2099)
            let (y, m, d) = (n / 10_000, n / 100 % 100, n % 100);
            if s.len() == 8
                && (1800..2100).contains(&y)
                && (1..=12).contains(&m)
                && (1..=31).contains(&d)
            {
                return DataType::Date;
            }
            return DataType::Integer;
        }
        if s.parse::<f64>().is_ok() {
            return DataType::Float;
        }
        let b = s.as_bytes();
        if b.len() >= 8
            && b.len() <= 25
            && b[..4].iter().all(u8::is_ascii_digit)
            && (b[4] == b'-' || b[4] == b'/')
        {
            return DataType::Date;
        }
        DataType::Text
    }

    /// Majority type of sample values.
    pub fn infer(samples: &[String]) -> Self {
        let mut c: HashMap<DataType, usize> = HashMap::new();
        for s in samples {
            let t = DataType::of_value(s);
            if t != DataType::Unknown {
                *c.entry(t).or_default() += 1;
            }
        }
        let n: usize = c.values().sum();
        if n == 0 {
            return DataType::Unknown;
        }
        let ints = c.get(&DataType::Integer).copied().unwrap_or(0);
        let floats = c.get(&DataType::Float).copied().unwrap_or(0);
        if ints + floats == n && floats > 0 {
            return DataType::Float;
        }
        c.into_iter()
            .max_by_key(|(t, k)| (*k, *t as u8))
            .map(|(t, _)| t)
            .unwrap_or(DataType::Unknown)
    }

    /// Whether two types can hold the same kind of data (text holds anything).
    pub fn compatible(a: Self, b: Self) -> bool {
        use DataType::*;
        match (a, b) {
            (Unknown, _) | (_, Unknown) | (Text, _) | (_, Text) => true,
            (Integer | Float, Integer | Float) => true,
            (x, y) => x == y,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DataType::Integer => "integer",
            DataType::Float => "float",
            DataType::Bool => "bool",
            DataType::Date => "date",
            DataType::Text => "text",
            DataType::Unknown => "unknown",
        }
    }
}

/// A column prepared for schema matching.
#[derive(Debug, Clone)]
pub struct SmColumn {
    pub table: String,
    pub name: String,
    pub name_tokens: Vec<String>,
    pub desc_tokens: Vec<String>,
    pub declared: DataType,
    pub inferred: DataType,
    pub values: HashSet<String>,
    pub value_tokens: HashSet<String>,
    /// Mean and std of numeric samples, when numeric.
    pub numeric: Option<(f64, f64)>,
    pub mean_len: f64,
    /// E-mail addresses among the samples ([`EmailShape`]; `None` under
    /// [`SHAPE_MIN_SAMPLES`] samples that are not placeholders).
    pub email_share: Option<EmailShape>,
    /// Share of the values shaped as a street address (`246 mcallister st.`), from five or
    /// more samples that are not placeholders (`None` with fewer).
    pub street_share: Option<f64>,
    /// Whether the distinct values are single characters (normalised, one and a half on
    /// average at most: a gender's `m` and `f`, initials), whose containment in another
    /// column counts only when they are many ([`sm_evidence`]).
    pub single_chars: bool,
    /// Character-trigram profile of the values (unit length).
    pub profile: HashMap<String, f64>,
    /// How often each telling shape of digits occurs among the values
    /// ([`DigitShapes`]; empty for a column of words or short numbers).
    pub digit_shapes: DigitShapes,
    /// The concept the name stands for in the built-in lexicon ([`crate::engine::lexicon`]).
    pub concept: Option<&'static str>,
    /// The concept the name states whole ([`crate::engine::lexicon::concept_exact`]:
    /// `gender`, `MiddleInitial`, `emp_mi`; not `student_number` or `first_seen`).
    pub concept_exact: Option<&'static str>,
}

impl SmColumn {
    pub fn new(table: &Table, c: &Column, extra_desc: Option<&str>) -> Self {
        let samples: Vec<String> = c
            .samples
            .iter()
            .map(value_text)
            .filter(|s| !s.trim().is_empty())
            .collect();
        let mut desc = c.description.clone().unwrap_or_default();
        if let Some(e) = extra_desc {
            desc.push(' ');
            desc.push_str(e);
        }
        let nums: Vec<f64> = samples
            .iter()
            .filter_map(|s| s.trim().parse::<f64>().ok())
            .collect();
        let numeric = (!nums.is_empty() && nums.len() * 10 >= samples.len() * 9).then(|| {
            let m = nums.iter().sum::<f64>() / nums.len() as f64;
            let v = nums.iter().map(|x| (x - m).powi(2)).sum::<f64>() / nums.len() as f64;
            (m, v.sqrt())
        });
        let mean_len = if samples.is_empty() {
            0.0
        } else {
            samples
                .iter()
                .map(|s| s.chars().count() as f64)
                .sum::<f64>()
                / samples.len() as f64
        };
        let values: HashSet<String> = samples
            .iter()
            .map(|s| crate::engine::text::normalize(s))
            .collect();
        let single_chars = values.iter().map(|v| v.chars().count()).sum::<usize>() as f64
            <= 1.5 * values.len() as f64;
        let real = real_samples(&samples);
        let inferred = inferred_type(&c.name, &samples);
        Self {
            table: table.name.clone(),
            name: c.name.clone(),
            name_tokens: split_identifier(&c.name),
            concept: crate::engine::lexicon::concept(&c.name),
            concept_exact: crate::engine::lexicon::concept_exact(&c.name),
            desc_tokens: crate::engine::text::tokens(&desc),
            declared: c
                .data_type
                .as_deref()
                .map(DataType::from_declared)
                .unwrap_or(DataType::Unknown),
            inferred,
            values,
            value_tokens: samples
                .iter()
                .flat_map(|s| crate::engine::text::tokens(s))
                .collect(),
            numeric,
            mean_len,
            email_share: EmailShape::of(&real),
            street_share: street_share(&real),
            single_chars,
            profile: value_profile(&samples),
            // dates are told by their type: every date column shares a shape (a date
            // written as text, `01/17/1943`, is left out value by value)
            digit_shapes: if inferred == DataType::Date {
                DigitShapes::default()
            } else {
                DigitShapes::of(&real)
            },
        }
    }

    pub fn data_type(&self) -> DataType {
        if self.declared != DataType::Unknown {
            self.declared
        } else {
            self.inferred
        }
    }
}

/// The type of a column's samples ([`DataType::infer`]); whole numbers under a date's
/// name that are a spreadsheet's day numbers ([`crate::engine::fs::serial_day`]: `BirthDt`
/// = `18192`) are dates, as entity matching reads them, so such a column pairs with a
/// `dob` written out.
fn inferred_type(name: &str, samples: &[String]) -> DataType {
    let t = DataType::infer(samples);
    // `18192.0` where pandas wrote a column with gaps: a float, and still a day number
    let real: Vec<&String> = samples
        .iter()
        .filter(|s| !crate::engine::columns::is_missing_value(s))
        .collect();
    let days = real
        .iter()
        .filter(|s| crate::engine::fs::serial_day(s).is_some())
        .count();
    if matches!(t, DataType::Integer | DataType::Float)
        && !real.is_empty()
        && days * 10 >= real.len() * 9
        && crate::engine::columns::date_named(name)
    {
        DataType::Date
    } else {
        t
    }
}

/// Whether two columns' types exclude each other: declared types that cannot hold the
/// same data, or sample values that are all numbers on one side and never on the other,
/// or e-mail addresses on one side and none on the other ([`EmailShape`]).
/// Digits written with separators (`495-225-5775`, `17/01/1943`) are numbers for this:
/// one table writes a phone or a date as `4952255775` or `19430117`, another formats it.
pub fn types_incompatible(a: &SmColumn, b: &SmColumn) -> bool {
    if !DataType::compatible(a.data_type(), b.data_type()) {
        return true;
    }
    // e-mail addresses on one side, none on the other (a `mail_address` of e-mails and a
    // street address), however alike the names
    if let (Some(x), Some(y)) = (a.email_share, b.email_share)
        && ((x.whole >= 0.8 && y.within <= 0.1) || (y.whole >= 0.8 && x.within <= 0.1))
    {
        return true;
    }
    let numeric = |t: DataType| matches!(t, DataType::Integer | DataType::Float);
    let text = |c: &SmColumn| c.inferred == DataType::Text && !digits_with_separators(c);
    (numeric(a.inferred) && text(b)) || (numeric(b.inferred) && text(a))
}

/// Share of values two columns must each hold shaped as a street address for the shape
/// to count as evidence that they hold one thing ([`sm_evidence`]).
const STREET_SHARE: f64 = 0.6;

/// The least value similarity two columns of street addresses get from the shape alone
/// (two samples of addresses share few words: `addr` / `location` of two restaurant
/// guides); the rest of the way to 1 by the words and trigrams they do share, so that of
/// two address columns the closer in content still ranks first.
const STREET_SHAPE_SIM: f64 = 0.7;

/// Whether most sample values are digits with separators only (normalized: digits and
/// spaces, at least one space): formatted numbers, codes, phones and dates.
fn digits_with_separators(c: &SmColumn) -> bool {
    let formatted = c
        .values
        .iter()
        .filter(|v| v.contains(' ') && v.bytes().all(|b| b.is_ascii_digit() || b == b' '))
        .count();
    !c.values.is_empty() && formatted * 5 >= c.values.len() * 4
}

/// Whether two names stating lexicon concepts whole ([`SmColumn::concept_exact`]) state
/// two things: two concepts, and not two parts of an address (`county` / `region`,
/// `district` / `city` are one column in some countries).
fn two_concepts(a: Option<&str>, b: Option<&str>) -> bool {
    use crate::engine::lexicon::ADDRESS;
    match (a, b) {
        (Some(x), Some(y)) => x != y && !(ADDRESS.contains(&x) && ADDRESS.contains(&y)),
        _ => false,
    }
}

/// Token-level expansions learned from the data: a short token in one table that
/// abbreviates a token of the other table (`gvn` → `given`), unless the lexicon reads
/// the two as two concepts (`mi` is a middle initial, not `municipality`) or a two-letter
/// short one as a concept and the long one as none (`ln` is a surname, not FHIR's address
/// `line`).
pub fn learn_expansions(a: &[SmColumn], b: &[SmColumn]) -> HashMap<String, String> {
    let vocab_a: HashSet<&String> = a.iter().flat_map(|c| c.name_tokens.iter()).collect();
    let vocab_b: HashSet<&String> = b.iter().flat_map(|c| c.name_tokens.iter()).collect();
    let mut out = HashMap::new();
    for (short_side, long_side) in [(&vocab_a, &vocab_b), (&vocab_b, &vocab_a)] {
        for s in short_side.iter() {
            if long_side.contains(*s) || s.len() < 2 {
                continue;
            }
            let cs = crate::engine::lexicon::concept_exact(s);
            let cands: Vec<&&String> = long_side
                .iter()
                .filter(|l| crate::engine::text::token_abbreviates(s, l))
                .filter(|l| {
                    let cl = crate::engine::lexicon::concept_exact(l);
                    // a two-letter code the lexicon reads whole (`ln`, a surname) shortens
                    // no word it reads as nothing (`line`); `tel` may shorten `telecom`
                    !two_concepts(cs, cl) && (s.len() > 2 || cs.is_none() || cl.is_some())
                })
                .collect();
            if cands.len() == 1 {
                out.insert((*s).clone(), (*cands[0]).clone());
            }
        }
    }
    out
}

fn expand(tokens: &[String], exp: &HashMap<String, String>, facts: &[&Facts]) -> Vec<String> {
    let mut out: Vec<String> = tokens
        .iter()
        .map(|t| exp.get(t).cloned().unwrap_or_else(|| t.clone()))
        .collect();
    let joined = out.join(" ");
    for f in facts {
        for (x, y) in f.aliases.iter().chain(&f.abbreviations) {
            if &joined == x {
                out = y.split(' ').map(str::to_string).collect();
            }
        }
    }
    out
}

/// The evidence for one column pair.
#[derive(Debug, Clone)]
pub struct SmEvidence {
    pub type_a: DataType,
    pub type_b: DataType,
    pub name_sim: f64,
    pub desc_sim: f64,
    pub value_sim: Option<f64>,
    pub abbreviation: bool,
    pub alias: bool,
    pub distinct: bool,
    /// Combined concept score.
    pub score: f64,
}

/// Calibrated sentence-embedding similarities of a column pair (feature `embeddings`,
/// when a model is configured), each in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Semantic {
    /// Of the two column names.
    pub name: Option<f64>,
    /// Of the two columns' sample values (each column's values embedded as one list).
    pub values: Option<f64>,
}

/// Most a pair of columns named as two known concepts scores ([`sm_evidence`]): under
/// the one-to-one floor at any threshold above 0.29.
const TWO_CONCEPTS_CAP: f64 = 0.1;

/// Embedding similarity of two column names from which they are read as one concept
/// whatever the lexicon says.
const TWO_CONCEPTS_SEMANTIC: f64 = 0.9;

/// Distinct values beyond one the smaller of two columns of single characters needs for
/// its values all being among the other's to count in full ([`sm_evidence`]).
const CONTAINMENT_VALUES: f64 = 5.0;

/// Value similarity of two columns whose values all take one telling shape of digits
/// ([`DigitShapes`]: `999-99-9999`): over the one-to-one floor with
/// nothing else said, under the threshold on its own.
const DIGIT_SHAPE_SIM: f64 = 0.8;

/// Scores a column pair.
///
/// `semantic` holds the embedding similarities of the names and of the sample values,
/// when configured: each can only raise its lexical counterpart.
pub fn sm_evidence(
    a: &SmColumn,
    b: &SmColumn,
    idf: &Idf,
    exp: &HashMap<String, String>,
    facts: &[&Facts],
    semantic: Semantic,
) -> SmEvidence {
    let na = expand(&a.name_tokens, exp, facts);
    let nb = expand(&b.name_tokens, exp, facts);
    let ja = a.name_tokens.join(" ");
    let jb = b.name_tokens.join(" ");
    let stated_abbreviation = facts.iter().any(|f| f.abbreviation(&ja, &jb));
    let abbreviation = stated_abbreviation
        || is_abbreviation(&a.name_tokens, &b.name_tokens)
        || is_abbreviation(&b.name_tokens, &a.name_tokens);
    let alias = facts.iter().any(|f| f.alias(&ja, &jb));
    let distinct = facts.iter().any(|f| f.is_distinct(&ja, &jb));
    let name_sim = if na == nb || alias {
        1.0
    } else {
        let ts = token_sim(&na, &nb);
        let tri = trigram_sim(&na.concat(), &nb.concat());
        let tset: HashSet<&String> = na.iter().collect();
        let uset: HashSet<&String> = nb.iter().collect();
        let jac = jaccard(&tset, &uset);
        let lexical = (0.4 * ts + 0.3 * tri + 0.3 * jac)
            .max(if abbreviation { 0.85 } else { 0.0 })
            .max(semantic.name.unwrap_or(0.0));
        // the built-in lexicon: two names of one concept (`surname` / `last_name`) are
        // synonyms; names of two concepts (`first_name` / `last_name`) only look alike
        match (a.concept, b.concept) {
            (Some(x), Some(y)) if x == y => lexical.max(0.95),
            (Some(_), Some(_)) => lexical.min(0.3),
            _ => lexical,
        }
    };
    let desc_sim = idf.cosine(&a.desc_tokens, &b.desc_tokens);
    let value_sim = if a.values.is_empty() || b.values.is_empty() {
        None
    } else {
        let exact = jaccard(&a.values, &b.values);
        let tok = jaccard(&a.value_tokens, &b.value_tokens);
        // one column's values all among the other's; of single characters (a few dozen
        // possible) only when they are many: a gender column's `m` and `f` are among any
        // column of initials
        let fewer = a.values.len().min(b.values.len());
        let chars = a.single_chars && b.single_chars;
        let cont = a.values.intersection(&b.values).count() as f64 / fewer as f64
            * if chars {
                ((fewer - 1) as f64 / CONTAINMENT_VALUES).min(1.0)
            } else {
                1.0
            };
        let prof = profile_cosine(&a.profile, &b.profile);
        // phone numbers, identity numbers, postcodes written alike: few trigrams shared
        let shape = a.digit_shapes.similarity(&b.digit_shapes);
        let streets = [a, b]
            .iter()
            .all(|c| c.street_share.is_some_and(|x| x >= STREET_SHARE));
        let mut s = exact
            .max(tok)
            .max(0.8 * cont)
            .max(0.9 * prof * prof)
            .max(DIGIT_SHAPE_SIM * shape)
            .max(semantic.values.unwrap_or(0.0))
            .max(if streets {
                STREET_SHAPE_SIM + (1.0 - STREET_SHAPE_SIM) * prof.max(tok)
            } else {
                0.0
            });
        if let (Some((ma, sa)), Some((mb, sb))) = (a.numeric, b.numeric) {
            let scale = (sa + sb).max(1e-9) / 2.0 + 1e-9;
            let z = ((ma - mb).abs() / scale).min(10.0);
            let dist = (1.0 / (1.0 + z)) * (sa.min(sb) + 1e-9) / (sa.max(sb) + 1e-9);
            s = s.max(0.9 * dist);
        }
        let len_ratio = if a.mean_len > 0.0 && b.mean_len > 0.0 {
            a.mean_len.min(b.mean_len) / a.mean_len.max(b.mean_len)
        } else {
            1.0
        };
        Some(s * (0.7 + 0.3 * len_ratio))
    };
    let has_desc = !a.desc_tokens.is_empty() && !b.desc_tokens.is_empty();
    let mut parts = vec![(name_sim, 1.0)];
    if has_desc {
        parts.push((desc_sim, 0.6));
    }
    if let Some(v) = value_sim {
        parts.push((v, 1.2));
    }
    let w: f64 = parts.iter().map(|p| p.1).sum();
    let mut score = parts.iter().map(|p| p.0 * p.1).sum::<f64>() / w;
    // strong single evidence: identical names or near-identical value sets
    score = score
        .max(name_sim * 0.95)
        .max(value_sim.unwrap_or(0.0) * 0.9);
    if distinct {
        score = 0.0;
    }
    // names that state two known concepts whole (`gender` / `MiddleInitial`) say the
    // columns hold two things, however alike their values look (one letter each): the
    // values alone cannot make them one, so the score stays under the one-to-one floor
    // (threshold × 0.35: 0.28 at the default 0.8). Not for two parts of an address
    // ([`two_concepts`]), nor where anything beyond the values says they are one (a
    // stated alias or a tenant's labelled example, a stated abbreviation, learnt
    // expansions, the names' embeddings). One name read as an abbreviation of the other
    // does not: `MI` would abbreviate `municipality`, but the lexicon knows it as a
    // middle initial
    if two_concepts(a.concept_exact, b.concept_exact)
        && !alias
        && !stated_abbreviation
        && na != nb
        && semantic.name.unwrap_or(0.0) < TWO_CONCEPTS_SEMANTIC
    {
        score = score.min(TWO_CONCEPTS_CAP);
    }
    SmEvidence {
        type_a: a.data_type(),
        type_b: b.data_type(),
        name_sim,
        desc_sim,
        value_sim,
        abbreviation,
        alias,
        distinct,
        score: score.clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn col(name: &str, ty: Option<&str>, samples: serde_json::Value) -> Column {
        Column {
            name: name.into(),
            data_type: ty.map(str::to_string),
            description: None,
            samples: samples.as_array().cloned().unwrap_or_default(),
        }
    }

    /// [`sm_evidence`] of two columns with no knowledge, expansion or embedding.
    fn evidence(a: &SmColumn, b: &SmColumn) -> SmEvidence {
        sm_evidence(
            a,
            b,
            &Idf::default(),
            &HashMap::new(),
            &[],
            Semantic::default(),
        )
    }

    /// A column of no declared type in a table `people`, from its sample values.
    fn people_column(name: &str, samples: serde_json::Value) -> SmColumn {
        let t = Table {
            name: "people".into(),
            description: None,
            columns: vec![],
        };
        SmColumn::new(&t, &col(name, None, samples), None)
    }

    #[test]
    fn numbers_written_in_one_telling_shape_are_alike_though_no_value_is_shared() {
        let c = people_column;
        let phones = |xs: &[&str]| json!(xs);
        let telecom = c(
            "telecom",
            phones(&[
                "8977866604",
                "8996105261",
                "4623604297",
                "8654622117",
                "6004502543",
            ]),
        );
        let ph_nbr = c(
            "PH_NBR",
            phones(&[
                "3569712962",
                "3704763235",
                "2212317688",
                "2807470632",
                "4983762049",
            ]),
        );
        let ssn = c(
            "identifier",
            phones(&[
                "743469107",
                "545842816",
                "131295357",
                "230941187",
                "918273645",
            ]),
        );
        let floor = 0.8 * crate::engine::pipeline::SM_MUTUAL_FLOOR;
        let e = evidence;
        assert!(
            e(&telecom, &ph_nbr).score > floor,
            "{:?}",
            e(&telecom, &ph_nbr)
        );
        // nine digits are not ten: nothing beyond the trigrams of random digits
        assert!(e(&telecom, &ssn).score < floor, "{:?}", e(&telecom, &ssn));
        // ten digits laid out another way are still alike, less so
        let laid_out = c(
            "PAT_CONTACT",
            phones(&[
                "356-971-2962",
                "370-476-3235",
                "221-231-7688",
                "280-747-0632",
                "498-376-2049",
            ]),
        );
        let (same, other) = (e(&telecom, &ph_nbr).score, e(&telecom, &laid_out).score);
        assert!(other > floor && other < same, "{same} {other}");
        // a house number's or a ZIP's shape is too common to tell anything
        let zips = c("zip", json!(["19757", "77319", "37298", "60614", "94110"]));
        assert!(zips.digit_shapes.is_empty());
        // nor is a date's: every date column shares one, and their type tells them
        let created = c(
            "created",
            json!([
                "2019-05-17",
                "2020-11-02",
                "2018-01-30",
                "2021-07-07",
                "2017-03-15"
            ]),
        );
        assert!(created.digit_shapes.is_empty());
        let admitted = c(
            "ADMIT",
            json!([
                "01/17/1943",
                "11/02/2020",
                "01/30/2018",
                "07/07/2021",
                "03/15/2017"
            ]),
        );
        assert!(admitted.digit_shapes.is_empty());
        assert_eq!(
            super::super::shapes::digit_shape("(415) 555-0199 ext 2").as_deref(),
            Some("(999) 999-9999 a 9")
        );
    }

    #[test]
    fn a_word_the_lexicon_reads_whole_abbreviates_no_word_it_does_not() {
        let c = people_column;
        let ln = c("ln", json!(["smith", "jones"]));
        let line = c("line", json!(["12 main st", "4 elm rd"]));
        let learnt = learn_expansions(std::slice::from_ref(&ln), std::slice::from_ref(&line));
        assert!(!learnt.contains_key("ln"), "{learnt:?}");
        // a longer one still may (`tel` of `telecom`), and a short word the lexicon does
        // not know
        let tel = c("tel", json!(["4155550199"]));
        let telecom = c("telecom", json!(["4155550123"]));
        let learnt = learn_expansions(std::slice::from_ref(&tel), std::slice::from_ref(&telecom));
        assert_eq!(learnt.get("tel").map(String::as_str), Some("telecom"));
        let gvn = c("gvn", json!(["ann"]));
        let given = c("given", json!(["bob"]));
        let learnt = learn_expansions(std::slice::from_ref(&gvn), std::slice::from_ref(&given));
        assert_eq!(learnt.get("gvn").map(String::as_str), Some("given"));
    }

    #[test]
    fn types_and_compatibility() {
        assert_eq!(DataType::from_declared("VARCHAR(20)"), DataType::Text);
        assert_eq!(DataType::from_declared("bigint"), DataType::Integer);
        assert_eq!(
            DataType::infer(&["1".into(), "2.5".into()]),
            DataType::Float
        );
        assert_eq!(DataType::infer(&["2020-01-02".into()]), DataType::Date);
        assert_eq!(DataType::infer(&["20200102".into()]), DataType::Date);
        assert_eq!(DataType::infer(&["20201302".into()]), DataType::Integer);
        assert_eq!(DataType::infer(&["12345678".into()]), DataType::Integer);
        assert!(!DataType::compatible(DataType::Date, DataType::Bool));
        assert!(DataType::compatible(DataType::Integer, DataType::Float));
    }

    #[test]
    fn abbreviated_column_scores_high() {
        let t = Table {
            name: "people".into(),
            description: None,
            columns: vec![],
        };
        let a = SmColumn::new(
            &t,
            &col("given_name", Some("text"), json!(["john", "mary", "kate"])),
            None,
        );
        let b = SmColumn::new(
            &t,
            &col("gvnNm", None, json!(["john", "liam", "kate"])),
            None,
        );
        let c = SmColumn::new(&t, &col("postcode", None, json!([2000, 2600, 4000])), None);
        let idf = Idf::default();
        let exp = learn_expansions(std::slice::from_ref(&a), &[b.clone(), c.clone()]);
        let ab = sm_evidence(&a, &b, &idf, &exp, &[], Semantic::default());
        let ac = sm_evidence(&a, &c, &idf, &exp, &[], Semantic::default());
        assert!(ab.abbreviation);
        assert!(ab.score > 0.7, "{ab:?}");
        assert!(ac.score < 0.3, "{ac:?}");
    }

    /// An age and a wage are both whole numbers, and `age` is inside `wages`: by their
    /// names alone the two scored 0.40, over the floor, and aligned in small census and
    /// tax files. A wage is an income, a concept of its own; two incomes still meet.
    #[test]
    fn an_age_is_no_wage() {
        let c = people_column;
        let age = c("age", json!([34, 52, 41, 67, 29, 45, 38, 71]));
        let wages = c(
            "wages",
            json!([31250, 52410, 41870, 67200, 29340, 45120, 38950, 71600]),
        );
        let salary = c(
            "annual_salary",
            json!([30100, 50200, 44800, 61900, 27300, 48800, 35700, 70100]),
        );
        let e = evidence;
        let floor = 0.8 * crate::engine::pipeline::SM_MUTUAL_FLOOR;
        assert!(e(&age, &wages).score < floor, "{:?}", e(&age, &wages));
        assert!(e(&wages, &salary).score > 0.8, "{:?}", e(&wages, &salary));
    }

    /// A gender and a middle initial both hold one letter: their values look alike, but
    /// their names are of two known concepts, and the values alone cannot make them one.
    #[test]
    fn columns_named_as_two_concepts_stay_apart_however_alike_their_values() {
        let c = people_column;
        let gender = c("gender", json!(["f", "m", "f", "m", "m", "f"]));
        let middle = c("MiddleInitial", json!(["d", "r", "m", "j", "f", "a"]));
        let sex = c("sex", json!(["m", "f", "f", "m", "f", "m"]));
        let unnamed = c("col7", json!(["d", "r", "m", "j", "f", "a"]));
        let e = evidence;
        let floor = 0.8 * crate::engine::pipeline::SM_MUTUAL_FLOOR;
        assert!(
            e(&gender, &middle).score < floor,
            "{:?}",
            e(&gender, &middle)
        );
        assert!(e(&gender, &sex).score > 0.8, "{:?}", e(&gender, &sex));
        // a name of no known concept leaves the values to speak
        assert!(
            e(&middle, &unnamed).score > floor,
            "{:?}",
            e(&middle, &unnamed)
        );
        // a name that only ends like a concept (`mobile_number`, read as a house
        // number) states none: the same people's numbers still meet the `phone` column
        let mobile = c(
            "mobile_number",
            json!(["(276) 924-8336", "(504) 816-8944", "(696) 602-0499"]),
        );
        let phone = c(
            "phone",
            json!(["(276) 924-8336", "(504) 816-8944", "(696) 602-0499"]),
        );
        assert!(e(&mobile, &phone).score > floor, "{:?}", e(&mobile, &phone));
        // two parts of an address are left to their values (`county` / `region`)
        let county = c("county", json!(["kent", "surrey", "essex", "devon"]));
        let region = c("region", json!(["kent", "essex", "devon", "dorset"]));
        assert!(
            e(&county, &region).score > floor,
            "{:?}",
            e(&county, &region)
        );
        // a role prefix or a code suffix still states the concept whole (`emp_mi`,
        // `gender_code`), and a name read as an abbreviation of the other (`MI` of
        // `municipality`) does not outweigh what the lexicon knows
        let emp_mi = c("emp_mi", json!(["d", "r", "m", "j", "f", "a"]));
        let gender_code = c("gender_code", json!(["f", "m", "f", "m", "m", "f"]));
        assert!(
            e(&emp_mi, &gender_code).score < floor,
            "{:?}",
            e(&emp_mi, &gender_code)
        );
        let mi = c("MI", json!(["d", "r", "m", "j", "f", "a"]));
        let town = c(
            "municipality",
            json!(["leeds", "york", "hull", "bath", "ely"]),
        );
        assert!(e(&mi, &town).score < floor, "{:?}", e(&mi, &town));
        assert!(
            !learn_expansions(std::slice::from_ref(&mi), std::slice::from_ref(&town))
                .contains_key("mi")
        );
    }

    #[test]
    fn two_values_among_many_are_no_evidence_of_one_column() {
        let c = people_column;
        let e = evidence;
        // forty people's middle initials and sexes, as a sample holds them
        let letters: Vec<String> = ('a'..='t').map(String::from).collect();
        let initials = c("col3", json!(letters));
        let gender = c("col9", json!(["f", "m"].repeat(10)));
        let floor = 0.8 * crate::engine::pipeline::SM_MUTUAL_FLOOR;
        assert!(
            e(&initials, &gender).value_sim.unwrap() < floor,
            "{:?}",
            e(&initials, &gender)
        );
        // longer values all among the other's still are, however few: six towns among
        // twenty, one country among three
        let twenty: Vec<String> = (0..20).map(|i| format!("town{i:02}x")).collect();
        let towns = c("col1", json!(twenty));
        let some = c("col2", json!(twenty[..6]));
        assert!(
            e(&towns, &some).value_sim.unwrap() > 0.75,
            "{:?}",
            e(&towns, &some)
        );
        let countries = c("col4", json!(["us", "ca", "mx", "us"]));
        let us = c("col5", json!(["us", "us", "us"]));
        assert!(
            e(&countries, &us).value_sim.unwrap() > 0.75,
            "{:?}",
            e(&countries, &us)
        );
    }

    /// Two samples of street addresses share few words (two restaurant guides' `addr` and
    /// `location`), and their names nothing: the shape of the values says they are one
    /// thing. Street names without a house number, or numbered values without a street
    /// word, do not have that shape.
    #[test]
    fn two_columns_of_street_addresses_are_alike_whatever_their_words() {
        let c = people_column;
        let e = evidence;
        let addr = c(
            "addr",
            json!([
                "10801 w. pico blvd.",
                "2027 sawtelle blvd.",
                "3345 kimber dr.",
                "9882 little santa monica blvd.",
                "1 Main Street, Springfield",
                "12a harbour rd"
            ]),
        );
        let location = c(
            "location",
            json!([
                "246 mcallister st.",
                "950 8th ave. at 56th st.",
                "4041 audrie st. at flamingo rd.",
                "11705 national blvd.",
                "804 northpoint",
                "3 Elm Ave"
            ]),
        );
        let floor = 0.8 * crate::engine::pipeline::SM_MUTUAL_FLOOR;
        let both = e(&addr, &location);
        assert!(both.score > 2.0 * floor, "{both:?}");
        // street names alone (no house number), and numbered values of another kind
        let streets = c(
            "where",
            json!([
                "pico blvd",
                "sawtelle blvd",
                "kimber dr",
                "mcallister st",
                "elm ave"
            ]),
        );
        let orders = c(
            "item",
            json!([
                "3 eggs",
                "12 red apples",
                "2 loaves of bread",
                "1 pint",
                "6 oranges"
            ]),
        );
        for other in [&streets, &orders] {
            let ev = e(&addr, other);
            assert!(ev.score < both.score / 2.0, "{} {ev:?}", other.name);
        }
    }

    #[test]
    fn formatted_and_bare_numbers_are_one_type() {
        let c = people_column;
        let bare = c(
            "phone",
            json!([8609077207u64, 7244456389u64, 6368668022u64]),
        );
        let dashed = c(
            "contact_number",
            json!(["495-225-5775", "656-357-5386", "658-206-7547"]),
        );
        assert!(!types_incompatible(&bare, &dashed));
        let compact = c("birthdate", json!([19970719, 19830626, 19940327]));
        let slashed = c(
            "birth_date",
            json!(["17/01/1943", "21/03/1970", "01/07/1957"]),
        );
        assert!(!types_incompatible(&compact, &slashed));
        // a spreadsheet's day numbers under a date's name are dates (as pandas writes them
        // with a gap in the column, and with a placeholder among them); the same numbers
        // under another name are not
        let days = json!(["18192", "23011.0", "30117", "12345", "27000"]);
        let dob = c(
            "dob",
            json!([
                "1949-10-21",
                "1963-01-01",
                "1982-06-15",
                "1933-10-18",
                "1973-12-02"
            ]),
        );
        assert!(!types_incompatible(&c("BirthDt", days.clone()), &dob));
        let gaps = json!(["18192", "NULL", "30117", "12345", "27000", "23011"]);
        assert!(!types_incompatible(&c("BirthDt", gaps), &dob));
        assert!(types_incompatible(&c("visits", days), &dob));
        // numbers against words still exclude each other
        let town = c("town", json!(["anski", "ashnel", "morulham"]));
        let zip = c("zip", json!([29538, 45618, 68339]));
        assert!(types_incompatible(&zip, &town));
        // e-mail addresses against street addresses, whatever the names say
        let mail = people_column(
            "mail_address",
            json!([
                "ann.lee4@mail.com",
                "bo.ray@web.org",
                "x_y@post.co.uk",
                "n/a",
                "fi@mail.com",
                "gu@web.org"
            ]),
        );
        let street = people_column(
            "home_address",
            json!(["12 oak st", "4 elm rd", "9 bay ave", "1 ash ct", "7 fir ln"]),
        );
        let email = people_column(
            "EmailAddr",
            json!(["cy@mail.com", "dee.o@web.org", "e@x.io", "f@y.io", "g@z.io"]),
        );
        assert!(types_incompatible(&mail, &street));
        assert!(!types_incompatible(&mail, &email));
        // placeholders, display names and lists are e-mail columns too; too few samples
        // tell nothing
        let sparse = people_column(
            "contact",
            json!([
                "n/a",
                "none",
                "-",
                "",
                "N/A",
                "ann@x.com",
                "bo@y.org",
                "cy@z.net",
                "Dee O <dee@x.com>",
                "e@f.io; g@h.io"
            ]),
        );
        assert!(!types_incompatible(&mail, &sparse));
        let two = people_column("home_address", json!(["12 oak st", "4 elm rd"]));
        assert!(!types_incompatible(&mail, &two));
        // a date written without separators is a date: it goes with `1992-10-16`
        let iso = c("dob", json!(["1992-10-16", "1971-08-13", "1942-07-07"]));
        assert!(!types_incompatible(&compact, &iso));
    }
}
