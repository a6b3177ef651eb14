using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using LossDsl.State;
using TorchSharp;
using TorchSharp.Modules;

namespace LossDsl;

/// <summary>
/// The state of a loss that uses stateful strategies (<c>Balance(…, ema:)</c>, <c>Uncertainty</c>,
/// <c>Dwa</c>, <c>CoV</c>) or schedules. It is a TorchSharp module like BatchNorm's running
/// statistics: one child module per stateful site of the formula, holding its statistics as
/// registered buffers and <c>Uncertainty</c>'s log-variances as parameters. So
/// <c>parameters()</c> reach an optimizer, <c>to(device)</c> and <c>to(dtype)</c> move everything,
/// <c>state_dict()</c>, <c>save</c> and <c>load</c> carry everything, and a model that registers the
/// state as a child module carries it too.
/// </summary>
/// <remarks>
/// Statistics update only in training mode (<c>train()</c>, the default), as BatchNorm's running
/// statistics do: <c>eval()</c>, on the state or on a model it is registered in, freezes them.
/// <see cref="Evaluation"/> freezes them for a scope (the extra micro-batches of gradient
/// accumulation). Schedules read <see cref="Step"/>, which the training loop advances once per
/// optimizer step with <see cref="Advance"/>; a state whose schedules read a step that training
/// calls never advance warns once through <see cref="Warning"/>. <see cref="Save(string)"/> and
/// <see cref="Load(string)"/> validate a checkpoint as a whole, against this state's layout
/// (sites, kinds, shapes) and each site's invariants, before anything changes. An observation
/// that is not finite, or whose update would make a statistic non-finite, is left out of the
/// statistics and counted in its site's <c>skipped</c>; a call that throws changes nothing
/// (<see cref="BeginCall"/>).
/// </remarks>
public sealed class LossState : torch.nn.Module
{
    private const string Magic = "LOSSDSL-STATE";
    private const int FormatVersion = 3;
    private const string StepSite = "step";

    /// <summary>
    /// The largest step and counter value (2^53): checkpoints store values as float64, which holds
    /// every whole number up to it exactly, so a state never saves what it could not load.
    /// </summary>
    public const long MaxCount = 1L << 53;

    /// <summary>Training calls without a step change after which a state with schedules warns that Advance() is missing.</summary>
    public const int FrozenStepWarningCalls = 200;

    private static readonly object s_creation = new();
    private readonly Dictionary<string, SiteState> _sites = new(StringComparer.Ordinal);
    private bool _updating = true;
    private int _evaluationScopes;
    private long _callsSinceStepChanged;
    private int _warned;
    private CallScope? _call;

    /// <summary>Creates the state of a loss; generated code calls this with the formula's sites.</summary>
    /// <param name="sites">Each stateful site: its name (<c>balance0</c>, <c>dwa0</c>, …) and its state.</param>
    public LossState(params (string Name, SiteState State)[] sites) : base(nameof(LossState))
    {
        ArgumentNullException.ThrowIfNull(sites);
        foreach (var (name, state) in sites)
        {
            _sites.Add(name, state);
            register_module(name, state);
        }
    }

    /// <summary>
    /// Returns the state in <paramref name="field"/>, creating it on first use; generated code
    /// calls this. Threads that race to create it get one state, never two.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static LossState Ensure(ref LossState? field, Func<LossState> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        LossState? existing = Volatile.Read(ref field);
        if (existing is not null)
        {
            return existing;
        }
        lock (s_creation)
        {
            return field ??= create();
        }
    }

    /// <summary>
    /// Where LossDsl's warnings about states go unless a state has its own <see cref="Warning"/>
    /// (a forgotten <see cref="Advance"/>); by default the standard error stream.
    /// </summary>
    public static Action<string> DefaultWarning { get; set; } = message => Console.Error.WriteLine(message);

    /// <summary>Where this state's warnings go; <see cref="DefaultWarning"/> unless set. Route them into your logging.</summary>
    public Action<string>? Warning { get; set; }

    /// <summary>
    /// Serialises the calls that share this state: a [Loss] method with state holds it for the
    /// whole call, so concurrent calls on one instance run one after the other and no update is lost.
    /// </summary>
    public object SyncRoot { get; } = new();

    /// <summary>The stateful sites, by name, in formula order.</summary>
    public IReadOnlyDictionary<string, SiteState> Sites => _sites;

    /// <summary>
    /// The training step that schedules read: advanced by the training loop with
    /// <see cref="Advance"/>, carried by checkpoints. Set it to resume schedules without one.
    /// </summary>
    public long Step
    {
        get => _sites.TryGetValue(StepSite, out SiteState? step) ? step.Counters["step"] : _stepWithoutSchedules;
        set
        {
            if (value < 0 || value > MaxCount)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, $"The step counter must be from 0 to {MaxCount}.");
            }
            lock (SyncRoot)
            {
                SetStep(value);
            }
        }
    }

    private long _stepWithoutSchedules;

    /// <summary>
    /// Whether calls update running statistics: in training mode (<c>train()</c>, the default),
    /// while no <see cref="Evaluation"/> scope is open, and unless set to false.
    /// </summary>
    public bool Updating
    {
        get => _updating && training && Volatile.Read(ref _evaluationScopes) == 0;
        set => _updating = value;
    }

    /// <summary>Advances the step counter by one. Call it once per optimizer step.</summary>
    public void Advance()
    {
        lock (SyncRoot)
        {
            long step = Step;
            if (step >= MaxCount)
            {
                throw new InvalidOperationException($"The step counter is at its largest value, {MaxCount}.");
            }
            SetStep(step + 1);
        }
    }

    /// <summary>
    /// Until disposed, calls read the state but do not update it: for the extra micro-batches of
    /// gradient accumulation (for evaluation, <c>eval()</c> is enough). Scopes nest and may be
    /// disposed in any order; disposing one twice counts once.
    /// </summary>
    public IDisposable Evaluation()
    {
        Interlocked.Increment(ref _evaluationScopes);
        return new Restore(() => Interlocked.Decrement(ref _evaluationScopes));
    }

    /// <summary>The site named <paramref name="name"/>; generated code and <see cref="Strategies"/> call this.</summary>
    public T Site<T>(string name) where T : SiteState
        => _sites.TryGetValue(name, out SiteState? site) && site is T typed
            ? typed
            : throw new ArgumentException($"The loss state has no {typeof(T).Name} site '{name}'.", nameof(name));

    /// <summary>
    /// Opens a call of the loss: takes <see cref="SyncRoot"/> until the scope is disposed, so calls
    /// that share this state run one after the other. Generated code wraps every call in one.
    /// Inside it the strategies stage their updates instead of writing them;
    /// <see cref="CallScope.Complete"/> writes them all, and disposing a scope that was not
    /// completed (the call threw) drops them: a failed call changes no state.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public CallScope BeginCall()
    {
        Monitor.Enter(SyncRoot);
        _call = new CallScope(this, _call);
        return _call;
    }

    /// <summary>
    /// The number of observations the state's statistics left out because they were not finite
    /// (or their update would have been), over every site, as of this call's staged updates: a
    /// 0-dim tensor in the statistics' dtype on <paramref name="like"/>'s device. Generated code
    /// reports it as the result's <c>SkippedUpdates</c>; no host synchronisation.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public torch.Tensor SkippedUpdates(torch.Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        using var noGrad = torch.no_grad();
        // One new tensor in the common case (one site with a 0-dim count): the result never holds the state's own buffer.
        torch.Tensor? total = null;
        bool owned = false;
        foreach (SiteState site in _sites.Values)
        {
            if (site.Skipped is not torch.Tensor skipped)
            {
                continue;
            }
            // A staged count is the call's own tensor (its strategy made it for this update); the buffer is the state's.
            torch.Tensor? staged = _call?.Staged(site);
            torch.Tensor current = staged ?? skipped;
            torch.Tensor count = current.Dimensions == 0 ? current : current.sum();
            (total, owned) = total is null ? (count, staged is not null || !ReferenceEquals(count, current)) : (total.add(count), true);
        }
        if (total is null)
        {
            return torch.zeros(Array.Empty<long>(), torch.ScalarType.Float64, like.device);
        }
        return owned && total.device_type == like.device_type && total.device_index == like.device_index ? total : total.to(like.device, copy: true);
    }

    /// <summary>
    /// Stages an update of <paramref name="site"/> in the open call: <paramref name="commit"/>
    /// writes it when the call completes. <paramref name="skipped"/> is the site's skipped count
    /// after the update, for <see cref="SkippedUpdates"/>.
    /// </summary>
    internal void Stage(SiteState site, torch.Tensor skipped, Action commit)
    {
        if (_call is null || !Monitor.IsEntered(SyncRoot))
        {
            throw new InvalidOperationException("The loss state updates only inside a call of its loss (LossState.BeginCall), which generated code opens.");
        }
        _call.Stage(site, skipped, commit);
    }

    /// <summary>
    /// Counts a training call; a state whose schedules read the step warns once when training
    /// calls go on without the step moving.
    /// </summary>
    private void CountCall()
    {
        if (!_sites.ContainsKey(StepSite) || !Updating)
        {
            return;
        }
        if (++_callsSinceStepChanged == FrozenStepWarningCalls && Interlocked.Exchange(ref _warned, 1) == 0)
        {
            (Warning ?? DefaultWarning)($"LossDsl: {FrozenStepWarningCalls} training calls of a loss with schedules (Linear, Cosine, Piecewise) have run without its step " +
                    $"changing from {Step}: the schedules are frozen. Call the state's Advance() once per optimizer step, or set Step.");
        }
    }

    private void SetStep(long value)
    {
        if (_sites.TryGetValue(StepSite, out SiteState? step))
        {
            step.Counters["step"] = value;
        }
        else
        {
            _stepWithoutSchedules = value;
        }
        _callsSinceStepChanged = 0;
    }

    /// <summary>Everything is registered explicitly, under the names checkpoints use.</summary>
    protected override void RegisterComponents() { }

    /// <summary>Writes the state to <paramref name="path"/>: written beside it and renamed, so a crash never leaves half a file.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string temporary = path + ".tmp";
        try
        {
            using (var file = File.Create(temporary))
            {
                Save(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    /// <summary>Writes the state to <paramref name="stream"/>: every entry of <c>state_dict()</c>, with a checksum.</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var body = new MemoryStream();
        lock (SyncRoot)
        {
            using var scope = torch.NewDisposeScope();
            using var writer = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(FormatVersion);
            var entries = state_dict().OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            writer.Write(entries.Count);
            foreach (var (name, value) in entries)
            {
                writer.Write(name);
                writer.Write((int)value.dtype);
                writer.Write(value.shape.Length);
                foreach (long dimension in value.shape)
                {
                    writer.Write(dimension);
                }
                double[] data = value.detach().to(torch.ScalarType.Float64, torch.CPU).contiguous().data<double>().ToArray();
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
    /// first (checksum, format, the layout: the same entries with the same shapes, and every value
    /// in the dtype it loads into: finite, and within its site's invariants); on any mismatch an
    /// <see cref="InvalidDataException"/> names the entry and the state is left as it was.
    /// Options that do not change the layout (an <c>eps</c>, a <c>max:</c>, a schedule's length)
    /// may differ between the formula that saved and the one that loads.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    public void Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            throw new FileNotFoundException($"No loss state checkpoint at '{path}'.", path, e);
        }
        Load(bytes, $"'{path}'");
    }

    /// <summary>Reads a checkpoint from <paramref name="stream"/>; see <see cref="Load(string)"/>.</summary>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        Load(copy.ToArray(), "a stream");
    }

    private void Load(byte[] bytes, string source)
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

        lock (SyncRoot)
        {
            Dictionary<string, torch.Tensor> current = state_dict();
            var stored = Read(body, source, current);

            using var scope = torch.NewDisposeScope();
            Dictionary<string, torch.Tensor> prepared = Prepare(stored, source, current);

            // Apply: every value was checked in this state's dtypes, so nothing below can fail on the content.
            using (torch.no_grad())
            {
                foreach (var (name, value) in prepared)
                {
                    current[name].copy_(value);
                }
            }
            _callsSinceStepChanged = 0;
        }
    }

    /// <summary>
    /// Converts every stored value to the dtype of the entry it loads into, on the host, and
    /// checks the result: finite statistics and parameters, and each site's invariants. Changes nothing.
    /// </summary>
    private Dictionary<string, torch.Tensor> Prepare(Dictionary<string, (long[] Shape, double[] Data)> stored, string source, Dictionary<string, torch.Tensor> current)
    {
        var prepared = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        var converted = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, (shape, data)) in stored)
        {
            torch.Tensor target = current[name];
            torch.Tensor value = torch.tensor(data, shape, torch.ScalarType.Float64).to(target.dtype);
            double[] values = value.to(torch.ScalarType.Float64).data<double>().ToArray();
            int bad = Array.FindIndex(values, v => !double.IsFinite(v));
            if (bad >= 0)
            {
                throw Invalid(source, name, shape, bad, data[bad], $"a statistic or parameter must be finite, and this is not finite in this state's dtype, {target.dtype}");
            }
            prepared[name] = value;
            converted[name] = values;
        }
        foreach (var (siteName, site) in _sites)
        {
            string prefix = siteName + ".";
            var values = converted.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(e => e.Key[prefix.Length..], e => e.Value, StringComparer.Ordinal);
            if (site.Check(values) is SiteProblem problem)
            {
                string name = prefix + problem.Entry;
                throw Invalid(source, name, stored[name].Shape, problem.Index, stored[name].Data[problem.Index], problem.Rule);
            }
        }
        return prepared;
    }

    private static InvalidDataException Invalid(string source, string name, long[] shape, int index, double value, string rule)
        => new($"The entry '{name}' of the loss state checkpoint in {source} holds {value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}" +
               $"{(shape.Length == 0 ? "" : $" at index {index}")}: {rule}.");

    /// <summary>Reads and checks every entry against this state's layout; changes nothing.</summary>
    private static Dictionary<string, (long[] Shape, double[] Data)> Read(byte[] body, string source, Dictionary<string, torch.Tensor> current)
    {
        var stored = new Dictionary<string, (long[] Shape, double[] Data)>(StringComparer.Ordinal);
        using var reader = new BinaryReader(new MemoryStream(body), Encoding.UTF8);
        try
        {
            reader.ReadString(); // the marker, checked above
            int version = reader.ReadInt32();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"The loss state checkpoint in {source} has format version {version}; this LossDsl reads version {FormatVersion}.");
            }
            int count = reader.ReadInt32();
            if (count < 0 || count > body.Length)
            {
                throw new InvalidDataException($"The loss state checkpoint in {source} claims {count} entries.");
            }
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                reader.ReadInt32(); // the dtype it was saved in: values load into this state's dtype
                int rank = reader.ReadInt32();
                if (rank < 0 || rank > 8)
                {
                    throw new InvalidDataException($"The entry '{name}' of the loss state checkpoint in {source} has {rank} dimensions.");
                }
                long[] shape = new long[rank];
                long size = 1;
                for (int d = 0; d < rank; d++)
                {
                    shape[d] = reader.ReadInt64();
                    size = shape[d] < 0 || shape[d] > body.Length ? long.MaxValue : size * shape[d];
                    if (size > body.Length / sizeof(double))
                    {
                        throw new InvalidDataException($"The entry '{name}' of the loss state checkpoint in {source} has shape [{string.Join(", ", shape.Take(d + 1))}…], more than the file holds.");
                    }
                }
                if (!current.TryGetValue(name, out torch.Tensor? target))
                {
                    throw new InvalidDataException(
                        $"The loss state checkpoint in {source} has '{name}', which this loss's state does not have: it was saved from a formula with other stateful sites.\n{Layouts(source, stored.Keys.Append(name), current)}");
                }
                if (!shape.SequenceEqual(target.shape))
                {
                    throw new InvalidDataException(
                        $"The entry '{name}' has shape [{string.Join(", ", shape)}] in the loss state checkpoint in {source}, but [{string.Join(", ", target.shape)}] in this loss's state: " +
                        "the site weighs another number of terms.");
                }
                double[] data = new double[size];
                for (int k = 0; k < data.Length; k++)
                {
                    data[k] = reader.ReadDouble();
                }
                if (target.dtype == torch.ScalarType.Int64 && data.Any(v => !(v >= 0 && v <= MaxCount) || v != Math.Floor(v)))
                {
                    throw new InvalidDataException($"The counter '{name}' of the loss state checkpoint in {source} holds a value that is not a whole number from 0 to {MaxCount}.");
                }
                stored[name] = (shape, data);
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
        if (current.Keys.FirstOrDefault(k => !stored.ContainsKey(k)) is string missing)
        {
            throw new InvalidDataException(
                $"The loss state checkpoint in {source} has no '{missing}', which this loss's state has: it was saved from a formula with other stateful sites.\n{Layouts(source, stored.Keys, current)}");
        }
        return stored;
    }

    private static string Layouts(string source, IEnumerable<string> stored, Dictionary<string, torch.Tensor> current)
        => $"  checkpoint: {string.Join(", ", stored.OrderBy(k => k, StringComparer.Ordinal))}\n  this loss:  {string.Join(", ", current.Keys.OrderBy(k => k, StringComparer.Ordinal).Select(k => $"{k} [{string.Join(", ", current[k].shape)}]"))}";

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

    /// <summary>
    /// One call of a loss with state (<see cref="BeginCall"/>): it holds <see cref="SyncRoot"/>
    /// and the updates the call staged. <see cref="Complete"/> writes them; <see cref="Dispose"/>
    /// releases the lock, dropping them when the call did not complete.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public sealed class CallScope : IDisposable
    {
        private readonly LossState _state;
        private readonly CallScope? _outer;
        private readonly List<(SiteState Site, torch.Tensor Skipped, Action Commit)> _staged = new();
        private bool _completed;
        private bool _disposed;

        internal CallScope(LossState state, CallScope? outer)
        {
            _state = state;
            _outer = outer;
        }

        internal void Stage(SiteState site, torch.Tensor skipped, Action commit)
        {
            if (_completed || _disposed)
            {
                throw new InvalidOperationException("The call of the loss is over: it takes no more updates.");
            }
            if (_staged.Exists(s => ReferenceEquals(s.Site, site)))
            {
                throw new InvalidOperationException("A stateful site updates once per call of its loss.");
            }
            _staged.Add((site, skipped, commit));
        }

        internal torch.Tensor? Staged(SiteState site)
        {
            foreach (var staged in _staged)
            {
                if (ReferenceEquals(staged.Site, site))
                {
                    return staged.Skipped;
                }
            }
            return null;
        }

        /// <summary>
        /// Ends the call successfully: writes every staged update and counts the call. Generated
        /// code calls it after the last check that can throw (<c>CheckFinite</c>).
        /// </summary>
        public void Complete()
        {
            if (_completed || _disposed)
            {
                throw new InvalidOperationException("The call of the loss was already completed or disposed.");
            }
            _completed = true;
            using (torch.no_grad())
            {
                foreach (var (_, _, commit) in _staged)
                {
                    commit();
                }
            }
            _staged.Clear();
            _state.CountCall();
        }

        /// <summary>Releases the state's lock; a call that did not complete leaves the state as it was.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _staged.Clear();
            _state._call = _outer;
            Monitor.Exit(_state.SyncRoot);
        }
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                restore();
            }
        }
    }
}
