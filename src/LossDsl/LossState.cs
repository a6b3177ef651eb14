using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using TorchSharp;
using TorchSharp.Modules;

namespace LossDsl;

/// <summary>
/// The state of a loss that uses stateful strategies (<c>Balance(…, ema:)</c>, <c>Uncertainty</c>,
/// <c>Dwa</c>, <c>CoV</c>) or schedules: learnable parameters, running statistics, and the step
/// counter. It is a TorchSharp module, so its parameters reach an optimizer
/// (<c>state.parameters()</c>) and it can be moved with <c>to(device)</c> or registered in a model.
/// </summary>
/// <remarks>
/// The training loop advances <see cref="Step"/> with <see cref="Advance"/>; schedules read it.
/// Statistics are updated by every call while <see cref="Updating"/> is true; use
/// <see cref="Evaluation"/> for calls that must leave the state unchanged (evaluation, or the
/// extra micro-batches of gradient accumulation). <see cref="Save(string)"/> and
/// <see cref="Load(string)"/> write and read a checkpoint that is validated as a whole before
/// anything is changed.
/// </remarks>
public sealed class LossState : torch.nn.Module
{
    private const string Magic = "LOSSDSL-STATE";
    private const int FormatVersion = 1;

    private readonly Dictionary<string, torch.Tensor> _buffers = new(StringComparer.Ordinal);
    private readonly List<string> _learnable = new();
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);

    /// <summary>Creates the state of a loss; generated code calls this.</summary>
    /// <param name="fingerprint">Identifies the formula and the layout of its state; checkpoints must match it.</param>
    /// <param name="parameterSizes">The learnable parameters (name, length), created now so an optimizer can take them before the first call.</param>
    public LossState(string fingerprint, params (string Name, int Length)[] parameterSizes) : base("LossState")
    {
        ArgumentNullException.ThrowIfNull(fingerprint);
        Fingerprint = fingerprint;
        foreach (var (name, length) in parameterSizes)
        {
            using var initial = torch.zeros(length);
            Parameter parameter = torch.nn.Parameter(initial);
            parameter.DetachFromDisposeScope(); // lives as long as the state, not the caller's scope
            _learnable.Add(name);
            register_parameter(name, parameter);
        }
    }

    /// <summary>What a checkpoint must have been saved from: the formula and the layout of its state.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// The training step, advanced by the training loop with <see cref="Advance"/>; schedules read
    /// it. Set it to resume schedules without a checkpoint of the state.
    /// </summary>
    public long Step
    {
        get => _step;
        set => _step = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The step counter cannot be negative.");
    }

    private long _step;

    private static readonly object s_creation = new();
    private bool _updating = true;
    private int _evaluationScopes;

    /// <summary>
    /// Returns the state in <paramref name="field"/>, creating it on first use; generated code
    /// calls this. Threads that race to create it get one state, never two.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static LossState Ensure(ref LossState? field, string fingerprint, params (string Name, int Length)[] parameterSizes)
    {
        LossState? existing = System.Threading.Volatile.Read(ref field);
        if (existing is not null)
        {
            return existing;
        }
        lock (s_creation)
        {
            return field ??= new LossState(fingerprint, parameterSizes);
        }
    }

    /// <summary>
    /// Serialises the calls that share this state: a [Loss] method with state holds it for the
    /// whole call, so concurrent calls on one instance run one after the other and no update is lost.
    /// </summary>
    public object SyncRoot { get; } = new();

    /// <summary>
    /// Whether calls update running statistics: true by default, false while set so or while an
    /// <see cref="Evaluation"/> scope is open.
    /// </summary>
    public bool Updating
    {
        get => _updating && System.Threading.Volatile.Read(ref _evaluationScopes) == 0;
        set => _updating = value;
    }

    /// <summary>Advances the step counter by one. Call it once per optimizer step.</summary>
    public void Advance() => System.Threading.Interlocked.Increment(ref _step);

    /// <summary>
    /// Until disposed, calls read the state but do not update it. Scopes nest and may be disposed
    /// in any order; disposing one twice counts once.
    /// </summary>
    public IDisposable Evaluation()
    {
        System.Threading.Interlocked.Increment(ref _evaluationScopes);
        return new Restore(() => System.Threading.Interlocked.Decrement(ref _evaluationScopes));
    }

    /// <summary>
    /// A learnable parameter created by the constructor, as the module holds it now (after
    /// <c>to(device)</c> or <c>to(dtype)</c> it is a new object).
    /// </summary>
    public Parameter LearnableParameter(string name) => get_parameter(name) ?? throw new ArgumentException($"The loss state has no learnable parameter '{name}'.", nameof(name));

    /// <summary>
    /// A running statistic, created on first use from <paramref name="like"/>'s dtype and device
    /// (and converted once if a loaded checkpoint stored it elsewhere). Not tracked by dispose scopes.
    /// </summary>
    public torch.Tensor Buffer(string name, torch.Tensor like, long length = 0)
    {
        // Devices compare by type and index: torch.Device objects are not compared by value.
        if (!_buffers.TryGetValue(name, out torch.Tensor? buffer) || buffer.dtype != like.dtype
            || buffer.device_type != like.device_type || buffer.device_index != like.device_index)
        {
            torch.Tensor created = buffer is null
                ? (length == 0 ? torch.zeros(Array.Empty<long>(), like.dtype, like.device) : torch.zeros(new[] { length }, like.dtype, like.device))
                : buffer.to(like.dtype, like.device);
            created.DetachFromDisposeScope();
            SetBuffer(name, created);
            buffer = created;
        }
        return buffer;
    }

    /// <summary>A host-side counter of the state (saved with it).</summary>
    public long Counter(string name) => _counters.TryGetValue(name, out long value) ? value : 0;

    /// <summary>Sets a host-side counter.</summary>
    public void SetCounter(string name, long value) => _counters[name] = value;

    /// <summary>Writes the state to <paramref name="path"/>: written beside it and renamed, so a crash never leaves half a file.</summary>
    public void Save(string path)
    {
        string temporary = path + ".tmp";
        using (var file = File.Create(temporary))
        {
            Save(file);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Writes the state to <paramref name="stream"/>.</summary>
    public void Save(Stream stream)
    {
        lock (SyncRoot)
        {
            SaveLocked(stream);
        }
    }

    private void SaveLocked(Stream stream)
    {
        var body = new MemoryStream();
        using (var scope = torch.NewDisposeScope())
        using (var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(Fingerprint);
            writer.Write(Step);
            writer.Write(_counters.Count);
            foreach (var (name, value) in _counters.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                writer.Write(name);
                writer.Write(value);
            }
            var tensors = _learnable.Select(name => (Key: name, Kind: (byte)1, Value: (torch.Tensor)LearnableParameter(name)))
                .Concat(_buffers.Select(b => (b.Key, Kind: (byte)0, b.Value)))
                .OrderBy(t => t.Key, StringComparer.Ordinal)
                .ToList();
            writer.Write(tensors.Count);
            foreach (var (name, kind, value) in tensors)
            {
                writer.Write(name);
                writer.Write(kind);
                writer.Write((int)value.dtype);
                writer.Write(value.shape.Length);
                foreach (long dimension in value.shape)
                {
                    writer.Write(dimension);
                }
                double[] data = value.detach().to(torch.ScalarType.Float64, torch.CPU).contiguous().data<double>().ToArray();
                writer.Write(data.Length);
                foreach (double v in data)
                {
                    writer.Write(v);
                }
            }
        }
        byte[] bytes = body.ToArray();
        stream.Write(bytes);
        stream.Write(BitConverter.GetBytes(Checksum(bytes)));
    }

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save(string)"/>. The whole file is read and checked
    /// first (checksum, format, fingerprint, parameter shapes); on any mismatch an
    /// <see cref="InvalidDataException"/> says what does not match and the state is left as it was.
    /// </summary>
    public void Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"No loss state checkpoint at '{path}'.", path);
        }
        Load(bytes, path);
    }

    /// <summary>Reads a checkpoint from <paramref name="stream"/>; see <see cref="Load(string)"/>.</summary>
    public void Load(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        Load(copy.ToArray(), "a stream");
    }

    private void Load(byte[] bytes, string source)
    {
        lock (SyncRoot)
        {
            LoadLocked(bytes, source);
        }
    }

    private void LoadLocked(byte[] bytes, string source)
    {
        byte[] magic = Encoding.UTF8.GetBytes(Magic);
        if (bytes.Length < magic.Length + 1 || bytes[0] != magic.Length || !bytes.AsSpan(1, magic.Length).SequenceEqual(magic))
        {
            throw new InvalidDataException($"The file read from {source} is not a LossDsl loss state checkpoint.");
        }
        if (bytes.Length < magic.Length + 5)
        {
            throw new InvalidDataException($"The loss state checkpoint in {source} is truncated ({bytes.Length} bytes).");
        }
        byte[] body = bytes[..^4];
        if (BitConverter.ToUInt32(bytes, bytes.Length - 4) != Checksum(body))
        {
            throw new InvalidDataException($"The loss state checkpoint in {source} is corrupted or truncated: its checksum does not match its content.");
        }

        // Everything is read and checked before the state changes.
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        var tensors = new List<(string Name, byte Kind, torch.ScalarType Type, long[] Shape, double[] Data)>();
        long step;
        using (var reader = new BinaryReader(new MemoryStream(body), Encoding.UTF8))
        {
            try
            {
                reader.ReadString(); // the marker, checked above
                int version = reader.ReadInt32();
                if (version != FormatVersion)
                {
                    throw new InvalidDataException($"The loss state checkpoint in {source} has format version {version}; this LossDsl reads version {FormatVersion}.");
                }
                string fingerprint = reader.ReadString();
                if (fingerprint != Fingerprint)
                {
                    throw new InvalidDataException(
                        $"The loss state checkpoint in {source} was saved from another formula or state layout.\n  checkpoint: {fingerprint}\n  this loss:  {Fingerprint}");
                }
                step = reader.ReadInt64();
                if (step < 0)
                {
                    throw new InvalidDataException($"The loss state checkpoint in {source} has a negative step counter ({step}).");
                }
                int counterCount = reader.ReadInt32();
                for (int i = 0; i < counterCount; i++)
                {
                    counters[reader.ReadString()] = reader.ReadInt64();
                }
                int tensorCount = reader.ReadInt32();
                for (int i = 0; i < tensorCount; i++)
                {
                    string name = reader.ReadString();
                    byte kind = reader.ReadByte();
                    var type = (torch.ScalarType)reader.ReadInt32();
                    long[] shape = new long[reader.ReadInt32()];
                    for (int d = 0; d < shape.Length; d++)
                    {
                        shape[d] = reader.ReadInt64();
                    }
                    double[] data = new double[reader.ReadInt32()];
                    for (int k = 0; k < data.Length; k++)
                    {
                        data[k] = reader.ReadDouble();
                    }
                    tensors.Add((name, kind, type, shape, data));
                }
                if (reader.BaseStream.Position != reader.BaseStream.Length)
                {
                    throw new InvalidDataException($"The loss state checkpoint in {source} has {reader.BaseStream.Length - reader.BaseStream.Position} unexpected bytes at its end.");
                }
            }
            catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or OverflowException or FormatException or DecoderFallbackException)
            {
                throw new InvalidDataException($"The loss state checkpoint in {source} is malformed: {e.Message}", e);
            }
        }
        foreach (var (name, kind, type, shape, data) in tensors)
        {
            if (kind > 1 || kind == 1 && !_learnable.Contains(name))
            {
                throw new InvalidDataException($"The loss state checkpoint in {source} has a learnable parameter '{name}' that this loss does not have.");
            }
            if (type is not (torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Float32 or torch.ScalarType.Float64))
            {
                throw new InvalidDataException($"The entry '{name}' of the loss state checkpoint in {source} has the dtype code {(int)type}, which is not a floating-point type.");
            }
            if (shape.Any(d => d < 0) || shape.Aggregate(1L, (a, d) => a * d) != data.Length)
            {
                throw new InvalidDataException($"The entry '{name}' of the loss state checkpoint in {source} has shape [{string.Join(", ", shape)}] but {data.Length} values.");
            }
        }
        foreach (string name in _learnable)
        {
            Parameter parameter = LearnableParameter(name);
            var stored = tensors.FirstOrDefault(t => t.Name == name && t.Kind == 1);
            if (stored.Name is null)
            {
                throw new InvalidDataException($"The loss state checkpoint in {source} has no learnable parameter '{name}'.");
            }
            if (!stored.Shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException($"The learnable parameter '{name}' has shape [{string.Join(", ", stored.Shape)}] in {source}, but [{string.Join(", ", parameter.shape)}] in this loss.");
            }
        }

        // Apply: nothing below can fail on the content.
        using (torch.no_grad())
        {
            foreach (var (name, kind, type, shape, data) in tensors)
            {
                using var host = torch.tensor(data, shape, torch.ScalarType.Float64);
                if (kind == 1)
                {
                    LearnableParameter(name).copy_(host);
                }
                else
                {
                    torch.Tensor buffer = host.to(type);
                    buffer.DetachFromDisposeScope();
                    SetBuffer(name, buffer);
                }
            }
        }
        foreach (string name in _buffers.Keys.Except(tensors.Where(t => t.Kind == 0).Select(t => t.Name)).ToList())
        {
            _buffers[name].Dispose();
            _buffers.Remove(name);
        }
        _counters.Clear();
        foreach (var (name, value) in counters)
        {
            _counters[name] = value;
        }
        _step = step;
    }

    /// <summary>Releases the running statistics with the module's parameters.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (torch.Tensor buffer in _buffers.Values)
            {
                buffer.Dispose();
            }
            _buffers.Clear();
        }
        base.Dispose(disposing);
    }

    private void SetBuffer(string name, torch.Tensor value)
    {
        if (_buffers.TryGetValue(name, out torch.Tensor? old) && !ReferenceEquals(old, value))
        {
            old.Dispose();
        }
        // Kept here, not registered with the module: checkpoints go through Save and Load, which
        // also carry the host-side counters and check the whole file before changing anything.
        _buffers[name] = value;
    }

    /// <summary>CRC-32 (IEEE), to find a corrupted or truncated checkpoint.</summary>
    private static uint Checksum(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }
        return ~crc;
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (System.Threading.Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                restore();
            }
        }
    }
}
