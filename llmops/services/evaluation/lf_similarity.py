"""LLaMA-Factory's `ComputeSimilarity` recipe (jieba + rouge-chinese ROUGE-1/2/L, nltk character BLEU-4), faster.

The numbers are LLaMA-Factory's to the last bit; the speed comes from doing each piece of work once:
- jieba's cut of a text is the concatenation of its own `__cut_DAG` over the text's word blocks, so each
  distinct block is cut once and kept (English words and common phrases repeat all the time);
- each distinct text is cut, sentence-split (rouge-chinese's `cut_sent`) and counted once, and ROUGE-1/2
  go through rouge-chinese's own batch entry point (`multi_rouge_n`);
- ROUGE-L's longest common subsequence is an integer, taken from rapidfuzz's C++ LCS over word ids instead of
  rouge-chinese's pure-Python table, then turned into the F-score by rouge-chinese's own formula function;
- BLEU-4 is nltk's `sentence_bleu` per pair, called exactly as LLaMA-Factory calls it (a repeated pair once).
Texts are processed in chunks, so the per-text caches stay bounded on any number of predictions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

KEYS = ("rouge-1", "rouge-2", "rouge-l", "bleu-4")
CHUNK = 4096  # pairs per batch
_CACHE_LIMIT = 200_000  # entries per cache before it is emptied (a memory bound, not a correctness matter)


class _Text:
    """What one text contributes to ROUGE: its jieba words, sentences and word ids."""

    __slots__ = ("empty", "ids", "sentences", "words")

    def __init__(self, empty: bool, sentences: list[str], ids: list[int], words: int):
        self.empty, self.sentences, self.ids, self.words = empty, sentences, ids, words


class LFSimilarity:
    """Scores (prediction, label) pairs as LLaMA-Factory's do_predict does; caches live as long as the object."""

    def __init__(self):
        import jieba
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
        from rapidfuzz.distance import LCSseq
        from rouge_chinese import Rouge, rouge_score

        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" banner is noise on a CLI
        jieba.initialize()
        self._cut_block = jieba.dt._Tokenizer__cut_DAG  # what jieba.cut runs on each block (HMM on, the default)
        self._re_han, self._re_skip = jieba.re_han_default, jieba.re_skip_default
        self._sentence_bleu, self._method3 = sentence_bleu, SmoothingFunction().method3
        self._lcs = LCSseq.similarity
        self._rouge, self._rs = Rouge(), rouge_score
        self._blocks: dict[str, list[str]] = {}
        self._texts: dict[str, _Text] = {}
        self._vocab: dict[str, int] = {}
        self._bleu: dict[tuple[str, str], float] = {}  # a repeated (prediction, label) pair is scored once

    def cut(self, text: str) -> list[str]:
        """Exactly `list(jieba.cut(text))`, with each word block cut once."""
        if len(self._blocks) >= _CACHE_LIMIT:
            self._blocks.clear()
        out: list[str] = []
        blocks, re_han, re_skip = self._blocks, self._re_han, self._re_skip
        for block in re_han.split(text):
            if not block:
                continue
            if re_han.match(block):
                words = blocks.get(block)
                if words is None:
                    words = blocks[block] = list(self._cut_block(block))
                out.extend(words)
            else:
                for piece in re_skip.split(block):
                    if re_skip.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _text(self, text: str) -> _Text:
        found = self._texts.get(text)
        if found is not None:
            return found
        joined = " ".join(self.cut(text))
        if not joined.split():
            found = _Text(True, [], [], 0)
        else:
            # As rouge-chinese's Rouge._get_scores prepares each side.
            sentences = [" ".join(s.split()) for s in self._rouge.cut_sent(joined) if len(s) > 0]
            words = self._rs._split_into_words(sentences)
            vocab = self._vocab
            ids = [vocab.setdefault(w, len(vocab)) for w in words]
            found = _Text(False, sentences, ids, len(words))
        self._texts[text] = found
        return found

    def bleu4(self, pred: str, label: str) -> float:
        """nltk character BLEU-4 with smoothing method3, ×100, rounded to 4 places: LLaMA-Factory's very call."""
        key = (pred, label)
        score = self._bleu.get(key)
        if score is None:
            if len(self._bleu) >= _CACHE_LIMIT:
                self._bleu.clear()
            raw = self._sentence_bleu([list(label)], list(pred), smoothing_function=self._method3)
            score = self._bleu[key] = round(raw * 100, 4)
        return score

    def score(self, preds: Sequence[str], labels: Sequence[str]) -> dict[str, list[float]]:
        """Per-pair rouge-1, rouge-2, rouge-l and bleu-4 (each ×100 and rounded to 4 places, as LLaMA-Factory)."""
        if len(preds) != len(labels):
            raise ValueError("preds and labels differ in length")
        out: dict[str, list[float]] = {k: [] for k in KEYS}
        for start in range(0, len(preds), CHUNK):
            chunk = self._score_chunk(preds[start:start + CHUNK], labels[start:start + CHUNK])
            for key in KEYS:
                out[key].extend(chunk[key])
        return out

    def _score_chunk(self, preds: Sequence[str], labels: Sequence[str]) -> dict[str, list[float]]:
        if len(self._texts) >= _CACHE_LIMIT:
            self._texts.clear()
        hyps = [self._text(p) for p in preds]
        refs = [self._text(r) for r in labels]
        out: dict[str, list[float]] = {k: [0.0] * len(preds) for k in KEYS}
        full = [i for i, (h, r) in enumerate(zip(hyps, refs)) if not h.empty and not r.empty]
        if full:
            sequences, index = [], {}

            def slot(item: _Text) -> int:
                key = id(item)
                if key not in index:
                    index[key] = len(sequences)
                    sequences.append(item.sentences)
                return index[key]

            pairs = [(slot(hyps[i]), slot(refs[i])) for i in full]
            for n, key in ((1, "rouge-1"), (2, "rouge-2")):
                scores = self._rs.multi_rouge_n(sequences, pairs, n=n, exclusive=True)
                column = out[key]
                for i, sc in zip(full, scores):
                    column[i] = round(sc["f"] * 100, 4)
            column, lcs, fscore = out["rouge-l"], self._lcs, self._rs.f_r_p_rouge_n
            for i in full:
                hyp, ref = hyps[i], refs[i]
                # rouge_l_summary_level: F of LCS(ref words, hyp words) over hyp (n) and ref (m) word counts.
                column[i] = round(fscore(hyp.words, ref.words, lcs(ref.ids, hyp.ids))["f"] * 100, 4)
        out["bleu-4"] = [self.bleu4(p, r) for p, r in zip(preds, labels)]
        return out



def summarise(scores: dict[str, list[float]]) -> dict[str, float]:
    """The set's figures: the mean of the rounded per-sample values, as LLaMA-Factory's `_dump`."""
    return {k: float(np.mean(v)) for k, v in scores.items()}
