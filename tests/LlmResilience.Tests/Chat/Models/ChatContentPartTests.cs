using System.Text.Json;
using LlmResilience.Chat;

namespace LlmResilience.Tests.Chat.Models;

public sealed class ChatContentPartTests
{
    [Fact]
    public void Text_Value_CreatesTextPart()
    {
        var part = ChatContentPart.Text("Hello");

        Assert.Equal(("text", "Hello"), (part.Type, part.TextContent));
        Assert.Null(part.Url);
        Assert.Null(part.Detail);
    }

    [Fact]
    public void ImageUrl_UrlAndDetail_CreatesImagePart()
    {
        var part = ChatContentPart.ImageUrl("data:image/png;base64,AAAA", "high");

        Assert.Equal(("image_url", "data:image/png;base64,AAAA", "high"), (part.Type, part.Url, part.Detail));
        Assert.Null(part.TextContent);
    }

    [Fact]
    public void Factories_Null_Throw()
    {
        Assert.Throws<ArgumentNullException>("text", () => ChatContentPart.Text(null!));
        Assert.Throws<ArgumentNullException>("url", () => ChatContentPart.ImageUrl(null!));
        Assert.Throws<ArgumentException>("url", () => ChatContentPart.ImageUrl(""));
    }

    [Fact]
    public void Deserialize_OtherShapes_ReadsWhatItCan()
    {
        const string Json =
            """{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}},{"type":"image_url","image_url":"https://x/a.png"},{"text":"untyped"}]}""";

        var parts = JsonSerializer.Deserialize(Json, LlmJsonContext.Default.ChatMessage)!.ContentParts!;

        Assert.Equal("input_audio", parts[0].Type);
        Assert.Equal(("image_url", "https://x/a.png"), (parts[1].Type, parts[1].Url));
        Assert.Equal(("text", "untyped"), (parts[2].Type, parts[2].TextContent));
    }
}
