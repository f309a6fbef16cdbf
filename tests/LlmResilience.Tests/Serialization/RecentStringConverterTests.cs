using System.Text;
using System.Text.Json;
using LlmResilience.Chat;
using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;

namespace LlmResilience.Tests.Serialization;

/// <summary>
/// The tests that assert sharing through the process-wide string cache run alone, after the others: a test running in
/// parallel may evict a slot between two reads (the cache is a cache), and the assertion would then fail by chance.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideStringCacheCollection
{
    public const string Name = "Process-wide string cache";
}

[Collection(ProcessWideStringCacheCollection.Name)]
public sealed class RecentStringConverterTests
{
    [Fact]
    public async Task Stream_RepeatedFieldsOfEveryChunk_AreOneSharedStringEach()
    {
        await using var server = await FakeLlmServer.StartAsync();
        server.Enqueue(FakeBehavior.OkStream(["a", "b", "c", "d", "e"]));
        using var client = TestClients.Chat(server);

        var chunks = new List<ChatCompletionChunk>();
        var text = new StringBuilder();
        await foreach (var chunk in client.StreamAsync(TestClients.Hello()))
        {
            chunks.Add(chunk);
            text.Append(chunk.ContentDelta);
        }

        Assert.Equal("abcde", text.ToString());
        Assert.True(chunks.Count >= 5);
        Assert.StartsWith("chatcmpl", chunks[0].Id, StringComparison.Ordinal);
        // The table is direct-mapped and its hash is seeded per process: in about one run in a hundred, two of a chunk's
        // remembered fields share a slot and evict each other at every chunk, as designed. Those are left out.
        string?[] remembered = [chunks[0].Id, chunks[0].Model, chunks[0].SystemFingerprint];
        bool Alone(string value) => remembered.Count(other => other is not null && other != value
            && RecentStringConverter.SlotOf(Encoding.UTF8.GetBytes(other)) == RecentStringConverter.SlotOf(Encoding.UTF8.GetBytes(value))) == 0;
        if (Alone(chunks[0].Id!))
        {
            Assert.All(chunks, c => Assert.Same(chunks[0].Id, c.Id));
        }

        if (Alone(chunks[0].Model!))
        {
            Assert.All(chunks, c => Assert.Same(chunks[0].Model, c.Model));
        }

        Assert.All(chunks, c => Assert.Same(chunks[0].Object, c.Object));
    }

    [Fact]
    public void Read_ChunksOfOneStream_ShareIdModelAndFingerprint()
    {
        // Values in slots of their own (the table is direct-mapped, its hash seeded per process): two that shared one would
        // evict each other, as designed.
        string id, fingerprint;
        do
        {
            (id, fingerprint) = ($"chatcmpl-{Guid.NewGuid():N}", $"fp_{Guid.NewGuid():N}");
        }
        while (new[] { id, "gpt-4o-mini-2024-07-18", fingerprint }.Select(v => RecentStringConverter.SlotOf(Encoding.UTF8.GetBytes(v))).Distinct().Count() < 3);

        var json = $$$"""{"id":"{{{id}}}","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","system_fingerprint":"{{{fingerprint}}}","choices":[{"index":0,"delta":{"content":"Hi"}}]}""";

        var first = Chunk(json);
        var second = Chunk(json);

        Assert.Equal(id, first.Id);
        Assert.Same(first.Id, second.Id);
        Assert.Same(first.Model, second.Model);
        Assert.Same(first.SystemFingerprint, second.SystemFingerprint);
        Assert.NotSame(first.ContentDelta, second.ContentDelta); // content is never pooled
    }

    [Fact]
    public void Read_DifferentValues_AreNeverConfused()
    {
        // Far more values than slots: every read must still return its own text, whatever collided before it.
        for (var i = 0; i < RecentStringConverter.Slots * 4; i++)
        {
            var model = $"model-{i}";
            Assert.Equal(model, Completion($$"""{"model":"{{model}}"}""").Model);
        }
    }

    [Fact]
    public void Read_EscapedOrLongOrNullValues_ReadsThemAsUsual()
    {
        var longModel = new string('m', RecentStringConverter.MaxBytes + 1);

        Assert.Equal("gpt-4o", Completion("""{"model":"gpt\u002D4o"}""").Model);
        Assert.Equal(longModel, Completion($$"""{"model":"{{longModel}}"}""").Model);
        Assert.NotSame(Completion($$"""{"model":"{{longModel}}"}""").Model, Completion($$"""{"model":"{{longModel}}"}""").Model);
        Assert.Null(Completion("""{"system_fingerprint":null}""").SystemFingerprint);
        Assert.Equal("模型-ü", Completion("""{"model":"模型-ü"}""").Model);
    }

    [Fact]
    public void Read_ManyThreadsAtOnce_EachGetsItsOwnValue()
    {
        Parallel.For(0, 2000, i =>
        {
            var model = $"m{i % 300}";
            Assert.Equal(model, Completion($$"""{"model":"{{model}}"}""").Model);
        });
    }

    private static ChatCompletionChunk Chunk(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), LlmJsonContext.Default.ChatCompletionChunk)!;

    private static ChatCompletion Completion(string json) =>
        JsonSerializer.Deserialize(Encoding.UTF8.GetBytes(json), LlmJsonContext.Default.ChatCompletion)!;
}
