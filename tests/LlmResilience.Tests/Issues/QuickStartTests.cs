using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Issues;

/// <summary>
/// The README's snippets must be code that compiles (STYLE.md, rule 12): every line of each block appears, in order, in
/// the file that compiles it.
/// </summary>
public sealed class QuickStartTests
{
    [Fact]
    public void ReadmeQuickStart_IsCompiledInTheSample()
    {
        AssertReadmeBlockIsCompiledIn("## Quick start", Path.Combine("samples", "LlmResilience.Samples.Console", "QuickStart.cs"));
    }

    [Fact]
    public void ReadmeOpenAiSdkSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("Already using the official OpenAI SDK", Path.Combine("tests", "LlmResilience.Tests", "Issues", "OpenAiSdkBesideLlmResilienceTests.cs"));
    }

    [Fact]
    public void ReadmeOfficialIChatClientSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("The same SDK client through Microsoft.Extensions.AI.OpenAI", Path.Combine("tests", "LlmResilience.Tests", "Issues", "OfficialIChatClientOverOurHandlerTests.cs"));
    }

    [Fact]
    public void ReadmeIChatClientSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("## Microsoft.Extensions.AI: `IChatClient`", Path.Combine("tests", "LlmResilience.Tests", "AI", "ReadmeIChatClientTests.cs"));
    }

    [Fact]
    public void ReadmeConfigureForLlmSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("## Already on Microsoft.Extensions.Http.Resilience", Path.Combine("tests", "LlmResilience.Http.Resilience.Tests", "ReadmeSnippetTests.cs"));
    }

    [Fact]
    public void ReadmeWireMockSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("## Testing with WireMock.Net", Path.Combine("tests", "LlmResilience.Tests", "WireMock", "ReadmeWireMockTests.cs"));
    }

    [Fact]
    public void ReadmeFakeLlmServerSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("## FakeLlmServer in your tests", Path.Combine("tests", "LlmResilience.Tests", "Issues", "ReadmeFakeLlmServerTests.cs"));
    }

    [Fact]
    public void ReadmeRedisSnippet_IsCompiledInATest()
    {
        AssertReadmeBlockIsCompiledIn("## Running several instances: shared state through Redis", Path.Combine("tests", "LlmResilience.Tests", "Redis", "ReadmeRedisTests.cs"));
    }

    private static void AssertReadmeBlockIsCompiledIn(string marker, string relativePath)
    {
        var root = RepositoryPaths.Root();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var start = readme.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README has no \"{marker}\".");
        var blockStart = readme.IndexOf("```csharp", start, StringComparison.Ordinal) + "```csharp".Length;
        var blockEnd = readme.IndexOf("```", blockStart, StringComparison.Ordinal);
        var readmeLines = Normalize(readme[blockStart..blockEnd]);
        var compiled = Normalize(File.ReadAllText(Path.Combine(root, relativePath))
            .Replace("System.Console.", "Console.", StringComparison.Ordinal));

        Assert.NotEmpty(readmeLines);
        var position = 0;
        foreach (var line in readmeLines)
        {
            var found = compiled.IndexOf(line, position);
            Assert.True(found >= 0, $"README line after \"{marker}\" not found (in order) in {relativePath}: {line}");
            position = found + 1;
        }
    }

    private static List<string> Normalize(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
}
