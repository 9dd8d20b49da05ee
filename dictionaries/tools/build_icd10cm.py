#!/usr/bin/env python3
"""Build dictionaries/icd10cm.tsv.gz from ICD-10-CM releases shipped in the
PyPI package `simple-icd-10-cm` (CDC/CMS tabular XML + code list files).

Stdlib only.  Usage:

    python3 build_icd10cm.py [-o OUT.tsv.gz] [--check] DIR[@YYYY-MM-DD] ...

Each DIR is an unpacked wheel (or its simple_icd_10_cm/data folder) holding
one ICD-10-CM release:
  * a tabular XML  (icd10cm_tabular_2021.xml, icd10cm-tabular-April-2025.xml,
    icd10c-tabular-April-1-2026.xml, ...), and
  * either a CMS "order" file (icd10cm-order-*.txt: fixed width, with the
    billable flag and the long title) or the package's code list
    (code-list-*.txt: one undotted code per line, incl. chapters/blocks).

Release start date: taken from the file names (Jan/January-YYYY -> YYYY-01-01,
Apr/April[-1]-YYYY -> YYYY-04-01, Oct/October-YYYY -> YYYY-10-01); if no month
is named, the XML <version> N gives the FY release start (N-1)-10-01.  It can
be forced with DIR@YYYY-MM-DD.  The release is in force until FY-09-30 where
FY is the XML <version> (checked to be consistent with the start date).

Per release, the set of codes and their billable flag is:
  * order file present: taken verbatim from it (flag column, long title);
  * otherwise: every <diag> of the XML (category/subcategory headers
    included), plus the 7th-character codes generated from the nearest
    <sevenChrDef> for leaf diags (placeholder X padding to 6 characters),
    keeping only generated codes that appear in the code list (same rule as
    the simple_icd_10_cm library).  billable = the code has no child code.
    Title = XML <desc> (generated codes: "<parent desc>, <7th char desc>").
When both an order file and a code list exist, the order file wins.  With
--check the XML-derived set is also compared to the order file.

Rows: consecutive releases (in the order given by start date) in which a code
is present with the same billable flag are merged into one period.
valid_from = start of the first release of the period; valid_to = last day of
the last release of the period (FY-09-30), empty if that is the newest release.
Title = the title in the newest release of the period.
"""
import argparse
import datetime as dt
import gzip
import io
import os
import re
import sys
import xml.etree.ElementTree as ET

MONTHS = {"jan": 1, "january": 1, "apr": 4, "april": 4, "oct": 10, "october": 10}


def clean(s):
    return " ".join((s or "").replace("\t", " ").replace("\r", " ").replace("\n", " ").split())


def dotted(code):
    code = code.strip().upper().replace(".", "")
    return code if len(code) <= 3 else code[:3] + "." + code[3:]


def find_files(d):
    xml = order = clist = None
    for root, _dirs, files in os.walk(d):
        for f in sorted(files):
            p = os.path.join(root, f)
            lf = f.lower()
            if lf.endswith(".xml") and "tabular" in lf:
                xml = xml or p
            elif lf.endswith(".txt") and "order" in lf:
                order = order or p
            elif lf.endswith(".txt") and ("code-list" in lf or "codes" in lf):
                clist = clist or p
    if not xml:
        sys.exit(f"no tabular XML found under {d}")
    if not (order or clist):
        sys.exit(f"no order file / code list found under {d}")
    return xml, order, clist


def start_from_names(names):
    for n in names:
        m = re.search(r"(jan(?:uary)?|apr(?:il)?|oct(?:ober)?)[-_ ]?(?:1[-_ ])?(20\d\d)", os.path.basename(n), re.I)
        if m:
            return dt.date(int(m.group(2)), MONTHS[m.group(1).lower()], 1)
    return None


def parse_xml(path, confirmed):
    """Return (fy_version, {code: (billable, title)}) from a tabular XML.
    confirmed: set of undotted codes allowed for generated 7th-char codes."""
    root = ET.parse(path).getroot()
    version = int(root.findtext("version").strip())
    out = {}

    def walk(diag, seven):
        name = dotted(diag.findtext("name"))
        desc = clean(diag.findtext("desc"))
        sd = diag.find("sevenChrDef")
        if sd is not None:
            seven = [(e.get("char"), clean(e.text)) for e in sd.findall("extension")]
        kids = diag.findall("diag")
        for k in kids:
            walk(k, seven)
        gen = []
        if not kids and seven and len(name.replace(".", "")) < 7:
            base = name if "." in name else name + "."
            base = base.ljust(7, "X")
            for ch, chdesc in seven:
                c = base + ch
                if c.replace(".", "") in confirmed:
                    gen.append(c)
                    out[c] = (1, clean(desc + ", " + chdesc))
        out[name] = (0 if (kids or gen) else 1, desc)

    for chapter in root.findall("chapter"):
        for section in chapter.findall("section"):
            for diag in section.findall("diag"):
                walk(diag, None)
    return version, out


def parse_order(path):
    out = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if len(line) < 16:
                continue
            code = line[6:13].strip()
            flag = line[14]
            title = clean(line[77:]) or clean(line[16:76])
            out[dotted(code)] = (int(flag), title)
    return out


def parse_codelist(path):
    s = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            tok = line.strip().split(" ")[0]
            if tok:
                s.add(tok.replace(".", "").upper())
    return s


def load_release(arg, check):
    d, _, forced = arg.partition("@")
    xml, order, clist = find_files(d)
    if order:
        order_codes = parse_order(order)
        confirmed = {c.replace(".", "") for c in order_codes}
    else:
        confirmed = parse_codelist(clist)
    version, xml_codes = parse_xml(xml, confirmed)
    start = dt.date.fromisoformat(forced) if forced else (
        start_from_names([order or "", clist or "", xml]) or dt.date(version - 1, 10, 1))
    fy = start.year + 1 if start.month >= 10 else start.year
    if fy != version:
        sys.exit(f"{d}: start {start} is in FY{fy} but XML <version> is {version}")
    end = dt.date(version, 9, 30)
    codes = order_codes if order else xml_codes
    label = f"FY{version} release in force from {start}"
    if check:
        print(f"# {label}: {len(codes)} codes ({sum(b for b, _ in codes.values())} billable)"
              f" from {os.path.basename(order or xml)}", file=sys.stderr)
        if order:
            a, b = set(xml_codes), set(order_codes)
            print(f"#   XML-derived vs order file: {len(a - b)} only-XML, {len(b - a)} only-order, "
                  f"{sum(1 for c in a & b if xml_codes[c][0] != order_codes[c][0])} billable mismatches, "
                  f"{sum(1 for c in a & b if xml_codes[c][1] != order_codes[c][1])} title mismatches",
                  file=sys.stderr)
        else:
            listed = {c for c in confirmed if "-" not in c and not c.isdigit()}
            a = {c.replace(".", "") for c in codes}
            print(f"#   XML-derived vs code list: {len(a - listed)} only-XML, {len(listed - a)} only-list",
                  file=sys.stderr)
    return {"start": start, "end": end, "fy": version, "codes": codes, "dir": d}


def build(releases):
    releases.sort(key=lambda r: r["start"])
    newest = len(releases) - 1
    rows = []
    allcodes = set().union(*(r["codes"] for r in releases))
    for code in allcodes:
        run = None  # [billable, first_idx, last_idx]
        for i, r in enumerate(releases + [None]):
            cur = r["codes"].get(code) if r else None
            if run and (cur is None or cur[0] != run[0]):
                b, i0, i1 = run
                vt = "" if i1 == newest else releases[i1]["end"].isoformat()
                rows.append((code, releases[i0]["start"].isoformat(), vt, b, releases[i1]["codes"][code][1]))
                run = None
            if cur is not None:
                if run is None:
                    run = [cur[0], i, i]
                else:
                    run[2] = i
    rows.sort(key=lambda t: (t[0], t[1]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", help="release dir, optionally DIR@YYYY-MM-DD to force the start date")
    ap.add_argument("-o", "--output", default="icd10cm.tsv.gz")
    ap.add_argument("--check", action="store_true", help="print per-release audit and fact checks to stderr")
    a = ap.parse_args()
    releases = [load_release(d, a.check) for d in a.dirs]
    rows = build(releases)
    buf = io.StringIO()
    buf.write("code\tvalid_from\tvalid_to\tbillable\ttitle\n")
    for code, vf, vt, b, title in rows:
        buf.write(f"{code}\t{vf}\t{vt}\t{b}\t{title}\n")
    with open(a.output, "wb") as f:
        # mtime=0 and no file name -> byte-identical rebuilds
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
            g.write(buf.getvalue().encode("utf-8"))
    print(f"wrote {a.output}: {len(rows)} rows, {len({r[0] for r in rows})} codes", file=sys.stderr)
    if a.check:
        by = {}
        for r in rows:
            by.setdefault(r[0], []).append(r)
        for c in ["F33.89", "F32.A", "F32.3", "F33.8", "F32.89", "F32.8", "F33.4", "R45.851", "T14.91XA"]:
            print(f"# check {c}: {by.get(c, 'ABSENT')}", file=sys.stderr)


if __name__ == "__main__":
    main()
