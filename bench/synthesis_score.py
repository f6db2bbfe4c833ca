"""Score the synthesis suggestions (issue 18, item 7) on the French evaluation set.

    .venv/bin/python bench/synthesis_score.py            # the table, on the held-out part
    .venv/bin/python bench/synthesis_score.py --tune     # choose the settings again (tuning part)
    .venv/bin/python bench/synthesis_score.py --json     # the figures as JSON

Three approaches, on ``bench/synthesis/evening_fr.json``:

- ``suggest``: ``workshop.synthesis.suggest`` with its ``DEFAULTS``;
- floor (a), ``one theme per brief``: each brief is a theme (a table without a
  brief is one); it finds no duplicates;
- floor (b), ``TF-IDF``: folded, stop words out, Snowball-stemmed words, TF-IDF
  cosine; a pair above a threshold is a duplicate; themes are the
  average-linkage clusters of at least two ideas (the rest unsorted).

Figures: duplicate pairs precision / recall / F1 (every pair inside a true
group is a true pair), how many listed hard negatives were reported as
duplicates, themes adjusted Rand index (an unsorted idea counts as a theme of
its own) and the share of ideas left unsorted. Every threshold is chosen on
the ``tuning`` part only (duplicates: best F0.5, precision weighing twice as
much as recall since a wrong hint annoys; themes: best ARI); the table is
reported on the ``heldout`` part, a different evening.

Then speed and memory: the time to encode one idea (p50 / p99 over every idea
of the set, each encoded alone), the time of a whole ``suggest`` call on the
held-out evening and on a synthetic evening of 2,000 ideas, and the peak
memory of that call (tracemalloc).
"""

import argparse
import json
import random
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import asdict, replace
from itertools import combinations, product
from math import comb, log, sqrt
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workshop.synthesis import suggest as engine  # noqa: E402

DATA = Path(__file__).resolve().parent / "synthesis" / "evening_fr.json"

# Floor (b)'s thresholds, chosen on the tuning part by ``--tune`` (as
# engine.DEFAULTS are).
TFIDF_DUPLICATE_THRESHOLD = 0.5
TFIDF_THEME_THRESHOLD = 0.05


def load(path: Path = DATA) -> dict:
    """The evaluation set's parts: name -> {ideas, duplicates, hard_negatives, …}."""
    return json.loads(path.read_text(encoding="utf-8"))["parts"]


def inputs(part: dict) -> list[dict]:
    """The ideas as the CLI reads them (without their true theme)."""
    return [{k: v for k, v in idea.items() if k != "theme"} for idea in part["ideas"]]


# --- Figures ------------------------------------------------------------------


def adjusted_rand_index(truth: list, predicted: list) -> float:
    """Hubert and Arabie's ARI of two labelings of the same items (1 the same
    partition, about 0 a random one)."""
    n = len(truth)
    if n < 2:
        return 1.0
    contingency = Counter(zip(truth, predicted, strict=True))
    together = sum(comb(c, 2) for c in contingency.values())
    truth_pairs = sum(comb(c, 2) for c in Counter(truth).values())
    predicted_pairs = sum(comb(c, 2) for c in Counter(predicted).values())
    expected = truth_pairs * predicted_pairs / comb(n, 2)
    maximum = (truth_pairs + predicted_pairs) / 2
    if maximum == expected:
        return 1.0 if together == expected else 0.0
    return (together - expected) / (maximum - expected)


def true_pairs(part: dict) -> set[frozenset]:
    return {frozenset(p) for group in part["duplicates"] for p in combinations(group, 2)}


def duplicate_figures(part: dict, found: list[dict]) -> dict:
    """Precision, recall, F1 and F0.5 of the reported pairs; hard negatives hit."""
    truth = true_pairs(part)
    reported = {frozenset((d["a"], d["b"])) for d in found}
    hits = len(truth & reported)
    precision = hits / len(reported) if reported else 1.0
    recall = hits / len(truth) if truth else 1.0

    def f(beta):
        b2 = beta * beta
        denominator = b2 * precision + recall
        return (1 + b2) * precision * recall / denominator if denominator else 0.0

    hard = {frozenset(p) for p in part["hard_negatives"]}
    return {
        "reported": len(reported),
        "precision": precision,
        "recall": recall,
        "f1": f(1),
        "f05": f(0.5),
        "hard_negatives_hit": len(hard & reported),
        "hard_negatives": len(hard),
    }


def theme_figures(part: dict, themes: list[dict]) -> dict:
    """ARI against the true themes (an unsorted idea alone), unsorted share."""
    assigned = {}
    for t, theme in enumerate(themes):
        for ident in theme["ideas"]:
            assert ident not in assigned, f"{ident} in two themes"
            assigned[ident] = t
    ids = [idea["id"] for idea in part["ideas"]]
    truth = [idea["theme"] for idea in part["ideas"]]
    predicted = [assigned.get(i, f"alone:{i}") for i in ids]
    unsorted = sum(1 for i in ids if i not in assigned)
    return {
        "ari": adjusted_rand_index(truth, predicted),
        "unsorted": unsorted / len(ids),
        "themes": len(themes),
    }


# --- The floors ---------------------------------------------------------------


def brief_themes(ideas: list[dict]) -> list[dict]:
    """Floor (a): one theme per brief (per table for a table without one)."""
    groups = defaultdict(list)
    for idea in ideas:
        key = engine.fold(idea.get("brief") or "") or f"table:{idea.get('table')}"
        groups[key].append(idea["id"])
    return [{"label": key, "keywords": [], "ideas": members} for key, members in groups.items()]


def tfidf_vectors(ideas: list[dict], language: str = "fr") -> list[dict[str, float]]:
    """Floor (b)'s vectors: folded, stop words out, stemmed, TF-IDF, L2-normalized."""
    stemmer = engine._stemmer(language)
    stop = engine.STOP_WORDS[language]
    docs = []
    for idea in ideas:
        words = [w for w in engine._WORD.findall(idea["text"].lower()) if len(w) > 1]
        docs.append(
            Counter(
                engine.fold(stemmer.stemWord(w))
                for w in words
                if engine.fold(w) not in stop and not w.isdigit()
            )
        )
    return tfidf_weights(docs)


def tfidf_weights(docs: list[Counter]) -> list[dict[str, float]]:
    """TF-IDF of term counts (smoothed IDF), each vector L2-normalized."""
    n = len(docs)
    df = Counter(s for doc in docs for s in doc)
    vectors = []
    for doc in docs:
        weights = {s: tf * (log((n + 1) / (df[s] + 1)) + 1) for s, tf in doc.items()}
        norm = sqrt(sum(v * v for v in weights.values())) or 1.0
        vectors.append({s: v / norm for s, v in weights.items()})
    return vectors


def tfidf_suggest(ideas, duplicate_threshold, theme_threshold, sims=None) -> dict:
    """Floor (b): pairs above a cosine, average-linkage clusters of 2 or more."""
    if sims is None:
        sims = engine._cosines(tfidf_vectors(ideas))
    duplicates = [
        {"a": ideas[i]["id"], "b": ideas[j]["id"], "score": s}
        for (i, j), s in sims.items()
        if s >= duplicate_threshold
    ]
    clusters = engine.cluster(len(ideas), sims, theme_threshold)
    themes = [{"ideas": [ideas[i]["id"] for i in c]} for c in clusters if len(c) >= 2]
    return {"duplicates": duplicates, "themes": themes}


# --- Tuning -------------------------------------------------------------------


def _steps(start, stop, step):
    values, value = [], start
    while value <= stop + 1e-9:
        values.append(round(value, 3))
        value += step
    return values


def _smoothed_best(scores: dict[tuple, float]) -> tuple:
    """The grid point (a tuple of indices) whose score, averaged with its
    neighbours' (one step away on each axis), is highest: a point that is
    only good by luck on a small set loses to a good region. Ties: the last
    point (the grids end on the stricter values)."""

    def around(point):
        values = []
        for other, score in scores.items():
            if all(abs(a - b) <= 1 for a, b in zip(point, other, strict=True)):
                values.append(score)
        return sum(values) / len(values)

    return max(scores, key=lambda point: (round(around(point), 6), point))


DUPLICATE_GRID = {
    "duplicate_same_brief": (0.0, 0.05, 0.1),
    "duplicate_threshold": tuple(_steps(0.3, 0.9, 0.025)),
}
THEME_GRID = {
    "theme_same_brief": (0.0, 0.1, 0.2, 0.3),
    "theme_threshold": tuple(_steps(0.1, 0.5, 0.05)),
    "min_theme_size": (2, 3, 4),
    "attach_threshold": (0.1, 0.2, 9.0),
    "leftovers_by_brief": (False, True),
}
ENCODING_GRID = {
    "char_weight": (0.0, 0.25, 0.5, 0.75),
    "brief_weight": (0.25, 0.5, 1.0),
    "generic_weight": (0.0, 0.5, 1.0),
}


def _grid(axes: dict) -> dict[tuple, dict]:
    """Every point of a grid: indices -> {setting: value}."""
    names = list(axes)
    return {
        point: {name: axes[name][i] for name, i in zip(names, point, strict=True)}
        for point in product(*(range(len(values)) for values in axes.values()))
    }


def tune(part: dict) -> tuple[engine.Settings, float, float, list[str]]:
    """The engine's settings and floor (b)'s thresholds that score best on
    ``part`` (the tuning part), with a log of what was tried. Duplicates:
    F0.5; themes: ARI; the encoding: the sum of both at their best."""
    ideas = inputs(part)
    log_lines = []
    outcomes: dict[tuple, tuple[float, engine.Settings]] = {}
    for point, values in _grid(ENCODING_GRID).items():
        settings = replace(engine.DEFAULTS, **values)
        encoded = engine.encode(ideas, "fr", settings)
        sims = engine.similarities(encoded, settings)
        duplicate_scores, theme_scores = {}, {}
        duplicate_points, theme_points = _grid(DUPLICATE_GRID), _grid(THEME_GRID)
        for inner, trial_values in duplicate_points.items():
            found = engine._duplicates(ideas, encoded, sims, replace(settings, **trial_values))
            duplicate_scores[inner] = duplicate_figures(part, found)["f05"]
        for inner, trial_values in theme_points.items():
            if trial_values["theme_threshold"] <= trial_values["theme_same_brief"]:
                continue  # the brief alone would make one theme of it
            found = engine._themes(ideas, encoded, sims, replace(settings, **trial_values))
            theme_scores[inner] = theme_figures(part, found)["ari"]
        best_duplicate = _smoothed_best(duplicate_scores)
        best_theme = _smoothed_best(theme_scores)
        chosen = replace(settings, **duplicate_points[best_duplicate], **theme_points[best_theme])
        total = duplicate_scores[best_duplicate] + theme_scores[best_theme]
        outcomes[point] = (total, chosen)
        log_lines.append(
            f"{values}: F0.5 {duplicate_scores[best_duplicate]:.3f} "
            f"{duplicate_points[best_duplicate]}, ARI {theme_scores[best_theme]:.3f} "
            f"{theme_points[best_theme]}"
        )
    best = _smoothed_best({point: total for point, (total, _s) in outcomes.items()})
    best_settings = outcomes[best][1]
    sims = engine._cosines(tfidf_vectors(ideas))
    thresholds = _steps(0.2, 0.95, 0.025)
    best_dup = thresholds[
        _smoothed_best({
            (k,): duplicate_figures(part, tfidf_suggest(ideas, t, 1, sims)["duplicates"])["f05"]
            for k, t in enumerate(thresholds)
        })[0]
    ]  # fmt: skip
    thresholds = _steps(0.05, 0.6, 0.025)
    best_theme = thresholds[
        _smoothed_best({
            (k,): theme_figures(part, tfidf_suggest(ideas, 1, t, sims)["themes"])["ari"]
            for k, t in enumerate(thresholds)
        })[0]
    ]  # fmt: skip
    return best_settings, best_dup, best_theme, log_lines


# --- Report -------------------------------------------------------------------


def evaluate(part: dict, settings: engine.Settings = engine.DEFAULTS,
             tfidf_duplicate=TFIDF_DUPLICATE_THRESHOLD,
             tfidf_theme=TFIDF_THEME_THRESHOLD) -> dict:  # fmt: skip
    """The three approaches' figures on ``part``: name -> {duplicates, themes}."""
    ideas = inputs(part)
    ours = engine.suggest(ideas, "fr", settings)
    floor = tfidf_suggest(ideas, tfidf_duplicate, tfidf_theme)
    return {
        "suggest": {
            "duplicates": duplicate_figures(part, ours["duplicates"]),
            "themes": theme_figures(part, ours["themes"]),
        },
        "one theme per brief": {
            "duplicates": None,
            "themes": theme_figures(part, brief_themes(ideas)),
        },
        "TF-IDF": {
            "duplicates": duplicate_figures(part, floor["duplicates"]),
            "themes": theme_figures(part, floor["themes"]),
        },
    }


def table(figures: dict) -> str:
    lines = [
        f"{'approach':<20} {'dup P':>6} {'dup R':>6} {'dup F1':>6} {'pairs':>5} {'hard':>5}"
        f" {'ARI':>6} {'unsorted':>8} {'themes':>6}",
    ]
    for name, f in figures.items():
        d, t = f["duplicates"], f["themes"]
        dup = (
            f"{d['precision']:>6.2f} {d['recall']:>6.2f} {d['f1']:>6.2f} {d['reported']:>5}"
            f" {d['hard_negatives_hit']:>2}/{d['hard_negatives']:<2}"
            if d
            else f"{'—':>6} {'—':>6} {'—':>6} {'—':>5} {'—':>5}"
        )
        lines.append(f"{name:<20} {dup} {t['ari']:>6.3f} {t['unsorted']:>8.0%} {t['themes']:>6}")
    return "\n".join(lines)


def synthetic_evening(parts: dict, size: int, seed: int = 7) -> list[dict]:
    """``size`` ideas made from the set's (a word dropped or doubled, a
    letter swapped), spread over 100 tables and the set's briefs."""
    rng = random.Random(seed)
    source = [idea for part in parts.values() for idea in inputs(part)]
    out = []
    for k in range(size):
        idea = dict(rng.choice(source))
        words = idea["text"].split()
        if len(words) > 3 and rng.random() < 0.5:
            del words[rng.randrange(len(words))]
        word = rng.randrange(len(words))
        if len(words[word]) > 4 and rng.random() < 0.5:
            w = words[word]
            at = rng.randrange(len(w) - 1)
            words[word] = w[:at] + w[at + 1] + w[at] + w[at + 2 :]
        idea["text"] = " ".join(words)
        idea["id"] = f"s{k}"
        idea["table"] = f"Table {k % 100 + 1}"
        out.append(idea)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def speed(parts: dict) -> dict:
    """Encode time per idea (p50 / p99, each idea alone), whole calls, memory."""
    every = [idea for part in parts.values() for idea in inputs(part)]
    engine.encode(every[:5])  # the stemmer loaded once
    per_idea = []
    for idea in every * 3:
        start = time.perf_counter()
        engine.encode([idea])
        per_idea.append(time.perf_counter() - start)
    figures = {
        "encode_p50_ms": percentile(per_idea, 0.5) * 1000,
        "encode_p99_ms": percentile(per_idea, 0.99) * 1000,
    }
    for name, ideas in (
        ("heldout", inputs(parts["heldout"])),
        ("synthetic_500", synthetic_evening(parts, 500)),
        ("synthetic_2000", synthetic_evening(parts, 2000)),
    ):
        start = time.perf_counter()
        engine.suggest(ideas)
        elapsed = time.perf_counter() - start
        tracemalloc.start()
        engine.suggest(ideas)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures[f"{name}_ideas"] = len(ideas)
        figures[f"{name}_seconds"] = elapsed
        figures[f"{name}_peak_mib"] = peak / 2**20
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune", action="store_true", help="choose the settings on 'tuning'")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed figures")
    args = parser.parse_args(argv)
    parts = load()
    settings = engine.DEFAULTS
    tfidf_duplicate, tfidf_theme = TFIDF_DUPLICATE_THRESHOLD, TFIDF_THEME_THRESHOLD
    if args.tune:
        settings, tfidf_duplicate, tfidf_theme, log_lines = tune(parts["tuning"])
        print("Tried on the tuning part (best of each):")
        print("\n".join("  " + line for line in log_lines))
        print(f"Chosen: {settings}")
        print(f"TF-IDF floor: duplicates >= {tfidf_duplicate}, themes >= {tfidf_theme}\n")
    results = {
        name: evaluate(parts[name], settings, tfidf_duplicate, tfidf_theme)
        for name in ("tuning", "heldout")
    }
    figures = {
        "settings": asdict(settings),
        "tfidf": {"duplicate_threshold": tfidf_duplicate, "theme_threshold": tfidf_theme},
        "results": results,
    }
    if not args.no_speed:
        figures["speed"] = speed(parts)
    if args.json:
        print(json.dumps(figures, indent=1, ensure_ascii=False))
        return 0
    for name in ("heldout", "tuning"):
        part = parts[name]
        print(f"{name} ({len(part['ideas'])} ideas, {len(true_pairs(part))} true duplicate "
              f"pairs, {len(part['hard_negatives'])} hard negatives, "
              f"{len(part['themes'])} true themes):")  # fmt: skip
        print(table(results[name]))
        print()
    if "speed" in figures:
        s = figures["speed"]
        print(f"encode one idea: p50 {s['encode_p50_ms']:.2f} ms, p99 {s['encode_p99_ms']:.2f} ms")
        for name in ("heldout", "synthetic_500", "synthetic_2000"):
            print(f"suggest on {s[name + '_ideas']} ideas: {s[name + '_seconds']:.2f} s, "
                  f"peak {s[name + '_peak_mib']:.1f} MiB (tracemalloc)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
