using System;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// A term's value must be a floating-point scalar: a bool, integer or complex one is refused with
/// an ArgumentException naming the term and its dtype, read from metadata alone.
/// </summary>
public class TermDtypeTests
{
    [Theory]
    [InlineData(ScalarType.Bool)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int64)]
    [InlineData(ScalarType.Byte)]
    [InlineData(ScalarType.ComplexFloat32)]
    [InlineData(ScalarType.ComplexFloat64)]
    public void ATermThatIsNotFloatingPointIsRefusedNamingItAndItsDtype(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor value = ones(Array.Empty<long>(), dtype);

        var error = Assert.Throws<ArgumentException>(() => new IdentityTermLoss().Compute(value));

        Assert.Equal("Given", error.ParamName);
        Assert.Contains("Term 'Given'", error.Message);
        Assert.Contains(dtype.ToString(), error.Message);
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void FloatingPointTermsOfEveryWidthWork(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var result = new IdentityTermLoss().Compute(tensor(1.5, dtype));

        Assert.Equal(dtype, result.Total.dtype);
        Assert.Equal(3.0, result.Total.to(ScalarType.Float64).item<double>());
    }
}
