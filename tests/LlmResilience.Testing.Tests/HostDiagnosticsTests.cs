using System.Diagnostics;

namespace LlmResilience.Testing.Tests;

/// <summary>
/// WebApplicationFactory finds the app under test by watching the "Microsoft.Extensions.Hosting" diagnostic events on the
/// app's own execution flow (an AsyncLocal), and reconfigures every host built there. FakeLlmServer, started from an app's
/// Program, must not be one of them, or its Kestrel is replaced by a TestServer (regression: the ASP.NET Core sample's tests).
/// </summary>
public sealed class HostDiagnosticsTests
{
    private static readonly AsyncLocal<string?> Flow = new();

    [Fact]
    public async Task StartAsync_FromAFlowWatchedForHosts_BuildsItsHostOutsideThatFlow()
    {
        var seen = new List<string>();
        using var watcher = new HostWatcher(key =>
        {
            if (Flow.Value == "app")
            {
                lock (seen)
                {
                    seen.Add(key);
                }
            }
        });

        Flow.Value = "app";
        await using var server = await FakeLlmServer.StartAsync();

        Assert.Empty(seen);
        Assert.NotEqual(0, server.Port);
    }

    private sealed class HostWatcher : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
    {
        private readonly Action<string> _onEvent;
        private readonly IDisposable _all;
        private readonly List<IDisposable> _subscriptions = [];

        public HostWatcher(Action<string> onEvent)
        {
            _onEvent = onEvent;
            _all = DiagnosticListener.AllListeners.Subscribe(this);
        }

        public void OnNext(DiagnosticListener value)
        {
            if (value.Name == "Microsoft.Extensions.Hosting")
            {
                lock (_subscriptions)
                {
                    _subscriptions.Add(value.Subscribe(this));
                }
            }
        }

        public void OnNext(KeyValuePair<string, object?> value) => _onEvent(value.Key);

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void Dispose()
        {
            _all.Dispose();
            lock (_subscriptions)
            {
                _subscriptions.ForEach(s => s.Dispose());
            }
        }
    }
}
