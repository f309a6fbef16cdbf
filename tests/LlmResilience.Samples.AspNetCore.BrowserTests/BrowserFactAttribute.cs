namespace LlmResilience.Samples.AspNetCore.BrowserTests;

/// <summary>
/// A test that needs Debian's chromium at <see cref="Chromium.ExecutablePath"/>: skipped with the install command when it
/// is missing, unless <c>LLMRESILIENCE_REQUIRE_SYSTEM_DEPS=1</c> (set by .ci/run), when the test runs and fails.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!Chromium.IsInstalled && !Chromium.Required)
        {
            Skip = Chromium.MissingMessage;
        }
    }
}

/// <summary>Where the browser is, and what to do when it is not there.</summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public const string RequireVariable = "LLMRESILIENCE_REQUIRE_SYSTEM_DEPS";

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    public static string MissingMessage =>
        $"Chromium is not installed at {ExecutablePath}: install it with `apt-get install chromium` (Debian) to run the browser tests. " +
        $"They are skipped without it, and fail instead when {RequireVariable}=1.";
}
