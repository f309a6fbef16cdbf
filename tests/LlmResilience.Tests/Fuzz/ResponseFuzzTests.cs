using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace LlmResilience.Tests.Fuzz;

/// <summary>
/// Seeded, replayable fuzzing of the answers the client parses: valid JSON and SSE answers are mutated (truncation at
/// every kind of boundary, nulls and wrong types, huge and malformed numbers, deep nesting, invalid UTF-8, BOMs, CR/LF
/// variants, byte-per-write delivery, missing [DONE], events after [DONE], wrong Content-Type and Content-Length) and
/// served byte-exact over a real socket by one FakeLlmServer.
/// </summary>
/// <remarks>
/// The oracle: every call ends within a bound as either a success or an <see cref="LlmException"/> (any other
/// exception type, or no end, is a defect). A success must be right: an independent reading of the served bytes
/// (<see cref="JsonDocument"/> and a small SSE reader, enforcing the shape the schema requires) must also accept them
/// and give the same text, and answers whose mutation only changed delivery (writes, line endings, events after
/// [DONE]) must succeed with the original text. Failing on a mutated answer is always acceptable.
/// Default: <see cref="DefaultCases"/> cases with seed <see cref="DefaultSeed"/>. Set LLMRESILIENCE_FUZZ_CASES (for
/// example 5000) for more, LLMRESILIENCE_FUZZ_SEED for another seed, and LLMRESILIENCE_FUZZ_CASE to replay one case.
/// </remarks>
public sealed class ResponseFuzzTests(ITestOutputHelper output)
{
    private const int DefaultCases = 400;
    private const int DefaultSeed = 20261130;
    private static readonly TimeSpan CaseBound = TimeSpan.FromSeconds(10);

    private const string Original = "Hello, wörld! ✓ \"quoted\" \\ done";
    private static readonly string[] Deltas = ["Hello, ", "wörld! ✓ ", "\"quoted\" \\", " done"];

    [Fact]
    public async Task CompleteAndStream_MutatedAnswers_EndAsRightContentOrLlmException()
    {
        var seed = EnvInt("LLMRESILIENCE_FUZZ_SEED") ?? DefaultSeed;
        var count = EnvInt("LLMRESILIENCE_FUZZ_CASES") ?? DefaultCases;
        var only = EnvInt("LLMRESILIENCE_FUZZ_CASE");

        await using var server = await FakeLlmServer.StartAsync();
        FuzzCase? current = null;
        server.DefaultBehavior = FakeBehavior.Custom("Fuzz", (context, token) => ServeAsync(Volatile.Read(ref current)!, context, token));
        using var client = TestClients.Chat(server, o =>
        {
            o.MaxRetryAttempts = 0;
            o.AttemptTimeout = TimeSpan.FromSeconds(2);
            o.FirstTokenTimeout = TimeSpan.FromSeconds(2);
            o.StreamIdleTimeout = TimeSpan.FromSeconds(1);
            o.TotalTimeout = TimeSpan.FromSeconds(4);
        });

        var failures = new List<string>();
        var outcomes = new Dictionary<string, int>();
        var slowest = new List<(TimeSpan Took, int Index, string Outcome)>();
        var watch = Stopwatch.StartNew();
        var first = only ?? 0;
        var last = only ?? count - 1;
        for (var index = first; index <= last; index++)
        {
            var fuzz = FuzzCase.Create(seed, index);
            Volatile.Write(ref current, fuzz);
            var started = watch.Elapsed;
            var verdict = await RunAsync(client, fuzz);
            slowest.Add((watch.Elapsed - started, index, verdict.Outcome));
            var key = verdict.Outcome;
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            if (verdict.Defect is { } defect)
            {
                failures.Add($"seed {seed} case {index} ({fuzz.Describe()}): {defect}");
            }

            if (index % 500 == 499)
            {
                server.Reset();
            }
        }

        output.WriteLine($"{last - first + 1} cases, seed {seed}, {watch.Elapsed.TotalSeconds:F1} s: " +
            string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
        output.WriteLine("Slowest: " + string.Join(", ", slowest.OrderByDescending(c => c.Took).Take(8).Select(c => $"case {c.Index} {c.Took.TotalMilliseconds:F0} ms ({c.Outcome})")));
        foreach (var failure in failures)
        {
            output.WriteLine(failure);
        }

        Assert.True(failures.Count == 0,
            $"{failures.Count} defect(s); replay one with LLMRESILIENCE_FUZZ_SEED and LLMRESILIENCE_FUZZ_CASE:\n" + string.Join("\n", failures.Take(20)));
    }

    private static async Task<(string Outcome, string? Defect)> RunAsync(ChatCompletionsClient client, FuzzCase fuzz)
    {
        string text;
        using var bound = new CancellationTokenSource();
        Task<string> run = fuzz.Stream ? StreamTextAsync(client, bound.Token) : CompleteTextAsync(client, bound.Token);
        try
        {
            text = await run.WaitAsync(CaseBound);
        }
        catch (TimeoutException)
        {
            await bound.CancelAsync();
            return ("hang", $"no end within {CaseBound.TotalSeconds} s");
        }
        catch (LlmException exception)
        {
            return fuzz.MustSucceed
                ? ($"LlmException.{exception.Kind}", $"failed although only delivery changed: {exception.Kind}: {exception.Message}")
                : ($"LlmException.{exception.Kind}", null);
        }
        catch (Exception exception)
        {
            return (exception.GetType().Name, $"leaked {exception.GetType().FullName}: {exception.Message}");
        }

        var expected = fuzz.MustSucceed ? Original : Reference.TextOf(fuzz);
        if (expected is null)
        {
            return ("success", $"succeeded with \"{text}\" although the answer is not a valid {(fuzz.Stream ? "stream" : "completion")}");
        }

        return text == expected ? ("success", null) : ("success", $"wrong success: \"{text}\" instead of \"{expected}\"");
    }

    private static async Task<string> CompleteTextAsync(ChatCompletionsClient client, CancellationToken cancellationToken)
    {
        var completion = await client.CompleteAsync(TestClients.Hello(), cancellationToken);
        Assert.NotNull(completion.Choices);
        foreach (var choice in completion.Choices)
        {
            Assert.NotNull(choice);
            Assert.NotNull(choice.Message);
        }

        return completion.Content ?? string.Empty;
    }

    private static async Task<string> StreamTextAsync(ChatCompletionsClient client, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        await foreach (var chunk in client.StreamAsync(TestClients.Hello(), cancellationToken))
        {
            Assert.NotNull(chunk.Choices);
            foreach (var choice in chunk.Choices)
            {
                Assert.NotNull(choice);
                Assert.NotNull(choice.Delta);
            }

            text.Append(chunk.ContentDelta);
        }

        return text.ToString();
    }

    private static async Task ServeAsync(FuzzCase fuzz, HttpContext context, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.StatusCode = 200;
        if (fuzz.ContentType is not null)
        {
            response.ContentType = fuzz.ContentType;
        }

        var body = fuzz.Body;
        if (fuzz.ContentLength is { } length)
        {
            response.ContentLength = length;
            body = body.AsSpan(0, (int)Math.Min(length, body.Length)).ToArray();
        }

        try
        {
            var offset = 0;
            var writes = new Random(fuzz.DeliverySeed);
            while (offset < body.Length)
            {
                var size = fuzz.Delivery switch
                {
                    Delivery.BytePerWrite => 1,
                    Delivery.RandomWrites => writes.Next(1, 64),
                    _ => body.Length,
                };
                size = Math.Min(size, body.Length - offset);
                await response.Body.WriteAsync(body.AsMemory(offset, size), cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
                offset += size;
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The client left (or Kestrel refused a framing we asked for): nothing more to serve.
        }
    }

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    internal enum Delivery
    {
        Whole,
        BytePerWrite,
        RandomWrites,
    }

    /// <summary>One mutated answer: its bytes, headers and delivery, all derived from (seed, index).</summary>
    internal sealed class FuzzCase
    {
        private static readonly string[] Mutations =
        [
            "none", "truncate", "null", "wrong-type", "number", "remove", "nest", "utf8", "bom", "crlf", "lf-cr",
            "no-done", "after-done", "content-type", "content-length", "duplicate-done", "comment", "empty-event", "escape",
        ];

        public required bool Stream { get; init; }

        public required byte[] Body { get; init; }

        public string? ContentType { get; init; }

        public long? ContentLength { get; init; }

        public Delivery Delivery { get; init; }

        public int DeliverySeed { get; init; }

        public required string Mutation { get; init; }

        public required string Detail { get; init; }

        /// <summary>Only delivery or framing changed: the call must succeed with <see cref="Original"/>.</summary>
        public bool MustSucceed { get; init; }

        public string Describe() => $"{(Stream ? "SSE" : "JSON")}, {Mutation} {Detail}, {Delivery}, Content-Type {ContentType ?? "(none)"}" +
            (ContentLength is { } length ? $", Content-Length {length} for {Body.Length} bytes" : string.Empty);

        public static FuzzCase Create(int seed, int index)
        {
            var random = new Random(unchecked((seed * 1_000_003) + index));
            var stream = random.Next(2) == 0;
            var mutation = Mutations[random.Next(Mutations.Length)];
            var delivery = random.Next(10) switch
            {
                < 5 => Delivery.Whole,
                < 7 => Delivery.BytePerWrite,
                _ => Delivery.RandomWrites,
            };
            var contentType = stream ? "text/event-stream" : "application/json";
            long? contentLength = null;
            var events = stream ? Answers.StreamEvents() : [Answers.Completion()];
            var detail = string.Empty;
            var mustSucceed = false;
            byte[]? raw = null;
            var lineEnd = "\n";
            var done = stream;
            var afterDone = string.Empty;

            switch (mutation)
            {
                case "none":
                    mustSucceed = true;
                    break;
                case "null" or "wrong-type" or "number" or "remove":
                {
                    var target = random.Next(events.Count);
                    var node = JsonNode.Parse(events[target])!;
                    var replacement = mutation switch
                    {
                        "null" => "null",
                        "wrong-type" => WrongTypes[random.Next(WrongTypes.Length)],
                        "number" => Numbers[random.Next(Numbers.Length)],
                        _ => null,
                    };
                    var path = Mutate(node, random, replacement);
                    detail = $"event {target} at {path} := {replacement ?? "(removed)"}";
                    events[target] = replacement is null ? node.ToJsonString() : node.ToJsonString().Replace("\"@@R@@\"", replacement, StringComparison.Ordinal);
                    break;
                }

                case "nest":
                {
                    var target = random.Next(events.Count);
                    var depth = random.Next(2) == 0 ? random.Next(1, 60) : random.Next(60, 5000);
                    var node = JsonNode.Parse(events[target])!;
                    var path = Mutate(node, random, "\"@@R@@\"");
                    var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                    var close = open == "[" ? "]" : "}";
                    events[target] = node.ToJsonString().Replace("\"@@R@@\"", string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth)), StringComparison.Ordinal);
                    detail = $"event {target} at {path} nested {depth} deep";
                    break;
                }

                case "escape":
                {
                    var target = random.Next(events.Count);
                    var escapes = new[] { "\\ud800", "\\udc00x", "\\u00", "\\x41", "\\", "\\u0000", "\\uD83D\\uDE00", "\\/" };
                    var escape = escapes[random.Next(escapes.Length)];
                    var text = events[target];
                    var at = text.IndexOf("\"content\":\"", StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        at += "\"content\":\"".Length;
                        events[target] = text[..at] + escape + text[at..];
                    }

                    detail = $"event {target} content escape {escape}";
                    break;
                }

                case "crlf":
                    lineEnd = "\r\n";
                    mustSucceed = true;
                    break;
                case "lf-cr":
                    lineEnd = "\r";
                    mustSucceed = stream;
                    break;
                case "no-done":
                    done = false;
                    mustSucceed = true; // the finish_reason chunk was delivered: a complete answer
                    break;
                case "after-done":
                    afterDone = random.Next(3) switch
                    {
                        0 => "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"EXTRA\"}}]}\n\n",
                        1 => "data: not json at all\n\n",
                        _ => "data: [DONE]\n\ndata: {\n\n",
                    };
                    mustSucceed = true;
                    break;
                case "empty-event":
                    mustSucceed = true; // events with empty data are skipped
                    break;
                case "duplicate-done":
                    afterDone = "data: [DONE]\n\n";
                    mustSucceed = true;
                    break;
                case "comment":
                    // Keep-alive comments and unknown fields between events are legal SSE (Join writes them).
                    mustSucceed = true;
                    detail = "comments and unknown fields";
                    break;
                case "content-type":
                    contentType = ContentTypes[random.Next(ContentTypes.Length)];
                    detail = contentType ?? "(none)";
                    break;
                default:
                    break;
            }

            raw ??= Encoding.UTF8.GetBytes(Join(events, stream, lineEnd, done, afterDone, mutation == "comment" || mutation == "empty-event" ? mutation : null));
            switch (mutation)
            {
                case "truncate":
                {
                    var (at, kind) = Boundary(raw, random);
                    raw = raw[..at];
                    detail = $"at byte {at} of {raw.Length + (raw.Length - at)} ({kind})";
                    break;
                }

                case "utf8":
                {
                    var bad = InvalidUtf8[random.Next(InvalidUtf8.Length)];
                    var text = Encoding.UTF8.GetString(raw);
                    var at = random.Next(2) == 0 ? text.IndexOf("Hello", StringComparison.Ordinal) : -1;
                    var byteAt = at < 0 ? random.Next(raw.Length) : Encoding.UTF8.GetByteCount(text.AsSpan(0, at));
                    raw = [.. raw[..byteAt], .. bad, .. raw[byteAt..]];
                    detail = $"{Convert.ToHexString(bad)} at byte {byteAt}";
                    break;
                }

                case "bom":
                    raw = [0xEF, 0xBB, 0xBF, .. raw];
                    break;
                case "content-length":
                {
                    var delta = random.Next(2) == 0 ? random.Next(1, 20) : -random.Next(1, Math.Min(raw.Length, 40));
                    contentLength = raw.Length + delta;
                    detail = $"declared {delta:+#;-#} bytes";
                    break;
                }

                default:
                    break;
            }

            return new FuzzCase
            {
                Stream = stream,
                Body = raw,
                ContentType = contentType,
                ContentLength = contentLength,
                Delivery = delivery,
                DeliverySeed = random.Next(),
                Mutation = mutation,
                Detail = detail,
                MustSucceed = mustSucceed,
            };
        }

        private static readonly string[] WrongTypes = ["\"text\"", "\"\"", "true", "false", "[]", "{}", "[null]", "[1,2]", "{\"x\":null}", "0", "-1"];

        private static readonly string[] Numbers =
        [
            "1e400", "-1e400", "123456789012345678901234567890", "-0", "1.5", "2147483648", "-2147483649", "9223372036854775808",
            "0.000000000000000000001", "1E2", "00", "01", "NaN", "Infinity", "-", "1.", ".5", "+1", "0x10", "1e", "--1",
        ];

        private static readonly string?[] ContentTypes =
        [
            null, "text/html; charset=utf-8", "text/plain", "application/json", "application/json; charset=utf-8", "text/event-stream",
            "text/event-stream; charset=utf-8", "application/octet-stream", "application/problem+json", "TEXT/EVENT-STREAM", "application/x-ndjson",
        ];

        private static readonly byte[][] InvalidUtf8 =
        [
            [0xFF], [0xC3], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0x80], [0xFE, 0xFF], [0x00],
        ];

        // Replaces (or removes, when replacement is null) a random value in the tree; returns its path.
        private static string Mutate(JsonNode root, Random random, string? replacement)
        {
            var candidates = new List<(JsonNode Parent, object Key, string Path)>();
            Collect(root, "$", candidates);
            var (parent, key, path) = candidates[random.Next(candidates.Count)];
            if (parent is JsonObject obj)
            {
                if (replacement is null)
                {
                    obj.Remove((string)key);
                }
                else
                {
                    obj[(string)key] = "@@R@@";
                }
            }
            else if (parent is JsonArray array)
            {
                if (replacement is null)
                {
                    array.RemoveAt((int)key);
                }
                else
                {
                    array[(int)key] = "@@R@@";
                }
            }

            return path;
        }

        private static void Collect(JsonNode node, string path, List<(JsonNode, object, string)> into)
        {
            if (node is JsonObject obj)
            {
                foreach (var (name, child) in obj.ToList())
                {
                    into.Add((obj, name, $"{path}.{name}"));
                    if (child is not null)
                    {
                        Collect(child, $"{path}.{name}", into);
                    }
                }
            }
            else if (node is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    into.Add((array, i, $"{path}[{i}]"));
                    if (array[i] is { } child)
                    {
                        Collect(child, $"{path}[{i}]", into);
                    }
                }
            }
        }

        private static string Join(List<string> events, bool stream, string lineEnd, bool done, string afterDone, string? extra)
        {
            if (!stream)
            {
                return events[0];
            }

            var text = new StringBuilder();
            foreach (var e in events)
            {
                if (extra == "comment")
                {
                    text.Append(": keep-alive\n").Append("event: message\n").Append("id: 7\n").Append("retry: 100\n");
                }
                else if (extra == "empty-event")
                {
                    text.Append("data:\n\n").Append("\n\n");
                }

                text.Append("data: ").Append(e).Append("\n\n");
            }

            if (done)
            {
                text.Append("data: [DONE]\n\n").Append(afterDone);
            }

            return text.ToString().Replace("\n", lineEnd, StringComparison.Ordinal);
        }

        // A truncation point of a chosen kind: anywhere, after a structural character, inside a UTF-8 sequence, at a
        // line end, between events, inside the "data:" field name, just before [DONE].
        private static (int At, string Kind) Boundary(byte[] raw, Random random)
        {
            var kinds = new (string Kind, Func<byte, int, bool> Where)[]
            {
                ("any byte", (_, _) => true),
                ("after a structural character", (b, _) => b is (byte)'{' or (byte)'}' or (byte)'[' or (byte)']' or (byte)',' or (byte)':' or (byte)'"'),
                ("inside a UTF-8 sequence", (b, _) => b is >= 0x80 and < 0xC0),
                ("at a line end", (b, _) => b is (byte)'\n' or (byte)'\r'),
                ("inside a field name", (b, i) => b == (byte)'a' && i > 0 && raw[i - 1] == (byte)'d'),
                ("before [DONE]", (b, i) => b == (byte)'[' && i + 1 < raw.Length && raw[i + 1] == (byte)'D'),
                ("inside a number", (b, _) => b is >= (byte)'0' and <= (byte)'9'),
                ("at the end", (_, i) => i == raw.Length - 1),
            };
            var (kind, where) = kinds[random.Next(kinds.Length)];
            var positions = new List<int>();
            for (var i = 0; i < raw.Length; i++)
            {
                if (where(raw[i], i))
                {
                    positions.Add(i);
                }
            }

            if (positions.Count == 0)
            {
                return (random.Next(raw.Length), "any byte");
            }

            var at = positions[random.Next(positions.Count)];
            return (kind == "after a structural character" ? at + 1 : at, kind);
        }
    }

    /// <summary>The valid answers the mutations start from.</summary>
    private static class Answers
    {
        public static string Completion() => JsonSerializer.Serialize(new
        {
            id = "chatcmpl-fuzz",
            @object = "chat.completion",
            created = 1_700_000_000,
            model = "test-model",
            system_fingerprint = "fp_1",
            choices = new object[]
            {
                new { index = 0, message = new { role = "assistant", content = Original, tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "f", arguments = "{\"a\":1}" } } } }, finish_reason = "stop" },
            },
            usage = new { prompt_tokens = 3, completion_tokens = 9, total_tokens = 12, prompt_tokens_details = new { cached_tokens = 0 } },
        });

        public static List<string> StreamEvents()
        {
            var events = new List<string>();
            var head = "\"id\":\"chatcmpl-fuzz\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"test-model\"";
            events.Add($"{{{head},\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"finish_reason\":null}}]}}");
            foreach (var delta in Deltas)
            {
                events.Add($"{{{head},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{JsonSerializer.Serialize(delta)}}},\"finish_reason\":null}}]}}");
            }

            events.Add($"{{{head},\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{{\"name\":\"f\",\"arguments\":\"{{}}\"}}}}]}},\"finish_reason\":null}}]}}");
            events.Add($"{{{head},\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}");
            events.Add($"{{{head},\"choices\":[],\"usage\":{{\"prompt_tokens\":3,\"completion_tokens\":9,\"total_tokens\":12}}}}");
            return events;
        }
    }

    /// <summary>
    /// An independent reading of the served bytes: JsonDocument for the JSON, a small SSE reader for the events, and
    /// the shape the schema requires. Returns the text a correct client must return, or null when no success is right.
    /// </summary>
    private static class Reference
    {
        public static string? TextOf(FuzzCase fuzz)
        {
            var body = fuzz.ContentLength is { } length ? fuzz.Body.AsSpan(0, (int)Math.Min(length, fuzz.Body.Length)).ToArray() : fuzz.Body;
            if (!fuzz.Stream && fuzz.ContentLength is { } declared && declared > fuzz.Body.Length)
            {
                return null; // the body ended before its declared length: a broken response
            }

            return fuzz.Stream ? StreamText(body) : CompletionText(body);
        }

        private static string? CompletionText(byte[] body)
        {
            if (!TryParse(body, out var root) || root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var text = string.Empty;
            var first = true;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                if (!TakeContent(message, first, ref text))
                {
                    return null;
                }

                first = false;
            }

            return text;
        }

        private static string? StreamText(byte[] body)
        {
            // SSE decodes UTF-8 with replacement characters: a bad byte in a field name makes an unknown field (ignored).
            var decoded = Encoding.UTF8.GetString(body);
            if (decoded.StartsWith('\uFEFF'))
            {
                decoded = decoded[1..];
            }

            var lines = decoded.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
            var text = new StringBuilder();
            var data = new List<string>();
            var finished = false;
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (i == lines.Length - 1)
                {
                    break; // an event not ended by a blank line when the stream ends is discarded (the SSE spec)
                }

                if (line.Length == 0)
                {
                    if (data.Count > 0)
                    {
                        var payload = string.Join('\n', data).Trim(' ', '\r', '\n', '\t');
                        data.Clear();
                        if (payload == "[DONE]")
                        {
                            return text.ToString();
                        }

                        if (payload.Length > 0)
                        {
                            var delta = ChunkText(payload, ref finished);
                            if (delta is null)
                            {
                                return null;
                            }

                            text.Append(delta);
                        }
                    }

                    continue;
                }

                AddField(line, data);
            }

            return finished ? text.ToString() : null;
        }

        private static void AddField(string line, List<string> data)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                var value = line[5..];
                data.Add(value.StartsWith(' ') ? value[1..] : value);
            }
            else if (line == "data")
            {
                data.Add(string.Empty);
            }
        }

        private static string? ChunkText(string payload, ref bool finished)
        {
            if (!TryParse(Encoding.UTF8.GetBytes(payload), out var root))
            {
                return null;
            }

            if (root.ValueKind == JsonValueKind.Null)
            {
                return string.Empty;
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind == JsonValueKind.Null)
            {
                return root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object ? string.Empty : null;
            }

            if (choices.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var text = string.Empty;
            var first = true;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                if (choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                {
                    finished = true;
                }

                if (!choice.TryGetProperty("delta", out var delta))
                {
                    first = false;
                    continue;
                }

                if (delta.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }

                if (!TakeContent(delta, first, ref text))
                {
                    return null;
                }

                first = false;
            }

            return text;
        }

        // A message or delta's content must be a string or null; the first choice's string is the text.
        private static bool TakeContent(JsonElement holder, bool first, ref string text)
        {
            if (!holder.TryGetProperty("content", out var content))
            {
                return true;
            }

            if (first && content.ValueKind == JsonValueKind.String)
            {
                text = content.GetString()!;
            }

            return content.ValueKind is JsonValueKind.String or JsonValueKind.Null;
        }

        private static bool TryParse(byte[] utf8, out JsonElement root)
        {
            try
            {
                using var document = JsonDocument.Parse(utf8);
                root = document.RootElement.Clone();
                return true;
            }
            catch (JsonException)
            {
                root = default;
                return false;
            }
        }
    }
}
