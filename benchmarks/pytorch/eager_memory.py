"""PyTorch eager rows of the peak-memory benchmark (benchmarks/README.md, "Peak memory").

Started by `dotnet run -c Release --project benchmarks/LossDsl.Benchmarks -- memory`, once per
case, as `python3 eager_memory.py CASE BxSxV THREADS`; it follows the protocol of the C# children
(Memory/PeakMemory.cs): make the inputs from seed 7, run one warm-up forward+backward and release
it, reset the peak (write "5" to /proc/self/clear_refs), read VmRSS, run one forward+backward and
keep the loss and the student's gradient, read VmHWM, and print one line
`result extra=… before=… peak=… loss=…` (bytes). PyTorch comes from Debian's python3-torch; this
is a benchmark aid, never needed by the tests.
"""

import sys

import torch
import torch.nn.functional as F

TEMPERATURE = 2.0
ALPHA = 0.5


def status_bytes(name):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                value, unit = line.split()[1:3]
                if unit != "kB":
                    raise ValueError(f"/proc/self/status: cannot read {line!r}")
                return int(value) * 1024
    raise ValueError(f"/proc/self/status has no {name} line (not Linux?)")


def kd(student, teacher, positions):
    log_student = F.log_softmax(student / TEMPERATURE, dim=-1)
    log_teacher = F.log_softmax(teacher / TEMPERATURE, dim=-1)
    return F.kl_div(log_student, log_teacher, log_target=True, reduction="sum") * (TEMPERATURE * TEMPERATURE / positions)


def balance(value, to):
    """value × |to| / |value|, the scale taken without autograd (the scalar guards of LossDsl's
    Balance are left out: they act on 0-dim tensors and do not change the memory)."""
    with torch.no_grad():
        scale = to.abs() / value.abs().clamp_min(1e-8)
    return value * scale


def check(inputs):
    b, s, v = inputs["shape"]
    return torch.ones(b, s, v)


def kd_eager(inputs):
    b, s, _ = inputs["shape"]
    return kd(inputs["student"], inputs["teacher"], b * s)


def ce_eager(inputs):
    v = inputs["shape"][2]
    return F.cross_entropy(inputs["student"].reshape(-1, v), inputs["labels"].reshape(-1))


def full_eager(inputs):
    b, s, v = inputs["shape"]
    hard = F.cross_entropy(inputs["student"].reshape(-1, v), inputs["labels"].reshape(-1))
    soft = kd(inputs["student"], inputs["teacher"], b * s)
    feature = (1 - F.cosine_similarity(inputs["student_features"], inputs["teacher_features"], dim=-1, eps=1e-8)).mean()
    kd_total = soft + balance(feature, to=soft)
    return hard + ALPHA * balance(kd_total, to=hard)


CASES = {
    "check-eager": check,
    "kd-eager": kd_eager,
    "ce-eager": ce_eager,
    "full-eager": full_eager,
}


def step(case, compute, inputs):
    value = compute(inputs)
    if case != "check-eager":
        value.backward()
    return value


def main(argv):
    if len(argv) != 4 or argv[1] not in CASES:
        sys.exit(f"usage: eager_memory.py {{{','.join(CASES)}}} BxSxV THREADS")
    case = argv[1]
    compute = CASES[case]
    shape = tuple(int(size) for size in argv[2].split("x"))
    if len(shape) != 3 or min(shape) <= 0:
        sys.exit(f"{argv[2]!r} is not a logits shape: expected batch x sequence x vocabulary, for example 4x512x32768")
    torch.set_num_threads(int(argv[3]))

    torch.manual_seed(7)
    b, s, v = shape
    inputs = {
        "shape": shape,
        "student": torch.randn(b, s, v).requires_grad_(),
        "teacher": torch.randn(b, s, v),
        "labels": torch.randint(v, (b, s)),
    }
    if case == "full-eager":
        inputs["student_features"] = torch.randn(4, b, s, 256).requires_grad_()
        inputs["teacher_features"] = torch.randn(4, b, s, 256)

    warm_up = step(case, compute, inputs)
    del warm_up
    inputs["student"].grad = None
    if "student_features" in inputs:
        inputs["student_features"].grad = None

    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = status_bytes("VmRSS")
    value = step(case, compute, inputs)
    peak = status_bytes("VmHWM")

    if case != "check-eager" and inputs["student"].grad is None:
        sys.exit(f"{case}: the backward wrote no gradient to the student logits")
    loss = repr(value.item()) if value.numel() == 1 else "NaN"
    print(f"result extra={peak - before} before={before} peak={peak} loss={loss}")


if __name__ == "__main__":
    main(sys.argv)
