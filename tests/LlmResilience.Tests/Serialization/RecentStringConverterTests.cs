using System.Text;
using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Serialization;

public sealed class RecentStringConverterTests
{
    [Fact]
    public void Read_ChunksOfOneStream_ShareIdModelAndFingerprint()
    {
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var json = $$$"""{"id":"{{{id}}}","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_{{{Guid.NewGuid():N}}}","choices":[{"index":0,"delta":{"content":"Hi"}}]}""";

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
