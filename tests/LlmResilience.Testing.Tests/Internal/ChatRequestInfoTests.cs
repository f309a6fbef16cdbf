
namespace LlmResilience.Testing.Tests;

public sealed class ChatRequestInfoTests
{
    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"a b c"}]}""", false, false, 3)]
    [InlineData("""{"stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}""", true, false, 3)]
    [InlineData("""{"stream":true,"stream_options":{"include_usage":true}}""", true, true, 0)]
    [InlineData("""{"stream":false,"stream_options":{"include_usage":true}}""", false, true, 0)]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text","text":"two words"},{"type":"image_url","image_url":{"url":"x"}}]}]}""", false, false, 2)]
    [InlineData("""{"messages":[{"role":"assistant","content":null,"tool_calls":[]}]}""", false, false, 0)]
    [InlineData("""[1,2]""", false, false, 0)]
    [InlineData("""{"stream":tru""", false, false, 0)]
    [InlineData("", false, false, 0)]
    public void Parse_Body_ReadsStreamUsageAndPromptWords(string body, bool isStreaming, bool includeUsage, int promptTokens)
    {
        Assert.Equal(new ChatRequestInfo(isStreaming, includeUsage, promptTokens), ChatRequestInfo.Parse(body));
    }
}
