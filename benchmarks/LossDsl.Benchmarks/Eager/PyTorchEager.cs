using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using LossDsl.Examples;

namespace LossDsl.Benchmarks.Eager;

/// <summary>
/// PyTorch eager in a persistent child process: <c>benchmarks/pytorch/eager_time.py</c> under
/// Debian's <c>/usr/bin/python3</c>, started once and driven over its standard input and output
/// one line at a time ("run &lt;case&gt; &lt;mode&gt; &lt;iterations&gt;" answered by
/// "ok &lt;seconds&gt;"), so that its rounds interleave with the C# ones at no start-up cost. It is
/// started with glibc's thresholds pinned to the values <see cref="NativeAllocator"/> sets in this
/// process, through the environment variables glibc reads.
/// </summary>
public sealed class PyTorchEager : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _errors;

    private PyTorchEager(Process process, StringBuilder errors)
    {
        _process = process;
        _errors = errors;
    }

    /// <summary>What the child reported of itself: PyTorch's version, its threads and its allocator settings.</summary>
    public string Info { get; private set; } = "";

    /// <summary>
    /// Starts the child with <paramref name="threads"/> intra-op threads, or returns null and why
    /// not (no python3, no torch, no script): the caller then measures the C# side only.
    /// </summary>
    public static PyTorchEager? TryStart(int threads, out string whyNot)
    {
        string script;
        try
        {
            script = PythonScript.Path("eager_time.py");
        }
        catch (FileNotFoundException e)
        {
            whyNot = e.Message;
            return null;
        }
        string python = PythonScript.Interpreter();
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(threads.ToString(CultureInfo.InvariantCulture));
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = NativeAllocator.MmapThreshold.ToString(CultureInfo.InvariantCulture);
        start.Environment["MALLOC_TRIM_THRESHOLD_"] = NativeAllocator.TrimThreshold.ToString(CultureInfo.InvariantCulture);
        var errors = new StringBuilder();
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{python} did not start");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            whyNot = $"{python} could not be started: {e.Message}";
            return null;
        }
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is not null)
            {
                lock (errors)
                {
                    errors.AppendLine(line.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        var child = new PyTorchEager(process, errors);
        try
        {
            child.Info = child.Ask("info");
            whyNot = "";
            return child;
        }
        catch (InvalidOperationException e)
        {
            // Typically: python3 without torch (the import fails and the child exits).
            child.Dispose();
            whyNot = e.Message;
            return null;
        }
    }

    /// <summary>Runs <paramref name="iterations"/> iterations of a case in the child and returns the seconds they took there.</summary>
    /// <param name="case">A case of eager_time.py, for example "cross_entropy" or "distillation".</param>
    /// <param name="backward">False for the forward pass only, true for forward and backward.</param>
    /// <param name="iterations">How many iterations, timed together.</param>
    public double Run(string @case, bool backward, int iterations)
        => double.Parse(Ask($"run {@case} {(backward ? "backward" : "forward")} {iterations}"), CultureInfo.InvariantCulture);

    /// <summary>The value of one forward of a case in the child (on the same inputs as the C# side: same seed, same order of draws).</summary>
    public double Value(string @case) => double.Parse(Ask($"value {@case}"), CultureInfo.InvariantCulture);

    /// <summary>Sends one request and returns the answer after its "ok"; throws with the child's message otherwise.</summary>
    private string Ask(string request)
    {
        string? answer;
        try
        {
            _process.StandardInput.WriteLine(request);
            _process.StandardInput.Flush();
            answer = _process.StandardOutput.ReadLine();
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"eager_time.py stopped answering ('{request}'): {e.Message}. {Errors()}", e);
        }
        if (answer is null)
        {
            throw new InvalidOperationException($"eager_time.py exited instead of answering '{request}'. {Errors()}");
        }
        if (answer.StartsWith("ok ", StringComparison.Ordinal))
        {
            return answer[3..];
        }
        throw new InvalidOperationException($"eager_time.py could not serve '{request}': {answer}");
    }

    private string Errors()
    {
        if (_process.WaitForExit(2000))
        {
            // Only the overload without a timeout waits for the last lines of standard error to arrive.
            _process.WaitForExit();
        }
        lock (_errors)
        {
            // A Python failure ends with its exception, on the last line.
            string text = _errors.ToString().Trim();
            return text.Length == 0 ? "It wrote nothing to standard error." : "Its standard error ends: " + text[(text.LastIndexOf('\n') + 1)..];
        }
    }

    /// <summary>Asks the child to quit and waits for it; kills it if it does not.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
            }
        }
        catch (IOException)
        {
            // Already gone: nothing to ask.
        }
        if (!_process.WaitForExit(5000))
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
