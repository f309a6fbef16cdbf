using System.Net;
using System.Net.Sockets;
using LlmResilience.Doctor.Diagnosis.Probes;

namespace LlmResilience.Doctor.Diagnosis;

/// <summary>
/// Walks the path to the API the way the troubleshooting guide does, timing each step, and names what is wrong.
/// </summary>
/// <remarks>
/// The order: configuration → proxy → DNS (the API's host, or the proxy's) → TCP connect to every address → the proxy's
/// CONNECT tunnel (https through a proxy) → TLS (https) → <c>GET models</c> → with a model, a one-token chat call and a
/// short stream. A step that cannot get past a failure (no address, no connection, no handshake) ends the walk: the
/// later ones would only repeat it. Everything the walk sees goes into the returned <see cref="DoctorReport"/>; nothing is
/// written anywhere, so the console (or a test) decides what to show.
/// </remarks>
internal sealed class DoctorEngine(DoctorSettings settings, IDoctorProgress? progress = null)
{
    public async Task<DoctorReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var report = new ReportBuilder(settings.ApiKey);
        var context = new DiagnosisContext(settings, report, progress ?? NoProgress.Instance);
        var baseAddress = Normalize(settings.BaseAddress);
        var baseText = Endpoints.Describe(baseAddress);
        var proxyAddress = TunnelProbe.ProxyFor(settings.Proxy, baseAddress);
        var proxyText = proxyAddress is null ? null : Endpoints.Describe(proxyAddress);
        await WalkAsync(context, baseAddress, baseText, proxyAddress, proxyText, cancellationToken).ConfigureAwait(false);
        return report.Build(baseText, proxyText);
    }

    private async Task WalkAsync(DiagnosisContext context, Uri baseAddress, string baseText, Uri? proxyAddress, string? proxyText, CancellationToken cancellationToken)
    {
        var sendKey = Configure(context, baseAddress, baseText);
        var https = baseAddress.Scheme == Uri.UriSchemeHttps;
        if (proxyAddress is null)
        {
            context.Step("Proxy", StepOutcome.Ok, null, "none: direct connection", ProxyDetails(baseAddress));
        }
        else
        {
            context.Step("Proxy", StepOutcome.Ok, null, $"through {proxyText}", ProxyDetails(baseAddress)
                .Append(https ? "https: the proxy is asked for a CONNECT tunnel, and resolves the API's name itself" : "http: requests are sent to the proxy, which forwards them"));
        }

        var connectTo = proxyAddress ?? baseAddress;
        var addresses = await DnsProbe.RunAsync(context, connectTo.IdnHost, proxyText, cancellationToken).ConfigureAwait(false);
        if (addresses is null)
        {
            return;
        }

        var socket = await TcpProbe.RunAsync(context, addresses, connectTo.Port, proxyText, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            return;
        }

        var stream = new NetworkStream(socket, ownsSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            if (https && proxyAddress is not null
                && !await TunnelProbe.RunAsync(context, stream, proxyAddress, proxyText!, baseAddress, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            if (!https)
            {
                context.Step("TLS", StepOutcome.Skipped, null, "http://: no TLS");
            }
            else if (!await TlsProbe.RunAsync(context, stream, baseAddress, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }

        using var api = new ApiProbe(context, baseAddress, baseText, proxyText, sendKey);
        var (models, modelsFinding) = await api.GetModelsAsync(cancellationToken).ConfigureAwait(false);
        var modelsAnswered = models is { Status: >= 200 and < 300 };

        // Some gateways serve chat but not the model list: a 404 there is the wrong base only if chat fails too.
        var missingList = modelsFinding is { Cause: DoctorCause.WrongBaseAddress } && models is { Status: 404 or 405 };
        if (modelsFinding is not null && !(missingList && settings.Model is not null))
        {
            context.Report.Add(modelsFinding);
        }

        if (settings.Model is not { } model)
        {
            context.Step("Chat (1 token)", StepOutcome.Skipped, null, "no --model given");
            context.Step("Stream", StepOutcome.Skipped, null, "no --model given");
            return;
        }

        if (!modelsAnswered && !missingList)
        {
            context.Step("Chat (1 token)", StepOutcome.Skipped, null, "GET models failed: a chat call would fail the same way");
            context.Step("Stream", StepOutcome.Skipped, null, "GET models failed");
            return;
        }

        var (chat, chatFinding) = await api.ChatAsync(model, cancellationToken).ConfigureAwait(false);
        if (chatFinding is not null)
        {
            context.Report.Add(chatFinding);
        }

        if (missingList)
        {
            if (chat is { Status: >= 200 and < 300 })
            {
                context.Step("Note", StepOutcome.Warning, null, "the API does not list models (GET models failed), but chat works: not a problem for chat clients");
            }
            else
            {
                context.Report.Add(modelsFinding!);
            }
        }

        if (chat is not { Status: >= 200 and < 300 })
        {
            context.Step("Stream", StepOutcome.Skipped, null, "the chat call failed");
            return;
        }

        if (await api.StreamAsync(model, cancellationToken).ConfigureAwait(false) is { } streamFinding)
        {
            context.Report.Add(streamFinding);
        }
    }

    /// <summary>The configuration step; returns whether the key may be sent.</summary>
    private bool Configure(DiagnosisContext context, Uri baseAddress, string baseText)
    {
        var details = new List<string> { $"base address: {baseText}" };
        var outcome = StepOutcome.Ok;
        var hasKey = !string.IsNullOrEmpty(settings.ApiKey);
        var sendKey = hasKey;
        if (!hasKey)
        {
            details.Add("API key: not set (pass --api-key or set OPENAI_API_KEY); local servers may not need one");
        }
        else if (baseAddress.Scheme == Uri.UriSchemeHttp && !baseAddress.IsLoopback)
        {
            // As the pipeline's validation does: a key is never sent in clear text to another machine.
            sendKey = false;
            outcome = StepOutcome.Warning;
            details.Add("API key: set, but NOT sent: the address is plain http:// to another machine, where anyone on the path could read it");
        }
        else
        {
            details.Add($"API key: set (from {settings.ApiKeySource ?? "the settings"}; never shown)");
        }

        details.Add(settings.Model is { } model ? $"model: {model}" : "model: none (the chat and stream steps are skipped; pass --model to run them)");
        if (baseAddress.AbsolutePath.TrimEnd('/').EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase))
        {
            outcome = StepOutcome.Failed;
            context.Report.Add(Findings.WrongBaseAddress(baseText, "it ends in chat/completions, where the API root is expected"));
        }

        context.Step("Configuration", outcome, null, $"{baseAddress.Scheme}://{baseAddress.Authority}", details);
        return sendKey;
    }

    private IEnumerable<string> ProxyDetails(Uri baseAddress)
    {
        if (settings.Proxy is null)
        {
            yield return "no proxy configured (HTTPS_PROXY, HTTP_PROXY and ALL_PROXY are unset)";
            yield break;
        }

        if (settings.ProxySource is { } source)
        {
            yield return $"configured by {source}";
        }

        if (settings.Proxy.IsBypassed(baseAddress))
        {
            yield return $"{baseAddress.Host} is bypassed (NO_PROXY, or a loopback address)";
        }
    }

    /// <summary>Adds the trailing slash that relative paths (<c>models</c>, <c>chat/completions</c>) need to land under the base.</summary>
    internal static Uri Normalize(Uri baseAddress) =>
        baseAddress.AbsolutePath.EndsWith('/') ? baseAddress : new UriBuilder(baseAddress) { Path = baseAddress.AbsolutePath + "/" }.Uri;
}
