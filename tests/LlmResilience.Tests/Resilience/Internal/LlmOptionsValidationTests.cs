namespace LlmResilience.Tests.Resilience.Internal;

using LlmResilience.Tests.Helpers;

[Collection(EnvironmentCollection.Name)]
public sealed class LlmOptionsValidationTests
{
    private static List<string> Validate(LlmClientOptions options)
    {
        var failures = new List<string>();
        LlmOptionsValidation.Validate(options, failures);
        return failures;
    }

    private static LlmClientOptions Valid() => new() { BaseAddress = new Uri("https://api.example.com/v1/"), ApiKey = "sk-test", Model = "m" };

    [Fact]
    public void Validate_Defaults_WithKey_Pass()
    {
        Assert.Empty(Validate(Valid()));
    }

    [Fact]
    public void Validate_RemoteWithoutKey_SaysHowToSetIt()
    {
        var options = Valid();
        options.ApiKey = null;
        var failure = Assert.Single(Validate(options));
        Assert.Contains("ApiKey", failure);
        Assert.Contains("OPENAI_API_KEY", failure);
    }

    [Fact]
    public void Validate_LoopbackWithoutKey_Passes()
    {
        Assert.Empty(Validate(new LlmClientOptions { BaseAddress = new Uri("http://127.0.0.1:5000/v1/") }));
    }

    [Fact]
    public void Validate_PlainHttpToRemoteHost_Rejected_UnlessAllowed()
    {
        var options = Valid();
        options.BaseAddress = new Uri("http://llm.internal:8080/v1/");
        Assert.Contains(Validate(options), f => f.Contains("plain http", StringComparison.Ordinal) && f.Contains("AllowInsecureHttp", StringComparison.Ordinal));
        options.AllowInsecureHttp = true;
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void Validate_AttemptTimeoutLongerThanTotal_Rejected()
    {
        var options = Valid();
        options.Resilience.AttemptTimeout = TimeSpan.FromMinutes(30);
        Assert.Contains(Validate(options), f => f.Contains("Resilience.AttemptTimeout", StringComparison.Ordinal) && f.Contains("TotalTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_IdleLongerThanFirstToken_Rejected()
    {
        var options = Valid();
        options.Resilience.StreamIdleTimeout = TimeSpan.FromMinutes(11);
        Assert.Contains(Validate(options), f => f.Contains("StreamIdleTimeout", StringComparison.Ordinal) && f.Contains("FirstTokenTimeout", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(nameof(LlmResilienceOptions.ConnectTimeout))]
    [InlineData(nameof(LlmResilienceOptions.AttemptTimeout))]
    [InlineData(nameof(LlmResilienceOptions.TotalTimeout))]
    [InlineData(nameof(LlmResilienceOptions.StreamIdleTimeout))]
    [InlineData(nameof(LlmResilienceOptions.PooledConnectionLifetime))]
    public void Validate_NonPositiveTimeout_Rejected(string property)
    {
        var options = Valid();
        typeof(LlmResilienceOptions).GetProperty(property)!.SetValue(options.Resilience, TimeSpan.Zero);
        Assert.Contains(Validate(options), f => f.StartsWith($"Resilience.{property} is", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_MaxDelayBelowBaseDelay_Rejected()
    {
        var options = Valid();
        options.Resilience.BaseDelay = TimeSpan.FromSeconds(5);
        options.Resilience.MaxDelay = TimeSpan.FromSeconds(1);
        Assert.Contains(Validate(options), f => f.Contains("MaxDelay", StringComparison.Ordinal) && f.Contains("BaseDelay", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NegativeRetries_Rejected()
    {
        var options = Valid();
        options.Resilience.MaxRetryAttempts = -1;
        Assert.Contains(Validate(options), f => f.Contains("MaxRetryAttempts", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NoBaseAddress_Rejected()
    {
        var options = Valid();
        options.BaseAddress = null;
        Assert.Contains(Validate(options), f => f.Contains("BaseAddress is not set", StringComparison.Ordinal));
    }

    [Fact]
    public void ToString_NeverShowsTheKey()
    {
        var options = Valid();
        options.ApiKey = "sk-very-secret-123";
        var text = options.ToString();
        Assert.DoesNotContain("sk-very-secret-123", text);
        Assert.Contains("redacted", text);
    }

    [Fact]
    public void ApplyDefaults_ApiKeyUnset_ReadsOpenAiApiKeyVariable()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var options = new LlmClientOptions();
        options.ApplyDefaults();
        Assert.Equal("sk-from-environment", options.ApiKey);

        var explicitKey = new LlmClientOptions { ApiKey = "sk-explicit" };
        explicitKey.ApplyDefaults();
        Assert.Equal("sk-explicit", explicitKey.ApiKey);
    }

    [Fact]
    public void ApplyDefaults_AddsTrailingSlash()
    {
        var options = new LlmClientOptions { BaseAddress = new Uri("https://api.example.com/v1"), ApiKey = "k" };
        options.ApplyDefaults();
        Assert.Equal("https://api.example.com/v1/", options.BaseAddress!.ToString());
    }
}
