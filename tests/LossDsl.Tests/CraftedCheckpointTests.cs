using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using LossDsl.Tests.Fixtures;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LossDsl.Tests;

/// <summary>
/// Checkpoints crafted with a valid checksum: every value is checked against the layout and the
/// invariants of its site before anything changes. A load is all or nothing: the error names the
/// entry, and the state stays byte-identical.
/// </summary>
public class CraftedCheckpointTests
{
    [Theory]
    [InlineData("balance0.mx", 0, double.NaN, "not finite")]
    [InlineData("balance0.my", 0, double.PositiveInfinity, "not finite")]
    [InlineData("balance0.my", 0, -1.0, "negative")]
    [InlineData("cov0.m2_ratio", 1, -0.5, "negative")]
    [InlineData("cov0.mean_loss", 0, -2.0, "negative")]
    [InlineData("dwa0.previous", 1, double.NaN, "not finite")]
    [InlineData("uncertainty0.log_variance", 2, double.NegativeInfinity, "not finite")]
    [InlineData("dwa0.counters.count", 0, -1.0, "whole number")]
    [InlineData("step.counters.step", 0, 0.5, "whole number")]
    [InlineData("balance0.w", 0, 1.5, "from 0 to 1")]
    [InlineData("balance0.skipped", 0, -1.0, "whole number")]
    [InlineData("dwa0.valid", 0, 5.0, "cannot exceed")]
    [InlineData("dwa0.valid", 1, 0.5, "whole number")]
    [InlineData("cov0.count", 0, -1.0, "whole number")]
    [InlineData("cov0.skipped", 1, 2.5, "whole number")]
    [InlineData("cov0.mean_ratio", 0, 0.0, "positive after")]
    public void AValueThatBreaksItsSitesInvariantIsRefusedNamingItAndChangesNothing(string entry, int index, double value, string problem)
    {
        var loss = Trained();
        byte[] before = Snapshot(loss.ComputeState);

        byte[] crafted = Checkpoint.With(before, entry, index, value);
        var error = Assert.Throws<InvalidDataException>(() => loss.ComputeState.Load(new MemoryStream(crafted)));

        Assert.Contains($"'{entry}'", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Equal(before, Snapshot(loss.ComputeState));
    }

    [Fact]
    public void AValueBeyondTheStatesDtypeIsRefused()
    {
        // 1e300 is a finite float64, but infinite in a float32 state.
        var loss = Trained();
        loss.ComputeState.to(ScalarType.Float32);
        byte[] before = Snapshot(loss.ComputeState);

        var error = Assert.Throws<InvalidDataException>(() => loss.ComputeState.Load(new MemoryStream(Checkpoint.With(before, "dwa0.sum", 0, 1e300))));

        Assert.Contains("'dwa0.sum'", error.Message);
        Assert.Contains("Float32", error.Message);
        Assert.Equal(before, Snapshot(loss.ComputeState));
    }

    [Fact]
    public void TheCraftingHelperWritesWhatLoadAccepts()
    {
        // The tests above are only as good as their crafted files: an unchanged value loads.
        var loss = Trained();
        byte[] before = Snapshot(loss.ComputeState);
        double value = Checkpoint.Read(before).Single(e => e.Name == "dwa0.previous").Values[1];

        loss.ComputeState.Load(new MemoryStream(Checkpoint.With(before, "dwa0.previous", 1, value)));

        Assert.Equal(before, Snapshot(loss.ComputeState));
    }

    private static AllStrategiesLoss Trained()
    {
        var loss = new AllStrategiesLoss();
        using var scope = NewDisposeScope();
        var random = new Random(21);
        for (int call = 0; call < 7; call++)
        {
            loss.Compute(tensor(HandComputed.RandomLoss(random)), tensor(HandComputed.RandomLoss(random)), tensor(HandComputed.RandomLoss(random))).Dispose();
            loss.ComputeState.Advance();
        }
        return loss;
    }

    private static byte[] Snapshot(LossState state)
    {
        var stream = new MemoryStream();
        state.Save(stream);
        return stream.ToArray();
    }

    /// <summary>Reads and writes the checkpoint format (docs/language.md, Checkpoints), with a valid CRC-32.</summary>
    internal static class Checkpoint
    {
        internal sealed record Entry(string Name, int DType, long[] Shape, double[] Values);

        /// <summary>The checkpoint <paramref name="saved"/> with one value replaced, and a checksum that matches.</summary>
        public static byte[] With(byte[] saved, string name, int index, double value)
        {
            var entries = Read(saved);
            Entry entry = entries.SingleOrDefault(e => e.Name == name) ?? throw new ArgumentException($"No entry '{name}' in {string.Join(", ", entries.Select(e => e.Name))}.");
            entry.Values[index] = value;
            return Write(Version(saved), entries);
        }

        public static int Version(byte[] saved)
        {
            using var reader = new BinaryReader(new MemoryStream(saved), Encoding.UTF8);
            reader.ReadString();
            return reader.ReadInt32();
        }

        public static List<Entry> Read(byte[] saved)
        {
            using var reader = new BinaryReader(new MemoryStream(saved[..^4]), Encoding.UTF8);
            reader.ReadString();
            reader.ReadInt32();
            int count = reader.ReadInt32();
            var entries = new List<Entry>();
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                int dtype = reader.ReadInt32();
                long[] shape = new long[reader.ReadInt32()];
                for (int d = 0; d < shape.Length; d++)
                {
                    shape[d] = reader.ReadInt64();
                }
                double[] values = new double[shape.Aggregate(1L, (a, b) => a * b)];
                for (int k = 0; k < values.Length; k++)
                {
                    values[k] = reader.ReadDouble();
                }
                entries.Add(new Entry(name, dtype, shape, values));
            }
            return entries;
        }

        public static byte[] Write(int version, IEnumerable<Entry> entries)
        {
            var body = new MemoryStream();
            using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write("LOSSDSL-STATE");
                writer.Write(version);
                var list = entries.ToList();
                writer.Write(list.Count);
                foreach (Entry entry in list)
                {
                    writer.Write(entry.Name);
                    writer.Write(entry.DType);
                    writer.Write(entry.Shape.Length);
                    foreach (long dimension in entry.Shape)
                    {
                        writer.Write(dimension);
                    }
                    foreach (double v in entry.Values)
                    {
                        writer.Write(v);
                    }
                }
            }
            byte[] bytes = body.ToArray();
            return bytes.Concat(BitConverter.GetBytes(Crc32(bytes))).ToArray();
        }

        /// <summary>CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).</summary>
        private static uint Crc32(byte[] data)
        {
            uint crc = 0xFFFFFFFF;
            foreach (byte b in data)
            {
                crc ^= b;
                for (int k = 0; k < 8; k++)
                {
                    crc = (crc >> 1) ^ (0xEDB88320 & (uint)-(int)(crc & 1));
                }
            }
            return ~crc;
        }
    }
}
