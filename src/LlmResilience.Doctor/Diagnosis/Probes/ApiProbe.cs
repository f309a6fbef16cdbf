using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace LlmResilience.Doctor.Diagnosis.Probes;

/// <summary>
/// The HTTP steps, over one HttpClient configured as an application's would be (the same proxy, the same trust): <c>GET models</c>,
/// then with a model a one-token chat call and a short stream. The first call opens the connection; the others reuse it.
/// </summary>
internal sealed class ApiProbe : IDisposable
{
    private const int MaxBody = 64 * 1024;
    private readonly DiagnosisContext _context;
    private readonly Uri _base;
    private readonly string _baseText;
    private readonly string? _proxy;
    private readonly bool _sendKey;
    private readonly HttpClient _http;

    public ApiProbe(DiagnosisContext context, Uri baseAddress, string baseText, string? proxy, bool sendKey)
    {
        _context = context;
        _base = baseAddress;
        _baseText = baseText;
        _proxy = proxy;
        _sendKey = sendKey;
        var settings = context.Settings;
        var handler = new SocketsHttpHandler
        {
            Proxy = settings.Proxy,
            UseProxy = settings.Proxy is not null,
            ConnectTimeout = settings.ConnectTimeout,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.All,
        };
        if (settings.Resolver is { } resolve)
        {
            handler.ConnectCallback = async (connect, cancellationToken) =>
            {
                var addresses = await resolve(connect.DnsEndPoint.Host, cancellationToken).ConfigureAwait(false);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses, connect.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        if (settings.TrustedRoots is { Count: > 0 } roots)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(roots);
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("llm-doctor", "1.0"));
    }

    /// <summary><c>GET {base}models</c>: costs no tokens, and every OpenAI-compatible API answers it.</summary>
    /// <returns>The answer (or <see langword="null"/> when none came) and what it means.</returns>
    public async Task<(ApiCall? Call, DoctorFinding? Finding)> GetModelsAsync(CancellationToken cancellationToken)
    {
        var url = new Uri(_base, "models");
        var (call, finding) = await SendAsync("HTTP GET models", $"GET {url}", () => Prepare(new HttpRequestMessage(HttpMethod.Get, url)), expectJson: true, cancellationToken).ConfigureAwait(false);
        if (call is null)
        {
            return (null, finding);
        }

        var details = Describe(call);
        if (call.Status is >= 200 and < 300 && CountModels(call.Body) is { } count)
        {
            details.Insert(1, $"models listed: {count}");
        }

        if (finding is null && call.Status is >= 200 and < 300 && call.FirstByte > _context.Settings.SlowFirstByte)
        {
            finding = Findings.SlowFirstByte($"GET {url}", call.FirstByte, _context.Settings.SlowFirstByte);
        }

        AddStep("HTTP GET models", call, finding, details);
        return (call, finding);
    }

    /// <summary>A one-token chat completion.</summary>
    public async Task<(ApiCall? Call, DoctorFinding? Finding)> ChatAsync(string model, CancellationToken cancellationToken)
    {
        var url = new Uri(_base, "chat/completions");
        var body = ChatBody(model, "Say OK.", maxTokens: 1, stream: false);
        var (call, finding) = await SendAsync("Chat (1 token)", $"POST {url}", () => Post(url, body), expectJson: true, cancellationToken).ConfigureAwait(false);
        if (call is null)
        {
            return (null, finding);
        }

        var details = Describe(call);
        var (code, message) = call.Error();
        if (call.Status is >= 200 and < 300)
        {
            details.InsertRange(1, DescribeCompletion(call.Body));
        }
        else if (message is not null)
        {
            details.Insert(1, $"error: {code}: {message}");
        }

        AddStep("Chat (1 token)", call, finding, details);
        return (call, finding);
    }

    /// <summary>A short stream: when its first event arrives, and whether the events are spaced as tokens are or come in one burst.</summary>
    public async Task<DoctorFinding?> StreamAsync(string model, CancellationToken cancellationToken)
    {
        const string Step = "Stream";
        var url = new Uri(_base, "chat/completions");
        var body = ChatBody(model, "Count from 1 to 20, separated by spaces.", maxTokens: 60, stream: true);
        _context.Progress.Starting($"Streaming from {url}");
        var settings = _context.Settings;
        using var deadline = _context.Deadline(settings.RequestTimeout, cancellationToken);
        var start = _context.Now();
        var events = new List<TimeSpan>();
        HttpResponseMessage? response = null;
        try
        {
            using var request = Post(url, body);
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var headers = _context.Since(start);
            if (!response.IsSuccessStatusCode)
            {
                var failed = await ApiCall.ReadAsync(response, headers, () => _context.Since(start), MaxBody, deadline.Token).ConfigureAwait(false);
                var finding = CallDiagnosis.Classify(failed, $"POST {url}", _baseText, _proxy, _sendKey, expectJson: true);
                AddStep(Step, failed, finding, Describe(failed));
                return finding;
            }

            var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            await foreach (var item in SseParser.Create(stream).EnumerateAsync(deadline.Token).ConfigureAwait(false))
            {
                if (item.Data == "[DONE]")
                {
                    break;
                }

                if (!string.IsNullOrWhiteSpace(item.Data))
                {
                    events.Add(_context.Since(start));
                }
            }

            var call = ApiCall.From(response, headers, _context.Since(start), string.Empty);
            return StreamStep(call, events);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var finding = events.Count > 0 && !deadline.Expired
                ? Findings.ResetBeforeHeaders("broken after " + DnsProbe.Plural(events.Count, "event", "events") + ", and so")
                : CallDiagnosis.Classify(e, $"POST {url} (stream)", Endpoint(url), _proxy, deadline.Expired, settings);
            _context.Step(Step, StepOutcome.Failed, _context.Since(start), finding.Summary, events.Count > 0 ? [$"{events.Count} events before it ended"] : []);
            return finding;
        }
        finally
        {
            response?.Dispose();
        }
    }

    public void Dispose() => _http.Dispose();

    private DoctorFinding? StreamStep(ApiCall call, List<TimeSpan> events)
    {
        var settings = _context.Settings;
        var details = Describe(call);
        if (!(call.ContentType?.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            details.Add($"content type {call.ContentType ?? "none"}, not text/event-stream");
        }

        if (events.Count == 0)
        {
            _context.Step("Stream", StepOutcome.Warning, call.Total, "no data events before the stream ended", details);
            return null;
        }

        var span = events[^1] - events[0];
        var gaps = events.Zip(events.Skip(1), (a, b) => b - a).Order().ToList();
        details.Insert(0, $"first event after {Findings.Ms(events[0])} (headers after {Findings.Ms(call.FirstByte)})");
        details.Insert(1, gaps.Count == 0
            ? $"{events.Count} event"
            : $"{events.Count} events over {Findings.Ms(span)}; gap median {Findings.Ms(gaps[gaps.Count / 2])}, max {Findings.Ms(gaps[^1])}");
        DoctorFinding? finding = null;
        if (events.Count >= DoctorDefaults.MinEventsForSpacing && span <= settings.BurstWindow)
        {
            finding = Findings.StreamBuffered(events.Count, span, events[0]);
        }

        var summary = finding is null
            ? $"{events.Count} events, first after {Findings.Ms(events[0])}"
            : $"{events.Count} events in one burst after {Findings.Ms(events[0])}";
        _context.Step("Stream", finding is null ? StepOutcome.Ok : StepOutcome.Failed, call.Total, summary, details);
        return finding;
    }

    private async Task<(ApiCall? Call, DoctorFinding? Finding)> SendAsync(
        string step, string request, Func<HttpRequestMessage> create, bool expectJson, CancellationToken cancellationToken)
    {
        _context.Progress.Starting(request);
        var settings = _context.Settings;
        using var deadline = _context.Deadline(settings.RequestTimeout, cancellationToken);
        var start = _context.Now();
        try
        {
            using var message = create();
            using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var firstByte = _context.Since(start);
            var call = await ApiCall.ReadAsync(response, firstByte, () => _context.Since(start), MaxBody, deadline.Token).ConfigureAwait(false);
            return (call, CallDiagnosis.Classify(call, request, _baseText, _proxy, _sendKey, expectJson));
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var finding = CallDiagnosis.Classify(e, request, Endpoint(_base), _proxy, deadline.Expired, settings);
            _context.Step(step, StepOutcome.Failed, _context.Since(start), finding.Summary, TransportFailures.Describe(e));
            return (null, finding);
        }
    }

    private void AddStep(string step, ApiCall call, DoctorFinding? finding, List<string> details)
    {
        var outcome = finding is not null ? StepOutcome.Failed : call.Status is >= 200 and < 300 ? StepOutcome.Ok : StepOutcome.Warning;
        var summary = string.Create(CultureInfo.InvariantCulture, $"{call.Status} {call.Reason}, first byte {Findings.Ms(call.FirstByte)}");
        _context.Step(step, outcome, call.Total, summary, details);
    }

    private HttpRequestMessage Post(Uri url, byte[] body)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Prepare(message);
    }

    /// <summary>Adds the key, and asks for HTTP/2 where TLS offers it (HTTP/1.1 otherwise), as the pipeline does by default (EnableHttp2).</summary>
    private HttpRequestMessage Prepare(HttpRequestMessage message)
    {
        message.Version = HttpVersion.Version20;
        message.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
        if (_sendKey && _context.Settings.ApiKey is { Length: > 0 } key)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return message;
    }

    private static List<string> Describe(ApiCall call)
    {
        var details = new List<string> { $"HTTP/{call.Version}, {call.ContentType ?? "no content type"}, total {Findings.Ms(call.Total)}" };
        details.Add($"request id: {call.RequestId ?? "none (no x-request-id: the answer may come from a proxy, not the API)"}");
        if (call.Header("server") is { } server)
        {
            details.Add($"server: {server}");
        }

        if (call.Header("via") is { } via)
        {
            details.Add($"via: {via}");
        }

        details.AddRange(call.RateLimitHeaders());
        return details;
    }

    private static IEnumerable<string> DescribeCompletion(string body)
    {
        var lines = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String)
            {
                lines.Add($"model: {model.GetString()}");
            }

            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
            {
                lines.Add($"finish reason: {finish.GetString()}");
            }

            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("prompt_tokens", out var input) && usage.TryGetProperty("completion_tokens", out var output))
            {
                lines.Add($"tokens: {input} in, {output} out");
            }
        }
        catch (JsonException)
        {
            lines.Add("the body is not JSON");
        }

        return lines;
    }

    private static int? CountModels(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array
                ? data.GetArrayLength()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[] ChatBody(string model, string prompt, int maxTokens, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WriteStartArray("messages");
            writer.WriteStartObject();
            writer.WriteString("role", "user");
            writer.WriteString("content", prompt);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteNumber("max_completion_tokens", maxTokens);
            if (stream)
            {
                writer.WriteBoolean("stream", true);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string Endpoint(Uri url) => url.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);
}
