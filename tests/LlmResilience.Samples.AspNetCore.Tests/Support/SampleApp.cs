using System.Net;
using LlmResilience.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace LlmResilience.Samples.AspNetCore.Tests;

/// <summary>
/// The ASP.NET Core sample, started as its own Program starts it, always against its embedded FakeLlmServer (on a free
/// port, with no faults injected at start): in memory (TestServer), or on Kestrel for a browser (<see cref="StartOnKestrel"/>).
/// Linked into the browser tests too.
/// </summary>
public sealed class SampleApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase)
    {
        ["FakeLlmServer:Mode"] = "Always",
        ["FakeLlmServer:Port"] = "0",
        ["FakeLlmServer:InjectFaults"] = "false",
        ["FakeLlmServer:StreamInterval"] = "00:00:00.010",
    };

    /// <summary>Overrides one configuration value before the app starts.</summary>
    public SampleApp With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Gets the development server the app calls as its LLM.</summary>
    public FakeLlmServer Llm => Services.GetRequiredService<FakeLlmServer>();

    /// <summary>Starts the app on Kestrel at 127.0.0.1 and a free port, for a real browser; returns its address.</summary>
    public Uri StartOnKestrel()
    {
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new Uri(address);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
