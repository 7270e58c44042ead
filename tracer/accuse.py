"""From evidence to accusation: one honest p-value per account, corrected over all tested.

For each *candidate* (an account that received a leaked record, or whose
canary appears), under the null "this account is innocent":

- **marks**: only positions placed by records the account received are scored
  (a filter on exposure, which never looks at codewords).  Each position keeps
  one symbol; positions read with disagreeing symbols are dropped, and a
  channel whose symbols are (almost) all the same in a leak is treated as
  erased (a cleaning normalised it).  The Tardos symmetric score is bounded
  on both tails by the Chernoff bounds of ``code.log_two_sided_bounds``: a
  leak whose marks disagree with a codeword far beyond chance (every variant
  flipped) is as much evidence as one that agrees, and the factor 2 is paid.
- **canaries**: each canary's new phone or fresh identifier was drawn
  uniformly from ``space`` values (minus those the registry already knew),
  independently of any real person, so a leaked value equals a given canary
  value by chance with probability at most ``q = 1/(space - known)``; ``h``
  distinct canary values of an account with ``C`` of them, among ``n`` leaked
  phone and identifier cells: ``P <= C(C, h) (n q)^h``.
- **shared canaries**: the symbols of the shared decoys found after records
  the account received (``shared_canaries``), scored like marks but on their
  own: a cleaning can leave marks read with wrong symbols, which would drown
  the decoys' evidence if the two were summed;
- each is valid under the null, so ``k min(p_c, p_m, p_s)`` is a valid
  p-value, ``k`` the number of tests made (2, or 3 when some shared decoy
  after the account's records was found: a fact of exposure and the leak,
  never of the account's codeword); multiplied by the number of candidates
  (Bonferroni) it bounds the chance that any innocent is accused.  Accused:
  corrected p <= fpr.
- after a key rotation the leak is judged once per key (an export can be read
  only with its own key): each account keeps its smallest corrected p-value
  over the keys, multiplied by the number of keys tried (Bonferroni again).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import code
from .evidence import Evidence
from .keys import Key
from .pairing import Pairing, pairings
from .registry import Registry

ERASE_MIN_SYMBOLS = 8  # a channel needs this many readings before it can be judged normalised
ERASE_MINORITY = 0.05  # ... and is erased when its rarer symbol is below this share
ERASE_ALPHA = 1e-3  # ... and marks left alone would make some stream so uniform with chance below this
TESTS = 3  # canaries, marks, shared canaries: each account's p-value is the smallest of them, times this
REFINE_MARGIN = 12.0  # scores whose grid bound is within e^12 of the threshold get the exact bound


@dataclass(frozen=True)
class ExportSeen:
    export_id: int
    created: str
    source: str
    records_in_leak: int
    canaries_in_leak: int

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class Suspect:
    account: str
    account_id: int
    p_value: float  # corrected over all candidates
    log10_p_value: float  # the same, in log10: below 1e-308 a float p-value underflows to 0
    p_marks: float
    p_canaries: float
    score: float
    canary_hits: int
    marks_observed: int
    marks_agreeing: int
    records_in_leak: int
    exports: list[ExportSeen]
    canary_rows: list = field(default_factory=list)
    accused: bool = False
    marks_tail: str = "agree"  # or "disagree": the side of the null mean (0) the marks' score lies on
    shared_canaries: int = 0  # shared decoys found after records it received
    shared_observed: int = 0  # code positions they show (one symbol each)
    shared_agreeing: int = 0  # ... agreeing with its codeword
    p_shared: float = 1.0  # the shared decoys' own p-value (two-sided, uncorrected)
    pairing: tuple = ()  # (file, column, phone column) for each address/email column a headerless leak left unpaired

    def as_json(self) -> dict:
        return {
            "account": self.account,
            "p_value": self.p_value,
            "log10_p_value": self.log10_p_value,
            "p_marks": self.p_marks,
            "p_canaries": self.p_canaries,
            "score": self.score,
            "canary_hits": self.canary_hits,
            "marks_observed": self.marks_observed,
            "marks_agreeing": self.marks_agreeing,
            "marks_tail": self.marks_tail,
            "shared_canaries": self.shared_canaries,
            "shared_observed": self.shared_observed,
            "shared_agreeing": self.shared_agreeing,
            "p_shared": self.p_shared,
            "records_in_leak": self.records_in_leak,
            "exports": [e.as_json() for e in self.exports],
            "pairing": [{"file": f, "column": c, "phone_column": p} for f, c, p in self.pairing],
        }


@dataclass
class Verdict:
    rows: int
    fpr: float
    files: list
    candidates: list[Suspect]  # every account tested, strongest first
    accounts_registered: int
    positions_read: int
    channels_erased: list[str]
    registry_id: str = ""  # which registry judged: the report names it
    pool_canaries: list = field(default_factory=list)  # canary-pool numbers found: evidence, no p-value
    unread: list = field(default_factory=list)  # tables.sources.Unread: files of folders and archives left out
    engine: str = ""  # which row engine read the leaks: 'native', 'python', or 'native+python' (some batches each)

    @property
    def suspects(self) -> list[Suspect]:
        return [s for s in self.candidates if s.accused]

    def as_json(self) -> dict:
        return {
            "rows": self.rows,
            "fpr": self.fpr,
            "accounts_tested": len(self.candidates),
            "accounts_registered": self.accounts_registered,
            "positions_read": self.positions_read,
            "channels_erased": self.channels_erased,
            "suspects": [s.as_json() for s in self.suspects],
            "files": [f.as_json() for f in self.files],
            "pool_canaries": self.pool_canaries,
            "unread": [u.as_json() for u in self.unread],
            "engine": self.engine,
        }


def canary_log_p_value(hits: int, canaries: int, values: int, q: float) -> float:
    """log P(at least ``hits`` of an innocent account's ``canaries`` values among ``values`` leaked cells)."""
    if hits <= 0:
        return 0.0
    trial = values * q
    if trial <= 0:
        return 0.0
    log_p = (math.lgamma(canaries + 1) - math.lgamma(hits + 1) - math.lgamma(canaries - hits + 1)
             + hits * math.log(trial))
    return min(0.0, log_p)


def score_marks(the_code, uids: dict[int, bytes], observed: dict[int, tuple[np.ndarray, np.ndarray]],
                log_alpha: float) -> dict[int, tuple[float, float, int, int]]:
    """(score, log p-value bound, marks read, marks agreeing) for every account, over its own marks.

    ``observed[j]`` holds the (positions, symbols) read in the rows account j
    received.  Accounts that received the same leaked rows share them: each
    such group is scored with one matrix product and one vectorized bound.
    """
    groups: dict[bytes, list[int]] = defaultdict(list)
    for account_id, (positions, symbols) in observed.items():
        groups[positions.tobytes() + symbols.tobytes()].append(account_id)
    out = {}
    for members in groups.values():
        positions, y = observed[members[0]]
        p = the_code.p[positions]
        a, b = code.term_values(p, y)
        bits = the_code.codewords([uids[m] for m in members], positions)
        scores = code.scores(bits, a, b) if len(positions) else np.zeros(len(members))
        logs = code.log_two_sided_bounds(scores, p, a, b, refine_below=log_alpha + REFINE_MARGIN)
        agreeing = (bits == (y == 1)[None, :]).sum(axis=1)
        for row, account_id in enumerate(members):
            out[account_id] = (float(scores[row]), float(logs[row]), len(positions), int(agreeing[row]))
    return out


def accuse(registry: Registry, key_id: int, key: Key, evidence: Evidence, fpr: float) -> Verdict:
    """The verdict on ``evidence`` read with key ``key_id`` (which only knows the exports made with it)."""
    # Rows no account received (foreign data) say nothing of any account: they judge no channel.
    erased = evidence.erased(ERASE_MIN_SYMBOLS, ERASE_MINORITY, ERASE_ALPHA)
    names = {index: name for name, index in evidence.stream_names.items()}

    canaries_hit: dict[int, list] = defaultdict(list)
    for digest, hit in evidence.canary_hits.items():
        canaries_hit[evidence.owner[hit.export_id]].append(hit)

    def observed_in(account: int, set_aside: frozenset[int], without: set[int]) -> tuple[np.ndarray, np.ndarray]:
        return evidence.observed(account, set_aside | erased, without)

    records = evidence.records_by_account()
    candidates = sorted(evidence.accounts() | set(canaries_hit))
    canary_totals = registry.canary_counts(candidates, key_id)  # account -> (values drawn at random, smallest space)
    avoided = registry.anchors_known()  # values a new canary had to avoid: the space left is smaller
    log_canaries = {
        j: canary_log_p_value(len(canaries_hit.get(j, [])), canary_totals[j][0], evidence.anchor_values,
                              1.0 / max(1.0, canary_totals[j][1] - avoided))
        for j in candidates
    }
    accounts = registry.accounts_by_id(candidates)
    the_code = code.Code(key, registry.code.length, registry.code.cutoff) if candidates else None
    uids = {j: accounts[j].uid for j in candidates}
    log_alpha = math.log(fpr / (TESTS * max(1, len(candidates))))
    pairs = pairings(evidence.stream_names)
    marks = score_pairings(the_code, uids, observed_in, pairs, log_alpha)
    marks = _explain_away(marks, the_code, uids, evidence, observed_in, pairs, log_canaries, log_alpha, fpr,
                          len(candidates))
    shared = score_marks(the_code, uids, {j: evidence.observed_shared(j) for j in candidates}, log_alpha)
    results = []
    for account_id in candidates:
        score, log_p_marks, read, agreeing, pairing = marks[account_id]
        _, log_p_shared, shared_read, shared_agreeing = shared[account_id]
        p_marks = math.exp(log_p_marks)
        hits = canaries_hit.get(account_id, [])
        log_p_canaries = log_canaries[account_id]
        p_canaries = math.exp(log_p_canaries)
        tests = TESTS if shared_read else TESTS - 1
        best = min(log_p_marks, log_p_canaries, log_p_shared)
        log_corrected = min(0.0, math.log(tests * len(candidates)) + best)
        combined = min(1.0, tests * math.exp(best))
        canary_rows = _distinct_rows(hits)
        results.append(Suspect(
            account=accounts[account_id].name,
            account_id=account_id,
            p_value=min(1.0, combined * len(candidates)),
            log10_p_value=log_corrected / math.log(10),
            p_marks=p_marks,
            p_canaries=p_canaries,
            score=score,
            canary_hits=len(canary_rows),
            marks_observed=read,
            marks_agreeing=agreeing,
            records_in_leak=max(0, evidence.rows_of(account_id) - len(canary_rows)),
            marks_tail=code.tail(score),
            shared_canaries=evidence.shared_of(account_id),
            shared_observed=shared_read,
            shared_agreeing=shared_agreeing,
            p_shared=math.exp(log_p_shared),
            exports=_exports_seen(registry, records.get(account_id, {}), hits),
            canary_rows=canary_rows,
            pairing=pairs[pairing].chosen,
        ))
    for suspect in results:
        suspect.accused = suspect.p_value <= fpr
    results.sort(key=lambda s: (s.p_value, -s.score))
    return Verdict(
        rows=evidence.rows,
        fpr=fpr,
        files=evidence.files,
        candidates=results,
        accounts_registered=registry.account_count(),
        positions_read=evidence.positions_read(erased),
        channels_erased=sorted({f"{names[i][0]}:{names[i][1]}:{names[i][2]}" for i in erased}),
        registry_id=registry.id,
        pool_canaries=_pool_canaries(registry, key_id, key, evidence),
    )


POOL_PROVES = ("a number of the company's canary pool, carried in canaries of these exports only (same_name: that "
               "export's canary gave it the name this row has); a pool number "
               "may have been someone else's before (numbers are recycled) and sit in older data, so this is "
               "evidence to follow up and adds nothing to any p-value")


def _pool_canaries(registry: Registry, key_id: int, key: Key, evidence) -> list[dict]:
    """Each pool number found in the leak: where, which exports (account, when) carried it, and which
    of them gave it the name the leaked row has (the account whose canary it is)."""
    from .canary_pool import pair_digest
    from .columns import phone_anchor
    from .marks import AnchorHasher

    hasher, out = AnchorHasher(key), []
    for hit in sorted(evidence.pool_hits.values(), key=lambda h: (h.file, h.row_number)):
        anchors = [a for a in map(phone_anchor, hit.cells) if a and hasher(a).exposure == hit.digest]
        pairs = [pair_digest(key, anchors[0], cell) for cell in hit.cells if cell.strip()] if anchors else []
        named = {export_id for _, export_id, _ in registry.canaries_of(pairs, key_id)}
        exports = registry.exports(hit.export_ids)
        names = registry.account_names(e.account_id for e in exports.values())
        out.append({"file": hit.file, "row": hit.row_number, "proves": POOL_PROVES,
                    "exports": [{"export_id": e.id, "account": names[e.account_id], "created": e.created,
                                 "same_name": e.id in named} for e in exports.values()]})
    return out


def merge_verdicts(verdicts: list[Verdict], fpr: float) -> Verdict:
    """One verdict from the verdicts of each key on the same leaks.

    Under "account j is innocent" each key's corrected p-value is valid, so
    ``keys x min`` over the keys is too (Bonferroni), for every account alike,
    and the chance of accusing any innocent stays within ``fpr``.  With one key
    the verdict is unchanged.  A suspect's statistics are those of its best
    key; its exports and canary rows are all those found under any key.
    """
    tries = len(verdicts)
    found: dict[int, list[Suspect]] = defaultdict(list)
    for verdict in verdicts:
        for suspect in verdict.candidates:
            found[suspect.account_id].append(suspect)
    candidates = []
    for seen in found.values():
        best = min(seen, key=lambda s: (s.p_value, -s.score))
        canary_rows = _distinct_rows([hit for s in seen for hit in s.canary_rows])
        p_value = min(1.0, best.p_value * tries)
        candidates.append(replace(
            best,
            p_value=p_value,
            log10_p_value=min(0.0, best.log10_p_value + math.log10(tries)),
            canary_hits=len(canary_rows),
            canary_rows=canary_rows,
            exports=sorted((e for s in seen for e in s.exports), key=lambda e: e.export_id),
            accused=p_value <= fpr,
        ))
    candidates.sort(key=lambda s: (s.p_value, -s.score))
    first = verdicts[0]
    return replace(
        first,
        fpr=fpr,
        candidates=candidates,
        positions_read=sum(v.positions_read for v in verdicts),
        pool_canaries=[p for v in verdicts for p in v.pool_canaries],
        channels_erased=sorted({c for v in verdicts for c in v.channels_erased}),
    )


def score_pairings(the_code, uids: dict[int, bytes], observe, pairs: list[Pairing], log_alpha: float,
                   without: dict[int, set[int]] | None = None) -> dict[int, tuple[float, float, int, int, int]]:
    """:func:`score_marks` under every pairing (see ``pairing``); each account keeps its best,
    paid for by the number tried: (score, log p, marks read, agreeing, which pairing).

    ``observe(j, set_aside, without)`` gives account j's (positions, symbols)
    outside the streams set aside, in rows none of ``without`` received."""
    without = without or {j: frozenset() for j in uids}
    penalty = math.log(len(pairs))
    best: dict[int, tuple[float, float, int, int, int]] = {}
    for index, pairing in enumerate(pairs):
        marks = score_marks(the_code, uids, {j: observe(j, pairing.set_aside, without[j]) for j in uids},
                            log_alpha - penalty)
        for j, m in marks.items():
            if j not in best or m[1] < best[j][1]:
                best[j] = (*m, index)
    return {j: (score, min(0.0, log_p + penalty), read, agreeing, index)
            for j, (score, log_p, read, agreeing, index) in best.items()}


def _explain_away(marks, the_code, uids, evidence: Evidence, observed_in, pairs, log_canaries, log_alpha, fpr,
                  tested):
    """A second look at each account without the rows of the *other* accounts already convicted.

    When several insiders' copies are merged, a small insider's rows share
    phones with a big one's (a repeat customer), and those rows dilute its
    score.  For account j, the rows received by the accounts convicted on the
    first look — j excluded — are set aside and j is scored again.  That set
    depends on other accounts' codewords, never on j's, so the second score is
    as valid as the first; j keeps ``2 x min`` of the two p-values (two tests).
    """
    def convicted(j: int) -> bool:
        log_p = math.log(2 * tested) + min(marks[j][1], log_canaries[j])
        return log_p <= math.log(fpr)

    first = {j for j in marks if convicted(j)}
    if not first:
        return marks
    second = {j: first - {j} for j in marks if evidence.shares_rows(j, first - {j})}
    if not second:
        return marks
    again = score_pairings(the_code, {j: uids[j] for j in second}, observed_in, pairs, log_alpha, second)
    out = dict(marks)
    for j, again_j in again.items():
        best = min(marks[j], again_j, key=lambda m: m[1])
        out[j] = (best[0], min(0.0, math.log(2) + min(marks[j][1], again_j[1])), *best[2:])
    return out


def _distinct_rows(hits: list) -> list:
    """One hit per leaked canary row (a waybill canary carries two canary phones)."""
    rows = {}
    for hit in sorted(hits, key=lambda h: (h.file, h.row_number)):
        rows.setdefault((hit.file, hit.row_number), hit)
    return list(rows.values())


def _exports_seen(registry: Registry, records: dict[int, int], hits: list) -> list[ExportSeen]:
    canaries = defaultdict(int)
    for hit in _distinct_rows(hits):
        canaries[hit.export_id] += 1
    seen = []
    for export_id in sorted(set(records) | set(canaries)):
        export = registry.export(export_id)
        seen.append(ExportSeen(export_id, export.created, export.source, records.get(export_id, 0),
                               canaries.get(export_id, 0)))
    return seen
