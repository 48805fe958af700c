"""The selection-signal analysis (issue 33): does a cheap score of a candidate mask predict its outcome?

Reads the records `selection_signal.py` publishes (one JSON file per candidate) and measures, per score and stage and
pooled over the stages: Spearman's rank correlation with the outcome and its bootstrap 95% interval, the outcome of the
candidate each rule would pick (the library's own rules, `best` and `margin`) against the best candidate's and IMP's,
and each score's cost. The outcome is a candidate's held-out accuracy after the whole stage's training, in points,
averaged over the two training seeds every record holds (dev accuracy is reported beside it, never used to choose).
"""
from __future__ import annotations
import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from randprune.scores import RULES
from randprune.selection import SelectionConfig

SCORES = ("zero_step", "progressive@0.25", "progressive@1", "loss@0.25", "loss@1", "metric@0.25", "metric@1")
SIGN = {"zero_step": -1, "progressive": -1, "loss": -1, "metric": 1} # the score is this sign x the mean of its units
UNIT = {"progressive": "train_loss", "loss": "loss", "metric": "correct"} # each EMEP score's resampling units
GOAL_RHO, GOAL_COST = 0.3, 0.1 # the goal: an interval above 0.3, at under a tenth of EMEP's cost


def load(folder) -> pd.DataFrame:
    "One row per candidate record in `folder`: what it is, its scores, outcomes (points), seconds and units."
    rows = []
    for p in sorted(Path(folder).glob("stage-*/candidate-*.json")):
        r = json.loads(p.read_text())
        points = {k: 100 * r[k] for k in ("held_out", "held_out_repeat", "dev", "dev_repeat")}
        rows.append(dict(stage=r["stage"], candidate=r["candidate"], of=r["settings"]["candidates"], kind=r["kind"],
                         ratio=r["ratio"], draws=r["draws"],
                         differs=r["differs"], **r["scores"], **points, units=r.get("units"),
                         **{f"seconds {k}": v for k, v in r["seconds"].items()}))
    df = pd.DataFrame(rows)
    if len(df): df["outcome"] = (df.held_out + df.held_out_repeat) / 2
    return df


def complete(df:pd.DataFrame) -> pd.DataFrame:
    "The records of the stages whose every candidate is recorded (a stage is analysed whole or not at all)."
    return df[df.groupby("stage").candidate.transform("count") == df["of"]] if len(df) else df


def spearman(x, y, strata) -> float:
    "Spearman's rho of `x` with `y`, each ranked within its stratum (a stage), the strata pooled; nan where constant."
    rx, ry = np.empty(len(x)), np.empty(len(y))
    for s in np.unique(strata):
        at = strata == s
        rx[at], ry[at] = rankdata(x[at]), rankdata(y[at])
    if rx.std() == 0 or ry.std() == 0: return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def spearman_ci(df:pd.DataFrame, col:str, outcome:str="outcome", resamples:int=2000, seed:int=0) -> tuple:
    "Spearman's rho of `col` with `outcome` (ranks within each stage) and its percentile bootstrap 95% interval."
    x, y, st = df[col].to_numpy(float), df[outcome].to_numpy(float), df.stage.to_numpy()
    g, where = np.random.default_rng(seed), [np.flatnonzero(st == s) for s in np.unique(st)]
    boots = []
    for _ in range(resamples):  # candidates resampled within each stage
        i = np.concatenate([g.choice(w, len(w)) for w in where])
        boots.append(spearman(x[i], y[i], st[i]))
    boots = np.array(boots)[~np.isnan(boots)]  # resamples where a column came out constant rank nothing
    lo, hi = np.percentile(boots, [2.5, 97.5]) if len(boots) else (np.nan, np.nan)
    return spearman(x, y, st), float(lo), float(hi)



def lead(df:pd.DataFrame, a:str, b:str, outcome:str="outcome", resamples:int=2000, seed:int=0) -> tuple:
    "Score `a`'s rho minus score `b`'s (ranks within each stage) and its paired bootstrap 95% interval (same resamples)."
    x, z, y, st = df[a].to_numpy(float), df[b].to_numpy(float), df[outcome].to_numpy(float), df.stage.to_numpy()
    g, where = np.random.default_rng(seed), [np.flatnonzero(st == s) for s in np.unique(st)]
    boots = []
    for _ in range(resamples):
        i = np.concatenate([g.choice(w, len(w)) for w in where])
        boots.append(spearman(x[i], y[i], st[i]) - spearman(z[i], y[i], st[i]))
    boots = np.array(boots)[~np.isnan(boots)]
    lo, hi = np.percentile(boots, [2.5, 97.5]) if len(boots) else (np.nan, np.nan)
    return spearman(x, y, st) - spearman(z, y, st), float(lo), float(hi)

def units(row:pd.Series, col:str) -> np.ndarray:
    "What `row`'s score `col` is the mean of, sign applied: per validation example, training step or batch."
    name, _, length = col.partition("@")
    u = row.units["zero_step"] if name == "zero_step" else row.units[f"emep@{length}"][UNIT[name]]
    return SIGN[name] * np.asarray(u, float)


def paired_noise(stage:pd.DataFrame, col:str, resamples:int=200, seed:int=0) -> pd.Series:
    "Each candidate's bootstrap std of its score minus IMP's on common resamples of its units (the library's way)."
    imp = units(stage[stage.candidate == 0].iloc[0], col)
    g = np.random.default_rng(seed)
    idx = [g.integers(len(imp), size=len(imp)) for _ in range(resamples)]
    base = np.array([imp[i].mean() for i in idx])
    noise = []
    for _, r in stage.iterrows():
        u = units(r, col)
        noise.append(np.std(np.array([u[i].mean() for i in idx]) - base, ddof=1))
    return pd.Series(noise, index=stage.index)


def pick(stage:pd.DataFrame, col:str, rule:str="best", z:float=2.) -> int:
    "The candidate the library's rule `rule` picks from one stage's candidates by score `col`."
    rows = [dict(candidate=int(r.candidate), score=float(r[col])) for _, r in stage.iterrows()]
    if rule == "margin":
        for row, n in zip(rows, paired_noise(stage, col)): row["paired_noise"] = float(n)
    return RULES.get(rule)(SelectionConfig(margin_z=z)).choose(rows)


def regret(df:pd.DataFrame, col:str, rule:str="best", z:float=2.) -> pd.DataFrame:
    "Per stage: the candidate the rule picks, its outcome minus the best candidate's and minus IMP's (points)."
    out = []
    for s, g in df.groupby("stage"):
        c = pick(g, col, rule, z)
        at = g.set_index("candidate").outcome
        out.append(dict(stage=s, picked=c, vs_best=at[c] - at.max(), vs_imp=at[c] - at[0]))
    return pd.DataFrame(out)


def cost(df:pd.DataFrame, col:str) -> float:
    "Median seconds per candidate of the run that gives score `col` (an EMEP run gives its three scores at once)."
    name, _, length = col.partition("@")
    return float(df["seconds zero_step" if name == "zero_step" else f"seconds emep@{length}"].median())


def signal_table(df:pd.DataFrame, scores=SCORES, resamples:int=2000) -> pd.DataFrame:
    "Per score: rho [95% interval] per stage and pooled, regret vs best, gain vs IMP (mean over stages), cost."
    table = {}
    for col in scores:
        row = {}
        for s, g in [*df.groupby("stage"), ("pooled", df)]:
            rho, lo, hi = spearman_ci(g, col, resamples=resamples)
            row.update({f"rho {s}": rho, f"low {s}": lo, f"high {s}": hi})
        r = regret(df, col)
        row.update({"regret vs best": r.vs_best.mean(), "gain vs IMP": r.vs_imp.mean(), "seconds": cost(df, col),
                    "x EMEP": cost(df, col) / cost(df, "metric@1")})
        table[col] = row
    return pd.DataFrame(table).T


def margin_table(df:pd.DataFrame, scores=SCORES, zs=(1., 2., 3.)) -> pd.DataFrame:
    "Per score and z: how many stages the margin rule leaves with IMP, and the picks' mean gain over IMP and regret."
    rows = []
    for col in scores:
        for z in zs:
            r = regret(df, col, "margin", z)
            rows.append(dict(score=col, z=z, kept_imp=int((r.picked == 0).sum()), stages=len(r),
                             gain_vs_imp=r.vs_imp.mean(), regret_vs_best=r.vs_best.mean(),
                             picks=" ".join(map(str, r.picked))))
    return pd.DataFrame(rows)


def repeatability(df:pd.DataFrame) -> pd.DataFrame:
    "Per stage: do outcomes repeat under a second training seed? rho [95%], the candidates' spread and the seed noise."
    rows = []
    for s, g in df.groupby("stage"):
        rho, lo, hi = spearman_ci(g, "held_out", "held_out_repeat")
        diff, mean = g.held_out - g.held_out_repeat, g.outcome
        seed_sd = float(diff.std(ddof=1) / np.sqrt(2))  # one seed's outcome noise
        between = float(np.sqrt(max(0., mean.var(ddof=1) - seed_sd**2 / 2)))  # the spread without the seed noise
        rows.append(dict(stage=s, rho=rho, low=lo, high=hi, range=float(mean.max() - mean.min()), seed_sd=seed_sd,
                         between_sd=between))
    return pd.DataFrame(rows)


def verdict(table:pd.DataFrame) -> tuple[list[str], list[str]]:
    "Scores meeting the goal (pooled interval above `GOAL_RHO`, under `GOAL_COST` x EMEP cost); all predictive ones."
    predictive = [k for k, r in table.iterrows() if r["low pooled"] > GOAL_RHO]
    return [k for k in predictive if table.loc[k, "x EMEP"] < GOAL_COST], predictive


def markdown_table(table:pd.DataFrame) -> str:
    "The README's table of `signal_table`: per score, rho per stage and pooled [95% interval], regret, gain, cost."
    f = lambda x: f"{x:+.2f}".replace("-", "−")
    stages = [c.split()[1] for c in table.columns if c.startswith("rho ") and c != "rho pooled"]
    rows = ["| score | " + " | ".join(f"ρ stage {s}" for s in stages) + " | ρ pooled [95% interval] | vs best | vs IMP "
            "| cost (x EMEP) |", "|---" * (len(stages) + 5) + "|"]
    for k, r in table.iterrows():
        pooled = f"{f(r['rho pooled'])} [{f(r['low pooled'])}, {f(r['high pooled'])}]"
        rows.append(f"| `{k}` | " + " | ".join(f(r[f"rho {s}"]) for s in stages) + f" | {pooled} | {f(r['regret vs best'])} "
                    f"| {f(r['gain vs IMP'])} | {r['x EMEP']:.2f} |")
    return "\n".join(rows)
