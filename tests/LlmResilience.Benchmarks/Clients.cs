using System.ClientModel;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using LlmResilience.Chat;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace LlmResilience.Benchmarks;

/// <summary>The clients compared.</summary>
internal enum ClientKind
{
    /// <summary>A raw <see cref="HttpClient"/> over <see cref="SocketsHttpHandler"/> with source-generated JSON and SseParser.</summary>
    Bare,

    /// <summary><see cref="ChatCompletionsClient"/>, LlmResilience's typed client.</summary>
    Ours,

    /// <summary>The bare code on an IHttpClientFactory client with <c>AddLlmResilienceHandler()</c>: the pipeline's cost alone.</summary>
    HandlerOnly,

    /// <summary>The official OpenAI .NET SDK 2.15.0 (<see cref="ChatClient"/>).</summary>
    OpenAiSdk,

    /// <summary><see cref="ChatCompletionsClient"/> with requests and tokens per minute configured (high enough never to wait): the pacing check's cost.</summary>
    OursPaced,

    /// <summary><see cref="ChatCompletionsClient"/> routing over three endpoints (three keys, one tier, equal weights): the cost of routing.</summary>
    OursThreeEndpoints,
}

/// <summary>
/// One of each client, all pointed at the same <see cref="LoopbackServer"/> and sending the same conversation (a system
/// and a user message to gpt-4o-mini). The request objects are built once; a call serializes, sends, receives and
/// parses. Non-streamed calls return the content's length; streamed calls consume every chunk and return their number.
/// </summary>
internal sealed class BenchClients : IDisposable
{
    private static readonly AuthenticationHeaderValue Authorization = new("Bearer", "sk-bench");

    private readonly Uri _endpoint;
    private readonly HttpClient _bare;
    private readonly ServiceProvider _services;
    private readonly HttpClient _handlerOnly;
    private readonly ChatCompletionsClient _ours;
    private readonly ChatCompletionsClient _oursThree;
    private readonly ChatCompletionsClient _oursPaced;
    private readonly ChatClient _sdk;

    private readonly BareRequest _bareRequest;
    private readonly BareRequest _bareStreamRequest;
    private readonly ChatCompletionRequest _oursRequest;
    private readonly List<OpenAI.Chat.ChatMessage> _sdkMessages;

    public BenchClients(Uri serverAddress)
    {
        var v1 = new Uri(serverAddress, "v1/");
        _endpoint = new Uri(v1, "chat/completions");

        _bare = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };

        var services = new ServiceCollection();
        services.AddHttpClient("bench").AddLlmResilienceHandler();
        _services = services.BuildServiceProvider();
        _handlerOnly = _services.GetRequiredService<IHttpClientFactory>().CreateClient("bench");

        _ours = ChatCompletionsClient.Create(new LlmClientOptions
        {
            BaseAddress = v1,
            ApiKey = "sk-bench",
            Model = Payloads.Model,
            AllowInsecureHttp = true,
        });

        var three = new LlmClientOptions { BaseAddress = v1, Model = Payloads.Model, AllowInsecureHttp = true };
        for (var i = 0; i < 3; i++)
        {
            three.Endpoints.Add(new LlmEndpoint { Name = $"key-{i}", BaseAddress = v1, ApiKey = $"sk-bench-{i}" });
        }

        _oursThree = ChatCompletionsClient.Create(three);

        var paced = new LlmClientOptions { BaseAddress = v1, Model = Payloads.Model, AllowInsecureHttp = true };
        paced.Endpoints.Add(new LlmEndpoint { Name = "paced", BaseAddress = v1, ApiKey = "sk-bench", RequestsPerMinute = 100_000_000, TokensPerMinute = 1_000_000_000 });
        _oursPaced = ChatCompletionsClient.Create(paced);

        _sdk = new ChatClient(Payloads.Model, new ApiKeyCredential("sk-bench"), new OpenAIClientOptions { Endpoint = v1 });

        BareMessage[] bareMessages =
        [
            new() { Role = "system", Content = Payloads.SystemPrompt },
            new() { Role = "user", Content = Payloads.UserPrompt },
        ];
        _bareRequest = new BareRequest { Model = Payloads.Model, Messages = bareMessages };
        _bareStreamRequest = new BareRequest { Model = Payloads.Model, Messages = bareMessages, Stream = true };
        // As in the README's quick start: the client fills in its configured model.
        _oursRequest = new ChatCompletionRequest([LlmResilience.Chat.ChatMessage.System(Payloads.SystemPrompt), LlmResilience.Chat.ChatMessage.User(Payloads.UserPrompt)]);
        _sdkMessages = [new SystemChatMessage(Payloads.SystemPrompt), new UserChatMessage(Payloads.UserPrompt)];
    }

    public Task<int> CompleteAsync(ClientKind kind) => kind switch
    {
        ClientKind.Bare => BareCompleteAsync(_bare),
        ClientKind.Ours => OursCompleteAsync(),
        ClientKind.HandlerOnly => BareCompleteAsync(_handlerOnly),
        ClientKind.OpenAiSdk => SdkCompleteAsync(),
        ClientKind.OursThreeEndpoints => OursCompleteAsync(_oursThree),
        ClientKind.OursPaced => OursCompleteAsync(_oursPaced),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public Task<int> StreamAsync(ClientKind kind, StringBuilder? text = null) => kind switch
    {
        ClientKind.Bare => BareStreamAsync(_bare, text),
        ClientKind.Ours => OursStreamAsync(text),
        ClientKind.HandlerOnly => BareStreamAsync(_handlerOnly, text),
        ClientKind.OpenAiSdk => SdkStreamAsync(text),
        ClientKind.OursThreeEndpoints => OursStreamAsync(text, _oursThree),
        ClientKind.OursPaced => OursStreamAsync(text, _oursPaced),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The content of one non-streamed call, for <c>--check-server</c>.</summary>
    public async Task<string?> CompleteTextAsync(ClientKind kind)
    {
        switch (kind)
        {
            case ClientKind.Bare:
            case ClientKind.HandlerOnly:
                return (await BareCompleteCoreAsync(kind == ClientKind.Bare ? _bare : _handlerOnly)).Choices?[0].Message?.Content;
            case ClientKind.Ours:
            case ClientKind.OursThreeEndpoints:
            case ClientKind.OursPaced:
                return (await (kind == ClientKind.Ours ? _ours : kind == ClientKind.OursPaced ? _oursPaced : _oursThree).CompleteAsync(_oursRequest)).Content;
            case ClientKind.OpenAiSdk:
                OpenAI.Chat.ChatCompletion completion = await _sdk.CompleteChatAsync(_sdkMessages);
                return completion.Content[0].Text;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    public void Dispose()
    {
        _bare.Dispose();
        _handlerOnly.Dispose();
        _services.Dispose();
        _ours.Dispose();
        _oursThree.Dispose();
        _oursPaced.Dispose();
    }

    /// <summary>The HttpClient under a bare or handler-only client, for <c>--attribution</c>.</summary>
    public HttpClient HttpClientFor(ClientKind kind) => kind == ClientKind.HandlerOnly ? _handlerOnly : _bare;

    public async Task<int> BareCompleteAsync(HttpClient http) =>
        (await BareCompleteCoreAsync(http)).Choices![0].Message!.Content!.Length;

    private async Task<BareCompletion> BareCompleteCoreAsync(HttpClient http)
    {
        using var request = CreateBareMessage(_bareRequest);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        return await JsonSerializer.DeserializeAsync(stream, BareJsonContext.Default.BareCompletion)
            ?? throw new InvalidDataException("null completion");
    }

    /// <summary>The hand-written SSE reader: SseParser over the response stream, one source-generated parse per event, stop at [DONE].</summary>
    public async Task<int> BareStreamAsync(HttpClient http, StringBuilder? text)
    {
        using var request = CreateBareMessage(_bareStreamRequest);
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        var chunks = 0;
        await foreach (var item in SseParser.Create(stream, static (_, data) => data.SequenceEqual("[DONE]"u8) ? null : JsonSerializer.Deserialize(data, BareJsonContext.Default.BareChunk)).EnumerateAsync())
        {
            if (item.Data is not { } chunk)
            {
                break;
            }

            chunks++;
            if (text is not null && chunk.Choices is [{ Delta.Content: { } delta }, ..])
            {
                text.Append(delta);
            }
        }

        return chunks;
    }

    public async Task<int> OursCompleteAsync(ChatCompletionsClient? client = null) => (await (client ?? _ours).CompleteAsync(_oursRequest)).Content!.Length;

    public async Task<int> OursStreamAsync(StringBuilder? text, ChatCompletionsClient? client = null)
    {
        var chunks = 0;
        await foreach (var chunk in (client ?? _ours).StreamAsync(_oursRequest))
        {
            chunks++;
            text?.Append(chunk.ContentDelta);
        }

        return chunks;
    }

    public async Task<int> SdkCompleteAsync()
    {
        OpenAI.Chat.ChatCompletion completion = await _sdk.CompleteChatAsync(_sdkMessages);
        return completion.Content[0].Text.Length;
    }

    public async Task<int> SdkStreamAsync(StringBuilder? text)
    {
        var updates = 0;
        await foreach (var update in _sdk.CompleteChatStreamingAsync(_sdkMessages))
        {
            updates++;
            if (text is not null)
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }
        }

        return updates;
    }

    private HttpRequestMessage CreateBareMessage(BareRequest body)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, BareJsonContext.Default.BareRequest));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = content };
        request.Headers.Authorization = Authorization;
        return request;
    }
}
