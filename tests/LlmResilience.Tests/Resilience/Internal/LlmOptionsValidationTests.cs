namespace LlmResilience.Tests.Resilience.Internal;

using LlmResilience.Testing;
using LlmResilience.Tests.Helpers;
using Microsoft.Extensions.Options;

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

    [Fact]
    public void ApplyDefaults_NonOpenAiHost_IgnoresTheEnvironmentKey()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var options = new LlmClientOptions { BaseAddress = new Uri("https://llm.example.com/v1/"), Model = "m" };

        options.ApplyDefaults();

        Assert.Null(options.ApiKey);
    }

    [Fact]
    public void ApplyDefaults_OpenAiHostWithoutTrailingSlash_ReadsTheEnvironmentKey()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var options = new LlmClientOptions { BaseAddress = new Uri("https://API.OpenAI.com/v1") };

        options.ApplyDefaults();

        Assert.Equal("sk-from-environment", options.ApiKey);
    }

    [Fact]
    public void Validate_NonOpenAiRemoteHostWithOnlyTheEnvironmentKey_SaysTheVariableIsOnlyForOpenAi()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var options = new LlmClientOptions { BaseAddress = new Uri("https://llm.example.com/v1/"), Model = "m" };
        options.ApplyDefaults();

        var failure = Assert.Single(Validate(options));

        Assert.StartsWith("ApiKey is not set for the remote endpoint llm.example.com: set LlmClientOptions.ApiKey.", failure, StringComparison.Ordinal);
        Assert.Contains("OPENAI_API_KEY environment variable is only used for api.openai.com", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LoopbackWithOnlyTheEnvironmentKey_PassesWithoutAKey()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        var options = new LlmClientOptions { BaseAddress = new Uri("http://127.0.0.1:5000/v1/") };
        options.ApplyDefaults();

        Assert.Null(options.ApiKey);
        Assert.Empty(Validate(options));
    }

    [Fact]
    public async Task Create_LoopbackWithOnlyTheEnvironmentKey_SendsNoAuthorizationHeader()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");
        await using var server = await FakeLlmServer.StartAsync();
        using var client = ChatCompletionsClient.Create(new LlmClientOptions { BaseAddress = server.BaseAddress, Model = "m" });

        await client.CompleteAsync(TestClients.Hello());

        Assert.False(Assert.Single(server.Requests).Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public void Create_RemoteHostWithOnlyTheEnvironmentKey_FailsWithHowToFix()
    {
        using var _ = new EnvironmentVariableScope(LlmClientOptions.ApiKeyEnvironmentVariable, "sk-from-environment");

        var error = Assert.Throws<OptionsValidationException>(() =>
            ChatCompletionsClient.Create(new LlmClientOptions { BaseAddress = new Uri("https://gateway.example.net/openai/v1/"), Model = "m" }));

        Assert.Contains("only used for api.openai.com", error.Message, StringComparison.Ordinal);
        Assert.Contains("set LlmClientOptions.ApiKey", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://api.example.com/v1/chat/completions")]
    [InlineData("https://api.example.com/v1/chat/completions/")]
    [InlineData("https://api.example.com/v1/Chat/Completions")]
    public void Validate_BaseAddressEndingInChatCompletions_SaysToUseTheApiBase(string address)
    {
        var options = Valid();
        options.BaseAddress = new Uri(address);

        var failure = Assert.Single(Validate(options));

        Assert.Contains("already ends in chat/completions", failure, StringComparison.Ordinal);
        Assert.Contains("https://api.openai.com/v1/", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BaseAddressEndingInChatCompletions_IsCaughtAfterApplyDefaults()
    {
        var options = Valid();
        options.BaseAddress = new Uri("https://api.example.com/v1/chat/completions");
        options.ApplyDefaults();

        Assert.Contains(Validate(options), f => f.Contains("already ends in chat/completions", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ChatCompletionsElsewhereInThePath_Passes()
    {
        var options = Valid();
        options.BaseAddress = new Uri("https://api.example.com/chat/completions-proxy/v1/");

        Assert.Empty(Validate(options));
    }

    [Fact]
    public void Validate_NamedClient_EveryFailureNamesIt()
    {
        var options = Valid();
        options.ApiKey = null;
        options.Resilience.MaxRetryAttempts = -1;

        var failures = new List<string>();
        LlmOptionsValidation.Validate(options, failures, "fast");

        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.StartsWith("LlmClientOptions 'fast': ", f, StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("LlmClientOptions 'fast': Resilience.MaxRetryAttempts is -1", StringComparison.Ordinal));
    }

    [Fact]
    public void Validator_DefaultAndNamedOptions_AreToldApart()
    {
        var options = Valid();
        options.Model = " ";
        var validator = new LlmClientOptionsValidator();

        var named = validator.Validate("smart", options);
        var unnamed = validator.Validate(Options.DefaultName, options);

        Assert.StartsWith("LlmClientOptions 'smart': Model is empty", Assert.Single(named.Failures!), StringComparison.Ordinal);
        Assert.StartsWith("LlmClientOptions (default client): Model is empty", Assert.Single(unnamed.Failures!), StringComparison.Ordinal);
    }

    [Fact]
    public void ResilienceValidator_NamesTheHttpClient()
    {
        var result = new LlmResilienceOptionsValidator().Validate("openai", new LlmResilienceOptions { MaxRetryAttempts = 500 });

        Assert.StartsWith("LlmResilienceOptions of HttpClient 'openai': MaxRetryAttempts is 500", Assert.Single(result.Failures!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://user:secret@llm.example.com/v1/", "plain http")]
    [InlineData("ftp://user:secret@llm.example.com/v1/", "not an absolute http(s) address")]
    [InlineData("user:secret@llm.example.com/v1/", "not an absolute http(s) address")]
    [InlineData("https://user:secret@llm.example.com/v1/chat/completions?key=secret", "already ends in chat/completions")]
    public void Validate_AddressWithUserInfo_MessageNeverShowsIt(string address, string problem)
    {
        var options = Valid();
        options.BaseAddress = new Uri(address);

        var failure = Assert.Single(Validate(options), f => f.Contains(problem, StringComparison.Ordinal));

        Assert.DoesNotContain("secret", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("user", failure, StringComparison.Ordinal);
        Assert.Contains("llm.example.com/v1/", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_AddressWithUserInfoAndQuery_ShowsOnlySchemeHostPortAndPath()
    {
        var options = Valid();
        options.BaseAddress = new Uri("https://user:secret@llm.example.com:8443/v1/?api-key=secret");

        var text = options.ToString();

        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("user", text, StringComparison.Ordinal);
        Assert.Contains("BaseAddress = https://llm.example.com:8443/v1/,", text, StringComparison.Ordinal);
    }
}
