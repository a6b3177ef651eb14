#!/usr/bin/env python3
"""Reference trajectories for balancing by gradients (issue 14's rules), computed by PyTorch itself.

Each rule is implemented here from PyTorch primitives (torch.autograd.grad, torch.linalg.vector_norm),
following its paper, on a small network with fixed weights trained in float64 by plain SGD, and the
whole trajectory is written: the initial weights and the data (so a C# test builds the same network),
and per step the loss values, the scales or weights the rule computes, and what training does with
them. LossDsl's tests replay the same training with the generated code and compare (<= 1e-6).

  - VQGAN's adaptive weight: Esser, Rombach and Ommer, "Taming Transformers for High-Resolution
    Image Synthesis", CVPR 2021 (arXiv:2012.09841), eq. 7:
        lambda = ||grad_{G_L}(L_rec)|| / (||grad_{G_L}(L_GAN)|| + delta),  delta = 1e-4
    with G_L the decoder's last layer; as in their published loss (and latent-diffusion's), the
    weight is clamped to [0, 1e4], detached, and multiplied by a discriminator weight. The
    discriminator is trained with the hinge loss after each generator step, on a reconstruction
    recomputed with the updated generator (as a second optimizer step on the same batch does).
  - GradNorm: Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient Normalization for
    Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018 (arXiv:1711.02257), eqs. 1-2:
        G_i = ||grad_W (w_i L_i)||,  G_bar = mean_i G_i,
        r_i = L~_i / mean_j L~_j,  L~_i = L_i(t) / L_i(0),
        L_grad = sum_i | G_i - G_bar * r_i^alpha |   (G_bar * r_i^alpha held constant),
    W the last shared layer's weight. The task weights w (initially 1) take their own SGD step on
    L_grad's gradient (which the paper takes with respect to w only) and are then renormalised to
    sum to the number of tasks; the network's step uses sum_i w_i L_i with the weights before that
    update. (LibMTL's GradNorm instead parametrises the weights as T * softmax(w); the paper
    renormalises, which is what is done here.)
  - Learning-rate annealing for physics-informed networks: Wang, Teng and Perdikaris,
    "Understanding and Mitigating Gradient Flow Pathologies in Physics-Informed Neural Networks",
    SIAM J. Sci. Comput. 43(5), 2021 (arXiv:2001.04536), Algorithm 1, eqs. 40-41:
        lambda_hat_i = max_theta |grad_theta L_r| / mean_theta |grad_theta L_i|,
        lambda_i <- (1 - alpha) lambda_i + alpha lambda_hat_i,  alpha = 0.9,
    theta every parameter of the network, lambda_i initially 1, updated every step here; the
    network's step uses L_r + sum_i lambda_i L_i with the updated lambda_i (held constant).

How to run (from the repository root; CI does not need Python, the output is committed):
  apt-get install -y python3-torch
  /usr/bin/python3 tests/reference/make_gradient_fixtures.py
It rewrites tests/LossDsl.Tests/Reference/gradient_balancing.json deterministically (fixed seed).
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "LossDsl.Tests", "Reference")
DT = torch.float64


def values(t):
    return [float(v) for v in t.detach().flatten().tolist()]


def tensor(t):
    return {"shape": list(t.shape), "data": values(t)}


def linear(generator, inputs, outputs):
    bound = 1.0 / inputs ** 0.5
    weight = (torch.rand(outputs, inputs, generator=generator, dtype=DT) * 2 - 1) * bound
    bias = (torch.rand(outputs, generator=generator, dtype=DT) * 2 - 1) * bound
    return weight.requires_grad_(), bias.requires_grad_()


def norm(t):
    return torch.linalg.vector_norm(t)


def sgd(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            p -= lr * p.grad
            p.grad = None


# ---------------------------------------------------------------- VQGAN's adaptive weight

def vqgan(steps=300, lr=0.05, disc_lr=0.05, disc_weight=0.8, delta=1e-4):
    g = torch.Generator().manual_seed(14)
    x = torch.randn(16, 8, generator=g, dtype=DT)
    enc_w, enc_b = linear(g, 8, 4)
    dec_w, dec_b = linear(g, 4, 8)   # the decoder's last (only) layer: the gradients are taken on dec_w
    disc_w, disc_b = linear(g, 8, 1)
    initial = {k: tensor(v) for k, v in dict(encoder_weight=enc_w, encoder_bias=enc_b, decoder_weight=dec_w, decoder_bias=dec_b,
                                               discriminator_weight=disc_w, discriminator_bias=disc_b).items()}
    generator_params = [enc_w, enc_b, dec_w, dec_b]

    def reconstruct():
        return torch.tanh(x @ enc_w.T + enc_b) @ dec_w.T + dec_b

    rows = []
    first_gradients = None
    for step in range(steps):
        xrec = reconstruct()
        rec = ((xrec - x) ** 2).mean()
        gan = -(xrec @ disc_w.T + disc_b).mean()
        rec_grad = torch.autograd.grad(rec, dec_w, retain_graph=True)[0]
        gan_grad = torch.autograd.grad(gan, dec_w, retain_graph=True)[0]
        weight = torch.clamp(norm(rec_grad) / (norm(gan_grad) + delta), 0.0, 1e4).detach()
        total = rec + disc_weight * weight * gan
        total.backward()
        if first_gradients is None:
            first_gradients = {k: tensor(p.grad) for k, p in zip(["encoder_weight", "encoder_bias", "decoder_weight", "decoder_bias"], generator_params)}
        # The generator's loss reaches the discriminator's parameters too; the generator step does not use them.
        disc_w.grad = None
        disc_b.grad = None
        sgd(generator_params, lr)
        with torch.no_grad():
            fake = reconstruct()
        disc_loss = torch.relu(1 - (x @ disc_w.T + disc_b)).mean() + torch.relu(1 + (fake @ disc_w.T + disc_b)).mean()
        disc_loss.backward()
        sgd([disc_w, disc_b], disc_lr)
        rows.append({"rec": rec.item(), "gan": gan.item(), "weight": weight.item(), "total": total.item(), "disc_loss": disc_loss.item()})
    return {
        "rule": "VQGAN adaptive weight (Esser et al. 2021, eq. 7)",
        "formula": "Total = Rec + DiscriminatorWeight * Balance(Gan, to: Rec, by: Gradient(DecoderWeight), stabilizer: 1e-4, max: 1e4)",
        "settings": {"steps": steps, "lr": lr, "disc_lr": disc_lr, "discriminator_weight": disc_weight, "delta": delta, "max": 1e4},
        "x": tensor(x),
        "initial": initial,
        "first_step_gradients": first_gradients,
        "steps": rows,
        "final": {k: tensor(v) for k, v in dict(encoder_weight=enc_w, decoder_weight=dec_w, discriminator_weight=disc_w).items()},
    }


# ---------------------------------------------------------------- GradNorm

def gradnorm(steps=150, lr=0.05, weight_lr=0.005, alpha=1.5):
    g = torch.Generator().manual_seed(18)
    x = torch.randn(32, 6, generator=g, dtype=DT)
    # Three tasks of different scales and difficulties.
    targets = torch.stack([
        x[:, 0] + 0.5 * x[:, 1],
        10.0 * torch.sin(x[:, 2]),
        0.1 * (x[:, 3] * x[:, 4]),
    ], dim=1)
    trunk_w, trunk_b = linear(g, 6, 8)   # W: the last (only) shared layer, trunk_w
    heads = [linear(g, 8, 1) for _ in range(3)]
    initial = {"trunk_weight": tensor(trunk_w), "trunk_bias": tensor(trunk_b)}
    for i, (w, b) in enumerate(heads):
        initial[f"head{i}_weight"] = tensor(w)
        initial[f"head{i}_bias"] = tensor(b)
    network = [trunk_w, trunk_b] + [p for head in heads for p in head]
    task_weights = torch.ones(3, dtype=DT)
    first_losses = None
    rows = []
    for step in range(steps):
        shared = torch.tanh(x @ trunk_w.T + trunk_b)
        losses = torch.stack([((shared @ w.T + b).squeeze(1) - targets[:, i]).pow(2).mean() for i, (w, b) in enumerate(heads)])
        if first_losses is None:
            first_losses = losses.detach().clone()
        grad_norms = torch.stack([norm(torch.autograd.grad(losses[i], trunk_w, retain_graph=True)[0]) for i in range(3)]).detach()
        norms = task_weights * grad_norms                      # G_i = ||grad_W (w_i L_i)|| = w_i ||grad_W L_i||
        ratios = losses.detach() / first_losses
        relative = ratios / ratios.mean()
        target = norms.mean() * relative ** alpha
        grad_loss = (norms - target).abs().sum()
        weight_grad = torch.sign(norms - target) * grad_norms  # d L_grad / d w_i, the target held constant
        total = (task_weights * losses).sum()
        total.backward()
        sgd(network, lr)
        rows.append({"losses": values(losses), "weights": values(task_weights), "grad_norms": values(norms),
                     "grad_loss": grad_loss.item(), "total": total.item()})
        task_weights = task_weights - weight_lr * weight_grad
        task_weights = task_weights * 3 / task_weights.sum()
    return {
        "rule": "GradNorm (Chen et al. 2018, eqs. 1-2), weights renormalised to sum to 3",
        "formula": "Total = GradNorm(A, B, C, shared: TrunkWeight, alpha: 1.5, lr: 0.005)",
        "settings": {"steps": steps, "lr": lr, "weight_lr": weight_lr, "alpha": alpha},
        "x": tensor(x),
        "targets": tensor(targets),
        "initial": initial,
        "initial_losses": values(first_losses),
        "steps": rows,
        "final_weights": values(task_weights),
        "final": {"trunk_weight": tensor(trunk_w)},
    }


# ---------------------------------------------------------------- Learning-rate annealing (PINNs)

def annealing(steps=200, lr=0.01, alpha=0.9):
    g = torch.Generator().manual_seed(21)
    interior = torch.linspace(-1, 1, 24, dtype=DT).unsqueeze(1)
    boundary = torch.tensor([[-1.0], [1.0]], dtype=DT)
    w1, b1 = linear(g, 1, 8)
    w2, b2 = linear(g, 8, 1)
    initial = {"layer1_weight": tensor(w1), "layer1_bias": tensor(b1), "layer2_weight": tensor(w2), "layer2_bias": tensor(b2)}
    network = [w1, b1, w2, b2]

    def u(points):
        return torch.tanh(points @ w1.T + b1) @ w2.T + b2

    rows = []
    weight = torch.tensor(1.0, dtype=DT)
    for step in range(steps):
        # A residual loss (fit to sin(pi x) inside) and a boundary loss (u = 0 at -1 and 1) of very different sizes.
        residual = (u(interior) - torch.sin(torch.pi * interior) * 5.0).pow(2).mean()
        boundary_loss = u(boundary).pow(2).mean()
        residual_grads = torch.autograd.grad(residual, network, retain_graph=True)
        boundary_grads = torch.autograd.grad(boundary_loss, network, retain_graph=True)
        max_residual = torch.cat([gr.abs().flatten() for gr in residual_grads]).max()
        mean_boundary = torch.cat([gr.abs().flatten() for gr in boundary_grads]).mean()
        estimate = (max_residual / mean_boundary).detach()
        weight = (1 - alpha) * weight + alpha * estimate
        total = residual + weight * boundary_loss
        total.backward()
        sgd(network, lr)
        rows.append({"residual": residual.item(), "boundary": boundary_loss.item(), "estimate": estimate.item(),
                     "weight": weight.item(), "total": total.item()})
    return {
        "rule": "Learning-rate annealing (Wang, Teng and Perdikaris 2021, Algorithm 1)",
        "formula": "Total = Residual + Anneal(Boundary, to: Residual, by: Gradient(Network), alpha: 0.9)",
        "settings": {"steps": steps, "lr": lr, "alpha": alpha},
        "interior": tensor(interior),
        "boundary": tensor(boundary),
        "initial": initial,
        "steps": rows,
        "final": {"layer1_weight": tensor(w1), "layer2_weight": tensor(w2)},
    }


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "gradient_balancing.json"), "w") as f:
        json.dump({"torch": torch.__version__, "vqgan": vqgan(), "gradnorm": gradnorm(), "annealing": annealing()}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
