using System.CommandLine;
using LlmResilience.Doctor.Diagnosis;

namespace LlmResilience.Doctor.Cli;

/// <summary>
/// <c>llm-doctor --base-url URL [--api-key KEY] [--model M] [--json]</c>: parses the command line, runs the
/// <see cref="DoctorEngine"/>, prints its report. Exit codes: 0 healthy, 1 problems found, 2 usage error.
/// </summary>
internal static class DoctorCommand
{
    public const int Healthy = 0;
    public const int ProblemsFound = 1;
    public const int UsageError = 2;
    private const string KeyVariable = "OPENAI_API_KEY";
    private const string Usage = "Usage: llm-doctor --base-url URL [--api-key KEY] [--model M] [--json]";

    public static async Task<int> RunAsync(string[] args, DoctorHost host, CancellationToken cancellationToken = default)
    {
        var baseUrl = new Option<string>("--base-url") { Description = "The API base address, such as https://api.openai.com/v1/", Required = true };
        var apiKey = new Option<string?>("--api-key") { Description = $"The API key (default: the {KeyVariable} environment variable). Never printed." };
        var model = new Option<string?>("--model") { Description = "A model for a one-token chat call and a short stream; without it only the connection and GET models are checked." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON: {\"findings\":[{\"cause\",\"summary\",\"fix\"}], ...}." };
        var root = new RootCommand("Finds why calls to an OpenAI-compatible API fail: walks configuration, proxy, DNS, TCP, TLS and HTTP, times each step, and names each problem with its fix.")
        {
            baseUrl, apiKey, model, json,
        };

        var exitCode = -1;
        root.SetAction(async (parsed, token) =>
        {
            var key = parsed.GetValue(apiKey);
            var source = key is null ? KeyVariable : "--api-key";
            key ??= host.Environment(KeyVariable);
            if (!TryParseBase(parsed.GetValue(baseUrl)!, out var address, out var problem))
            {
                await WriteUsageErrorAsync(host, problem, [key]).ConfigureAwait(false);
                exitCode = UsageError;
                return;
            }

            var settings = new DoctorSettings
            {
                BaseAddress = address,
                ApiKey = string.IsNullOrEmpty(key) ? null : key,
                ApiKeySource = string.IsNullOrEmpty(key) ? null : source,
                Model = string.IsNullOrWhiteSpace(parsed.GetValue(model)) ? null : parsed.GetValue(model),
                Proxy = host.Proxy,
                ProxySource = host.ProxySource,
            };
            settings = host.Adjust?.Invoke(settings) ?? settings;
            var report = parsed.GetValue(json)
                ? await JsonOutput.RunAsync(settings, host, token).ConfigureAwait(false)
                : await ConsoleOutput.RunAsync(settings, host, token).ConfigureAwait(false);
            exitCode = report.Healthy ? Healthy : ProblemsFound;
        });

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            await WriteUsageErrorAsync(host, string.Join(Environment.NewLine, result.Errors.Select(e => e.Message)), [.. KeysIn(args), host.Environment(KeyVariable)]).ConfigureAwait(false);
            return UsageError;
        }

        // --help and --version return their own code; a diagnosis sets exitCode.
        var code = await result.InvokeAsync(new InvocationConfiguration { Output = host.Out, Error = host.Error }, cancellationToken).ConfigureAwait(false);
        return exitCode >= 0 ? exitCode : code;
    }

    private static bool TryParseBase(string text, out Uri address, out string problem)
    {
        address = null!;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https") || parsed.Host.Length == 0)
        {
            var shown = parsed is null ? "an address that does not parse" : $"'{Endpoints.Describe(parsed)}'";
            problem = $"--base-url must be an absolute http:// or https:// address, such as https://api.openai.com/v1/ (got {shown}).";
            return false;
        }

        address = parsed;
        problem = string.Empty;
        return true;
    }

    private static async Task WriteUsageErrorAsync(DoctorHost host, string problem, IEnumerable<string?> keys)
    {
        var text = problem;
        foreach (var key in keys)
        {
            text = string.IsNullOrEmpty(key) ? text : text.Replace(key, "***", StringComparison.Ordinal);
        }

        await host.Error.WriteLineAsync($"llm-doctor: {text}").ConfigureAwait(false);
        await host.Error.WriteLineAsync(Usage).ConfigureAwait(false);
    }

    /// <summary>
    /// The values given to any option with "key" in its name (--api-key, or a mistyped --apikey) on a command line that did
    /// not parse: the parser's error quotes unknown tokens, and a key must not be among them.
    /// </summary>
    private static IEnumerable<string> KeysIn(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || !arg.Contains("key", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var equals = arg.IndexOfAny(['=', ':']);
            if (equals >= 0)
            {
                yield return arg[(equals + 1)..];
            }
            else if (i + 1 < args.Length)
            {
                yield return args[i + 1];
            }
        }
    }
}
