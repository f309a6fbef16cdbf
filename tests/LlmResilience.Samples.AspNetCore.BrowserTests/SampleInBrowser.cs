using LlmResilience.Samples.AspNetCore.Tests;
using Microsoft.Playwright;

namespace LlmResilience.Samples.AspNetCore.BrowserTests;

/// <summary>
/// The sample on Kestrel (127.0.0.1, a free port) with its FakeLlmServer, and one headless chromium, shared by a test
/// class: starting the browser once per class instead of once per test saves seconds each.
/// </summary>
public sealed class SampleInBrowser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public SampleApp App { get; } = new SampleApp().With("FakeLlmServer:StreamInterval", "00:00:00.040");

    public Uri Address { get; private set; } = null!;

    /// <summary>Gets the browser; null when chromium is missing (the tests then skip, or fail with the install hint).</summary>
    public IBrowser? Browser { get; private set; }

    public async Task InitializeAsync()
    {
        if (!Chromium.IsInstalled)
        {
            return;
        }

        Address = App.StartOnKestrel();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.ExecutablePath,
            Headless = true,
            // The machine has no network beyond loopback: keep chromium from trying to reach Google's services.
            Args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await App.DisposeAsync();
    }
}
