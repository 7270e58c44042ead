"""Differential check of `tracer match --json`: a reference checkout's against this tree's, byte for byte.

    REF=/path/to/other/checkout python benchmarks/match_differential.py WORK [LEAK ...]

REF is a directory holding a ``tracer`` package (e.g. ``git archive main tracer | tar -x -C REF`` and
this tree's built ``tracer/_engine*.so`` copied in); it runs on this tree's interpreter with REF on
PYTHONPATH.  WORK gets a registry (12 accounts, six exports of the fixtures, made by the reference) and
attacked leaks; every leak, a group of four, and any LEAK given, is matched by both on both engines
(native and TRACER_ENGINE=python).  Prints one line per case; exits 1 when any output differs."""
import os, random, subprocess, sys, json
from pathlib import Path
WT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(WT / "benchmarks")]
import attacks as A, attack_clean as C, attack_flip as F, attack_collusion as X, leakfiles as L

work = Path(sys.argv[1]); work.mkdir(parents=True, exist_ok=True)
REF = os.environ["REF"]
ref = [sys.executable, "-m", "tracer"]; mine = ref
reg = work / "t.db"
def run(cmd, env=None, check=True, where=REF):
    extra = {"PYTHONPATH": str(where)}
    r = subprocess.run(cmd, capture_output=True, env={**os.environ, **(env or {}), **extra}, cwd=str(work))
    if check and r.returncode: raise SystemExit(f"{cmd}: {r.stderr.decode()[-500:]}")
    return r
if not reg.exists():
    run(ref + ["--registry", str(reg), "init"])
    for i in range(12): run(ref + ["--registry", str(reg), "accounts", "add", f"a{i}"])
    for i, src in enumerate(["waybills.csv", "orders.csv"] * 3):
        run(ref + ["--registry", str(reg), "export", str(WT / "fixtures" / src), "--account", f"a{i}",
                   "--output", str(work / f"ex{i}-{src}")])
rng = random.Random(5)
wb = [L.read_csv(work / f"ex{i}-waybills.csv") for i in (0, 2, 4)]
od = [L.read_csv(work / f"ex{i}-orders.csv") for i in (1, 3, 5)]
foreign = L.read_csv(WT / "fixtures/foreign_waybills.csv")
leaks = {
  "plain300.csv": lambda p: L.write_csv(p, A.subset(wb[0], 300, rng)),
  "marks16.csv": lambda p: L.write_csv(p, A.subset(wb[0], 16, rng)),
  "flipped.csv": lambda p: L.write_csv(p, F.flip_all(A.subset(wb[0], 200, rng))),
  "fullclean.csv": lambda p: L.write_csv(p, C.full_clean(A.subset(wb[1], 1000, rng))),
  "whole.csv": lambda p: L.write_csv(p, C.numbers_whole(A.subset(wb[1], 500, rng))),
  "digits.csv": lambda p: L.write_csv(p, C.phones_bare_digits(A.subset(wb[2], 400, rng))),
  "dup.csv": lambda p: L.write_csv(p, A.duplicate(A.subset(wb[0], 400, rng), 0.5, rng)),
  "foreign_mix.csv": lambda p: L.write_csv(p, A.mix_foreign(A.subset(wb[2], 80, rng), foreign, 4000, rng)),
  "foreign.csv": lambda p: L.write_csv(p, foreign),
  "inter2.csv": lambda p: L.write_csv(p, X.interleave(wb[:2], A.id_column(wb[0]), rng)),
  "inter3.csv": lambda p: L.write_csv(p, X.interleave(wb, A.id_column(wb[0]), rng)),
  "majority3.csv": lambda p: L.write_csv(p, C.full_clean(X.diff_scrub(wb, A.id_column(wb[0]), rng))),
  "dump.txt": lambda p: L.write_dump(p, A.nfkc(A.select_columns(A.subset(wb[0], 200, rng), wb[0][0][:4]))),
  "orders.jsonl": lambda p: L.write_jsonl(p, A.subset(od[0], 300, rng)),
  "orders_inter.csv": lambda p: L.write_csv(p, X.interleave(od[:2], A.id_column(od[0]), rng)),
  "orders.xlsx": lambda p: L.write_xlsx(p, A.subset(od[2], 500, rng)),
}
files = []
for name, make in leaks.items():
    p = work / name
    if not p.exists(): make(p)
    files.append(str(p))
extra = [a for a in sys.argv[2:]]
bad = 0
cases = [[f] for f in files] + [files[:4]] + [[e] for e in extra]
for engine in ({}, {"TRACER_ENGINE": "python"}):
    for case in cases:
        args = ["--registry", str(reg), "match", *case, "--json"]
        a, b = run(ref + args, engine, check=False), run(mine + args, engine, check=False, where=WT)
        assert a.returncode == 0 or not a.stdout, a.stderr
        same = a.stdout == b.stdout and a.returncode == b.returncode
        label = f"{engine.get('TRACER_ENGINE','native')} {' '.join(Path(c).name for c in case)}"
        if not same:
            bad += 1; print("DIFF", label, a.returncode, b.returncode); print(a.stdout[:300]); print(b.stdout[:300])
        else:
            v = json.loads(a.stdout) if a.stdout else {}
            print("same", label, [s["account"] for s in v.get("suspects", [])], a.returncode)
sys.exit(1 if bad else 0)
