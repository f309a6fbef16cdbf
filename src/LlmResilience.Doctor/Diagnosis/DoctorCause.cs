namespace LlmResilience.Doctor.Diagnosis;

/// <summary>What llm-doctor found wrong; each has a stable code (<see cref="DoctorCauses.Code"/>) for <c>--json</c>.</summary>
internal enum DoctorCause
{
    DnsFailure,
    ConnectRefused,
    ConnectTimeout,
    TlsUntrustedCertificate,
    TlsHostnameMismatch,
    TlsHandshakeFailed,
    ProxyUnreachable,
    ProxyRejected,
    ResetBeforeHeaders,
    ProxyUpstreamError,
    Unauthorized,
    WrongBaseAddress,
    RateLimited,
    QuotaExceeded,
    SlowFirstByte,
    StreamBuffered,
}

/// <summary>The codes of <see cref="DoctorCause"/>, written out once: scripts match on them, so they never change.</summary>
internal static class DoctorCauses
{
    public static string Code(this DoctorCause cause) => cause switch
    {
        DoctorCause.DnsFailure => "dns_failure",
        DoctorCause.ConnectRefused => "connect_refused",
        DoctorCause.ConnectTimeout => "connect_timeout",
        DoctorCause.TlsUntrustedCertificate => "tls_untrusted_certificate",
        DoctorCause.TlsHostnameMismatch => "tls_hostname_mismatch",
        DoctorCause.TlsHandshakeFailed => "tls_handshake_failed",
        DoctorCause.ProxyUnreachable => "proxy_unreachable",
        DoctorCause.ProxyRejected => "proxy_rejected",
        DoctorCause.ResetBeforeHeaders => "reset_before_headers",
        DoctorCause.ProxyUpstreamError => "proxy_upstream_error",
        DoctorCause.Unauthorized => "unauthorized",
        DoctorCause.WrongBaseAddress => "wrong_base_address",
        DoctorCause.RateLimited => "rate_limited",
        DoctorCause.QuotaExceeded => "quota_exceeded",
        DoctorCause.SlowFirstByte => "slow_first_byte",
        DoctorCause.StreamBuffered => "stream_buffered",
        _ => throw new ArgumentOutOfRangeException(nameof(cause), cause, null),
    };
}
