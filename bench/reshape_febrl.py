#!/usr/bin/env python3
"""Febrl drawn again in the shapes real files take, to check that the engine's defaults
hold on files laid out unlike the ones it was developed on (bench/quality.sh).

  febrl2_sparse/    dedup: a third of each field blank (a tenth of surnames), street,
                    locality, postcode and state in one address column, ISO dates, the
                    identity number under a name that says nothing ("phone_or_ssn")
  febrl3_renamed/   dedup: given name and surname in one "Full Name" column, the street
                    joined, the birth date as three integer columns ("Birth Y/M/D"), the
                    identity number as "Tax No", the id column last, rows shuffled
  febrl4_reshaped/  link: the right file with a whole name, the number in the street,
                    DD/MM/YYYY dates and its own column names; the left file as shipped
  febrl4_sparse/    link: both files as shipped but with a third of every field blank
  febrl3_worded/    dedup: the whole name as "SURNAME, Given", the street joined in title
                    case, state and postcode in one column, the birth date with its month
                    as a word ("Jul 22, 1922"), the identity number as "Member No"
                    written 123-4567, rows shuffled
  febrl4_postal/    link: the right file with the whole address in one column ("Postal
                    Address": street, locality, "STATE postcode"), names with titles and
                    a third in capitals, birth dates in three forms in one column, the
                    identity number as "ID Number"; the left file as shipped
  febrl2_titled/    dedup: the name in a column called "Customer" with titles (Mr, Dr)
                    and mixed case, the whole address in one column, birth dates in three
                    forms, the identity number as "Medicare No"
  febrl4_exported/  link: the right file as a database or pandas export writes it (numbers
                    as floats, `NaN` and `NULL` for blanks, birth dates with a midnight
                    time); the left file as shipped
  febrl4_jsonl/     link: the right file as JSON Lines from a legacy system (nested name
                    and address, numbers as numbers, capitals, M/D/YY birth dates); the
                    left file as shipped
  febrl3_crm/       dedup: Febrl 3 as shipped with eight columns of an order export beside
                    it (amount, status, channel, timestamp, notes, order number, score,
                    segment), random, so that duplicates agree on them only by chance

Usage: reshape_febrl.py <febrl dir (tests/data/cache/febrl)> <out dir> [--seed N]
"""
import csv
import json
import os
import random
import sys


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, skipinitialspace=True))


def write(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def joined(*parts, sep=" "):
    return sep.join(p.strip() for p in parts if p and p.strip())


LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]


def customer_row(x, rnd, recase):
    """A Febrl record as a customer file holds it: id, a title before the whole name
    (cased by `recase(name, k)`, k drawn at random), the birth date in one of three forms
    (ISO, DD/MM/YYYY, "7 June 1958"), the whole address in one column, the identity
    number."""
    name = joined(rnd.choice(["Mr", "Mrs", "Ms", "Dr", "", "", "", ""]), x["given_name"],
                  x["surname"])
    name = recase(name, rnd.random())
    d = x["date_of_birth"].strip()
    dob = ""
    if len(d) == 8 and d.isdigit() and 1 <= int(d[4:6]) <= 12:
        k = rnd.random()
        if k < 0.4:
            dob = f"{d[:4]}-{d[4:6]}-{d[6:]}"
        elif k < 0.8:
            dob = f"{d[6:]}/{d[4:6]}/{d[:4]}"
        else:
            dob = f"{int(d[6:])} {LONG_MONTHS[int(d[4:6]) - 1]} {d[:4]}"
    address = joined(joined(x["street_number"], x["address_1"]), x["address_2"], x["suburb"],
                     joined(x["state"].upper(), x["postcode"]), sep=", ")
    return [x["rec_id"], name, address, dob, x["soc_sec_id"]]


def main():
    args = sys.argv[1:]
    seed = 9
    if "--seed" in args:
        k = args.index("--seed")
        seed = int(args[k + 1])
        del args[k : k + 2]
    src, out = args
    rnd = random.Random(seed)

    def blank(v, p=0.35):
        return "" if rnd.random() < p else v

    rows = read(os.path.join(src, "dataset2.csv"))
    body = []
    for x in rows:
        street = joined(x["street_number"], x["address_1"])
        locality = joined(x["suburb"], x["postcode"], x["state"])
        address = joined(street, x["address_2"], locality, sep=", ")
        d = x["date_of_birth"].strip()
        dob = f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else ""
        body.append([x["rec_id"], blank(x["given_name"]), blank(x["surname"], 0.1),
                     blank(address), blank(dob), blank(x["soc_sec_id"])])
    write(os.path.join(out, "febrl2_sparse", "input.csv"),
          ["id", "first", "last", "address", "dob", "phone_or_ssn"], body)

    rows = read(os.path.join(src, "dataset3.csv"))
    rnd.shuffle(rows)
    body = []
    for x in rows:
        d = x["date_of_birth"].strip()
        y, m, dd = (d[:4], d[4:6].lstrip("0"), d[6:8].lstrip("0")) if len(d) == 8 else ("", "", "")
        body.append([joined(x["given_name"], x["surname"]),
                     joined(x["street_number"], x["address_1"], x["address_2"]),
                     x["suburb"], x["postcode"], x["state"], y, m, dd, x["soc_sec_id"], x["rec_id"]])
    write(os.path.join(out, "febrl3_renamed", "input.csv"),
          ["Full Name", "Addr", "Town", "ZIP", "State", "Birth Y", "Birth M", "Birth D",
           "Tax No", "rec_id"], body)

    rows = read(os.path.join(src, "dataset4b.csv"))
    rnd.shuffle(rows)
    body = []
    for x in rows:
        d = x["date_of_birth"].strip()
        dob = f"{d[6:8]}/{d[4:6]}/{d[:4]}" if len(d) == 8 else ""
        body.append([x["rec_id"], joined(x["given_name"], x["surname"]),
                     joined(x["street_number"], x["address_1"]), x["address_2"], x["suburb"],
                     x["postcode"], x["state"], dob, x["soc_sec_id"]])
    write(os.path.join(out, "febrl4_reshaped", "right.csv"),
          ["RecordID", "Name", "Street", "Address line 2", "City", "Post Code", "Region",
           "DOB", "SSN"], body)

    for side in "ab":
        rows = read(os.path.join(src, f"dataset4{side}.csv"))
        header = list(rows[0].keys())
        body = [[x[k] if k == "rec_id" else blank(x[k]) for k in header] for x in rows]
        write(os.path.join(out, "febrl4_sparse", f"{side}.csv"), header, body)

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    rows = read(os.path.join(src, "dataset3.csv"))
    rnd.shuffle(rows)
    body = []
    for x in rows:
        d = x["date_of_birth"].strip()
        born = ""
        if len(d) == 8 and d.isdigit() and 1 <= int(d[4:6]) <= 12:
            born = f"{months[int(d[4:6]) - 1]} {int(d[6:8])}, {d[:4]}"
        ssn = x["soc_sec_id"].strip()
        if len(ssn) == 7:
            ssn = f"{ssn[:3]}-{ssn[3:]}"
        body.append([x["rec_id"], joined(x["surname"].upper(), x["given_name"].title(), sep=", "),
                     joined(x["street_number"], x["address_1"].title(), x["address_2"].title()),
                     x["suburb"].upper(), joined(x["state"].upper(), x["postcode"]), born, ssn])
    write(os.path.join(out, "febrl3_worded", "input.csv"),
          ["Record", "Name", "Street Address", "Town", "State/Postcode", "Born", "Member No"],
          body)

    rows = read(os.path.join(src, "dataset4b.csv"))
    rnd.shuffle(rows)
    body = [customer_row(x, rnd, lambda n, k: n.upper() if k < 0.3 else n) for x in rows]
    write(os.path.join(out, "febrl4_postal", "right.csv"),
          ["Customer Ref", "Customer Name", "Postal Address", "Date of Birth", "ID Number"],
          body)

    rows = read(os.path.join(src, "dataset2.csv"))
    rnd.shuffle(rows)
    body = [customer_row(x, rnd, lambda n, k: n.upper() if k < 0.3 else n.title() if k < 0.6
                         else n) for x in rows]
    write(os.path.join(out, "febrl2_titled", "input.csv"),
          ["Ref", "Customer", "Address", "Birth Date", "Medicare No"], body)

    # a database or pandas export: whole numbers written as floats and blanks as NaN
    # (an integer column with a blank in it), NULL for a blank text, birth dates with a
    # midnight time in two forms
    rows = read(os.path.join(src, "dataset4b.csv"))
    rnd.shuffle(rows)
    body = []
    for x in rows:
        row = []
        for k in x:
            v = x[k].strip()
            if k in ("street_number", "postcode", "soc_sec_id"):
                v = f"{int(v)}.0" if v.isdigit() else "NaN"
            elif k == "date_of_birth" and len(v) == 8:
                sep, zone = (" ", "") if rnd.random() < 0.5 else ("T", "Z")
                v = f"{v[:4]}-{v[4:6]}-{v[6:]}{sep}00:00:00{zone}"
            elif not v:
                v = "NULL"
            row.append(v)
        body.append(row)
    write(os.path.join(out, "febrl4_exported", "right.csv"), list(rows[0].keys()), body)

    # a legacy system's records as an API dumps them: JSON Lines, the name and address as
    # nested objects, numbers as JSON numbers (a postcode loses its leading zero), names
    # in capitals, birth dates month first with a two-digit year, blanks as null
    rows = read(os.path.join(src, "dataset4b.csv"))
    rnd.shuffle(rows)
    os.makedirs(os.path.join(out, "febrl4_jsonl"), exist_ok=True)
    with open(os.path.join(out, "febrl4_jsonl", "right.jsonl"), "w") as f:
        for x in rows:
            v = {k: (x[k].strip() or None) for k in x}
            num = lambda s: int(s) if s and s.isdigit() else None
            d = v["date_of_birth"] or ""
            dob = f"{int(d[4:6])}/{int(d[6:])}/{d[2:4]}" if len(d) == 8 and d.isdigit() else None
            upper = lambda s: s.upper() if s else None
            f.write(json.dumps({
                "customer_id": v["rec_id"],
                "name": {"first": upper(v["given_name"]), "last": upper(v["surname"])},
                "birth_date": dob,
                "address": {"number": num(v["street_number"]), "street": v["address_1"],
                            "line2": v["address_2"], "suburb": v["suburb"],
                            "postcode": num(v["postcode"]), "state": v["state"]},
                "ssn": num(v["soc_sec_id"]),
            }) + "\n")

    # a CRM export: Febrl 3 as shipped, with eight columns of the orders beside it
    rows = read(os.path.join(src, "dataset3.csv"))
    header = list(rows[0].keys()) + ["amount", "status", "channel", "created_at", "notes",
                                     "order_ref", "score", "segment"]
    body = [[x[k].strip() for k in rows[0]] + crm_columns(rnd) for x in rows]
    write(os.path.join(out, "febrl3_crm", "input.csv"), header, body)


def crm_columns(rnd):
    """The columns of an order or CRM export beside a customer's identity: an amount, a
    status, a channel, a timestamp, free notes, a reference number, a score, a segment.
    Drawn at random: two records of one customer agree on them only by chance."""
    words = "call back later paid overdue new vip account closed open refund sent".split()
    return [f"{rnd.uniform(1, 5000):.2f}", rnd.choice(["active", "inactive", "pending"]),
            rnd.choice(["web", "phone", "store", "email", "partner"]),
            f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} "
            f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:00",
            " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 6))),
            f"R{rnd.randint(100000, 999999)}", str(rnd.randint(0, 100)),
            rnd.choice(["a", "b", "c", "d"])]


if __name__ == "__main__":
    main()
