#!/usr/bin/env python3
"""Seeded generator of dev sets whose *shapes* are the ones real files take.

    python3 bench/gen_shapes.py OUT_DIR          # every set below, deterministic
    python3 bench/gen_shapes.py OUT_DIR --seed N # the same shapes drawn again (a
                                                 # robustness check: no set is tuned to
                                                 # the default seed's draw)

Each set is a folder with its CSV file(s) and `truth.csv` (id pairs that match):

  person_split   dedup  given and family names each split over two columns (the second
                        mostly empty), the birth date as three integer columns, 30-60%
                        missing values, households (same surname and address, different
                        people), common-name collisions, nicknames, typos, swapped names;
                        the same rows with columns named as an enterprise system
                        abbreviates them (`FIRST_NM`, `BIRTH_DY`, `ZIP_CD`)
  person_heavy   dedup  heavy-tailed entity sizes: most people 1-3 mentions, a few
                        100-500 (an inventor-like mention file: name parts, city, state,
                        organisation, co-mentioned names, class codes), many common names;
                        the same mentions again as a patent office exports them: the
                        patent (shared by co-inventors, never by one person's two
                        mentions), its filing date and title, country, town coordinates,
                        the ids of the place and the employer
  person_link    link   two files that name and split their columns differently
                        (`street_name` vs `mailing_address_street_name`, one `name` vs
                        first/last, date string vs integer parts), households on both sides;
                        the left file again with the whole name in one column
  person_tax_link link  one census-like row per person to each of that person's tax forms
                        (one to many); the tax file has the employer's address beside the
                        mailing address, named alike, and both files have columns the
                        other lacks; the same forms without age and birth date; both
                        files with columns named as enterprise systems abbreviate them
                        (`CUST_FIRST_NM`, `ST_CD` / `FName`, `BirthDt`, `MailStreetNbr`);
                        the forms with the birth date as a spreadsheet's day number;
                        `forms_truth.csv` the forms of one person, to deduplicate the
                        tax file alone (one person's forms from two employers)
  person_census  dedup  a census of households, 3% of its people counted twice: few
                        duplicates among households and strangers of one name and
                        birth year; the age beside the birth date; the same rows with
                        the household's id and the spouse's names beside them
  person_link_pop, person_tax_link_pop  the two links again with names as common as in a
                        population (person_names_dob_pop's)
  person_tax_link_pop_clean  the census-to-tax link again with a quarter of the noise
                        (a typo in the given name and one in the surname, each in one
                        mention in twenty; a move in one in
                        thirty-three): a register's usual error rates, where the
                        households and namesakes are what is left to get wrong
  person_names_dob dedup 10k rows of name parts and birth date parts only, 10% second
                        records with one error each (a typo, a changed date part); the
                        same rows again with a whole-name column beside the parts,
                        and as one whole-name column (`LAST, First` or `First Last`)
                        with the date in one of four forms;
                        names ten times as concentrated as in a population (a stress set)
  person_names_dob_pop  the same with given names and surnames as common as in a
                        population (the commonest given name 4%, surname 1.5%)
  sm/person_*    schema six pairs of person tables designed apart (synonyms,
                        abbreviations, camelCase, formats of dates and phones)
  sm_names/*     schema 49 pairs of person tables named as enterprise systems name
                        columns: role prefixes, abbreviations inside names, one-letter
                        codes, labels written for people, FHIR's element names, words
                        written in consonants (four groups of designs)
  org_dedup      dedup  organisation names with legal-form variants, abbreviations,
                        missing addresses and phones
  product_link   link   product titles with brand and model codes written differently,
                        prices that drift
  product_catalog_link  link  two retailers' catalogues worded apart: long titles and
                        descriptions against short titles led by the model number (a
                        region's suffix on it), lines of models a digit apart
  product_title_link  link  a software shelf with no model numbers: one catalogue writes a
                        short title, the other the maker's name, often its product code,
                        the same title and an edition (`punch software 14100 punch!
                        professional home design suite for windows`); each maker sells a
                        series of titles one word apart (`home design`, `professional
                        home design`), so a title inside another is not always the same

No data leaves this file: the name, street and place tables are built here from
syllables and short word lists, and the random generator is seeded, so the same command
always writes the same files. None of these shapes is tuned to one public data set: each
knob (missing rate, cluster-size law, household rate) is drawn per set from the ranges
that real files show.
"""
import csv
import datetime
import os
import random
import string
import sys

SEED = 20261203

GIVEN = """james john robert michael william david richard joseph thomas charles christopher
daniel matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george
timothy ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry
justin scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis
jerry tyler aaron jose adam nathan henry douglas zachary peter kyle noah ethan jeremy
walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence
jordan jesse bryan billy bruce gabriel joe logan alan juan albert willie elijah wayne
randy vincent mason roy ralph bobby russell bradley philip eugene mary patricia jennifer
linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret ashley
kimberly emily donna michelle carol amanda melissa deborah stephanie dorothy rebecca
sharon laura cynthia amy kathleen angela shirley brenda emma anna pamela nicole samantha
katherine christine helen debra rachel carolyn janet maria catherine heather diane olivia
julie joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah
megan cheryl jacqueline martha madison teresa gloria sara janice ann kathryn abigail
sophia frances jean alice judy isabella julia grace amber denise danielle marilyn beverly
charlotte natalie theresa diana brittany doris kayla alexis lori marie""".split()

NICK = {"james": "jim", "john": "jack", "robert": "bob", "michael": "mike", "william": "bill",
        "david": "dave", "richard": "rick", "joseph": "joe", "thomas": "tom", "charles": "chuck",
        "christopher": "chris", "daniel": "dan", "matthew": "matt", "anthony": "tony",
        "steven": "steve", "andrew": "andy", "joshua": "josh", "kenneth": "ken",
        "jeffrey": "jeff", "nicholas": "nick", "jonathan": "jon", "stephen": "steve",
        "benjamin": "ben", "samuel": "sam", "gregory": "greg", "alexander": "alex",
        "patrick": "pat", "timothy": "tim", "ronald": "ron", "edward": "ed",
        "lawrence": "larry", "elizabeth": "liz", "patricia": "pat", "jennifer": "jen",
        "margaret": "maggie", "kimberly": "kim", "jessica": "jess", "susan": "sue",
        "deborah": "deb", "rebecca": "becky", "katherine": "kate", "christine": "chris",
        "cynthia": "cindy", "pamela": "pam", "samantha": "sam", "victoria": "vicky",
        "kathleen": "kathy", "dorothy": "dot", "abigail": "abby", "frances": "fran",
        "theresa": "terry", "alexis": "lexi", "judith": "judy", "barbara": "barb"}

SYL = ["an", "ber", "cal", "dor", "el", "fen", "gar", "hol", "ing", "jor", "kel", "lan",
       "mor", "nel", "or", "per", "quin", "ros", "san", "tor", "ul", "ver", "wil", "yar",
       "zen", "ash", "brook", "ton", "ley", "son", "man", "ford", "field", "wood", "by",
       "ham", "well", "stone", "er", "ett", "ick", "ard", "ow", "ich", "ski", "ez", "ov"]
COMMON_SURNAMES = """smith johnson williams brown jones garcia miller davis rodriguez martinez
hernandez lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez
thompson white harris sanchez clark ramirez lewis robinson walker young allen king wright
scott torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell
carter roberts""".split()
STREET_TYPES = ["st", "ave", "rd", "dr", "ln", "ct", "blvd", "way", "pl"]
STREET_LONG = {"st": "street", "ave": "avenue", "rd": "road", "dr": "drive", "ln": "lane",
               "ct": "court", "blvd": "boulevard", "way": "way", "pl": "place"}
STATES = ["ca", "tx", "fl", "ny", "pa", "il", "oh", "ga", "nc", "mi", "nj", "va", "wa", "az",
          "ma", "tn", "in", "mo", "md", "wi"]
ORG_WORDS = """global united national advanced applied integrated pacific atlantic northern
southern central digital quantum summit pioneer frontier premier heritage liberty eagle
falcon river mountain valley harbor bridge crown star sun lake coast metro urban rural
green blue red silver golden iron steel cedar oak pine maple""".split()
ORG_KINDS = """systems technologies solutions industries manufacturing logistics foods
pharmaceuticals energy holdings partners consulting networks software devices materials
instruments laboratories services foods capital media""".split()
LEGAL = [("inc", "incorporated"), ("llc", "limited liability company"), ("ltd", "limited"),
         ("corp", "corporation"), ("co", "company"), ("gmbh", "gmbh"), ("plc", "plc")]
BRANDS = """acme zenith orion vertex nimbus apex lumen stratos kestrel halcyon borealis
sierra titan nova pulse vector quasar helix arcadia onyx""".split()
PRODUCTS = """laptop monitor keyboard mouse headphones speaker camera tablet printer router
charger drive projector microphone webcam smartwatch phone television soundbar scanner""".split()
ADJ = """wireless portable compact professional gaming ultra slim digital smart mini pro
ergonomic rechargeable bluetooth hd 4k noise-cancelling""".split()


def zipf_pick(rng, items, s=1.1):
    """An item drawn with probability ~ 1/rank^s (precomputed weights cached per list)."""
    key = (id(items), s)
    w = zipf_pick.cache.get(key)
    if w is None:
        w = [1.0 / (k + 1) ** s for k in range(len(items))]
        tot = 0.0
        acc = []
        for x in w:
            tot += x
            acc.append(tot)
        w = (acc, tot)
        zipf_pick.cache[key] = w
    acc, tot = w
    r = rng.random() * tot
    lo, hi = 0, len(acc) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if acc[mid] < r:
            lo = mid + 1
        else:
            hi = mid
    return items[lo]


zipf_pick.cache = {}


def pseudo_word(rng, lo=2, hi=3):
    return "".join(rng.choice(SYL) for _ in range(rng.randint(lo, hi)))


def tables(rng):
    surnames = COMMON_SURNAMES + sorted({pseudo_word(rng) for _ in range(6000)})
    streets = sorted({pseudo_word(rng, 1, 2) for _ in range(3000)})
    cities = sorted({pseudo_word(rng, 2, 3) for _ in range(600)})
    city_info = {c: (rng.choice(STATES), f"{rng.randint(10000, 99899):05d}") for c in cities}
    return surnames, streets, cities, city_info


def typo(rng, s):
    if len(s) < 3:
        return s
    i = rng.randrange(len(s) - 1)
    op = rng.random()
    if op < 0.3:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if op < 0.6:
        return s[:i] + rng.choice(string.ascii_lowercase) + s[i + 1:]
    if op < 0.8:
        return s[:i] + s[i + 1:]
    return s[:i] + rng.choice(string.ascii_lowercase) + s[i:]


def digit_typo(rng, s):
    if not s:
        return s
    i = rng.randrange(len(s))
    return s[:i] + str(rng.randint(0, 9)) + s[i + 1:]


def cluster_sizes(rng, n_records, heavy):
    """Entity sizes summing to about n_records: mostly 1-3; `heavy`: a few of 100-500."""
    sizes = []
    total = 0
    if heavy:
        for _ in range(heavy):
            k = rng.randint(100, 500)
            sizes.append(k)
            total += k
    while total < n_records:
        r = rng.random()
        if r < 0.55:
            k = 1
        elif r < 0.80:
            k = 2
        elif r < 0.92:
            k = 3
        elif r < 0.985:
            k = rng.randint(4, 10)
        else:
            k = rng.randint(11, 40)
        sizes.append(k)
        total += k
    return sizes


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def dedup_truth(path, groups):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id1", "id2"])
        for ids in groups:
            for a in range(len(ids)):
                for b in range(a + 1, len(ids)):
                    w.writerow([ids[a], ids[b]])


def link_truth(path, pairs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["left_id", "right_id"])
        w.writerows(pairs)


def write_link(d, rng, left, right, truth):
    """A link set into folder `d`: `left.csv` and `right.csv` (each a `(header, rows)`,
    the rows shuffled, left first) and `truth.csv`."""
    os.makedirs(d, exist_ok=True)
    for name, (header, rows) in (("left.csv", left), ("right.csv", right)):
        rng.shuffle(rows)
        write(os.path.join(d, name), header, rows)
    link_truth(os.path.join(d, "truth.csv"), truth)


class Person:
    pass


def make_people(rng, n, T, household_rate, skew=(0.9, 1.0)):
    """`skew`: the Zipf exponents of given names and surnames (see person_names_dob)."""
    surnames, streets, cities, city_info = T
    sg, ss = skew
    people = []
    while len(people) < n:
        last = zipf_pick(rng, surnames, ss)
        city = zipf_pick(rng, cities, 0.8)
        state, zipc = city_info[city]
        addr = (str(rng.randint(1, 9999)), f"{rng.choice(streets)} {rng.choice(STREET_TYPES)}",
                rng.choice(["", "", "", f"apt {rng.randint(1, 40)}"]), city, state, zipc)
        phone = f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
        size = 1
        if rng.random() < household_rate:
            size = rng.randint(2, 5)
        base_year = rng.randint(1935, 1995)
        for k in range(size):
            p = Person()
            p.first = zipf_pick(rng, GIVEN, sg)
            p.middle = zipf_pick(rng, GIVEN, sg) if rng.random() < 0.5 else ""
            p.last = last
            p.last2 = zipf_pick(rng, surnames, ss) if rng.random() < 0.08 else ""
            # household: parents close in age, children 20-40 years younger
            year = base_year + (rng.randint(-4, 4) if k < 2 else rng.randint(20, 40))
            p.dob = (min(year, 2015), rng.randint(1, 12), rng.randint(1, 28))
            p.addr = addr
            p.phone = phone if (k < 2 or rng.random() < 0.5) else \
                f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
            p.ssn = f"{rng.randint(100, 899):03d}{rng.randint(10, 99):02d}{rng.randint(1000, 9999):04d}"
            p.email = f"{p.first}.{p.last}{rng.randint(1, 99)}@{rng.choice(['mail', 'post', 'web'])}.com"
            people.append(p)
    # common-name collisions: a share of people copy another's first and last name
    for p in people:
        if rng.random() < 0.04:
            q = rng.choice(people)
            p.first, p.last = q.first, q.last
    return people[:n]


def moved(rng, p, T):
    surnames, streets, cities, city_info = T
    city = zipf_pick(rng, cities, 0.8)
    state, zipc = city_info[city]
    return (str(rng.randint(1, 9999)), f"{rng.choice(streets)} {rng.choice(STREET_TYPES)}",
            "", city, state, zipc)


def mention(rng, p, T, noise):
    """One (possibly corrupted) view of a person: a dict of clean-ish strings."""
    first, middle, last, last2 = p.first, p.middle, p.last, p.last2
    y, m, d = p.dob
    addr = p.addr
    phone, ssn, email = p.phone, p.ssn, p.email
    if rng.random() < noise * 0.5 and first in NICK:
        first = NICK[first]
    if rng.random() < noise:
        first = typo(rng, first)
    if rng.random() < noise:
        last = typo(rng, last)
    if rng.random() < noise * 0.15:
        first, last = last, first
    if rng.random() < noise * 0.3:
        d, m = (m, d) if d <= 12 else (d, m)
    if rng.random() < noise * 0.3:
        y = y + rng.choice([-1, 1, -10, 10])
    if rng.random() < noise * 0.3:
        d = rng.randint(1, 28)
    if rng.random() < noise * 0.6:
        addr = moved(rng, p, T)
    if rng.random() < noise * 0.5:
        phone = digit_typo(rng, phone)
    if rng.random() < noise * 0.3:
        ssn = digit_typo(rng, ssn)
    return dict(first=first, middle=middle, last=last, last2=last2, y=y, m=m, d=d,
                addr=addr, phone=phone, ssn=ssn, email=email)


def blank(rng, v, rate):
    return "" if rng.random() < rate else v


def person_split(out, rng, T):
    """Dedup, ~10k rows, split names, integer date parts, heavy missingness."""
    sizes = cluster_sizes(rng, 10_000, 0)
    people = make_people(rng, len(sizes), T, household_rate=0.25)
    miss = {c: rng.uniform(0.3, 0.6) for c in ["middle", "addr", "zip", "phone", "dob", "ssn"]}
    rows, groups = [], []
    rid = 0
    for p, k in zip(people, sizes):
        ids = []
        for j in range(k):
            v = mention(rng, p, T, noise=0.0 if j == 0 else 0.35)
            first, first2 = v["first"], ""
            # a two-part given name is written in one column or split over two
            if v["middle"] and rng.random() < 0.35:
                if rng.random() < 0.5:
                    first, first2 = v["first"], v["middle"]
                else:
                    first = f"{v['first']} {v['middle']}"
            last, last2 = v["last"], ""
            if v["last2"]:
                if rng.random() < 0.5:
                    last2 = v["last2"]
                else:
                    last = f"{v['last']} {v['last2']}"
            dob_missing = rng.random() < miss["dob"]
            num, street, unit, city, state, zipc = v["addr"]
            addr_missing = rng.random() < miss["addr"]
            rid += 1
            rows.append([f"r{rid}", first, first2, last, last2,
                         "" if dob_missing else v["y"],
                         "" if dob_missing or rng.random() < 0.05 else v["m"],
                         "" if dob_missing or rng.random() < 0.05 else v["d"],
                         "" if addr_missing else num, "" if addr_missing else street,
                         blank(rng, city, 0.15), blank(rng, zipc, miss["zip"]),
                         blank(rng, v["phone"], miss["phone"]),
                         blank(rng, v["ssn"], miss["ssn"])])
            ids.append(f"r{rid}")
        groups.append(ids)
    order = list(range(len(rows)))
    rng.shuffle(order)
    d = os.path.join(out, "person_split")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "input.csv"),
          ["id", "first_name", "first_name_2", "last_name", "last_name_2", "birth_year",
           "birth_month", "birth_day", "house_number", "street", "city", "zip", "phone",
           "ssn"], [rows[i] for i in order])
    # the same rows with the columns named as an enterprise system abbreviates them
    write(os.path.join(d, "input_coded.csv"),
          ["ID", "FIRST_NM", "FIRST_NM_2", "LAST_NM", "LAST_NM_2", "BIRTH_YR", "BIRTH_MO",
           "BIRTH_DY", "HOUSE_NBR", "STREET_NM", "CITY_NM", "ZIP_CD", "PHONE_NBR", "SSN"],
          [rows[i] for i in order])
    dedup_truth(os.path.join(d, "truth.csv"), groups)


TITLE_WORDS = """system method apparatus device for controlling data processing semiconductor
wireless network image sensor optical battery vehicle medical composition polymer signal
memory circuit display audio antenna""".split()


def person_heavy(out, rng, T):
    """Dedup, ~13k mentions, a few people with 100-500 mentions, common names."""
    surnames, streets, cities, city_info = T
    sizes = cluster_sizes(rng, 13_000, heavy=8)
    people = make_people(rng, len(sizes), T, household_rate=0.0)
    orgs = [f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_KINDS)}" for _ in range(800)]
    rows, groups = [], []
    rid = 0
    for p, k in zip(people, sizes):
        # a career: a few organisations and places, co-workers, a field of classes
        career = [(rng.choice(orgs), zipf_pick(rng, cities, 0.8)) for _ in range(rng.randint(1, 3))]
        peers = [f"{zipf_pick(rng, GIVEN, 0.9)} {zipf_pick(rng, surnames, 1.0)}"
                 for _ in range(rng.randint(2, 12))]
        field = [f"{rng.choice('ABCDEFGH')}{rng.randint(1, 99):02d}{rng.choice('ABCDEFGHJK')}"
                 for _ in range(rng.randint(1, 4))]
        ids = []
        for j in range(k):
            org, city = rng.choice(career)
            state = city_info[city][0]
            first = p.first
            if p.middle and rng.random() < 0.4:
                first = f"{first} {p.middle[0] if rng.random() < 0.6 else p.middle}"
            if rng.random() < 0.08:
                first = typo(rng, first)
            last = p.last if rng.random() > 0.05 else typo(rng, p.last)
            co = rng.sample(peers, min(len(peers), rng.randint(0, 4)))
            cls = rng.sample(field, rng.randint(1, len(field)))
            rid += 1
            rows.append([f"m{rid}", first, last, blank(rng, city, 0.1), blank(rng, state, 0.1),
                         blank(rng, org, 0.3), ";".join(co), ";".join(cls)])
            ids.append(f"m{rid}")
        groups.append(ids)
    order = list(range(len(rows)))
    rng.shuffle(order)
    d = os.path.join(out, "person_heavy")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "input.csv"),
          ["mention_id", "name_first", "name_last", "city", "state", "assignee",
           "coinventors", "classes"], [rows[i] for i in order])
    dedup_truth(os.path.join(d, "truth.csv"), groups)
    # the same mentions as a patent office exports them: the patent each comes from (one
    # to four inventors a patent, never one person twice) with its filing date and
    # title, the country, and the town's coordinates (its own generator: the files
    # above stay as they were)
    who = {m: g for g, ids in enumerate(groups) for m in ids}
    prng = random.Random(SEED + 1)
    patent, n, k = {}, 0, 0
    while k < len(order):
        n += 1
        seen = set()
        filed = f"{prng.randint(1976, 2020)}-{prng.randint(1, 12):02d}-{prng.randint(1, 28):02d}"
        title = " ".join(prng.sample(TITLE_WORDS, prng.randint(3, 8)))
        for _ in range(prng.choice([1, 1, 2, 2, 3, 4])):
            if k >= len(order) or who[rows[order[k]][0]] in seen:
                break
            seen.add(who[rows[order[k]][0]])
            patent[order[k]] = [f"US{7_000_000 + 7 * n}", filed, title]
            k += 1
    where = {c: (f"{prng.uniform(25, 48):.4f}", f"{prng.uniform(-122, -70):.4f}")
             for c in sorted({r[3] for r in rows if r[3]})}
    uid = lambda: "%08x-%04x-%04x-%04x-%012x" % tuple(prng.getrandbits(b) for b in (32, 16, 16, 16, 48))
    place_id = {k: uid() for k in sorted({(r[3], r[4]) for r in rows if r[3]})}
    org_id = {o: uid() for o in sorted({r[5] for r in rows if r[5]})}
    out_rows = []
    for i in order:
        r = rows[i]
        lat, lng = where.get(r[3], ("", ""))
        country = "US" if prng.random() < 0.9 else prng.choice(["JP", "DE", "CN", "KR"])
        out_rows.append(r[:1] + patent[i] + r[1:4] + [country, lat, lng] + r[4:]
                        + [place_id.get((r[3], r[4]), ""), org_id.get(r[5], "")])
    write(os.path.join(d, "input_patents.csv"),
          ["mention_id", "patent_id", "filing_date", "patent_title", "name_first",
           "name_last", "city", "country", "latitude", "longitude", "state", "assignee",
           "coinventors", "classes", "location_id", "assignee_id"], out_rows)


def person_link(out, rng, T, skew=(0.9, 1.0), name="person_link"):
    """Link: a census-like file and a tax-like file, columns named and split differently.
    Also the left file with the name in one column (`LAST, First M` or `First M Last`)
    against the right's first and last."""
    people = make_people(rng, 9000, T, household_rate=0.35, skew=skew)
    left, right, truth = [], [], []
    for n, p in enumerate(people):
        in_l = rng.random() < 0.85
        in_r = rng.random() < 0.7
        if in_l:
            v = mention(rng, p, T, noise=0.25)
            num, street, unit, city, state, zipc = v["addr"]
            left.append([f"c{n}", v["first"], v["middle"][:1], v["last"],
                         blank(rng, f"{v['m']:02d}/{v['d']:02d}/{v['y']}", 0.2),
                         num, street, unit, city, state, blank(rng, zipc, 0.1)])
        if in_r:
            v = mention(rng, p, T, noise=0.25)
            num, street, unit, city, state, zipc = v["addr"]
            st = street.split(" ")
            street_w = " ".join(st[:-1] + [STREET_LONG.get(st[-1], st[-1])]) if rng.random() < 0.5 else street
            right.append([f"t{n}", v["first"], blank(rng, v["middle"][:1], 0.5), v["last"],
                          blank(rng, v["y"], 0.3), blank(rng, v["m"], 0.3),
                          blank(rng, v["ssn"], 0.4), num, street_w, unit.replace("apt ", "#"),
                          city, state, zipc])
        if in_l and in_r:
            truth.append((f"c{n}", f"t{n}"))
    rng.shuffle(left)
    rng.shuffle(right)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "left.csv"),
          ["id", "first_name", "middle_initial", "last_name", "date_of_birth", "street_number",
           "street_name", "unit_number", "city", "state", "zipcode"], left)
    # the whole name in one column, its form drawn apart (seeded by the rows, so the files
    # above are the draw they were)
    w = random.Random("whole:" + repr(left[:5]))
    whole = []
    for r in left:
        given = " ".join(x for x in r[1:3] if x)
        nm = f"{r[3].upper()}, {given.title()}" if w.random() < 0.5 else \
            f"{given.title()} {r[3].title()}"
        whole.append([r[0], nm] + r[4:])
    write(os.path.join(d, "left_whole.csv"),
          ["id", "name", "date_of_birth", "street_number", "street_name", "unit_number",
           "city", "state", "zipcode"], whole)
    write(os.path.join(d, "right.csv"),
          ["id", "first_name", "middle_initial", "last_name", "birth_year", "birth_month",
           "ssn", "mailing_address_street_number", "mailing_address_street_name",
           "mailing_address_unit_number", "mailing_address_city", "mailing_address_state",
           "mailing_address_zipcode"], right)
    link_truth(os.path.join(d, "truth.csv"), truth)


def person_tax_link(out, rng, T, skew=(0.9, 1.0), folder="person_tax_link", noise=0.2):
    """Link: one census-like row per person to each of their tax forms (one to many).

    The tax file carries two addresses of the same shape (the person's mailing address and
    the employer's), so a column aligner that reads names alone can pick the wrong one;
    both files carry columns the other lacks (relationship, sex, wages, employer id) and an
    age that is a year apart (census year vs tax year); half the tax forms write the ZIP+4.
    Also the tax forms without the age and birth date (forms that do not ask them): the
    name and the mailing address alone tell a person, in a file of households.
    `noise`: the rate of each mention's errors ([`mention`])."""
    surnames, streets, cities, city_info = T
    people = make_people(rng, 7000, T, household_rate=0.4, skew=skew)
    employers = []
    for _ in range(500):
        city = zipf_pick(rng, cities, 0.8)
        state, zipc = city_info[city]
        name = f"{pseudo_word(rng).capitalize()} {rng.choice(['inc', 'llc', 'corp', 'co', 'group', 'partners'])}"
        employers.append((f"e{len(employers)}", name, str(rng.randint(1, 9999)),
                          f"{rng.choice(streets)} {rng.choice(STREET_TYPES)}",
                          rng.choice(["", "", f"ste {rng.randint(100, 900)}"]), city, state, zipc))
    rel_other = ["spouse", "biological child", "roommate", "sibling", "parent", "other relative"]
    left, right, truth = [], [], []
    for n, p in enumerate(people):
        in_l = rng.random() < 0.85
        k = rng.choices([0, 1, 2, 3], weights=[0.3, 0.45, 0.2, 0.05])[0]
        if in_l:
            v = mention(rng, p, T, noise=noise)
            num, street, unit, city, state, zipc = v["addr"]
            age = census_age(p.dob)
            left.append([f"r{n}", v["first"], v["middle"][:1], v["last"], age,
                         blank(rng, f"{v['m']:02d}/{v['d']:02d}/{v['y']}", 0.05),
                         blank(rng, num, 0.05), street, unit, city, state, blank(rng, zipc, 0.03),
                         "reference person" if rng.random() < 0.45 else rng.choice(rel_other),
                         rng.choice(["male", "female"]),
                         rng.choice(["white", "black", "latino", "asian", "multiracial"]), 2020])
        jobs = [zipf_pick(rng, employers, 0.7) for _ in range(k)]
        for j, emp in enumerate(jobs):
            v = mention(rng, p, T, noise=noise)
            num, street, unit, city, state, zipc = v["addr"]
            po_box = ""
            if rng.random() < 0.04:
                po_box, num, street, unit = str(rng.randint(1, 9999)), "", "", ""
            form = "W2" if rng.random() < 0.8 else "1099"
            age = 2019 - p.dob[0] - (1 if (p.dob[1], p.dob[2]) > (12, 31) else 0)
            right.append([f"f{n}_{j}", v["first"], v["middle"][:1], v["last"], age,
                          blank(rng, f"{v['m']:02d}/{v['d']:02d}/{v['y']}", 0.05),
                          num, street, unit, po_box, city, state, zipc,
                          blank(rng, v["ssn"], 0.02), rng.randint(2000, 150000),
                          emp[0], emp[1], emp[2], emp[3], emp[4], emp[5], emp[6], emp[7],
                          form, 2019])
            if in_l:
                truth.append((f"r{n}", f"f{n}_{j}"))
    # half the tax forms write the mailing ZIP+4 (drawn apart, so the rest of the set is
    # the draw it was before this was added)
    ext = random.Random(len(right))
    for row in right:
        if row[12] and ext.random() < 0.5:
            row[12] = f"{row[12]}-{ext.randint(0, 9999):04d}"
    rng.shuffle(left)
    rng.shuffle(right)
    d = os.path.join(out, folder)
    os.makedirs(d, exist_ok=True)
    left_header = ["record_id", "first_name", "middle_initial", "last_name", "age",
                   "date_of_birth", "street_number", "street_name", "unit_number", "city",
                   "state", "zipcode", "relationship_to_reference_person", "sex",
                   "race_ethnicity", "year"]
    write(os.path.join(d, "left.csv"), left_header, left)
    header = ["form_id", "first_name", "middle_initial", "last_name", "age", "date_of_birth",
              "mailing_address_street_number", "mailing_address_street_name",
              "mailing_address_unit_number", "mailing_address_po_box", "mailing_address_city",
              "mailing_address_state", "mailing_address_zipcode", "ssn", "wages",
              "employer_id", "employer_name", "employer_street_number",
              "employer_street_name", "employer_unit_number", "employer_city",
              "employer_state", "employer_zipcode", "type_of_tax_form", "tax_year"]
    write(os.path.join(d, "right.csv"), header, right)
    # the same forms with the mailing address under short names no lexicon phrase states
    # whole (`m_city`): only the records tell it from the employer's
    short = {"street_number": "no", "street_name": "street", "unit_number": "unit",
             "zipcode": "zip"}
    renamed = [f"m_{short.get(h[16:], h[16:])}" if h.startswith("mailing_address_") else h
               for h in header]
    write(os.path.join(d, "right_renamed.csv"), renamed, right)
    # the same forms with the birth date as a spreadsheet writes a date cell formatted as
    # a number: its day number (days since 1899-12-30; `18192` for 1949-10-21)
    dob = header.index("date_of_birth")
    serial = []
    for row in right:
        row = list(row)
        if row[dob]:
            m, dd, y = (int(x) for x in row[dob].split("/"))
            row[dob] = str((datetime.date(y, m, dd) - datetime.date(1899, 12, 30)).days)
        serial.append(row)
    write(os.path.join(d, "right_serial.csv"), header, serial)
    # both files with their columns named as enterprise systems abbreviate them
    write(os.path.join(d, "left_coded.csv"),
          ["CUST_ID", "CUST_FIRST_NM", "CUST_MI", "CUST_LAST_NM", "CUST_AGE", "CUST_DOB",
           "HOUSE_NBR", "STREET_NM", "UNIT_NBR", "CITY_NM", "ST_CD", "ZIP_CD", "REL_CD",
           "SEX_CD", "RACE_CD", "YR"], left)
    write(os.path.join(d, "right_coded.csv"),
          ["FormId", "FName", "MI", "LName", "Age", "BirthDt", "MailStreetNbr",
           "MailStreetName", "MailUnit", "MailPOBox", "MailCity", "MailState", "MailZip",
           "SSN", "Wages", "EmployerId", "EmployerName", "EmployerStreetNbr",
           "EmployerStreetName", "EmployerUnit", "EmployerCity", "EmployerState",
           "EmployerZip", "FormType", "TaxYear"], right)
    # the forms with their columns named as a mainframe names them, its words written in
    # consonants (`NM_FRST`, `DT_BRTH`, `MAIL_STRT_NM`, `EMPLR_CTY`)
    write(os.path.join(d, "right_mainframe.csv"),
          ["FORM_ID", "NM_FRST", "NM_MDL_INIT", "NM_LST", "AGE_YRS", "DT_BRTH",
           "MAIL_HSE_NBR", "MAIL_STRT_NM", "MAIL_UNIT_NBR", "MAIL_PO_BOX", "MAIL_CTY",
           "MAIL_ST", "MAIL_ZIP", "ID_SSN", "AMT_WGS", "EMPLR_ID", "EMPLR_NM",
           "EMPLR_HSE_NBR", "EMPLR_STRT_NM", "EMPLR_UNIT_NBR", "EMPLR_CTY", "EMPLR_ST",
           "EMPLR_ZIP", "CD_FORM_TYP", "YR_TAX"], right)
    # the census rows with their columns named in French (`prenom`, `date_de_naissance`,
    # `code_postal`), as a French system exports them
    write(os.path.join(d, "left_french.csv"),
          ["identifiant", "prenom", "initiale", "nom", "age", "date_de_naissance",
           "numero_de_rue", "nom_de_la_rue", "appartement", "ville", "departement",
           "code_postal", "lien_avec_la_personne_de_reference", "sexe", "origine", "annee"],
          left)
    drop = {header.index("age"), header.index("date_of_birth")}
    write(os.path.join(d, "right_nodob.csv"), [h for k, h in enumerate(header) if k not in drop],
          [[x for k, x in enumerate(row) if k not in drop] for row in right])
    # both files with one given name and one surname in thirty written as registers write
    # a name not known (`FNU`, `Baby Girl`, `LNU`, `Doe`; drawn apart as above)
    p = random.Random("placeholder:" + repr(right[:5]))
    given = ["Fnu", "Nfn", "Unknown", "Baby Boy", "Baby Girl", "Mister", "Anonymous"]
    family = ["Lnu", "Nln", "Unknown", "Doe", "Anonymous"]
    for side, rows, fields in (("left", left, left_header), ("right", right, header)):
        fi, li = fields.index("first_name"), fields.index("last_name")
        noisy = []
        for row in rows:
            row = list(row)
            if p.random() < 1 / 30:
                row[fi] = p.choice(given)
            if p.random() < 1 / 30:
                row[li] = p.choice(family)
            noisy.append(row)
        write(os.path.join(d, f"{side}_placeholder.csv"), fields, noisy)
    link_truth(os.path.join(d, "truth.csv"), truth)
    # the tax forms deduplicated: the forms of one person (1-3, from as many employers;
    # the forms of people not in the census too)
    forms = {}
    for row in right:
        forms.setdefault(row[0].split("_")[0], []).append(row[0])
    dedup_truth(os.path.join(d, "forms_truth.csv"), [sorted(ids) for ids in forms.values()])


# a census row's columns (as a decennial census file names them), before the set's own
CENSUS_COLUMNS = ["record_id", "first_name", "middle_initial", "last_name", "age",
                  "date_of_birth", "street_number", "street_name", "unit_number", "city",
                  "state", "zipcode", "sex"]


def census_age(dob):
    """The age of someone born on `dob` (year, month, day) on the census day, 1 April
    2020."""
    return 2020 - dob[0] - (1 if (dob[1], dob[2]) > (4, 1) else 0)


def census_sex(rng, n, rid):
    """Person `n`'s sex as the census row `rid` reports it: the same on every row of the
    person, the other option on one row in a hundred (a wrong box ticked). Drawn apart
    from `rng`, which still draws once, so the rest of the set is the draw it was when
    each row drew a sex of its own (which made the column say nothing of a person)."""
    rng.choice(["male", "female"])
    s = random.Random(f"sex:{n}").choice(["male", "female"])
    if random.Random(f"sex:{rid}").random() < 0.01:
        s = "female" if s == "male" else "male"
    return s


def person_census(out, rng, T, rate=0.03, people=6000, folder="person_census", variants=True):
    """Dedup: a census of households (names as common as in a population) in which
    `rate` of the people were counted twice, the second row with a mention's errors
    (a move, a typo, a birth-date slip). Few duplicates among many households: the
    match class is small beside what two of a household, or two strangers of one given
    name born the same year, share; and the age sits beside the birth date it is read
    from. `people` people in `folder`; `variants`: also the same rows under other column
    names."""
    people = make_people(rng, people, T, household_rate=0.4, skew=(0.5, 0.6))
    rows, groups = [], []

    # households as make_people builds them (one address object each, the couple first)
    home, spouse = {}, {}
    for n, p in enumerate(people):
        home.setdefault(id(p.addr), []).append(n)
    for members in home.values():
        if len(members) >= 2:
            spouse[members[0]], spouse[members[1]] = members[1], members[0]
    extra = {}

    def row(rid, n, p, noise):
        v = mention(rng, p, T, noise=noise)
        num, street, unit, city, state, zipc = v["addr"]
        age = census_age(p.dob)
        # drawn apart, so input.csv is the draw it was before these columns: the
        # household's id (another where the row's person moved) and the spouse's names
        x = random.Random(f"census:{rid}")
        hh = f"h{id_of[id(p.addr)]}" if v["addr"] is p.addr else f"h{x.randint(10**5, 10**6)}"
        sp = people[spouse[n]] if n in spouse and x.random() < 0.9 else None
        extra[rid] = [hh, sp.first if sp else "", sp.last if sp else ""]
        return [rid, v["first"], v["middle"][:1], v["last"], age,
                blank(rng, f"{v['m']:02d}/{v['d']:02d}/{v['y']}", 0.05),
                blank(rng, num, 0.05), street, unit, city, state, blank(rng, zipc, 0.03),
                census_sex(rng, n, rid), 2020]

    id_of = {k: i for i, k in enumerate(home)}
    for n, p in enumerate(people):
        rows.append(row(f"r{n}", n, p, 0.05))
        if rng.random() < rate:
            rows.append(row(f"r{n}d", n, p, 0.2))
            groups.append([f"r{n}", f"r{n}d"])
    rng.shuffle(rows)
    d = os.path.join(out, folder)
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "input.csv"), CENSUS_COLUMNS + ["year"], rows)
    dedup_truth(os.path.join(d, "truth.csv"), groups)
    if not variants:
        return
    # the same rows with the household's id and the spouse's given name and surname
    # beside them (a couple's rows hold each other's names)
    write(os.path.join(d, "input_household.csv"),
          CENSUS_COLUMNS + ["year", "household_id", "spouse_first_name", "spouse_last_name"],
          [r + extra[r[0]] for r in rows])
    # the same rows with the columns named as a mainframe names them, words in consonants
    write(os.path.join(d, "input_mainframe.csv"),
          ["REC_ID", "NM_FRST", "NM_MDL_INIT", "NM_LST", "AGE", "DT_BRTH", "HSE_NBR",
           "STRT_NM", "UNIT_NBR", "CTY", "ST", "ZIP", "SX_CD", "YR"], rows)
    # the same rows under column names that say nothing (`F1` ... `F13`), as a sheet
    # exported without its header row names them
    write(os.path.join(d, "input_unnamed.csv"),
          ["record_id"] + [f"F{k}" for k in range(1, len(CENSUS_COLUMNS) + 1)], rows)
    # the same rows with the columns named in German (`Vorname`, `Geburtsdatum`, `PLZ`)
    write(os.path.join(d, "input_german.csv"),
          ["Satz_ID", "Vorname", "Zweiter_Vorname", "Nachname", "Alter", "Geburtsdatum",
           "Hausnummer", "Straße", "Wohnung", "Ort", "Bundesland", "PLZ", "Geschlecht",
           "Jahr"], rows)


def person_census_recounted(out, rng, T, rate=0.015, copied=0.01):
    """Dedup: a census of households in which `rate` of the people were counted again at
    another address (a student at college and at the parents' home, a child with each
    parent): the duplicate's address and household differ, its name and birth date
    agree. One household of ten with three or more members has twins (two children born
    on one day), and each row's birth date, and apart from it its age, is copied from
    another member of the household with probability `copied`: a pair of one surname,
    address and birth date is more often two people than one."""
    people = make_people(rng, 6000, T, household_rate=0.4, skew=(0.5, 0.6))
    home = {}
    for n, p in enumerate(people):
        home.setdefault(id(p.addr), []).append(n)
    hid = {k: i for i, k in enumerate(home)}
    for members in home.values():
        if len(members) >= 4 and rng.random() < 0.1:
            people[members[3]].dob = people[members[2]].dob
    rows, groups = [], []

    def row(rid, n, p, noise, again):
        v = mention(rng, p, T, noise=noise)
        if again:
            v["addr"] = moved(rng, p, T)
        num, street, unit, city, state, zipc = v["addr"]
        dob, age = (v["y"], v["m"], v["d"]), census_age(p.dob)
        mates = [k for k in home[id(p.addr)] if k != n]
        if mates and rng.random() < copied:
            dob = people[rng.choice(mates)].dob
        if mates and rng.random() < copied:
            age = census_age(people[rng.choice(mates)].dob)
        hh = f"h{hid[id(p.addr)]}" if v["addr"] is p.addr else f"h{rng.randint(10**5, 10**6)}"
        return [rid, v["first"], v["middle"][:1], v["last"], age,
                blank(rng, f"{dob[1]:02d}/{dob[2]:02d}/{dob[0]}", 0.01),
                blank(rng, num, 0.01), street, unit, city, state, blank(rng, zipc, 0.01),
                census_sex(rng, n, rid), hh]

    for n, p in enumerate(people):
        rows.append(row(f"r{n}", n, p, 0.02, False))
        if rng.random() < rate:
            rows.append(row(f"r{n}d", n, p, 0.05, True))
            groups.append([f"r{n}", f"r{n}d"])
    rng.shuffle(rows)
    d = os.path.join(out, "person_census_recounted")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "input.csv"), CENSUS_COLUMNS + ["household_id"], rows)
    dedup_truth(os.path.join(d, "truth.csv"), groups)


def person_register_link(out, rng, T):
    """Link: census rows (age beside the birth date `MM/DD/YYYY`, a middle initial, the
    address, a sex) to a register of identity numbers as a social-security file keeps it:
    every person, counted or not (8,000 against 5,600), with the whole middle name, the
    birth date as `YYYYMMDD`, the identity number, and one row per event (the number's
    creation, for one in twenty a death as well), each with the event's date. No address:
    name and birth date decide, and the census's age is the one report beside them."""
    people = make_people(rng, 8000, T, household_rate=0.4, skew=(0.5, 0.6))
    left, right, truth = [], [], []
    for n, p in enumerate(people):
        counted = rng.random() < 0.7
        if counted:
            v = mention(rng, p, T, noise=0.1)
            num, street, unit, city, state, zipc = v["addr"]
            age = census_age(p.dob)
            left.append([f"c{n}", v["first"], v["middle"][:1], v["last"], age,
                         blank(rng, f"{v['m']:02d}/{v['d']:02d}/{v['y']}", 0.02),
                         num, street, unit, city, state, zipc,
                         census_sex(rng, n, f"c{n}")])
        events = ["creation"] + (["death"] if rng.random() < 0.05 else [])
        for j, event in enumerate(events):
            v = mention(rng, p, T, noise=0.05)
            y, m, d = p.dob
            if event == "creation":
                on = (y + rng.choice([0, 0, 0, 1, 5, 18]), rng.randint(1, 12), rng.randint(1, 28))
            else:
                on = (rng.randint(2000, 2020), rng.randint(1, 12), rng.randint(1, 28))
            right.append([f"s{n}_{j}", v["first"], v["middle"], v["last"],
                          f"{v['y']:04d}{v['m']:02d}{v['d']:02d}", p.ssn, event,
                          f"{on[0]:04d}{on[1]:02d}{on[2]:02d}"])
            if counted:
                truth.append((f"c{n}", f"s{n}_{j}"))
    rng.shuffle(left)
    rng.shuffle(right)
    d = os.path.join(out, "person_register_link")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "left.csv"), CENSUS_COLUMNS, left)
    write(os.path.join(d, "right.csv"),
          ["ssa_id", "first_name", "middle_name", "last_name", "date_of_birth", "ssn",
           "event_type", "event_date"], right)
    link_truth(os.path.join(d, "truth.csv"), truth)


def person_names_dob(out, rng, T, skew=(0.9, 1.0), name="person_names_dob"):
    """Dedup, 10k rows that hold only a person's name parts and birth date parts: 10% of
    them a second record of a person, each with exactly one error (a name typo, a
    changed day, month or year, a dropped second name). Nothing else tells two people
    of one name and birth year apart.

    `skew`: the Zipf exponents of given names and surnames. The default makes `james` 13%
    and `smith` 10% of the records, far more than any population (a stress set: hundreds
    of same-name strangers a date digit apart); `person_names_dob_pop` draws them as a
    population has them (the commonest given name 4%, surname 1.5%)."""
    surnames, streets, cities, city_info = T
    sg, ss = skew
    n_people, n_dups = 9000, 1000
    rows, groups = [], []
    for n in range(n_people):
        first = zipf_pick(rng, GIVEN, sg)
        first2 = zipf_pick(rng, GIVEN, sg) if rng.random() < 0.05 else ""
        last = zipf_pick(rng, surnames, ss)
        last2 = zipf_pick(rng, surnames, ss) if rng.random() < 0.02 else ""
        y, m, d = rng.randint(1920, 2005), rng.randint(1, 12), rng.randint(1, 28)
        rows.append([f"p{n}", first, first2, last, last2, y, m, d])
    dup_of = rng.sample(range(n_people), n_dups)
    for k, n in enumerate(dup_of):
        r = list(rows[n])
        r[0] = f"p{n}d"
        e = rng.random()
        if e < 0.35:
            r[1] = typo(rng, r[1])
        elif e < 0.7:
            r[3] = typo(rng, r[3])
        elif e < 0.8:
            r[7] = rng.randint(1, 28)
        elif e < 0.9:
            r[6] = rng.randint(1, 12)
        else:
            r[5] = r[5] + rng.choice([-10, -1, 1, 10])
        rows.append(r)
        groups.append([f"p{n}", f"p{n}d"])
    rng.shuffle(rows)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "input.csv"),
          ["id", "fname_1", "fname_2", "lname_1", "lname_2", "by", "bm", "bd"], rows)
    # the same rows as an export that also writes the whole name (a copy of the parts)
    write(os.path.join(d, "input_full.csv"),
          ["id", "fname_1", "fname_2", "lname_1", "lname_2", "by", "bm", "bd", "full_name"],
          [r + [" ".join(str(x) for x in r[1:5] if x)] for r in rows])
    # the same rows as a register writes them: the whole name in one column, half as
    # `LAST, First` and half as `First Last`, and the birth date in one of four forms
    # (`1997-09-15`, `9/15/1997`, `15 Sep 1997`, `19970915`), drawn apart (seeded by the
    # rows, so another --seed draws them again) so the files above are the draw they were
    w = random.Random("whole:" + repr(rows[:5]))
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec"]
    whole = []
    for r in rows:
        first = " ".join(x for x in r[1:3] if x)
        last = " ".join(x for x in r[3:5] if x)
        name = f"{last.upper()}, {first.capitalize()}" if w.random() < 0.5 else \
            f"{first.capitalize()} {last.capitalize()}"
        y, m, dd = r[5], r[6], r[7]
        date = w.choice([f"{y:04d}-{m:02d}-{dd:02d}", f"{m}/{dd}/{y}",
                         f"{dd} {months[m - 1]} {y}", f"{y:04d}{m:02d}{dd:02d}"])
        whole.append([r[0], name, date])
    write(os.path.join(d, "input_whole.csv"), ["id", "name", "birth_date"], whole)
    # the same rows as a data frame writes them when its date parts have gaps: one part
    # in twenty blank, and the columns with a gap written as decimals (`1949.0`), as
    # pandas writes an integer column holding a missing value (drawn apart as above)
    g = random.Random("gaps:" + repr(rows[:5]))
    gaps = []
    for r in rows:
        r = list(r)
        for i in (5, 6, 7):
            r[i] = "" if g.random() < 0.05 else f"{r[i]}.0"
        gaps.append(r)
    write(os.path.join(d, "input_gaps.csv"),
          ["id", "fname_1", "fname_2", "lname_1", "lname_2", "by", "bm", "bd"], gaps)
    # the same rows as an export that writes the name three times over (splink's
    # historical-figures file does): the given name and surname, the two joined, and a
    # whole name with what the parts lack in some rows (a title in one in twenty, a
    # middle name in one in ten, the second names); and a sex, the same for a person's
    # records (drawn apart as above)
    t = random.Random("titled:" + repr(rows[:5]))
    sex, titled = {}, []
    for r in rows:
        s = sex.setdefault(r[0].rstrip("d"), t.choice(["f", "m"]))
        full = [x for x in r[1:5] if x]
        u = t.random()
        if u < 0.05:
            full = [t.choice(["dr", "sir", "rev", "mrs"])] + full
        elif u < 0.15:
            full = full[:1] + [zipf_pick(t, GIVEN, 1.0)] + full[1:]
        titled.append([r[0], r[1], r[3], r[5], r[6], r[7], s, f"{r[1]} {r[3]}",
                       " ".join(full)])
    write(os.path.join(d, "input_titled.csv"),
          ["id", "first_name", "surname", "birth_year", "birth_month", "birth_day", "sex",
           "first_and_surname", "full_name"], titled)
    dedup_truth(os.path.join(d, "truth.csv"), groups)


def org_dedup(out, rng, T):
    surnames, streets, cities, city_info = T
    sizes = cluster_sizes(rng, 6000, 0)
    rows, groups = [], []
    rid = 0
    for e, k in enumerate(sizes):
        words = [rng.choice(ORG_WORDS) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.3:
            words = [zipf_pick(rng, surnames, 1.0)] + words[:1]
        kind = rng.choice(ORG_KINDS)
        legal = rng.choice(LEGAL)
        city = zipf_pick(rng, cities, 0.8)
        state, zipc = city_info[city]
        addr = f"{rng.randint(1, 9999)} {rng.choice(streets)} {rng.choice(STREET_TYPES)}"
        phone = f"{rng.randint(201, 989)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        web = f"www.{''.join(words)}{kind[:4]}.com"
        ids = []
        for j in range(k):
            name_words = list(words) + [kind]
            if j and rng.random() < 0.2:
                name_words = ["".join(w[0] for w in words)] + [kind]  # acronym
            form = legal[0] if rng.random() < 0.6 else legal[1]
            if j and rng.random() < 0.3:
                form = ""
            name = " ".join(name_words + ([form] if form else []))
            if j and rng.random() < 0.25:
                name = typo(rng, name)
            if rng.random() < 0.5:
                name = name.title()
            rid += 1
            rows.append([f"o{rid}", name, blank(rng, addr if not j or rng.random() > 0.2 else
                                               f"{rng.randint(1, 9999)} {rng.choice(streets)} st", 0.4),
                         blank(rng, city, 0.2), blank(rng, state, 0.3), blank(rng, zipc, 0.4),
                         blank(rng, phone if rng.random() > 0.2 else phone.replace("-", ""), 0.5),
                         blank(rng, web, 0.6)])
            ids.append(f"o{rid}")
        groups.append(ids)
    order = list(range(len(rows)))
    rng.shuffle(order)
    d = os.path.join(out, "org_dedup")
    os.makedirs(d, exist_ok=True)
    write(os.path.join(d, "input.csv"),
          ["org_id", "company_name", "address", "city", "state", "postal_code", "telephone",
           "website"], [rows[i] for i in order])
    dedup_truth(os.path.join(d, "truth.csv"), groups)


def product_link(out, rng, T):
    left, right, truth = [], [], []
    for n in range(3000):
        brand = rng.choice(BRANDS)
        prod = rng.choice(PRODUCTS)
        adjs = rng.sample(ADJ, rng.randint(1, 3))
        model = f"{rng.choice(string.ascii_uppercase)}{rng.choice(string.ascii_uppercase)}-{rng.randint(100, 9999)}"
        price = round(rng.uniform(15, 2500), 2)
        in_l, in_r = rng.random() < 0.8, rng.random() < 0.7
        if in_l:
            left.append([f"a{n}", f"{brand} {' '.join(adjs)} {prod} {model}", brand,
                         blank(rng, f"{price:.2f}", 0.2)])
        if in_r:
            m2 = model.replace("-", "") if rng.random() < 0.4 else model.lower()
            title = f"{brand.title()} {prod.title()} {m2} - {' '.join(rng.sample(adjs, len(adjs)))}"
            if rng.random() < 0.2:
                title = typo(rng, title)
            right.append([f"b{n}", title, blank(rng, brand.title(), 0.4),
                          blank(rng, f"${price * rng.uniform(0.9, 1.1):.2f}", 0.3)])
        if in_l and in_r:
            truth.append((f"a{n}", f"b{n}"))
    write_link(os.path.join(out, "product_link"), rng,
               (["id", "title", "manufacturer", "price"], left),
               (["id", "name", "brand", "price"], right), truth)


SYNONYMS = {"laptop": "notebook", "monitor": "display", "headphones": "headset",
            "speaker": "speaker system", "camera": "digital camera", "tablet": "tablet pc",
            "router": "wireless router", "drive": "hard drive", "phone": "smartphone",
            "television": "tv", "charger": "power adapter", "mouse": "optical mouse"}
SPECS = """8-port 10/100 16gb 500gb 1tb usb 2.0 hdmi 1080p 24-inch 5.1-channel dual-band
black silver white 3-pack refurbished kit bundle""".split()
FILLER = """designed for home and office use with fast setup easy to carry reliable performance
all day battery life includes cables and quick start guide backed by a limited warranty
works with windows and mac premium build quality energy efficient""".split()


def product_catalog_link(out, rng, T):
    """Two retailers' catalogues of one range: one writes a long title (specs, then the
    model number) and a long description; the other a short title with the model number
    in the middle, its own word for the category, often a region's suffix on the code,
    and mostly no description or price. Each line has several models a digit or two
    apart, so a brand and a category say little."""
    left, right, truth = [], [], []
    n = 0
    for line in range(700):
        brand = rng.choice(BRANDS)
        prod = rng.choice(PRODUCTS)
        stem = "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.randint(2, 4)))
        series = rng.choice(ADJ).title()
        for _ in range(rng.randint(1, 4)):
            n += 1
            model = f"{stem}{rng.randint(10, 999)}{rng.choice(['', 'W', 'B', 'X'])}"
            specs = rng.sample(SPECS, rng.randint(1, 3))
            price = round(rng.uniform(15, 2500), 2)
            in_l, in_r = rng.random() < 0.8, rng.random() < 0.75
            if in_l:
                title = (f"{brand.title()} {series} {' '.join(specs)} "
                         f"{prod.title()} - {model}")
                words = title.lower().split() + rng.sample(FILLER, rng.randint(8, 20))
                rng.shuffle(words)
                left.append([f"a{n}", title, " ".join(words), f"${price:.2f}"])
            if in_r:
                code = model
                r = rng.random()
                if r < 0.3:
                    code = model + rng.choice(["NA", "/B", "US", "-R"])
                elif r < 0.45 and len(model) > 4:
                    code = f"{model[:3]}-{model[3:]}"
                cat = SYNONYMS.get(prod, prod) if rng.random() < 0.6 else prod
                extra = rng.sample(ADJ, 1)[0] if rng.random() < 0.5 else ""
                title = " ".join(w for w in [brand.title(), series, code, cat.title(), extra] if w)
                if rng.random() < 0.15:
                    title = typo(rng, title)
                desc = blank(rng, " ".join(rng.sample(FILLER, rng.randint(3, 8))), 0.6)
                right.append([f"b{n}", title, desc,
                              blank(rng, f"{price * rng.uniform(0.9, 1.1):.2f}", 0.5)])
            if in_l and in_r:
                truth.append((f"a{n}", f"b{n}"))
    header = ["id", "title", "description", "price"]
    write_link(os.path.join(out, "product_catalog_link"), rng, (header, left),
               (header, right), truth)


SUBJECTS = """home design landscape deck garden math reading writing spelling typing guitar
piano drums recipe organizer encyclopedia atlas dictionary flight train golf chess poker
photo album greeting cards resume payroll accounting ledger invoice backup antivirus
firewall mail office calendar translator language bible history science geography""".split()
TIERS = ["", "professional", "master", "ultimate", "deluxe", "essentials", "premier"]
EDITIONS = ["suite for windows", "complete package", "small box", "for mac", "win/mac",
            "jewel case", "upgrade", "academic edition", "cd-rom"]
MAKER_KINDS = ["software", "interactive", "media", "games", "learning", "development"]


def product_title_link(out, rng, T):
    """Two catalogues of one software shelf, no model numbers in the titles: the left a
    short title with the maker's short name and the maker apart; the right the maker's
    whole name, often its product code, the title, and an edition, the maker mostly not
    apart, a price up to a quarter lower. Each maker sells a series: a subject with tiers
    (`home design`, `professional home design`, `master home design`) and versions, so
    one title worded inside another is often another product."""
    left, right, truth = [], [], []
    n = 0
    for _ in range(260):
        short = pseudo_word(rng, 2, 3)
        maker = f"{short} {rng.choice(MAKER_KINDS)}"
        subjects = [" ".join(rng.sample(SUBJECTS, rng.randint(1, 2)))
                    for _ in range(rng.randint(1, 3))]
        for subject in subjects:
            tiers = rng.sample(TIERS, rng.randint(1, 4))
            for tier in tiers:
                n += 1
                version = rng.choice(["", "", "", f"{rng.randint(2, 12)}",
                                      f"{rng.randint(1, 9)}.{rng.randint(0, 5)}"])
                title = " ".join(w for w in [short, tier, subject, version] if w)
                price = round(rng.uniform(5, 400), 2)
                in_l, in_r = rng.random() < 0.8, rng.random() < 0.8
                if in_l:
                    t = title if rng.random() < 0.9 else typo(rng, title)
                    left.append([f"a{n}", t, "", blank(rng, maker, 0.1),
                                 blank(rng, f"{price:.2f}", 0.15)])
                if in_r:
                    words = [maker]
                    if rng.random() < 0.6:
                        words.append(f"{rng.randint(1, 99)}{rng.choice(['100', '200', '500'])}")
                    words.append(title)
                    if rng.random() < 0.7:
                        words.append(rng.choice(EDITIONS))
                    t = " ".join(words)
                    if rng.random() < 0.3:
                        t = t.replace(f"{short} ", f"{short}! ", 1)
                    desc = blank(rng, f"{title} " + " ".join(rng.sample(FILLER, rng.randint(4, 12))),
                                 0.5)
                    right.append([f"b{n}", t, desc, blank(rng, maker, 0.7),
                                  f"{price * rng.uniform(0.75, 1.0):.2f}"])
                if in_l and in_r:
                    truth.append((f"a{n}", f"b{n}"))
    header = ["id", "title", "description", "manufacturer", "price"]
    write_link(os.path.join(out, "product_title_link"), rng, (header, left),
               (header, right), truth)


# Independently designed person tables: concept -> column name per design. A design
# leaves out some concepts; `fmt` writes a person's value of a concept.
DESIGNS = {
    "crm": {"given": "fname", "family": "lname", "dob": "dob", "sex": "gender",
            "street": "street_addr", "city": "city", "state": "st", "zip": "zip",
            "phone": "tel", "email": "email"},
    "clinic": {"given": "given_name", "family": "family_name", "dob": "birth_date",
               "sex": "sex", "street": "address_line1", "city": "town",
               "state": "state_code", "zip": "postal_code", "phone": "phone_number",
               "email": "e_mail", "ssn": "social_security_number"},
    "hr": {"given": "FirstName", "middle": "MiddleInitial", "family": "LastName",
           "dob": "DateOfBirth", "street": "HomeAddress", "city": "HomeCity",
           "state": "Province", "zip": "PostCode", "phone": "MobilePhone",
           "email": "EmailAddress", "ssn": "SSN"},
    "voter": {"given": "first", "middle": "middle", "family": "last", "dob": "birthdate",
              "street": "residence_street", "city": "residence_city",
              "zip": "residence_zip", "phone": "contact_number"},
}


def schema_tasks(out, rng, T):
    """Schema pairs of person tables designed apart (names, formats, column subsets)."""
    people = make_people(rng, 300, T, household_rate=0.2)

    def value(p, concept, design):
        y, m, d = p.dob
        num, street, unit, city, state, zipc = p.addr
        if concept == "dob":
            return {"crm": f"{y}-{m:02d}-{d:02d}", "clinic": f"{d:02d}/{m:02d}/{y}",
                    "hr": f"{m}/{d}/{y}", "voter": f"{y}{m:02d}{d:02d}"}[design]
        if concept == "phone":
            ph = p.phone
            return {"crm": f"({ph[:3]}) {ph[3:6]}-{ph[6:]}", "clinic": ph,
                    "hr": f"{ph[:3]}.{ph[3:6]}.{ph[6:]}", "voter": f"{ph[:3]}-{ph[3:6]}-{ph[6:]}"}[design]
        return {"given": p.first, "middle": p.middle[:1], "family": p.last,
                "sex": rng.choice(["m", "f"]) if design != "clinic" else rng.choice(["male", "female"]),
                "street": f"{num} {street}", "city": city, "state": state, "zip": zipc,
                "email": p.email, "ssn": p.ssn}[concept]

    def table(design, sample):
        cols = DESIGNS[design]
        return {"name": design, "columns": [
            {"name": name, "samples": [value(p, concept, design) for p in sample]}
            for concept, name in cols.items()]}

    pairs = [("crm", "clinic"), ("crm", "hr"), ("clinic", "voter"), ("hr", "voter"),
             ("clinic", "hr"), ("crm", "voter")]
    for a, b in pairs:
        d = os.path.join(out, "sm", f"person_{a}_{b}")
        os.makedirs(d, exist_ok=True)
        sa, sb = rng.sample(people, 40), rng.sample(people, 40)
        import json
        with open(os.path.join(d, "source.json"), "w") as f:
            json.dump(table(a, sa), f, indent=1)
        with open(os.path.join(d, "target.json"), "w") as f:
            json.dump(table(b, sb), f, indent=1)
        with open(os.path.join(d, "truth.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["source", "target"])
            for concept, name in DESIGNS[a].items():
                if concept in DESIGNS[b]:
                    w.writerow([name, DESIGNS[b][concept]])


# Three groups of person-table designs as enterprise systems name their columns: role
# prefixes (`CUST_`, `emp_`, `Patient`, `claimant_`), abbreviations inside names
# (`BirthDt`, `HomePhoneNbr`, `EmailAddr`, `FIRST_NM`, `PostalCd`), one-letter codes
# (`MI`, `fn`, `ln`), labels written for people (`Town/City`, `Phone #`, `M/F`) and
# dates and phones each design writes its own way (strftime, phone layout). Every pair of
# designs within a group is one task.
NAMING_GROUPS = [
    {
        "insurer": ({"given": "Forename", "family": "Surname", "middle": "MI", "dob": "BirthDt",
                     "sex": "GenderCd", "street": "Addr1", "city": "CityName",
                     "state": "StateProv", "zip": "ZipCode", "phone": "HomePhoneNbr",
                     "email": "EmailAddr", "ssn": "SSN_Num"}, "%Y%m%d", "{a}{b}{c}"),
        "school": ({"given": "student_first_nm", "family": "student_last_nm", "dob": "birth_dt",
                    "sex": "gender", "street": "street_address", "city": "municipality",
                    "state": "st_cd", "zip": "zip5", "phone": "contact_phone",
                    "email": "email_address"}, "%m/%d/%Y", "{a}-{b}-{c}"),
        "bank": ({"given": "CUST_FIRST_NAME", "family": "CUST_LAST_NAME",
                  "middle": "CUST_MIDDLE_NAME", "dob": "CUST_DOB", "street": "ADDRESS_LINE_1",
                  "city": "CITY", "state": "STATE", "zip": "POSTAL_CD", "phone": "PRIMARY_PHONE",
                  "email": "E_MAIL_ADDR", "ssn": "TAX_ID"}, "%Y-%m-%d", "{a}{b}{c}"),
        "registry": ({"given": "person_given", "family": "person_surname", "dob": "date_born",
                      "sex": "gender_code", "street": "residence_address", "city": "locality",
                      "state": "region", "zip": "post_code", "phone": "telephone", "email": "mail",
                      "ssn": "national_id"}, "%d.%m.%Y", "+1 {a} {b} {c}"),
        "survey": ({"given": "First name", "family": "Last name", "dob": "Date of Birth",
                    "sex": "Sex", "street": "Street", "city": "Town/City", "state": "State",
                    "zip": "ZIP/Postal code", "phone": "Phone #", "email": "E-mail"},
                   "%m/%d/%Y", "({a}) {b}-{c}"),
        "payroll": ({"given": "emp_fname", "family": "emp_lname", "middle": "emp_mi",
                     "dob": "emp_birthdate", "street": "emp_addr", "city": "emp_city",
                     "state": "emp_state", "zip": "emp_zip", "phone": "emp_phone",
                     "email": "emp_email", "ssn": "emp_ssn"}, "%Y-%m-%d", "{a}.{b}.{c}"),
        "crm2": ({"given": "contactFirstName", "family": "contactLastName", "dob": "birthday",
                  "sex": "salutationGender", "street": "mailingStreet", "city": "mailingCity",
                  "state": "mailingState", "zip": "mailingPostalCode", "phone": "mobile",
                  "email": "emailAddress"}, "%d/%m/%Y", "{a}{b}{c}"),
    },
    {
        "dmv": ({"given": "FIRST_NM", "family": "LAST_NM", "middle": "MID_INIT", "dob": "DOB_DT",
                 "sex": "SEX_CD", "street": "RES_ADDR_LINE1", "city": "RES_CITY",
                 "state": "RES_ST", "zip": "RES_ZIP", "phone": "PHONE_NUM", "ssn": "SSN"},
                "%Y%m%d", "{a}{b}{c}"),
        "hospital": ({"given": "PatientFirstName", "family": "PatientLastName",
                      "dob": "PatientDOB", "sex": "PatientSex", "street": "PatientAddress",
                      "city": "PatientCity", "state": "PatientState", "zip": "PatientZip",
                      "phone": "PatientPhone", "email": "PatientEmail", "ssn": "PatientSSN"},
                     "%m/%d/%Y", "({a}) {b}-{c}"),
        "alumni": ({"given": "given names", "family": "family name", "middle": "middle initial",
                    "dob": "born on", "street": "address", "city": "city/town",
                    "state": "state/province", "zip": "postal/zip", "phone": "tel.",
                    "email": "email addr"}, "%d %b %Y", "{a}-{b}-{c}"),
        "loyalty": ({"given": "fn", "family": "ln", "dob": "bday", "sex": "gndr",
                     "street": "addr_street", "city": "addr_city", "state": "addr_state",
                     "zip": "addr_zip", "phone": "cell_no", "email": "mail_address"},
                    "%m-%d-%Y", "{a}.{b}.{c}"),
        "hr2": ({"given": "employee_first_name", "family": "employee_surname",
                 "middle": "employee_middle_name", "dob": "employee_birth_date",
                 "sex": "employee_gender", "street": "home_street", "city": "home_city",
                 "state": "home_state", "zip": "home_postcode", "phone": "home_telephone",
                 "email": "work_email", "ssn": "social_sec_no"}, "%Y-%m-%d", "+1{a}{b}{c}"),
        "census": ({"given": "fname", "family": "sname", "dob": "date_of_birth", "sex": "sex",
                    "street": "street_line", "city": "place", "state": "state_abbr",
                    "zip": "zip_code", "phone": "telephone_number"}, "%m/%d/%Y", "{a}{b}{c}"),
    },
    {
        "vendor": ({"given": "ContactFName", "family": "ContactLName", "street": "StreetAddr",
                    "city": "Town", "state": "StateCode", "zip": "PostalCd", "phone": "PhoneNo",
                    "email": "ContactEmail"}, "%Y%m%d", "{a}{b}{c}"),
        "uni": ({"given": "stu_given_nm", "family": "stu_family_nm", "middle": "stu_mid_nm",
                 "dob": "stu_dob", "sex": "stu_sex", "street": "perm_addr1", "city": "perm_city",
                 "state": "perm_state", "zip": "perm_zip", "phone": "perm_phone",
                 "email": "stu_email", "ssn": "stu_ssn"}, "%Y-%m-%d", "{a}-{b}-{c}"),
        "voter2": ({"given": "NAME_FIRST", "family": "NAME_LAST", "middle": "NAME_MIDDLE",
                    "dob": "BIRTH_DATE", "sex": "GENDER", "street": "RESIDENTIAL_ADDRESS1",
                    "city": "RESIDENTIAL_CITY", "state": "RESIDENTIAL_STATE",
                    "zip": "RESIDENTIAL_ZIP", "phone": "PHONE"}, "%m/%d/%Y", "{a}{b}{c}"),
        "gym": ({"given": "Member First", "family": "Member Last", "dob": "Birth Date",
                 "sex": "M/F", "street": "Street Address", "city": "City", "state": "St",
                 "zip": "Zip", "phone": "Cell Phone", "email": "Email Address"},
                "%b %d, %Y", "({a}) {b}-{c}"),
        "claims": ({"given": "claimant_given_name", "family": "claimant_surname",
                    "middle": "claimant_initial", "dob": "claimant_dob",
                    "sex": "claimant_gender", "street": "claimant_street",
                    "city": "claimant_city", "state": "claimant_region",
                    "zip": "claimant_postcode", "phone": "claimant_tel",
                    "email": "claimant_email", "ssn": "claimant_national_id"},
                   "%d/%m/%Y", "{a} {b} {c}"),
    },
    # a FHIR resource's element names and two mainframe designs that write their words
    # in consonants (`NM_FRST`, `PAT_BRTH_DT`; `LST`, `MDL` and `STRT` each shorten two
    # words), phones written alike in two of them
    {
        "fhir": ({"given": "given", "family": "family", "dob": "birthDate", "sex": "gender",
                  "street": "line", "city": "city", "state": "state", "zip": "postalCode",
                  "phone": "telecom", "email": "email"}, "%Y-%m-%d", "({a}) {b}-{c}"),
        "mainframe": ({"given": "NM_FRST", "family": "NM_LST", "middle": "NM_MDL",
                       "dob": "DT_BRTH", "sex": "CD_SEX", "street": "AD_LN1", "city": "AD_CTY",
                       "state": "AD_ST", "zip": "AD_ZIP", "phone": "PH_NBR", "ssn": "ID_SSN"},
                      "%Y%m%d", "({a}) {b}-{c}"),
        "clinic2": ({"given": "PAT_FRST_NM", "family": "PAT_LST_NM", "dob": "PAT_BRTH_DT",
                     "sex": "PAT_GNDR", "street": "PAT_STRT_ADDR", "city": "PAT_CTY",
                     "state": "PAT_ST", "zip": "PAT_PSTL_CD", "phone": "PAT_PHN",
                     "email": "PAT_EML"}, "%m/%d/%Y", "{a}-{b}-{c}"),
    },
    # systems of other countries, which name their columns in their own language
    # (`Vorname`, `date_de_naissance`, `codigo_postal`, `woonplaats`), beside an English one
    {
        "german": ({"given": "Vorname", "family": "Nachname", "dob": "Geburtsdatum",
                    "sex": "Geschlecht", "street": "Straße", "city": "Wohnort",
                    "state": "Bundesland", "zip": "PLZ", "phone": "Telefonnummer",
                    "email": "E-Mail", "ssn": "Steuer_ID"}, "%d.%m.%Y", "{a} {b}{c}"),
        "french": ({"given": "prenom", "family": "nom_de_famille", "middle": "deuxieme_prenom",
                    "dob": "date_de_naissance", "sex": "sexe", "street": "adresse",
                    "city": "ville", "state": "departement", "zip": "code_postal",
                    "phone": "numero_de_telephone", "email": "courriel"},
                   "%d/%m/%Y", "{a} {b} {c}"),
        "spanish": ({"given": "nombre", "family": "apellidos", "dob": "fecha_nacimiento",
                     "sex": "sexo", "street": "direccion", "city": "ciudad",
                     "state": "provincia", "zip": "codigo_postal", "phone": "telefono",
                     "email": "correo_electronico", "ssn": "dni"}, "%d/%m/%Y", "{a}{b}{c}"),
        "dutch": ({"given": "voornaam", "family": "achternaam", "dob": "geboortedatum",
                   "sex": "geslacht", "street": "straat", "city": "woonplaats",
                   "zip": "postcode", "phone": "telefoon", "email": "e-mailadres"},
                  "%d-%m-%Y", "{a}-{b}{c}"),
        "members": ({"given": "First Name", "family": "Surname", "middle": "Middle Name",
                     "dob": "Date of Birth", "sex": "Gender", "street": "Address Line 1",
                     "city": "Town", "state": "County/State", "zip": "Postcode",
                     "phone": "Phone", "email": "Email", "ssn": "National ID"},
                    "%Y-%m-%d", "({a}) {b}-{c}"),
    },
]


def schema_naming_tasks(out, rng, T):
    """Schema pairs of person tables named as enterprise systems name columns
    ([`NAMING_GROUPS`]): `sm_names/<a>_<b>`, columns in a shuffled order, values upper- or
    title-cased as some designs keep them."""
    import datetime
    import json
    people = make_people(rng, 300, T, household_rate=0.2)
    upper, title = {"bank", "dmv", "mainframe"}, {"survey", "crm2", "gym", "hospital"}

    def value(p, concept, design, date_fmt, phone_fmt):
        y, m, d = p.dob
        num, street, unit, city, state, zipc = p.addr
        if concept == "dob":
            return datetime.date(y, m, d).strftime(date_fmt)
        if concept == "phone":
            ph = p.phone
            return phone_fmt.format(a=ph[:3], b=ph[3:6], c=ph[6:])
        v = {"given": p.first, "middle": p.middle[:1], "family": p.last,
             "sex": rng.choice(["m", "f"]), "street": f"{num} {street}", "city": city,
             "state": state, "zip": zipc, "email": p.email, "ssn": p.ssn}[concept]
        if design in upper:
            v = v.upper()
        elif design in title and concept in ("given", "family", "city", "street"):
            v = v.title()
        return v

    def table(design, spec, sample):
        names, date_fmt, phone_fmt = spec
        cols = list(names.items())
        rng.shuffle(cols)
        return {"name": design, "columns": [
            {"name": n, "samples": [value(p, c, design, date_fmt, phone_fmt) for p in sample]}
            for c, n in cols]}

    for group in NAMING_GROUPS:
        designs = sorted(group)
        for i, a in enumerate(designs):
            for b in designs[i + 1:]:
                d = os.path.join(out, "sm_names", f"{a}_{b}")
                os.makedirs(d, exist_ok=True)
                sa, sb = rng.sample(people, 40), rng.sample(people, 40)
                with open(os.path.join(d, "source.json"), "w") as f:
                    json.dump(table(a, group[a], sa), f, indent=1)
                with open(os.path.join(d, "target.json"), "w") as f:
                    json.dump(table(b, group[b], sb), f, indent=1)
                with open(os.path.join(d, "truth.csv"), "w", newline="") as f:
                    w = csv.writer(f)
                    w.writerow(["source", "target"])
                    for concept, name in group[a][0].items():
                        if concept in group[b][0]:
                            w.writerow([name, group[b][0][concept]])


def main():
    args = sys.argv[1:]
    seed = SEED
    if "--seed" in args:
        k = args.index("--seed")
        seed = int(args[k + 1])
        del args[k:k + 2]
    out = args[0] if args else "bench/out/shapes"
    os.makedirs(out, exist_ok=True)
    T = tables(random.Random(seed))
    for k, fn in enumerate([person_split, person_heavy, person_link, org_dedup, product_link,
                            schema_tasks, person_tax_link, person_names_dob]):
        fn(out, random.Random(seed + k + 1), T)
    # name frequencies as a population has them (drawn apart: the sets above are as before)
    person_names_dob(out, random.Random(seed + 100), T, skew=(0.5, 0.6),
                     name="person_names_dob_pop")
    person_link(out, random.Random(seed + 101), T, skew=(0.5, 0.6), name="person_link_pop")
    person_tax_link(out, random.Random(seed + 102), T, skew=(0.5, 0.6),
                    folder="person_tax_link_pop")
    person_tax_link(out, random.Random(seed + 103), T, skew=(0.5, 0.6),
                    folder="person_tax_link_pop_clean", noise=0.05)
    schema_naming_tasks(out, random.Random(seed + 104), T)
    product_catalog_link(out, random.Random(seed + 105), T)
    product_title_link(out, random.Random(seed + 106), T)
    person_census(out, random.Random(seed + 107), T)
    person_census_recounted(out, random.Random(seed + 108), T)
    person_register_link(out, random.Random(seed + 109), T)
    # a census four times as large: chance coincidences grow with the square of the rows
    person_census(out, random.Random(seed + 110), T, people=24000,
                  folder="person_census_large", variants=False)
    print(out)


if __name__ == "__main__":
    main()
