using System.Text;
using System.Text.Json;
using LlmResilience.Chat;
using LlmResilience.Samples.AspNetCore.Problems;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LlmResilience.Samples.AspNetCore.Chat;

/// <summary>
/// <c>POST /chat</c> (JSON in, JSON out) and <c>POST /chat/stream</c> (JSON in, server-sent events out). Failures before
/// the answer began are problem details with their own status; a stream that breaks after it began ends with an
/// <c>event: error</c> carrying the same problem details, and a complete one with <c>event: done</c>.
/// </summary>
internal static partial class ChatEndpoints
{
    private const int MaxMessageLength = 4000;
    private const string SystemPrompt = "You are a helpful assistant. Answer briefly.";

    public static IEndpointRouteBuilder MapChatEndpoints(this IEndpointRouteBuilder app)
    {
        var chat = app.MapGroup("/chat");
        chat.MapPost("/", CompleteAsync);
        chat.MapPost("/stream", StreamAsync);
        return app;
    }

    private static async Task<IResult> CompleteAsync(ChatInput input, IChatCompletionsClient client, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (Validate(input) is { } invalid)
        {
            return invalid;
        }

        try
        {
            var completion = await client.CompleteAsync(RequestFor(input), cancellationToken);
            return TypedResults.Ok(new ChatOutput(completion.Content ?? string.Empty));
        }
        catch (LlmException exception)
        {
            LogFailure(loggers.CreateLogger(typeof(ChatEndpoints)), exception.Kind);
            return LlmProblems.ToResult(exception);
        }
    }

    private static async Task StreamAsync(ChatInput input, IChatCompletionsClient client, HttpContext http, ILoggerFactory loggers)
    {
        if (Validate(input) is { } invalid)
        {
            await invalid.ExecuteAsync(http);
            return;
        }

        var logger = loggers.CreateLogger(typeof(ChatEndpoints));

        // RequestAborted fires when the browser goes away: the upstream call is cancelled with it, at once.
        var aborted = http.RequestAborted;
        await using var chunks = client.StreamAsync(RequestFor(input), aborted).GetAsyncEnumerator(aborted);
        bool more;
        try
        {
            // Nothing is sent before the first chunk: a failure until then still gets its own status code.
            more = await chunks.MoveNextAsync();
        }
        catch (LlmException exception)
        {
            LogFailure(logger, exception.Kind);
            await LlmProblems.ToResult(exception).ExecuteAsync(http);
            return;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return;
        }

        http.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        try
        {
            while (more)
            {
                if (chunks.Current.ContentDelta is { Length: > 0 } text)
                {
                    await WriteEventAsync(http, null, JsonSerializer.Serialize(new TokenEvent(text), JsonSerializerOptions.Web), aborted);
                }

                more = await chunks.MoveNextAsync();
            }

            await WriteEventAsync(http, "done", "{}", aborted);
        }
        catch (LlmException exception)
        {
            // The status line is long gone: the error travels as the stream's last event, which the page shows.
            LogFailure(logger, exception.Kind);
            var problem = LlmProblems.Create(exception);
            await WriteEventAsync(http, "error", JsonSerializer.Serialize(problem, JsonSerializerOptions.Web), CancellationToken.None);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            LogBrowserLeft(logger);
        }
    }

    private static ValidationProblem? Validate(ChatInput input) =>
        string.IsNullOrWhiteSpace(input.Message) || input.Message.Length > MaxMessageLength
            ? TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["message"] = [$"Type a message of 1 to {MaxMessageLength} characters."],
            })
            : null;

    private static ChatCompletionRequest RequestFor(ChatInput input) =>
        new([ChatMessage.System(SystemPrompt), ChatMessage.User(input.Message!)]);

    private static async Task WriteEventAsync(HttpContext http, string? name, string data, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        if (name is not null)
        {
            text.Append("event: ").Append(name).Append('\n');
        }

        text.Append("data: ").Append(data).Append("\n\n");
        await http.Response.WriteAsync(text.ToString(), cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
    }

    // LlmResilience has already logged the failure with its details (category "LlmResilience"); this says what the browser got.
    [LoggerMessage(1, LogLevel.Information, "The chat call failed as {Kind}; the browser gets problem details")]
    private static partial void LogFailure(ILogger logger, LlmFailureKind kind);

    [LoggerMessage(2, LogLevel.Information, "The browser left mid-answer; the upstream call was cancelled")]
    private static partial void LogBrowserLeft(ILogger logger);
}
