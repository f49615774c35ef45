#!/usr/bin/env python3
"""Summarises bench/scan-eval.sh: recall, false-positive rates, per-rule hits, slowest
packages, whole-process times, and GuardDog side by side. Reads palisade's
`scan --format json` reports and GuardDog's per-package JSON lines."""

import argparse
import collections
import json


def load(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text) if text.strip() else {"results": [], "errors": []}


def rule_packages(results):
    """rule -> list of package ids whose findings include it."""
    hits = collections.defaultdict(list)
    for r in results:
        pid = f'{r["package"]["name"]}@{r["package"]["version"]}'
        for rule in sorted({f["rule"] for f in r.get("findings", [])}):
            hits[rule].append((pid, r["verdict"]))
    return hits


def pct(n, d):
    return f"{100.0 * n / d:5.1f}%" if d else "  n/a"


def guarddog_flagged(line):
    """GuardDog's JSON: `issues` counts rule hits; any hit = flagged."""
    try:
        doc = json.loads(line["output"])
    except (ValueError, TypeError):
        return None
    if isinstance(doc, dict) and doc.get("issues") is not None:
        rules = sorted(k for k, v in (doc.get("results") or {}).items() if v)
        label = ((doc.get("risk_score") or {}).get("label") or "none").lower()
        return doc["issues"] > 0, rules, label
    return None


def load_guarddog(path):
    rows = []
    if not path:
        return rows
    with open(path) as f:
        for raw in f:
            raw = raw.strip()
            if raw:
                rows.append(json.loads(raw))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--malicious", required=True)
    ap.add_argument("--popular", required=True)
    ap.add_argument("--malicious-seconds", type=float, default=0)
    ap.add_argument("--popular-seconds", type=float, default=0)
    ap.add_argument("--warm-seconds", type=float, default=0)
    ap.add_argument("--popular-count", type=int, default=0)
    ap.add_argument("--guarddog-malicious")
    ap.add_argument("--guarddog-popular")
    args = ap.parse_args()

    mal = load(args.malicious)
    pop = load(args.popular)
    mres, pres = mal["results"], pop["results"]
    verdicts = lambda rs, v: sum(1 for r in rs if r["verdict"] == v)

    print("\n== palisade: malicious side (corpus, in memory) ==")
    n = len(mres)
    m, s = verdicts(mres, "malicious"), verdicts(mres, "suspicious")
    print(f"samples scanned: {n}   unreadable: {len(mal.get('errors', []))}")
    print(f"recall (malicious):               {m}/{n} {pct(m, n)}")
    print(f"recall (malicious or suspicious): {m + s}/{n} {pct(m + s, n)}")
    missed = [r for r in mres if r["verdict"] != "malicious"]
    for r in missed:
        rules = sorted({f["rule"] for f in r.get("findings", [])})
        print(f"  not malicious: {r['target']} -> {r['verdict']} {rules}")

    print("\n== palisade: benign side (popular packages) ==")
    n = len(pres)
    m, s = verdicts(pres, "malicious"), verdicts(pres, "suspicious")
    print(f"packages scanned: {n} of {args.popular_count}   unreadable: {len(pop.get('errors', []))}")
    print(f"false positives (malicious):  {m}/{n} {pct(m, n)}   (target <= 1%)")
    print(f"false positives (suspicious): {s}/{n} {pct(s, n)}   (target <= 5%)")
    for r in pres:
        if r["verdict"] != "clean":
            rules = sorted({f["rule"] for f in r.get("findings", []) if f["severity"] in ("high", "critical")})
            print(f"  {r['verdict']:<10} {r['package']['name']}@{r['package']['version']} {rules}")

    print("\n== per-rule hits (packages): corpus | popular (non-clean popular packages listed) ==")
    mh, ph = rule_packages(mres), rule_packages(pres)
    for rule in sorted(set(mh) | set(ph)):
        flagged = [pid for pid, v in ph.get(rule, []) if v != "clean"]
        line = f"  {rule:<36} {len(mh.get(rule, [])):>4} | {len(ph.get(rule, [])):>4}"
        if flagged:
            line += "   " + ", ".join(flagged[:8]) + (" …" if len(flagged) > 8 else "")
        print(line)

    print("\n== slowest packages (extract + analyse, ms) ==")
    for r in sorted(mres + pres, key=lambda r: -r.get("scan_ms", 0))[:10]:
        mb = r.get("bytes_scanned", 0) / 1e6
        print(f"  {r.get('scan_ms', 0):9.1f}  {r['package']['name']}@{r['package']['version']}  ({mb:.1f} MB, {r.get('files_scanned', 0)} files)")
    total_ms = sum(r.get("scan_ms", 0) for r in pres)
    total_mb = sum(r.get("bytes_scanned", 0) for r in pres) / 1e6
    print(f"\nwhole process: corpus {args.malicious_seconds:.2f} s; popular {args.popular_seconds:.2f} s from cache "
          f"({args.warm_seconds:.1f} s with registry fetches); per-package extract+analyse sum {total_ms / 1000:.2f} s "
          f"over {total_mb:.0f} MB")

    gm, gp = load_guarddog(args.guarddog_malicious), load_guarddog(args.guarddog_popular)
    if gm or gp:
        print("\n== GuardDog (any finding = flagged) ==")
        flagged = [guarddog_flagged(r) for r in gm]
        ok = [f for f in flagged if f is not None]
        hit = sum(1 for f in ok if f[0])
        gm_s = sum(r["seconds"] for r in gm)
        high = sum(1 for f in ok if f[2] in ("high", "critical"))
        print(f"corpus: flagged {hit}/{len(gm)} {pct(hit, len(gm))} (errors: {len(gm) - len(ok)}), "
              f"risk label high/critical {high}/{len(gm)}, {gm_s:.1f} s")
        flagged = [guarddog_flagged(r) for r in gp]
        ok = [f for f in flagged if f is not None]
        fp = sum(1 for f in ok if f[0])
        gp_s = sum(r["seconds"] for r in gp)
        high_p = sum(1 for f in ok if f[2] in ("high", "critical"))
        print(f"popular: flagged {fp}/{len(gp)} {pct(fp, len(gp))} (errors: {len(gp) - len(ok)}), "
              f"risk label high/critical {high_p}/{len(gp)}, {gp_s:.1f} s ({gp_s / max(len(gp), 1):.2f} s/package)")
        counts = collections.Counter(rule for f in ok for rule in f[1])
        print("  GuardDog rules on popular: " + ", ".join(f"{k} {v}" for k, v in counts.most_common(10)))
        if gp and pres:
            per_gd = gp_s / len(gp)
            per_pal = args.popular_seconds / len(pres)
            print(f"\nratio (popular, whole process per package): GuardDog {per_gd:.3f} s vs palisade {per_pal * 1000:.1f} ms "
                  f"= {per_gd / per_pal:.0f}x faster (GuardDog scaled to {len(pres)} packages: {per_gd * len(pres):.0f} s "
                  f"vs {args.popular_seconds:.2f} s)")
            pal_fp_first = sum(1 for r in pres[: len(gp)] if r["verdict"] != "clean")
            print(f"on the same first {len(gp)} popular packages: palisade non-clean {pal_fp_first}, GuardDog flagged {fp}")
        if gm and mres:
            print(f"corpus recall: palisade malicious {verdicts(mres, 'malicious')}/{len(mres)}, "
                  f"GuardDog flagged {hit}/{len(gm)}")


if __name__ == "__main__":
    main()
