using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillation;

/// <summary>
/// MNIST-format IDX files (MNIST, Fashion-MNIST), read with TorchSharp's own reader
/// (<c>torchvision.datasets.MNIST</c>, never asked to download). That reader expects the four
/// unpacked files in <c>{root}/mnist/test_data/</c>; <see cref="Load"/> builds that layout in the
/// output folder from <c>--data DIR</c>, which holds the files packed (<c>.gz</c>, as
/// <c>dataset-fashion-mnist</c> installs them) or unpacked. Images are flattened to 784 inputs
/// and standardised with the training set's mean and standard deviation.
/// </summary>
public sealed class IdxTask : IClassificationTask
{
    public const int Side = 28;
    public const int StudentCount = 1024;

    private static readonly (string Name, int Magic)[] Files =
    {
        ("train-images-idx3-ubyte", 2051), ("train-labels-idx1-ubyte", 2049),
        ("t10k-images-idx3-ubyte", 2051), ("t10k-labels-idx1-ubyte", 2049),
    };

    private IdxTask(string description, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY)
    {
        Description = description;
        TrainX = trainX;
        TrainY = trainY;
        TestX = testX;
        TestY = testY;
    }

    public string Description { get; }
    public int Inputs => Side * Side;
    public int Classes => 10;
    public int TeacherExamples => (int)TrainX.shape[0];
    public int StudentExamples => StudentCount;
    public Tensor TrainX { get; }
    public Tensor TrainY { get; }
    public Tensor TestX { get; }
    public Tensor TestY { get; }

    /// <summary>
    /// Checks that <paramref name="folder"/> holds the four IDX files (packed or not) with valid
    /// headers: 28×28 images, as many labels as images. Returns the problem, or null.
    /// </summary>
    public static string? Check(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return $"'{folder}' is not a folder";
        }
        int[] counts = new int[Files.Length];
        for (int i = 0; i < Files.Length; i++)
        {
            var (name, magic) = Files[i];
            string? path = Find(folder, name);
            if (path is null)
            {
                return $"'{folder}' has no {name} (nor {name}.gz): it needs the four MNIST-format files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte";
            }
            try
            {
                using Stream stream = Open(path);
                byte[] header = new byte[magic == 2051 ? 16 : 8];
                stream.ReadExactly(header);
                int actual = BinaryPrimitives.ReadInt32BigEndian(header);
                counts[i] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
                if (actual != magic)
                {
                    return $"{path} is not an IDX {(magic == 2051 ? "image" : "label")} file (magic number {actual}, expected {magic})";
                }
                if (magic == 2051 && (BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8)) != Side || BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(12)) != Side))
                {
                    return $"{path} does not hold {Side}x{Side} images";
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                return $"cannot read {path}: {e.Message}";
            }
        }
        if (counts[0] != counts[1] || counts[2] != counts[3])
        {
            return $"'{folder}' has {counts[0]} training images and {counts[1]} labels, {counts[2]} test images and {counts[3]} labels: the counts must match";
        }
        if (counts[0] < StudentCount)
        {
            return $"'{folder}' has {counts[0]} training images; the students alone need {StudentCount}";
        }
        return null;
    }

    /// <summary>Unpacks (or copies) the files into <c>{work}/mnist/test_data/</c> and reads them with TorchSharp's MNIST reader.</summary>
    public static IdxTask Load(string folder, string work, Device device)
    {
        string target = Path.Combine(work, "mnist", "test_data");
        Directory.CreateDirectory(target);
        foreach (var (name, _) in Files)
        {
            string destination = Path.Combine(target, name);
            using (Stream source = Open(Find(folder, name)!))
            using (FileStream copy = File.Create(destination + ".tmp"))
            {
                source.CopyTo(copy);
            }
            File.Move(destination + ".tmp", destination, overwrite: true);
        }

        using var scope = NewDisposeScope();
        var (trainX, trainY) = Read(work, train: true);
        var (testX, testY) = Read(work, train: false);
        Tensor mean = trainX.mean(), std = trainX.std();
        trainX = trainX.sub_(mean).div_(std).to(device);
        testX = testX.sub_(mean).div_(std).to(device);
        trainY = trainY.to(device);
        testY = testY.to(device);
        var task = new IdxTask($"{Path.GetFullPath(folder)} ({trainX.shape[0]} teacher examples, the students see the first {StudentCount}, {testX.shape[0]} held out)", trainX, trainY, testX, testY);
        scope.MoveToOuter(trainX, trainY, testX);
        scope.MoveToOuter(testY);
        return task;
    }

    private static (Tensor X, Tensor Y) Read(string root, bool train)
    {
        using var dataset = torchvision.datasets.MNIST(root, train, download: false);
        var images = new Tensor[dataset.Count];
        var labels = new Tensor[dataset.Count];
        for (long i = 0; i < dataset.Count; i++)
        {
            // Only the two tensors kept leave this scope: the reader's intermediates go at once.
            using var scope = NewDisposeScope();
            var example = dataset.GetTensor(i);
            images[i] = scope.MoveToOuter(example["data"].reshape(Side * Side).to(ScalarType.Float32));
            labels[i] = scope.MoveToOuter(example["label"].reshape(Array.Empty<long>()).to(ScalarType.Int64));
        }
        Tensor x = stack(images), y = stack(labels);
        foreach (Tensor t in images.Concat(labels))
        {
            t.Dispose();
        }
        return (x, y);
    }

    private static string? Find(string folder, string name)
        => new[] { name, name + ".gz" }.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);

    private static Stream Open(string path)
    {
        Stream file = File.OpenRead(path);
        return path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    public void Dispose()
    {
        TrainX.Dispose();
        TrainY.Dispose();
        TestX.Dispose();
        TestY.Dispose();
    }
}
