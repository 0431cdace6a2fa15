//! Column names in other languages: `Vorname`, `Nachname`, `Geburtsdatum`, `PLZ`, `Ort`;
//! `prénom`, `nom`, `date_de_naissance`, `code_postal`, `ville`; `nombre`, `apellidos`,
//! `fecha_nacimiento`; `voornaam`, `achternaam`, `geboortedatum`; `cognome`, `data_nascita`.
//!
//! A file exported from a German or a French system names its columns in German or
//! French, and the lexicon, read in English, found no concept in them: a census so named
//! lost its given name, birth date and address parts, EM took each household for one
//! person, and deduplicating it scored F1 0.06 (the same file named in English: 0.98).
//! Each name is read in English before any phrase is looked up ([`translated`]): a listed
//! phrase of several words first (`lieu de naissance` is a birth place, where `naissance`
//! alone is a birth), then a listed word, the words that join them (`de`, `di`, `von`)
//! dropped where the name holds one; a French, Spanish, Italian or Portuguese name that
//! begins with what it names reads that word last, as English puts it (`numero_client` is
//! a `client number`, `ville_employeur` an `employer city`). Accents are already stripped
//! ([`crate::engine::text::normalize`]: `prénom` is `prenom`).
//!
//! Words that are also English words or mean another thing in a neighbouring language are
//! left out: `via` (an Italian street, an English route), `firma` (a German company, a
//! Spanish signature), `estado` (a state, a status), `land`, `cap`, `eta`, `by`; the words
//! of date parts are read only as parts (`Jahr`, `mois`, `dia`: `crate::engine::columns`),
//! and not `tag` or `dag` (an `asset_tag` is no day).

/// Words that join the words of a phrase (`date de naissance`, `data di nascita`,
/// `fecha de nacimiento`): dropped from a name that holds a listed foreign word.
const JOINING: &[&str] = &[
    "de", "di", "du", "des", "del", "della", "dello", "da", "do", "dos", "das", "der", "von",
    "van", "la", "le", "el", "of", "y", "e", "et", "und", "en",
];

/// Phrases of several words (joining words dropped) and their English reading, looked up
/// before the words ([`HEAD_FIRST`], [`HEAD_LAST`]): those whose words alone would read as
/// another concept, or as none.
#[rustfmt::skip]
const PHRASES: &[(&str, &str)] = &[
    // where one was born is a place, not a date
    ("lieu naissance", "birth place"),
    ("ville naissance", "birth place"),
    ("commune naissance", "birth place"),
    ("pays naissance", "birth place"),
    ("lugar nacimiento", "birth place"),
    ("ciudad nacimiento", "birth place"),
    ("pais nacimiento", "birth place"),
    ("luogo nascita", "birth place"),
    ("comune nascita", "birth place"),
    ("local nascimento", "birth place"),
    ("cidade nascimento", "birth place"),
    ("plaats geboorte", "birth place"),
    // the year of a birth, not its date (the stem of a date's parts: `birth` + year)
    ("annee naissance", "birth year"),
    ("ano nacimiento", "birth year"),
    ("anno nascita", "birth year"),
    ("ano nascimento", "birth year"),
    ("jaar geboorte", "birth year"),
    // a name whole, a surname, a second given name
    ("nom famille", "surname"),
    ("nom complet", "full name"),
    ("nombre completo", "full name"),
    ("nome completo", "full name"),
    ("volledige naam", "full name"),
    ("vollstandiger name", "full name"),
    ("primer apellido", "surname"),
    ("segundo apellido", "second surname"),
    ("segundo nombre", "middle name"),
    ("zweiter vorname", "middle name"),
    ("deuxieme prenom", "middle name"),
    ("second prenom", "middle name"),
    ("secondo nome", "middle name"),
    ("nom jeune fille", "maiden name"),
    ("nom naissance", "maiden name"),
    // a surname a woman uses, a given name said two ways, a name whole
    ("nom usage", "surname"),
    ("nom usuel", "surname"),
    ("nom marital", "surname"),
    ("nom epouse", "surname"),
    ("nombre pila", "forename"),
    ("nome proprio", "forename"),
    ("nombre apellidos", "full name"),
    ("nome cognome", "full name"),
    ("nom prenom", "full name"),
    ("prenom nom", "full name"),
    ("vorname nachname", "full name"),
    ("voornaam achternaam", "full name"),
    ("raison sociale", "company name"),
    // a street's number, not its name
    ("numero rue", "street number"),
    ("numero calle", "street number"),
    ("numero via", "street number"),
    ("numero rua", "street number"),
    ("numero maison", "house number"),
    ("numero casa", "house number"),
    // an identity number
    ("numero securite sociale", "social security number"),
    ("securite sociale", "social security number"),
    ("seguridad social", "social security number"),
    ("codice fiscale", "tax id"),
    // an e-mail address
    ("correo electronico", "email"),
    ("posta elettronica", "email"),
    ("adresse electronique", "email"),
    ("adresse mail", "email"),
    ("adresse email", "email"),
];

/// Words of languages that name a thing before what qualifies it, as English does after
/// (`numero_client` is a client's number, `nom_produit` a product's name, `ville_employeur`
/// an employer's town): `(word, its reading alone, its reading as the head of a longer
/// name)`; a name that begins with one reads it last (`client number`, `produit name`,
/// `employer city`). An empty reading leaves the word as it is: `numero` alone is as
/// often a record's number as a house's.
#[rustfmt::skip]
const HEAD_FIRST: &[(&str, &str, &str)] = &[
    // French
    ("prenom", "forename", "forename"), ("prenoms", "forename", "forename"),
    ("nom", "surname", "name"), ("naissance", "birth", "birth"), ("sexe", "gender", "gender"),
    ("rue", "street", "street"), ("numero", "", "number"), ("adresse", "address", "address"),
    ("appartement", "apartment", "apartment"), ("ville", "city", "city"),
    ("commune", "city", "city"), ("localite", "city", "city"),
    ("departement", "state", "state"), ("pays", "country", "country"),
    ("courriel", "email", "email"), ("nir", "ssn", "ssn"),
    ("entreprise", "company", "company"), ("societe", "company", "company"),
    ("employeur", "employer", "employer"), ("pere", "father", "father"),
    ("mere", "mother", "mother"), ("conjoint", "spouse", "spouse"),
    ("epoux", "spouse", "spouse"), ("epouse", "spouse", "spouse"),
    // Spanish
    ("nombre", "forename", "name"), ("nombres", "forename", "name"),
    ("apellido", "surname", "surname"), ("apellidos", "surname", "surname"),
    ("nacimiento", "birth", "birth"), ("fecha", "date", "date"), ("sexo", "gender", "gender"),
    ("edad", "age", "age"), ("calle", "street", "street"),
    ("direccion", "address", "address"), ("domicilio", "address", "address"),
    ("apartamento", "apartment", "apartment"), ("codigo", "code", "code"),
    ("ciudad", "city", "city"), ("localidad", "city", "city"), ("municipio", "city", "city"),
    ("provincia", "province", "province"), ("pais", "country", "country"),
    ("telefono", "telephone", "telephone"), ("movil", "mobile", "mobile"),
    ("celular", "mobile", "mobile"), ("correo", "email", "email"), ("dni", "ssn", "ssn"),
    ("nif", "tin", "tin"), ("empresa", "company", "company"),
    ("empleador", "employer", "employer"), ("padre", "father", "father"),
    ("madre", "mother", "mother"), ("conyuge", "spouse", "spouse"),
    // Portuguese and Italian
    ("nome", "forename", "name"), ("sobrenome", "surname", "surname"),
    ("apelido", "surname", "surname"), ("cognome", "surname", "surname"),
    ("nascimento", "birth", "birth"), ("nascita", "birth", "birth"),
    ("idade", "age", "age"), ("sesso", "gender", "gender"), ("rua", "street", "street"),
    ("endereco", "address", "address"), ("indirizzo", "address", "address"),
    ("civico", "house number", "house number"), ("cidade", "city", "city"),
    ("citta", "city", "city"), ("comune", "city", "city"), ("cep", "postcode", "postcode"),
    ("telefone", "telephone", "telephone"), ("cellulare", "mobile", "mobile"),
    ("cpf", "ssn", "ssn"), ("azienda", "company", "company"), ("pai", "father", "father"),
    ("mae", "mother", "mother"),
];

/// Words of languages that name a thing last, as English does (`Arbeitgeber_Ort` is an
/// employer's town), and their English reading. One word may read as several
/// (`Geburtsdatum`: `birth date`).
#[rustfmt::skip]
const HEAD_LAST: &[(&str, &str)] = &[
    // German
    ("vorname", "forename"), ("vornamen", "forename"), ("rufname", "forename"),
    ("nachname", "surname"), ("familienname", "surname"), ("zuname", "surname"),
    ("geburtsdatum", "birth date"), ("geburtstag", "birthday"),
    ("geburtsjahr", "birth year"), ("geburtsmonat", "birth month"),
    ("geburtsort", "birth place"), ("geburts", "birth"), ("geburt", "birth"),
    ("geschlecht", "gender"), ("alter", "age"), ("strasse", "street"), ("straße", "street"),
    ("strassenname", "street"), ("hausnummer", "house number"), ("hausnr", "house number"),
    ("wohnung", "apartment"), ("postleitzahl", "postcode"), ("ort", "city"),
    ("wohnort", "city"), ("stadt", "city"), ("gemeinde", "city"), ("bundesland", "state"),
    ("kanton", "state"), ("anschrift", "address"), ("telefon", "telephone"),
    ("telefonnummer", "telephone"), ("handynummer", "mobile"), ("mobilnummer", "mobile"),
    ("steuer", "tax"), ("steuernummer", "tax number"),
    ("sozialversicherungsnummer", "social security number"), ("unternehmen", "company"),
    ("arbeitgeber", "employer"), ("vater", "father"), ("mutter", "mother"),
    ("ehepartner", "spouse"),
    // Dutch and Scandinavian
    ("voornaam", "forename"), ("voornamen", "forename"), ("achternaam", "surname"),
    ("familienaam", "surname"), ("geboortedatum", "birth date"), ("geboortejaar", "birth year"),
    ("geboortemaand", "birth month"), ("geboorte", "birth"),
    ("geboorteplaats", "birth place"), ("geslacht", "gender"), ("leeftijd", "age"),
    ("straat", "street"), ("straatnaam", "street"), ("huisnummer", "house number"),
    ("woonplaats", "city"), ("plaats", "city"), ("stad", "city"), ("gemeente", "city"),
    ("telefoon", "telephone"), ("telefoonnummer", "telephone"),
    ("burgerservicenummer", "ssn"), ("bedrijf", "company"), ("naam", "name"),
    ("vader", "father"), ("moeder", "mother"), ("fornavn", "forename"),
    ("efternavn", "surname"), ("etternavn", "surname"), ("fornamn", "forename"),
    ("efternamn", "surname"), ("fodselsdato", "birth date"), ("fødselsdato", "birth date"),
    ("fodelsedatum", "birth date"), ("personnummer", "ssn"), ("postnummer", "postcode"),
    ("mailadres", "email address"), ("emailadres", "email address"),
];

/// The English reading of a word alone (`None`: not listed; an empty reading: listed,
/// read as it is).
fn word(t: &str) -> Option<&'static str> {
    HEAD_LAST
        .iter()
        .find(|(w, _)| *w == t)
        .map(|(_, e)| *e)
        .or_else(|| {
            HEAD_FIRST
                .iter()
                .find(|(w, ..)| *w == t)
                .map(|(_, e, _)| *e)
        })
}

/// The reading of a word that heads a longer name ([`HEAD_FIRST`]).
fn head(t: &str) -> Option<&'static str> {
    HEAD_FIRST.iter().find(|(w, ..)| *w == t).map(|(.., h)| *h)
}

/// The longest listed phrase at `kept[k..]`: its length and reading.
fn phrase_at(kept: &[&str], k: usize) -> Option<(usize, &'static str)> {
    PHRASES
        .iter()
        .map(|(phrase, english)| (phrase.split(' ').count(), phrase, *english))
        .filter(|(n, phrase, _)| {
            k + n <= kept.len() && phrase.split(' ').eq(kept[k..k + n].iter().copied())
        })
        .max_by_key(|(n, ..)| *n)
        .map(|(n, _, english)| (n, english))
}

/// Each listed phrase (longest first) and word of `kept` read in English, into `out`.
fn read_words(kept: &[&str], out: &mut Vec<String>) {
    let mut k = 0;
    while k < kept.len() {
        if let Some((n, english)) = phrase_at(kept, k) {
            out.extend(english.split(' ').map(str::to_string));
            k += n;
            continue;
        }
        match word(kept[k]).filter(|e| !e.is_empty()) {
            Some(english) => out.extend(english.split(' ').map(str::to_string)),
            None => out.push(kept[k].to_string()),
        }
        k += 1;
    }
}

/// A split column name read in English: `None` when it holds no listed foreign word or
/// phrase (nothing to read; English names, and words the lists lack, are left as they
/// are). Joining words are dropped, then each listed phrase ([`PHRASES`], longest first)
/// and word is replaced by its English words, a name that begins with a word that heads
/// it ([`HEAD_FIRST`]) read with that word last: `date_de_naissance` reads `date birth`,
/// `Geburtsdatum` `birth date`, `lieu_de_naissance` `birth place`, `numero_client`
/// `client number`.
pub fn translated(toks: &[String]) -> Option<Vec<String>> {
    let kept: Vec<&str> = toks
        .iter()
        .map(String::as_str)
        .filter(|t| !JOINING.contains(t))
        .collect();
    let listed = kept.iter().any(|t| word(t).is_some())
        || (0..kept.len()).any(|k| phrase_at(&kept, k).is_some());
    if !listed {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(kept.len() + 1);
    // a number after the name stays last (`adresse_2` is an `address 2`)
    let digits = kept
        .iter()
        .rev()
        .take_while(|t| t.bytes().all(|b| b.is_ascii_digit()))
        .count();
    let (core, numbered) = kept.split_at(kept.len() - digits);
    let headed = core
        .split_first()
        .filter(|(_, rest)| !rest.is_empty() && phrase_at(core, 0).is_none())
        .and_then(|(first, rest)| Some((head(first)?, rest)));
    match headed {
        Some((h, rest)) => {
            read_words(rest, &mut out);
            out.extend(h.split(' ').map(str::to_string));
            out.extend(numbered.iter().map(|t| t.to_string()));
        }
        None => read_words(&kept, &mut out),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str) -> Option<String> {
        translated(&crate::engine::text::split_identifier(name)).map(|t| t.join(" "))
    }

    #[test]
    fn foreign_names_read_in_english_and_english_ones_are_left_alone() {
        assert_eq!(read("Vorname").as_deref(), Some("forename"));
        assert_eq!(read("date_de_naissance").as_deref(), Some("date birth"));
        assert_eq!(read("Geburtsdatum").as_deref(), Some("birth date"));
        assert_eq!(read("prénom").as_deref(), Some("forename"));
        assert_eq!(read("Straße").as_deref(), Some("street"));
        assert_eq!(
            read("code_postal"),
            None,
            "no listed word: English phrases read it"
        );
        assert_eq!(read("first_name"), None);
        assert_eq!(read("date_of_birth"), None);
    }

    #[test]
    fn a_phrase_is_read_before_its_words() {
        // `naissance` alone is a birth, and `lieu de naissance` would end with it
        assert_eq!(read("lieu_de_naissance").as_deref(), Some("birth place"));
        assert_eq!(read("LugarNacimiento").as_deref(), Some("birth place"));
        assert_eq!(read("annee_naissance").as_deref(), Some("birth year"));
        assert_eq!(read("nom_de_famille").as_deref(), Some("surname"));
        assert_eq!(read("nom").as_deref(), Some("surname"));
        assert_eq!(read("raison_sociale").as_deref(), Some("company name"));
    }

    /// A French or Spanish name begins with what it names: `numero_client` is a client's
    /// number (no house number), `nombre_enfants` a count of children (no given name).
    #[test]
    fn a_name_that_begins_with_its_head_reads_it_last() {
        assert_eq!(read("numero_client").as_deref(), Some("client number"));
        assert_eq!(read("nom_de_la_rue").as_deref(), Some("street name"));
        assert_eq!(read("nom_produit").as_deref(), Some("produit name"));
        assert_eq!(read("nombre_enfants").as_deref(), Some("enfants name"));
        assert_eq!(read("ville_employeur").as_deref(), Some("employer city"));
        assert_eq!(read("prenom_pere").as_deref(), Some("father forename"));
        assert_eq!(read("fecha_nacimiento").as_deref(), Some("birth date"));
        assert_eq!(read("codigo_postal").as_deref(), Some("postal code"));
        // a name that begins with an English word, or a phrase, reads in order
        assert_eq!(read("date_de_naissance").as_deref(), Some("date birth"));
        assert_eq!(read("numero_de_rue").as_deref(), Some("street number"));
        // alone, `numero` is as often a record's number: read as it is
        assert_eq!(read("numero").as_deref(), Some("numero"));
        // a number after the name stays last; a name whole is one
        assert_eq!(read("adresse_2").as_deref(), Some("address 2"));
        assert_eq!(read("nombre_1").as_deref(), Some("forename 1"));
        assert_eq!(read("nombre_y_apellidos").as_deref(), Some("full name"));
        assert_eq!(read("nom_usage").as_deref(), Some("surname"));
    }
}
