using System.Net.Sockets;
using System.Text;

namespace LlmResilience.Testing.Tests;

/// <summary>A plain HttpClient over SocketsHttpHandler, and the requests the tests send with it.</summary>
internal static class RawClient
{
    public const string ChatBody = """{"model":"fake-model","messages":[{"role":"user","content":"Say hello to the tests"}]}""";
    public const string StreamBody = """{"model":"fake-model","messages":[{"role":"user","content":"Say hello to the tests"}],"stream":true}""";
    /// <summary>The key every request of <see cref="Chat"/> carries, as <c>Authorization: Bearer …</c>.</summary>
    public const string ApiKey = "sk-test-key-1234";

    public const string StreamWithUsageBody = """{"model":"fake-model","messages":[{"role":"user","content":"Say hello to the tests"}],"stream":true,"stream_options":{"include_usage":true}}""";

    /// <summary>
    /// A client with its own connection pool; its timeout fails a broken test in seconds, not minutes. It never drains a
    /// response disposed before its end (by default it would read on for up to 2 s), so the connection closes at once.
    /// </summary>
    public static HttpClient Create(TimeSpan? timeout = null) =>
        new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), MaxResponseDrainSize = 0 })
        {
            Timeout = timeout ?? TimeSpan.FromSeconds(10),
        };

    public static HttpRequestMessage Chat(FakeLlmServer server, string body = ChatBody)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.BaseAddress, "chat/completions"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", ApiKey);
        return request;
    }

    /// <summary>Sends a chat request and returns as soon as the headers arrived.</summary>
    public static Task<HttpResponseMessage> PostAsync(HttpClient client, FakeLlmServer server, string body = ChatBody, CancellationToken cancellationToken = default) =>
        client.SendAsync(Chat(server, body), HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    public static SocketException? FindSocketException(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SocketException socketException)
            {
                return socketException;
            }
        }

        return null;
    }

    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"The response has no '{name}' header.");

    public static bool HasHeader(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out _) || response.Content.Headers.TryGetValues(name, out _);
}
