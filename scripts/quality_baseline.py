#!/usr/bin/env python3
"""The baseline of `consentry bench quality`: TF-IDF character n-grams + LinearSVC.

    python3 scripts/quality_baseline.py DIR

DIR (written by `consentry bench quality`) holds `train.tsv` (weight<TAB>label<TAB>text: the
rows our default model's recipe trains on, with the recipe's weights) and one
`<set>.tsv` (label<TAB>text) per held-out set. For each n-gram range (char 1-3 and 1-4) it
fits one model on the training rows and writes `<set>.char13.pred` / `<set>.char14.pred`,
one predicted label per line, so the Rust side scores both models with the same code.
Prints one JSON line with the settings and fit times.

Only the baseline is Python (scikit-learn); `.ci/setup-baseline.sh` installs it.
"""
import json
import sys
import time
from pathlib import Path


def read(path, weighted):
    weights, labels, texts = [], [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2 if weighted else 1)
            if weighted:
                w, label, text = parts if len(parts) == 3 else ("1", parts[0], "")
                weights.append(float(w))
            else:
                label, text = parts if len(parts) == 2 else (parts[0], "")
            labels.append(label)
            texts.append(text)
    return weights, labels, texts


def main():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC
    import sklearn

    d = Path(sys.argv[1])
    weights, labels, texts = read(d / "train.tsv", True)
    tests = sorted(p for p in d.glob("*.tsv") if p.name != "train.tsv")
    fits = {}
    for name, hi in [("char13", 3), ("char14", 4)]:
        vec = TfidfVectorizer(analyzer="char", ngram_range=(1, hi), sublinear_tf=True)
        t = time.perf_counter()
        clf = LinearSVC(C=1.0).fit(vec.fit_transform(texts), labels, sample_weight=weights)
        fits[name] = round(time.perf_counter() - t, 2)
        for p in tests:
            _, _, xte = read(p, False)
            pred = clf.predict(vec.transform(xte)) if xte else []
            p.with_suffix(f".{name}.pred").write_text("".join(f"{y}\n" for y in pred))
    print(json.dumps({
        "model": "TfidfVectorizer(char 1-3 | 1-4, sublinear_tf) + LinearSVC(C=1), recipe weights",
        "train_rows": len(texts),
        "fit_s": fits,
        "sklearn": sklearn.__version__,
    }))


if __name__ == "__main__":
    main()
