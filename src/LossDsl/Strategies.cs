using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Linq;
using LossDsl.State;
using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl;

/// <summary>
/// The stateful balancing strategies the generated code calls. Every statistic stays on the
/// values' device and nothing synchronises with the host. Statistics change only while
/// <see cref="LossState.Updating"/> is true, and only when the call completes
/// (<see cref="LossState.BeginCall"/>): a call stages its updates, so one that throws changes
/// nothing. An observation that is not finite, or whose update would make a statistic
/// non-finite, is not an update: the statistics and counts it would have changed stay as they
/// were (decided on the device, per term), and the site's <c>skipped</c> count grows by one.
/// Weights and scales are constants for autograd, except <see cref="Uncertainty"/>'s learnable
/// log-variances.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Strategies
{
    /// <summary>
    /// <c>Balance(x, to: y, ema: β)</c>: bias-corrected exponential moving averages of |sg(x)| and
    /// |sg(y)| per site, m ← βm + (1 − β)v and m̂ = m / w, with w ← βw + (1 − β) over the same
    /// updates (w = 1 − βᵗ after t of them); the scale is m̂_y / m̂_x, clamped to [min, max] when
    /// given, and 1 where either is at most eps. An update whose magnitudes or averages are not
    /// finite is skipped as a whole (both averages and w stay). Before any update (w = 0) the
    /// current magnitudes are used. <paramref name="xBound"/> and <paramref name="yBound"/>, when
    /// given, are the magnitudes x and y were computed from: a value within rounding of its bound
    /// counts as 0 (<see cref="LossRuntime.Significant"/>). The scale stays within the dtype's
    /// positive normal range (<see cref="LossRuntime.BalanceScale"/>). With <paramref name="stabilizer"/>
    /// δ the scale is m̂_y / (m̂_x + δ) instead, without the eps guard (<see cref="LossRuntime.StabilizedScale"/>).
    /// With <c>by: Gradient(P)</c>, x and y are the norms of the two gradients (<see cref="Gradients.Norm"/>).
    /// </summary>
    public static Tensor EmaScale(LossState state, string site, Tensor x, Tensor y, double beta, double epsilon, double? min = null, double? max = null, Tensor? xBound = null, Tensor? yBound = null, double? stabilizer = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        EmaBalanceState ema = state.Site<EmaBalanceState>(site);
        using var noGrad = no_grad();
        // The statistics are kept in the state's dtype and device; the scale is returned in x's.
        Tensor mx = ema.Statistic("mx"), my = ema.Statistic("my"), weight = ema.Statistic("w");
        // Residue is judged in the values' own dtype, where it arose.
        Tensor ax = Magnitude(x, xBound).to(mx.dtype, mx.device), ay = Magnitude(y, yBound).to(my.dtype, my.device);
        if (state.Updating)
        {
            Tensor nextX = mx.mul(beta).add_(ax, 1 - beta), nextY = my.mul(beta).add_(ay, 1 - beta);
            Tensor taken = nextX.isfinite().logical_and(nextY.isfinite());
            Tensor takenX = where(taken, nextX, mx), takenY = where(taken, nextY, my);
            Tensor takenWeight = where(taken, weight.mul(beta).add_(1 - beta), weight);
            Tensor skipped = ema.Statistic(SiteState.SkippedStatistic).add(taken.logical_not().to(weight.dtype));
            state.Stage(ema, skipped, () =>
            {
                ema.Statistic("mx").copy_(takenX);
                ema.Statistic("my").copy_(takenY);
                ema.Statistic("w").copy_(takenWeight);
                ema.Statistic(SiteState.SkippedStatistic).copy_(skipped);
            });
            (mx, my, weight) = (takenX, takenY, takenWeight);
        }
        Tensor started = weight.gt(0);
        Tensor sx = where(started, mx.div(weight), ax), sy = where(started, my.div(weight), ay);
        return stabilizer is double delta
            ? LossRuntime.StabilizedScale(sx.to(x.dtype, x.device), sy.to(x.dtype, x.device), delta, min, max)
            : LossRuntime.BalanceScale(sx.to(x.dtype, x.device), sy.to(x.dtype, x.device), epsilon, min, max);
    }

    /// <summary>
    /// <c>Balance(x, to: y, by: Gradient(P), ema: β)</c>: <see cref="EmaScale"/> on the norms of the
    /// gradients of x and y on P (<see cref="Gradients.Norm"/>). With autograd off and the state not
    /// updating (a validation loss under <c>no_grad()</c> in <c>eval()</c>) no gradient can be taken:
    /// the scale then comes from the moving averages alone, and is 1 before their first update.
    /// </summary>
    public static Tensor EmaGradientScale(LossState state, string site, Tensor x, Tensor y, IReadOnlyList<Tensor> parameters,
        string xName, string yName, string parametersName, string rule, double beta, double epsilon, double? min = null, double? max = null, double? stabilizer = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(x);
        if (state.Updating || is_grad_enabled())
        {
            Tensor xNorm = Gradients.Norm(x, parameters, xName, parametersName, rule);
            Tensor yNorm = Gradients.Norm(y, parameters, yName, parametersName, rule);
            return EmaScale(state, site, xNorm, yNorm, beta, epsilon, min, max, stabilizer: stabilizer);
        }
        EmaBalanceState ema = state.Site<EmaBalanceState>(site);
        using var noGrad = no_grad();
        Tensor weight = ema.Statistic("w");
        Tensor started = weight.gt(0);
        Tensor mx = ema.Statistic("mx").div(weight).to(x.dtype, x.device), my = ema.Statistic("my").div(weight).to(x.dtype, x.device);
        Tensor scale = stabilizer is double delta
            ? LossRuntime.StabilizedScale(mx, my, delta, min, max)
            : LossRuntime.BalanceScale(mx, my, epsilon, min, max);
        return where(started.to(x.device), scale, ones_like(scale));
    }

    /// <summary>
    /// <c>Anneal(x, to: y, by: Gradient(P), alpha: α)</c>, learning-rate annealing for
    /// physics-informed networks (Wang, Teng and Perdikaris 2021, Algorithm 1, eqs. 40–41): while
    /// the state updates, λ̂ = max|∇_P y| / mean|∇_P x| and λ ← (1 − α)λ + αλ̂ (λ starts at 1), and
    /// the scale is the updated λ; otherwise (eval(), an evaluation scope) it is the stored λ and no
    /// gradient is taken. An estimate that is not finite (mean|∇_P x| = 0) leaves λ as it was and
    /// counts as skipped. The scale is clamped to [min, max] when given and carries no gradient.
    /// </summary>
    public static Tensor Anneal(LossState state, string site, Tensor x, Tensor y, IReadOnlyList<Tensor> parameters, double alpha,
        string xName, string yName, string parametersName, string rule, double? min = null, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        AnnealState anneal = state.Site<AnnealState>(site);
        Tensor weight = anneal.Statistic("weight");
        Tensor? largest = null, average = null;
        if (state.Updating)
        {
            largest = Gradients.Statistic(y, parameters, GradientStatistic.MaxAbs, yName, parametersName, rule);
            average = Gradients.Statistic(x, parameters, GradientStatistic.MeanAbs, xName, parametersName, rule);
        }
        using var noGrad = no_grad();
        if (largest is not null && average is not null)
        {
            // largest and average are this call's own temporaries: divided in place.
            Tensor estimate = largest.to(weight.dtype, weight.device).div_(average.to(weight.dtype, weight.device));
            Tensor next = weight.mul(1 - alpha).add_(estimate, alpha);
            Tensor taken = next.isfinite();
            Tensor takenWeight = where(taken, next, weight);
            Tensor skipped = anneal.Statistic(SiteState.SkippedStatistic).add(taken.logical_not().to(weight.dtype));
            state.Stage(anneal, skipped, () =>
            {
                anneal.Statistic("weight").copy_(takenWeight);
                anneal.Statistic(SiteState.SkippedStatistic).copy_(skipped);
            });
            weight = takenWeight;
        }
        // A copy: outside training the weight is the state's own buffer, which the result must not hold.
        Tensor scale = weight.to(x.dtype, x.device, copy: true);
        if (min is double low)
        {
            scale = scale.clamp_min(low);
        }
        if (max is double high)
        {
            scale = scale.clamp_max(high);
        }
        return scale;
    }

    /// <summary>
    /// <c>GradNorm(a, b, …, shared: P, alpha: α, lr: η)</c> (Chen et al. 2018, eqs. 1–2, Algorithm 1):
    /// the total is Σᵢ wᵢ Lᵢ with the weights w (initially 1, constants for autograd) as they are
    /// before this call. While the state updates, with gᵢ = ‖∇_P Lᵢ‖, Gᵢ = wᵢ gᵢ, Ḡ = meanᵢ Gᵢ,
    /// L̃ᵢ = Lᵢ / Lᵢ(0) and rᵢ = L̃ᵢ / meanⱼ L̃ⱼ, the weights take one SGD step of size η on
    /// L_grad = Σᵢ |Gᵢ − Ḡ rᵢ^α| (its target held constant): wᵢ ← wᵢ − η · sign(Gᵢ − Ḡ rᵢ^α) · gᵢ,
    /// and are renormalised to sum to the number of terms. Lᵢ(0) is each term's value at its first
    /// updating call where it is finite and greater than 0. An update before every term has its
    /// Lᵢ(0), or one that would make a weight non-finite or not greater than 0, is skipped (counted).
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) GradNorm(LossState state, string site, Tensor[] losses, IReadOnlyList<Tensor> shared,
        string[] names, string sharedName, string rule, double alpha, double lr)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(losses);
        ArgumentNullException.ThrowIfNull(names);
        GradNormState gradNorm = state.Site<GradNormState>(site);
        Tensor values = stack(losses);
        Tensor weights = gradNorm.Statistic("weights");
        Tensor[]? norms = state.Updating
            ? losses.Select((loss, i) => Gradients.Norm(loss, shared, names[i], sharedName, rule)).ToArray()
            : null;
        Tensor used;
        using (no_grad())
        {
            // A copy: the weights are updated in place when the call completes, and the result must keep these.
            used = weights.to(values.dtype, values.device, copy: true);
            if (norms is not null)
            {
                // Autograd is off here: values needs no detach. Temporaries of this call are updated in place.
                Tensor initial = gradNorm.Statistic("initial");
                Tensor observed = values.to(weights.dtype, weights.device);
                Tensor g = stack(norms).to(weights.dtype, weights.device);
                Tensor capturable = observed.gt(0).logical_and_(observed.isfinite());
                Tensor takenInitial = where(initial.gt(0), initial, where(capturable, observed, zeros_like(initial)));
                Tensor ratio = observed.div(takenInitial);
                Tensor relative = ratio.div_(ratio.mean());
                Tensor weighted = weights.mul(g);
                Tensor target = relative.pow_(alpha).mul_(weighted.mean());
                // wᵢ − η · sign(Gᵢ − targetᵢ) · gᵢ; Gᵢ − targetᵢ as −(targetᵢ − Gᵢ), exactly.
                Tensor next = weights.sub(target.sub_(weighted).neg_().sign_().mul_(g).mul_(lr));
                Tensor sum = next.sum();
                next.mul_(losses.Length).div_(sum);
                Tensor taken = takenInitial.gt(0).all().logical_and_(next.isfinite().all()).logical_and_(next.gt(0).all());
                Tensor takenWeights = where(taken, next, weights);
                Tensor skipped = gradNorm.Statistic(SiteState.SkippedStatistic).add(taken.logical_not().to(weights.dtype));
                state.Stage(gradNorm, skipped, () =>
                {
                    gradNorm.Statistic("initial").copy_(takenInitial);
                    gradNorm.Statistic("weights").copy_(takenWeights);
                    gradNorm.Statistic(SiteState.SkippedStatistic).copy_(skipped);
                });
            }
        }
        return (values.mul(used).sum(), used.unbind(0));
    }

    private static Tensor Magnitude(Tensor value, Tensor? bound)
        => bound is null ? value.abs() : LossRuntime.Significant(value.abs(), bound);

    /// <summary>
    /// <c>Uncertainty(a, b, …)</c> (Kendall et al. 2018, as LibMTL's UW):
    /// Σᵢ (Lᵢ · exp(−sᵢ) + sᵢ) / 2 with one learnable log-variance sᵢ per term. The weights
    /// returned are the factors on each term, exp(−sᵢ) / 2, for logging. It keeps no statistics:
    /// a non-finite term makes the total non-finite, and its gradient would make the sᵢ
    /// non-finite at the optimizer's next step (see docs/language.md).
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
    /// with rᵢ = L̄ᵢ(previous window) / L̄ᵢ(window before), each L̄ᵢ the mean of the finite values
    /// term i took in a window of N updating calls (a window in which it took none repeats its last
    /// mean); λᵢ = 1 until two windows are complete. The total is Σᵢ λᵢ Lᵢ; the weights are constants.
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) Dwa(LossState state, string site, Tensor[] losses, double temperature, int window)
    {
        ArgumentNullException.ThrowIfNull(state);
        DwaState dwa = state.Site<DwaState>(site);
        Tensor values = stack(losses);
        Tensor weights;
        using (no_grad())
        {
            Tensor sum = dwa.Statistic("sum"), valid = dwa.Statistic("valid"), previous = dwa.Statistic("previous");
            Tensor observed = values.detach().to(sum.dtype, sum.device);
            long windows = dwa.Counters["windows"];
            if (windows >= 2)
            {
                Tensor ratio = previous.div(dwa.Statistic("before")).masked_fill_(dwa.Statistic("before").le(1e-12), 1.0);
                // Finite means can still give a ratio beyond the dtype's range: softmax gets numbers, not infinities.
                double largest = finfo(ratio.dtype).max;
                weights = ratio.div_(temperature).clamp_(-largest, largest).softmax(0).mul_(losses.Length);
            }
            else
            {
                weights = ones_like(observed);
            }
            if (state.Updating)
            {
                Tensor added = sum.add(observed);
                Tensor taken = added.isfinite();
                Tensor takenSum = where(taken, added, sum), takenValid = valid.add(taken.to(valid.dtype));
                Tensor skipped = dwa.Statistic(SiteState.SkippedStatistic).add(taken.logical_not().to(valid.dtype));
                long count = dwa.Counters["count"] + 1;
                bool closes = count >= window; // >=: a checkpoint from a formula with a longer window: close it now
                Tensor? mean = closes ? where(takenValid.gt(0), takenSum.div(takenValid), previous) : null;
                state.Stage(dwa, skipped, () =>
                {
                    if (mean is not null)
                    {
                        dwa.Statistic("before").copy_(dwa.Statistic("previous"));
                        dwa.Statistic("previous").copy_(mean);
                        dwa.Statistic("sum").zero_();
                        dwa.Statistic("valid").zero_();
                        dwa.Counters["windows"] = windows + 1;
                        dwa.Counters["count"] = 0;
                    }
                    else
                    {
                        dwa.Statistic("sum").copy_(takenSum);
                        dwa.Statistic("valid").copy_(takenValid);
                        dwa.Counters["count"] = count;
                    }
                    dwa.Statistic(SiteState.SkippedStatistic).copy_(skipped);
                });
            }
            weights = weights.to(values.dtype, values.device);
        }
        return (values.mul(weights).sum(), weights.unbind(0));
    }

    /// <summary>
    /// <c>CoV(a, b, …)</c> (Groenendijk et al. 2021), on the magnitudes |Lᵢ|: lᵢ = |Lᵢ| / μᵢ with μᵢ
    /// the running mean of |Lᵢ| over the term's earlier updates (lᵢ = 1 at its first, and where that
    /// mean is at most 1e-12); αᵢ = (σ_lᵢ / μ_lᵢ) / Σⱼ (σ_lⱼ / μ_lⱼ) from Welford running statistics of
    /// l over the earlier updates (population σ); uniform weights until every term has two
    /// updates, and where the coefficients sum to at most 1e-12. The total is Σᵢ αᵢ Lᵢ (signed);
    /// the weights are constants. Each term counts its own updates: a non-finite value, or one
    /// whose update would overflow, leaves that term's statistics as they were.
    /// </summary>
    public static (Tensor Total, Tensor[] Weights) CoV(LossState state, string site, Tensor[] losses)
    {
        ArgumentNullException.ThrowIfNull(state);
        CovState cov = state.Site<CovState>(site);
        Tensor values = stack(losses);
        Tensor weights;
        using (no_grad())
        {
            Tensor meanLoss = cov.Statistic("mean_loss"), meanRatio = cov.Statistic("mean_ratio"), m2Ratio = cov.Statistic("m2_ratio"), count = cov.Statistic("count");
            Tensor magnitude = values.detach().abs().to(meanLoss.dtype, meanLoss.device);
            Tensor uniform = full_like(magnitude, 1.0 / losses.Length);
            // Before two updates of every term the coefficients are 0/0: the condition picks uniform weights there.
            Tensor variation = m2Ratio.div(count).sqrt_().div_(meanRatio);
            Tensor total = variation.sum();
            weights = where(count.min().ge(2).logical_and(total.gt(1e-12)), variation.div(total), uniform);
            if (state.Updating)
            {
                // A running mean of zero (a loss that was exactly 0 so far, or no update yet) gives a
                // ratio of 1, not 0/0, which would poison the statistics for good.
                Tensor ratio = magnitude.div(meanLoss).masked_fill_(meanLoss.le(1e-12), 1.0);
                Tensor nextCount = count.add(1);
                Tensor nextMeanLoss = meanLoss.add(magnitude.sub(meanLoss).div_(nextCount));
                Tensor delta = ratio.sub(meanRatio);
                Tensor nextMeanRatio = meanRatio.add(delta.div(nextCount));
                Tensor nextM2 = m2Ratio.add(delta.mul(ratio.sub(nextMeanRatio)));
                Tensor taken = nextMeanLoss.isfinite().logical_and(nextMeanRatio.isfinite()).logical_and(nextM2.isfinite());
                Tensor takenMeanLoss = where(taken, nextMeanLoss, meanLoss), takenMeanRatio = where(taken, nextMeanRatio, meanRatio);
                Tensor takenM2 = where(taken, nextM2, m2Ratio), takenCount = where(taken, nextCount, count);
                Tensor skipped = cov.Statistic(SiteState.SkippedStatistic).add(taken.logical_not().to(count.dtype));
                state.Stage(cov, skipped, () =>
                {
                    cov.Statistic("mean_loss").copy_(takenMeanLoss);
                    cov.Statistic("mean_ratio").copy_(takenMeanRatio);
                    cov.Statistic("m2_ratio").copy_(takenM2);
                    cov.Statistic("count").copy_(takenCount);
                    cov.Statistic(SiteState.SkippedStatistic).copy_(skipped);
                });
            }
            weights = weights.to(values.dtype, values.device);
        }
        return (values.mul(weights).sum(), weights.unbind(0));
    }
}

/// <summary>
/// Schedules for hyperparameters, read from <see cref="LossState.Step"/> (MaxText PR 3683, and the
/// LR schedulers of <c>torch.optim.lr_scheduler</c>). Every schedule shares one shape: with
/// s = max(step − from, 0), the value ramps linearly from 0 to the schedule's first value over the
/// first <c>warmup</c> steps of s, and then follows its curve at s − warmup. The lengths (steps,
/// milestones, from, warmup) may be read at call time; a value out of range throws an
/// <see cref="ArgumentOutOfRangeException"/> naming it, before the call changes anything.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Schedules
{
    /// <summary>start + (end − start) · p, with p = clip(t / steps, 0, 1) and t the steps since the warm-up.</summary>
    /// <param name="start">The value at t = 0.</param>
    /// <param name="end">The value from t = steps on.</param>
    /// <param name="steps">The length of the curve: finite and greater than 0.</param>
    /// <param name="step">The state's step.</param>
    /// <param name="stepsName">How the formula writes <paramref name="steps"/>, for the exception.</param>
    /// <param name="from">The step the schedule starts at (its value is held before): finite, 0 or more.</param>
    /// <param name="fromName">How the formula writes <paramref name="from"/>.</param>
    /// <param name="warmup">The steps of the linear ramp from 0 to <paramref name="start"/>: finite, 0 or more.</param>
    /// <param name="warmupName">How the formula writes <paramref name="warmup"/>.</param>
    public static double Linear(double start, double end, double steps, long step, string? stepsName = null,
        double from = 0, string? fromName = null, double warmup = 0, string? warmupName = null)
    {
        EnsureLength(nameof(Linear), steps, stepsName ?? nameof(steps));
        double t = Elapsed(nameof(Linear), step, from, fromName, warmup, warmupName);
        return t < 0 ? start * Ramp(t, warmup) : start + ((end - start) * Math.Clamp(t / steps, 0.0, 1.0));
    }

    /// <summary>end + (start − end) · ½ (1 + cos πp), with p = clip(t / steps, 0, 1) and t the steps since the warm-up.</summary>
    /// <param name="start">The value at t = 0.</param>
    /// <param name="end">The value from t = steps on.</param>
    /// <param name="steps">The length of the curve: finite and greater than 0.</param>
    /// <param name="step">The state's step.</param>
    /// <param name="stepsName">How the formula writes <paramref name="steps"/>, for the exception.</param>
    /// <param name="from">The step the schedule starts at (its value is held before): finite, 0 or more.</param>
    /// <param name="fromName">How the formula writes <paramref name="from"/>.</param>
    /// <param name="warmup">The steps of the linear ramp from 0 to <paramref name="start"/>: finite, 0 or more.</param>
    /// <param name="warmupName">How the formula writes <paramref name="warmup"/>.</param>
    public static double Cosine(double start, double end, double steps, long step, string? stepsName = null,
        double from = 0, string? fromName = null, double warmup = 0, string? warmupName = null)
    {
        EnsureLength(nameof(Cosine), steps, stepsName ?? nameof(steps));
        double t = Elapsed(nameof(Cosine), step, from, fromName, warmup, warmupName);
        return t < 0
            ? start * Ramp(t, warmup)
            : end + ((start - end) * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(t / steps, 0.0, 1.0))));
    }

    /// <summary>
    /// values[i] where i is the number of milestones at or before t, the steps since the warm-up:
    /// values[0] before milestones[0], values[1] from it until milestones[1], and so on.
    /// </summary>
    /// <param name="values">One more value than milestones.</param>
    /// <param name="milestones">Finite, 0 or more, strictly increasing.</param>
    /// <param name="milestoneNames">How the formula writes each milestone, for the exception.</param>
    /// <param name="step">The state's step.</param>
    /// <param name="from">The step the schedule starts at (its value is held before): finite, 0 or more.</param>
    /// <param name="fromName">How the formula writes <paramref name="from"/>.</param>
    /// <param name="warmup">The steps of the linear ramp from 0 to values[0]: finite, 0 or more.</param>
    /// <param name="warmupName">How the formula writes <paramref name="warmup"/>.</param>
    public static double Piecewise(double[] values, double[] milestones, string[] milestoneNames, long step,
        double from = 0, string? fromName = null, double warmup = 0, string? warmupName = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(milestones);
        ArgumentNullException.ThrowIfNull(milestoneNames);
        if (values.Length != milestones.Length + 1 || milestoneNames.Length != milestones.Length)
        {
            throw new ArgumentException($"Piecewise takes one value more than milestones, and a name per milestone, but got {values.Length} values, {milestones.Length} milestones and {milestoneNames.Length} names.", nameof(values));
        }
        for (int i = 0; i < milestones.Length; i++)
        {
            if (!double.IsFinite(milestones[i]) || milestones[i] < 0)
            {
                throw new ArgumentOutOfRangeException(milestoneNames[i], milestones[i],
                    $"The milestone {milestoneNames[i]} of the schedule Piecewise is {Text(milestones[i])}: it must be a finite number of steps, 0 or more.");
            }
            if (i > 0 && !(milestones[i] > milestones[i - 1]))
            {
                throw new ArgumentOutOfRangeException(milestoneNames[i], milestones[i],
                    $"The milestone {milestoneNames[i]} of the schedule Piecewise is {Text(milestones[i])}, not after the milestone before it, {Named(milestoneNames[i - 1], milestones[i - 1])}: milestones must increase.");
            }
        }
        double t = Elapsed(nameof(Piecewise), step, from, fromName, warmup, warmupName);
        if (t < 0)
        {
            return values[0] * Ramp(t, warmup);
        }
        int index = 0;
        while (index < milestones.Length && milestones[index] <= t)
        {
            index++;
        }
        return values[index];
    }

    /// <summary>The steps since the warm-up ended (negative during it), with the options checked.</summary>
    private static double Elapsed(string schedule, long step, double from, string? fromName, double warmup, string? warmupName)
    {
        if (!double.IsFinite(from) || from < 0)
        {
            fromName ??= nameof(from);
            throw new ArgumentOutOfRangeException(fromName, from, $"The start step from: {fromName} of the schedule {schedule} is {Text(from)}: it must be a finite number of steps, 0 or more.");
        }
        if (!double.IsFinite(warmup) || warmup < 0)
        {
            warmupName ??= nameof(warmup);
            throw new ArgumentOutOfRangeException(warmupName, warmup, $"The warm-up warmup: {warmupName} of the schedule {schedule} is {Text(warmup)}: it must be a finite number of steps, 0 or more.");
        }
        return Math.Max(step - from, 0.0) - warmup;
    }

    /// <summary>The warm-up's fraction at t (from −warmup to 0): 0 at its first step, rising linearly.</summary>
    private static double Ramp(double t, double warmup) => (t + warmup) / warmup;

    private static void EnsureLength(string schedule, double steps, string name)
    {
        if (!double.IsFinite(steps) || steps <= 0)
        {
            throw new ArgumentOutOfRangeException(name, steps, $"The number of steps {name} of the schedule {schedule} is {Text(steps)}: it must be a finite number greater than 0.");
        }
    }

    private static string Text(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A length by its name and value, or its value alone when the name is the literal.</summary>
    private static string Named(string name, double value) => name == Text(value) ? name : $"{name} ({Text(value)})";
}
