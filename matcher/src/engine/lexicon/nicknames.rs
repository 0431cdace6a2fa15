//! Given names and their short forms: `bill` is William, `bert` Albert, Herbert,
//! Gilbert or Robert. A comparison of two given names reads a short form and its full
//! name as one name (agreement, not a typo), and blocking keys a short form by its full
//! name's initial and sound. Kept apart from the column-name lexicon: this one is about
//! values.

use std::collections::HashMap;

/// Common English given names and their short forms, `formal: short short ...`. A form
/// may belong to several families (`al`: Albert, Alexander, Alfred, Alan); two formal
/// names are never one name through a form they share (`samuel` / `samantha`). Only
/// short forms in common use: a rare one (`daisy` for Margaret) joins two sisters of a
/// household, and names of one root in other languages (`ian`, `sean` for John) are
/// different people's names in one country.
const NICKNAMES: &[(&str, &str)] = &[
    ("abigail", "abby abbie gail"),
    ("abraham", "abe abram"),
    ("adelaide", "addie adela della"),
    ("agnes", "aggie nessie"),
    ("alan", "al"),
    ("albert", "al bert bertie"),
    ("alexander", "alex al sandy xander alec"),
    ("alexandra", "alex sandra sandy lexi alexa"),
    ("alfred", "al alf alfie fred freddie"),
    ("allison", "allie ally"),
    ("amanda", "mandy manda"),
    ("andrew", "andy drew"),
    ("angela", "angie"),
    ("ann", "annie nan anne anna"),
    ("anthony", "tony ant"),
    ("archibald", "archie arch"),
    ("arnold", "arnie"),
    ("arthur", "art artie"),
    ("augustus", "gus"),
    ("barbara", "barb babs barbie"),
    ("bartholomew", "bart"),
    ("beatrice", "bea trixie"),
    ("benjamin", "ben benny benji"),
    ("bernard", "bernie barney"),
    ("bradley", "brad"),
    ("bridget", "biddy bridie"),
    ("caroline", "carrie"),
    ("catherine", "cathy kate katie cat kitty kathy"),
    ("charles", "charlie chuck chas chaz charley"),
    ("charlotte", "lottie"),
    ("christina", "chris chrissy tina"),
    ("christine", "chris chrissy tina"),
    ("christopher", "chris kit topher"),
    ("clifford", "cliff"),
    ("cynthia", "cindy cyndi"),
    ("daniel", "dan danny"),
    ("david", "dave davey davy"),
    ("deborah", "deb debbie debra"),
    ("dennis", "denny"),
    ("dominic", "dom"),
    ("donald", "don donnie"),
    ("dorothy", "dot dottie dolly"),
    ("douglas", "doug"),
    ("edith", "edie"),
    ("edmund", "ed eddie ned"),
    ("edward", "ed eddie eddy ted teddy ned"),
    ("edwin", "ed eddie"),
    ("eleanor", "ellie nell nellie"),
    (
        "elizabeth",
        "liz beth betty lizzie eliza betsy libby bess bessie lizzy",
    ),
    ("emily", "emmy millie"),
    ("ernest", "ernie"),
    ("eugene", "gene"),
    ("evelyn", "evie"),
    ("florence", "flo florrie flossie"),
    ("frances", "fran frannie fanny"),
    ("francis", "frank fran frankie"),
    ("frederick", "fred freddie freddy"),
    ("gabriel", "gabe"),
    ("geoffrey", "geoff"),
    ("gerald", "jerry gerry"),
    ("gertrude", "gertie trudy"),
    ("gilbert", "gil bert"),
    ("gregory", "greg"),
    ("harold", "harry hal"),
    ("helen", "nell nellie"),
    ("henrietta", "etta hetty"),
    ("henry", "hank harry hal"),
    ("herbert", "herb bert herbie"),
    ("howard", "howie"),
    ("isaac", "ike"),
    ("jacob", "jake"),
    ("james", "jim jimmy jamie jimmie"),
    ("janet", "jenny"),
    ("jeffrey", "jeff"),
    ("jennifer", "jen jenny jenn"),
    ("jeremiah", "jerry"),
    ("jeremy", "jerry"),
    ("jessica", "jess jessie"),
    ("john", "jack johnny jon"),
    ("jonathan", "jon jonny nathan"),
    ("joseph", "joe joey"),
    ("joshua", "josh"),
    ("judith", "judy jude"),
    ("julia", "julie"),
    ("katherine", "kate kathy katie kat kay kitty"),
    ("kathleen", "kathy kate kay"),
    ("kenneth", "ken kenny"),
    ("kimberly", "kim"),
    ("lawrence", "larry laurie"),
    ("leonard", "len lenny"),
    ("louis", "lou louie"),
    ("louise", "lou"),
    ("margaret", "maggie meg peggy marge margie madge"),
    ("martha", "mattie"),
    ("martin", "marty"),
    ("mary", "molly polly mamie"),
    ("matilda", "tilly tilda"),
    ("matthew", "matt"),
    ("michael", "mike mikey mick mickey"),
    ("nathaniel", "nat nate"),
    ("nicholas", "nick nicky"),
    ("oliver", "ollie"),
    ("pamela", "pam"),
    ("patricia", "pat patty trish tricia"),
    ("patrick", "pat paddy rick"),
    ("percival", "percy"),
    ("peter", "pete"),
    ("philip", "phil"),
    ("raymond", "ray"),
    ("rebecca", "becky becca"),
    ("reginald", "reg reggie"),
    ("richard", "rick dick rich ricky richie"),
    ("robert", "bob rob bobby robbie bert robby bobbie"),
    ("ronald", "ron ronnie"),
    ("samantha", "sam sammy"),
    ("samuel", "sam sammy"),
    ("sarah", "sally sadie"),
    ("sidney", "sid"),
    ("stanley", "stan"),
    ("stephanie", "steph stephie"),
    ("stephen", "steve stevie"),
    ("steven", "steve stevie"),
    ("susan", "sue susie suzy"),
    ("theodore", "ted teddy theo"),
    ("theresa", "terry tess tessa"),
    ("thomas", "tom tommy tommie"),
    ("timothy", "tim timmy"),
    ("victoria", "vicky vic tori"),
    ("vincent", "vince vinny"),
    ("walter", "walt wally"),
    ("william", "bill will billy willie liam willy billie"),
    ("winifred", "winnie"),
    ("zachary", "zach zack"),
];

/// Families of [`NICKNAMES`] a form belongs to, a bit per family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Families([u64; FAMILY_WORDS]);

/// Words of [`Families`]: room for 256 families.
const FAMILY_WORDS: usize = 4;

const _: () = assert!(
    NICKNAMES.len() <= FAMILY_WORDS * 64,
    "Families holds a bit per name"
);

impl Families {
    fn of(i: usize) -> Self {
        let mut f = Self::default();
        f.0[i / 64] |= 1u64 << (i % 64);
        f
    }

    fn union(self, other: Self) -> Self {
        let mut f = self;
        for (a, b) in f.0.iter_mut().zip(other.0) {
            *a |= b;
        }
        f
    }

    fn meets(self, other: Self) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }

    /// The family numbers, lowest first.
    fn iter(self) -> impl Iterator<Item = usize> {
        (0..FAMILY_WORDS * 64).filter(move |&i| self.0[i / 64] & (1u64 << (i % 64)) != 0)
    }
}

/// Every form of [`NICKNAMES`] (formal and short) → the families it belongs to (`pat` is
/// Patricia's and Patrick's). Built once: the comparison of a given-name field asks it
/// for every disagreeing candidate pair.
static NICKNAME_SETS: std::sync::LazyLock<HashMap<&'static str, Families>> =
    std::sync::LazyLock::new(|| {
        let mut m: HashMap<&'static str, Families> = HashMap::new();
        for (i, (formal, short)) in NICKNAMES.iter().enumerate() {
            for form in std::iter::once(*formal).chain(short.split(' ')) {
                let e = m.entry(form).or_default();
                *e = e.union(Families::of(i));
            }
        }
        m
    });

/// Whether two normalized given names are one name and its short form (or two short
/// forms of one name): `bill` / `william`, `bob` / `robert`, `jim` / `jimmy`.
pub fn nickname_pair(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() || a == b {
        return false;
    }
    let sets = &*NICKNAME_SETS;
    match (sets.get(a), sets.get(b)) {
        (Some(x), Some(y)) => x.meets(*y),
        _ => false,
    }
}

/// Whether some token of `a` and some token of `b` are a [`nickname_pair`] (`jim r` /
/// `james`).
pub fn nickname_values(a: crate::engine::fs::Value<'_>, b: crate::engine::fs::Value<'_>) -> bool {
    a.tokens().any(|s| b.tokens().any(|t| nickname_pair(s, t)))
}

/// Given names common in many countries that the [`NICKNAMES`] table lacks (normalized:
/// accents stripped), for telling a column of people's whole names from one of places or
/// firms ([`known_given_name`]), and a name from a typo of another (`joan` is not `john`
/// mistyped). Names that are as often words of places or surnames (`glen`, `dale`,
/// `lee`, `scott`, `wayne`, `madison`) are left out.
const MORE_GIVEN_NAMES: &str = "mary maria marie anna ana anne john jose juan carlos luis \
jorge pedro miguel antonio manuel francisco javier diego pablo sergio alejandro fernando \
carmen rosa lucia sofia laura sara paula elena isabel ana marta julia eva ines \
hans peter klaus jurgen uwe dieter wolfgang stefan andreas thomas frank bernd karl heinz \
ursula monika sabine petra renate helga ingrid gisela karin andrea claudia susanne birgit \
george paul mark david james daniel adam simon martin victor ivan igor sergei olga irina \
natalia tatiana ahmed mohamed mohammed ali hassan fatima aisha omar yusuf ibrahim \
wei li ming hui jing yan hiroshi takashi yuki akira kenji priya raj rahul amit sunil \
anil deepak pooja neha jean pierre michel philippe alain nicolas francois sophie \
isabelle nathalie giuseppe giovanni marco luca francesca chiara jan piotr krzysztof \
tomasz anna katarzyna lars erik nils ingrid astrid jose joao paulo ana grace emma olivia \
noah liam lucas ethan mia ava chloe zoe ella ruby oscar leo henry jack harry \
joan jean jane janice joyce judy june nora dora freda carol carla karen sharon shirley betty brenda \
donna diane dianne linda lisa nancy helen ruth doris gloria marilyn norma \
amy emma hannah lauren megan rachel heather nicole ashley amber kelly kayla \
julie jill gail lori tracy tammy wendy vera irene alice edna ethel agnes \
mildred gladys lillian lois marjorie jesse jose gary larry terry jerry \
mark luke carl glenn roy earl neil keith kevin brian bruce \
craig todd brett adam aaron eric derek alan allan ian sean shawn evan ivan \
dana lynn joel noel ross ralph roger russell eugene harold";

static MORE_GIVEN: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| MORE_GIVEN_NAMES.split_whitespace().collect());

/// Whether `t` (normalized) is a known given name (a form of the [`NICKNAMES`] table or
/// one of [`MORE_GIVEN_NAMES`]): evidence that a column of whole names names people.
pub fn known_given_name(t: &str) -> bool {
    NICKNAME_SETS.contains_key(t) || MORE_GIVEN.contains(t)
}

/// The usual full name of a short form several families share, where it is not the
/// family listed first (`ed` is Edward's more often than Edmund's).
const USUAL: &[(&str, &str)] = &[
    ("al", "albert"),
    ("teddy", "theodore"),
    ("kathy", "katherine"),
    ("chris", "christine"),
    ("chrissy", "christine"),
    ("tina", "christine"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ned", "edward"),
    ("hal", "henry"),
    ("harry", "henry"),
    ("jenny", "jennifer"),
    ("rick", "richard"),
];

/// The full form of a short given name (`bill` → `william`; for one of several families
/// its usual one, `ed` → `edward`, else the first, `pat` → `patricia`); `None` for a
/// name not in the table or already full.
pub fn nickname_formal(t: &str) -> Option<&'static str> {
    if let Some(&(_, formal)) = USUAL.iter().find(|(form, _)| *form == t) {
        return Some(formal);
    }
    let first = NICKNAME_SETS.get(t)?.iter().next()?;
    let formal = NICKNAMES.get(first)?.0;
    (formal != t).then_some(formal)
}

/// The forms (formal and short) of each [`NICKNAMES`] family, by its number.
static NICKNAME_FORMS: std::sync::LazyLock<Vec<Vec<&'static str>>> =
    std::sync::LazyLock::new(|| {
        NICKNAMES
            .iter()
            .map(|(formal, short)| std::iter::once(*formal).chain(short.split(' ')).collect())
            .collect()
    });

/// Whether `typed` is one typo ([`one_typo`]) from a form of a family `known` belongs
/// to: `bicll` / `william` (through `bill`), `bbo` / `robert`. A known given name is a
/// typo of none of them ([`known_spelling`]): `emma` is not `emily` through `emmy`, nor
/// `timmy` `james` through `jimmy`; `michel` is `michael` written otherwise.
fn near_family_form(known: &str, typed: &str) -> bool {
    let Some(&families) = NICKNAME_SETS.get(known) else {
        return false;
    };
    let forms = &*NICKNAME_FORMS;
    let is_name = known_given_name(typed);
    families.iter().filter_map(|i| forms.get(i)).any(|f| {
        if is_name {
            f.first()
                .is_some_and(|formal| known_spelling(formal, typed))
        } else {
            f.iter().any(|form| one_typo(form, typed))
        }
    })
}

/// Whether the known given name `name` is the full name `formal` spelt otherwise: a
/// [`spelling_variant`], or a letter more or less in names of six letters or more
/// (`michel` / `michael`). Other names an edit apart are two names (`mark` / `mary`,
/// `louis` / `louise`, `frances` / `francis`).
fn known_spelling(formal: &str, name: &str) -> bool {
    spelling_variant(formal, name)
        || (formal.len().min(name.len()) > 5
            && formal.len() != name.len()
            && one_typo(formal, name))
}

/// Whether `a` and `b` are both short or full forms of the table, of no family in common
/// (`eddie`, Edward's, and `edie`, Edith's): two names however few letters apart.
fn other_families(a: &str, b: &str) -> bool {
    match (NICKNAME_SETS.get(a), NICKNAME_SETS.get(b)) {
        (Some(x), Some(y)) => !x.meets(*y),
        _ => false,
    }
}

/// Whether two names are one name spelt two ways: a silent `h` or a doubled letter more
/// (`sara` / `sarah`, `alan` / `allan`, `diane` / `dianne`), or `c` for `k`, `y` for `i`
/// (`carl` / `karl`, `eric` / `erik`, `kathy` / `cathy`). Any other edit between two
/// known names makes another name (`paul` / `paula`, `mark` / `mary`).
fn spelling_variant(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.len() == y.len() {
        let mut diff = x.iter().zip(y).filter(|(p, q)| p != q);
        return match (diff.next(), diff.next()) {
            (Some((&p, &q)), None) => {
                let pair = (p.min(q), p.max(q));
                pair == (b'c', b'k') || pair == (b'i', b'y')
            }
            _ => false,
        };
    }
    let (short, long) = if x.len() < y.len() { (x, y) } else { (y, x) };
    if long.len() != short.len() + 1 || short.len() < 3 {
        return false;
    }
    // the first place the two part: the longer's extra letter is there
    let k = short.iter().zip(long).take_while(|(p, q)| p == q).count();
    if short[k..] != long[k + 1..] {
        return false;
    }
    let extra = long[k];
    // (a doubled letter shows at `k - 1`: at `k + 1` it would be where the two part)
    extra == b'h' || (k > 0 && long[k - 1] == extra)
}

/// One typo apart: one edit between names of four letters or more; between three-letter
/// names only two letters swapped (`bbo` / `bob`): any other edit of a three-letter name
/// is another name as often as a typo (`joe` / `jose`, `jon` / `jan`).
fn one_typo(a: &str, b: &str) -> bool {
    let short = a.len().min(b.len());
    if short < 3 || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    if short == 3 {
        if a.len() != b.len() {
            return false;
        }
        let (mut x, mut y) = (a.as_bytes().to_vec(), b.as_bytes().to_vec());
        x.sort_unstable();
        y.sort_unstable();
        return x == y;
    }
    crate::engine::fs::osa_distance_at_most(a, b, 1) <= 1
}

/// Whether two given-name tokens are one name however written: short forms of one name
/// ([`nickname_pair`]), a short form mistyped (`bicll` / `william`), or a short name
/// mistyped (`aym` / `amy`: one edit in a name of at most five letters, where a
/// character-trigram or Jaro–Winkler similarity sees little left in common). Two known
/// given names an edit apart are two names (`mark` / `mary`, `john` / `joan`) unless the
/// edit is a [`spelling_variant`] (`sara` / `sarah`) and they are no forms of two
/// families of the table (`eddie` / `edie`).
pub fn given_names_near(a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() || a == b {
        return false;
    }
    if nickname_pair(a, b) {
        return true;
    }
    if a.len().min(b.len()) <= 5
        && one_typo(a, b)
        && (!(known_given_name(a) && known_given_name(b))
            || (spelling_variant(a, b) && !other_families(a, b)))
    {
        return true;
    }
    near_family_form(a, b) || near_family_form(b, a)
}

/// The families of [`NICKNAMES`] with a form `x` is, or is one typo from; for a known
/// given name, whose full name it is spelt otherwise ([`known_spelling`]: `mark` is not
/// `mary` mistyped).
fn typo_families(x: &str) -> Families {
    let forms = &*NICKNAME_FORMS;
    let spelt = |own: Families| {
        (0..NICKNAMES.len())
            .filter(|&i| {
                forms
                    .get(i)
                    .and_then(|f| f.first())
                    .is_some_and(|formal| known_spelling(formal, x))
            })
            .fold(own, |acc, i| acc.union(Families::of(i)))
    };
    if let Some(&families) = NICKNAME_SETS.get(x) {
        return spelt(families);
    }
    if MORE_GIVEN.contains(x) {
        return spelt(Families::default());
    }
    NICKNAME_SETS
        .iter()
        .filter(|(form, _)| **form == x || one_typo(form, x))
        .fold(Families::default(), |acc, (_, f)| acc.union(*f))
}

/// [`given_names_near`], or each of the two a typo of a form of one family (`wlliam` /
/// `silliam`, `jdhn` / `jakc`): the test that keeps two spellings of one given name from
/// reading as two people. Scans the whole table: for a pair already in doubt, not for
/// every candidate.
pub fn given_names_related(a: &str, b: &str) -> bool {
    given_names_near(a, b)
        || (a.len() >= 3 && b.len() >= 3 && typo_families(a).meets(typo_families(b)))
}

/// [`given_names_related`] on some token of each value.
pub fn given_values_related(
    a: crate::engine::fs::Value<'_>,
    b: crate::engine::fs::Value<'_>,
) -> bool {
    a.tokens()
        .any(|s| b.tokens().any(|t| given_names_related(s, t)))
}

/// [`given_names_near`] on some token of each value.
pub fn given_values_near(a: crate::engine::fs::Value<'_>, b: crate::engine::fs::Value<'_>) -> bool {
    a.tokens()
        .any(|s| b.tokens().any(|t| given_names_near(s, t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms_of_the_whole_table_are_one_name() {
        for (a, b) in [
            ("bert", "herbert"),
            ("florrie", "florence"),
            ("artie", "arthur"),
            ("archie", "archibald"),
            ("percy", "percival"),
            ("len", "leonard"),
            // the last families: past the 128 one word of bits held
            ("zach", "zachary"),
            ("winnie", "winifred"),
        ] {
            assert!(nickname_pair(a, b), "{a} / {b}");
            assert!(nickname_pair(b, a), "{b} / {a}");
        }
        // a form two families share joins neither family's full names
        assert!(nickname_pair("bert", "albert") && nickname_pair("bert", "robert"));
        assert!(!nickname_pair("albert", "robert"));
        assert!(!nickname_pair("samuel", "samantha"));
    }

    #[test]
    fn a_known_given_name_is_no_typo_of_another_family_s_form() {
        // `emma` is one edit from `emmy` (Emily's), `mark` from `mary`, `timmy` from
        // `jimmy` (James's): names of their own, not typos
        assert!(!given_names_near("emma", "emily"));
        assert!(!given_names_near("timmy", "james"));
        assert!(!given_names_related("mark", "mary"));
        assert!(!given_names_near("john", "joan"));
        // a known name one edit from a full name of six letters or more is that name
        assert!(given_names_near("michel", "mike"));
        assert!(given_names_related("michel", "mike"));
        assert!(!given_names_related("louis", "louise"));
        assert!(!given_names_related("frances", "francis"));
        assert!(!given_names_near("paul", "paula"));
        assert!(!given_names_near("eddie", "edie"));
        // names in their own right are known: no typo of a name an edit away
        assert!(!given_names_related("freda", "fred"));
        assert!(!given_names_related("nora", "dora"));
        assert!(!given_names_related("june", "jane"));
        // one name spelt two ways stays one name
        for (a, b) in [
            ("sara", "sarah"),
            ("carl", "karl"),
            ("eric", "erik"),
            ("alan", "allan"),
            ("diane", "dianne"),
            ("kathy", "cathy"),
        ] {
            assert!(given_names_near(a, b), "{a} / {b}");
            assert!(given_names_related(b, a), "{b} / {a}");
        }
        assert!(!given_names_related("emma", "emily"));
        // what is no name stays a typo
        assert!(given_names_near("bicll", "william"));
        assert!(given_names_related("jdhn", "jakc"));
    }

    #[test]
    fn a_short_form_of_several_families_keys_by_its_usual_full_name() {
        assert_eq!(nickname_formal("ed"), Some("edward"));
        assert_eq!(nickname_formal("harry"), Some("henry"));
        assert_eq!(nickname_formal("al"), Some("albert"));
        assert_eq!(nickname_formal("pat"), Some("patricia"));
        assert_eq!(nickname_formal("florrie"), Some("florence"));
        assert_eq!(nickname_formal("florence"), None);
        assert_eq!(nickname_formal("zebedee"), None);
        assert_eq!(nickname_formal("teddy"), Some("theodore"));
        // each usual full name is one of its form's families
        for (form, formal) in USUAL {
            assert!(nickname_pair(form, formal), "{form} -> {formal}");
        }
    }
}
