using Microsoft.AspNetCore.Http;

namespace LlmResilience.Testing.Tests;

public sealed class RecordedHeadersTests
{
    [Theory]
    [InlineData("Authorization", "Bearer sk-abc", "Bearer [redacted]", "sk-abc", null)]
    [InlineData("authorization", "BEARER  sk-abc ", "BEARER [redacted]", "sk-abc", null)]
    [InlineData("Authorization", "Basic dXNlcjpwYXNz", "Basic [redacted]", null, null)]
    [InlineData("Authorization", "sk-abc", "[redacted]", null, null)]
    [InlineData("Authorization", "", "", null, null)]
    [InlineData("API-Key", "azure-key", "[redacted]", null, "azure-key")]
    [InlineData("OpenAI-Project", "proj_abc", "proj_abc", null, null)]
    public void Copy_CredentialHeader_IsRedactedAndTheKeyKeptApart(string name, string value, string recorded, string? bearerToken, string? apiKey)
    {
        var (headers, actualBearerToken, actualApiKey) = RecordedHeaders.Copy(new HeaderDictionary { [name] = value });

        Assert.Equal(recorded, headers[name]);
        Assert.Equal(bearerToken, actualBearerToken);
        Assert.Equal(apiKey, actualApiKey);
    }

    [Fact]
    public void Copy_OtherHeaders_AreKeptWithRepeatedValuesJoined()
    {
        var (headers, _, _) = RecordedHeaders.Copy(new HeaderDictionary
        {
            ["X-Trace"] = new(["a", "b"]),
            ["OpenAI-Organization"] = "org-test",
        });

        Assert.Equal("a, b", headers["x-trace"]);
        Assert.Equal("org-test", headers["openai-organization"]);
    }
}
