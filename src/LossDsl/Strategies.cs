using System;
using System.ComponentModel;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

/// <summary>
/// The stateful balancing strategies the generated code calls. Every statistic stays on the
/// values' device and is updated in place with autograd off; nothing synchronises with the host.
/// Statistics change only while <see cref="LossState.Updating"/> is true. Weights and scales are
/// constants for autograd, except <see cref="Uncertainty"/>'s learnable log-variances.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Strategies
{
    /// <summary>
    /// <c>Balance(x, to: y, ema: β)</c>: bias-corrected exponential moving averages of |sg(x)| and
    /// |sg(y)| per site, m ← βm + (1 − β)v and m̂ = m / (1 − βᵗ) after t updates; the scale is
    /// m̂_y / m̂_x, clamped to [min, max] when given, and 1 where either is at most eps. Before any
    /// update (an evaluation call first) the current magnitudes are used.
    /// </summary>
    public static Tensor EmaScale(LossState state, string site, Tensor x, Tensor y, double beta, double epsilon, double? min = null, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var noGrad = no_grad();
        Tensor ax = x.abs(), ay = y.abs();
        long updates = state.Counter(site + ".t");
        Tensor sx = ax, sy = ay;
        if (state.Updating)
        {
            Tensor mx = state.Buffer(site + ".mx", ax), my = state.Buffer(site + ".my", ay);
            mx.mul_(beta).add_(ax, 1 - beta);
            my.mul_(beta).add_(ay, 1 - beta);
            state.SetCounter(site + ".t", ++updates);
        }
        if (updates > 0)
        {
            double correction = 1 - Math.Pow(beta, updates);
            sx = state.Buffer(site + ".mx", ax).div(correction);
            sy = state.Buffer(site + ".my", ay).div(correction);
        }
        Tensor scale = (min, max) switch
        {
            (double low, double high) => sy.div(sx).clamp_(low, high),
            (double low, null) => sy.div(sx).clamp_min_(low),
            (null, double high) => sy.div(sx).clamp_max_(high),
            _ => sy.div(sx),
        };
        return scale.masked_fill_(sx.minimum(sy).le(epsilon), 1.0);
    }

    /// <summary>
    /// <c>Uncertainty(a, b, …)</c> (Kendall et al. 2018, as LibMTL's UW):
    /// Σᵢ (Lᵢ · exp(−sᵢ) + sᵢ) / 2 with one learnable log-variance sᵢ per term. The weights
    /// returned are the factors on each term, exp(−sᵢ) / 2, for logging.
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) Uncertainty(LossState state, string site, Tensor[] losses)
    {
        ArgumentNullException.ThrowIfNull(state);
        Tensor logVariance = state.LearnableParameter(site);
        Tensor values = stack(losses);
        if (logVariance.device_type != values.device_type || logVariance.device_index != values.device_index)
        {
            throw new InvalidOperationException(
                $"The loss state's learnable log-variances are on {logVariance.device}, the terms on {values.device}: move the state with state.to(device) before training.");
        }
        Tensor total = values.mul(logVariance.neg().exp()).add(logVariance).sum().div(2);
        using var noGrad = no_grad();
        return (total, logVariance.neg().exp().div(2).to(values.dtype).unbind(0));
    }

    /// <summary>
    /// <c>Dwa(a, b, …, temperature: T, window: N)</c> (Liu et al. 2019): λᵢ = K · softmaxᵢ(rᵢ / T)
    /// with rᵢ = L̄ᵢ(previous window) / L̄ᵢ(window before), each L̄ the mean over N updates;
    /// λᵢ = 1 until two windows are complete. The total is Σᵢ λᵢ Lᵢ; the weights are constants.
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) Dwa(LossState state, string site, Tensor[] losses, double temperature, int window)
    {
        ArgumentNullException.ThrowIfNull(state);
        Tensor values = stack(losses);
        Tensor weights;
        using (no_grad())
        {
            Tensor observed = values.detach();
            long windows = state.Counter(site + ".windows");
            if (windows >= 2)
            {
                Tensor before = state.Buffer(site + ".before", observed, losses.Length);
                Tensor ratio = state.Buffer(site + ".previous", observed, losses.Length).div(before).masked_fill_(before.le(1e-12), 1.0);
                weights = ratio.div_(temperature).softmax(0).mul_(losses.Length);
            }
            else
            {
                weights = ones_like(observed);
            }
            if (state.Updating)
            {
                Tensor sum = state.Buffer(site + ".sum", observed, losses.Length).add_(observed);
                long count = state.Counter(site + ".count") + 1;
                if (count == window)
                {
                    Tensor previous = state.Buffer(site + ".previous", observed, losses.Length);
                    state.Buffer(site + ".before", observed, losses.Length).copy_(previous);
                    previous.copy_(sum).div_(window);
                    sum.zero_();
                    count = 0;
                    state.SetCounter(site + ".windows", windows + 1);
                }
                state.SetCounter(site + ".count", count);
            }
        }
        return (values.mul(weights).sum(), weights.unbind(0));
    }

    /// <summary>
    /// <c>CoV(a, b, …)</c> (Groenendijk et al. 2021): lᵢ = Lᵢ / μᵢ with μᵢ the running mean of Lᵢ
    /// over earlier updates (lᵢ = 1 at the first, and where that mean is at most 1e-12); αᵢ = (σ_lᵢ / μ_lᵢ) / Σⱼ (σ_lⱼ / μ_lⱼ) from Welford
    /// running statistics of l over earlier updates (population σ); uniform weights for the first
    /// two updates, and where the coefficients sum to at most 1e-12. The total is Σᵢ αᵢ Lᵢ; the
    /// weights are constants.
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) CoV(LossState state, string site, Tensor[] losses)
    {
        ArgumentNullException.ThrowIfNull(state);
        Tensor values = stack(losses);
        Tensor weights;
        using (no_grad())
        {
            Tensor observed = values.detach();
            long updates = state.Counter(site + ".t");
            Tensor uniform = full_like(observed, 1.0 / losses.Length);
            if (updates < 2)
            {
                weights = uniform;
            }
            else
            {
                Tensor variation = state.Buffer(site + ".m2_ratio", observed, losses.Length).div(updates).sqrt()
                    .div(state.Buffer(site + ".mean_ratio", observed, losses.Length));
                Tensor total = variation.sum();
                weights = where(total.gt(1e-12), variation.div(total), uniform);
            }
            if (state.Updating)
            {
                // The buffers are made here, on the first update: an evaluation call adds nothing to the state.
                Tensor meanLoss = state.Buffer(site + ".mean_loss", observed, losses.Length);
                Tensor meanRatio = state.Buffer(site + ".mean_ratio", observed, losses.Length);
                Tensor m2Ratio = state.Buffer(site + ".m2_ratio", observed, losses.Length);
                // A running mean of zero (a loss that was exactly 0 so far) gives a ratio of 1, not
                // 0/0, which would poison the statistics for good.
                Tensor ratio = updates == 0 ? ones_like(observed) : observed.div(meanLoss).masked_fill_(meanLoss.le(1e-12), 1.0);
                long count = updates + 1;
                meanLoss.add_(observed.sub(meanLoss).div(count));
                Tensor delta = ratio.sub(meanRatio);
                meanRatio.add_(delta.div(count));
                m2Ratio.add_(delta.mul(ratio.sub(meanRatio)));
                state.SetCounter(site + ".t", count);
            }
        }
        return (values.mul(weights).sum(), weights.unbind(0));
    }
}

/// <summary>Schedules for hyperparameters, read from <see cref="LossState.Step"/> (MaxText PR 3683).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Schedules
{
    /// <summary>start + (end − start) · p, with p = clip(step / steps, 0, 1).</summary>
    public static double Linear(double start, double end, double steps, long step) => start + ((end - start) * Progress(step, steps));

    /// <summary>end + (start − end) · ½ (1 + cos πp), with p = clip(step / steps, 0, 1).</summary>
    public static double Cosine(double start, double end, double steps, long step) => end + ((start - end) * 0.5 * (1 + Math.Cos(Math.PI * Progress(step, steps))));

    private static double Progress(long step, double steps) => Math.Clamp(step / steps, 0.0, 1.0);
}
