using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace LossDsl.Benchmarks.Eager;

/// <summary>One implementation under measurement: runs the given number of iterations and returns the seconds they took.</summary>
public sealed record Contender(string Name, Func<int, double> Run);

/// <summary>How many rounds and iterations a measurement takes.</summary>
/// <param name="Warmup">Iterations each contender runs once, untimed, before the first round.</param>
/// <param name="Rounds">Rounds R: in each, every contender runs its timed iterations once.</param>
/// <param name="Iterations">Timed iterations N per contender and round.</param>
public sealed record RoundPlan(int Warmup, int Rounds, int Iterations);

/// <summary>
/// Times contenders in interleaved rounds, as issue 16's measurements were made on this shared
/// machine: after a warm-up, each round runs every contender for N timed iterations, one after
/// the other (the order rotating from round to round, so that none always runs first); R rounds.
/// A contender's time is the median over rounds of its per-iteration time; a ratio is the median
/// over rounds of the ratio within each round (both measured within seconds of each other, so a
/// change of load between rounds moves both), with the smallest and largest round ratio as its
/// spread.
/// </summary>
public sealed class InterleavedRounds
{
    private readonly Dictionary<string, double[]> _perIteration;

    private InterleavedRounds(Dictionary<string, double[]> perIteration) => _perIteration = perIteration;

    /// <summary>Runs the warm-up and the rounds of <paramref name="plan"/> over <paramref name="contenders"/>.</summary>
    public static InterleavedRounds Measure(IReadOnlyList<Contender> contenders, RoundPlan plan)
    {
        foreach (Contender contender in contenders)
        {
            contender.Run(plan.Warmup);
        }
        var perIteration = contenders.ToDictionary(c => c.Name, _ => new double[plan.Rounds]);
        for (int round = 0; round < plan.Rounds; round++)
        {
            for (int k = 0; k < contenders.Count; k++)
            {
                Contender contender = contenders[(round + k) % contenders.Count];
                perIteration[contender.Name][round] = contender.Run(plan.Iterations) / plan.Iterations;
            }
        }
        return new InterleavedRounds(perIteration);
    }

    /// <summary>The median over rounds of <paramref name="name"/>'s time per iteration, in seconds.</summary>
    public double Median(string name) => MedianOf(_perIteration[name]);

    /// <summary>The median over rounds of <paramref name="numerator"/>'s time over <paramref name="denominator"/>'s in the same round, with the smallest and the largest.</summary>
    public (double Median, double Min, double Max) Ratio(string numerator, string denominator)
    {
        double[] ratios = _perIteration[numerator].Zip(_perIteration[denominator], (n, d) => n / d).ToArray();
        return (MedianOf(ratios), ratios.Min(), ratios.Max());
    }

    /// <summary>A median time in milliseconds, for a table.</summary>
    public string Milliseconds(string name) => (Median(name) * 1e3).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>A ratio as "median (min–max)", for a table.</summary>
    public string RatioCell(string numerator, string denominator)
    {
        var (median, min, max) = Ratio(numerator, denominator);
        return string.Create(CultureInfo.InvariantCulture, $"{median:F2} ({min:F2}–{max:F2})");
    }

    private static double MedianOf(double[] values)
    {
        double[] sorted = values.Order().ToArray();
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
