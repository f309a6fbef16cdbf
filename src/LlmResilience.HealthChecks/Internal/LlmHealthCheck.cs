using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LlmResilience;

/// <summary>The check the health service creates per run: the registration's cached probe, its failure status applied.</summary>
internal sealed class LlmHealthCheck(LlmHealthProbe probe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var result = await probe.GetAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var status = result.Status == HealthStatus.Unhealthy ? context.Registration.FailureStatus : result.Status;
        return new HealthCheckResult(status, result.Description, data: result.Data);
    }
}
