using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace LlmResilience.Benchmarks;

/// <summary>
/// <c>--otel</c>: an OpenTelemetry SDK (1.20.1) listening to LlmResilience's ActivitySource and meter while a mode runs,
/// every span sampled and handed to an exporter, every measurement aggregated, as in an app that traces every call.
/// The exporters drop what they get, so only the cost of producing the telemetry is measured, not shipping it. With
/// <c>--otel-http</c> the runtime's <c>System.Net.Http</c> spans and metrics are listened to as well (every client pays
/// for those, Bare included).
/// </summary>
internal sealed class OtelListening : IDisposable
{
    private readonly TracerProvider _tracer;
    private readonly MeterProvider _meter;

    private OtelListening(bool http)
    {
        var tracer = Sdk.CreateTracerProviderBuilder().SetSampler(new AlwaysOnSampler()).AddSource(LlmResilienceTelemetry.ActivitySourceName);
        var meter = Sdk.CreateMeterProviderBuilder().AddMeter(LlmResilienceTelemetry.MeterName);
        if (http)
        {
            tracer.AddSource("System.Net.Http");
            meter.AddMeter("System.Net.Http");
        }

        _tracer = tracer.AddProcessor(new SimpleActivityExportProcessor(new DroppingSpanExporter())).Build()!;
        // A reader that is never collected during the run: measurements are aggregated in memory, as between two exports.
        _meter = meter.AddReader(new BaseExportingMetricReader(new DroppingMetricExporter())).Build()!;
    }

    public static OtelListening? StartIf(string[] args)
    {
        if (!args.Contains("--otel") && !args.Contains("--otel-http"))
        {
            return null;
        }

        Console.WriteLine($"OpenTelemetry SDK listening: ActivitySource and Meter \"{LlmResilienceTelemetry.ActivitySourceName}\"{(args.Contains("--otel-http") ? " and System.Net.Http" : string.Empty)}, every span sampled and exported (to nowhere).");
        return new OtelListening(args.Contains("--otel-http"));
    }

    public void Dispose()
    {
        _tracer.Dispose();
        _meter.Dispose();
    }

    private sealed class DroppingSpanExporter : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch) => ExportResult.Success;
    }

    private sealed class DroppingMetricExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}
