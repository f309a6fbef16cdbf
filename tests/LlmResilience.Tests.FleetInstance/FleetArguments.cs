using System.Globalization;

namespace LlmResilience.Tests.FleetInstance;

/// <summary>The command line of one fleet instance.</summary>
internal sealed record FleetArguments(Uri BaseUrl, string ApiKey, int RequestsPerMinute, string? Redis, string KeyPrefix, int Calls, int Workers, Uri? WarmUpUrl,
    TimeSpan Timeout)
{
    public const string Usage =
        "usage: LlmResilience.Tests.FleetInstance --base-url URL --api-key KEY --rpm N --calls N --workers N " +
        "[--redis CONFIGURATION] [--key-prefix PREFIX] [--warm-up-url URL] [--timeout-seconds N (60)]";

    public static FleetArguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"'{args[i]}' is not an option with a value.");
            }

            values[args[i][2..]] = args[i + 1];
        }

        string Required(string name) => values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is missing.");
        int Positive(string name, string? fallback = null)
        {
            var text = values.TryGetValue(name, out var value) ? value : fallback ?? Required(name);
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) && number > 0
                ? number
                : throw new ArgumentException($"--{name} must be a positive integer, not '{text}'.");
        }

        return new FleetArguments(
            new Uri(Required("base-url")),
            Required("api-key"),
            Positive("rpm"),
            values.GetValueOrDefault("redis"),
            values.GetValueOrDefault("key-prefix") ?? "llmresilience",
            Positive("calls"),
            Positive("workers"),
            values.TryGetValue("warm-up-url", out var warmUp) ? new Uri(warmUp) : null,
            TimeSpan.FromSeconds(Positive("timeout-seconds", "60")));
    }
}
