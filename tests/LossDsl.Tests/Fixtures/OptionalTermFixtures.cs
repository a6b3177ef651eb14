using LossDsl;
using static TorchSharp.torch;

namespace LossDsl.Tests.Fixtures;

/// <summary>
/// A distillation-shaped loss whose feature term a property switches, and whose soft term takes a
/// temperature default the [Loss] method does not supply. Counts the calls of each term.
/// </summary>
public partial class SwitchedFeatureLoss
{
    public bool UseFeature { get; set; } = true;

    public int FeatureCalls { get; private set; }

    public int ExtraCalls { get; private set; }

    [Term] Tensor Hard(Tensor logits, Tensor labels) => Losses.CrossEntropy(logits, labels);

    [Term] Tensor Soft(Tensor logits, Tensor teacher, double temperature = 2.0)
        => Losses.SoftTargetKl(logits, teacher, temperature);

    [Term] Tensor Feature(Tensor features, Tensor teacherFeatures)
    {
        FeatureCalls++;
        return Losses.Mse(features, teacherFeatures);
    }

    [Term] Tensor Extra(Tensor features)
    {
        ExtraCalls++;
        return features.pow(2).mean();
    }

    [Loss("""
        Kd    = Soft + Balance(If(UseFeature, Feature), to: Soft)
        Total = Hard + Kd + If(useExtra, Extra)
        """)]
    public partial SwitchedFeatureResult Compute(Tensor logits, Tensor teacher, Tensor labels, Tensor features, Tensor teacherFeatures, bool useExtra);
}

/// <summary>The same soft term, with the temperature supplied by the [Loss] method.</summary>
public partial class SuppliedTemperatureLoss
{
    [Term] Tensor Soft(Tensor logits, Tensor teacher, double temperature = 2.0)
        => Losses.SoftTargetKl(logits, teacher, temperature);

    [Loss("Total = Soft")]
    public partial Tensor Compute(Tensor logits, Tensor teacher, double temperature);
}
