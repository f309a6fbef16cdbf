using System.Globalization;
using Microsoft.Extensions.Options;

namespace LlmResilience;

/// <summary>Validates each health check's <see cref="LlmHealthCheckOptions"/> at start-up, naming the check and the fix.</summary>
internal sealed class LlmHealthCheckOptionsValidator : IValidateOptions<LlmHealthCheckOptions>
{
    private static readonly TimeSpan MaxCache = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(5);

    public ValidateOptionsResult Validate(string? name, LlmHealthCheckOptions options)
    {
        var failures = new List<string>();
        var prefix = $"LlmHealthCheckOptions '{name}':";
        if (options.CacheDuration < TimeSpan.Zero || options.CacheDuration > MaxCache)
        {
            failures.Add($"{prefix} CacheDuration is {Show(options.CacheDuration)}; it must be between 0 (a ping on every probe) and 1 hour. 30 seconds is a good start.");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > MaxWait)
        {
            failures.Add($"{prefix} Timeout is {Show(options.Timeout)}; it must be more than 0 and at most 5 minutes, e.g. 10 seconds.");
        }

        if (options.DegradedLatency <= TimeSpan.Zero || options.DegradedLatency > MaxWait)
        {
            failures.Add($"{prefix} DegradedLatency is {Show(options.DegradedLatency)}; it must be more than 0 and at most 5 minutes, e.g. 2 seconds.");
        }
        else if (options.DegradedLatency >= options.Timeout && options.Timeout > TimeSpan.Zero)
        {
            failures.Add($"{prefix} DegradedLatency ({Show(options.DegradedLatency)}) must be below Timeout ({Show(options.Timeout)}), or no ping could ever be slow: lower DegradedLatency or raise Timeout.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Show(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
