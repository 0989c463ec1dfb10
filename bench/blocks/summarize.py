#!/usr/bin/env python3
"""summarize.py - medians of run.sh's results.txt as the README's tables.

    bench/blocks/summarize.py WORKDIR/results.txt
"""
import statistics
import sys
from collections import OrderedDict

CONFIG = ["sorted", "pack", "layout", "comp", "block_kib", "key", "threads", "page", "lines"]


def load(path):
    runs, base = OrderedDict(), []
    for line in open(path):
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if line.startswith("baseline"):
            base.append(f)
            continue
        if "layout" not in f:
            continue
        runs.setdefault(tuple(f[k] for k in CONFIG), []).append(f)
    return runs, base


def med(rs, k):
    return statistics.median(float(r[k]) for r in rs)


def main():
    runs, base = load(sys.argv[1])
    if base:
        imp = statistics.median(float(b["import_s"]) for b in base)
        rate = statistics.median(float(b["rate_s"]) for b in base)
        tot = statistics.median(float(b["import_s"]) + float(b["rate_s"]) for b in base)
        print(f"SQL baseline (n={len(base)}): import {imp:.2f} s, rate {rate:.2f} s, "
              f"total {tot:.2f} s; 5x = {tot / 5:.2f} s, 10x = {tot / 10:.2f} s\n")
    print("| N | layout | comp | block KiB | widths | key | threads | reps | write s (cpu s) "
          "| write CDRs/s | parse s | dup s | encode s | commit+fsync s | CDR B | rating B "
          "| disk B/CDR | read CDRs/s (cpu) | RSS MB |")
    print("|---|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cfg, rs in runs.items():
        c = dict(zip(CONFIG, cfg))
        n = int(c["lines"])
        lay = c["layout"] + (f" p{int(c['page']) // 1024}k" if c["page"] != "0" else "")
        print(f"| {n / 1e6:.0f}M | {lay} | {c['comp']} | {c['block_kib']} "
              f"| {'packed' if c['pack'] == '1' else 'natural'} | {c['key']} | {c['threads']} "
              f"| {len(rs)} | {med(rs, 'write_s'):.2f} ({med(rs, 'write_cpu_s'):.2f}) "
              f"| {med(rs, 'write_cdrs_s') / 1e3:.0f}k | {med(rs, 'parse_s'):.2f} "
              f"| {med(rs, 'dup_s'):.2f} | {med(rs, 'enc_s'):.2f} "
              f"| {med(rs, 'commit_s') + med(rs, 'fsync_s'):.2f} "
              f"| {med(rs, 'stored_cdr_B'):.1f} | {med(rs, 'stored_rating_B'):.1f} "
              f"| {med(rs, 'disk_B_per_cdr'):.1f} "
              f"| {med(rs, 'read_cdrs_s') / 1e6:.2f}M ({med(rs, 'read_cpu_cdrs_s') / 1e6:.2f}M) "
              f"| {med(rs, 'rss_write_MB'):.0f} |")
    print()
    print("| N | layout | comp | reps | batch dup ns/CDR, first 10% of batches | last 10% "
          "| re-sent 100k lines, ns/line | lone miss probe ns | lone hit, blocks in order us "
          "| lone hit, random block us | index MB in memory | max runs | index write amp "
          "| collisions |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cfg, rs in runs.items():
        c = dict(zip(CONFIG, cfg))
        rs = [r for r in rs if float(r.get("miss_ns", 0)) > 0]
        if not rs:
            continue
        rr = [r for r in rs if float(r.get("resend_ns", 0)) > 0]
        resend = f"{med(rr, 'resend_ns'):.0f} (n={len(rr)})" if rr else "-"
        print(f"| {int(c['lines']) / 1e6:.0f}M | {c['layout']} | {c['comp']} | {len(rs)} "
              f"| {med(rs, 'dup_ns_first'):.0f} | {med(rs, 'dup_ns_last'):.0f} | {resend} "
              f"| {med(rs, 'miss_ns'):.0f} | {med(rs, 'hit_seq_us'):.0f} "
              f"| {med(rs, 'hit_rand_us'):.0f} | {med(rs, 'idx_mem_MB'):.0f} "
              f"| {med(rs, 'maxruns'):.0f} | {med(rs, 'idx_wamp'):.2f} "
              f"| {med(rs, 'collisions'):.0f} |")


main()
