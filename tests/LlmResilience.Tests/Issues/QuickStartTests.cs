using LlmResilience.Tests.Shared;

namespace LlmResilience.Tests.Issues;

/// <summary>The README's quick start must be the code the sample compiles (STYLE.md, rule 12).</summary>
public sealed class QuickStartTests
{
    [Fact]
    public void ReadmeQuickStart_IsCompiledInTheSample()
    {
        var root = RepositoryPaths.Root();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var start = readme.IndexOf("## Quick start", StringComparison.Ordinal);
        var blockStart = readme.IndexOf("```csharp", start, StringComparison.Ordinal) + "```csharp".Length;
        var blockEnd = readme.IndexOf("```", blockStart, StringComparison.Ordinal);
        var readmeLines = Normalize(readme[blockStart..blockEnd]);
        var sample = Normalize(File.ReadAllText(Path.Combine(root, "samples", "LlmResilience.Samples.Console", "QuickStart.cs"))
            .Replace("System.Console.", "Console.", StringComparison.Ordinal));

        Assert.NotEmpty(readmeLines);
        var position = 0;
        foreach (var line in readmeLines)
        {
            var found = sample.IndexOf(line, position);
            Assert.True(found >= 0, $"README quick-start line not found (in order) in QuickStart.cs: {line}");
            position = found + 1;
        }
    }

    private static List<string> Normalize(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
}
