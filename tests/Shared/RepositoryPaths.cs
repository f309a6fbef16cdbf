namespace LlmResilience.Tests.Shared;

/// <summary>Finds files of the repository from a test's output folder. Linked into every test project.</summary>
internal static class RepositoryPaths
{
    /// <summary>The folder that holds LlmResilience.sln, found by walking up from the test's output folder.</summary>
    public static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LlmResilience.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("LlmResilience.sln not found above " + AppContext.BaseDirectory);
    }
}
