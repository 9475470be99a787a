#!/usr/bin/env python3
"""SQLite FTS5 on the corpus and queries of `engram bench fulltext`, as the peer of its figures.

Rebuilds the same seeded corpus (SplitMix64, Zipf 1.07 over the same synthetic words) and the same
queries, loads them into an FTS5 table (tokenizer unicode61, no stemming, no stop words), then runs
each query as an OR of its words ranked by FTS5's bm25(), LIMIT --limit, once to warm the pages
and once timed. Prints wall-clock and thread-CPU milliseconds per query as JSON.

    python3 Benchmarks/fulltext/fts5_peer.py --memories 100000 --queries 500
"""
import argparse
import json
import math
import os
import sqlite3
import time

MASK = (1 << 64) - 1
SYLLABLES = ["ka", "lo", "mi", "ra", "te", "vu", "ne", "po", "di", "sa", "fe", "gu", "bo", "zi", "he", "ju"]


class SplitMix:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


class ZipfLanguage:
    """The same words and cumulative weights as ZipfLanguage in BenchFullTextCommand.swift."""

    def __init__(self, size, exponent=1.07):
        self.words = []
        for rank in range(size):
            word, n = "", rank + 16
            while n > 0:
                word += SYLLABLES[n % 16]
                n //= 16
            self.words.append(word)
        self.cumulative, total = [], 0.0
        for rank in range(size):
            total += 1 / math.pow(rank + 1, exponent)
            self.cumulative.append(total)

    def word(self, generator):
        target = (generator.next() >> 11) / float(1 << 53) * self.cumulative[-1]
        low, high = 0, len(self.cumulative) - 1
        while low < high:
            middle = (low + high) // 2
            if self.cumulative[middle] < target:
                low = middle + 1
            else:
                high = middle
        return self.words[low]

    def sentence(self, length, generator):
        return " ".join(self.word(generator) for _ in range(length))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--vocabulary", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", default="/tmp/engram-bench-fts5.sqlite")
    args = parser.parse_args()

    language = ZipfLanguage(args.vocabulary)
    generator = SplitMix(args.seed)
    texts = [language.sentence(6 + generator.next() % 19, generator) for _ in range(args.memories)]
    queries = [language.sentence(3 + generator.next() % 4, generator) for _ in range(args.queries)]

    if os.path.exists(args.db):
        os.remove(args.db)
    db = sqlite3.connect(args.db)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE VIRTUAL TABLE memories USING fts5(content, tokenize='unicode61')")
    start = time.perf_counter()
    for offset in range(0, len(texts), 1000):
        with db:
            db.executemany("INSERT INTO memories(content) VALUES (?)", ((t,) for t in texts[offset:offset + 1000]))
    index_seconds = time.perf_counter() - start

    statement = "SELECT rowid, bm25(memories) FROM memories WHERE memories MATCH ? ORDER BY rank LIMIT ?"
    wall, cpu, hits = [], [], 0
    for timed in (False, True):
        for query in queries:
            match = " OR ".join(query.split())
            begin, cpu_begin = time.perf_counter(), time.thread_time()
            rows = db.execute(statement, (match, args.limit)).fetchall()
            if timed:
                cpu.append((time.thread_time() - cpu_begin) * 1000)
                wall.append((time.perf_counter() - begin) * 1000)
                hits += len(rows)
    wall.sort()
    cpu.sort()

    def percentile(values, p):
        return values[min(len(values) - 1, int(len(values) * p))]

    print(json.dumps({
        "peer": "sqlite " + sqlite3.sqlite_version + " fts5",
        "memories": args.memories, "queries": args.queries, "limit": args.limit,
        "index_memories_per_s": args.memories / index_seconds,
        "query_ms_median": percentile(wall, 0.5), "query_ms_p90": percentile(wall, 0.9),
        "query_ms_p99": percentile(wall, 0.99), "query_cpu_ms_median": percentile(cpu, 0.5),
        "query_cpu_ms_p90": percentile(cpu, 0.9), "hits_per_query": hits / args.queries,
        "db_bytes": os.path.getsize(args.db),
    }, indent=2))
    db.close()
    os.remove(args.db)


if __name__ == "__main__":
    main()
