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
//! dropped where the name holds one. Accents are already stripped
//! ([`crate::engine::text::normalize`]: `prénom` is `prenom`).
//!
//! Words that are also English words or mean another thing in a neighbouring language are
//! left out: `via` (an Italian street, an English route), `firma` (a German company, a
//! Spanish signature), `estado` (a state, a status), `land`, `cap`, `eta`, `by`.

/// Words that join the words of a phrase (`date de naissance`, `data di nascita`,
/// `fecha de nacimiento`): dropped from a name that holds a listed foreign word.
const JOINING: &[&str] = &[
    "de", "di", "du", "des", "del", "della", "dello", "da", "do", "dos", "das", "der", "von",
    "van", "la", "le", "el", "of",
];

/// Phrases of several words (joining words dropped) and their English reading, looked up
/// before the words ([`WORDS`]): those whose words alone would read as another concept.
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

/// Words and their English reading (normalized, accents stripped). One word of a name
/// may read as several (`Geburtsdatum`: `birth date`).
#[rustfmt::skip]
const WORDS: &[(&str, &str)] = &[
    // German
    ("vorname", "forename"), ("vornamen", "forename"), ("rufname", "forename"),
    ("nachname", "surname"), ("familienname", "surname"), ("zuname", "surname"),
    ("geburtsdatum", "birth date"), ("geburtstag", "birthday"),
    ("geburtsjahr", "birth year"), ("geburtsmonat", "birth month"),
    ("geburtsort", "birth place"), ("geburts", "birth"),
    ("geburt", "birth"), ("geschlecht", "gender"), ("alter", "age"),
    ("strasse", "street"), ("straße", "street"), ("strassenname", "street"),
    ("hausnummer", "house number"), ("hausnr", "house number"), ("wohnung", "apartment"),
    ("postleitzahl", "postcode"), ("ort", "city"), ("wohnort", "city"), ("stadt", "city"),
    ("gemeinde", "city"), ("bundesland", "state"), ("kanton", "state"),
    ("anschrift", "address"), ("adresse", "address"), ("telefon", "telephone"),
    ("telefonnummer", "telephone"), ("handynummer", "mobile"), ("mobilnummer", "mobile"),
    ("steuer", "tax"), ("steuernummer", "tax number"),
    ("sozialversicherungsnummer", "social security number"), ("unternehmen", "company"),
    ("arbeitgeber", "employer"), ("jahr", "year"), ("monat", "month"), ("tag", "day"),
    ("datum", "date"),
    // French
    ("prenom", "forename"), ("prenoms", "forename"), ("nom", "surname"),
    ("naissance", "birth"), ("sexe", "gender"), ("rue", "street"), ("numero", "number"),
    ("appartement", "apartment"), ("ville", "city"), ("commune", "city"),
    ("localite", "city"), ("departement", "state"), ("pays", "country"),
    ("courriel", "email"),
    ("nir", "ssn"), ("entreprise", "company"), ("societe", "company"),
    ("employeur", "employer"), ("annee", "year"), ("mois", "month"), ("jour", "day"),
    // Spanish
    ("nombre", "forename"), ("nombres", "forename"), ("apellido", "surname"),
    ("apellidos", "surname"), ("nacimiento", "birth"), ("sexo", "gender"),
    ("edad", "age"), ("calle", "street"), ("direccion", "address"), ("domicilio", "address"),
    ("apartamento", "apartment"), ("codigo", "code"), ("ciudad", "city"),
    ("localidad", "city"), ("municipio", "city"), ("provincia", "province"),
    ("pais", "country"), ("telefono", "telephone"), ("movil", "mobile"),
    ("celular", "mobile"), ("correo", "email"), ("dni", "ssn"), ("nif", "tin"),
    ("empresa", "company"), ("empleador", "employer"), ("ano", "year"), ("mes", "month"),
    ("dia", "day"),
    // Portuguese and Italian
    ("nome", "forename"), ("sobrenome", "surname"), ("apelido", "surname"),
    ("cognome", "surname"), ("nascimento", "birth"), ("nascita", "birth"),
    ("idade", "age"), ("sesso", "gender"), ("rua", "street"), ("endereco", "address"),
    ("indirizzo", "address"), ("civico", "house number"), ("cidade", "city"),
    ("citta", "city"), ("comune", "city"), ("cep", "postcode"), ("telefone", "telephone"),
    ("cellulare", "mobile"), ("cpf", "ssn"), ("azienda", "company"),
    ("anno", "year"), ("mese", "month"), ("giorno", "day"),
    // Dutch and Scandinavian
    ("voornaam", "forename"), ("voornamen", "forename"), ("achternaam", "surname"),
    ("familienaam", "surname"), ("geboortedatum", "birth date"), ("geboortejaar", "birth year"),
    ("geboortemaand", "birth month"), ("geboorte", "birth"),
    ("geboorteplaats", "birth place"), ("geslacht", "gender"), ("leeftijd", "age"),
    ("straat", "street"), ("straatnaam", "street"), ("huisnummer", "house number"),
    ("woonplaats", "city"), ("plaats", "city"), ("stad", "city"), ("gemeente", "city"),
    ("telefoon", "telephone"), ("telefoonnummer", "telephone"),
    ("burgerservicenummer", "ssn"), ("bedrijf", "company"), ("naam", "name"), ("jaar", "year"),
    ("maand", "month"), ("dag", "day"), ("fornavn", "forename"), ("efternavn", "surname"),
    ("etternavn", "surname"), ("fornamn", "forename"), ("efternamn", "surname"),
    ("fodselsdato", "birth date"), ("fødselsdato", "birth date"),
    ("fodelsedatum", "birth date"), ("personnummer", "ssn"), ("postnummer", "postcode"),
    ("mailadres", "mail address"), ("emailadres", "email address"),
];

/// The English reading of a word of [`WORDS`].
fn word(t: &str) -> Option<&'static str> {
    WORDS.iter().find(|(w, _)| *w == t).map(|(_, e)| *e)
}

/// A split column name read in English: `None` when it holds no listed foreign word
/// (nothing to read; English names, and words the lists lack, are left as they are).
/// Joining words are dropped, then each listed phrase ([`PHRASES`], longest first) and
/// word ([`WORDS`]) is replaced by its English words: `date_de_naissance` reads
/// `date birth`, `Geburtsdatum` `birth date`, `lieu_de_naissance` `birth place`.
pub fn translated(toks: &[String]) -> Option<Vec<String>> {
    if !toks.iter().any(|t| word(t).is_some()) {
        return None;
    }
    let kept: Vec<&str> = toks
        .iter()
        .map(String::as_str)
        .filter(|t| !JOINING.contains(t))
        .collect();
    let mut out: Vec<String> = Vec::with_capacity(kept.len() + 1);
    let mut k = 0;
    'tokens: while k < kept.len() {
        let mut best: Option<(usize, &str)> = None;
        for (phrase, english) in PHRASES {
            let n = phrase.split(' ').count();
            if k + n <= kept.len()
                && phrase.split(' ').eq(kept[k..k + n].iter().copied())
                && best.is_none_or(|(m, _)| n > m)
            {
                best = Some((n, english));
            }
        }
        if let Some((n, english)) = best {
            out.extend(english.split(' ').map(str::to_string));
            k += n;
            continue 'tokens;
        }
        match word(kept[k]) {
            Some(english) => out.extend(english.split(' ').map(str::to_string)),
            None => out.push(kept[k].to_string()),
        }
        k += 1;
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
    }
}
