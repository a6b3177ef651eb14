#!/usr/bin/env python3
"""PyTorch eager timings for the LossDsl benchmarks' `terms` and `eager` commands.

A benchmark aid, never needed by the tests or CI. Started once by
benchmarks/LossDsl.Benchmarks/Eager/PyTorchEager.cs and driven over stdin/stdout, one request and
one answer per line, so that the C# side can interleave rounds without paying for a start-up:

    info                          -> "ok torch=<version> threads=<n> allocator=<MALLOC_* settings>"
    cases                         -> "ok <case> <case> ..."
    run <case> <mode> <n>         -> "ok <seconds>"   n iterations, timed together
    value <case>                  -> "ok <loss>"      one forward, its value as a float
    quit                          -> (exits)

<mode> is "forward" (the loss only; its graph is built and dropped) or "backward" (the loss, then
loss.backward() with respect to the leaf student logits or features, whose .grad is set to None
after every iteration). A request that cannot be served is answered "error <message>".

The inputs have the shapes of the hot-path benchmark's full regime (HotPath/HotPathInputs.cs):
logits 8 x 128 x 4096 and features 4 x 8 x 128 x 512, float32. Each case is the term as a
PyTorch user writes it with torch.nn.functional; "distillation" is the README's distillation loss
(tests/Shared/DistillationLoss.cs) with the balancing of the expert
(benchmarks/LossDsl.Benchmarks/HotPath/ExpertDistillation.cs), op for op.

Usage: MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=536870912 python3 eager_time.py [threads]
"""

import math
import os
import sys
import time

import torch
import torch.nn.functional as F

BATCH, SEQUENCE, VOCABULARY = 8, 128, 4096
LAYERS, WIDTH = 4, 512
TEMPERATURE = 2.0
ALPHA = 0.5
BETA = 0.5
LABEL_SMOOTHING = 0.1
IGNORE_INDEX = -100
EPSILON = 1e-8
RESIDUE_TOLERANCE = 1e-5


class Inputs:
    """The full regime's tensors; the student's logits and features are leaves that require grad."""

    def __init__(self):
        # The seed and order of HotPath/HotPathInputs.cs and Eager/TermBenchmark.cs: PyTorch 1.13 and
        # libtorch 2.10 draw the same numbers from it on the CPU, so both sides see the same inputs.
        torch.manual_seed(7)
        self.student_logits = torch.randn(BATCH, SEQUENCE, VOCABULARY, requires_grad=True)
        self.teacher_logits = torch.randn(BATCH, SEQUENCE, VOCABULARY)
        self.labels = torch.randint(VOCABULARY, (BATCH, SEQUENCE))
        self.student_features = torch.randn(LAYERS, BATCH, SEQUENCE, WIDTH, requires_grad=True)
        self.teacher_features = torch.randn(LAYERS, BATCH, SEQUENCE, WIDTH)
        # Every eighth position is padding.
        self.ignored_labels = self.labels.clone()
        self.ignored_labels.view(-1)[::8] = IGNORE_INDEX
        self.binary_targets = torch.rand(BATCH, SEQUENCE, VOCABULARY)


def rows(logits):
    """Positions as rows: cross_entropy wants the classes in dimension 1, kl_div's batchmean divides by rows."""
    return logits.reshape(-1, logits.shape[-1])


def cross_entropy(x):
    return F.cross_entropy(rows(x.student_logits), x.labels.reshape(-1))


def cross_entropy_ignore_smooth(x):
    return F.cross_entropy(rows(x.student_logits), x.ignored_labels.reshape(-1),
                           ignore_index=IGNORE_INDEX, label_smoothing=LABEL_SMOOTHING)


def log_probs(logits):
    return F.log_softmax(rows(logits) / TEMPERATURE, dim=-1)


def soft_target_kl(x):
    # KL(teacher || student) x T^2, averaged over positions (batchmean over the position rows).
    return F.kl_div(log_probs(x.student_logits), log_probs(x.teacher_logits.detach()),
                    reduction="batchmean", log_target=True) * (TEMPERATURE * TEMPERATURE)


def reverse_kl(x):
    # KL(student || teacher) x T^2: kl_div(input, target) sums exp(target) (target - input).
    return F.kl_div(log_probs(x.teacher_logits.detach()), log_probs(x.student_logits),
                    reduction="batchmean", log_target=True) * (TEMPERATURE * TEMPERATURE)


def jensen_shannon(x):
    student = log_probs(x.student_logits)
    teacher = log_probs(x.teacher_logits.detach())
    mixture = torch.logsumexp(torch.stack([teacher + math.log(BETA), student + math.log(1 - BETA)]), dim=0)
    divergence = (BETA * F.kl_div(mixture, teacher, reduction="batchmean", log_target=True)
                  + (1 - BETA) * F.kl_div(mixture, student, reduction="batchmean", log_target=True))
    return divergence * (TEMPERATURE * TEMPERATURE)


def cosine_distance(x):
    return 1 - F.cosine_similarity(x.student_features, x.teacher_features, dim=-1, eps=EPSILON).mean()


def mse(x):
    return F.mse_loss(x.student_features, x.teacher_features)


def bce_with_logits(x):
    return F.binary_cross_entropy_with_logits(x.student_logits, x.binary_targets)


def scale(a, b):
    """b / a from the magnitudes a and b, kept in the dtype's positive normal range, 1 where either is at most eps."""
    info = torch.finfo(a.dtype)
    return (b / a).clamp_(info.tiny, info.max).masked_fill_(torch.minimum(a, b) <= EPSILON, 1.0)


def distillation(x):
    """The README's loss: Kd = Soft + Balance(Feature, to: Soft); Total = Hard + Alpha * Balance(Kd, to: Hard)."""
    hard = cross_entropy(x)
    soft = soft_target_kl(x)
    feature = cosine_distance(x)
    with torch.no_grad():
        feature_magnitude = feature.abs()
        soft_magnitude = soft.abs()
        feature_scale = scale(feature_magnitude, soft_magnitude)
    kd = torch.addcmul(soft, feature, feature_scale)
    with torch.no_grad():
        # Where Kd cancelled, what is left is rounding residue of |Soft| + |Feature| scale: count it as 0.
        kd_magnitude = kd.abs()
        threshold = torch.addcmul(soft_magnitude, feature_magnitude, feature_scale).mul_(RESIDUE_TOLERANCE)
        kd_magnitude.masked_fill_(kd_magnitude <= threshold, 0.0)
        kd_scale = scale(kd_magnitude, hard.abs())
    return torch.addcmul(hard, kd, kd_scale, value=ALPHA)


LOGITS_CASES = {
    "cross_entropy": cross_entropy,
    "cross_entropy_ignore_smooth": cross_entropy_ignore_smooth,
    "soft_target_kl": soft_target_kl,
    "reverse_kl": reverse_kl,
    "jensen_shannon": jensen_shannon,
    "bce_with_logits": bce_with_logits,
}
FEATURE_CASES = {
    "cosine_distance": cosine_distance,
    "mse": mse,
}


def leaves(x, case):
    if case in LOGITS_CASES:
        return [x.student_logits]
    if case in FEATURE_CASES:
        return [x.student_features]
    return [x.student_logits, x.student_features]


CASES = {**LOGITS_CASES, **FEATURE_CASES, "distillation": distillation}


def run(x, case, mode, iterations):
    loss_of = CASES[case]
    grads = leaves(x, case)
    backward = mode == "backward"
    start = time.perf_counter()
    for _ in range(iterations):
        loss = loss_of(x)
        if backward:
            loss.backward()
            for leaf in grads:
                leaf.grad = None
        del loss
    return time.perf_counter() - start


def allocator():
    settings = [f"{name}={os.environ[name]}" for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_") if name in os.environ]
    return ",".join(settings) if settings else "glibc-default"


def answer(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def serve(x):
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                return
            if words[0] == "info":
                answer(f"ok torch={torch.__version__} threads={torch.get_num_threads()} allocator={allocator()}")
            elif words[0] == "cases":
                answer("ok " + " ".join(CASES))
            elif words[0] == "run" and len(words) == 4:
                case, mode, iterations = words[1], words[2], int(words[3])
                if case not in CASES:
                    raise ValueError(f"unknown case '{case}'; the cases are {', '.join(CASES)}")
                if mode not in ("forward", "backward"):
                    raise ValueError(f"unknown mode '{mode}'; the modes are forward and backward")
                if iterations < 1:
                    raise ValueError(f"iterations must be at least 1, not {iterations}")
                answer(f"ok {run(x, case, mode, iterations)!r}")
            elif words[0] == "value" and len(words) == 2:
                if words[1] not in CASES:
                    raise ValueError(f"unknown case '{words[1]}'; the cases are {', '.join(CASES)}")
                with torch.no_grad():
                    answer(f"ok {CASES[words[1]](x).item()!r}")
            else:
                raise ValueError(f"unknown request '{line.strip()}'; expected info, cases, run <case> <mode> <n>, value <case> or quit")
        except Exception as error:  # the C# side reports it and stops
            answer(f"error {type(error).__name__}: {error}".replace("\n", " "))


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    serve(Inputs())


if __name__ == "__main__":
    main()
