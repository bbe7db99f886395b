#!/usr/bin/env python3
"""Baseline for the `classify` crate: scikit-learn TF-IDF char n-grams + LinearSVC.

Scores the baseline on exactly the split our Rust model is scored on, and times
training and prediction, so docs/CLASSIFIER.md can state both figures and their ratio.

    cargo run -p classify --release --example dump_split -- /tmp/consentry-split
    python3 scripts/bench_classify_baseline.py /tmp/consentry-split

`--bench FILE.tsv [--rounds N]` is the mode `consentry bench classify` runs: it fits the
baseline on the messages of FILE (all of them: it is a speed figure, not a quality one),
times transform + predict over them single-threaded, batched (the baseline's best case), and
prints one JSON line.

Installs scikit-learn with pip if it is missing. Labels are our categories; "unwanted"
is marketing + fraud, as in the Rust evaluation.
"""
import subprocess
import sys
import time
from pathlib import Path


def ensure_sklearn():
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("scikit-learn missing: pip install scikit-learn", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "scikit-learn"],
                              stdout=sys.stderr)


def read(path):
    labels, texts = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            labels.append(label)
            texts.append(text)
    return labels, texts


def bench(path, rounds):
    import json
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    labels, texts = read(path)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    t = time.perf_counter()
    clf = LinearSVC(C=1.0).fit(vec.fit_transform(texts), labels)
    train_s = time.perf_counter() - t
    clf.predict(vec.transform(texts[:1000]))  # warm up
    best = 0.0
    for _ in range(max(rounds, 1)):
        t = time.perf_counter()
        clf.predict(vec.transform(texts))
        best = max(best, len(texts) / (time.perf_counter() - t))
    import sklearn
    print(json.dumps({
        "messages": len(texts),
        "predict_per_sec": round(best),
        "train_s": round(train_s, 3),
        "model": "TfidfVectorizer(char_wb 1-3, sublinear_tf) + LinearSVC(C=1)",
        "sklearn": sklearn.__version__,
    }))


def main():
    ensure_sklearn()
    if len(sys.argv) > 2 and sys.argv[1] == "--bench":
        rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
        bench(sys.argv[2], rounds)
        return
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score
    from sklearn.svm import LinearSVC

    split = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/consentry-split")
    unwanted = {"marketing", "fraud"}
    all_test = []
    for source in ["uci", "zh", "fbs3"]:
        ytr, xtr = read(split / f"{source}.train.tsv")
        yte, xte = read(split / f"{source}.test.tsv")
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1)
        t = time.perf_counter()
        clf = LinearSVC(C=1.0).fit(vec.fit_transform(xtr), ytr)
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        pred = clf.predict(vec.transform(xte))
        pred_s = time.perf_counter() - t
        if len(set(ytr)) == 2:
            f1 = f1_score([y in unwanted for y in yte], [p in unwanted for p in pred])
            name = "unwanted F1"
        else:
            f1 = f1_score(yte, pred, average="macro")
            name = "macro-F1"
        print(f"{source:<4} {name} {f1:.4f}  train {train_s:.2f} s on {len(xtr)}  "
              f"predict {len(xte) / pred_s:,.0f} msg/s")
        if source != "fbs3":
            all_test += [(x, y) for x, y in zip(xtr + xte, ytr + yte)]
    yfb, xfb = read(split / "fbs.train.tsv")
    yfb2, xfb2 = read(split / "fbs.test.tsv")
    all_test += [(x, y) for x, y in zip(xfb + xfb2, yfb + yfb2)]
    # Throughput and training time on all messages of the three sets, as in `bench`.
    texts = [x for x, _ in all_test]
    labels = [y for _, y in all_test]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    t = time.perf_counter()
    clf = LinearSVC(C=1.0).fit(vec.fit_transform(texts), labels)
    train_s = time.perf_counter() - t
    t = time.perf_counter()
    clf.predict(vec.transform(texts))
    pred_s = time.perf_counter() - t
    print(f"all  {len(texts)} messages: train {train_s:.2f} s, predict {len(texts) / pred_s:,.0f} msg/s "
          f"(1 thread)")


if __name__ == "__main__":
    main()
