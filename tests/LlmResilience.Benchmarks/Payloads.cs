using System.Globalization;
using System.Text;

namespace LlmResilience.Benchmarks;

/// <summary>
/// The bytes the loopback server answers with, encoded once: a realistic non-streamed chat.completion (~600 bytes of
/// JSON with usage) and a streamed answer of <see cref="ContentChunks"/> content chunks, one finishing chunk (with the
/// usage) and <c>data: [DONE]</c>, in HTTP/1.1 chunked encoding, one HTTP chunk per event, as OpenAI sends it.
/// </summary>
internal static class Payloads
{
    /// <summary>The streamed chunks that carry a content delta.</summary>
    public const int ContentChunks = 64;

    /// <summary>The JSON events of one streamed answer: the content chunks and the finishing one (<c>[DONE]</c> not counted).</summary>
    public const int ChunksPerStream = ContentChunks + 1;

    public const string Model = "gpt-4o-mini";
    public const string SystemPrompt = "You are a concise assistant. Answer in one short paragraph.";
    public const string UserPrompt = "Explain in two sentences why retries with exponential backoff and jitter help a client survive rate limits.";

    private const string Id = "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG";
    private const string Created = "1741570283";
    private const string ServedModel = "gpt-4o-mini-2024-07-18";
    private const string Fingerprint = "fp_06737a9306";

    public const string CompletionContent =
        "Backoff spreads retries out so an overloaded server can recover; jitter stops clients retrying in sync.";

    public static readonly string CompletionJson =
        "{\"id\":\"" + Id + "\",\"object\":\"chat.completion\",\"created\":" + Created + ",\"model\":\"" + ServedModel + "\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + CompletionContent + "\",\"refusal\":null,\"annotations\":[]}," +
        "\"logprobs\":null,\"finish_reason\":\"stop\"}]," +
        "\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":48,\"total_tokens\":89," +
        "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0}," +
        "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}," +
        "\"service_tier\":\"default\",\"system_fingerprint\":\"" + Fingerprint + "\"}";

    /// <summary>The text the content deltas add up to.</summary>
    public static readonly string StreamedContent = string.Concat(Enumerable.Range(0, ContentChunks).Select(Delta));

    public static readonly byte[] CompletionResponse = BuildCompletionResponse();

    public static readonly byte[] StreamResponse = BuildStreamResponse();

    /// <summary>The content delta of chunk <paramref name="i"/>: a short word, as a model streams one token at a time.</summary>
    private static string Delta(int i) => i == 0 ? "Backoff" : " w" + i.ToString(CultureInfo.InvariantCulture);

    private static string ChunkJson(string choice, string usage = "") =>
        "{\"id\":\"" + Id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + Created + ",\"model\":\"" + ServedModel + "\"," +
        "\"service_tier\":\"default\",\"system_fingerprint\":\"" + Fingerprint + "\",\"choices\":[" + choice + "]" + usage + "}";

    public static IEnumerable<string> StreamEvents()
    {
        for (var i = 0; i < ContentChunks; i++)
        {
            var delta = i == 0
                ? "{\"role\":\"assistant\",\"content\":\"" + Delta(i) + "\",\"refusal\":null}"
                : "{\"content\":\"" + Delta(i) + "\"}";
            yield return ChunkJson("{\"index\":0,\"delta\":" + delta + ",\"logprobs\":null,\"finish_reason\":null}");
        }

        // The finishing chunk also carries the usage (the SDK always asks for it with stream_options.include_usage).
        yield return ChunkJson("{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}",
            ",\"usage\":{\"prompt_tokens\":41,\"completion_tokens\":64,\"total_tokens\":105}");
        yield return "[DONE]";
    }

    private static byte[] BuildCompletionResponse()
    {
        var body = Encoding.UTF8.GetBytes(CompletionJson);
        var head = Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\n" +
            "Content-Type: application/json\r\n" +
            "Content-Length: " + body.Length.ToString(CultureInfo.InvariantCulture) + "\r\n" +
            "x-request-id: req_bench\r\n" +
            "openai-processing-ms: 412\r\n" +
            "\r\n");
        return [.. head, .. body];
    }

    private static byte[] BuildStreamResponse()
    {
        var bytes = new List<byte>(Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\n" +
            "Content-Type: text/event-stream; charset=utf-8\r\n" +
            "Transfer-Encoding: chunked\r\n" +
            "x-request-id: req_bench\r\n" +
            "openai-processing-ms: 97\r\n" +
            "\r\n"));
        foreach (var data in StreamEvents())
        {
            var sseEvent = Encoding.UTF8.GetBytes("data: " + data + "\n\n");
            bytes.AddRange(Encoding.ASCII.GetBytes(sseEvent.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
            bytes.AddRange(sseEvent);
            bytes.AddRange("\r\n"u8.ToArray());
        }

        bytes.AddRange("0\r\n\r\n"u8.ToArray());
        return [.. bytes];
    }
}
