using TorchSharp;
using static TorchSharp.torch;

namespace LossDsl.Benchmarks.HotPath;

/// <summary>
/// PR 4220 as tutorials write it: the ratios are taken to the host with item() (one sync each,
/// two syncs per scale), the guard is a host-side if, and there is no dispose scope, so every
/// intermediate tensor lives until the garbage collector finalises it. Nor has it the generated
/// Balance's numerical guards: a Kd that cancels to rounding residue above the 1e-8 guard (Soft
/// 3.6102, Feature -3.5588 leave -2.4e-7 in float32) is scaled as if it were a loss, by about 1e7,
/// and a ratio beyond float's range becomes infinite (the total is then NaN) or underflows to a
/// subnormal or 0 (the "agree" command shows the residue and the infinite case).
/// </summary>
public static class NaiveDistillation
{
    public static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, Tensor labels, Tensor studentFeatures, Tensor teacherFeatures, double alpha, double temperature)
    {
        Tensor hard = Losses.CrossEntropy(studentLogits, labels);
        Tensor soft = Losses.SoftTargetKl(studentLogits, teacherLogits, temperature);
        Tensor feature = Losses.CosineDistance(studentFeatures, teacherFeatures);
        return Combine(hard, soft, feature, alpha);
    }

    public static Tensor Combine(Tensor hard, Tensor soft, Tensor feature, double alpha)
    {
        float featureScale = Ratio(soft.item<float>(), feature.item<float>());
        Tensor kd = soft + feature * featureScale;
        float kdScale = Ratio(hard.item<float>(), kd.item<float>());
        return hard + alpha * (kd * kdScale);
    }

    private static float Ratio(float target, float source)
        => System.Math.Abs(source) > 1e-8f && System.Math.Abs(target) > 1e-8f ? System.Math.Abs(target) / System.Math.Abs(source) : 1f;
}
