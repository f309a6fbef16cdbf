using Microsoft.Extensions.Options;

namespace LlmResilience;

/// <summary>Checks <see cref="LlmRedisCoordinationOptions"/> at start-up, with a message that says how to fix each problem.</summary>
internal sealed class LlmRedisCoordinationOptionsValidator : IValidateOptions<LlmRedisCoordinationOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmRedisCoordinationOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.Any(char.IsWhiteSpace))
        {
            failures.Add($"LlmRedisCoordinationOptions.KeyPrefix is '{options.KeyPrefix}': set a non-empty prefix without spaces, such as '{LlmRedisDefaults.KeyPrefix}'.");
        }

        if (options.OperationTimeout < LlmRedisDefaults.MinOperationTimeout || options.OperationTimeout > LlmRedisDefaults.MaxOperationTimeout)
        {
            failures.Add($"LlmRedisCoordinationOptions.OperationTimeout is {options.OperationTimeout}: set it between 1 ms and 5 s (tens of milliseconds: a slow Redis must not hold calls up).");
        }

        if (options.RefreshInterval < LlmRedisDefaults.MinRefreshInterval || options.RefreshInterval > LlmRedisDefaults.MaxRefreshInterval)
        {
            failures.Add($"LlmRedisCoordinationOptions.RefreshInterval is {options.RefreshInterval}: set it between 10 ms and 1 minute.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
