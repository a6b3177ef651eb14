using System;
using System.ComponentModel;
using LossDsl.State;
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
    /// update (an evaluation call first) the current magnitudes are used. <paramref name="xBound"/>
    /// and <paramref name="yBound"/>, when given, are the magnitudes x and y were computed from:
    /// a value within rounding of its bound counts as 0 (<see cref="LossRuntime.Significant"/>).
    /// The scale stays within the dtype's positive normal range (<see cref="LossRuntime.BalanceScale"/>).
    /// </summary>
    public static Tensor EmaScale(LossState state, string site, Tensor x, Tensor y, double beta, double epsilon, double? min = null, double? max = null, Tensor? xBound = null, Tensor? yBound = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        EmaBalanceState ema = state.Site<EmaBalanceState>(site);
        using var noGrad = no_grad();
        // The statistics are kept in the state's dtype and device; the scale is returned in x's.
        Tensor mx = ema.Statistic("mx"), my = ema.Statistic("my");
        // Residue is judged in the values' own dtype, where it arose.
        Tensor ax = Magnitude(x, xBound).to(mx.dtype, mx.device), ay = Magnitude(y, yBound).to(my.dtype, my.device);
        long updates = ema.Counters["t"];
        Tensor sx = ax, sy = ay;
        if (state.Updating)
        {
            mx.mul_(beta).add_(ax, 1 - beta);
            my.mul_(beta).add_(ay, 1 - beta);
            ema.Counters["t"] = ++updates;
        }
        if (updates > 0)
        {
            double correction = 1 - Math.Pow(beta, updates);
            sx = mx.div(correction);
            sy = my.div(correction);
        }
        return LossRuntime.BalanceScale(sx.to(x.dtype, x.device), sy.to(x.dtype, x.device), epsilon, min, max);
    }

    private static Tensor Magnitude(Tensor value, Tensor? bound)
        => bound is null ? value.abs() : LossRuntime.Significant(value.abs(), bound);

    /// <summary>
    /// <c>Uncertainty(a, b, …)</c> (Kendall et al. 2018, as LibMTL's UW):
    /// Σᵢ (Lᵢ · exp(−sᵢ) + sᵢ) / 2 with one learnable log-variance sᵢ per term. The weights
    /// returned are the factors on each term, exp(−sᵢ) / 2, for logging.
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) Uncertainty(LossState state, string site, Tensor[] losses)
    {
        ArgumentNullException.ThrowIfNull(state);
        Tensor logVariance = state.Site<UncertaintyState>(site).LogVariance;
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
        DwaState dwa = state.Site<DwaState>(site);
        Tensor values = stack(losses);
        Tensor weights;
        using (no_grad())
        {
            Tensor sum = dwa.Statistic("sum"), previous = dwa.Statistic("previous"), before = dwa.Statistic("before");
            Tensor observed = values.detach().to(sum.dtype, sum.device);
            long windows = dwa.Counters["windows"];
            if (windows >= 2)
            {
                Tensor ratio = previous.div(before).masked_fill_(before.le(1e-12), 1.0);
                weights = ratio.div_(temperature).softmax(0).mul_(losses.Length);
            }
            else
            {
                weights = ones_like(observed);
            }
            if (state.Updating)
            {
                sum.add_(observed);
                long count = dwa.Counters["count"] + 1;
                if (count >= window) // >=: a checkpoint from a formula with a longer window: close it now
                {
                    before.copy_(previous);
                    previous.copy_(sum).div_(window);
                    sum.zero_();
                    count = 0;
                    dwa.Counters["windows"] = windows + 1;
                }
                dwa.Counters["count"] = count;
            }
            weights = weights.to(values.dtype, values.device);
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
        CovState cov = state.Site<CovState>(site);
        Tensor values = stack(losses);
        Tensor weights;
        using (no_grad())
        {
            Tensor meanLoss = cov.Statistic("mean_loss"), meanRatio = cov.Statistic("mean_ratio"), m2Ratio = cov.Statistic("m2_ratio");
            Tensor observed = values.detach().to(meanLoss.dtype, meanLoss.device);
            long updates = cov.Counters["t"];
            Tensor uniform = full_like(observed, 1.0 / losses.Length);
            if (updates < 2)
            {
                weights = uniform;
            }
            else
            {
                Tensor variation = m2Ratio.div(updates).sqrt().div(meanRatio);
                Tensor total = variation.sum();
                weights = where(total.gt(1e-12), variation.div(total), uniform);
            }
            if (state.Updating)
            {
                // A running mean of zero (a loss that was exactly 0 so far) gives a ratio of 1, not
                // 0/0, which would poison the statistics for good.
                Tensor ratio = updates == 0 ? ones_like(observed) : observed.div(meanLoss).masked_fill_(meanLoss.le(1e-12), 1.0);
                long count = updates + 1;
                meanLoss.add_(observed.sub(meanLoss).div(count));
                Tensor delta = ratio.sub(meanRatio);
                meanRatio.add_(delta.div(count));
                m2Ratio.add_(delta.mul(ratio.sub(meanRatio)));
                cov.Counters["t"] = count;
            }
            weights = weights.to(values.dtype, values.device);
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
