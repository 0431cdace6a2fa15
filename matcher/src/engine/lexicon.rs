//! Built-in knowledge of how independently designed tables name the same attribute of
//! people, organisations, places and products: `dob` and `birth_date`, `zip` and
//! `postcode`, `tel` and `phone_number`, `surname` and `last_name`.
//!
//! Lexical similarity cannot see that `surname` and `last_name` mean one thing (they share
//! no token), nor that `first_name` and `last_name` mean two (they share one). A short
//! list of concepts and their usual names, matched on the *end* of a column name (so
//! `mailing_address_zipcode` and `cust_dob` are found too), gives the default build
//! that knowledge without a model; an embedding model, when configured, adds to it.

use super::text::split_identifier;

mod foreign;
mod nicknames;
mod skeleton;
pub use nicknames::{
    given_names_near, given_names_related, given_values_near, given_values_related,
    known_given_name, nickname_formal, nickname_pair, nickname_values,
};

/// Concepts and the token sequences that name them (normalized, space-separated).
const CONCEPTS: &[(&str, &[&str])] = &[
    (
        "given_name",
        &[
            "first name",
            "fname",
            "firstname",
            "first nm",
            "frst nm",
            "forename",
            "given name",
            "givenname",
            "given",
            "first",
            "christian name",
            "name first",
            "gvn nm",
            "fn",
        ],
    ),
    (
        "middle_name",
        &[
            "middle name",
            "middle initial",
            "middle",
            "mname",
            "mi",
            "name middle",
        ],
    ),
    (
        "surname",
        &[
            "last name",
            "lname",
            "lastname",
            "surname",
            "family name",
            "familyname",
            "family",
            "last",
            "name last",
            "sur name",
            "srnm",
            "lst nm",
            "ln",
        ],
    ),
    (
        "full_name",
        &["full name", "fullname", "person name", "complete name"],
    ),
    (
        "birth_date",
        &[
            "dob",
            "date of birth",
            "birth date",
            "birthdate",
            "birthday",
            "bday",
            "bdate",
            "birth dt",
            "dt of birth",
            "born",
            "date birth",
            "birth",
            // the date of `yob`, `mob` / `by`, `bm`, `bd` columns
            "b date",
        ],
    ),
    // where one was born: a place, neither a birth date (`place_of_birth` ends with
    // `birth`) nor where one lives (`birth_city` ends with `city`). Not `birthplace`: a
    // word the lexicon lists whole is one `brth` may shorten, and `BRTH_DT` is a date
    (
        "birth_place",
        &[
            "place of birth",
            "birth place",
            "city of birth",
            "town of birth",
            "country of birth",
            "birth city",
            "birth town",
            "birth country",
            "birth state",
            "state of birth",
            "birth province",
            "province of birth",
        ],
    ),
    (
        "birth_year",
        &["birth year", "year of birth", "yob", "byear"],
    ),
    ("age", &["age", "age years"]),
    // `sx` as a mainframe shortens it (`SX_CD`; `gndr` is read by its consonants)
    ("gender", &["sex", "gender", "sx"]),
    (
        "postcode",
        &[
            "zip",
            "zipcode",
            "zip code",
            "postcode",
            "post code",
            "postal code",
            "postalcode",
            "postal",
            "plz",
            "pcode",
            "zip5",
        ],
    ),
    (
        "phone",
        &[
            "tel",
            "telephone",
            "phone",
            "phone number",
            "phone no",
            "phone num",
            "phonenumber",
            "telephone number",
            "tel no",
            "mobile",
            "cell",
            "cell phone",
            "contact number",
            "ph",
            "phn",
        ],
    ),
    ("fax", &["fax", "fax number", "fax no"]),
    (
        "email",
        &[
            "email",
            "e mail",
            // `mail` only at the end of a name (`MailPOBox`, `mail_date` are post);
            // `mail address` is the postal one in many systems
            "mail",
            "email address",
            "e mail address",
        ],
    ),
    (
        "ssn",
        &[
            "ssn",
            "social security number",
            "social security",
            "soc sec id",
            "soc sec",
            "social security no",
            "national id",
            "sin",
            "tax id",
            "tin",
            "tax no",
            "tax number",
            "tax file number",
            "tfn",
            "national insurance number",
            "ni number",
            "nino",
            "social insurance number",
            "identity number",
            "id number",
            "identification number",
            "id card number",
            "personal number",
            "passport number",
            "passport no",
            "nhs number",
            "bsn",
        ],
    ),
    (
        "street_number",
        &[
            "street number",
            "street no",
            "house number",
            "house no",
            "house nr",
            "house num",
            "house nbr",
            "hse no",
            "hse num",
            "street nbr",
            "building number",
            "street num",
            "st num",
            "stnum",
            "housenumber",
            "address number",
            "number",
        ],
    ),
    (
        "street",
        &[
            "street",
            "street name",
            "address 1",
            "address line 1",
            "address line1",
            "address line",
            "street address",
            "addr",
            "address",
            "addr1",
            "address1",
            "street line",
            "road",
            "st name",
        ],
    ),
    (
        "address_2",
        &[
            "address 2",
            "address line 2",
            "address line2",
            "addr2",
            "address2",
            "building",
            "building name",
            "unit",
            "unit number",
            "apartment",
            "apt",
            "suite",
        ],
    ),
    (
        "city",
        &[
            "city",
            // as a mainframe shortens it (`AD_CTY`: three letters are too few to read as
            // a shortening on their own)
            "cty",
            "town",
            "suburb",
            "locality",
            "municipality",
            "city name",
            "place",
            "village",
        ],
    ),
    (
        "state",
        &[
            "state",
            "province",
            "region",
            "state code",
            "territory",
            "prov",
            "st",
            "state cd",
            "st cd",
        ],
    ),
    ("county", &["county", "district"]),
    ("country", &["country", "nation", "country code"]),
    (
        "organisation",
        &[
            "company",
            "company name",
            "organization",
            "organisation",
            "org",
            "org name",
            "employer",
            "assignee",
            "business",
            "business name",
            "firm",
            "corporation",
            "manufacturer",
            "brand",
            "vendor",
        ],
    ),
    // the household a person belongs to (`household_id`, `hh_id`): shared by everyone
    // at one address, and changed when a person moves, as the address is. Not a bare
    // `household`: `household_size` and `household_head` begin with it
    (
        "household",
        &["household id", "hh id", "family id", "dwelling id"],
    ),
    (
        "website",
        &["website", "web site", "url", "homepage", "web", "domain"],
    ),
    (
        "price",
        &["price", "cost", "amount", "list price", "unit price"],
    ),
    // what a person earned (a tax form's `wages`): no price, and no age however alike
    // the names (`age` is inside `wages`; the two aligned in small census-tax files).
    // No `wage`: a lone letter joins the word after it, and `w_age` is a wife's age
    (
        "income",
        &["income", "wages", "salary", "earnings", "annual income"],
    ),
    (
        "title",
        &["title", "product name", "product title", "item name"],
    ),
    ("cuisine", &["cuisine", "food type", "category", "type"]),
    (
        "venue",
        &["venue", "journal", "conference", "publication", "booktitle"],
    ),
    ("year", &["year", "yr", "publication year"]),
    ("authors", &["authors", "author", "author names", "writers"]),
];

/// Abbreviations schema designers write for a word inside a column name, read as the
/// word before any phrase is looked up (`EmailAddr` is `email address`, `HomePhoneNbr`
/// is `home phone number`, `BirthDt` is `birth date`), so each phrase is listed once.
fn canonical_token(t: &str) -> &str {
    match t {
        "addr" | "adr" | "adrs" => "address",
        "nbr" | "num" | "numb" => "number",
        "dt" => "date",
        "names" => "name",
        "nm" => "name",
        "cd" => "code",
        "init" => "initial",
        "yr" => "year",
        _ => t,
    }
}

/// Words that only say in what form a column holds its value (`gender_code`,
/// `ssn_number`, `mobile_number`). A name ending in one, unless a longer phrase ends
/// there too (`zip code`, `phone number`, `tax id`), takes the concept of the words before
/// it: `SSN_Num` is an identity number, `GenderCd` a gender, and `CUST_NBR` nothing (not
/// the house number the phrase `number` alone names). Not `type`: an `address_type` holds
/// a kind of address.
const GENERIC: &[&str] = &["number", "code", "id"];

/// Short or common words that name a concept only as the whole name, or after
/// [`QUALIFIERS`] alone (`fn`, `emp_ln`, `contact_mail`): `LN_DESC`, `ORDER_LN` (a line),
/// `MailPOBox`, `DO_NOT_MAIL` name none.
const QUALIFIED_ONLY: &[&str] = &["fn", "ln", "mail"];

/// Words before a phrase that begins with `id` (`id number`) for which it is an identity
/// document's number (`national_id_number`); after any other (`CUST_ID_NUM`,
/// `ACCT_ID_NUM`) it is a key of the system.
const IDENTITY_WORDS: &[&str] = &[
    "national",
    "personal",
    "tax",
    "identity",
    "government",
    "citizen",
    "state",
    "voter",
];

/// Words a designer puts before an attribute to say whose it is or which one
/// (`cust_middle_name`, `emp_mi`, `contactFirstName`, `home_phone`): the rest states the
/// concept.
const QUALIFIERS: &[&str] = &[
    "cust",
    "customer",
    "client",
    "emp",
    "employee",
    "staff",
    "student",
    "patient",
    "member",
    "person",
    "contact",
    "user",
    "applicant",
    "subscriber",
    "insured",
    "primary",
    "home",
    "mailing",
    "residence",
    "residential",
    "billing",
    "current",
    "legal",
    "preferred",
    "main",
    "src",
    "tgt",
];

/// Words before an attribute that make it another party's than the record's own entity
/// (`employer_city`, `spouse_first_name`, `emergency_contact_phone`): a person's `city`
/// is not where their employer is. See [`other_party`].
/// (Not `company`, `business` or `office`: in a file of organisations a `business_name`
/// or a `registered_office_address` is the record's own.)
const OTHER_PARTIES: &[&str] = &[
    "employer",
    "work",
    "spouse",
    "partner",
    "mother",
    "father",
    "parent",
    "guardian",
    "emergency",
    "kin",
    "agent",
    "manager",
    "supervisor",
    "doctor",
    "physician",
    "husband",
    "wife",
    "child",
    "dependent",
    "dependant",
    "sibling",
    "informant",
    "beneficiary",
    // a joint tax return's second filer (`joint_filer_first_name`, `joint_filer_ssn`)
    "joint",
];

/// The party a column name qualifies its attribute as another's by, a word of
/// [`OTHER_PARTIES`] before the last (`employer_street_name` → `employer`,
/// `SpouseFirstName` → `spouse`); `None` for the record's own (a column named `employer`
/// alone is the record's own employer).
pub fn other_party(name: &str) -> Option<&'static str> {
    let toks = split_identifier(name);
    let party = |ts: &[String]| {
        ts.iter()
            .find_map(|t| OTHER_PARTIES.iter().find(|p| **p == t.as_str()).copied())
    };
    match foreign::translated(&toks) {
        // a name in another language may name the party last, after a phrase it does
        // not turn round (`date_naissance_pere` is a father's birth date)
        Some(english) if english.len() > 1 => party(&english),
        Some(english) => party(english.split_last()?.1),
        None => party(toks.split_last()?.1),
    }
}

/// A split column name read in English where it is written in another language
/// (`Geburtsjahr` → `birth year`, `numero_client` → `client number`); as it is otherwise.
pub fn in_english(toks: Vec<String>) -> Vec<String> {
    foreign::translated(&toks).unwrap_or(toks)
}

/// The concept a column name stands for, by the longest concept phrase its tokens end
/// with (or, failing that, start with): `mailing_address_zipcode` → `postcode`,
/// `tgt_dob` → `birth_date`, `surname` → `surname`, `EmailAddr` → `email`; a name ending
/// in a [`GENERIC`] word takes the concept of the words before it (`SSN_Num` → `ssn`,
/// `mobile_number` → `phone`, `CUST_NBR` → none). `None` for names the list lacks.
pub fn concept(name: &str) -> Option<&'static str> {
    // a column's name is read once per value in places (a ZIP+4 code's field, 13 µs a
    // read): each thread keeps what it has read
    thread_local! {
        static READ: std::cell::RefCell<std::collections::HashMap<String, Option<&'static str>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    READ.with(|read| {
        if let Some(&c) = read.borrow().get(name) {
            return c;
        }
        let c = concept_of_tokens(&split_identifier(name));
        let mut read = read.borrow_mut();
        // names are few; a caller feeding values as names cannot grow it without bound
        if read.len() >= 4096 {
            read.clear();
        }
        read.insert(name.to_string(), c);
        c
    })
}

/// [`concept`] of an already split name.
pub fn concept_of_tokens(toks: &[String]) -> Option<&'static str> {
    // a name in another language, read in English (`Geburtsdatum`, `date_de_naissance`)
    let english = foreign::translated(toks);
    let toks = english.as_deref().unwrap_or(toks);
    let read = canonical_tokens(toks);
    let read: Vec<&str> = read.iter().map(String::as_str).collect();
    // a name that only begins with a word read from its consonants names no concept by
    // it (`BRTH_WGHT` is a birth weight, `FRST_VST_DT` a first visit's date)
    let lengthened = toks.first().zip(read.first()).is_some_and(|(t, r)| {
        t != r && canonical_token(t) == t.as_str() && skeleton::shortened(t).contains(r)
    });
    concept_of(&read, !lengthened)
}

/// The tokens of a split name as the phrases are written: each [`canonical_token`]
/// (`ln` after `address` is a line: `ADDR_LN_1`; a word in consonants the word it
/// shortens, [`skeleton::lengthened`]: `DT_BRTH`, or of two the one that makes a phrase
/// with the word beside it: `NM_LST`), and a lone letter joined to the word
/// after it where the two make a one-word phrase (`ContactLName` splits as
/// `contact l name` and reads `contact lname`; `m_city` and a table's prefix letter,
/// `s_name`, `c_name`, stay two words).
fn canonical_tokens(toks: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(toks.len());
    let mut k = 0;
    while k < toks.len() {
        let t = toks[k].as_str();
        let letter = t.len() == 1 && t.bytes().all(|b| b.is_ascii_alphabetic());
        let joined = match toks.get(k + 1) {
            Some(next) if letter => Some(format!("{t}{next}")),
            _ => None,
        }
        .filter(|j| CONCEPTS.iter().any(|(_, ps)| ps.contains(&j.as_str())));
        match joined {
            Some(j) => {
                out.push(j);
                k += 2;
            }
            _ => {
                let line = t == "ln" && out.last().is_some_and(|p| p == "address");
                // a word the lexicon lacks may shorten one it has (`NM_FRST`)
                let word = match canonical_token(t) {
                    c if c == t => skeleton::lengthened(t).unwrap_or(c),
                    c => c,
                };
                out.push(if line { "line" } else { word }.to_string());
                k += 1;
            }
        }
    }
    // a short or shared shortening: the word that makes a phrase with the word beside it
    for k in 0..out.len() {
        let words = skeleton::shortened(&out[k]);
        if words.is_empty() {
            continue;
        }
        // shared with a word outside the lexicon (`mdl`: `model`; `prsnl`: `personnel`),
        // a shortening is read only between two words it makes phrases with
        // (`NM_MDL_INIT`; not `MDL_NM`, a model's name, nor `PRSNL_NBR`)
        let both = skeleton::shared_outside(&out[k]);
        let beside = |w: &str| {
            let before = k.checked_sub(1).map(|b| out[b].as_str());
            let left = before.is_some_and(|b| in_a_phrase(b, w));
            let right = out.get(k + 1).is_some_and(|a| in_a_phrase(w, a));
            if both { left && right } else { left || right }
        };
        let phrased: Vec<&str> = words.into_iter().filter(|w| beside(w)).collect();
        if let [w] = phrased[..] {
            out[k] = w.to_string();
        }
    }
    out
}

/// Every phrase of the lexicon, with its concept and its words as the phrases are read
/// ([`canonical_token`]), in the lexicon's order.
static PHRASE_WORDS: std::sync::LazyLock<Vec<(&'static str, &'static str, Vec<&'static str>)>> =
    std::sync::LazyLock::new(|| {
        CONCEPTS
            .iter()
            .flat_map(|&(c, ps)| {
                ps.iter()
                    .map(move |&p| (c, p, p.split(' ').map(canonical_token).collect()))
            })
            .collect()
    });

/// Every two words in a row of the lexicon's phrases (`name last`, `list price`), as the
/// phrases are read.
static PHRASE_PAIRS: std::sync::LazyLock<std::collections::HashSet<(&'static str, &'static str)>> =
    std::sync::LazyLock::new(|| {
        PHRASE_WORDS
            .iter()
            .flat_map(|(_, _, words)| words.windows(2).map(|w| (w[0], w[1])))
            .collect()
    });

/// Whether `x` then `y` are two words in a row of one of the lexicon's phrases.
fn in_a_phrase(x: &str, y: &str) -> bool {
    let pairs: &std::collections::HashSet<(&str, &str)> = &PHRASE_PAIRS;
    pairs.contains(&(x, y))
}

/// `leading`: a phrase the name begins with may name its concept (`name_first`).
fn concept_of(toks: &[&str], leading: bool) -> Option<&'static str> {
    if toks.is_empty() {
        return None;
    }
    // (score, concept)
    let mut best: Option<(usize, &'static str)> = None;
    for (c, p, pt) in PHRASE_WORDS.iter() {
        if pt.len() > toks.len() {
            continue;
        }
        let tail = &toks[toks.len() - pt.len()..];
        let head = &toks[..pt.len()];
        let ends = tail.iter().zip(pt).all(|(a, b)| a == b);
        // a leading match counts for one less token (`name_first` ends with `first`)
        let starts = head.iter().zip(pt).all(|(a, b)| a == b);
        let before = &toks[..toks.len() - pt.len()];
        // an `id number` after anything but an identity word is a key of the system
        let keyed =
            ends && pt[0] == "id" && before.last().is_some_and(|w| !IDENTITY_WORDS.contains(w));
        let qualified_only = QUALIFIED_ONLY.contains(p);
        let score =
            if ends && !keyed && (!qualified_only || before.iter().all(|w| QUALIFIERS.contains(w)))
            {
                2 * pt.len()
            } else if leading && starts && !keyed && !qualified_only {
                2 * pt.len() - 1
            } else {
                continue;
            };
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, *c));
        }
    }
    // a generic last word with no longer phrase ending there: the words before it
    let n = toks.len();
    if n > 1 && GENERIC.contains(&toks[n - 1]) && best.is_none_or(|(s, _)| s < 4) {
        return before_generic(&toks[..n - 1]).and_then(|t| concept_of(t, leading));
    }
    best.map(|(_, c)| c)
}

/// The words before a generic last word ([`GENERIC`]) that may name its concept: not a
/// lone short word that only names one whole (`LN_NBR` is a line number).
fn before_generic<'a>(rest: &'a [&'a str]) -> Option<&'a [&'a str]> {
    (!matches!(rest, [w] if QUALIFIED_ONLY.contains(w))).then_some(rest)
}

/// The concept a column name states whole (`first`, `Last Name`, `fname`, `cust_mi`,
/// `gender_code`): its tokens, after any [`QUALIFIERS`] before them and a [`GENERIC`]
/// word after them, are exactly one of the concept's phrases. [`concept`] also reads a
/// name that ends or begins with a phrase (`name_first`, `first_seen`); this does not.
pub fn concept_exact(name: &str) -> Option<&'static str> {
    let toks = canonical_tokens(&in_english(split_identifier(name)));
    let mut toks: Vec<&str> = toks.iter().map(String::as_str).collect();
    let phrase_of = |toks: &[&str]| -> Option<&'static str> {
        PHRASE_WORDS
            .iter()
            .find(|(_, _, words)| words[..] == toks[..])
            .map(|&(c, ..)| c)
    };
    if let Some(c) = phrase_of(&toks) {
        return Some(c);
    }
    // what is left must be more than a generic word (`student_number` states nothing),
    // and whose `id number` is a key (`CUST_ID_NUM`, see [`IDENTITY_WORDS`])
    while toks.len() > 1 && QUALIFIERS.contains(&toks[0]) {
        toks.remove(0);
        if toks[0] == "id" {
            return None;
        }
        if let Some(c) =
            phrase_of(&toks).filter(|_| !(toks.len() == 1 && GENERIC.contains(&toks[0])))
        {
            return Some(c);
        }
    }
    let n = toks.len();
    if n > 1 && GENERIC.contains(&toks[n - 1]) {
        return before_generic(&toks[..n - 1]).and_then(phrase_of);
    }
    None
}

/// Concepts whose values tell the members of one group apart: people of one household
/// share an address, a phone and a surname, but not a given name, a birth date, an
/// identity number or an e-mail address.
pub const INDIVIDUAL: &[&str] = &["given_name", "birth_date", "ssn", "email"];

/// Concepts that change together: the parts of a postal address.
pub const ADDRESS: &[&str] = &[
    "street_number",
    "street",
    "address_2",
    "city",
    "state",
    "county",
    "postcode",
    "country",
];

/// Words that name a product's edition or tier (`professional`, `deluxe`,
/// `essentials`, `home`): a title that adds one to another's whole wording names
/// another edition of the series, not the same product said at more length
/// ([`crate::engine::fs::contains_words`]).
pub const EDITION_WORDS: &[&str] = &[
    "pro",
    "professional",
    "premium",
    "premier",
    "ultimate",
    "deluxe",
    "standard",
    "basic",
    "essentials",
    "essential",
    "home",
    "student",
    "business",
    "enterprise",
    "lite",
    "plus",
    "express",
    "starter",
    "gold",
    "platinum",
    "master",
    "advanced",
    "elite",
];

/// Words that only say what kind of number follows in an address line (`apt 26`,
/// `#26`, `unit 26`, `suite 26`): two values whose numbers agree and whose other words
/// are all of these name one unit.
pub const UNIT_DESIGNATORS: &[&str] = &[
    "apt",
    "apartment",
    "unit",
    "ste",
    "suite",
    "no",
    "nr",
    "num",
    "number",
    "flat",
    "fl",
    "floor",
    "rm",
    "room",
    "bldg",
    "building",
    "lot",
    "box",
    "po",
];

/// Whether every word of a normalised value that holds no digit is a
/// [`UNIT_DESIGNATORS`] word.
pub fn only_unit_words(norm: &str) -> bool {
    norm.split(' ')
        .filter(|t| !t.is_empty() && !t.bytes().any(|b| b.is_ascii_digit()))
        .all(|t| UNIT_DESIGNATORS.contains(&t))
}

/// Groups of fields that change together ([`ADDRESS`], and the household's id beside
/// them: a household is the people at one address), by their names' concepts; only
/// groups of two or more.
pub fn dependency_groups(names: &[&str]) -> Vec<Vec<usize>> {
    let addr: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| concept(n).is_some_and(|c| ADDRESS.contains(&c) || c == "household"))
        .map(|(i, _)| i)
        .collect();
    if addr.len() >= 2 {
        vec![addr]
    } else {
        Vec::new()
    }
}

/// The legal form a company name ends with, as a family (`inc` and `incorporated` are
/// one), and the number of tokens it takes: `Acme Inc` and `Acme GmbH` are two legal
/// entities, while a duplicate writes its form either way or drops it. `None` for a name
/// with no form, or nothing before it.
fn trailing_legal_form(toks: &[&str]) -> Option<(usize, &'static str)> {
    let n = toks.len();
    let at = |i: usize| if i < n { toks[n - 1 - i] } else { "" };
    let (len, family) = match at(0) {
        "inc" | "incorporated" => (1, "inc"),
        "llc" => (1, "llc"),
        "llp" => (1, "llp"),
        "lp" => (1, "lp"),
        // a proprietary limited company is a limited company written in full
        "ltd" | "limited" if at(1) == "pty" => (2, "ltd"),
        "ltd" | "limited" => (1, "ltd"),
        "corp" | "corporation" => (1, "corp"),
        "company" if at(1) == "liability" && at(2) == "limited" => (3, "llc"),
        "company" if at(1) == "limited" && at(2) == "public" => (3, "plc"),
        "co" | "company" => (1, "co"),
        "plc" => (1, "plc"),
        "gmbh" => (1, "gmbh"),
        "ag" => (1, "ag"),
        "sa" | "sas" => (1, "sa"),
        "sarl" => (1, "sarl"),
        "srl" => (1, "srl"),
        "spa" => (1, "spa"),
        "bv" => (1, "bv"),
        "nv" => (1, "nv"),
        "kg" => (1, "kg"),
        "oy" | "oyj" => (1, "oy"),
        "ab" => (1, "ab"),
        "pty" => (1, "ltd"),
        _ => return None,
    };
    // something must come before the form: a person called `Co` has no legal form
    (n > len).then_some((len, family))
}

/// The legal forms a company name ends with, last first: `Smith & Co Ltd` ends with
/// `ltd` and, before it, `co` (a form that is part of the name once the last is dropped).
pub fn legal_forms(name: &str) -> [Option<&'static str>; 2] {
    let toks: Vec<&str> = name.split(' ').filter(|t| !t.is_empty()).collect();
    let Some((len, last)) = trailing_legal_form(&toks) else {
        return [None, None];
    };
    let before = trailing_legal_form(&toks[..toks.len() - len]).map(|(_, f)| f);
    [Some(last), before]
}

/// Whether two company names end with legal forms of two families and share none
/// (`Blue Capital Inc` / `Blue Capital PLC`), while `Smith & Co Ltd` / `Smith & Co` or a
/// dropped form do not conflict.
pub fn legal_forms_conflict(a: &str, b: &str) -> bool {
    let (x, y) = (legal_forms(a), legal_forms(b));
    if x[0].is_none() || y[0].is_none() {
        return false;
    }
    !x.iter()
        .flatten()
        .any(|f| y.iter().flatten().any(|g| f == g))
}

/// Words of a company name that tell nothing apart: legal forms and glue words.
fn org_filler(t: &str) -> bool {
    matches!(
        t,
        "inc"
            | "incorporated"
            | "llc"
            | "llp"
            | "lp"
            | "ltd"
            | "limited"
            | "liability"
            | "public"
            | "pty"
            | "corp"
            | "corporation"
            | "co"
            | "company"
            | "plc"
            | "gmbh"
            | "ag"
            | "sa"
            | "sas"
            | "sarl"
            | "srl"
            | "spa"
            | "bv"
            | "nv"
            | "kg"
            | "oy"
            | "oyj"
            | "ab"
            | "the"
            | "and"
            | "of"
            | "for"
            | "de"
            | "&"
    )
}

/// Whether two company names that do not agree each hold a word the other lacks
/// (`Premier Holdings GmbH` / `Premier Laboratories GmbH`, `Summit Frontier Media` /
/// `Summit Frontier Energy`): two companies sharing words, where a duplicate drops a
/// word, adds one, mistypes one or writes one as its initial, but does not replace one.
///
/// A word is matched by a word of the other name within a typo (Jaro–Winkler ≥ 0.85),
/// by its initial (`P Holdings`), or by being a legal form or glue word (a mistyped
/// `Incorpoated` too); words of one or two letters (initials, `SF` for `Summit Frontier`)
/// never count as lacking.
pub fn org_words_conflict(a: &str, b: &str) -> bool {
    let x: Vec<&str> = a.split(' ').filter(|t| !t.is_empty()).collect();
    let y: Vec<&str> = b.split(' ').filter(|t| !t.is_empty()).collect();
    let typo = |o: &str, t: &str| {
        super::fs::osa_distance_at_most(o, t, 1) <= 1 || super::text::jw(o, t) >= 0.85
    };
    // a legal form mistyped (`incorpoated`) is still a legal form
    let mistyped_form = |t: &str| {
        t.len() >= 5
            && [
                "incorporated",
                "limited",
                "liability",
                "corporation",
                "company",
            ]
            .iter()
            .any(|f| typo(f, t))
    };
    let lacking = |t: &str, other: &[&str]| {
        let first = t.chars().next().unwrap_or(' ');
        let covered = other.iter().any(|o| {
            // an initial or an acronym (`cq` for `crown quantum`; a legal form is none)
            // covers the word, so does its abbreviation (`intl`, `bros`, `mgmt`) or the
            // word it abbreviates
            (o.chars().count() <= 3 && !org_filler(o) && o.contains(first))
                || typo(o, t)
                || (o.len() >= 3 && super::text::token_abbreviates(o, t))
                || (t.len() >= 3 && super::text::token_abbreviates(t, o))
        });
        t.chars().count() >= 3 && !org_filler(t) && !covered && !mistyped_form(t)
    };
    x.iter().any(|t| lacking(t, &y)) && y.iter().any(|t| lacking(t, &x))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where one was born is no birth date in any language, and another party's attribute is
    /// theirs in any language; English names read as they did.
    #[test]
    fn where_one_was_born_and_whose_attribute_it_is_read_in_any_language() {
        for name in [
            "lieu_de_naissance",
            "Geburtsort",
            "LugarNacimiento",
            "luogo_di_nascita",
            "geboorteplaats",
        ] {
            assert_eq!(concept(name), Some("birth_place"), "{name}");
        }
        assert_eq!(concept("annee_naissance"), Some("birth_year"));
        assert_eq!(concept("segundo_nombre"), Some("middle_name"));
        assert_eq!(other_party("Arbeitgeber_Ort"), Some("employer"));
        assert_eq!(concept("Arbeitgeber_Ort"), Some("city"));
        assert_eq!(concept_exact("Vorname"), Some("given_name"));
        // a client's given name, as `client_first_name` is; a client's number is nothing
        assert_eq!(concept_exact("prenom_client"), Some("given_name"));
        assert_eq!(concept("numero_client"), None);
        assert_eq!(concept("nombre_enfants"), None);
        assert_eq!(concept("nom_produit"), None);
        assert_eq!(other_party("prenom_pere"), Some("father"));
        assert_eq!(other_party("date_naissance_pere"), Some("father"));
        assert_eq!(other_party("Arbeitgeber_Ort"), Some("employer"));
        assert_eq!(other_party("employeur"), None);
        assert_eq!(concept("departement_naissance"), Some("birth_place"));
        assert_eq!(concept("nom_naissance"), None);
        assert_eq!(concept("place_of_birth"), Some("birth_place"));
        assert_eq!(concept("birth_city"), Some("birth_place"));
        assert_eq!(concept("Geburtsort"), Some("birth_place"));
        assert_eq!(concept("birth_place"), Some("birth_place"));
    }

    #[test]
    fn names_of_one_concept_meet_and_of_two_do_not() {
        for (a, b) in [
            ("surname", "last_name"),
            ("zip", "postcode"),
            ("tel", "phone_number"),
            ("birth_date", "dob"),
            ("mailing_address_zipcode", "zip"),
            ("mailing_address_street_name", "street_name"),
            ("fname", "given_name"),
            ("custFirstName", "forename"),
            ("soc_sec_id", "ssn"),
            ("Tax No", "ssn"),
            ("NI_Number", "national_id"),
            ("address_1", "street_address"),
            ("ST", "mailing_address_state"),
            ("HOUSE_NUM", "street_number"),
            ("family", "surname"),
            ("wages", "annual_salary"),
            ("income", "EARNINGS"),
            // words in consonants: the lexicon's words they shorten
            ("NM_FRST", "FORENAME"),
            ("NM_LST", "family"),
            ("LST_NM", "last_name"),
            ("DT_BRTH", "date_of_birth"),
            ("AD_CTY", "town"),
            ("GNDR_CD", "sex"),
            ("SX_CD", "gender"),
            // names in other languages: the English words they translate
            ("Vorname", "first_name"),
            ("Nachname", "last_name"),
            ("Geburtsdatum", "dob"),
            ("PLZ", "zipcode"),
            ("Straße", "street"),
            ("Hausnummer", "street_number"),
            ("Wohnort", "city"),
            ("Steuer_ID", "ssn"),
            ("prénom", "given_name"),
            ("nom_de_famille", "surname"),
            ("nom", "surname"),
            ("date_de_naissance", "date_of_birth"),
            ("numero_de_rue", "house_no"),
            ("nom_de_la_rue", "street_name"),
            ("code_postal", "postcode"),
            ("numero_de_telephone", "phone"),
            ("courriel", "email"),
            ("fecha_de_nacimiento", "birth_date"),
            ("apellidos", "surname"),
            ("codigo_postal", "zip"),
            ("correo_electronico", "email"),
            ("cognome", "surname"),
            ("data_di_nascita", "dob"),
            ("voornaam", "first_name"),
            ("geboortedatum", "dob"),
            ("woonplaats", "city"),
            ("annee_de_naissance", "year_of_birth"),
            // a form's headings
            ("House #", "street_number"),
            ("Phone #", "phone"),
        ] {
            assert_eq!(concept(a), concept(b), "{a} / {b}");
            assert!(concept(a).is_some(), "{a}");
        }
        for (a, b) in [
            ("first_name", "last_name"),
            ("address_1", "address_2"),
            ("street_number", "street_name"),
            ("birth_year", "birth_date"),
            ("city", "state"),
            ("st_num", "ST"),
            ("age", "wages"),
            ("price", "salary"),
        ] {
            assert_ne!(concept(a), concept(b), "{a} / {b}");
        }
        assert_eq!(concept("quux"), None);
        // a shortening of two words is the one beside which it makes a phrase, and
        // alone neither (`LST`); three letters, or a word outside the lexicon that could
        // be meant, are read as nothing (`MDL_NBR` a model number, `BRN_CD` a branch)
        assert_eq!(concept("LST"), None);
        assert_eq!(concept("NM_MDL_INIT"), concept("middle_initial"));
        for name in [
            "MDL_NBR",
            "MDL_NM",
            "BRN_CD",
            "MSG_BDY",
            "BYR_NM",
            "CST_ID",
            "EMPL_ID",
            "FRM_DT",
            "SLR_ID",
            "INC_DT",
            "PRV_ID",
            "LCL_AMT",
            "FRN_KEY",
            "STRT_DT",
            "PRSNL_NBR",
            "ORGN_CD",
            "ASGN_DT",
            "ATHR_CD",
            "CNFR_DT",
            "CMPN_AMT",
            "MNFC_DT",
            "PBLC_FLG",
            "DSTR_NM",
            "BRTH_WGHT",
            "FRST_VST_DT",
        ] {
            assert_eq!(concept(name), None, "{name}");
        }
        // a word the lexicon lists is read as it is (`BSN`, a Dutch citizen number)
        assert_eq!(concept("CUST_BSN"), Some("ssn"));
        // abbreviations inside a name, a generic last word, a lone letter
        for (name, c) in [
            ("EmailAddr", "email"),
            ("E_MAIL_ADDR", "email"),
            ("HomePhoneNbr", "phone"),
            ("mobile_number", "phone"),
            ("SSN_Num", "ssn"),
            ("BirthDt", "birth_date"),
            ("stu_family_nm", "surname"),
            ("ContactLName", "surname"),
            ("ContactFName", "given_name"),
            ("m_city", "city"),
            ("HOUSE_NUM", "street_number"),
            ("b_date", "birth_date"),
            ("ADDR_LN", "street"),
            ("addr_ln_2", "address_2"),
            ("MAIL_ADDR", "street"),
            ("address_number", "street_number"),
            ("contact_mail", "email"),
            ("GenderCd", "gender"),
            ("emp_email_id", "email"),
            ("national_id_number", "ssn"),
            ("id_number", "ssn"),
            ("tax_id", "ssn"),
            ("emp_ln", "surname"),
            ("fn", "given_name"),
            // a lone letter and `age` (a wife's age) are no `wage`
            ("w_age", "age"),
            ("WAge", "age"),
        ] {
            assert_eq!(concept(name), Some(c), "{name}");
        }
        // a key of the system, post, a table's prefix letter: none of these concepts
        for name in [
            "CUST_NBR",
            "ACCT_NUM",
            "CUST_ID_NUM",
            "ACCT_ID_NUM",
            "MailPOBox",
            "DO_NOT_MAIL",
            "s_name",
            "LN_DESC",
            "LN_NBR",
            "ORDER_LN",
        ] {
            assert!(
                !matches!(
                    concept(name),
                    Some("street_number" | "ssn" | "email" | "surname")
                ),
                "{name}: {:?}",
                concept(name)
            );
        }
        // stated whole, after a role prefix or before a generic word
        for (name, c) in [
            ("MI", Some("middle_name")),
            ("CUST_MIDDLE_NAME", Some("middle_name")),
            ("emp_mi", Some("middle_name")),
            ("gender_code", Some("gender")),
            ("home_phone", Some("phone")),
            ("contactFirstName", Some("given_name")),
            ("salutationGender", None),
            ("student_number", None),
            ("mailing_address_city", None),
            ("mail_addr", None),
            ("CUST_ID_NUM", None),
            ("LN_NBR", None),
        ] {
            assert_eq!(concept_exact(name), c, "{name}");
        }
        assert!(nickname_pair("bill", "william"));
        assert!(nickname_pair("bob", "bobby"));
        assert!(!nickname_pair("bill", "robert"));
        assert!(!nickname_pair("anna", "anna"));
    }

    #[test]
    fn given_names_written_two_ways_are_near_and_other_names_are_not() {
        for (a, b) in [
            ("bob", "robert"),
            ("bicll", "william"), // `bill` mistyped
            ("bbo", "robert"),    // `bob` with two letters swapped
            ("aym", "amy"),       // a short name with two letters swapped
            ("jakc", "john"),     // `jack` mistyped
            ("imke", "michael"),
        ] {
            assert!(given_names_near(a, b), "{a} / {b}");
            assert!(given_names_near(b, a), "{b} / {a}");
        }
        for (a, b) in [
            ("jose", "joseph"), // `joe` plus a letter is another name
            ("jon", "jan"),
            ("amy", "ann"),
            ("mary", "maria"),
            ("kayla", "deb"),
            ("bob", "bob"),
        ] {
            assert!(!given_names_near(a, b), "{a} / {b}");
        }
        // both mistyped, each one typo from a form of one family
        assert!(!given_names_near("wlliam", "silliam"));
        assert!(given_names_related("wlliam", "silliam"));
        assert!(given_names_related("jdhn", "jakc"));
        assert!(!given_names_related("kayla", "karen"));
        assert_eq!(nickname_formal("bill"), Some("william"));
        assert_eq!(nickname_formal("william"), None);
        assert_eq!(nickname_formal("zorro"), None);
    }

    #[test]
    fn a_households_id_changes_with_the_address() {
        let names = [
            "first_name",
            "household_id",
            "street_name",
            "zipcode",
            "household_income",
            "HH_ID",
        ];
        assert_eq!(dependency_groups(&names), vec![vec![1, 2, 3, 5]]);
        assert_eq!(concept("household_income"), Some("income"));
        assert_ne!(concept("household_size"), Some("household"));
        assert_eq!(concept("family_id"), Some("household"));
        // a household's id alone is no group
        assert!(dependency_groups(&["first_name", "household_id"]).is_empty());
    }

    #[test]
    fn legal_forms_are_read_as_families() {
        assert_eq!(legal_forms("blue capital inc"), [Some("inc"), None]);
        assert_eq!(legal_forms("blue capital incorporated")[0], Some("inc"));
        assert_eq!(
            legal_forms("crown tech limited liability company")[0],
            Some("llc")
        );
        assert_eq!(legal_forms("crown tech llc")[0], Some("llc"));
        assert_eq!(legal_forms("acme pty ltd")[0], Some("ltd"));
        assert_eq!(legal_forms("smith & co ltd"), [Some("ltd"), Some("co")]);
        assert_eq!(legal_forms("blue capital"), [None, None]);
        assert_eq!(legal_forms("co"), [None, None], "nothing before the form");
        assert!(legal_forms_conflict("blue capital inc", "blue capital plc"));
        assert!(!legal_forms_conflict(
            "blue capital inc",
            "blue capital incorporated"
        ));
        assert!(!legal_forms_conflict("blue capital inc", "blue capital"));
        // two companies that share words each hold one the other lacks; a duplicate
        // drops, adds, mistypes or shortens words
        assert!(org_words_conflict(
            "premier holdings gmbh",
            "premier laboratories gmbh"
        ));
        assert!(org_words_conflict(
            "p holdings gmbh",
            "premier laboratories gmbh"
        ));
        assert!(org_words_conflict(
            "summit frontier media inc",
            "summit frontier energy inc"
        ));
        // a legal form is no acronym: `inc` does not cover `capital`
        assert!(org_words_conflict(
            "premier holdings inc",
            "premier capital inc"
        ));
        for (a, b) in [
            (
                "summit frontier jenergy incorporated",
                "summit frontier energy inc",
            ),
            ("sf energy incorpoated", "summit frontier energy"),
            ("p laboratories gmbh", "premier laboratories gmbh"),
            (
                "sonov crown servies llc",
                "sonov crown services limited liability company",
            ),
            ("crown software gmbh", "crown software solutions gmbh"),
            ("f consulaing", "falcon consulting limited"),
            (
                "cq technologies liminted liability company",
                "crown quantum technologies llc",
            ),
            ("coast erd partners", "coast red partners plc"),
            ("red media ltd", "req media ltd"),
            ("acme intl trading", "acme international trading co"),
            ("smith bros mgmt", "smith brothers management"),
            ("apex labs inc", "apex laboratories"),
        ] {
            assert!(!org_words_conflict(a, b), "{a} / {b}");
        }
        for (a, b) in [
            ("smith & co ltd", "smith & co"),
            ("acme company limited", "acme company"),
            ("acme pty ltd", "acme ltd"),
            ("x limited company", "x ltd"),
        ] {
            assert!(!legal_forms_conflict(a, b), "{a} / {b}");
        }
    }
}
