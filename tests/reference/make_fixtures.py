#!/usr/bin/env python3
"""Reference fixtures for LossDsl's term library (src/LossDsl/Losses.cs), computed by PyTorch itself.

What it calls (PyTorch 1.13, Debian bookworm's python3-torch 1.13.1+dfsg):
  - torch.nn.functional.cross_entropy(input, target, weight=, ignore_index=, label_smoothing=,
    reduction="mean") for Losses.CrossEntropy. LossDsl's mask has no PyTorch counterpart; a
    masked-out position is given to PyTorch as a position whose target is ignore_index, which is
    what the mask means for class-index labels. For probability labels PyTorch has no ignore index
    or mask; masked cases use reduction="none" and average the kept positions.
  - torch.nn.functional.mse_loss, l1_loss, smooth_l1_loss(beta=) and huber_loss(delta=) with
    reduction="none" for Losses.Mse, L1, SmoothL1 and Huber: the per-element loss times the
    per-element weight, summed over kept elements and divided by the kept count (PyTorch's
    convention for element weights, as in binary_cross_entropy(weight=)), or reduction="mean"
    when there is neither mask nor weight.
  - torch.nn.functional.binary_cross_entropy_with_logits(input, target, pos_weight=,
    reduction="none") for Losses.BinaryCrossEntropyWithLogits, weighted, masked and averaged as above.
  - Focal loss, which PyTorch does not have: Lin, Goyal, Girshick, He and Dollar, "Focal Loss for
    Dense Object Detection", ICCV 2017 (arXiv:1708.02002), eq. 5 with the sigmoid probability;
    computed from torch.sigmoid and binary_cross_entropy_with_logits (see focal() below).
  - ReverseKl and JensenShannon, from torch.nn.functional.log_softmax, kl_div(log_target=True) and
    torch.logsumexp. JensenShannon is the generalized JSD with mixing weight beta as Liger Kernel
    defines it (class LigerJSD in src/liger_kernel/transformers/jsd.py of linkedin/Liger-Kernel):
    beta KL(P || M) + (1 - beta) KL(Q || M), M = beta P + (1 - beta) Q, P the teacher, Q the
    student; forward KL(P || Q) at beta = 0 and reverse KL(Q || P) at beta = 1. Both are
    multiplied by T^2 (as Losses.SoftTargetKl is) and averaged over positions that are not ignored.
  - TopKKl, which PyTorch does not have: the teacher's distribution cut to its top k classes
    (torch.topk) and renormalised, against the student's full distribution (see top_k_kl() below).
  - The formula language's math functions (math_function_cases() below), for
    tests/LossDsl.Tests/MathFunctionReferenceTests.cs: torch.sqrt, log, exp, abs, minimum,
    maximum, clamp_max, clamp_min, clamp(min, max) and pow (tensor ** number, tensor ** tensor,
    number ** tensor), each formula written once here as a Python function over 0-dim inputs
    (or over two terms computed from a vector), with the edge cases: abs at 0, min/max ties,
    clamp at its bounds, a non-integer exponent, 0 ** 2, log near 0.
Gradients are torch.autograd's, with respect to every floating-point input that the C# function
differentiates (never the labels, weights or mask).

Where PyTorch returns NaN because nothing is left to average (every position ignored, or class
weights summing to zero), the fixture stores null as the output; LossDsl documents zero there
(with zero gradients) and the tests check that instead.

How to run (from the repository root; CI does not need Python, the output is committed):
  apt-get install -y python3-torch
  /usr/bin/python3 tests/reference/make_fixtures.py
It rewrites tests/LossDsl.Tests/Reference/*.json deterministically (fixed seeds).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LossDsl.Tests", "Reference")
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def encode(t):
    t = t.detach()
    if t.dtype == torch.bool:
        data = [bool(v) for v in t.flatten().tolist()]
        kind = "bool"
    elif t.dtype in (torch.int64, torch.int32):
        data = [int(v) for v in t.flatten().tolist()]
        kind = "int64"
    else:
        data = [None if not math.isfinite(v) else float(v) for v in t.to(torch.float64).flatten().tolist()]
        kind = str(t.dtype).replace("torch.", "")
    return {"shape": list(t.shape), "dtype": kind, "data": data}


def scalar(v):
    v = float(v)
    return v if math.isfinite(v) else None


def case(name, dtype, tensors, params, loss_fn, differentiate):
    """Runs loss_fn(**tensors) with gradients on the named inputs and records everything."""
    leaves = {}
    for key, value in tensors.items():
        if key in differentiate:
            value = value.detach().clone().requires_grad_(True)
        leaves[key] = value
    out = loss_fn(**leaves)
    grads = {}
    if out.requires_grad and math.isfinite(float(out)):
        got = torch.autograd.grad(out, [leaves[k] for k in differentiate])
        grads = {k: encode(g) for k, g in zip(differentiate, got)}
    return {
        "name": name,
        "dtype": dtype,
        "params": params,
        "tensors": {k: encode(v) for k, v in tensors.items()},
        "output": scalar(out),
        "grads": grads,
    }


def write(name, cases):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


# ---------------------------------------------------------------- CrossEntropy

def cross_entropy_index(logits, labels, weight=None, mask=None, ignore_index=-100, smoothing=0.0):
    target = labels if mask is None else labels.masked_fill(~mask, ignore_index)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), weight=weight,
                           ignore_index=ignore_index, label_smoothing=smoothing, reduction="mean")


def cross_entropy_probs(logits, labels, weight=None, mask=None, smoothing=0.0):
    flat = logits.reshape(-1, logits.shape[-1])
    target = labels.reshape(-1, labels.shape[-1])
    if mask is None:
        return F.cross_entropy(flat, target, weight=weight, label_smoothing=smoothing, reduction="mean")
    per = F.cross_entropy(flat, target, weight=weight, label_smoothing=smoothing, reduction="none")
    keep = mask.reshape(-1)
    return per[keep].sum() / keep.sum()


def cross_entropy_cases():
    cases = []
    for dname, dtype in DTYPES.items():
        g = torch.Generator().manual_seed(13)

        def randn(*shape, scale=1.0):
            return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

        def labels(shape, classes):
            return torch.randint(0, classes, shape, generator=g)

        def weights(classes):
            return (torch.rand(classes, generator=g, dtype=torch.float64) * 2 + 0.1).to(dtype)

        def add(name, params, tensors, fn):
            cases.append(case(name, dname, tensors, params, fn, ["logits"]))

        for smoothing in (0.0, 0.1, 1.0):
            for weighted in (False, True):
                for shape in ((6, 5), (2, 3, 7)):
                    logits = randn(*shape, scale=3)
                    y = labels(shape[:-1], shape[-1])
                    y.view(-1)[1] = -100
                    t = {"logits": logits, "labels": y}
                    if weighted:
                        t["weight"] = weights(shape[-1])
                    add(f"index s={smoothing} w={weighted} {list(shape)}", {"labelSmoothing": smoothing}, t,
                        lambda logits, labels, weight=None, s=smoothing: cross_entropy_index(logits, labels, weight, smoothing=s))
        # A custom ignore index and a mask, with weights and smoothing.
        logits = randn(4, 3, 6, scale=2)
        y = labels((4, 3), 6)
        y[0, 1] = 2
        mask = torch.rand(4, 3, generator=g) > 0.3
        mask[0, 0] = True
        y[0, 0] = 5
        add("index ignore=5 mask weight s=0.2", {"labelSmoothing": 0.2, "ignoreIndex": 5},
            {"logits": logits, "labels": y, "mask": mask, "weight": weights(6)},
            lambda logits, labels, mask, weight: cross_entropy_index(logits, labels, weight, mask, ignore_index=5, smoothing=0.2))
        # Zero weights on some classes (the weighted mean skips them).
        logits = randn(8, 4, scale=2)
        y = labels((8,), 4)
        y[0], y[1] = 0, 3
        w = weights(4)
        w[0] = 0
        add("index zero weight on a class s=0.3", {"labelSmoothing": 0.3},
            {"logits": logits, "labels": y, "weight": w},
            lambda logits, labels, weight: cross_entropy_index(logits, labels, weight, smoothing=0.3))
        # Extreme logits.
        logits = randn(5, 6, scale=1)
        logits[0, 0] = 1e4
        logits[1, 2] = -1e4
        logits[2] = torch.tensor([80.0, -80.0, 60.0, 0.0, -60.0, 30.0], dtype=dtype)
        y = torch.tensor([1, 2, 1, 0, 5])
        for s in (0.0, 0.5):
            add(f"index extreme logits s={s}", {"labelSmoothing": s},
                {"logits": logits, "labels": y, "weight": weights(6)},
                lambda logits, labels, weight, s=s: cross_entropy_index(logits, labels, weight, smoothing=s))
        # Everything ignored, and every kept label on a zero-weight class: PyTorch gives NaN.
        logits = randn(3, 4)
        add("index all ignored s=0.1", {"labelSmoothing": 0.1},
            {"logits": logits, "labels": torch.full((3,), -100)},
            lambda logits, labels: cross_entropy_index(logits, labels, smoothing=0.1))
        w = weights(4)
        w[1] = 0
        add("index kept weights sum to zero", {"labelSmoothing": 0.0},
            {"logits": logits, "labels": torch.tensor([1, 1, -100]), "weight": w},
            lambda logits, labels, weight: cross_entropy_index(logits, labels, weight))
        # Probability labels, with smoothing, weights and a mask.
        for smoothing in (0.0, 0.25, 1.0):
            for weighted in (False, True):
                logits = randn(3, 2, 5, scale=2)
                probs = torch.softmax(randn(3, 2, 5, scale=2), -1)
                t = {"logits": logits, "labels": probs}
                if weighted:
                    t["weight"] = weights(5)
                add(f"probs s={smoothing} w={weighted}", {"labelSmoothing": smoothing}, t,
                    lambda logits, labels, weight=None, s=smoothing: cross_entropy_probs(logits, labels, weight, smoothing=s))
        mask = torch.tensor([[True, False], [True, True], [False, True]])
        add("probs mask weight s=0.1", {"labelSmoothing": 0.1},
            {"logits": randn(3, 2, 5), "labels": torch.softmax(randn(3, 2, 5), -1), "mask": mask, "weight": weights(5)},
            lambda logits, labels, mask, weight: cross_entropy_probs(logits, labels, weight, mask, smoothing=0.1))
    return cases


# ---------------------------------------------------------------- Regression

def pointwise(per_element):
    def loss(input, target, mask=None, weight=None):
        per = per_element(input, target)
        if mask is None and weight is None:
            return per.mean()
        if weight is not None:
            per = per * weight
        if mask is None:
            return per.sum() / per.numel()
        return per[mask].sum() / mask.sum()
    return loss


def regression_cases(name, per_element_for, params_list):
    cases = []
    for dname, dtype in DTYPES.items():
        g = torch.Generator().manual_seed(7)

        def randn(*shape, scale=1.0):
            return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

        for params in params_list:
            fn = pointwise(per_element_for(params))
            label = " ".join(f"{k}={v}" for k, v in params.items())
            a, b = randn(4, 5, scale=2), randn(4, 5, scale=2)
            # An exact tie (difference zero), except for smooth_l1 with beta = 0: there PyTorch 1.13's
            # backward takes the subgradient -1 at zero (its test is x <= -beta), while l1_loss and
            # LossDsl take 0; RegressionReferenceTests checks LossDsl's choice separately.
            if params.get("beta") != 0.0:
                b[0, 0] = a[0, 0]
            cases.append(case(f"plain {label}", dname, {"input": a, "target": b}, params, fn, ["input", "target"]))
            w = torch.rand(4, 5, generator=g, dtype=torch.float64).to(dtype)
            w[1] = 0
            cases.append(case(f"weight {label}", dname, {"input": a, "target": b, "weight": w}, params, fn, ["input", "target"]))
            mask = torch.rand(4, 5, generator=g) > 0.4
            mask[0, 1] = True
            cases.append(case(f"mask {label}", dname, {"input": a, "target": b, "mask": mask}, params, fn, ["input", "target"]))
            cases.append(case(f"mask weight {label}", dname, {"input": a, "target": b, "mask": mask, "weight": w}, params, fn,
                              ["input", "target"]))
            c, d = randn(2, 3, 2, scale=1e3), randn(2, 3, 2, scale=1e-3)
            cases.append(case(f"wide range {label}", dname, {"input": c, "target": d}, params, fn, ["input", "target"]))
        none = torch.zeros(2, 3, dtype=torch.bool)
        cases.append(case("all masked", dname, {"input": randn(2, 3), "target": randn(2, 3), "mask": none}, params_list[0],
                          pointwise(per_element_for(params_list[0])), ["input", "target"]))
    write(name, cases)


# ---------------------------------------------------------------- Binary

def masked_mean(per, mask=None, weight=None):
    if weight is not None:
        per = per * weight
    if mask is None:
        return per.mean()
    return per[mask].sum() / mask.sum()


def bce(logits, targets, mask=None, weight=None, posWeight=None):
    per = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=posWeight, reduction="none")
    return masked_mean(per, mask, weight)


def focal(alpha, gamma):
    # Lin et al., "Focal Loss for Dense Object Detection" (ICCV 2017), eq. 5 with the sigmoid
    # probability p and p_t = p if y = 1 else 1 - p, alpha_t likewise; the same formula as
    # torchvision.ops.sigmoid_focal_loss, written here with PyTorch primitives.
    def loss(logits, targets, mask=None):
        p = torch.sigmoid(logits)
        ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        p_t = p * targets + (1 - p) * (1 - targets)
        per = ce * (1 - p_t) ** gamma
        if alpha is not None:
            per = per * (alpha * targets + (1 - alpha) * (1 - targets))
        return masked_mean(per, mask)
    return loss


def binary_cases():
    bce_cases, focal_cases = [], []
    for dname, dtype in DTYPES.items():
        g = torch.Generator().manual_seed(17)

        def randn(*shape, scale=1.0):
            return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

        def targets(*shape, soft=False):
            t = torch.rand(*shape, generator=g, dtype=torch.float64)
            return (t if soft else (t > 0.5).to(torch.float64)).to(dtype)

        def add_bce(name, tensors):
            bce_cases.append(case(name, dname, tensors, {}, bce, ["logits"]))

        x, y = randn(4, 3, scale=3), targets(4, 3)
        add_bce("plain", {"logits": x, "targets": y})
        add_bce("soft targets", {"logits": randn(2, 2, 5, scale=2), "targets": targets(2, 2, 5, soft=True)})
        pos = (torch.rand(3, generator=g, dtype=torch.float64) * 3 + 0.2).to(dtype)
        add_bce("posWeight", {"logits": x, "targets": y, "posWeight": pos})
        w = torch.rand(4, 3, generator=g, dtype=torch.float64).to(dtype)
        w[2] = 0
        add_bce("weight with zeros", {"logits": x, "targets": y, "weight": w})
        mask = torch.rand(4, 3, generator=g) > 0.4
        mask[0, 0] = True
        add_bce("mask weight posWeight", {"logits": x, "targets": y, "mask": mask, "weight": w, "posWeight": pos})
        extreme = torch.tensor([[1e4, -1e4, 80.0], [-80.0, 30.0, 0.0]], dtype=dtype)
        add_bce("extreme logits", {"logits": extreme, "targets": torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]], dtype=dtype),
                                   "posWeight": pos})
        add_bce("all masked", {"logits": x, "targets": y, "mask": torch.zeros(4, 3, dtype=torch.bool)})

        for alpha, gamma in ((0.25, 2.0), (None, 2.0), (0.5, 0.0), (0.75, 1.5), (0.0, 3.0)):
            params = {"gamma": gamma} if alpha is None else {"alpha": alpha, "gamma": gamma}
            label = f"alpha={alpha} gamma={gamma}"
            focal_cases.append(case(f"plain {label}", dname, {"logits": randn(5, 4, scale=2), "targets": targets(5, 4)},
                                    params, focal(alpha, gamma), ["logits"]))
            mask = torch.rand(5, 4, generator=g) > 0.5
            mask[0, 0] = True
            focal_cases.append(case(f"soft targets mask {label}", dname,
                                    {"logits": randn(5, 4, scale=2), "targets": targets(5, 4, soft=True), "mask": mask},
                                    params, focal(alpha, gamma), ["logits"]))
        moderate = torch.tensor([[12.0, -12.0, 30.0], [-30.0, 3.0, 0.0]], dtype=dtype)
        focal_cases.append(case("large logits alpha=0.25 gamma=2.0", dname,
                                {"logits": moderate, "targets": torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]], dtype=dtype)},
                                {"alpha": 0.25, "gamma": 2.0}, focal(0.25, 2.0), ["logits"]))
        focal_cases.append(case("all masked", dname,
                                {"logits": randn(2, 3), "targets": targets(2, 3), "mask": torch.zeros(2, 3, dtype=torch.bool)},
                                {"alpha": 0.25, "gamma": 2.0}, focal(0.25, 2.0), ["logits"]))
    write("binary_cross_entropy_with_logits", bce_cases)
    write("focal", focal_cases)


# ---------------------------------------------------------------- Distillation

def kept_mean(per, labels=None, mask=None, ignore_index=-100):
    keep = torch.ones(per.shape, dtype=torch.bool)
    if labels is not None:
        keep = keep & (labels != ignore_index)
    if mask is not None:
        keep = keep & mask
    return per[keep].sum() / keep.sum()


def reverse_kl(temperature):
    # KL(student_T || teacher_T) = sum q_s (log q_s - log p_t), with torch.nn.functional.kl_div.
    def loss(student, teacher, labels=None, mask=None):
        log_q = F.log_softmax(student / temperature, -1)
        log_p = F.log_softmax(teacher.detach() / temperature, -1)
        per = F.kl_div(log_p, log_q, log_target=True, reduction="none").sum(-1)
        return kept_mean(per, labels, mask) * temperature ** 2
    return loss


def jensen_shannon(beta, temperature):
    # The generalized JSD as Liger Kernel defines it (LigerJSD, src/liger_kernel/transformers/jsd.py
    # in linkedin/Liger-Kernel): with P the teacher and Q the student distribution and
    # M = beta P + (1 - beta) Q, JSD_beta = beta KL(P || M) + (1 - beta) KL(Q || M); beta = 0 is
    # the forward KL(P || Q) and beta = 1 the reverse KL(Q || P); averaged over non-ignored positions.
    def loss(student, teacher, labels=None, mask=None):
        log_q = F.log_softmax(student / temperature, -1)
        log_p = F.log_softmax(teacher.detach() / temperature, -1)
        if beta == 0:
            per = F.kl_div(log_q, log_p, log_target=True, reduction="none").sum(-1)
        elif beta == 1:
            per = F.kl_div(log_p, log_q, log_target=True, reduction="none").sum(-1)
        else:
            log_m = torch.logsumexp(torch.stack([log_p + math.log(beta), log_q + math.log(1 - beta)]), 0)
            per = (beta * F.kl_div(log_m, log_p, log_target=True, reduction="none").sum(-1)
                   + (1 - beta) * F.kl_div(log_m, log_q, log_target=True, reduction="none").sum(-1))
        return kept_mean(per, labels, mask) * temperature ** 2
    return loss


def top_k_kl(k, temperature):
    # KL restricted to the teacher's top-k classes, which PyTorch does not have: the teacher's
    # softened distribution cut to its k largest classes and renormalised (P_k), against the
    # student's full softened distribution Q: KL(P_k || Q) = sum over the top k of
    # p_k (log p_k - log q), times T^2. With k = C it is the forward KL of Losses.SoftTargetKl.
    def loss(student, teacher, labels=None, mask=None):
        log_q = F.log_softmax(student / temperature, -1)
        log_p = F.log_softmax(teacher.detach() / temperature, -1)
        top = torch.topk(teacher.detach(), k, dim=-1).indices
        log_p_k = F.log_softmax(log_p.gather(-1, top), -1)
        per = F.kl_div(log_q.gather(-1, top), log_p_k, log_target=True, reduction="none").sum(-1)
        return kept_mean(per, labels, mask) * temperature ** 2
    return loss


def distillation_cases():
    reverse, jsd, top_k = [], [], []
    for dname, dtype in DTYPES.items():
        g = torch.Generator().manual_seed(23)

        def randn(*shape, scale=1.0):
            return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)

        def common(out, fn_for, params_list):
            for params in params_list:
                label = " ".join(f"{k}={v}" for k, v in params.items())
                fn = fn_for(params)
                s, t = randn(4, 6, scale=2), randn(4, 6, scale=2)
                out.append(case(f"plain {label}", dname, {"student": s, "teacher": t}, params, fn, ["student"]))
                s, t = randn(2, 3, 5, scale=2), randn(2, 3, 5, scale=2)
                labels = torch.randint(0, 5, (2, 3), generator=g)
                labels[0, 1] = -100
                labels[1, 2] = -100
                mask = torch.ones(2, 3, dtype=torch.bool)
                mask[1, 0] = False
                out.append(case(f"ignored and masked {label}", dname, {"student": s, "teacher": t, "labels": labels, "mask": mask},
                                params, fn, ["student"]))
            params = params_list[0]
            fn = fn_for(params)
            s = torch.tensor([[30.0, -30.0, 0.0, 5.0], [-1e3, 1e3, 2.0, 0.0]], dtype=dtype)
            t = torch.tensor([[-30.0, 30.0, 1.0, 0.0], [1e3, -1e3, 0.0, 2.0]], dtype=dtype)
            out.append(case("extreme logits", dname, {"student": s, "teacher": t}, params, fn, ["student"]))
            out.append(case("all ignored", dname, {"student": randn(3, 4), "teacher": randn(3, 4), "labels": torch.full((3,), -100)},
                            params, fn, ["student"]))

        common(reverse, lambda p: reverse_kl(p["temperature"]), [{"temperature": 1.0}, {"temperature": 2.5}, {"temperature": 0.5}])
        common(jsd, lambda p: jensen_shannon(p["beta"], p["temperature"]),
               [{"beta": 0.5, "temperature": 1.0}, {"beta": 0.1, "temperature": 2.0}, {"beta": 0.9, "temperature": 1.0},
                {"beta": 0.0, "temperature": 1.5}, {"beta": 1.0, "temperature": 1.0}])
        common(top_k, lambda p: top_k_kl(p["k"], p["temperature"]),
               [{"k": 3, "temperature": 1.0}, {"k": 1, "temperature": 2.0}, {"k": 4, "temperature": 0.7}])
    write("reverse_kl", reverse)
    write("top_k_kl", top_k)
    write("jensen_shannon", jsd)


# ---------------------------------------------------------------- Schedules (LossDsl.Schedules)
# Not losses but the values of schedules over the training steps, against torch.optim.lr_scheduler:
# the learning rate an SGD optimizer holds at each step (read before the step, as LossDsl reads
# LossState.Step before Advance()) is the schedule's value at that step. Each case names the
# formula it checks; tests/LossDsl.Tests/ScheduleReferenceTests.cs reads schedules.json.
#   - LinearLR(start_factor, end_factor, total_iters)           -> Linear(start, end, steps)
#   - CosineAnnealingLR(T_max, eta_min), then ConstantLR at eta_min (SequentialLR), since
#     CosineAnnealingLR alone rises again after T_max where LossDsl's Cosine holds its end
#                                                               -> Cosine(start, end, steps)
#   - ConstantLR(factor=1) for `from` steps, then the curve (SequentialLR) -> from:
#   - MultiStepLR(milestones, gamma) and StepLR(step_size, gamma) -> Piecewise(v0, m1, v1, ...)
#   - Warm-up from 0: LinearLR cannot start at 0 (start_factor must be > 0), so the warm-up cases
#     use LambdaLR with the multipliers of Hugging Face transformers' get_linear_schedule_with_warmup
#     and get_cosine_with_min_lr_schedule_with_warmup (src/transformers/optimization.py): t / W
#     during the warm-up, then the decay over the remaining steps -> warmup:

SCHEDULE_STEPS = 400


def lr_values(base, make):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=base)
    scheduler = make(optimizer)
    values = []
    for _ in range(SCHEDULE_STEPS):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return values


def schedule_cases():
    import warnings
    from torch.optim import lr_scheduler as S
    warnings.simplefilter("ignore")  # SequentialLR's own use of the deprecated step(epoch)
    never = 10 ** 9

    def linear_warmup(warmup, total):
        return lambda t: t / warmup if t < warmup else max(0.0, (total - t) / (total - warmup))

    def cosine_warmup(warmup, total, min_ratio):
        def multiplier(t):
            if t < warmup:
                return t / warmup
            progress = min((t - warmup) / (total - warmup), 1.0)
            return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        return multiplier

    cases = [
        ("linear", "Linear(0.9, 0.1, Steps)", {"Steps": 250},
         lr_values(1.0, lambda o: S.LinearLR(o, start_factor=0.9, end_factor=0.1, total_iters=250))),
        ("linear from", "Linear(0.9, 0.1, Steps, from: From)", {"Steps": 200, "From": 60},
         lr_values(0.9, lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=1.0, total_iters=never),
                                                      S.LinearLR(o, start_factor=1.0, end_factor=0.1 / 0.9, total_iters=200)],
                                                 milestones=[60]))),
        ("cosine", "Cosine(0.9, 0.1, Steps)", {"Steps": 300},
         lr_values(0.9, lambda o: S.SequentialLR(o, [S.CosineAnnealingLR(o, T_max=300, eta_min=0.1),
                                                      S.ConstantLR(o, factor=0.1 / 0.9, total_iters=never)],
                                                 milestones=[300]))),
        ("cosine from", "Cosine(0.9, 0.1, Steps, from: From)", {"Steps": 250, "From": 100},
         lr_values(0.9, lambda o: S.SequentialLR(o, [S.ConstantLR(o, factor=1.0, total_iters=never),
                                                      S.CosineAnnealingLR(o, T_max=250, eta_min=0.1),
                                                      S.ConstantLR(o, factor=0.1 / 0.9, total_iters=never)],
                                                 milestones=[100, 350]))),
        ("multistep", "Piecewise(1, First, 0.5, Second, 0.25)", {"First": 100, "Second": 250},
         lr_values(1.0, lambda o: S.MultiStepLR(o, milestones=[100, 250], gamma=0.5))),
        ("step", "Piecewise(2, 80, 0.6, 160, 0.18, 240, 0.054, 320, 0.0162)", {},
         lr_values(2.0, lambda o: S.StepLR(o, step_size=80, gamma=0.3))),
        ("linear warmup", "Linear(1, 0, Steps, warmup: Warmup)", {"Steps": 250, "Warmup": 50},
         lr_values(1.0, lambda o: S.LambdaLR(o, linear_warmup(50, 300)))),
        ("cosine warmup", "Cosine(1, 0.05, Steps, warmup: Warmup)", {"Steps": 280, "Warmup": 40},
         lr_values(1.0, lambda o: S.LambdaLR(o, cosine_warmup(40, 320, 0.05)))),
    ]
    write("schedules", [{"name": name, "formula": formula, "members": members, "values": values}
                        for name, formula, members, values in cases])


# ---------------------------------------------------------------- Formula math functions

# Each formula as the [Loss] attribute of MathFunctionReferenceTests writes it, and as PyTorch
# computes it. Min or Max of a tensor and a number is clamp_max or clamp_min, which is what the
# generated code calls; a tie of two tensors in minimum/maximum splits the gradient.
MATH_FORMULAS = {
    "sqrt": ("Sqrt(a)", lambda a: torch.sqrt(a)),
    "log": ("Log(a)", lambda a: torch.log(a)),
    "exp": ("Exp(a)", lambda a: torch.exp(a)),
    "abs": ("Abs(a)", lambda a: torch.abs(a)),
    "min": ("Min(a, b)", lambda a, b: torch.minimum(a, b)),
    "max": ("Max(a, b)", lambda a, b: torch.maximum(a, b)),
    "min_number": ("Min(a, 0.5)", lambda a: torch.clamp_max(a, 0.5)),
    "max_number": ("Max(0.5, a)", lambda a: torch.clamp_min(a, 0.5)),
    "clamp": ("Clamp(a, -1, 1)", lambda a: torch.clamp(a, -1.0, 1.0)),
    "pow_number": ("Pow(a, 2.5)", lambda a: torch.pow(a, 2.5)),
    "pow_integer": ("a ^ 3", lambda a: torch.pow(a, 3)),
    "pow_tensor": ("Pow(a, b)", lambda a, b: torch.pow(a, b)),
    "number_pow": ("2 ^ a", lambda a: torch.pow(2.0, a)),
    "negated_square": ("-a ^ 2", lambda a: -(a ** 2)),
    "power_tower": ("a ^ b ^ 0.5", lambda a, b: a ** (b ** 0.5)),
    "terms": ("Sqrt(SumSq) + Log(Mean ^ 2) * Exp(-Mean) - Abs(Mean) + Clamp(Mean, -0.1, 0.1) + Min(SumSq, Mean) + Max(Mean, 0.2)",
              lambda x: (lambda sum_sq, mean: torch.sqrt(sum_sq) + torch.log(mean ** 2) * torch.exp(-mean) - torch.abs(mean)
                         + torch.clamp(mean, -0.1, 0.1) + torch.minimum(sum_sq, mean) + torch.clamp_min(mean, 0.2))(x.pow(2).sum(), x.mean())),
}

# The inputs of each formula's cases: 0-dim a (and b), or the vector x of the terms.
MATH_INPUTS = {
    "sqrt": {"interior": [2.25], "near_zero": [1e-6]},
    "log": {"interior": [3.0], "near_zero": [1e-12]},
    "exp": {"negative": [-2.0], "large": [20.0]},
    "abs": {"at_zero": [0.0], "negative": [-1.5]},
    "min": {"tie": [0.7, 0.7], "apart": [0.2, 0.9]},
    "max": {"tie": [0.7, 0.7], "apart": [0.2, 0.9]},
    "min_number": {"tie": [0.5], "above": [2.0]},
    "max_number": {"tie": [0.5], "below": [-1.0]},
    "clamp": {"at_upper": [1.0], "at_lower": [-1.0], "outside": [2.0], "inside": [0.3]},
    "pow_number": {"interior": [1.7], "at_zero": [0.0]},
    "pow_integer": {"negative_base": [-1.2]},
    "pow_tensor": {"interior": [1.5, 2.5], "zero_base": [0.0, 2.0]},
    "number_pow": {"negative": [-0.5], "positive": [3.0]},
    "negated_square": {"negative": [-3.0]},
    "power_tower": {"interior": [1.3, 2.0]},
    "terms": {"vector": None},
}


def math_function_cases():
    """The formula language's math functions over 0-dim inputs and over terms, float64 and float32."""
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for name, (formula, fn) in MATH_FORMULAS.items():
            for edge, values in MATH_INPUTS[name].items():
                if values is None:
                    g = torch.Generator().manual_seed(13)
                    tensors = {"x": torch.randn(5, generator=g, dtype=torch.float64).to(dtype)}
                else:
                    tensors = {k: torch.tensor(v, dtype=dtype) for k, v in zip("ab", values)}
                cases.append(case(f"{name} {edge}", dtype_name, tensors, {"formula": formula}, fn, list(tensors)))
    write("math_functions", cases)
# ---------------------------------------------------------------- Lists of terms (the formula's Sum, Mean, Balance)
# Not a term of the library: the generated code of a [Loss] whose [Term] returns one tensor per
# layer. The list is a 1-dim leaf whose elements the C# term returns; the reference computes the
# formulas with torch.sum, torch.mean and, for Balance, each element's scale |soft| / |layer_i|
# under torch.no_grad() (the clamps, the dtype's normal range, and 1 where either magnitude is at
# most eps), exactly as docs/language.md defines Balance, element by element.

def balanced(layers, soft, lo=None, hi=None, eps=1e-8):
    with torch.no_grad():
        a, b = layers.abs(), soft.abs()
        r = b / a
        if lo is not None:
            r = r.clamp(min=lo)
        if hi is not None:
            r = r.clamp(max=hi)
        info = torch.finfo(layers.dtype)
        r = r.clamp(info.tiny, info.max)
        scale = torch.where(torch.minimum(a, b) <= eps, torch.ones_like(r), r)
    return layers * scale


LIST_FORMULAS = {
    # op: (the computation of the C# fixture's formula of that name, the inputs it differentiates)
    "sum": (lambda layers, soft, hard: torch.sum(layers), ["layers"]),
    "mean": (lambda layers, soft, hard: torch.mean(layers), ["layers"]),
    "scaled": (lambda layers, soft, hard: hard + torch.mean(3 * layers), ["layers", "hard"]),
    "balance": (lambda layers, soft, hard: soft + torch.sum(balanced(layers, soft)), ["layers", "soft"]),
    "balance_clamped": (lambda layers, soft, hard: soft + torch.mean(balanced(layers, soft, lo=0.5, hi=4.0)), ["layers", "soft"]),
}


def list_cases():
    cases = []
    for dtype, dt in DTYPES.items():
        g = torch.Generator().manual_seed(13)

        def randn(n, scale=1.0):
            return (torch.randn(n, generator=g, dtype=torch.float64) * scale).to(dt)

        inputs = {
            "one_layer": (randn(1), randn(1)[0], randn(1)[0]),
            "three_layers": (randn(3), randn(1)[0], randn(1)[0]),
            "seven_layers_wide_range": (randn(7) * torch.tensor([1e-3, 1e-1, 1, 10, 1e3, 1, 1], dtype=dt), randn(1)[0] * 5, randn(1)[0]),
            "mixed_signs": (torch.tensor([0.7, -0.4, 0.25, -1.5], dtype=dt), torch.tensor(0.9, dtype=dt), torch.tensor(-0.3, dtype=dt)),
            "zero_and_tiny_layers": (torch.tensor([0.0, 1e-9, 0.5, -2.0], dtype=dt), torch.tensor(1.25, dtype=dt), torch.tensor(0.5, dtype=dt)),
            "zero_target": (torch.tensor([0.3, -0.6], dtype=dt), torch.tensor(0.0, dtype=dt), torch.tensor(0.1, dtype=dt)),
        }
        for name, (layers, soft, hard) in inputs.items():
            for op, (fn, differentiate) in LIST_FORMULAS.items():
                cases.append(case(f"{op} {name}", dtype, {"layers": layers, "soft": soft, "hard": hard}, {"op": op},
                                  fn, differentiate))
    return cases


def main():
    torch.set_num_threads(1)
    write("cross_entropy", cross_entropy_cases())
    regression_cases("mse", lambda p: lambda a, b: F.mse_loss(a, b, reduction="none"), [{}])
    regression_cases("l1", lambda p: lambda a, b: F.l1_loss(a, b, reduction="none"), [{}])
    regression_cases("smooth_l1", lambda p: lambda a, b: F.smooth_l1_loss(a, b, beta=p["beta"], reduction="none"),
                     [{"beta": 1.0}, {"beta": 0.5}, {"beta": 0.0}, {"beta": 3.0}])
    regression_cases("huber", lambda p: lambda a, b: F.huber_loss(a, b, delta=p["delta"], reduction="none"),
                     [{"delta": 1.0}, {"delta": 0.5}, {"delta": 3.0}])
    binary_cases()
    distillation_cases()
    schedule_cases()
    math_function_cases()
    write("list_terms", list_cases())


if __name__ == "__main__":
    main()
