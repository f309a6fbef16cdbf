using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LlmResilience.Testing;

namespace LlmResilience.Samples.AspNetCore.Tests.Chat;

public sealed class ChatEndpointsTests(SampleAppFixture fixture) : IClassFixture<SampleAppFixture>
{
    private SampleApp App => fixture.App;

    [Fact]
    public async Task Chat_Message_AnswersWithTheModelsText()
    {
        App.Llm.Enqueue(FakeBehavior.Ok("Hello from the model."));
        using var client = App.CreateClient();

        using var response = await client.PostAsJsonAsync("/chat", new { message = "hi" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Hello from the model.", json.RootElement.GetProperty("text").GetString());
        Assert.Contains("\"content\":\"hi\"", App.Llm.Requests[^1].Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Chat_EmptyMessage_IsAValidationProblemAndNoCallIsMade(string message)
    {
        using var client = App.CreateClient();
        var before = App.Llm.Requests.Count;

        using var response = await client.PostAsJsonAsync("/chat", new { message });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("message", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, App.Llm.Requests.Count);
    }

    [Fact]
    public async Task Stream_Message_RelaysEachTokenAsAnEventThenDone()
    {
        App.Llm.Enqueue(FakeBehavior.OkStream(["Hel", "lo", "!"]));
        using var client = App.CreateClient();

        using var response = await client.PostAsJsonAsync("/chat/stream", new { message = "hi" });
        var events = SseEvents.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["message", "message", "message", "done"], events.Select(e => e.Name));
        Assert.Equal("Hello!", string.Concat(events.Where(e => e.Name == "message").Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("text").GetString())));
        Assert.True(App.Llm.Requests[^1].IsStreaming);
    }

    [Fact]
    public async Task Stream_BreaksAfterItBegan_EndsWithAnErrorEventCarryingTheProblem()
    {
        App.Llm.Enqueue(FakeBehavior.StreamResetAfter(2));
        using var client = App.CreateClient();

        using var response = await client.PostAsJsonAsync("/chat/stream", new { message = "hi" });
        var events = SseEvents.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // sent with the first token, before the break
        Assert.Equal(["message", "message", "error"], events.Select(e => e.Name));
        var problem = JsonDocument.Parse(events[^1].Data).RootElement;
        Assert.Equal(502, problem.GetProperty("status").GetInt32());
        Assert.Equal("StreamInterrupted", problem.GetProperty("kind").GetString());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Stream_FailsBeforeTheFirstToken_IsProblemDetailsWithItsStatusNotAStream()
    {
        App.Llm.Enqueue(FakeBehavior.RateLimited(new Dictionary<string, string> { ["Retry-After"] = "20" }));
        using var client = App.CreateClient();

        using var response = await client.PostAsJsonAsync("/chat/stream", new { message = "hi" });

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(20), response.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Health_Get_IsHealthy()
    {
        using var client = App.CreateClient();

        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Healthy", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_Get_ServesTheChatPage()
    {
        using var client = App.CreateClient();

        var page = await client.GetStringAsync(new Uri("/", UriKind.Relative));
        var script = await client.GetStringAsync(new Uri("/chat.js", UriKind.Relative));

        Assert.Contains("id=\"chat-form\"", page, StringComparison.Ordinal);
        Assert.Contains("/chat/stream", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevFaults_Inject_NextAnswerMeetsThatFault()
    {
        using var client = App.CreateClient();

        var names = await client.GetFromJsonAsync<string[]>(new Uri("/dev/faults", UriKind.Relative));
        using var injected = await client.PostAsync(new Uri("/dev/faults/upstream-down", UriKind.Relative), null);
        using var response = await client.PostAsJsonAsync("/chat", new { message = "hi" });
        using var unknown = await client.PostAsync(new Uri("/dev/faults/nope", UriKind.Relative), null);

        Assert.Equal(["rate-limited", "stream-breaks", "upstream-down"], names!);
        Assert.Equal(HttpStatusCode.NoContent, injected.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode); // Envoy's 503 on every attempt
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
