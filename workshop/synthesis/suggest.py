"""Likely duplicates and suggested themes over an evening's ideas, offline.

Plain Python on plain dicts: each idea is ``{"id", "text", "table", "brief"}``
(``brief``, the table's question, may be missing). Nothing reaches the
network and no model is loaded: words are folded (case, accents), common
abbreviations and the evenings' slang spelt out ("covoit", "TAD", "VAE"),
stop words dropped, a word written once mapped to the word one letter away
that the room wrote more often (typos), and what is left is stemmed
(Snowball, French or English). Two ideas are compared by the TF-IDF cosine
of their stems mixed with that of their character 4-grams (robust to the
typos and the word forms left); only pairs sharing a stem are looked at.

What the evening knows counts as much as the words (issue 18, item 7): on
real evenings one theme per brief beats clustering texts, so ideas answering
the same brief get a bonus, and how much the words an idea shares with its
own brief weigh is a setting; words every evening writes ("aider", "local")
weigh less.

Duplicates aim at precision (a wrong hint annoys people): a pair is reported
only from a threshold. Themes are an average-linkage clustering of the ideas
(same-brief bonus included); a cluster too small to be a theme gives its
ideas to the theme they are closest to, or else to its brief's rest (one
theme per brief, labelled with the brief). Every setting in ``DEFAULTS`` was
chosen on the tuning part of ``bench/synthesis/evening_fr.json`` by
``bench/synthesis_score.py --tune``, which also reports the held-out figures.
"""

import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from math import log, sqrt

import snowballstemmer

STEMMERS = {"fr": "french", "en": "english"}
# The app keeps an idea to 500 characters; an export may join a few.
MAX_TEXT_LENGTH = 2_000
MAX_FIELD_LENGTH = 1_000
# Far above the largest evening (about 1,400 people); it keeps one call to a
# few seconds on a 2-core laptop.
MAX_IDEAS = 5_000


@dataclass(frozen=True)
class Settings:
    """The tunable figures (see ``bench/synthesis_score.py --tune``)."""

    char_weight: float = 0.75  # share of the character 4-grams in a pair's similarity
    brief_weight: float = 1.0  # weight of a word that the idea's own brief already says
    generic_weight: float = 0.0  # weight of a word every evening writes ("aider", "local")
    duplicate_threshold: float = 0.5  # a pair's score from which it is a likely duplicate
    duplicate_same_brief: float = 0.0  # added to a pair's score when both answer one brief
    theme_threshold: float = 0.35  # average linkage at which two clusters still merge
    theme_same_brief: float = 0.3  # added to a pair's similarity when both answer one brief
    attach_threshold: float = 0.1  # a leftover idea joins its closest theme from there
    min_theme_size: int = 4  # a smaller cluster is not proposed as a theme
    leftovers_by_brief: bool = True  # a brief's ideas left over make one theme (a table's
    # without a brief)


DEFAULTS = Settings()


class InvalidIdeas(ValueError):
    """The input is not a list of ideas; ``code`` and ``params`` say why (the
    caller words the message in the organizer's language)."""

    def __init__(self, code: str, **params):
        super().__init__(f"{code}: {params}")
        self.code = code
        self.params = params


# --- Words -----------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Folded (lowercase, no accents). Words that say nothing about the idea, in
# the way evenings write: "il faut", "y'a", "svp", "genre"…
STOP_WORDS = {
    "fr": _words(
        """
        a ai as au aux avec avoir avait aura c ca ce ceci cela celle celles celui ceux
        ces cet cette chaque chez comme comment d dans de des deja deux doit doivent
        donc dont du e elle elles en encore entre est et etc etre etait eux faire fait
        faut fois font genre gens il ils j je jusqu jusque l la le les leur leurs lui m
        ma mais me meme mes moi moins mon n ne ni non nos notre nous on ont ou par pas
        peu peut peuvent plus pour pourquoi pouvoir qu quand que quel quelle quelles
        quels qui quoi s sa sans se ses si son sont sous sur svp t ta te tes toi ton
        tous tout toute toutes tres trop tu un une va vont vos votre vous vraie vrai y
        aller etre avoir mettre bien aussi alors car beaucoup bcp pr ds qq qqn quelqu
        quelque quelques ici personne personnes chose choses autre autres certains
        certaines lors depuis pendant vers apres avant sinon ainsi voire cad ex eg ok
        oui lol bon bonne bons bonnes c est ya
        """
    ),
    "en": _words(
        """
        a about all also an and any are as at be been but by can could do does for from
        get had has have he her his how i if in into is it its just let lets like make
        more most much must my need needs no not of on one or our out own people per
        please she should so some such than that the their them then there these they
        this those to too up us very was way we were what when where which who why will
        with would you your
        """
    ),
}

# Folded word -> the words it stands for (abbreviations, slang, spellings,
# and near-synonyms that evenings use for one thing). Written from how such
# evenings type, not from the evaluation set's held-out part.
SYNONYMS = {
    "fr": {
        "covoit": "covoiturage",
        "covoiturer": "covoiturage",
        "covoitureur": "covoiturage",
        "covoitureurs": "covoiturage",
        "appli": "application",
        "applis": "application",
        "app": "application",
        "apps": "application",
        "ado": "jeune",
        "ados": "jeune",
        "adolescent": "jeune",
        "adolescents": "jeune",
        "jeunesse": "jeune",
        "asso": "association",
        "assos": "association",
        "associatif": "association",
        "associative": "association",
        "boulot": "travail",
        "taf": "travail",
        "bosser": "travail",
        "travailler": "travail",
        "job": "emploi",
        "jobs": "emploi",
        "teletravailler": "teletravail",
        "teletravailleur": "teletravail",
        "teletravailleurs": "teletravail",
        "boite": "entreprise",
        "boites": "entreprise",
        "societe": "entreprise",
        "societes": "entreprise",
        "toubib": "medecin",
        "toubibs": "medecin",
        "docteur": "medecin",
        "docteurs": "medecin",
        "dr": "medecin",
        "generaliste": "medecin",
        "generalistes": "medecin",
        "appart": "appartement",
        "apparts": "appartement",
        "logt": "logement",
        "logts": "logement",
        "coloc": "colocation",
        "colocs": "colocation",
        "tad": "transport demande",
        "vae": "velo electrique",
        "cyclable": "velo",
        "cyclables": "velo",
        "bicyclette": "velo",
        "bicyclettes": "velo",
        "dab": "distributeur billet",
        "zi": "zone industrielle",
        "za": "zone activite",
        "zac": "zone activite",
        "comcom": "communaute commune",
        "conso": "consommation",
        "consos": "consommation",
        "info": "information",
        "infos": "information",
        "rdv": "rendez vous",
        "pb": "probleme",
        "pbs": "probleme",
        "tps": "temps",
        "we": "weekend",
        "vx": "vieux",
        "aine": "senior",
        "aines": "senior",
        "seniors": "senior",
        "vieux": "senior",
        "vieilles": "senior",
        "anciens": "senior",
        "agee": "senior",
        "agees": "senior",
        "ages": "senior",
        "retraites": "senior",
        "cars": "bus",
        "autocar": "bus",
        "autocars": "bus",
        "navette": "bus",
        "navettes": "bus",
        "minibus": "bus",
        "location": "louer",
        "locations": "louer",
        "locatif": "louer",
        "locative": "louer",
        "locatifs": "louer",
        "salaries": "salarie",
        "employes": "salarie",
        "collegues": "salarie",
        "fibre": "internet",
        "connexion": "internet",
        "wifi": "internet",
        "wi": "internet",
        "photovoltaique": "solaire",
        "photovoltaiques": "solaire",
        "pv": "solaire",
        "granules": "granule",
        "pellets": "granule",
        "fuel": "fioul",
        "isolee": "seul",
        "isolees": "seul",
        "isole": "seul",
        "isoles": "seul",
        "isolement": "seul",
        "solitude": "seul",
        "seule": "seul",
        "seules": "seul",
        "seuls": "seul",
        "commerces": "commerce",
        "commercant": "commerce",
        "commercants": "commerce",
        "magasin": "commerce",
        "magasins": "commerce",
        "boutique": "commerce",
        "boutiques": "commerce",
        "superette": "epicerie",
        "mairie": "commune",
        "municipalite": "commune",
        "communal": "commune",
        "communale": "commune",
        "communaux": "commune",
        "communales": "commune",
        "village": "bourg",
        "villages": "bourg",
        "bourgs": "bourg",
        "papiers": "demarche",
        "formalites": "demarche",
        "dossiers": "demarche",
        "paperasse": "demarche",
        "weekends": "weekend",
        "livraison": "livrer",
        "livraisons": "livrer",
        "livree": "livrer",
        "livrees": "livrer",
        "jeu": "jouer",
        "jeux": "jouer",
    },
    "en": {
        "app": "application",
        "apps": "application",
        "carpool": "carpooling",
        "carpools": "carpooling",
        "rideshare": "carpooling",
        "ridesharing": "carpooling",
        "doc": "doctor",
        "docs": "doctor",
        "gp": "doctor",
        "gps": "doctor",
        "physician": "doctor",
        "teens": "young",
        "teen": "young",
        "teenagers": "young",
        "youth": "young",
        "youngsters": "young",
        "kids": "child",
        "elderly": "senior",
        "seniors": "senior",
        "bike": "bicycle",
        "bikes": "bicycle",
        "cycling": "bicycle",
        "coach": "bus",
        "shuttle": "bus",
        "minibus": "bus",
        "wifi": "internet",
        "broadband": "internet",
        "flat": "apartment",
        "flats": "apartment",
        "shops": "shop",
        "store": "shop",
        "stores": "shop",
        "info": "information",
        "pv": "solar",
        "photovoltaic": "solar",
    },
}

# Words every evening writes whatever the subject ("aider", "le bourg", "créer",
# "local"): kept, but they weigh less than the words that say what an idea is.
GENERIC = {
    "fr": _words(
        """
        aide aider aides bourg commune territoire local locale locaux locales habitant
        habitants projet projets besoin besoins place creer developper ameliorer proposer
        organiser faciliter favoriser permettre soutenir accompagner idee idees solution
        solutions systeme coin secteur mise lieu endroit
        """
    ),
    "en": _words(
        """
        help helping local community town village project projects need needs create
        improve support idea ideas solution place area
        """
    ),
}

# Two folded words read as one (checked before the words alone).
PAIRS = {
    "fr": {
        ("en", "ligne"): "internet",
        ("week", "end"): "weekend",
        ("week", "ends"): "weekend",
        ("w", "e"): "weekend",
        ("micro", "creche"): "creche",
        ("centre", "bourg"): "bourg",
        ("centre", "ville"): "ville",
        ("city", "stade"): "citystade",
        ("tiers", "lieu"): "tierslieu",
        ("tiers", "lieux"): "tierslieu",
        ("france", "services"): "franceservices",
        ("salle", "fetes"): "sallefetes",
        ("apres", "midi"): "apresmidi",
    },
    "en": {
        ("car", "pool"): "carpooling",
        ("car", "pooling"): "carpooling",
        ("car", "sharing"): "carsharing",
        ("week", "end"): "weekend",
        ("on", "line"): "internet",
        ("online",): "internet",
    },
}

# "car" is a coach after these words ("le car passe"), "because" otherwise.
CAR_AS_COACH = {"le", "du", "un", "en", "les", "des", "au", "ce", "premier", "dernier", "ligne"}

_WORD = re.compile(r"[^\W_]+")
_stemmers: dict[str, object] = {}


def _stemmer(language: str):
    if language not in _stemmers:
        _stemmers[language] = snowballstemmer.stemmer(STEMMERS[language])
    return _stemmers[language]


def fold(text: str) -> str:
    """Lowercase without accents ("Été" -> "ete"), for comparing what people type."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("œ", "oe")


def _raw_words(text: str) -> list[tuple[str, str]]:
    """(as written in lowercase, folded) for each word of ``text``."""
    return [(w, fold(w)) for w in _WORD.findall(text.lower())]


def _content_words(words: list[tuple[str, str]], language: str) -> list[tuple[str, str]]:
    """The words that carry meaning, abbreviations spelt out: (surface, folded)."""
    stop = STOP_WORDS[language]
    synonyms = SYNONYMS[language]
    pairs = PAIRS[language]
    out = []
    i = 0
    while i < len(words):
        surface, folded = words[i]
        nxt = words[i + 1][1] if i + 1 < len(words) else None
        # "salle des fêtes": the middle word is a stop word
        skip = words[i + 2][1] if i + 2 < len(words) and nxt in ("des", "de", "a") else None
        if nxt is not None and (folded, nxt) in pairs:
            out.append((f"{surface} {words[i + 1][0]}", pairs[(folded, nxt)]))
            i += 2
            continue
        if skip is not None and (folded, skip) in pairs:
            out.append((" ".join(w for w, _f in words[i : i + 3]), pairs[(folded, skip)]))
            i += 3
            continue
        if (folded,) in pairs:
            out.append((surface, pairs[(folded,)]))
        elif language == "fr" and folded == "car":
            if i > 0 and words[i - 1][1] in CAR_AS_COACH:
                out.append(("car", "bus"))
        elif folded in synonyms:
            parts = synonyms[folded].split()
            for part in parts:
                # A label shows the word as written when it stands for one word.
                out.append((surface if len(parts) == 1 else part, part))
        elif folded in stop or len(folded) < 2 or folded.isdigit():
            pass
        else:
            out.append((surface, folded))
        i += 1
    return out


def _deletions(word: str) -> set[str]:
    return {word[:k] + word[k + 1 :] for k in range(len(word))}


def _typo_fixes(counts: Counter) -> dict[str, str]:
    """Words written once -> the word one letter away that the room wrote
    more often ("covoiturrage" -> "covoiturage"); long words only, since a
    letter changes the meaning of short ones."""
    frequent = {w for w, c in counts.items() if c >= 2 and len(w) >= 5}
    by_deletion: dict[str, list[str]] = defaultdict(list)
    for word in frequent:
        by_deletion[word].append(word)
        for variant in _deletions(word):
            by_deletion[variant].append(word)
    fixes = {}
    for word, count in counts.items():
        if count > 1 or len(word) < 6:
            continue
        candidates = set(by_deletion.get(word, ()))  # a letter missing
        for variant in _deletions(word):  # a letter too many, or one swapped
            candidates.update(by_deletion.get(variant, ()))
        candidates.discard(word)
        if candidates:
            fixes[word] = min(candidates, key=lambda w: (-counts[w], w))
    return fixes


@dataclass
class Encoded:
    """The ideas as vectors: stems (weighted, L2-normalized), character
    4-grams (idem), and for labels the surface words behind each stem."""

    words: list[dict[str, float]]
    grams: list[dict[str, float]]
    raw_weights: list[dict[str, float]]
    surfaces: dict[str, Counter]
    briefs: list[str]


def encode(ideas: list[dict], language: str = "fr", settings: Settings = DEFAULTS) -> Encoded:
    """Turn the ideas into the vectors the suggestions compare (valid ideas:
    see ``validate``)."""
    stemmer = _stemmer(language)
    tokenized = [_content_words(_raw_words(idea["text"]), language) for idea in ideas]
    # The accented spelling the room used most, for words typed without it
    # (the French stemmer reads accents: "activités" and "activites" differ).
    spellings: dict[str, Counter] = defaultdict(Counter)
    counts: Counter = Counter()
    for words in tokenized:
        for surface, folded in words:
            if fold(surface) == folded:  # not a word standing for another
                spellings[folded][surface] += 1
            counts[folded] += 1
    fixes = _typo_fixes(counts)
    accented = {f: max(c, key=lambda s: (s != f, c[s], s)) for f, c in spellings.items()}
    stem_cache: dict[str, str] = {}

    def stem(folded: str) -> str:
        if folded not in stem_cache:
            word = accented.get(folded, folded)
            stem_cache[folded] = fold(stemmer.stemWord(word))
        return stem_cache[folded]

    generic = {stem(w) for w in GENERIC[language] if w in counts}
    brief_stems: dict[str, set[str]] = {}
    briefs = []
    stems_of, grams_of = [], []
    surfaces: dict[str, Counter] = defaultdict(Counter)
    for idea, words in zip(ideas, tokenized, strict=True):
        brief = fold(idea.get("brief") or "").strip()
        briefs.append(brief)
        if brief not in brief_stems:
            brief_stems[brief] = {stem(f) for _s, f in _content_words(_raw_words(brief), language)}
        stems, grams = set(), set()
        for surface, written in words:
            folded = fixes.get(written, written)
            s = stem(folded)
            stems.add(s)
            # Labels show two words read as one as written ("tiers-lieu"), a
            # word standing for another as the other ("covoit" -> "covoiturage").
            two_words = folded == written and " " in surface
            surfaces[s][surface if two_words else accented.get(folded, folded)] += 1
            padded = f"#{folded}#"
            grams.update(padded[k : k + 4] for k in range(max(1, len(padded) - 3)))
        stems_of.append(stems)
        grams_of.append(grams)

    n = len(ideas)
    word_df = Counter(s for stems in stems_of for s in stems)
    gram_df = Counter(g for grams in grams_of for g in grams)
    raw_weights, words_vectors, grams_vectors = [], [], []
    for stems, grams, brief in zip(stems_of, grams_of, briefs, strict=True):
        own_brief = brief_stems[brief]
        weights = {
            s: (log((n + 1) / (word_df[s] + 1)) + 1)
            * (settings.brief_weight if s in own_brief else 1.0)
            * (settings.generic_weight if s in generic else 1.0)
            for s in stems
        }
        raw_weights.append(weights)
        words_vectors.append(_normalized(weights))
        grams_vectors.append(_normalized({g: log((n + 1) / (gram_df[g] + 1)) + 1 for g in grams}))
    return Encoded(words_vectors, grams_vectors, raw_weights, surfaces, briefs)


def _normalized(vector: dict[str, float]) -> dict[str, float]:
    norm = sqrt(sum(v * v for v in vector.values()))
    return {k: v / norm for k, v in vector.items()} if norm else {}


def _cosines(
    vectors: list[dict[str, float]], among: set[tuple[int, int]] | None = None
) -> dict[tuple[int, int], float]:
    """The cosine of every pair (i < j) that shares a key found in few
    vectors (or of the pairs ``among``, when given), through an inverted
    index: pairs sharing nothing, or only words half the room wrote, are
    never looked at, so that the work grows with what the ideas have in
    common, not with the square of their number. The cosines are exact: the
    frequent keys' share is added for the pairs kept."""
    n = len(vectors)
    df = Counter(key for vector in vectors for key in vector)
    cap = max(50, n // 10)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    frequent: list[list[str]] = []
    for i, vector in enumerate(vectors):
        mine = []
        for key, value in vector.items():
            if df[key] <= cap:
                postings[key].append((i, value))
            else:
                mine.append(key)
        frequent.append(mine)
    dots: dict[tuple[int, int], float] = defaultdict(float)
    for entries in postings.values():
        for x in range(len(entries)):
            i, vi = entries[x]
            for y in range(x + 1, len(entries)):
                j, vj = entries[y]
                if among is None or (i, j) in among:
                    dots[(i, j)] += vi * vj
    pairs = dots.keys() if among is None else among
    for i, j in pairs:
        if frequent[i] and frequent[j]:
            other = vectors[j]
            share = sum(vectors[i][k] * other[k] for k in frequent[i] if k in other)
            if share:
                dots[(i, j)] += share
    return dots


def similarities(encoded: Encoded, settings: Settings = DEFAULTS) -> dict[tuple[int, int], float]:
    """Pairs of ideas sharing a distinctive stem -> their similarity in [0, 1]."""
    words = _cosines(encoded.words)
    grams = _cosines(encoded.grams, among=set(words))
    w = settings.char_weight
    return {pair: (1 - w) * value + w * grams.get(pair, 0.0) for pair, value in words.items()}


# --- Input -----------------------------------------------------------------


def validate(ideas) -> list[dict]:
    """The ideas as plain dicts with string fields, or ``InvalidIdeas``."""
    if not isinstance(ideas, list):
        raise InvalidIdeas("not_a_list")
    if len(ideas) > MAX_IDEAS:
        raise InvalidIdeas("too_many", count=len(ideas), max=MAX_IDEAS)
    seen = set()
    clean = []
    for index, idea in enumerate(ideas):
        position = index + 1
        if not isinstance(idea, dict):
            raise InvalidIdeas("not_an_object", position=position)
        for field in ("id", "text"):
            if field not in idea or idea[field] is None:
                raise InvalidIdeas("missing_field", position=position, field=field)
        ident = idea["id"]
        if isinstance(ident, bool) or not isinstance(ident, str | int):
            raise InvalidIdeas("bad_field", position=position, field="id")
        if isinstance(ident, str) and len(ident) > MAX_FIELD_LENGTH:
            raise InvalidIdeas("too_long", position=position, field="id", max=MAX_FIELD_LENGTH)
        if ident in seen:
            raise InvalidIdeas("duplicate_id", position=position, id=str(ident)[:80])
        seen.add(ident)
        entry = {"id": ident}
        for field, limit in (("text", MAX_TEXT_LENGTH), ("table", MAX_FIELD_LENGTH),
                             ("brief", MAX_FIELD_LENGTH)):  # fmt: skip
            value = idea.get(field)
            if value is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool) and field == "table":
                value = str(value)  # a table number
            if not isinstance(value, str):
                raise InvalidIdeas("bad_field", position=position, field=field)
            if len(value) > limit:
                raise InvalidIdeas("too_long", position=position, field=field, max=limit)
            entry[field] = value
        clean.append(entry)
    return clean


def _check_language(language: str) -> None:
    if language not in STEMMERS:
        raise InvalidIdeas("bad_language", language=str(language)[:20], known=sorted(STEMMERS))


# --- Duplicates -------------------------------------------------------------


def _duplicates(ideas, encoded, sims, settings: Settings) -> list[dict]:
    found = []
    for (i, j), sim in sims.items():
        score = sim
        if encoded.briefs[i] and encoded.briefs[i] == encoded.briefs[j]:
            score += settings.duplicate_same_brief
        if score >= settings.duplicate_threshold:
            found.append((min(score, 1.0), i, j))
    found.sort(key=lambda t: (-t[0], t[1], t[2]))
    return [{"a": ideas[i]["id"], "b": ideas[j]["id"], "score": round(s, 3)} for s, i, j in found]


def duplicates(ideas: list[dict], language: str = "fr", settings: Settings = DEFAULTS):
    """Likely duplicate pairs ``[{"a", "b", "score"}]``, best first; never
    merged here (a person decides)."""
    _check_language(language)
    ideas = validate(ideas)
    if len(ideas) < 2:
        return []
    encoded = encode(ideas, language, settings)
    return _duplicates(ideas, encoded, similarities(encoded, settings), settings)


# --- Themes ----------------------------------------------------------------


def cluster(n: int, sims: dict[tuple[int, int], float], threshold: float) -> list[list[int]]:
    """Average-linkage clustering of ``n`` items from sparse pair similarities
    (a missing pair counts 0), merging while two clusters' mean similarity
    reaches ``threshold``. Clusters as sorted lists of items."""
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    links: dict[int, dict[int, float]] = {i: {} for i in range(n)}
    for (i, j), value in sims.items():
        if value > 0:
            links[i][j] = links[i].get(j, 0.0) + value
            links[j][i] = links[j].get(i, 0.0) + value
    heap = [
        (-value, i, j)
        for (i, j), value in sims.items()
        if value >= threshold
    ]  # fmt: skip
    heapq.heapify(heap)
    next_id = n
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue  # one side was merged since
        c = next_id
        next_id += 1
        members[c] = members.pop(a) + members.pop(b)
        merged = {}
        for old in (a, b):
            for other, value in links.pop(old).items():
                if other in (a, b):
                    continue
                merged[other] = merged.get(other, 0.0) + value
                del links[other][old]
        links[c] = merged
        size = len(members[c])
        for other, value in merged.items():
            links[other][c] = value
            average = value / (size * len(members[other]))
            if average >= threshold:
                heapq.heappush(heap, (-average, min(c, other), max(c, other)))
    return [sorted(m) for m in members.values()]


def _theme_pairs(encoded, sims, settings) -> dict[tuple[int, int], float]:
    bonus = settings.theme_same_brief
    briefs = encoded.briefs
    return {
        (i, j): value + (bonus if briefs[i] and briefs[i] == briefs[j] else 0.0)
        for (i, j), value in sims.items()
    }


# Words that help to compare ideas ("une fois par semaine") but make poor labels.
UNLABELLED = {"an", "ans", "annee", "jour", "mois", "semain", "heur", "fois", "year", "day", "week"}


def _label(theme: list[int], encoded: Encoded) -> tuple[str, list[str]]:
    """A short label (the three words that weigh most across the theme) and
    its keywords (five), as people wrote them."""
    totals: Counter = Counter()
    for i in theme:
        for stem, weight in encoded.raw_weights[i].items():
            if stem not in UNLABELLED:
                totals[stem] += weight
    ranked = sorted(totals, key=lambda s: (-totals[s], s))
    keywords = []
    for stem in ranked:
        surface = max(encoded.surfaces[stem], key=lambda w: (encoded.surfaces[stem][w], w))
        if surface not in keywords:
            keywords.append(surface)
        if len(keywords) == 5:
            break
    label = ", ".join(keywords[:3])
    return (label[:1].upper() + label[1:]) if label else "", keywords


def _themes(ideas, encoded, sims, settings: Settings) -> list[dict]:
    n = len(ideas)
    pairs = _theme_pairs(encoded, sims, settings)
    clusters = cluster(n, pairs, settings.theme_threshold)
    themes = [c for c in clusters if len(c) >= settings.min_theme_size]
    theme_of = {i: t for t, theme in enumerate(themes) for i in theme}
    # Leftovers join the theme they are closest to on average, if close enough.
    neighbours: dict[int, dict[int, float]] = defaultdict(dict)
    for (i, j), value in pairs.items():
        neighbours[i][j] = value
        neighbours[j][i] = value
    joins = {}
    for i in range(n):
        if i in theme_of:
            continue
        scores: Counter = Counter()
        for j, value in neighbours[i].items():
            if j in theme_of:
                scores[theme_of[j]] += value
        best = max(scores, key=lambda t: (scores[t] / len(themes[t]), -t), default=None)
        if best is not None and scores[best] / len(themes[best]) >= settings.attach_threshold:
            joins[i] = best
    for i, t in joins.items():
        themes[t].append(i)
    if settings.leftovers_by_brief:
        # What is left of a brief's ideas stays together, as the floor "one
        # theme per brief" would have it: the team sees it as that brief's rest.
        rest: dict[str, list[int]] = defaultdict(list)
        named: dict[str, str] = {}
        for i in range(n):
            if i not in theme_of and i not in joins:
                idea = ideas[i]
                # labelled by the brief (or table) itself: "the rest of that question"
                name = (idea.get("brief") or "").strip() or (idea.get("table") or "").strip()
                key = encoded.briefs[i] or ("table:" + fold(name) if name else "")
                if key:
                    rest[key].append(i)
                    named.setdefault(key, name)
        themes.extend(members for members in rest.values() if len(members) >= 2)
        rest_label = {tuple(members): named[key] for key, members in rest.items()}
    else:
        rest_label = {}
    themes = [sorted(t) for t in themes]
    themes.sort(key=lambda t: (-len(t), t[0]))
    out = []
    for theme in themes:
        label, keywords = _label(theme, encoded)
        key = rest_label.get(tuple(theme))
        if key is not None:
            label = key if len(key) <= 80 else key[:79].rstrip() + "…"
        out.append({"label": label, "keywords": keywords, "ideas": [ideas[i]["id"] for i in theme]})
    return out


def themes(ideas: list[dict], language: str = "fr", settings: Settings = DEFAULTS):
    """Suggested themes ``[{"label", "keywords", "ideas": [ids]}]``, largest
    first; each idea in at most one (the others are left unsorted)."""
    _check_language(language)
    ideas = validate(ideas)
    if not ideas:
        return []
    encoded = encode(ideas, language, settings)
    return _themes(ideas, encoded, similarities(encoded, settings), settings)


def suggest(ideas: list[dict], language: str = "fr", settings: Settings = DEFAULTS) -> dict:
    """Both suggestions at once (the ideas encoded once):
    ``{"duplicates": [...], "themes": [...]}``."""
    _check_language(language)
    ideas = validate(ideas)
    if not ideas:
        return {"duplicates": [], "themes": []}
    encoded = encode(ideas, language, settings)
    sims = similarities(encoded, settings)
    return {
        "duplicates": _duplicates(ideas, encoded, sims, settings),
        "themes": _themes(ideas, encoded, sims, settings),
    }


def duplicates_per_table(tables: dict[str, list[dict]], language: str = "fr") -> dict:
    """Likely duplicates within each table (the facilitator's console, while
    grouping): ``{table: [{"a", "b", "score"}]}``, each table's ideas compared
    among themselves only (a few dozen each: quick)."""
    if not isinstance(tables, dict):
        raise InvalidIdeas("not_a_list")
    return {table: duplicates(ideas, language) for table, ideas in tables.items()}


def main() -> None:
    """Run as a script (the server's suggestions, in a process of their own,
    see :mod:`workshop.synthesis.apart`): the ideas as JSON on the standard
    input, ``{"duplicates", "themes"}`` as JSON on the standard output; with
    ``tables`` after the language, ``{table: ideas}`` in and each table's
    duplicates out (:func:`duplicates_per_table`)."""
    import json
    import sys

    language = sys.argv[1] if len(sys.argv) > 1 else "fr"
    if sys.argv[2:] == ["tables"]:
        json.dump(duplicates_per_table(json.load(sys.stdin), language), sys.stdout)
    else:
        json.dump(suggest(json.load(sys.stdin), language), sys.stdout)


if __name__ == "__main__":
    main()
