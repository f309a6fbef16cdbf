using System.Diagnostics;
using LlmResilience.Samples.AspNetCore.Tests;
using LlmResilience.Tests.Shared;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace LlmResilience.Samples.AspNetCore.BrowserTests;

/// <summary>
/// The sample's chat page in headless chromium, against the sample on Kestrel and its FakeLlmServer: what a visitor sees.
/// Screenshots land in artifacts/browser-tests/ at the repository root.
/// </summary>
public sealed class ChatPageTests(SampleInBrowser sample, ITestOutputHelper output) : IClassFixture<SampleInBrowser>
{
    private SampleApp App => sample.App;

    [BrowserFact]
    public async Task Send_Message_TokensAppearOneByOneUntilTheAnswerIsDone()
    {
        var page = await OpenAsync();

        // Sample the answer's text on every animation frame: each distinct partial text was painted.
        await page.EvaluateAsync("""
            () => {
              window.paints = [];
              const sample = () => {
                const answer = document.querySelector('.message.assistant');
                if (answer && answer.textContent) {
                  const last = window.paints[window.paints.length - 1];
                  if (last !== answer.textContent) window.paints.push(answer.textContent);
                }
                if (!answer || answer.dataset.state !== 'done') requestAnimationFrame(sample);
              };
              requestAnimationFrame(sample);
            }
            """);
        await SendAsync(page, "Tell me about resilience.");
        await Assertions.Expect(page.Locator(".message.assistant")).ToHaveAttributeAsync("data-state", "done", new() { Timeout = 15_000 });

        var paints = await page.EvaluateAsync<string[]>("() => window.paints");
        var answer = await page.Locator(".message.assistant").TextContentAsync();
        await ScreenshotAsync(page, "chat-streamed");
        output.WriteLine($"{paints.Length} distinct texts painted before the end.");
        Assert.Equal(DevServer.DevLlmServer.Answer, answer);
        Assert.True(paints.Count(p => p.Length < answer!.Length) > 1, $"Only {paints.Length} paint(s): the answer did not arrive incrementally.");
        Assert.Equal(0, await page.Locator(".error").CountAsync());
    }

    [BrowserFact]
    public async Task Send_RateLimitedUpstream_ShowsAFriendlyMessageWithTheWait()
    {
        var page = await OpenAsync();

        var error = await SendWithFaultAsync(page, "rate-limited");

        await ScreenshotAsync(page, "chat-rate-limited");
        Assert.Equal("RateLimited", await error.GetAttributeAsync("data-kind"));
        Assert.Equal("429", await error.GetAttributeAsync("data-status"));
        Assert.Contains("try again in 20 s", await error.TextContentAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", await page.ContentAsync(), StringComparison.Ordinal);
    }

    [BrowserFact]
    public async Task Send_StreamBreaksMidAnswer_KeepsTheTextAndShowsTheErrorEvent()
    {
        var page = await OpenAsync();

        var error = await SendWithFaultAsync(page, "stream-breaks");

        await ScreenshotAsync(page, "chat-stream-broke");
        Assert.Equal("StreamInterrupted", await error.GetAttributeAsync("data-kind"));
        Assert.Contains("broke", await error.TextContentAsync(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(await page.Locator(".message.assistant").TextContentAsync())); // what arrived stays
    }

    [BrowserFact]
    public async Task ClosePage_MidStream_CancelsTheUpstreamRequest()
    {
        var page = await OpenAsync();
        var before = App.Llm.Requests.Count;

        await SendAsync(page, "Tell me a long story.");
        await Assertions.Expect(page.Locator(".message.assistant")).ToHaveAttributeAsync("data-state", "streaming", new() { Timeout = 15_000 });
        await Assertions.Expect(page.Locator(".message.assistant")).Not.ToBeEmptyAsync();
        await page.CloseAsync();
        var closed = Stopwatch.StartNew();

        var upstream = await App.Llm.WaitForRequestAsync(before + 1, TimeSpan.FromSeconds(5));
        Assert.True(await Eventually.TrueAsync(() => upstream.ClientAborted, TimeSpan.FromSeconds(5)), "The fake server did not see the upstream request cancelled.");
        output.WriteLine($"Upstream cancelled {closed.ElapsedMilliseconds} ms after the page closed.");
        // The answer takes about 3 s at 40 ms a token: a cancellation seen well before that is the browser's, not the end.
        Assert.True(closed.Elapsed < TimeSpan.FromSeconds(2), $"The upstream request ended only {closed.ElapsedMilliseconds} ms after the page closed.");
    }

    private async Task<IPage> OpenAsync()
    {
        Assert.True(Chromium.IsInstalled, Chromium.MissingMessage);
        var page = await sample.Browser!.NewPageAsync(); // a fresh context per page: no state shared between tests
        await page.GotoAsync(sample.Address.ToString());
        await Assertions.Expect(page.Locator("#dev")).ToBeVisibleAsync(); // the fault menu has loaded
        return page;
    }

    private static async Task SendAsync(IPage page, string message)
    {
        await page.FillAsync("#message", message);
        await page.ClickAsync("#send");
    }

    /// <summary>Picks a fault in the page's development menu, sends a message, and waits for the error box.</summary>
    private static async Task<ILocator> SendWithFaultAsync(IPage page, string fault)
    {
        await page.SelectOptionAsync("#fault", fault);
        await SendAsync(page, "Hello?");
        var error = page.Locator(".error");
        await Assertions.Expect(error).ToBeVisibleAsync(new() { Timeout = 15_000 });
        return error;
    }

    private async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(RepositoryPaths.Root(), "artifacts", "browser-tests", name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"Screenshot: {path}");
    }
}
