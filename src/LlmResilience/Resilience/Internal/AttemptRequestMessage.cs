namespace LlmResilience;

/// <summary>
/// One attempt's request (built by <see cref="AttemptMessage"/>), which can carry its hold on a connection pool back up
/// to the attempt that sent it, so that the connection layer needs no async frame of its own (see
/// <see cref="RecyclingConnectionHandler.ConnectionLease"/>).
/// </summary>
internal sealed class AttemptRequestMessage(HttpMethod method, Uri? requestUri) : HttpRequestMessage(method, requestUri)
{
    /// <summary>
    /// Gets or sets whether the connection layer may hand its hold on the pool to the attempt: set by the pipeline only when
    /// nothing between it and the connection layer reads the response (the factory's logging handler reads only its
    /// status and headers), since the response's decoding then moves up to the attempt too.
    /// </summary>
    public bool CanLeaseConnection { get; set; }

    /// <summary>Gets or sets the hold the connection layer handed over; ended (once) by the attempt when its send returns or throws.</summary>
    public RecyclingConnectionHandler.ConnectionLease? ConnectionLease { get; set; }

    /// <summary>Ends the hold on the pool, if the connection layer handed one over: after the send returned <paramref name="response"/>.</summary>
    public void EndLease(HttpResponseMessage response)
    {
        if (ConnectionLease is { } lease)
        {
            ConnectionLease = null;
            lease.End(response);
        }
    }

    /// <summary>Ends the hold on the pool, if the connection layer handed one over: after the send threw <paramref name="failure"/>.</summary>
    public void EndLease(Exception failure)
    {
        if (ConnectionLease is { } lease)
        {
            ConnectionLease = null;
            lease.End(failure);
        }
    }
}
